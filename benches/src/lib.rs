//! End-to-end benchmark harness for Petrel's bgpd (issue 6).
//!
//! - [`scenario`]: the scenarios S1–S6 and the [`scenario::Plan`] of one run.
//! - [`encode`]: the injector's UPDATEs, pre-encoded with `bgp_proto::update::pack`.
//! - [`monitor`]: counts and checks every prefix a peer receives, with timestamps.
//! - [`session`] and [`peers`]: the peers process, every session of a plan in one runtime.
//! - [`daemons`], [`runner`] and [`report`]: equivalent configs for bgpd, BIRD, FRR and
//!   GoBGP, one run per scenario and daemon in network namespaces, and the table.
//!
//! The binary is `petrel-bench`; `scripts/bench.sh` builds and runs it. See
//! `docs/performance.md`.

pub mod daemons;
pub mod encode;
pub mod monitor;
pub mod peers;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod session;
