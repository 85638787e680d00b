//! Export through a policy chain, and route-server clients (RFC 7947).
//!
//! Without a chain, export groups prefixes by (attribute set, source peer) and
//! transforms each group once. With one, the outcome may depend on the prefix, so each
//! prefix's route is transformed (once per group, cached), run through the chain, and
//! grouped by the resulting attributes. A route-server client gets, per prefix, the best
//! of the paths that pass its own export chain, not the Loc-RIB best.

use std::collections::HashMap;
use std::sync::Arc;

use bgp_proto::Nlri;
use bgp_proto::attr::code;
use bgp_proto::update::pack;
use bytes::BytesMut;
use tracing::warn;

use super::export::{
    ExportState, PeerState, end_of_rib, exportable, is_unspecified, self_next_hop, transform,
};
use super::import::RouteAttrs;
use super::table::Table;
use super::{DecideCtx, FamilyKey, Path, PeerId, PeerInfo, RibOptions, bestpath, is_local};
use crate::policy::def::RouteType;
use crate::policy::{Chain, Env, Route, Verdict};

/// Everything export needs about the receiving peer.
pub(super) struct ExportCtx<'a> {
    pub(super) to: &'a PeerInfo,
    pub(super) sources: &'a HashMap<PeerId, PeerState>,
    pub(super) opts: &'a RibOptions,
    chain: &'a Chain,
    /// `to` with 4-octet AS encoding: the chain sees (and prepends to) full AS numbers;
    /// the AS4 split for a 2-octet peer happens after it.
    to4: PeerInfo,
}

impl<'a> ExportCtx<'a> {
    pub(super) fn new(
        to: &'a PeerInfo,
        sources: &'a HashMap<PeerId, PeerState>,
        opts: &'a RibOptions,
        chain: &'a Chain,
    ) -> Self {
        let mut to4 = to.clone();
        to4.encode.four_octet_as = true;
        ExportCtx {
            to,
            sources,
            opts,
            chain,
            to4,
        }
    }

    /// Whether export must go through [`export_with_policy`].
    pub(super) fn with_policy(&self) -> bool {
        !self.chain.is_pass_through() || self.to.route_server_client
    }
}

/// Groups of prefixes sharing final attributes.
#[derive(Default)]
struct Groups {
    /// (source attributes, source peer) -> group of the unchanged transform.
    by_source: HashMap<(*const RouteAttrs, PeerId), usize>,
    /// Attributes a chain changed -> group.
    by_value: HashMap<RouteAttrs, usize>,
    list: Vec<(RouteAttrs, Vec<Nlri>)>,
}

/// Per prefix: the chosen path's group and the attributes the chain changed, if any.
type Choice = (usize, Option<RouteAttrs>);

fn route_type(path: &Path, source: Option<&PeerInfo>) -> RouteType {
    match source {
        _ if is_local(path.peer) => RouteType::Local,
        Some(s) if s.ibgp => RouteType::Internal,
        _ => RouteType::External,
    }
}

/// Runs `path` through the transform and the chain; `None` if it is not exported.
fn evaluate<K: FamilyKey>(
    path: &Path,
    prefix: ipnet::IpNet,
    ctx: &ExportCtx<'_>,
    groups: &mut Groups,
) -> Option<Choice> {
    let source = ctx.sources.get(&path.peer).map(|s| &s.info);
    if !exportable(path, source, ctx.to) {
        return None;
    }
    let key = (Arc::as_ptr(&path.attrs), path.peer);
    let g = *groups.by_source.entry(key).or_insert_with(|| {
        let (attrs, next_hop) =
            transform(&path.attrs, source, &ctx.to4, K::FAMILY, &ctx.opts.local);
        groups
            .list
            .push((RouteAttrs { attrs, next_hop }, Vec::new()));
        groups.list.len() - 1
    });
    let route = Route {
        prefix,
        attrs: &groups.list[g].0,
        source: source.map(|s| s.addr),
        route_type: route_type(path, source),
    };
    let env = Env {
        local_asn: ctx.opts.local.asn,
        self_next_hop: Some(self_next_hop(ctx.to, K::FAMILY, &ctx.opts.local)),
        // Our own routes without an explicit next hop have none to keep.
        original_next_hop: (!is_unspecified(&path.attrs.next_hop))
            .then(|| path.attrs.next_hop.clone()),
    };
    match ctx.chain.evaluate(&route, &env) {
        Verdict::Reject => None,
        Verdict::Accept(std::borrow::Cow::Borrowed(_)) => Some((g, None)),
        Verdict::Accept(std::borrow::Cow::Owned(mut a)) => {
            if !ctx.to.ibgp {
                // LOCAL_PREF never leaves the AS.
                a.attrs.remove(code::LOCAL_PREF);
            }
            Some((g, Some(a)))
        }
    }
}

/// The route `ctx.to` gets for one prefix, if any.
fn choose<K: FamilyKey>(
    paths: &[Path],
    best: Option<&Path>,
    prefix: ipnet::IpNet,
    ctx: &ExportCtx<'_>,
    groups: &mut Groups,
) -> Option<Choice> {
    if !ctx.to.route_server_client {
        return best.and_then(|b| evaluate::<K>(b, prefix, ctx, groups));
    }
    // Route server: the best of the paths that pass this client's chain.
    let mut passed: Vec<(&Path, Choice)> = Vec::new();
    for p in paths {
        if let Some(c) = evaluate::<K>(p, prefix, ctx, groups) {
            passed.push((p, c));
        }
    }
    if passed.len() <= 1 {
        return passed.pop().map(|(_, c)| c);
    }
    let rank = DecideCtx {
        peers: ctx.sources,
        opts: ctx.opts,
    };
    let ranks: Vec<_> = passed.iter().map(|(p, _)| rank.rank(p)).collect();
    let d = bestpath::decide(&ranks, ctx.opts.decision)?;
    passed.into_iter().nth(d.best).map(|(_, c)| c)
}

/// Export of the queued prefixes of one family through the chain.
pub(super) fn export_with_policy<K: FamilyKey>(
    st: &mut ExportState,
    table: &mut Table<K, Path>,
    ctx: &ExportCtx<'_>,
    out: &mut BytesMut,
    budget: &mut usize,
) {
    let family = K::FAMILY;
    let to = ctx.to;
    let mut groups = Groups::default();
    let mut withdrawals: Vec<Nlri> = Vec::new();
    while *budget > 0 {
        let Some(id) = st.pop() else {
            break;
        };
        *budget -= 1;
        let Some(entry) = table.get_mut(id) else {
            continue;
        };
        let prefix = entry.prefix.to_prefix();
        let nlri = Nlri {
            path_id: None,
            prefix,
        };
        match choose::<K>(&entry.paths, entry.best(), prefix, ctx, &mut groups) {
            Some((g, changed)) => {
                st.advertised.insert(id);
                let slot = match changed {
                    None => g,
                    Some(a) => match groups.by_value.get(&a) {
                        Some(slot) => *slot,
                        None => {
                            groups.list.push((a.clone(), Vec::new()));
                            groups.by_value.insert(a, groups.list.len() - 1);
                            groups.list.len() - 1
                        }
                    },
                };
                groups.list[slot].1.push(nlri);
            }
            None => {
                if st.advertised.remove(id) {
                    withdrawals.push(nlri);
                }
            }
        }
        st.release_unless_advertised(id, table);
    }
    super::export::write_withdrawals(to, family, &withdrawals, out);
    for (attrs, nlri) in groups.list.iter().filter(|(_, n)| !n.is_empty()) {
        let encoded = if to.encode.four_octet_as {
            std::borrow::Cow::Borrowed(&attrs.attrs)
        } else {
            std::borrow::Cow::Owned(attrs.attrs.with_as4_for_two_octet_peer())
        };
        if let Err(e) = pack(&to.encode, &encoded, &attrs.next_hop, family, nlri, out) {
            warn!(peer = %to.addr, %family, error = %e, "cannot encode routes; not sent");
        }
    }
    end_of_rib(st, to, family, out, *budget);
}
