//! The `hlsrs` binary: parses arguments, runs the command, maps errors to exit codes
//! (0 ok, 2 bad input or config, 3 estimate over a --budget or traces that differ, 1 internal
//! error).

use clap::Parser;
use std::process::ExitCode;

/// A large design's compile allocates and frees arrays of tens of megabytes one after another
/// (a million-weight layer's quantized weights, their sparse layout, the header text). glibc
/// maps each block above 128 kB afresh and returns it on free, so every one page-faults anew: a
/// third of a 1.1 M-weight compile (scripts/bench_speed.py). Keep freed blocks up to 32 MB (the
/// largest threshold glibc takes) in the heap instead; a command lives for a second, so holding
/// memory until exit costs nothing.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_blocks() {
    // SAFETY: mallopt only sets allocator parameters; it runs before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_blocks() {}

fn main() -> ExitCode {
    keep_freed_blocks();
    let cli = hlsrs::cli::Cli::parse();
    match std::panic::catch_unwind(|| hlsrs::cli::run(cli)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
        Err(_) => {
            eprintln!("error: internal error (a bug in hlsrs); please report it with the model");
            ExitCode::from(1)
        }
    }
}
