//! Names of the API's enums as bgpctl prints them, in tables and JSON alike.

use bgp_api::bgpd::v1::{Family, Origin, SessionState, Table, best_path_event};

/// `ipv4-unicast`, as bgpd's configuration names families.
pub(crate) fn family(f: i32) -> &'static str {
    match Family::try_from(f) {
        Ok(Family::Ipv4Unicast) => "ipv4-unicast",
        Ok(Family::Ipv6Unicast) => "ipv6-unicast",
        _ => "unknown",
    }
}

/// `igp`, `egp`, `incomplete`.
pub(crate) fn origin(o: i32) -> &'static str {
    match Origin::try_from(o) {
        Ok(Origin::Igp) => "igp",
        Ok(Origin::Egp) => "egp",
        Ok(Origin::Incomplete) => "incomplete",
        Err(_) => "unknown",
    }
}

/// The one-letter origin of route tables: `i`, `e`, `?`.
pub(crate) fn origin_letter(o: i32) -> &'static str {
    match Origin::try_from(o) {
        Ok(Origin::Igp) => "i",
        Ok(Origin::Egp) => "e",
        Ok(Origin::Incomplete) => "?",
        Err(_) => "-",
    }
}

/// The FSM state as RFC 4271 names it: `Idle`, `OpenSent`, `Established`.
pub(crate) fn state(s: i32) -> &'static str {
    match SessionState::try_from(s) {
        Ok(SessionState::Idle) => "Idle",
        Ok(SessionState::Connect) => "Connect",
        Ok(SessionState::Active) => "Active",
        Ok(SessionState::OpenSent) => "OpenSent",
        Ok(SessionState::OpenConfirm) => "OpenConfirm",
        Ok(SessionState::Established) => "Established",
        Ok(SessionState::Unspecified) | Err(_) => "Unknown",
    }
}

/// The FSM state for JSON: `idle`, `open_sent`, `established`.
pub(crate) fn state_json(s: i32) -> &'static str {
    match SessionState::try_from(s) {
        Ok(SessionState::Idle) => "idle",
        Ok(SessionState::Connect) => "connect",
        Ok(SessionState::Active) => "active",
        Ok(SessionState::OpenSent) => "open_sent",
        Ok(SessionState::OpenConfirm) => "open_confirm",
        Ok(SessionState::Established) => "established",
        Ok(SessionState::Unspecified) | Err(_) => "unknown",
    }
}

/// `loc`, `in`, `out`, as `--table` spells them.
pub(crate) fn table(t: i32) -> &'static str {
    match Table::try_from(t) {
        Ok(Table::Loc) => "loc",
        Ok(Table::AdjIn) => "in",
        Ok(Table::AdjOut) => "out",
        Err(_) => "unknown",
    }
}

/// `added`, `replaced`, `withdrawn`.
pub(crate) fn best_path_kind(k: i32) -> &'static str {
    match best_path_event::Kind::try_from(k) {
        Ok(best_path_event::Kind::Added) => "added",
        Ok(best_path_event::Kind::Replaced) => "replaced",
        Ok(best_path_event::Kind::Withdrawn) => "withdrawn",
        Err(_) => "unknown",
    }
}

/// A duration as routers print uptimes: `00:05:12` below a day, `1d02h03m` from a day on.
pub(crate) fn uptime(seconds: u64) -> String {
    let (d, h, m, s) = (
        seconds / 86_400,
        seconds / 3600 % 24,
        seconds / 60 % 60,
        seconds % 60,
    );
    if d == 0 {
        format!("{h:02}:{m:02}:{s:02}")
    } else {
        format!("{d}d{h:02}h{m:02}m")
    }
}

/// A UNIX time as RFC 3339 UTC, to the second: `2025-03-01T12:00:05Z`.
pub(crate) fn rfc3339(unix_seconds: u64) -> String {
    let days = unix_seconds / 86_400;
    let secs = unix_seconds % 86_400;
    // Howard Hinnant's civil_from_days, for days since 1970-01-01 (never negative here).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptimes() {
        assert_eq!(uptime(0), "00:00:00");
        assert_eq!(uptime(312), "00:05:12");
        assert_eq!(uptime(86_399), "23:59:59");
        assert_eq!(uptime(86_400), "1d00h00m");
        assert_eq!(uptime(93_784), "1d02h03m");
        assert_eq!(uptime(400 * 86_400 + 59), "400d00h00m");
    }

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_740_830_405), "2025-03-01T12:00:05Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn enum_names() {
        assert_eq!(state(SessionState::OpenConfirm as i32), "OpenConfirm");
        assert_eq!(state_json(SessionState::OpenConfirm as i32), "open_confirm");
        assert_eq!(state(99), "Unknown");
        assert_eq!(family(Family::Ipv6Unicast as i32), "ipv6-unicast");
        assert_eq!(origin_letter(Origin::Incomplete as i32), "?");
        assert_eq!(table(Table::AdjOut as i32), "out");
    }
}
