//! Shape operations: Concat, Flatten, Reshape, Squeeze, Unsqueeze, Gather, Slice, Transpose,
//! Identity, and the shape arithmetic exporters write (Shape, Cast, Expand, Constant, and the
//! Less / And of a while loop's first condition).

use super::super::*;
use super::{Domain, Registration};

/// The most inputs a Concat may join: each becomes a layer of the design (a file declaring more
/// is refused rather than planned).
pub const MAX_CONCAT_INPUTS: usize = 4096;

impl Converter<'_> {
    pub(in crate::frontend::onnx) fn concat(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        let consts: Option<Vec<Tensor>> = (0..node.input.len())
            .map(|k| match self.value(node, k) {
                Ok(Value::Const(t)) => Some(t.clone()),
                _ => None,
            })
            .collect();
        if let Some(ts) = consts.filter(|ts| !ts.is_empty()) {
            let rank = ts[0].shape.len();
            let axis = norm_axis(attr_i(node, "axis", 0), rank)?;
            self.set_output(
                node,
                Value::Const(crate::frontend::fold::concat(&ts, axis)?),
            );
            return Ok(());
        }
        self.require_batch_first(node)?;
        let (_, layout) = self.data_any(node, 0)?;
        let rank = layout.len() + 1;
        let axis = norm_axis(attr_i(node, "axis", 1), rank)?;
        if axis == 0 {
            return Err(Error::input(
                "Concat along axis 0 would join batches; expected an axis after the batch",
            ));
        }
        let mut inputs = Vec::new();
        for k in 0..node.input.len() {
            inputs.push(self.data_in(node, k, &layout)?);
        }
        let ir_axis = layout.iter().position(|&a| a == axis - 1).unwrap();
        let mut shape = self.shape(inputs[0]);
        for &i in &inputs[1..] {
            let s = self.shape(i);
            if s.len() != shape.len() || (0..s.len()).any(|a| a != ir_axis && s[a] != shape[a]) {
                return Err(Error::input(format!(
                    "Concat inputs {} and {} differ outside axis {axis}",
                    shape_str(&self.onnx_shape(inputs[0], &layout)),
                    shape_str(&self.onnx_shape(i, &layout))
                )));
            }
            shape[ir_axis] += s[ir_axis];
        }
        checked_size(&shape, "Concat's output")?;
        if inputs.len() == 1 {
            self.set_output(node, Value::Node(inputs[0], layout));
            return Ok(());
        }
        if inputs.len() > MAX_CONCAT_INPUTS {
            return Err(Error::input(format!(
                "Concat of {} inputs: at most {MAX_CONCAT_INPUTS} are taken (each is a layer of the design)",
                inputs.len()
            )));
        }
        // The kernel joins two inputs: more are joined pairwise in rounds (neighbours first, so
        // the order is kept), a tree of depth log2(n) whose layers hold n log2(n) values in all
        // (joined left to right they would hold n^2 / 2).
        let mut level: Vec<(NodeIndex, Vec<usize>)> =
            inputs.iter().map(|&i| (i, self.shape(i))).collect();
        let mut part = 0;
        while level.len() > 1 {
            let last_round = level.len() == 2;
            let mut next = Vec::with_capacity(level.len().div_ceil(2));
            for pair in level.chunks(2) {
                let [(a, sa), (b, sb)] = pair else {
                    next.push(pair[0].clone());
                    continue;
                };
                let mut joined = sa.clone();
                joined[ir_axis] += sb[ir_axis];
                part += 1;
                let n = if last_round {
                    name.to_string()
                } else {
                    self.unique_name(&format!("{name}_part{part}"))
                };
                let at = self.model.add(
                    Node::new(n, Op::Concat { axis: ir_axis }, joined.clone()),
                    &[*a, *b],
                );
                next.push((at, joined));
            }
            level = next;
        }
        let (acc, acc_shape) = level.pop().expect("two inputs at least");
        debug_assert_eq!(acc_shape, shape);
        self.set_output(node, Value::Node(acc, layout));
        Ok(())
    }

    /// Shape-only ops: folded when the input is a constant, else a Reshape node.
    pub(in crate::frontend::onnx) fn reshape_to(
        &mut self,
        node: &NodeProto,
        name: &str,
        out: Vec<usize>,
    ) -> Result<()> {
        match self.value(node, 0)?.clone() {
            Value::Const(t) => {
                self.set_output(node, Value::Const(Tensor::new(out, t.data)));
            }
            Value::Node(..) => {
                let x = self.data(node, 0)?;
                if out.is_empty() {
                    return Err(Error::input(
                        "the result keeps no dimension after the batch",
                    ));
                }
                self.add_node(node, name, Op::Reshape, out, &[x]);
            }
        }
        Ok(())
    }

    /// The ONNX shape of input 0 with the batch (batch 1 for data, as stored for constants).
    pub(in crate::frontend::onnx) fn full_shape(
        &self,
        node: &NodeProto,
    ) -> Result<(Vec<usize>, bool)> {
        Ok(match self.value(node, 0)? {
            Value::Node(..) => (self.full_shape_of(&node.input[0]).expect("data"), true),
            Value::Const(t) => (t.shape.clone(), false),
        })
    }

    /// A reshape of input 0 (ONNX shape `s`, batch included) to `new`: folded for a constant;
    /// for data, the batch must stay a dimension of its own, so `new` needs a size-1 axis with
    /// as many values before it as the batch has (only size-1 axes may merge with the batch).
    pub(in crate::frontend::onnx) fn reshape_data(
        &mut self,
        node: &NodeProto,
        name: &str,
        s: &[usize],
        is_data: bool,
        new: Vec<usize>,
    ) -> Result<()> {
        if !is_data {
            return self.reshape_to(node, name, new);
        }
        let b = self.batch_of(&node.input[0]);
        let before: usize = s[..b].iter().product();
        let nb = (0..new.len())
            .find(|&k| new[k] == 1 && new[..k].iter().product::<usize>() == before)
            .ok_or_else(|| {
                Error::input(format!(
                    "{} of data {} to {:?} would merge the batch dimension into the sample; \
                     expected the batch to stay a dimension of its own (only axes of size 1 may merge with it)",
                    node.op_type,
                    full_shape_str(s, b),
                    new
                ))
            })?;
        self.reshape_keeping_batch(node, name, new, nb)
    }

    pub(in crate::frontend::onnx) fn flatten(
        &mut self,
        node: &NodeProto,
        name: &str,
    ) -> Result<()> {
        let (s, is_data) = self.full_shape(node)?;
        // keras2onnx writes axis 0 for a batch of one: [1, everything], the same sample.
        let axis = norm_axis(attr_i(node, "axis", 1), s.len() + 1)?;
        let new = vec![s[..axis].iter().product(), s[axis..].iter().product()];
        self.reshape_data(node, name, &s, is_data, new)
    }

    pub(in crate::frontend::onnx) fn reshape(
        &mut self,
        node: &NodeProto,
        name: &str,
    ) -> Result<()> {
        let (s, is_data) = self.full_shape(node)?;
        let target = self.constant(node, 1)?;
        let allow_zero = attr_i(node, "allowzero", 0) != 0;
        let total: usize = s.iter().product();
        let mut new: Vec<i64> = Vec::new();
        for (k, &d) in target.data.iter().enumerate() {
            let d = d as i64;
            new.push(if d == 0 && !allow_zero {
                *s.get(k)
                    .ok_or_else(|| Error::input("shape entry 0 refers to a missing dim"))?
                    as i64
            } else {
                d
            });
        }
        let known: i64 = new
            .iter()
            .filter(|&&d| d != -1)
            .try_fold(1i64, |a, &d| a.checked_mul(d))
            .unwrap_or(-1);
        let unknown = new.iter().filter(|&&d| d == -1).count();
        if unknown > 1 || new.iter().any(|&d| d < -1) || known <= 0 {
            return Err(Error::input(format!(
                "invalid target shape {:?}",
                target.data
            )));
        }
        let new: Vec<usize> = new
            .iter()
            .map(|&d| {
                if d == -1 {
                    total / known as usize
                } else {
                    d as usize
                }
            })
            .collect();
        if new.iter().product::<usize>() != total {
            return Err(Error::input(format!(
                "cannot reshape {} values (shape {:?}) to {:?}",
                total, s, target.data
            )));
        }
        self.reshape_data(node, name, &s, is_data, new)
    }

    pub(in crate::frontend::onnx) fn axes(&self, node: &NodeProto) -> Result<Option<Vec<i64>>> {
        if self.opset >= 13 {
            if self.has_input(node, 1) {
                return Ok(Some(
                    self.constant(node, 1)?
                        .data
                        .iter()
                        .map(|&v| v as i64)
                        .collect(),
                ));
            }
            Ok(None)
        } else {
            Ok(attr_ints(node, "axes"))
        }
    }

    pub(in crate::frontend::onnx) fn squeeze(
        &mut self,
        node: &NodeProto,
        name: &str,
    ) -> Result<()> {
        let (s, is_data) = self.full_shape(node)?;
        let listed: Option<Vec<usize>> = match self.axes(node)? {
            Some(a) => Some(
                a.iter()
                    .map(|&x| norm_axis(x, s.len()))
                    .collect::<Result<_>>()?,
            ),
            None => None,
        };
        if let (true, Some(axes)) = (is_data, &listed) {
            // Squeezing the size-1 axis the batch sits on squeezes a size-1 neighbour instead.
            self.batch_off(&node.input[0], axes);
        }
        let b = if is_data {
            self.batch_of(&node.input[0])
        } else {
            usize::MAX
        };
        let axes: Vec<usize> = match listed {
            Some(a) => a,
            None => (0..s.len()).filter(|&k| s[k] == 1 && k != b).collect(),
        };
        if axes.contains(&b) {
            return Err(Error::input(format!(
                "Squeeze of axis {b} would remove the batch dimension"
            )));
        }
        if let Some(&k) = axes.iter().find(|&&k| s[k] != 1) {
            return Err(Error::input(format!(
                "Squeeze of axis {k} of size {} (expected size 1)",
                s[k]
            )));
        }
        let new: Vec<usize> = (0..s.len())
            .filter(|k| !axes.contains(k))
            .map(|k| s[k])
            .collect();
        if !is_data {
            return self.reshape_to(node, name, new);
        }
        let nb = b - axes.iter().filter(|&&a| a < b).count();
        self.reshape_keeping_batch(node, name, new, nb)
    }

    pub(in crate::frontend::onnx) fn unsqueeze(
        &mut self,
        node: &NodeProto,
        name: &str,
    ) -> Result<()> {
        let (s, is_data) = self.full_shape(node)?;
        let axes = self
            .axes(node)?
            .ok_or_else(|| Error::input("Unsqueeze needs axes"))?;
        let rank = s.len() + axes.len();
        let axes: Vec<usize> = axes
            .iter()
            .map(|&a| norm_axis(a, rank))
            .collect::<Result<_>>()?;
        let b = if is_data {
            self.batch_of(&node.input[0])
        } else {
            usize::MAX
        };
        let mut rest = s.iter().enumerate();
        let mut nb = usize::MAX;
        let new: Vec<usize> = (0..rank)
            .map(|k| {
                if axes.contains(&k) {
                    1
                } else {
                    let (i, &d) = rest.next().unwrap();
                    if i == b {
                        nb = k;
                    }
                    d
                }
            })
            .collect();
        if !is_data {
            return self.reshape_to(node, name, new);
        }
        self.reshape_keeping_batch(node, name, new, nb)
    }

    /// A reshape of data whose new ONNX shape `full` holds the batch at `b`.
    pub(in crate::frontend::onnx) fn reshape_keeping_batch(
        &mut self,
        node: &NodeProto,
        name: &str,
        full: Vec<usize>,
        b: usize,
    ) -> Result<()> {
        let mut out = full;
        out.remove(b);
        if out.is_empty() {
            return Err(Error::input(
                "the result keeps no dimension besides the batch",
            ));
        }
        let x = self.data(node, 0)?;
        self.add_node(node, name, Op::Reshape, out, &[x]);
        self.batch_pos.insert(node.output[0].clone(), b);
        Ok(())
    }

    /// Gather with constant indices along a non-batch axis (e.g. the last step of a sequence).
    pub(in crate::frontend::onnx) fn gather(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        let (s, is_data) = self.full_shape(node)?;
        if !is_data {
            return Err(Error::input("Gather on a constant is not supported"));
        }
        let axis = norm_axis(attr_i(node, "axis", 0), s.len())?;
        self.batch_off(&node.input[0], &[axis]);
        let b = self.batch_of(&node.input[0]);
        if axis == b {
            return Err(Error::input(
                "Gather along the batch dimension is not supported",
            ));
        }
        let idx = self.constant(node, 1)?;
        let n = s[axis] as i64;
        let picks: Vec<usize> = idx
            .data
            .iter()
            .map(|&v| {
                let v = v as i64;
                let v = if v < 0 { v + n } else { v };
                usize::try_from(v).ok().filter(|&v| (v as i64) < n)
            })
            .collect::<Option<_>>()
            .ok_or_else(|| {
                Error::input(format!(
                    "Gather indices {:?} out of range for size {n}",
                    idx.data
                ))
            })?;
        let scalar = idx.shape.is_empty();
        if !scalar && idx.shape.len() != 1 {
            return Err(Error::input("Gather indices must be a scalar or a list"));
        }
        // Non-batch axis numbering.
        let a = axis - usize::from(axis > b);
        let (x0, layout) = self.data_any(node, 0)?;
        let onnx = self.onnx_shape(x0, &layout);
        let mut out = onnx.clone();
        out[a] = picks.len();
        let picks2 = picks.clone();
        self.gather_node(node, name, out.clone(), 0.0, move |c| {
            let mut src = c.to_vec();
            src[a] = picks2[c[a]];
            Some(src)
        })?;
        if scalar {
            // The axis disappears: a reshape to the shape without it.
            let tensor = node.output[0].clone();
            let Some(Value::Node(g, gl)) = self.values.get(&tensor).cloned() else {
                unreachable!()
            };
            let g = self.relayout(g, &gl, &identity(gl.len()), &tensor);
            let mut full: Vec<usize> = out.clone();
            full.remove(a);
            if full.is_empty() {
                return Err(Error::input("Gather leaves no dimension besides the batch"));
            }
            let rname = self.unique_name(&format!("{name}_squeeze"));
            let r = self
                .model
                .add(Node::new(rname, Op::Reshape, full.clone()), &[g]);
            self.values
                .insert(tensor.clone(), Value::Node(r, identity(full.len())));
            self.batch_pos.insert(tensor, b - usize::from(axis < b));
        }
        Ok(())
    }

    /// Split along one non-batch axis into parts: the `split` sizes (an attribute before opset
    /// 13, an input from 13), else equal parts (the last smaller, as opset 18's num_outputs).
    /// Each output is a gather of its part (a constant input is split into constants).
    pub(in crate::frontend::onnx) fn split(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        let (s, is_data) = self.full_shape(node)?;
        let axis = norm_axis(attr_i(node, "axis", 0), s.len())?;
        self.batch_off(&node.input[0], &[axis]);
        let b = self.batch_of(&node.input[0]);
        if axis == b {
            return Err(Error::input(
                "Split along the batch dimension is not supported",
            ));
        }
        let n_out = node.output.len();
        let sizes: Vec<usize> = match (self.opset < 13, self.has_input(node, 1)) {
            (true, _) => attr_ints(node, "split")
                .unwrap_or_default()
                .iter()
                .map(|&v| v.max(0) as usize)
                .collect(),
            (false, true) => self
                .constant(node, 1)?
                .data
                .iter()
                .map(|&v| v.max(0.0) as usize)
                .collect(),
            (false, false) => Vec::new(),
        };
        let sizes = if sizes.is_empty() {
            let chunk = s[axis].div_ceil(n_out.max(1));
            (0..n_out)
                .map(|k| chunk.min(s[axis].saturating_sub(k * chunk)))
                .collect()
        } else {
            sizes
        };
        if sizes.len() != n_out || sizes.iter().sum::<usize>() != s[axis] || sizes.contains(&0) {
            return Err(Error::input(format!(
                "Split of axis {axis} (size {}) into parts {sizes:?} for {n_out} outputs: the parts must be positive and add up to the axis",
                s[axis]
            )));
        }
        let mut start = 0;
        for (k, &size) in sizes.iter().enumerate() {
            let picks: Vec<Vec<usize>> = (0..s.len())
                .map(|a| {
                    if a == axis {
                        (start..start + size).collect()
                    } else {
                        (0..s[a]).collect()
                    }
                })
                .collect();
            start += size;
            let out_name = &node.output[k];
            if out_name.is_empty() {
                continue;
            }
            if !is_data {
                let t = self.constant(node, 0)?;
                let part = crate::frontend::fold::take(&t, &picks);
                self.values.insert(out_name.clone(), Value::Const(part));
                continue;
            }
            // Non-batch numbering, as gathers read it.
            let picks: Vec<Vec<usize>> = picks
                .into_iter()
                .enumerate()
                .filter(|(a, _)| *a != b)
                .map(|(_, p)| p)
                .collect();
            let out: Vec<usize> = picks.iter().map(Vec::len).collect();
            let part_name = if k == 0 {
                name.to_string()
            } else {
                self.unique_name(&format!("{name}_{k}"))
            };
            let (n, layout) = self.gather_of_input(node, &part_name, out, 0.0, move |c| {
                Some(c.iter().enumerate().map(|(a, &v)| picks[a][v]).collect())
            })?;
            self.values.insert(out_name.clone(), Value::Node(n, layout));
            self.batch_pos.insert(out_name.clone(), b);
        }
        Ok(())
    }

    /// Slice with constant starts/ends/axes/steps along non-batch axes.
    pub(in crate::frontend::onnx) fn slice(&mut self, node: &NodeProto, name: &str) -> Result<()> {
        let (s, is_data) = self.full_shape(node)?;
        let b = self.batch_of(&node.input[0]);
        let ints = |k: usize| -> Result<Option<Vec<i64>>> {
            if self.has_input(node, k) {
                Ok(Some(
                    self.constant(node, k)?
                        .data
                        .iter()
                        .map(|&v| v as i64)
                        .collect(),
                ))
            } else {
                Ok(None)
            }
        };
        let (starts, ends, axes, steps) = if self.opset < 10 {
            (
                attr_ints(node, "starts").unwrap_or_default(),
                attr_ints(node, "ends").unwrap_or_default(),
                attr_ints(node, "axes"),
                None,
            )
        } else {
            (
                ints(1)?.unwrap_or_default(),
                ints(2)?.unwrap_or_default(),
                ints(3)?,
                ints(4)?,
            )
        };
        let axes: Vec<usize> = match axes {
            Some(a) => a
                .iter()
                .map(|&x| norm_axis(x, s.len()))
                .collect::<Result<_>>()?,
            None => (0..starts.len()).collect(),
        };
        if starts.len() != axes.len()
            || ends.len() != axes.len()
            || steps.as_ref().is_some_and(|st| st.len() != axes.len())
        {
            return Err(Error::input(
                "Slice starts, ends, axes and steps differ in length",
            ));
        }
        let picks =
            crate::frontend::fold::slice_picks(&s, &starts, &ends, &axes, steps.as_deref())?;
        if let Some(a) = picks.iter().position(Vec::is_empty) {
            return Err(Error::input(format!("Slice leaves axis {a} empty")));
        }
        if !is_data {
            let t = self.constant(node, 0)?;
            self.set_output(node, Value::Const(crate::frontend::fold::take(&t, &picks)));
            return Ok(());
        }
        if axes.contains(&b) && picks[b].len() != s[b] {
            return Err(Error::input(
                "Slice along the batch dimension is not supported",
            ));
        }
        // Non-batch numbering.
        let picks: Vec<Vec<usize>> = picks
            .into_iter()
            .enumerate()
            .filter(|(a, _)| *a != b)
            .map(|(_, p)| p)
            .collect();
        let out: Vec<usize> = picks.iter().map(Vec::len).collect();
        self.gather_node(node, name, out, 0.0, move |c| {
            Some(c.iter().enumerate().map(|(a, &v)| picks[a][v]).collect())
        })
    }

    pub(in crate::frontend::onnx) fn transpose(
        &mut self,
        node: &NodeProto,
        _name: &str,
    ) -> Result<()> {
        let (s, _) = self.full_shape(node)?;
        let perm: Vec<usize> = match attr_ints(node, "perm") {
            Some(p) => p
                .iter()
                .map(|&a| norm_axis(a, s.len()))
                .collect::<Result<_>>()?,
            None => (0..s.len()).rev().collect(),
        };
        let mut sorted = perm.clone();
        sorted.sort();
        if sorted != (0..s.len()).collect::<Vec<_>>() {
            return Err(Error::input(format!(
                "perm {perm:?} is not a permutation of {} axes",
                s.len()
            )));
        }
        match self.value(node, 0)?.clone() {
            Value::Const(t) => {
                let idx = transpose_gather(&t.shape, &perm);
                let data = idx.iter().map(|&i| t.data[i]).collect();
                let shape = perm.iter().map(|&p| t.shape[p]).collect();
                self.set_output(node, Value::Const(Tensor::new(shape, data)));
            }
            Value::Node(x, layout) => {
                let b = self.batch_of(&node.input[0]);
                if perm[0] != b
                    && self.keras_bn_transposes.contains(&self.current)
                    && s.len() == 2
                    && b == 0
                {
                    // keras2onnx's [N,C] -> [C,N] around BatchNormalization: with the batch
                    // ignored the data is unchanged, and the BatchNormalization between the
                    // pair is per feature, as its authors meant.
                    self.set_output(node, Value::Node(x, layout));
                    return Ok(());
                }
                // The batch (size 1) may move: only its position and the layout change. In
                // non-batch numbering, output axis j is input axis inner[j].
                let nb = perm.iter().position(|&p| p == b).unwrap();
                let inner: Vec<usize> = perm
                    .iter()
                    .filter(|&&p| p != b)
                    .map(|&p| p - usize::from(p > b))
                    .collect();
                let new_layout: Layout = layout
                    .iter()
                    .map(|a| inner.iter().position(|q| q == a).unwrap())
                    .collect();
                self.set_output(node, Value::Node(x, new_layout));
                self.batch_pos.insert(node.output[0].clone(), nb);
            }
        }
        Ok(())
    }

    pub(in crate::frontend::onnx) fn identity(&mut self, node: &NodeProto) -> Result<()> {
        self.only_first_output_used(node)?;
        let v = self.value(node, 0)?.clone();
        self.set_output(node, v);
        Ok(())
    }

    /// Shape of a value as a constant: the design handles one sample, so the batch is 1.
    pub(in crate::frontend::onnx) fn shape_of(&mut self, node: &NodeProto) -> Result<()> {
        let (s, _) = self.full_shape(node)?;
        let r = s.len() as i64;
        let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
        let (start, end) = (
            clamp(attr_i(node, "start", 0)),
            clamp(attr_i(node, "end", r)),
        );
        let dims: Vec<f64> = s[start..end.max(start)].iter().map(|&d| d as f64).collect();
        let t = Tensor::new(vec![dims.len()], dims);
        if let Some(o) = node.output.first() {
            self.values.insert(o.clone(), Value::Const(t));
        }
        Ok(())
    }

    /// Cast: folded on constants; on data, only to float (the IR's values are numbers already).
    pub(in crate::frontend::onnx) fn cast(&mut self, node: &NodeProto) -> Result<()> {
        let to = attr_i(node, "to", 0) as i32;
        match self.value(node, 0)?.clone() {
            Value::Const(t) => {
                let t = crate::frontend::fold::cast(&t, to)?;
                self.set_output(node, Value::Const(t));
                Ok(())
            }
            // FLOAT, DOUBLE, FLOAT16, BFLOAT16: the fixed-point types decide precision anyway.
            Value::Node(..) if matches!(to, 1 | 10 | 11 | 16) => self.identity(node),
            Value::Node(..) => Err(Error::input(format!(
                "Cast of data to type {to} is not supported; only casts to float types are"
            ))),
        }
    }

    /// Less and And of constants (a tf2onnx while loop's first condition); data is refused.
    pub(in crate::frontend::onnx) fn logic(&mut self, node: &NodeProto) -> Result<()> {
        let (a, b) = (self.constant(node, 0)?, self.constant(node, 1)?);
        let f = |x: f64, y: f64| -> f64 {
            let r = match node.op_type.as_str() {
                "Less" => x < y,
                _ => x != 0.0 && y != 0.0,
            };
            r as u8 as f64
        };
        let t = match (a.len(), b.len()) {
            (1, _) => Tensor::new(
                b.shape.clone(),
                b.data.iter().map(|&y| f(a.data[0], y)).collect(),
            ),
            (_, 1) => Tensor::new(
                a.shape.clone(),
                a.data.iter().map(|&x| f(x, b.data[0])).collect(),
            ),
            _ if a.shape == b.shape => Tensor::new(
                a.shape.clone(),
                a.data.iter().zip(&b.data).map(|(&x, &y)| f(x, y)).collect(),
            ),
            _ => {
                return Err(Error::input(format!(
                    "{} of constants of shapes {:?} and {:?} is not supported; expected equal shapes or a scalar",
                    node.op_type, a.shape, b.shape
                )));
            }
        };
        self.set_output(node, Value::Const(t));
        Ok(())
    }

    /// Expand of a constant to a constant shape (a zero initial state made for any batch).
    pub(in crate::frontend::onnx) fn expand(&mut self, node: &NodeProto) -> Result<()> {
        let t = self
            .constant(node, 0)
            .map_err(|_| Error::input("Expand of data is not supported; only of constants"))?;
        let shape: Vec<i64> = self
            .constant(node, 1)?
            .data
            .iter()
            .map(|&v| v as i64)
            .collect();
        let t = crate::frontend::fold::expand(&t, &shape)?;
        self.set_output(node, Value::Const(t));
        Ok(())
    }

    pub(in crate::frontend::onnx) fn constant_node(&mut self, node: &NodeProto) -> Result<()> {
        let t = if let Some(a) = attr(node, "value") {
            let t =
                a.t.as_ref()
                    .ok_or_else(|| Error::input("Constant 'value' is not a tensor"))?;
            tensor_from_proto(t, self.dir)?
        } else if let Some(a) = attr(node, "value_float") {
            Tensor::new(vec![], vec![a.f as f64])
        } else if let Some(a) = attr(node, "value_floats") {
            Tensor::new(
                vec![a.floats.len()],
                a.floats.iter().map(|&v| v as f64).collect(),
            )
        } else if let Some(a) = attr(node, "value_int") {
            Tensor::new(vec![], vec![a.i as f64])
        } else if let Some(a) = attr(node, "value_ints") {
            Tensor::new(
                vec![a.ints.len()],
                a.ints.iter().map(|&v| v as f64).collect(),
            )
        } else {
            return Err(Error::input(
                "Constant without a supported value attribute (value, value_float(s), value_int(s))",
            ));
        };
        self.set_output(node, Value::Const(t));
        Ok(())
    }
}

/// This family's ops in the registry (`ops::OPS`).
pub(in crate::frontend::onnx) const OPS: &[Registration] = &[
    (Domain::Onnx, "Concat", |c, n, name| c.concat(n, name)),
    (Domain::Onnx, "Gather", |c, n, name| c.gather(n, name)),
    (Domain::Onnx, "Slice", |c, n, name| c.slice(n, name)),
    (Domain::Onnx, "Split", |c, n, name| c.split(n, name)),
    (Domain::Onnx, "Flatten", |c, n, name| c.flatten(n, name)),
    (Domain::Onnx, "Reshape", |c, n, name| c.reshape(n, name)),
    (Domain::Onnx, "Squeeze", |c, n, name| c.squeeze(n, name)),
    (Domain::Onnx, "Unsqueeze", |c, n, name| c.unsqueeze(n, name)),
    (Domain::Onnx, "Transpose", |c, n, name| c.transpose(n, name)),
    (Domain::Onnx, "Identity", |c, n, _| c.identity(n)),
    (Domain::Onnx, "Dropout", |c, n, _| c.identity(n)),
    (Domain::Onnx, "Constant", |c, n, _| c.constant_node(n)),
    (Domain::Onnx, "Shape", |c, n, _| c.shape_of(n)),
    (Domain::Onnx, "Cast", |c, n, _| c.cast(n)),
    (Domain::Onnx, "Expand", |c, n, _| c.expand(n)),
    (Domain::Onnx, "Less", |c, n, _| c.logic(n)),
    (Domain::Onnx, "And", |c, n, _| c.logic(n)),
];
