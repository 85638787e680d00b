//! The `petrel.bgpd.v1.Bgpd` service: each call becomes a message to the control task or
//! the RIB task with a oneshot reply; streams are fed in batches from their own tasks, so
//! a slow client only slows itself.

use std::pin::Pin;

use bgp_api::bgpd::v1 as pb;
use bgp_api::bgpd::v1::bgpd_server::Bgpd;
use futures::Stream;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use super::convert::{self, address, invalid};
use crate::control::{ControlError, ControlMsg, PeerAction, PolicyRequest, Source};
use crate::daemon::DaemonHandle;
use crate::rib::RibMsg;
use crate::rib::query::{Cursor, ListQuery, PrefixMatch, TableKind};

/// Paths per ListPaths / Watch dump response.
const BATCH: usize = 1000;
/// Responses queued per stream before its producer waits.
const STREAM_QUEUE: usize = 4;

type Out<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// The API service.
#[derive(Debug, Clone)]
pub(crate) struct Service {
    pub(crate) daemon: DaemonHandle,
}

fn gone() -> Status {
    Status::unavailable("bgpd is shutting down")
}

impl From<ControlError> for Status {
    fn from(e: ControlError) -> Status {
        match e {
            ControlError::NoSuchPeer(_) => Status::not_found(e.to_string()),
            ControlError::PeerExists(_) => Status::already_exists(e.to_string()),
            ControlError::Invalid(m) => Status::invalid_argument(m),
            ControlError::Precondition(m) => Status::failed_precondition(m),
            ControlError::NotFound(m) => Status::not_found(m),
            ControlError::Config(c) => Status::invalid_argument(config_errors(&c)),
        }
    }
}

/// The problems of a configuration file, one per line; past the first few, their number.
fn config_errors(e: &crate::config::ConfigError) -> String {
    const SHOWN: usize = 20;
    let mut lines: Vec<String> = e
        .errors()
        .iter()
        .take(SHOWN)
        .map(ToString::to_string)
        .collect();
    if e.errors().len() > SHOWN {
        lines.push(format!(
            "... and {} more problems",
            e.errors().len() - SHOWN
        ));
    }
    convert::cap(lines.join("\n"))
}

impl Service {
    async fn control<T>(
        &self,
        make: impl FnOnce(tokio::sync::oneshot::Sender<T>) -> ControlMsg,
    ) -> Result<T, Status> {
        self.daemon.control(make).await.ok_or_else(gone)
    }

    async fn rib<T>(
        &self,
        make: impl FnOnce(tokio::sync::oneshot::Sender<T>) -> RibMsg,
    ) -> Result<T, Status> {
        self.daemon.rib(make).await.ok_or_else(gone)
    }

    async fn identity(&self) -> Result<(u32, std::net::Ipv4Addr), Status> {
        let g = self.control(ControlMsg::Global).await?;
        Ok((g.asn, g.router_id))
    }

    async fn peer_id(&self, field: &str, addr: &str) -> Result<crate::rib::PeerId, Status> {
        let a = address(field, addr)?;
        let peers = self.control(ControlMsg::Peers).await?;
        peers
            .iter()
            .find(|p| p.neighbor.address == a)
            .map(|p| p.id)
            .ok_or_else(|| Status::not_found(format!("no neighbor {a}")))
    }

    async fn table(&self, table: i32, peer: &str) -> Result<TableKind, Status> {
        let known = pb::Table::try_from(table);
        if matches!(known, Ok(pb::Table::AdjIn | pb::Table::AdjOut)) && peer.is_empty() {
            return Err(invalid(
                "peer",
                "required for the adj-in and adj-out tables",
            ));
        }
        match known {
            Ok(pb::Table::Loc) => Ok(TableKind::Loc),
            Ok(pb::Table::AdjIn) => Ok(TableKind::AdjIn(self.peer_id("peer", peer).await?)),
            Ok(pb::Table::AdjOut) => Ok(TableKind::AdjOut(self.peer_id("peer", peer).await?)),
            Err(_) => Err(invalid("table", format!("unknown table {table}"))),
        }
    }

    /// A soft reset in asks the peer for its routes again: an established session whose
    /// peer did not offer route refresh (RFC 2918) cannot do it.
    async fn can_refresh(&self, addr: &str) -> Result<(), Status> {
        let a = address("address", addr)?;
        let peers = self.control(ControlMsg::Peers).await?;
        let session = peers
            .iter()
            .find(|p| p.neighbor.address == a)
            .and_then(|p| p.status.session.as_ref());
        match session {
            Some(s) if !s.route_refresh => Err(Status::failed_precondition(format!(
                "neighbor {a} does not support route refresh (RFC 2918); use a hard reset"
            ))),
            // Unknown or not established: the reset itself says so.
            _ => Ok(()),
        }
    }

    async fn act(&self, addr: &str, action: PeerAction) -> Result<(), Status> {
        let a = address("address", addr)?;
        self.control(|tx| ControlMsg::Peer(a, action, tx)).await??;
        Ok(())
    }
}

fn message(field: &str, m: &str) -> Result<Option<String>, Status> {
    if m.len() > 255 {
        return Err(invalid(
            field,
            format!("{} bytes; RFC 9003 allows at most 255", m.len()),
        ));
    }
    Ok((!m.is_empty()).then(|| m.to_string()))
}

#[tonic::async_trait]
impl Bgpd for Service {
    async fn get_global(
        &self,
        _: Request<pb::GetGlobalRequest>,
    ) -> Result<Response<pb::GetGlobalResponse>, Status> {
        let g = self.control(ControlMsg::Global).await?;
        let stats = self.rib(RibMsg::Stats).await?;
        Ok(Response::new(pb::GetGlobalResponse {
            asn: g.asn,
            router_id: g.router_id.to_string(),
            listen_addresses: self.daemon.listen.iter().map(ToString::to_string).collect(),
            instance_id: self.daemon.instance_id.clone(),
            uptime_seconds: self.daemon.started.elapsed().as_secs(),
            peers: u32::try_from(g.peers).unwrap_or(u32::MAX),
            established_peers: u32::try_from(g.established).unwrap_or(u32::MAX),
            ipv4_prefixes: stats.ipv4_prefixes,
            ipv6_prefixes: stats.ipv6_prefixes,
            attribute_sets: stats.attribute_sets,
            version: env!("CARGO_PKG_VERSION").to_string(),
        }))
    }

    async fn set_global(
        &self,
        r: Request<pb::SetGlobalRequest>,
    ) -> Result<Response<pb::SetGlobalResponse>, Status> {
        let r = r.into_inner();
        // Every field is checked before anything changes.
        if let Some(asn @ (0 | 23456)) = r.asn {
            return Err(invalid(
                "asn",
                format!("{asn} is reserved; expected 1..=4294967295 other than 23456 (AS_TRANS)"),
            ));
        }
        let id: Option<std::net::Ipv4Addr> = match r.router_id {
            Some(s) => Some(s.parse().map_err(|_| {
                let s = convert::shown(&s);
                invalid("router_id", format!("{s} is not an IPv4 address"))
            })?),
            None => None,
        };
        if id.is_some_and(|id| id.is_unspecified()) {
            return Err(invalid("router_id", "0.0.0.0 is not a valid router id"));
        }
        self.control(|tx| ControlMsg::SetGlobal(r.asn, id, tx))
            .await??;
        Ok(Response::new(pb::SetGlobalResponse {}))
    }

    async fn add_peer(
        &self,
        r: Request<pb::AddPeerRequest>,
    ) -> Result<Response<pb::AddPeerResponse>, Status> {
        let (asn, id) = self.identity().await?;
        let mut n = convert::neighbor(r.into_inner().peer, asn, id)?;
        // The API has no connect_retry: the daemon's global one applies.
        n.connect_retry = self.control(ControlMsg::Global).await?.connect_retry;
        self.control(|tx| ControlMsg::AddPeer(Box::new(n), Source::Api, tx))
            .await??;
        Ok(Response::new(pb::AddPeerResponse {}))
    }

    async fn update_peer(
        &self,
        r: Request<pb::UpdatePeerRequest>,
    ) -> Result<Response<pb::UpdatePeerResponse>, Status> {
        let (asn, id) = self.identity().await?;
        let mut n = convert::neighbor(r.into_inner().peer, asn, id)?;
        // The API has no connect_retry: the peer keeps its own (from the file or the
        // global default), so that it does not count as a change that resets the session.
        let peers = self.control(ControlMsg::Peers).await?;
        if let Some(old) = peers.iter().find(|p| p.neighbor.address == n.address) {
            n.connect_retry = old.neighbor.connect_retry;
        }
        let reset = self
            .control(|tx| ControlMsg::UpdatePeer(Box::new(n), tx))
            .await??;
        Ok(Response::new(pb::UpdatePeerResponse { reset }))
    }

    async fn delete_peer(
        &self,
        r: Request<pb::DeletePeerRequest>,
    ) -> Result<Response<pb::DeletePeerResponse>, Status> {
        let a = address("address", &r.into_inner().address)?;
        self.control(|tx| ControlMsg::DeletePeer(a, tx)).await??;
        Ok(Response::new(pb::DeletePeerResponse {}))
    }

    async fn list_peers(
        &self,
        _: Request<pb::ListPeersRequest>,
    ) -> Result<Response<pb::ListPeersResponse>, Status> {
        let peers = self.control(ControlMsg::Peers).await?;
        let prefixes = self.rib(RibMsg::PeerPrefixes).await?;
        let peers = peers
            .iter()
            .map(|p| convert::peer(p, prefixes.get(&p.id)))
            .collect();
        Ok(Response::new(pb::ListPeersResponse { peers }))
    }

    async fn get_peer(
        &self,
        r: Request<pb::GetPeerRequest>,
    ) -> Result<Response<pb::GetPeerResponse>, Status> {
        let a = address("address", &r.into_inner().address)?;
        let peers = self.control(ControlMsg::Peers).await?;
        let p = peers
            .iter()
            .find(|p| p.neighbor.address == a)
            .ok_or_else(|| Status::not_found(format!("no neighbor {a}")))?;
        let prefixes = self.rib(RibMsg::PeerPrefixes).await?;
        Ok(Response::new(pb::GetPeerResponse {
            peer: Some(convert::peer(p, prefixes.get(&p.id))),
        }))
    }

    async fn reset_peer(
        &self,
        r: Request<pb::ResetPeerRequest>,
    ) -> Result<Response<pb::ResetPeerResponse>, Status> {
        let r = r.into_inner();
        let msg = message("message", &r.message)?;
        match pb::ResetMode::try_from(r.mode) {
            Ok(pb::ResetMode::Hard) => self.act(&r.address, PeerAction::HardReset(msg)).await?,
            Ok(pb::ResetMode::SoftIn) => {
                self.can_refresh(&r.address).await?;
                self.act(&r.address, PeerAction::SoftIn).await?;
            }
            Ok(pb::ResetMode::SoftOut) => self.act(&r.address, PeerAction::SoftOut).await?,
            Ok(pb::ResetMode::Soft) => {
                self.can_refresh(&r.address).await?;
                self.act(&r.address, PeerAction::SoftIn).await?;
                self.act(&r.address, PeerAction::SoftOut).await?;
            }
            Err(_) => return Err(invalid("mode", format!("unknown reset mode {}", r.mode))),
        }
        Ok(Response::new(pb::ResetPeerResponse {}))
    }

    async fn enable_peer(
        &self,
        r: Request<pb::EnablePeerRequest>,
    ) -> Result<Response<pb::EnablePeerResponse>, Status> {
        self.act(&r.into_inner().address, PeerAction::Enable)
            .await?;
        Ok(Response::new(pb::EnablePeerResponse {}))
    }

    async fn disable_peer(
        &self,
        r: Request<pb::DisablePeerRequest>,
    ) -> Result<Response<pb::DisablePeerResponse>, Status> {
        let r = r.into_inner();
        let msg = message("message", &r.message)?;
        self.act(&r.address, PeerAction::Disable(msg)).await?;
        Ok(Response::new(pb::DisablePeerResponse {}))
    }

    async fn add_path(
        &self,
        r: Request<pb::AddPathRequest>,
    ) -> Result<Response<pb::AddPathResponse>, Status> {
        let route = convert::local_route(r.into_inner().path)?;
        self.daemon
            .rib
            .send(RibMsg::AddPaths(vec![route]))
            .await
            .map_err(|_| gone())?;
        Ok(Response::new(pb::AddPathResponse {}))
    }

    async fn delete_path(
        &self,
        r: Request<pb::DeletePathRequest>,
    ) -> Result<Response<pb::DeletePathResponse>, Status> {
        let prefix = convert::prefix("prefix", &r.into_inner().prefix)?;
        if !self
            .rib(|reply| RibMsg::DeletePath { prefix, reply })
            .await?
        {
            return Err(Status::not_found(format!(
                "no path for {prefix} was added through the API"
            )));
        }
        Ok(Response::new(pb::DeletePathResponse {}))
    }

    async fn add_path_stream(
        &self,
        r: Request<Streaming<pb::AddPathRequest>>,
    ) -> Result<Response<pb::AddPathStreamResponse>, Status> {
        let mut stream = r.into_inner();
        let mut batch = Vec::with_capacity(BATCH);
        let mut added = 0u64;
        while let Some(req) = stream.next().await {
            let route = match req.and_then(|req| convert::local_route(req.path)) {
                Ok(route) => route,
                Err(s) => {
                    // The requests before this one are added, then the stream fails.
                    if !batch.is_empty() {
                        let _ = self.daemon.rib.send(RibMsg::AddPaths(batch)).await;
                    }
                    return Err(match s.code() {
                        tonic::Code::InvalidArgument => {
                            invalid(&format!("request {added}"), s.message())
                        }
                        _ => s,
                    });
                }
            };
            batch.push(route);
            added += 1;
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                self.daemon
                    .rib
                    .send(RibMsg::AddPaths(full))
                    .await
                    .map_err(|_| gone())?;
            }
        }
        if !batch.is_empty() {
            self.daemon
                .rib
                .send(RibMsg::AddPaths(batch))
                .await
                .map_err(|_| gone())?;
        }
        Ok(Response::new(pb::AddPathStreamResponse { added }))
    }

    type ListPathsStream = Out<pb::ListPathsResponse>;

    async fn list_paths(
        &self,
        r: Request<pb::ListPathsRequest>,
    ) -> Result<Response<Self::ListPathsStream>, Status> {
        let r = r.into_inner();
        let table = self.table(r.table, &r.peer).await?;
        let family = convert::family_from("family", r.family)?;
        let mode = match pb::Match::try_from(r.r#match) {
            Ok(pb::Match::Exact) => PrefixMatch::Exact,
            Ok(pb::Match::Longer) => PrefixMatch::Longer,
            Ok(pb::Match::Shorter) => PrefixMatch::Shorter,
            Err(_) => return Err(invalid("match", format!("unknown match {}", r.r#match))),
        };
        let prefix = if r.prefix.is_empty() {
            None
        } else {
            let p: ipnet::IpNet = r
                .prefix
                .parse()
                .or_else(|_| r.prefix.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    invalid(
                        "prefix",
                        format!("{} is not a prefix or address", convert::shown(&r.prefix)),
                    )
                })?;
            Some((p, mode))
        };
        let query = ListQuery {
            table,
            family,
            prefix,
            all_paths: r.all_paths,
            limit: BATCH,
        };
        let (tx, rx) = mpsc::channel(STREAM_QUEUE);
        let daemon = self.daemon.clone();
        tokio::spawn(async move {
            let mut listing = Listing::new(daemon, query);
            loop {
                let chunk = match listing.next().await {
                    Ok(Some(chunk)) => chunk,
                    Ok(None) => return,
                    Err(status) => {
                        let _ = tx.send(Err(status)).await;
                        return;
                    }
                };
                let paths = chunk.iter().map(convert::path).collect();
                for paths in split(paths, convert::path_size) {
                    if tx.send(Ok(pb::ListPathsResponse { paths })).await.is_err() {
                        return; // the client went away
                    }
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn get_table_counts(
        &self,
        r: Request<pb::GetTableCountsRequest>,
    ) -> Result<Response<pb::GetTableCountsResponse>, Status> {
        let r = r.into_inner();
        let table = self.table(r.table, &r.peer).await?;
        let (v4, v6, paths) = self.rib(|reply| RibMsg::Counts { table, reply }).await?;
        Ok(Response::new(pb::GetTableCountsResponse {
            ipv4_prefixes: v4,
            ipv6_prefixes: v6,
            paths,
        }))
    }

    type WatchStream = Out<pb::WatchResponse>;

    async fn watch(
        &self,
        r: Request<pb::WatchRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let r = r.into_inner();
        if !r.peer_events && !r.best_path_events {
            return Err(invalid(
                "peer_events",
                "ask for peer_events, best_path_events or both",
            ));
        }
        // Subscribe before the dump so that no change falls between the two.
        let mut best = r.best_path_events.then(|| self.daemon.events.subscribe());
        let mut peers = r.peer_events.then(|| self.daemon.peer_events.subscribe());
        let (tx, rx) = mpsc::channel(STREAM_QUEUE);
        let daemon = self.daemon.clone();
        tokio::spawn(async move {
            if r.initial_dump && r.best_path_events && !dump(&daemon, &tx).await {
                return;
            }
            loop {
                let next = tokio::select! {
                    b = async { match best.as_mut() { Some(rx) => rx.recv().await, None => std::future::pending().await } } => match b {
                        Ok(batch) => Next::Best(batch),
                        Err(broadcast::error::RecvError::Lagged(_)) => Next::Lagged,
                        Err(broadcast::error::RecvError::Closed) => return,
                    },
                    p = async { match peers.as_mut() { Some(rx) => rx.recv().await, None => std::future::pending().await } } => match p {
                        Ok(e) => Next::Peer(e),
                        Err(broadcast::error::RecvError::Lagged(_)) => Next::Lagged,
                        Err(broadcast::error::RecvError::Closed) => return,
                    },
                };
                match next {
                    // One batch of the RIB can hold a whole table's changes: it is
                    // converted and sent a part at a time, in responses of bounded size.
                    Next::Best(batch) => {
                        for part in batch.chunks(BATCH) {
                            let converted = part.iter().map(super::watch::best_path_event);
                            for response in events(converted.collect()) {
                                if tx.send(Ok(response)).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                    Next::Peer(e) => {
                        for response in events(vec![super::watch::peer_event(&e)]) {
                            if tx.send(Ok(response)).await.is_err() {
                                return;
                            }
                        }
                    }
                    Next::Lagged => {
                        let lagged = pb::WatchResponse {
                            lagged: true,
                            ..Default::default()
                        };
                        let _ = tx.send(Ok(lagged)).await;
                        return;
                    }
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn reload(
        &self,
        _: Request<pb::ReloadRequest>,
    ) -> Result<Response<pb::ReloadResponse>, Status> {
        let report = self.control(ControlMsg::Reload).await??;
        let s = |v: &[std::net::IpAddr]| v.iter().map(ToString::to_string).collect();
        Ok(Response::new(pb::ReloadResponse {
            peers_added: s(&report.added),
            peers_removed: s(&report.removed),
            peers_changed: s(&report.changed),
            peers_reset: s(&report.reset),
            originated_added: u32::try_from(report.originated_added).unwrap_or(u32::MAX),
            originated_removed: u32::try_from(report.originated_removed).unwrap_or(u32::MAX),
            policy: super::policy::effects(&report.policy),
        }))
    }

    async fn add_defined_set(
        &self,
        r: Request<pb::AddDefinedSetRequest>,
    ) -> Result<Response<pb::PolicyChangeResponse>, Status> {
        let set = super::policy::set_from(r.into_inner().set)?;
        self.policy(PolicyRequest::PutSet(set)).await
    }

    async fn delete_defined_set(
        &self,
        r: Request<pb::DeleteDefinedSetRequest>,
    ) -> Result<Response<pb::PolicyChangeResponse>, Status> {
        let r = r.into_inner();
        let kind = super::policy::kind_from("kind", r.kind)?
            .ok_or_else(|| invalid("kind", "missing; expected a DEFINED_SET_KIND_* value"))?;
        self.policy(PolicyRequest::DeleteSet(kind, r.name)).await
    }

    async fn list_defined_sets(
        &self,
        r: Request<pb::ListDefinedSetsRequest>,
    ) -> Result<Response<pb::ListDefinedSetsResponse>, Status> {
        let kind = super::policy::kind_from("kind", r.into_inner().kind)?;
        let reply = self
            .control(|tx| ControlMsg::Policy(PolicyRequest::ListSets, tx))
            .await??;
        let sets = reply
            .sets
            .iter()
            .filter(|s| kind.is_none_or(|k| s.kind == k))
            .map(super::policy::set_to)
            .collect();
        Ok(Response::new(pb::ListDefinedSetsResponse { sets }))
    }

    async fn add_policy(
        &self,
        r: Request<pb::AddPolicyRequest>,
    ) -> Result<Response<pb::PolicyChangeResponse>, Status> {
        let p = super::policy::policy_from(r.into_inner().policy)?;
        self.policy(PolicyRequest::PutPolicy(p)).await
    }

    async fn delete_policy(
        &self,
        r: Request<pb::DeletePolicyRequest>,
    ) -> Result<Response<pb::PolicyChangeResponse>, Status> {
        self.policy(PolicyRequest::DeletePolicy(r.into_inner().name))
            .await
    }

    async fn list_policies(
        &self,
        _: Request<pb::ListPoliciesRequest>,
    ) -> Result<Response<pb::ListPoliciesResponse>, Status> {
        let reply = self
            .control(|tx| ControlMsg::Policy(PolicyRequest::ListPolicies, tx))
            .await??;
        Ok(Response::new(pb::ListPoliciesResponse {
            policies: reply
                .policies
                .iter()
                .map(super::policy::policy_to)
                .collect(),
            default_import: super::policy::default_to(Some(reply.default_import)),
            default_export: super::policy::default_to(Some(reply.default_export)),
        }))
    }

    async fn load_policy(
        &self,
        r: Request<pb::LoadPolicyRequest>,
    ) -> Result<Response<pb::PolicyChangeResponse>, Status> {
        let req = super::policy::load(&r.into_inner().toml)?;
        self.policy(req).await
    }

    async fn set_policy_assignment(
        &self,
        r: Request<pb::SetPolicyAssignmentRequest>,
    ) -> Result<Response<pb::PolicyChangeResponse>, Status> {
        let req = super::policy::assignment(r.into_inner())?;
        self.policy(req).await
    }

    async fn set_policy_defaults(
        &self,
        r: Request<pb::SetPolicyDefaultsRequest>,
    ) -> Result<Response<pb::PolicyChangeResponse>, Status> {
        let r = r.into_inner();
        let req = PolicyRequest::SetDefaults {
            import: super::policy::default_from("default_import", r.default_import)?,
            export: super::policy::default_from("default_export", r.default_export)?,
        };
        self.policy(req).await
    }
}

impl Service {
    /// Sends a policy change to the control task.
    async fn policy(
        &self,
        req: PolicyRequest,
    ) -> Result<Response<pb::PolicyChangeResponse>, Status> {
        let reply = self.control(|tx| ControlMsg::Policy(req, tx)).await??;
        Ok(Response::new(super::policy::change_response(&reply)))
    }
}

/// What a watcher's task sends next.
enum Next {
    Best(std::sync::Arc<Vec<crate::rib::query::BestPathChange>>),
    Peer(crate::control::PeerEvent),
    Lagged,
}

/// Most bytes of paths or events in one response (estimated), well under the 4 MiB that
/// gRPC clients accept by default.
const RESPONSE_BYTES: usize = 1 << 20;

/// Splits `items` into runs of at most [`BATCH`] items and about [`RESPONSE_BYTES`] bytes
/// (a single larger item goes alone). Nothing for no items.
fn split<T>(items: Vec<T>, size: impl Fn(&T) -> usize) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    let (mut run, mut bytes) = (Vec::new(), 0);
    for item in items {
        let n = size(&item);
        if !run.is_empty() && (run.len() == BATCH || bytes + n > RESPONSE_BYTES) {
            out.push(std::mem::take(&mut run));
            bytes = 0;
        }
        bytes += n;
        run.push(item);
    }
    if !run.is_empty() {
        out.push(run);
    }
    out
}

/// Watch responses carrying `events`.
fn events(events: Vec<pb::WatchEvent>) -> Vec<pb::WatchResponse> {
    split(events, super::watch::event_size)
        .into_iter()
        .map(|events| pb::WatchResponse {
            events,
            ..Default::default()
        })
        .collect()
}

/// Reads a table from the RIB task one chunk at a time, each chunk one message, so that
/// a long listing never holds the RIB and a slow reader only slows itself.
struct Listing {
    daemon: DaemonHandle,
    query: ListQuery,
    cursor: Option<Cursor>,
    /// The RIB task went away before the end.
    failed: bool,
}

impl Listing {
    fn new(daemon: DaemonHandle, query: ListQuery) -> Self {
        Listing {
            daemon,
            query,
            cursor: Some(Cursor::default()),
            failed: false,
        }
    }

    /// The next chunk, `None` at the end; an error if the daemon is shutting down.
    async fn next(&mut self) -> Result<Option<Vec<crate::rib::query::PathView>>, Status> {
        let Some(cursor) = self.cursor else {
            return Ok(None);
        };
        let query = self.query.clone();
        let Some(chunk) = self
            .daemon
            .rib(|reply| RibMsg::List {
                query,
                cursor,
                reply,
            })
            .await
        else {
            self.failed = true;
            self.cursor = None;
            return Err(gone());
        };
        self.cursor = chunk.next;
        Ok(Some(chunk.paths))
    }
}

/// Sends every best path as ADDED, then the end-of-dump marker. False if the client left.
async fn dump(daemon: &DaemonHandle, tx: &mpsc::Sender<Result<pb::WatchResponse, Status>>) -> bool {
    // Every path, so that the multipath sets can be given; a chunk never splits a prefix.
    let query = ListQuery {
        table: TableKind::Loc,
        family: None,
        prefix: None,
        all_paths: true,
        limit: BATCH,
    };
    let mut listing = Listing::new(daemon.clone(), query);
    while let Some(chunk) = listing.next().await.unwrap_or(None) {
        let dumped = chunk
            .chunk_by(|a, b| a.prefix == b.prefix)
            .filter_map(super::watch::dumped)
            .collect();
        for response in events(dumped) {
            if tx.send(Ok(response)).await.is_err() {
                return false;
            }
        }
    }
    if listing.failed {
        return false;
    }
    tx.send(Ok(pb::WatchResponse {
        initial_dump_done: true,
        ..Default::default()
    }))
    .await
    .is_ok()
}
