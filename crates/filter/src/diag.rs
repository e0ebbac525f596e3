//! Diagnostics: errors and warnings with file, line, column, token and what was expected.

use std::fmt;

/// How serious a diagnostic is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Severity {
    /// The line is accepted but is almost certainly not what was meant, or was not loaded.
    Warning,
    /// The line is refused; a file with any error loads nothing.
    Error,
}

/// One error or warning about a filter file.
///
/// Displays as `FILE:LINE:COLUMN: error: MESSAGE, found "TOKEN"` (or `warning:`). Columns count
/// characters from 1 (a tab is one column).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The origin of the text (the file name given to the parser).
    pub file: String,
    /// 1-based physical line number.
    pub line: usize,
    /// 1-based column of the token.
    pub column: usize,
    /// The offending token (empty when the line ended early).
    pub token: String,
    /// What was expected, or what is wrong, in words.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(
            f,
            "{}:{}:{}: {sev}: {}",
            self.file, self.line, self.column, self.message
        )?;
        if self.token.is_empty() {
            f.write_str(", found end of line")
        } else {
            write!(f, ", found \"{}\"", self.token.escape_debug())
        }
    }
}

/// Every error of a filter file (and the warnings found alongside), in line order.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, thiserror::Error, serde::Serialize, serde::Deserialize,
)]
pub struct FilterErrors {
    /// Errors and warnings, sorted by line and column.
    pub diagnostics: Vec<Diagnostic>,
}

impl FilterErrors {
    /// Only the errors.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }
}

impl fmt::Display for FilterErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}
