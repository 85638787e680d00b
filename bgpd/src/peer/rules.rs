//! The capabilities a neighbour's session rules add to our OPEN.

use bgp_proto::capability::{AddPathFamily, Capability};

use crate::config::SessionRules;

/// BGP Role (RFC 9234) and ADD-PATH (RFC 7911), as configured.
pub(super) fn capabilities(rules: &SessionRules) -> Vec<Capability> {
    let mut caps = Vec::new();
    if let Some(role) = rules.role {
        caps.push(Capability::Role(role));
    }
    if !rules.add_path.is_empty() {
        caps.push(Capability::AddPath(
            rules
                .add_path
                .iter()
                .map(|a| AddPathFamily {
                    family: a.family,
                    mode: a.mode,
                })
                .collect(),
        ));
    }
    caps
}
