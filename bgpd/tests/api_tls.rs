//! The API over TCP with mutual TLS: a client with a certificate from the configured CA
//! gets in; one without a certificate, or speaking plain HTTP/2, does not.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use bgp_api::bgpd::v1::GetGlobalRequest;
use bgp_api::bgpd::v1::bgpd_client::BgpdClient;
use bgpd::config;
use bgpd::daemon::Daemon;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA.
fn certificates(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "1",
            "-subj",
            "/CN=petrel-test-ca",
        ],
    );
    // Version 3 certificates with their usage: webpki refuses version 1 ones.
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    for (name, ext) in [
        ("server", Some("server.ext")),
        ("client", Some("client.ext")),
    ] {
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
                "-subj",
                &format!("/CN={name}"),
            ],
        );
        let mut args = vec![
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &format!("{name}.pem"),
            "-days",
            "1",
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
        if let Some(ext) = ext {
            args.extend(["-extfile".into(), ext.into()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        openssl(dir, &args);
    }
}

async fn client(port: u16, dir: &Path, with_cert: bool) -> Result<String, String> {
    let ca = Certificate::from_pem(std::fs::read(dir.join("ca.pem")).unwrap());
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(ca)
        .domain_name("127.0.0.1");
    if with_cert {
        let id = Identity::from_pem(
            std::fs::read(dir.join("client.pem")).unwrap(),
            std::fs::read(dir.join("client.key")).unwrap(),
        );
        tls = tls.identity(id);
    }
    let channel = Channel::from_shared(format!("https://127.0.0.1:{port}"))
        .unwrap()
        .tls_config(tls)
        .map_err(|e| e.to_string())?
        .connect()
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let r = BgpdClient::new(channel)
        .get_global(GetGlobalRequest {})
        .await
        .map_err(|e| e.to_string())?;
    Ok(r.into_inner().router_id)
}

#[tokio::test]
async fn mutual_tls_admits_only_clients_with_a_certificate_from_the_ca() {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("skipped: no openssl binary to make test certificates");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    certificates(dir.path());
    let p = |f: &str| dir.path().join(f).display().to_string();
    let toml = format!(
        r#"
[global]
asn = 65000
router_id = "10.9.9.9"
listen = []
[api]
socket = ""
listen = ["127.0.0.1:0"]
tls_cert = "{}"
tls_key = "{}"
tls_client_ca = "{}"
"#,
        p("server.pem"),
        p("server.key"),
        p("ca.pem")
    );
    let daemon = Daemon::start(&config::from_str(&toml, "t").unwrap())
        .await
        .unwrap();
    let port = daemon.api_addrs()[0].port();

    assert_eq!(
        client(port, dir.path(), true).await,
        Ok("10.9.9.9".to_string())
    );
    assert!(
        client(port, dir.path(), false).await.is_err(),
        "a client without a certificate got in"
    );
    // Plain HTTP/2 on the TLS port is refused too.
    let plain = async {
        let channel = Channel::from_shared(format!("http://127.0.0.1:{port}"))
            .unwrap()
            .connect()
            .await
            .map_err(|e| e.to_string())?;
        BgpdClient::new(channel)
            .get_global(GetGlobalRequest {})
            .await
            .map_err(|e| e.to_string())
    };
    assert!(
        tokio::time::timeout(std::time::Duration::from_secs(5), plain)
            .await
            .map_or(true, |r| r.is_err())
    );
    daemon.shutdown("done").await;
}

#[tokio::test]
async fn a_missing_certificate_file_stops_the_start_with_its_path() {
    let toml = r#"
[global]
asn = 65000
router_id = "10.9.9.9"
listen = []
[api]
socket = ""
listen = ["127.0.0.1:0"]
tls_cert = "/nonexistent/server.pem"
tls_key = "/nonexistent/server.key"
"#;
    let err = Daemon::start(&config::from_str(toml, "t").unwrap())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("/nonexistent/server.pem"), "{err}");
}
