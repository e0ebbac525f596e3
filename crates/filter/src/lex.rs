//! Lexing a filter file into logical lines of tokens: `!` comments, `-` continuation, blanks and
//! tabs between fields, double-quoted values.

/// One field of a filter line, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The text, without quotes.
    pub text: String,
    /// Whether it was written in double quotes.
    pub quoted: bool,
    /// 1-based physical line.
    pub line: usize,
    /// 1-based column of its first character (the quote, if quoted).
    pub column: usize,
}

/// A lexing problem: where, the text, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The offending text.
    pub token: String,
    /// What is wrong.
    pub message: String,
}

/// A logical line: the physical lines joined by continuation, as tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogicalLine {
    /// The first physical line (the rule's line number).
    pub line: usize,
    /// The fields, or the first lexing error of the line.
    pub tokens: Result<Vec<Token>, LexError>,
}

/// Splits `text` into logical lines, skipping blank and comment-only lines.
///
/// A `!` outside quotes starts a comment that runs to the end of the physical line (the seed only
/// shows whole-line comments; a trailing comment is the same reading DCL gives). A line whose last
/// non-blank character (before any comment) is `-` continues on the next line.
pub fn logical_lines(text: &str) -> Vec<LogicalLine> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut current: Option<LogicalLine> = None;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let (tokens, continued) = lex_physical(raw, line_no);
        let entry = current.get_or_insert_with(|| LogicalLine {
            line: line_no,
            tokens: Ok(Vec::new()),
        });
        match (&mut entry.tokens, tokens) {
            (Ok(acc), Ok(mut t)) => acc.append(&mut t),
            (Ok(_), Err(e)) => entry.tokens = Err(e),
            (Err(_), _) => {}
        }
        if !continued {
            if let Some(done) = current.take() {
                if !matches!(&done.tokens, Ok(t) if t.is_empty()) {
                    out.push(done);
                }
            }
        }
    }
    if let Some(done) = current.take() {
        if !matches!(&done.tokens, Ok(t) if t.is_empty()) {
            out.push(done);
        }
    }
    out
}

/// Lexes one physical line; returns its tokens and whether it ends with a continuation dash.
fn lex_physical(raw: &str, line: usize) -> (Result<Vec<Token>, LexError>, bool) {
    let chars: Vec<char> = raw.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars.get(i).copied().unwrap_or(' ');
        if c == ' ' || c == '\t' || c == '\r' {
            i += 1;
            continue;
        }
        if c == '!' {
            break;
        }
        let column = i + 1;
        if c == '"' {
            let start = i + 1;
            let mut j = start;
            while j < chars.len() && chars.get(j) != Some(&'"') {
                j += 1;
            }
            if j >= chars.len() {
                let rest: String = chars.get(i..).unwrap_or_default().iter().collect();
                return (
                    Err(LexError {
                        line,
                        column,
                        token: rest,
                        message: "a closing `\"`: this quote is never closed".into(),
                    }),
                    false,
                );
            }
            let text: String = chars.get(start..j).unwrap_or_default().iter().collect();
            tokens.push(Token {
                text,
                quoted: true,
                line,
                column,
            });
            i = j + 1;
            if let Some(&n) = chars.get(i) {
                if !(n == ' ' || n == '\t' || n == '\r' || n == '!') {
                    return (
                        Err(LexError {
                            line,
                            column: i + 1,
                            token: n.to_string(),
                            message: "a blank after the closing `\"`".into(),
                        }),
                        false,
                    );
                }
            }
            continue;
        }
        let start = i;
        while i < chars.len() {
            match chars.get(i) {
                Some(' ') | Some('\t') | Some('\r') | Some('!') => break,
                Some('"') => {
                    let word: String = chars.get(start..=i).unwrap_or_default().iter().collect();
                    return (
                        Err(LexError {
                            line,
                            column: i + 1,
                            token: word,
                            message: "balanced quotes: this `\"` closes nothing (unbalanced \
                                      quotes; a value with a blank is written \"1 15:00\")"
                                .into(),
                        }),
                        false,
                    );
                }
                _ => i += 1,
            }
        }
        let text: String = chars.get(start..i).unwrap_or_default().iter().collect();
        tokens.push(Token {
            text,
            quoted: false,
            line,
            column,
        });
    }
    let continued = matches!(tokens.last(), Some(t) if !t.quoted && t.text.ends_with('-'));
    if continued {
        if let Some(last) = tokens.last_mut() {
            last.text.pop();
            if last.text.is_empty() {
                tokens.pop();
            }
        }
    }
    (Ok(tokens), continued)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(l: &LogicalLine) -> Vec<String> {
        match &l.tokens {
            Ok(t) => t.iter().map(|t| t.text.clone()).collect(),
            Err(_) => vec![],
        }
    }

    #[test]
    fn comments_blanks_continuation_quotes() {
        let lines = logical_lines(
            "! comment\n\n  deny\ttcp  1.2.3.4/32 -\n  0/0 end \"1 00:30\" ! trailing\npermit ip\n",
        );
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].line, 3);
        assert_eq!(
            texts(&lines[0]),
            vec!["deny", "tcp", "1.2.3.4/32", "0/0", "end", "1 00:30"]
        );
        assert_eq!(texts(&lines[1]), vec!["permit", "ip"]);
    }

    #[test]
    fn unbalanced_quotes() {
        let lines = logical_lines("deny tcp 1/32 2/32 start \"2 00:00\" end 3 00:00\"\n");
        let e = lines[0].tokens.clone().err();
        assert_eq!(e.map(|e| (e.line, e.column)), Some((1, 47)));
        let lines = logical_lines("deny tcp 1/32 2/32 end \"3 00:00\n");
        assert_eq!(lines[0].tokens.clone().err().map(|e| e.column), Some(24));
    }
}
