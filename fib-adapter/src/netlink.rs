//! The kernel side: one rtnetlink connection, used for route changes, dumps of our own
//! routes, next-hop lookups and the scans that feed redistribution.
//!
//! Requests are independent futures over one socket, so the FIB task keeps many in flight
//! at once (the kernel answers each with an ACK that carries its sequence number).

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use futures::TryStreamExt;
use ipnet::IpNet;
use rtnetlink::packet_route::AddressFamily;
use rtnetlink::packet_route::address::AddressAttribute;
use rtnetlink::packet_route::link::LinkAttribute;
use rtnetlink::packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use rtnetlink::sys::AsyncSocket;
use rtnetlink::{Handle, MulticastGroup};
use tokio::task::JoinHandle;

use crate::route::{self, Dumped, NextHop, RouteSpec};

/// Socket receive buffer: room for the ACKs of a full window and for large dumps.
const RECV_BUFFER: usize = 8 * 1024 * 1024;

/// A failed netlink request.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum NetlinkError {
    /// The socket could not be opened or configured.
    #[error("cannot open a netlink socket: {0}")]
    Socket(String),
    /// The kernel refused a request.
    #[error("{op}: {message}")]
    Kernel {
        /// What was asked.
        op: &'static str,
        /// The errno the kernel answered with (positive), 0 if unknown.
        errno: i32,
        /// The kernel's words.
        message: String,
    },
}

impl NetlinkError {
    /// The errno of a refused request, if there is one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            NetlinkError::Kernel { errno, .. } if *errno != 0 => Some(*errno),
            _ => None,
        }
    }

    fn from_rtnetlink(op: &'static str, e: rtnetlink::Error) -> NetlinkError {
        match e {
            rtnetlink::Error::NetlinkError(m) => {
                let errno = -m.raw_code();
                NetlinkError::Kernel {
                    op,
                    errno,
                    message: m.to_io().to_string(),
                }
            }
            other => NetlinkError::Kernel {
                op,
                errno: 0,
                message: other.to_string(),
            },
        }
    }
}

/// `ENETUNREACH`: the kernel has no route to a gateway.
pub const ENETUNREACH: i32 = 101;
/// `EEXIST`: a route with the same key (prefix, TOS, metric) exists.
pub const EEXIST: i32 = 17;
/// `ENOENT`: no such table (dump).
pub const ENOENT: i32 = 2;
/// `ESRCH`: no such route (delete).
pub const ESRCH: i32 = 3;

/// A handle on the kernel's routing tables for one [`RouteSpec`].
#[derive(Debug, Clone)]
pub struct Kernel {
    handle: Handle,
    spec: RouteSpec,
}

/// Messages of a monitoring socket (interfaces and addresses changing).
pub type MonitorEvents = futures::channel::mpsc::UnboundedReceiver<(
    rtnetlink::packet_core::NetlinkMessage<rtnetlink::packet_route::RouteNetlinkMessage>,
    rtnetlink::sys::SocketAddr,
)>;

/// The connection task; it ends when every [`Kernel`] clone is dropped.
pub type ConnectionTask = JoinHandle<()>;

impl Kernel {
    /// Opens a netlink socket in the current network namespace and spawns its connection
    /// task on the current tokio runtime.
    pub fn connect(spec: RouteSpec) -> Result<(Kernel, ConnectionTask), NetlinkError> {
        let (mut conn, handle, _) = rtnetlink::new_connection_with_strict_check()
            .map_err(|e| NetlinkError::Socket(e.to_string()))?;
        let socket = conn.socket_mut().socket_mut();
        // Optional tuning: a kernel that refuses them still works.
        let _ = socket.set_rx_buf_sz(RECV_BUFFER);
        let _ = socket.set_cap_ack(true);
        let _ = socket.set_ext_ack(true);
        let task = tokio::spawn(conn);
        Ok((Kernel { handle, spec }, task))
    }

    /// The table, protocol and metric this handle manages.
    pub fn spec(&self) -> &RouteSpec {
        &self.spec
    }

    async fn dump(
        &self,
        family: AddressFamily,
        table: u32,
        protocol: u8,
    ) -> Result<Vec<RouteMessage>, NetlinkError> {
        let mut m = RouteMessage::default();
        m.header.address_family = family;
        m.header.table = u8::try_from(table).unwrap_or(RouteHeader::RT_TABLE_UNSPEC);
        m.header.protocol = RouteProtocol::from(protocol);
        m.header.scope = RouteScope::Universe;
        m.header.kind = RouteType::Unspec;
        m.attributes.push(RouteAttribute::Table(table));
        let routes: Vec<RouteMessage> =
            match self.handle.route().get(m).execute().try_collect().await {
                Ok(r) => r,
                Err(e) => {
                    let e = NetlinkError::from_rtnetlink("dump routes", e);
                    // A table that does not exist yet holds no routes.
                    if e.errno() == Some(ENOENT) {
                        return Ok(Vec::new());
                    }
                    return Err(e);
                }
            };
        // Older kernels ignore the filter; filter here too.
        Ok(routes
            .into_iter()
            .filter(|r| route::table_of(r) == table && u8::from(r.header.protocol) == protocol)
            .collect())
    }

    /// Every route of our protocol in our table, IPv4 and IPv6.
    pub async fn dump_own(&self) -> Result<Vec<Dumped>, NetlinkError> {
        let mut out = Vec::new();
        for family in [AddressFamily::Inet, AddressFamily::Inet6] {
            let routes = self
                .dump(family, self.spec.table, self.spec.protocol)
                .await?;
            out.extend(routes.iter().filter_map(|r| route::classify(&self.spec, r)));
        }
        Ok(out)
    }

    /// Counts the routes of `protocol` in `table`, both families, without keeping them
    /// (for benchmarks and tests).
    pub async fn count(&self, table: u32, protocol: u8) -> Result<usize, NetlinkError> {
        let mut n = 0;
        for family in [AddressFamily::Inet, AddressFamily::Inet6] {
            let mut m = RouteMessage::default();
            m.header.address_family = family;
            m.header.table = u8::try_from(table).unwrap_or(RouteHeader::RT_TABLE_UNSPEC);
            m.header.protocol = RouteProtocol::from(protocol);
            m.attributes.push(RouteAttribute::Table(table));
            let counted = self
                .handle
                .route()
                .get(m)
                .execute()
                .try_fold(0usize, |n, r| async move {
                    let ours =
                        route::table_of(&r) == table && u8::from(r.header.protocol) == protocol;
                    Ok(n + usize::from(ours))
                })
                .await;
            match counted {
                Ok(c) => n += c,
                Err(e) => {
                    let e = NetlinkError::from_rtnetlink("count routes", e);
                    if e.errno() != Some(ENOENT) {
                        return Err(e);
                    }
                }
            }
        }
        Ok(n)
    }

    /// The prefixes of routes in `table` with `protocol` (unicast, blackhole and the like).
    pub async fn table_prefixes(
        &self,
        table: u32,
        protocol: u8,
    ) -> Result<BTreeSet<IpNet>, NetlinkError> {
        let mut out = BTreeSet::new();
        for family in [AddressFamily::Inet, AddressFamily::Inet6] {
            for r in self.dump(family, table, protocol).await? {
                if r.header.source_prefix_length == 0
                    && let Some(p) = route::prefix_of(&r)
                {
                    out.insert(p);
                }
            }
        }
        Ok(out)
    }

    /// How the kernel reaches a next hop: the interface and, when the next hop is not on a
    /// connected network, the gateway in between. `None` when it is unreachable (no route,
    /// a blackhole, or one of our own addresses).
    pub async fn resolve(&self, target: IpAddr) -> Result<Option<NextHop>, NetlinkError> {
        let mut m = RouteMessage::default();
        let (family, len) = match target {
            IpAddr::V4(_) => (AddressFamily::Inet, 32),
            IpAddr::V6(_) => (AddressFamily::Inet6, 128),
        };
        m.header.address_family = family;
        m.header.destination_prefix_length = len;
        m.attributes
            .push(RouteAttribute::Destination(RouteAddress::from(target)));
        let answer: Result<Vec<RouteMessage>, _> =
            self.handle.route().get(m).execute().try_collect().await;
        let answer = match answer {
            Ok(a) => a,
            Err(e) => {
                let e = NetlinkError::from_rtnetlink("look up next hop", e);
                return match e.errno() {
                    // No route at all, or a prohibit/unreachable route.
                    Some(101 | 113 | 13 | 22) => Ok(None),
                    _ => Err(e),
                };
            }
        };
        let Some(r) = answer.first() else {
            return Ok(None);
        };
        if r.header.kind != RouteType::Unicast {
            return Ok(None);
        }
        let mut gateway = None;
        let mut oif = None;
        for a in &r.attributes {
            match a {
                RouteAttribute::Gateway(RouteAddress::Inet(g)) => gateway = Some(IpAddr::V4(*g)),
                RouteAttribute::Gateway(RouteAddress::Inet6(g)) => gateway = Some(IpAddr::V6(*g)),
                RouteAttribute::Oif(i) => oif = Some(*i),
                _ => {}
            }
        }
        Ok(oif.map(|ifindex| NextHop {
            gateway: gateway.unwrap_or(target),
            ifindex,
        }))
    }

    /// Interface names to indexes.
    pub async fn links(&self) -> Result<HashMap<String, u32>, NetlinkError> {
        let links: Vec<_> = self
            .handle
            .link()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(|e| NetlinkError::from_rtnetlink("list interfaces", e))?;
        Ok(links
            .into_iter()
            .filter_map(|l| {
                l.attributes.iter().find_map(|a| match a {
                    LinkAttribute::IfName(n) => Some((n.clone(), l.header.index)),
                    _ => None,
                })
            })
            .collect())
    }

    /// The connected prefixes of the named interfaces (link-local and loopback addresses
    /// left out). Interfaces that do not exist contribute nothing.
    pub async fn connected(&self, names: &[String]) -> Result<BTreeSet<IpNet>, NetlinkError> {
        if names.is_empty() {
            return Ok(BTreeSet::new());
        }
        let links = self.links().await?;
        let wanted: BTreeSet<u32> = names.iter().filter_map(|n| links.get(n).copied()).collect();
        let addrs: Vec<_> = self
            .handle
            .address()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(|e| NetlinkError::from_rtnetlink("list addresses", e))?;
        let mut out = BTreeSet::new();
        for a in addrs {
            if !wanted.contains(&a.header.index) {
                continue;
            }
            let ip = a.attributes.iter().find_map(|x| match x {
                AddressAttribute::Local(ip) => Some(*ip),
                _ => None,
            });
            let ip = ip.or_else(|| {
                a.attributes.iter().find_map(|x| match x {
                    AddressAttribute::Address(ip) => Some(*ip),
                    _ => None,
                })
            });
            let Some(ip) = ip else { continue };
            if !announceable(&ip) {
                continue;
            }
            if let Ok(net) = IpNet::new(ip, a.header.prefix_len) {
                out.insert(net.trunc());
            }
        }
        Ok(out)
    }
}

/// Whether an interface address may be announced: not loopback, link-local, multicast or
/// unspecified.
fn announceable(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !(v4.is_loopback() || v4.is_link_local() || v4.is_unspecified()),
        IpAddr::V6(v6) => {
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (v6.segments()[0] & 0xffc0) == 0xfe80)
        }
    }
}

/// Opens a socket that hears about interfaces and addresses changing (`ip monitor link
/// address`), and spawns its connection task. Each message on the returned receiver means
/// "something changed"; the messages themselves are not needed.
pub fn monitor() -> Result<(MonitorEvents, ConnectionTask), NetlinkError> {
    let (conn, _handle, messages) = rtnetlink::new_multicast_connection(&[
        MulticastGroup::Link,
        MulticastGroup::Ipv4Ifaddr,
        MulticastGroup::Ipv6Ifaddr,
    ])
    .map_err(|e| NetlinkError::Socket(e.to_string()))?;
    Ok((messages, tokio::spawn(conn)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_addresses_are_announced() {
        for ok in ["10.0.1.1", "192.0.2.1", "fd00::1", "2001:db8::1"] {
            assert!(announceable(&ok.parse().unwrap()), "{ok}");
        }
        for no in ["127.0.0.1", "169.254.1.1", "::1", "fe80::1", "ff02::1"] {
            assert!(!announceable(&no.parse().unwrap()), "{no}");
        }
    }
}
