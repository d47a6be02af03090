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
/// memory until exit costs nothing. And ask for the heap in huge pages, past its first 8 MB.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    // SAFETY: mallopt only sets allocator parameters, and it runs before any other thread
    // exists; madvise only advises on [start, end), which lies inside the heap (from a block the
    // heap holds up to the break), and the block is freed after.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
        // The heap in 2 MB pages where the kernel allows it (transparent huge pages on madvise,
        // as glibc's own `glibc.malloc.hugetlb=1` does): a million-weight layer's arrays then
        // fault 512 times less often (hlsrs estimate of the 1.1 M-weight MLP: 17 k page faults
        // -> 3 k, 0.10 -> 0.07 s). The heap's mapping keeps the advice as it grows.
        // (A block bigger than what is free makes the heap grow by the top pad first.)
        let first = libc::malloc(1 << 20);
        let end = libc::sbrk(0) as usize;
        // Past the first 8 MB: a small model's compile, all of it within those, would only pay
        // for zeroing whole 2 MB pages it barely uses.
        let start = (first as usize + (8 << 20)).next_multiple_of(2 << 20);
        if !first.is_null() && (first as usize) < end && end > start {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
        libc::free(first);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}

fn main() -> ExitCode {
    tune_allocator();
    hlsrs::interrupt::install();
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
