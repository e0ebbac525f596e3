//! Errors: one [`ParseError`] per bad token, all of a file's errors in [`ParseErrors`], and
//! [`LoadError`] for reading a file.

use std::fmt;
use std::path::PathBuf;

use crate::{Protocol, MAX_APPLICATIONS, MAX_NAME_LEN};

/// Longest token (in characters) that an error message quotes in full; longer ones are cut with `...`.
const MAX_QUOTED_CHARS: usize = 64;

/// What the parser expected where it found the offending token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expected {
    /// A `port/protocol` field after the name (the field is missing or has no `/`).
    PortProtocol,
    /// A decimal port number 0-65535 before the `/`.
    PortNumber,
    /// The protocol `tcp` or `udp` after the `/`.
    Protocol,
    /// A name or alias made of letters, digits, `-`, `_`, `.`, `+`, starting with a letter or digit.
    NameCharacters,
    /// A name or alias of 1 to [`MAX_NAME_LEN`] characters.
    NameLength,
    /// A name or alias that is not only digits (it would read as a port number).
    NotOnlyDigits,
    /// A name or alias other than the reserved `OTHER`.
    NotReserved,
    /// `tos-N` with N a decimal number 0-255.
    TosValue,
    /// `weight-N` with N a decimal number 1-1000.
    WeightValue,
    /// At most one `tos-N` on a line.
    SingleTos,
    /// At most one `weight-N` on a line.
    SingleWeight,
    /// An alias that differs from the line's name and its other aliases.
    DistinctAlias,
    /// A name or alias not yet used by another entry of the same protocol.
    UnusedName {
        /// The protocol of both entries.
        protocol: Protocol,
        /// The (primary) name of the earlier entry that already uses the name.
        owner: String,
        /// The 1-based line of the earlier entry.
        line: usize,
    },
    /// A port not yet used by another entry of the same protocol.
    UnusedPort {
        /// The protocol of both entries.
        protocol: Protocol,
        /// The name of the earlier entry that already has the port.
        owner: String,
        /// The 1-based line of the earlier entry.
        line: usize,
    },
    /// No more than [`MAX_APPLICATIONS`] applications (distinct names) in the database.
    ApplicationLimit,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expected::PortProtocol => f.write_str("port/protocol (such as 25/tcp)"),
            Expected::PortNumber => f.write_str("a port number 0-65535"),
            Expected::Protocol => f.write_str("protocol tcp or udp"),
            Expected::NameCharacters => f.write_str(
                "a name of letters, digits, \"-\", \"_\", \".\" or \"+\" starting with a letter or digit",
            ),
            Expected::NameLength => write!(f, "a name of 1 to {MAX_NAME_LEN} characters"),
            Expected::NotOnlyDigits => {
                f.write_str("a name that is not only digits (it would read as a port number)")
            }
            Expected::NotReserved => f.write_str("a name other than OTHER, which is reserved"),
            Expected::TosValue => f.write_str("tos-N with N 0-255"),
            Expected::WeightValue => f.write_str("weight-N with N 1-1000"),
            Expected::SingleTos => f.write_str("at most one tos-N on a line"),
            Expected::SingleWeight => f.write_str("at most one weight-N on a line"),
            Expected::DistinctAlias => {
                f.write_str("an alias different from the name and the other aliases of the line")
            }
            Expected::UnusedName {
                protocol,
                owner,
                line,
            } => write!(
                f,
                "a name not already used for {protocol} (\"{}\" on line {line} has it)",
                owner.escape_debug()
            ),
            Expected::UnusedPort {
                protocol,
                owner,
                line,
            } => write!(
                f,
                "a port not already used for {protocol} (\"{}\" on line {line} has it)",
                owner.escape_debug()
            ),
            Expected::ApplicationLimit => write!(
                f,
                "at most {MAX_APPLICATIONS} applications (distinct names), this name is one more"
            ),
        }
    }
}

/// One error in a services file: where it is, the offending token and what was expected there.
///
/// Displays as `FILE:LINE:COLUMN: expected WHAT, found "TOKEN"`, for example
/// `services:12:9: expected a port number 0-65535, found "port1"`. Columns count characters
/// (a tab is one column). An empty token means the line ended where a field was expected and
/// displays as `found end of line`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The origin of the text (the file name given to the parser).
    pub file: String,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column (in characters) of the offending token.
    pub column: usize,
    /// The offending token, or empty when the line ended too early.
    pub token: String,
    /// What the parser expected instead.
    pub expected: Expected,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: expected {}, found ",
            self.file, self.line, self.column, self.expected
        )?;
        if self.token.is_empty() {
            return f.write_str("end of line");
        }
        f.write_str("\"")?;
        let mut chars = self.token.chars();
        for c in chars.by_ref().take(MAX_QUOTED_CHARS) {
            write!(f, "{}", c.escape_debug())?;
        }
        if chars.next().is_some() {
            f.write_str("...")?;
        }
        f.write_str("\"")
    }
}

impl std::error::Error for ParseError {}

/// All the errors of one file, in line order. A file with any error yields no database.
///
/// Displays one error per line (no trailing newline).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParseErrors(pub Vec<ParseError>);

impl ParseErrors {
    /// The errors, in line order.
    pub fn errors(&self) -> &[ParseError] {
        &self.0
    }

    /// The number of errors.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no errors (a value the parsers never return as an error).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Iterates over the errors.
    pub fn iter(&self) -> std::slice::Iter<'_, ParseError> {
        self.0.iter()
    }

    /// The errors as a vector.
    pub fn into_vec(self) -> Vec<ParseError> {
        self.0
    }
}

impl fmt::Display for ParseErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseErrors {}

impl IntoIterator for ParseErrors {
    type Item = ParseError;
    type IntoIter = std::vec::IntoIter<ParseError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a ParseErrors {
    type Item = &'a ParseError;
    type IntoIter = std::slice::Iter<'a, ParseError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// The error of [`ServiceDb::load`](crate::ServiceDb::load) and
/// [`ServiceDb::load_host`](crate::ServiceDb::load_host).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file that could not be read.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file was read but has errors (all of them are listed).
    #[error("{0}")]
    Parse(#[from] ParseErrors),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(token: &str, expected: Expected) -> ParseError {
        ParseError {
            file: "services".into(),
            line: 12,
            column: 9,
            token: token.into(),
            expected,
        }
    }

    #[test]
    fn display_format() {
        assert_eq!(
            err("port1", Expected::PortNumber).to_string(),
            "services:12:9: expected a port number 0-65535, found \"port1\""
        );
        assert_eq!(
            err("", Expected::PortProtocol).to_string(),
            "services:12:9: expected port/protocol (such as 25/tcp), found end of line"
        );
    }

    #[test]
    fn display_escapes_and_truncates() {
        assert_eq!(
            err("a\"b\tc\u{1b}", Expected::NameCharacters).to_string(),
            "services:12:9: expected a name of letters, digits, \"-\", \"_\", \".\" or \"+\" \
             starting with a letter or digit, found \"a\\\"b\\tc\\u{1b}\""
        );
        let long = "x".repeat(1000);
        let shown = err(&long, Expected::NameLength).to_string();
        assert!(
            shown.ends_with(&format!("found \"{}...\"", "x".repeat(64))),
            "{shown}"
        );
        let exact = "y".repeat(64);
        let shown = err(&exact, Expected::NameLength).to_string();
        assert!(shown.ends_with(&format!("found \"{exact}\"")), "{shown}");
    }

    #[test]
    fn expected_texts() {
        let cases = [
            (Expected::Protocol, "protocol tcp or udp"),
            (Expected::NameLength, "a name of 1 to 9 characters"),
            (
                Expected::NotOnlyDigits,
                "a name that is not only digits (it would read as a port number)",
            ),
            (
                Expected::NotReserved,
                "a name other than OTHER, which is reserved",
            ),
            (Expected::TosValue, "tos-N with N 0-255"),
            (Expected::WeightValue, "weight-N with N 1-1000"),
            (Expected::SingleTos, "at most one tos-N on a line"),
            (Expected::SingleWeight, "at most one weight-N on a line"),
            (
                Expected::DistinctAlias,
                "an alias different from the name and the other aliases of the line",
            ),
            (
                Expected::UnusedName {
                    protocol: Protocol::Tcp,
                    owner: "smtp".into(),
                    line: 3,
                },
                "a name not already used for tcp (\"smtp\" on line 3 has it)",
            ),
            (
                Expected::UnusedPort {
                    protocol: Protocol::Udp,
                    owner: "dns".into(),
                    line: 4,
                },
                "a port not already used for udp (\"dns\" on line 4 has it)",
            ),
            (
                Expected::ApplicationLimit,
                "at most 1000 applications (distinct names), this name is one more",
            ),
        ];
        for (expected, text) in cases {
            assert_eq!(expected.to_string(), text);
        }
    }

    #[test]
    fn errors_display_one_per_line() {
        let errors = ParseErrors(vec![
            err("port1", Expected::PortNumber),
            err("sctp", Expected::Protocol),
        ]);
        assert_eq!(
            errors.to_string(),
            "services:12:9: expected a port number 0-65535, found \"port1\"\n\
             services:12:9: expected protocol tcp or udp, found \"sctp\""
        );
        assert_eq!(errors.len(), 2);
        assert!(!errors.is_empty());
        assert_eq!(errors.iter().count(), 2);
        assert_eq!((&errors).into_iter().count(), 2);
        assert_eq!(errors.errors().len(), 2);
        assert_eq!(errors.clone().into_iter().count(), 2);
        assert_eq!(errors.into_vec().len(), 2);
        assert_eq!(ParseErrors::default().to_string(), "");
    }

    #[test]
    fn are_std_errors() {
        fn is_error<E: std::error::Error + Send + Sync + 'static>() {}
        is_error::<ParseError>();
        is_error::<ParseErrors>();
        is_error::<LoadError>();
    }

    #[test]
    fn load_error_display() {
        let e = LoadError::Io {
            path: PathBuf::from("/nonexistent/services"),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "not found"),
        };
        assert_eq!(
            e.to_string(),
            "cannot read /nonexistent/services: not found"
        );
        assert!(std::error::Error::source(&e).is_some());
        let e = LoadError::from(ParseErrors(vec![err("x", Expected::PortNumber)]));
        assert_eq!(
            e.to_string(),
            "services:12:9: expected a port number 0-65535, found \"x\""
        );
    }
}
