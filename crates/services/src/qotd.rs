//! Quote of the Day (RFC 865): the quotations and their rotation.
//!
//! Quote files use the fortune format: quotations separated by lines that hold only `%`.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use thiserror::Error;

/// RFC 865: "the quote should be limited to 512 characters" — checked on the bytes as sent.
pub const MAX_QUOTE_BYTES: usize = 512;

/// Quote files larger than this are refused rather than read into memory.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Built-in quotations: public-domain proverbs, so netcp serves qotd with no files at all.
const EMBEDDED: &str = "\
A journey of a thousand miles begins with a single step.
%
Well begun is half done.
%
Measure twice, cut once.
%
Many hands make light work.
%
Still waters run deep.
%
The pen is mightier than the sword.
%
Necessity is the mother of invention.
%
A stitch in time saves nine.
%
Fortune favours the bold.
%
Rome was not built in a day.
%
When the well is dry, we know the worth of water.
%
Slow and steady wins the race.
";

/// Why a quote file could not be used.
#[derive(Debug, Error)]
pub enum QuotesError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_FILE_BYTES`].
    #[error("{path}: file is larger than {MAX_FILE_BYTES} bytes")]
    TooBig {
        /// The file.
        path: PathBuf,
    },
    /// The file is not UTF-8 text.
    #[error("{origin}:{line}: not UTF-8 text")]
    NotUtf8 {
        /// Where the text came from (a file name).
        origin: String,
        /// The first line (1-based) holding an invalid byte sequence.
        line: usize,
    },
    /// One quotation is longer than RFC 865 allows.
    #[error(
        "{origin}:{line}: quotation is {len} bytes, more than the {MAX_QUOTE_BYTES} RFC 865 allows"
    )]
    TooLong {
        /// Where the text came from (a file name).
        origin: String,
        /// The line (1-based) the quotation starts on.
        line: usize,
        /// Its length in bytes as it would be sent (CRLF line ends).
        len: usize,
    },
    /// The text holds no quotation at all.
    #[error("{origin}: no quotations")]
    Empty {
        /// Where the text came from (a file name).
        origin: String,
    },
}

/// A list of quotations served in turn.
#[derive(Debug)]
pub struct Quotes {
    /// Each quotation as sent: lines ended by CRLF.
    quotes: Vec<String>,
    /// The next quotation to serve; atomic so connections on any thread share the rotation.
    next: AtomicUsize,
}

impl Quotes {
    /// The built-in quotations.
    pub fn embedded() -> Quotes {
        match Self::from_text(EMBEDDED, "embedded quotes") {
            Ok(q) => q,
            // The embedded text is fixed and tested; this arm only keeps the function total.
            Err(_) => Quotes {
                quotes: vec!["Well begun is half done.\r\n".to_owned()],
                next: AtomicUsize::new(0),
            },
        }
    }

    /// Parses fortune-format `text`; `origin` names it in errors (usually the file name).
    ///
    /// Blank lines around a quotation are dropped and empty entries skipped; each quotation is
    /// stored with CRLF line ends, and one longer than [`MAX_QUOTE_BYTES`] so is an error.
    pub fn from_text(text: &str, origin: &str) -> Result<Quotes, QuotesError> {
        let mut quotes = Vec::new();
        let mut current: Vec<&str> = Vec::new();
        let mut start_line = 1;
        let mut finish = |lines: &mut Vec<&str>, start: usize| -> Result<(), QuotesError> {
            let first = lines.iter().position(|l| !l.trim().is_empty());
            let last = lines.iter().rposition(|l| !l.trim().is_empty());
            if let (Some(first), Some(last)) = (first, last) {
                let body = lines.get(first..=last).unwrap_or_default();
                let mut quote = String::new();
                for line in body {
                    quote.push_str(line.trim_end());
                    quote.push_str("\r\n");
                }
                if quote.len() > MAX_QUOTE_BYTES {
                    return Err(QuotesError::TooLong {
                        origin: origin.to_owned(),
                        line: start + first,
                        len: quote.len(),
                    });
                }
                quotes.push(quote);
            }
            lines.clear();
            Ok(())
        };
        for (idx, line) in text.lines().enumerate() {
            if line.trim_end() == "%" {
                finish(&mut current, start_line)?;
                start_line = idx + 2;
            } else {
                current.push(line);
            }
        }
        finish(&mut current, start_line)?;
        if quotes.is_empty() {
            return Err(QuotesError::Empty {
                origin: origin.to_owned(),
            });
        }
        Ok(Quotes {
            quotes,
            next: AtomicUsize::new(0),
        })
    }

    /// Reads and parses a fortune-format file.
    pub fn load(path: impl AsRef<Path>) -> Result<Quotes, QuotesError> {
        let path = path.as_ref();
        let io_err = |source| QuotesError::Io {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(io_err)?;
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io_err)?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(QuotesError::TooBig {
                path: path.to_owned(),
            });
        }
        let origin = path.display().to_string();
        let text = String::from_utf8(bytes).map_err(|e| {
            let good = e.utf8_error().valid_up_to();
            let line = e.as_bytes().get(..good).unwrap_or_default();
            QuotesError::NotUtf8 {
                origin: origin.clone(),
                line: 1 + line.iter().filter(|b| **b == b'\n').count(),
            }
        })?;
        Self::from_text(&text, &origin)
    }

    /// The next quotation in rotation (CRLF line ends), safe to call from many threads at once.
    pub fn next(&self) -> &str {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        // `quotes` is never empty, but `get` keeps even a broken invariant from panicking.
        self.quotes
            .get(i % self.quotes.len().max(1))
            .map(String::as_str)
            .unwrap_or("")
    }

    /// How many quotations there are.
    pub fn len(&self) -> usize {
        self.quotes.len()
    }

    /// True if there are none (never, for a successfully built list).
    pub fn is_empty(&self) -> bool {
        self.quotes.is_empty()
    }

    /// All quotations in order, as sent.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.quotes.iter().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    #[test]
    fn embedded_quotes_are_valid() {
        let q = Quotes::embedded();
        assert_eq!(q.len(), 12);
        assert!(q
            .iter()
            .all(|s| s.len() <= MAX_QUOTE_BYTES && s.ends_with("\r\n")));
    }

    #[test]
    fn rotation_wraps() {
        let q = Quotes::from_text("one\n%\ntwo\n", "t").unwrap();
        let got: Vec<&str> = (0..5).map(|_| q.next()).collect();
        assert_eq!(got, ["one\r\n", "two\r\n", "one\r\n", "two\r\n", "one\r\n"]);
    }

    #[test]
    fn fortune_format_details() {
        let text = "%\n\nfirst line\r\n  second  \n\n%\n%\n \n%  \nlast\n%\n";
        let q = Quotes::from_text(text, "t").unwrap();
        let all: Vec<&str> = q.iter().collect();
        assert_eq!(all, ["first line\r\n  second\r\n", "last\r\n"]);
    }

    #[test]
    fn too_long_names_origin_and_line() {
        let long = "x".repeat(600);
        let text = format!("short\n%\n\n{long}\n");
        let err = Quotes::from_text(&text, "quotes.txt").unwrap_err();
        match &err {
            QuotesError::TooLong { line, len, .. } => {
                assert_eq!(*line, 4);
                assert_eq!(*len, 602);
            }
            other => panic!("wrong error {other:?}"),
        }
        assert!(err
            .to_string()
            .starts_with("quotes.txt:4: quotation is 602 bytes"));
        // Exactly 512 bytes as sent is allowed.
        let ok = format!("{}\n", "y".repeat(510));
        assert_eq!(Quotes::from_text(&ok, "t").unwrap().len(), 1);
    }

    #[test]
    fn empty_is_an_error() {
        let err = Quotes::from_text("%\n \n%\n", "e.txt").unwrap_err();
        assert_eq!(err.to_string(), "e.txt: no quotations");
    }

    #[test]
    fn load_reports_file_errors() {
        let dir = TempDir::new("qotd");
        let missing = dir.path().join("missing");
        assert!(matches!(
            Quotes::load(&missing),
            Err(QuotesError::Io { .. })
        ));

        let good = dir.write("good", b"a\n%\nb\n");
        assert_eq!(Quotes::load(&good).unwrap().len(), 2);

        let bad = dir.write("bad", b"a\n%\nb\xff\n");
        let err = Quotes::load(&bad).unwrap_err();
        assert!(
            matches!(err, QuotesError::NotUtf8 { line: 3, .. }),
            "{err:?}"
        );

        let long = dir.write("long", format!("a\n%\n{}\n", "z".repeat(513)).as_bytes());
        let err = Quotes::load(&long).unwrap_err().to_string();
        assert!(err.contains("long:3:"), "{err}");
    }
}
