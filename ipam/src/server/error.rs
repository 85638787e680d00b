//! The service's errors and their gRPC status codes.

use std::net::IpAddr;

use ipnet::IpNet;
use tonic::{Code, Status};

use super::store::StoreError;

/// Why a call to the pod address service failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// A request field is missing or malformed.
    #[error("invalid {field}: {reason}")]
    InvalidArgument {
        /// The request field, as named in the `.proto` file.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The allocation library refused.
    #[error(transparent)]
    Ipam(#[from] crate::Error),
    /// No allocation matches the container id and interface.
    #[error("no addresses for container {container_id} interface {interface}")]
    NotFound {
        /// The container id asked for.
        container_id: String,
        /// The interface asked for.
        interface: String,
    },
    /// The interface does not hold an address that the caller expects it to.
    #[error("{addr} is not held by container {container_id} interface {interface}")]
    NotHeld {
        /// The address expected.
        addr: IpAddr,
        /// The container id asked for.
        container_id: String,
        /// The interface asked for.
        interface: String,
    },
    /// The configuration of the node's pools cannot work.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A block in the store cannot be read.
    #[error("stored block {cidr} of pool {pool} is unusable: {source}")]
    Corrupt {
        /// The pool.
        pool: String,
        /// The block.
        cidr: IpNet,
        /// What is wrong with it.
        source: crate::Error,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Other writers kept changing the same blocks; the call gave up.
    #[error("gave up after {attempts} attempts: pool {pool} kept changing in the store")]
    Contended {
        /// The pool.
        pool: String,
        /// How many times the call tried.
        attempts: u32,
    },
}

impl From<ServerError> for Status {
    fn from(err: ServerError) -> Self {
        let code = match &err {
            ServerError::InvalidArgument { .. } => Code::InvalidArgument,
            ServerError::Ipam(e) => match e {
                crate::Error::Exhausted { .. } => Code::ResourceExhausted,
                crate::Error::NotInPool { .. }
                | crate::Error::Reserved { .. }
                | crate::Error::NotABlock { .. } => Code::InvalidArgument,
                crate::Error::AddressTaken { .. } | crate::Error::OwnerHoldsOther { .. } => {
                    Code::AlreadyExists
                }
                crate::Error::BlockOfOtherNode { .. } | crate::Error::BlockNotEmpty { .. } => {
                    Code::FailedPrecondition
                }
                crate::Error::Decode { .. } => Code::DataLoss,
                _ => Code::FailedPrecondition,
            },
            ServerError::NotFound { .. } => Code::NotFound,
            ServerError::NotHeld { .. } => Code::FailedPrecondition,
            ServerError::Config(_) => Code::FailedPrecondition,
            ServerError::Corrupt { .. } => Code::DataLoss,
            ServerError::Store(StoreError::Unavailable(_)) => Code::Unavailable,
            ServerError::Store(_) | ServerError::Contended { .. } => Code::Aborted,
        };
        Status::new(code, err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Owner;

    #[test]
    fn each_error_gets_the_code_a_cni_plugin_can_act_on() {
        let addr: IpAddr = "10.0.0.1".parse().unwrap();
        let cases: Vec<(ServerError, Code)> = vec![
            (
                ServerError::InvalidArgument {
                    field: "pod_uid",
                    reason: "is empty".into(),
                },
                Code::InvalidArgument,
            ),
            (
                crate::Error::Exhausted { pool: "p".into() }.into(),
                Code::ResourceExhausted,
            ),
            (
                crate::Error::NotInPool {
                    pool: "p".into(),
                    addr,
                }
                .into(),
                Code::InvalidArgument,
            ),
            (
                crate::Error::AddressTaken {
                    addr,
                    holder: Owner::pod("u", "eth0"),
                }
                .into(),
                Code::AlreadyExists,
            ),
            (
                crate::Error::BlockOfOtherNode {
                    addr,
                    block: "10.0.0.0/26".parse().unwrap(),
                    node: "b".into(),
                }
                .into(),
                Code::FailedPrecondition,
            ),
            (
                ServerError::NotFound {
                    container_id: "c".into(),
                    interface: "eth0".into(),
                },
                Code::NotFound,
            ),
            (
                StoreError::Unavailable("down".into()).into(),
                Code::Unavailable,
            ),
            (
                ServerError::Contended {
                    pool: "p".into(),
                    attempts: 8,
                },
                Code::Aborted,
            ),
        ];
        for (err, code) in cases {
            let text = err.to_string();
            let status = Status::from(err);
            assert_eq!(status.code(), code, "{text}");
            assert_eq!(status.message(), text);
        }
        let status = Status::from(ServerError::InvalidArgument {
            field: "pod_uid",
            reason: "is empty".into(),
        });
        assert!(
            status.message().contains("pod_uid"),
            "names the field: {}",
            status.message()
        );
    }
}
