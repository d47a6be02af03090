//! C-simulation without Vitis: builds a generated project's testbench with g++ and the ap_types
//! headers, and runs it on input bits the emulator's quantizer makes.

use crate::arrays::Array;
use crate::backend::MANIFEST;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Finds the ap_types headers: the flag, else HLSRS_AP_TYPES, else $XILINX_HLS/include.
pub fn find_ap_types(flag: Option<&Path>) -> Result<PathBuf> {
    let candidates: Vec<(String, PathBuf)> = [
        flag.map(|p| ("--ap-types".to_string(), p.to_path_buf())),
        std::env::var_os("HLSRS_AP_TYPES").map(|p| ("HLSRS_AP_TYPES".into(), PathBuf::from(p))),
        std::env::var_os("XILINX_HLS")
            .map(|p| ("XILINX_HLS".into(), PathBuf::from(p).join("include"))),
    ]
    .into_iter()
    .flatten()
    .collect();
    match candidates.first() {
        None => Err(Error::input(
            "no ap_types headers: pass --ap-types DIR, set HLSRS_AP_TYPES, or set XILINX_HLS \
             (scripts/fetch_ap_types.sh fetches the open-source headers)",
        )),
        Some((from, p)) if !p.join("ap_fixed.h").is_file() => Err(Error::input(format!(
            "{from} points to {}, which holds no ap_fixed.h",
            p.display()
        ))),
        Some((_, p)) => Ok(p.clone()),
    }
}

pub use crate::backend::project::{End, LayerInfo, ProjectInfo, parse_output_bits, read_info};

fn newest_mtime(dir: &Path) -> std::time::SystemTime {
    let mut newest = std::time::UNIX_EPOCH;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        // A folder's own time: a source removed from it is a change too.
        if let Ok(m) = d.symlink_metadata().and_then(|m| m.modified()) {
            newest = newest.max(m);
        }
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            // The entry's own type: a link to a folder is not followed (two links to each
            // other's folders would make this walk endless).
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(p);
            } else if let Ok(m) = e.metadata().and_then(|m| m.modified()) {
                newest = newest.max(m);
            }
        }
    }
    newest
}

/// The compiler flags of every C-simulation build (and of its precompiled header, which g++ only
/// uses when they match).
const CXXFLAGS: [&str; 3] = ["-std=c++14", "-O1", "-w"];

/// FNV-1a, to name a precompiled header by what it was made from.
fn fnv1a(bytes: &[u8], mut h: u64) -> u64 {
    for &b in bytes {
        h = (h ^ b as u64).wrapping_mul(0x100000001b3);
    }
    h
}

/// A precompiled header of the ap_types headers and the project's own layer library, in the cache
/// (`$HLSRS_CACHE`, else ~/.cache/hlsrs), made once per library content, ap_types folder and
/// compiler: parsing those headers is about half of a small design's build. The library is
/// copied from the project, so a project whose hls_lib was edited gets its own. None when it
/// cannot be made; the build then parses the headers itself, as g++ also does when it finds the
/// precompiled header unusable.
fn precompiled_header(dir: &Path, ap_types: &Path, cxx: &str, defines: &[&str]) -> Option<PathBuf> {
    let lib = dir.join("firmware").join("hls_lib");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&lib)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "h"))
        .collect();
    files.sort();
    let mut h = 0xcbf29ce484222325u64;
    for f in &files {
        h = fnv1a(f.file_name()?.as_encoded_bytes(), h);
        h = fnv1a(&std::fs::read(f).ok()?, h);
    }
    // The ap_types folder as it is now (headers updated in place make a new one).
    h = fnv1a(ap_types.as_os_str().as_encoded_bytes(), h);
    let mut ap: Vec<(PathBuf, u64, Option<std::time::SystemTime>)> = std::fs::read_dir(ap_types)
        .ok()?
        .flatten()
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            Some((e.path(), m.len(), m.modified().ok()))
        })
        .collect();
    ap.sort();
    h = fnv1a(format!("{ap:?}").as_bytes(), h);
    h = fnv1a(cxx.as_bytes(), h);
    // A define the headers read (HLSRS_TRACE) needs a header made with it.
    for d in defines {
        h = fnv1a(d.as_bytes(), h);
    }
    let cache = std::env::var_os("HLSRS_CACHE")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/hlsrs"))
        })?;
    let root = cache.join("pch").join(format!("{h:016x}"));
    let header = root.join("hlsrs_pch.h");
    if root.join("hlsrs_pch.h.gch").is_file() {
        return Some(header);
    }
    if root.join("failed").is_file() {
        return None;
    }
    // Made aside and renamed into place, so concurrent builds never see half a header.
    let tmp = cache
        .join("pch")
        .join(format!("{h:016x}.{}.tmp", std::process::id()));
    let made = (|| -> Option<()> {
        std::fs::create_dir_all(tmp.join("hls_lib")).ok()?;
        for f in &files {
            std::fs::copy(f, tmp.join("hls_lib").join(f.file_name()?)).ok()?;
        }
        std::fs::write(
            tmp.join("hlsrs_pch.h"),
            "#include \"ap_fixed.h\"\n#include \"ap_int.h\"\n#include \"hls_stream.h\"\n\
             #include \"hls_lib/hlsrs.h\"\n#include \"hls_lib/hlsrs_stream.h\"\n",
        )
        .ok()?;
        let ok = Command::new(cxx)
            .current_dir(&tmp)
            .args(CXXFLAGS)
            .args(defines)
            .arg(format!("-I{}", ap_types.display()))
            .args(["-x", "c++-header", "hlsrs_pch.h", "-o", "hlsrs_pch.h.gch"])
            .output()
            .ok()?
            .status
            .success();
        ok.then_some(())
    })();
    if made.is_some() && std::fs::rename(&tmp, &root).is_ok() {
        prune_cache(&cache.join("pch"));
        return Some(header);
    }
    let _ = std::fs::remove_dir_all(&tmp);
    if made.is_none() {
        // This compiler cannot make it: do not try again for every build.
        let _ =
            std::fs::create_dir_all(&root).and_then(|_| std::fs::write(root.join("failed"), ""));
    }
    // Another build may have put one in place meanwhile.
    root.join("hlsrs_pch.h.gch").is_file().then_some(header)
}

/// Precompiled headers kept: each is tens of MB, and every library version makes its own.
const PCH_KEPT: usize = 8;

/// Removes all but the newest `PCH_KEPT` precompiled headers.
fn prune_cache(pch: &Path) {
    let mut made: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(pch)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().ends_with(".tmp"))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    made.sort();
    let extra = made.len().saturating_sub(PCH_KEPT);
    for (_, p) in made.into_iter().take(extra) {
        let _ = std::fs::remove_dir_all(p);
    }
}

/// Builds (if sources changed) and returns the testbench executable.
pub fn build(dir: &Path, ap_types: &Path) -> Result<PathBuf> {
    build_exe(dir, ap_types, false)
}

/// The testbench, or with `trace` its twin that writes every layer's output (HLSRS_TRACE, with
/// a precompiled header of its own).
fn build_exe(dir: &Path, ap_types: &Path, trace: bool) -> Result<PathBuf> {
    let info = read_info(dir)?;
    let dir = &std::path::absolute(dir).map_err(|e| Error::io(dir, "resolve", e))?;
    let ap_types = &std::path::absolute(ap_types).map_err(|e| Error::io(ap_types, "resolve", e))?;
    let exe_name = if trace { "csim_trace" } else { "csim" };
    // build/ is where g++ writes: a link there would have it write elsewhere.
    let build = crate::confine::inside(dir, "build")?;
    let exe = build.join(exe_name);
    let sources_time = newest_mtime(&dir.join("firmware")).max(newest_mtime(&dir.join("tb")));
    let fresh = || {
        exe.metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t >= sources_time)
    };
    if fresh() {
        return Ok(exe);
    }
    std::fs::create_dir_all(&build).map_err(|e| Error::io(dir, "create build/", e))?;
    // One build at a time per project; a second csim waits, then finds the testbench made.
    let _lock = crate::confine::lock(&build, "building this C-simulation", BUILD_WAIT)?;
    if fresh() {
        return Ok(exe);
    }
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "g++".into());
    let defines: &[&str] = if trace { &["-DHLSRS_TRACE"] } else { &[] };
    let pch = precompiled_header(dir, ap_types, &cxx, defines);
    // The testbench and the design are compiled side by side, then linked: one g++ command
    // compiles its sources one after the other (the jet tagger's fresh csim: 1.67 -> 1.42 s;
    // a million-weight design is its own compile, 5.3 s beside the testbench's 0.4 s).
    let compile = |source: String, object: &str| {
        let mut cmd = Command::new(&cxx);
        cmd.current_dir(dir).args(CXXFLAGS).args(defines);
        if let Some(pch) = &pch {
            cmd.arg("-include").arg(pch);
        }
        start(
            cmd.arg(format!("-I{}", ap_types.display()))
                .args(["-c", &source, "-o", object]),
        )
    };
    let objects = [
        format!("build/{exe_name}_test.o"),
        format!("build/{exe_name}_design.o"),
    ];
    let run = |spawned: std::io::Result<std::process::Child>| {
        spawned
            .and_then(|c| c.wait_with_output())
            .map_err(|e| Error::internal(format!("cannot run g++: {e}")))
    };
    let test = compile(format!("tb/{}_test.cpp", info.name), &objects[0]);
    let design = compile(format!("firmware/{}.cpp", info.name), &objects[1]);
    let mut outs = vec![run(test)?, run(design)?];
    // Linked aside and renamed into place: a testbench another csim is running stays whole.
    let linked = format!("build/.{exe_name}.{}", std::process::id());
    if outs.iter().all(|o| o.status.success()) {
        outs.push(run(start(
            Command::new(&cxx)
                .current_dir(dir)
                .args(&objects)
                .args(["-o", &linked]),
        ))?);
        if outs.iter().all(|o| o.status.success()) {
            std::fs::rename(dir.join(&linked), &exe)
                .map_err(|e| Error::io(&exe, "write the testbench", e))?;
        }
    }
    if outs.iter().any(|o| !o.status.success()) {
        let _ = std::fs::remove_file(dir.join(&linked));
        let err: String = outs
            .iter()
            .map(|o| String::from_utf8_lossy(&o.stderr))
            .collect();
        let lines: Vec<&str> = err
            .lines()
            .filter(|l| l.contains("error"))
            .take(20)
            .collect();
        let errors = lines.join("\n");
        // A project as hlsrs wrote it that g++ refuses is hlsrs's bug; one whose sources were
        // removed or edited since is the user's to fix.
        return Err(match touched_sources(dir) {
            Some(why) => Error::input(format!(
                "g++ cannot build the C-simulation: {why} (`hlsrs compile` writes them again):\n{errors}"
            ))
            .in_file(dir),
            None => Error::internal(format!(
                "g++ failed to build the C-simulation of {}:\n{errors}",
                dir.display()
            )),
        });
    }
    Ok(exe)
}

/// How long a csim waits for another building the same project's testbench.
const BUILD_WAIT: std::time::Duration = std::time::Duration::from_secs(1800);

/// Why the project's sources are not the ones hlsrs wrote, if they are not: a file the
/// manifest lists under firmware/ or tb/ is missing, or changed after the manifest (which a
/// compile writes last).
fn touched_sources(dir: &Path) -> Option<String> {
    let written = dir
        .join(MANIFEST)
        .metadata()
        .and_then(|m| m.modified())
        .ok()?;
    let listed = crate::backend::listed_files(dir)?;
    let sources = listed
        .iter()
        .filter(|f| f.starts_with("firmware/") || f.starts_with("tb/"));
    for f in sources {
        match dir.join(f).metadata().and_then(|m| m.modified()) {
            Err(_) => return Some(format!("{f} is missing")),
            Ok(t) if t > written => return Some(format!("{f} was changed after hlsrs wrote it")),
            Ok(_) => {}
        }
    }
    None
}

/// Starts `cmd` with its output kept for the error message.
fn start(cmd: &mut Command) -> std::io::Result<std::process::Child> {
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
}

/// The testbench as a command. In C-simulation the top function's arrays (every layer's output
/// in io_parallel) live on the stack, which a large design overflows at the usual 8 MB (as
/// hls4ml's testbench does): on Unix the testbench runs through `sh` with the stack limit raised
/// as far as the hard limit allows (Linux grows the main thread's stack up to it).
fn testbench_command(exe: &Path) -> Command {
    if cfg!(unix) && Path::new("/bin/sh").exists() {
        let mut c = Command::new("/bin/sh");
        c.arg("-c")
            .arg("ulimit -s unlimited 2>/dev/null || ulimit -s \"$(ulimit -H -s)\" 2>/dev/null; exec \"$0\" \"$@\"")
            .arg(exe);
        c
    } else {
        Command::new(exe)
    }
}

/// How a testbench process ended, with the likely cause and fix where the signal says it.
fn how_it_ended(status: &std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return match sig {
                11 => "was killed by SIGSEGV (signal 11): most likely its arrays exceed the \
                       stack, whose limit hlsrs raises as far as the hard limit (`ulimit -H -s`) \
                       allows; raise that limit or compile a smaller design"
                    .into(),
                6 => "was aborted (SIGABRT, signal 6)".into(),
                9 => "was killed (SIGKILL, signal 9): most likely out of memory".into(),
                s => format!("was killed by signal {s}"),
            };
        }
    }
    match status.code() {
        Some(c) => format!("exited with code {c}"),
        None => "ended without an exit code".into(),
    }
}

/// Runs the C-simulation on samples; returns the outputs as floats (exact values of the bits).
pub fn run(dir: &Path, input: &Array, ap_types: &Path) -> Result<(Array, Vec<Vec<i128>>)> {
    let (y, bits, _) = run_exe(dir, input, ap_types, false)?;
    Ok((y, bits))
}

/// One layer's values in the C-simulation on every sample (the exact values of its bits),
/// `[samples, ...shape]`, a static design's steps second: as `hlsrs predict --trace` keeps them.
#[derive(Debug, Clone)]
pub struct CsimLayer {
    pub name: String,
    pub values: Array,
}

/// [`run`] with every layer's output traced (the testbench built with HLSRS_TRACE).
pub fn run_traced(
    dir: &Path,
    input: &Array,
    ap_types: &Path,
) -> Result<(Array, Vec<Vec<i128>>, Vec<CsimLayer>)> {
    run_exe(dir, input, ap_types, true)
}

/// Reads the trace files the testbench wrote into `trace_dir`: per layer a line per call.
fn read_trace(info: &ProjectInfo, trace_dir: &Path, samples: usize) -> Result<Vec<CsimLayer>> {
    info.layers
        .iter()
        .map(|l| {
            let path = trace_dir.join(format!("{}.txt", l.index));
            let text = std::fs::read_to_string(&path).map_err(|e| {
                Error::internal(format!(
                    "the traced testbench wrote no values of layer '{}': {e}",
                    l.name
                ))
            })?;
            let size: usize = l.shape.iter().product();
            let calls = samples * info.steps;
            let bits = parse_output_bits(&text, calls, size)
                .map_err(|e| Error::internal(format!("trace of layer '{}': {e}", l.name)))?;
            let data = bits.iter().flatten().map(|&b| l.ty.to_f64(b)).collect();
            let mut shape = vec![samples];
            if info.steps > 1 {
                shape.push(info.steps);
            }
            shape.extend(&l.shape);
            Ok(CsimLayer {
                name: l.name.clone(),
                values: Array { shape, data },
            })
        })
        .collect()
}

/// Runs the testbench on one share of the samples (their input lines): its output text, and
/// with `trace` every layer's values. Its files are named by process and share, and none stays
/// behind whatever happened.
fn run_share(
    dir: &Path,
    exe: &Path,
    info: &ProjectInfo,
    lines: &[String],
    share: usize,
    trace: bool,
) -> Result<(String, Vec<CsimLayer>)> {
    let build_dir = dir.join("build");
    let tag = format!("{}_{share}", std::process::id());
    let in_path = build_dir.join(format!("csim_in_{tag}.dat"));
    let out_path = build_dir.join(format!("csim_out_{tag}.dat"));
    let trace_dir = build_dir.join(format!("trace_{tag}"));
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(&in_path, text).map_err(|e| Error::io(&in_path, "write", e))?;
    let mut command = testbench_command(exe);
    if trace {
        let _ = std::fs::remove_dir_all(&trace_dir);
        std::fs::create_dir_all(&trace_dir)
            .map_err(|e| Error::io(&trace_dir, "create the trace folder", e))?;
        command.env("HLSRS_TRACE_DIR", &trace_dir);
    }
    let status = command
        .current_dir(dir)
        .arg(&in_path)
        .arg(&out_path)
        .output();
    let out = std::fs::read_to_string(&out_path);
    let traced = match (trace, &status) {
        (true, Ok(s)) if s.status.success() => Some(read_trace(info, &trace_dir, lines.len())),
        _ => None,
    };
    let _ = std::fs::remove_file(&in_path);
    let _ = std::fs::remove_file(&out_path);
    let _ = std::fs::remove_dir_all(&trace_dir);
    let status =
        status.map_err(|e| Error::internal(format!("cannot run {}: {e}", exe.display())))?;
    if !status.status.success() {
        return Err(Error::internal(format!(
            "C-simulation failed: the testbench {}\n{}",
            how_it_ended(&status.status),
            String::from_utf8_lossy(&status.stderr).trim_end()
        )));
    }
    let out = out.map_err(|e| Error::io(&out_path, "read", e))?;
    Ok((out, traced.transpose()?.unwrap_or_default()))
}

fn run_exe(
    dir: &Path,
    input: &Array,
    ap_types: &Path,
    trace: bool,
) -> Result<(Array, Vec<Vec<i128>>, Vec<CsimLayer>)> {
    let info = read_info(dir)?;
    if trace && info.layers.is_empty() {
        return Err(Error::input(
            "this project's hlsrs.json does not say which layer is which: compile it again with this hlsrs to trace it",
        )
        .in_file(dir));
    }
    // The testbench runs inside the project; its paths must not depend on our working directory.
    let dir = &std::path::absolute(dir).map_err(|e| Error::io(dir, "resolve", e))?;
    let rows = info.input_bits(input)?;
    let exe = build_exe(dir, ap_types, trace)?;
    let lines: Vec<String> = rows
        .iter()
        .map(|r| r.iter().map(i128::to_string).collect::<Vec<_>>().join(" "))
        .collect();
    // Samples are independent (a static design's state restarts with each sample), so untraced
    // runs split them over the machine's cores, one testbench process per share, in order.
    let jobs = if trace {
        1
    } else {
        crate::ir::parallel::cores().min(lines.len()).max(1)
    };
    let shares: Vec<&[String]> = lines.chunks(lines.len().div_ceil(jobs).max(1)).collect();
    let outs = crate::ir::parallel::par_map(shares.len(), |k| {
        run_share(dir, &exe, &info, shares[k], k, trace)
    })?;
    let mut out = String::new();
    let mut traced = Vec::new();
    for (text, t) in outs {
        out.push_str(&text);
        traced = t;
    }
    let bits = parse_output_bits(&out, input.rows(), info.output_count())?;
    Ok((info.output_array(&bits), bits, traced))
}
