//! The table: one row per scenario and daemon, with bgpd's ratio to each daemon.

use std::fmt::Write as _;

use crate::daemons::Daemon;
use crate::runner::{Measurement, Outcome};

fn wall(m: &Measurement) -> String {
    match &m.outcome {
        Outcome::Done { secs } => format!("{secs:.2} s"),
        Outcome::Timeout { limit } => format!("timeout > {limit:.0} s"),
        Outcome::Failed(e) => {
            let short: String = e.chars().take(60).collect();
            format!("failed: {short}")
        }
    }
}

fn opt(v: Option<f64>, unit: &str, digits: usize) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.digits$}{unit}"))
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
        _ => "-".to_string(),
    }
}

/// The table in Markdown.
pub fn table(rows: &[Measurement]) -> String {
    let mut s = String::from(
        "| scenario | daemon | wall | prefixes/s | daemon CPU | peak RSS | bgpd wall ratio | bgpd RSS ratio |\n\
         |---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for m in rows {
        let bgpd = rows
            .iter()
            .find(|b| b.scenario == m.scenario && b.daemon == Daemon::Bgpd);
        let rss = |m: &Measurement| m.peak_rss_kib.map(|k| k as f64 / 1024.0);
        let rate = m.secs().map(|s| f64::from(m.prefixes) / s.max(1e-9));
        let name = if m.route_server {
            format!("{} (route server)", m.daemon)
        } else {
            m.daemon.to_string()
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            m.scenario,
            name,
            wall(m),
            rate.map_or_else(|| "-".into(), |r| format!("{:.0}", r)),
            opt(m.cpu_secs, " s", 2),
            opt(rss(m), " MB", 0),
            if m.daemon == Daemon::Bgpd {
                "1".to_string()
            } else {
                ratio(bgpd.and_then(Measurement::secs), m.secs())
            },
            if m.daemon == Daemon::Bgpd {
                "1".to_string()
            } else if m.secs().is_some() && bgpd.and_then(Measurement::secs).is_some() {
                ratio(bgpd.and_then(rss), rss(m))
            } else {
                // A run that did not finish did not reach its peak.
                "-".to_string()
            },
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    fn m(daemon: Daemon, outcome: Outcome, rss: u64) -> Measurement {
        Measurement {
            scenario: Scenario::S1,
            daemon,
            route_server: false,
            outcome,
            cpu_secs: Some(1.0),
            peak_rss_kib: Some(rss),
            prefixes: 1_000_000,
            receivers: Vec::new(),
        }
    }

    #[test]
    fn ratios_are_bgpd_over_each_daemon_and_timeouts_say_so() {
        let rows = vec![
            m(Daemon::Bgpd, Outcome::Done { secs: 0.5 }, 100 * 1024),
            m(Daemon::Bird, Outcome::Done { secs: 1.0 }, 125 * 1024),
            m(Daemon::Gobgp, Outcome::Timeout { limit: 60.0 }, 2000 * 1024),
        ];
        let t = table(&rows);
        let bird = t
            .lines()
            .find(|l| l.contains("| bird |"))
            .unwrap_or_default();
        assert!(bird.contains("| 0.50 | 0.80 |"), "{bird}");
        assert!(bird.contains("1000000"), "{bird}");
        let gobgp = t
            .lines()
            .find(|l| l.contains("| gobgp |"))
            .unwrap_or_default();
        assert!(gobgp.contains("timeout > 60 s"), "{gobgp}");
        assert!(gobgp.ends_with("| - | - |"), "{gobgp}");
    }
}
