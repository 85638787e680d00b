//! Where bgpd's API is (`--api`), and connecting to it.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use bgp_api::bgpd::v1::GetGlobalRequest;
use bgp_api::bgpd::v1::bgpd_client::BgpdClient;
use hyper_util::rt::TokioIo;
use tokio::net::UnixStream;
use tonic::Request;
use tonic::transport::{Channel, Endpoint};

use crate::error::{Error, connection_failed, lost_connection, transport_failure};
use crate::tls::Tls;

/// The API address used when neither `--api` nor `BGPCTL_API` is given.
pub(crate) const DEFAULT_API: &str = "unix:///run/petrel/bgpd.sock";

/// How long to wait for the connection itself.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A gRPC client of bgpd.
pub(crate) type Client = BgpdClient<Channel>;

/// The address of bgpd's API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ApiAddr {
    /// A unix socket: `unix:///run/petrel/bgpd.sock` (or `unix:relative/path`).
    Unix(PathBuf),
    /// TCP: `HOST:PORT`, IPv6 hosts in brackets. `https` when it was written
    /// `https://HOST:PORT`, which asks for TLS (and so for `--tls-ca`).
    Tcp { host_port: String, https: bool },
}

/// Why an `--api` value was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}; expected unix:///PATH, HOST:PORT, http://HOST:PORT or https://HOST:PORT")]
pub(crate) struct AddrError(String);

impl FromStr for ApiAddr {
    type Err = AddrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix("unix:") {
            // unix:///abs/path (empty authority) or unix:path, as gRPC names them.
            let path = match rest.strip_prefix("//") {
                Some(p) if p.starts_with('/') => p,
                Some(_) => {
                    return Err(AddrError(format!(
                        "{s:?}: unix:// must be followed by an absolute path (unix:///run/x.sock)"
                    )));
                }
                None => rest,
            };
            if path.is_empty() {
                return Err(AddrError(format!("{s:?}: no socket path")));
            }
            return Ok(ApiAddr::Unix(PathBuf::from(path)));
        }
        if s.starts_with('/') {
            return Ok(ApiAddr::Unix(PathBuf::from(s)));
        }
        let (hostport, https) = match (s.strip_prefix("https://"), s.strip_prefix("http://")) {
            (Some(rest), _) => (rest, true),
            (None, Some(rest)) => (rest, false),
            (None, None) => (s, false),
        };
        let hostport = hostport.strip_suffix('/').unwrap_or(hostport);
        if hostport.is_empty() || hostport.contains('/') {
            return Err(AddrError(format!("{s:?}: not an address")));
        }
        let Some((host, port)) = hostport.rsplit_once(':') else {
            return Err(AddrError(format!("{s:?}: no port")));
        };
        if host.is_empty()
            || (host.contains(':') && !(host.starts_with('[') && host.ends_with(']')))
        {
            return Err(AddrError(format!(
                "{s:?}: bad host (IPv6 addresses are written in brackets: [::1]:50051)"
            )));
        }
        match port.parse::<u16>() {
            Ok(p) if p != 0 => {}
            _ => return Err(AddrError(format!("{s:?}: bad port {port:?}"))),
        }
        if Endpoint::from_shared(format!("http://{hostport}")).is_err() {
            return Err(AddrError(format!("{s:?}: not an address")));
        }
        Ok(ApiAddr::Tcp {
            host_port: hostport.to_owned(),
            https,
        })
    }
}

impl fmt::Display for ApiAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiAddr::Unix(p) if p.is_absolute() => write!(f, "unix://{}", p.display()),
            ApiAddr::Unix(p) => write!(f, "unix:{}", p.display()),
            ApiAddr::Tcp { host_port, .. } => f.write_str(host_port),
        }
    }
}

impl ApiAddr {
    /// The host of a TCP address, without the brackets of an IPv6 one; `None` for a unix
    /// socket.
    pub(crate) fn host(&self) -> Option<&str> {
        match self {
            ApiAddr::Unix(_) => None,
            ApiAddr::Tcp { host_port, .. } => {
                let host = host_port
                    .rsplit_once(':')
                    .map_or(host_port.as_str(), |(h, _)| h);
                Some(host.trim_start_matches('[').trim_end_matches(']'))
            }
        }
    }

    /// Connects now, so that an absent daemon (or a failed TLS handshake) is reported before
    /// any request is built. `tls` applies to TCP addresses only.
    pub(crate) async fn connect(&self, tls: Option<&Tls>) -> Result<Client, Error> {
        let with_tls = tls.is_some();
        let unreachable = |e: tonic::transport::Error| Error::Unreachable {
            api: self.to_string(),
            reason: transport_failure(&e, with_tls),
        };
        let channel = match self {
            ApiAddr::Unix(path) => {
                let path = path.clone();
                // The URI is required by tonic but unused: the connector ignores it.
                Endpoint::from_static("http://[::]:50051")
                    .connect_timeout(CONNECT_TIMEOUT)
                    .connect_with_connector(tower::service_fn(move |_| {
                        let path = path.clone();
                        async move {
                            Ok::<_, io::Error>(TokioIo::new(UnixStream::connect(path).await?))
                        }
                    }))
                    .await
                    .map_err(unreachable)?
            }
            ApiAddr::Tcp { host_port, .. } => {
                let scheme = if with_tls { "https" } else { "http" };
                let mut endpoint = Endpoint::from_shared(format!("{scheme}://{host_port}"))
                    .map_err(unreachable)?
                    .connect_timeout(CONNECT_TIMEOUT);
                if let Some(tls) = tls {
                    endpoint = endpoint
                        .tls_config(tls.config.clone().timeout(CONNECT_TIMEOUT))
                        .map_err(|e| tls.refused(&e))?;
                }
                endpoint.connect().await.map_err(unreachable)?
            }
        };
        let mut client = BgpdClient::new(channel);
        if with_tls {
            self.confirm_handshake(&mut client).await?;
        }
        Ok(client)
    }

    /// With TLS 1.3, bgpd checks the client's certificate after the client is done with its
    /// part of the handshake, so a refusal only shows at the first call. One call now tells
    /// a refused handshake apart from what goes wrong in the command itself.
    async fn confirm_handshake(&self, client: &mut Client) -> Result<(), Error> {
        let mut request = Request::new(GetGlobalRequest {});
        request.set_timeout(CONNECT_TIMEOUT);
        match client.get_global(request).await {
            Err(status) if connection_failed(&status) => Err(Error::Unreachable {
                api: self.to_string(),
                reason: lost_connection(&status, true),
            }),
            // bgpd answered, even if with an error: the connection stands.
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<ApiAddr, String> {
        s.parse::<ApiAddr>().map_err(|e| e.to_string())
    }

    #[test]
    fn unix_forms() {
        assert_eq!(
            parse(DEFAULT_API),
            Ok(ApiAddr::Unix("/run/petrel/bgpd.sock".into()))
        );
        assert_eq!(
            parse("unix:run/b.sock"),
            Ok(ApiAddr::Unix("run/b.sock".into()))
        );
        assert_eq!(
            parse("/tmp/b.sock"),
            Ok(ApiAddr::Unix("/tmp/b.sock".into()))
        );
        assert_eq!(
            parse(DEFAULT_API).map(|a| a.to_string()),
            Ok(DEFAULT_API.to_owned())
        );
        assert!(
            parse("unix://relative")
                .unwrap_err()
                .contains("absolute path")
        );
        assert!(parse("unix:").unwrap_err().contains("no socket path"));
    }

    fn tcp(host_port: &str, https: bool) -> ApiAddr {
        ApiAddr::Tcp {
            host_port: host_port.into(),
            https,
        }
    }

    #[test]
    fn tcp_forms() {
        assert_eq!(parse("127.0.0.1:50051"), Ok(tcp("127.0.0.1:50051", false)));
        assert_eq!(parse("http://[::1]:50051/"), Ok(tcp("[::1]:50051", false)));
        assert_eq!(parse("localhost:1"), Ok(tcp("localhost:1", false)));
        assert_eq!(
            parse("https://bgpd.example:1"),
            Ok(tcp("bgpd.example:1", true))
        );
        assert_eq!(
            parse("http://[::1]:50051").map(|a| a.to_string()),
            Ok("[::1]:50051".into())
        );
    }

    #[test]
    fn host_is_what_a_certificate_names() {
        let host = |s: &str| parse(s).unwrap().host().map(str::to_owned);
        assert_eq!(host("127.0.0.1:50051").as_deref(), Some("127.0.0.1"));
        assert_eq!(host("https://[::1]:50051").as_deref(), Some("::1"));
        assert_eq!(host("bgpd.example:1").as_deref(), Some("bgpd.example"));
        assert_eq!(host("unix:///x.sock"), None);
    }

    #[test]
    fn bad_addresses_say_what_is_expected() {
        let e = parse("127.0.0.1").unwrap_err();
        assert_eq!(
            e,
            "\"127.0.0.1\": no port; expected unix:///PATH, HOST:PORT, http://HOST:PORT or \
             https://HOST:PORT"
        );
        assert!(parse("::1:50051").unwrap_err().contains("brackets"));
        assert!(parse("host:0").unwrap_err().contains("bad port"));
        assert!(parse("host:http").unwrap_err().contains("bad port"));
        assert!(parse("https://host").unwrap_err().contains("no port"));
        assert!(
            parse("http://host:1/path")
                .unwrap_err()
                .contains("not an address")
        );
    }
}
