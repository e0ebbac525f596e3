//! IPS commands: SHOW IPS and SET IPS /UNBLOCK.

use control::protocol::Request;

use super::{q, Action, CommandDef, Parsed, Takes::Value as V};

/// The IPS commands.
pub static COMMANDS: &[CommandDef] = &[
    CommandDef {
        words: &["show", "ips"],
        params: &[],
        quals: &[],
        help: "the IPS filter server: rules with their counters, the blocks in force and their time left",
        build: |_| Ok(Action::Send(Request::ShowIps)),
    },
    CommandDef {
        words: &["set", "ips"],
        params: &[],
        quals: &[q(
            "unblock",
            V,
            "lift the blocks on this source address before they end, or on every source with ALL",
        )],
        help: "change the IPS filter server's state live",
        build: set_ips,
    },
];

fn set_ips(p: &Parsed) -> Result<Action, String> {
    let Some(v) = p.value("unblock") else {
        return Err("SET IPS: /UNBLOCK=address (or /UNBLOCK=ALL) expected".into());
    };
    let items = v.items();
    let [one] = items.as_slice() else {
        return Err("/UNBLOCK: one address, or ALL, expected".into());
    };
    let source =
        if one.eq_ignore_ascii_case("all") {
            None
        } else {
            Some(one.parse().map_err(|_| {
                format!("/UNBLOCK=`{one}`: an IPv4 or IPv6 address, or ALL, expected")
            })?)
        };
    Ok(Action::Send(Request::IpsUnblock { source }))
}
