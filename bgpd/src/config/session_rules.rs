//! Per-neighbour session rules: local-as, remove-private-as, allowas-in, AS override,
//! the BGP role (RFC 9234), maximum prefixes and ADD-PATH (RFC 7911).
//!
//! Read from the `[[neighbors]]` entry by [`read`]; every bad value is reported with its
//! key path like the rest of the file.

use std::time::Duration;

use ::config::Value;
use bgp_proto::Family;
use bgp_proto::capability::{AddPathMode, Role};

use super::KNOWN_FAMILIES;
use super::reader::{Problems, Table, boolean, integer, string};

/// `neighbors[].local_as`: the AS this router shows the neighbour instead of `global.asn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalAs {
    /// The AS in our OPEN and the first AS of the AS_PATH the neighbour receives.
    pub asn: u32,
    /// Routes learned from the neighbour do not get `asn` prepended (FRR `no-prepend`,
    /// Junos `local-as private`).
    pub no_prepend: bool,
    /// Routes sent to the neighbour carry only `asn`, not `global.asn` (FRR `replace-as`,
    /// Junos `no-prepend-global-as`).
    pub replace_as: bool,
}

/// `neighbors[].remove_private_as`: what happens to private AS numbers (RFC 6996:
/// 64512–65534 and 4200000000–4294967294) in the AS_PATH sent to the neighbour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemovePrivateAs {
    /// `"all"`: every private AS number is removed.
    All,
    /// `"replace"`: every private AS number is replaced with our AS.
    Replace,
}

/// One `[[neighbors.max_prefix]]` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxPrefix {
    /// The family whose accepted prefixes are counted.
    pub family: Family,
    /// More accepted paths than this tear the session down (Cease, subcode 1).
    pub limit: u32,
    /// A warning is logged and shown once the count reaches this percentage of `limit`.
    pub warning_percent: u8,
    /// Bring the session back after this long; `None`: stay down until reset or enabled.
    pub restart_after: Option<Duration>,
}

impl MaxPrefix {
    /// The count at which the warning fires (at least 1).
    pub fn warning_at(&self) -> u64 {
        (u64::from(self.limit) * u64::from(self.warning_percent))
            .div_ceil(100)
            .max(1)
    }
}

/// One `[[neighbors.add_path]]` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddPath {
    /// The family.
    pub family: Family,
    /// Receive several paths, send several paths, or both.
    pub mode: AddPathMode,
    /// With sending: the best N paths per prefix; `None` sends every path.
    pub send_max: Option<u32>,
}

/// Every session rule of one neighbour; the default has none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionRules {
    /// `local_as`, with `local_as_no_prepend` and `local_as_replace_as`.
    pub local_as: Option<LocalAs>,
    /// `remove_private_as`.
    pub remove_private_as: Option<RemovePrivateAs>,
    /// `allowas_in`: routes with our AS up to this many times are accepted (0: none).
    pub allowas_in: u8,
    /// `as_override`: the neighbour's AS in the AS_PATH we send is replaced with ours.
    pub as_override: bool,
    /// `role`: our BGP role on this session (RFC 9234).
    pub role: Option<Role>,
    /// `role_strict`: refuse a session whose peer announces no role.
    pub role_strict: bool,
    /// `[[neighbors.max_prefix]]`, at most one per family.
    pub max_prefix: Vec<MaxPrefix>,
    /// `[[neighbors.add_path]]`, at most one per family.
    pub add_path: Vec<AddPath>,
}

impl SessionRules {
    /// The prefix limit of `family`, if any.
    pub fn max_prefix(&self, family: Family) -> Option<&MaxPrefix> {
        self.max_prefix.iter().find(|m| m.family == family)
    }

    /// The ADD-PATH setting of `family`, if any.
    pub fn add_path(&self, family: Family) -> Option<&AddPath> {
        self.add_path.iter().find(|a| a.family == family)
    }
}

/// Role names as written in the file, as FRR spells them.
pub const ROLE_NAMES: [(&str, Role); 5] = [
    ("provider", Role::Provider),
    ("customer", Role::Customer),
    ("rs", Role::RouteServer),
    ("rs-client", Role::RouteServerClient),
    ("peer", Role::Peer),
];

const ASN: &str = "an AS number 1..=4294967295 other than 23456 (AS_TRANS)";

/// What [`read`] needs to know about the rest of the neighbour entry (`None` where that
/// part was itself wrong, so that no follow-up problem is reported).
#[derive(Debug, Clone, Copy)]
pub(super) struct Context<'a> {
    pub(super) local_asn: Option<u32>,
    pub(super) peer_asn: Option<u32>,
    pub(super) families: Option<&'a [Family]>,
}

/// Reads the session-rule keys of one `[[neighbors]]` entry; `None` if one was wrong.
pub(super) fn read(t: &mut Table, p: &mut Problems, cx: Context<'_>) -> Option<SessionRules> {
    let reported = p.count();
    let ibgp = match (cx.local_asn, cx.peer_asn) {
        (Some(l), Some(r)) => Some(l == r),
        _ => None,
    };
    let ebgp_only = |t: &Table, p: &mut Problems, key: &str| {
        if ibgp == Some(true) {
            p.report(
                t.key(key),
                "is only for eBGP neighbors, and this one is iBGP (peer_asn equals global.asn); \
                 remove the key",
            );
        }
    };

    let local_as = t.get(p, "local_as", asn);
    if let Ok(Some(asn)) = local_as {
        ebgp_only(t, p, "local_as");
        if cx.local_asn == Some(asn) {
            p.report(
                t.key("local_as"),
                format!("{asn} is global.asn already; expected another AS or no local_as key"),
            );
        } else if cx.peer_asn == Some(asn) {
            p.report(
                t.key("local_as"),
                format!(
                    "{asn} is the neighbor's own AS (peer_asn); expected an AS other than \
                     peer_asn"
                ),
            );
        }
    }
    let no_prepend = t.or(p, "local_as_no_prepend", false, boolean);
    let replace_as = t.or(p, "local_as_replace_as", false, boolean);
    for (key, value) in [
        ("local_as_no_prepend", no_prepend),
        ("local_as_replace_as", replace_as),
    ] {
        if value == Some(true) && matches!(local_as, Ok(None)) {
            p.report(
                t.key(key),
                "needs local_as; expected a local_as key or no such key",
            );
        }
    }

    let remove_private_as = t.get(p, "remove_private_as", |v| {
        const EXPECTED: &str = "\"all\" (remove them) or \"replace\" (replace them with our AS)";
        match string(v, EXPECTED)?.as_str() {
            "all" => Ok(RemovePrivateAs::All),
            "replace" => Ok(RemovePrivateAs::Replace),
            other => Err(format!("{other:?} is not allowed; expected {EXPECTED}")),
        }
    });
    if let Ok(Some(_)) = remove_private_as {
        ebgp_only(t, p, "remove_private_as");
    }
    let allowas_in = t.or(p, "allowas_in", 0u8, |v| {
        integer(v, 0..=10, "how many times our AS may appear, 0..=10")
    });
    let as_override = t.or(p, "as_override", false, boolean);
    if as_override == Some(true) {
        ebgp_only(t, p, "as_override");
    }
    let role = t.get(p, "role", |v| {
        let expected = format!(
            "one of {}",
            ROLE_NAMES
                .iter()
                .map(|(n, _)| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let s = string(v, &expected)?;
        ROLE_NAMES
            .iter()
            .find(|(n, _)| *n == s)
            .map(|(_, r)| *r)
            .ok_or_else(|| format!("{s:?} is not a BGP role; expected {expected}"))
    });
    if let Ok(Some(_)) = role {
        ebgp_only(t, p, "role");
    }
    let role_strict = t.or(p, "role_strict", false, boolean);
    if role_strict == Some(true) && matches!(role, Ok(None)) {
        p.report(
            t.key("role_strict"),
            "needs a role; expected a role key or role_strict = false",
        );
    }

    let max_prefix: Vec<Option<MaxPrefix>> = {
        let mut seen = Vec::new();
        t.tables(p, "max_prefix")
            .into_iter()
            .map(|sub| max_prefix(sub, p, cx.families, &mut seen))
            .collect()
    };
    let add_path: Vec<Option<AddPath>> = {
        let mut seen = Vec::new();
        t.tables(p, "add_path")
            .into_iter()
            .map(|sub| add_path(sub, p, cx.families, &mut seen))
            .collect()
    };
    if p.count() > reported {
        return None;
    }
    Some(SessionRules {
        local_as: local_as.ok()?.map(|asn| LocalAs {
            asn,
            no_prepend: no_prepend.unwrap_or(false),
            replace_as: replace_as.unwrap_or(false),
        }),
        remove_private_as: remove_private_as.ok()?,
        allowas_in: allowas_in?,
        as_override: as_override?,
        role: role.ok()?,
        role_strict: role_strict?,
        max_prefix: max_prefix.into_iter().collect::<Option<_>>()?,
        add_path: add_path.into_iter().collect::<Option<_>>()?,
    })
}

/// The `family` key of a per-family entry: known, configured on the neighbour, and not
/// used by an earlier entry of the same list.
fn entry_family(
    t: &mut Table,
    p: &mut Problems,
    families: Option<&[Family]>,
    seen: &mut Vec<Family>,
) -> Option<Family> {
    let names = KNOWN_FAMILIES
        .iter()
        .map(|(n, _)| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let family = t.required(p, "family", &format!("one of {names}"), |v| {
        let s = string(v, "a family name such as \"ipv4-unicast\"")?;
        KNOWN_FAMILIES
            .iter()
            .find(|(n, _)| *n == s)
            .map(|(_, f)| *f)
            .ok_or_else(|| format!("{s:?} is not a known family; expected one of {names}"))
    })?;
    if let Some(families) = families
        && !families.contains(&family)
    {
        p.report(
            t.key("family"),
            format!(
                "{family} is not in this neighbor's families; expected one of {}",
                crate::peer::family_list(families)
            ),
        );
        return None;
    }
    if seen.contains(&family) {
        p.report(
            t.key("family"),
            format!("{family} has an entry already; expected one entry per family"),
        );
        return None;
    }
    seen.push(family);
    Some(family)
}

fn max_prefix(
    mut t: Table,
    p: &mut Problems,
    families: Option<&[Family]>,
    seen: &mut Vec<Family>,
) -> Option<MaxPrefix> {
    let reported = p.count();
    let family = entry_family(&mut t, p, families, seen);
    let limit = t.required(p, "limit", "a number of prefixes 1..=4294967295", |v| {
        integer(v, 1..=u32::MAX, "a number of prefixes 1..=4294967295")
    });
    let warning_percent = t.or(p, "warning_percent", 75u8, |v| {
        integer(v, 1..=100, "a percentage of limit 1..=100")
    });
    let restart_after = t.get(p, "restart_after", |v| {
        integer::<u16>(v, 1..=65535, "a number of seconds 1..=65535")
            .map(|s| Duration::from_secs(s.into()))
    });
    t.finish(p);
    if p.count() > reported {
        return None;
    }
    Some(MaxPrefix {
        family: family?,
        limit: limit?,
        warning_percent: warning_percent?,
        restart_after: restart_after.ok()?,
    })
}

fn add_path(
    mut t: Table,
    p: &mut Problems,
    families: Option<&[Family]>,
    seen: &mut Vec<Family>,
) -> Option<AddPath> {
    let reported = p.count();
    let family = entry_family(&mut t, p, families, seen);
    const MODES: &str = "\"receive\", \"send\" or \"both\"";
    let mode = t.required(p, "mode", MODES, |v| match string(v, MODES)?.as_str() {
        "receive" => Ok(AddPathMode::Receive),
        "send" => Ok(AddPathMode::Send),
        "both" => Ok(AddPathMode::Both),
        other => Err(format!("{other:?} is not allowed; expected {MODES}")),
    });
    let send_max = t.get(p, "send_max", |v: Value| {
        integer(v, 1..=1024, "a number of paths per prefix 1..=1024")
    });
    if let (Some(AddPathMode::Receive), Ok(Some(_))) = (mode, send_max) {
        p.report(
            t.key("send_max"),
            "is only for sending, and mode is \"receive\"; expected mode \"send\" or \"both\", \
             or no send_max key",
        );
    }
    t.finish(p);
    if p.count() > reported {
        return None;
    }
    Some(AddPath {
        family: family?,
        mode: mode?,
        send_max: send_max.ok()?,
    })
}

fn asn(v: Value) -> Result<u32, String> {
    match integer::<u32>(v, 1..=u32::MAX, ASN)? {
        23456 => Err(format!("23456 is AS_TRANS; expected {ASN}")),
        asn => Ok(asn),
    }
}
