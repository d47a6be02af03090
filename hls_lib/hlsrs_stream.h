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
#include "hlsrs_trace.h"

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
            HLSRS_IO("R", in);                                                                        \
            const data_T x = in.read();                                                               \
            res_T y;                                                                                  \
            kernel<typename data_T::value_type, typename res_T::value_type, CONFIG_T>(x.data, y.data, \
                                                                                      args...);       \
            HLSRS_IO("W", out);                                                                       \
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
            HLSRS_IO("R", a);                                                                         \
            const a_T x = a.read();                                                                   \
            HLSRS_IO("R", b);                                                                         \
            const b_T y = b.read();                                                                   \
            res_T z;                                                                                  \
            kernel<typename a_T::value_type, typename b_T::value_type, typename res_T::value_type,    \
                   CONFIG_T>(x.data, y.data, z.data, args...);                                        \
            HLSRS_IO("W", out);                                                                       \
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
            HLSRS_IO("R", in);                                                                        \
            const data_T v = in.read();                                                               \
            for (unsigned c = 0; c < data_T::size; c++) x[p * data_T::size + c] = v.data[c];          \
        }                                                                                             \
        kernel<typename data_T::value_type, typename res_T::value_type, CONFIG_T>(x, y, args...);     \
        for (unsigned p = 0; p < CONFIG_T::out_pixels; p++) {                                         \
            _Pragma("HLS PIPELINE II=1")                                                              \
            res_T v;                                                                                  \
            for (unsigned c = 0; c < res_T::size; c++) v.data[c] = y[p * res_T::size + c];            \
            HLSRS_IO("W", out);                                                                       \
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
        HLSRS_IO("R", in);
        const data_T v = in.read();
        HLSRS_IO("W", out1);
        out1.write(v);
        HLSRS_IO("W", out2);
        out2.write(v);
    }
}

// The window of a stream process: the last span_h x span_w pixels of the padded image, in
// registers, and whether each is inside the input (not padding). Every tap is a register at a
// constant index once the kernel is unrolled.
template <class T, typename CONFIG_T, unsigned SPAN_H, unsigned SPAN_W> struct window_source {
    const T (*px)[SPAN_W][CONFIG_T::in_c];
    const bool (*ok)[SPAN_W];
    bool inside(unsigned, unsigned, unsigned kh, unsigned kw) const {
        return ok[kh * CONFIG_T::dilation_h][kw * CONFIG_T::dilation_w];
    }
    T at(unsigned, unsigned, unsigned kh, unsigned kw, unsigned c) const {
        return px[kh * CONFIG_T::dilation_h][kw * CONFIG_T::dilation_w][c];
    }
};

// One pixel of the padded image, at row y and column x: read from the input stream when it is
// inside the input (zero in padding); its column enters the window from the right (the rows
// above from the line buffers, which move up by one row at column x); when the window then
// ends an output position (its last row and column, at the stride), that position is computed
// and written. The counters (the pixel's row and column, the output row and column and the
// pixel that ends the next one) move on by addition: no division in the loop.
template <class data_T, class res_T, typename CONFIG_T, class K, unsigned SPAN_H, unsigned SPAN_W, unsigned LINES,
          unsigned PADDED_W>
inline void window_pixel(hls::stream<data_T> &in, hls::stream<res_T> &out, const K &kernel,
                         typename data_T::value_type lines[LINES][PADDED_W][CONFIG_T::in_c],
                         bool line_ok[LINES][PADDED_W], typename data_T::value_type win[SPAN_H][SPAN_W][CONFIG_T::in_c],
                         bool ok[SPAN_H][SPAN_W], unsigned &y, unsigned &x, unsigned &oh, unsigned &ow,
                         unsigned &next_y, unsigned &next_x) {
#pragma HLS INLINE
    typedef typename data_T::value_type T;
    const bool row_emits = oh < CONFIG_T::out_h && y == next_y;
    const bool inside = y >= CONFIG_T::pad_top && y < CONFIG_T::pad_top + CONFIG_T::in_h && x >= CONFIG_T::pad_left &&
                        x < CONFIG_T::pad_left + CONFIG_T::in_w;
    data_T v;
    if (inside) {
        HLSRS_IO("R", in);
        v = in.read();
    } else {
        for (unsigned c = 0; c < CONFIG_T::in_c; c++) {
#pragma HLS UNROLL
            v.data[c] = 0;
        }
    }
    // The column entering the window: rows above from the line buffers, this pixel last.
    T col[SPAN_H][CONFIG_T::in_c];
    bool col_ok[SPAN_H];
#pragma HLS ARRAY_PARTITION variable=col complete dim=0
#pragma HLS ARRAY_PARTITION variable=col_ok complete
    for (unsigned i = 0; i + 1 < SPAN_H; i++) {
#pragma HLS UNROLL
        col_ok[i] = line_ok[i][x];
        for (unsigned c = 0; c < CONFIG_T::in_c; c++) {
#pragma HLS UNROLL
            col[i][c] = lines[i][x][c];
        }
    }
    col_ok[SPAN_H - 1] = inside;
    for (unsigned c = 0; c < CONFIG_T::in_c; c++) {
#pragma HLS UNROLL
        col[SPAN_H - 1][c] = v.data[c];
    }
    for (unsigned i = 0; i + 1 < SPAN_H; i++) {
#pragma HLS UNROLL
        line_ok[i][x] = col_ok[i + 1];
        for (unsigned c = 0; c < CONFIG_T::in_c; c++) {
#pragma HLS UNROLL
            lines[i][x][c] = col[i + 1][c];
        }
    }
    for (unsigned i = 0; i < SPAN_H; i++) {
#pragma HLS UNROLL
        for (unsigned j = 0; j + 1 < SPAN_W; j++) {
#pragma HLS UNROLL
            ok[i][j] = ok[i][j + 1];
            for (unsigned c = 0; c < CONFIG_T::in_c; c++) {
#pragma HLS UNROLL
                win[i][j][c] = win[i][j + 1][c];
            }
        }
        ok[i][SPAN_W - 1] = col_ok[i];
        for (unsigned c = 0; c < CONFIG_T::in_c; c++) {
#pragma HLS UNROLL
            win[i][SPAN_W - 1][c] = col[i][c];
        }
    }
    if (row_emits && ow < CONFIG_T::out_w && x == next_x) {
        const window_source<T, CONFIG_T, SPAN_H, SPAN_W> src = {win, ok};
        res_T px;
        kernel(src, oh, ow, px.data);
        HLSRS_IO("W", out);
        out.write(px);
        ow++;
        next_x += CONFIG_T::stride_w;
    }
    if (x + 1 == PADDED_W) {
        x = 0;
        y++;
        ow = 0;
        next_x = SPAN_W - 1;
        if (row_emits) {
            oh++;
            next_y += CONFIG_T::stride_h;
        }
    } else {
        x++;
    }
}

// Convolution or pooling over a stream (a 1D window is L x 1): one loop over the pixels of the
// padded image, row by row, with the padding made inside the loop (hls4ml pads in a process of
// its own before the layer). A shift-register window of span_h x span_w pixels (registers) and
// span_h - 1 line buffers of a padded row (one memory per row and channel, read and written
// once a pixel at the pixel's column): each pixel's column enters the window, and the position
// whose window it completes, if any, is computed and written, as hls4ml's
// compute_output_buffer does. The loop is pipelined at the kernel's interval (not around
// resource kernels, whose ReuseLoop a pipeline would unroll); its bound is a constant and its
// counters are carried, so the kernel is one instance and no divider is built. The output
// order, and each position's arithmetic, are io_parallel's.
template <class data_T, class res_T, typename CONFIG_T, class K>
void window_stream(hls::stream<data_T> &in, hls::stream<res_T> &out, const K &kernel) {
    typedef typename data_T::value_type T;
    const unsigned span_h = (CONFIG_T::kernel_h - 1) * CONFIG_T::dilation_h + 1;
    const unsigned span_w = (CONFIG_T::kernel_w - 1) * CONFIG_T::dilation_w + 1;
    const unsigned padded_h = CONFIG_T::pad_top + CONFIG_T::in_h + CONFIG_T::pad_bottom;
    const unsigned padded_w = CONFIG_T::pad_left + CONFIG_T::in_w + CONFIG_T::pad_right;
    // (One unused line when the window is one row high: C++ has no empty arrays.)
    const unsigned n_lines = span_h > 1 ? span_h - 1 : 1;
    T lines[n_lines][padded_w][CONFIG_T::in_c];
    bool line_ok[n_lines][padded_w];
#pragma HLS ARRAY_PARTITION variable=lines complete dim=1
#pragma HLS ARRAY_PARTITION variable=lines complete dim=3
#pragma HLS ARRAY_PARTITION variable=line_ok complete dim=1
    T win[span_h][span_w][CONFIG_T::in_c];
    bool ok[span_h][span_w];
#pragma HLS ARRAY_PARTITION variable=win complete dim=0
#pragma HLS ARRAY_PARTITION variable=ok complete dim=0
    unsigned y = 0, x = 0, oh = 0, ow = 0;
    // The row and column of the pixel that completes the next output position's window.
    unsigned next_y = span_h - 1, next_x = span_w - 1;
    if (K::pipelined) {
    PipelinedPixels:
        for (unsigned p = 0; p < padded_h * padded_w; p++) {
#pragma HLS PIPELINE II=K::ii
            // A line buffer's word is read and rewritten by the same pixel, and read again only by
            // the pixel below, a padded row later.
#pragma HLS DEPENDENCE variable=lines inter distance=padded_w true
#pragma HLS DEPENDENCE variable=line_ok inter distance=padded_w true
            window_pixel<data_T, res_T, CONFIG_T, K, span_h, span_w, n_lines, padded_w>(
                in, out, kernel, lines, line_ok, win, ok, y, x, oh, ow, next_y, next_x);
        }
    } else {
    Pixels:
        for (unsigned p = 0; p < padded_h * padded_w; p++) {
#pragma HLS PIPELINE off
            window_pixel<data_T, res_T, CONFIG_T, K, span_h, span_w, n_lines, padded_w>(
                in, out, kernel, lines, line_ok, win, ok, y, x, oh, ow, next_y, next_x);
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
