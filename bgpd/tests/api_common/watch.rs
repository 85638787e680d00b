//! Watch (part of the `api` tests): the initial dump, best-path and peer events, big
//! batches, and a slow client told that it lagged.

use std::time::Duration;

use bgp_api::bgpd::v1 as pb;
use pb::best_path_event::Kind;
use tonic::Streaming;

use crate::ESTABLISHED;
use crate::api_common::*;

type Events = Vec<pb::WatchEvent>;

/// Reads the stream until `done` holds for what was read since the call.
async fn until(
    w: &mut Streaming<pb::WatchResponse>,
    what: &str,
    done: impl Fn(&Events) -> bool,
) -> Events {
    let mut seen = Vec::new();
    while !done(&seen) {
        match next(w).await {
            Some(r) => seen.extend(r.events),
            None => panic!("watch stream ended while waiting for {what}; saw {seen:?}"),
        }
    }
    seen
}

fn best_events(events: &Events) -> impl Iterator<Item = &pb::BestPathEvent> {
    events.iter().filter_map(|e| match &e.event {
        Some(pb::watch_event::Event::BestPath(b)) => Some(b),
        _ => None,
    })
}

fn peer_events(events: &Events) -> impl Iterator<Item = &pb::PeerEvent> {
    events.iter().filter_map(|e| match &e.event {
        Some(pb::watch_event::Event::Peer(p)) => Some(p),
        _ => None,
    })
}

/// An event as (kind, the best path's source peer, the multipath set's source peers).
type Seen = (Kind, String, Vec<String>);

/// The last event for `prefix`.
fn last_for(events: &Events, prefix: &str) -> Option<Seen> {
    let b = best_events(events).filter(|b| b.prefix == prefix).last()?;
    let mut mp: Vec<String> = b.multipath.iter().map(|p| p.source_peer.clone()).collect();
    mp.sort();
    let best = b
        .best
        .as_ref()
        .map(|p| p.source_peer.clone())
        .unwrap_or_default();
    Some((b.kind(), best, mp))
}

/// Reads until the last event for `prefix` is `want`.
async fn until_last(
    w: &mut Streaming<pb::WatchResponse>,
    prefix: &str,
    want: (Kind, &str, &[&str]),
) {
    let mp = want.2.iter().map(ToString::to_string).collect();
    let want = Some((want.0, want.1.to_string(), mp));
    until(w, &format!("{prefix}: {want:?}"), |e| {
        last_for(e, prefix) == want
    })
    .await;
}

/// A (multipath) with passive neighbours B (127.0.0.2, AS 65002), C (127.0.0.3, AS 65003).
async fn triangle() -> Node {
    let n = passive_neighbor("127.0.0.2", 65002, "") + &passive_neighbor("127.0.0.3", 65003, "");
    start(&format!(
        "{}{n}",
        global(65001, "10.0.0.1", "127.0.0.1:0", "multipath = true")
    ))
    .await
}

fn via(prefix: &str, asns: &[u32]) -> pb::Path {
    pb::Path {
        as_path: sequence(asns),
        ..path(prefix)
    }
}

const B: &str = "127.0.0.2";
const C: &str = "127.0.0.3";
const P: &str = "10.2.0.0/16";

#[tokio::test]
async fn watch_dumps_then_streams_path_and_peer_changes() {
    let mut a = triangle().await;
    add_path(&mut a.api, path("10.1.0.0/16")).await.unwrap();
    let mut w = watch(&mut a.client().await, true, true, true).await;
    let mut dump = Vec::new();
    loop {
        let r = next(&mut w).await.expect("the dump");
        dump.extend(r.events);
        if r.initial_dump_done {
            break;
        }
    }
    let api_path = (Kind::Added, String::new(), vec![String::new()]);
    assert_eq!(last_for(&dump, "10.1.0.0/16"), Some(api_path));
    assert_eq!(best_events(&dump).count(), 1);

    let mut b = remote(a.port(), B, 65002, "10.0.0.2").await;
    let mut c = remote(a.port(), C, 65003, "10.0.0.3").await;
    until(&mut w, "both sessions up", |e| {
        let up = |addr| peer_events(e).any(|p| p.address == addr && p.new_state == ESTABLISHED);
        up(B) && up(C)
    })
    .await;

    // B's path (AS path 65002 65020) is the only one.
    add_path(&mut b.api, via(P, &[65020])).await.unwrap();
    until_last(&mut w, P, (Kind::Added, B, &[B])).await;
    // C's shorter path wins.
    add_path(&mut c.api, via(P, &[])).await.unwrap();
    until_last(&mut w, P, (Kind::Replaced, C, &[C])).await;
    // B's path as short as C's: both equal for forwarding, B's (lower router id) best.
    add_path(&mut b.api, via(P, &[])).await.unwrap();
    until_last(&mut w, P, (Kind::Replaced, B, &[B, C])).await;
    delete_path(&mut b.api, P).await.unwrap();
    until_last(&mut w, P, (Kind::Replaced, C, &[C])).await;
    delete_path(&mut c.api, P).await.unwrap();
    until_last(&mut w, P, (Kind::Withdrawn, "", &[])).await;

    // C goes away: a peer event with its reason.
    c.stop().await;
    let events = until(&mut w, "C down", |e| peer_events(e).any(|p| p.address == C)).await;
    let down = peer_events(&events).find(|p| p.address == C).unwrap();
    assert_eq!(down.old_state, ESTABLISHED);
    assert!(down.reason.contains("test over"), "reason: {}", down.reason);
    b.stop().await;
    a.stop().await;
}

#[tokio::test]

async fn watch_reports_a_multipath_change_that_keeps_the_best() {
    let mut a = triangle().await;
    let mut b = remote(a.port(), B, 65002, "10.0.0.2").await;
    let mut c = remote(a.port(), C, 65003, "10.0.0.3").await;
    wait_session(&mut a.api, B, true).await;
    wait_session(&mut a.api, C, true).await;
    let mut w = watch(&mut a.client().await, false, true, false).await;
    add_path(&mut b.api, path(P)).await.unwrap();
    until_last(&mut w, P, (Kind::Added, B, &[B])).await;
    // C's equal path joins the multipath set; B's stays best. The FIB must learn of it,
    add_path(&mut c.api, path(P)).await.unwrap();
    until_last(&mut w, P, (Kind::Replaced, B, &[B, C])).await;
    // and of C leaving it.
    delete_path(&mut c.api, P).await.unwrap();
    until_last(&mut w, P, (Kind::Replaced, B, &[B])).await;
    c.stop().await;
    b.stop().await;
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_batches_reach_watchers_and_listings_in_responses_clients_accept() {
    let mut a = start(&global(65001, "10.0.0.1", "", "")).await;
    let mut w = watch(&mut a.client().await, false, true, false).await;
    // Each change carries 1,000 communities (about 10 kB as an event); the RIB announces
    // at least 1,000 changes at a time: more than the 4 MiB a client takes in a response.
    let communities: Vec<u32> = (0..1000).map(|i| (65001 << 16) | i).collect();
    let paths = many(3000, None).into_iter();
    let paths = paths.map(|p| pb::Path {
        communities: communities.clone(),
        ..p
    });
    let reader = tokio::spawn(async move {
        let mut n = 0;
        while n < 3000 {
            let r = next(&mut w).await.expect("stream open");
            assert!(!r.lagged, "a reading watcher lagged after {n} events");
            n += r.events.len();
        }
        n
    });
    assert_eq!(add_stream(&mut a.api, paths.collect()).await.unwrap(), 3000);
    assert_eq!(bounded("every change", reader).await.unwrap(), 3000);
    let (listed, batches) = list_batches(&mut a.api, pb::ListPathsRequest::default()).await;
    assert_eq!(listed.len(), 3000);
    assert!(batches > 3, "{batches} responses");
    assert_eq!(listed[0].communities, communities);
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_watcher_is_told_it_lagged_while_the_daemon_keeps_serving() {
    let mut a = start(&global(65001, "10.0.0.1", "", "")).await;
    let mut w = watch(
        &mut small_window_client(&a.socket).await,
        false,
        true,
        false,
    )
    .await;
    // 1,300 batches of 100 changes while the watcher reads nothing; GetGlobal stays quick.
    let mut slowest = Duration::ZERO;
    for round in 0..1300u32 {
        let prefix = |i| format!("10.{}.{i}.0/24", round % 200);
        let batch = (0..100).map(|i| pb::Path {
            med: Some(round),
            ..path(&prefix(i))
        });
        add_stream(&mut a.api, batch.collect()).await.unwrap();
        if round % 100 == 0 {
            let t = std::time::Instant::now();
            global_of(&mut a.api).await;
            slowest = slowest.max(t.elapsed());
        }
    }
    assert!(
        slowest < Duration::from_secs(1),
        "GetGlobal took {slowest:?} meanwhile"
    );
    let mut events = 0;
    loop {
        let r = next(&mut w).await.expect("a last response saying lagged");
        events += r.events.len();
        if r.lagged {
            break;
        }
        assert!(events <= 130_000, "never told it lagged");
    }
    assert!(
        events < 130_000,
        "{events} events before lagged: some were skipped"
    );
    assert!(next(&mut w).await.is_none(), "the stream ends after lagged");
    assert_eq!(global_of(&mut a.api).await.ipv4_prefixes, 20_000);
    a.stop().await;
}
