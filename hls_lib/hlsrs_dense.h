// Dense layers. Emulated by src/emulate/fixed.rs with the schedule of src/kernels/dense.rs: the
// multiply-accumulate order below is part of the numerical contract (it matters with saturating
// accumulators).
#ifndef HLSRS_DENSE_H_
#define HLSRS_DENSE_H_

#include "hlsrs_common.h"

namespace hlsrs {

enum dense_strategy { latency = 0, resource = 1 };

// Fully parallel: every product has its own multiplier. Zero weights are skipped, which removes
// their multipliers only once the tool folds the constant weights; layers with zeros that matter
// take the sparse layout below instead. Weights are laid out [n_in][n_out], from w_off (a convolution's group).
template <class data_T, class res_T, typename CONFIG_T>
void dense_latency(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_out],
                   const typename CONFIG_T::weight_bits_t *weights, const typename CONFIG_T::bias_bits_t *biases,
                   unsigned w_off = 0, unsigned b_off = 0) {
#pragma HLS INLINE
#pragma HLS ALLOCATION operation instances=mul limit=CONFIG_T::multiplier_limit
    typename CONFIG_T::accum_t acc[CONFIG_T::n_out];
#pragma HLS ARRAY_PARTITION variable=acc complete
InitAccum:
    for (unsigned j = 0; j < CONFIG_T::n_out; j++) {
#pragma HLS UNROLL
        acc[j] = from_bits<typename CONFIG_T::bias_t>(biases[b_off + j]);
    }
Product:
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
#pragma HLS UNROLL
        for (unsigned j = 0; j < CONFIG_T::n_out; j++) {
#pragma HLS UNROLL
            const long long wb = weights[w_off + i * CONFIG_T::n_out + j];
            if (wb == 0) continue;
            acc[j] = acc[j] + data[i] * from_bits<typename CONFIG_T::weight_t>(wb);
        }
    }
Result:
    for (unsigned j = 0; j < CONFIG_T::n_out; j++) {
#pragma HLS UNROLL
        res[j] = acc[j];
    }
}

// Folded: n_in*n_out/R multipliers, each used R times (one pass of ReuseLoop per cycle). Weight k
// (laid out [n_out][n_in]) is used in cycle k % R; the weights are reshaped so that each cycle
// reads one wide word.
template <class data_T, class res_T, typename CONFIG_T>
void dense_resource(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_out],
                    const typename CONFIG_T::weight_bits_t *weights, const typename CONFIG_T::bias_bits_t *biases,
                    unsigned w_off = 0, unsigned b_off = 0) {
    // A module of its own, so that a pipelined caller does not unroll ReuseLoop.
#pragma HLS INLINE off
    const unsigned rf = CONFIG_T::reuse_factor;
    const unsigned block = CONFIG_T::block_factor;
#pragma HLS ARRAY_RESHAPE variable=weights block factor=block
    typename CONFIG_T::accum_t acc[CONFIG_T::n_out];
#pragma HLS ARRAY_PARTITION variable=acc complete
InitAccum:
    for (unsigned j = 0; j < CONFIG_T::n_out; j++) {
#pragma HLS UNROLL
        acc[j] = from_bits<typename CONFIG_T::bias_t>(biases[b_off + j]);
    }
ReuseLoop:
    for (unsigned ir = 0; ir < rf; ir++) {
#pragma HLS PIPELINE II=1 rewind
    MultLoop:
        for (unsigned b = 0; b < block; b++) {
#pragma HLS UNROLL
            const unsigned k = ir + rf * b;
            const long long wb = weights[w_off + k];
            if (wb == 0) continue;
            acc[k / CONFIG_T::n_in] =
                acc[k / CONFIG_T::n_in] + data[k % CONFIG_T::n_in] * from_bits<typename CONFIG_T::weight_t>(wb);
        }
    }
Result:
    for (unsigned j = 0; j < CONFIG_T::n_out; j++) {
#pragma HLS UNROLL
        res[j] = acc[j];
    }
}

// Sparse layout: one entry per nonzero weight, packing its bits (the low weight_width bits), its
// output index (the next out_bits) and its input index (the rest). Groups hold n_slots entries
// each; entries past a group's nonzeros are padding with weight 0. A zero weight thus has no
// multiplier at all (no reliance on the tool folding x * 0).
template <typename CONFIG_T>
inline void sparse_entry(long long e, unsigned &i, unsigned &j, long long &wb) {
#pragma HLS INLINE
    wb = e & ((1LL << CONFIG_T::weight_width) - 1);
    j = (unsigned)((e >> CONFIG_T::weight_width) & ((1LL << CONFIG_T::out_bits) - 1));
    i = (unsigned)(e >> (CONFIG_T::weight_width + CONFIG_T::out_bits));
}

// Fully parallel over the nonzero weights: n_slots multipliers.
template <class data_T, class res_T, typename CONFIG_T>
void dense_sparse_latency(const data_T *data, res_T *res, const typename CONFIG_T::weight_bits_t *weights,
                          const typename CONFIG_T::bias_bits_t *biases, unsigned w_off, unsigned b_off) {
#pragma HLS INLINE
#pragma HLS ALLOCATION operation instances=mul limit=CONFIG_T::multiplier_limit
    typename CONFIG_T::accum_t acc[CONFIG_T::n_out];
#pragma HLS ARRAY_PARTITION variable=acc complete
InitAccum:
    for (unsigned j = 0; j < CONFIG_T::n_out; j++) {
#pragma HLS UNROLL
        acc[j] = from_bits<typename CONFIG_T::bias_t>(biases[b_off + j]);
    }
Product:
    for (unsigned c = 0; c < CONFIG_T::n_slots; c++) {
#pragma HLS UNROLL
        unsigned i, j;
        long long wb;
        sparse_entry<CONFIG_T>(weights[w_off + c], i, j, wb);
        if (wb == 0) continue; // padding
        acc[j] = acc[j] + data[i] * from_bits<typename CONFIG_T::weight_t>(wb);
    }
Result:
    for (unsigned j = 0; j < CONFIG_T::n_out; j++) {
#pragma HLS UNROLL
        res[j] = acc[j];
    }
}

// Folded over the nonzero weights: n_slots / R multipliers, entry c used in cycle c % R. The
// indices come from the weight ROM, so inputs are selected and outputs accumulated through
// multiplexers (the price of skipping zeros when weights are not constants of the datapath).
template <class data_T, class res_T, typename CONFIG_T>
void dense_sparse_resource(const data_T *data, res_T *res, const typename CONFIG_T::weight_bits_t *weights,
                           const typename CONFIG_T::bias_bits_t *biases, unsigned w_off, unsigned b_off) {
#pragma HLS INLINE off
    const unsigned rf = CONFIG_T::reuse_factor;
    const unsigned block = CONFIG_T::block_factor;
#pragma HLS ARRAY_RESHAPE variable=weights block factor=block
    typename CONFIG_T::accum_t acc[CONFIG_T::n_out];
#pragma HLS ARRAY_PARTITION variable=acc complete
InitAccum:
    for (unsigned j = 0; j < CONFIG_T::n_out; j++) {
#pragma HLS UNROLL
        acc[j] = from_bits<typename CONFIG_T::bias_t>(biases[b_off + j]);
    }
ReuseLoop:
    for (unsigned ir = 0; ir < rf; ir++) {
#pragma HLS PIPELINE II=1 rewind
    MultLoop:
        for (unsigned b = 0; b < block; b++) {
#pragma HLS UNROLL
            unsigned i, j;
            long long wb;
            sparse_entry<CONFIG_T>(weights[w_off + ir + rf * b], i, j, wb);
            if (wb == 0) continue; // padding
            acc[j] = acc[j] + data[i] * from_bits<typename CONFIG_T::weight_t>(wb);
        }
    }
Result:
    for (unsigned j = 0; j < CONFIG_T::n_out; j++) {
#pragma HLS UNROLL
        res[j] = acc[j];
    }
}

// The layout's and strategy's kernel on the weights and biases of one group (a convolution's
// group, a recurrent layer's direction); w_off is a multiple of n_slots.
template <class data_T, class res_T, typename CONFIG_T>
void dense_at(const data_T *data, res_T *res, const typename CONFIG_T::weight_bits_t *weights,
              const typename CONFIG_T::bias_bits_t *biases, unsigned w_off, unsigned b_off) {
#pragma HLS INLINE
    if (CONFIG_T::sparse) {
        if (CONFIG_T::strategy == latency) {
            dense_sparse_latency<data_T, res_T, CONFIG_T>(data, res, weights, biases, w_off, b_off);
        } else {
            dense_sparse_resource<data_T, res_T, CONFIG_T>(data, res, weights, biases, w_off, b_off);
        }
    } else if (CONFIG_T::strategy == latency) {
        dense_latency<data_T, res_T, CONFIG_T>(data, res, weights, biases, w_off, b_off);
    } else {
        dense_resource<data_T, res_T, CONFIG_T>(data, res, weights, biases, w_off, b_off);
    }
}

template <class data_T, class res_T, typename CONFIG_T>
void dense(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_out],
           const typename CONFIG_T::weight_bits_t weights[CONFIG_T::n_slots],
           const typename CONFIG_T::bias_bits_t biases[CONFIG_T::n_out]) {
#pragma HLS INLINE
    dense_at<data_T, res_T, CONFIG_T>(data, res, weights, biases, 0, 0);
}

} // namespace hlsrs

#endif
