//! A strict reader over the value tree the `config` crate parses a TOML file into.
//!
//! Why not `serde` straight into structs: the `config` crate's deserializer converts between
//! types (it reads `asn = "65000"` as the number 65000 and `description = 5` as `"5"`), and
//! serde stops at the first error. Reading the tree by hand keeps TOML's types strict, names
//! the full key path of every problem (`neighbors[2].families[1]`) and collects all of them.
//!
//! A [`Table`] removes each key as it is read, so whatever is left when it is
//! [finished](Table::finish) is an unknown key.

use std::fmt::Display;
use std::str::FromStr;

use ::config::{Map, Value, ValueKind};

use super::error::{ConfigError, Problem};

/// The problems found so far in one file.
#[derive(Debug)]
pub(super) struct Problems {
    file: String,
    list: Vec<Problem>,
}

impl Problems {
    pub(super) fn new(file: &str) -> Self {
        Problems {
            file: file.to_owned(),
            list: Vec::new(),
        }
    }

    /// Records that `key` is wrong.
    pub(super) fn report(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.list.push(Problem::at_key(&self.file, key, message));
    }

    /// How many problems were reported so far; a section compares it before and after
    /// reading itself to know whether it is valid.
    pub(super) fn count(&self) -> usize {
        self.list.len()
    }

    /// `Ok(value)` if nothing was reported. `value` is `None` only when something was.
    pub(super) fn finish<T>(mut self, value: Option<T>) -> Result<T, ConfigError> {
        match value {
            Some(value) if self.list.is_empty() => Ok(value),
            _ => {
                if self.list.is_empty() {
                    // A section failed without saying why: a bug here, not in the file.
                    let problem = Problem::in_file(
                        &self.file,
                        "rejected without a reason (a bug in bgpd; please report it)",
                    );
                    self.list.push(problem);
                }
                Err(ConfigError::new(self.list))
            }
        }
    }
}

/// A value was present but wrong; the problem has been reported already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Reported;

/// What a read gives: `Ok(None)` when the key is absent, `Err(Reported)` when it is invalid.
pub(super) type Read<T> = Result<Option<T>, Reported>;

/// One TOML table being read.
#[derive(Debug)]
pub(super) struct Table {
    path: String,
    entries: Map<String, Value>,
    known: Vec<&'static str>,
}

impl Table {
    /// The file's top-level table.
    pub(super) fn root(entries: Map<String, Value>) -> Self {
        Table::at(String::new(), entries)
    }

    fn at(path: String, entries: Map<String, Value>) -> Self {
        Table {
            path,
            entries,
            known: Vec::new(),
        }
    }

    /// The full key path of `key` in this table, e.g. `neighbors[2].hold_time`.
    /// Keys that are not bare TOML keys are quoted, so a path is always one line.
    pub(super) fn key(&self, key: &str) -> String {
        let bare = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        let key = if bare {
            key.to_owned()
        } else {
            format!("{key:?}")
        };
        if self.path.is_empty() {
            key
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The path of this table itself, e.g. `neighbors[2]`.
    pub(super) fn path(&self) -> &str {
        &self.path
    }

    /// Reads `key` with `convert`, whose error is the message to report.
    pub(super) fn get<T>(
        &mut self,
        problems: &mut Problems,
        key: &'static str,
        convert: impl FnOnce(Value) -> Result<T, String>,
    ) -> Read<T> {
        self.known.push(key);
        let Some(value) = self.entries.remove(key) else {
            return Ok(None);
        };
        match convert(value) {
            Ok(v) => Ok(Some(v)),
            Err(message) => {
                problems.report(self.key(key), message);
                Err(Reported)
            }
        }
    }

    /// Reads a key that must be present; `expected` says what it must hold when it is not.
    pub(super) fn required<T>(
        &mut self,
        problems: &mut Problems,
        key: &'static str,
        expected: &str,
        convert: impl FnOnce(Value) -> Result<T, String>,
    ) -> Option<T> {
        match self.get(problems, key, convert) {
            Ok(Some(v)) => Some(v),
            Ok(None) => {
                problems.report(self.key(key), format!("missing; expected {expected}"));
                None
            }
            Err(Reported) => None,
        }
    }

    /// Reads a key that falls back to `default`; `None` only if the value is invalid.
    pub(super) fn or<T>(
        &mut self,
        problems: &mut Problems,
        key: &'static str,
        default: T,
        convert: impl FnOnce(Value) -> Result<T, String>,
    ) -> Option<T> {
        self.get(problems, key, convert)
            .map(|v| v.unwrap_or(default))
            .ok()
    }

    /// Reads an array whose elements are converted one by one; each bad element is reported
    /// at its own index (`key[i]`).
    pub(super) fn list<T>(
        &mut self,
        problems: &mut Problems,
        key: &'static str,
        expected: &str,
        mut convert: impl FnMut(Value) -> Result<T, String>,
    ) -> Read<Vec<T>> {
        let full = self.key(key);
        let Some(items) = self.get(problems, key, |v| array(v, expected))? else {
            return Ok(None);
        };
        let mut out = Vec::with_capacity(items.len());
        let mut bad = false;
        for (i, item) in items.into_iter().enumerate() {
            match convert(item) {
                Ok(v) => out.push(v),
                Err(message) => {
                    problems.report(format!("{full}[{i}]"), message);
                    bad = true;
                }
            }
        }
        if bad { Err(Reported) } else { Ok(Some(out)) }
    }

    /// Reads a sub-table (`[global]`).
    pub(super) fn table(&mut self, problems: &mut Problems, key: &'static str) -> Read<Table> {
        let path = self.key(key);
        let entries = self.get(problems, key, |v| match v.kind {
            ValueKind::Table(t) => Ok(t),
            other => Err(format!(
                "found {}; expected a table ([{key}] section)",
                describe(&other)
            )),
        })?;
        Ok(entries.map(|e| Table::at(path, e)))
    }

    /// Reads an array of tables (`[[neighbors]]`); elements that are not tables are reported.
    pub(super) fn tables(&mut self, problems: &mut Problems, key: &'static str) -> Vec<Table> {
        let expected = format!("an array of tables ([[{key}]] sections)");
        let path = self.key(key);
        let mut index = 0;
        let tables = self.list(problems, key, &expected, |v| {
            let at = format!("{path}[{index}]");
            index += 1;
            match v.kind {
                ValueKind::Table(t) => Ok(Table::at(at, t)),
                other => Err(format!("found {}; expected a table", describe(&other))),
            }
        });
        tables.ok().flatten().unwrap_or_default()
    }

    /// Reports every key that was not read as unknown, naming the keys that are allowed.
    pub(super) fn finish(self, problems: &mut Problems) {
        let mut unknown: Vec<String> = self.entries.keys().cloned().collect();
        // The `config` crate stores tables in a hash map; sort for a stable report.
        unknown.sort();
        for key in unknown {
            let mut message = String::from("unknown key");
            if let Some(close) = self.known.iter().find(|k| similar(k, &key)) {
                message.push_str(&format!(" (did you mean `{close}`?)"));
            }
            let place = if self.path.is_empty() {
                "at the top level".to_owned()
            } else {
                format!("in {}", self.path)
            };
            message.push_str(&format!("; allowed {place}: {}", self.known.join(", ")));
            let full = self.key(&key);
            problems.report(full, message);
        }
    }
}

/// True if `b` is `a` with a small typo: an edit distance of at most a third of the longer
/// word (and at least 2), case ignored.
fn similar(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    // Levenshtein distance with one row.
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()] <= (a.len().max(b.len()) / 3).max(2)
}

/// A short description of a value for "found ..." messages.
pub(super) fn describe(kind: &ValueKind) -> String {
    match kind {
        ValueKind::Nil => "nothing".to_owned(),
        ValueKind::Boolean(b) => format!("boolean {b}"),
        ValueKind::I64(n) => format!("integer {n}"),
        ValueKind::I128(n) => format!("integer {n}"),
        ValueKind::U64(n) => format!("integer {n}"),
        ValueKind::U128(n) => format!("integer {n}"),
        ValueKind::Float(x) => format!("float {x}"),
        ValueKind::String(s) => format!("string {s:?}"),
        ValueKind::Table(_) => "a table".to_owned(),
        ValueKind::Array(_) => "an array".to_owned(),
    }
}

fn mismatch(kind: &ValueKind, expected: &str) -> String {
    format!("found {}; expected {expected}", describe(kind))
}

/// A TOML boolean.
pub(super) fn boolean(v: Value) -> Result<bool, String> {
    match v.kind {
        ValueKind::Boolean(b) => Ok(b),
        other => Err(mismatch(&other, "true or false")),
    }
}

/// A TOML string.
pub(super) fn string(v: Value, expected: &str) -> Result<String, String> {
    match v.kind {
        ValueKind::String(s) => Ok(s),
        other => Err(mismatch(&other, expected)),
    }
}

/// A TOML array.
pub(super) fn array(v: Value, expected: &str) -> Result<Vec<Value>, String> {
    match v.kind {
        ValueKind::Array(a) => Ok(a),
        other => Err(mismatch(&other, expected)),
    }
}

/// A TOML integer that fits `T` and lies in `range`; `expected` describes the allowed values.
pub(super) fn integer<T>(
    v: Value,
    range: std::ops::RangeInclusive<T>,
    expected: &str,
) -> Result<T, String>
where
    T: TryFrom<i128> + PartialOrd + Display,
{
    let n: i128 = match v.kind {
        ValueKind::I64(n) => n.into(),
        ValueKind::I128(n) => n,
        ValueKind::U64(n) => n.into(),
        ValueKind::U128(n) => i128::try_from(n).unwrap_or(i128::MAX),
        other => return Err(mismatch(&other, expected)),
    };
    match T::try_from(n) {
        Ok(t) if range.contains(&t) => Ok(t),
        _ => Err(format!("{n} is out of range; expected {expected}")),
    }
}

/// A TOML string parsed with `FromStr`; `expected` names what it should be ("an IP address").
pub(super) fn parsed<T: FromStr>(v: Value, expected: &str) -> Result<T, String> {
    let s = string(v, expected)?;
    s.parse()
        .map_err(|_| format!("{s:?} is not valid; expected {expected}"))
}

/// A TOML string parsed with `FromStr` whose error message already says what is allowed.
pub(super) fn parsed_explained<T>(v: Value, expected: &str) -> Result<T, String>
where
    T: FromStr,
    T::Err: Display,
{
    string(v, expected)?
        .parse()
        .map_err(|e: T::Err| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(kind: impl Into<ValueKind>) -> Value {
        Value::new(None, kind)
    }

    #[test]
    fn integer_is_strict_about_type_and_range() {
        assert_eq!(integer::<u32>(value(5i64), 1..=10, "1..=10"), Ok(5));
        let err = integer::<u32>(value("5"), 1..=10, "1..=10").unwrap_err();
        assert_eq!(err, r#"found string "5"; expected 1..=10"#);
        let err = integer::<u32>(value(-1i64), 1..=10, "1..=10").unwrap_err();
        assert_eq!(err, "-1 is out of range; expected 1..=10");
        let err = integer::<u8>(value(300i64), 1..=255, "1..=255").unwrap_err();
        assert_eq!(err, "300 is out of range; expected 1..=255");
    }

    #[test]
    fn unknown_keys_are_reported_sorted_with_a_suggestion() {
        let mut entries = Map::new();
        entries.insert("holdtime".to_owned(), value(3i64));
        entries.insert("zzz".to_owned(), value(true));
        entries.insert("hold_time".to_owned(), value(3i64));
        let mut table = Table::at("neighbors[0]".to_owned(), entries);
        let mut problems = Problems::new("f.toml");
        let hold = table.or(&mut problems, "hold_time", 90, |v| {
            integer(v, 0..=65535, "seconds")
        });
        assert_eq!(hold, Some(3));
        table.finish(&mut problems);
        let err = problems.finish(Some(())).unwrap_err();
        let lines: Vec<String> = err.errors().iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "f.toml: neighbors[0].holdtime: unknown key (did you mean `hold_time`?); \
                 allowed in neighbors[0]: hold_time",
                "f.toml: neighbors[0].zzz: unknown key; allowed in neighbors[0]: hold_time",
            ]
        );
    }

    #[test]
    fn similar_catches_small_typos_only() {
        assert!(similar("hold_time", "holdtime"));
        assert!(similar("peer_asn", "peer-asn"));
        assert!(similar("families", "Familys"));
        assert!(similar("communities", "community"));
        assert!(!similar("asn", "router_id"));
        assert!(!similar("asn", "med"));
        assert!(!similar("port", "passive"));
    }
}
