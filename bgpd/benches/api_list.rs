//! ListPaths over the unix socket on a table of 1,000,000 IPv4 /24 paths, with the
//! latency of GetGlobal (which goes through the RIB task) measured while the listing runs,
//! to show that a listing does not hold the RIB.
//!
//! One process holds the daemon and the client (so the peak RSS counts both). Not run in
//! CI; run it with:
//!
//! ```sh
//! cargo bench -p bgpd --bench api_list
//! ```
//!
//! The figures of a run are in `docs/api.md`.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bgp_api::bgpd::v1 as pb;
use bgp_api::bgpd::v1::bgpd_client::BgpdClient;
use tonic::transport::{Channel, Endpoint};

/// Paths in the table.
const PATHS: u32 = 1_000_000;
/// Distinct attribute sets among them (by MED).
const ATTRIBUTE_SETS: u32 = 4_000;
/// Pause between two GetGlobal probes.
const PROBE_EVERY: Duration = Duration::from_millis(10);

fn main() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(run())
}

/// The `i`-th IPv4 /24 from 10.0.0.0/24 on.
fn slash24(i: u32) -> String {
    format!("{}.{}.{}.0/24", 10 + i / 65536, (i / 256) % 256, i % 256)
}

/// A kB figure of /proc/self/status (`VmHWM`: peak resident set; `VmRSS`: now), in MiB.
fn memory(key: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok());
    kb.unwrap_or(f64::NAN) / 1024.0
}

async fn channel(path: &Path) -> anyhow::Result<Channel> {
    let path = path.to_path_buf();
    let channel = Endpoint::try_from("http://[::]:50051")?
        .connect_with_connector(tower::service_fn(move |_| {
            let p = path.clone();
            async move {
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(
                    tokio::net::UnixStream::connect(p).await?,
                ))
            }
        }))
        .await?;
    Ok(channel)
}

/// GetGlobal latencies, one call every [`PROBE_EVERY`] until `stop` (or `count` calls).
async fn probe(
    mut api: BgpdClient<Channel>,
    stop: Arc<AtomicBool>,
    count: usize,
) -> anyhow::Result<Vec<Duration>> {
    let mut out = Vec::new();
    while !stop.load(Ordering::Relaxed) && out.len() < count {
        let t = Instant::now();
        api.get_global(pb::GetGlobalRequest {}).await?;
        out.push(t.elapsed());
        tokio::time::sleep(PROBE_EVERY).await;
    }
    Ok(out)
}

/// "median X ms, max Y ms (n calls)".
fn latencies(mut v: Vec<Duration>) -> String {
    v.sort();
    let ms = |d: Option<&Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0);
    let (median, max) = (ms(v.get(v.len() / 2)), ms(v.last()));
    format!("median {median:.1} ms, max {max:.1} ms ({} calls)", v.len())
}

async fn run() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let socket = dir.path().join("bgpd.sock");
    let text = format!(
        "[global]\nasn = 65001\nrouter_id = \"10.0.0.1\"\nlisten = []\n[api]\nsocket = \"{}\"\n",
        socket.display()
    );
    let cfg = bgpd::config::from_str(&text, "bench.toml")?;
    let daemon = bgpd::daemon::Daemon::start(&cfg).await?;
    let mut api = BgpdClient::new(channel(&socket).await?);
    let rss_start = memory("VmHWM");

    // Load: one AddPathStream, its requests made as they are sent.
    let t = Instant::now();
    let reqs = (0..PATHS).map(|i| pb::AddPathRequest {
        path: Some(pb::Path {
            prefix: slash24(i),
            med: Some(i % ATTRIBUTE_SETS),
            communities: vec![(65001 << 16) | 100],
            ..Default::default()
        }),
    });
    let added = api
        .add_path_stream(tokio_stream::iter(reqs))
        .await?
        .into_inner()
        .added;
    let deadline = Instant::now() + Duration::from_secs(120);
    let global = loop {
        let g = api.get_global(pb::GetGlobalRequest {}).await?.into_inner();
        if g.ipv4_prefixes == u64::from(PATHS) {
            break g;
        }
        if Instant::now() > deadline {
            bail!("only {} of {PATHS} prefixes in the table", g.ipv4_prefixes);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let load = t.elapsed();
    let rss_loaded = memory("VmHWM");

    // GetGlobal on an idle daemon, for comparison.
    let idle = probe(
        BgpdClient::new(channel(&socket).await?),
        Arc::default(),
        100,
    )
    .await?;

    // The listing, with GetGlobal probes on their own connection meanwhile.
    let stop = Arc::new(AtomicBool::new(false));
    let prober = BgpdClient::new(channel(&socket).await?);
    let probes = tokio::spawn(probe(prober, Arc::clone(&stop), usize::MAX));
    let t = Instant::now();
    let mut stream = api
        .list_paths(pb::ListPathsRequest::default())
        .await?
        .into_inner();
    let (mut listed, mut responses) = (0usize, 0usize);
    while let Some(r) = stream.message().await? {
        listed += r.paths.len();
        responses += 1;
    }
    let listing = t.elapsed();
    stop.store(true, Ordering::Relaxed);
    let busy = probes.await.context("probe task")??;
    let rss_listed = memory("VmHWM");
    if listed != PATHS as usize {
        bail!("listed {listed} of {PATHS} paths");
    }

    let per_s = |n: u64, d: Duration| n as f64 / d.as_secs_f64();
    println!();
    println!(
        "api_list: {PATHS} IPv4 /24 paths, {} attribute sets",
        global.attribute_sets
    );
    println!("| measure | result |");
    println!("|---|---|");
    println!(
        "| load: AddPathStream of {added} paths, until all are in the table | {:.2} s, {:.0} paths/s |",
        load.as_secs_f64(),
        per_s(added, load)
    );
    println!(
        "| ListPaths of the whole table over the unix socket | {:.2} s, {:.0} paths/s, {responses} responses |",
        listing.as_secs_f64(),
        per_s(listed as u64, listing)
    );
    println!("| GetGlobal, idle daemon | {} |", latencies(idle));
    println!("| GetGlobal during the listing | {} |", latencies(busy));
    println!(
        "| peak RSS (VmHWM), daemon and client | start {rss_start:.0} MiB, loaded {rss_loaded:.0} MiB, after the listing {rss_listed:.0} MiB |"
    );
    println!("| RSS now (VmRSS) | {:.0} MiB |", memory("VmRSS"));
    daemon.shutdown("benchmark over").await;
    Ok(())
}
