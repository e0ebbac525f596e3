//! The command language: VMS style (`SHOW SERVICES ECHO/FULL`) and Unix style
//! (`show services echo --full`) on one grammar. Keywords are case-insensitive and may be
//! abbreviated to any unique prefix; qualifiers are `/NAME[=value]` or `--name [value]`.
//!
//! A value is a word, a `"quoted string"` (`""` is a quote inside), or a list `(a,b,c)`. Inside
//! an unquoted value a `/` ends the value only where a known qualifier name follows (so
//! `/ACCEPT=10.0.0.0/8/PERMANENT` is two qualifiers); quote values whose slashes could be read
//! that way.

use std::fmt;

/// One qualifier as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawQualifier {
    /// The name as typed (without `/` or `--`).
    pub name: String,
    /// Its value, if one was attached with `=`.
    pub value: Option<Value>,
    /// Unix style (`--name`): a value may follow as the next word.
    pub unix: bool,
    /// Byte position in the line, for errors.
    pub at: usize,
}

/// A qualifier's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A single word or quoted string.
    One(String),
    /// A parenthesised list.
    List(Vec<String>),
}

impl Value {
    /// The items, a single value being a list of one. A Unix-style single value may hold a
    /// comma-separated list.
    pub fn items(&self) -> Vec<String> {
        match self {
            Value::One(s) if s.contains(',') => {
                s.split(',').map(|x| x.trim().to_string()).collect()
            }
            Value::One(s) => vec![s.clone()],
            Value::List(v) => v.clone(),
        }
    }
}

/// One token of a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A keyword or parameter, with its byte position.
    Word(String, usize),
    /// A qualifier.
    Qualifier(RawQualifier),
}

/// A syntax error with its position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SyntaxError {
    /// Byte position in the line.
    pub at: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.at + 1, self.message)
    }
}

fn err(at: usize, message: impl Into<String>) -> SyntaxError {
    SyntaxError {
        at,
        message: message.into(),
    }
}

struct Lexer<'a> {
    text: &'a str,
    pos: usize,
    known: &'a dyn Fn(&str) -> bool,
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    /// Whether a `/` at the current position starts a qualifier: the name after it must be a
    /// known qualifier (at least two letters inside a value, so paths and prefixes survive). At
    /// the start of a word an unknown name is still read as a qualifier (to report it), unless
    /// the word goes on with more slashes, as a path does.
    fn slash_starts_qualifier(&self, in_value: bool, word_start: bool) -> bool {
        let rest = &self.text[self.pos + 1..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return false;
        }
        // A qualifier name ends at a blank, `=`, the next `/` or the end: `/tmp/f.dat` is a path.
        let ends_cleanly = rest[name.len()..]
            .chars()
            .next()
            .is_none_or(|c| c.is_whitespace() || c == '=' || c == '/');
        if !ends_cleanly {
            return false;
        }
        if (self.known)(&name) {
            return !in_value || name.len() >= 2;
        }
        if word_start {
            let word = rest.split(char::is_whitespace).next().unwrap_or("");
            return !word.contains('/');
        }
        false
    }

    fn quoted(&mut self) -> Result<String, SyntaxError> {
        let start = self.pos;
        self.bump();
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(err(start, "unbalanced quote")),
                Some('"') if self.peek() == Some('"') => {
                    self.bump();
                    out.push('"');
                }
                Some('"') => return Ok(out),
                Some(c) => out.push(c),
            }
        }
    }

    /// A bare word, ending at space, and (outside values) at `/` before a letter; in values at a
    /// `/` before a known qualifier, and at `,` or `)` inside lists.
    fn bare(&mut self, in_value: bool, in_list: bool) -> String {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_whitespace()
                || (in_list && (c == ',' || c == ')'))
                || (!in_value && (c == '=' || c == '('))
            {
                break;
            }
            if c == '/' && self.pos > start && self.slash_starts_qualifier(in_value, false) {
                break;
            }
            self.bump();
        }
        self.text[start..self.pos].to_string()
    }

    fn value(&mut self) -> Result<Value, SyntaxError> {
        match self.peek() {
            Some('"') => Ok(Value::One(self.quoted()?)),
            Some('(') => {
                let start = self.pos;
                self.bump();
                let mut items = Vec::new();
                loop {
                    self.skip_space();
                    match self.peek() {
                        None => return Err(err(start, "unbalanced parenthesis")),
                        Some(')') => {
                            self.bump();
                            return Ok(Value::List(items));
                        }
                        Some(',') => {
                            self.bump();
                        }
                        Some('"') => items.push(self.quoted()?),
                        Some(_) => items.push(self.bare(true, true)),
                    }
                }
            }
            _ => Ok(Value::One(self.bare(true, false))),
        }
    }

    fn qualifier(&mut self, unix: bool) -> Result<RawQualifier, SyntaxError> {
        let at = self.pos;
        self.pos += if unix { 2 } else { 1 };
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            self.bump();
        }
        let name = self.text[start..self.pos].to_string();
        if name.is_empty() {
            return Err(err(at, "a qualifier name must follow `/` or `--`"));
        }
        let value = if self.peek() == Some('=') {
            self.bump();
            if self.peek().is_none_or(char::is_whitespace) {
                return Err(err(self.pos, format!("a value must follow `{name}=`")));
            }
            Some(self.value()?)
        } else {
            None
        };
        Ok(RawQualifier {
            name,
            value,
            unix,
            at,
        })
    }
}

/// Splits a command line into tokens. `known` says whether a name is (a prefix of) some
/// qualifier, to decide where a `/` inside a value begins a new qualifier.
pub fn tokenize(line: &str, known: &dyn Fn(&str) -> bool) -> Result<Vec<Token>, SyntaxError> {
    let mut lx = Lexer {
        text: line,
        pos: 0,
        known,
    };
    let mut out = Vec::new();
    loop {
        lx.skip_space();
        let Some(c) = lx.peek() else { break };
        let at = lx.pos;
        if c == '!' {
            break; // A comment to the end of the line, as in DCL.
        } else if c == '/' && lx.slash_starts_qualifier(false, true) {
            out.push(Token::Qualifier(lx.qualifier(false)?));
        } else if line[at..].starts_with("--")
            && line[at + 2..].starts_with(|c: char| c.is_ascii_alphabetic())
        {
            out.push(Token::Qualifier(lx.qualifier(true)?));
        } else if c == '"' {
            out.push(Token::Word(lx.quoted()?, at));
        } else {
            let w = lx.bare(false, false);
            if w.is_empty() {
                return Err(err(at, format!("unexpected `{c}`")));
            }
            out.push(Token::Word(w, at));
        }
    }
    Ok(out)
}

/// Finds `word` among `candidates` by exact match or unique prefix, case-insensitively.
pub fn match_keyword<'a>(word: &str, candidates: &[&'a str]) -> Result<&'a str, String> {
    let lower = word.to_ascii_lowercase();
    if let Some(exact) = candidates.iter().find(|c| c.eq_ignore_ascii_case(&lower)) {
        return Ok(exact);
    }
    let hits: Vec<&str> = candidates
        .iter()
        .copied()
        .filter(|c| c.to_ascii_lowercase().starts_with(&lower))
        .collect();
    match hits.as_slice() {
        [one] => Ok(one),
        [] => Err(format!(
            "`{word}` is not one of: {}",
            candidates.join(", ").to_uppercase()
        )),
        many => Err(format!(
            "`{word}` is ambiguous: {}",
            many.join(", ").to_uppercase()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(n: &str) -> bool {
        ["permanent", "accept", "reject", "full", "program", "user"]
            .iter()
            .any(|q| q.starts_with(&n.to_ascii_lowercase()))
    }

    fn words(tokens: &[Token]) -> Vec<String> {
        tokens
            .iter()
            .map(|t| match t {
                Token::Word(w, _) => w.clone(),
                Token::Qualifier(q) => format!("/{}={:?}", q.name, q.value),
            })
            .collect()
    }

    #[test]
    fn vms_and_unix_forms() {
        let t = tokenize("SHOW SERVICES ECHO/FULL", &known).unwrap();
        assert_eq!(words(&t), ["SHOW", "SERVICES", "ECHO", "/FULL=None"]);
        let t = tokenize("show services echo --full", &known).unwrap();
        assert_eq!(words(&t), ["show", "services", "echo", "/full=None"]);
    }

    #[test]
    fn values_keep_prefix_slashes_and_split_at_known_qualifiers() {
        let t = tokenize("set service echo/accept=10.0.0.0/8/permanent", &known).unwrap();
        assert_eq!(
            words(&t),
            [
                "set",
                "service",
                "echo",
                "/accept=Some(One(\"10.0.0.0/8\"))",
                "/permanent=None"
            ]
        );
        let t = tokenize("add service x /program=/usr/bin/cat /user=nobody", &known).unwrap();
        assert_eq!(
            words(&t),
            [
                "add",
                "service",
                "x",
                "/program=Some(One(\"/usr/bin/cat\"))",
                "/user=Some(One(\"nobody\"))"
            ]
        );
        let t = tokenize("x /accept=(10.0.0.0/8, \"fe80::/10\") ! comment", &known).unwrap();
        assert_eq!(
            words(&t),
            ["x", "/accept=Some(List([\"10.0.0.0/8\", \"fe80::/10\"]))"]
        );
    }

    #[test]
    fn paths_are_words() {
        let t = tokenize("check /etc/maynard conf/dir /tmp/f.dat x/full.txt", &known).unwrap();
        assert_eq!(
            words(&t),
            [
                "check",
                "/etc/maynard",
                "conf/dir",
                "/tmp/f.dat",
                "x/full.txt"
            ]
        );
        let t = tokenize("show x /bogus", &known).unwrap();
        assert_eq!(words(&t), ["show", "x", "/bogus=None"]);
    }

    #[test]
    fn errors_have_positions() {
        assert_eq!(tokenize("x \"open", &known).unwrap_err().at, 2);
        assert_eq!(tokenize("x /accept=(1", &known).unwrap_err().at, 10);
        assert!(tokenize("x /accept=", &known).is_err());
    }

    #[test]
    fn keywords_match_unique_prefixes() {
        let c = ["show", "shutdown", "set"];
        assert_eq!(match_keyword("SHO", &c), Ok("show"));
        assert_eq!(match_keyword("se", &c), Ok("set"));
        assert!(match_keyword("sh", &c).unwrap_err().contains("ambiguous"));
        assert!(match_keyword("zap", &c).unwrap_err().contains("not one of"));
    }

    proptest::proptest! {
        #[test]
        fn tokenizer_never_panics(line in ".{0,80}") {
            let _ = tokenize(&line, &known);
        }
    }
}
