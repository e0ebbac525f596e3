//! The event report API's wire form: one datagram per event, a line of `key=value` words, so
//! that an application in any language can report to the filter server:
//!
//! ```text
//! component=myapp event=bad-login source=203.0.113.7 destination=192.0.2.2:8080 protocol=tcp
//! ```
//!
//! `component`, `event` and `source` are required; `destination` (`address:port`, IPv6 as
//! `[address]:port`) and `protocol` (`tcp`, `udp`, `icmp`, `ip`; `tcp` when absent) are not.

use std::net::{IpAddr, SocketAddr};

use crate::rule::{Event, Proto};

/// Longest component or event name.
pub const MAX_NAME: usize = 64;

/// Why a report was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// A word is not `key=value`.
    #[error("`{0}`: expected key=value")]
    NotKeyValue(String),
    /// A key this format does not have.
    #[error("unknown key `{0}`: expected component, event, source, destination or protocol")]
    UnknownKey(String),
    /// A key given twice.
    #[error("`{0}` given twice")]
    Repeated(String),
    /// A required key is missing.
    #[error("`{0}` is missing")]
    Missing(&'static str),
    /// A name that is empty, too long or not printable ASCII.
    #[error("`{0}`: a name of 1 to 64 letters, digits, `-`, `_` or `.` is expected")]
    BadName(String),
    /// `source` is not an address.
    #[error("source `{0}`: an IPv4 or IPv6 address is expected")]
    BadSource(String),
    /// `destination` is not `address:port`.
    #[error("destination `{0}`: address:port is expected")]
    BadDestination(String),
    /// `protocol` is not one this format knows.
    #[error("protocol `{0}`: tcp, udp, icmp or ip is expected")]
    BadProtocol(String),
}

/// Whether `value` is a valid component or event name: 1 to [`MAX_NAME`] letters, digits,
/// `-`, `_` or `.`.
pub fn valid_name(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= MAX_NAME
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn name(value: &str) -> Result<String, ReportError> {
    if valid_name(value) {
        Ok(value.to_string())
    } else {
        Err(ReportError::BadName(value.to_string()))
    }
}

/// Parses one report.
pub fn parse(line: &str) -> Result<Event, ReportError> {
    let (mut component, mut event, mut source, mut destination, mut protocol) =
        (None, None, None, None, None);
    for word in line.split_ascii_whitespace() {
        let (key, value) = word
            .split_once('=')
            .ok_or_else(|| ReportError::NotKeyValue(word.to_string()))?;
        let set = |slot: &mut Option<_>, v| {
            if slot.is_some() {
                return Err(ReportError::Repeated(key.to_string()));
            }
            *slot = Some(v);
            Ok(())
        };
        match key {
            "component" => set(&mut component, name(value)?)?,
            "event" => set(&mut event, name(value)?)?,
            "source" => {
                let ip: IpAddr = value
                    .parse()
                    .map_err(|_| ReportError::BadSource(value.to_string()))?;
                if source.replace(wire::prefix::canonical(ip)).is_some() {
                    return Err(ReportError::Repeated(key.to_string()));
                }
            }
            "destination" => {
                let a: SocketAddr = value
                    .parse()
                    .map_err(|_| ReportError::BadDestination(value.to_string()))?;
                if destination
                    .replace((wire::prefix::canonical(a.ip()), a.port()))
                    .is_some()
                {
                    return Err(ReportError::Repeated(key.to_string()));
                }
            }
            "protocol" => {
                let p = Proto::parse(value)
                    .ok_or_else(|| ReportError::BadProtocol(value.to_string()))?;
                if protocol.replace(p).is_some() {
                    return Err(ReportError::Repeated(key.to_string()));
                }
            }
            other => return Err(ReportError::UnknownKey(other.to_string())),
        }
    }
    Ok(Event {
        component: component.ok_or(ReportError::Missing("component"))?,
        event: event.ok_or(ReportError::Missing("event"))?,
        source: source.ok_or(ReportError::Missing("source"))?,
        destination,
        protocol: protocol.unwrap_or(Proto::Tcp),
    })
}

/// The report of `event` (what [`parse`] reads back).
pub fn encode(event: &Event) -> String {
    let mut s = format!(
        "component={} event={} source={}",
        event.component, event.event, event.source
    );
    if let Some((ip, port)) = event.destination {
        s.push_str(&format!(" destination={}", SocketAddr::new(ip, port)));
    }
    s.push_str(&format!(" protocol={}", event.protocol));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_report_reads_with_and_without_its_optional_keys() {
        let e = parse("component=myapp event=bad-login source=203.0.113.7 destination=192.0.2.2:8080 protocol=udp").unwrap();
        assert_eq!(e.component, "myapp");
        assert_eq!(e.destination, Some(("192.0.2.2".parse().unwrap(), 8080)));
        assert_eq!(e.protocol, Proto::Udp);
        let e = parse("event=x component=y source=::ffff:10.0.0.1\n").unwrap();
        assert_eq!(
            e.source,
            "10.0.0.1".parse::<IpAddr>().unwrap(),
            "mapped IPv4 is IPv4"
        );
        assert_eq!((e.destination, e.protocol), (None, Proto::Tcp));
        let e =
            parse("component=a event=b source=2001:db8::1 destination=[2001:db8::2]:22").unwrap();
        assert_eq!(e.destination.unwrap().1, 22);
    }

    #[test]
    fn bad_reports_say_what_is_wrong() {
        let cases = [
            ("component=a event=b", "`source` is missing"),
            ("component=a source=1.2.3.4", "`event` is missing"),
            ("component=a event=b source=1.2.3", "source `1.2.3`"),
            (
                "component=a event=b source=1.2.3.4 destination=1.2.3.4",
                "destination `1.2.3.4`",
            ),
            (
                "component=a event=b source=1.2.3.4 protocol=sctp",
                "protocol `sctp`",
            ),
            (
                "component=a event=b source=1.2.3.4 colour=red",
                "unknown key `colour`",
            ),
            (
                "component=a component=b event=c source=1.2.3.4",
                "`component` given twice",
            ),
            (
                "component=a event=b source=1.2.3.4 source=1.2.3.5",
                "`source` given twice",
            ),
            ("component=a/b event=c source=1.2.3.4", "`a/b`"),
            ("component=a event=b source", "`source`: expected key=value"),
        ];
        for (line, want) in cases {
            let e = parse(line).unwrap_err().to_string();
            assert!(e.contains(want), "{line}: {e}");
        }
    }

    proptest! {
        #[test]
        fn encode_then_parse_is_the_identity(
            component in "[a-z0-9_.-]{1,64}", event in "[A-Za-z0-9-]{1,64}",
            src in any::<[u8; 4]>(), dst in proptest::option::of((any::<[u8; 16]>(), any::<u16>())),
            p in prop_oneof![Just(Proto::Ip), Just(Proto::Icmp), Just(Proto::Tcp), Just(Proto::Udp)],
        ) {
            let e = Event {
                component, event,
                source: IpAddr::from(src),
                destination: dst.map(|(a, port)| (wire::prefix::canonical(IpAddr::from(a)), port)),
                protocol: p,
            };
            prop_assert_eq!(parse(&encode(&e)).unwrap(), e);
        }

        #[test]
        fn any_line_is_parsed_or_refused_without_panic(line in "\\PC{0,200}") {
            let _ = parse(&line);
        }
    }
}
