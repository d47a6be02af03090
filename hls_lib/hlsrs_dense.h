// Dense layers. Emulated by src/emulate/fixed.rs with the schedule of src/kernels/dense.rs: the
// multiply-accumulate order below is part of the numerical contract (it matters with saturating
// accumulators).
#ifndef HLSRS_DENSE_H_
#define HLSRS_DENSE_H_

#include "hlsrs_common.h"

namespace hlsrs {

enum dense_strategy { latency = 0, resource = 1, distributed_arithmetic = 2 };

// A sparse-layout entry: its bits (the low weight_width bits), its output index (the next
// out_bits) and its input index (the rest). Entries past a group's nonzeros are padding with
// weight 0. A zero weight thus has no multiplier at all (no reliance on the tool folding x * 0).
template <typename CONFIG_T>
inline void sparse_entry(long long e, unsigned &i, unsigned &j, long long &wb) {
#pragma HLS INLINE
    wb = e & ((1LL << CONFIG_T::weight_width) - 1);
    j = (unsigned)((e >> CONFIG_T::weight_width) & ((1LL << CONFIG_T::out_bits) - 1));
    i = (unsigned)(e >> (CONFIG_T::weight_width + CONFIG_T::out_bits));
}

// Weight entry k of group G, for the latency kernel, where k is a constant after unrolling: its
// input i, output j and weight bits wb. Dense layout: every weight, [n_in][n_out] for latency and
// [n_out][n_in] for resource. Sparse layout: see sparse_entry.
template <typename CONFIG_T, unsigned G>
inline void weight_entry(const typename CONFIG_T::weight_bits_t *weights, unsigned k, unsigned &i, unsigned &j,
                         long long &wb) {
#pragma HLS INLINE
    const long long e = weights[G * CONFIG_T::n_slots + k];
    if (CONFIG_T::sparse) {
        sparse_entry<CONFIG_T>(e, i, j, wb);
    } else {
        wb = e;
        i = k / CONFIG_T::n_out;
        j = k % CONFIG_T::n_out;
    }
}

// Fully parallel: every entry has its own multiplier (n_slots of them). Zero weights are skipped:
// in the dense layout that removes their multipliers once the tool folds the constant weights;
// layers with zeros that matter take the sparse layout, which holds none. G: the group (see
// dense_at).
template <class data_T, class res_T, typename CONFIG_T, unsigned G>
void dense_latency(const data_T *data, res_T *res, const typename CONFIG_T::weight_bits_t *weights,
                   const typename CONFIG_T::bias_bits_t *biases) {
#pragma HLS INLINE
#pragma HLS ALLOCATION operation instances=mul limit=CONFIG_T::multiplier_limit
    typename CONFIG_T::accum_t acc[CONFIG_T::n_out];
#pragma HLS ARRAY_PARTITION variable=acc complete
InitAccum:
    for (unsigned j = 0; j < CONFIG_T::n_out; j++) {
#pragma HLS UNROLL
        acc[j] = from_bits<typename CONFIG_T::bias_t>(biases[G * CONFIG_T::n_out + j]);
    }
Product:
    for (unsigned k = 0; k < CONFIG_T::n_slots; k++) {
#pragma HLS UNROLL
        unsigned i, j;
        long long wb;
        weight_entry<CONFIG_T, G>(weights, k, i, j, wb);
        if (wb == 0) continue;
        acc[j] = acc[j] + data[i] * from_bits<typename CONFIG_T::weight_t>(wb);
    }
Result:
    for (unsigned j = 0; j < CONFIG_T::n_out; j++) {
#pragma HLS UNROLL
        res[j] = acc[j];
    }
}

// The adder tree that sums an output's lanes of a sparse resource pass: leaves LO .. LO+N-1 of
// the output's lanes_max, leaf l being lane start + l, or 0 past the output's `count` lanes
// (constants once the output loop is unrolled, so a missing leaf's adder folds away). The first
// N/2 leaves, then the rest (kernels::dense::tree_sum), every sum cast to accum_t: each pass is
// log2 N adders deep and the accumulation carries one add from pass to pass. Ours: hls4ml's
// dense_compressed adds each product into every output's pass sum under a condition
// (fill_mult); here the routing is fixed at compile time (docs/synthesis.md).
template <typename CONFIG_T, unsigned LO, unsigned N> struct lane_tree {
    typedef typename CONFIG_T::accum_t accum_t;
    static accum_t sum(const accum_t *prod, unsigned start, unsigned count) {
#pragma HLS INLINE
        return accum_t(lane_tree<CONFIG_T, LO, N / 2>::sum(prod, start, count) +
                       lane_tree<CONFIG_T, LO + N / 2, N - N / 2>::sum(prod, start, count));
    }
};

template <typename CONFIG_T, unsigned LO> struct lane_tree<CONFIG_T, LO, 1> {
    typedef typename CONFIG_T::accum_t accum_t;
    static accum_t sum(const accum_t *prod, unsigned start, unsigned count) {
#pragma HLS INLINE
        return LO < count ? prod[start + LO] : accum_t(0);
    }
};

// Folded: n_slots/R multipliers, each used R times (one pass of ReuseLoop per cycle); entry k is
// used in cycle k % R. The weights are reshaped so that each cycle reads one wide word: the
// reshape is on the sized array of every group (a convolution's groups, a recurrent layer's
// directions), so its factor counts the groups too and each group's word r is row r.
// Dense layout, as hls4ml's rf_leq_nin / rf_gt_nin forms: the reuse factor divides n_in, or is a
// multiple of it (apply_config allows no other), so lane b always reads input
// (R*b) % n_in + ii and adds into output (R*b) / n_in + jr -- constants per lane plus the loop
// counters, no run-time division. ReuseLoop is split into jr (R / n_in blocks, when R > n_in)
// and ii (min(R, n_in) cycles); the nest is perfect, so Vitis flattens it into one pipeline.
// Sparse layout: output j has lanes lane_start(j) .. lane_start(j+1) (a constant table read at
// constant indices), so a lane's output is fixed; only its input comes from the ROM word,
// selected through a multiplexer (the price of skipping zeros; see docs/synthesis.md). A pass casts each product to accum_t, sums
// each output's lanes in a lane_tree and adds the tree into the accumulator (as hls4ml's
// dense_compressed sums a pass into its mult array first, but with no output multiplexer).
// The group G is a template argument, not a run-time offset: every group is a function of its
// own, so its ROM addresses and bias reads are constants in its own RTL (UG1399: the instances
// of one function share one implementation whose arguments are ports; hls4ml's
// function_instantiate served the same end).
template <class data_T, class res_T, typename CONFIG_T, unsigned G>
void dense_resource(const data_T *data, res_T *res,
                    const typename CONFIG_T::weight_bits_t weights[CONFIG_T::n_groups * CONFIG_T::n_slots],
                    const typename CONFIG_T::bias_bits_t biases[CONFIG_T::n_groups * CONFIG_T::n_out]) {
    // A module of its own: one instance per call site, ReuseLoop pipelined inside it.
#pragma HLS INLINE off
    const unsigned rf = CONFIG_T::reuse_factor;
    const unsigned block = CONFIG_T::block_factor;
    const unsigned inner = rf < CONFIG_T::n_in ? rf : CONFIG_T::n_in;
    const unsigned outer = rf / inner;
#pragma HLS ARRAY_RESHAPE variable=weights block factor=CONFIG_T::n_groups*CONFIG_T::block_factor
    // Every bias is read in InitAccum's one cycle (as hls4ml partitions its biases).
#pragma HLS ARRAY_PARTITION variable=biases complete
    typename CONFIG_T::accum_t acc[CONFIG_T::n_out];
#pragma HLS ARRAY_PARTITION variable=acc complete
InitAccum:
    for (unsigned j = 0; j < CONFIG_T::n_out; j++) {
#pragma HLS UNROLL
        acc[j] = from_bits<typename CONFIG_T::bias_t>(biases[G * CONFIG_T::n_out + j]);
    }
ReuseBlock:
    for (unsigned jr = 0; jr < outer; jr++) {
    ReuseLoop:
        for (unsigned ii = 0; ii < inner; ii++) {
#pragma HLS PIPELINE II=1
            const unsigned ir = jr * inner + ii;
            if (CONFIG_T::sparse) {
                typename CONFIG_T::accum_t prod[block];
#pragma HLS ARRAY_PARTITION variable=prod complete
            LaneLoop:
                for (unsigned b = 0; b < block; b++) {
#pragma HLS UNROLL
                    unsigned i, j;
                    long long wb;
                    sparse_entry<CONFIG_T>(weights[G * CONFIG_T::n_slots + ir + rf * b], i, j, wb);
                    prod[b] = data[i] * from_bits<typename CONFIG_T::weight_t>(wb);
                }
            PassSum:
                for (unsigned j = 0; j < CONFIG_T::n_out; j++) {
#pragma HLS UNROLL
                    const unsigned start = CONFIG_T::lane_start(j);
                    acc[j] = acc[j] + lane_tree<CONFIG_T, 0, CONFIG_T::lanes_max>::sum(
                                          prod, start, CONFIG_T::lane_start(j + 1) - start);
                }
            } else {
            MultLoop:
                for (unsigned b = 0; b < block; b++) {
#pragma HLS UNROLL
                    const long long wb = weights[G * CONFIG_T::n_slots + ir + rf * b];
                    const unsigned i = (rf * b) % CONFIG_T::n_in + ii;
                    const unsigned j = (rf * b) / CONFIG_T::n_in + jr;
                    // No test of wb: the weight is ROM data, so a test would be a comparator
                    // and a multiplexer per lane; a zero weight adds 0.
                    acc[j] = acc[j] + data[i] * from_bits<typename CONFIG_T::weight_t>(wb);
                }
            }
        }
    }
Result:
    for (unsigned j = 0; j < CONFIG_T::n_out; j++) {
#pragma HLS UNROLL
        res[j] = acc[j];
    }
}

// A distributed-arithmetic output: the exact integer y in units of 2^-F (the product's lsb), plus
// the bias, cast once into accum_t (kernels::da; the emulator's dense_block does the same).
// Ours: hls4ml's distributed_arithmetic strategy emits da4ml's own graph code instead; ours is
// planned by hlsrs and written per product (docs/synthesis.md, "distributed arithmetic").
template <typename CONFIG_T, int F, int W>
typename CONFIG_T::accum_t da_output(ap_int<W> y, typename CONFIG_T::bias_t b) {
#pragma HLS INLINE
    // At least one integer bit: y sign-extended to a width above F.
    static const int WW = W > F ? W : F + 1;
    const ap_int<WW> wide = y;
    ap_fixed<WW, WW - F> v;
    v.range(WW - 1, 0) = wide.range(WW - 1, 0);
    return typename CONFIG_T::accum_t(v + b);
}

// The strategy's kernel, chosen at compile time: a distributed-arithmetic config's generated
// graph (firmware/da/<config>.h: `CONFIG_T::da<G>`) exists only in its own config. Latency and
// resource mirror nnet::dense_latency / dense_resource (hls4ml's dense dispatch on strategy).
template <class data_T, class res_T, typename CONFIG_T, unsigned G, unsigned S = CONFIG_T::strategy>
struct dense_kernel {
    static void run(const data_T *data, res_T *res, const typename CONFIG_T::weight_bits_t *weights,
                    const typename CONFIG_T::bias_bits_t *biases) {
#pragma HLS INLINE
        if (S == latency) {
            dense_latency<data_T, res_T, CONFIG_T, G>(data, res, weights, biases);
        } else {
            dense_resource<data_T, res_T, CONFIG_T, G>(data, res, weights, biases);
        }
    }
};

template <class data_T, class res_T, typename CONFIG_T, unsigned G>
struct dense_kernel<data_T, res_T, CONFIG_T, G, distributed_arithmetic> {
    static void run(const data_T *data, res_T *res, const typename CONFIG_T::weight_bits_t *,
                    const typename CONFIG_T::bias_bits_t *biases) {
#pragma HLS INLINE
        CONFIG_T::template da<G>::template run<data_T, res_T, CONFIG_T>(data, res, biases);
    }
};

// The layout's and strategy's kernel on the weights and biases of group G (a convolution's
// group, a recurrent layer's direction): its weights from G * n_slots, its biases from G * n_out.
template <class data_T, class res_T, typename CONFIG_T, unsigned G>
void dense_at(const data_T *data, res_T *res, const typename CONFIG_T::weight_bits_t *weights,
              const typename CONFIG_T::bias_bits_t *biases) {
#pragma HLS INLINE
    dense_kernel<data_T, res_T, CONFIG_T, G>::run(data, res, weights, biases);
}

template <class data_T, class res_T, typename CONFIG_T>
void dense(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_out],
           const typename CONFIG_T::weight_bits_t weights[CONFIG_T::n_slots],
           const typename CONFIG_T::bias_bits_t biases[CONFIG_T::n_out]) {
#pragma HLS INLINE
    dense_at<data_T, res_T, CONFIG_T, 0>(data, res, weights, biases);
}

} // namespace hlsrs

#endif
