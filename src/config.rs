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

/// What `compile` writes: a Vitis HLS C++ project, or a Verilog one (RTL simulated with
/// Verilator and synthesized with yosys here).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    #[default]
    Vitis,
    Verilog,
}

pub fn parse_backend(s: &str) -> Result<Backend> {
    match s {
        "vitis" | "vitis_hls" => Ok(Backend::Vitis),
        "verilog" => Ok(Backend::Verilog),
        _ => Err(Error::input(format!(
            "backend '{s}' is not one of: vitis, verilog"
        ))),
    }
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
    /// io_parallel conv and pooling layers: output positions computed at once (a divisor of the
    /// layer's output positions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallelization: Option<usize>,
    /// Recurrent layers: unroll every time step (latency kernels only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unroll_steps: Option<bool>,
    /// Verilog backend: a register stage after every this many adder levels of the layer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline_levels: Option<usize>,
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    pub name: Option<String>,
    pub part: String,
    /// Clock period in ns.
    pub clock: f64,
    /// Clock uncertainty, percent of the period: the margin Vitis keeps out of each cycle when
    /// it schedules. 27 is Vitis HLS's own default and hls4ml's Vitis backend's, the setting
    /// of the real results the estimator is calibrated on (hls4ml's Vivado backend uses 12.5).
    pub clock_uncertainty: f64,
    pub precision: FixedType,
    /// Accumulator type of every dense layer; None derives one wide enough to be exact.
    pub accum: Option<FixedType>,
    pub reuse: usize,
    pub strategy: Strategy,
    /// Output positions computed at once by every io_parallel conv and pooling layer (each takes
    /// the largest divisor of its positions not above it). None: convolutions 1 (one shared
    /// kernel, as hls4ml's default), pooling every position (cheap comparisons, as hls4ml).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallelization: Option<usize>,
    pub io: IoType,
    /// The project `compile` writes.
    #[serde(skip_serializing_if = "is_vitis")]
    pub backend: Backend,
    pub table_size: usize,
    pub table_precision: FixedType,
    /// Every recurrent layer static (one time step per call) unless its layer table says otherwise.
    #[serde(rename = "static")]
    pub static_state: bool,
    /// Every recurrent layer's time steps unrolled unless its layer table says otherwise.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unroll_steps: bool,
    /// Verilog backend: a register stage after every this many adder levels within each layer
    /// (None: each layer one combinational stage, its outputs registered). Static recurrent
    /// layers keep their step in one cycle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline_levels: Option<usize>,
    /// `auto`: types chosen by interval analysis from `input_range` (see passes::quantize_auto).
    #[serde(skip_serializing_if = "Quantize::is_off")]
    pub quantize: Quantize,
    /// Calibration inputs (.npy or .csv): with `quantize = "auto"`, result types from the ranges
    /// observed on them instead of interval analysis.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calib: Option<std::path::PathBuf>,
    /// `quantize = "search"` on a classifier: the argmax agreement with float to keep.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_agreement: Option<f64>,
    /// `quantize = "search"` on a regressor: the largest |fixed - float| allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_error: Option<f64>,
    /// `quantize = "auto"`: weights and biases get the fractional bits that keep each within this
    /// of its value (instead of filling the `precision` width).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_weight_error: Option<f64>,
    /// The range every input value lies in; None: the input type's whole range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_range: Option<(f64, f64)>,
    /// What to prune (`magnitude:S`, `neurons:..`, `filters:..`; see [`Prune`]).
    #[serde(skip_serializing_if = "Prune::is_empty", serialize_with = "prune_text")]
    pub prune: Prune,
    pub layers: BTreeMap<String, LayerConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            name: None,
            part: "xcvu9p".into(),
            clock: 5.0,
            clock_uncertainty: 27.0,
            precision: FixedType::fixed(16, 6),
            accum: None,
            reuse: 1,
            strategy: Strategy::Latency,
            parallelization: None,
            io: IoType::Parallel,
            backend: Backend::Vitis,
            table_size: 1024,
            table_precision: FixedType::fixed(18, 2),
            static_state: false,
            unroll_steps: false,
            pipeline_levels: None,
            prune: Prune::default(),
            quantize: Quantize::Off,
            calib: None,
            target_agreement: None,
            target_error: None,
            max_weight_error: None,
            input_range: None,
            layers: BTreeMap::new(),
        }
    }
}

/// Model-wide keys of the config file.
pub const MODEL_KEYS: &[&str] = &[
    "name",
    "part",
    "clock",
    "clock_uncertainty",
    "precision",
    "accum",
    "reuse",
    "strategy",
    "parallelization",
    "io",
    "backend",
    "table_size",
    "table_precision",
    "static",
    "unroll_steps",
    "pipeline_levels",
    "prune",
    "quantize",
    "calib",
    "target_agreement",
    "target_error",
    "max_weight_error",
    "input_range",
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
    "unroll_steps",
    "sparsity",
    "parallelization",
    "pipeline_levels",
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

/// Adder levels per pipeline stage: at least 1, and few enough to mean something (a layer's
/// adder tree is at most ~64 levels deep).
fn parse_levels(v: &toml::Value, key: &str) -> Result<usize> {
    parse_usize(v, key)
        .ok()
        .filter(|&n| n <= 64)
        .ok_or_else(|| Error::input(format!("'{key}' must be an integer from 1 to 64")))
}

pub fn check_pipeline_levels(n: usize) -> Result<usize> {
    parse_levels(&toml::Value::Integer(n as i64), "--pipeline-levels")
}

pub fn parse_strategy(s: &str) -> Result<Strategy> {
    Strategy::parse(s).ok_or_else(|| {
        Error::input(format!(
            "strategy '{s}' is not one of: latency, resource, distributed_arithmetic (da)"
        ))
    })
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

fn is_vitis(b: &Backend) -> bool {
    *b == Backend::Vitis
}

/// How types are chosen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantize {
    /// From the configuration only.
    #[default]
    Off,
    /// Interval analysis: weights and biases get the integer bits their values need, results
    /// and accumulators the integer bits every reachable value needs; fractional bits fill the
    /// configured precision's width. No overflow is possible. With `calib`: from the ranges
    /// observed on calibration data instead (saturating).
    Auto,
    /// The narrowest per-layer widths meeting `target_agreement` or `target_error` on the
    /// calibration data (see quantize_search).
    Search,
}

impl Quantize {
    pub fn is_off(&self) -> bool {
        *self == Quantize::Off
    }
}

pub fn parse_quantize(s: &str) -> Result<Quantize> {
    match s {
        "auto" => Ok(Quantize::Auto),
        "search" => Ok(Quantize::Search),
        "off" | "none" => Ok(Quantize::Off),
        _ => Err(Error::input(format!(
            "quantize '{s}': expected auto (types from interval analysis of the input range, or from --calib data), search (the narrowest types meeting --target-agreement / --target-error on --calib data) or off"
        ))),
    }
}

/// The clock period the tools are given, in ns: from 0.1 (10 GHz, beyond any FPGA) to 1000 (1
/// MHz). Outside that no device is timed, and the estimate's cycle arithmetic would overflow.
pub const CLOCK_NS: std::ops::RangeInclusive<f64> = 0.1..=1000.0;

/// A clock period in ns, `field` naming where it came from.
pub fn parse_clock(ns: f64, field: &str) -> Result<f64> {
    if CLOCK_NS.contains(&ns) {
        Ok(ns)
    } else {
        Err(Error::input(format!(
            "{field} {ns}: expected a clock period in ns from {} to {}, e.g. 5",
            CLOCK_NS.start(),
            CLOCK_NS.end()
        )))
    }
}

pub fn parse_target_agreement(f: f64) -> Result<f64> {
    if f > 0.0 && f <= 1.0 {
        Ok(f)
    } else {
        Err(Error::input(format!(
            "target agreement {f}: expected a fraction in (0, 1], e.g. 0.99"
        )))
    }
}

pub fn parse_target_error(f: f64) -> Result<f64> {
    if f.is_finite() && f > 0.0 {
        Ok(f)
    } else {
        Err(Error::input(format!(
            "target error {f}: expected a positive number"
        )))
    }
}

/// `LO,HI` with LO < HI, both finite.
pub fn parse_input_range(lo: f64, hi: f64) -> Result<(f64, f64)> {
    if lo.is_finite() && hi.is_finite() && lo < hi {
        Ok((lo, hi))
    } else {
        Err(Error::input(format!(
            "input range [{lo}, {hi}]: expected two finite numbers, the first below the second"
        )))
    }
}

/// Pruning, from a comma-separated list such as `magnitude:0.7,neurons:zero`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prune {
    /// The fraction S of all dense, conv and recurrent weights with the smallest magnitude (one threshold for
    /// the model) set to zero; layers with their own `sparsity` use that.
    pub magnitude: Option<f64>,
    /// Whole output neurons of dense layers removed.
    pub neurons: Option<Units>,
    /// Whole filters (output channels) of convolutions removed.
    pub filters: Option<Units>,
}

/// Which units structured pruning removes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Units {
    /// Only dead ones: all-zero incoming weights (the unit is a constant, folded into the
    /// consumers' biases) or all-zero outgoing weights (nothing reads it).
    Zero,
    /// Dead ones first, then those of smallest L2 norm, until this fraction of each layer's
    /// units is gone.
    Fraction(f64),
}

impl Prune {
    pub fn is_empty(&self) -> bool {
        *self == Prune::default()
    }
}

impl std::fmt::Display for Prune {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let units = |u: &Units| match u {
            Units::Zero => "zero".to_string(),
            Units::Fraction(s) => s.to_string(),
        };
        let parts: Vec<String> = [
            self.magnitude.map(|s| format!("magnitude:{s}")),
            self.neurons
                .as_ref()
                .map(|u| format!("neurons:{}", units(u))),
            self.filters
                .as_ref()
                .map(|u| format!("filters:{}", units(u))),
        ]
        .into_iter()
        .flatten()
        .collect();
        write!(f, "{}", parts.join(","))
    }
}

/// `magnitude:S`, `neurons:zero|S`, `filters:zero|S` (0 <= S < 1), comma-separated.
pub fn parse_prune(s: &str) -> Result<Prune> {
    let bad = |why: &str| {
        Error::input(format!(
            "prune '{s}': {why}; expected a comma-separated list of magnitude:S (the fraction of weights to zero), neurons:zero|S and filters:zero|S (dead units, or the fraction of units to remove), e.g. magnitude:0.7 or neurons:zero,filters:0.25"
        ))
    };
    let mut p = Prune::default();
    for item in s.split(',') {
        let (kind, value) = item.trim().split_once(':').ok_or_else(|| bad("no ':'"))?;
        let value = value.trim();
        let fraction = || -> Result<f64> {
            check_sparsity(
                value
                    .parse()
                    .map_err(|_| bad(&format!("'{value}' is not a number")))?,
            )
        };
        let units = || -> Result<Units> {
            if value == "zero" {
                Ok(Units::Zero)
            } else {
                Ok(Units::Fraction(fraction()?))
            }
        };
        match kind.trim() {
            "magnitude" => p.magnitude = Some(fraction()?),
            "neurons" => p.neurons = Some(units()?),
            "filters" => p.filters = Some(units()?),
            k => return Err(bad(&format!("unknown kind '{k}'"))),
        }
    }
    Ok(p)
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

fn prune_text<S: serde::Serializer>(p: &Prune, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string())
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

    /// The uncertainty as Vitis writes it (`12.5%`).
    pub fn clock_uncertainty_text(&self) -> String {
        format!("{}%", self.clock_uncertainty)
    }

    pub fn from_toml(text: &str) -> Result<Config> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            // Where: the line and the text there (a duplicate key's span is the key).
            let at = e.span().map(|span| {
                let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                let shown = text.get(span.clone()).unwrap_or("").trim();
                if shown.is_empty() || shown.contains('\n') {
                    format!(" at line {line}")
                } else {
                    format!(" at line {line} (`{shown}`)")
                }
            });
            Error::input(format!(
                "invalid TOML{}: {}",
                at.unwrap_or_default(),
                e.message()
            ))
        })?;
        let mut c = Config::default();
        for (key, v) in &table {
            match key.as_str() {
                "name" => c.name = Some(parse_str(v, key)?.to_string()),
                "part" => c.part = parse_str(v, key)?.to_string(),
                "clock" => {
                    c.clock = v
                        .as_float()
                        .or_else(|| v.as_integer().map(|i| i as f64))
                        .ok_or_else(|| Error::input("'clock' must be a number of ns"))
                        .and_then(|ns| parse_clock(ns, "'clock'"))?
                }
                "clock_uncertainty" => {
                    c.clock_uncertainty = parse_percent(v).ok_or_else(|| {
                        Error::input(
                            "'clock_uncertainty' must be a percentage of the clock period from 0 to 100, e.g. \"12.5%\" or 12.5",
                        )
                    })?
                }
                "precision" => c.precision = parse_type(v, key)?,
                "accum" => {
                    c.accum = match v.as_str() {
                        Some("auto") => None,
                        _ => Some(parse_type(v, key)?),
                    }
                }
                "reuse" => c.reuse = parse_usize(v, key)?,
                "parallelization" => c.parallelization = Some(parse_usize(v, key)?),
                "strategy" => c.strategy = parse_strategy(parse_str(v, key)?)?,
                "io" => c.io = parse_io(parse_str(v, key)?)?,
                "backend" => c.backend = parse_backend(parse_str(v, key)?)?,
                "table_size" => c.table_size = parse_table_size(parse_usize(v, key)?)?,
                "table_precision" => c.table_precision = parse_type(v, key)?,
                "static" => c.static_state = parse_bool(v, key)?,
                "unroll_steps" => c.unroll_steps = parse_bool(v, key)?,
                "pipeline_levels" => c.pipeline_levels = Some(parse_levels(v, key)?),
                "prune" => c.prune = parse_prune(parse_str(v, key)?)?,
                "quantize" => c.quantize = parse_quantize(parse_str(v, key)?)?,
                "calib" => c.calib = Some(parse_str(v, key)?.into()),
                "max_weight_error" => {
                    let f = v
                        .as_float()
                        .ok_or_else(|| Error::input("'max_weight_error' must be a number"))?;
                    c.max_weight_error = Some(parse_target_error(f)?);
                }
                "target_agreement" | "target_error" => {
                    let f = v
                        .as_float()
                        .or_else(|| v.as_integer().map(|i| i as f64))
                        .ok_or_else(|| Error::input(format!("'{key}' must be a number")))?;
                    if key == "target_agreement" {
                        c.target_agreement = Some(parse_target_agreement(f)?);
                    } else {
                        c.target_error = Some(parse_target_error(f)?);
                    }
                }
                "input_range" => {
                    let bad = || Error::input("'input_range' must be [low, high] (two numbers)");
                    let a = v.as_array().filter(|a| a.len() == 2).ok_or_else(bad)?;
                    let num = |x: &toml::Value| {
                        x.as_float()
                            .or_else(|| x.as_integer().map(|i| i as f64))
                            .ok_or_else(bad)
                    };
                    c.input_range = Some(parse_input_range(num(&a[0])?, num(&a[1])?)?);
                }
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
            "parallelization" => l.parallelization = Some(parse_usize(v, key).map_err(ctx)?),
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
            "unroll_steps" => l.unroll_steps = Some(parse_bool(v, key).map_err(ctx)?),
            "pipeline_levels" => l.pipeline_levels = Some(parse_levels(v, key).map_err(ctx)?),
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

/// A percentage from 0 to 100: a number, or a string with or without a trailing `%`.
pub fn parse_percent(v: &toml::Value) -> Option<f64> {
    let f = match v {
        toml::Value::Float(f) => *f,
        toml::Value::Integer(i) => *i as f64,
        toml::Value::String(s) => s.trim().trim_end_matches('%').trim().parse().ok()?,
        _ => return None,
    };
    (0.0..=100.0).contains(&f).then_some(f)
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
    fn pipeline_levels_from_1_to_64_model_wide_and_per_layer() {
        let c =
            Config::from_toml("pipeline_levels = 3\n[layers.fc1]\npipeline_levels = 1\n").unwrap();
        assert_eq!(c.pipeline_levels, Some(3));
        assert_eq!(c.layers["fc1"].pipeline_levels, Some(1));
        for bad in ["0", "65", "2.5", "\"4\""] {
            let e = Config::from_toml(&format!("pipeline_levels = {bad}")).unwrap_err();
            assert!(
                e.to_string()
                    .contains("'pipeline_levels' must be an integer from 1 to 64"),
                "{bad}: {e}"
            );
        }
        assert!(check_pipeline_levels(0).is_err());
        assert_eq!(check_pipeline_levels(64).unwrap(), 64);
    }

    #[test]
    fn hardware_settings_of_issue_12() {
        let c = Config::from_toml(
            "clock_uncertainty = \"12.5%\"\nparallelization = 4\nunroll_steps = true\n[layers.conv1]\nparallelization = 2\nunroll_steps = false\n",
        )
        .unwrap();
        assert_eq!(c.clock_uncertainty, 12.5);
        assert_eq!(c.clock_uncertainty_text(), "12.5%");
        assert_eq!(c.parallelization, Some(4));
        assert!(c.unroll_steps);
        assert_eq!(c.layers["conv1"].parallelization, Some(2));
        assert_eq!(c.layers["conv1"].unroll_steps, Some(false));
        assert_eq!(
            Config::from_toml("clock_uncertainty = 27")
                .unwrap()
                .clock_uncertainty,
            27.0
        );
        assert_eq!(Config::default().clock_uncertainty_text(), "27%");
        for bad in [
            "clock_uncertainty = \"150%\"",
            "clock_uncertainty = \"a lot\"",
            "parallelization = 0",
        ] {
            let e = Config::from_toml(bad).unwrap_err();
            assert!(e.is_user_error(), "{bad}: {e}");
        }
        let e = Config::from_toml("clock_uncertainty = -1")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("'clock_uncertainty' must be a percentage"),
            "{e}"
        );
        let e = Config::from_toml("paralelization = 2")
            .unwrap_err()
            .to_string();
        assert!(e.contains("did you mean 'parallelization'"), "{e}");
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
