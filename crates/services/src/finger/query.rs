//! The finger query line (RFC 1288 section 2.3).
//!
//! ```text
//! {Q1} ::= [{W}|{W}{S}{U}]{C}
//! {Q2} ::= [{W}{S}][{U}]{H}{C}
//! {H}  ::= @hostname | @hostname{H}
//! {W}  ::= /W
//! ```
//! We accept `/w` as well as `/W`, tabs as well as spaces, and a bare LF as well as CRLF, as
//! real clients send all of them.

use std::fmt;

use thiserror::Error;

/// Longest query line accepted, terminator included.
pub const MAX_QUERY_BYTES: usize = 1024;

/// A parsed finger query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// `/W` was given: the client asks for the verbose (long) answer.
    pub verbose: bool,
    /// The user asked about; empty asks for the list of users logged in.
    pub user: String,
    /// The forwarding chain `@h1@h2...` in the order written; empty for a local query.
    pub hosts: Vec<String>,
}

/// Why a query line was refused. The messages quote nothing from the query, so they are safe to
/// send back as they are.
#[derive(Debug, Clone, Copy, Error, PartialEq, Eq)]
pub enum QueryError {
    /// The line is longer than [`MAX_QUERY_BYTES`].
    #[error("query too long")]
    TooLong,
    /// The line is not UTF-8 text.
    #[error("query is not UTF-8 text")]
    NotText,
    /// The line holds a control character (other than its terminator).
    #[error("control character in query")]
    ControlChar,
    /// More than one user name was given.
    #[error("only one user name per query")]
    ManyUsers,
    /// A `/` option other than a leading `/W`.
    #[error("unknown option (only /W is supported)")]
    BadOption,
    /// `@@` or a trailing `@`: a host name is missing.
    #[error("empty host name")]
    EmptyHost,
    /// A host name holds a character no host name or address literal has.
    #[error("invalid host name")]
    BadHost,
}

impl Query {
    /// Parses one query line, with or without its CRLF or LF terminator.
    pub fn parse(line: &[u8]) -> Result<Query, QueryError> {
        if line.len() > MAX_QUERY_BYTES {
            return Err(QueryError::TooLong);
        }
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let text = std::str::from_utf8(line).map_err(|_| QueryError::NotText)?;
        if text.chars().any(|c| c.is_control() && c != '\t') {
            return Err(QueryError::ControlChar);
        }
        let mut tokens = text.split([' ', '\t']).filter(|t| !t.is_empty());
        let mut query = Query::default();
        let mut next = tokens.next();
        if next.is_some_and(|t| t.eq_ignore_ascii_case("/W")) {
            query.verbose = true;
            next = tokens.next();
        }
        let Some(target) = next else {
            return Ok(query);
        };
        if target.starts_with('/') {
            return Err(QueryError::BadOption);
        }
        if tokens.next().is_some() {
            return Err(QueryError::ManyUsers);
        }
        let mut parts = target.split('@');
        query.user = parts.next().unwrap_or_default().to_owned();
        for host in parts {
            if host.is_empty() {
                return Err(QueryError::EmptyHost);
            }
            if !host.chars().all(is_host_char) {
                return Err(QueryError::BadHost);
            }
            query.hosts.push(host.to_owned());
        }
        Ok(query)
    }

    /// True if the query asks us to forward it to another host.
    pub fn is_forwarded(&self) -> bool {
        !self.hosts.is_empty()
    }

    /// The host to forward to (the last of the chain) and the query to send it (the chain minus
    /// that host), or `None` for a local query.
    pub fn forward_target(&self) -> Option<(&str, Query)> {
        let (last, rest) = self.hosts.split_last()?;
        let next = Query {
            verbose: self.verbose,
            user: self.user.clone(),
            hosts: rest.to_vec(),
        };
        Some((last.as_str(), next))
    }

    /// The query as sent on the wire, CRLF included.
    pub fn to_wire(&self) -> String {
        format!("{self}\r\n")
    }
}

/// Letters, digits and the punctuation of DNS names and IPv4/IPv6 literals (`[::1]`).
fn is_host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | ':' | '[' | ']')
}

impl fmt::Display for Query {
    /// The query line without its terminator, e.g. `/W alice@h1@h2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.verbose {
            f.write_str("/W")?;
            if self.user.is_empty() && self.hosts.is_empty() {
                return Ok(());
            }
            f.write_str(" ")?;
        }
        f.write_str(&self.user)?;
        for h in &self.hosts {
            write!(f, "@{h}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn q(verbose: bool, user: &str, hosts: &[&str]) -> Query {
        Query {
            verbose,
            user: user.to_owned(),
            hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
        }
    }

    #[test]
    fn rfc_forms() {
        assert_eq!(Query::parse(b"\r\n"), Ok(q(false, "", &[])));
        assert_eq!(Query::parse(b""), Ok(q(false, "", &[])));
        assert_eq!(Query::parse(b"/W\r\n"), Ok(q(true, "", &[])));
        assert_eq!(Query::parse(b"/w alice\n"), Ok(q(true, "alice", &[])));
        assert_eq!(Query::parse(b"alice\r\n"), Ok(q(false, "alice", &[])));
        assert_eq!(Query::parse(b"  alice \t"), Ok(q(false, "alice", &[])));
        assert_eq!(Query::parse(b"@h1\r\n"), Ok(q(false, "", &["h1"])));
        assert_eq!(
            Query::parse(b"/W bob@h1.example@10.0.0.1@[::1]\r\n"),
            Ok(q(true, "bob", &["h1.example", "10.0.0.1", "[::1]"]))
        );
        assert_eq!(
            Query::parse("José\r\n".as_bytes()),
            Ok(q(false, "José", &[]))
        );
    }

    #[test]
    fn refusals() {
        assert_eq!(Query::parse(b"a b\r\n"), Err(QueryError::ManyUsers));
        assert_eq!(Query::parse(b"/X alice"), Err(QueryError::BadOption));
        assert_eq!(Query::parse(b"/W /W"), Err(QueryError::BadOption));
        assert_eq!(Query::parse(b"/Walice"), Err(QueryError::BadOption));
        assert_eq!(Query::parse(b"a@"), Err(QueryError::EmptyHost));
        assert_eq!(Query::parse(b"a@@b"), Err(QueryError::EmptyHost));
        assert_eq!(Query::parse(b"a@b/c"), Err(QueryError::BadHost));
        assert_eq!(Query::parse(b"a\x1b[2J"), Err(QueryError::ControlChar));
        assert_eq!(Query::parse(b"a\rb"), Err(QueryError::ControlChar));
        assert_eq!(Query::parse(b"a\xff"), Err(QueryError::NotText));
        assert_eq!(
            Query::parse(&vec![b'a'; MAX_QUERY_BYTES + 1]),
            Err(QueryError::TooLong)
        );
        assert!(Query::parse(&vec![b'a'; MAX_QUERY_BYTES]).is_ok());
    }

    #[test]
    fn forwarding_strips_the_last_host() {
        let query = q(true, "bob", &["a", "b", "c"]);
        let (host, next) = query.forward_target().unwrap();
        assert_eq!(host, "c");
        assert_eq!(next.to_wire(), "/W bob@a@b\r\n");
        let single = q(false, "", &["a"]);
        let (host, next) = single.forward_target().unwrap();
        assert_eq!(host, "a");
        assert_eq!(next.to_wire(), "\r\n");
        assert!(q(false, "x", &[]).forward_target().is_none());
    }

    fn arb_query() -> impl Strategy<Value = Query> {
        (
            any::<bool>(),
            "([a-zA-Z0-9._-][a-zA-Z0-9._/-]{0,15})?",
            proptest::collection::vec("[a-z0-9.:_\\[\\]-]{1,20}", 0..4),
        )
            .prop_map(|(verbose, user, hosts)| Query {
                verbose,
                user,
                hosts,
            })
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1100)) {
            let _ = Query::parse(&bytes);
        }

        #[test]
        fn never_panics_on_text(s in "[ -~\t\r\n@/]{0,64}") {
            let _ = Query::parse(s.as_bytes());
        }

        #[test]
        fn round_trip(query in arb_query()) {
            let wire = query.to_wire();
            prop_assert_eq!(Query::parse(wire.as_bytes()), Ok(query.clone()));
            prop_assert_eq!(Query::parse(query.to_string().as_bytes()), Ok(query));
        }
    }
}
