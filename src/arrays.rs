//! Sample arrays in and out: `.npy` (float32/float64, C order, shape [N, ...]), `.csv` (one
//! sample a row, flattened) and `.npz` (one `.npy` per model input or output, keyed by name).

use crate::error::{Error, Result};
use crate::ir::Model;
use std::path::Path;

/// A batch of samples: `shape[0]` is the sample count.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

impl Array {
    /// Number of samples.
    pub fn rows(&self) -> usize {
        self.shape.first().copied().unwrap_or(0)
    }
    /// Values per sample.
    pub fn row_len(&self) -> usize {
        self.shape.iter().skip(1).product()
    }
    pub fn row(&self, i: usize) -> &[f64] {
        let n = self.row_len();
        &self.data[i * n..(i + 1) * n]
    }
    /// Builds `[rows, sample_shape...]` from rows.
    pub fn from_rows(sample_shape: &[usize], rows: &[Vec<f64>]) -> Array {
        let mut shape = vec![rows.len()];
        shape.extend_from_slice(sample_shape);
        Array {
            shape,
            data: rows.iter().flatten().copied().collect(),
        }
    }
}

fn is_csv(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

fn is_npz(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npz"))
}

/// Reads a model's samples as rows of all its inputs one after another (the form the emulator
/// and the testbench take): a `.npz` with one array per input, keyed by the input's name (any
/// model), or a `.npy` / `.csv` for a model with one input.
pub fn read_model_inputs(path: &Path, model: &Model) -> Result<Array> {
    let names: Vec<String> = model
        .inputs
        .iter()
        .map(|&i| model.node(i).name.clone())
        .collect();
    read_inputs(path, &names, &model.sample_input_shapes())
}

/// [`read_model_inputs`] for inputs given by name and per-sample shape.
pub fn read_inputs(path: &Path, names: &[String], shapes: &[Vec<usize>]) -> Result<Array> {
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    if !is_npz(path) {
        if let [shape] = shapes {
            return read_samples(path, shape);
        }
        return Err(Error::input(format!(
            "the model has {} inputs ({}); expected a .npz with one array per input, keyed by name \
             (numpy: np.savez(path, {}))",
            names.len(),
            names.join(", "),
            names
                .iter()
                .map(|n| format!("{n}=..."))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .in_file(path));
    }
    let mut members = read_npz(path)?;
    if let Some(extra) = members.keys().find(|k| !names.contains(&k.as_str())) {
        return Err(Error::input(format!(
            "array '{extra}' is not an input of the model; its inputs are: {}",
            names.join(", ")
        ))
        .in_file(path));
    }
    let mut parts = Vec::new();
    for (name, shape) in names.iter().zip(shapes) {
        let a = members.remove(*name).ok_or_else(|| {
            Error::input(format!(
                "no array for input '{name}'; expected one per input: {}",
                names.join(", ")
            ))
            .in_file(path)
        })?;
        parts.push(
            check_shape(a, shape).map_err(|e| {
                Error::input(format!("input '{name}': {}", e.message())).in_file(path)
            })?,
        );
    }
    let rows = parts[0].rows();
    if let Some((name, a)) = names.iter().zip(&parts).find(|(_, a)| a.rows() != rows) {
        return Err(Error::input(format!(
            "input '{name}' has {} samples, input '{}' has {rows}; expected the same count",
            a.rows(),
            names[0]
        ))
        .in_file(path));
    }
    let joined: Vec<Vec<f64>> = (0..rows)
        .map(|r| {
            parts
                .iter()
                .flat_map(|a| a.row(r).iter().copied())
                .collect()
        })
        .collect();
    let size = shapes.iter().map(|s| s.iter().product::<usize>()).sum();
    Ok(Array::from_rows(&[size], &joined))
}

/// Writes a model's outputs (rows of all outputs one after another): a `.npz` keyed by output
/// name when the model has several outputs or the path ends in `.npz`, else `.npy` / `.csv`.
pub fn write_model_outputs(path: &Path, model: &Model, y: &Array) -> Result<()> {
    let names: Vec<String> = model.outputs.iter().map(|o| o.name.clone()).collect();
    write_outputs(path, &names, &model.sample_output_shapes(), y)
}

/// [`write_model_outputs`] for outputs given by name and per-sample shape.
pub fn write_outputs(
    path: &Path,
    names: &[String],
    shapes: &[Vec<usize>],
    y: &Array,
) -> Result<()> {
    if shapes.len() == 1 && !is_npz(path) {
        return write(path, &Array::from_rows(&shapes[0], &rows_of(y)));
    }
    if !is_npz(path) {
        return Err(Error::input(format!(
            "the model has {} outputs; expected an output path ending in .npz (one array per output)",
            shapes.len()
        ))
        .in_file(path));
    }
    let mut members = Vec::new();
    let mut at = 0;
    for (name, shape) in names.iter().zip(shapes) {
        let n: usize = shape.iter().product();
        let rows: Vec<Vec<f64>> = (0..y.rows())
            .map(|r| y.row(r)[at..at + n].to_vec())
            .collect();
        members.push((name.clone(), npy_bytes(&Array::from_rows(shape, &rows))));
        at += n;
    }
    write_npz(path, &members)
}

/// Every value is a number (not NaN or infinite): the error names the sample, the input (of
/// `names`, each holding its `shapes`' values, one after another) and the value's place in it.
pub fn check_finite(a: &Array, names: &[String], shapes: &[Vec<usize>]) -> Result<()> {
    let n = a.row_len().max(1);
    let Some(at) = a.data.iter().position(|v| !v.is_finite()) else {
        return Ok(());
    };
    let (row, mut k) = (at / n, at % n);
    for (name, shape) in names.iter().zip(shapes) {
        let size: usize = shape.iter().product();
        if k < size {
            return Err(Error::input(format!(
                "sample {row}, input '{name}', value {k}: {} is not a number a fixed-point design can take",
                a.data[at]
            )));
        }
        k -= size;
    }
    Err(Error::input(format!(
        "sample {row}, value {k}: {} is not a number a fixed-point design can take",
        a.data[at]
    )))
}

/// The samples (rows) of an array, each as its own vector.
pub fn rows_of(a: &Array) -> Vec<Vec<f64>> {
    (0..a.rows()).map(|r| a.row(r).to_vec()).collect()
}

/// The members of a `.npz`, by name (without `.npy`).
pub fn read_npz(path: &Path) -> Result<std::collections::BTreeMap<String, Array>> {
    Ok(read_npz_in_order(path)?.into_iter().collect())
}

/// The members of a `.npz` in the archive's order (a trace's: the design's layer order).
pub fn read_npz_in_order(path: &Path) -> Result<Vec<(String, Array)>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, "read the archive", e))?;
    let bad = |e: String| {
        Error::input(format!("not a valid .npz (zip of .npy files): {e}")).in_file(path)
    };
    let mut zip = zip::ZipArchive::new(file).map_err(|e| bad(e.to_string()))?;
    let mut out = Vec::new();
    for k in 0..zip.len() {
        let mut member = zip.by_index(k).map_err(|e| bad(e.to_string()))?;
        let name = member.name().map_err(|e| bad(e.to_string()))?.to_string();
        let key = name.strip_suffix(".npy").unwrap_or(&name).to_string();
        let a = read_npy(&mut member)
            .map_err(|e| Error::input(format!("array '{key}': {}", e.message())).in_file(path))?;
        out.push((key, a));
    }
    Ok(out)
}

/// Writes a `.npz` (members stored, as np.savez does): (name without `.npy`, npy bytes).
pub fn write_npz(path: &Path, members: &[(String, Vec<u8>)]) -> Result<()> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, bytes) in members {
            zip.start_file(format!("{name}.npy"), opts)
                .and_then(|_| std::io::Write::write_all(&mut zip, bytes).map_err(Into::into))
                .map_err(|e| Error::internal(format!("writing .npz member {name}: {e}")))?;
        }
        zip.finish()
            .map_err(|e| Error::internal(format!("writing .npz: {e}")))?;
    }
    std::fs::write(path, buf.into_inner()).map_err(|e| Error::io(path, "write the archive", e))
}

/// Reads samples and checks each holds `sample_shape` (CSV rows are reshaped to it).
pub fn read_samples(path: &Path, sample_shape: &[usize]) -> Result<Array> {
    let a = read(path)?;
    if is_csv(path) {
        let want: usize = sample_shape.iter().product();
        if a.row_len() != want {
            return Err(Error::input(format!(
                "rows have {} values; the model expects {want} per sample (shape {:?})",
                a.row_len(),
                sample_shape
            ))
            .in_file(path));
        }
        return Ok(Array::from_rows(
            sample_shape,
            &(0..a.rows()).map(|i| a.row(i).to_vec()).collect::<Vec<_>>(),
        ));
    }
    check_shape(a, sample_shape).map_err(|e| e.in_file(path))
}

/// Checks an array holds samples of `sample_shape`.
fn check_shape(a: Array, sample_shape: &[usize]) -> Result<Array> {
    let want: usize = sample_shape.iter().product();
    let got = &a.shape[1.min(a.shape.len())..];
    if got != sample_shape
        && !(a.shape.len() == 2 && a.row_len() == want && sample_shape.len() == 1)
    {
        return Err(Error::input(format!(
            "array shape {:?} does not match the model: expected [N, {}]",
            a.shape,
            sample_shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(a)
}

/// Reads a `.npy` or `.csv` file.
pub fn read(path: &Path) -> Result<Array> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, "read the array", e))?;
    if is_csv(path) {
        parse_csv(&bytes).map_err(|e| e.in_file(path))
    } else {
        parse_npy(&bytes).map_err(|e| e.in_file(path))
    }
}

fn parse_csv(bytes: &[u8]) -> Result<Array> {
    let text = std::str::from_utf8(bytes).map_err(|_| Error::input("CSV is not UTF-8"))?;
    let mut rows = Vec::new();
    for (ln, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let row: Vec<f64> = line
            .split([',', ' ', '\t'])
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<f64>()
                    .map_err(|_| Error::input(format!("line {}: '{s}' is not a number", ln + 1)))
            })
            .collect::<Result<_>>()?;
        if let Some(first) = rows.first().map(|r: &Vec<f64>| r.len())
            && row.len() != first
        {
            return Err(Error::input(format!(
                "line {}: {} values, previous rows have {first}",
                ln + 1,
                row.len()
            )));
        }
        rows.push(row);
    }
    let n = rows.first().map(Vec::len).unwrap_or(0);
    Ok(Array::from_rows(&[n], &rows))
}

/// The most values one `.npy` (or `.npz` member) may declare: 2 GiB as float64, beyond any
/// sample set or trace hlsrs writes, so a corrupt or hostile header is an error before anything
/// is allocated or inflated.
pub const MAX_ARRAY_VALUES: usize = 1 << 28;

/// The longest `.npy` header taken (numpy writes under 1 kB).
const MAX_NPY_HEADER: usize = 1 << 16;

fn bad_npy(why: &str) -> Error {
    Error::input(format!("not a valid .npy file: {why}"))
}

/// Where a `.npy` header ends, from its first 12 bytes (or fewer, for a short file).
fn npy_header_end(prefix: &[u8]) -> Result<usize> {
    if prefix.len() < 10 || &prefix[..6] != b"\x93NUMPY" {
        return Err(bad_npy("missing magic"));
    }
    let (hlen, start) = match prefix[6] {
        1 => (u16::from_le_bytes([prefix[8], prefix[9]]) as usize, 10),
        2 | 3 if prefix.len() >= 12 => (
            u32::from_le_bytes([prefix[8], prefix[9], prefix[10], prefix[11]]) as usize,
            12,
        ),
        _ => return Err(bad_npy("unknown version")),
    };
    if hlen > MAX_NPY_HEADER {
        return Err(bad_npy(&format!(
            "a header of {hlen} bytes (numpy writes a few hundred)"
        )));
    }
    Ok(start + hlen)
}

/// A `.npy` file's shape and bytes per value, from its bytes up to the header's end.
fn npy_header(bytes: &[u8]) -> Result<(Vec<usize>, usize)> {
    let end = npy_header_end(bytes)?;
    let start = if bytes[6] == 1 { 10 } else { 12 };
    let header = bytes
        .get(start..end)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or_else(|| bad_npy("truncated header"))?;
    let field = |key: &str| -> Option<&str> {
        let at = header.find(&format!("'{key}'"))?;
        let rest = header[at + key.len() + 2..]
            .trim_start()
            .strip_prefix(':')?;
        Some(rest.trim_start())
    };
    let descr = field("descr").ok_or_else(|| bad_npy("no descr"))?;
    let descr = descr
        .strip_prefix(['\'', '"'])
        .and_then(|d| d.split(['\'', '"']).next())
        .ok_or_else(|| bad_npy("descr is not a quoted dtype"))?;
    let size = match descr {
        "<f4" => 4,
        "<f8" => 8,
        _ => {
            return Err(Error::input(format!(
                "array dtype {descr:?} is not supported; expected float32 or float64 (little-endian)"
            )));
        }
    };
    if field("fortran_order").is_some_and(|v| v.starts_with("True")) {
        return Err(Error::input(
            "Fortran-ordered arrays are not supported; expected C order",
        ));
    }
    let shape_s = field("shape").ok_or_else(|| bad_npy("no shape"))?;
    let inner = shape_s
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| bad_npy("bad shape"))?;
    let shape: Vec<usize> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|_| bad_npy("bad shape")))
        .collect::<Result<_>>()?;
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= MAX_ARRAY_VALUES)
        .ok_or_else(|| {
            Error::input(format!(
                "array shape {shape:?} holds more than {MAX_ARRAY_VALUES} values"
            ))
        })?;
    Ok((shape, size))
}

/// The values of an array of `shape` from its data bytes (at least as many as it needs).
fn npy_values(shape: Vec<usize>, size: usize, body: &[u8]) -> Result<Array> {
    let n: usize = shape.iter().product();
    if body.len() < n * size {
        return Err(bad_npy("truncated data"));
    }
    let data = body[..n * size]
        .chunks_exact(size)
        .map(|c| {
            if size == 4 {
                f32::from_le_bytes(c.try_into().unwrap()) as f64
            } else {
                f64::from_le_bytes(c.try_into().unwrap())
            }
        })
        .collect();
    Ok(Array { shape, data })
}

/// A `.npy` file's array from its bytes.
pub fn parse_npy(bytes: &[u8]) -> Result<Array> {
    let (shape, size) = npy_header(bytes)?;
    let end = npy_header_end(bytes)?;
    npy_values(shape, size, &bytes[end..])
}

/// A `.npy` from a stream (an `.npz` member being inflated): the header first, then only the
/// bytes it declares, so a member that inflates past its shape is never read whole.
fn read_npy(r: &mut impl std::io::Read) -> Result<Array> {
    use std::io::Read;
    let io = |e: std::io::Error| bad_npy(&e.to_string());
    let mut bytes = Vec::new();
    r.by_ref().take(12).read_to_end(&mut bytes).map_err(io)?;
    let end = npy_header_end(&bytes)?;
    r.by_ref()
        .take((end - bytes.len().min(end)) as u64)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    let (shape, size) = npy_header(&bytes)?;
    let want = shape.iter().product::<usize>() * size;
    let mut body = Vec::with_capacity(want);
    // The first bytes read may already hold data (a header shorter than 12 bytes).
    body.extend_from_slice(bytes.get(end..).unwrap_or(&[]));
    r.take((want - body.len().min(want)) as u64)
        .read_to_end(&mut body)
        .map_err(io)?;
    npy_values(shape, size, &body)
}

/// Writes `.npy` (float64) or `.csv`.
pub fn write(path: &Path, a: &Array) -> Result<()> {
    let bytes = if is_csv(path) {
        let n = a.row_len();
        let mut s = String::new();
        for r in 0..a.rows() {
            let row: Vec<String> = a.data[r * n..(r + 1) * n]
                .iter()
                .map(|v| format!("{v}"))
                .collect();
            s.push_str(&row.join(","));
            s.push('\n');
        }
        s.into_bytes()
    } else {
        npy_bytes(a)
    };
    std::fs::write(path, bytes).map_err(|e| Error::io(path, "write the array", e))
}

/// `.npy` version 1.0, float64, C order.
pub fn npy_bytes(a: &Array) -> Vec<u8> {
    let dims: Vec<String> = a.shape.iter().map(|d| d.to_string()).collect();
    let shape = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in &a.data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_round_trip() {
        let a = Array {
            shape: vec![2, 3],
            data: vec![1.0, -2.5, 3.0, 0.125, 5.0, 6.0],
        };
        assert_eq!(parse_npy(&npy_bytes(&a)).unwrap(), a);
    }

    #[test]
    fn hostile_npy_headers_are_errors() {
        let with_header = |h: &str| {
            let mut b = b"\x93NUMPY\x01\x00".to_vec();
            b.extend_from_slice(&(h.len() as u16).to_le_bytes());
            b.extend_from_slice(h.as_bytes());
            b.extend_from_slice(&[0; 64]);
            b
        };
        for (header, says) in [
            (
                "{'descr': '', 'fortran_order': False, 'shape': (2,), }",
                "dtype",
            ),
            (
                "{'descr': , 'fortran_order': False, 'shape': (2,), }",
                "quoted dtype",
            ),
            ("{'descr': '\u{e9}\u{e9}', 'shape': (2,), }", "dtype"),
            ("{'descr':", "quoted dtype"),
            (
                "{'descr': '<f8', 'shape': (4294967296, 4294967296, 4), }",
                "more than",
            ),
            (
                "{'descr': '<f8', 'shape': (18446744073709551615, 2), }",
                "more than",
            ),
            ("{'descr': '<f8', 'shape': (100,), }", "truncated"),
        ] {
            let bytes = with_header(header);
            for e in [
                parse_npy(&bytes).unwrap_err(),
                read_npy(&mut &bytes[..]).unwrap_err(),
            ] {
                assert!(
                    e.is_user_error() && e.to_string().contains(says),
                    "{header}: {e}"
                );
            }
        }
        let a = Array {
            shape: vec![3],
            data: vec![1.0, 2.0, 3.0],
        };
        let mut long = npy_bytes(&a);
        long.extend_from_slice(&[7; 1000]);
        // Only the declared values are read; what follows is left unread.
        assert_eq!(read_npy(&mut &long[..]).unwrap(), a);
    }

    #[test]
    fn csv_rows() {
        let a = parse_csv(b"1,2,3\n4, 5, 6\n").unwrap();
        assert_eq!(a.shape, vec![2, 3]);
        assert!(parse_csv(b"1,2\n3\n").is_err());
    }
}
