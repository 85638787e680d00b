//! `fib-adapter`: bgpd's best paths into a kernel routing table.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use fib_adapter::bgpd::{self, Watcher};
use fib_adapter::config::{Cli, Settings};
use fib_adapter::fib::{Fib, FibMsg, FibOptions, WINDOW};
use fib_adapter::metrics::{self, Metrics};
use fib_adapter::netlink::{self, Kernel};
use fib_adapter::redistribute::Redistributor;
use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{Notify, mpsc, watch};
use tracing::{info, warn};

/// Events queued between the watch task and the FIB task (each a batch of routes).
const FIB_QUEUE: usize = 64;
/// Quiet time after an interface or address change before acting on it.
const MONITOR_DEBOUNCE: Duration = Duration::from_millis(200);
/// How long in-flight netlink requests get at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let settings = Settings::load(&cli)?;
    bgpd::check_addr(&settings.api)?;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(run(settings))
}

async fn run(settings: Settings) -> anyhow::Result<()> {
    let spec = settings.spec;
    info!(
        api = %settings.api,
        table = spec.table,
        protocol = spec.protocol,
        metric = spec.metric,
        stale_time_s = settings.stale_time.as_secs(),
        "fib-adapter starting"
    );
    let metrics = Metrics::new();
    if let Some(addr) = settings.metrics {
        metrics::serve(addr, metrics.clone())
            .await
            .with_context(|| format!("cannot serve metrics on {addr}"))?;
    }
    let (kernel, _conn) = Kernel::connect(spec)?;
    let (fib, _status) = Fib::new(
        kernel.clone(),
        FibOptions {
            stale_time: settings.stale_time,
            scan_interval: settings.scan_interval,
            window: WINDOW,
        },
        metrics.clone(),
    )?;
    let (fib_tx, fib_rx) = mpsc::channel(FIB_QUEUE);
    let fib_task = tokio::spawn(fib.run(fib_rx));

    let (sessions_tx, sessions_rx) = watch::channel(0u64);
    let watcher = tokio::spawn(
        Watcher {
            api: settings.api.clone(),
            fib: fib_tx.clone(),
            sessions: sessions_tx,
            poll_interval: settings.scan_interval.max(Duration::from_secs(5)),
            metrics: metrics.clone(),
        }
        .run(),
    );

    let trigger = Arc::new(Notify::new());
    let monitor = match netlink::monitor() {
        Ok((mut events, _conn)) => {
            let tx = fib_tx.clone();
            let trigger = trigger.clone();
            Some(tokio::spawn(async move {
                while events.next().await.is_some() {
                    tokio::time::sleep(MONITOR_DEBOUNCE).await;
                    while let Ok(Some(_)) =
                        tokio::time::timeout(Duration::ZERO, events.next()).await
                    {
                    }
                    let _ = tx.try_send(FibMsg::Recheck);
                    trigger.notify_one();
                }
            }))
        }
        Err(e) => {
            warn!(error = %e, "cannot watch interfaces; relying on the scan interval");
            None
        }
    };
    drop(fib_tx);

    let redistributor = if settings.redistribute.is_empty() {
        None
    } else {
        Some(tokio::spawn(
            Redistributor {
                api: settings.api.clone(),
                kernel,
                config: settings.redistribute.clone(),
                interval: settings.scan_interval,
                sessions: sessions_rx,
                trigger,
                metrics,
            }
            .run(),
        ))
    };

    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    tokio::select! {
        _ = term.recv() => info!("SIGTERM: stopping; routes stay in the kernel"),
        _ = int.recv() => info!("SIGINT: stopping; routes stay in the kernel"),
    }
    watcher.abort();
    if let Some(t) = monitor {
        t.abort();
    }
    if let Some(t) = redistributor {
        t.abort();
    }
    // The FIB task ends once every sender is gone, after its requests in flight.
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, fib_task).await;
    Ok(())
}
