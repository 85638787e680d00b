//! The scenarios of issue 6 and the plan the peers process runs for one of them.
//!
//! Every prefix of a run has an index `i` in `0..prefix_count`: IPv4 /24 number `i` after
//! 16.0.0.0, or IPv6 /48 number `i` after 2a00::/48. Prefixes come in groups of four
//! (`g = i / 4`) that share an AS_PATH; the path a monitor must end with for prefix `i` is
//! always `[AS of its owner, 200000 + g]` (with the daemon's AS in front unless the daemon
//! runs as a route server), so that a monitor checks every prefix with two integer
//! comparisons.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The daemon's AS number in every scenario.
pub const DUT_ASN: u32 = 65000;
/// The AS number of a monitor that only receives.
pub const MONITOR_ASN: u32 = 65001;
/// Sender `k` speaks for AS `SENDER_ASN_BASE + k`.
pub const SENDER_ASN_BASE: u32 = 65100;
/// Group `g` of prefixes carries AS `GROUP_ASN_BASE + g` after its sender's AS.
pub const GROUP_ASN_BASE: u32 = 200_000;
/// Prefixes per AS_PATH ("four prefixes per distinct AS_PATH").
pub const PREFIXES_PER_GROUP: u32 = 4;
/// First IPv4 prefix: 16.0.0.0/24.
pub const BASE_V4: u32 = 0x1000_0000;
/// First IPv6 prefix, as its 48 leading bits: 2a00::/48.
pub const BASE_V6: u64 = 0x2a00_0000_0000;
/// Most peers a plan may have (addresses in the lab's /16 and distinct AS numbers).
pub const MAX_PEERS: usize = 400;

/// One of the scenarios of issue 6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scenario {
    /// S1 ingest: one peer sends 1,000,000 IPv4 /24s; one monitor receives them.
    S1,
    /// S1 with 100,000 prefixes, to compare prefixes per second with S1.
    S1Small,
    /// S2 fan-out: 10 peers send 100,000 prefixes each; each receives everyone else's.
    S2,
    /// S3 best-path churn: 10 peers send the same 1,000,000 prefixes with AS_PATHs of
    /// different lengths, in random order; the monitor must end with the best of each.
    S3,
    /// S4 many peers: 100 peers, 1,000 prefixes each, everything to everyone.
    S4,
    /// S5 withdraw: S1, then the peer withdraws everything.
    S5,
    /// S6 IPv6: S1 with IPv6 /48s.
    S6,
}

impl Scenario {
    /// Every scenario, in the order of the table.
    pub const ALL: [Scenario; 7] = [
        Scenario::S1,
        Scenario::S1Small,
        Scenario::S2,
        Scenario::S3,
        Scenario::S4,
        Scenario::S5,
        Scenario::S6,
    ];

    /// The short name used on the command line and in the table.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::S1 => "S1",
            Scenario::S1Small => "S1-100k",
            Scenario::S2 => "S2",
            Scenario::S3 => "S3",
            Scenario::S4 => "S4",
            Scenario::S5 => "S5",
            Scenario::S6 => "S6",
        }
    }

    /// What the scenario does, in a few words.
    pub fn description(self) -> &'static str {
        match self {
            Scenario::S1 => "ingest: 1 peer -> 1 monitor",
            Scenario::S1Small => "ingest, 1/10 of S1",
            Scenario::S2 => "fan-out: 10 peers, each gets the others'",
            Scenario::S3 => "best-path churn: 10 peers, same prefixes",
            Scenario::S4 => "many peers: 100 x 1,000, all to all",
            Scenario::S5 => "withdraw everything after S1",
            Scenario::S6 => "ingest, IPv6 /48s",
        }
    }

    /// The shape of the scenario at `scale` (1.0 = the sizes).
    pub fn shape(self, scale: f64) -> Shape {
        let n = |base: u32| -> u32 {
            // Whole groups of four, at least one group.
            let v = (f64::from(base) * scale).round().max(4.0);
            // The float is positive and bounded by the base times the scale.
            let v = if v > f64::from(u32::MAX / 2) {
                u32::MAX / 2
            } else {
                v as u32
            };
            (v / PREFIXES_PER_GROUP).max(1) * PREFIXES_PER_GROUP
        };
        match self {
            Scenario::S1 | Scenario::S5 => Shape::ingest(n(1_000_000), Family::V4),
            Scenario::S1Small => Shape::ingest(n(100_000), Family::V4),
            Scenario::S6 => Shape::ingest(n(1_000_000), Family::V6),
            Scenario::S2 => Shape::mesh(10, n(100_000)),
            Scenario::S4 => Shape::mesh(100, n(1_000)),
            Scenario::S3 => Shape {
                family: Family::V4,
                mode: Mode::Churn,
                senders: 10,
                per_sender: n(1_000_000),
                monitor: true,
                senders_receive: false,
                withdraw: false,
            },
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scenario {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scenario::ALL
            .into_iter()
            .find(|sc| sc.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown scenario {s:?} (known: S1, S1-100k, S2, S3, S4, S5, S6)")
            })
    }
}

/// The address family of a scenario's routes (and of its sessions' transport).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Family {
    /// IPv4 unicast /24s over IPv4 sessions.
    V4,
    /// IPv6 unicast /48s over IPv6 sessions.
    V6,
}

/// How senders' prefixes relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Mode {
    /// Each sender has prefixes of its own: sender `k` owns `k*per_sender..(k+1)*per_sender`.
    Disjoint,
    /// Every sender sends every prefix, with AS_PATHs of different lengths; for each
    /// prefix exactly one sender has the shortest.
    Churn,
}

/// Sizes and roles of a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shape {
    /// Route family.
    pub family: Family,
    /// Disjoint or churn.
    pub mode: Mode,
    /// Number of sending peers.
    pub senders: u32,
    /// Prefixes each sender announces.
    pub per_sender: u32,
    /// Whether a separate monitor peer receives everything.
    pub monitor: bool,
    /// Whether senders also receive (everyone else's prefixes).
    pub senders_receive: bool,
    /// Whether everything is withdrawn after the announcements arrived.
    pub withdraw: bool,
}

impl Shape {
    fn ingest(prefixes: u32, family: Family) -> Shape {
        Shape {
            family,
            mode: Mode::Disjoint,
            senders: 1,
            per_sender: prefixes,
            monitor: true,
            senders_receive: false,
            withdraw: false,
        }
    }

    fn mesh(senders: u32, per_sender: u32) -> Shape {
        Shape {
            family: Family::V4,
            mode: Mode::Disjoint,
            senders,
            per_sender,
            monitor: false,
            senders_receive: true,
            withdraw: false,
        }
    }

    /// Number of distinct prefix indices.
    pub fn prefix_count(&self) -> u32 {
        match self.mode {
            Mode::Disjoint => self.senders.saturating_mul(self.per_sender),
            Mode::Churn => self.per_sender,
        }
    }

    /// Prefix announcements the daemon receives in all.
    pub fn announcements(&self) -> u64 {
        u64::from(self.senders) * u64::from(self.per_sender)
    }
}

/// The daemon's address on the lab link (IPv4 sessions).
pub const DUT_V4: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
/// The daemon's address on the lab link (IPv6 sessions).
pub const DUT_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);

/// The lab address of peer number `n` (0-based) in `family`: 10.0.0.2 onwards in
/// 10.0.0.0/16, fd00::2 onwards in fd00::/64.
pub fn peer_address(family: Family, n: usize) -> IpAddr {
    let id = u32::try_from(n).unwrap_or(u32::MAX - 2).saturating_add(2);
    match family {
        Family::V4 => IpAddr::V4(Ipv4Addr::from(u32::from(DUT_V4) - 1 + id)),
        Family::V6 => IpAddr::V6(Ipv6Addr::from(u128::from(DUT_V6) - 1 + u128::from(id))),
    }
}

/// The daemon's address in `family`.
pub fn dut_address(family: Family) -> IpAddr {
    match family {
        Family::V4 => IpAddr::V4(DUT_V4),
        Family::V6 => IpAddr::V6(DUT_V6),
    }
}

/// One BGP session of the peers process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerSpec {
    /// Our address (the session's source).
    pub address: IpAddr,
    /// Our AS number.
    pub asn: u32,
    /// The sender index, if this peer sends routes.
    pub sender: Option<u32>,
    /// Whether this peer counts what it receives.
    pub receive: bool,
}

/// Everything the peers process needs for one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Sizes and roles.
    pub shape: Shape,
    /// The sessions, monitor first.
    pub peers: Vec<PeerSpec>,
    /// The daemon's address (where the sessions connect to).
    pub dut: IpAddr,
    /// TCP port of the daemon.
    pub port: u16,
    /// The daemon's AS.
    pub dut_asn: u32,
    /// Whether the daemon prepends its AS and sets itself as next hop (eBGP). False for a
    /// route server, which passes AS_PATH and next hop on unchanged.
    pub prepend: bool,
    /// Whether, with `prepend`, only the daemon's own address counts as the right next
    /// hop. When false, the sender's address is accepted too: on a link shared by sender
    /// and monitor, passing the next hop on unchanged (RFC 4271 section 5.1.3, "third
    /// party" next hop; BIRD does it) is as correct as setting its own.
    pub strict_next_hop: bool,
    /// Whether to withdraw everything after the announcements arrived.
    pub withdraw: bool,
    /// Whether to check AS_PATH and next hop of every prefix (always done; a wrong route
    /// never counts as arrived). Kept for the record.
    pub verify: bool,
    /// Seconds from the first UPDATE sent until the run gives up.
    pub timeout_secs: f64,
    /// Seed of the random order of S3.
    pub seed: u64,
}

impl Plan {
    /// The plan of `scenario` at `scale` against a daemon that prepends (eBGP) or not
    /// (route server).
    pub fn new(scenario: Scenario, scale: f64, prepend: bool, timeout_secs: f64) -> Plan {
        let mut shape = scenario.shape(scale);
        if scenario == Scenario::S5 {
            shape.withdraw = true;
        }
        let mut peers = Vec::new();
        if shape.monitor {
            peers.push(PeerSpec {
                address: peer_address(shape.family, 0),
                asn: MONITOR_ASN,
                sender: None,
                receive: true,
            });
        }
        for k in 0..shape.senders {
            peers.push(PeerSpec {
                address: peer_address(shape.family, peers.len()),
                asn: SENDER_ASN_BASE + k,
                sender: Some(k),
                receive: shape.senders_receive,
            });
        }
        Plan {
            shape,
            peers,
            dut: dut_address(shape.family),
            port: 179,
            dut_asn: DUT_ASN,
            prepend,
            strict_next_hop: false,
            withdraw: shape.withdraw,
            verify: true,
            timeout_secs,
            seed: 0x5eed_0006,
        }
    }

    /// The address of sender `k`.
    pub fn sender_address(&self, k: u32) -> Option<IpAddr> {
        self.peers
            .iter()
            .find(|p| p.sender == Some(k))
            .map(|p| p.address)
    }

    /// The sender whose route must win for prefix `i`.
    pub fn owner(&self, i: u32) -> u32 {
        match self.shape.mode {
            Mode::Disjoint => i / self.shape.per_sender.max(1),
            Mode::Churn => {
                let n = self.shape.senders.max(1);
                let g = i / PREFIXES_PER_GROUP;
                (n - g % n) % n
            }
        }
    }

    /// How many prefixes a peer receiving as `receiver` (its sender index, if any) must
    /// end with.
    pub fn expected_count(&self, receiver: Option<u32>) -> u32 {
        let total = self.shape.prefix_count();
        match (self.shape.mode, receiver) {
            (Mode::Disjoint, Some(_)) => total - self.shape.per_sender,
            _ => total,
        }
    }

    /// Whether prefix `i` must reach a receiver that is sender `receiver` (if any).
    pub fn expected_at(&self, receiver: Option<u32>, i: u32) -> bool {
        i < self.shape.prefix_count()
            && match receiver {
                Some(r) => self.owner(i) != r,
                None => true,
            }
    }
}

/// AS_PATH (without the daemon's AS) that sender `k` announces for group `g`.
pub fn sent_path(shape: &Shape, k: u32, g: u32) -> Vec<u32> {
    let asn = SENDER_ASN_BASE + k;
    let group = GROUP_ASN_BASE + g;
    match shape.mode {
        Mode::Disjoint => vec![asn, group],
        Mode::Churn => {
            let n = shape.senders.max(1);
            let extra = 1 + (g + k) % n;
            let mut path = Vec::with_capacity(1 + extra as usize);
            path.push(asn);
            path.extend(std::iter::repeat_n(group, extra as usize));
            path
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn churn_has_one_shortest_path_per_prefix_and_owner_is_it() {
        let plan = Plan::new(Scenario::S3, 0.001, true, 10.0);
        for i in (0..plan.shape.prefix_count()).step_by(4) {
            let g = i / PREFIXES_PER_GROUP;
            let lens: Vec<usize> = (0..plan.shape.senders)
                .map(|k| sent_path(&plan.shape, k, g).len())
                .collect();
            let min = lens.iter().copied().min().unwrap_or(0);
            assert_eq!(lens.iter().filter(|&&l| l == min).count(), 1);
            let owner = plan.owner(i) as usize;
            assert_eq!(lens[owner], min);
            assert_eq!(min, 2, "the best path has the shape every monitor checks");
        }
    }

    #[test]
    fn mesh_receivers_expect_everyone_else() {
        let plan = Plan::new(Scenario::S4, 1.0, true, 10.0);
        assert_eq!(plan.peers.len(), 100);
        assert_eq!(plan.expected_count(Some(3)), 99_000);
        assert!(!plan.expected_at(Some(3), 3_500));
        assert!(plan.expected_at(Some(3), 4_500));
        assert!(!plan.expected_at(Some(3), 100_000));
    }

    #[test]
    fn names_parse_back_and_addresses_are_distinct() {
        for sc in Scenario::ALL {
            assert_eq!(sc.name().parse::<Scenario>(), Ok(sc));
        }
        assert!("S9".parse::<Scenario>().is_err());
        assert_eq!(peer_address(Family::V4, 0).to_string(), "10.0.0.2");
        assert_eq!(peer_address(Family::V4, 300).to_string(), "10.0.1.46");
        assert_eq!(peer_address(Family::V6, 14).to_string(), "fd00::10");
    }
}
