//! From a received UPDATE to RIB changes: which prefixes are announced with which
//! (sanitised, interned) attributes, and which are withdrawn.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bgp_proto::attr::{AttrValue, NextHop, code};
use bgp_proto::{Family, Nlri, PathAttributes, Update};

use super::PeerInfo;

/// The attributes of a stored route: the UPDATE's attributes without the NLRI-carrying
/// MP attributes and without NEXT_HOP, plus the next hop of the route's family.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RouteAttrs {
    /// Path attributes as they go into the decision process and to export.
    pub attrs: PathAttributes,
    /// The next hop.
    pub next_hop: NextHop,
}

impl RouteAttrs {
    /// The next hop as an address (the global one for IPv6).
    pub fn next_hop_addr(&self) -> Option<IpAddr> {
        match &self.next_hop {
            NextHop::V4(a) => Some(IpAddr::V4(*a)),
            NextHop::V6 { global, .. } => Some(IpAddr::V6(*global)),
            _ => None,
        }
    }

    /// The "self" next hop used for locally originated routes before export fills in the
    /// session's own address.
    pub fn unspecified_next_hop(family: Family) -> NextHop {
        if family == Family::IPV6_UNICAST {
            NextHop::V6 {
                global: Ipv6Addr::UNSPECIFIED,
                link_local: None,
            }
        } else {
            NextHop::V4(Ipv4Addr::UNSPECIFIED)
        }
    }
}

/// Why received routes were not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// RFC 7606 treat-as-withdraw.
    Malformed,
    /// Our AS in the AS_PATH of an eBGP route (RFC 4271 9.1.2).
    AsLoop,
    /// ORIGINATOR_ID is our router id, or CLUSTER_LIST has our cluster id (RFC 4456).
    ReflectionLoop,
    /// No usable next hop for the family.
    NoNextHop,
    /// A route leak by the Only-to-Customer rules of RFC 9234 section 5.
    RouteLeak,
}

/// The routes of one UPDATE for one family.
#[derive(Debug)]
pub struct FamilyChanges<'a> {
    /// The family.
    pub family: Family,
    /// Announced prefixes (empty when rejected).
    pub announced: Vec<&'a Nlri>,
    /// Withdrawn prefixes, including announced ones that were rejected.
    pub withdrawn: Vec<&'a Nlri>,
    /// The attributes of the announced prefixes.
    pub attrs: Option<RouteAttrs>,
    /// Why the announced prefixes were turned into withdrawals, if they were.
    pub rejected: Option<Rejection>,
}

/// Local facts the import checks need.
#[derive(Debug, Clone, Copy)]
pub struct LocalIdentity {
    /// Our AS.
    pub asn: u32,
    /// Our router id.
    pub router_id: Ipv4Addr,
    /// Our cluster id (route reflection).
    pub cluster_id: Ipv4Addr,
}

/// Splits `update` into per-family changes, applying the receive-side rules: RFC 7606
/// treat-as-withdraw, the RFC 6793 AS4_PATH merge on 2-octet sessions, AS and
/// reflection loop detection, LOCAL_PREF ignored from eBGP peers.
pub fn split<'a>(
    update: &'a Update,
    peer: &PeerInfo,
    local: &LocalIdentity,
) -> Vec<FamilyChanges<'a>> {
    let mut out: Vec<FamilyChanges<'a>> = Vec::with_capacity(1);
    let mut announced: Vec<(Family, &'a Nlri)> = Vec::new();
    for (family, nlri) in update.withdrawals().filter(|(f, _)| f.is_unicast_ip()) {
        let i = slot(&mut out, family);
        out[i].withdrawn.push(nlri);
    }
    for (family, nlri) in update.announced().filter(|(f, _)| f.is_unicast_ip()) {
        announced.push((family, nlri));
    }
    if announced.is_empty() {
        return out;
    }
    let base = sanitise(&update.attributes, peer, local);
    for (family, nlri) in announced {
        let i = slot(&mut out, family);
        out[i].announced.push(nlri);
    }
    for c in &mut out {
        if c.announced.is_empty() {
            continue;
        }
        let verdict = if update.treat_as_withdraw() {
            Err(Rejection::Malformed)
        } else {
            base.clone().and_then(|attrs| {
                next_hop(&update.attributes, c.family)
                    .map(|next_hop| RouteAttrs { attrs, next_hop })
                    .ok_or(Rejection::NoNextHop)
            })
        };
        match verdict {
            Ok(attrs) => c.attrs = Some(attrs),
            Err(why) => {
                c.rejected = Some(why);
                let moved = std::mem::take(&mut c.announced);
                c.withdrawn.extend(moved);
            }
        }
    }
    out
}

/// The index of `family`'s changes in `out`, added if missing.
fn slot(out: &mut Vec<FamilyChanges<'_>>, family: Family) -> usize {
    if let Some(i) = out.iter().position(|c| c.family == family) {
        return i;
    }
    out.push(FamilyChanges {
        family,
        announced: Vec::new(),
        withdrawn: Vec::new(),
        attrs: None,
        rejected: None,
    });
    out.len() - 1
}

fn sanitise(
    received: &PathAttributes,
    peer: &PeerInfo,
    local: &LocalIdentity,
) -> Result<PathAttributes, Rejection> {
    let mut attrs = if peer.encode.four_octet_as {
        received.clone()
    } else {
        received.merge_as4()
    };
    attrs.retain(|a| {
        !matches!(
            a.type_code(),
            code::MP_REACH_NLRI
                | code::MP_UNREACH_NLRI
                | code::NEXT_HOP
                | code::AS4_PATH
                | code::AS4_AGGREGATOR
        )
    });
    if !peer.ibgp {
        // AS loop (with allowas-in), RFC 9234 OTC rules, local-as.
        super::asrules::import(&mut attrs, peer, local)?;
        // LOCAL_PREF from another AS means nothing here (RFC 4271 5.1.5).
        attrs.remove(code::LOCAL_PREF);
        attrs.remove(code::ORIGINATOR_ID);
        attrs.remove(code::CLUSTER_LIST);
    } else {
        if attrs.originator_id() == Some(local.router_id) {
            return Err(Rejection::ReflectionLoop);
        }
        if attrs
            .cluster_list()
            .is_some_and(|c| c.iter().any(|id| id == local.cluster_id))
        {
            return Err(Rejection::ReflectionLoop);
        }
    }
    Ok(attrs)
}

fn next_hop(received: &PathAttributes, family: Family) -> Option<NextHop> {
    if let Some(mp) = received.mp_reach().filter(|m| m.family == family) {
        return Some(mp.next_hop.clone());
    }
    if family == Family::IPV4_UNICAST {
        return received.next_hop().map(NextHop::V4);
    }
    None
}

/// Attributes of a locally originated route.
pub fn local_attrs(value: impl IntoIterator<Item = AttrValue>) -> PathAttributes {
    value
        .into_iter()
        .fold(PathAttributes::new(), PathAttributes::with)
}
