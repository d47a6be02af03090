// Convolution and pooling over channels-last data, [H][W][C] (1D: H = 1). A convolution is a dense
// layer per output position and group: the patch (kernel positions x the group's channels, zero in
// padding) times the group's weight block, in the dense kernel's multiply-accumulate order.
// Emulated by src/emulate/fixed.rs with the plans of src/kernels/{conv,pool}.rs.
#ifndef HLSRS_CONV_H_
#define HLSRS_CONV_H_

#include "hlsrs_common.h"
#include "hlsrs_dense.h"

namespace hlsrs {

// The input index a kernel tap reads, or -1 in padding.
template <typename CONFIG_T> inline int tap_index(unsigned oh, unsigned ow, unsigned kh, unsigned kw) {
#pragma HLS INLINE
    const int ih = (int)(oh * CONFIG_T::stride_h + kh * CONFIG_T::dilation_h) - (int)CONFIG_T::pad_top;
    const int iw = (int)(ow * CONFIG_T::stride_w + kw * CONFIG_T::dilation_w) - (int)CONFIG_T::pad_left;
    if (ih < 0 || ih >= (int)CONFIG_T::in_h || iw < 0 || iw >= (int)CONFIG_T::in_w) return -1;
    return ih * CONFIG_T::in_w + iw;
}

template <class data_T, class res_T, typename CONFIG_T>
void conv(const data_T data[CONFIG_T::in_h * CONFIG_T::in_w * CONFIG_T::in_c],
          res_T res[CONFIG_T::out_h * CONFIG_T::out_w * CONFIG_T::out_c],
          const typename CONFIG_T::weight_bits_t weights[CONFIG_T::n_groups * CONFIG_T::n_in * CONFIG_T::n_out],
          const typename CONFIG_T::bias_bits_t biases[CONFIG_T::n_groups * CONFIG_T::n_out]) {
#pragma HLS INLINE
    const unsigned cg = CONFIG_T::in_c / CONFIG_T::n_groups;
OutRows:
    for (unsigned oh = 0; oh < CONFIG_T::out_h; oh++) {
    OutCols:
        for (unsigned ow = 0; ow < CONFIG_T::out_w; ow++) {
        Groups:
            for (unsigned g = 0; g < CONFIG_T::n_groups; g++) {
                data_T patch[CONFIG_T::n_in];
#pragma HLS ARRAY_PARTITION variable=patch complete
                for (unsigned kh = 0; kh < CONFIG_T::kernel_h; kh++) {
                    for (unsigned kw = 0; kw < CONFIG_T::kernel_w; kw++) {
                        const int p = tap_index<CONFIG_T>(oh, ow, kh, kw);
                        for (unsigned ci = 0; ci < cg; ci++) {
                            const unsigned k = (kh * CONFIG_T::kernel_w + kw) * cg + ci;
                            if (p < 0) patch[k] = 0;
                            else patch[k] = data[p * CONFIG_T::in_c + g * cg + ci];
                        }
                    }
                }
                res_T out[CONFIG_T::n_out];
#pragma HLS ARRAY_PARTITION variable=out complete
                const unsigned w_off = g * CONFIG_T::n_in * CONFIG_T::n_out;
                if (CONFIG_T::strategy == latency) {
                    dense_latency<data_T, res_T, CONFIG_T>(patch, out, weights, biases, w_off, g * CONFIG_T::n_out);
                } else {
                    dense_resource<data_T, res_T, CONFIG_T>(patch, out, weights, biases, w_off, g * CONFIG_T::n_out);
                }
                for (unsigned j = 0; j < CONFIG_T::n_out; j++) {
                    res[(oh * CONFIG_T::out_w + ow) * CONFIG_T::out_c + g * CONFIG_T::n_out + j] = out[j];
                }
            }
        }
    }
}

template <class data_T, class res_T, typename CONFIG_T>
void pool(const data_T data[CONFIG_T::in_h * CONFIG_T::in_w * CONFIG_T::in_c],
          res_T res[CONFIG_T::out_h * CONFIG_T::out_w * CONFIG_T::in_c],
          const typename CONFIG_T::recip_bits_t recip[CONFIG_T::kernel_h * CONFIG_T::kernel_w]) {
#pragma HLS INLINE
    for (unsigned oh = 0; oh < CONFIG_T::out_h; oh++) {
        for (unsigned ow = 0; ow < CONFIG_T::out_w; ow++) {
            for (unsigned c = 0; c < CONFIG_T::in_c; c++) {
                data_T best = 0;
                typename CONFIG_T::sum_t sum = 0;
                unsigned count = 0;
                for (unsigned kh = 0; kh < CONFIG_T::kernel_h; kh++) {
                    for (unsigned kw = 0; kw < CONFIG_T::kernel_w; kw++) {
                        const int p = tap_index<CONFIG_T>(oh, ow, kh, kw);
                        if (p < 0) continue;
                        const data_T v = data[p * CONFIG_T::in_c + c];
                        if (CONFIG_T::is_max) {
                            if (count == 0 || v > best) best = v;
                        } else {
                            sum = sum + v;
                        }
                        count++;
                    }
                }
                res_T &r = res[(oh * CONFIG_T::out_w + ow) * CONFIG_T::in_c + c];
                if (CONFIG_T::is_max) {
                    r = best;
                } else {
                    if (CONFIG_T::count_include_pad) count = CONFIG_T::kernel_h * CONFIG_T::kernel_w;
                    if (count == 0) r = 0;
                    else r = sum * from_bits<typename CONFIG_T::recip_t>(recip[count - 1]);
                }
            }
        }
    }
}

} // namespace hlsrs

#endif
