//! The `hlsrs` binary: parses arguments, runs the command, maps errors to exit codes
//! (0 ok, 2 bad input or config, 3 estimate over a --budget or traces that differ, 1 internal
//! error).

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
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
