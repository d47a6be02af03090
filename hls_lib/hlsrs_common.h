// hlsrs common helpers: bit-level conversions shared by every kernel.
// The Rust emulator (src/emulate/fixed.rs) implements the same operations; keep them in step.
#ifndef HLSRS_COMMON_H_
#define HLSRS_COMMON_H_

#include "ap_fixed.h"
#include "ap_int.h"

namespace hlsrs {

// The storage of a W-bit constant's bit pattern (weights, biases, tables; read with from_bits).
// For g++ (C-simulation), the smallest plain C integer that holds it: a million constants compile
// in seconds. For synthesis (or with HLSRS_EXACT_CONSTANTS, which tests that the bits agree), an
// ap_int of exactly W bits, so a ROM (a resource layer's weights, a lookup table) is W bits wide,
// not the C type's. Either way the array holds the same two's complement values.
#if defined(__SYNTHESIS__) || defined(HLSRS_EXACT_CONSTANTS)
template <int W> using bits_t = ap_int<W>;
#else
template <bool B, class T, class F> struct pick {
    typedef T type;
};
template <class T, class F> struct pick<false, T, F> {
    typedef F type;
};
template <int W>
using bits_t = typename pick<(W <= 8), signed char,
                             typename pick<(W <= 16), short,
                                           typename pick<(W <= 32), int, long long>::type>::type>::type;
#endif

// A value of fixed-point type T from its two's complement bit pattern. Weights and tables are
// stored as plain C integers (fast for g++, constant ROMs for synthesis) and reinterpreted here.
template <class T> inline T from_bits(long long bits) {
#pragma HLS INLINE
    T v;
    v.range(T::width - 1, 0) = ap_int<T::width>(bits);
    return v;
}

// The bit pattern of a fixed-point value as a (sign-extended) integer.
template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>
inline long long to_raw(const ap_fixed<W, I, Q, O, N> &x) {
#pragma HLS INLINE
    ap_int<W> r = x.range(W - 1, 0);
    return r.to_int64();
}
template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>
inline long long to_raw(const ap_ufixed<W, I, Q, O, N> &x) {
#pragma HLS INLINE
    ap_uint<W> r = x.range(W - 1, 0);
    return (long long)r.to_uint64();
}

// floor(x * 2^-shift): arithmetic right shift, or left shift for a negative shift.
template <int SHIFT> inline long long shift_floor(long long x) {
#pragma HLS INLINE
    return SHIFT >= 0 ? (x >> (SHIFT >= 0 ? SHIFT : 0)) : (x << (SHIFT < 0 ? -SHIFT : 0));
}

// ceil(x * 2^-shift) for x >= 0.
template <int SHIFT> inline long long shift_ceil(long long x) {
#pragma HLS INLINE
    return SHIFT > 0 ? ((x + (1LL << (SHIFT > 0 ? SHIFT : 0)) - 1) >> (SHIFT > 0 ? SHIFT : 0))
                     : (x << (SHIFT < 0 ? -SHIFT : 0));
}

// Clamps a table index to [0, n-1].
template <int N> inline int clamp_index(long long i) {
#pragma HLS INLINE
    return i < 0 ? 0 : (i > N - 1 ? N - 1 : (int)i);
}

// The maximum of v[0..N) over the entries with ok[k] set, as a balanced tree of comparisons
// (depth ceil(log2 N), like hls4ml's nnet::reduce) instead of a chain N-1 deep; `any` says
// whether any entry was set. Max is exact, so the order does not change the result. The masks
// the kernels pass are constants after unrolling, so unset entries cost nothing.
template <class T, int N> struct max_tree {
    static void run(const T *v, const bool *ok, T &best, bool &any) {
#pragma HLS INLINE
        T a, b;
        bool oa, ob;
        max_tree<T, N / 2>::run(v, ok, a, oa);
        max_tree<T, N - N / 2>::run(v + N / 2, ok + N / 2, b, ob);
        any = oa || ob;
        best = !oa ? b : (!ob ? a : (b > a ? b : a));
    }
};
template <class T> struct max_tree<T, 1> {
    static void run(const T *v, const bool *ok, T &best, bool &any) {
#pragma HLS INLINE
        best = v[0];
        any = ok[0];
    }
};

// The largest of N values and its index (counted from `first`): a tree of comparisons, depth
// log2 N, where a chain would be N deep and re-read the best value through a multiplexer at
// every step. Ties go to the lower index (to the higher with LAST), so the result is a scan's in
// order: each subtree's winner is its largest with the lowest (highest) index among equals.
// hls4ml has no argmax layer; the tree is max_tree's (its `reduce`) carrying the index.
template <class T, int N, bool LAST> struct argmax_tree {
    static void run(const T *v, unsigned first, T &best, unsigned &at) {
#pragma HLS INLINE
        T a, b;
        unsigned ia, ib;
        argmax_tree<T, N / 2, LAST>::run(v, first, a, ia);
        argmax_tree<T, N - N / 2, LAST>::run(v + N / 2, first + N / 2, b, ib);
        const bool right = LAST ? !(b < a) : b > a;
        best = right ? b : a;
        at = right ? ib : ia;
    }
};
template <class T, bool LAST> struct argmax_tree<T, 1, LAST> {
    static void run(const T *v, unsigned first, T &best, unsigned &at) {
#pragma HLS INLINE
        best = v[0];
        at = first;
    }
};

} // namespace hlsrs

#endif
