//! Commands about netcp as a whole and about netcu itself.

use std::path::PathBuf;

use control::protocol::Request;

use super::{q, Action, CommandDef, Takes::Nothing as F};

/// The general commands.
pub static COMMANDS: &[CommandDef] = &[
    CommandDef {
        words: &["show", "version"],
        params: &[],
        quals: &[],
        help: "netcu's and netcp's versions",
        build: |_| Ok(Action::Version),
    },
    CommandDef {
        words: &["show", "snmp"],
        params: &[],
        quals: &[q(
            "subagents",
            F,
            "AgentX sessions and SMUX peers with their registrations instead",
        )],
        help: "the SNMP agent: counters, communities and users (without secrets), subtrees",
        build: |p| {
            Ok(Action::Send(if p.has("subagents") {
                Request::ShowSnmpSubagents
            } else {
                Request::ShowSnmp
            }))
        },
    },
    CommandDef {
        words: &["reload"],
        params: &[],
        quals: &[],
        help: "re-read the whole configuration, keeping open connections (as SIGHUP)",
        build: |_| Ok(Action::Send(Request::Reload)),
    },
    CommandDef {
        words: &["check"],
        params: &["[directory]"],
        quals: &[],
        help: "validate a configuration directory without applying it (default: --config, $MAYNARD_CONFIG, or the embedded default)",
        build: |p| Ok(Action::Check(p.param(0).map(PathBuf::from))),
    },
    CommandDef {
        words: &["shutdown"],
        params: &[],
        quals: &[q("abort", F, "close open connections at once instead of draining them")],
        help: "stop netcp",
        build: |p| Ok(Action::Send(Request::Shutdown { abort: p.has("abort") })),
    },
    CommandDef {
        words: &["help"],
        params: &["[command...]"],
        quals: &[],
        help: "this list, or one command's details",
        build: |p| Ok(Action::Help(p.params().to_vec())),
    },
    CommandDef {
        words: &["exit"],
        params: &[],
        quals: &[],
        help: "leave netcu",
        build: |_| Ok(Action::Exit),
    },
    CommandDef {
        words: &["quit"],
        params: &[],
        quals: &[],
        help: "leave netcu",
        build: |_| Ok(Action::Exit),
    },
];
