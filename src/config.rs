//! Configuration: model-wide settings and per-layer overrides, from a TOML file and command-line
//! flags (flags win). Every key is checked; an unknown key is an error naming the nearest valid one.

use crate::error::{Error, Result};
use crate::ir::{FixedType, Strategy};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// How layers exchange data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IoType {
    /// Arrays, fully partitioned into registers.
    Parallel,
    /// hls::stream FIFOs of pixels between DATAFLOW processes; line buffers for windows.
    Stream,
}

/// Per-layer overrides, keyed by node name in `[layers.<name>]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LayerConfig {
    /// Sets result, weight and bias at once (the specific keys win).
    pub precision: Option<FixedType>,
    pub result: Option<FixedType>,
    pub weight: Option<FixedType>,
    pub bias: Option<FixedType>,
    pub accum: Option<FixedType>,
    pub reuse: Option<usize>,
    pub strategy: Option<Strategy>,
    pub table_size: Option<usize>,
    pub table: Option<FixedType>,
    /// Recurrent layers: hidden and cell state type (defaults to the result type).
    pub state: Option<FixedType>,
    /// Recurrent layers: reuse factor of the recurrent product (defaults to `reuse`).
    pub recurrent_reuse: Option<usize>,
    /// Recurrent layers: one time step per call, state kept between calls (`static = true`).
    #[serde(rename = "static")]
    pub static_state: Option<bool>,
    /// Dense and conv layers: the fraction of weights (smallest magnitude) set to zero.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sparsity: Option<f64>,
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    pub name: Option<String>,
    pub part: String,
    /// Clock period in ns.
    pub clock: f64,
    pub precision: FixedType,
    /// Accumulator type of every dense layer; None derives one wide enough to be exact.
    pub accum: Option<FixedType>,
    pub reuse: usize,
    pub strategy: Strategy,
    pub io: IoType,
    pub table_size: usize,
    pub table_precision: FixedType,
    /// Every recurrent layer static (one time step per call) unless its layer table says otherwise.
    #[serde(rename = "static")]
    pub static_state: bool,
    /// `magnitude:S`: the fraction S of all dense and conv weights with the smallest magnitude
    /// (one threshold for the model) set to zero; layers with their own `sparsity` use that.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "prune_text")]
    pub prune: Option<f64>,
    pub layers: BTreeMap<String, LayerConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            name: None,
            part: "xcvu9p".into(),
            clock: 5.0,
            precision: FixedType::fixed(16, 6),
            accum: None,
            reuse: 1,
            strategy: Strategy::Latency,
            io: IoType::Parallel,
            table_size: 1024,
            table_precision: FixedType::fixed(18, 2),
            static_state: false,
            prune: None,
            layers: BTreeMap::new(),
        }
    }
}

/// Model-wide keys of the config file.
pub const MODEL_KEYS: &[&str] = &[
    "name",
    "part",
    "clock",
    "precision",
    "accum",
    "reuse",
    "strategy",
    "io",
    "table_size",
    "table_precision",
    "static",
    "prune",
    "layers",
];
/// Keys of a `[layers.<name>]` table.
pub const LAYER_KEYS: &[&str] = &[
    "precision",
    "result",
    "weight",
    "bias",
    "accum",
    "reuse",
    "strategy",
    "table_size",
    "table",
    "state",
    "recurrent_reuse",
    "static",
    "sparsity",
];

/// Edit distance, for "did you mean" suggestions.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The candidate closest to `word`.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .min_by_key(|c| (edit_distance(word, c), *c))
}

fn unknown_key(key: &str, section: &str, valid: &[&str]) -> Error {
    Error::input(format!(
        "unknown key '{key}' in {section}; did you mean '{}'? (valid keys: {})",
        nearest(key, valid.iter().copied()).unwrap_or(""),
        valid.join(", ")
    ))
}

fn parse_type(v: &toml::Value, key: &str) -> Result<FixedType> {
    let s = v.as_str().ok_or_else(|| {
        Error::input(format!(
            "'{key}' must be a string such as \"ap_fixed<16,6>\""
        ))
    })?;
    FixedType::parse(s).map_err(|e| Error::input(format!("'{key}': {e}")))
}

fn parse_usize(v: &toml::Value, key: &str) -> Result<usize> {
    v.as_integer()
        .filter(|&i| i >= 1)
        .map(|i| i as usize)
        .ok_or_else(|| Error::input(format!("'{key}' must be a positive integer")))
}

pub fn parse_strategy(s: &str) -> Result<Strategy> {
    Strategy::parse(s)
        .ok_or_else(|| Error::input(format!("strategy '{s}' is not one of: latency, resource")))
}

pub fn parse_io(s: &str) -> Result<IoType> {
    match s {
        "parallel" | "io_parallel" => Ok(IoType::Parallel),
        "stream" | "io_stream" => Ok(IoType::Stream),
        _ => Err(Error::input(format!(
            "io '{s}' is not one of: parallel, stream"
        ))),
    }
}

/// `magnitude:S` with 0 <= S < 1.
pub fn parse_prune(s: &str) -> Result<f64> {
    let bad = || {
        Error::input(format!(
            "prune '{s}': expected magnitude:S with S the fraction of weights to zero, e.g. magnitude:0.7"
        ))
    };
    let (kind, frac) = s.split_once(':').ok_or_else(bad)?;
    if kind != "magnitude" {
        return Err(bad());
    }
    check_sparsity(frac.trim().parse().map_err(|_| bad())?)
}

fn check_sparsity(f: f64) -> Result<f64> {
    if (0.0..1.0).contains(&f) {
        Ok(f)
    } else {
        Err(Error::input(format!(
            "sparsity {f} must be at least 0 and below 1"
        )))
    }
}

fn prune_text<S: serde::Serializer>(p: &Option<f64>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match p {
        Some(f) => s.serialize_str(&format!("magnitude:{f}")),
        None => s.serialize_none(),
    }
}

fn parse_bool(v: &toml::Value, key: &str) -> Result<bool> {
    v.as_bool()
        .ok_or_else(|| Error::input(format!("'{key}' must be true or false")))
}

fn parse_str<'v>(v: &'v toml::Value, key: &str) -> Result<&'v str> {
    v.as_str()
        .ok_or_else(|| Error::input(format!("'{key}' must be a string")))
}

impl Config {
    /// Reads a TOML config file.
    pub fn from_file(path: &Path) -> Result<Config> {
        let text =
            std::fs::read_to_string(path).map_err(|e| Error::io(path, "read the config", e))?;
        Config::from_toml(&text).map_err(|e| e.in_file(path))
    }

    pub fn from_toml(text: &str) -> Result<Config> {
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| Error::input(format!("invalid TOML: {}", e.message())))?;
        let mut c = Config::default();
        for (key, v) in &table {
            match key.as_str() {
                "name" => c.name = Some(parse_str(v, key)?.to_string()),
                "part" => c.part = parse_str(v, key)?.to_string(),
                "clock" => {
                    c.clock = v
                        .as_float()
                        .or_else(|| v.as_integer().map(|i| i as f64))
                        .filter(|&f| f > 0.0)
                        .ok_or_else(|| Error::input("'clock' must be a positive number of ns"))?
                }
                "precision" => c.precision = parse_type(v, key)?,
                "accum" => {
                    c.accum = match v.as_str() {
                        Some("auto") => None,
                        _ => Some(parse_type(v, key)?),
                    }
                }
                "reuse" => c.reuse = parse_usize(v, key)?,
                "strategy" => c.strategy = parse_strategy(parse_str(v, key)?)?,
                "io" => c.io = parse_io(parse_str(v, key)?)?,
                "table_size" => c.table_size = parse_table_size(parse_usize(v, key)?)?,
                "table_precision" => c.table_precision = parse_type(v, key)?,
                "static" => c.static_state = parse_bool(v, key)?,
                "prune" => c.prune = Some(parse_prune(parse_str(v, key)?)?),
                "layers" => {
                    let layers = v.as_table().ok_or_else(|| {
                        Error::input("'layers' must be a table of [layers.<name>]")
                    })?;
                    for (name, lv) in layers {
                        let lt = lv.as_table().ok_or_else(|| {
                            Error::input(format!("[layers.{name}] must be a table"))
                        })?;
                        c.layers.insert(name.clone(), parse_layer(name, lt)?);
                    }
                }
                _ => return Err(unknown_key(key, "the model settings", MODEL_KEYS)),
            }
        }
        Ok(c)
    }
}

pub fn parse_table_size(n: usize) -> Result<usize> {
    if !n.is_power_of_two() || !(16..=65536).contains(&n) {
        return Err(Error::input(format!(
            "table size {n} must be a power of two between 16 and 65536"
        )));
    }
    Ok(n)
}

fn parse_layer(name: &str, t: &toml::Table) -> Result<LayerConfig> {
    let mut l = LayerConfig::default();
    let section = format!("[layers.{name}]");
    for (key, v) in t {
        let ctx = |e: Error| match e {
            Error::Input { message, .. } => Error::input(format!("{section}: {message}")),
            e => e,
        };
        match key.as_str() {
            "precision" => l.precision = Some(parse_type(v, key).map_err(ctx)?),
            "result" => l.result = Some(parse_type(v, key).map_err(ctx)?),
            "weight" => l.weight = Some(parse_type(v, key).map_err(ctx)?),
            "bias" => l.bias = Some(parse_type(v, key).map_err(ctx)?),
            "accum" => l.accum = Some(parse_type(v, key).map_err(ctx)?),
            "reuse" => l.reuse = Some(parse_usize(v, key).map_err(ctx)?),
            "strategy" => {
                l.strategy = Some(parse_strategy(parse_str(v, key).map_err(ctx)?).map_err(ctx)?)
            }
            "table_size" => {
                l.table_size =
                    Some(parse_table_size(parse_usize(v, key).map_err(ctx)?).map_err(ctx)?)
            }
            "table" => l.table = Some(parse_type(v, key).map_err(ctx)?),
            "state" => l.state = Some(parse_type(v, key).map_err(ctx)?),
            "recurrent_reuse" => l.recurrent_reuse = Some(parse_usize(v, key).map_err(ctx)?),
            "static" => l.static_state = Some(parse_bool(v, key).map_err(ctx)?),
            "sparsity" => {
                let f = v
                    .as_float()
                    .or_else(|| v.as_integer().map(|i| i as f64))
                    .ok_or_else(|| ctx(Error::input("'sparsity' must be a number")))?;
                l.sparsity = Some(check_sparsity(f).map_err(ctx)?);
            }
            _ => return Err(unknown_key(key, &section, LAYER_KEYS)),
        }
    }
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_model_and_layer_keys() {
        let c = Config::from_toml(
            "precision = \"ap_fixed<12,4>\"\nreuse = 4\n[layers.fc1]\nresult = \"ap_fixed<8,3,AP_RND,AP_SAT>\"\nstrategy = \"resource\"\n",
        )
        .unwrap();
        assert_eq!(c.precision, FixedType::fixed(12, 4));
        assert_eq!(c.reuse, 4);
        assert_eq!(c.layers["fc1"].strategy, Some(Strategy::Resource));
    }

    #[test]
    fn unknown_key_suggests_nearest() {
        let e = Config::from_toml("reuse_factor = 2")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown key 'reuse_factor'") && e.contains("did you mean 'reuse'"),
            "{e}"
        );
        let e = Config::from_toml("[layers.fc1]\nacum = \"ap_fixed<8,3>\"")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("[layers.fc1]") && e.contains("did you mean 'accum'"),
            "{e}"
        );
    }
}
