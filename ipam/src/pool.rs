//! Pool configuration: ranges, reservations, and the checks that pools do not overlap.

use std::net::IpAddr;

use crate::Error;
use crate::addr::{AddrRange, Family, num};
use crate::interval::Intervals;

/// The configuration of one pool: where its addresses are and which of them are never handed
/// out. The same configuration makes a [`ServicePool`](crate::ServicePool) or, with a block
/// size, a [`PodPool`](crate::PodPool).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolConfig {
    /// The pool's name, used in errors and by requests that pick a pool.
    pub name: String,
    /// The addresses of the pool: CIDRs or ranges, all of one family, not overlapping.
    pub ranges: Vec<AddrRange>,
    /// Addresses inside the ranges that are never handed out.
    pub exclude: Vec<AddrRange>,
    /// The gateway of the pool's network; never handed out when it lies in the pool.
    pub gateway: Option<IpAddr>,
    /// Reserve the first and last address of every range given as a CIDR (IPv4 network and
    /// broadcast; for IPv6 the first, the subnet-router anycast address). Prefixes of /31,
    /// /32, /127 and /128 are left whole.
    pub reserve_network_broadcast: bool,
}

/// The resolved shape of a pool: every address of it, the reserved ones, and the rest.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    pub(crate) family: Family,
    pub(crate) span: Intervals,
    pub(crate) reserved: Intervals,
    pub(crate) usable: Intervals,
}

impl PoolConfig {
    /// A pool named `name` over `ranges`, with nothing reserved.
    pub fn new(name: impl Into<String>, ranges: impl IntoIterator<Item = AddrRange>) -> Self {
        Self {
            name: name.into(),
            ranges: ranges.into_iter().collect(),
            exclude: Vec::new(),
            gateway: None,
            reserve_network_broadcast: false,
        }
    }

    /// A pool over ranges written as text (`10.0.0.0/24`, `10.0.1.10-10.0.1.99`).
    pub fn parse<S: AsRef<str>>(name: impl Into<String>, ranges: &[S]) -> Result<Self, Error> {
        let ranges = ranges
            .iter()
            .map(|r| r.as_ref().parse())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(name, ranges))
    }

    /// Adds an exclusion.
    pub fn excluding(mut self, range: AddrRange) -> Self {
        self.exclude.push(range);
        self
    }

    /// Sets the gateway.
    pub fn with_gateway(mut self, gateway: IpAddr) -> Self {
        self.gateway = Some(gateway);
        self
    }

    /// Reserves the network (and IPv4 broadcast) address of every CIDR range.
    pub fn reserving_network_broadcast(mut self) -> Self {
        self.reserve_network_broadcast = true;
        self
    }

    /// The family of the pool's first range.
    pub fn family(&self) -> Option<Family> {
        self.ranges.first().map(AddrRange::family)
    }

    fn invalid(&self, reason: impl Into<String>) -> Error {
        Error::InvalidPool {
            pool: self.name.clone(),
            reason: reason.into(),
        }
    }

    /// Checks the configuration and works out which addresses can be handed out.
    pub(crate) fn layout(&self) -> Result<Layout, Error> {
        if self.name.is_empty() {
            return Err(self.invalid("the name is empty"));
        }
        let family = self
            .family()
            .ok_or_else(|| self.invalid("it has no range"))?;
        let wrong_family = self
            .ranges
            .iter()
            .chain(&self.exclude)
            .map(AddrRange::family)
            .chain(self.gateway.map(Family::of))
            .any(|f| f != family);
        if wrong_family {
            return Err(self.invalid(format!(
                "it mixes address families (the first range is {family})"
            )));
        }
        if let Some((a, b)) = self.internal_overlap() {
            return Err(Error::Overlap {
                first: format!("{a} of pool {}", self.name),
                second: format!("{b} of pool {}", self.name),
            });
        }
        let span = Intervals::union_of(self.ranges.iter().map(AddrRange::nums).collect());
        let mut reserved: Vec<(u128, u128)> = self.exclude.iter().map(AddrRange::nums).collect();
        reserved.extend(self.gateway.map(|g| (num(g), num(g))));
        if self.reserve_network_broadcast {
            for range in &self.ranges {
                reserved.extend(network_broadcast(range));
            }
        }
        let reserved = reserved_within(&span, reserved);
        let usable = span.minus(&reserved);
        if usable.is_empty() {
            return Err(self.invalid("every address is reserved"));
        }
        Ok(Layout {
            family,
            span,
            reserved,
            usable,
        })
    }

    fn internal_overlap(&self) -> Option<(AddrRange, AddrRange)> {
        let mut sorted = self.ranges.clone();
        sorted.sort_by_key(AddrRange::nums);
        sorted
            .windows(2)
            .find(|w| w[0].overlaps(&w[1]))
            .map(|w| (w[0], w[1]))
    }

    /// The first pair of ranges (one of each pool) that share an address.
    pub fn overlap_with(&self, other: &Self) -> Option<(AddrRange, AddrRange)> {
        self.ranges
            .iter()
            .flat_map(|a| other.ranges.iter().map(move |b| (*a, *b)))
            .find(|(a, b)| a.overlaps(b))
    }
}

/// The reserved addresses of a CIDR range.
fn network_broadcast(range: &AddrRange) -> Vec<(u128, u128)> {
    let Some(net) = range.prefix() else {
        return Vec::new();
    };
    let (first, last) = range.nums();
    match (range.family(), net.prefix_len()) {
        (Family::V4, 0..=30) => vec![(first, first), (last, last)],
        (Family::V6, 0..=126) => vec![(first, first)],
        _ => Vec::new(),
    }
}

fn reserved_within(span: &Intervals, reserved: Vec<(u128, u128)>) -> Intervals {
    let all = Intervals::union_of(reserved);
    // Reservations outside the pool (a gateway on another network) reserve nothing.
    all.minus(&all.minus(span))
}

/// Fails with [`Error::Overlap`] when two of the pools share an address.
pub fn ensure_disjoint<'a>(pools: impl IntoIterator<Item = &'a PoolConfig>) -> Result<(), Error> {
    let pools: Vec<&PoolConfig> = pools.into_iter().collect();
    for (i, a) in pools.iter().enumerate() {
        for b in pools.iter().skip(i + 1) {
            if let Some((ra, rb)) = a.overlap_with(b) {
                return Err(Error::Overlap {
                    first: format!("{ra} of pool {}", a.name),
                    second: format!("{rb} of pool {}", b.name),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_broadcast_gateway_and_exclusions_are_not_usable() {
        let pool = PoolConfig::parse("lb", &["192.0.2.0/29", "198.51.100.10-198.51.100.12"])
            .unwrap()
            .with_gateway("192.0.2.1".parse().unwrap())
            .excluding("198.51.100.11".parse().unwrap())
            .reserving_network_broadcast();
        let layout = pool.layout().unwrap();
        // /29: 8 addresses less network, broadcast, gateway; range: 3 less 1 exclusion.
        assert_eq!(layout.usable.count(), 5 + 2);
        assert_eq!(layout.reserved.count(), 4);
    }

    #[test]
    fn ipv6_reserves_only_the_subnet_router_address() {
        let pool = PoolConfig::parse("v6", &["2001:db8::/126"])
            .unwrap()
            .reserving_network_broadcast();
        assert_eq!(pool.layout().unwrap().usable.count(), 3);
    }

    #[test]
    fn a_gateway_outside_the_pool_reserves_nothing() {
        let pool = PoolConfig::parse("pods", &["10.244.0.0/24"])
            .unwrap()
            .with_gateway("169.254.1.1".parse().unwrap());
        assert_eq!(pool.layout().unwrap().usable.count(), 256);
    }

    #[test]
    fn bad_pools_are_refused() {
        let overlap = PoolConfig::parse("a", &["10.0.0.0/24", "10.0.0.128-10.0.1.5"]).unwrap();
        assert!(matches!(overlap.layout(), Err(Error::Overlap { .. })));

        let mixed = PoolConfig::parse("m", &["10.0.0.0/24", "fd00::/64"]).unwrap();
        assert!(matches!(mixed.layout(), Err(Error::InvalidPool { .. })));

        let all_reserved = PoolConfig::parse("r", &["10.0.0.0/30"])
            .unwrap()
            .excluding("10.0.0.0/30".parse().unwrap());
        assert_eq!(
            all_reserved.layout().unwrap_err(),
            Error::InvalidPool {
                pool: "r".into(),
                reason: "every address is reserved".into()
            }
        );

        let empty = PoolConfig::new("e", []);
        assert!(matches!(empty.layout(), Err(Error::InvalidPool { .. })));
    }

    #[test]
    fn overlapping_pools_are_named_in_the_error() {
        let a = PoolConfig::parse("a", &["10.0.0.0/16"]).unwrap();
        let b = PoolConfig::parse("b", &["10.1.0.0/16"]).unwrap();
        let c = PoolConfig::parse("c", &["10.0.200.0-10.0.200.9"]).unwrap();
        assert_eq!(ensure_disjoint([&a, &b]), Ok(()));
        assert_eq!(
            ensure_disjoint([&a, &b, &c]),
            Err(Error::Overlap {
                first: "10.0.0.0/16 of pool a".into(),
                second: "10.0.200.0-10.0.200.9 of pool c".into(),
            })
        );
    }
}
