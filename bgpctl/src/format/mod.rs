//! Output: aligned tables for people (`-o table`, the default) and JSON for scripts.

pub(crate) mod human;
pub(crate) mod json;
pub(crate) mod names;
pub(crate) mod rules;
pub(crate) mod session;
pub(crate) mod table;

#[cfg(test)]
mod fixtures;
