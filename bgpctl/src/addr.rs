//! Where bgpd's API is (`--api`), and connecting to it.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use bgp_api::bgpd::v1::bgpd_client::BgpdClient;
use hyper_util::rt::TokioIo;
use tokio::net::UnixStream;
use tonic::transport::{Channel, Endpoint};

use crate::error::Error;

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
    /// TCP, as an `http://HOST:PORT` URI.
    Tcp(String),
}

/// Why an `--api` value was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}; expected unix:///PATH, HOST:PORT or http://HOST:PORT")]
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
        if s.starts_with("https://") {
            return Err(AddrError(format!("{s:?}: bgpctl does not speak TLS")));
        }
        let hostport = s.strip_prefix("http://").unwrap_or(s);
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
        let uri = format!("http://{hostport}");
        if Endpoint::from_shared(uri.clone()).is_err() {
            return Err(AddrError(format!("{s:?}: not an address")));
        }
        Ok(ApiAddr::Tcp(uri))
    }
}

impl fmt::Display for ApiAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiAddr::Unix(p) if p.is_absolute() => write!(f, "unix://{}", p.display()),
            ApiAddr::Unix(p) => write!(f, "unix:{}", p.display()),
            ApiAddr::Tcp(uri) => f.write_str(uri.strip_prefix("http://").unwrap_or(uri)),
        }
    }
}

impl ApiAddr {
    /// Connects now, so that an absent daemon is reported before any request is built.
    pub(crate) async fn connect(&self) -> Result<Client, Error> {
        let unreachable = |e: tonic::transport::Error| Error::Unreachable {
            api: self.to_string(),
            reason: root_cause(&e),
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
            ApiAddr::Tcp(uri) => Endpoint::from_shared(uri.clone())
                .map_err(unreachable)?
                .connect_timeout(CONNECT_TIMEOUT)
                .connect()
                .await
                .map_err(unreachable)?,
        };
        Ok(BgpdClient::new(channel))
    }
}

/// The innermost cause of an error ("No such file or directory", "Connection refused"),
/// without the `(os error N)` suffix.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let text = cause.to_string();
    let text = match text.find(" (os error ") {
        Some(i) => &text[..i],
        None => &text,
    };
    crate::error::one_line(text)
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

    #[test]
    fn tcp_forms() {
        assert_eq!(
            parse("127.0.0.1:50051"),
            Ok(ApiAddr::Tcp("http://127.0.0.1:50051".into()))
        );
        assert_eq!(
            parse("http://[::1]:50051/"),
            Ok(ApiAddr::Tcp("http://[::1]:50051".into()))
        );
        assert_eq!(
            parse("localhost:1"),
            Ok(ApiAddr::Tcp("http://localhost:1".into()))
        );
        assert_eq!(
            parse("http://[::1]:50051").map(|a| a.to_string()),
            Ok("[::1]:50051".into())
        );
    }

    #[test]
    fn bad_addresses_say_what_is_expected() {
        let e = parse("127.0.0.1").unwrap_err();
        assert_eq!(
            e,
            "\"127.0.0.1\": no port; expected unix:///PATH, HOST:PORT or http://HOST:PORT"
        );
        assert!(parse("::1:50051").unwrap_err().contains("brackets"));
        assert!(parse("host:0").unwrap_err().contains("bad port"));
        assert!(parse("host:http").unwrap_err().contains("bad port"));
        assert!(parse("https://host:1").unwrap_err().contains("TLS"));
        assert!(
            parse("http://host:1/path")
                .unwrap_err()
                .contains("not an address")
        );
    }

    #[test]
    fn root_cause_drops_os_error_suffix() {
        let e = io::Error::from_raw_os_error(2);
        assert_eq!(root_cause(&e), "No such file or directory");
    }
}
