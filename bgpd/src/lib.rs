//! The Petrel BGP daemon: configuration, the session FSM, peer tasks, the RIB and the API.

pub mod config;
pub mod daemon;
pub mod fsm;
pub mod peer;
pub mod rib;
