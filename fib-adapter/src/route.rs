//! Routes as fib-adapter sees them, and their netlink form.
//!
//! A route is a prefix with a set of resolved next hops (gateway and outgoing interface).
//! One next hop becomes `RTA_GATEWAY` + `RTA_OIF`; several become `RTA_MULTIPATH`. The
//! same functions parse what the kernel dumps back, so that a dumped route compares equal
//! to the one that was installed.

use std::net::IpAddr;

use ipnet::IpNet;
use rtnetlink::packet_route::AddressFamily;
use rtnetlink::packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteNextHop, RouteNextHopFlags,
    RouteProtocol, RouteScope, RouteType,
};

/// The metric the kernel gives an IPv6 route sent with metric 0.
const IP6_DEFAULT_METRIC: u32 = 1024;

/// A next hop as installed: a gateway reached through an interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NextHop {
    /// The gateway address (same family as the prefix).
    pub gateway: IpAddr,
    /// The outgoing interface index.
    pub ifindex: u32,
}

/// Where fib-adapter's routes live and how they are marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteSpec {
    /// Routing table id.
    pub table: u32,
    /// Routing protocol number (`ip route ... proto N`); the mark of our routes.
    pub protocol: u8,
    /// Route metric (priority).
    pub metric: u32,
}

impl RouteSpec {
    /// The metric as the kernel stores it for a prefix of this family.
    pub fn metric_for(&self, prefix: &IpNet) -> u32 {
        match prefix {
            IpNet::V6(_) if self.metric == 0 => IP6_DEFAULT_METRIC,
            _ => self.metric,
        }
    }
}

/// One route of our protocol found in the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dumped {
    /// A unicast route in our table with our metric: ours to manage.
    Ours {
        /// The destination.
        prefix: IpNet,
        /// Its next hops, sorted.
        nexthops: Vec<NextHop>,
    },
    /// A route of our protocol that we would never install as it is (another metric, a
    /// TOS, another route type): removed once bgpd's view is known.
    Obsolete {
        /// The destination.
        prefix: IpNet,
        /// The message that deletes exactly this route.
        delete: Box<RouteMessage>,
    },
}

fn family(prefix: &IpNet) -> AddressFamily {
    match prefix {
        IpNet::V4(_) => AddressFamily::Inet,
        IpNet::V6(_) => AddressFamily::Inet6,
    }
}

fn header(spec: &RouteSpec, prefix: &IpNet) -> RouteHeader {
    RouteHeader {
        address_family: family(prefix),
        destination_prefix_length: prefix.prefix_len(),
        table: u8::try_from(spec.table).unwrap_or(RouteHeader::RT_TABLE_UNSPEC),
        protocol: RouteProtocol::from(spec.protocol),
        scope: RouteScope::Universe,
        kind: RouteType::Unicast,
        ..RouteHeader::default()
    }
}

fn base_message(spec: &RouteSpec, prefix: &IpNet) -> RouteMessage {
    let mut m = RouteMessage::default();
    m.header = header(spec, prefix);
    m.attributes = vec![
        RouteAttribute::Destination(RouteAddress::from(prefix.network())),
        RouteAttribute::Table(spec.table),
        RouteAttribute::Priority(spec.metric_for(prefix)),
    ];
    m
}

/// The `RTM_NEWROUTE` message for a route with at least one next hop.
pub fn add_message(spec: &RouteSpec, prefix: &IpNet, nexthops: &[NextHop]) -> RouteMessage {
    let mut m = base_message(spec, prefix);
    match nexthops {
        [one] => {
            m.attributes
                .push(RouteAttribute::Gateway(RouteAddress::from(one.gateway)));
            m.attributes.push(RouteAttribute::Oif(one.ifindex));
        }
        many => {
            let hops = many
                .iter()
                .map(|nh| {
                    let mut hop = RouteNextHop::default();
                    hop.flags = RouteNextHopFlags::empty();
                    hop.hops = 0;
                    hop.interface_index = nh.ifindex;
                    hop.attributes = vec![RouteAttribute::Gateway(RouteAddress::from(nh.gateway))];
                    hop
                })
                .collect();
            m.attributes.push(RouteAttribute::MultiPath(hops));
        }
    }
    m
}

/// The `RTM_DELROUTE` message that removes our route for `prefix` (whatever its next hops)
/// and nothing of another protocol or metric.
pub fn delete_message(spec: &RouteSpec, prefix: &IpNet) -> RouteMessage {
    base_message(spec, prefix)
}

fn address(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

/// The table a dumped route is in (`RTA_TABLE` wins over the 8-bit header field).
pub fn table_of(m: &RouteMessage) -> u32 {
    m.attributes
        .iter()
        .find_map(|a| match a {
            RouteAttribute::Table(t) => Some(*t),
            _ => None,
        })
        .unwrap_or(u32::from(m.header.table))
}

/// The destination prefix of a dumped route (`0.0.0.0/0` or `::/0` without `RTA_DST`).
pub fn prefix_of(m: &RouteMessage) -> Option<IpNet> {
    let len = m.header.destination_prefix_length;
    let dst = m.attributes.iter().find_map(|a| match a {
        RouteAttribute::Destination(d) => address(d),
        _ => None,
    });
    let addr = match (dst, m.header.address_family) {
        (Some(a), _) => a,
        (None, AddressFamily::Inet) => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        (None, AddressFamily::Inet6) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
        (None, _) => return None,
    };
    IpNet::new(addr, len).ok().map(|n| n.trunc())
}

/// The metric of a dumped route (0 when absent).
pub fn metric_of(m: &RouteMessage) -> u32 {
    m.attributes
        .iter()
        .find_map(|a| match a {
            RouteAttribute::Priority(p) => Some(*p),
            _ => None,
        })
        .unwrap_or(0)
}

/// The next hops of a dumped route, sorted; hops without a gateway are left out.
pub fn nexthops_of(m: &RouteMessage) -> Vec<NextHop> {
    let mut out = Vec::new();
    let mut gateway = None;
    let mut oif = 0;
    for a in &m.attributes {
        match a {
            RouteAttribute::Gateway(g) => gateway = address(g),
            RouteAttribute::Oif(i) => oif = *i,
            RouteAttribute::MultiPath(hops) => {
                for hop in hops {
                    let gw = hop.attributes.iter().find_map(|a| match a {
                        RouteAttribute::Gateway(g) => address(g),
                        _ => None,
                    });
                    if let Some(gateway) = gw {
                        out.push(NextHop {
                            gateway,
                            ifindex: hop.interface_index,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(gateway) = gateway {
        out.push(NextHop {
            gateway,
            ifindex: oif,
        });
    }
    out.sort();
    out.dedup();
    out
}

/// Classifies a dumped route: `None` when it is not in our table or not of our protocol.
pub fn classify(spec: &RouteSpec, m: &RouteMessage) -> Option<Dumped> {
    if u8::from(m.header.protocol) != spec.protocol || table_of(m) != spec.table {
        return None;
    }
    let prefix = prefix_of(m)?;
    let nexthops = nexthops_of(m);
    let ours = m.header.kind == RouteType::Unicast
        && m.header.tos == 0
        && m.header.source_prefix_length == 0
        && metric_of(m) == spec.metric_for(&prefix)
        && !nexthops.is_empty();
    if ours {
        return Some(Dumped::Ours { prefix, nexthops });
    }
    let mut delete = RouteMessage::default();
    delete.header = m.header.clone();
    delete.attributes = m
        .attributes
        .iter()
        .filter(|a| {
            matches!(
                a,
                RouteAttribute::Destination(_)
                    | RouteAttribute::Table(_)
                    | RouteAttribute::Priority(_)
            )
        })
        .cloned()
        .collect();
    Some(Dumped::Obsolete {
        prefix,
        delete: Box::new(delete),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: RouteSpec = RouteSpec {
        table: 100,
        protocol: 186,
        metric: 20,
    };

    fn nh(gw: &str, ifindex: u32) -> NextHop {
        NextHop {
            gateway: gw.parse().unwrap(),
            ifindex,
        }
    }

    #[test]
    fn single_next_hop_round_trips() {
        let p: IpNet = "10.1.1.0/24".parse().unwrap();
        let m = add_message(&SPEC, &p, &[nh("10.0.1.2", 3)]);
        assert_eq!(m.header.table, 100);
        assert_eq!(
            classify(&SPEC, &m),
            Some(Dumped::Ours {
                prefix: p,
                nexthops: vec![nh("10.0.1.2", 3)]
            })
        );
    }

    #[test]
    fn multipath_round_trips_sorted() {
        let p: IpNet = "fd01:99::/48".parse().unwrap();
        let hops = [nh("fd00:4::2", 5), nh("fd00:3::2", 4)];
        let m = add_message(&SPEC, &p, &hops);
        assert!(
            m.attributes
                .iter()
                .any(|a| matches!(a, RouteAttribute::MultiPath(h) if h.len() == 2))
        );
        assert_eq!(metric_of(&m), 20);
        let Some(Dumped::Ours { nexthops, .. }) = classify(&SPEC, &m) else {
            panic!("not ours");
        };
        assert_eq!(nexthops, vec![nh("fd00:3::2", 4), nh("fd00:4::2", 5)]);
    }

    #[test]
    fn ipv6_metric_zero_is_the_kernel_default() {
        let spec = RouteSpec { metric: 0, ..SPEC };
        let p: IpNet = "fd01::/48".parse().unwrap();
        assert_eq!(spec.metric_for(&p), 1024);
        assert_eq!(spec.metric_for(&"10.0.0.0/8".parse().unwrap()), 0);
    }

    #[test]
    fn large_table_ids_use_the_attribute() {
        let spec = RouteSpec {
            table: 1000,
            ..SPEC
        };
        let p: IpNet = "10.0.0.0/8".parse().unwrap();
        let m = add_message(&spec, &p, &[nh("10.0.1.2", 3)]);
        assert_eq!(table_of(&m), 1000);
        assert!(classify(&spec, &m).is_some());
        assert!(classify(&SPEC, &m).is_none());
    }

    #[test]
    fn other_protocols_and_metrics_are_told_apart() {
        let p: IpNet = "10.1.1.0/24".parse().unwrap();
        let mut m = add_message(&SPEC, &p, &[nh("10.0.1.2", 3)]);
        m.header.protocol = RouteProtocol::Static;
        assert_eq!(classify(&SPEC, &m), None);
        let other_metric = add_message(&RouteSpec { metric: 50, ..SPEC }, &p, &[nh("10.0.1.2", 3)]);
        assert!(matches!(
            classify(&SPEC, &other_metric),
            Some(Dumped::Obsolete { .. })
        ));
    }

    #[test]
    fn default_route_has_no_destination() {
        let mut m = add_message(&SPEC, &"0.0.0.0/0".parse().unwrap(), &[nh("10.0.1.2", 3)]);
        m.attributes
            .retain(|a| !matches!(a, RouteAttribute::Destination(_)));
        assert_eq!(prefix_of(&m), Some("0.0.0.0/0".parse().unwrap()));
    }
}
