//! Interface commands: SHOW INTERFACE and SET INTERFACE. Today they carry the packet filter
//! qualifiers (/FILTER, /NOFILTER, /LOG, /FORMAT, /INTERVAL, /NOLOG); the stack's interface
//! settings (address, mask, broadcast, MTU, up/down) join them here.

use std::path::{Path, PathBuf};

use control::protocol::{
    FilterChange, FilterLog, FilterLogChange, FilterLogFormat, FilterLogTarget, Request,
};

use super::netconfig::{self, STACK_INTERFACE_QUALIFIERS as STACK};
use super::{q, Action, CommandDef, Parsed, Takes::Nothing as F, Takes::Value as V};

/// The interface commands.
pub static COMMANDS: &[CommandDef] = &[
    CommandDef {
        words: &["show", "interface"],
        params: &["[name]"],
        quals: &[
            q(
                "filter",
                F,
                "the interface's packet filter: every rule with its hits",
            ),
            STACK[0], // /STATISTICS
        ],
        help: "Maynard's interfaces (/STATISTICS: the counters table); /FILTER: an interface's packet filter with hit counts",
        build: show_interface,
    },
    CommandDef {
        words: &["set", "interface"],
        params: &["name"],
        quals: &[
            q(
                "filter",
                V,
                "load this packet filter file on the interface (seed 001 format)",
            ),
            q("nofilter", F, "remove the interface's packet filter"),
            q(
                "log",
                V,
                "filter logging: OPCOM (netcp's log) or a file name",
            ),
            q("format", V, "filter log format: NORMAL or COMMA"),
            q(
                "interval",
                V,
                "seconds between filter log reports (at least 5, default 5)",
            ),
            q("nolog", F, "stop filter logging and close its file"),
            STACK[1], // /ADDRESS
            STACK[2], // /MASK
            STACK[3], // /BROADCAST
            STACK[4], // /MTU
            STACK[5], // /UP
            STACK[6], // /DOWN
        ],
        help: "change an interface: address, mask, broadcast, MTU, up/down; its packet filter and filter logging",
        build: set_interface,
    },
];

fn show_interface(p: &Parsed) -> Result<Action, String> {
    if p.has("filter") {
        let interface = p.required(0)?;
        Ok(Action::Send(Request::ShowInterfaceFilter { interface }))
    } else {
        netconfig::show_interface_stack(p)
    }
}

/// Makes a path netcu was given absolute, since netcp runs in another directory.
fn absolute(path: &str) -> Result<PathBuf, String> {
    std::path::absolute(Path::new(path)).map_err(|e| format!("{path}: {e}"))
}

fn set_interface(p: &Parsed) -> Result<Action, String> {
    if netconfig::wants_stack(p) {
        if ["filter", "nofilter", "log", "format", "interval", "nolog"]
            .iter()
            .any(|q| p.has(q))
        {
            return Err(
                "SET INTERFACE: give the filter qualifiers and the stack's in two commands".into(),
            );
        }
        return netconfig::set_interface_stack(p);
    }
    let interface = p.required(0)?;
    let filter = match (p.one("filter")?, p.has("nofilter")) {
        (Some(_), true) => return Err("give /FILTER or /NOFILTER, not both".into()),
        (Some(file), false) => FilterChange::Load(absolute(&file)?),
        (None, true) => FilterChange::Remove,
        (None, false) => FilterChange::Keep,
    };
    let wants_log = p.has("log") || p.has("format") || p.has("interval");
    let log = match (wants_log, p.has("nolog")) {
        (true, true) => return Err("give /LOG or /NOLOG, not both".into()),
        (false, true) => FilterLogChange::Stop,
        (false, false) => FilterLogChange::Keep,
        (true, false) => {
            let target = match p.one("log")? {
                None => FilterLogTarget::Opcom,
                Some(t) if t.eq_ignore_ascii_case("opcom") => FilterLogTarget::Opcom,
                Some(file) => FilterLogTarget::File(absolute(&file)?),
            };
            let format = match p.one("format")? {
                None => FilterLogFormat::Normal,
                Some(f) if f.eq_ignore_ascii_case("normal") => FilterLogFormat::Normal,
                Some(f) if f.eq_ignore_ascii_case("comma") => FilterLogFormat::Comma,
                Some(f) => return Err(format!("/FORMAT={f}: expected NORMAL or COMMA")),
            };
            let interval_seconds = p
                .number::<u32>("interval", "a number of seconds")?
                .unwrap_or(5);
            if interval_seconds < 5 {
                return Err(format!("/INTERVAL={interval_seconds}: at least 5 seconds"));
            }
            FilterLogChange::Set(FilterLog {
                target,
                format,
                interval_seconds,
            })
        }
    };
    if filter == FilterChange::Keep && log == FilterLogChange::Keep {
        return Err(format!("SET INTERFACE {interface}: nothing to change"));
    }
    Ok(Action::Send(Request::SetInterfaceFilter {
        interface,
        filter,
        log,
    }))
}
