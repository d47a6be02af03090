//! Distributed arithmetic in C++: each group's adder graph (`kernels::da`) written out as
//! explicit shifts and adds on `ap_int`s of the widths their ranges need, so Vitis has nothing to
//! choose (no multiplier to infer). One header per product, `firmware/da/<config>.h`: a struct
//! `<config>_da<G>` per group whose `run` hls_lib's `dense_kernel` calls.
//!
//! Every value is a two's-complement integer in units of the input's lsb; a width holds its
//! value's whole range, and a wider intermediate (a shifted operand) wraps modulo 2^width
//! without changing the result, which fits. Each output joins its bias exactly and is cast once
//! into the accumulator (`hlsrs::da_output`), as the emulator computes it.

use super::*;
use crate::kernels::da::{AdderGraph, signed_bits};

/// The header of `graphs` (group or direction G's at G; each product of `d`'s shape, weights and
/// biases) as config struct `config`'s, for inputs of type `x`.
pub fn header(config: &str, graphs: &[&AdderGraph], d: &DensePlan, x: FixedType) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let guard = format!("HLSRS_DA_{}_H_", config.to_uppercase());
    let adders: usize = graphs.iter().map(|g| g.adders.len()).sum();
    let _ = writeln!(
        s,
        "// {config}: distributed arithmetic, {adders} adders in {} graph(s) (no multiplier).",
        graphs.len()
    );
    let _ = writeln!(s, "#ifndef {guard}\n#define {guard}\n");
    let _ = writeln!(s, "template <unsigned G> struct {config}_da;");
    // The input's raw bits as a signed integer: one more bit for an unsigned type.
    let in_bits = x.width + u32::from(!x.signed);
    // Units of the product's lsb: the input's and the weight's fractional bits.
    let frac = x.frac() + d.weights.ty.frac();
    for (g, graph) in graphs.iter().enumerate() {
        let ranges = graph.ranges(x.raw_range());
        let _ = writeln!(s, "\ntemplate <> struct {config}_da<{g}> {{");
        let _ = writeln!(
            s,
            "    template <class data_T, class res_T, typename CONFIG_T>\n    static void run(const data_T *x, res_T *res, const typename CONFIG_T::bias_bits_t *biases) {{\n#pragma HLS INLINE"
        );
        for i in 0..graph.n_in {
            let _ = writeln!(
                s,
                "        const ap_int<{in_bits}> v{i} = x[{i}].range({}, 0);",
                x.width - 1
            );
        }
        for (k, a) in graph.adders.iter().enumerate() {
            let v = graph.n_in + k;
            let w = signed_bits(ranges[v]);
            let operand = |u: usize, shift: u32| {
                if shift == 0 {
                    format!("ap_int<{w}>(v{u})")
                } else {
                    format!("(ap_int<{w}>(v{u}) << {shift})")
                }
            };
            let _ = writeln!(
                s,
                "        const ap_int<{w}> v{v} = {} {} {};",
                operand(a.a, a.a_shift),
                if a.sub { '-' } else { '+' },
                operand(a.b, a.b_shift)
            );
        }
        for (j, t) in graph.outputs.iter().enumerate() {
            let bias = format!(
                "hlsrs::from_bits<typename CONFIG_T::bias_t>(biases[{}])",
                g * d.n_out + j
            );
            let value = match t {
                None => "ap_int<1>(0)".to_string(),
                Some(t) => {
                    let (lo, hi) = ranges[t.v];
                    let r = if t.neg {
                        (-(hi << t.shift), -(lo << t.shift))
                    } else {
                        (lo << t.shift, hi << t.shift)
                    };
                    let w = signed_bits(r);
                    let shifted = if t.shift == 0 {
                        format!("ap_int<{w}>(v{})", t.v)
                    } else {
                        format!("(ap_int<{w}>(v{}) << {})", t.v, t.shift)
                    };
                    if t.neg {
                        format!("ap_int<{w}>(-{shifted})")
                    } else {
                        shifted
                    }
                }
            };
            let _ = writeln!(
                s,
                "        res[{j}] = hlsrs::da_output<CONFIG_T, {frac}>({value}, {bias});"
            );
        }
        let _ = writeln!(s, "    }}\n}};");
    }
    let _ = writeln!(s, "\n#endif");
    s
}
