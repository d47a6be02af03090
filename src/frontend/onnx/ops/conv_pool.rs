//! Conv, MaxPool, AveragePool and their global forms.

use super::super::*;
use super::{Domain, Registration};

impl Converter<'_> {
    /// The geometry of Conv / MaxPool / AveragePool for spatial input sizes `input`.
    pub(in crate::frontend::onnx) fn window(
        &self,
        node: &NodeProto,
        input: &[usize],
        kernel: Vec<usize>,
    ) -> Result<(Window, Vec<usize>)> {
        let sr = input.len();
        let list = |key: &str, default: usize| -> Result<Vec<usize>> {
            match attr_ints(node, key) {
                Some(v) if v.len() == sr && v.iter().all(|&x| x >= 1) => {
                    Ok(v.iter().map(|&x| x as usize).collect())
                }
                Some(v) => Err(Error::input(format!(
                    "'{key}' {v:?} must hold {sr} positive values"
                ))),
                None => Ok(vec![default; sr]),
            }
        };
        let strides = list("strides", 1)?;
        let dilations = list("dilations", 1)?;
        let auto_pad = attr(node, "auto_pad")
            .map(|a| String::from_utf8_lossy(&a.s).into_owned())
            .unwrap_or_else(|| "NOTSET".into());
        let ceil_mode = attr_i(node, "ceil_mode", 0) != 0;
        let span = |a: usize| (kernel[a] - 1) * dilations[a] + 1;
        let (mut pb, mut pe) = (vec![0; sr], vec![0; sr]);
        match auto_pad.as_str() {
            "NOTSET" => {
                if let Some(p) = attr_ints(node, "pads") {
                    if p.len() != 2 * sr || p.iter().any(|&v| v < 0) {
                        return Err(Error::input(format!(
                            "'pads' {p:?} must hold {} non-negative values",
                            2 * sr
                        )));
                    }
                    pb = p[..sr].iter().map(|&v| v as usize).collect();
                    pe = p[sr..].iter().map(|&v| v as usize).collect();
                }
            }
            "VALID" => {}
            "SAME_UPPER" | "SAME_LOWER" => {
                for a in 0..sr {
                    let out = input[a].div_ceil(strides[a]);
                    let total = ((out - 1) * strides[a] + span(a)).saturating_sub(input[a]);
                    let small = total / 2;
                    let (b, e) = if auto_pad == "SAME_UPPER" {
                        (small, total - small)
                    } else {
                        (total - small, small)
                    };
                    pb[a] = b;
                    pe[a] = e;
                }
            }
            other => {
                return Err(Error::input(format!(
                    "auto_pad '{other}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID"
                )));
            }
        }
        if ceil_mode {
            // Extra end padding so the last partial window counts, as ceil_mode does (the window
            // must still start inside the input or its begin padding).
            for a in 0..sr {
                let padded = input[a] + pb[a] + pe[a];
                if padded >= span(a) {
                    let rem = (padded - span(a)) % strides[a];
                    if rem != 0 {
                        let out_ceil = (padded - span(a)).div_ceil(strides[a]) + 1;
                        if (out_ceil - 1) * strides[a] < input[a] + pb[a] {
                            pe[a] += strides[a] - rem;
                        }
                    }
                }
            }
        }
        let w = Window {
            kernel,
            strides,
            dilations,
            pads_begin: pb,
            pads_end: pe,
        };
        let out = w.output(input).ok_or_else(|| {
            Error::input(format!(
                "the window {:?} does not fit the input {input:?}",
                w.kernel
            ))
        })?;
        Ok((w, out))
    }

    pub(in crate::frontend::onnx) fn conv(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        self.require_batch_first(node)?;
        // QONNX's channels-last Conv: data [N, spatial..., C] and weights [M, kernel..., C/group].
        let channels_last_io = node.domain == super::quantizers::CHANNELS_LAST_DOMAIN;
        let mut w = self.constant(node, 1)?;
        if channels_last_io && w.shape.len() >= 3 {
            let r = w.shape.len();
            let (m, cg) = (w.shape[0], w.shape[r - 1]);
            let k: usize = w.shape[1..r - 1].iter().product();
            let mut data = vec![0.0; w.len()];
            for o in 0..m {
                for kk in 0..k {
                    for ci in 0..cg {
                        data[(o * cg + ci) * k + kk] = w.data[(o * k + kk) * cg + ci];
                    }
                }
            }
            let mut shape = vec![m, cg];
            shape.extend(&w.shape[1..r - 1]);
            w = Tensor::new(shape, data);
        }
        let sr = w.shape.len().saturating_sub(2);
        if !(1..=2).contains(&sr) {
            return Err(Error::input(format!(
                "Conv weight '{}' of shape {:?}: only 1D and 2D convolutions are supported",
                node.input[1], w.shape
            )));
        }
        let (x0, layout) = self.data_any(node, 0)?;
        if layout.len() != sr + 1 {
            return Err(Error::input(format!(
                "Conv with a {sr}D kernel on data {}: expected [N, C, {}]",
                shape_str(&self.onnx_shape(x0, &layout)),
                if sr == 1 { "L" } else { "H, W" }
            )));
        }
        // The IR layout of ONNX's [C, spatial...] (or of QONNX's [spatial..., C], the same IR).
        let cl = if channels_last_io {
            identity(sr + 1)
        } else {
            channels_last(sr + 1)
        };
        let x = self.data_in(node, 0, &cl)?;
        let xs = self.shape(x);
        let c = xs[sr];
        let (m, cg) = (w.shape[0], w.shape[1]);
        let group = attr_i(node, "group", 1).max(1) as usize;
        let kernel: Vec<usize> = w.shape[2..].to_vec();
        if let Some(k) = attr_ints(node, "kernel_shape")
            && k.iter().map(|&v| v as usize).collect::<Vec<_>>() != kernel
        {
            return Err(Error::input(format!(
                "kernel_shape {k:?} does not match weight shape {:?}",
                w.shape
            )));
        }
        let ok = if group == 1 {
            cg == c
        } else {
            group == c && cg == 1 && m % c == 0
        };
        if !ok {
            return Err(Error::input(format!(
                "Conv with group={group}, weight {:?} on {c} input channels: supported are group=1 and depthwise (group = channels)",
                w.shape
            )));
        }
        let (window, out) = self.window(node, &xs[..sr], kernel.clone())?;
        let mut check = out.clone();
        check.push(m);
        self.check_result(&check)?;
        let cout_g = m / group;
        let ksize: usize = kernel.iter().product();
        // ONNX W[g*cout_g + j][ci][k...] -> IR [g][k...][ci][j]
        let mut data = vec![0.0; group * ksize * cg * cout_g];
        for g in 0..group {
            for kk in 0..ksize {
                for ci in 0..cg {
                    for j in 0..cout_g {
                        data[((g * ksize + kk) * cg + ci) * cout_g + j] =
                            w.data[((g * cout_g + j) * cg + ci) * ksize + kk];
                    }
                }
            }
        }
        let mut wshape = vec![group];
        wshape.extend(&kernel);
        wshape.extend([cg, cout_g]);
        let bias = if self.has_input(node, 2) {
            let b = self.constant(node, 2)?;
            if b.len() != m {
                return Err(Error::input(format!(
                    "bias '{}' has {} values, expected {m}",
                    node.input[2],
                    b.len()
                )));
            }
            b.data
        } else {
            vec![0.0; m]
        };
        let mut shape = out;
        shape.push(m);
        let op = Op::Conv {
            window,
            groups: group,
            weights: Tensor::new(wshape, data),
            bias: Tensor::new(vec![m], bias),
        };
        self.add_node_in(node, name, op, shape, &[x], cl);
        Ok(())
    }

    pub(in crate::frontend::onnx) fn pool(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        self.require_batch_first(node)?;
        self.only_first_output_used(node)?;
        let (x0, layout) = self.data_any(node, 0)?;
        let sr = layout.len() - 1;
        if !(1..=2).contains(&sr) {
            return Err(Error::input(format!(
                "{} on data {}: only 1D and 2D pooling is supported",
                node.op_type,
                shape_str(&self.onnx_shape(x0, &layout))
            )));
        }
        // QONNX's channels-last MaxPool reads [N, spatial..., C] as it is.
        let cl = if node.domain == super::quantizers::CHANNELS_LAST_DOMAIN {
            identity(sr + 1)
        } else {
            channels_last(sr + 1)
        };
        let x = self.data_in(node, 0, &cl)?;
        let xs = self.shape(x);
        let global = node.op_type.starts_with("Global");
        let (window, out) = if global {
            let w = Window {
                kernel: xs[..sr].to_vec(),
                strides: vec![1; sr],
                dilations: vec![1; sr],
                pads_begin: vec![0; sr],
                pads_end: vec![0; sr],
            };
            (w, vec![1; sr])
        } else {
            let k = attr_ints(node, "kernel_shape")
                .ok_or_else(|| Error::input(format!("{} needs kernel_shape", node.op_type)))?;
            if k.len() != sr || k.iter().any(|&v| v < 1) {
                return Err(Error::input(format!(
                    "kernel_shape {k:?} must hold {sr} positive values"
                )));
            }
            self.window(node, &xs[..sr], k.iter().map(|&v| v as usize).collect())?
        };
        let kind = if node.op_type.contains("Max") {
            PoolKind::Max
        } else {
            PoolKind::Average
        };
        if attr_i(node, "storage_order", 0) != 0 {
            return Err(Error::input("MaxPool storage_order=1 is not supported"));
        }
        let count_include_pad = attr_i(node, "count_include_pad", 0) != 0;
        let mut shape = out;
        shape.push(xs[sr]);
        self.add_node_in(
            node,
            name,
            Op::Pool {
                kind,
                window,
                count_include_pad,
            },
            shape,
            &[x],
            cl,
        );
        Ok(())
    }
}

/// This family's ops in the registry (`ops::OPS`).
pub(in crate::frontend::onnx) const OPS: &[Registration] = &[
    (Domain::Onnx, "Conv", |c, n, name| c.conv(n, name)),
    (Domain::Onnx, "MaxPool", |c, n, name| c.pool(n, name)),
    (Domain::Onnx, "AveragePool", |c, n, name| c.pool(n, name)),
    (Domain::Onnx, "GlobalMaxPool", |c, n, name| c.pool(n, name)),
    (Domain::Onnx, "GlobalAveragePool", |c, n, name| {
        c.pool(n, name)
    }),
    (Domain::ChannelsLast, "Conv", |c, n, name| c.conv(n, name)),
    (Domain::ChannelsLast, "MaxPool", |c, n, name| {
        c.pool(n, name)
    }),
];
