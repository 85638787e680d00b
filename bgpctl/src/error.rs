//! bgpctl's errors and the exit status each one gives.

use std::io;

use tonic::{Code, Status};

/// How tonic starts the message of a status made from an HTTP/2 error of the connection.
const H2_ERROR: &str = "h2 protocol error: ";

/// Exit status when bgpd refused a request (or a stream failed after it started).
pub(crate) const EXIT_REFUSED: u8 = 1;
/// Exit status for a usage error (clap uses it too).
pub(crate) const EXIT_USAGE: u8 = 2;
/// Exit status when bgpd cannot be reached.
pub(crate) const EXIT_UNREACHABLE: u8 = 3;

/// Why a bgpctl command failed. Every variant prints as one or more complete lines; `main`
/// prefixes each with `bgpctl: `.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum Error {
    /// An argument that clap accepted but a cheap local check rejects.
    #[error("{command}: {message}")]
    Usage {
        command: &'static str,
        message: String,
    },
    /// `--tls-*` options that cannot be used: an unreadable or malformed file, or options
    /// that do not fit together. Found before bgpd is contacted.
    #[error("{0}")]
    Tls(String),
    /// No connection to bgpd, or it went away in the middle of a call.
    #[error("cannot reach bgpd at {api}: {reason}")]
    Unreachable { api: String, reason: String },
    /// bgpd answered with a gRPC error status.
    #[error("{}", refused_lines(command, *code, message))]
    Refused {
        command: &'static str,
        code: Code,
        message: String,
    },
    /// `monitor` fell too far behind and bgpd ended the stream.
    #[error(
        "{command}: lagged: bgpd ended the stream because this client fell too far behind; \
         events were missed, start it again"
    )]
    Lagged { command: &'static str },
    /// Writing to standard output failed.
    #[error("cannot write output: {0}")]
    Output(#[from] io::Error),
}

impl Error {
    /// The process exit status for this error.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Error::Usage { .. } | Error::Tls(_) => EXIT_USAGE,
            Error::Unreachable { .. } => EXIT_UNREACHABLE,
            Error::Refused { .. } | Error::Lagged { .. } | Error::Output(_) => EXIT_REFUSED,
        }
    }

    /// Whether this is a closed standard output (`bgpctl ... | head`), which is not worth a
    /// message.
    pub(crate) fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Output(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }

    /// Turns a gRPC status from a call made for `command` into an error. A status that says
    /// the connection failed (see [`connection_failed`]) counts as unreachable.
    pub(crate) fn from_status(command: &'static str, api: &str, status: &Status) -> Self {
        if connection_failed(status) {
            return Error::Unreachable {
                api: api.to_owned(),
                reason: lost_connection(status, false),
            };
        }
        Error::Refused {
            command,
            code: status.code(),
            message: status.message().to_owned(),
        }
    }
}

/// The transport error a status was made from, if it was.
fn transport_cause(status: &Status) -> Option<&(dyn std::error::Error + 'static)> {
    let source = std::error::Error::source(status)?;
    let mut e = source;
    loop {
        if e.is::<tonic::transport::Error>() {
            return Some(source);
        }
        e = e.source()?;
    }
}

/// Whether a status says that the connection failed (bgpd went away or never answered)
/// rather than that bgpd refused the call: `Unavailable`, a status made from a transport
/// error, or one made from an HTTP/2 error of the connection (in the middle of a stream).
pub(crate) fn connection_failed(status: &Status) -> bool {
    status.code() == Code::Unavailable
        || transport_cause(status).is_some()
        || (status.code() == Code::Unknown && status.message().starts_with(H2_ERROR))
}

/// Why the connection failed, for a status of which [`connection_failed`] holds; see
/// [`transport_failure`] for `tls`.
pub(crate) fn lost_connection(status: &Status, tls: bool) -> String {
    if let Some(e) = transport_cause(status) {
        return transport_failure(e, tls);
    }
    let reason = match status.message().strip_prefix(H2_ERROR) {
        Some(rest) => format!("connection lost: {}", one_line(rest)),
        None => one_line(status.message()),
    };
    if tls {
        format!("TLS handshake failed: {reason}")
    } else {
        reason
    }
}

/// `command: code: line` for every line of a status message (Reload answers one problem per
/// line), so that each printed line stands on its own.
fn refused_lines(command: &str, code: Code, message: &str) -> String {
    let code = code_name(code);
    let mut lines: Vec<String> = message
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("{command}: {code}: {}", l.trim_end()))
        .collect();
    if lines.is_empty() {
        lines.push(format!("{command}: {code}"));
    }
    lines.join("\n")
}

/// Why a connection failed, for `cannot reach bgpd at ADDR: REASON`: the innermost cause
/// ("Connection refused"). `tls` says that the error comes from the TLS handshake unless it
/// is the socket's own; such a failure is called so, with a hint where the cause is a
/// common one.
pub(crate) fn transport_failure(e: &(dyn std::error::Error + 'static), tls: bool) -> String {
    let cause = root_cause(e);
    let inner = innermost(e);
    // The connect timeout covers the TCP connection and the handshake alike: no telling.
    if !tls
        || inner
            .downcast_ref::<io::Error>()
            .is_some_and(is_socket_error)
        || inner.is::<tonic::TimeoutExpired>()
    {
        return cause;
    }
    /// rustls's words for the usual mistakes, and what to do about each. (bgpd checks a
    /// client's certificate after the client is done with its part of the TLS 1.3
    /// handshake, and may close the connection before its alert is read.)
    const HINTS: [(&str, &str); 7] = [
        (
            "CertificateRequired",
            "bgpd asks for a client certificate: give --tls-cert and --tls-key",
        ),
        (
            "UnknownIssuer",
            "bgpd's certificate is not signed by the --tls-ca CA",
        ),
        ("not valid for name", "see --tls-domain"),
        (
            "UnknownCA",
            "bgpd does not trust --tls-cert: its tls_client_ca did not sign it",
        ),
        ("connection closed", CLOSED_HINT),
        ("broken pipe", CLOSED_HINT),
        (
            "InvalidContentType",
            "is this a TLS port? bgpd serves TLS only with [api] tls_cert",
        ),
    ];
    const CLOSED_HINT: &str = "bgpd closed the connection: it may want a client certificate \
                               (--tls-cert) signed by its tls_client_ca";
    match HINTS.iter().find(|(word, _)| cause.contains(word)) {
        Some((_, hint)) => format!("TLS handshake failed: {cause} ({hint})"),
        None => format!("TLS handshake failed: {cause}"),
    }
}

/// Whether an I/O error is the socket's own (refused, reset, timed out) rather than one that
/// wraps another error, as TLS errors come.
fn is_socket_error(e: &io::Error) -> bool {
    e.get_ref().is_none()
}

fn innermost<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> &'a (dyn std::error::Error + 'static) {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause
}

/// The innermost cause of an error ("No such file or directory", "Connection refused"),
/// on one line and without the `(os error N)` suffix.
pub(crate) fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let text = innermost(e).to_string();
    let text = match text.find(" (os error ") {
        Some(i) => &text[..i],
        None => &text,
    };
    one_line(text)
}

/// Collapses a message onto one line.
pub(crate) fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The lower-case name of a gRPC status code as an operator reads it.
pub(crate) fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "ok",
        Code::Cancelled => "cancelled",
        Code::Unknown => "unknown error",
        Code::InvalidArgument => "invalid argument",
        Code::DeadlineExceeded => "no answer in time",
        Code::NotFound => "not found",
        Code::AlreadyExists => "already exists",
        Code::PermissionDenied => "permission denied",
        Code::ResourceExhausted => "resource exhausted",
        Code::FailedPrecondition => "failed precondition",
        Code::Aborted => "aborted",
        Code::OutOfRange => "out of range",
        Code::Unimplemented => "not implemented by this bgpd",
        Code::Internal => "internal error",
        Code::Unavailable => "unavailable",
        Code::DataLoss => "data loss",
        Code::Unauthenticated => "unauthenticated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_names_command_code_and_message() {
        let status = Status::invalid_argument("peer.address: 300.0.0.1 is not an IP address");
        let e = Error::from_status("neighbor add", "unix:///x.sock", &status);
        assert_eq!(
            e.to_string(),
            "neighbor add: invalid argument: peer.address: 300.0.0.1 is not an IP address"
        );
        assert_eq!(e.exit_code(), EXIT_REFUSED);
    }

    #[test]
    fn refused_multi_line_message_repeats_the_prefix() {
        let status = Status::invalid_argument("a.toml: x: bad\na.toml: y: worse\n");
        let e = Error::from_status("reload", "unix:///x.sock", &status);
        assert_eq!(
            e.to_string(),
            "reload: invalid argument: a.toml: x: bad\nreload: invalid argument: a.toml: y: worse"
        );
    }

    #[test]
    fn unavailable_is_unreachable() {
        let status = Status::unavailable("connection reset\n by peer");
        let e = Error::from_status("global", "127.0.0.1:50051", &status);
        assert_eq!(
            e.to_string(),
            "cannot reach bgpd at 127.0.0.1:50051: connection reset by peer"
        );
        assert_eq!(e.exit_code(), EXIT_UNREACHABLE);
    }

    #[test]
    fn a_connection_lost_mid_stream_is_unreachable() {
        let status = Status::unknown("h2 protocol error: error reading a body from connection");
        let e = Error::from_status("monitor", "unix:///x.sock", &status);
        assert_eq!(
            e.to_string(),
            "cannot reach bgpd at unix:///x.sock: connection lost: error reading a body from \
             connection"
        );
        assert_eq!(e.exit_code(), EXIT_UNREACHABLE);
    }

    #[test]
    fn root_cause_drops_os_error_suffix() {
        let e = io::Error::from_raw_os_error(2);
        assert_eq!(root_cause(&e), "No such file or directory");
    }

    #[test]
    fn transport_failures_with_tls_name_the_handshake() {
        // A refused connection is the socket's, TLS or not.
        let refused = io::Error::from_raw_os_error(111);
        assert_eq!(transport_failure(&refused, true), "Connection refused");
        let timeout = tonic::TimeoutExpired(());
        assert_eq!(transport_failure(&timeout, true), "Timeout expired");
        // TLS errors come wrapped in an I/O error.
        let alert = io::Error::new(
            io::ErrorKind::InvalidData,
            "received fatal alert: CertificateRequired",
        );
        assert_eq!(
            transport_failure(&alert, true),
            "TLS handshake failed: received fatal alert: CertificateRequired (bgpd asks for a \
             client certificate: give --tls-cert and --tls-key)"
        );
        assert_eq!(
            transport_failure(&alert, false),
            "received fatal alert: CertificateRequired"
        );
    }

    #[test]
    fn lost_connections_are_unreachable() {
        let status = Status::unknown("h2 protocol error: error reading a body from connection");
        assert!(connection_failed(&status));
        assert_eq!(
            lost_connection(&status, false),
            "connection lost: error reading a body from connection"
        );
        assert!(connection_failed(&Status::unavailable("gone")));
        assert!(!connection_failed(&Status::unknown("something else")));
        assert!(!connection_failed(&Status::not_found("no such neighbor")));
    }
}
