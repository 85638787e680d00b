//! `bgpd`: the Petrel BGP daemon.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// The Petrel BGP daemon.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Run with this configuration file (TOML).
    #[arg(long, value_name = "PATH", conflicts_with = "check_config")]
    config: Option<PathBuf>,
    /// Validate this configuration file, print the problems, and exit.
    #[arg(long, value_name = "PATH")]
    check_config: Option<PathBuf>,
    /// Serve the API on this unix socket instead of the configured one.
    #[arg(long, value_name = "PATH")]
    api_socket: Option<PathBuf>,
    /// Log filter (tracing EnvFilter syntax); RUST_LOG overrides it.
    #[arg(long, default_value = "info")]
    log: String,
}

/// mimalloc instead of glibc's malloc: the RIB allocates and frees many small objects
/// per UPDATE, and mimalloc does that faster and returns memory more promptly
/// (docs/performance.md has the measurements).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(path) = &args.check_config {
        return match bgpd::config::load(path) {
            Ok(c) => {
                println!(
                    "{}: OK (AS {}, router id {}, {} neighbors, {} originated prefixes)",
                    path.display(),
                    c.global.asn,
                    c.global.router_id,
                    c.neighbors.len(),
                    c.originate.len()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        };
    }
    let Some(path) = args.config.clone() else {
        eprintln!("bgpd: give --config PATH to run, or --check-config PATH to validate");
        return ExitCode::from(2);
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&args.log));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        // Colour only on a terminal: logs in files stay plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(path, args.api_socket) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bgpd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(path: PathBuf, api_socket: Option<PathBuf>) -> anyhow::Result<()> {
    let mut config = bgpd::config::load(&path).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(socket) = api_socket {
        config.api.socket = Some(socket);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        bgpd::daemon::run(&config, Some(path), shutdown_signal())
            .await
            .context("cannot start")
    })
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        // Without signal handlers the process still ends on SIGTERM, just less politely.
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
