// io_stream: layers as DATAFLOW processes exchanging pixels (all channels of one position,
// channels-last order) through hls::stream FIFOs. Every process computes with the same kernels as
// io_parallel, so the numbers are the same bits; only the schedule differs. Convolution and pooling
// keep a line buffer of the rows their windows span, not the whole input.
#ifndef HLSRS_STREAM_H_
#define HLSRS_STREAM_H_

#include "hls_stream.h"
#include "hlsrs_activation.h"
#include "hlsrs_common.h"
#include "hlsrs_conv.h"
#include "hlsrs_dense.h"
#include "hlsrs_elementwise.h"
#include "hlsrs_recurrent.h"
#include "hlsrs_softmax.h"

namespace hlsrs {

// One stream element: the N values of one position.
template <class T, unsigned N> struct pixel {
    typedef T value_type;
    static const unsigned size = N;
    T data[N];
};

// A per-pixel layer: CONFIG_T describes one pixel (n_in = channels); Args are its constant tables.
#define HLSRS_PIXELWISE_STREAM(kernel)                                                                 \
    template <class data_T, class res_T, typename CONFIG_T, typename... Args>                         \
    void kernel##_stream(hls::stream<data_T> &in, hls::stream<res_T> &out, const Args &...args) {    \
        for (unsigned p = 0; p < CONFIG_T::n_pixels; p++) {                                           \
            _Pragma("HLS PIPELINE II=1")                                                              \
            const data_T x = in.read();                                                               \
            res_T y;                                                                                  \
            kernel<typename data_T::value_type, typename res_T::value_type, CONFIG_T>(x.data, y.data, \
                                                                                      args...);       \
            out.write(y);                                                                             \
        }                                                                                             \
    }
HLSRS_PIXELWISE_STREAM(activation)
HLSRS_PIXELWISE_STREAM(clip)
HLSRS_PIXELWISE_STREAM(quant)
HLSRS_PIXELWISE_STREAM(prelu)
HLSRS_PIXELWISE_STREAM(scale_shift)
HLSRS_PIXELWISE_STREAM(softmax)
HLSRS_PIXELWISE_STREAM(argmax)
#undef HLSRS_PIXELWISE_STREAM

#define HLSRS_BINARY_STREAM(kernel)                                                                    \
    template <class a_T, class b_T, class res_T, typename CONFIG_T, typename... Args>                \
    void kernel##_stream(hls::stream<a_T> &a, hls::stream<b_T> &b, hls::stream<res_T> &out,          \
                         const Args &...args) {                                                       \
        for (unsigned p = 0; p < CONFIG_T::n_pixels; p++) {                                           \
            _Pragma("HLS PIPELINE II=1")                                                              \
            const a_T x = a.read();                                                                   \
            const b_T y = b.read();                                                                   \
            res_T z;                                                                                  \
            kernel<typename a_T::value_type, typename b_T::value_type, typename res_T::value_type,    \
                   CONFIG_T>(x.data, y.data, z.data, args...);                                        \
            out.write(z);                                                                             \
        }                                                                                             \
    }
HLSRS_BINARY_STREAM(add)
HLSRS_BINARY_STREAM(sub)
HLSRS_BINARY_STREAM(mul)
HLSRS_BINARY_STREAM(maximum)
HLSRS_BINARY_STREAM(minimum)
HLSRS_BINARY_STREAM(concat)
#undef HLSRS_BINARY_STREAM

// A layer that needs its whole input (dense, data movement): collects every pixel, runs the
// parallel kernel, emits the result pixel by pixel (the read and write loops pipelined, a pixel
// a cycle; the whole arrays partitioned, as the io_parallel kernel reads them).
#define HLSRS_WHOLE_STREAM(kernel)                                                                     \
    template <class data_T, class res_T, typename CONFIG_T, typename... Args>                         \
    void kernel##_stream(hls::stream<data_T> &in, hls::stream<res_T> &out, const Args &...args) {    \
        typename data_T::value_type x[CONFIG_T::in_pixels * data_T::size];                            \
        typename res_T::value_type y[CONFIG_T::out_pixels * res_T::size];                             \
        _Pragma("HLS ARRAY_PARTITION variable=x complete")                                            \
        _Pragma("HLS ARRAY_PARTITION variable=y complete")                                            \
        for (unsigned p = 0; p < CONFIG_T::in_pixels; p++) {                                          \
            _Pragma("HLS PIPELINE II=1")                                                              \
            const data_T v = in.read();                                                               \
            for (unsigned c = 0; c < data_T::size; c++) x[p * data_T::size + c] = v.data[c];          \
        }                                                                                             \
        kernel<typename data_T::value_type, typename res_T::value_type, CONFIG_T>(x, y, args...);     \
        for (unsigned p = 0; p < CONFIG_T::out_pixels; p++) {                                         \
            _Pragma("HLS PIPELINE II=1")                                                              \
            res_T v;                                                                                  \
            for (unsigned c = 0; c < res_T::size; c++) v.data[c] = y[p * res_T::size + c];            \
            out.write(v);                                                                             \
        }                                                                                             \
    }
HLSRS_WHOLE_STREAM(dense)
HLSRS_WHOLE_STREAM(gather)
HLSRS_WHOLE_STREAM(transpose)
HLSRS_WHOLE_STREAM(recurrent)
HLSRS_WHOLE_STREAM(recurrent_static)
#undef HLSRS_WHOLE_STREAM

// Copies each pixel to two consumers (a value used by two layers).
template <class data_T, unsigned N_PIXELS>
void clone_stream(hls::stream<data_T> &in, hls::stream<data_T> &out1, hls::stream<data_T> &out2) {
    for (unsigned p = 0; p < N_PIXELS; p++) {
#pragma HLS PIPELINE II=1
        const data_T v = in.read();
        out1.write(v);
        out2.write(v);
    }
}

// The last input row output row `oh` needs (rows are read in order).
template <typename CONFIG_T> inline int last_row_needed(unsigned oh) {
    const int r = (int)(oh * CONFIG_T::stride_h + (CONFIG_T::kernel_h - 1) * CONFIG_T::dilation_h) -
                  (int)CONFIG_T::pad_top;
    return r < (int)CONFIG_T::in_h - 1 ? r : (int)CONFIG_T::in_h - 1;
}

// Computes and writes output position (oh, ow) of a window process. One function for every place
// a position is computed, so g++ compiles the layer's kernel once.
template <class res_T, class K, class SRC>
void window_emit(hls::stream<res_T> &out, const K &kernel, const SRC &src, unsigned oh, unsigned ow) {
#pragma HLS INLINE
    res_T px;
    kernel(src, oh, ow, px.data);
    out.write(px);
}

// One pixel of a window process: stored into its row of the line buffer; if output row `oh` is
// ready and output column `ow` has its last tap at this column, that position is computed and
// written (the counters move on). Inlined into the pipelined or the plain column loop.
template <class data_T, class res_T, typename CONFIG_T, class K, class SRC, class ROWS>
inline void window_pixel(hls::stream<data_T> &in, hls::stream<res_T> &out, const K &kernel, const SRC &src,
                         ROWS rows, unsigned row, unsigned w, bool ready, unsigned oh, unsigned &ow, int &ow_last) {
#pragma HLS INLINE
    const data_T v = in.read();
    for (unsigned c = 0; c < CONFIG_T::in_c; c++) {
#pragma HLS UNROLL
        rows[row][w * CONFIG_T::in_c + c] = v.data[c];
    }
    if (ready && ow < CONFIG_T::out_w && ow_last == (int)w) {
        window_emit(out, kernel, src, oh, ow);
        ow++;
        ow_last += CONFIG_T::stride_w;
    }
}

// Convolution or pooling over a stream (a 1D window is L x 1). Keeps the rows the window spans
// (`span`, row r at r % span), partitioned so a position reads its whole patch at once: the rows
// completely, each row cyclically over the window's columns. Output positions are computed as
// the pixel of their last tap arrives, in one loop over the pixels of a row (pipelined at the
// kernel's interval; not around resource kernels). Positions whose window lies beyond the row's
// ends (padding) and rows completed at once by the bottom padding are computed after the row.
// The output order, and each position's arithmetic, are io_parallel's.
template <class data_T, class res_T, typename CONFIG_T, class K>
void window_stream(hls::stream<data_T> &in, hls::stream<res_T> &out, const K &kernel) {
    typedef typename data_T::value_type T;
    const unsigned span = (CONFIG_T::kernel_h - 1) * CONFIG_T::dilation_h + 1;
    const unsigned span_w = (CONFIG_T::kernel_w - 1) * CONFIG_T::dilation_w + 1;
    T rows[span][CONFIG_T::in_w * CONFIG_T::in_c];
#pragma HLS ARRAY_PARTITION variable=rows complete dim=1
#pragma HLS ARRAY_PARTITION variable=rows cyclic factor=span_w*CONFIG_T::in_c dim=2
    const row_source<T, CONFIG_T, span> src = {rows};
    // The last tap column of output column 0; each next column's is stride_w further.
    const int first_last = (int)((CONFIG_T::kernel_w - 1) * CONFIG_T::dilation_w) - (int)CONFIG_T::pad_left;
    unsigned oh = 0;
Rows:
    for (unsigned r = 0; r < CONFIG_T::in_h; r++) {
        const bool ready = oh < CONFIG_T::out_h && last_row_needed<CONFIG_T>(oh) <= (int)r;
        const unsigned row = r % span;
        unsigned ow = 0;
        int ow_last = first_last;
    Head:
        while (ready && ow < CONFIG_T::out_w && ow_last < 0) {
            window_emit(out, kernel, src, oh, ow);
            ow++;
            ow_last += CONFIG_T::stride_w;
        }
        if (K::pipelined) {
        PipelinedCols:
            for (unsigned w = 0; w < CONFIG_T::in_w; w++) {
#pragma HLS PIPELINE II=K::ii
                window_pixel<data_T, res_T, CONFIG_T>(in, out, kernel, src, rows, row, w, ready, oh, ow, ow_last);
            }
        } else {
        Cols:
            for (unsigned w = 0; w < CONFIG_T::in_w; w++) {
#pragma HLS PIPELINE off
                window_pixel<data_T, res_T, CONFIG_T>(in, out, kernel, src, rows, row, w, ready, oh, ow, ow_last);
            }
        }
        if (ready) {
        Tail:
            for (; ow < CONFIG_T::out_w; ow++) window_emit(out, kernel, src, oh, ow);
            oh++;
        }
    ExtraRows:
        while (oh < CONFIG_T::out_h && last_row_needed<CONFIG_T>(oh) <= (int)r) {
            for (unsigned o = 0; o < CONFIG_T::out_w; o++) window_emit(out, kernel, src, oh, o);
            oh++;
        }
    }
}

template <class data_T, class res_T, typename CONFIG_T>
void conv_stream(hls::stream<data_T> &in, hls::stream<res_T> &out,
                 const typename CONFIG_T::weight_bits_t *weights, const typename CONFIG_T::bias_bits_t *biases) {
    const conv_kernel<typename data_T::value_type, typename res_T::value_type, CONFIG_T> k = {weights, biases};
    window_stream<data_T, res_T, CONFIG_T>(in, out, k);
}

template <class data_T, class res_T, typename CONFIG_T>
void pool_stream(hls::stream<data_T> &in, hls::stream<res_T> &out, const typename CONFIG_T::recip_bits_t *recip) {
    const pool_kernel<typename data_T::value_type, typename res_T::value_type, CONFIG_T> k = {recip};
    window_stream<data_T, res_T, CONFIG_T>(in, out, k);
}

} // namespace hlsrs

#endif
