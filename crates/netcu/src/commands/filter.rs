//! Packet filter commands that need no netcp: CHECK FILTER, TEST FILTER (the dry run seed 001
//! asks administrators to do first) and CONVERT FILTER (FILTER_CONVERT).

use std::path::PathBuf;

use ::filter::dryrun::TestOperands;

use super::{q, Action, CommandDef, Parsed, Takes::Value as V};

/// The local filter commands.
pub static COMMANDS: &[CommandDef] = &[
    CommandDef {
        words: &["check", "filter"],
        params: &["file"],
        quals: &[],
        help: "validate a packet filter file: every error and warning with file:line:column",
        build: |p| Ok(Action::CheckFilter(PathBuf::from(p.required(0)?))),
    },
    CommandDef {
        words: &["test", "filter"],
        params: &["file", "protocol", "saddr", "[sport]", "daddr", "[dport]"],
        quals: &[
            q("flags", V, "TCP flags of the packet, e.g. /FLAGS=(ACK,PSH)"),
            q(
                "fragment",
                V,
                "fragment offset in 8-byte units (0: first fragment)",
            ),
            q(
                "time",
                V,
                "the packet's time, e.g. /TIME=\"29-DEC-2003 18:03:00\" (default: now)",
            ),
        ],
        help: "say which rule of a filter file decides a packet: `permit line 4`, `deny implicit`",
        build: test_filter,
    },
    CommandDef {
        words: &["convert", "filter"],
        params: &["old", "new"],
        quals: &[],
        help: "FILTER_CONVERT: rewrite an old-format filter file (address and mask pairs) as CIDR",
        build: |p| {
            Ok(Action::ConvertFilter {
                old: PathBuf::from(p.required(0)?),
                new: PathBuf::from(p.required(1)?),
            })
        },
    },
];

fn is_address(s: &str) -> bool {
    s.parse::<std::net::IpAddr>().is_ok()
}

/// TEST FILTER FILE PROTOCOL SADDR [SPORT] DADDR [DPORT]: the source port is there when the
/// operand after SADDR is not an address.
fn test_filter(p: &Parsed) -> Result<Action, String> {
    let ops = p.params();
    let file = p.required(0)?;
    let protocol = p.required(1)?;
    let saddr = p.required(2)?;
    let rest = ops.get(3..).unwrap_or_default();
    let (sport, daddr, dport) = match rest {
        [d] if is_address(d) => (None, d.clone(), None),
        [d, port] if is_address(d) => (None, d.clone(), Some(port.clone())),
        [s, d] => (Some(s.clone()), d.clone(), None),
        [s, d, port] => (Some(s.clone()), d.clone(), Some(port.clone())),
        [] => return Err("TEST FILTER needs a destination address".into()),
        _ => {
            return Err(
                "TEST FILTER: too many operands (FILE PROTOCOL SADDR [SPORT] DADDR [DPORT])".into(),
            )
        }
    };
    let flags = p.value("flags").map(|v| v.items()).unwrap_or_default();
    Ok(Action::TestFilter {
        file: PathBuf::from(file),
        operands: TestOperands {
            protocol,
            saddr,
            sport,
            daddr,
            dport,
            flags,
            fragment: p.number("fragment", "a fragment offset 0-8191")?,
            time: p.one("time")?,
        },
    })
}
