//! Path attribute values an `[[originate]]` entry can set. These are the configuration's own
//! small types; the daemon maps them onto `bgp_proto::attr` when it builds an UPDATE.

use std::fmt;
use std::str::FromStr;

/// A standard community (RFC 1997): 16-bit ASN in the high half, 16-bit value in the low half.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Community(pub u32);

impl Community {
    /// `graceful-shutdown` (RFC 8326).
    pub const GRACEFUL_SHUTDOWN: Community = Community(0xFFFF_0000);
    /// `accept-own` (RFC 7611).
    pub const ACCEPT_OWN: Community = Community(0xFFFF_0001);
    /// `llgr-stale` (RFC 9494).
    pub const LLGR_STALE: Community = Community(0xFFFF_0006);
    /// `no-llgr` (RFC 9494).
    pub const NO_LLGR: Community = Community(0xFFFF_0007);
    /// `blackhole` (RFC 7999).
    pub const BLACKHOLE: Community = Community(0xFFFF_029A);
    /// `no-export` (RFC 1997): do not advertise outside the AS or confederation.
    pub const NO_EXPORT: Community = Community(0xFFFF_FF01);
    /// `no-advertise` (RFC 1997): do not advertise to any peer.
    pub const NO_ADVERTISE: Community = Community(0xFFFF_FF02);
    /// `no-export-subconfed` (RFC 1997, also called `local-as`).
    pub const NO_EXPORT_SUBCONFED: Community = Community(0xFFFF_FF03);
    /// `no-peer` (RFC 3765).
    pub const NO_PEER: Community = Community(0xFFFF_FF04);

    /// Well-known communities and the names the configuration accepts for them.
    pub const WELL_KNOWN: [(&'static str, Community); 9] = [
        ("graceful-shutdown", Community::GRACEFUL_SHUTDOWN),
        ("accept-own", Community::ACCEPT_OWN),
        ("llgr-stale", Community::LLGR_STALE),
        ("no-llgr", Community::NO_LLGR),
        ("blackhole", Community::BLACKHOLE),
        ("no-export", Community::NO_EXPORT),
        ("no-advertise", Community::NO_ADVERTISE),
        ("no-export-subconfed", Community::NO_EXPORT_SUBCONFED),
        ("no-peer", Community::NO_PEER),
    ];

    /// Builds `asn:value`.
    pub const fn new(asn: u16, value: u16) -> Self {
        Community(((asn as u32) << 16) | value as u32)
    }
}

/// `no-export` for well-known communities, `65000:100` otherwise.
impl fmt::Display for Community {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Community::WELL_KNOWN.iter().find(|(_, c)| c == self) {
            Some((name, _)) => f.write_str(name),
            None => write!(f, "{}:{}", self.0 >> 16, self.0 & 0xFFFF),
        }
    }
}

/// Accepts `ASN:VALUE` (both 0..=65535) or a well-known name such as `no-export`.
impl FromStr for Community {
    type Err = ParseAttrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some((_, c)) = Community::WELL_KNOWN.iter().find(|(name, _)| *name == s) {
            return Ok(*c);
        }
        let parsed = s
            .split_once(':')
            .and_then(|(asn, value)| Some(Community::new(asn.parse().ok()?, value.parse().ok()?)));
        parsed.ok_or_else(|| {
            let names: Vec<&str> = Community::WELL_KNOWN.iter().map(|(n, _)| *n).collect();
            ParseAttrError(format!(
                "{s:?} is not a community; use \"ASN:VALUE\" with both parts 0..=65535 \
                 (e.g. \"65000:100\") or a well-known name: {}",
                names.join(", ")
            ))
        })
    }
}

/// A large community (RFC 8092): `global:local1:local2`, three 32-bit numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LargeCommunity {
    /// Global administrator, normally the ASN that defines the community.
    pub global: u32,
    /// First local data part.
    pub local1: u32,
    /// Second local data part.
    pub local2: u32,
}

impl fmt::Display for LargeCommunity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.global, self.local1, self.local2)
    }
}

/// Accepts `GLOBAL:LOCAL1:LOCAL2`, each part 0..=4294967295.
impl FromStr for LargeCommunity {
    type Err = ParseAttrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split(':').map(str::parse::<u32>);
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(Ok(global)), Some(Ok(local1)), Some(Ok(local2)), None) => Ok(LargeCommunity {
                global,
                local1,
                local2,
            }),
            _ => Err(ParseAttrError(format!(
                "{s:?} is not a large community; use \"GLOBAL:LOCAL1:LOCAL2\" with each part \
                 0..=4294967295 (e.g. \"65000:1:2\")"
            ))),
        }
    }
}

/// The ORIGIN attribute (RFC 4271 section 5.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Origin {
    /// Learned from an interior gateway protocol (or configured); the default.
    #[default]
    Igp,
    /// Learned from EGP.
    Egp,
    /// Learned some other way.
    Incomplete,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Igp => "igp",
            Origin::Egp => "egp",
            Origin::Incomplete => "incomplete",
        })
    }
}

/// Accepts `igp`, `egp` or `incomplete`.
impl FromStr for Origin {
    type Err = ParseAttrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "igp" => Ok(Origin::Igp),
            "egp" => Ok(Origin::Egp),
            "incomplete" => Ok(Origin::Incomplete),
            _ => Err(ParseAttrError(format!(
                "{s:?} is not an origin; use \"igp\", \"egp\" or \"incomplete\""
            ))),
        }
    }
}

/// A string that is not a valid [`Community`], [`LargeCommunity`] or [`Origin`]; the message
/// says what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseAttrError(String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn community_parses_numbers_and_names_and_prints_back() {
        assert_eq!("65000:100".parse(), Ok(Community(65000 << 16 | 100)));
        assert_eq!("no-export".parse(), Ok(Community::NO_EXPORT));
        assert_eq!("65535:65281".parse(), Ok(Community::NO_EXPORT));
        assert_eq!(Community::new(65000, 100).to_string(), "65000:100");
        for (name, c) in Community::WELL_KNOWN {
            assert_eq!(c.to_string(), name);
            assert_eq!(name.parse(), Ok(c));
        }
    }

    #[test]
    fn community_rejects_out_of_range_and_garbage() {
        for bad in [
            "65536:1",
            "1:65536",
            "65000",
            "65000:1:2",
            "no_export",
            "",
            ":",
            "-1:5",
        ] {
            let err = bad.parse::<Community>().unwrap_err().to_string();
            assert!(
                err.contains("ASN:VALUE") && err.contains("no-export"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn large_community_parses_three_u32s() {
        let lc: LargeCommunity = "4200000000:1:4294967295".parse().unwrap();
        assert_eq!(
            lc,
            LargeCommunity {
                global: 4_200_000_000,
                local1: 1,
                local2: u32::MAX
            }
        );
        assert_eq!(lc.to_string(), "4200000000:1:4294967295");
        for bad in ["1:2", "1:2:3:4", "1:2:4294967296", "a:b:c", ""] {
            assert!(bad.parse::<LargeCommunity>().is_err(), "{bad}");
        }
    }

    #[test]
    fn origin_parses_the_three_names() {
        assert_eq!("igp".parse(), Ok(Origin::Igp));
        assert_eq!("egp".parse(), Ok(Origin::Egp));
        assert_eq!("incomplete".parse(), Ok(Origin::Incomplete));
        assert!("IGP".parse::<Origin>().is_err());
        assert_eq!(Origin::default(), Origin::Igp);
    }
}
