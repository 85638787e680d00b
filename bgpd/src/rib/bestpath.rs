//! The BGP decision process (RFC 4271 section 9.1.2), as a pure function over ranked
//! candidates.
//!
//! Selection is by elimination, as RFC 4271 9.1.2.2 describes it, rather than by pairwise
//! comparison: MED only compares paths from the same neighbouring AS, so pairwise
//! comparison is not transitive and would make the result depend on arrival order. Each
//! step keeps the candidates that are best on one criterion:
//!
//! 0. not LLGR_STALE (RFC 9494: long-lived stale routes are least preferred)
//! 1. highest LOCAL_PREF
//! 2. locally originated
//! 3. shortest AS_PATH (AS_SET counts 1, confederation segments 0)
//! 4. lowest ORIGIN
//! 5. lowest MED, among paths from the same neighbouring AS (or among all paths with
//!    `always_compare_med`); a missing MED counts as 0
//! 6. eBGP over iBGP
//! 7. lowest router id (the ORIGINATOR_ID when present)
//! 8. shortest CLUSTER_LIST
//! 9. lowest neighbour address
//!
//! The candidates left after step 6 are equal for forwarding: they form the multipath
//! (ECMP) set handed to the FIB.

use std::net::{IpAddr, Ipv4Addr};

/// What the decision process looks at for one path. Computed once per distinct
/// attribute set and peer, not per comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rank {
    /// Carries LLGR_STALE (RFC 9494): kept from a peer past its restart time.
    pub llgr_stale: bool,
    /// LOCAL_PREF (the configured default when the attribute is absent).
    pub local_pref: u32,
    /// Originated by this router (config or API), not learned from a peer.
    pub local: bool,
    /// AS_PATH length as the decision process counts it.
    pub as_path_len: u32,
    /// ORIGIN: 0 IGP, 1 EGP, 2 INCOMPLETE.
    pub origin: u8,
    /// MED, 0 when absent.
    pub med: u32,
    /// The neighbouring AS the path came through (leftmost AS of AS_PATH, or our own AS
    /// for paths with an empty AS_PATH).
    pub neighbor_as: u32,
    /// Learned over eBGP.
    pub ebgp: bool,
    /// ORIGINATOR_ID if present, else the peer's BGP identifier.
    pub router_id: Ipv4Addr,
    /// CLUSTER_LIST length.
    pub cluster_len: u32,
    /// The peer's address (unspecified for local paths).
    pub peer_addr: IpAddr,
}

/// Options of the decision process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Compare MED between paths from different neighbouring ASes.
    pub always_compare_med: bool,
}

/// The outcome of a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Index of the best path in the candidate slice.
    pub best: usize,
    /// Indices of the paths equal to the best for forwarding (the best included),
    /// ascending.
    pub multipath: Vec<usize>,
}

/// Indices of the candidates still in the running.
type Keep = smallvec::SmallVec<[usize; 16]>;

/// Runs the decision process. Returns `None` for no candidates.
pub fn decide(candidates: &[Rank], options: Options) -> Option<Decision> {
    match candidates.len() {
        0 => return None,
        1 => {
            return Some(Decision {
                best: 0,
                multipath: vec![0],
            });
        }
        _ => {}
    }
    // On the stack for up to 16 candidates: this runs for every changed prefix.
    let mut keep: Keep = (0..candidates.len()).collect();
    let r = |i: &usize| &candidates[*i];

    retain_best(&mut keep, candidates, |c| c.llgr_stale);
    retain_best(&mut keep, candidates, |c| std::cmp::Reverse(c.local_pref));
    retain_best(&mut keep, candidates, |c| !c.local);
    retain_best(&mut keep, candidates, |c| c.as_path_len);
    retain_best(&mut keep, candidates, |c| c.origin);
    if options.always_compare_med {
        retain_best(&mut keep, candidates, |c| c.med);
    } else if keep.len() > 1 {
        // Within each neighbouring AS, drop paths whose MED is above that AS's lowest.
        let snapshot = keep.clone();
        keep.retain(|i| {
            let c = r(i);
            snapshot
                .iter()
                .map(r)
                .filter(|o| o.neighbor_as == c.neighbor_as)
                .all(|o| o.med >= c.med)
        });
    }
    retain_best(&mut keep, candidates, |c| !c.ebgp);
    let multipath = keep.to_vec();
    retain_best(&mut keep, candidates, |c| c.router_id);
    retain_best(&mut keep, candidates, |c| c.cluster_len);
    retain_best(&mut keep, candidates, |c| c.peer_addr);
    // Whatever is still tied is identical on every criterion (the same peer announcing
    // the same prefix twice cannot happen without ADD-PATH); the lowest index wins.
    let best = *keep.first()?;
    Some(Decision { best, multipath })
}

/// Keeps the candidates with the smallest key.
fn retain_best<K: Ord>(keep: &mut Keep, candidates: &[Rank], key: impl Fn(&Rank) -> K) {
    if keep.len() < 2 {
        return;
    }
    let Some(min) = keep.iter().map(|i| key(&candidates[*i])).min() else {
        return;
    };
    keep.retain(|i| key(&candidates[*i]) == min);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Rank {
        Rank {
            llgr_stale: false,
            local_pref: 100,
            local: false,
            as_path_len: 2,
            origin: 0,
            med: 0,
            neighbor_as: 65001,
            ebgp: true,
            router_id: Ipv4Addr::new(10, 0, 0, 1),
            cluster_len: 0,
            peer_addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        }
    }

    fn best(c: &[Rank]) -> usize {
        decide(c, Options::default()).unwrap().best
    }

    #[test]
    fn long_lived_stale_loses_to_anything_fresh() {
        let b = base();
        let stale = Rank {
            llgr_stale: true,
            local_pref: 1000,
            ..b
        };
        let fresh = Rank {
            local_pref: 10,
            as_path_len: 9,
            ..b
        };
        assert_eq!(best(&[stale, fresh]), 1);
        assert_eq!(best(&[fresh, stale]), 0);
    }

    #[test]
    fn each_step_decides_when_all_earlier_ones_tie() {
        let b = base();
        let steps: Vec<(&str, Rank)> = vec![
            (
                "local_pref",
                Rank {
                    local_pref: 200,
                    ..b
                },
            ),
            ("local", Rank { local: true, ..b }),
            (
                "as_path_len",
                Rank {
                    as_path_len: 1,
                    ..b
                },
            ),
            ("origin", Rank { origin: 0, ..b }),
            ("med", Rank { med: 0, ..b }),
            ("ebgp", Rank { ebgp: true, ..b }),
            (
                "router_id",
                Rank {
                    router_id: Ipv4Addr::new(1, 1, 1, 1),
                    ..b
                },
            ),
            (
                "cluster_len",
                Rank {
                    cluster_len: 0,
                    ..b
                },
            ),
            (
                "peer_addr",
                Rank {
                    peer_addr: IpAddr::V4(Ipv4Addr::new(1, 0, 0, 1)),
                    ..b
                },
            ),
        ];
        let worse: Vec<Rank> = vec![
            b,
            b,
            b,
            Rank { origin: 2, ..b },
            Rank { med: 50, ..b },
            Rank { ebgp: false, ..b },
            b,
            Rank {
                cluster_len: 3,
                ..b
            },
            b,
        ];
        for ((name, better), worse) in steps.into_iter().zip(worse) {
            // Put the better path second so that index order cannot explain the result.
            assert_eq!(best(&[worse, better]), 1, "step {name}");
            assert_eq!(best(&[better, worse]), 0, "step {name}");
        }
    }

    #[test]
    fn earlier_steps_outrank_later_ones() {
        let b = base();
        // Higher LOCAL_PREF beats a shorter AS_PATH.
        let a = Rank {
            local_pref: 150,
            as_path_len: 5,
            ..b
        };
        let c = Rank {
            as_path_len: 1,
            ..b
        };
        assert_eq!(best(&[c, a]), 1);
        // Shorter AS_PATH beats lower MED and eBGP.
        let a = Rank {
            as_path_len: 1,
            med: 500,
            ebgp: false,
            ..b
        };
        assert_eq!(best(&[b, a]), 1);
    }

    #[test]
    fn med_is_compared_only_within_the_same_neighbour_as() {
        let b = base();
        let x_high = Rank {
            neighbor_as: 1,
            med: 100,
            router_id: Ipv4Addr::new(1, 1, 1, 1),
            ..b
        };
        let y_low = Rank {
            neighbor_as: 2,
            med: 10,
            router_id: Ipv4Addr::new(9, 9, 9, 9),
            ..b
        };
        // Different ASes: MED ignored, router id decides.
        assert_eq!(best(&[y_low, x_high]), 1);
        // With always_compare_med the lower MED wins.
        let d = decide(
            &[y_low, x_high],
            Options {
                always_compare_med: true,
            },
        )
        .unwrap();
        assert_eq!(d.best, 0);
    }

    #[test]
    fn deterministic_med_does_not_depend_on_order() {
        // The classic non-transitive triple: A(AS1, MED 10), B(AS2, MED 0), C(AS1, MED 5).
        let b = base();
        let a = Rank {
            neighbor_as: 1,
            med: 10,
            router_id: Ipv4Addr::new(1, 0, 0, 1),
            ..b
        };
        let bb = Rank {
            neighbor_as: 2,
            med: 0,
            router_id: Ipv4Addr::new(3, 0, 0, 1),
            ..b
        };
        let c = Rank {
            neighbor_as: 1,
            med: 5,
            router_id: Ipv4Addr::new(2, 0, 0, 1),
            ..b
        };
        let orders = [
            [a, bb, c],
            [bb, c, a],
            [c, a, bb],
            [a, c, bb],
            [bb, a, c],
            [c, bb, a],
        ];
        let winners: Vec<Rank> = orders.iter().map(|o| o[best(o)]).collect();
        assert!(winners.iter().all(|w| *w == c), "{winners:?}");
    }

    #[test]
    fn multipath_holds_paths_equal_up_to_the_ebgp_step() {
        let b = base();
        let p1 = Rank {
            router_id: Ipv4Addr::new(10, 0, 0, 2),
            neighbor_as: 65001,
            ..b
        };
        let p2 = Rank {
            router_id: Ipv4Addr::new(10, 0, 0, 3),
            neighbor_as: 65002,
            ..b
        };
        let longer = Rank {
            as_path_len: 3,
            ..b
        };
        let ibgp = Rank { ebgp: false, ..b };
        let d = decide(&[p2, longer, p1, ibgp], Options::default()).unwrap();
        assert_eq!(d.best, 2);
        assert_eq!(d.multipath, vec![0, 2]);
    }

    #[test]
    fn single_and_empty() {
        assert_eq!(decide(&[], Options::default()), None);
        assert_eq!(
            decide(&[base()], Options::default()),
            Some(Decision {
                best: 0,
                multipath: vec![0]
            })
        );
    }
}
