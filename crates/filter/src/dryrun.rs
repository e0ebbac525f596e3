//! The dry run behind `netcu test filter FILE PROTOCOL SADDR [SPORT] DADDR [DPORT]
//! [/FLAGS=ACK,RST,SYN,...] [/FRAGMENT=OFFSET] [/TIME="dd-MMM-yyyy hh:mm:ss"]`: build the packet
//! from the operands, classify it with the compiled classifier, say what decided.

use std::net::IpAddr;

use servicedb::{Protocol, ServiceDb};

use crate::classify::Classifier;
use crate::packet::{Decided, Packet, Verdict, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN};
use crate::parse::ICMP_TYPES;
use crate::vmstime::{self, LocalTime};

/// The operands of `netcu test filter`, as typed.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct TestOperands {
    /// `tcp`, `udp`, `icmp` or a protocol number.
    pub protocol: String,
    /// Source address.
    pub saddr: String,
    /// Source port (number or service name), TCP/UDP.
    pub sport: Option<String>,
    /// Destination address.
    pub daddr: String,
    /// Destination port (TCP/UDP) or ICMP message type (number or name).
    pub dport: Option<String>,
    /// `/FLAGS=`: TCP flag names (ACK, RST, SYN, FIN, PSH, URG).
    pub flags: Vec<String>,
    /// `/FRAGMENT=`: fragment offset (8-byte units).
    pub fragment: Option<u16>,
    /// `/TIME=`: a VMS time; the current time when absent.
    pub time: Option<String>,
}

/// A refused operand: which one and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operand} \"{value}\": expected {expected}")]
pub struct OperandError {
    /// The operand's name.
    pub operand: &'static str,
    /// What was typed.
    pub value: String,
    /// What was expected.
    pub expected: String,
}

fn bad(operand: &'static str, value: &str, expected: &str) -> OperandError {
    OperandError {
        operand,
        value: value.to_string(),
        expected: expected.to_string(),
    }
}

/// Builds the packet the operands describe, at `now` unless `/TIME` says otherwise.
pub fn test_packet(
    o: &TestOperands,
    services: &ServiceDb,
    now: LocalTime,
) -> Result<Packet, OperandError> {
    let protocol: u8 = match o.protocol.to_ascii_lowercase().as_str() {
        "tcp" => 6,
        "udp" => 17,
        "icmp" => 1,
        s => s
            .parse()
            .map_err(|_| bad("PROTOCOL", &o.protocol, "tcp, udp, icmp or 0-255"))?,
    };
    let src: IpAddr = o
        .saddr
        .parse()
        .map_err(|_| bad("SADDR", &o.saddr, "an IPv4 or IPv6 address"))?;
    let dst: IpAddr = o
        .daddr
        .parse()
        .map_err(|_| bad("DADDR", &o.daddr, "an IPv4 or IPv6 address"))?;
    if src.is_ipv4() != dst.is_ipv4() {
        return Err(bad("DADDR", &o.daddr, "an address of the source's family"));
    }
    let protocol = if protocol == 1 && src.is_ipv6() {
        58
    } else {
        protocol
    };
    let sp = match protocol {
        6 => Some(Protocol::Tcp),
        17 => Some(Protocol::Udp),
        _ => None,
    };
    let port = |name: &'static str, v: &Option<String>| -> Result<u16, OperandError> {
        let Some(v) = v else { return Ok(0) };
        match sp {
            Some(p) => services
                .port_by_name(v, p)
                .ok_or_else(|| bad(name, v, "a port number or a service name")),
            None if name == "DPORT" && (protocol == 1 || protocol == 58) => {
                let lower = v.to_ascii_lowercase();
                if let Ok(n) = lower.parse::<u8>() {
                    return Ok(u16::from(n));
                }
                ICMP_TYPES
                    .iter()
                    .find(|(n, _, _)| *n == lower)
                    .and_then(|(_, t4, t6)| if protocol == 1 { Some(*t4) } else { *t6 })
                    .map(u16::from)
                    .ok_or_else(|| bad(name, v, "an ICMP message type"))
            }
            None => Err(bad(name, v, "no port: ports are for tcp and udp")),
        }
    };
    let src_port = port("SPORT", &o.sport)?;
    let dst_port = port("DPORT", &o.dport)?;
    let mut tcp_flags = 0;
    for f in &o.flags {
        tcp_flags |= match f.to_ascii_uppercase().as_str() {
            "ACK" => TCP_ACK,
            "RST" => TCP_RST,
            "SYN" => TCP_SYN,
            "FIN" => TCP_FIN,
            "PSH" => 0x08,
            "URG" => 0x20,
            _ => return Err(bad("/FLAGS", f, "ACK, RST, SYN, FIN, PSH or URG")),
        };
    }
    let time = match &o.time {
        None => now,
        Some(t) => vmstime::parse(t)
            .map_err(|e| bad("/TIME", t, e.expected))?
            .resolve(now),
    };
    Ok(Packet {
        src,
        dst,
        protocol,
        src_port,
        dst_port,
        tcp_flags,
        fragment_offset: o.fragment.unwrap_or(0),
        time,
        length: 0,
    })
}

/// The one line `netcu test filter` prints: `permit line 4`, `deny implicit`,
/// `permit later-fragment`.
pub fn describe(c: &Classifier, v: Verdict) -> String {
    match v.by {
        Decided::Rule(i) => {
            let line = c.rules().get(i).map(|r| r.line).unwrap_or(0);
            format!("{} line {line}", v.action)
        }
        Decided::Implicit => format!("{} implicit", v.action),
        Decided::LaterFragment => format!("{} later-fragment", v.action),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;

    #[test]
    fn dry_run() {
        let db = ServiceDb::parse("smtp 25/tcp\n", "s").unwrap_or_default();
        let l = parse(
            "! x\ndeny tcp 0/0 0/0 eq smtp\npermit tcp 0/0 0/0 gt 1023 established\n",
            "f",
            &db,
            LocalTime(0),
        );
        let c = Classifier::compile(&l.map(|l| l.rules).unwrap_or_default());
        let mut o = TestOperands {
            protocol: "tcp".into(),
            saddr: "192.0.2.1".into(),
            sport: Some("40000".into()),
            daddr: "192.0.2.2".into(),
            dport: Some("smtp".into()),
            ..TestOperands::default()
        };
        let p = test_packet(&o, &db, LocalTime(0));
        assert_eq!(
            p.map(|p| describe(&c, c.classify(&p))),
            Ok("deny line 2".into())
        );
        o.dport = Some("5000".into());
        o.flags = vec!["ack".into()];
        let p = test_packet(&o, &db, LocalTime(0));
        assert_eq!(
            p.map(|p| describe(&c, c.classify(&p))),
            Ok("permit line 3".into())
        );
        o.flags.clear();
        let p = test_packet(&o, &db, LocalTime(0));
        assert_eq!(
            p.map(|p| describe(&c, c.classify(&p))),
            Ok("deny implicit".into())
        );
        o.fragment = Some(8);
        let p = test_packet(&o, &db, LocalTime(0));
        assert_eq!(
            p.map(|p| describe(&c, c.classify(&p))),
            Ok("permit later-fragment".into())
        );
        o.saddr = "::1".into();
        assert!(test_packet(&o, &db, LocalTime(0)).is_err());
    }
}
