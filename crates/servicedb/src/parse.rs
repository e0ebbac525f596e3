//! Parsing one line into an [`Entry`], with the rules of the chosen [`Mode`].
//!
//! Rules that involve other lines (duplicates, the application limit) live in
//! [`tier`](crate::tier); this module only looks at one line.

use std::collections::HashSet;

use crate::error::{Expected, ParseError};
use crate::lex::{split_line, Token};
use crate::{Entry, Protocol, MAX_NAME_LEN};

/// How strictly lines are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Maynard's own services file: every rule of seed 004 is enforced.
    Application,
    /// The host's /etc/services: names of any length and characters, malformed `tos-`/`weight-`
    /// words are aliases, lines with an unknown protocol are skipped.
    Host,
}

/// A line that parsed, with the places of the tokens that rules across lines may point at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParsedLine<'a> {
    /// The entry of the line.
    pub(crate) entry: Entry,
    /// Where the name is.
    pub(crate) name: Token<'a>,
    /// Where the port number (the part before `/`) is.
    pub(crate) port: Token<'a>,
    /// Where each alias is, in the order of `entry.aliases`.
    pub(crate) aliases: Vec<Token<'a>>,
}

/// Where errors of one line go: the origin and line number they carry, and the list they join.
struct Report<'e> {
    origin: &'e str,
    line: usize,
    errors: &'e mut Vec<ParseError>,
    found: bool,
}

impl Report<'_> {
    fn push(&mut self, token: &str, column: usize, expected: Expected) {
        self.found = true;
        self.errors.push(ParseError {
            file: self.origin.to_string(),
            line: self.line,
            column,
            token: token.to_string(),
            expected,
        });
    }
}

/// Parses line number `line` (1-based) of `origin`. Returns `None` for blank and comment lines,
/// for lines skipped in host mode, and for lines with errors (which are appended to `errors`).
pub(crate) fn parse_line<'a>(
    text: &'a str,
    line: usize,
    origin: &str,
    mode: Mode,
    errors: &mut Vec<ParseError>,
) -> Option<ParsedLine<'a>> {
    let split = split_line(text);
    let mut tokens = split.tokens.iter().copied();
    let name = tokens.next()?;
    let mut report = Report {
        origin,
        line,
        errors,
        found: false,
    };
    if mode == Mode::Application {
        if let Some(expected) = check_name(name.text) {
            report.push(name.text, name.column, expected);
        }
    }

    let Some(field) = tokens.next() else {
        report.push("", split.end_column(), Expected::PortProtocol);
        return None;
    };
    let Some((port_text, protocol_text)) = field.text.split_once('/') else {
        report.push(field.text, field.column, Expected::PortProtocol);
        return None;
    };
    let protocol = match protocol_text.parse::<Protocol>() {
        Ok(protocol) => Some(protocol),
        Err(_) if protocol_text.is_empty() => {
            report.push(field.text, field.column, Expected::Protocol);
            None
        }
        // Host files list ddp, sctp, ... services: not ours, skipped without a word.
        Err(_) if mode == Mode::Host => return None,
        Err(_) => {
            let column = field
                .column
                .saturating_add(port_text.chars().count())
                .saturating_add(1);
            report.push(protocol_text, column, Expected::Protocol);
            None
        }
    };
    let port = decimal(port_text).and_then(|p| u16::try_from(p).ok());
    if port.is_none() {
        let shown = if port_text.is_empty() {
            field.text
        } else {
            port_text
        };
        report.push(shown, field.column, Expected::PortNumber);
    }

    let mut aliases = Vec::new();
    let mut alias_tokens: Vec<Token<'a>> = Vec::new();
    // The line's names seen so far, lowercase (a set: a line may hold very many aliases).
    let mut seen: HashSet<String> = HashSet::from([name.text.to_ascii_lowercase()]);
    let mut tos: Option<u8> = None;
    let mut weight: Option<u16> = None;
    for token in tokens {
        if let Some(value) = keyword_value(token.text, "tos-") {
            let value = decimal(value).and_then(|v| u8::try_from(v).ok());
            match (mode, value, tos) {
                (_, Some(v), None) => {
                    tos = Some(v);
                    continue;
                }
                (Mode::Application, None, _) => {
                    report.push(token.text, token.column, Expected::TosValue);
                    continue;
                }
                (Mode::Application, Some(_), Some(_)) => {
                    report.push(token.text, token.column, Expected::SingleTos);
                    continue;
                }
                (Mode::Host, _, _) => {} // kept as an alias
            }
        } else if let Some(value) = keyword_value(token.text, "weight-") {
            let value = decimal(value)
                .filter(|v| (1..=1000).contains(v))
                .and_then(|v| u16::try_from(v).ok());
            match (mode, value, weight) {
                (_, Some(v), None) => {
                    weight = Some(v);
                    continue;
                }
                (Mode::Application, None, _) => {
                    report.push(token.text, token.column, Expected::WeightValue);
                    continue;
                }
                (Mode::Application, Some(_), Some(_)) => {
                    report.push(token.text, token.column, Expected::SingleWeight);
                    continue;
                }
                (Mode::Host, _, _) => {} // kept as an alias
            }
        }
        if mode == Mode::Application {
            if let Some(expected) = check_name(token.text) {
                report.push(token.text, token.column, expected);
            } else if !seen.insert(token.text.to_ascii_lowercase()) {
                report.push(token.text, token.column, Expected::DistinctAlias);
            }
        }
        aliases.push(token.text.to_string());
        alias_tokens.push(token);
    }

    if report.found {
        return None;
    }
    let (Some(port), Some(protocol)) = (port, protocol) else {
        return None;
    };
    Some(ParsedLine {
        entry: Entry {
            name: name.text.to_string(),
            port,
            protocol,
            aliases,
            tos,
            weight,
            comment: split.comment.map(str::to_string),
            line,
        },
        name,
        port: Token {
            text: port_text,
            column: field.column,
        },
        aliases: alias_tokens,
    })
}

/// Checks a name or alias against the application database's rules; `None` when it is valid.
pub(crate) fn check_name(name: &str) -> Option<Expected> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+');
    let starts_well = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    if !starts_well || !name.chars().all(allowed) {
        Some(Expected::NameCharacters)
    } else if name.chars().count() > MAX_NAME_LEN {
        Some(Expected::NameLength)
    } else if name.chars().all(|c| c.is_ascii_digit()) {
        Some(Expected::NotOnlyDigits)
    } else if name.eq_ignore_ascii_case("OTHER") {
        Some(Expected::NotReserved)
    } else {
        None
    }
}

/// The text after `prefix` (an ASCII keyword such as `tos-`) when `text` starts with it in any case.
fn keyword_value<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    let head = text.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        text.get(prefix.len()..)
    } else {
        None
    }
}

/// A non-empty string of ASCII digits as a number; `None` for anything else or above `u32::MAX`.
pub(crate) fn decimal(text: &str) -> Option<u32> {
    if text.is_empty() {
        return None;
    }
    text.bytes().try_fold(0u32, |acc, b| {
        let digit = u32::from(b.checked_sub(b'0').filter(|d| *d <= 9)?);
        acc.checked_mul(10)?.checked_add(digit)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, mode: Mode) -> Result<Option<Entry>, Vec<(usize, String, Expected)>> {
        let mut errors = Vec::new();
        let parsed = parse_line(text, 1, "t", mode, &mut errors);
        if errors.is_empty() {
            Ok(parsed.map(|p| p.entry))
        } else {
            assert!(parsed.is_none());
            Err(errors
                .into_iter()
                .map(|e| (e.column, e.token, e.expected))
                .collect())
        }
    }

    fn app(text: &str) -> Result<Option<Entry>, Vec<(usize, String, Expected)>> {
        parse(text, Mode::Application)
    }

    fn host(text: &str) -> Result<Option<Entry>, Vec<(usize, String, Expected)>> {
        parse(text, Mode::Host)
    }

    fn one_error(text: &str) -> (usize, String, Expected) {
        match app(text) {
            Err(mut errors) if errors.len() == 1 => errors.remove(0),
            other => panic!("{text:?}: expected one error, got {other:?}"),
        }
    }

    #[test]
    fn decimal_numbers() {
        assert_eq!(decimal("0"), Some(0));
        assert_eq!(decimal("0025"), Some(25));
        assert_eq!(decimal("65535"), Some(65535));
        assert_eq!(decimal("4294967295"), Some(u32::MAX));
        assert_eq!(decimal("4294967296"), None);
        assert_eq!(decimal("99999999999999999999999"), None);
        for bad in ["", "+1", "-1", "0x19", "1e3", " 1", "١"] {
            assert_eq!(decimal(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn keyword_prefix_any_case() {
        assert_eq!(keyword_value("tos-5", "tos-"), Some("5"));
        assert_eq!(keyword_value("TOS-5", "tos-"), Some("5"));
        assert_eq!(keyword_value("Weight-", "weight-"), Some(""));
        assert_eq!(keyword_value("tos", "tos-"), None);
        assert_eq!(keyword_value("tosx5", "tos-"), None);
        assert_eq!(keyword_value("tö-5", "tos-"), None);
        assert_eq!(keyword_value("ééé", "tos-"), None);
    }

    #[test]
    fn names() {
        for good in [
            "a",
            "smtp",
            "ftp-data",
            "snmp-trap",
            "x_y.z+w",
            "3com-tsm",
            "a23456789",
            "OTHERS",
        ] {
            assert_eq!(check_name(good), None, "{good:?}");
        }
        for bad in ["-a", "_a", ".a", "+a", "a/b", "a@b", "é", "aé", "a\u{0}"] {
            assert_eq!(check_name(bad), Some(Expected::NameCharacters), "{bad:?}");
        }
        assert_eq!(check_name("a234567890"), Some(Expected::NameLength));
        assert_eq!(check_name("1414"), Some(Expected::NotOnlyDigits));
        for other in ["OTHER", "other", "Other"] {
            assert_eq!(check_name(other), Some(Expected::NotReserved));
        }
    }

    #[test]
    fn blank_and_comment_lines_give_nothing() {
        for text in ["", "   ", "\t", "# comment", "   # indented comment", "#"] {
            assert_eq!(app(text), Ok(None), "{text:?}");
            assert_eq!(host(text), Ok(None), "{text:?}");
        }
    }

    #[test]
    fn full_line() {
        let e = app("mq   1414/TCP  mqseries Tos-5 WEIGHT-100  #MQ Series ")
            .unwrap()
            .unwrap();
        assert_eq!(e.name, "mq");
        assert_eq!(e.port, 1414);
        assert_eq!(e.protocol, Protocol::Tcp);
        assert_eq!(e.aliases, vec!["mqseries".to_string()]);
        assert_eq!(e.tos, Some(5));
        assert_eq!(e.weight, Some(100));
        assert_eq!(e.comment.as_deref(), Some("MQ Series"));
        assert_eq!(e.line, 1);
    }

    #[test]
    fn keywords_among_aliases() {
        let e = app("http 80/tcp www weight-7 web tos-0 w3")
            .unwrap()
            .unwrap();
        assert_eq!(e.aliases, vec!["www", "web", "w3"]);
        assert_eq!((e.tos, e.weight), (Some(0), Some(7)));
    }

    #[test]
    fn limits_of_values() {
        let e = app("a 0/udp tos-255 weight-1").unwrap().unwrap();
        assert_eq!((e.port, e.tos, e.weight), (0, Some(255), Some(1)));
        let e = app("a 65535/udp tos-0 weight-1000").unwrap().unwrap();
        assert_eq!((e.port, e.tos, e.weight), (65535, Some(0), Some(1000)));
        let e = app("a 00025/udp tos-007").unwrap().unwrap();
        assert_eq!((e.port, e.tos), (25, Some(7)));
    }

    #[test]
    fn empty_comment_is_none() {
        let e = app("a 1/udp #   ").unwrap().unwrap();
        assert_eq!(e.comment, None);
        let e = app("a 1/udp#x").unwrap().unwrap();
        assert_eq!(e.comment.as_deref(), Some("x"));
    }

    #[test]
    fn missing_port_protocol() {
        assert_eq!(
            one_error("smtp"),
            (5, String::new(), Expected::PortProtocol)
        );
        assert_eq!(
            one_error("  smtp   # mail"),
            (7, String::new(), Expected::PortProtocol)
        );
        assert_eq!(
            one_error("smtp 25"),
            (6, "25".into(), Expected::PortProtocol)
        );
        assert_eq!(
            app("smtp tcp/"),
            Err(vec![
                (6, "tcp/".into(), Expected::Protocol),
                (6, "tcp".into(), Expected::PortNumber),
            ])
        );
    }

    #[test]
    fn bad_ports() {
        assert_eq!(
            one_error("rpc port1/tcp"),
            (5, "port1".into(), Expected::PortNumber)
        );
        assert_eq!(
            one_error("a 65536/tcp"),
            (3, "65536".into(), Expected::PortNumber)
        );
        assert_eq!(
            one_error("a -1/tcp"),
            (3, "-1".into(), Expected::PortNumber)
        );
        assert_eq!(
            one_error("a +1/tcp"),
            (3, "+1".into(), Expected::PortNumber)
        );
        assert_eq!(
            one_error("a 0x19/tcp"),
            (3, "0x19".into(), Expected::PortNumber)
        );
        assert_eq!(
            one_error("a /tcp"),
            (3, "/tcp".into(), Expected::PortNumber)
        );
        assert_eq!(
            one_error("a 99999999999999999999/tcp"),
            (3, "99999999999999999999".into(), Expected::PortNumber)
        );
    }

    #[test]
    fn bad_protocols() {
        assert_eq!(
            one_error("a 25/sctp"),
            (6, "sctp".into(), Expected::Protocol)
        );
        assert_eq!(
            one_error("a  25/tcp/x"),
            (7, "tcp/x".into(), Expected::Protocol)
        );
        assert_eq!(one_error("a 25/"), (3, "25/".into(), Expected::Protocol));
    }

    #[test]
    fn several_errors_on_one_line() {
        assert_eq!(
            app("é 25/ip"),
            Err(vec![
                (1, "é".into(), Expected::NameCharacters),
                (6, "ip".into(), Expected::Protocol),
            ])
        );
        assert_eq!(
            app("toolongname port1/xyz tos-256 weight-0 OTHER"),
            Err(vec![
                (1, "toolongname".into(), Expected::NameLength),
                (19, "xyz".into(), Expected::Protocol),
                (13, "port1".into(), Expected::PortNumber),
                (23, "tos-256".into(), Expected::TosValue),
                (31, "weight-0".into(), Expected::WeightValue),
                (40, "OTHER".into(), Expected::NotReserved),
            ])
        );
    }

    #[test]
    fn name_errors() {
        assert_eq!(
            one_error("OTHER 1/tcp"),
            (1, "OTHER".into(), Expected::NotReserved)
        );
        assert_eq!(
            one_error(" other 1/tcp"),
            (2, "other".into(), Expected::NotReserved)
        );
        assert_eq!(
            one_error("a234567890 1/tcp"),
            (1, "a234567890".into(), Expected::NameLength)
        );
        assert_eq!(
            one_error("-a 1/tcp"),
            (1, "-a".into(), Expected::NameCharacters)
        );
        assert_eq!(
            one_error("80 1/tcp"),
            (1, "80".into(), Expected::NotOnlyDigits)
        );
    }

    #[test]
    fn tos_errors() {
        for bad in ["tos-256", "tos-", "tos-x", "tos--1", "TOS-1000000000000"] {
            let line = format!("a 1/tcp {bad}");
            assert_eq!(one_error(&line), (9, bad.to_string(), Expected::TosValue));
        }
        assert_eq!(
            one_error("a 1/tcp tos-1 tos-2"),
            (15, "tos-2".into(), Expected::SingleTos)
        );
        assert_eq!(
            one_error("a 1/tcp tos-1 TOS-1"),
            (15, "TOS-1".into(), Expected::SingleTos)
        );
    }

    #[test]
    fn weight_errors() {
        for bad in [
            "weight-0",
            "weight-1001",
            "weight-",
            "weight-1.5",
            "Weight-65636",
        ] {
            let line = format!("a 1/tcp {bad}");
            assert_eq!(
                one_error(&line),
                (9, bad.to_string(), Expected::WeightValue)
            );
        }
        assert_eq!(
            one_error("a 1/tcp weight-1 b weight-2"),
            (20, "weight-2".into(), Expected::SingleWeight)
        );
    }

    #[test]
    fn alias_errors() {
        assert_eq!(
            one_error("a 1/tcp b c B"),
            (13, "B".into(), Expected::DistinctAlias)
        );
        assert_eq!(
            one_error("a 1/tcp A"),
            (9, "A".into(), Expected::DistinctAlias)
        );
        assert_eq!(
            one_error("a 1/tcp other"),
            (9, "other".into(), Expected::NotReserved)
        );
        assert_eq!(
            one_error("a 1/tcp b/c"),
            (9, "b/c".into(), Expected::NameCharacters)
        );
        assert_eq!(
            one_error("a 1/tcp 1234567890"),
            (9, "1234567890".into(), Expected::NameLength)
        );
        assert_eq!(
            one_error("a 1/tcp 25"),
            (9, "25".into(), Expected::NotOnlyDigits)
        );
        // "tos" and "weight" without a dash are ordinary aliases.
        let e = app("a 1/tcp tos weight").unwrap().unwrap();
        assert_eq!(e.aliases, vec!["tos", "weight"]);
        assert_eq!((e.tos, e.weight), (None, None));
    }

    #[test]
    fn host_mode_is_lenient() {
        let e = host("kerberos-adm 749/tcp kerberos-master.example  # Kerberos `kadmin' (v5)")
            .unwrap()
            .unwrap();
        assert_eq!(e.name, "kerberos-adm");
        assert_eq!(e.aliases, vec!["kerberos-master.example"]);
        assert_eq!(e.comment.as_deref(), Some("Kerberos `kadmin' (v5)"));
        let e = host("OTHER 1/tcp other -x 12345 tos-999 weight-0 tos-3 tos-4 weight-5 weight-6")
            .unwrap()
            .unwrap();
        assert_eq!(e.name, "OTHER");
        assert_eq!(
            e.aliases,
            vec!["other", "-x", "12345", "tos-999", "weight-0", "tos-4", "weight-6"]
        );
        assert_eq!((e.tos, e.weight), (Some(3), Some(5)));
    }

    #[test]
    fn host_mode_skips_unknown_protocols() {
        assert_eq!(
            host("rtmp 1/ddp # Routing Table Maintenance Protocol"),
            Ok(None)
        );
        assert_eq!(host("sctp-thing 9/sctp"), Ok(None));
        assert_eq!(host("bad port1/sctp"), Ok(None));
    }

    #[test]
    fn host_mode_unusable_lines() {
        assert_eq!(
            host("name"),
            Err(vec![(5, String::new(), Expected::PortProtocol)])
        );
        assert_eq!(
            host("name 25"),
            Err(vec![(6, "25".into(), Expected::PortProtocol)])
        );
        assert_eq!(
            host("name x/tcp"),
            Err(vec![(6, "x".into(), Expected::PortNumber)])
        );
        assert_eq!(
            host("name 25/"),
            Err(vec![(6, "25/".into(), Expected::Protocol)])
        );
        assert_eq!(
            host("name 70000/udp"),
            Err(vec![(6, "70000".into(), Expected::PortNumber)])
        );
    }

    #[test]
    fn token_places() {
        let mut errors = Vec::new();
        let parsed = parse_line(
            "  web\t 8080/tcp  www  w3",
            4,
            "t",
            Mode::Application,
            &mut errors,
        )
        .unwrap();
        assert!(errors.is_empty());
        assert_eq!(
            parsed.name,
            Token {
                text: "web",
                column: 3
            }
        );
        assert_eq!(
            parsed.port,
            Token {
                text: "8080",
                column: 8
            }
        );
        assert_eq!(
            parsed.aliases,
            vec![
                Token {
                    text: "www",
                    column: 18
                },
                Token {
                    text: "w3",
                    column: 23
                }
            ]
        );
        assert_eq!(parsed.entry.line, 4);
    }
}
