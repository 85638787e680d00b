//! Runs one scenario against one daemon: builds the two-namespace lab with the daemon's
//! config (through `petrel-lab`), starts the peers process in the peers namespace, reads
//! its events, samples the daemon's CPU time and peak RSS from /proc, and tears the lab
//! down again, also on failure, timeout or a stop request.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use petrel_lab::{Lab, LabOptions};
use serde::Serialize;

use crate::daemons::{Daemon, lab_files};
use crate::monitor::Counts;
use crate::peers::Event;
use crate::scenario::{Plan, Scenario};

/// Set by a signal handler: stop the run in progress and tear it down.
pub static STOP: AtomicBool = AtomicBool::new(false);

/// Extra time the peers process gets beyond the plan's timeout (encoding, sessions).
const GRACE: Duration = Duration::from_secs(120);

/// What a run needs besides the scenario and the daemon.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// bgpd binary (a release build for figures).
    pub bgpd: PathBuf,
    /// This program, which runs the peers process (`petrel-bench peers`).
    pub peers_exe: PathBuf,
    /// Scale factor of every scenario's sizes.
    pub scale: f64,
    /// Seconds a phase may take before it counts as a timeout.
    pub timeout_secs: f64,
    /// Configure a route server for S2 where the daemon has one.
    pub route_server_s2: bool,
    /// Directory for plans, configs and logs of the runs.
    pub work_dir: PathBuf,
    /// Record the daemon with `perf record -g` during the last measured phase (S5's
    /// withdrawals; the only phase of the others), into `perf.data` in the run's directory.
    pub profile: bool,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Outcome {
    /// Every monitor got everything: seconds from the first UPDATE to the last prefix.
    Done {
        /// Wall seconds of the measured phase.
        secs: f64,
    },
    /// The phase did not finish within the timeout.
    Timeout {
        /// The timeout in seconds.
        limit: f64,
    },
    /// The run failed; why.
    Failed(String),
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measurement {
    /// Scenario.
    pub scenario: Scenario,
    /// Daemon.
    pub daemon: Daemon,
    /// Whether the daemon ran as a route server.
    pub route_server: bool,
    /// Result.
    pub outcome: Outcome,
    /// Daemon CPU seconds (user + system) during the measured phase.
    pub cpu_secs: Option<f64>,
    /// Daemon peak resident set (VmHWM) at the end of the run, in KiB.
    pub peak_rss_kib: Option<u64>,
    /// Distinct prefixes of the scenario.
    pub prefixes: u32,
    /// Receivers' counters.
    pub receivers: Vec<Counts>,
}

impl Measurement {
    /// Wall seconds if the run completed.
    pub fn secs(&self) -> Option<f64> {
        match self.outcome {
            Outcome::Done { secs } => Some(secs),
            _ => None,
        }
    }
}

/// CPU seconds (user + system, all threads) of a process so far.
pub fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at state (field 3).
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every Linux ABI.
    Some((utime + stime) as f64 / 100.0)
}

/// Peak resident set size (VmHWM) of a process, in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// The runs that measure `scenarios`: S5 is measured in the same run as S1 when both
/// are asked for (its withdraw phase follows S1's announcements).
pub fn runs_for(scenarios: &[Scenario]) -> Vec<Scenario> {
    let mut out = Vec::new();
    for &s in scenarios {
        if s == Scenario::S1 && scenarios.contains(&Scenario::S5) {
            continue;
        }
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// Runs `scenario` against `daemon`. Returns one measurement, two for S5 (S1's
/// announcements, then the withdrawals).
pub fn run(daemon: Daemon, scenario: Scenario, opts: &RunOptions) -> Vec<Measurement> {
    let route_server = scenario == Scenario::S2 && opts.route_server_s2;
    let plan = Plan::new(scenario, opts.scale, !route_server, opts.timeout_secs);
    let blank = |s: Scenario, outcome: Outcome| Measurement {
        scenario: s,
        daemon,
        route_server,
        outcome,
        cpu_secs: None,
        peak_rss_kib: None,
        prefixes: plan.shape.prefix_count(),
        receivers: Vec::new(),
    };
    let phases: Vec<Scenario> = if scenario == Scenario::S5 {
        vec![Scenario::S1, Scenario::S5]
    } else {
        vec![scenario]
    };
    let label = format!("{}-{}", scenario.name(), daemon.name());
    match run_plan(daemon, &label, &plan, route_server, opts) {
        Ok(r) => phases
            .iter()
            .enumerate()
            .map(|(n, &s)| {
                let mut m = blank(
                    s,
                    r.outcomes.get(n).cloned().unwrap_or_else(|| {
                        Outcome::Failed("not measured: announcements unfinished".into())
                    }),
                );
                m.cpu_secs = r.cpu.get(n).copied().flatten();
                m.peak_rss_kib = r.peak_rss_kib;
                m.receivers = r.receivers.clone();
                m
            })
            .collect(),
        Err(e) => phases
            .iter()
            .map(|&s| blank(s, Outcome::Failed(e.clone())))
            .collect(),
    }
}

/// What one run of a plan gave.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanRun {
    /// One outcome per phase reached: the announcements, then the withdrawals.
    pub outcomes: Vec<Outcome>,
    /// Daemon CPU seconds of each phase.
    pub cpu: Vec<Option<f64>>,
    /// Daemon peak RSS at the end, KiB.
    pub peak_rss_kib: Option<u64>,
    /// Every receiver's counters, in plan order.
    pub receivers: Vec<Counts>,
}

/// Kills the peers process when dropped.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `plan` against `daemon` in a lab of its own, under `opts.work_dir/label`.
pub fn run_plan(
    daemon: Daemon,
    label: &str,
    plan: &Plan,
    route_server: bool,
    opts: &RunOptions,
) -> Result<PlanRun, String> {
    let dir = opts.work_dir.join(label);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let dir = dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    for (name, contents) in lab_files(daemon, plan, route_server, &dir) {
        write(&dir.join(name), &contents)?;
    }
    let plan_path = dir.join("plan.json");
    let plan_json = serde_json::to_string(plan).map_err(|e| e.to_string())?;
    write(&plan_path, &plan_json)?;

    let mut lab_opts = LabOptions::default();
    lab_opts.bgpd = Some(opts.bgpd.clone());
    lab_opts.ready_timeout = Duration::from_secs(30);
    let lab = Lab::up(dir.join("bench.clab.yml"), lab_opts).map_err(|e| format!("lab: {e}"))?;
    let result = drive(&lab, &dir, &plan_path, plan, opts);
    let incomplete = result.as_ref().map_or(true, |r| {
        r.outcomes.len() < usize::from(plan.withdraw) + 1
            || r.outcomes
                .iter()
                .any(|o| !matches!(o, Outcome::Done { .. }))
    });
    if incomplete {
        // Keep the daemon's log beside the plan for a look afterwards.
        if let Ok(log) = lab.log_path("dut") {
            let _ = std::fs::copy(log, dir.join("daemon.log"));
        }
    }
    drop(lab);
    result
}

fn drive(
    lab: &Lab,
    dir: &Path,
    plan_path: &Path,
    plan: &Plan,
    opts: &RunOptions,
) -> Result<PlanRun, String> {
    let pid = lab
        .pid("dut")
        .map_err(|e| e.to_string())?
        .ok_or("the daemon is not running")?;
    let ns = lab.netns("peers").map_err(|e| e.to_string())?;
    let stderr = std::fs::File::create(dir.join("peers.log")).map_err(|e| e.to_string())?;
    let child = Command::new("ip")
        .args(["netns", "exec", ns])
        .arg(&opts.peers_exe)
        .arg("peers")
        .arg(plan_path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(stderr))
        .spawn()
        .map_err(|e| format!("peers process: {e}"))?;
    let mut child = Reaped(child);
    let stdout = child
        .0
        .stdout
        .take()
        .ok_or("peers process without stdout")?;
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });

    let phases = if plan.withdraw { 2 } else { 1 };
    let deadline =
        Instant::now() + GRACE + Duration::from_secs_f64(opts.timeout_secs * phases as f64);
    let mut run = PlanRun {
        outcomes: Vec::new(),
        cpu: Vec::new(),
        peak_rss_kib: None,
        receivers: Vec::new(),
    };
    let mut mark = None;
    let mut perf: Option<Child> = None;
    loop {
        if STOP.load(Ordering::Relaxed) {
            return Err("stopped".into());
        }
        if Instant::now() > deadline {
            return Err("the peers process did not finish in time".into());
        }
        let line = match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(l) => l,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        let event: Event = match serde_json::from_str(&line) {
            Ok(e) => e,
            Err(e) => return Err(format!("peers process said {line:?}: {e}")),
        };
        let cpu = cpu_secs(pid);
        let since = |m: Option<f64>| Some(cpu? - m?);
        match event {
            Event::Ready { .. } => {
                mark = cpu;
                if opts.profile {
                    perf = start_perf(pid, dir);
                }
            }
            Event::Announced { secs, .. } | Event::Withdrawn { secs } => {
                stop_perf(&mut perf);
                run.outcomes.push(Outcome::Done { secs });
                run.cpu.push(since(mark));
                mark = cpu;
                if opts.profile && run.outcomes.len() < phases {
                    perf = start_perf(pid, dir);
                }
            }
            Event::Timeout { .. } => {
                stop_perf(&mut perf);
                run.outcomes.push(Outcome::Timeout {
                    limit: opts.timeout_secs,
                });
                run.cpu.push(since(mark));
            }
            Event::Failed { error } => run.outcomes.push(Outcome::Failed(error)),
            Event::Done { receivers } => {
                run.receivers = receivers;
                break;
            }
        }
    }
    run.peak_rss_kib = peak_rss_kib(pid);
    let _ = child.0.wait();
    if run.outcomes.is_empty() {
        return Err(format!(
            "the peers process ended without a result; see {}",
            dir.join("peers.log").display()
        ));
    }
    Ok(run)
}

/// Starts `perf record -g` on `pid`, writing `dir/perf.data`.
fn start_perf(pid: u32, dir: &Path) -> Option<Child> {
    Command::new("perf")
        .args(["record", "-g", "-F", "1999", "-p", &pid.to_string(), "-o"])
        .arg(dir.join("perf.data"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| eprintln!("petrel-bench: perf: {e}"))
        .ok()
}

/// Stops a `perf record` with SIGINT (so that it writes its file) and waits for it.
fn stop_perf(perf: &mut Option<Child>) {
    if let Some(mut p) = perf.take() {
        let _ = Command::new("kill")
            .args(["-INT", &p.id().to_string()])
            .status();
        let _ = p.wait();
    }
}

fn write(path: &Path, contents: &str) -> Result<(), String> {
    std::fs::write(path, contents).map_err(|e| format!("{}: {e}", path.display()))
}
