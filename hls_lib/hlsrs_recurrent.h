// LSTM, GRU and RNN as the ONNX specification defines them: over a whole sequence per call
// (non-static) or one step per call with the state kept between calls (static). Each gate sum is
// the sum of an input product and a recurrent product (dense kernels) in accum_t, plus
// peepholes, optionally clipped, then activated into gate_t by hlsrs::activate, the function of
// activation layers too (hlsrs_activation.h: tables or exact piecewise-linear); states are
// state_t. Emulated by src/emulate/fixed.rs (run_recurrent) with the plan of
// src/kernels/recurrent.rs.
#ifndef HLSRS_RECURRENT_H_
#define HLSRS_RECURRENT_H_

#include "hlsrs_activation.h"
#include "hlsrs_common.h"
#include "hlsrs_dense.h"

namespace hlsrs {

// A gate's activation: hlsrs::activate with the gate's kind, index shift, table and parameters
// (bits of the layer's one param_t) from the layer's constant arrays.
template <typename CONFIG_T, class V>
inline typename CONFIG_T::gate_t gate_act(const V v, int kind, int shift, const typename CONFIG_T::table_bits_t *table,
                                          long long alpha_bits, long long beta_bits) {
#pragma HLS INLINE
    typedef typename CONFIG_T::param_t P;
    return activate<typename CONFIG_T::gate_t, typename CONFIG_T::table_t, CONFIG_T::table_size>(
        v, kind, shift, table, from_bits<P>(alpha_bits), from_bits<P>(beta_bits));
}

template <typename CONFIG_T> inline typename CONFIG_T::accum_t clip_gate(typename CONFIG_T::accum_t acc) {
#pragma HLS INLINE
    if (!CONFIG_T::has_clip) return acc;
    const typename CONFIG_T::param_t cl = from_bits<typename CONFIG_T::param_t>(CONFIG_T::clip_bits);
    if (acc < -cl) acc = -cl;
    else if (acc > cl) acc = cl;
    return acc;
}

// One time step of direction D: h and c (the state) are read and replaced. The input product
// x W^T + (Wb + Rb) and the recurrent product h R^T are dense kernels (wx_config, rh_config:
// each its own reuse factor); a gate's sum is their sum in accum_t. The direction is a template
// argument: its weight offsets, gate kinds and tables are constants, and each direction is
// hardware of its own (hls4ml builds a bidirectional layer as a forward and a backward layer).
template <class data_T, typename CONFIG_T, unsigned D>
void recurrent_step(const data_T *xr, typename CONFIG_T::state_t h[CONFIG_T::hidden],
                    typename CONFIG_T::state_t c[CONFIG_T::hidden], const typename CONFIG_T::wx_config::weight_bits_t *wx_w,
                    const typename CONFIG_T::bias_bits_t *wx_b, const typename CONFIG_T::rh_config::weight_bits_t *rh_w,
                    const typename CONFIG_T::bias_bits_t *rh_b, const typename CONFIG_T::rhh_config::weight_bits_t *rhh_w,
                    const typename CONFIG_T::bias_bits_t *rhh_b, const typename CONFIG_T::weight_bits_t *peep,
                    const typename CONFIG_T::table_bits_t *tables, const int act_kind[], const int act_shift[],
                    const long long act_alpha[], const long long act_beta[]) {
#pragma HLS INLINE
    typedef typename CONFIG_T::accum_t A;
    typedef typename CONFIG_T::state_t S;
    typedef typename CONFIG_T::gate_t G;
    typedef typename CONFIG_T::weight_t W;
    typedef typename CONFIG_T::wx_config WX;
    typedef typename CONFIG_T::rh_config RH;
    typedef typename CONFIG_T::rhh_config RHH;
    const unsigned hs = CONFIG_T::hidden, ts = CONFIG_T::table_size;
    const unsigned a0 = D * CONFIG_T::acts_per_dir;
    A wx[WX::n_out], rh[RH::n_out];
#pragma HLS ARRAY_PARTITION variable=wx complete
#pragma HLS ARRAY_PARTITION variable=rh complete
    dense_at<data_T, A, WX, D>(xr, wx, wx_w, wx_b);
    dense_at<S, A, RH, D>(h, rh, rh_w, rh_b);
    S nh[CONFIG_T::hidden];
#pragma HLS ARRAY_PARTITION variable=nh complete
    if (CONFIG_T::cell == 0) { // RNN
        for (unsigned j = 0; j < hs; j++) {
#pragma HLS UNROLL
            A acc = wx[j] + rh[j];
            const G v = gate_act<CONFIG_T>(clip_gate<CONFIG_T>(acc), act_kind[a0], act_shift[a0], &tables[a0 * ts],
                                           act_alpha[a0], act_beta[a0]);
            nh[j] = v;
        }
    } else if (CONFIG_T::cell == 1) { // LSTM, gates i o f c
        S nc[CONFIG_T::hidden];
#pragma HLS ARRAY_PARTITION variable=nc complete
        for (unsigned j = 0; j < hs; j++) {
#pragma HLS UNROLL
            A sum[4];
#pragma HLS ARRAY_PARTITION variable=sum complete
            for (unsigned k = 0; k < 4; k++) {
#pragma HLS UNROLL
                sum[k] = wx[k * hs + j] + rh[k * hs + j];
            }
            if (CONFIG_T::has_peep) {
                sum[0] = sum[0] + from_bits<W>(peep[D * 3 * hs + 0 * hs + j]) * c[j];
                sum[2] = sum[2] + from_bits<W>(peep[D * 3 * hs + 2 * hs + j]) * c[j];
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
            if (CONFIG_T::has_peep) sum[1] = sum[1] + from_bits<W>(peep[D * 3 * hs + 1 * hs + j]) * nc[j];
            const G og = gate_act<CONFIG_T>(clip_gate<CONFIG_T>(sum[1]), act_kind[a0], act_shift[a0], &tables[a0 * ts],
                                            act_alpha[a0], act_beta[a0]);
            const G hc = gate_act<CONFIG_T>(nc[j], act_kind[a0 + 2], act_shift[a0 + 2], &tables[(a0 + 2) * ts],
                                            act_alpha[a0 + 2], act_beta[a0 + 2]);
            nh[j] = og * hc;
        }
        for (unsigned j = 0; j < hs; j++) {
#pragma HLS UNROLL
            c[j] = nc[j];
        }
    } else { // GRU, gates z r h
        G zr[CONFIG_T::hidden], rr[CONFIG_T::hidden];
#pragma HLS ARRAY_PARTITION variable=zr complete
#pragma HLS ARRAY_PARTITION variable=rr complete
        for (unsigned j = 0; j < hs; j++) {
#pragma HLS UNROLL
            A az = wx[j] + rh[j];
            A ar = wx[hs + j] + rh[hs + j];
            zr[j] = gate_act<CONFIG_T>(clip_gate<CONFIG_T>(az), act_kind[a0], act_shift[a0], &tables[a0 * ts], act_alpha[a0],
                                       act_beta[a0]);
            rr[j] = gate_act<CONFIG_T>(clip_gate<CONFIG_T>(ar), act_kind[a0], act_shift[a0], &tables[a0 * ts], act_alpha[a0],
                                       act_beta[a0]);
        }
        A rhh[RHH::n_out];
#pragma HLS ARRAY_PARTITION variable=rhh complete
        if (!CONFIG_T::linear_before_reset) {
            // R_h multiplies r * h, rounded to the state type.
            S rh_in[CONFIG_T::hidden];
#pragma HLS ARRAY_PARTITION variable=rh_in complete
            for (unsigned i = 0; i < hs; i++) {
#pragma HLS UNROLL
                rh_in[i] = rr[i] * h[i];
            }
            dense_at<S, A, RHH, D>(rh_in, rhh, rhh_w, rhh_b);
        }
        for (unsigned j = 0; j < hs; j++) {
#pragma HLS UNROLL
            A pre;
            if (CONFIG_T::linear_before_reset) pre = wx[2 * hs + j] + rr[j] * rh[2 * hs + j];
            else pre = wx[2 * hs + j] + rhh[j];
            const G hh = gate_act<CONFIG_T>(clip_gate<CONFIG_T>(pre), act_kind[a0 + 1], act_shift[a0 + 1],
                                            &tables[(a0 + 1) * ts], act_alpha[a0 + 1], act_beta[a0 + 1]);
            nh[j] = (1 - zr[j]) * hh + zr[j] * h[j];
        }
    }
    for (unsigned j = 0; j < hs; j++) {
#pragma HLS UNROLL
        h[j] = nh[j];
    }
}

// Time step `step` of direction D (the sequence read backwards for the reverse direction), and
// its row of Y when the layer outputs the whole sequence.
template <class data_T, class res_T, typename CONFIG_T, unsigned D>
inline void recurrent_step_at(const data_T *x, res_T *res, unsigned step, typename CONFIG_T::state_t h[CONFIG_T::hidden],
                              typename CONFIG_T::state_t c[CONFIG_T::hidden],
                              const typename CONFIG_T::wx_config::weight_bits_t *wx_w, const typename CONFIG_T::bias_bits_t *wx_b,
                              const typename CONFIG_T::rh_config::weight_bits_t *rh_w, const typename CONFIG_T::bias_bits_t *rh_b,
                              const typename CONFIG_T::rhh_config::weight_bits_t *rhh_w,
                              const typename CONFIG_T::bias_bits_t *rhh_b, const typename CONFIG_T::weight_bits_t *peep,
                              const typename CONFIG_T::table_bits_t *tables, const int act_kind[], const int act_shift[],
                              const long long act_alpha[], const long long act_beta[]) {
#pragma HLS INLINE
    const unsigned hs = CONFIG_T::hidden;
    const bool reverse = CONFIG_T::reverse || D == 1;
    const unsigned t = reverse ? CONFIG_T::seq - 1 - step : step;
    recurrent_step<data_T, CONFIG_T, D>(&x[t * CONFIG_T::n_in], h, c, wx_w, wx_b, rh_w, rh_b, rhh_w, rhh_b, peep, tables,
                                        act_kind, act_shift, act_alpha, act_beta);
    if (CONFIG_T::output == 0)
        for (unsigned j = 0; j < hs; j++) {
#pragma HLS UNROLL
            res[(t * CONFIG_T::dirs + D) * hs + j] = h[j];
        }
}

// Step `step` of every direction: a bidirectional layer's forward step `step` and backward step
// seq-1-step side by side, on states of their own (both directions at once, so a sequence takes
// one direction's time). The second call is direction dirs-1: direction 0 again, dead, when
// there is one direction, so no direction past the arrays is ever instantiated.
template <class data_T, class res_T, typename CONFIG_T>
inline void recurrent_directions_at(const data_T *x, res_T *res, unsigned step,
                                    typename CONFIG_T::state_t h[CONFIG_T::dirs][CONFIG_T::hidden],
                                    typename CONFIG_T::state_t c[CONFIG_T::dirs][CONFIG_T::hidden],
                                    const typename CONFIG_T::wx_config::weight_bits_t *wx_w,
                                    const typename CONFIG_T::bias_bits_t *wx_b,
                                    const typename CONFIG_T::rh_config::weight_bits_t *rh_w,
                                    const typename CONFIG_T::bias_bits_t *rh_b,
                                    const typename CONFIG_T::rhh_config::weight_bits_t *rhh_w,
                                    const typename CONFIG_T::bias_bits_t *rhh_b, const typename CONFIG_T::weight_bits_t *peep,
                                    const typename CONFIG_T::table_bits_t *tables, const int act_kind[],
                                    const int act_shift[], const long long act_alpha[], const long long act_beta[]) {
#pragma HLS INLINE
    recurrent_step_at<data_T, res_T, CONFIG_T, 0>(x, res, step, h[0], c[0], wx_w, wx_b, rh_w, rh_b, rhh_w, rhh_b, peep,
                                                  tables, act_kind, act_shift, act_alpha, act_beta);
    if (CONFIG_T::dirs == 2)
        recurrent_step_at<data_T, res_T, CONFIG_T, CONFIG_T::dirs - 1>(x, res, step, h[CONFIG_T::dirs - 1],
                                                                       c[CONFIG_T::dirs - 1], wx_w, wx_b, rh_w, rh_b,
                                                                       rhh_w, rhh_b, peep, tables, act_kind, act_shift,
                                                                       act_alpha, act_beta);
}

// The time steps, every direction in each. Unrolled when the layer asks (`unroll_steps`: every
// step its own hardware, inside the pipelined top, as hls4ml's io_parallel recurrent layers).
// Else pipelined when every product is a latency kernel: the step's loops unroll and the next
// step's input product overlaps this step's gates, while the state (h, c) read-to-write path
// sets the interval Vitis achieves (it relaxes II=1 to it). With resource kernels the loop is
// not pipelined, since a pipeline would unroll their ReuseLoops: the steps then run one after
// another, each waiting for its products' R cycles. (Pragmas cannot depend on a template
// argument, hence three loops.)
template <class data_T, class res_T, typename CONFIG_T>
void recurrent_steps(const data_T x[CONFIG_T::seq * CONFIG_T::n_in], res_T *res,
                     typename CONFIG_T::state_t h[CONFIG_T::dirs][CONFIG_T::hidden],
                     typename CONFIG_T::state_t c[CONFIG_T::dirs][CONFIG_T::hidden],
                     const typename CONFIG_T::wx_config::weight_bits_t *wx_w, const typename CONFIG_T::bias_bits_t *wx_b,
                     const typename CONFIG_T::rh_config::weight_bits_t *rh_w, const typename CONFIG_T::bias_bits_t *rh_b,
                     const typename CONFIG_T::rhh_config::weight_bits_t *rhh_w, const typename CONFIG_T::bias_bits_t *rhh_b,
                     const typename CONFIG_T::weight_bits_t *peep, const typename CONFIG_T::table_bits_t *tables,
                     const int act_kind[], const int act_shift[], const long long act_alpha[], const long long act_beta[]) {
#pragma HLS INLINE
    if (CONFIG_T::unroll_steps) {
    UnrolledSteps:
        for (unsigned step = 0; step < CONFIG_T::seq; step++) {
#pragma HLS UNROLL
            recurrent_directions_at<data_T, res_T, CONFIG_T>(x, res, step, h, c, wx_w, wx_b, rh_w, rh_b, rhh_w, rhh_b,
                                                             peep, tables, act_kind, act_shift, act_alpha, act_beta);
        }
    } else if (CONFIG_T::pipeline_steps) {
    PipelinedSteps:
        for (unsigned step = 0; step < CONFIG_T::seq; step++) {
#pragma HLS PIPELINE
            recurrent_directions_at<data_T, res_T, CONFIG_T>(x, res, step, h, c, wx_w, wx_b, rh_w, rh_b, rhh_w, rhh_b,
                                                             peep, tables, act_kind, act_shift, act_alpha, act_beta);
        }
    } else {
    Steps:
        for (unsigned step = 0; step < CONFIG_T::seq; step++) {
#pragma HLS PIPELINE off
            recurrent_directions_at<data_T, res_T, CONFIG_T>(x, res, step, h, c, wx_w, wx_b, rh_w, rh_b, rhh_w, rhh_b,
                                                             peep, tables, act_kind, act_shift, act_alpha, act_beta);
        }
    }
}

// Non-static: the whole sequence per call, both directions at once. x: [seq][n_in]; res:
// Y [seq][dirs][hidden], or the last h / c [dirs][hidden]. The gate tables are one array, one
// table per activation; its block partition makes each table a memory of its own.
template <class data_T, class res_T, typename CONFIG_T>
void recurrent(const data_T x[CONFIG_T::seq * CONFIG_T::n_in], res_T *res,
               const typename CONFIG_T::wx_config::weight_bits_t *wx_w, const typename CONFIG_T::bias_bits_t *wx_b,
               const typename CONFIG_T::rh_config::weight_bits_t *rh_w, const typename CONFIG_T::bias_bits_t *rh_b,
               const typename CONFIG_T::rhh_config::weight_bits_t *rhh_w, const typename CONFIG_T::bias_bits_t *rhh_b,
               const typename CONFIG_T::weight_bits_t *peep, const typename CONFIG_T::state_bits_t *h0,
               const typename CONFIG_T::state_bits_t *c0,
               const typename CONFIG_T::table_bits_t tables[CONFIG_T::n_tables * CONFIG_T::table_size],
               const int act_kind[], const int act_shift[], const long long act_alpha[], const long long act_beta[]) {
#pragma HLS ARRAY_PARTITION variable=tables block factor=CONFIG_T::n_tables
    typedef typename CONFIG_T::state_t S;
    const unsigned hs = CONFIG_T::hidden;
    S h[CONFIG_T::dirs][CONFIG_T::hidden], c[CONFIG_T::dirs][CONFIG_T::hidden];
#pragma HLS ARRAY_PARTITION variable=h complete dim=0
#pragma HLS ARRAY_PARTITION variable=c complete dim=0
    for (unsigned d = 0; d < CONFIG_T::dirs; d++) {
#pragma HLS UNROLL
        for (unsigned j = 0; j < hs; j++) {
#pragma HLS UNROLL
            h[d][j] = from_bits<S>(h0[d * hs + j]);
            c[d][j] = from_bits<S>(c0[d * hs + j]);
        }
    }
    recurrent_steps<data_T, res_T, CONFIG_T>(x, res, h, c, wx_w, wx_b, rh_w, rh_b, rhh_w, rhh_b, peep, tables, act_kind,
                                             act_shift, act_alpha, act_beta);
    for (unsigned d = 0; d < CONFIG_T::dirs; d++) {
#pragma HLS UNROLL
        for (unsigned j = 0; j < hs; j++) {
#pragma HLS UNROLL
            if (CONFIG_T::output == 1) res[d * hs + j] = h[d][j];
            if (CONFIG_T::output == 2) res[d * hs + j] = c[d][j];
        }
    }
}

// Static: one time step per call (forward direction only); h and c stay in registers between
// calls. `reset` loads the initial state before this step (the first step of a sequence). res: h
// (Y or Y_h of this step) or c (Y_c).
template <class data_T, class res_T, typename CONFIG_T>
void recurrent_static(const data_T x[CONFIG_T::n_in], res_T *res, bool reset,
                      const typename CONFIG_T::wx_config::weight_bits_t *wx_w, const typename CONFIG_T::bias_bits_t *wx_b,
                      const typename CONFIG_T::rh_config::weight_bits_t *rh_w, const typename CONFIG_T::bias_bits_t *rh_b,
                      const typename CONFIG_T::rhh_config::weight_bits_t *rhh_w, const typename CONFIG_T::bias_bits_t *rhh_b,
                      const typename CONFIG_T::weight_bits_t *peep, const typename CONFIG_T::state_bits_t *h0,
                      const typename CONFIG_T::state_bits_t *c0,
                      const typename CONFIG_T::table_bits_t tables[CONFIG_T::n_tables * CONFIG_T::table_size],
                      const int act_kind[], const int act_shift[], const long long act_alpha[],
                      const long long act_beta[]) {
#pragma HLS ARRAY_PARTITION variable=tables block factor=CONFIG_T::n_tables
    typedef typename CONFIG_T::state_t S;
    static S h[CONFIG_T::hidden], c[CONFIG_T::hidden];
#pragma HLS ARRAY_PARTITION variable=h complete
#pragma HLS ARRAY_PARTITION variable=c complete
    if (reset) {
        for (unsigned j = 0; j < CONFIG_T::hidden; j++) {
#pragma HLS UNROLL
            h[j] = from_bits<S>(h0[j]);
            c[j] = from_bits<S>(c0[j]);
        }
    }
    recurrent_step<data_T, CONFIG_T, 0>(x, h, c, wx_w, wx_b, rh_w, rh_b, rhh_w, rhh_b, peep, tables, act_kind,
                                     act_shift, act_alpha, act_beta);
    for (unsigned j = 0; j < CONFIG_T::hidden; j++) {
#pragma HLS UNROLL
        res[j] = CONFIG_T::output == 2 ? c[j] : h[j];
    }
}

} // namespace hlsrs

#endif
