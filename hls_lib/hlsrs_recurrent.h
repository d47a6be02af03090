// LSTM, GRU and RNN over a whole sequence (non-static), as the ONNX specification defines them.
// Each gate sum is accumulated in accum_t in a fixed order (bias, input products, recurrent
// products, peepholes), optionally clipped, then activated (tables for sigmoid/tanh, exact relu
// and hard sigmoid) into gate_t; states are state_t. Emulated by src/emulate/fixed.rs
// (run_recurrent) with the plan of src/kernels/recurrent.rs.
#ifndef HLSRS_RECURRENT_H_
#define HLSRS_RECURRENT_H_

#include "hlsrs_common.h"

namespace hlsrs {

enum gate_kind { gate_table = 0, gate_relu = 1, gate_hard_sigmoid = 2 };

// One activation: kind, its table (index shift for the type it reads) or parameters.
template <typename CONFIG_T, class V>
inline typename CONFIG_T::gate_t gate_act(const V v, int kind, int shift, const typename CONFIG_T::table_bits_t *table,
                                          long long alpha_bits, long long beta_bits) {
#pragma HLS INLINE
    typedef typename CONFIG_T::gate_t G;
    if (kind == gate_relu) {
        G r;
        if (v > 0) r = v;
        else r = 0;
        return r;
    }
    if (kind == gate_hard_sigmoid) {
        const typename CONFIG_T::param_t alpha = from_bits<typename CONFIG_T::param_t>(alpha_bits);
        const typename CONFIG_T::param_t beta = from_bits<typename CONFIG_T::param_t>(beta_bits);
        const auto t = v * alpha + beta;
        G r;
        if (t < 0) r = 0;
        else if (t > 1) r = 1;
        else r = t;
        return r;
    }
    long long i = (shift >= 0 ? (to_raw(v) >> shift) : (to_raw(v) << -shift)) + CONFIG_T::table_size / 2;
    if (i < 0) i = 0;
    if (i > (long long)CONFIG_T::table_size - 1) i = CONFIG_T::table_size - 1;
    G r = from_bits<typename CONFIG_T::table_t>(table[i]);
    return r;
}

template <typename CONFIG_T> inline typename CONFIG_T::accum_t clip_gate(typename CONFIG_T::accum_t acc) {
#pragma HLS INLINE
    if (!CONFIG_T::has_clip) return acc;
    const typename CONFIG_T::param_t cl = from_bits<typename CONFIG_T::param_t>(CONFIG_T::clip_bits);
    if (acc < -cl) acc = -cl;
    else if (acc > cl) acc = cl;
    return acc;
}

// x: [seq][n_in]; res: Y [seq][dirs][hidden], or the last h / c [dirs][hidden].
template <class data_T, class res_T, typename CONFIG_T>
void recurrent(const data_T x[CONFIG_T::seq * CONFIG_T::n_in], res_T *res,
               const typename CONFIG_T::weight_bits_t *w, const typename CONFIG_T::weight_bits_t *r,
               const typename CONFIG_T::bias_bits_t *bias, const typename CONFIG_T::bias_bits_t *rb_h,
               const typename CONFIG_T::weight_bits_t *peep, const typename CONFIG_T::state_bits_t *h0,
               const typename CONFIG_T::state_bits_t *c0, const typename CONFIG_T::table_bits_t *tables,
               const int act_kind[], const int act_shift[], const long long act_alpha[], const long long act_beta[]) {
    typedef typename CONFIG_T::accum_t A;
    typedef typename CONFIG_T::state_t S;
    typedef typename CONFIG_T::gate_t G;
    typedef typename CONFIG_T::weight_t W;
    typedef typename CONFIG_T::bias_t B;
    const unsigned hs = CONFIG_T::hidden, n_in = CONFIG_T::n_in, g = CONFIG_T::gates, per = CONFIG_T::acts_per_dir;
    const unsigned ts = CONFIG_T::table_size;
    for (unsigned d = 0; d < CONFIG_T::dirs; d++) {
        const bool reverse = CONFIG_T::reverse || d == 1;
        const unsigned a0 = d * per;
        S h[CONFIG_T::hidden], c[CONFIG_T::hidden], nh[CONFIG_T::hidden], nc[CONFIG_T::hidden];
        for (unsigned j = 0; j < hs; j++) {
            h[j] = from_bits<S>(h0[d * hs + j]);
            c[j] = from_bits<S>(c0[d * hs + j]);
        }
        for (unsigned step = 0; step < CONFIG_T::seq; step++) {
            const unsigned t = reverse ? CONFIG_T::seq - 1 - step : step;
            const data_T *xr = &x[t * n_in];
            G zr[CONFIG_T::hidden], rr[CONFIG_T::hidden];
            for (unsigned j = 0; j < hs; j++) {
                // The gate sums this cell needs for unit j, in the emulator's order.
                if (CONFIG_T::cell == 0) { // RNN
                    const unsigned row = d * g * hs + j;
                    A acc = from_bits<B>(bias[row]);
                    for (unsigned i = 0; i < n_in; i++) acc = acc + xr[i] * from_bits<W>(w[row * n_in + i]);
                    for (unsigned i = 0; i < hs; i++) acc = acc + h[i] * from_bits<W>(r[row * hs + i]);
                    const G v = gate_act<CONFIG_T>(clip_gate<CONFIG_T>(acc), act_kind[a0], act_shift[a0], &tables[a0 * ts],
                                                   act_alpha[a0], act_beta[a0]);
                    nh[j] = v;
                } else if (CONFIG_T::cell == 1) { // LSTM
                    A sum[4];
                    for (unsigned k = 0; k < 4; k++) {
                        const unsigned row = d * g * hs + k * hs + j;
                        A acc = from_bits<B>(bias[row]);
                        for (unsigned i = 0; i < n_in; i++) acc = acc + xr[i] * from_bits<W>(w[row * n_in + i]);
                        for (unsigned i = 0; i < hs; i++) acc = acc + h[i] * from_bits<W>(r[row * hs + i]);
                        sum[k] = acc;
                    }
                    if (CONFIG_T::has_peep) {
                        sum[0] = sum[0] + from_bits<W>(peep[d * 3 * hs + 0 * hs + j]) * c[j];
                        sum[2] = sum[2] + from_bits<W>(peep[d * 3 * hs + 2 * hs + j]) * c[j];
                    }
                    const G ig = gate_act<CONFIG_T>(clip_gate<CONFIG_T>(sum[0]), act_kind[a0], act_shift[a0], &tables[a0 * ts],
                                                    act_alpha[a0], act_beta[a0]);
                    G fg;
                    if (CONFIG_T::input_forget) {
                        fg = 1 - ig;
                    } else {
                        fg = gate_act<CONFIG_T>(clip_gate<CONFIG_T>(sum[2]), act_kind[a0], act_shift[a0], &tables[a0 * ts],
                                                act_alpha[a0], act_beta[a0]);
                    }
                    const G cg = gate_act<CONFIG_T>(clip_gate<CONFIG_T>(sum[3]), act_kind[a0 + 1], act_shift[a0 + 1],
                                                    &tables[(a0 + 1) * ts], act_alpha[a0 + 1], act_beta[a0 + 1]);
                    nc[j] = fg * c[j] + ig * cg;
                    if (CONFIG_T::has_peep) sum[1] = sum[1] + from_bits<W>(peep[d * 3 * hs + 1 * hs + j]) * nc[j];
                    const G og = gate_act<CONFIG_T>(clip_gate<CONFIG_T>(sum[1]), act_kind[a0], act_shift[a0], &tables[a0 * ts],
                                                    act_alpha[a0], act_beta[a0]);
                    const G hc = gate_act<CONFIG_T>(nc[j], act_kind[a0 + 2], act_shift[a0 + 2], &tables[(a0 + 2) * ts],
                                                    act_alpha[a0 + 2], act_beta[a0 + 2]);
                    nh[j] = og * hc;
                } else { // GRU: z and r first, for every unit
                    for (unsigned k = 0; k < 2; k++) {
                        const unsigned row = d * g * hs + k * hs + j;
                        A acc = from_bits<B>(bias[row]);
                        for (unsigned i = 0; i < n_in; i++) acc = acc + xr[i] * from_bits<W>(w[row * n_in + i]);
                        for (unsigned i = 0; i < hs; i++) acc = acc + h[i] * from_bits<W>(r[row * hs + i]);
                        const G v = gate_act<CONFIG_T>(clip_gate<CONFIG_T>(acc), act_kind[a0], act_shift[a0], &tables[a0 * ts],
                                                       act_alpha[a0], act_beta[a0]);
                        if (k == 0) zr[j] = v;
                        else rr[j] = v;
                    }
                }
            }
            if (CONFIG_T::cell == 2) {
                for (unsigned j = 0; j < hs; j++) {
                    const unsigned row = d * g * hs + 2 * hs + j;
                    A ax = from_bits<B>(bias[row]);
                    for (unsigned i = 0; i < n_in; i++) ax = ax + xr[i] * from_bits<W>(w[row * n_in + i]);
                    A pre;
                    if (CONFIG_T::linear_before_reset) {
                        A ah = from_bits<B>(rb_h[d * hs + j]);
                        for (unsigned i = 0; i < hs; i++) ah = ah + h[i] * from_bits<W>(r[row * hs + i]);
                        pre = ax + rr[j] * ah;
                    } else {
                        for (unsigned i = 0; i < hs; i++) ax = ax + (rr[i] * h[i]) * from_bits<W>(r[row * hs + i]);
                        pre = ax;
                    }
                    const G hh = gate_act<CONFIG_T>(clip_gate<CONFIG_T>(pre), act_kind[a0 + 1], act_shift[a0 + 1],
                                                    &tables[(a0 + 1) * ts], act_alpha[a0 + 1], act_beta[a0 + 1]);
                    nh[j] = (1 - zr[j]) * hh + zr[j] * h[j];
                }
            }
            for (unsigned j = 0; j < hs; j++) {
                h[j] = nh[j];
                if (CONFIG_T::cell == 1) c[j] = nc[j];
                if (CONFIG_T::output == 0) res[(t * CONFIG_T::dirs + d) * hs + j] = h[j];
            }
        }
        for (unsigned j = 0; j < hs; j++) {
            if (CONFIG_T::output == 1) res[d * hs + j] = h[j];
            if (CONFIG_T::output == 2) res[d * hs + j] = c[j];
        }
    }
}

} // namespace hlsrs

#endif
