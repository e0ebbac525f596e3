//! Filter expressions for `netcu dump`: protocol names (including the DECnet family),
//! message types, hosts, networks, ports, and `and` / `or` / `not` with parentheses.
//!
//! ```text
//! expr    := or
//! or      := and { ("or" | "||") and }
//! and     := unary { ("and" | "&&") unary }
//! unary   := ("not" | "!") unary | primary
//! primary := "(" expr ")"
//!          | PROTO [ "[" MESSAGE "]" ]          e.g. nsp, mop[reserve console], decnet
//!                                             (`mop` includes the loopback messages)
//!          | [ "ether" ] [ "src" | "dst" ] "host" ADDRESS   IPv4, IPv6, DECnet a.n, Ethernet
//!          | [ "src" | "dst" ] "net" PREFIX     a.b.c.d/n, IPv6/n, or DECnet area "a.*"
//!          | [ "tcp" | "udp" ] [ "src" | "dst" ] "port" NUMBER-or-NAME
//! ```
//!
//! ```
//! use decode::Filter;
//! let f = Filter::parse("nsp[connect init] and not host 1.2 or port 700").unwrap();
//! assert_eq!(f.to_string(), "((nsp[connect init] and not host 1.2) or port 700)");
//! assert!(Filter::parse("host").is_err());
//! ```

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use servicedb::{Protocol, ServiceDb};

use crate::model::{Packet, Value};

/// A filter expression could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("filter expression, column {column}: expected {expected}, found {found}")]
pub struct FilterError {
    /// 1-based character column of the offending token.
    pub column: usize,
    /// What the parser expected there.
    pub expected: &'static str,
    /// The token found (or "end of expression").
    pub found: String,
}

/// Which end of a packet an address or port test looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Either end.
    Any,
    /// The source.
    Src,
    /// The destination.
    Dst,
}

/// An address in a filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Addr {
    /// IPv4.
    V4(Ipv4Addr),
    /// IPv6.
    V6(Ipv6Addr),
    /// DECnet Phase IV.
    Dn(u16),
    /// Ethernet.
    Mac([u8; 6]),
}

/// A parsed filter expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filter {
    /// A protocol is present (optionally with a message type).
    Proto(String, Option<String>),
    /// An address at either or one end.
    Host(Dir, Addr),
    /// An address within a prefix (DECnet: an area, prefix length 6 of the 16-bit address).
    Net(Dir, Addr, u8),
    /// A TCP or UDP port.
    Port(Option<String>, Dir, u16),
    /// Negation.
    Not(Box<Filter>),
    /// Both.
    And(Box<Filter>, Box<Filter>),
    /// Either.
    Or(Box<Filter>, Box<Filter>),
}

/// Protocol names a filter knows (`decnet` = any DECnet layer).
pub const PROTOCOLS: &[&str] = &[
    "eth", "llc", "vlan", "arp", "rarp", "ip", "ip6", "icmp", "icmp6", "tcp", "udp", "gre",
    "decnet", "rp", "nsp", "scp", "dap", "cterm", "mop", "loop", "lat", "stp", "lavc", "nice",
    "mirror", "multinet", "ddcmp", "data",
];

const DECNET: &[&str] = &[
    "rp", "nsp", "scp", "dap", "cterm", "mop", "loop", "lat", "stp", "lavc", "nice", "mirror",
    "ddcmp",
];

/// The most primitives an expression may hold.
const MAX_PRIMITIVES: usize = 500;

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    LParen,
    RParen,
    Msg(String),
    And,
    Or,
    Not,
}

fn lex(s: &str) -> Result<Vec<(usize, Tok)>, FilterError> {
    let mut out = Vec::new();
    let cs: Vec<(usize, char)> = s.char_indices().collect();
    let mut i = 0;
    let col = |k: usize| s.get(..k).map(|p| p.chars().count() + 1).unwrap_or(1);
    while let Some(&(at, c)) = cs.get(i) {
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push((col(at), Tok::LParen));
                i += 1;
            }
            ')' => {
                out.push((col(at), Tok::RParen));
                i += 1;
            }
            '!' => {
                out.push((col(at), Tok::Not));
                i += 1;
            }
            '&' | '|' => {
                if cs.get(i + 1).map(|x| x.1) == Some(c) {
                    out.push((col(at), if c == '&' { Tok::And } else { Tok::Or }));
                    i += 2;
                } else {
                    return Err(FilterError {
                        column: col(at),
                        expected: "&& or ||",
                        found: c.to_string(),
                    });
                }
            }
            '[' => {
                let mut m = String::new();
                let mut j = i + 1;
                loop {
                    match cs.get(j) {
                        Some(&(_, ']')) => break,
                        Some(&(_, x)) => m.push(x),
                        None => {
                            return Err(FilterError {
                                column: col(at),
                                expected: "]",
                                found: "end of expression".into(),
                            })
                        }
                    }
                    j += 1;
                }
                out.push((col(at), Tok::Msg(m.trim().to_string())));
                i = j + 1;
            }
            _ => {
                let mut w = String::new();
                let mut j = i;
                while let Some(&(_, x)) = cs.get(j) {
                    if x.is_whitespace() || matches!(x, '(' | ')' | '[' | ']' | '!' | '&' | '|') {
                        break;
                    }
                    w.push(x);
                    j += 1;
                }
                if w.is_empty() {
                    return Err(FilterError {
                        column: col(at),
                        expected: "a word, ( or [",
                        found: c.to_string(),
                    });
                }
                let t = match w.to_ascii_lowercase().as_str() {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    _ => Tok::Word(w),
                };
                out.push((col(at), t));
                i = j;
            }
        }
    }
    Ok(out)
}

struct P<'a> {
    toks: Vec<(usize, Tok)>,
    i: usize,
    end_col: usize,
    db: Option<&'a ServiceDb>,
    /// Primitives parsed so far (bounded so that evaluation never recurses too deep).
    nodes: usize,
}

impl P<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|t| &t.1)
    }
    fn col(&self) -> usize {
        self.toks.get(self.i).map(|t| t.0).unwrap_or(self.end_col)
    }
    fn err(&self, expected: &'static str) -> FilterError {
        let found = match self.peek() {
            None => "end of expression".to_string(),
            Some(Tok::Word(w)) => format!("\"{w}\""),
            Some(Tok::Msg(m)) => format!("[{m}]"),
            Some(t) => format!("{t:?}").to_lowercase(),
        };
        FilterError {
            column: self.col(),
            expected,
            found,
        }
    }
    fn word(&mut self, expected: &'static str) -> Result<String, FilterError> {
        match self.peek() {
            Some(Tok::Word(w)) => {
                let w = w.clone();
                self.i += 1;
                Ok(w)
            }
            _ => Err(self.err(expected)),
        }
    }
    fn or(&mut self, depth: usize) -> Result<Filter, FilterError> {
        let mut l = self.and(depth)?;
        while self.peek() == Some(&Tok::Or) {
            self.i += 1;
            let r = self.and(depth)?;
            l = Filter::Or(Box::new(l), Box::new(r));
        }
        Ok(l)
    }
    fn and(&mut self, depth: usize) -> Result<Filter, FilterError> {
        let mut l = self.unary(depth)?;
        while self.peek() == Some(&Tok::And) {
            self.i += 1;
            let r = self.unary(depth)?;
            l = Filter::And(Box::new(l), Box::new(r));
        }
        Ok(l)
    }
    fn unary(&mut self, depth: usize) -> Result<Filter, FilterError> {
        if depth > 200 {
            return Err(self.err("a shallower expression (nesting over 200)"));
        }
        if self.peek() == Some(&Tok::Not) {
            self.i += 1;
            return Ok(Filter::Not(Box::new(self.unary(depth + 1)?)));
        }
        self.primary(depth)
    }
    fn primary(&mut self, depth: usize) -> Result<Filter, FilterError> {
        self.nodes += 1;
        if self.nodes > MAX_PRIMITIVES {
            return Err(self.err("a shorter expression (over 500 primitives)"));
        }
        match self.peek() {
            Some(Tok::LParen) => {
                self.i += 1;
                let e = self.or(depth + 1)?;
                if self.peek() != Some(&Tok::RParen) {
                    return Err(self.err(")"));
                }
                self.i += 1;
                Ok(e)
            }
            Some(Tok::Word(_)) => {
                let col = self.col();
                let w = self.word("a primitive")?.to_ascii_lowercase();
                let w = if w == "ether"
                    && matches!(self.peek(), Some(Tok::Word(x)) if ["host", "src", "dst"].contains(&x.to_ascii_lowercase().as_str()))
                {
                    // tcpdump's "ether host MAC": the address says it is Ethernet.
                    self.word("host")?.to_ascii_lowercase()
                } else {
                    w
                };
                let dir = match w.as_str() {
                    "src" => Some(Dir::Src),
                    "dst" => Some(Dir::Dst),
                    _ => None,
                };
                if let Some(d) = dir {
                    let k = self.word("host, net or port")?.to_ascii_lowercase();
                    return self.qualified(d, None, &k);
                }
                if w == "host" || w == "net" || w == "port" {
                    return self.qualified(Dir::Any, None, &w);
                }
                if (w == "tcp" || w == "udp")
                    && matches!(self.peek(), Some(Tok::Word(x)) if ["port", "src", "dst"].contains(&x.to_ascii_lowercase().as_str()))
                {
                    let mut k = self.word("port")?.to_ascii_lowercase();
                    let mut d = Dir::Any;
                    if k == "src" || k == "dst" {
                        d = if k == "src" { Dir::Src } else { Dir::Dst };
                        k = self.word("port")?.to_ascii_lowercase();
                    }
                    if k != "port" {
                        self.i -= 1;
                        return Err(self.err("port"));
                    }
                    return self.qualified(d, Some(w), "port");
                }
                let w = match w.as_str() {
                    "ether" => "eth".to_string(),
                    "ipv6" => "ip6".to_string(),
                    "icmpv6" => "icmp6".to_string(),
                    _ => w,
                };
                if !PROTOCOLS.contains(&w.as_str()) {
                    return Err(FilterError {
                        column: col,
                        expected: "a protocol name, host, net, port, src or dst",
                        found: format!("\"{w}\""),
                    });
                }
                let msg = if let Some(Tok::Msg(m)) = self.peek() {
                    let m = m.clone();
                    self.i += 1;
                    Some(m)
                } else {
                    None
                };
                Ok(Filter::Proto(w, msg))
            }
            _ => Err(self.err("a primitive or (")),
        }
    }
    fn qualified(&mut self, d: Dir, proto: Option<String>, k: &str) -> Result<Filter, FilterError> {
        let col = self.col();
        let v = self.word(match k {
            "host" => "an address",
            "net" => "a network prefix",
            _ => "a port",
        })?;
        let bad = |expected| FilterError {
            column: col,
            expected,
            found: format!("\"{v}\""),
        };
        match k {
            "host" => Ok(Filter::Host(
                d,
                parse_addr(&v).ok_or_else(|| bad("an IPv4, IPv6, DECnet or Ethernet address"))?,
            )),
            "net" => {
                if let Some(area) = v.strip_suffix(".*") {
                    let a: u16 = area
                        .parse()
                        .ok()
                        .filter(|a| *a < 64)
                        .ok_or_else(|| bad("a DECnet area 0-63"))?;
                    return Ok(Filter::Net(d, Addr::Dn(a << 10), 6));
                }
                let (a, n) = v.split_once('/').ok_or_else(|| bad("address/length"))?;
                let addr = parse_addr(a).ok_or_else(|| bad("address/length"))?;
                let n: u8 = n.parse().map_err(|_| bad("address/length"))?;
                let max = match addr {
                    Addr::V4(_) => 32,
                    Addr::V6(_) => 128,
                    Addr::Dn(_) => 16,
                    Addr::Mac(_) => 48,
                };
                if n > max {
                    return Err(bad("a prefix length within the address"));
                }
                Ok(Filter::Net(d, addr, n))
            }
            _ => {
                let p = match v.parse::<u16>() {
                    Ok(p) => p,
                    Err(_) => {
                        let db = self.db.ok_or_else(|| bad("a port number"))?;
                        let pr = if proto.as_deref() == Some("udp") {
                            Protocol::Udp
                        } else {
                            Protocol::Tcp
                        };
                        db.port_by_name(&v, pr)
                            .ok_or_else(|| bad("a port number or known service name"))?
                    }
                };
                Ok(Filter::Port(proto, d, p))
            }
        }
    }
}

fn parse_addr(s: &str) -> Option<Addr> {
    if let Ok(a) = s.parse::<Ipv4Addr>() {
        return Some(Addr::V4(a));
    }
    if let Ok(a) = s.parse::<Ipv6Addr>() {
        return Some(Addr::V6(a));
    }
    if let Some((a, n)) = s.split_once('.') {
        if let (Ok(a), Ok(n)) = (a.parse::<u16>(), n.parse::<u16>()) {
            if a < 64 && n < 1024 {
                return Some(Addr::Dn((a << 10) | n));
            }
        }
    }
    let parts: Vec<&str> = s.split([':', '-']).collect();
    if parts.len() == 6 {
        let mut m = [0u8; 6];
        for (i, p) in parts.iter().enumerate() {
            *m.get_mut(i)? = u8::from_str_radix(p, 16).ok().filter(|_| p.len() <= 2)?;
        }
        return Some(Addr::Mac(m));
    }
    None
}

impl Filter {
    /// Parses an expression (port names are not known: use [`Filter::parse_with`]).
    pub fn parse(s: &str) -> Result<Filter, FilterError> {
        Filter::parse_with(s, None)
    }

    /// Parses an expression, naming ports from a services database.
    pub fn parse_with(s: &str, db: Option<&ServiceDb>) -> Result<Filter, FilterError> {
        let toks = lex(s)?;
        let mut p = P {
            toks,
            i: 0,
            end_col: s.chars().count() + 1,
            db,
            nodes: 0,
        };
        let e = p.or(0)?;
        if p.i < p.toks.len() {
            return Err(p.err("and, or, or the end"));
        }
        Ok(e)
    }

    /// Evaluates the expression over a decoded packet.
    pub fn matches(&self, pkt: &Packet) -> bool {
        match self {
            Filter::Proto(p, m) => pkt.layers.iter().any(|l| {
                let pm = match p.as_str() {
                    "decnet" => DECNET.contains(&l.proto),
                    // Seed 002 lists the loopback messages under MOP.
                    "mop" => l.proto == "mop" || l.proto == "loop",
                    _ => l.proto == p,
                };
                pm && m
                    .as_ref()
                    .is_none_or(|m| l.msg.is_some_and(|x| x.eq_ignore_ascii_case(m)))
            }),
            Filter::Host(d, a) => addr_fields(pkt, *d).any(|v| addr_eq(v, a, None)),
            Filter::Net(d, a, n) => addr_fields(pkt, *d).any(|v| addr_eq(v, a, Some(*n))),
            Filter::Port(p, d, port) => pkt.layers.iter().any(|l| {
                (l.proto == "tcp" || l.proto == "udp")
                    && p.as_deref().is_none_or(|p| p == l.proto)
                    && l.fields.iter().any(|f| {
                        let side = match d {
                            Dir::Any => f.name == "Source port" || f.name == "Destination port",
                            Dir::Src => f.name == "Source port",
                            Dir::Dst => f.name == "Destination port",
                        };
                        side && f.value == Value::U(u64::from(*port))
                    })
            }),
            Filter::Not(e) => !e.matches(pkt),
            Filter::And(a, b) => a.matches(pkt) && b.matches(pkt),
            Filter::Or(a, b) => a.matches(pkt) || b.matches(pkt),
        }
    }
}

fn addr_fields(pkt: &Packet, d: Dir) -> impl Iterator<Item = &Value> {
    pkt.layers
        .iter()
        .flat_map(|l| l.fields.iter())
        .filter_map(move |f| {
            let src = f.name.starts_with("Source") || f.name.starts_with("Sender");
            let dst = f.name.starts_with("Destination") || f.name.starts_with("Target");
            let ok = match d {
                Dir::Any => src || dst || f.name == "Node address",
                Dir::Src => src || f.name == "Node address",
                Dir::Dst => dst,
            };
            ok.then_some(&f.value)
        })
}

fn prefix_eq(a: &[u8], b: &[u8], n: u8) -> bool {
    let full = usize::from(n / 8);
    if a.get(..full) != b.get(..full) {
        return false;
    }
    let rem = n % 8;
    if rem == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rem);
    match (a.get(full), b.get(full)) {
        (Some(x), Some(y)) => x & mask == y & mask,
        _ => false,
    }
}

fn addr_eq(v: &Value, a: &Addr, prefix: Option<u8>) -> bool {
    match (v, a) {
        (Value::Ip4(x), Addr::V4(y)) => prefix_eq(x, &y.octets(), prefix.unwrap_or(32)),
        (Value::Ip6(x), Addr::V6(y)) => prefix_eq(x, &y.octets(), prefix.unwrap_or(128)),
        (Value::Mac(x), Addr::Mac(y)) => prefix_eq(x, y, prefix.unwrap_or(48)),
        (Value::Dn(x), Addr::Dn(y)) => {
            prefix_eq(&x.to_be_bytes(), &y.to_be_bytes(), prefix.unwrap_or(16))
        }
        _ => false,
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::V4(a) => write!(f, "{a}"),
            Addr::V6(a) => write!(f, "{a}"),
            Addr::Dn(a) => write!(f, "{}", Value::Dn(*a)),
            Addr::Mac(m) => write!(f, "{}", Value::Mac(*m)),
        }
    }
}

fn dir(d: Dir) -> &'static str {
    match d {
        Dir::Any => "",
        Dir::Src => "src ",
        Dir::Dst => "dst ",
    }
}

/// Prints the expression fully parenthesised; parsing the text gives the same expression.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Proto(p, None) => write!(f, "{p}"),
            Filter::Proto(p, Some(m)) => write!(f, "{p}[{m}]"),
            Filter::Host(d, a) => write!(f, "{}host {a}", dir(*d)),
            Filter::Net(d, Addr::Dn(a), 6) if a & 0x3ff == 0 => {
                write!(f, "{}net {}.*", dir(*d), a >> 10)
            }
            Filter::Net(d, a, n) => write!(f, "{}net {a}/{n}", dir(*d)),
            Filter::Port(p, d, n) => match p {
                Some(p) => write!(f, "{p} {}port {n}", dir(*d)),
                None => write!(f, "{}port {n}", dir(*d)),
            },
            Filter::Not(e) => write!(f, "not {e}"),
            Filter::And(a, b) => write!(f, "({a} and {b})"),
            Filter::Or(a, b) => write!(f, "({a} or {b})"),
        }
    }
}
