//! Address families and address ranges, with addresses handled as `u128` numbers.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ipnet::IpNet;

use crate::Error;

/// IPv4 or IPv6.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// IPv4, 32-bit addresses.
    V4,
    /// IPv6, 128-bit addresses.
    V6,
}

impl Family {
    /// The family of an address.
    pub fn of(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => Self::V4,
            IpAddr::V6(_) => Self::V6,
        }
    }

    /// Address length in bits: 32 or 128.
    pub const fn bits(self) -> u8 {
        match self {
            Self::V4 => 32,
            Self::V6 => 128,
        }
    }

    /// The highest address of the family as a number.
    pub(crate) const fn max(self) -> u128 {
        match self {
            Self::V4 => u32::MAX as u128,
            Self::V6 => u128::MAX,
        }
    }

    /// The number `n` as an address of this family. `n` must not exceed [`Family::max`];
    /// callers only pass numbers that came from addresses of the family.
    pub(crate) fn addr(self, n: u128) -> IpAddr {
        match self {
            Self::V4 => IpAddr::V4(Ipv4Addr::from(u32::try_from(n).unwrap_or(u32::MAX))),
            Self::V6 => IpAddr::V6(Ipv6Addr::from(n)),
        }
    }

    /// The prefix `first/len` of this family.
    pub(crate) fn net(self, first: u128, len: u8) -> IpNet {
        // `len` never exceeds the family's bits: block lengths are validated on creation.
        IpNet::new(self.addr(first), len).unwrap_or_else(|_| IpNet::from(self.addr(first)))
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::V4 => "IPv4",
            Self::V6 => "IPv6",
        })
    }
}

/// An address as a number: IPv4 addresses are 0..=2^32-1, IPv6 addresses 0..=2^128-1.
pub(crate) fn num(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

/// Number of addresses in `first..=last`, saturating at `u128::MAX` (only `::/0` has more).
pub(crate) fn span_len(first: u128, last: u128) -> u128 {
    (last - first).saturating_add(1)
}

/// A contiguous run of addresses of one family, inclusive at both ends: a CIDR
/// (`10.244.0.0/16`), a range (`10.244.10.0-10.244.90.0`) or one address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AddrRange {
    family: Family,
    first: u128,
    last: u128,
    /// The prefix length when the range was given as a CIDR.
    prefix: Option<u8>,
}

impl AddrRange {
    /// The range `first..=last`; both ends must be of one family and `first <= last`.
    pub fn new(first: IpAddr, last: IpAddr) -> Result<Self, Error> {
        let family = Family::of(first);
        if family != Family::of(last) {
            return Err(Error::InvalidRange {
                input: format!("{first}-{last}"),
                reason: "the two ends are of different address families",
            });
        }
        let (first_n, last_n) = (num(first), num(last));
        if first_n > last_n {
            return Err(Error::InvalidRange {
                input: format!("{first}-{last}"),
                reason: "the first address is above the last",
            });
        }
        Ok(Self {
            family,
            first: first_n,
            last: last_n,
            prefix: None,
        })
    }

    /// Every address of a prefix (host bits of `net` are ignored).
    pub fn from_net(net: IpNet) -> Self {
        let net = net.trunc();
        Self {
            family: Family::of(net.addr()),
            first: num(net.network()),
            last: num(net.broadcast()),
            prefix: Some(net.prefix_len()),
        }
    }

    /// A range of one address.
    pub fn single(addr: IpAddr) -> Self {
        let n = num(addr);
        Self {
            family: Family::of(addr),
            first: n,
            last: n,
            prefix: None,
        }
    }

    /// The address family.
    pub fn family(&self) -> Family {
        self.family
    }

    /// The lowest address.
    pub fn first(&self) -> IpAddr {
        self.family.addr(self.first)
    }

    /// The highest address.
    pub fn last(&self) -> IpAddr {
        self.family.addr(self.last)
    }

    /// The prefix when the range was given as a CIDR.
    pub fn prefix(&self) -> Option<IpNet> {
        self.prefix.map(|len| self.family.net(self.first, len))
    }

    /// How many addresses the range holds (saturating at `u128::MAX` for `::/0`).
    pub fn size(&self) -> u128 {
        span_len(self.first, self.last)
    }

    /// Whether the address lies in the range.
    pub fn contains(&self, addr: IpAddr) -> bool {
        Family::of(addr) == self.family && (self.first..=self.last).contains(&num(addr))
    }

    /// Whether the two ranges share an address.
    pub fn overlaps(&self, other: &Self) -> bool {
        self.family == other.family && self.first <= other.last && other.first <= self.last
    }

    pub(crate) fn nums(&self) -> (u128, u128) {
        (self.first, self.last)
    }
}

impl From<IpNet> for AddrRange {
    fn from(net: IpNet) -> Self {
        Self::from_net(net)
    }
}

impl FromStr for AddrRange {
    type Err = Error;

    /// Parses `10.0.0.0/24`, `10.0.0.10-10.0.0.99` (spaces around `-` allowed) or `10.0.0.7`.
    /// A CIDR with host bits set (`10.0.0.1/24`) is refused as a likely typo.
    fn from_str(s: &str) -> Result<Self, Error> {
        let invalid = |reason| Error::InvalidRange {
            input: s.to_owned(),
            reason,
        };
        let s = s.trim();
        if s.contains('/') {
            let net: IpNet = s.parse().map_err(|_| invalid("not a CIDR"))?;
            if net.trunc() != net {
                return Err(invalid("host bits are set; write the network address"));
            }
            return Ok(Self::from_net(net));
        }
        if let Some((a, b)) = s.split_once('-') {
            let first: IpAddr = a.trim().parse().map_err(|_| invalid("bad first address"))?;
            let last: IpAddr = b.trim().parse().map_err(|_| invalid("bad last address"))?;
            return Self::new(first, last).map_err(|e| match e {
                Error::InvalidRange { reason, .. } => invalid(reason),
                other => other,
            });
        }
        let addr: IpAddr = s
            .parse()
            .map_err(|_| invalid("not an address, range or CIDR"))?;
        Ok(Self::single(addr))
    }
}

impl fmt::Display for AddrRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.prefix(), self.first == self.last) {
            (Some(net), _) => write!(f, "{net}"),
            (None, true) => write!(f, "{}", self.first()),
            (None, false) => write!(f, "{}-{}", self.first(), self.last()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cidr_range_and_single_address() {
        let cidr: AddrRange = "10.244.0.0/16".parse().unwrap();
        assert_eq!(cidr.size(), 65_536);
        assert_eq!(cidr.to_string(), "10.244.0.0/16");

        let range: AddrRange = "10.244.10.0 - 10.244.90.0".parse().unwrap();
        assert_eq!(range.first(), "10.244.10.0".parse::<IpAddr>().unwrap());
        assert_eq!(range.size(), 80 * 256 + 1);
        assert_eq!(range.to_string(), "10.244.10.0-10.244.90.0");

        let one: AddrRange = "fd00::7".parse().unwrap();
        assert_eq!(one.size(), 1);
        assert_eq!(one.family(), Family::V6);
    }

    #[test]
    fn refuses_bad_ranges_with_a_reason() {
        for (input, reason) in [
            (
                "10.0.0.1/24",
                "host bits are set; write the network address",
            ),
            ("10.0.0.9-10.0.0.1", "the first address is above the last"),
            (
                "10.0.0.1-fd00::1",
                "the two ends are of different address families",
            ),
            ("10.0.0.0/33", "not a CIDR"),
            ("pool-a", "bad first address"),
            ("", "not an address, range or CIDR"),
        ] {
            let err = input.parse::<AddrRange>().unwrap_err();
            assert_eq!(
                err,
                Error::InvalidRange {
                    input: input.to_owned(),
                    reason
                },
                "{input}"
            );
        }
    }

    #[test]
    fn whole_ipv6_space_has_saturated_length() {
        let all: AddrRange = "::/0".parse().unwrap();
        assert_eq!(all.size(), u128::MAX);
        assert!(all.contains("2001:db8::1".parse().unwrap()));
        assert!(!all.contains("10.0.0.1".parse().unwrap()));
    }
}
