//! bgpctl against the real bgpd serving its API on 127.0.0.1 with mutual TLS: with the CA and
//! a client certificate it gets in; without the certificate, with another CA, another server
//! name or no TLS at all it exits with status 3 and one line that says why.
//!
//! The certificates are made with the `openssl` command; without it the test is skipped.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::{Running, bgpctl, bgpd_binary};
use serde_json::Value;

/// How long bgpd may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(10);

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed CA `NAME.pem` (key `NAME.key`).
fn make_ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
            "-days",
            "1",
            "-subj",
            &format!("/CN=petrel-test-{name}"),
        ],
    );
}

/// `NAME.pem` and `NAME.key`, signed by `ca`, with the X.509 v3 extensions in `ext`
/// (webpki refuses version 1 certificates).
fn make_cert(dir: &Path, name: &str, ca: &str, ext: &str) {
    fs::write(dir.join(format!("{name}.ext")), ext).expect("write extensions");
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
            "-subj",
            &format!("/CN={name}"),
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            &format!("{name}.pem"),
            "-days",
            "1",
            "-extfile",
            &format!("{name}.ext"),
        ],
    );
}

/// Removes terminal colour sequences (`ESC [ ... m`) from a log line.
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The TCP address in bgpd's `API listening addr=...` log line, once it is there.
fn api_addr_in_log(log: &str) -> Option<String> {
    log.lines()
        .map(strip_ansi)
        .filter(|l| l.contains("API listening"))
        .find_map(|l| {
            let rest = &l[l.find("addr=")? + "addr=".len()..];
            Some(rest.split_whitespace().next()?.to_owned())
        })
}

/// bgpd with its API only on 127.0.0.1 (a port of its choosing), mutual TLS, and the
/// certificates in `dir`; returns it and its API address.
fn start_bgpd(dir: &Path) -> (Running, String) {
    let p = |f: &str| dir.join(f).display().to_string();
    let config = dir.join("bgpd.toml");
    fs::write(
        &config,
        format!(
            "[global]\nasn = 65000\nrouter_id = \"10.9.9.9\"\nlisten = []\n\n\
             [api]\nsocket = \"\"\nlisten = [\"127.0.0.1:0\"]\n\
             tls_cert = \"{}\"\ntls_key = \"{}\"\ntls_client_ca = \"{}\"\n",
            p("server.pem"),
            p("server.key"),
            p("ca.pem")
        ),
    )
    .expect("write bgpd.toml");
    let log_path = dir.join("bgpd.log");
    let log = fs::File::create(&log_path).expect("create bgpd.log");
    let child = Command::new(bgpd_binary())
        .arg("--config")
        .arg(&config)
        .arg("--log")
        .arg("info")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("clone log"))
        .stderr(log)
        .spawn()
        .expect("start bgpd");
    let mut process = Running(child);
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let log = fs::read_to_string(&log_path).unwrap_or_default();
        if let Some(addr) = api_addr_in_log(&log) {
            return (process, addr);
        }
        if let Ok(Some(status)) = process.0.try_wait() {
            panic!("bgpd exited with {status} before its API listened:\n{log}");
        }
        assert!(
            Instant::now() < deadline,
            "bgpd's API did not listen within {START_TIMEOUT:?}:\n{log}"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

fn run(args: &[&str], dir: &Path) -> Output {
    bgpctl()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run bgpctl")
}

/// Asserts exit status 3 and one line on stderr starting with `prefix` and containing
/// `reason`.
fn assert_unreachable(o: &Output, prefix: &str, reason: &str) {
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.starts_with(prefix),
        "expected {prefix:?}..., got {stderr:?}"
    );
    assert!(stderr.contains(reason), "expected {reason:?} in {stderr:?}");
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(o.stdout.is_empty(), "printed {:?}", o.stdout);
}

#[test]
fn mutual_tls_needs_the_ca_and_a_client_certificate() {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("skipped: no openssl command to make test certificates with");
        return;
    }
    let tmp = tempfile::tempdir().expect("temporary directory");
    let dir = tmp.path();
    make_ca(dir, "ca");
    make_ca(dir, "other-ca");
    make_cert(
        dir,
        "server",
        "ca",
        "subjectAltName=IP:127.0.0.1,DNS:bgpd.test\nextendedKeyUsage=serverAuth\n",
    );
    make_cert(dir, "client", "ca", "extendedKeyUsage=clientAuth\n");
    make_cert(dir, "stranger", "other-ca", "extendedKeyUsage=clientAuth\n");
    let (_bgpd, api) = start_bgpd(dir);
    let mutual = |ca: &'static str| {
        let mut args = vec!["--api", api.as_str(), "--tls-ca", ca];
        args.extend(["--tls-cert", "client.pem", "--tls-key", "client.key"]);
        args
    };

    // The CA and a client certificate it signed: in.
    let o = run(&[&mutual("ca.pem")[..], &["global"]].concat(), dir);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "bgpctl global over mutual TLS failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.contains("Router ID:       10.9.9.9\n"), "{stdout}");
    // The same through the environment, with https:// and another name of the server.
    let o = bgpctl()
        .args(["--api", &format!("https://{api}"), "-o", "json", "global"])
        .env("BGPCTL_TLS_CA", dir.join("ca.pem"))
        .env("BGPCTL_TLS_CERT", dir.join("client.pem"))
        .env("BGPCTL_TLS_KEY", dir.join("client.key"))
        .env("BGPCTL_TLS_DOMAIN", "bgpd.test")
        .output()
        .expect("run bgpctl");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let global: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(global["router_id"], "10.9.9.9", "{global}");

    let prefix = format!("bgpctl: cannot reach bgpd at {api}: ");
    // No client certificate: bgpd ends the handshake.
    assert_unreachable(
        &run(&["--api", &api, "--tls-ca", "ca.pem", "global"], dir),
        &prefix,
        "TLS handshake failed: ",
    );
    // bgpd's certificate is not from the CA we trust.
    assert_unreachable(
        &run(&[&mutual("other-ca.pem")[..], &["global"]].concat(), dir),
        &prefix,
        "TLS handshake failed: invalid peer certificate: UnknownIssuer",
    );
    // A client certificate from a CA bgpd does not trust.
    let mut args = vec!["--api", api.as_str(), "--tls-ca", "ca.pem"];
    args.extend([
        "--tls-cert",
        "stranger.pem",
        "--tls-key",
        "stranger.key",
        "global",
    ]);
    assert_unreachable(&run(&args, dir), &prefix, "TLS handshake failed: ");
    // bgpd's certificate does not name the server we asked for.
    assert_unreachable(
        &run(
            &[
                &mutual("ca.pem")[..],
                &["--tls-domain", "other.test", "global"],
            ]
            .concat(),
            dir,
        ),
        &prefix,
        "TLS handshake failed: invalid peer certificate: ",
    );
    // Plain HTTP/2 on the TLS port.
    let o = run(&["--api", &api, "global"], dir);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    assert!(stderr.starts_with(&prefix), "{stderr:?}");
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");

    // A file that is not there is found before bgpd is contacted: a usage error.
    let mut args = vec!["--api", api.as_str(), "--tls-ca", "ca.pem"];
    args.extend([
        "--tls-cert",
        "client.pem",
        "--tls-key",
        "nope.key",
        "global",
    ]);
    let o = run(&args, dir);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "bgpctl: --tls-key nope.key: cannot read it: No such file or directory\n"
    );
}
