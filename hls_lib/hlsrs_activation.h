// Activations. Constants (alpha, beta, bounds, tables) are decided by the compiler and passed as
// bit patterns; emulated by src/emulate/fixed.rs.
#ifndef HLSRS_ACTIVATION_H_
#define HLSRS_ACTIVATION_H_

#include "hlsrs_activation_kinds.h"
#include "hlsrs_common.h"

namespace hlsrs {

// What an activation layer's config does not set because its kind does not read it (a
// parameter, or the table of a piecewise-linear kind).
struct activation_config {
    typedef ap_fixed<2, 2> alpha_t;
    static const long long alpha_bits = 0;
    typedef ap_fixed<2, 2> beta_t;
    static const long long beta_bits = 0;
    static const unsigned table_size = 1;
    static const int index_shift = 0;
    typedef ap_fixed<2, 2> table_t;
    typedef bits_t<2> table_bits_t;
};

// One activation, of a layer or a recurrent gate (the same cases, in the same order, as
// activate in src/emulate/fixed.rs). `kind` is an activation_kind (hlsrs_activation_kinds.h,
// generated from the compiler's plans); a layer passes a constant, so after inlining only its
// own case is left, while a recurrent layer's gates read theirs from constant arrays. Piecewise-
// linear kinds are computed exactly from v with the parameters alpha and beta before the one
// cast to R; the others read `table` (TABLE_SIZE entries of TABLE_T's bits) at
// floor(v / step) + TABLE_SIZE/2, computed by one shift of v's bits (`shift`), clamped; elu
// passes v > 0, softplus v beyond the table's range, selu scales v > 0 by beta.
template <class R, class TABLE_T, unsigned TABLE_SIZE, class V, class TB, class A, class B>
inline R activate(const V v, int kind, int shift, const TB *table, const A alpha, const B beta) {
#pragma HLS INLINE
    R r;
    if (kind == act_relu) {
        if (v > 0) r = v;
        else r = 0;
        return r;
    }
    if (kind == act_leaky_relu) {
        if (v > 0) r = v;
        else r = v * alpha;
        return r;
    }
    if (kind == act_thresholded_relu) {
        if (v > alpha) r = v;
        else r = 0;
        return r;
    }
    if (kind == act_affine) {
        r = v * alpha + beta;
        return r;
    }
    if (kind == act_hard_sigmoid) {
        const auto t = v * alpha + beta;
        if (t < 0) r = 0;
        else if (t > 1) r = 1;
        else r = t;
        return r;
    }
    long long i = (shift >= 0 ? (to_raw(v) >> shift) : (to_raw(v) << -shift)) + TABLE_SIZE / 2;
    if ((kind == act_table_positive_pass && v > 0) || (kind == act_table_above_pass && i >= (long long)TABLE_SIZE)) {
        r = v;
        return r;
    }
    if (kind == act_table_positive_scale && v > 0) {
        r = v * beta;
        return r;
    }
    if (i < 0) i = 0;
    if (i > (long long)TABLE_SIZE - 1) i = TABLE_SIZE - 1;
    r = from_bits<TABLE_T>(table[i]);
    return r;
}

// An activation layer: every value through activate with the layer's constant kind.
template <class data_T, class res_T, typename CONFIG_T>
void activation(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_in],
                const typename CONFIG_T::table_bits_t table[CONFIG_T::table_size]) {
#pragma HLS INLINE
    const typename CONFIG_T::alpha_t alpha = from_bits<typename CONFIG_T::alpha_t>(CONFIG_T::alpha_bits);
    const typename CONFIG_T::beta_t beta = from_bits<typename CONFIG_T::beta_t>(CONFIG_T::beta_bits);
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
#pragma HLS UNROLL
        res[i] = activate<res_T, typename CONFIG_T::table_t, CONFIG_T::table_size>(
            data[i], CONFIG_T::kind, CONFIG_T::index_shift, table, alpha, beta);
    }
}

// A piecewise-linear activation layer: no table (the one-entry placeholder is never read).
template <class data_T, class res_T, typename CONFIG_T>
void activation(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_in]) {
#pragma HLS INLINE
    const typename CONFIG_T::table_bits_t none[1] = {0};
    activation<data_T, res_T, CONFIG_T>(data, res, none);
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
