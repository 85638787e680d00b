//! Prometheus metrics, served as text at `http://ADDR/metrics`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tracing::{debug, info};

type Labels = Vec<(&'static str, &'static str)>;

/// Every metric fib-adapter exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Our routes in the kernel, by family.
    pub routes_installed: Family<Labels, Gauge>,
    /// Prefixes bgpd wants installed.
    pub routes_desired: Gauge,
    /// Prefixes none of whose next hops is reachable.
    pub unresolved: Gauge,
    /// Prefixes waiting for netlink work.
    pub pending: Gauge,
    /// Netlink requests by operation.
    pub netlink_operations: Family<Labels, Counter>,
    /// Failed netlink requests by operation.
    pub netlink_errors: Family<Labels, Counter>,
    /// Time from the start of a watch stream (or of the process) until the kernel matches
    /// bgpd's initial dump.
    pub reconcile_duration: Histogram,
    /// Times the stale timer flushed our routes.
    pub stale_flushes: Counter,
    /// Whether a watch stream to bgpd is up.
    pub bgpd_connected: Gauge,
    /// Watch streams started.
    pub bgpd_sessions: Counter,
    /// Prefixes announced into bgpd.
    pub redistributed: Gauge,
}

impl Metrics {
    /// A fresh set of metrics.
    pub fn new() -> Arc<Metrics> {
        let mut registry = Registry::with_prefix("fib");
        let m = Metrics {
            routes_installed: Family::default(),
            routes_desired: Gauge::default(),
            unresolved: Gauge::default(),
            pending: Gauge::default(),
            netlink_operations: Family::default(),
            netlink_errors: Family::default(),
            reconcile_duration: Histogram::new(exponential_buckets(0.001, 4.0, 10)),
            stale_flushes: Counter::default(),
            bgpd_connected: Gauge::default(),
            bgpd_sessions: Counter::default(),
            redistributed: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "routes_installed",
            "Routes of fib-adapter's protocol in its kernel table",
            m.routes_installed.clone(),
        );
        registry.register(
            "routes_desired",
            "Prefixes bgpd's best paths ask for",
            m.routes_desired.clone(),
        );
        registry.register(
            "routes_unresolved",
            "Prefixes none of whose next hops is reachable",
            m.unresolved.clone(),
        );
        registry.register(
            "pending_changes",
            "Prefixes waiting for netlink work or with a request in flight",
            m.pending.clone(),
        );
        registry.register(
            "netlink_operations",
            "Netlink route requests sent",
            m.netlink_operations.clone(),
        );
        registry.register(
            "netlink_errors",
            "Netlink requests that failed",
            m.netlink_errors.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Time until the kernel table matched bgpd's initial dump",
            m.reconcile_duration.clone(),
        );
        registry.register(
            "stale_flushes",
            "Times bgpd stayed away past the stale time and routes were flushed",
            m.stale_flushes.clone(),
        );
        registry.register(
            "bgpd_connected",
            "1 while the watch stream to bgpd is up",
            m.bgpd_connected.clone(),
        );
        registry.register(
            "bgpd_sessions",
            "Watch streams to bgpd started",
            m.bgpd_sessions.clone(),
        );
        registry.register(
            "redistributed_prefixes",
            "Prefixes announced into bgpd (connected and kernel routes)",
            m.redistributed.clone(),
        );
        Arc::new(Metrics { registry, ..m })
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// Serves the metrics; returns the bound address and the server task.
pub async fn serve(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    info!(addr = %bound, "metrics at http://{bound}/metrics");
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let metrics = metrics.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| respond(req, metrics.clone()));
                if let Err(e) = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await
                {
                    debug!(error = %e, "metrics connection ended");
                }
            });
        }
    });
    Ok((bound, task))
}

async fn respond(
    req: Request<Incoming>,
    metrics: Arc<Metrics>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (status, body) = if req.uri().path() == "/metrics" {
        (StatusCode::OK, metrics.render())
    } else {
        (
            StatusCode::NOT_FOUND,
            "metrics are at /metrics\n".to_string(),
        )
    };
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    if status == StatusCode::OK {
        r.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        );
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_metric() {
        let m = Metrics::new();
        m.routes_installed
            .get_or_create(&vec![("family", "ipv4")])
            .set(3);
        m.netlink_errors.get_or_create(&vec![("op", "add")]).inc();
        m.reconcile_duration.observe(0.5);
        let text = m.render();
        for name in [
            "fib_routes_installed{family=\"ipv4\"} 3",
            "fib_netlink_errors_total{op=\"add\"} 1",
            "fib_reconcile_duration_seconds_count 1",
            "fib_stale_flushes_total 0",
            "fib_bgpd_connected 0",
        ] {
            assert!(text.contains(name), "{name} missing from\n{text}");
        }
    }
}
