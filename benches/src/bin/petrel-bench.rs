//! `petrel-bench`: runs the scenarios of issue 6 against bgpd, BIRD, FRR and GoBGP and
//! prints one table (`run`), or is the peers process of one run (`peers PLAN`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use petrel_benches::daemons::Daemon;
use petrel_benches::report::table;
use petrel_benches::runner::{self, Outcome, RunOptions, STOP, runs_for};
use petrel_benches::scenario::{Plan, Scenario};

#[derive(Debug, Parser)]
#[command(name = "petrel-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Runs scenarios against daemons (as root) and prints the table.
    Run {
        /// Scenarios, comma-separated: S1, S1-100k, S2, S3, S4, S5, S6. S5 reuses S1's run.
        #[arg(
            long,
            short,
            value_delimiter = ',',
            default_value = "S1,S1-100k,S2,S3,S4,S5,S6"
        )]
        scenarios: Vec<Scenario>,
        /// Daemons, comma-separated: bgpd, bird, frr, gobgp.
        #[arg(
            long,
            short,
            value_delimiter = ',',
            default_value = "bgpd,bird,frr,gobgp"
        )]
        daemons: Vec<Daemon>,
        /// Scale factor of every scenario's prefix counts (1 = the sizes).
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// Seconds a phase may take before it is reported as a timeout.
        #[arg(long, default_value_t = 120.0)]
        timeout: f64,
        /// bgpd binary (default: $PETREL_BGPD, else `bgpd` next to this program).
        #[arg(long)]
        bgpd: Option<PathBuf>,
        /// Plain eBGP for S2 on every daemon, no route server.
        #[arg(long)]
        no_route_server: bool,
        /// Directory for configs, plans and logs (default: a fresh one under /tmp,
        /// removed afterwards unless a run failed).
        #[arg(long)]
        work_dir: Option<PathBuf>,
        /// Also write every measurement as JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Record each daemon with `perf record -g` during the measured phase (S5: the
        /// withdrawals) (`perf.data` in each run's directory, which is then kept).
        #[arg(long)]
        profile: bool,
    },
    /// The peers process of one run: reads a plan (JSON), prints events as JSON lines.
    Peers {
        /// The plan file.
        plan: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Peers { plan } => peers(plan),
        Cmd::Run {
            scenarios,
            daemons,
            scale,
            timeout,
            bgpd,
            no_route_server,
            work_dir,
            json,
            profile,
        } => run(
            &scenarios,
            &daemons,
            scale,
            timeout,
            bgpd,
            !no_route_server,
            work_dir,
            json,
            profile,
        ),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(2),
        Err(e) => {
            eprintln!("petrel-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn peers(path: PathBuf) -> anyhow::Result<bool> {
    let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    let plan: Plan = serde_json::from_str(&text).context("plan")?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    Ok(rt.block_on(petrel_benches::peers::run(plan)))
}

/// Turns SIGINT/SIGTERM into [`STOP`], so that the lab in use is torn down.
fn watch_signals() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::spawn(move || {
        rt.block_on(async {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut int), Ok(mut term)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) else {
                return;
            };
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            eprintln!("petrel-bench: stopping, tearing the lab down");
            STOP.store(true, Ordering::Relaxed);
        });
    });
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn run(
    scenarios: &[Scenario],
    daemons: &[Daemon],
    scale: f64,
    timeout: f64,
    bgpd: Option<PathBuf>,
    route_server_s2: bool,
    work_dir: Option<PathBuf>,
    json: Option<PathBuf>,
    profile: bool,
) -> anyhow::Result<bool> {
    if !(scale > 0.0 && scale.is_finite() && timeout > 0.0 && timeout.is_finite()) {
        bail!("--scale and --timeout must be positive");
    }
    watch_signals()?;
    let exe = std::env::current_exe().context("own path")?;
    let bgpd = bgpd
        .or_else(|| std::env::var_os("PETREL_BGPD").map(PathBuf::from))
        .unwrap_or_else(|| exe.with_file_name("bgpd"));
    if daemons.contains(&Daemon::Bgpd) && !bgpd.exists() {
        bail!(
            "no bgpd at {} (build it with `cargo build --release -p bgpd` or pass --bgpd)",
            bgpd.display()
        );
    }
    let temp = work_dir.is_none();
    let work_dir = work_dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("petrel-bench-{}", std::process::id()))
    });
    let opts = RunOptions {
        bgpd,
        peers_exe: exe,
        scale,
        timeout_secs: timeout,
        route_server_s2,
        work_dir: work_dir.clone(),
        profile,
    };
    let mut rows = Vec::new();
    for scenario in runs_for(scenarios) {
        for &daemon in daemons {
            if STOP.load(Ordering::Relaxed) {
                break;
            }
            eprintln!("petrel-bench: {scenario} on {daemon} ...");
            for m in runner::run(daemon, scenario, &opts) {
                eprintln!(
                    "petrel-bench:   {}: {:?}, CPU {:?} s, peak RSS {:?} KiB",
                    m.scenario, m.outcome, m.cpu_secs, m.peak_rss_kib
                );
                if m.scenario == Scenario::S1 && !scenarios.contains(&Scenario::S1) {
                    continue;
                }
                rows.push(m);
            }
        }
    }
    // Table order: scenarios as asked, daemons as asked.
    rows.sort_by_key(|m| {
        (
            scenarios.iter().position(|s| *s == m.scenario),
            daemons.iter().position(|d| *d == m.daemon),
        )
    });
    println!(
        "scale {scale}, timeout {timeout} s, {} CPUs\n",
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    println!("{}", table(&rows));
    if let Some(path) = json {
        std::fs::write(&path, serde_json::to_string_pretty(&rows)?)
            .with_context(|| path.display().to_string())?;
    }
    let failed = rows.iter().any(|m| matches!(m.outcome, Outcome::Failed(_)));
    if temp && !failed && !profile {
        let _ = std::fs::remove_dir_all(&work_dir);
    } else if failed || profile {
        eprintln!(
            "petrel-bench: configs and logs kept in {}",
            work_dir.display()
        );
    }
    Ok(!failed && !STOP.load(Ordering::Relaxed))
}
