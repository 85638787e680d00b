//! fib-adapter: follows bgpd's best paths over its gRPC API and programs them into a
//! kernel routing table with rtnetlink (IPv4 and IPv6, ECMP as multipath routes), and
//! announces connected prefixes and kernel routes back into bgpd.
//!
//! ```text
//!  bgpd ──Watch stream──▶ bgpd::Watcher ──FibMsg──▶ fib::Fib ──rtnetlink──▶ kernel table N
//!   ▲                          │ sessions                ▲ Recheck
//!   └──AddPath/DeletePath── redistribute::Redistributor ◀┴── netlink monitor (links, addresses)
//! ```
//!
//! See `docs/fib-adapter.md` for usage, configuration and behaviour on restarts.

pub mod batch;
pub mod bgpd;
pub mod config;
pub mod fib;
pub mod metrics;
pub mod netlink;
pub mod redistribute;
pub mod route;
