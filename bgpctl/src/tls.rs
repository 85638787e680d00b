//! TLS to bgpd's API over TCP: `--tls-ca`, `--tls-cert`, `--tls-key`, `--tls-domain`.
//!
//! bgpd serves TLS on its TCP listeners when its `[api]` section has `tls_cert` and `tls_key`,
//! and asks clients for a certificate (mutual TLS) when it has `tls_client_ca`. bgpctl trusts
//! only the CA it is given: there is no system trust store to fall back on.

use std::fs;
use std::path::{Path, PathBuf};

use clap::Args;
use tonic::transport::{Certificate, ClientTlsConfig, Identity};

use crate::addr::ApiAddr;
use crate::error::{Error, root_cause};

/// The `--tls-*` options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub(crate) struct TlsArgs {
    /// Use TLS and verify bgpd's certificate with this CA (PEM).
    #[arg(long, global = true, env = "BGPCTL_TLS_CA", value_name = "FILE")]
    pub(crate) tls_ca: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS; needs --tls-key.
    #[arg(long, global = true, env = "BGPCTL_TLS_CERT", value_name = "FILE")]
    pub(crate) tls_cert: Option<PathBuf>,
    /// Private key (PEM) of --tls-cert.
    #[arg(long, global = true, env = "BGPCTL_TLS_KEY", value_name = "FILE")]
    pub(crate) tls_key: Option<PathBuf>,
    /// Name bgpd's certificate must carry (default: the host of --api).
    #[arg(long, global = true, env = "BGPCTL_TLS_DOMAIN", value_name = "NAME")]
    pub(crate) tls_domain: Option<String>,
}

/// TLS settings ready to connect with, and what they were made from, for messages.
#[derive(Debug, Clone)]
pub(crate) struct Tls {
    pub(crate) config: ClientTlsConfig,
    /// The server name checked against bgpd's certificate.
    domain: String,
    /// `--tls-cert` and `--tls-key`.
    identity: Option<(PathBuf, PathBuf)>,
}

impl Tls {
    /// Why the TLS library refused these settings, in terms of the options (a usage error).
    pub(crate) fn refused(&self, e: &(dyn std::error::Error + 'static)) -> Error {
        let cause = root_cause(e);
        Error::Tls(match &self.identity {
            Some((cert, key)) if cause.contains("KeyMismatch") => format!(
                "--tls-key {}: not the private key of --tls-cert {}",
                key.display(),
                cert.display()
            ),
            _ if cause.contains("dns name") => format!(
                "{:?} is not a DNS name or an IP address, so it cannot be checked against \
                 bgpd's certificate (see --tls-domain)",
                self.domain
            ),
            _ => format!("TLS settings: {cause}"),
        })
    }
}

impl TlsArgs {
    /// The first `--tls-*` option given, by name, for messages.
    fn first_given(&self) -> Option<&'static str> {
        [
            ("--tls-ca", self.tls_ca.is_some()),
            ("--tls-cert", self.tls_cert.is_some()),
            ("--tls-key", self.tls_key.is_some()),
            ("--tls-domain", self.tls_domain.is_some()),
        ]
        .into_iter()
        .find_map(|(name, given)| given.then_some(name))
    }

    /// The client TLS settings for `api`, or `None` for plain HTTP/2 and unix sockets.
    ///
    /// The files are read now, so that a missing or malformed one is reported (as a usage
    /// error) before bgpd is contacted.
    pub(crate) fn settings(&self, api: &ApiAddr) -> Result<Option<Tls>, Error> {
        let https = match api {
            ApiAddr::Unix(_) => {
                return match self.first_given() {
                    Some(option) => Err(Error::Tls(format!(
                        "{option}: TLS is for TCP addresses, and {api} is a unix socket"
                    ))),
                    None => Ok(None),
                };
            }
            ApiAddr::Tcp { https, .. } => *https,
        };
        let Some(ca) = &self.tls_ca else {
            if https {
                return Err(Error::Tls(format!(
                    "https://{api} needs --tls-ca FILE, the CA that signed bgpd's certificate"
                )));
            }
            return match self.first_given() {
                Some(option) => Err(Error::Tls(format!(
                    "{option} needs --tls-ca FILE, the CA that signed bgpd's certificate"
                ))),
                None => Ok(None),
            };
        };
        let ca = read_pem("--tls-ca", ca, "CERTIFICATE-----")?;
        let domain = match (&self.tls_domain, api.host()) {
            (Some(name), _) => name.clone(),
            (None, Some(host)) => host.to_owned(),
            (None, None) => String::new(),
        };
        let mut config = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(ca))
            .domain_name(domain.clone());
        let identity = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => {
                let cert_pem = read_pem("--tls-cert", cert, "CERTIFICATE-----")?;
                let key_pem = read_pem("--tls-key", key, "PRIVATE KEY-----")?;
                config = config.identity(Identity::from_pem(cert_pem, key_pem));
                Some((cert.clone(), key.clone()))
            }
            (Some(_), None) => return Err(Error::Tls("--tls-cert needs --tls-key FILE".into())),
            (None, Some(_)) => return Err(Error::Tls("--tls-key needs --tls-cert FILE".into())),
            (None, None) => None,
        };
        Ok(Some(Tls {
            config,
            domain,
            identity,
        }))
    }
}

/// Reads a PEM file given with `option`, which must hold a block ending in `marker`
/// (`CERTIFICATE-----`, `PRIVATE KEY-----`).
fn read_pem(option: &str, path: &Path, marker: &str) -> Result<Vec<u8>, Error> {
    let bytes = fs::read(path).map_err(|e| {
        Error::Tls(format!(
            "{option} {}: cannot read it: {}",
            path.display(),
            root_cause(&e)
        ))
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let found = text.match_indices("-----BEGIN ").any(|(i, _)| {
        text[i..]
            .lines()
            .next()
            .is_some_and(|l| l.ends_with(marker))
    });
    if !found {
        let what = marker.trim_end_matches('-').to_lowercase();
        return Err(Error::Tls(format!(
            "{option} {}: no PEM {what} in it (a -----BEGIN ...{marker} block)",
            path.display()
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const KEY: &str = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";

    fn tcp() -> ApiAddr {
        "127.0.0.1:50051".parse().unwrap()
    }

    fn message(r: Result<Option<Tls>, Error>) -> String {
        match r {
            Err(e) => {
                assert_eq!(e.exit_code(), crate::error::EXIT_USAGE, "{e}");
                e.to_string()
            }
            Ok(c) => panic!("accepted: {c:?}"),
        }
    }

    fn files() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("c.pem"), dir.path().join("c.key"));
        fs::write(&cert, CERT).unwrap();
        fs::write(&key, KEY).unwrap();
        (dir, cert, key)
    }

    #[test]
    fn nothing_given_is_plain() {
        let none = TlsArgs::default();
        assert!(none.settings(&tcp()).unwrap().is_none());
        let unix = "unix:///tmp/b.sock".parse().unwrap();
        assert!(none.settings(&unix).unwrap().is_none());
    }

    #[test]
    fn ca_alone_is_tls_and_a_client_identity_is_added() {
        let (_dir, cert, key) = files();
        let args = TlsArgs {
            tls_ca: Some(cert.clone()),
            ..TlsArgs::default()
        };
        assert!(args.settings(&tcp()).unwrap().is_some());
        let https = "https://[::1]:50051".parse().unwrap();
        assert!(args.settings(&https).unwrap().is_some());
        let mutual = TlsArgs {
            tls_cert: Some(cert),
            tls_key: Some(key),
            tls_domain: Some("bgpd.example".into()),
            ..args
        };
        assert!(mutual.settings(&tcp()).unwrap().is_some());
    }

    #[test]
    fn options_that_do_not_fit_together_are_named() {
        let (_dir, cert, key) = files();
        let unix = "unix:///tmp/b.sock".parse().unwrap();
        let ca = TlsArgs {
            tls_ca: Some(cert.clone()),
            ..TlsArgs::default()
        };
        assert_eq!(
            message(ca.settings(&unix)),
            "--tls-ca: TLS is for TCP addresses, and unix:///tmp/b.sock is a unix socket"
        );
        let https = "https://127.0.0.1:1".parse().unwrap();
        assert_eq!(
            message(TlsArgs::default().settings(&https)),
            "https://127.0.0.1:1 needs --tls-ca FILE, the CA that signed bgpd's certificate"
        );
        let cert_only = TlsArgs {
            tls_cert: Some(cert.clone()),
            ..TlsArgs::default()
        };
        assert_eq!(
            message(cert_only.settings(&tcp())),
            "--tls-cert needs --tls-ca FILE, the CA that signed bgpd's certificate"
        );
        let no_key = TlsArgs {
            tls_cert: Some(cert),
            ..ca.clone()
        };
        assert_eq!(
            message(no_key.settings(&tcp())),
            "--tls-cert needs --tls-key FILE"
        );
        let no_cert = TlsArgs {
            tls_key: Some(key),
            ..ca
        };
        assert_eq!(
            message(no_cert.settings(&tcp())),
            "--tls-key needs --tls-cert FILE"
        );
    }

    #[test]
    fn unreadable_and_malformed_files_are_named() {
        let (dir, cert, key) = files();
        let missing = dir.path().join("missing.pem");
        let args = TlsArgs {
            tls_ca: Some(missing.clone()),
            ..TlsArgs::default()
        };
        assert_eq!(
            message(args.settings(&tcp())),
            format!(
                "--tls-ca {}: cannot read it: No such file or directory",
                missing.display()
            )
        );
        // A key where the certificate should be, and the other way round.
        let swapped = TlsArgs {
            tls_ca: Some(key.clone()),
            ..TlsArgs::default()
        };
        assert_eq!(
            message(swapped.settings(&tcp())),
            format!(
                "--tls-ca {}: no PEM certificate in it (a -----BEGIN ...CERTIFICATE----- block)",
                key.display()
            )
        );
        let swapped = TlsArgs {
            tls_ca: Some(cert.clone()),
            tls_cert: Some(cert.clone()),
            tls_key: Some(cert.clone()),
            tls_domain: None,
        };
        assert_eq!(
            message(swapped.settings(&tcp())),
            format!(
                "--tls-key {}: no PEM private key in it (a -----BEGIN ...PRIVATE KEY----- block)",
                cert.display()
            )
        );
    }
}
