//! The gRPC API (`petrel.bgpd.v1`): served on a unix socket (mode 0660) and on the TCP
//! addresses the configuration names, never on all interfaces unless configured.

mod convert;
mod convert_session;
mod policy;
mod service;
mod session_rules;
mod watch;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use bgp_api::bgpd::v1::bgpd_server::BgpdServer;
use tokio::net::{TcpListener, UnixListener, UnixStream};
use tokio::task::JoinHandle;
use tokio_stream::wrappers::{TcpListenerStream, UnixListenerStream};
use tonic::transport::{Certificate, Identity, ServerTlsConfig};
use tracing::{info, warn};

use crate::config;
use crate::daemon::DaemonHandle;

/// Why the API could not be served.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Another process answers on the socket.
    #[error(
        "{0}: another bgpd is serving its API on this socket; stop it or choose another [api] socket"
    )]
    SocketInUse(PathBuf),
    /// The socket could not be made.
    #[error("{path}: {source}")]
    Socket {
        /// The socket path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A TCP address could not be bound.
    #[error("{addr}: {source}")]
    Tcp {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A TLS file could not be read.
    #[error("[api] TLS file {path}: {source}")]
    TlsFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TLS settings were refused.
    #[error("[api] TLS: {0}")]
    Tls(String),
}

/// The running API servers.
#[derive(Debug, Default)]
pub struct Served {
    /// The server tasks.
    pub tasks: Vec<JoinHandle<()>>,
    /// The unix socket to remove at shutdown.
    pub socket: Option<PathBuf>,
    /// The TCP addresses bound (useful with port 0).
    pub tcp: Vec<std::net::SocketAddr>,
}

fn read(path: &Path) -> Result<Vec<u8>, ApiError> {
    std::fs::read(path).map_err(|source| ApiError::TlsFile {
        path: path.to_path_buf(),
        source,
    })
}

/// The server TLS settings: our certificate and key, and with a client CA, mutual TLS.
fn tls_config(t: &config::ApiTls) -> Result<ServerTlsConfig, ApiError> {
    let identity = Identity::from_pem(read(&t.cert)?, read(&t.key)?);
    let mut tls = ServerTlsConfig::new().identity(identity);
    if let Some(ca) = &t.client_ca {
        tls = tls.client_ca_root(Certificate::from_pem(read(ca)?));
    }
    Ok(tls)
}

/// Starts the API servers the configuration asks for.
pub async fn serve(daemon: &DaemonHandle, cfg: &config::Api) -> Result<Served, ApiError> {
    let tls = cfg.tls.as_ref().map(tls_config).transpose()?;
    let mut tasks = Vec::new();
    let mut tcp = Vec::new();
    if let Some(path) = &cfg.socket {
        let listener = unix_listener(path).await?;
        info!(socket = %path.display(), "API listening");
        let service = BgpdServer::new(service::Service {
            daemon: daemon.clone(),
        });
        tasks.push(tokio::spawn(async move {
            let incoming = UnixListenerStream::new(listener);
            if let Err(e) = tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(incoming)
                .await
            {
                warn!(error = %e, "API server (unix socket) stopped");
            }
        }));
    }
    for addr in &cfg.listen {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ApiError::Tcp {
                addr: *addr,
                source,
            })?;
        let bound = listener.local_addr().map_err(|source| ApiError::Tcp {
            addr: *addr,
            source,
        })?;
        info!(addr = %bound, tls = tls.is_some(), "API listening");
        tcp.push(bound);
        let service = BgpdServer::new(service::Service {
            daemon: daemon.clone(),
        });
        let mut builder = tonic::transport::Server::builder();
        if let Some(tls) = &tls {
            builder = builder
                .tls_config(tls.clone())
                .map_err(|e| ApiError::Tls(e.to_string()))?;
        }
        tasks.push(tokio::spawn(async move {
            let incoming = TcpListenerStream::new(listener);
            if let Err(e) = builder
                .add_service(service)
                .serve_with_incoming(incoming)
                .await
            {
                warn!(error = %e, "API server (TCP) stopped");
            }
        }));
    }
    Ok(Served {
        tasks,
        socket: cfg.socket.clone(),
        tcp,
    })
}

/// Binds the unix socket: creates its directory, replaces a stale socket file, refuses to
/// take over one that another process answers on, and sets mode 0660.
async fn unix_listener(path: &Path) -> Result<UnixListener, ApiError> {
    let err = |source| ApiError::Socket {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    if path.exists() {
        if UnixStream::connect(path).await.is_ok() {
            return Err(ApiError::SocketInUse(path.to_path_buf()));
        }
        std::fs::remove_file(path).map_err(err)?;
    }
    let listener = UnixListener::bind(path).map_err(err)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(err)?;
    Ok(listener)
}
