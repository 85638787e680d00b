//! Who an allocation belongs to.

use std::fmt;

/// The holder of an allocated address. Allocating again for an equal owner returns the same
/// address, which makes retries (a CNI ADD after a timeout, a reconcile after a restart)
/// harmless.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Owner {
    /// One interface of a pod.
    Pod {
        /// The pod's uid (`metadata.uid`): unique for the pod's lifetime, unlike its name.
        uid: String,
        /// The interface inside the pod, e.g. `eth0`.
        interface: String,
    },
    /// A LoadBalancer Service.
    Service {
        /// The Service's namespace.
        namespace: String,
        /// The Service's name.
        name: String,
    },
}

impl Owner {
    /// The interface `interface` of the pod with uid `uid`.
    pub fn pod(uid: impl Into<String>, interface: impl Into<String>) -> Self {
        Self::Pod {
            uid: uid.into(),
            interface: interface.into(),
        }
    }

    /// The Service `namespace/name`.
    pub fn service(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self::Service {
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pod { uid, interface } => write!(f, "pod {uid} interface {interface}"),
            Self::Service { namespace, name } => write!(f, "service {namespace}/{name}"),
        }
    }
}
