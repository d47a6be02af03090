//! QONNX quantizers (Quant, BipolarQuant, Trunc) and the QCDQ pattern (QuantizeLinear then
//! DequantizeLinear).
//!
//! On constants (weights, biases) they are folded: the constant becomes the values the source
//! model computes, in float32 as qonnx does, and `apply_config` later gives those values their
//! exact type. On data they become `Op::Quant` layers whose type rounds and saturates exactly as
//! the source model does: this needs a power-of-two scale (one for the tensor) and a zero point
//! of 0; roundings and ranges ap_fixed's modes lack (CEIL, UP, unsigned narrow) the quantizer
//! applies to the codes itself. Anything else is refused with the reason, not approximated.

use super::super::{Converter, Value, attr, attr_i};
use super::{Domain, Registration};
use crate::error::{Error, Result};
use crate::ir::fixed::{Overflow, Quant};
use crate::ir::ops::QuantRound;
use crate::ir::{FixedType, Op, Tensor};
use onnx_protobuf::NodeProto;

/// Domains QONNX and FINN export their quantizers in.
pub const QUANT_DOMAINS: &[&str] = &[
    "qonnx.custom_op.general",
    "finn.custom_op.general",
    "onnx.brevitas",
];

/// The domain of QONNX's channels-last wrappers of standard ops.
pub const CHANNELS_LAST_DOMAIN: &str = "qonnx.custom_op.channels_last";

fn attr_s(node: &NodeProto, name: &str, default: &str) -> String {
    attr(node, name).map_or(default.to_string(), |a| {
        String::from_utf8_lossy(&a.s).into_owned()
    })
}

/// numpy's rounding functions of qonnx's `resolve_rounding_mode`, on float32.
fn round_f32(mode: &str, x: f32) -> Result<f32> {
    Ok(match mode {
        "ROUND" | "HALF_EVEN" => x.round_ties_even(),
        "CEIL" => x.ceil(),
        "FLOOR" => x.floor(),
        "UP" => x.signum() * x.abs().ceil(),
        "DOWN" => x.trunc(),
        "HALF_UP" => x.signum() * (x.abs() + 0.5).floor(),
        "HALF_DOWN" => x.signum() * (x.abs() - 0.5).ceil(),
        other => return Err(Error::input(format!("unknown rounding_mode '{other}'"))),
    })
}

/// The ap_fixed quantization mode doing what a QONNX rounding mode does.
fn ap_quant(mode: &str) -> Result<Quant> {
    Ok(match mode {
        "ROUND" | "HALF_EVEN" => Quant::RndConv,
        "FLOOR" => Quant::Trn,
        "DOWN" => Quant::TrnZero,
        "HALF_UP" => Quant::RndInf,
        "HALF_DOWN" => Quant::RndZero,
        "CEIL" | "UP" => {
            return Err(Error::input(format!(
                "rounding_mode {mode} on data has no ap_fixed quantization mode (AP_TRN, AP_TRN_ZERO, AP_RND, AP_RND_ZERO, AP_RND_MIN_INF, AP_RND_INF, AP_RND_CONV); FLOOR, DOWN, ROUND/HALF_EVEN, HALF_UP and HALF_DOWN are supported"
            )));
        }
        other => return Err(Error::input(format!("unknown rounding_mode '{other}'"))),
    })
}

fn min_int(signed: bool, narrow: bool, bits: u32) -> f32 {
    match (signed, narrow) {
        (true, true) => -(2f32.powi(bits as i32 - 1)) + 1.0,
        (true, false) => -(2f32.powi(bits as i32 - 1)),
        _ => 0.0,
    }
}

fn max_int(signed: bool, narrow: bool, bits: u32) -> f32 {
    match (signed, narrow) {
        (false, false) => 2f32.powi(bits as i32) - 1.0,
        (false, true) => 2f32.powi(bits as i32) - 2.0,
        _ => 2f32.powi(bits as i32 - 1) - 1.0,
    }
}

/// `param` broadcast (numpy rules, aligned on the last axis) to the index `i` of `shape`.
fn broadcast_at(param: &Tensor, shape: &[usize], i: usize) -> f64 {
    if param.len() == 1 {
        return param.data[0];
    }
    let (pr, r) = (param.shape.len(), shape.len());
    let mut rem = i;
    let mut coord = vec![0; r];
    for a in (0..r).rev() {
        coord[a] = rem % shape[a];
        rem /= shape[a];
    }
    let mut k = 0;
    for a in 0..pr {
        let d = param.shape[a];
        let c = if a + r >= pr { coord[a + r - pr] } else { 0 };
        k = k * d + if d == 1 { 0 } else { c };
    }
    param.data[k]
}

/// Refuses a parameter (scale, zero point) that does not broadcast to `shape` (numpy's rules).
fn check_broadcast(param: &Tensor, shape: &[usize], what: &str) -> Result<()> {
    let (pr, r) = (param.shape.len(), shape.len());
    let ok = param.len() == 1
        || (pr <= r
            && (0..pr).all(|a| {
                let d = param.shape[a];
                d == 1 || d == shape[a + r - pr]
            }));
    if ok && !param.data.is_empty() {
        Ok(())
    } else {
        Err(Error::input(format!(
            "{what} of shape {:?} does not broadcast to the tensor's shape {shape:?}",
            param.shape
        )))
    }
}

/// A scalar of a constant input (bit widths).
fn scalar(t: &Tensor, what: &str) -> Result<f64> {
    if t.len() == 1 {
        Ok(t.data[0])
    } else {
        Err(Error::input(format!(
            "{what} must be one value, got shape {:?}",
            t.shape
        )))
    }
}

/// The exponent e of a scale 2^e shared by the whole tensor, or the reason there is none.
fn pow2_scale(scale: &Tensor, op: &str) -> Result<i32> {
    let Some(&s) = scale.data.first() else {
        return Err(Error::input(format!("{op}: the scale is empty")));
    };
    if scale.data.iter().any(|&v| v != s) {
        return Err(Error::input(format!(
            "{op} on data with per-channel scales: one power-of-two scale per tensor is supported on data (per-channel scales are supported on weights)"
        )));
    }
    let e = s.log2().round();
    if !(s > 0.0 && 2f64.powi(e as i32) == s) {
        return Err(Error::input(format!(
            "{op} on data with scale {s}: only power-of-two scales map to an exact fixed-point type (non-power-of-two scales are supported on weights)"
        )));
    }
    Ok(e as i32)
}

/// The type of quantized data: `bits` integer codes of step 2^e.
fn code_type(bits: u32, signed: bool, e: i32) -> FixedType {
    if signed {
        FixedType::fixed(bits, bits as i32 + e)
    } else {
        FixedType::ufixed(bits, bits as i32 + e)
    }
}

/// A quantizer that is a cast into `ty` (its own modes).
fn cast(ty: FixedType) -> Op {
    Op::Quant {
        ty,
        bipolar: false,
        round: None,
        codes: None,
    }
}

/// The sign quantizer of scale 2^e: -2^e or +2^e.
fn bipolar(e: i32) -> Op {
    Op::Quant {
        ty: FixedType::fixed(2, 2 + e),
        bipolar: true,
        round: None,
        codes: None,
    }
}

impl Converter<'_> {
    /// Adds a quantizer layer on the data input 0 of `node`.
    fn quant_layer(&mut self, node: &NodeProto, name: &str, op: Op) -> Result<()> {
        let (x, layout) = self.data_any(node, 0)?;
        let s = self.shape(x);
        self.add_node_in(node, name, op, s, &[x], layout);
        Ok(())
    }

    pub(in crate::frontend::onnx) fn quant(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        let scale = self.constant(node, 1)?;
        let zeropt = self.constant(node, 2)?;
        let bits = scalar(&self.constant(node, 3)?, "Quant bit width")?;
        if !(1.0..=32.0).contains(&bits) || bits.fract() != 0.0 {
            return Err(Error::input(format!(
                "Quant bit width {bits}: expected an integer from 1 to 32"
            )));
        }
        let bits = bits as u32;
        let signed = attr_i(node, "signed", 1) != 0;
        let narrow = attr_i(node, "narrow", 0) != 0;
        let mode = attr_s(node, "rounding_mode", "ROUND").to_uppercase();
        if let Value::Const(t) = self.value(node, 0)?.clone() {
            check_broadcast(&scale, &t.shape, "scale")?;
            check_broadcast(&zeropt, &t.shape, "zero point")?;
            // qonnx's int_quant, in float32 as numpy runs it.
            let (lo, hi) = (min_int(signed, narrow, bits), max_int(signed, narrow, bits));
            let data = (0..t.len())
                .map(|i| {
                    let s = broadcast_at(&scale, &t.shape, i) as f32;
                    let z = broadcast_at(&zeropt, &t.shape, i) as f32;
                    let y = t.data[i] as f32 / s + z;
                    let q = if bits == 1 && signed {
                        if y >= 0.0 { 1.0 } else { -1.0 }
                    } else {
                        round_f32(&mode, y.clamp(lo, hi))?
                    };
                    Ok(((q - z) * s) as f64)
                })
                .collect::<Result<_>>()?;
            self.set_output(node, Value::Const(Tensor::new(t.shape.clone(), data)));
            return Ok(());
        }
        let e = pow2_scale(&scale, "Quant")?;
        if zeropt.data.iter().any(|&z| z != 0.0) {
            return Err(Error::input(
                "Quant on data with a nonzero zero point: no fixed-point type holds an offset grid; zero point 0 is supported",
            ));
        }
        if bits == 1 && signed {
            // qonnx quantizes 1 signed bit as the sign.
            return self.quant_layer(node, name, bipolar(e));
        }
        let overflow = if signed && narrow {
            Overflow::SatSym
        } else {
            Overflow::Sat
        };
        // CEIL and UP have no ap_fixed mode, nor has the unsigned narrow range (largest code
        // 2^bits - 2): the quantizer rounds and saturates the codes itself.
        let round = match mode.as_str() {
            "CEIL" => Some(QuantRound::Ceil),
            "UP" => Some(QuantRound::Up),
            _ => None,
        };
        let quant = match round {
            Some(_) => Quant::Trn,
            None => ap_quant(&mode)?,
        };
        let codes = (round.is_some() || (narrow && !signed)).then(|| {
            (
                min_int(signed, narrow, bits) as i64,
                max_int(signed, narrow, bits) as i64,
            )
        });
        let ty = code_type(bits, signed, e).with_modes(quant, overflow);
        self.quant_layer(
            node,
            name,
            Op::Quant {
                ty,
                bipolar: false,
                round,
                codes,
            },
        )
    }

    pub(in crate::frontend::onnx) fn bipolar_quant(
        &mut self,
        node: &NodeProto,
        name: &str,
    ) -> Result<()> {
        let scale = self.constant(node, 1)?;
        if let Value::Const(t) = self.value(node, 0)?.clone() {
            check_broadcast(&scale, &t.shape, "scale")?;
            let data = (0..t.len())
                .map(|i| {
                    let s = broadcast_at(&scale, &t.shape, i) as f32;
                    let y = t.data[i] as f32 / s;
                    (if y >= 0.0 { s } else { -s }) as f64
                })
                .collect();
            self.set_output(node, Value::Const(Tensor::new(t.shape.clone(), data)));
            return Ok(());
        }
        let e = pow2_scale(&scale, "BipolarQuant")?;
        self.quant_layer(node, name, bipolar(e))
    }

    /// Trunc (qonnx's version 1: x, scale, zero point, input bits, output bits): the codes
    /// round(x / scale) lose their low in_bits - out_bits bits by `rounding_mode` and keep the
    /// scale: y = mode(round(x / s) / 2^t) * s. Three exact layers: the codes, the coarser codes,
    /// and a shift back.
    pub(in crate::frontend::onnx) fn trunc(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        if node.input.len() != 5 {
            return Err(Error::input(format!(
                "Trunc with {} inputs: qonnx's Trunc version 1 (x, scale, zeropt, in_bitwidth, out_bitwidth) is supported",
                node.input.len()
            )));
        }
        let scale = self.constant(node, 1)?;
        let zeropt = self.constant(node, 2)?;
        let in_bits = scalar(&self.constant(node, 3)?, "Trunc input bit width")? as i32;
        let out_bits = scalar(&self.constant(node, 4)?, "Trunc output bit width")? as i32;
        let mode = attr_s(node, "rounding_mode", "FLOOR").to_uppercase();
        let e = pow2_scale(&scale, "Trunc")?;
        if zeropt.data.iter().any(|&z| z != 0.0) {
            return Err(Error::input(
                "Trunc with a nonzero zero point is not supported",
            ));
        }
        let t = in_bits - out_bits;
        if !(0..=32).contains(&t) || out_bits < 1 {
            return Err(Error::input(format!(
                "Trunc from {in_bits} to {out_bits} bits: expected 1 <= out_bitwidth <= in_bitwidth"
            )));
        }
        let (x, layout) = self.data_any(node, 0)?;
        let shape = self.shape(x);
        // Signedness is not an attribute of version 1: one more bit holds either.
        let codes = FixedType::fixed(in_bits as u32 + 1, in_bits + 1 + e)
            .with_modes(Quant::RndConv, Overflow::Sat);
        let coarse_op = match mode.as_str() {
            "CEIL" | "UP" => {
                let ty = FixedType::fixed(out_bits as u32 + 1, out_bits + 1 + e + t)
                    .with_modes(Quant::Trn, Overflow::Sat);
                let (lo, hi) = ty.raw_range();
                Op::Quant {
                    ty,
                    bipolar: false,
                    round: Some(if mode == "CEIL" {
                        QuantRound::Ceil
                    } else {
                        QuantRound::Up
                    }),
                    codes: Some((lo as i64, hi as i64)),
                }
            }
            _ => cast(
                FixedType::fixed(out_bits as u32 + 1, out_bits + 1 + e + t)
                    .with_modes(ap_quant(&mode)?, Overflow::Sat),
            ),
        };
        let grid = self.unique_name(&format!("{name}_codes"));
        let n1 = self
            .model
            .add(crate::ir::Node::new(grid, cast(codes), shape.clone()), &[x]);
        let n2 = self.model.add(
            crate::ir::Node::new(name.to_string(), coarse_op, shape.clone()),
            &[n1],
        );
        let back = self.unique_name(&format!("{name}_rescale"));
        let c = *shape.last().unwrap_or(&1);
        let op = Op::ScaleShift {
            scale: Tensor::new(vec![c], vec![2f64.powi(-t); c]),
            shift: Tensor::new(vec![c], vec![0.0; c]),
        };
        self.add_node_in(node, &back, op, shape, &[n2], layout);
        Ok(())
    }

    /// The ONNX element type of an initializer or Constant output (zero points carry the
    /// quantized type: int8 = 3, uint8 = 2).
    fn element_type(&self, tensor: &str) -> Option<i32> {
        let g = self.proto.graph.as_ref()?;
        g.initializer
            .iter()
            .find(|t| t.name == tensor)
            .map(|t| t.data_type)
            .or_else(|| {
                g.node
                    .iter()
                    .find(|n| {
                        n.op_type == "Constant" && n.output.first().is_some_and(|o| o == tensor)
                    })
                    .and_then(|n| n.attribute.iter().find(|a| a.name == "value"))
                    .and_then(|a| a.t.as_ref())
                    .map(|t| t.data_type)
            })
    }

    /// QuantizeLinear: produces the dequantized values at once (a quantizer layer, or folded), and
    /// remembers its scale and zero point so that the DequantizeLinear after it is an identity.
    pub(in crate::frontend::onnx) fn quantize_linear(
        &mut self,
        node: &NodeProto,
        name: &str,
    ) -> Result<()> {
        let scale = self.constant(node, 1)?;
        let (zeropt, signed) = if self.has_input(node, 2) {
            let z = self.constant(node, 2)?;
            let signed = match self.element_type(&node.input[2]) {
                Some(3) => true,
                Some(2) => false,
                other => {
                    return Err(Error::input(format!(
                        "QuantizeLinear zero point '{}' of element type {other:?}: int8 and uint8 are supported",
                        node.input[2]
                    )));
                }
            };
            (z, signed)
        } else {
            (Tensor::new(vec![1], vec![0.0]), false)
        };
        let out = node.output[0].clone();
        if let Value::Const(t) = self.value(node, 0)?.clone() {
            check_broadcast(&scale, &t.shape, "scale")?;
            check_broadcast(&zeropt, &t.shape, "zero point")?;
            let (lo, hi) = (min_int(signed, false, 8), max_int(signed, false, 8));
            let data = (0..t.len())
                .map(|i| {
                    let s = broadcast_at(&scale, &t.shape, i) as f32;
                    let z = broadcast_at(&zeropt, &t.shape, i) as f32;
                    let q = ((t.data[i] as f32 / s).round_ties_even() + z).clamp(lo, hi);
                    ((q - z) * s) as f64
                })
                .collect();
            self.set_output(node, Value::Const(Tensor::new(t.shape.clone(), data)));
        } else {
            let e = pow2_scale(&scale, "QuantizeLinear")?;
            if zeropt.data.iter().any(|&z| z != 0.0) {
                return Err(Error::input(
                    "QuantizeLinear on data with a nonzero zero point: zero point 0 is supported",
                ));
            }
            let ty = code_type(8, signed, e).with_modes(Quant::RndConv, Overflow::Sat);
            self.quant_layer(node, name, cast(ty))?;
        }
        self.dequantized.insert(out, (scale, zeropt));
        Ok(())
    }

    /// DequantizeLinear: an identity after the QuantizeLinear it belongs to; on an integer
    /// constant (weights stored quantized), the dequantized constant.
    pub(in crate::frontend::onnx) fn dequantize_linear(&mut self, node: &NodeProto) -> Result<()> {
        let scale = self.constant(node, 1)?;
        let zeropt = if self.has_input(node, 2) {
            self.constant(node, 2)?
        } else {
            Tensor::new(vec![1], vec![0.0])
        };
        let src = node.input[0].clone();
        if let Some((s, z)) = self.dequantized.get(&src) {
            if *s != scale || *z != zeropt {
                return Err(Error::input(format!(
                    "DequantizeLinear of '{src}' with another scale or zero point than its QuantizeLinear"
                )));
            }
            let v = self.value(node, 0)?.clone();
            self.set_output(node, v);
            return Ok(());
        }
        match self.value(node, 0)?.clone() {
            Value::Const(t) => {
                check_broadcast(&scale, &t.shape, "scale")?;
                check_broadcast(&zeropt, &t.shape, "zero point")?;
                let data = (0..t.len())
                    .map(|i| {
                        let s = broadcast_at(&scale, &t.shape, i) as f32;
                        let z = broadcast_at(&zeropt, &t.shape, i) as f32;
                        ((t.data[i] as f32 - z) * s) as f64
                    })
                    .collect();
                self.set_output(node, Value::Const(Tensor::new(t.shape.clone(), data)));
                Ok(())
            }
            Value::Node(..) => Err(Error::input(format!(
                "DequantizeLinear of '{src}', which no QuantizeLinear produced: integer data inside the network is not supported"
            ))),
        }
    }
}

/// This family's ops in the registry (`ops::OPS`).
pub(in crate::frontend::onnx) const OPS: &[Registration] = &[
    (Domain::Onnx, "QuantizeLinear", |c, n, name| {
        c.quantize_linear(n, name)
    }),
    (Domain::Onnx, "DequantizeLinear", |c, n, _| {
        c.dequantize_linear(n)
    }),
    (Domain::QonnxQuant, "Quant", |c, n, name| c.quant(n, name)),
    (Domain::QonnxQuant, "BipolarQuant", |c, n, name| {
        c.bipolar_quant(n, name)
    }),
    (Domain::QonnxQuant, "Trunc", |c, n, name| c.trunc(n, name)),
];
