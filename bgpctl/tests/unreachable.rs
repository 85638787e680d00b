//! bgpctl without a daemon: exit status 3 and one line on stderr that names the address.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

fn bgpctl(args: &[&str], api_env: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bgpctl"));
    cmd.args(args);
    for var in [
        "BGPCTL_API",
        "BGPCTL_TLS_CA",
        "BGPCTL_TLS_CERT",
        "BGPCTL_TLS_KEY",
    ] {
        cmd.env_remove(var);
    }
    if let Some(api) = api_env {
        cmd.env("BGPCTL_API", api);
    }
    cmd.output().expect("run bgpctl")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn missing_socket_is_exit_3_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let api = format!("unix://{}/bgpd.sock", dir.path().display());
    for args in [
        vec!["global"],
        vec!["neighbor", "list"],
        vec!["-o", "json", "rib", "list"],
    ] {
        let mut argv = vec!["--api", api.as_str()];
        argv.extend(args.iter().copied());
        let o = bgpctl(&argv, None);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {}", stderr(&o));
        assert_eq!(
            stderr(&o),
            format!("bgpctl: cannot reach bgpd at {api}: No such file or directory\n")
        );
        assert!(o.stdout.is_empty(), "{args:?} printed {:?}", o.stdout);
    }
}

#[test]
fn stale_socket_file_is_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stale.sock");
    // The file stays when the listener is gone, as after a crash of bgpd.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    let api = format!("unix://{}", path.display());
    let o = bgpctl(&["--api", &api, "rib", "count"], None);
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(
        stderr(&o),
        format!("bgpctl: cannot reach bgpd at {api}: Connection refused\n")
    );
}

#[test]
fn bgpctl_api_environment_variable_sets_the_address() {
    let dir = tempfile::tempdir().unwrap();
    let api = format!("unix://{}/env.sock", dir.path().display());
    let o = bgpctl(&["neighbor"], Some(&api));
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(
        stderr(&o),
        format!("bgpctl: cannot reach bgpd at {api}: No such file or directory\n")
    );
    // --api wins over the environment.
    let flag = format!("unix://{}/flag.sock", dir.path().display());
    let o = bgpctl(&["--api", &flag, "neighbor"], Some(&api));
    assert_eq!(
        stderr(&o),
        format!("bgpctl: cannot reach bgpd at {flag}: No such file or directory\n")
    );
}

#[test]
fn default_address_is_the_standard_socket() {
    if Path::new("/run/petrel/bgpd.sock").exists() {
        eprintln!("skipped: a bgpd runs on this machine");
        return;
    }
    let o = bgpctl(&["global"], None);
    assert_eq!(o.status.code(), Some(3));
    let e = stderr(&o);
    assert!(
        e.starts_with("bgpctl: cannot reach bgpd at unix:///run/petrel/bgpd.sock: "),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1, "{e}");
}

#[test]
fn closed_tcp_port_is_exit_3() {
    // A port that was free a moment ago: nothing listens on it.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let api = format!("127.0.0.1:{port}");
    let o = bgpctl(&["--api", &api, "global"], None);
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(
        stderr(&o),
        format!("bgpctl: cannot reach bgpd at {api}: Connection refused\n")
    );
    let o = bgpctl(&["--api", &format!("http://{api}"), "global"], None);
    assert_eq!(
        stderr(&o),
        format!("bgpctl: cannot reach bgpd at {api}: Connection refused\n")
    );
}

#[test]
fn usage_errors_are_exit_2_without_contacting_bgpd() {
    let dir = tempfile::tempdir().unwrap();
    let api = format!("unix://{}/bgpd.sock", dir.path().display());
    for args in [
        vec!["rib", "add", "192.0.2.1/24"],
        vec!["rib", "add", "192.0.2.0/24", "--community", "65000:65536"],
        vec!["neighbor", "add", "10.0.0.2"],
        vec!["--api", "nonsense", "global"],
        vec!["frobnicate"],
    ] {
        let mut argv = vec!["--api", api.as_str()];
        argv.extend(args.iter().copied());
        let o = bgpctl(&argv, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            !stderr(&o).contains("cannot reach"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn completion_needs_no_daemon() {
    for shell in ["bash", "zsh", "fish"] {
        let o = bgpctl(
            &[
                "--api",
                "unix:///nonexistent/bgpd.sock",
                "completion",
                shell,
            ],
            None,
        );
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
        let script = String::from_utf8(o.stdout).unwrap();
        assert!(script.contains("bgpctl"), "{shell}");
        assert!(script.contains("neighbor"), "{shell}");
    }
}
