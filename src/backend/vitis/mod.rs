//! Vitis HLS backend: renders the project for a prepared model. Everything is produced in memory
//! first (a failure writes nothing); the files are byte-for-byte deterministic.

pub mod build;
mod context;
pub mod csim;

mod templates;

use crate::error::{Error, Result};
use crate::ir::{FixedType, Model};
use crate::kernels::Kernel;
use petgraph::stable_graph::NodeIndex;
use serde_json::json;

use super::Files;
pub use super::ProjectOptions;

/// The parsed templates, once per process, io and set (`templates::sets`).
type Parsed = std::sync::OnceLock<std::result::Result<tera::Tera, String>>;
static PARSED: [[Parsed; 3]; 2] = [
    [Parsed::new(), Parsed::new(), Parsed::new()],
    [Parsed::new(), Parsed::new(), Parsed::new()],
];

fn parsed(stream: bool, set: usize) -> Result<&'static tera::Tera> {
    PARSED[stream as usize][set]
        .get_or_init(|| {
            let mut t = tera::Tera::new();
            let sets = templates::sets(stream);
            let (language, templates) = &sets[set];
            t.set_escape_fn(language.guard());
            // Every template's values through its language's guard.
            t.autoescape_on([""]);
            // All at once: tera checks every template's references after each addition, so
            // adding them one by one checks the first ones again and again.
            t.add_raw_templates(templates.iter().copied())
                .map_err(|e| format!("templates: {e}"))?;
            Ok(t)
        })
        .as_ref()
        .map_err(|e| Error::internal(e.clone()))
}

/// Starts parsing the templates of a project of the given io on a thread of its own, set by
/// set. A command that will write a project calls this as soon as it knows the io: this way the
/// parsing overlaps the model's loading, planning and fidelity run instead of following them.
/// One thread: on two cores, two parsing threads took turns with the main thread and stalled
/// it by more than they saved.
pub fn parse_templates_in_background(stream: bool) {
    crate::ir::parallel::spawn_beside(move || {
        for set in 0..3 {
            if parsed(stream, set).is_err() {
                return;
            }
        }
    });
}

/// The parsed templates, each name rendered from the set that holds it.
struct Templates {
    stream: bool,
    sets: [&'static tera::Tera; 3],
}

/// The templates, the last set first: when the background thread (`generate` comes once the
/// rest of the project's facts are gathered) has not reached it, this thread parses it
/// meanwhile instead of waiting (a quarter of small compiles here: a thread moved to another
/// core sometimes starts a millisecond late).
fn tera(stream: bool) -> Result<Templates> {
    let third = parsed(stream, 2)?;
    let second = parsed(stream, 1)?;
    Ok(Templates {
        stream,
        sets: [parsed(stream, 0)?, second, third],
    })
}

fn render(t: &Templates, name: &str, cx: &tera::Context) -> Result<Vec<u8>> {
    let set = templates::sets(t.stream)
        .iter()
        .position(|(_, s)| s.iter().any(|(n, _)| *n == name))
        .ok_or_else(|| Error::internal(format!("no template {name}")))?;
    t.sets[set]
        .render(name, cx)
        .map(String::into_bytes)
        .map_err(|e| Error::internal(format!("rendering {name}: {}", error_chain(&e))))
}

/// A tera error with its causes (the guard's message is the innermost).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Generates every file of the project.
pub fn generate(
    model: &Model,
    plans: &[crate::kernels::LayerPlan],
    estimate: &crate::estimate::Estimate,
    opts: &ProjectOptions,
) -> Result<Files> {
    check_ends(model)?;
    check_word_limits(
        model,
        plans,
        opts.config.io == crate::config::IoType::Stream,
    )?;
    let name = &model.name;
    let stream = opts.config.io == crate::config::IoType::Stream;
    let mut builder = context::Builder::new(model, stream);
    for (k, p) in plans.iter().enumerate() {
        builder.add(k, p);
    }
    let dataflow = !stream && crate::kernels::dataflow_top(plans);
    let input_clones = if dataflow {
        builder.clone_shared_reads()
    } else {
        Vec::new()
    };
    let ii = plans
        .iter()
        .map(|p| match &p.kernel {
            Kernel::Dense(d) => d.reuse,
            Kernel::Conv(c) => c.dense.reuse,
            _ => 1,
        })
        .max()
        .unwrap_or(1);
    let ports = crate::ir::ports::Ports::of(model);
    // The top function's ports: the first input and output keep the names one-port designs
    // have always had (input_t, N_INPUT, INPUT_WIDTH, ...), the others are numbered.
    let port = |base: &str, macro_base: &str, k: usize, n: NodeIndex, var: &str, ty: FixedType| {
        let s = &model.node(n).shape;
        let width = *s.last().unwrap();
        let suffix = if k == 0 {
            String::new()
        } else {
            format!("_{k}")
        };
        json!({
            "port": var,
            "ty": crate::ir::ports::port_type(base, k),
            "cpp": ty.to_cpp(),
            "size": model.node(n).size(),
            "size_macro": format!("N_{macro_base}{suffix}"),
            "width": width,
            "width_macro": format!("{macro_base}{suffix}_WIDTH"),
            "pixels": s.iter().product::<usize>() / width,
            "pixels_macro": format!("N_{macro_base}{suffix}_PIXELS"),
            "px": crate::ir::ports::port_pixel(base, k),
        })
    };
    let type_of = |n: NodeIndex| model.node(n).precision.result;
    let in_types: Vec<FixedType> = model.inputs.iter().map(|&n| type_of(n)).collect();
    let inputs: Vec<_> = model
        .inputs
        .iter()
        .enumerate()
        .map(|(k, &n)| port("input", "INPUT", k, n, &ports.inputs[k], in_types[k]))
        .collect();
    let out_types: Vec<FixedType> = model.outputs.iter().map(|o| type_of(o.node)).collect();
    let outputs: Vec<_> = model
        .outputs
        .iter()
        .enumerate()
        .map(|(k, o)| {
            port(
                "result",
                "OUTPUT",
                k,
                o.node,
                &ports.outputs[k],
                out_types[k],
            )
        })
        .collect();
    // Where each input / output starts in a testbench line (each whole, one after another).
    let place = |mut ends: Vec<serde_json::Value>| {
        let mut at = 0;
        for e in &mut ends {
            e["offset"] = json!(at);
            at += e["size"].as_u64().unwrap_or(0) as usize * model.steps;
        }
        (ends, at)
    };
    let ((inputs, n_in), (outputs, n_out)) = (place(inputs), place(outputs));
    let project = json!({
        "stream": stream,
        "inputs": inputs,
        "outputs": outputs,
        "n_in": n_in,
        "n_out": n_out,
        "name": name,
        "guard": name.to_uppercase(),
        "version": env!("CARGO_PKG_VERSION"),
        "io": if stream { "stream" } else { "parallel" },
        "part": opts.part.full,
        "clock": format_clock(opts.config.clock),
        "clock_uncertainty": opts.config.clock_uncertainty_text(),
        "ii": ii,
        "dataflow": dataflow,
        "input_clones": input_clones,
        "steps": model.steps,
        "stateful": plans.iter().any(|p| matches!(&p.kernel, Kernel::Recurrent(r) if r.rec.stateful)),
    });
    let mut cx = tera::Context::new();
    cx.insert("project", &project);
    cx.insert("layers", &builder.layers);
    cx.insert("weights", &builder.weights);
    let da_headers: Vec<&str> = builder.da.iter().map(|(c, _)| c.as_str()).collect();
    cx.insert("da_headers", &da_headers);
    if stream {
        let index_of = plans.iter().enumerate().map(|(k, p)| (p.node, k)).collect();
        let wiring = crate::stream::wire(model)?;
        let (streams, processes) =
            context::name_streams(model, &index_of, &wiring, &builder.layers)?;
        cx.insert("streams", &streams);
        cx.insert("processes", &processes);
    }
    // The manifest's facts before the templates: their parsing may still be under way.
    let manifest = super::manifest(model, opts, plans, estimate);
    let t = &tera(stream)?;
    let mut files = Files::new();
    let fw = "firmware";
    files.insert(
        format!("{fw}/{name}.cpp"),
        render(t, templates::top(stream), &cx)?,
    );
    files.insert(format!("{fw}/{name}.h"), render(t, "top.h", &cx)?);
    files.insert(format!("{fw}/defines.h"), render(t, "defines.h", &cx)?);
    files.insert(
        format!("{fw}/parameters.h"),
        render(t, "parameters.h", &cx)?,
    );
    // A weight array's numbers (megabytes for a large layer) are spliced into its rendered
    // header rather than copied through the template context.
    const DATA: &str = "\u{0}hlsrs weight data\u{0}";
    for w in &builder.weights {
        let mut wcx = tera::Context::new();
        wcx.insert("w", w);
        wcx.insert("data", DATA);
        let head = render(t, "weights.h", &wcx)?;
        let at = head
            .windows(DATA.len())
            .position(|x| x == DATA.as_bytes())
            .ok_or_else(|| Error::internal("weights.h has no place for the data"))?;
        let mut text = Vec::with_capacity(head.len() + w.data.len());
        text.extend_from_slice(&head[..at]);
        text.extend_from_slice(&w.data);
        text.extend_from_slice(&head[at + DATA.len()..]);
        files.insert(format!("{fw}/weights/{}.h", w.var), text);
    }
    for (config, text) in &builder.da {
        files.insert(format!("{fw}/da/{config}.h"), text.clone().into_bytes());
    }
    for (file, src) in templates::HLS_LIB {
        files.insert(format!("{fw}/hls_lib/{file}"), src.as_bytes().to_vec());
    }
    // Generated, so the C++ kind codes cannot drift from the plans'.
    files.insert(
        format!("{fw}/hls_lib/hlsrs_activation_kinds.h"),
        crate::kernels::activation::kinds_header().into_bytes(),
    );
    files.insert(format!("tb/{name}_test.cpp"), render(t, "test.cpp", &cx)?);
    for script in [
        "build_prj.tcl",
        "build_opt.tcl",
        "vivado_synth.tcl",
        "clock.xdc",
    ] {
        files.insert(script.into(), render(t, script, &cx)?);
    }
    files.insert("hls_config.cfg".into(), render(t, "hls_config.cfg", &cx)?);
    files.insert("Makefile".into(), render(t, "Makefile", &cx)?);

    let (mut tb_in, mut tb_out) = (Vec::new(), Vec::new());
    for (raw, y) in opts.tb_bits {
        join_line(&mut tb_in, raw);
        join_line(&mut tb_out, y);
    }
    files.insert("tb_data/tb_input_bits.dat".into(), tb_in);
    files.insert("tb_data/tb_output_bits.dat".into(), tb_out);

    super::add_manifest(&mut files, manifest)?;
    Ok(files)
}

/// The top function writes each output to a write-only port, so every output needs a layer of
/// its own that nothing else reads (the frontends give it one: `Model::separate_outputs`).
fn check_ends(model: &Model) -> Result<()> {
    for (k, o) in model.outputs.iter().enumerate() {
        let shared = model.is_input(o.node)
            || model.outputs[..k].iter().any(|p| p.node == o.node)
            || !model.consumers(o.node).is_empty();
        if shared {
            return Err(Error::internal(format!(
                "output '{}' shares layer '{}' with an input, another output or a reader",
                o.name,
                model.node(o.node).name
            )));
        }
    }
    Ok(())
}

/// The widest word Vitis reshapes an array into (XFORM 203-133; hls4ml #506).
pub const WORD_LIMIT_BITS: usize = 65_536;

/// Arrays the generated code reshapes into one word: an io_parallel input port (`ARRAY_RESHAPE
/// complete`) and a resource kernel's weight ROM (one word of every group's block a cycle).
/// Past Vitis's word limit the design would fail in Vitis: refused here, with what fits.
fn check_word_limits(
    model: &Model,
    plans: &[crate::kernels::LayerPlan],
    stream: bool,
) -> Result<()> {
    use crate::kernels::dense::DensePlan;
    for p in plans {
        let node = model.node(p.node);
        if model.is_input(p.node) && !stream {
            let bits = p.size * p.result.width as usize;
            if bits > WORD_LIMIT_BITS {
                return Err(Error::input(format!(
                    "input '{}' ({} values of {} bits): io_parallel reshapes an input into one port word of {bits} bits, beyond the {WORD_LIMIT_BITS} bits Vitis reshapes (XFORM 203-133); use --io stream (a pixel a cycle), or an input type of at most {} bits",
                    node.name,
                    p.size,
                    p.result.width,
                    WORD_LIMIT_BITS / p.size
                )));
            }
        }
        let blocks: Vec<(&DensePlan, usize)> = match &p.kernel {
            Kernel::Dense(d) => vec![(d, 1)],
            Kernel::Conv(c) => vec![(&c.dense, c.groups)],
            Kernel::Recurrent(r) => [&r.wx, &r.rh, &r.rhh]
                .into_iter()
                .filter_map(|v| v.first().map(|d| (d, v.len())))
                .collect(),
            _ => Vec::new(),
        };
        for (d, groups) in blocks {
            if d.strategy != crate::ir::Strategy::Resource || d.reuse <= 1 {
                continue;
            }
            let width = match d.sparse {
                Some(_) => d.sparse_entry_bits() as usize + 1,
                None => d.weights.ty.width as usize,
            };
            let word = |r: usize| groups * (d.n_in * d.n_out).div_ceil(r) * width;
            if word(d.reuse) <= WORD_LIMIT_BITS {
                continue;
            }
            let fits = crate::kernels::dense::valid_reuse_factors(d.n_in, d.n_out)
                .into_iter()
                .find(|&r| word(r) <= WORD_LIMIT_BITS);
            return Err(Error::input(format!(
                "layer '{}': its resource kernel at reuse {} reads one ROM word of {} bits a cycle ({groups} group(s) x {} weights of {width} bits), beyond the {WORD_LIMIT_BITS} bits Vitis reshapes (XFORM 203-133); {}",
                node.name,
                d.reuse,
                word(d.reuse),
                (d.n_in * d.n_out).div_ceil(d.reuse),
                match fits {
                    Some(r) => format!("use [layers.{}] reuse = {r} or larger", node.name),
                    None => "narrower weights (a smaller weight type) would fit".into(),
                }
            )));
        }
    }
    Ok(())
}

fn format_clock(ns: f64) -> String {
    let s = format!("{ns}");
    if s.contains('.') { s } else { format!("{s}.0") }
}

fn join_line(s: &mut Vec<u8>, v: &[i128]) {
    for (k, &x) in v.iter().enumerate() {
        if k > 0 {
            s.push(b' ');
        }
        push_int(s, x);
    }
    s.push(b'\n');
}

/// Appends `v` in decimal: the testbench data and weight arrays hold millions of them, and this
/// is several times faster than `Display`.
pub(crate) fn push_int(s: &mut Vec<u8>, v: i128) {
    let mut buf = [0u8; 40];
    let mut at = buf.len();
    let mut m = v.unsigned_abs();
    if let Ok(mut small) = u64::try_from(m) {
        loop {
            at -= 1;
            buf[at] = b'0' + (small % 10) as u8;
            small /= 10;
            if small == 0 {
                break;
            }
        }
    } else {
        loop {
            at -= 1;
            buf[at] = b'0' + (m % 10) as u8;
            m /= 10;
            if m == 0 {
                break;
            }
        }
    }
    if v < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    s.extend_from_slice(&buf[at..]);
}

#[cfg(test)]
mod tests {
    #[test]
    fn integers_are_written_as_display_writes_them() {
        let values = [
            0i128,
            7,
            -7,
            10,
            -10,
            123_456_789,
            i64::MAX as i128,
            i64::MIN as i128,
            i128::MAX,
            i128::MIN,
            (1i128 << 70) + 3,
            -(1i128 << 70),
        ];
        for v in values {
            let mut s = Vec::new();
            super::push_int(&mut s, v);
            assert_eq!(String::from_utf8(s).unwrap(), v.to_string());
        }
    }
}
