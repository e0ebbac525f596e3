//! The lexer for ASN.1 MIB syntax: `--` comments, quoted strings, identifiers (with hyphens),
//! numbers, hex and binary strings (`'0A'H`, `'0101'B`), `::=`, `..` and punctuation.
//!
//! Macro bodies (the `MACRO ::= BEGIN ... END` of the SMI modules) use characters no ordinary
//! definition does; the lexer hands them out as [`Tok::Punct`] so that the parser can skip them.

use crate::error::{Pos, SyntaxError};

/// A token's kind and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// An identifier or keyword: letters, digits, hyphens (`OBJECT-TYPE`, `mib-2`, `ifIndex`).
    Ident(String),
    /// A number, possibly negative; wide enough for Counter64's range.
    Number(i128),
    /// A quoted string, with `""` read as one quote.
    Str(String),
    /// `'...'H`: the octets.
    Hex(Vec<u8>),
    /// `'...'B`: the bits as written.
    Bin(String),
    /// `::=`
    Assign,
    /// `..`
    Range,
    /// Any other single character: `{ } ( ) [ ] , ; | < > .` and the like.
    Punct(char),
}

impl Tok {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Number(n) => format!("number {n}"),
            Tok::Str(_) => "a quoted string".into(),
            Tok::Hex(_) => "a hex string".into(),
            Tok::Bin(_) => "a binary string".into(),
            Tok::Assign => "`::=`".into(),
            Tok::Range => "`..`".into(),
            Tok::Punct(c) => format!("`{c}`"),
        }
    }
}

/// A token and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The token.
    pub tok: Tok,
    /// Its first character.
    pub pos: Pos,
}

struct Cursor<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: u32,
    column: u32,
}

impl Cursor<'_> {
    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            column: self.column,
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.chars.peek().copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        if c == '\n' {
            self.line = self.line.saturating_add(1);
            self.column = 1;
        } else {
            self.column = self.column.saturating_add(1);
        }
        Some(c)
    }

    /// The character after the next one, without consuming anything.
    fn peek2(&self) -> Option<char> {
        let mut it = self.chars.clone();
        it.next();
        it.next()
    }
}

/// Splits MIB text into tokens. Errors: an unterminated string, hex or binary string, a bad
/// digit in a hex/binary string, a number too large.
pub fn tokenize(text: &str) -> Result<Vec<Token>, SyntaxError> {
    let mut c = Cursor {
        chars: text.chars().peekable(),
        line: 1,
        column: 1,
    };
    let mut out = Vec::new();
    while let Some(ch) = c.peek() {
        let pos = c.pos();
        if ch.is_whitespace() {
            c.bump();
            continue;
        }
        if ch == '-' && c.peek2() == Some('-') {
            skip_comment(&mut c);
            continue;
        }
        let tok = if ch.is_ascii_alphabetic() {
            Tok::Ident(identifier(&mut c))
        } else if ch.is_ascii_digit()
            || (ch == '-' && c.peek2().is_some_and(|d| d.is_ascii_digit()))
        {
            let negative = ch == '-';
            if negative {
                c.bump();
            }
            let digits = take_while(&mut c, |x| x.is_ascii_digit());
            let n: i128 = digits
                .parse::<u128>()
                .ok()
                .and_then(|v| i128::try_from(v).ok())
                .filter(|v| *v <= i128::from(u64::MAX))
                .ok_or_else(|| SyntaxError::new(pos, format!("number {digits} is too large")))?;
            Tok::Number(if negative { -n } else { n })
        } else if ch == '"' {
            c.bump();
            let mut s = String::new();
            loop {
                match c.bump() {
                    None => {
                        return Err(SyntaxError::new(
                            pos,
                            "string not terminated (expected `\"`)",
                        ))
                    }
                    Some('"') if c.peek() == Some('"') => {
                        c.bump();
                        s.push('"');
                    }
                    Some('"') => break,
                    Some(x) => s.push(x),
                }
            }
            Tok::Str(s)
        } else if ch == '\'' {
            c.bump();
            let body = take_while(&mut c, |x| x != '\'' && x != '\n');
            if c.bump() != Some('\'') {
                return Err(SyntaxError::new(
                    pos,
                    "hex or binary string not terminated (expected `'H` or `'B`)",
                ));
            }
            match c.bump() {
                Some('H' | 'h') => {
                    Tok::Hex(hex_octets(&body).ok_or_else(|| {
                        SyntaxError::new(pos, format!("bad hex string '{body}'H"))
                    })?)
                }
                Some('B' | 'b') if body.chars().all(|x| x == '0' || x == '1') => Tok::Bin(body),
                _ => {
                    return Err(SyntaxError::new(
                        pos,
                        format!("bad quoted value '{body}' (expected '...'H or '...'B)"),
                    ))
                }
            }
        } else if ch == ':' && c.peek2() == Some(':') {
            c.bump();
            c.bump();
            if c.peek() != Some('=') {
                return Err(SyntaxError::new(pos, "expected `::=`"));
            }
            c.bump();
            Tok::Assign
        } else if ch == '.' && c.peek2() == Some('.') {
            c.bump();
            c.bump();
            Tok::Range
        } else {
            c.bump();
            Tok::Punct(ch)
        };
        out.push(Token { tok, pos });
    }
    Ok(out)
}

/// Letters, digits, `_` and single hyphens between them: a hyphen that starts `--` or
/// ends the word is not part of it (`mib-2--note` is `mib-2` and a comment).
fn identifier(c: &mut Cursor<'_>) -> String {
    let mut s = String::new();
    while let Some(x) = c.peek() {
        let ok = x.is_ascii_alphanumeric()
            || x == '_'
            || (x == '-' && c.peek2().is_some_and(|n| n.is_ascii_alphanumeric()));
        if !ok {
            break;
        }
        s.push(x);
        c.bump();
    }
    s
}

/// An ASN.1 comment runs from `--` to the end of the line or to the next `--`. A comment that
/// opens with three dashes or more (a ruler, `-------- Section`) runs to the end of the line,
/// as MIB authors mean it to.
fn skip_comment(c: &mut Cursor<'_>) {
    c.bump();
    c.bump();
    if c.peek() == Some('-') {
        while c.peek().is_some_and(|x| x != '\n') {
            c.bump();
        }
        return;
    }
    while let Some(x) = c.peek() {
        if x == '\n' {
            return;
        }
        if x == '-' && c.peek2() == Some('-') {
            c.bump();
            c.bump();
            return;
        }
        c.bump();
    }
}

fn take_while(c: &mut Cursor<'_>, f: impl Fn(char) -> bool) -> String {
    let mut s = String::new();
    while let Some(x) = c.peek() {
        if !f(x) {
            break;
        }
        s.push(x);
        c.bump();
    }
    s
}

/// Hex digits to octets; an odd count is padded with a trailing zero nibble (X.680).
fn hex_octets(s: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s
        .chars()
        .filter(|x| !x.is_whitespace())
        .map(|x| x.to_digit(16).and_then(|d| u8::try_from(d).ok()))
        .collect::<Option<_>>()?;
    Some(
        digits
            .chunks(2)
            .map(|p| match p {
                [hi, lo] => hi << 4 | lo,
                [hi] => hi << 4,
                _ => 0,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn kinds() {
        assert_eq!(
            toks("ifIndex OBJECT-TYPE ::= { mib-2 2 } -- comment\n(0..-5) '0aF'H '01'B \"a\"\"b\""),
            vec![
                Tok::Ident("ifIndex".into()),
                Tok::Ident("OBJECT-TYPE".into()),
                Tok::Assign,
                Tok::Punct('{'),
                Tok::Ident("mib-2".into()),
                Tok::Number(2),
                Tok::Punct('}'),
                Tok::Punct('('),
                Tok::Number(0),
                Tok::Range,
                Tok::Number(-5),
                Tok::Punct(')'),
                Tok::Hex(vec![0x0a, 0xf0]),
                Tok::Bin("01".into()),
                Tok::Str("a\"b".into()),
            ]
        );
    }

    #[test]
    fn comments_end_at_double_dash_or_line() {
        assert_eq!(
            toks("a -- one -- b\n-- two\nc ------\nd"),
            vec![
                Tok::Ident("a".into()),
                Tok::Ident("b".into()),
                Tok::Ident("c".into()),
                Tok::Ident("d".into())
            ]
        );
    }

    #[test]
    fn rulers_and_hyphens() {
        assert_eq!(
            toks("-------- Section\nx mib-2--note\ny-"),
            vec![
                Tok::Ident("x".into()),
                Tok::Ident("mib-2".into()),
                Tok::Ident("y".into()),
                Tok::Punct('-'),
            ]
        );
    }

    #[test]
    fn positions_and_errors() {
        let t = tokenize("a\n  \"x\ny\" b").unwrap();
        assert_eq!(t[1].pos, Pos { line: 2, column: 3 });
        assert_eq!(t[2].pos, Pos { line: 3, column: 4 });
        let e = tokenize("x \"open").unwrap_err();
        assert_eq!(e.pos, Pos { line: 1, column: 3 });
        assert!(tokenize("'zz'H").is_err());
        assert!(tokenize("'01'X").is_err());
        assert!(tokenize("99999999999999999999999").is_err());
        assert_eq!(
            toks("18446744073709551615"),
            vec![Tok::Number(u64::MAX.into())]
        );
    }
}
