// Convolution and pooling over channels-last data, [H][W][C] (1D: H = 1). A convolution is a dense
// layer per output position and group: the patch (kernel positions x the group's channels, zero in
// padding) times the group's weight block, in the dense kernel's multiply-accumulate order.
// Emulated by src/emulate/fixed.rs with the plans of src/kernels/{conv,pool}.rs. The per-position
// functions read through a source, so io_parallel (whole array) and io_stream (the window's shift
// registers, hlsrs_stream.h) share them.
#ifndef HLSRS_CONV_H_
#define HLSRS_CONV_H_

#include "hlsrs_common.h"
#include "hlsrs_dense.h"

namespace hlsrs {

// Input row and column a kernel tap reads; false in padding.
template <typename CONFIG_T> inline bool tap(unsigned oh, unsigned ow, unsigned kh, unsigned kw, int &ih, int &iw) {
#pragma HLS INLINE
    ih = (int)(oh * CONFIG_T::stride_h + kh * CONFIG_T::dilation_h) - (int)CONFIG_T::pad_top;
    iw = (int)(ow * CONFIG_T::stride_w + kw * CONFIG_T::dilation_w) - (int)CONFIG_T::pad_left;
    return ih >= 0 && ih < (int)CONFIG_T::in_h && iw >= 0 && iw < (int)CONFIG_T::in_w;
}

// A source answers, for output position (oh, ow) and kernel tap (kh, kw), whether the tap is
// inside the input (not padding) and the value of channel c there. The whole input, [H][W][C]
// (io_parallel): the tap's input row and column from the position.
template <class T, typename CONFIG_T> struct flat_source {
    const T *data;
    bool inside(unsigned oh, unsigned ow, unsigned kh, unsigned kw) const {
        int ih, iw;
        return tap<CONFIG_T>(oh, ow, kh, kw, ih, iw);
    }
    T at(unsigned oh, unsigned ow, unsigned kh, unsigned kw, unsigned c) const {
        int ih, iw;
        tap<CONFIG_T>(oh, ow, kh, kw, ih, iw);
        return data[(ih * CONFIG_T::in_w + iw) * CONFIG_T::in_c + c];
    }
};

// Group G of one output position: its patch (the group's channels of every tap, zero in padding)
// through the group's dense block, into the group's output channels. hls4ml has a kernel of its
// own for depthwise convolutions (nnet::depthwise_product); ours runs every group, depthwise
// included, through the dense kernel, so its reuse factor, layouts and MAC order are the dense
// layer's (docs/synthesis.md, "Convolution and pooling").
template <class data_T, class res_T, typename CONFIG_T, unsigned G, class SRC>
void conv_group(const SRC &src, unsigned oh, unsigned ow, res_T out[CONFIG_T::out_c],
                const typename CONFIG_T::weight_bits_t *weights, const typename CONFIG_T::bias_bits_t *biases) {
#pragma HLS INLINE
    const unsigned cg = CONFIG_T::in_c / CONFIG_T::n_groups;
    data_T patch[CONFIG_T::n_in];
#pragma HLS ARRAY_PARTITION variable=patch complete
    for (unsigned kh = 0; kh < CONFIG_T::kernel_h; kh++) {
#pragma HLS UNROLL
        for (unsigned kw = 0; kw < CONFIG_T::kernel_w; kw++) {
#pragma HLS UNROLL
            const bool inside = src.inside(oh, ow, kh, kw);
            for (unsigned ci = 0; ci < cg; ci++) {
#pragma HLS UNROLL
                const unsigned k = (kh * CONFIG_T::kernel_w + kw) * cg + ci;
                if (inside) patch[k] = src.at(oh, ow, kh, kw, G * cg + ci);
                else patch[k] = 0;
            }
        }
    }
    res_T part[CONFIG_T::n_out];
#pragma HLS ARRAY_PARTITION variable=part complete
    dense_at<data_T, res_T, CONFIG_T, G>(patch, part, weights, biases);
    for (unsigned j = 0; j < CONFIG_T::n_out; j++) {
#pragma HLS UNROLL
        out[G * CONFIG_T::n_out + j] = part[j];
    }
}

// Groups FIRST..FIRST+N-1 of one output position, side by side. A recursion over template
// arguments rather than a loop, so that each group's kernel is its own function with its own
// constant offsets (to a function that is not inlined a loop variable is a run-time argument;
// UG1399 supports recursion through templates). Halving keeps the depth at log2 of the groups
// (a depthwise convolution may have a thousand).
template <class data_T, class res_T, typename CONFIG_T, unsigned FIRST, unsigned N> struct conv_groups {
    template <class SRC>
    static void run(const SRC &src, unsigned oh, unsigned ow, res_T out[CONFIG_T::out_c],
                    const typename CONFIG_T::weight_bits_t *weights, const typename CONFIG_T::bias_bits_t *biases) {
#pragma HLS INLINE
        conv_groups<data_T, res_T, CONFIG_T, FIRST, N / 2>::run(src, oh, ow, out, weights, biases);
        conv_groups<data_T, res_T, CONFIG_T, FIRST + N / 2, N - N / 2>::run(src, oh, ow, out, weights, biases);
    }
};
template <class data_T, class res_T, typename CONFIG_T, unsigned FIRST>
struct conv_groups<data_T, res_T, CONFIG_T, FIRST, 1> {
    template <class SRC>
    static void run(const SRC &src, unsigned oh, unsigned ow, res_T out[CONFIG_T::out_c],
                    const typename CONFIG_T::weight_bits_t *weights, const typename CONFIG_T::bias_bits_t *biases) {
#pragma HLS INLINE
        conv_group<data_T, res_T, CONFIG_T, FIRST>(src, oh, ow, out, weights, biases);
    }
};
template <class data_T, class res_T, typename CONFIG_T, unsigned FIRST>
struct conv_groups<data_T, res_T, CONFIG_T, FIRST, 0> {
    template <class SRC>
    static void run(const SRC &, unsigned, unsigned, res_T[CONFIG_T::out_c], const typename CONFIG_T::weight_bits_t *,
                    const typename CONFIG_T::bias_bits_t *) {}
};

// All output channels of one output position.
template <class data_T, class res_T, typename CONFIG_T, class SRC>
void conv_position(const SRC &src, unsigned oh, unsigned ow, res_T out[CONFIG_T::out_c],
                   const typename CONFIG_T::weight_bits_t *weights, const typename CONFIG_T::bias_bits_t *biases) {
#pragma HLS INLINE
    conv_groups<data_T, res_T, CONFIG_T, 0, CONFIG_T::n_groups>::run(src, oh, ow, out, weights, biases);
}

// Every channel of one output position: max (padding never wins; a tree of comparisons) or
// average (exact sum times the compiler's reciprocal of the count).
template <class data_T, class res_T, typename CONFIG_T, class SRC>
void pool_position(const SRC &src, unsigned oh, unsigned ow, res_T out[CONFIG_T::in_c],
                   const typename CONFIG_T::recip_bits_t *recip) {
#pragma HLS INLINE
    const unsigned taps = CONFIG_T::kernel_h * CONFIG_T::kernel_w;
    for (unsigned c = 0; c < CONFIG_T::in_c; c++) {
#pragma HLS UNROLL
        data_T v[taps];
        bool ok[taps];
#pragma HLS ARRAY_PARTITION variable=v complete
#pragma HLS ARRAY_PARTITION variable=ok complete
        typename CONFIG_T::sum_t sum = 0;
        unsigned count = 0;
        for (unsigned kh = 0; kh < CONFIG_T::kernel_h; kh++) {
#pragma HLS UNROLL
            for (unsigned kw = 0; kw < CONFIG_T::kernel_w; kw++) {
#pragma HLS UNROLL
                const unsigned k = kh * CONFIG_T::kernel_w + kw;
                ok[k] = src.inside(oh, ow, kh, kw);
                v[k] = 0;
                if (!ok[k]) continue;
                v[k] = src.at(oh, ow, kh, kw, c);
                if (!CONFIG_T::is_max) sum = sum + v[k];
                count++;
            }
        }
        if (CONFIG_T::is_max) {
            data_T best;
            bool any;
            max_tree<data_T, taps>::run(v, ok, best, any);
            out[c] = any ? best : data_T(0);
        } else {
            if (CONFIG_T::count_include_pad) count = CONFIG_T::kernel_h * CONFIG_T::kernel_w;
            if (count == 0) out[c] = 0;
            else out[c] = sum * from_bits<typename CONFIG_T::recip_t>(recip[count - 1]);
        }
    }
}

// The per-position kernels of a convolution and of pooling, as io_parallel's position loop and
// io_stream's window process call them: the channels each position writes, whether the loop
// around them may be pipelined (not around resource kernels, whose ReuseLoop a pipeline would
// unroll) and at what interval.
template <class data_T, class res_T, typename CONFIG_T> struct conv_kernel {
    static const unsigned channels = CONFIG_T::out_c;
    static const bool pipelined = CONFIG_T::strategy != resource;
    static const unsigned ii = CONFIG_T::reuse_factor;
    const typename CONFIG_T::weight_bits_t *weights;
    const typename CONFIG_T::bias_bits_t *biases;
    template <class SRC> void operator()(const SRC &src, unsigned oh, unsigned ow, res_T out[]) const {
#pragma HLS INLINE
        conv_position<data_T, res_T, CONFIG_T>(src, oh, ow, out, weights, biases);
    }
};
template <class data_T, class res_T, typename CONFIG_T> struct pool_kernel {
    static const unsigned channels = CONFIG_T::in_c;
    static const bool pipelined = true;
    static const unsigned ii = 1;
    const typename CONFIG_T::recip_bits_t *recip;
    template <class SRC> void operator()(const SRC &src, unsigned oh, unsigned ow, res_T out[]) const {
#pragma HLS INLINE
        pool_position<data_T, res_T, CONFIG_T>(src, oh, ow, out, recip);
    }
};

// (oh, ow) moved on by step_h rows and step_w columns (step_w < out_w), wrapping at the row's end:
// the counters of window_layer's kernel copies (hls4ml's conv_2d_latency_cl selects its positions
// through fill_buffer's switch instead; docs/synthesis.md).
template <typename CONFIG_T> inline void next_position(unsigned &oh, unsigned &ow, unsigned step_h, unsigned step_w) {
#pragma HLS INLINE
    ow += step_w;
    oh += step_h;
    if (ow >= CONFIG_T::out_w) {
        ow -= CONFIG_T::out_w;
        oh++;
    }
}

// Output position (oh, ow), written into res.
template <class data_T, class res_T, typename CONFIG_T, class K>
void window_at(const flat_source<data_T, CONFIG_T> &src, unsigned oh, unsigned ow, res_T *res, const K &kernel) {
#pragma HLS INLINE
    res_T out[K::channels];
#pragma HLS ARRAY_PARTITION variable=out complete
    kernel(src, oh, ow, out);
    for (unsigned j = 0; j < K::channels; j++) {
#pragma HLS UNROLL
        res[(oh * CONFIG_T::out_w + ow) * K::channels + j] = out[j];
    }
}

// io_parallel convolution or pooling: `parallelization` output positions at a time, each with its
// own copy of the per-position kernel (hls4ml's ParallelizationFactor). With latency kernels the
// loop over the `partitions` groups of positions is pipelined at the layer's reuse factor (a group
// enters every R cycles); around resource kernels, which pipeline their own ReuseLoop, the loop is
// not pipelined. A single group is no loop at all. Each kernel copy's output row and column are
// counters advanced by `parallelization` positions a group (constant steps and a wrap at the
// row's end), not a division of the position by the output width.
template <class data_T, class res_T, typename CONFIG_T, class K>
void window_layer(const data_T *data, res_T *res, const K &kernel) {
#pragma HLS INLINE
    const flat_source<data_T, CONFIG_T> src = {data};
    const unsigned pf = CONFIG_T::parallelization;
    const unsigned step_h = pf / CONFIG_T::out_w, step_w = pf % CONFIG_T::out_w;
    if (CONFIG_T::partitions == 1) {
    AllPositions:
        for (unsigned q = 0; q < pf; q++) {
#pragma HLS UNROLL
            window_at<data_T, res_T, CONFIG_T, K>(src, q / CONFIG_T::out_w, q % CONFIG_T::out_w, res, kernel);
        }
        return;
    }
    unsigned oh[pf], ow[pf];
#pragma HLS ARRAY_PARTITION variable=oh complete
#pragma HLS ARRAY_PARTITION variable=ow complete
    for (unsigned q = 0; q < pf; q++) {
#pragma HLS UNROLL
        oh[q] = q / CONFIG_T::out_w;
        ow[q] = q % CONFIG_T::out_w;
    }
    if (K::pipelined) {
    PipelinedPartitions:
        for (unsigned part = 0; part < CONFIG_T::partitions; part++) {
#pragma HLS PIPELINE II=K::ii
            for (unsigned q = 0; q < pf; q++) {
#pragma HLS UNROLL
                window_at<data_T, res_T, CONFIG_T, K>(src, oh[q], ow[q], res, kernel);
                next_position<CONFIG_T>(oh[q], ow[q], step_h, step_w);
            }
        }
    } else {
    Partitions:
        for (unsigned part = 0; part < CONFIG_T::partitions; part++) {
#pragma HLS PIPELINE off
            for (unsigned q = 0; q < pf; q++) {
#pragma HLS UNROLL
                window_at<data_T, res_T, CONFIG_T, K>(src, oh[q], ow[q], res, kernel);
                next_position<CONFIG_T>(oh[q], ow[q], step_h, step_w);
            }
        }
    }
}

template <class data_T, class res_T, typename CONFIG_T>
void conv(const data_T data[CONFIG_T::in_h * CONFIG_T::in_w * CONFIG_T::in_c],
          res_T res[CONFIG_T::out_h * CONFIG_T::out_w * CONFIG_T::out_c],
          const typename CONFIG_T::weight_bits_t weights[CONFIG_T::n_groups * CONFIG_T::n_slots],
          const typename CONFIG_T::bias_bits_t biases[CONFIG_T::n_groups * CONFIG_T::n_out]) {
#pragma HLS INLINE
    const conv_kernel<data_T, res_T, CONFIG_T> k = {weights, biases};
    window_layer<data_T, res_T, CONFIG_T>(data, res, k);
}

template <class data_T, class res_T, typename CONFIG_T>
void pool(const data_T data[CONFIG_T::in_h * CONFIG_T::in_w * CONFIG_T::in_c],
          res_T res[CONFIG_T::out_h * CONFIG_T::out_w * CONFIG_T::in_c],
          const typename CONFIG_T::recip_bits_t recip[CONFIG_T::kernel_h * CONFIG_T::kernel_w]) {
#pragma HLS INLINE
    const pool_kernel<data_T, res_T, CONFIG_T> k = {recip};
    window_layer<data_T, res_T, CONFIG_T>(data, res, k);
}

} // namespace hlsrs

#endif
