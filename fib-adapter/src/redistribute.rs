//! Redistribution into bgpd: connected prefixes of named interfaces and routes of given
//! kernel tables/protocols, originated with `AddPath` and withdrawn with `DeletePath`.
//!
//! The task scans the kernel every scan interval and when interfaces or addresses change,
//! and compares the result with what it has announced. At every new watch stream (bgpd
//! may have restarted and forgotten paths added through the API) it announces everything
//! again.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use bgp_api::bgpd::v1 as pb;
use bgp_api::bgpd::v1::bgpd_client::BgpdClient;
use ipnet::IpNet;
use tokio::sync::{Notify, watch};
use tonic::Code;
use tonic::transport::Channel;
use tracing::{debug, info, warn};

use crate::bgpd::connect;
use crate::config::Redistribute;
use crate::metrics::Metrics;
use crate::netlink::{Kernel, NetlinkError};

/// Announces kernel state into bgpd.
#[derive(Debug)]
pub struct Redistributor {
    /// bgpd's API address.
    pub api: String,
    /// The kernel to scan.
    pub kernel: Kernel,
    /// What to announce.
    pub config: Redistribute,
    /// How often to scan without being told.
    pub interval: Duration,
    /// Watch-stream generations from the [`Watcher`](crate::bgpd::Watcher).
    pub sessions: watch::Receiver<u64>,
    /// Woken when interfaces or addresses change.
    pub trigger: Arc<Notify>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
}

impl Redistributor {
    /// What the configuration asks to announce, as the kernel shows it now.
    pub async fn scan(&self) -> Result<BTreeSet<IpNet>, NetlinkError> {
        let mut want = self.kernel.connected(&self.config.connected).await?;
        for k in &self.config.kernel {
            want.extend(self.kernel.table_prefixes(k.table, k.protocol).await?);
        }
        Ok(want)
    }

    /// Runs until the watcher is gone.
    pub async fn run(mut self) {
        let mut announced: BTreeSet<IpNet> = BTreeSet::new();
        let mut pushed_for = 0;
        let mut client: Option<BgpdClient<Channel>> = None;
        let mut tick = tokio::time::interval(self.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                changed = self.sessions.changed() => if changed.is_err() { return },
                () = self.trigger.notified() => {}
                _ = tick.tick() => {}
            }
            let generation = *self.sessions.borrow_and_update();
            if generation == 0 {
                continue;
            }
            if generation != pushed_for {
                // A new stream: bgpd may have restarted without the paths we added.
                announced.clear();
                client = None;
                pushed_for = generation;
            }
            let want = match self.scan().await {
                Ok(w) => w,
                Err(e) => {
                    warn!(error = %e, "cannot scan the kernel for redistribution");
                    continue;
                }
            };
            let c = match client.as_mut() {
                Some(c) => c,
                None => match connect(&self.api).await {
                    Ok(c) => client.insert(c),
                    Err(e) => {
                        debug!(error = %e, "cannot reach bgpd to redistribute");
                        continue;
                    }
                },
            };
            if let Err(e) = sync(c, &want, &mut announced).await {
                warn!(error = %e.message(), "announcing into bgpd failed; trying again");
                client = None;
            }
            self.metrics.redistributed.set(announced.len() as i64);
        }
    }
}

/// Adds what is wanted and not announced, deletes what is announced and no longer wanted.
async fn sync(
    client: &mut BgpdClient<Channel>,
    want: &BTreeSet<IpNet>,
    announced: &mut BTreeSet<IpNet>,
) -> Result<(), tonic::Status> {
    for p in want.difference(&announced.clone()) {
        client
            .add_path(pb::AddPathRequest {
                path: Some(pb::Path {
                    prefix: p.to_string(),
                    origin: pb::Origin::Incomplete as i32,
                    ..pb::Path::default()
                }),
            })
            .await?;
        info!(prefix = %p, "announced into bgpd");
        announced.insert(*p);
    }
    for p in announced.clone().difference(want) {
        match client
            .delete_path(pb::DeletePathRequest {
                prefix: p.to_string(),
            })
            .await
        {
            Ok(_) => info!(prefix = %p, "withdrawn from bgpd"),
            Err(s) if s.code() == Code::NotFound => {}
            Err(s) => return Err(s),
        }
        announced.remove(p);
    }
    Ok(())
}
