//! A service pool as a LoadBalancer controller uses it.

// Test code: a panic is a failed test, with the value shown.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::net::IpAddr;

use ipam::{Error, Owner, PoolConfig, ServicePool, Stats};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn svc(name: &str) -> Owner {
    Owner::service("shop", name)
}

fn pool(ranges: &[&str]) -> ServicePool {
    ServicePool::new(PoolConfig::parse("public", ranges).unwrap()).unwrap()
}

#[test]
fn hands_out_in_order_skipping_reserved_addresses() {
    let config = PoolConfig::parse("public", &["192.0.2.0/29"])
        .unwrap()
        .with_gateway(ip("192.0.2.1"))
        .excluding("192.0.2.3".parse().unwrap())
        .reserving_network_broadcast();
    let mut pool = ServicePool::new(config).unwrap();
    let got: Vec<IpAddr> = (0..4)
        .map(|i| pool.allocate(&svc(&format!("s{i}"))).unwrap())
        .collect();
    assert_eq!(
        got,
        [
            ip("192.0.2.2"),
            ip("192.0.2.4"),
            ip("192.0.2.5"),
            ip("192.0.2.6")
        ]
    );
    assert_eq!(
        pool.allocate(&svc("one-too-many")),
        Err(Error::Exhausted {
            pool: "public".into()
        })
    );
    assert_eq!(
        pool.stats(),
        Stats {
            capacity: 4,
            allocated: 4
        }
    );
}

#[test]
fn the_same_owner_gets_the_same_address_again() {
    let mut pool = pool(&["10.96.0.0/24"]);
    let first = pool.allocate(&svc("web")).unwrap();
    assert_eq!(pool.allocate(&svc("web")).unwrap(), first);
    assert_eq!(pool.allocate_addr(first, &svc("web")), Ok(()));
    assert_eq!(pool.stats().allocated, 1);
}

#[test]
fn a_released_address_is_not_handed_out_again_at_once() {
    let mut pool = pool(&["10.96.0.0/29"]);
    let a = pool.allocate(&svc("a")).unwrap();
    assert_eq!(pool.release(a), Some(svc("a")));
    let next: Vec<IpAddr> = (0..7)
        .map(|i| pool.allocate(&svc(&format!("n{i}"))).unwrap())
        .collect();
    assert!(!next.contains(&a), "the seven others come first: {next:?}");
    assert_eq!(pool.allocate(&svc("last")).unwrap(), a);
}

#[test]
fn requested_addresses_and_their_errors() {
    let config = PoolConfig::parse("public", &["10.0.0.0/28"])
        .unwrap()
        .excluding("10.0.0.5".parse().unwrap());
    let mut pool = ServicePool::new(config).unwrap();
    pool.allocate_addr(ip("10.0.0.9"), &svc("dns")).unwrap();
    assert_eq!(
        pool.allocate_addr(ip("10.0.0.9"), &svc("web")),
        Err(Error::AddressTaken {
            addr: ip("10.0.0.9"),
            holder: svc("dns")
        })
    );
    assert_eq!(
        pool.allocate_addr(ip("10.0.0.10"), &svc("dns")),
        Err(Error::OwnerHoldsOther {
            owner: svc("dns"),
            addr: ip("10.0.0.9")
        })
    );
    assert_eq!(
        pool.allocate_addr(ip("10.0.1.1"), &svc("web")),
        Err(Error::NotInPool {
            pool: "public".into(),
            addr: ip("10.0.1.1")
        })
    );
    assert_eq!(
        pool.allocate_addr(ip("fd00::1"), &svc("web")),
        Err(Error::NotInPool {
            pool: "public".into(),
            addr: ip("fd00::1")
        })
    );
    assert_eq!(
        pool.allocate_addr(ip("10.0.0.5"), &svc("web")),
        Err(Error::Reserved {
            pool: "public".into(),
            addr: ip("10.0.0.5")
        })
    );
    // A request moves the cursor past the address; the next hand-out follows it.
    assert_eq!(pool.allocate(&svc("web")).unwrap(), ip("10.0.0.10"));
}

#[test]
fn marking_existing_allocations_does_not_move_the_cursor() {
    let mut pool = pool(&["10.0.0.0/28"]);
    pool.mark_in_use(ip("10.0.0.7"), &svc("old")).unwrap();
    assert_eq!(pool.allocate(&svc("new")).unwrap(), ip("10.0.0.0"));
    assert_eq!(pool.owner_of(ip("10.0.0.7")), Some(&svc("old")));
    assert_eq!(
        pool.mark_in_use(ip("10.0.0.7"), &svc("other")),
        Err(Error::AddressTaken {
            addr: ip("10.0.0.7"),
            holder: svc("old")
        })
    );
}

#[test]
fn ranges_that_are_not_cidrs_hand_out_every_address() {
    let mut pool = pool(&["10.244.10.250-10.244.11.2"]);
    let got: Vec<String> = (0..9)
        .map(|i| pool.allocate(&svc(&format!("s{i}"))).unwrap().to_string())
        .collect();
    assert_eq!(got.first().map(String::as_str), Some("10.244.10.250"));
    assert_eq!(got.last().map(String::as_str), Some("10.244.11.2"));
    assert!(pool.allocate(&svc("more")).is_err());
}

#[test]
fn gc_frees_exactly_the_dead_owners() {
    let mut pool = pool(&["10.0.0.0/24"]);
    let owners: Vec<Owner> = (0..50).map(|i| svc(&format!("s{i}"))).collect();
    for o in &owners {
        pool.allocate(o).unwrap();
    }
    let alive: BTreeSet<Owner> = owners.iter().step_by(3).cloned().collect();
    let freed = pool.gc(|o| alive.contains(o));
    assert_eq!(freed.len(), 50 - alive.len());
    assert!(freed.iter().all(|a| !alive.contains(&a.owner)));
    for o in &owners {
        assert_eq!(pool.address_of(o).is_some(), alive.contains(o), "{o}");
    }
    assert!(
        pool.gc(|o| alive.contains(o)).is_empty(),
        "a second pass finds nothing"
    );
}

#[test]
fn release_by_owner_and_of_unknown_addresses() {
    let mut pool = pool(&["fd00:10:96::/120"]);
    let a = pool.allocate(&svc("web")).unwrap();
    assert_eq!(a, ip("fd00:10:96::"));
    assert_eq!(pool.release(ip("fd00:10:96::99")), None);
    assert_eq!(pool.release(ip("10.0.0.1")), None);
    assert_eq!(pool.release_owner(&svc("web")), Some(a));
    assert_eq!(pool.release_owner(&svc("web")), None);
    assert_eq!(pool.stats().allocated, 0);
}

#[test]
fn compact_state_round_trips_with_its_cursor() {
    let mut pool = pool(&["10.0.0.0/24", "10.0.2.0/24"]);
    for i in 0..10 {
        pool.allocate(&svc(&format!("s{i}"))).unwrap();
    }
    pool.allocate_addr(ip("10.0.2.200"), &Owner::pod("not a uuid", "net1"))
        .unwrap();
    pool.release(ip("10.0.0.3"));
    let text = pool.to_compact();

    let mut restored = ServicePool::new(pool.config().clone()).unwrap();
    restored.load_compact(&text).unwrap();
    assert_eq!(restored.to_compact(), text);
    let a: Vec<_> = pool.allocations().map(|(a, o)| (a, o.clone())).collect();
    let b: Vec<_> = restored
        .allocations()
        .map(|(a, o)| (a, o.clone()))
        .collect();
    assert_eq!(a, b);
    // The cursor came along: both hand out the same next address, not the released one.
    assert_eq!(
        restored.allocate(&svc("next")).unwrap(),
        pool.allocate(&svc("next")).unwrap()
    );
    assert_ne!(restored.address_of(&svc("next")), Some(ip("10.0.0.3")));
}

#[test]
fn corrupt_or_foreign_compact_state_is_refused_and_changes_nothing() {
    let mut pool = pool(&["10.0.0.0/28"]);
    pool.allocate(&svc("keep")).unwrap();
    let before = pool.to_compact();
    for bad in [
        "x",
        "a1|",
        "a1|0|sns",
        "a1|0|sa/b,sa/b",
        "a1|0|10sa/b",
        "b1|0|",
        "a1|0|sa/b;",
    ] {
        assert!(pool.load_compact(bad).is_err(), "{bad:?} accepted");
        assert_eq!(pool.to_compact(), before, "{bad:?} changed the pool");
    }
    assert_eq!(
        pool.load_compact("a1|0|10sa/b"),
        Err(Error::NotInPool {
            pool: "public".into(),
            addr: ip("10.0.0.16")
        })
    );
    assert_eq!(
        pool.load_compact("a1|0|sa/b,sa/b"),
        Err(Error::OwnerHoldsOther {
            owner: Owner::service("a", "b"),
            addr: ip("10.0.0.0"),
        })
    );
    pool.load_compact("").unwrap();
    assert_eq!(
        pool.stats().allocated,
        0,
        "empty text means nothing allocated"
    );
}

#[test]
fn the_very_last_ipv6_address_is_handed_out_and_kept() {
    let mut pool = pool(&["ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0/124"]);
    let top = ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    pool.allocate_addr(top, &svc("top")).unwrap();
    // The cursor wrapped past the top of the address space to the pool's start.
    assert_eq!(
        pool.allocate(&svc("next")).unwrap(),
        ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0")
    );
    let text = pool.to_compact();
    let mut restored = ServicePool::new(pool.config().clone()).unwrap();
    restored.load_compact(&text).unwrap();
    assert_eq!(restored.owner_of(top), Some(&svc("top")));
    assert_eq!(restored.to_compact(), text);
    // Nothing can follow the last address.
    assert!(restored.load_compact(&format!("{text},sa/b")).is_err());
}

#[test]
fn an_ipv4_pool_refuses_addresses_beyond_ipv4_in_its_state() {
    let mut pool = pool(&["255.255.255.0/24"]);
    assert_eq!(
        pool.load_compact("a1|0|100sa/b"),
        Err(Error::Decode {
            offset: 5,
            reason: "address beyond the family"
        })
    );
    pool.load_compact("a1|0|ffsa/b").unwrap();
    assert_eq!(
        pool.owner_of(ip("255.255.255.255")),
        Some(&Owner::service("a", "b"))
    );
}
