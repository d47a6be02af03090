// Convolution and pooling over channels-last data, [H][W][C] (1D: H = 1). A convolution is a dense
// layer per output position and group: the patch (kernel positions x the group's channels, zero in
// padding) times the group's weight block, in the dense kernel's multiply-accumulate order.
// Emulated by src/emulate/fixed.rs with the plans of src/kernels/{conv,pool}.rs. The per-position
// functions read through a source, so io_parallel (whole array) and io_stream (line buffer) share
// them.
#ifndef HLSRS_CONV_H_
#define HLSRS_CONV_H_

#include "hlsrs_common.h"
#include "hlsrs_dense.h"

namespace hlsrs {

// The whole input, [H][W][C].
template <class T, typename CONFIG_T> struct flat_source {
    const T *data;
    T at(int ih, int iw, unsigned c) const { return data[(ih * CONFIG_T::in_w + iw) * CONFIG_T::in_c + c]; }
};

// The last SPAN rows of the input, row ih at ih % SPAN.
template <class T, typename CONFIG_T, unsigned SPAN> struct row_source {
    const T (*rows)[CONFIG_T::in_w * CONFIG_T::in_c];
    T at(int ih, int iw, unsigned c) const { return rows[ih % SPAN][iw * CONFIG_T::in_c + c]; }
};

// Input row and column a kernel tap reads; false in padding.
template <typename CONFIG_T> inline bool tap(unsigned oh, unsigned ow, unsigned kh, unsigned kw, int &ih, int &iw) {
#pragma HLS INLINE
    ih = (int)(oh * CONFIG_T::stride_h + kh * CONFIG_T::dilation_h) - (int)CONFIG_T::pad_top;
    iw = (int)(ow * CONFIG_T::stride_w + kw * CONFIG_T::dilation_w) - (int)CONFIG_T::pad_left;
    return ih >= 0 && ih < (int)CONFIG_T::in_h && iw >= 0 && iw < (int)CONFIG_T::in_w;
}

// All output channels of one output position.
template <class data_T, class res_T, typename CONFIG_T, class SRC>
void conv_position(const SRC &src, unsigned oh, unsigned ow, res_T out[CONFIG_T::out_c],
                   const typename CONFIG_T::weight_bits_t *weights, const typename CONFIG_T::bias_bits_t *biases) {
#pragma HLS INLINE
    const unsigned cg = CONFIG_T::in_c / CONFIG_T::n_groups;
Groups:
    for (unsigned g = 0; g < CONFIG_T::n_groups; g++) {
        data_T patch[CONFIG_T::n_in];
#pragma HLS ARRAY_PARTITION variable=patch complete
        for (unsigned kh = 0; kh < CONFIG_T::kernel_h; kh++) {
            for (unsigned kw = 0; kw < CONFIG_T::kernel_w; kw++) {
                int ih, iw;
                const bool inside = tap<CONFIG_T>(oh, ow, kh, kw, ih, iw);
                for (unsigned ci = 0; ci < cg; ci++) {
                    const unsigned k = (kh * CONFIG_T::kernel_w + kw) * cg + ci;
                    if (inside) patch[k] = src.at(ih, iw, g * cg + ci);
                    else patch[k] = 0;
                }
            }
        }
        res_T part[CONFIG_T::n_out];
#pragma HLS ARRAY_PARTITION variable=part complete
        dense_at<data_T, res_T, CONFIG_T>(patch, part, weights, biases, g * CONFIG_T::n_slots, g * CONFIG_T::n_out);
        for (unsigned j = 0; j < CONFIG_T::n_out; j++) out[g * CONFIG_T::n_out + j] = part[j];
    }
}

// Every channel of one output position: max (padding never wins) or average (exact sum times the
// compiler's reciprocal of the count).
template <class data_T, class res_T, typename CONFIG_T, class SRC>
void pool_position(const SRC &src, unsigned oh, unsigned ow, res_T out[CONFIG_T::in_c],
                   const typename CONFIG_T::recip_bits_t *recip) {
#pragma HLS INLINE
    for (unsigned c = 0; c < CONFIG_T::in_c; c++) {
        data_T best = 0;
        typename CONFIG_T::sum_t sum = 0;
        unsigned count = 0;
        for (unsigned kh = 0; kh < CONFIG_T::kernel_h; kh++) {
            for (unsigned kw = 0; kw < CONFIG_T::kernel_w; kw++) {
                int ih, iw;
                if (!tap<CONFIG_T>(oh, ow, kh, kw, ih, iw)) continue;
                const data_T v = src.at(ih, iw, c);
                if (CONFIG_T::is_max) {
                    if (count == 0 || v > best) best = v;
                } else {
                    sum = sum + v;
                }
                count++;
            }
        }
        if (CONFIG_T::is_max) {
            out[c] = best;
        } else {
            if (CONFIG_T::count_include_pad) count = CONFIG_T::kernel_h * CONFIG_T::kernel_w;
            if (count == 0) out[c] = 0;
            else out[c] = sum * from_bits<typename CONFIG_T::recip_t>(recip[count - 1]);
        }
    }
}

template <class data_T, class res_T, typename CONFIG_T>
void conv(const data_T data[CONFIG_T::in_h * CONFIG_T::in_w * CONFIG_T::in_c],
          res_T res[CONFIG_T::out_h * CONFIG_T::out_w * CONFIG_T::out_c],
          const typename CONFIG_T::weight_bits_t weights[CONFIG_T::n_groups * CONFIG_T::n_slots],
          const typename CONFIG_T::bias_bits_t biases[CONFIG_T::n_groups * CONFIG_T::n_out]) {
#pragma HLS INLINE
    const flat_source<data_T, CONFIG_T> src = {data};
    for (unsigned oh = 0; oh < CONFIG_T::out_h; oh++) {
        for (unsigned ow = 0; ow < CONFIG_T::out_w; ow++) {
            res_T out[CONFIG_T::out_c];
            conv_position<data_T, res_T, CONFIG_T>(src, oh, ow, out, weights, biases);
            for (unsigned j = 0; j < CONFIG_T::out_c; j++) res[(oh * CONFIG_T::out_w + ow) * CONFIG_T::out_c + j] = out[j];
        }
    }
}

template <class data_T, class res_T, typename CONFIG_T>
void pool(const data_T data[CONFIG_T::in_h * CONFIG_T::in_w * CONFIG_T::in_c],
          res_T res[CONFIG_T::out_h * CONFIG_T::out_w * CONFIG_T::in_c],
          const typename CONFIG_T::recip_bits_t recip[CONFIG_T::kernel_h * CONFIG_T::kernel_w]) {
#pragma HLS INLINE
    const flat_source<data_T, CONFIG_T> src = {data};
    for (unsigned oh = 0; oh < CONFIG_T::out_h; oh++) {
        for (unsigned ow = 0; ow < CONFIG_T::out_w; ow++) {
            res_T out[CONFIG_T::in_c];
            pool_position<data_T, res_T, CONFIG_T>(src, oh, ow, out, recip);
            for (unsigned c = 0; c < CONFIG_T::in_c; c++) res[(oh * CONFIG_T::out_w + ow) * CONFIG_T::in_c + c] = out[c];
        }
    }
}

} // namespace hlsrs

#endif
