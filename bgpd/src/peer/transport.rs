//! The TCP side of a session's security: TCP MD5 keys on the listeners and on outbound
//! sockets, GTSM (RFC 5082), eBGP multihop TTL, and binding to an address or interface.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use socket2::{Domain, Protocol, SockRef, Socket, Type};
use tokio::net::{TcpSocket, TcpStream};
use tracing::warn;

use super::sockopt::{self, SockoptError};
use crate::config::Neighbor;

/// Longest wait for an outbound TCP connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The TTL GTSM sends with.
const GTSM_TTL: u32 = 255;

/// Duplicates of the daemon's listening sockets, to install per-neighbour TCP MD5 keys on.
pub type Listeners = Arc<Vec<Socket>>;

/// What the socket of one neighbour needs.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    pub(crate) remote: SocketAddr,
    pub(crate) local: Option<IpAddr>,
    pub(crate) ttl: Option<u32>,
    pub(crate) min_ttl: Option<u8>,
    pub(crate) password: Option<String>,
    pub(crate) interface: Option<String>,
}

impl Transport {
    /// The settings of `n`; `ibgp` for a neighbour in our AS.
    pub(crate) fn new(n: &Neighbor, ibgp: bool) -> Self {
        let s = &n.session;
        let ttl = match (s.ttl_security, n.multihop_ttl) {
            (Some(_), _) => Some(GTSM_TTL),
            (None, Some(ttl)) => Some(u32::from(ttl)),
            // Directly connected eBGP.
            (None, None) if !ibgp => Some(1),
            (None, None) => None,
        };
        Transport {
            remote: n.socket_addr(),
            local: n.local_address,
            ttl,
            // A peer `hops` away sends with 255 and we see 256 - hops.
            min_ttl: s.ttl_security.map(|hops| 255 - (hops - 1)),
            password: s.password.clone(),
            interface: s.bind_interface.clone(),
        }
    }

    /// Sets the options that apply to an accepted connection (TTL and GTSM).
    pub(crate) fn prepare_inbound(&self, stream: &TcpStream) -> Result<(), SockoptError> {
        let sock = SockRef::from(stream);
        self.set_ttl(&sock)?;
        if let Some(min) = self.min_ttl {
            sockopt::set_min_ttl(stream, self.remote, min)?;
        }
        Ok(())
    }

    fn set_ttl(&self, sock: &SockRef<'_>) -> Result<(), SockoptError> {
        let Some(ttl) = self.ttl else { return Ok(()) };
        let r = if self.remote.is_ipv4() {
            sock.set_ttl_v4(ttl)
        } else {
            sock.set_unicast_hops_v6(ttl)
        };
        r.map_err(|source| SockoptError::Refused {
            option: "IP_TTL",
            source,
        })
    }

    /// Connects to the neighbour with every option set before the SYN.
    pub(crate) async fn connect(self) -> std::io::Result<TcpStream> {
        let remote = self.remote;
        let socket = Socket::new(
            Domain::for_address(remote),
            Type::STREAM,
            Some(Protocol::TCP),
        )?;
        socket.set_nonblocking(true)?;
        self.set_ttl(&SockRef::from(&socket))
            .map_err(std::io::Error::other)?;
        if let Some(min) = self.min_ttl {
            sockopt::set_min_ttl(&socket, remote, min).map_err(std::io::Error::other)?;
        }
        if let Some(key) = &self.password {
            sockopt::set_md5_key(&socket, remote.ip(), key.as_bytes())
                .map_err(std::io::Error::other)?;
        }
        if let Some(name) = &self.interface {
            socket.bind_device(Some(name.as_bytes())).map_err(|e| {
                std::io::Error::new(e.kind(), format!("cannot bind to interface {name}: {e}"))
            })?;
        }
        if let Some(local) = self.local {
            socket.bind(&SocketAddr::new(local, 0).into())?;
        }
        let socket = TcpSocket::from_std_stream(socket.into());
        tokio::time::timeout(CONNECT_TIMEOUT, socket.connect(remote))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))?
    }

    /// Installs (or with `remove`, deletes) this neighbour's TCP MD5 key on every listener
    /// of its address family. Returns the first refusal.
    pub(crate) fn listener_keys(
        &self,
        listeners: &[Socket],
        remove: bool,
    ) -> Result<(), SockoptError> {
        let Some(key) = &self.password else {
            return Ok(());
        };
        let key = if remove { &[][..] } else { key.as_bytes() };
        let mut first = Ok(());
        for l in listeners {
            let family = l.local_addr().ok().and_then(|a| a.as_socket());
            if family.is_some_and(|a| a.is_ipv4() == self.remote.is_ipv4())
                && let Err(e) = sockopt::set_md5_key(l, self.remote.ip(), key)
            {
                if !remove {
                    warn!(error = %e, "TCP MD5 key not installed on a listener");
                }
                if first.is_ok() {
                    first = Err(e);
                }
            }
        }
        first
    }

    /// A hint to add to a failed connection attempt: with TCP MD5, a wrong or missing
    /// password on either side shows only as silence (the kernel drops the segments).
    pub(crate) fn silence_hint(&self) -> Option<&'static str> {
        match (&self.password, self.min_ttl) {
            (Some(_), Some(_)) => Some(
                "no answer; TCP MD5 and GTSM (ttl_security) are configured: check that the \
                 peer uses the same password and sends with TTL 255",
            ),
            (Some(_), None) => {
                Some("no answer; TCP MD5 is configured: check that the peer uses the same password")
            }
            (None, Some(_)) => Some(
                "no answer; GTSM (ttl_security) is configured: check the peer's TTL and hop count",
            ),
            (None, None) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;

    fn transport(remote: SocketAddr) -> Transport {
        Transport {
            remote,
            local: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            ttl: Some(1),
            min_ttl: None,
            password: None,
            interface: None,
        }
    }

    #[tokio::test]
    async fn connects_bound_to_an_interface_and_names_a_missing_one() {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .unwrap();
        let remote = listener.local_addr().unwrap();
        let mut t = transport(remote);
        t.interface = Some("lo".into());
        let stream = t.clone().connect().await.unwrap();
        assert_eq!(stream.peer_addr().unwrap(), remote);
        assert_eq!(SockRef::from(&stream).ttl_v4().unwrap(), 1);
        t.interface = Some("nosuchif0".into());
        let err = t.connect().await.unwrap_err();
        assert!(err.to_string().contains("nosuchif0"), "{err}");
    }

    #[tokio::test]
    async fn md5_signed_connect_reaches_a_listener_with_the_same_key() {
        let std_listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let remote = std_listener.local_addr().unwrap();
        let mut t = transport(remote);
        t.password = Some("s3cret".into());
        let dup = SockRef::from(&std_listener).try_clone().unwrap();
        t.listener_keys(std::slice::from_ref(&dup), false).unwrap();
        let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
        let (connected, accepted) = tokio::join!(t.clone().connect(), listener.accept());
        connected.unwrap();
        accepted.unwrap();
        // A wrong key: no answer, and the hint says why.
        t.password = Some("wrong".into());
        let err = t.clone().connect().await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
        assert!(t.silence_hint().unwrap().contains("TCP MD5"));
    }

    #[test]
    fn gtsm_sends_with_255_and_expects_256_minus_hops() {
        let toml = "[global]\nasn = 65000\nrouter_id = \"10.0.0.1\"\n[[neighbors]]\n\
                    address = \"10.0.0.2\"\npeer_asn = 65001\nttl_security = 2\n";
        let c = crate::config::from_str(toml, "t.toml").unwrap();
        let t = Transport::new(&c.neighbors[0], false);
        assert_eq!((t.ttl, t.min_ttl), (Some(255), Some(254)));
        assert!(t.silence_hint().unwrap().contains("GTSM"));
    }
}
