//! `bgpctl`: the Petrel CLI, a thin gRPC client of bgpd with table and JSON output.
//!
//! Exit status: 0 done, 1 bgpd refused the request, 2 usage error, 3 bgpd unreachable.

mod addr;
mod cli;
mod commands;
mod error;
mod format;
mod parse;
mod tls;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::error::{EXIT_UNREACHABLE, Error};

fn main() -> ExitCode {
    // clap prints usage errors and exits with 2 itself.
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bgpctl: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_UNREACHABLE);
        }
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let result = runtime.block_on(commands::run(cli, &mut out));
    let _ = out.flush();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => report(&e),
    }
}

/// Prints each line of the error after `bgpctl: ` and gives its exit status.
fn report(e: &Error) -> ExitCode {
    let text = e.to_string();
    let mut stderr = io::stderr().lock();
    for line in text.lines() {
        let _ = writeln!(stderr, "bgpctl: {line}");
    }
    ExitCode::from(e.exit_code())
}
