//! Prometheus metrics at `http://[metrics] listen/metrics`.
//!
//! Values are gathered at each scrape from the control task (sessions, message counters)
//! and the RIB task (table sizes, per-peer prefix counts); the update-processing latency
//! histogram is kept by the RIB task as it works.

use std::convert::Infallible;
use std::net::SocketAddr;

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

use crate::control::ControlMsg;
use crate::daemon::DaemonHandle;
use crate::fsm::State;
use crate::rib::RibMsg;

type Labels = Vec<(&'static str, String)>;

/// A new histogram of update-processing time per batch, in seconds (100 µs to ~3 s).
pub fn update_latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 16))
}

/// Serves the metrics endpoint; returns the bound address and the server task.
pub async fn serve(
    addr: SocketAddr,
    daemon: DaemonHandle,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    info!(addr = %bound, "metrics at http://{bound}/metrics");
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let daemon = daemon.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| respond(req, daemon.clone()));
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
    daemon: DaemonHandle,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (status, body) = if req.uri().path() == "/metrics" {
        match gather(&daemon).await {
            Some(text) => (StatusCode::OK, text),
            None => (
                StatusCode::SERVICE_UNAVAILABLE,
                "bgpd is shutting down\n".to_string(),
            ),
        }
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

/// The exposition text, or `None` if the daemon's tasks are gone.
pub async fn gather(daemon: &DaemonHandle) -> Option<String> {
    let peers = daemon.control(ControlMsg::Peers).await?;
    let prefixes = daemon.rib(RibMsg::PeerPrefixes).await?;
    let stats = daemon.rib(RibMsg::Stats).await?;

    let mut registry = Registry::default();
    let state = Family::<Labels, Gauge>::default();
    let up = Family::<Labels, Gauge>::default();
    let accepted = Family::<Labels, Gauge>::default();
    let advertised = Family::<Labels, Gauge>::default();
    let sent = Family::<Labels, Counter>::default();
    let received = Family::<Labels, Counter>::default();
    let rib_prefixes = Family::<Labels, Gauge>::default();
    let attr_sets = Gauge::<i64>::default();
    registry.register(
        "bgp_peer_state",
        "Session state (1 Idle .. 6 Established)",
        state.clone(),
    );
    registry.register(
        "bgp_peer_up",
        "1 while the session is Established",
        up.clone(),
    );
    registry.register(
        "bgp_peer_prefixes_received",
        "Prefixes received from the peer (no import policy yet: all accepted)",
        accepted.clone(),
    );
    registry.register(
        "bgp_peer_prefixes_accepted",
        "Prefixes accepted from the peer",
        accepted.clone(),
    );
    registry.register(
        "bgp_peer_prefixes_advertised",
        "Prefixes advertised to the peer",
        advertised.clone(),
    );
    registry.register(
        "bgp_peer_messages_sent",
        "Messages sent, by type",
        sent.clone(),
    );
    registry.register(
        "bgp_peer_messages_received",
        "Messages received, by type",
        received.clone(),
    );
    registry.register(
        "bgp_rib_prefixes",
        "Prefixes with a best path",
        rib_prefixes.clone(),
    );
    registry.register(
        "bgp_rib_attribute_sets",
        "Distinct path attribute sets held",
        attr_sets.clone(),
    );
    registry.register(
        "bgp_update_processing_seconds",
        "Time the RIB spends on one batch of received messages",
        daemon.update_latency.clone(),
    );

    const TYPES: [&str; 5] = [
        "open",
        "update",
        "notification",
        "keepalive",
        "route_refresh",
    ];
    for p in &peers {
        let peer = p.neighbor.address.to_string();
        let labels = vec![("peer", peer.clone())];
        state.get_or_create(&labels).set(p.status.state as i64 + 1);
        up.get_or_create(&labels)
            .set(i64::from(p.status.state == State::Established));
        if let Some(c) = prefixes.get(&p.id) {
            for (family, acc, adv) in [
                ("ipv4-unicast", c.accepted.0, c.advertised.0),
                ("ipv6-unicast", c.accepted.1, c.advertised.1),
            ] {
                let l = vec![("peer", peer.clone()), ("family", family.to_string())];
                accepted
                    .get_or_create(&l)
                    .set(i64::try_from(acc).unwrap_or(i64::MAX));
                advertised
                    .get_or_create(&l)
                    .set(i64::try_from(adv).unwrap_or(i64::MAX));
            }
        }
        for (i, kind) in TYPES.iter().enumerate() {
            let l = vec![("peer", peer.clone()), ("type", (*kind).to_string())];
            sent.get_or_create(&l).inc_by(p.sent[i]);
            received.get_or_create(&l).inc_by(p.received[i]);
        }
    }
    rib_prefixes
        .get_or_create(&vec![("family", "ipv4-unicast".to_string())])
        .set(i64::try_from(stats.ipv4_prefixes).unwrap_or(i64::MAX));
    rib_prefixes
        .get_or_create(&vec![("family", "ipv6-unicast".to_string())])
        .set(i64::try_from(stats.ipv6_prefixes).unwrap_or(i64::MAX));
    attr_sets.set(i64::try_from(stats.attribute_sets).unwrap_or(i64::MAX));

    crate::peer::max_prefix::register_metrics(&mut registry, &peers);

    let mut text = String::new();
    encode(&mut text, &registry).ok()?;
    Some(text)
}
