//! Watch events as the API shows them.

use bgp_api::bgpd::v1 as pb;

use super::convert;
use crate::control::PeerEvent;
use crate::rib::query::{BestPathChange, PathView};

pub(crate) fn best_path_event(c: &BestPathChange) -> pb::WatchEvent {
    let kind = match (&c.best, c.had_best) {
        (None, _) => pb::best_path_event::Kind::Withdrawn,
        (Some(_), true) => pb::best_path_event::Kind::Replaced,
        (Some(_), false) => pb::best_path_event::Kind::Added,
    };
    pb::WatchEvent {
        event: Some(pb::watch_event::Event::BestPath(pb::BestPathEvent {
            kind: kind as i32,
            prefix: c.prefix.to_string(),
            best: c.best.as_ref().map(convert::path),
            multipath: c.multipath.iter().map(convert::path).collect(),
        })),
    }
}

/// The initial-dump event of one prefix, from all its paths.
pub(crate) fn dumped(paths: &[PathView]) -> Option<pb::WatchEvent> {
    let best = paths.iter().find(|p| p.best)?;
    Some(pb::WatchEvent {
        event: Some(pb::watch_event::Event::BestPath(pb::BestPathEvent {
            kind: pb::best_path_event::Kind::Added as i32,
            prefix: best.prefix.to_string(),
            best: Some(convert::path(best)),
            multipath: paths
                .iter()
                .filter(|p| p.multipath)
                .map(convert::path)
                .collect(),
        })),
    })
}

/// About the encoded size of an event in bytes.
pub(crate) fn event_size(e: &pb::WatchEvent) -> usize {
    match &e.event {
        Some(pb::watch_event::Event::BestPath(b)) => {
            16 + b.prefix.len()
                + b.best.as_ref().map_or(0, convert::path_size)
                + b.multipath.iter().map(convert::path_size).sum::<usize>()
        }
        Some(pb::watch_event::Event::Peer(p)) => 16 + p.address.len() + p.reason.len(),
        None => 2,
    }
}

pub(crate) fn peer_event(e: &PeerEvent) -> pb::WatchEvent {
    pb::WatchEvent {
        event: Some(pb::watch_event::Event::Peer(pb::PeerEvent {
            address: e.address.to_string(),
            old_state: convert::session_state(e.old),
            new_state: convert::session_state(e.new),
            reason: e.reason.clone().unwrap_or_default(),
        })),
    }
}
