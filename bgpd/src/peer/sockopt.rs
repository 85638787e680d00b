//! Socket options of BGP sessions that neither the standard library nor socket2 wrap:
//! TCP MD5 signatures (RFC 2385, `TCP_MD5SIG`) and the minimum TTL of GTSM (RFC 5082,
//! `IP_MINTTL` / `IPV6_MINHOPCOUNT`).
//!
//! This is the one module of bgpd with `unsafe` code: two `setsockopt(2)` calls on a
//! socket the caller borrows. Everything else (the key layout, the address encoding) is
//! built safely as bytes.
#![allow(unsafe_code)]

use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd};

/// Longest TCP MD5 key the kernel accepts (`TCP_MD5SIG_MAXKEYLEN`).
pub const MAX_MD5_KEY: usize = 80;

/// Size of `struct tcp_md5sig` (linux/tcp.h): a 128-byte `sockaddr_storage`, flags,
/// prefix length, key length, interface index, and the 80-byte key.
const MD5SIG_LEN: usize = 128 + 1 + 1 + 2 + 4 + MAX_MD5_KEY;

/// Why a socket option could not be set.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SockoptError {
    /// The key is longer than the kernel allows.
    #[error("TCP MD5 password is {0} bytes long; the kernel accepts at most 80")]
    KeyTooLong(usize),
    /// The kernel refused the option.
    #[error("the kernel refused {option}: {source}")]
    Refused {
        /// The option, as named in the kernel headers.
        option: &'static str,
        /// The error of setsockopt(2).
        source: std::io::Error,
    },
}

/// The `struct tcp_md5sig` for `peer` with `key` (an empty key deletes the peer's key).
fn md5sig(peer: IpAddr, key: &[u8]) -> Result<[u8; MD5SIG_LEN], SockoptError> {
    if key.len() > MAX_MD5_KEY {
        return Err(SockoptError::KeyTooLong(key.len()));
    }
    let mut buf = [0u8; MD5SIG_LEN];
    // The sockaddr, in the kernel's layout: family in host order, port and address in
    // network order (the port is not used for matching).
    match peer {
        IpAddr::V4(a) => {
            buf[0..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
            buf[4..8].copy_from_slice(&a.octets());
        }
        IpAddr::V6(a) => {
            buf[0..2].copy_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
            buf[8..24].copy_from_slice(&a.octets());
        }
    }
    // tcpm_flags 0, tcpm_prefixlen 0 (an exact address), tcpm_keylen, tcpm_ifindex 0.
    let keylen = u16::try_from(key.len()).map_err(|_| SockoptError::KeyTooLong(key.len()))?;
    buf[130..132].copy_from_slice(&keylen.to_ne_bytes());
    buf[136..136 + key.len()].copy_from_slice(key);
    Ok(buf)
}

fn setsockopt(
    socket: &impl AsFd,
    level: libc::c_int,
    name: libc::c_int,
    value: &[u8],
    option: &'static str,
) -> Result<(), SockoptError> {
    let len = libc::socklen_t::try_from(value.len()).map_err(|_| SockoptError::Refused {
        option,
        source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
    })?;
    let fd = socket.as_fd().as_raw_fd();
    // SAFETY: `fd` is a socket kept open by the borrow of `socket` for the whole call;
    // `value` is a live, initialised buffer of exactly `len` bytes that the kernel only
    // reads during the call.
    let rc = unsafe { libc::setsockopt(fd, level, name, value.as_ptr().cast(), len) };
    if rc == 0 {
        Ok(())
    } else {
        Err(SockoptError::Refused {
            option,
            source: std::io::Error::last_os_error(),
        })
    }
}

/// Sets (or, with an empty `key`, removes) the TCP MD5 key for segments to and from
/// `peer` on `socket`: a listening socket (for accepted connections) or one about to
/// connect. The socket's family must be the peer's.
pub fn set_md5_key(socket: &impl AsFd, peer: IpAddr, key: &[u8]) -> Result<(), SockoptError> {
    let sig = md5sig(peer, key)?;
    setsockopt(
        socket,
        libc::IPPROTO_TCP,
        libc::TCP_MD5SIG,
        &sig,
        "TCP_MD5SIG",
    )
}

/// Sets the minimum TTL (IPv4) or hop limit (IPv6) of packets the socket accepts (GTSM,
/// RFC 5082): 255 for a directly connected peer, `256 - hops` for one `hops` away.
pub fn set_min_ttl(socket: &impl AsFd, remote: SocketAddr, min: u8) -> Result<(), SockoptError> {
    let value = libc::c_int::from(min).to_ne_bytes();
    match remote {
        SocketAddr::V4(_) => setsockopt(
            socket,
            libc::IPPROTO_IP,
            libc::IP_MINTTL,
            &value,
            "IP_MINTTL",
        ),
        SocketAddr::V6(_) => setsockopt(
            socket,
            libc::IPPROTO_IPV6,
            libc::IPV6_MINHOPCOUNT,
            &value,
            "IPV6_MINHOPCOUNT",
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr, TcpListener};

    use super::*;

    #[test]
    fn md5_key_is_accepted_and_removed_on_a_listener() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let peer = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        set_md5_key(&listener, peer, b"secret").unwrap();
        set_md5_key(&listener, peer, b"").unwrap();
    }

    #[test]
    fn md5_key_of_the_wrong_family_is_refused_by_the_kernel() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let err = set_md5_key(&listener, IpAddr::V6(Ipv6Addr::LOCALHOST), b"x").unwrap_err();
        assert!(
            matches!(
                err,
                SockoptError::Refused {
                    option: "TCP_MD5SIG",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn md5_key_longer_than_80_bytes_is_refused_before_the_kernel() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let key = [b'k'; 81];
        let err = set_md5_key(&listener, IpAddr::V4(Ipv4Addr::LOCALHOST), &key).unwrap_err();
        assert!(matches!(err, SockoptError::KeyTooLong(81)));
        assert!(err.to_string().contains("at most 80"));
    }

    #[test]
    fn md5sig_layout_matches_the_kernel_struct() {
        let sig = md5sig(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)), b"abc").unwrap();
        assert_eq!(sig.len(), 216);
        assert_eq!(&sig[4..8], &[10, 1, 2, 3]);
        assert_eq!(u16::from_ne_bytes([sig[130], sig[131]]), 3);
        assert_eq!(&sig[136..139], b"abc");
    }

    #[test]
    fn md5_protected_listener_drops_unsigned_connections() {
        // A listener that requires a key of 127.0.0.1: the kernel drops the unsigned SYN,
        // so the connect never completes.
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        set_md5_key(&listener, IpAddr::V4(Ipv4Addr::LOCALHOST), b"secret").unwrap();
        let addr = listener.local_addr().unwrap();
        let r = std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(500));
        assert!(r.is_err(), "an unsigned connection was accepted");
        // Signed with the same key, it is.
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        set_md5_key(&socket, IpAddr::V4(Ipv4Addr::LOCALHOST), b"secret").unwrap();
        socket
            .connect_timeout(&addr.into(), std::time::Duration::from_secs(2))
            .unwrap();
    }

    #[test]
    fn min_ttl_drops_packets_from_farther_away() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        set_min_ttl(&listener, addr, 255).unwrap();
        let connect = |ttl: u32| {
            let s =
                socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
            s.set_ttl_v4(ttl).unwrap();
            s.connect_timeout(&addr.into(), std::time::Duration::from_millis(500))
        };
        // Loopback does not decrement the TTL: 254 looks like a peer one hop away.
        assert!(connect(254).is_err(), "a SYN with TTL 254 was accepted");
        connect(255).unwrap();
        let v6 = socket2::Socket::new(socket2::Domain::IPV6, socket2::Type::STREAM, None).unwrap();
        set_min_ttl(&v6, "[::1]:179".parse().unwrap(), 254).unwrap();
    }
}
