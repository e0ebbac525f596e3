//! Errors: every one names the file, line and column, what was found and what was expected.

use std::fmt;
use std::path::PathBuf;

/// A position in a MIB file: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Pos {
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1.
    pub column: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Why a module could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A syntax, import or definition error at a place in a file.
    #[error("{file}:{pos}: {message}")]
    At {
        /// The file (as given or found on the search path).
        file: PathBuf,
        /// Where in it.
        pos: Pos,
        /// What was wrong and what was expected.
        message: String,
    },
    /// A module that is on no search path.
    #[error("module {module} not found (searched: {searched})")]
    ModuleNotFound {
        /// The module's name.
        module: String,
        /// The directories searched, comma-separated.
        searched: String,
    },
    /// A file that could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's message.
        message: String,
    },
}

impl Error {
    /// An error at a position of a file.
    pub fn at(file: impl Into<PathBuf>, pos: Pos, message: impl Into<String>) -> Error {
        Error::At {
            file: file.into(),
            pos,
            message: message.into(),
        }
    }

    /// An I/O error on a path.
    pub fn io(path: impl Into<PathBuf>, e: &std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            message: e.to_string(),
        }
    }

    /// The position, for errors that have one.
    pub fn pos(&self) -> Option<Pos> {
        match self {
            Error::At { pos, .. } => Some(*pos),
            _ => None,
        }
    }
}

/// A syntax error found while parsing, before the file name is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where.
    pub pos: Pos,
    /// What was found and what was expected.
    pub message: String,
}

impl SyntaxError {
    /// A syntax error at `pos`.
    pub fn new(pos: Pos, message: impl Into<String>) -> Self {
        SyntaxError {
            pos,
            message: message.into(),
        }
    }

    /// Attaches the file name.
    pub fn in_file(self, file: impl Into<PathBuf>) -> Error {
        Error::at(file, self.pos, self.message)
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.pos, self.message)
    }
}
