//! `petrel-lab`: builds a containerlab topology from network namespaces and veth pairs.
//!
//! ```text
//! petrel-lab up FILE               build, print nodes and addresses, wait for Ctrl-C/SIGTERM, tear down
//! petrel-lab run FILE -- CMD...    build, run CMD with PLAB_NS_<NODE> set, tear down, exit with CMD's status
//! petrel-lab check FILE            check a topology without building it
//! petrel-lab clean                 remove namespaces and directories of crashed runs
//! ```

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use nix::sys::signal::Signal;
use petrel_lab::{Lab, LabOptions, Topology};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(name = "petrel-lab", version, about)]
struct Cli {
    /// Petrel's bgpd binary for nodes of image ghcr.io/petrel-net/petrel
    /// (default: $PETREL_BGPD, else target/debug/bgpd).
    #[arg(long, global = true)]
    bgpd: Option<PathBuf>,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Build the lab, print its nodes and addresses, and keep it until Ctrl-C or SIGTERM.
    Up {
        /// The containerlab topology file.
        file: PathBuf,
    },
    /// Build the lab, run a command beside it, tear it down, and exit with the command's
    /// status. The command sees PLAB_NAME, PLAB_DIR, PLAB_NODES and PLAB_NS_<NODE> (the
    /// node's namespace; name upper-cased, '-' as '_'). A single argument is a shell script.
    Run {
        /// The containerlab topology file.
        file: PathBuf,
        /// The command (after `--`).
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Check a topology file without building anything.
    Check {
        /// The containerlab topology file.
        file: PathBuf,
    },
    /// Remove namespaces and directories left by runs that were killed.
    Clean,
}

fn main() -> ExitCode {
    // Handle (not block) the stop signals, so that they wait for us instead of killing us
    // mid-teardown. A blocked mask would be inherited by every daemon and command we start
    // (exec keeps it), and they would never see their SIGTERM; handlers are reset by exec.
    let stop = match Signals::new([SIGINT, SIGTERM, SIGHUP]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("petrel-lab: cannot handle signals: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli, stop) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("petrel-lab: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The name of a signal number, for messages.
fn signal_name(signal: i32) -> String {
    Signal::try_from(signal).map_or_else(|_| format!("signal {signal}"), |s| s.to_string())
}

fn run(cli: Cli, mut stop: Signals) -> Result<ExitCode> {
    let mut options = LabOptions::default();
    options.bgpd = cli.bgpd;
    match cli.command {
        Cmd::Check { file } => {
            let topo = Topology::load(&file)?;
            // Output may go to a closed pipe (`| head`): that is not an error of ours.
            let mut out = std::io::stdout().lock();
            let _ = writeln!(
                out,
                "{}: lab {} with {} nodes and {} links is valid",
                file.display(),
                topo.name,
                topo.nodes.len(),
                topo.links.len()
            );
            for node in &topo.nodes {
                let _ = writeln!(
                    out,
                    "  {:<10} {:<7} {}",
                    node.name, node.software, node.image
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Clean => {
            for removed in petrel_lab::clean_stale() {
                println!("removed {removed}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Up { file } => {
            let lab = Lab::up(&file, options)
                .with_context(|| format!("cannot build {}", file.display()))?;
            print!("{}", lab.summary());
            println!("lab is up; Ctrl-C or SIGTERM tears it down");
            let signal = stop.forever().next().context("waiting for a signal")?;
            println!("{}: tearing down lab {}", signal_name(signal), lab.name());
            lab.down()?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Run { file, command } => {
            let lab = Lab::up(&file, options)
                .with_context(|| format!("cannot build {}", file.display()))?;
            eprint!("{}", lab.summary());
            let status = run_beside(&lab, &command, stop);
            let down = lab.down();
            let status = status?;
            down?;
            Ok(match status.code() {
                Some(0) => ExitCode::SUCCESS,
                Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
                None => {
                    eprintln!("petrel-lab: command ended by {status}");
                    ExitCode::FAILURE
                }
            })
        }
    }
}

/// Runs the user's command with the lab's environment; a stop signal sent to us is passed on
/// to it (a Ctrl-C at the terminal reaches it directly).
fn run_beside(
    lab: &Lab,
    command: &[String],
    mut stop: Signals,
) -> Result<std::process::ExitStatus> {
    let mut cmd = match command {
        [script] => {
            let mut c = Command::new("sh");
            c.args(["-c", script]);
            c
        }
        [program, args @ ..] => {
            let mut c = Command::new(program);
            c.args(args);
            c
        }
        [] => bail!("no command given"),
    };
    cmd.env("PLAB_NAME", lab.name())
        .env("PLAB_DIR", lab.dir())
        .env("PLAB_NODES", lab.nodes().collect::<Vec<_>>().join(" "));
    for node in lab.nodes() {
        cmd.env(env_name(node), lab.netns(node)?);
    }
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot run {command:?}"))?;
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    // Lives until the process exits; it only ever waits for a signal.
    std::thread::spawn(move || {
        for signal in stop.forever() {
            let _ = nix::sys::signal::kill(pid, Signal::SIGTERM);
            eprintln!("petrel-lab: {}: stopping the command", signal_name(signal));
        }
    });
    child.wait().context("waiting for the command")
}

/// `PLAB_NS_<NODE>`: the node name upper-cased, anything else than letters and digits as `_`.
fn env_name(node: &str) -> String {
    let name: String = node
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("PLAB_NS_{name}")
}
