//! Parsing a filter file (seed 001's format) into a loaded [`FilterList`].
//!
//! `action protocol saddr [sport] daddr [dport [doption]] [start time] [end time] [repeat] [log]`

use std::net::{Ipv4Addr, Ipv6Addr};

use servicedb::{Protocol, ServiceDb};

use crate::diag::{Diagnostic, FilterErrors, Severity};
use crate::lex::{logical_lines, Token};
use wire::prefix::{Family, IpPrefix};

use crate::rule::{Action, PortMatch, PortOp, Proto, Rule, TimeSpec};
use crate::shadow::{shadowed, SHADOW_CHECK_LIMIT};
use crate::vmstime::{self, LocalTime};
use crate::window;

/// A loaded filter list: the rules in force (in file order) and what the parser had to say.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct FilterList {
    /// The rules, in order; index = position for the classifier, `line` = file line.
    pub rules: Vec<Rule>,
    /// Warnings: lines accepted that are probably mistakes, and lines not loaded.
    pub warnings: Vec<Diagnostic>,
    /// File lines of filters not loaded because their end time had passed.
    pub not_loaded: Vec<usize>,
}

/// The ICMP message type names of seed 001 (with the usual hyphenated spellings), as
/// (name, ICMPv4 type, ICMPv6 type if the message exists there).
pub const ICMP_TYPES: &[(&str, u8, Option<u8>)] = &[
    ("echo-reply", 0, Some(129)),
    ("destination-unreachable", 3, Some(1)),
    ("unreachable", 3, Some(1)),
    ("source-quench", 4, None),
    ("redirect", 5, Some(137)),
    ("echo", 8, Some(128)),
    ("echo-request", 8, Some(128)),
    ("time-exceeded", 11, Some(3)),
    ("parameter-problem", 12, Some(4)),
    ("timestamp", 13, None),
    ("timestamp-reply", 14, None),
    ("information-request", 15, None),
    ("information-reply", 16, None),
];

/// Parses and loads a filter file.
///
/// `origin` names the file in diagnostics; `services` resolves port names; `now` is the load time
/// (time windows are resolved against it, and a non-repeating filter whose end has passed is not
/// loaded: it is listed in [`FilterList::not_loaded`] with a warning naming its line).
///
/// Every error of the file is collected; if there is any, nothing is loaded and the
/// [`FilterErrors`] holds the errors and warnings in line order.
pub fn parse(
    text: &str,
    origin: &str,
    services: &ServiceDb,
    now: LocalTime,
) -> Result<FilterList, FilterErrors> {
    let mut p = Parser {
        origin,
        services,
        now,
        diags: Vec::new(),
    };
    let mut list = FilterList::default();
    for logical in logical_lines(text) {
        let tokens = match logical.tokens {
            Ok(t) => t,
            Err(e) => {
                p.diags.push(Diagnostic {
                    severity: Severity::Error,
                    file: origin.to_string(),
                    line: e.line,
                    column: e.column,
                    token: e.token,
                    message: format!("expected {}", e.message),
                });
                continue;
            }
        };
        match p.line(logical.line, &tokens) {
            Some(Loaded::Rule(r)) => list.rules.push(*r),
            Some(Loaded::Expired(line)) => list.not_loaded.push(line),
            None => {}
        }
    }
    if list.rules.len() <= SHADOW_CHECK_LIMIT {
        for (later, earlier) in shadowed(&list.rules) {
            if let (Some(l), Some(e)) = (list.rules.get(later), list.rules.get(earlier)) {
                p.diag(
                    Severity::Warning,
                    l.line,
                    1,
                    l.action.as_str(),
                    format!(
                        "this rule never matches: the rule on line {} ({}) takes every packet it \
                         would (first match wins)",
                        e.line,
                        e.to_line()
                    ),
                );
            }
        }
    }
    p.diags.sort_by_key(|d| (d.line, d.column));
    if p.diags.iter().any(|d| d.severity == Severity::Error) {
        return Err(FilterErrors {
            diagnostics: p.diags,
        });
    }
    list.warnings = p.diags;
    Ok(list)
}

enum Loaded {
    Rule(Box<Rule>),
    Expired(usize),
}

struct Parser<'a> {
    origin: &'a str,
    services: &'a ServiceDb,
    now: LocalTime,
    diags: Vec<Diagnostic>,
}

fn looks_like_address(t: &Token) -> bool {
    !t.quoted
        && (t.text.contains(':')
            || t.text.starts_with(|c: char| c.is_ascii_digit()) && !t.text.contains('-'))
}

fn is_keyword(t: &Token) -> bool {
    !t.quoted
        && matches!(
            t.text.to_ascii_lowercase().as_str(),
            "start" | "end" | "repeat" | "log" | "established"
        )
}

impl Parser<'_> {
    fn diag(&mut self, severity: Severity, line: usize, column: usize, token: &str, msg: String) {
        self.diags.push(Diagnostic {
            severity,
            file: self.origin.to_string(),
            line,
            column,
            token: token.to_string(),
            message: msg,
        });
    }

    fn error_at(&mut self, t: &Token, msg: impl Into<String>) {
        self.diag(Severity::Error, t.line, t.column, &t.text, msg.into());
    }

    fn warn_at(&mut self, t: &Token, msg: impl Into<String>) {
        self.diag(Severity::Warning, t.line, t.column, &t.text, msg.into());
    }

    /// The position just after the last token, for "line ended early" errors.
    fn end_error(&mut self, tokens: &[Token], line: usize, msg: &str) {
        let (l, c) = tokens
            .last()
            .map(|t| {
                (
                    t.line,
                    t.column + t.text.chars().count() + if t.quoted { 2 } else { 0 },
                )
            })
            .unwrap_or((line, 1));
        self.diag(Severity::Error, l, c + 1, "", msg.to_string());
    }

    fn line(&mut self, line: usize, tokens: &[Token]) -> Option<Loaded> {
        let errors_before = self.error_count();
        let mut it = tokens.iter().peekable();
        let first = it.next()?;
        let action = match first.text.to_ascii_lowercase().as_str() {
            "permit" => Action::Permit,
            "deny" => Action::Deny,
            "drop" => Action::Drop,
            _ => {
                self.error_at(first, "expected an action: permit, deny or drop");
                return None;
            }
        };
        let Some(pt) = it.next() else {
            self.end_error(
                tokens,
                line,
                "expected a protocol: ip, tcp, udp, icmp or a number",
            );
            return None;
        };
        let proto = match pt.text.to_ascii_lowercase().as_str() {
            "ip" => Proto::Any,
            "tcp" => Proto::Tcp,
            "udp" => Proto::Udp,
            "icmp" => Proto::Icmp,
            s => match s.parse::<u8>() {
                Ok(6) => Proto::Tcp,
                Ok(17) => Proto::Udp,
                Ok(n) => Proto::Number(n),
                Err(_) => {
                    self.error_at(
                        pt,
                        "expected a protocol: ip, tcp, udp, icmp or a number 0-255",
                    );
                    return None;
                }
            },
        };
        let mut rule = Rule::any(line, action, proto);

        // Source address, optional source port, destination address.
        match it.peek() {
            Some(t) if !is_keyword(t) => {
                let t = it.next()?;
                let src = self.address(t, None)?;
                rule.family = Some(src.family());
                rule.src = src;
                rule.dst = IpPrefix::any(src.family());
                if let Some(op_tok) = it.peek().filter(|t| PortOp::parse(&t.text).is_some()) {
                    let op_tok = *op_tok;
                    it.next();
                    rule.sport = self.port_clause(op_tok, it.next(), proto, false, src.family());
                }
                match it.peek() {
                    Some(t) if !is_keyword(t) && PortOp::parse(&t.text).is_none() => {
                        let t = it.next()?;
                        if let Some(dst) = self.address(t, Some(src.family())) {
                            rule.dst = dst;
                        }
                    }
                    _ => {
                        let at = it.peek().copied();
                        let msg = format!(
                            "no destination address: the rule matches any destination ({})",
                            IpPrefix::any(src.family())
                        );
                        match at {
                            Some(t) => self.warn_at(t, msg),
                            None => self.diag(Severity::Warning, t.line, t.column, &t.text, msg),
                        }
                    }
                }
            }
            _ => {
                let msg =
                    "no addresses: the rule matches any source and destination, IPv4 and IPv6";
                match it.peek() {
                    Some(t) => self.warn_at(t, msg),
                    None => self.diag(Severity::Warning, pt.line, pt.column, &pt.text, msg.into()),
                }
            }
        }

        // Destination port / ICMP type.
        if let Some(op_tok) = it.peek().filter(|t| PortOp::parse(&t.text).is_some()) {
            let op_tok = *op_tok;
            it.next();
            let fam = rule.family.unwrap_or(Family::V4);
            rule.dport = self.port_clause(op_tok, it.next(), proto, true, fam);
            if rule.family.is_none() && proto == Proto::Icmp {
                self.error_at(op_tok, "expected addresses before an ICMP type (the type numbers differ between ICMP and ICMPv6)");
            }
        }

        // Options and time clauses, each at most once.
        let mut time = TimeSpec::default();
        let mut seen: Vec<&str> = Vec::new();
        let mut repeat_tok: Option<&Token> = None;
        while let Some(t) = it.next() {
            let kw = t.text.to_ascii_lowercase();
            let key: &'static str = match kw.as_str() {
                "established" if !t.quoted => "established",
                "start" if !t.quoted => "start",
                "end" if !t.quoted => "end",
                "repeat" if !t.quoted => "repeat",
                "log" if !t.quoted => "log",
                _ => {
                    let msg = if looks_like_address(t) && !t.text.contains(':') {
                        "expected a port operator (lt le eq ge gt ne), established, start, end, \
                         repeat or log, not another address (an old-format address/mask pair? \
                         convert the file with FILTER_CONVERT)"
                            .to_string()
                    } else if vmstime::parse(&t.text).is_ok()
                        && seen.last().is_some_and(|k| *k == "start" || *k == "end")
                    {
                        "expected start, end, repeat or log; a time with a blank must be quoted \
                         (\"29-DEC-2003 18:03\")"
                            .to_string()
                    } else {
                        "expected a port operator (lt le eq ge gt ne), established, start, end, \
                         repeat or log"
                            .to_string()
                    };
                    self.error_at(t, msg);
                    break;
                }
            };
            if seen.contains(&key) {
                self.error_at(t, format!("expected `{key}` at most once"));
                continue;
            }
            seen.push(key);
            match key {
                "established" => {
                    if proto != Proto::Tcp {
                        self.error_at(t, "expected established only in tcp rules (it tests the ACK and RST flags)");
                    }
                    if time.start.is_some() || time.end.is_some() || rule.log {
                        self.warn_at(t, "established belongs right after the destination port");
                    }
                    rule.established = true;
                }
                "start" | "end" => {
                    let Some(v) = it.next() else {
                        self.end_error(tokens, line, "expected a VMS time after start/end");
                        break;
                    };
                    match vmstime::parse(&v.text) {
                        Ok(tv) => {
                            if key == "start" {
                                time.start = Some(tv);
                            } else {
                                time.end = Some(tv);
                            }
                        }
                        Err(e) => {
                            let col = v.column + usize::from(v.quoted) + e.offset;
                            self.diag(
                                Severity::Error,
                                v.line,
                                col,
                                &v.text,
                                format!("expected a VMS absolute or delta time: {}", e.expected),
                            );
                        }
                    }
                }
                "repeat" => {
                    repeat_tok = Some(t);
                    time.repeat = true;
                    if let Some(y) = it.peek() {
                        match y.text.to_ascii_uppercase().as_str() {
                            "Y" | "YES" => {
                                it.next();
                            }
                            "N" | "NO" => {
                                it.next();
                                time.repeat = false;
                            }
                            _ => {}
                        }
                    }
                }
                _ => rule.log = true,
            }
        }
        rule.time = time;
        if self.error_count() > errors_before {
            return None;
        }
        let anchor = repeat_tok.or_else(|| tokens.first())?;
        let resolved = match window::resolve(&time, self.now) {
            Ok(r) => r,
            Err(message) => {
                self.error_at(anchor, message);
                return None;
            }
        };
        if let Some(w) = resolved.warning {
            self.warn_at(anchor, w);
        }
        match resolved.window {
            Some(w) => {
                rule.window = w;
                Some(Loaded::Rule(Box::new(rule)))
            }
            None => {
                self.diag(
                    Severity::Warning,
                    line,
                    1,
                    &first.text,
                    format!(
                        "end time already passed at load time {}: filter on line {line} not loaded",
                        self.now
                    ),
                );
                Some(Loaded::Expired(line))
            }
        }
    }

    fn error_count(&self) -> usize {
        self.diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    fn port_clause(
        &mut self,
        op_tok: &Token,
        value: Option<&Token>,
        proto: Proto,
        destination: bool,
        family: Family,
    ) -> Option<PortMatch> {
        let op = PortOp::parse(&op_tok.text)?;
        let Some(v) = value else {
            self.diag(
                Severity::Error,
                op_tok.line,
                op_tok.column + op_tok.text.len() + 1,
                "",
                "expected a port or ICMP type after the operator".into(),
            );
            return None;
        };
        match proto {
            Proto::Tcp | Proto::Udp => {
                let sp = if proto == Proto::Tcp {
                    Protocol::Tcp
                } else {
                    Protocol::Udp
                };
                match self.services.port_by_name(&v.text, sp) {
                    Some(port) => Some(PortMatch { op, value: port }),
                    None => {
                        self.error_at(
                            v,
                            format!("expected a port number 0-65535 or a {sp} service name from the services database"),
                        );
                        None
                    }
                }
            }
            Proto::Icmp if destination => {
                let lower = v.text.to_ascii_lowercase();
                if let Ok(n) = lower.parse::<u8>() {
                    return Some(PortMatch {
                        op,
                        value: u16::from(n),
                    });
                }
                let found = ICMP_TYPES.iter().find(|(n, _, _)| *n == lower);
                match (found, family) {
                    (Some((_, t, _)), Family::V4) => Some(PortMatch {
                        op,
                        value: u16::from(*t),
                    }),
                    (Some((_, _, Some(t))), Family::V6) => Some(PortMatch {
                        op,
                        value: u16::from(*t),
                    }),
                    (Some(_), Family::V6) => {
                        self.error_at(v, "expected an ICMPv6 message type: this ICMP message has no ICMPv6 counterpart");
                        None
                    }
                    (None, _) => {
                        self.error_at(v, "expected an ICMP message type 0-255 or a name (echo-reply, destination-unreachable, source-quench, redirect, echo, time-exceeded, parameter-problem, timestamp, timestamp-reply, information-request, information-reply)");
                        None
                    }
                }
            }
            _ => {
                self.error_at(
                    op_tok,
                    if destination {
                        "expected no port here: ports are for tcp and udp rules, message types for icmp"
                    } else {
                        "expected no source port: only tcp and udp rules have ports"
                    },
                );
                None
            }
        }
    }

    /// Parses a CIDR address; `family` is the source's family when parsing the destination.
    fn address(&mut self, t: &Token, family: Option<Family>) -> Option<IpPrefix> {
        let (addr_text, len_text) = match t.text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (t.text.as_str(), None),
        };
        let expected_addr = "expected an address in CIDR form (a.b.c.d/len or x:x::x/len)";
        let (fam, value, short) = if addr_text.contains(':') {
            match addr_text.parse::<Ipv6Addr>() {
                Ok(a) => (Family::V6, u128::from(a), false),
                Err(_) => {
                    self.error_at(t, expected_addr);
                    return None;
                }
            }
        } else {
            match parse_v4(addr_text) {
                Some((a, parts)) => (Family::V4, u128::from(u32::from(a)), parts < 4),
                None => {
                    self.error_at(t, expected_addr);
                    return None;
                }
            }
        };
        if let Some(f) = family {
            if f != fam {
                self.error_at(
                    t,
                    format!(
                        "expected a destination of the source's family ({}): IPv4 and IPv6 cannot be mixed in one rule",
                        if f == Family::V4 { "IPv4" } else { "IPv6" }
                    ),
                );
                return None;
            }
        }
        let bits = fam.bits();
        let len = match len_text {
            None => {
                if short && value != 0 {
                    self.error_at(t, "expected a full address or a prefix length (/len)");
                    return None;
                }
                bits
            }
            Some(l) => match l.parse::<u16>() {
                Ok(n) if n <= u16::from(bits) => n as u8,
                _ => {
                    let hint = l
                        .parse::<u16>()
                        .ok()
                        .filter(|n| *n / 10 <= u16::from(bits) && *n >= 10)
                        .map(|n| format!(" (did you mean /{}?)", n / 10))
                        .unwrap_or_default();
                    let col = t.column + addr_text.chars().count() + 1;
                    self.diag(
                        Severity::Error,
                        t.line,
                        col,
                        &t.text,
                        format!("expected a prefix length 0-{bits}{hint}"),
                    );
                    return None;
                }
            },
        };
        let prefix = IpPrefix::from_bits(fam, value, len)?;
        if value == 0 && len == bits && short {
            self.warn_at(
                t,
                format!(
                    "`{}` matches only the address 0.0.0.0; did you mean `0/0` (any address)?",
                    t.text
                ),
            );
        } else if prefix.bits() != value {
            self.warn_at(
                t,
                format!("host bits set after the prefix length: this matches {prefix}"),
            );
        }
        Some(prefix)
    }
}

/// An IPv4 address in dotted decimal with 1 to 4 parts; missing trailing parts are zero (`10/8`
/// is 10.0.0.0/8, `0/0` is any). Returns the address and the number of parts written.
fn parse_v4(s: &str) -> Option<(Ipv4Addr, usize)> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut octets = [0u8; 4];
    for (o, p) in octets.iter_mut().zip(parts.iter()) {
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *o = p.parse().ok()?;
    }
    Some((Ipv4Addr::from(octets), parts.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::Window;
    use crate::vmstime::{Date, TimeOfDay};

    fn db() -> ServiceDb {
        ServiceDb::parse(
            "www 80/tcp http\ndomain 53/udp\ndomain 53/tcp\n",
            "services",
        )
        .unwrap_or_default()
    }

    fn now() -> LocalTime {
        LocalTime::from_civil(
            Date {
                year: 2026,
                month: 11,
                day: 22,
            },
            TimeOfDay {
                hour: 12,
                minute: 0,
                second: 0,
                hundredths: 0,
            },
        )
    }

    fn ok(text: &str) -> FilterList {
        match parse(text, "f.dat", &db(), now()) {
            Ok(l) => l,
            Err(e) => panic!("{e}"),
        }
    }

    fn errs(text: &str) -> Vec<String> {
        match parse(text, "f.dat", &db(), now()) {
            Ok(l) => panic!("accepted: {:?}", l.rules),
            Err(e) => e.errors().map(|d| d.to_string()).collect(),
        }
    }

    #[test]
    fn full_line() {
        let l = ok("permit tcp 10.0.0.0/8 gt 1023 192.168.1.1/32 eq www established log\n");
        let r = &l.rules[0];
        assert_eq!(r.action, Action::Permit);
        assert_eq!(r.src.to_string(), "10.0.0.0/8");
        assert_eq!(
            r.sport,
            Some(PortMatch {
                op: PortOp::Gt,
                value: 1023
            })
        );
        assert_eq!(
            r.dport,
            Some(PortMatch {
                op: PortOp::Eq,
                value: 80
            })
        );
        assert!(r.established && r.log);
        assert!(l.warnings.is_empty());
    }

    #[test]
    fn v6_and_mix() {
        let l = ok("deny udp 2001:db8::/32 ::/0 eq domain\n");
        assert_eq!(l.rules[0].family, Some(Family::V6));
        let e = errs("deny ip 10.0.0.0/8 2001:db8::/32\n");
        assert!(
            e[0].starts_with("f.dat:1:20: error: expected a destination of the source's family"),
            "{e:?}"
        );
    }

    #[test]
    fn errors_are_collected_with_positions() {
        let e = errs("frob tcp 0/0 0/0\ndeny tcp 0/0 0/0 eq nosuch\ndeny icmp 0/0 0/0 eq bogus\n");
        assert_eq!(e.len(), 3);
        assert!(e[0].starts_with("f.dat:1:1: error: expected an action"));
        assert!(e[1].starts_with("f.dat:2:21: error: expected a port number"));
        assert!(e[2].contains("ICMP message type"));
    }

    #[test]
    fn icmp_names_v4_v6() {
        let l = ok("deny icmp 0/0 0/0 eq redirect\npermit icmp ::/0 ::/0 eq echo\n");
        assert_eq!(l.rules[0].dport.map(|p| p.value), Some(5));
        assert_eq!(l.rules[1].dport.map(|p| p.value), Some(128));
    }

    #[test]
    fn established_only_tcp_ports_only_tcp_udp() {
        assert_eq!(errs("permit udp 0/0 0/0 established\n").len(), 1);
        assert_eq!(errs("permit ip 0/0 eq 5 0/0\n").len(), 1);
    }

    #[test]
    fn windows() {
        let l = ok("deny ip 0/0 0/0 start 23:00 end 01:00 repeat\n");
        assert_eq!(
            l.rules[0].window,
            Window::Daily {
                start: 23 * 3600,
                length: 7200,
                not_before: None,
                not_after: None
            }
        );
        let l = ok("deny ip 0/0 0/0 end \"0 03:00\"\n");
        assert_eq!(
            l.rules[0].window,
            Window::Once {
                start: None,
                end: Some(LocalTime(now().0 + 3 * 3600))
            }
        );
        assert_eq!(errs("deny ip 0/0 0/0 start 10:00 repeat\n").len(), 1);
        let l = ok("deny ip 0/0 0/0 end 11:00\n");
        assert!(l.rules.is_empty());
        assert_eq!(l.not_loaded, vec![1]);
        assert!(l.warnings[0].to_string().contains("line 1 not loaded"));
        let l = ok("deny ip 0/0 0/0 start \"1-JAN-2020 08:00\" end \"2-JAN-2020 17:00\" repeat\n");
        assert_eq!(l.not_loaded, vec![1]);
        let l = ok("deny ip 0/0 0/0 start \"1-JAN-2020 08:00\" end \"2-JAN-2030 17:00\" repeat\n");
        assert!(matches!(
            l.rules[0].window,
            Window::Daily {
                start: 28_800,
                length: 32_400,
                ..
            }
        ));
    }
}
