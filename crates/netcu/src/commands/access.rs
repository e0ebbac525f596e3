//! Outgoing access restrictions: SHOW ACCESS, ADD ACCESS, REMOVE ACCESS. (Incoming
//! restrictions are each service's access list, ADD SERVICE /ACCESS.)

use control::config::outgoing::{OutgoingAction, OutgoingRule};
use control::protocol::Request;

use super::{q, Action, CommandDef, Parsed, Takes::Nothing as F, Takes::Value as V};

/// The outgoing access commands.
pub static COMMANDS: &[CommandDef] = &[
    CommandDef {
        words: &["show", "access"],
        params: &[],
        quals: &[],
        help: "the outgoing access restrictions in order, with the connections each has judged",
        build: |_| Ok(Action::Send(Request::ShowAccess)),
    },
    CommandDef {
        words: &["add", "access"],
        params: &["destination"],
        quals: &[
            q("port", V, "the remote TCP port or range, e.g. /PORT=25 or /PORT=6000-6063 (default: any)"),
            q("user", V, "the local users it applies to, e.g. /USER=(alice,bob)"),
            q("group", V, "the local groups it applies to"),
            q("deny", F, "refuse such connections (the default)"),
            q("permit", F, "allow such connections (before a broader deny)"),
            q("position", V, "its number in the list (default: last)"),
        ],
        help: "add an outgoing access restriction (destination: an address or prefix, 0/0 for any); applied at once and saved in outgoing.toml",
        build: add_access,
    },
    CommandDef {
        words: &["remove", "access"],
        params: &["number"],
        quals: &[],
        help: "remove the outgoing access restriction with this number (SHOW ACCESS lists them)",
        build: |p| {
            let n = p.required(0)?;
            let number = n
                .parse()
                .map_err(|_| format!("`{n}`: a rule number expected"))?;
            Ok(Action::Send(Request::RemoveAccess { number }))
        },
    },
];

fn add_access(p: &Parsed) -> Result<Action, String> {
    let dest = p.required(0)?;
    let destination = dest
        .parse()
        .map_err(|e| format!("destination `{dest}`: {e}"))?;
    let action = match (p.has("permit"), p.has("deny")) {
        (true, true) => return Err("/PERMIT and /DENY exclude each other".into()),
        (true, false) => OutgoingAction::Permit,
        _ => OutgoingAction::Deny,
    };
    let list = |name: &str| p.value(name).map(|v| v.items()).unwrap_or_default();
    let position = match p.value("position").map(|v| v.items()) {
        None => None,
        Some(items) => {
            let [one] = items.as_slice() else {
                return Err("/POSITION: one number expected".into());
            };
            Some(
                one.parse()
                    .map_err(|_| format!("/POSITION=`{one}`: a number expected"))?,
            )
        }
    };
    let rule = OutgoingRule {
        action,
        destination,
        ports: p.value("port").map(|v| v.items().join(",")),
        users: list("user"),
        groups: list("group"),
    };
    rule.port_range()?;
    Ok(Action::Send(Request::AddAccess { rule, position }))
}
