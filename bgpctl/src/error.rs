//! bgpctl's errors and the exit status each one gives.

use std::io;

use tonic::{Code, Status};

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
            Error::Usage { .. } => EXIT_USAGE,
            Error::Unreachable { .. } => EXIT_UNREACHABLE,
            Error::Refused { .. } | Error::Lagged { .. } | Error::Output(_) => EXIT_REFUSED,
        }
    }

    /// Whether this is a closed standard output (`bgpctl ... | head`), which is not worth a
    /// message.
    pub(crate) fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Output(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }

    /// Turns a gRPC status from a call made for `command` into an error. `Unavailable` means
    /// the transport failed (bgpd went away or never answered), so it counts as unreachable.
    pub(crate) fn from_status(command: &'static str, api: &str, status: &Status) -> Self {
        if status.code() == Code::Unavailable {
            return Error::Unreachable {
                api: api.to_owned(),
                reason: one_line(status.message()),
            };
        }
        Error::Refused {
            command,
            code: status.code(),
            message: status.message().to_owned(),
        }
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
}
