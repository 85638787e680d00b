//! Address families and the negotiated session context that decoding and encoding depend on.

use std::fmt;

/// Address Family Identifier (IANA "Address Family Numbers").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Afi(pub u16);

impl Afi {
    /// IPv4.
    pub const IPV4: Afi = Afi(1);
    /// IPv6.
    pub const IPV6: Afi = Afi(2);
}

/// Subsequent Address Family Identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Safi(pub u8);

impl Safi {
    /// Unicast forwarding.
    pub const UNICAST: Safi = Safi(1);
    /// Multicast forwarding.
    pub const MULTICAST: Safi = Safi(2);
}

/// An AFI/SAFI pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Family {
    /// Address family.
    pub afi: Afi,
    /// Subsequent address family.
    pub safi: Safi,
}

impl Family {
    /// IPv4 unicast.
    pub const IPV4_UNICAST: Family = Family::new(Afi::IPV4, Safi::UNICAST);
    /// IPv6 unicast.
    pub const IPV6_UNICAST: Family = Family::new(Afi::IPV6, Safi::UNICAST);

    /// Builds a family from its AFI and SAFI.
    pub const fn new(afi: Afi, safi: Safi) -> Self {
        Family { afi, safi }
    }

    /// True for the two families whose NLRI this crate decodes into prefixes
    /// (IPv4 and IPv6 unicast); every other family is carried as opaque bytes.
    pub fn is_unicast_ip(self) -> bool {
        self == Family::IPV4_UNICAST || self == Family::IPV6_UNICAST
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Family::IPV4_UNICAST => f.write_str("ipv4-unicast"),
            Family::IPV6_UNICAST => f.write_str("ipv6-unicast"),
            Family { afi, safi } => write!(f, "afi{}-safi{}", afi.0, safi.0),
        }
    }
}

/// Maximum BGP message length without the extended message capability (RFC 4271).
pub const MAX_MESSAGE_LEN: usize = 4096;
/// Maximum BGP message length with the extended message capability (RFC 8654).
pub const MAX_EXTENDED_MESSAGE_LEN: usize = 65535;

macro_rules! session_ctx {
    ($(#[$doc:meta])* $name:ident, $add_path_doc:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
        pub struct $name {
            /// Both sides announced the 4-octet AS capability (RFC 6793): AS_PATH and
            /// AGGREGATOR carry 4-octet AS numbers.
            pub four_octet_as: bool,
            /// Both sides announced the extended message capability (RFC 8654).
            pub extended_message: bool,
            #[doc = $add_path_doc]
            pub add_path: Vec<Family>,
            /// Families for which an IPv6 next hop may carry IPv4 NLRI (RFC 8950).
            pub extended_next_hop: Vec<Family>,
        }

        impl $name {
            /// A context for a session that negotiated 4-octet AS numbers and nothing else,
            /// which is what every modern speaker does.
            pub fn modern() -> Self {
                Self { four_octet_as: true, ..Self::default() }
            }

            /// Whether NLRI of `family` carry an ADD-PATH path identifier.
            pub fn add_path(&self, family: Family) -> bool {
                self.add_path.contains(&family)
            }

            /// Whether `family` may use an IPv6 next hop for IPv4 NLRI.
            pub fn extended_next_hop(&self, family: Family) -> bool {
                self.extended_next_hop.contains(&family)
            }

            /// The largest message this session may carry.
            pub fn max_message_len(&self) -> usize {
                if self.extended_message {
                    MAX_EXTENDED_MESSAGE_LEN
                } else {
                    MAX_MESSAGE_LEN
                }
            }
        }
    };
}

session_ctx!(
    /// What was negotiated, as it matters to the receiving side.
    DecodeCtx,
    "Families for which we receive ADD-PATH path identifiers (RFC 7911)."
);
session_ctx!(
    /// What was negotiated, as it matters to the sending side.
    EncodeCtx,
    "Families for which we send ADD-PATH path identifiers (RFC 7911)."
);
