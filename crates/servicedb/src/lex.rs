//! Splitting one line into tokens with their columns, and its trailing `#` comment.

/// A field of a line and the 1-based column (in characters) where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    /// The text of the field (never empty, never contains a separator or `#`).
    pub(crate) text: &'a str,
    /// 1-based column of its first character.
    pub(crate) column: usize,
}

impl Token<'_> {
    /// The column just after the token.
    pub(crate) fn end_column(&self) -> usize {
        self.column.saturating_add(self.text.chars().count())
    }
}

/// One line cut into fields and comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line<'a> {
    /// The fields before the comment, in order.
    pub(crate) tokens: Vec<Token<'a>>,
    /// The comment text after the first `#`, trimmed; `None` when absent or empty.
    pub(crate) comment: Option<&'a str>,
}

impl Line<'_> {
    /// The column just after the last field (where a missing field would have started).
    pub(crate) fn end_column(&self) -> usize {
        self.tokens.last().map_or(1, Token::end_column)
    }
}

/// True for the characters that separate fields: spaces, tabs, and the other ASCII blanks
/// (carriage return, vertical tab, form feed), so files written on other systems read the same.
pub(crate) fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\x0b' | '\x0c')
}

/// Cuts a line (without its `\n`) into fields and comment. `#` starts a comment anywhere, even
/// in the middle of a field.
pub(crate) fn split_line(line: &str) -> Line<'_> {
    let (data, comment) = match line.split_once('#') {
        Some((data, comment)) => (data, Some(comment.trim()).filter(|c| !c.is_empty())),
        None => (line, None),
    };
    let mut tokens = Vec::new();
    let mut start: Option<(usize, usize)> = None;
    let mut column = 0usize;
    for (offset, c) in data.char_indices() {
        column = column.saturating_add(1);
        if is_separator(c) {
            if let Some((from, from_column)) = start.take() {
                push(&mut tokens, data.get(from..offset), from_column);
            }
        } else if start.is_none() {
            start = Some((offset, column));
        }
    }
    if let Some((from, from_column)) = start {
        push(&mut tokens, data.get(from..), from_column);
    }
    Line { tokens, comment }
}

fn push<'a>(tokens: &mut Vec<Token<'a>>, text: Option<&'a str>, column: usize) {
    if let Some(text) = text.filter(|t| !t.is_empty()) {
        tokens.push(Token { text, column });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &str) -> Vec<(&str, usize)> {
        split_line(line)
            .tokens
            .iter()
            .map(|t| (t.text, t.column))
            .collect()
    }

    #[test]
    fn blank_and_comment_lines() {
        assert_eq!(
            split_line(""),
            Line {
                tokens: vec![],
                comment: None
            }
        );
        assert_eq!(
            split_line(" \t \r"),
            Line {
                tokens: vec![],
                comment: None
            }
        );
        assert_eq!(
            split_line("# just a comment "),
            Line {
                tokens: vec![],
                comment: Some("just a comment")
            }
        );
        assert_eq!(
            split_line("   #"),
            Line {
                tokens: vec![],
                comment: None
            }
        );
    }

    #[test]
    fn columns_count_characters() {
        assert_eq!(
            fields("smtp          25/tcp"),
            vec![("smtp", 1), ("25/tcp", 15)]
        );
        assert_eq!(
            fields("\tsmtp\t25/tcp  mail"),
            vec![("smtp", 2), ("25/tcp", 7), ("mail", 15)]
        );
        assert_eq!(fields("é 25/tcp"), vec![("é", 1), ("25/tcp", 3)]);
        assert_eq!(fields("ab\r\n"), vec![("ab", 1), ("\n", 4)]);
    }

    #[test]
    fn hash_starts_comment_anywhere() {
        let line = split_line("smtp 25/tcp#mail # more #");
        assert_eq!(
            line.tokens,
            vec![
                Token {
                    text: "smtp",
                    column: 1
                },
                Token {
                    text: "25/tcp",
                    column: 6
                }
            ]
        );
        assert_eq!(line.comment, Some("mail # more #"));
        assert_eq!(line.end_column(), 12);
    }

    #[test]
    fn end_column_after_last_token() {
        assert_eq!(split_line("smtp   # c").end_column(), 5);
        assert_eq!(split_line("  smtp").end_column(), 7);
        assert_eq!(split_line("").end_column(), 1);
    }

    #[test]
    fn separators() {
        for c in [' ', '\t', '\r', '\x0b', '\x0c'] {
            assert!(is_separator(c));
        }
        for c in ['a', '\n', '\u{a0}', '#', '/'] {
            assert!(!is_separator(c));
        }
    }
}
