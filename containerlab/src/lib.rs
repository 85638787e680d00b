//! Builds containerlab topologies from network namespaces and veth pairs and runs the
//! routers of each node in them, so that interop tests and demos run without Docker.
//!
//! The same topology file (`*.clab.yml`) runs under containerlab, where each node is a
//! container of its `image:`. Here each node is a network namespace; its image only selects
//! which daemon to start (see [`Software`]), and its `binds:` say where its configuration
//! is. See `containerlab/README.md` for the mapping.
//!
//! ```no_run
//! use std::time::Duration;
//! use petrel_lab::{Lab, LabOptions};
//!
//! let lab = Lab::up("containerlab/smoke/smoke.clab.yml", LabOptions::default())?;
//! lab.wait_for(Duration::from_secs(30), "BIRD's session to FRR", || {
//!     lab.birdc("bird", "show protocols frr_v4")
//!         .is_ok_and(|out| out.contains("Established"))
//! })?;
//! lab.down()?;
//! # Ok::<(), petrel_lab::LabError>(())
//! ```

mod daemon;
mod error;
mod lab;
mod sys;
mod topology;

pub use error::LabError;
pub use lab::{Lab, LabOptions, wait_for};
pub use topology::{Bind, Endpoint, Link, Node, Software, Topology};

/// Removes namespaces and directories left by earlier runs whose process is gone; returns a
/// line per thing removed. [`Lab::up`] does this too.
pub fn clean_stale() -> Vec<String> {
    sys::clean_stale()
}

/// The prefix of every namespace and temporary directory the runner creates
/// (`plab-<pid>-<n>`).
pub const NAME_PREFIX: &str = sys::PREFIX;
