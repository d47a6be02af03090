//! What every backend's project records about itself in its manifest, read back (untrusted)
//! by the commands that run a project: its inputs and outputs, layers and calls per sample.

use crate::backend::MANIFEST;
use crate::error::{Error, Result};
use crate::ir::FixedType;
use std::path::Path;

/// One input or output of a generated design, as its manifest lists it.
pub struct End {
    pub name: String,
    pub shape: Vec<usize>,
    pub ty: FixedType,
}

/// What csim needs from the project's manifest.
pub struct ProjectInfo {
    pub name: String,
    pub inputs: Vec<End>,
    pub outputs: Vec<End>,
    /// Every layer but the inputs, in the design's order (empty in a manifest from before
    /// layers carried their index).
    pub layers: Vec<LayerInfo>,
    /// Calls of the design per sample (a static design's time steps).
    pub steps: usize,
}

/// A layer as the manifest records it: what its trace file holds.
#[derive(Debug, Clone)]
pub struct LayerInfo {
    pub name: String,
    /// The k of layer<k>_t, config<k> and the trace file <k>.txt.
    pub index: usize,
    /// Per call.
    pub shape: Vec<usize>,
    pub ty: FixedType,
}

impl ProjectInfo {
    pub fn input_names(&self) -> Vec<String> {
        self.inputs.iter().map(|e| e.name.clone()).collect()
    }
    pub fn input_shapes(&self) -> Vec<Vec<usize>> {
        self.inputs.iter().map(|e| e.shape.clone()).collect()
    }
    pub fn output_names(&self) -> Vec<String> {
        self.outputs.iter().map(|e| e.name.clone()).collect()
    }
    pub fn output_shapes(&self) -> Vec<Vec<usize>> {
        self.outputs.iter().map(|e| e.shape.clone()).collect()
    }
}

/// Reads a generated project's manifest.
pub fn read_info(dir: &Path) -> Result<ProjectInfo> {
    let path = dir.join(MANIFEST);
    let text = crate::confine::read_text(&path).map_err(|e| {
        Error::input(format!(
            "not an hlsrs project (cannot read {MANIFEST}: {e})"
        ))
        .in_file(dir)
    })?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::input(format!("invalid manifest: {e}")).in_file(&path))?;
    let bad = || Error::input("manifest lacks input/output facts").in_file(&path);
    // The manifest is untrusted: a shape must be one a model may have (at most 2^24 values).
    let shape = |v: &serde_json::Value| -> Option<Vec<usize>> {
        let s: Vec<usize> = v
            .as_array()?
            .iter()
            .map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok()))
            .collect::<Option<_>>()?;
        crate::ir::tensor::checked_size(&s).filter(|&n| n > 0)?;
        Some(s)
    };
    let end = |e: &serde_json::Value| -> Option<End> {
        Some(End {
            name: e["name"].as_str()?.to_string(),
            shape: shape(&e["shape"])?,
            ty: FixedType::parse(e["type"].as_str()?).ok()?,
        })
    };
    let ends = |k: &str| -> Option<Vec<End>> {
        v[k].as_array()?
            .iter()
            .map(end)
            .collect::<Option<Vec<_>>>()
            .filter(|v| !v.is_empty())
    };
    let layer = |l: &serde_json::Value| -> Option<LayerInfo> {
        Some(LayerInfo {
            name: l["name"].as_str()?.to_string(),
            index: l["index"].as_u64().and_then(|i| u32::try_from(i).ok())? as usize,
            shape: shape(&l["shape"])?,
            ty: FixedType::parse(l["types"]["result"].as_str()?).ok()?,
        })
    };
    // The design's name names its sources (g++ compiles tb/<name>_test.cpp): a C identifier.
    let name = v["name"].as_str().ok_or_else(bad)?;
    if crate::ir::names::c_identifier(name) != name {
        return Err(Error::input(format!(
            "manifest names the design {name:?}, which is not a C identifier as hlsrs writes it"
        ))
        .in_file(&path));
    }
    let steps = v["steps"].as_u64().unwrap_or(1).max(1);
    if steps > crate::ir::tensor::MAX_VALUES as u64 {
        return Err(Error::input(format!(
            "manifest \"steps\" {steps} is not a sequence length"
        ))
        .in_file(&path));
    }
    Ok(ProjectInfo {
        name: name.to_string(),
        inputs: ends("inputs").ok_or_else(bad)?,
        outputs: ends("outputs").ok_or_else(bad)?,
        layers: v["layers"]
            .as_array()
            .map(|ls| ls.iter().map(layer).collect::<Option<Vec<_>>>())
            .unwrap_or_default()
            .unwrap_or_default(),
        steps: steps as usize,
    })
}

impl ProjectInfo {
    /// Values of every output, in order (all calls of a sample).
    pub fn output_count(&self) -> usize {
        self.outputs
            .iter()
            .map(|e| e.shape.iter().product::<usize>())
            .sum()
    }

    /// Each sample's input bits, each value quantized into its input's type (inputs one after
    /// another in a row); samples of the wrong width are an error naming the design's inputs.
    pub fn input_bits(&self, input: &crate::arrays::Array) -> Result<Vec<Vec<i128>>> {
        let want: usize = self
            .inputs
            .iter()
            .map(|e| e.shape.iter().product::<usize>())
            .sum();
        if input.row_len() != want {
            return Err(Error::input(format!(
                "samples have {} values; the design's inputs have {want} (shapes {:?})",
                input.row_len(),
                self.input_shapes()
            )));
        }
        let types: Vec<FixedType> = self
            .inputs
            .iter()
            .flat_map(|e| std::iter::repeat_n(e.ty, e.shape.iter().product()))
            .collect();
        (0..input.rows())
            .map(|r| {
                input
                    .row(r)
                    .iter()
                    .zip(&types)
                    .map(|(&v, t)| t.quantize_f64(v))
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|e| Error::input(format!("sample {r}: {e}")))
            })
            .collect()
    }

    /// Output bits (a row per sample, every output in order) as the exact values of their
    /// types: one output keeps its shape; several are one row of all of them.
    pub fn output_array(&self, bits: &[Vec<i128>]) -> crate::arrays::Array {
        let types: Vec<FixedType> = self
            .outputs
            .iter()
            .flat_map(|e| std::iter::repeat_n(e.ty, e.shape.iter().product()))
            .collect();
        let rows: Vec<Vec<f64>> = bits
            .iter()
            .map(|r| r.iter().zip(&types).map(|(&b, t)| t.to_f64(b)).collect())
            .collect();
        let shape = match &self.outputs[..] {
            [one] => one.shape.clone(),
            _ => vec![types.len()],
        };
        crate::arrays::Array::from_rows(&shape, &rows)
    }
}

/// The backend that wrote a project ("vitis" when its manifest names none), None without a
/// readable manifest.
pub fn backend_of(dir: &Path) -> Option<String> {
    let text = crate::confine::read_text(&dir.join(MANIFEST)).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some(v["backend"].as_str().unwrap_or("vitis").to_string())
}

/// The testbench's output: one line per sample of `n` integer bit patterns. Anything else (a
/// value that does not parse, a short line, a missing sample) is an error naming the line.
pub fn parse_output_bits(text: &str, samples: usize, n: usize) -> Result<Vec<Vec<i128>>> {
    let bits: Vec<Vec<i128>> = text
        .lines()
        .enumerate()
        .map(|(k, l)| {
            let row: Vec<i128> = l
                .split_whitespace()
                .map(|v| {
                    v.parse::<i128>().map_err(|_| {
                        Error::internal(format!(
                            "simulation output line {}: '{v}' is not an integer bit pattern",
                            k + 1
                        ))
                    })
                })
                .collect::<Result<_>>()?;
            if row.len() != n {
                return Err(Error::internal(format!(
                    "simulation output line {} holds {} values; expected {n}",
                    k + 1,
                    row.len()
                )));
            }
            Ok(row)
        })
        .collect::<Result<_>>()?;
    if bits.len() != samples {
        return Err(Error::internal(format!(
            "the simulation wrote {} output lines for {samples} samples",
            bits.len()
        )));
    }
    Ok(bits)
}

#[cfg(test)]
mod tests {
    use super::parse_output_bits;

    #[test]
    fn output_bits_parse_strictly() {
        assert_eq!(
            parse_output_bits("1 -2\n3 4\n", 2, 2).unwrap(),
            vec![vec![1, -2], vec![3, 4]]
        );
        let err = |text: &str| parse_output_bits(text, 2, 2).unwrap_err().to_string();
        assert!(err("1 -2\n3 x4\n").contains("line 2: 'x4' is not an integer bit pattern"));
        assert!(err("1 -2\n3\n").contains("line 2 holds 1 values; expected 2"));
        assert!(err("1 -2\n").contains("wrote 1 output lines for 2 samples"));
    }
}
