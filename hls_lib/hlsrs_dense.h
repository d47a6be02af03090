// Dense layers. Emulated by src/emulate/fixed.rs with the schedule of src/kernels/dense.rs: the
// multiply-accumulate order below is part of the numerical contract (it matters with saturating
// accumulators).
#ifndef HLSRS_DENSE_H_
#define HLSRS_DENSE_H_

#include "hlsrs_common.h"

namespace hlsrs {

enum dense_strategy { latency = 0, resource = 1 };

// Fully parallel: every product has its own multiplier (products by a zero weight are not
// emitted at all). Weights are laid out [n_in][n_out], from w_off (a convolution's group).
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

// The strategy's kernel on weights and biases from an offset (a direction of a recurrent layer).
template <class data_T, class res_T, typename CONFIG_T>
void dense_at(const data_T *data, res_T *res, const typename CONFIG_T::weight_bits_t *weights,
              const typename CONFIG_T::bias_bits_t *biases, unsigned w_off, unsigned b_off) {
#pragma HLS INLINE
    if (CONFIG_T::strategy == latency) {
        dense_latency<data_T, res_T, CONFIG_T>(data, res, weights, biases, w_off, b_off);
    } else {
        dense_resource<data_T, res_T, CONFIG_T>(data, res, weights, biases, w_off, b_off);
    }
}

template <class data_T, class res_T, typename CONFIG_T>
void dense(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_out],
           const typename CONFIG_T::weight_bits_t weights[CONFIG_T::n_in * CONFIG_T::n_out],
           const typename CONFIG_T::bias_bits_t biases[CONFIG_T::n_out]) {
#pragma HLS INLINE
    if (CONFIG_T::strategy == latency) {
        dense_latency<data_T, res_T, CONFIG_T>(data, res, weights, biases);
    } else {
        dense_resource<data_T, res_T, CONFIG_T>(data, res, weights, biases);
    }
}

} // namespace hlsrs

#endif
