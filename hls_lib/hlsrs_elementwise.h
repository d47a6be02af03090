// Elementwise layers: scale-and-shift (folded BatchNormalization), add of two branches, and data
// movement (transpose). Each result is computed exactly and cast once to res_T.
#ifndef HLSRS_ELEMENTWISE_H_
#define HLSRS_ELEMENTWISE_H_

#include "hlsrs_common.h"

namespace hlsrs {

template <class data_T, class res_T, typename CONFIG_T>
void scale_shift(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_in],
                 const typename CONFIG_T::scale_bits_t scale[CONFIG_T::n_channels],
                 const typename CONFIG_T::shift_bits_t shift[CONFIG_T::n_channels]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
#pragma HLS UNROLL
        const unsigned c = i % CONFIG_T::n_channels;
        res[i] = data[i] * from_bits<typename CONFIG_T::scale_t>(scale[c]) +
                 from_bits<typename CONFIG_T::shift_t>(shift[c]);
    }
}

template <class a_T, class b_T, class res_T, typename CONFIG_T>
void add(const a_T a[CONFIG_T::n_in], const b_T b[CONFIG_T::n_in], res_T res[CONFIG_T::n_in]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
#pragma HLS UNROLL
        res[i] = a[i] + b[i];
    }
}

template <class a_T, class b_T, class res_T, typename CONFIG_T>
void sub(const a_T a[CONFIG_T::n_in], const b_T b[CONFIG_T::n_in], res_T res[CONFIG_T::n_in]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
#pragma HLS UNROLL
        res[i] = a[i] - b[i];
    }
}

template <class a_T, class b_T, class res_T, typename CONFIG_T>
void mul(const a_T a[CONFIG_T::n_in], const b_T b[CONFIG_T::n_in], res_T res[CONFIG_T::n_in]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
#pragma HLS UNROLL
        res[i] = a[i] * b[i];
    }
}

// The larger (smaller) of two values, compared exactly whatever their types, then cast once.
template <class a_T, class b_T, class res_T, typename CONFIG_T>
void maximum(const a_T a[CONFIG_T::n_in], const b_T b[CONFIG_T::n_in], res_T res[CONFIG_T::n_in]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
#pragma HLS UNROLL
        if (a[i] < b[i]) res[i] = b[i];
        else res[i] = a[i];
    }
}

template <class a_T, class b_T, class res_T, typename CONFIG_T>
void minimum(const a_T a[CONFIG_T::n_in], const b_T b[CONFIG_T::n_in], res_T res[CONFIG_T::n_in]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
#pragma HLS UNROLL
        if (b[i] < a[i]) res[i] = b[i];
        else res[i] = a[i];
    }
}

// res[i] = (from_b[i] ? b : a)[index[i]]: a concatenation, wiring only.
template <class a_T, class b_T, class res_T, typename CONFIG_T>
void concat(const a_T a[CONFIG_T::n_a], const b_T b[CONFIG_T::n_b], res_T res[CONFIG_T::n_in],
            const unsigned char from_b[CONFIG_T::n_in], const int index[CONFIG_T::n_in]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
#pragma HLS UNROLL
        if (from_b[i]) res[i] = b[index[i]];
        else res[i] = a[index[i]];
    }
}

// res = data transposed. Output index i, unravelled over the output's shape (dim0..dim3), reads
// the input at the sum of its axis indices times the input's stride of each (stride0..stride3);
// unused leading axes have size 1. Unrolled, every index is a constant the tool folds: wiring
// only, and no index table (hls4ml's transpose unravels the same way). Per-axis members, not
// arrays: the tool folds a static const member where it may not fold a constant array read.
template <typename CONFIG_T> unsigned transpose_source(unsigned i) {
#pragma HLS INLINE
    const unsigned i3 = i % CONFIG_T::dim3;
    i /= CONFIG_T::dim3;
    const unsigned i2 = i % CONFIG_T::dim2;
    i /= CONFIG_T::dim2;
    const unsigned i1 = i % CONFIG_T::dim1;
    const unsigned i0 = i / CONFIG_T::dim1;
    return i0 * CONFIG_T::stride0 + i1 * CONFIG_T::stride1 + i2 * CONFIG_T::stride2 +
           i3 * CONFIG_T::stride3;
}

template <class data_T, class res_T, typename CONFIG_T>
void transpose(const data_T *data, res_T res[CONFIG_T::n_in]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
#pragma HLS UNROLL
        res[i] = data[transpose_source<CONFIG_T>(i)];
    }
}

// res[i] = data[index[i]], or the fill value where index[i] < 0: pad, nearest resize, a
// transpose of more than four axes. Wiring only.
template <class data_T, class res_T, typename CONFIG_T>
void gather(const data_T *data, res_T res[CONFIG_T::n_in], const int index[CONFIG_T::n_in]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
#pragma HLS UNROLL
        if (index[i] < 0) res[i] = from_bits<res_T>(CONFIG_T::fill_bits);
        else res[i] = data[index[i]];
    }
}

} // namespace hlsrs

#endif
