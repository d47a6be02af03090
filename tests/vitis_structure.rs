//! Issue 25: the structures docs/synthesis.md promises Vitis, read from the generated projects
//! themselves. What a function is to Vitis is decided by C++: each distinct instantiation of a
//! function template that is not inlined is a module of its own, and only its function
//! parameters can be run-time values (ports). g++ at -O0 emits every instantiation, so the
//! object's symbols list exactly which kernels the project instantiates and with what
//! parameters.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// One instantiated function of namespace hlsrs: its name, template arguments and parameter
/// types, as the demangler prints them.
#[derive(Debug)]
struct Inst {
    name: String,
    targs: Vec<String>,
    params: Vec<String>,
}

/// `s` split at the commas outside any brackets.
fn split_top(s: &str) -> Vec<String> {
    let (mut depth, mut cur, mut out) = (0i32, String::new(), Vec::new());
    for ch in s.chars() {
        match ch {
            '<' | '(' => depth += 1,
            '>' | ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(ch);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// The text of the bracket group opening at `s[0]` (without the brackets) and what follows it.
fn group(s: &str, open: char, close: char) -> Option<(&str, &str)> {
    let mut depth = 0;
    for (i, ch) in s.char_indices() {
        if ch == open {
            depth += 1;
        } else if ch == close {
            depth -= 1;
            if depth == 0 {
                return Some((&s[1..i], &s[i + 1..]));
            }
        }
    }
    None
}

/// Parses `hlsrs::name<targs>(params)` from a demangled symbol; None for other shapes (member
/// functions of class templates, non-template functions).
fn parse(line: &str) -> Option<Inst> {
    let at = line.find("hlsrs::")? + "hlsrs::".len();
    let rest = &line[at..];
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
    let (name, rest) = rest.split_at(end);
    if !rest.starts_with('<') {
        return None;
    }
    let (targs, rest) = group(rest, '<', '>')?;
    if !rest.starts_with('(') {
        return None;
    }
    let (params, _) = group(rest, '(', ')')?;
    Some(Inst {
        name: name.to_string(),
        targs: split_top(targs),
        params: split_top(params),
    })
}

/// Every hlsrs function template instantiated by the project's top-level translation unit.
fn instantiations(prj: &Path, name: &str) -> Vec<Inst> {
    let obj = prj.join("structure.o");
    let out = Command::new("g++")
        .args(["-std=c++14", "-O0", "-c"])
        .arg(prj.join(format!("firmware/{name}.cpp")))
        .arg("-I")
        .arg(prj.join("firmware"))
        .arg("-I")
        .arg(common::ap_types())
        .arg("-o")
        .arg(&obj)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "g++: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let nm = Command::new("nm")
        .args(["-C", "--defined-only"])
        .arg(&obj)
        .output()
        .unwrap();
    assert!(nm.status.success());
    let insts: Vec<Inst> = String::from_utf8_lossy(&nm.stdout)
        .lines()
        .filter_map(parse)
        .collect();
    assert!(!insts.is_empty(), "no hlsrs function in {}", obj.display());
    insts
}

fn compile(model: &Path, out: &Path, args: &[&str]) {
    let o = Command::new(env!("CARGO_BIN_EXE_hlsrs"))
        .arg("compile")
        .arg(model)
        .arg("-o")
        .arg(out)
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// For kernel `name`: its config (the template argument that names one) -> the set of its last
/// template argument (the group or direction) over the instantiations.
fn groups_by_config(insts: &[Inst], name: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for i in insts.iter().filter(|i| i.name == name) {
        let config = i.targs.iter().find(|a| a.starts_with("config")).unwrap();
        m.entry(config.clone())
            .or_default()
            .insert(i.targs.last().unwrap().clone());
    }
    m
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// `dense_resource` takes the data, result, weights and biases only: its group is a template
/// argument, never a run-time offset port of one shared module (issue 25, point 4).
fn assert_no_offset_ports(insts: &[Inst]) {
    let mut seen = 0;
    for i in insts.iter().filter(|i| i.name == "dense_resource") {
        seen += 1;
        assert_eq!(i.params.len(), 4, "{i:?}");
        assert!(i.params.iter().all(|p| !p.starts_with("unsigned")), "{i:?}");
    }
    assert!(seen > 0, "no dense_resource instantiated");
}

#[test]
fn bidirectional_layers_build_each_direction_as_hardware_of_its_own() {
    let case = common::case("lstm_bidirectional");
    let dir = common::tempdir();
    for (label, args) in [
        ("latency", &[][..]),
        ("resource", &["--strategy", "resource", "--reuse", "4"][..]),
    ] {
        let prj = dir.path().join(label);
        compile(&case.model(), &prj, args);
        let insts = instantiations(&prj, "lstm_bidirectional");
        // The time step is a function per direction, and takes no run-time direction.
        let steps = groups_by_config(&insts, "recurrent_step");
        assert_eq!(steps.len(), 1, "{label}: {steps:?}");
        assert_eq!(
            steps.values().next().unwrap(),
            &set(&["0u", "1u"]),
            "{label}"
        );
        for i in insts.iter().filter(|i| i.name == "recurrent_step") {
            assert!(
                i.params.iter().all(|p| !p.starts_with("unsigned")),
                "{label}: {i:?}"
            );
        }
        // Both directions' steps are taken in the same iteration of the step loop.
        assert!(
            insts.iter().any(|i| i.name == "recurrent_directions_at"),
            "{label}"
        );
        if label == "resource" {
            let mut products = groups_by_config(&insts, "dense_resource");
            // The layer after the LSTM is a dense layer of one group.
            products.retain(|cfg, _| cfg.starts_with("config1_"));
            assert_eq!(products.len(), 2, "{products:?}"); // the input and recurrent products
            for (cfg, dirs) in &products {
                assert_eq!(dirs, &set(&["0u", "1u"]), "{cfg}");
            }
            assert_no_offset_ports(&insts);
        }
    }
}

#[test]
fn one_direction_is_one_step_function() {
    for name in ["lstm_jet_tagger", "lstm_reverse_peephole_clip"] {
        let case = common::case(name);
        let dir = common::tempdir();
        let prj = dir.path().join("p");
        compile(&case.model(), &prj, &[]);
        let steps = groups_by_config(&instantiations(&prj, name), "recurrent_step");
        assert_eq!(steps.len(), 1, "{name}: {steps:?}");
        assert_eq!(steps.values().next().unwrap(), &set(&["0u"]), "{name}");
    }
}

#[test]
fn grouped_convolutions_build_each_group_with_constant_offsets() {
    // conv2d_nchw has a depthwise convolution of 8 groups (multiplier 2).
    let case = common::case("conv2d_nchw");
    let dir = common::tempdir();
    let prj = dir.path().join("p");
    compile(
        &case.model(),
        &prj,
        &["--strategy", "resource", "--reuse", "3"],
    );
    let insts = instantiations(&prj, "conv2d_nchw");
    let products = groups_by_config(&insts, "dense_resource");
    let eight: BTreeSet<String> = (0..8).map(|g| format!("{g}u")).collect();
    assert!(
        products.values().any(|g| g == &eight),
        "no config with groups 0..7: {products:?}"
    );
    // Every other convolution is one group.
    for g in products.values().filter(|g| *g != &eight) {
        assert_eq!(g, &set(&["0u"]));
    }
    assert_no_offset_ports(&insts);
}

/// Issue 25, point 1: a pruned resource layer's pass sums each output's lanes in an adder tree
/// over `lanes_max` leaves (one carried add per pass), instantiated per layer from its config:
/// the tree's nodes are `lane_tree<config, LO, N>` and its leaves the N = 1 ones, one per lane
/// position 0 .. lanes_max - 1.
#[test]
fn pruned_resource_layers_sum_each_pass_in_a_tree_per_output() {
    let case = common::case("three_layer_keras");
    let dir = common::tempdir();
    let prj = dir.path().join("p");
    let args = [
        "--strategy",
        "resource",
        "--reuse",
        "4",
        "--prune",
        "magnitude:0.7",
    ];
    compile(&case.model(), &prj, &args);
    let params = std::fs::read_to_string(prj.join("firmware/parameters.h")).unwrap();
    let field = |body: &str, key: &str| -> usize {
        let at = body.find(key).unwrap() + key.len();
        body[at..at + body[at..].find(';').unwrap()]
            .parse()
            .unwrap()
    };
    let sparse: Vec<(String, usize)> = params
        .split("struct ")
        .skip(1)
        .filter(|b| b.contains("static const bool sparse = true;"))
        .map(|b| {
            let name = b[..b.find(|c: char| !c.is_ascii_alphanumeric()).unwrap()].to_string();
            (name, field(b, "lanes_max = "))
        })
        .collect();
    assert_eq!(sparse.len(), 3, "{sparse:?}");
    // The symbols: hlsrs::lane_tree<config3, 0u, 4u>::sum(...).
    assert_no_offset_ports(&instantiations(&prj, "three_layer_keras"));
    let obj = prj.join("structure.o");
    let nm = Command::new("nm")
        .args(["-C", "--defined-only"])
        .arg(&obj)
        .output()
        .unwrap();
    let symbols = String::from_utf8_lossy(&nm.stdout);
    let trees: Vec<Vec<String>> = symbols
        .lines()
        .filter_map(|l| {
            let at = l.find("hlsrs::lane_tree<")? + "hlsrs::lane_tree".len();
            let (targs, _) = group(&l[at..], '<', '>')?;
            Some(split_top(targs))
        })
        .collect();
    for (config, lanes_max) in &sparse {
        let of: Vec<&Vec<String>> = trees.iter().filter(|t| &t[0] == config).collect();
        let root = vec![config.clone(), "0u".to_string(), format!("{lanes_max}u")];
        assert!(of.contains(&&root), "{config}: no root {root:?} in {of:?}");
        let mut leaves: Vec<String> = of
            .iter()
            .filter(|t| t[2] == "1u")
            .map(|t| t[1].clone())
            .collect();
        leaves.sort_by_key(|l| l.trim_end_matches('u').parse::<usize>().unwrap());
        let want: Vec<String> = (0..*lanes_max).map(|l| format!("{l}u")).collect();
        assert_eq!(leaves, want, "{config}");
    }
}

/// The synthesizable headers a generated project ships (the trace header is C-simulation only:
/// empty under `__SYNTHESIS__`), without comments.
fn synthesized_headers(prj: &Path) -> Vec<(String, String)> {
    let dir = prj.join("firmware/hls_lib");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name == "hlsrs_trace.h" {
            continue;
        }
        let code: String = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| match l.find("//") {
                Some(k) => &l[..k],
                None => l,
            })
            .collect::<Vec<_>>()
            .join("\n");
        out.push((name, code));
    }
    assert!(out.len() >= 8, "{out:?}");
    out
}

/// The text of function `name`'s body in `code` (its first definition).
fn body<'a>(code: &'a str, name: &str) -> &'a str {
    let at = code
        .find(&format!(" {name}("))
        .unwrap_or_else(|| panic!("no function {name}"));
    let open = at + code[at..].find('{').unwrap();
    let mut depth = 0;
    for (k, ch) in code[open..].char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return &code[open..open + k + 1];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced {name}")
}

/// Issue 25, point 2: every loop Vitis schedules has a bound it knows (so csynth reports a
/// latency, no LOOP_TRIPCOUNT needed), and the window code computes no division or remainder of
/// a run-time value (a divider core in a pipelined loop): positions move by carried counters.
#[test]
fn loops_have_constant_bounds_and_window_code_divides_nothing() {
    let dir = common::tempdir();
    let prj = dir.path().join("p");
    compile(
        &common::case("conv1d_cnn_keras").model(),
        &prj,
        &["--io", "stream"],
    );
    let headers = synthesized_headers(&prj);
    let mut loops = 0;
    for (file, code) in &headers {
        assert!(!code.contains("while"), "{file}: a while loop");
        // `for (unsigned i = A; i < BOUND; i++)`: the bound made of constants only. The names a
        // bound may use: config members, template parameters (upper case) and the locals every
        // header declares `const`.
        let consts: Vec<&str> = code
            .split("const unsigned ")
            .skip(1)
            .filter_map(|rest| rest.split([' ', '=']).next())
            .collect();
        for (k, _) in code.match_indices("for (") {
            let head = &code[k..k + code[k..].find(')').unwrap()];
            let cond = head.split(';').nth(1).unwrap();
            let bound = cond.split(['<', '>']).nth(1).unwrap_or("");
            for word in bound
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                .filter(|w| w.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
            {
                let ok = word.starts_with("CONFIG_T::")
                    || word.starts_with("K::")
                    || word.ends_with("_T::size")
                    || word.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                    || consts.contains(&word);
                assert!(ok, "{file}: loop `{head})` has a run-time bound ({word})");
            }
            loops += 1;
        }
    }
    assert!(loops > 50, "{loops}");
    // The window code: every `/` and `%` has constant operands (config members, template
    // parameters, `const` locals, numbers), or, in window_layer, the unrolled kernel copy's
    // index `q`, a constant once unrolled.
    let conv = &headers.iter().find(|(f, _)| f == "hlsrs_conv.h").unwrap().1;
    let stream = &headers
        .iter()
        .find(|(f, _)| f == "hlsrs_stream.h")
        .unwrap()
        .1;
    for (code, f) in [
        (stream, "window_stream"),
        (stream, "window_pixel"),
        (conv, "window_at"),
        (conv, "next_position"),
        (conv, "tap"),
        (conv, "conv_group"),
        (conv, "pool_position"),
        (conv, "window_layer"),
    ] {
        let b = body(code, f);
        let consts: Vec<&str> = b
            .split("const unsigned ")
            .skip(1)
            .filter_map(|rest| rest.split([' ', '=']).next())
            .collect();
        let constant = |w: &str| {
            w.starts_with("CONFIG_T::")
                || w.chars().all(|c| c.is_ascii_digit())
                || w.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                || consts.contains(&w)
                || (f == "window_layer" && w == "q")
        };
        let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
        let mut seen = 0;
        for (k, op) in b.match_indices(['/', '%']) {
            let left = b[..k].trim_end();
            let left = &left[left.rfind(|c| !word(c)).map_or(0, |e| e + 1)..];
            let right = b[k + 1..].trim_start();
            let right = &right[..right.find(|c| !word(c)).unwrap_or(right.len())];
            assert!(
                constant(left) && constant(right),
                "{f}: `{left} {op} {right}` divides a run-time value"
            );
            seen += 1;
        }
        if f == "window_layer" {
            assert!(seen > 0, "the check reads nothing");
        }
    }
}

/// Issue 25: what the compiler cannot see. The FIFO depths of an io_stream design come from a
/// simulation of each process's reads and writes (crate::stream); the C++ processes must read
/// and write in exactly that order, or the depths are wrong and the hardware may deadlock. The
/// testbench built with HLSRS_TRACE_IO logs every process's reads and writes (C-simulation runs
/// the processes one after another, so each process's log is whole): compared, process by
/// process, with the programs the depths were simulated with.
#[test]
fn stream_processes_read_and_write_as_their_fifo_depths_assume() {
    use hlsrs::stream::Act;
    let resource = |r: usize| hlsrs::Config {
        io: hlsrs::config::IoType::Stream,
        strategy: hlsrs::ir::Strategy::Resource,
        reuse: r,
        ..hlsrs::Config::default()
    };
    let stream = hlsrs::Config {
        io: hlsrs::config::IoType::Stream,
        ..hlsrs::Config::default()
    };
    // Windows (strides, uneven and 'same' padding, dilation-free 1D and 2D, pooling, a
    // depthwise conv), a resource kernel's window loop, clones and merges, concat, gather
    // (upsampling, padding), whole-tensor layers (dense, recurrent, transpose), two inputs.
    for (name, config) in [
        ("conv1d_cnn_keras", stream.clone()),
        ("conv2d_nchw", stream.clone()),
        ("conv2d_nchw", resource(3)),
        ("residual_block", stream.clone()),
        ("conv2d_flatten_concat_nhwc", stream.clone()),
        ("unet_small", stream.clone()),
        ("upsample_pad_opset9", stream.clone()),
        ("lstm_jet_tagger", stream.clone()),
        ("two_inputs_two_outputs", stream.clone()),
    ] {
        let case = common::case(name);
        let p = hlsrs::prepare(&case.model(), &config, None).unwrap();
        let dir = common::tempdir();
        let prj = dir.path().join("p");
        hlsrs::compile(&p, &prj, false, None).unwrap();
        let wiring = hlsrs::stream::wire(&p.model).unwrap();
        let top = &p.model.name;
        let exe = prj.join("io_tb");
        let o = Command::new("g++")
            .current_dir(&prj)
            .args(["-std=c++14", "-O1", "-w", "-DHLSRS_TRACE_IO", "-I"])
            .arg(common::ap_types())
            .arg(format!("firmware/{top}.cpp"))
            .arg(format!("tb/{top}_test.cpp"))
            .arg("-o")
            .arg(&exe)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let log_dir = prj.join("io");
        std::fs::create_dir_all(&log_dir).unwrap();
        let o = Command::new(&exe)
            .current_dir(&prj)
            .env("HLSRS_TRACE_DIR", &log_dir)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stdout)
        );
        let log = std::fs::read_to_string(log_dir.join("io.txt")).unwrap();
        // The first call's processes, one segment each.
        let segments: Vec<&str> = log
            .split("P\n")
            .skip(1)
            .take(wiring.processes.len())
            .collect();
        assert_eq!(segments.len(), wiring.processes.len(), "{name}");
        for (k, seg) in segments.iter().enumerate() {
            let (mut ins, mut outs, mut acts) = (Vec::new(), Vec::new(), Vec::new());
            for line in seg.lines() {
                let (what, addr) = line.split_once(' ').unwrap();
                match what {
                    "I" => ins.push(addr),
                    "O" => outs.push(addr),
                    "R" => acts.push(Act::Read(
                        ins.iter()
                            .position(|&a| a == addr)
                            .expect("a read of another stream"),
                    )),
                    // A clone writes each pixel to both outputs: one write of the program.
                    "W" if addr == outs[0] => acts.push(Act::Write),
                    "W" => assert!(outs.contains(&addr), "{name}: a write to another stream"),
                    other => panic!("{other}"),
                }
            }
            assert_eq!(ins.len(), wiring.processes[k].inputs.len(), "{name} {k}");
            assert_eq!(
                acts,
                wiring.programs[k],
                "{name} ({:?}): process {k} ({:?} {:?} -> {:?})",
                config.strategy,
                wiring.processes[k].kind,
                wiring.processes[k].inputs,
                wiring.processes[k].outputs
            );
        }
    }
}
