//! The text forms operators write: `65000:100` or `no-export` for communities,
//! `65000:1:2` for large communities, `igp` / `egp` / `incomplete` for ORIGIN. Used by the
//! daemon's configuration and anything else that reads them from people.

use std::str::FromStr;

use super::{Community, LargeCommunity, Origin};

/// A community, large community or origin that does not parse; the message says what is
/// expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseAttrError(String);

impl Community {
    /// Well-known communities and their names.
    pub const WELL_KNOWN: [(&'static str, Community); 9] = [
        ("graceful-shutdown", Community::GRACEFUL_SHUTDOWN),
        ("accept-own", Community::ACCEPT_OWN),
        ("llgr-stale", Community::LLGR_STALE),
        ("no-llgr", Community::NO_LLGR),
        ("blackhole", Community::BLACKHOLE),
        ("no-export", Community::NO_EXPORT),
        ("no-advertise", Community::NO_ADVERTISE),
        ("no-export-subconfed", Community::NO_EXPORT_SUBCONFED),
        ("no-peer", Community::NOPEER),
    ];
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

/// Accepts `GLOBAL:LOCAL1:LOCAL2`, each part 0..=4294967295.
impl FromStr for LargeCommunity {
    type Err = ParseAttrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split(':').map(str::parse::<u32>);
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(Ok(global)), Some(Ok(local1)), Some(Ok(local2)), None) => {
                Ok(LargeCommunity::new(global, local1, local2))
            }
            _ => Err(ParseAttrError(format!(
                "{s:?} is not a large community; use \"GLOBAL:LOCAL1:LOCAL2\" with each part \
                 0..=4294967295 (e.g. \"65000:1:2\")"
            ))),
        }
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
        assert_eq!(lc, LargeCommunity::new(4_200_000_000, 1, u32::MAX));
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
