//! The Petrel BGP daemon: configuration, the session FSM, peer tasks, the RIB and the API.

pub mod api;
pub mod config;
pub mod control;
pub mod daemon;
pub mod fsm;
pub mod metrics;
pub mod peer;
pub mod policy;
pub mod restart;
pub mod rib;
