//! Data movement by index tables: Pad and Resize / Upsample.

use super::super::*;
use super::{Domain, Registration};

impl Converter<'_> {
    /// A gather in the value's own layout: `source(onnx output coordinate)` gives the ONNX input
    /// coordinate read, or None for the fill value.
    pub(in crate::frontend::onnx) fn gather_node(
        &mut self,
        node: &NodeProto,
        name: &str,
        out_onnx: Vec<usize>,
        fill: f64,
        source: impl Fn(&[usize]) -> Option<Vec<usize>>,
    ) -> Result<()> {
        let (n, layout) = self.gather_of_input(node, name, out_onnx, fill, source)?;
        self.set_output(node, Value::Node(n, layout));
        Ok(())
    }

    /// `gather_node`'s node, not yet any output's value (Split makes one per output).
    pub(in crate::frontend::onnx) fn gather_of_input(
        &mut self,
        node: &NodeProto,
        name: &str,
        out_onnx: Vec<usize>,
        fill: f64,
        source: impl Fn(&[usize]) -> Option<Vec<usize>>,
    ) -> Result<(NodeIndex, Layout)> {
        let (x, layout) = self.data_any(node, 0)?;
        let in_ir = self.shape(x);
        let out_ir: Vec<usize> = layout.iter().map(|&a| out_onnx[a]).collect();
        let n = checked_size(&out_ir, "the result")?;
        let index: Vec<i64> = (0..n)
            .map(|o| {
                let c_ir = crate::ir::ops::unflatten(o, &out_ir);
                let mut c_onnx = vec![0; c_ir.len()];
                for (k, &a) in layout.iter().enumerate() {
                    c_onnx[a] = c_ir[k];
                }
                match source(&c_onnx) {
                    None => -1,
                    Some(src) => layout
                        .iter()
                        .enumerate()
                        .fold(0usize, |acc, (k, &a)| acc * in_ir[k] + src[a])
                        as i64,
                }
            })
            .collect();
        let n = self
            .model
            .add(Node::new(name, Op::Gather { index, fill }, out_ir), &[x]);
        Ok((n, layout))
    }

    pub(in crate::frontend::onnx) fn pad(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        self.require_batch_first(node)?;
        let (x0, layout) = self.data_any(node, 0)?;
        let onnx = self.onnx_shape(x0, &layout);
        let rank = onnx.len() + 1;
        let mode = attr(node, "mode")
            .map(|a| String::from_utf8_lossy(&a.s).into_owned())
            .unwrap_or_else(|| "constant".into());
        if mode != "constant" {
            return Err(Error::input(format!(
                "Pad mode '{mode}' is not supported; expected 'constant'"
            )));
        }
        let (pads, value): (Vec<i64>, f64) = if self.opset < 11 {
            (
                attr_ints(node, "pads").ok_or_else(|| Error::input("Pad needs 'pads'"))?,
                attr_f(node, "value", 0.0),
            )
        } else {
            let p = self
                .constant(node, 1)?
                .data
                .iter()
                .map(|&v| v as i64)
                .collect();
            let v = if self.has_input(node, 2) {
                self.constant(node, 2)?.data.first().copied().unwrap_or(0.0)
            } else {
                0.0
            };
            (p, v)
        };
        let axes: Vec<usize> = if self.has_input(node, 3) {
            self.constant(node, 3)?
                .data
                .iter()
                .map(|&a| norm_axis(a as i64, rank))
                .collect::<Result<_>>()?
        } else {
            (0..rank).collect()
        };
        if pads.len() != 2 * axes.len() {
            return Err(Error::input(format!(
                "'pads' has {} values, expected {}",
                pads.len(),
                2 * axes.len()
            )));
        }
        let (mut pb, mut pe) = (vec![0i64; rank], vec![0i64; rank]);
        for (k, &a) in axes.iter().enumerate() {
            pb[a] = pads[k];
            pe[a] = pads[k + axes.len()];
        }
        if pb[0] != 0 || pe[0] != 0 {
            return Err(Error::input("Pad of the batch dimension is not supported"));
        }
        let out: Vec<usize> = (0..onnx.len())
            .map(|a| onnx[a] as i64 + pb[a + 1] + pe[a + 1])
            .map(|v| usize::try_from(v).ok().filter(|&v| v > 0))
            .collect::<Option<_>>()
            .ok_or_else(|| Error::input("Pad removes every value along an axis"))?;
        let pb = pb[1..].to_vec();
        self.gather_node(node, name, out, value, move |c| {
            c.iter()
                .enumerate()
                .map(|(a, &v)| {
                    let i = v as i64 - pb[a];
                    (i >= 0 && i < onnx[a] as i64).then_some(i as usize)
                })
                .collect()
        })
    }

    pub(in crate::frontend::onnx) fn resize(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        self.require_batch_first(node)?;
        let (x0, layout) = self.data_any(node, 0)?;
        let onnx = self.onnx_shape(x0, &layout);
        let rank = onnx.len() + 1;
        let s_attr = |key: &str, default: &str| {
            attr(node, key)
                .map(|a| String::from_utf8_lossy(&a.s).into_owned())
                .unwrap_or_else(|| default.into())
        };
        let mode = s_attr("mode", "nearest");
        if mode != "nearest" {
            return Err(Error::input(format!(
                "{} mode '{mode}' is not supported; expected 'nearest'",
                node.op_type
            )));
        }
        let upsample = node.op_type == "Upsample";
        let (coord, nearest) = if upsample || self.opset < 11 {
            ("asymmetric".to_string(), "floor".to_string())
        } else {
            (
                s_attr("coordinate_transformation_mode", "half_pixel"),
                s_attr("nearest_mode", "round_prefer_floor"),
            )
        };
        // Scales and sizes per axis (batch included).
        let const_at = |k: usize| -> Result<Option<Tensor>> {
            if self.has_input(node, k) {
                Ok(Some(self.constant(node, k)?)).map(|t| t.filter(|t: &Tensor| !t.is_empty()))
            } else {
                Ok(None)
            }
        };
        let (scales, sizes): (Option<Vec<f64>>, Option<Vec<usize>>) = if upsample && self.opset < 9
        {
            (
                attr(node, "scales").map(|a| a.floats.iter().map(|&v| v as f64).collect()),
                None,
            )
        } else if upsample || self.opset < 11 {
            (const_at(1)?.map(|t| t.data), None)
        } else {
            (
                const_at(2)?.map(|t| t.data),
                const_at(3)?.map(|t| t.data.iter().map(|&v| v as usize).collect()),
            )
        };
        let (scales, out): (Vec<f64>, Vec<usize>) = match (scales, sizes) {
            (_, Some(sz)) if sz.len() == rank => {
                let sc = (0..rank)
                    .map(|a| sz[a] as f64 / if a == 0 { 1.0 } else { onnx[a - 1] as f64 })
                    .collect();
                (sc, sz[1..].to_vec())
            }
            (Some(sc), _) if sc.len() == rank => {
                let out = (1..rank)
                    .map(|a| (onnx[a - 1] as f64 * sc[a]).floor() as usize)
                    .collect();
                (sc, out)
            }
            _ => {
                return Err(Error::input(format!(
                    "{} needs scales or sizes for all {rank} axes",
                    node.op_type
                )));
            }
        };
        if scales[0] != 1.0 || out.contains(&0) {
            return Err(Error::input(format!(
                "{} scales {scales:?}: the batch must keep scale 1 and every axis a size",
                node.op_type
            )));
        }
        let coord_fn = coord.clone();
        let (onnx_c, out_c) = (onnx.clone(), out.clone());
        let map_axis = move |a: usize, x: usize| -> Result<usize> {
            let (onnx, out) = (&onnx_c, &out_c);
            let (n_in, n_out, s) = (onnx[a] as f64, out[a] as f64, scales[a + 1]);
            let x = x as f64;
            let orig = match coord_fn.as_str() {
                "half_pixel" => (x + 0.5) / s - 0.5,
                "pytorch_half_pixel" => {
                    if n_out > 1.0 {
                        (x + 0.5) / s - 0.5
                    } else {
                        0.0
                    }
                }
                "asymmetric" => x / s,
                "tf_half_pixel_for_nn" => (x + 0.5) / s,
                "align_corners" => {
                    if n_out > 1.0 {
                        x * (n_in - 1.0) / (n_out - 1.0)
                    } else {
                        0.0
                    }
                }
                other => {
                    return Err(Error::input(format!(
                        "coordinate_transformation_mode '{other}' is not supported"
                    )));
                }
            };
            let r = match nearest.as_str() {
                "round_prefer_floor" => {
                    if orig.fract().abs() == 0.5 {
                        orig.floor()
                    } else {
                        orig.round()
                    }
                }
                "round_prefer_ceil" => {
                    if orig.fract().abs() == 0.5 {
                        orig.ceil()
                    } else {
                        orig.round()
                    }
                }
                "floor" => orig.floor(),
                "ceil" => orig.ceil(),
                other => {
                    return Err(Error::input(format!(
                        "nearest_mode '{other}' is not supported"
                    )));
                }
            };
            Ok(r.clamp(0.0, n_in - 1.0) as usize)
        };
        self.check_result(&out)?;
        // Resolve every axis' map once (errors surface here, not inside the gather).
        let maps: Vec<Vec<usize>> = (0..onnx.len())
            .map(|a| (0..out[a]).map(|x| map_axis(a, x)).collect::<Result<_>>())
            .collect::<Result<_>>()?;
        let out_shape: Vec<usize> = maps.iter().map(Vec::len).collect();
        self.gather_node(node, name, out_shape, 0.0, move |c| {
            Some(c.iter().enumerate().map(|(a, &v)| maps[a][v]).collect())
        })
    }
}

/// This family's ops in the registry (`ops::OPS`).
pub(in crate::frontend::onnx) const OPS: &[Registration] = &[
    (Domain::Onnx, "Pad", |c, n, name| c.pad(n, name)),
    (Domain::Onnx, "Resize", |c, n, name| c.resize(n, name)),
    (Domain::Onnx, "Upsample", |c, n, name| c.resize(n, name)),
];
