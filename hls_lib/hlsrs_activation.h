// Activations. Constants (alpha, beta, bounds, tables) are decided by the compiler and passed as
// bit patterns; emulated by src/emulate/fixed.rs.
#ifndef HLSRS_ACTIVATION_H_
#define HLSRS_ACTIVATION_H_

#include "hlsrs_common.h"

namespace hlsrs {

template <class data_T, class res_T, typename CONFIG_T>
void relu(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_in]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
#pragma HLS UNROLL
        if (data[i] > 0) res[i] = data[i];
        else res[i] = 0;
    }
}

// A quantizer of the source model: the cast into res_T rounds and saturates as res_T's modes say
// (the compiler chose them to match); bipolar: +-1 lsb of res_T by the sign. Roundings without
// an ap_fixed mode (round 1: toward +inf, 2: away from zero) work on the bits, the input having
// `shift` more fractional bits than res_T. `clamp` saturates the codes into [lo, hi] (always set
// with a rounding of our own).
template <class data_T, class res_T, typename CONFIG_T>
void quant(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_in]) {
#pragma HLS INLINE
    const int s = CONFIG_T::shift > 0 ? CONFIG_T::shift : 0;
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
#pragma HLS UNROLL
        if (CONFIG_T::bipolar) {
            res[i] = from_bits<res_T>(data[i] >= 0 ? 1 : -1);
        } else if (CONFIG_T::round == 0 && !CONFIG_T::clamp) {
            res[i] = data[i];
        } else {
            long long code;
            if (CONFIG_T::round == 0) {
                const res_T t = data[i];
                code = to_raw(t);
            } else {
                const long long raw = to_raw(data[i]);
                code = shift_floor<CONFIG_T::shift>(raw);
                const bool inexact = s > 0 && (raw & ((1LL << s) - 1)) != 0;
                if (inexact && (CONFIG_T::round == 1 || raw >= 0)) code += 1;
            }
            if (CONFIG_T::clamp) code = code < CONFIG_T::lo ? CONFIG_T::lo : (code > CONFIG_T::hi ? CONFIG_T::hi : code);
            res[i] = from_bits<res_T>(code);
        }
    }
}

template <class data_T, class res_T, typename CONFIG_T>
void leaky_relu(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_in]) {
#pragma HLS INLINE
    const typename CONFIG_T::alpha_t alpha = from_bits<typename CONFIG_T::alpha_t>(CONFIG_T::alpha_bits);
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
#pragma HLS UNROLL
        if (data[i] > 0) res[i] = data[i];
        else res[i] = data[i] * alpha;
    }
}

// max(0, min(1, alpha * x + beta)), computed exactly before the one cast to res_T.
template <class data_T, class res_T, typename CONFIG_T>
void hard_sigmoid(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_in]) {
#pragma HLS INLINE
    const typename CONFIG_T::alpha_t alpha = from_bits<typename CONFIG_T::alpha_t>(CONFIG_T::alpha_bits);
    const typename CONFIG_T::beta_t beta = from_bits<typename CONFIG_T::beta_t>(CONFIG_T::beta_bits);
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
#pragma HLS UNROLL
        const auto t = data[i] * alpha + beta;
        if (t < 0) res[i] = 0;
        else if (t > 1) res[i] = 1;
        else res[i] = t;
    }
}

template <class data_T, class res_T, typename CONFIG_T>
void clip(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_in]) {
#pragma HLS INLINE
    const typename CONFIG_T::min_t lo = from_bits<typename CONFIG_T::min_t>(CONFIG_T::min_bits);
    const typename CONFIG_T::max_t hi = from_bits<typename CONFIG_T::max_t>(CONFIG_T::max_bits);
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
#pragma HLS UNROLL
        if (CONFIG_T::has_min && data[i] < lo) res[i] = lo;
        else if (CONFIG_T::has_max && data[i] > hi) res[i] = hi;
        else res[i] = data[i];
    }
}

// Sigmoid, tanh, softsign, elu, selu, softplus: index = floor(x / step) + size/2 from x's bits by
// one shift, clamped. mode 1: x > 0 passes (elu); 2: x > 0 gives gamma * x (selu); 3: x >= range
// passes (softplus).
template <class data_T, class res_T, typename CONFIG_T>
void table_activation(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_in],
                      const typename CONFIG_T::table_bits_t table[CONFIG_T::table_size]) {
#pragma HLS INLINE
    const typename CONFIG_T::gamma_t gamma = from_bits<typename CONFIG_T::gamma_t>(CONFIG_T::gamma_bits);
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
#pragma HLS UNROLL
        const data_T x = data[i];
        if (CONFIG_T::mode == 1 && x > 0) {
            res[i] = x;
        } else if (CONFIG_T::mode == 2 && x > 0) {
            res[i] = x * gamma;
        } else if (CONFIG_T::mode == 3 && x >= CONFIG_T::range) {
            res[i] = x;
        } else {
            const int idx = clamp_index<CONFIG_T::table_size>(
                shift_floor<CONFIG_T::index_shift>(to_raw(x)) + CONFIG_T::table_size / 2);
            res[i] = from_bits<typename CONFIG_T::table_t>(table[idx]);
        }
    }
}

// x > 0 ? x : slope * x, one slope per channel (the last axis) or one for all.
template <class data_T, class res_T, typename CONFIG_T>
void prelu(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_in],
           const typename CONFIG_T::slope_bits_t slope[CONFIG_T::n_slopes]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
#pragma HLS UNROLL
        if (data[i] > 0) res[i] = data[i];
        else res[i] = data[i] * from_bits<typename CONFIG_T::slope_t>(slope[i % CONFIG_T::n_slopes]);
    }
}

} // namespace hlsrs

#endif
