//! `[api]` and `[metrics]`: where the daemon serves its gRPC API and Prometheus metrics.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::reader::{Problems, Table, parsed, string};
use super::{Api, ApiTls, DEFAULT_API_SOCKET, Metrics};

/// `[api]`; `None` when a key is invalid (reported).
pub(super) fn api(t: Option<Table>, p: &mut Problems) -> Option<Api> {
    let Some(mut t) = t else {
        return Some(Api::default());
    };
    let reported = p.count();
    let socket = t.or(p, "socket", DEFAULT_API_SOCKET.to_string(), |v| {
        string(
            v,
            "a path such as \"/run/petrel/bgpd.sock\", or \"\" for no socket",
        )
    });
    let listen = t.list(p, "listen", "an array of \"IP:PORT\" strings", |v| {
        parsed::<SocketAddr>(v, "\"IP:PORT\", e.g. \"127.0.0.1:50051\"")
    });
    let path = |v| string(v, "a file path").map(PathBuf::from);
    let cert = t.get(p, "tls_cert", path);
    let key = t.get(p, "tls_key", path);
    let client_ca = t.get(p, "tls_client_ca", path);
    let tls = match (cert, key, client_ca) {
        (Ok(Some(cert)), Ok(Some(key)), Ok(client_ca)) => Some(ApiTls {
            cert,
            key,
            client_ca,
        }),
        (Ok(None), Ok(None), Ok(None)) => None,
        (Ok(cert), Ok(key), Ok(_)) => {
            let missing = if cert.is_none() {
                "tls_cert"
            } else {
                "tls_key"
            };
            let _ = key;
            p.report(t.key(missing), "missing; tls_cert and tls_key go together");
            None
        }
        _ => None,
    };
    t.finish(p);
    if p.count() > reported {
        return None;
    }
    let socket = socket?;
    Some(Api {
        socket: (!socket.is_empty()).then(|| PathBuf::from(socket)),
        listen: listen.ok()?.unwrap_or_default(),
        tls,
    })
}

/// `[metrics]`; `None` when a key is invalid (reported).
pub(super) fn metrics(t: Option<Table>, p: &mut Problems) -> Option<Metrics> {
    let Some(mut t) = t else {
        return Some(Metrics::default());
    };
    let reported = p.count();
    let listen = t.get(p, "listen", |v| {
        parsed::<SocketAddr>(v, "\"IP:PORT\", e.g. \"127.0.0.1:9179\"")
    });
    t.finish(p);
    if p.count() > reported {
        return None;
    }
    Some(Metrics {
        listen: listen.ok()?,
    })
}
