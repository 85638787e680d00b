//! A small S1 through bgpd in network namespaces, for correctness only (no timing
//! assertions): 10,000 IPv4 /24s from one injector must all reach the monitor with
//! bgpd's AS prepended to the sender's AS_PATH and bgpd's own address as next hop, and
//! after the injector withdraws everything, every withdrawal must reach the monitor.
//!
//! Needs root (network namespaces) and a debug `bgpd` (`cargo build -p bgpd`, which
//! `cargo test --workspace` does); skipped with a note otherwise.

use std::path::{Path, PathBuf};

use petrel_benches::daemons::Daemon;
use petrel_benches::runner::{Outcome, RunOptions, run_plan};
use petrel_benches::scenario::{DUT_ASN, Plan, Scenario};

fn bgpd() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PETREL_BGPD") {
        return Some(PathBuf::from(p));
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace.join("target"), PathBuf::from);
    Some(target.join("debug/bgpd")).filter(|p| p.is_file())
}

#[test]
fn s1_10k_prefixes_arrive_with_bgpds_path_and_next_hop_then_all_withdrawals() {
    if !nix_is_root() {
        eprintln!("skipped: not root (network namespaces need root)");
        return;
    }
    let bgpd = bgpd().expect("no debug bgpd: run `cargo build -p bgpd` (or set PETREL_BGPD)");
    // S5 is S1 plus the withdraw phase; 0.01 of a million is 10,000 prefixes.
    let mut plan = Plan::new(Scenario::S5, 0.01, true, 60.0);
    plan.strict_next_hop = true;
    assert_eq!(plan.shape.prefix_count(), 10_000);
    assert_eq!(plan.dut_asn, DUT_ASN);
    let work = tempfile::tempdir().expect("temp dir");
    let opts = RunOptions {
        bgpd,
        peers_exe: PathBuf::from(env!("CARGO_BIN_EXE_petrel-bench")),
        scale: 0.01,
        timeout_secs: 60.0,
        route_server_s2: false,
        work_dir: work.path().to_path_buf(),
        profile: false,
    };
    let run = run_plan(Daemon::Bgpd, "ci-s1", &plan, false, &opts).unwrap_or_else(|e| {
        let log = std::fs::read_to_string(work.path().join("ci-s1/daemon.log")).unwrap_or_default();
        let peers =
            std::fs::read_to_string(work.path().join("ci-s1/peers.log")).unwrap_or_default();
        panic!("run failed: {e}\n--- bgpd log ---\n{log}\n--- peers log ---\n{peers}")
    });
    assert_eq!(run.outcomes.len(), 2, "both phases end: {:?}", run.outcomes);
    assert!(
        run.outcomes
            .iter()
            .all(|o| matches!(o, Outcome::Done { .. })),
        "every prefix with the right AS_PATH and next hop, then every withdrawal: {:?} {:?}",
        run.outcomes,
        run.receivers
    );
    let monitor = &run.receivers[0];
    assert_eq!(
        monitor.wrong, 0,
        "a route with another path or next hop: {monitor:?}"
    );
    assert_eq!(monitor.unexpected, 0, "{monitor:?}");
    assert_eq!(monitor.announced, 10_000, "each prefix once: {monitor:?}");
    assert!(monitor.withdrawn >= 10_000, "{monitor:?}");
    assert!(run.peak_rss_kib.is_some_and(|k| k > 0));
}

fn nix_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| v.split_whitespace().nth(1).map(|e| e == "0"))
        })
        .unwrap_or(false)
}
