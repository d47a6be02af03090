// hlsrs layer traces for C-simulation (`hlsrs csim --trace`, as hls4ml's trace): with HLSRS_TRACE
// defined, every layer's output is appended, one line of two's complement bit patterns per call,
// to $HLSRS_TRACE_DIR/<layer index>.txt (the index of layer<k>_t and config<k>). The emulator's
// trace (`hlsrs predict --trace`) holds the same bits. Without HLSRS_TRACE, and always under
// synthesis, the macros are empty: the design is unchanged. (HLSRS_TRACE_IO, below: the stream
// processes' reads and writes.)
#ifndef HLSRS_TRACE_H_
#define HLSRS_TRACE_H_

#if defined(HLSRS_TRACE) && !defined(__SYNTHESIS__)
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "hls_stream.h"
#include "hlsrs_common.h"

namespace hlsrs {

inline std::FILE *trace_file(int layer) {
    const char *dir = std::getenv("HLSRS_TRACE_DIR");
    char path[4096];
    std::snprintf(path, sizeof path, "%s/%d.txt", dir ? dir : ".", layer);
    std::FILE *f = std::fopen(path, "a");
    if (!f) std::fprintf(stderr, "hlsrs trace: cannot append to %s\n", path);
    return f;
}

template <class T> void trace(int layer, const T *v, unsigned n) {
    std::FILE *f = trace_file(layer);
    if (!f) return;
    for (unsigned i = 0; i < n; i++) std::fprintf(f, i ? " %lld" : "%lld", to_raw(v[i]));
    std::fputc('\n', f);
    std::fclose(f);
}

// C-simulation runs a DATAFLOW region's processes one after another, so a layer's whole output
// waits in its stream when the layer returns: read it, write it down, put it back.
template <unsigned PIXELS, class PX> void trace_stream(int layer, hls::stream<PX> &s) {
    std::vector<PX> pixels(PIXELS);
    std::vector<typename PX::value_type> values;
    for (unsigned p = 0; p < PIXELS; p++) {
        pixels[p] = s.read();
        for (unsigned c = 0; c < PX::size; c++) values.push_back(pixels[p].data[c]);
    }
    for (unsigned p = 0; p < PIXELS; p++) s.write(pixels[p]);
    trace(layer, values.data(), (unsigned)values.size());
}

} // namespace hlsrs

#define HLSRS_TRACE_ARRAY(layer, v, n) hlsrs::trace(layer, v, n)
#define HLSRS_TRACE_STREAM(layer, pixels, s) hlsrs::trace_stream<pixels>(layer, s)
#else
#define HLSRS_TRACE_ARRAY(layer, v, n)
#define HLSRS_TRACE_STREAM(layer, pixels, s)
#endif

// The io_stream processes' reads and writes, for tests (tests/vitis_structure.rs): with
// HLSRS_TRACE_IO defined, each process's stream reads and writes are appended in order to
// $HLSRS_TRACE_DIR/io.txt ("P" before a process, its input and output streams as "I"/"O"
// lines, then "R"/"W" per read or write, each with the stream's address), the pattern the FIFO
// depths were simulated with. Without it, and always under synthesis, the macros are empty.
#if defined(HLSRS_TRACE_IO) && !defined(__SYNTHESIS__)
#include <cstdio>
#include <cstdlib>

namespace hlsrs {
inline std::FILE *io_trace_file() {
    static std::FILE *f = 0;
    if (!f) {
        const char *dir = std::getenv("HLSRS_TRACE_DIR");
        char path[4096];
        std::snprintf(path, sizeof path, "%s/io.txt", dir ? dir : ".");
        f = std::fopen(path, "a");
        if (!f) {
            std::fprintf(stderr, "hlsrs io trace: cannot append to %s\n", path);
            std::exit(2);
        }
    }
    return f;
}
inline void io_event(const char *what, const void *stream) {
    if (stream) std::fprintf(io_trace_file(), "%s %p\n", what, stream);
    else std::fprintf(io_trace_file(), "%s\n", what);
}
} // namespace hlsrs
#define HLSRS_IO(what, s) hlsrs::io_event(what, &(s))
#define HLSRS_IO_PROCESS() hlsrs::io_event("P", 0)
#else
#define HLSRS_IO(what, s)
#define HLSRS_IO_PROCESS()
#endif

#endif
