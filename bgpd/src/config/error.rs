//! The error a rejected configuration produces: every problem found in the file, each
//! naming the file, where in it, what is wrong and what is allowed instead.

use std::fmt;

/// Where in a configuration file a [`Problem`] is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Location {
    /// The file as a whole (it could not be read).
    File,
    /// A position in the text (a TOML syntax error); line and column count from 1.
    Position {
        /// Line, from 1.
        line: usize,
        /// Column, from 1.
        column: usize,
    },
    /// A key path such as `neighbors[2].hold_time` (array indexes count from 0).
    Key(String),
}

/// One thing wrong with a configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Problem {
    file: String,
    location: Location,
    message: String,
}

impl Problem {
    /// A problem at a key path such as `neighbors[2].hold_time`.
    pub fn at_key(file: &str, key: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            file: file.to_owned(),
            location: Location::Key(key.into()),
            message: message.into(),
        }
    }

    /// A problem at a line and column of the text (both counted from 1).
    pub fn at_position(file: &str, line: usize, column: usize, message: impl Into<String>) -> Self {
        Problem {
            file: file.to_owned(),
            location: Location::Position { line, column },
            message: message.into(),
        }
    }

    /// A problem with the file as a whole.
    pub fn in_file(file: &str, message: impl Into<String>) -> Self {
        Problem {
            file: file.to_owned(),
            location: Location::File,
            message: message.into(),
        }
    }

    /// The file name as given to [`load`](super::load) or [`from_str`](super::from_str).
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Where in the file the problem is.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The key path, if the problem is at a key.
    pub fn key(&self) -> Option<&str> {
        match &self.location {
            Location::Key(key) => Some(key),
            _ => None,
        }
    }

    /// What is wrong and what is allowed instead, without file or key.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// `FILE: KEY: message`, `FILE:LINE:COLUMN: message` or `FILE: message`.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Location::File => write!(f, "{}: {}", self.file, self.message),
            Location::Position { line, column } => {
                write!(f, "{}:{line}:{column}: {}", self.file, self.message)
            }
            Location::Key(key) => write!(f, "{}: {key}: {}", self.file, self.message),
        }
    }
}

/// A configuration was rejected. Holds every problem found (at least one); `Display` prints
/// one problem per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", Lines(.problems))]
pub struct ConfigError {
    problems: Vec<Problem>,
}

impl ConfigError {
    /// Wraps a list of problems; it should not be empty.
    pub fn new(problems: Vec<Problem>) -> Self {
        debug_assert!(!problems.is_empty(), "a ConfigError without a problem");
        ConfigError { problems }
    }

    /// Every problem found, in the order of the file (global, then neighbors, then originate).
    pub fn errors(&self) -> &[Problem] {
        &self.problems
    }
}

struct Lines<'a>(&'a [Problem]);

impl fmt::Display for Lines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_puts_each_problem_on_its_own_line() {
        let err = ConfigError::new(vec![
            Problem::at_key("a.toml", "global.asn", "missing"),
            Problem::at_position("a.toml", 3, 7, "bad"),
            Problem::in_file("a.toml", "cannot read"),
        ]);
        assert_eq!(
            err.to_string(),
            "a.toml: global.asn: missing\na.toml:3:7: bad\na.toml: cannot read"
        );
        assert_eq!(err.errors().len(), 3);
        assert_eq!(err.errors()[0].key(), Some("global.asn"));
        assert_eq!(err.errors()[1].key(), None);
    }
}
