//! The BGP Role capability (code 9, RFC 9234 section 4.1).

use std::fmt;

/// The role a speaker takes on an eBGP session. The capability value is one octet:
///
/// ```text
/// +-------+
/// | Role  |
/// +-------+
/// ```
///
/// Values outside the RFC 9234 registry are kept as [`Role::Unknown`]. Whether the two
/// roles fit ([`Role::corresponds_to`]) decides the Role Mismatch NOTIFICATION (OPEN
/// Message Error, subcode 11), which is the daemon's to send.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// 0: Provider.
    Provider,
    /// 1: Route Server.
    RouteServer,
    /// 2: Route Server Client.
    RouteServerClient,
    /// 3: Customer.
    Customer,
    /// 4: Peer (lateral peering).
    Peer,
    /// Any other value.
    Unknown(u8),
}

impl Role {
    /// Maps the wire value.
    pub fn from_u8(value: u8) -> Self {
        match value {
            0 => Role::Provider,
            1 => Role::RouteServer,
            2 => Role::RouteServerClient,
            3 => Role::Customer,
            4 => Role::Peer,
            v => Role::Unknown(v),
        }
    }

    /// The wire value.
    pub fn as_u8(self) -> u8 {
        match self {
            Role::Provider => 0,
            Role::RouteServer => 1,
            Role::RouteServerClient => 2,
            Role::Customer => 3,
            Role::Peer => 4,
            Role::Unknown(v) => v,
        }
    }

    /// Whether a peer announcing `peer` is an allowed partner for a speaker announcing
    /// `self` (RFC 9234 section 4.2, table 2). An unknown role corresponds to nothing.
    pub fn corresponds_to(self, peer: Role) -> bool {
        matches!(
            (self, peer),
            (Role::Provider, Role::Customer)
                | (Role::Customer, Role::Provider)
                | (Role::RouteServer, Role::RouteServerClient)
                | (Role::RouteServerClient, Role::RouteServer)
                | (Role::Peer, Role::Peer)
        )
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Provider => f.write_str("provider"),
            Role::RouteServer => f.write_str("rs"),
            Role::RouteServerClient => f.write_str("rs-client"),
            Role::Customer => f.write_str("customer"),
            Role::Peer => f.write_str("peer"),
            Role::Unknown(v) => write!(f, "unknown({v})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9234_allowed_pairs() {
        let all = [
            Role::Provider,
            Role::RouteServer,
            Role::RouteServerClient,
            Role::Customer,
            Role::Peer,
            Role::Unknown(9),
        ];
        let allowed: Vec<(Role, Role)> = all
            .iter()
            .flat_map(|&a| all.iter().map(move |&b| (a, b)))
            .filter(|&(a, b)| a.corresponds_to(b))
            .collect();
        assert_eq!(
            allowed,
            [
                (Role::Provider, Role::Customer),
                (Role::RouteServer, Role::RouteServerClient),
                (Role::RouteServerClient, Role::RouteServer),
                (Role::Customer, Role::Provider),
                (Role::Peer, Role::Peer),
            ]
        );
        for v in 0..=255u8 {
            assert_eq!(Role::from_u8(v).as_u8(), v);
        }
    }
}
