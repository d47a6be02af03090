// Softmax with the max subtracted exactly, an exp table indexed by ceil((max - x) / step) so the
// maximum alone reads exp(0) = 1, an exact sum, and an inverse table over the sum's own range.
// The plan (tables, shifts, sum type) is made by src/kernels/softmax.rs.
#ifndef HLSRS_SOFTMAX_H_
#define HLSRS_SOFTMAX_H_

#include "hlsrs_common.h"

namespace hlsrs {

template <class data_T, class res_T, typename CONFIG_T>
void softmax(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_in],
             const typename CONFIG_T::table_bits_t exp_table[CONFIG_T::table_size],
             const typename CONFIG_T::table_bits_t inv_table[CONFIG_T::table_size]) {
#pragma HLS INLINE
    for (unsigned r = 0; r < CONFIG_T::n_rows; r++) {
#pragma HLS UNROLL
        const unsigned base = r * CONFIG_T::n_classes;
        long long raw[CONFIG_T::n_classes];
        bool all[CONFIG_T::n_classes];
#pragma HLS ARRAY_PARTITION variable=raw complete
#pragma HLS ARRAY_PARTITION variable=all complete
        for (unsigned c = 0; c < CONFIG_T::n_classes; c++) {
#pragma HLS UNROLL
            raw[c] = to_raw(data[base + c]);
            all[c] = true;
        }
        long long mx;
        bool any;
        max_tree<long long, CONFIG_T::n_classes>::run(raw, all, mx, any);
        typename CONFIG_T::table_t e[CONFIG_T::n_classes];
#pragma HLS ARRAY_PARTITION variable=e complete
        typename CONFIG_T::sum_t sum = 0;
        for (unsigned c = 0; c < CONFIG_T::n_classes; c++) {
#pragma HLS UNROLL
            const int idx = clamp_index<CONFIG_T::table_size>(
                shift_ceil<CONFIG_T::exp_shift>(mx - to_raw(data[base + c])));
            e[c] = from_bits<typename CONFIG_T::table_t>(exp_table[idx]);
            sum = sum + e[c];
        }
        const int inv_idx = clamp_index<CONFIG_T::table_size>(shift_floor<CONFIG_T::inv_shift>(to_raw(sum)));
        const typename CONFIG_T::table_t inv = from_bits<typename CONFIG_T::table_t>(inv_table[inv_idx]);
        for (unsigned c = 0; c < CONFIG_T::n_classes; c++) {
#pragma HLS UNROLL
            res[base + c] = e[c] * inv;
        }
    }
}

// The index of the largest of each row's n_classes values, as an integer in res_T: a tree of
// exact comparisons (argmax_tree; the first of equal values wins, or the last with
// select_last). Ours: hls4ml has no argmax layer. Emulated by src/emulate/fixed.rs
// (Kernel::ArgMax).
template <class data_T, class res_T, typename CONFIG_T>
void argmax(const data_T data[CONFIG_T::n_rows * CONFIG_T::n_classes], res_T res[CONFIG_T::n_rows]) {
#pragma HLS INLINE
    for (unsigned r = 0; r < CONFIG_T::n_rows; r++) {
#pragma HLS UNROLL
        data_T best_v;
        unsigned best;
        argmax_tree<data_T, CONFIG_T::n_classes, CONFIG_T::select_last>::run(&data[r * CONFIG_T::n_classes], 0, best_v,
                                                                            best);
        res[r] = best;
    }
}

} // namespace hlsrs

#endif
