//! Commands about the hosted services: what they are, who may use them, what they count.

use std::path::PathBuf;

use control::access::{AccessAction, AccessRule};
use control::config::ServiceConfig;
use control::protocol::{Request, ServiceChanges};
use servicedb::Protocol;
use services::Builtin;

use super::{q, Action, CommandDef, Parsed, QualDef, Takes::Nothing as F, Takes::Value as V};
use crate::lang::Value;

const PERMANENT: QualDef = q(
    "permanent",
    F,
    "also write the change to servers.toml (alias --save)",
);
const ACCEPT: QualDef = q(
    "accept",
    V,
    "sources to accept, e.g. /ACCEPT=(10.0.0.0/8,::1); rules keep the qualifiers' order",
);
const REJECT: QualDef = q("reject", V, "sources to reject, e.g. /REJECT=0/0");
const NOACCESS: QualDef = q("noaccess", F, "remove every access rule");
const DEFAULT: QualDef = q(
    "default",
    V,
    "ACCEPT or REJECT: what happens to sources no rule matches",
);
const LIMIT: QualDef = q("limit", V, "concurrent connections of the service");
const SOURCE_LIMIT: QualDef = q(
    "source_limit",
    V,
    "concurrent connections per source address (0 = no limit)",
);
const RATE: QualDef = q(
    "rate",
    V,
    "new connections per second per source address (0 = no limit)",
);

/// The service commands.
pub static COMMANDS: &[CommandDef] = &[
    CommandDef {
        words: &["show", "services"],
        params: &["[name]"],
        quals: &[q("full", F, "every detail of each service")],
        help: "list the hosted services and their state",
        build: |p| {
            let r = Request::ShowServices { name: opt(p, 0) };
            Ok(if p.has("full") { Action::SendFull(r) } else { Action::Send(r) })
        },
    },
    CommandDef {
        words: &["show", "connections"],
        params: &["[service]"],
        quals: &[
            q("stack", F, "the sockets of Maynard's stack (TCP and UDP), like ss -tuan"),
            q("full", F, "with /STACK: RTT, cwnd, windows, retransmits (like ss -ti)"),
        ],
        help: "list open connections (of the services; /STACK: every socket of Maynard's stack)",
        build: |p| {
            if p.has("stack") {
                if opt(p, 0).is_some() {
                    return Err("SHOW CONNECTIONS /STACK takes no service name".into());
                }
                let r = Request::ShowStackSockets;
                return Ok(if p.has("full") { Action::SendFull(r) } else { Action::Send(r) });
            }
            if p.has("full") {
                return Err("/FULL goes with /STACK".into());
            }
            Ok(Action::Send(Request::ShowConnections { service: opt(p, 0) }))
        },
    },
    CommandDef {
        words: &["show", "counters"],
        params: &["[service]"],
        quals: &[],
        help: "per-service connections, refusals, messages and bytes",
        build: |p| Ok(Action::Send(Request::ShowCounters { service: opt(p, 0) })),
    },
    CommandDef {
        words: &["zero", "counters"],
        params: &["[service]"],
        quals: &[],
        help: "set counters back to zero",
        build: |p| Ok(Action::Send(Request::ZeroCounters { service: opt(p, 0) })),
    },
    CommandDef {
        words: &["add", "service"],
        params: &["name"],
        quals: &[
            q("builtin", V, "a built-in server: ECHO DISCARD CHARGEN QOTD DAYTIME TIME FINGER (default: the name, if it is one)"),
            q("program", V, "an external server, run per connection with the socket as stdin/stdout"),
            q("arguments", V, "the program's arguments, e.g. /ARGUMENTS=(\"-v\",\"x\")"),
            q("user", V, "the account the program runs as"),
            q("protocol", V, "TCP, UDP or (TCP,UDP); default: what the services database lists"),
            q("port", V, "a port other than the services database's"),
            q("listen", V, "local addresses, e.g. /LISTEN=(127.0.0.1,::1)"),
            q("tos", V, "type-of-service byte 0-255 for the service's sockets"),
            q(
                "multicast",
                V,
                "multicast groups its UDP sockets join, e.g. /MULTICAST=(239.1.2.3,224.0.1.1%se0)",
            ),
            q("disabled", F, "add it without starting it"),
            ACCEPT,
            REJECT,
            DEFAULT,
            LIMIT,
            SOURCE_LIMIT,
            RATE,
            PERMANENT,
        ],
        help: "add a service and start it",
        build: |p| {
            Ok(Action::Send(Request::AddService {
                service: service_config(p, p.required(0)?)?,
                permanent: p.has("permanent"),
            }))
        },
    },
    CommandDef {
        words: &["remove", "service"],
        params: &["name"],
        quals: &[PERMANENT],
        help: "stop and remove a service; open connections run to their end",
        build: |p| Ok(Action::Send(Request::RemoveService { name: p.required(0)?, permanent: p.has("permanent") })),
    },
    CommandDef {
        words: &["enable", "service"],
        params: &["name"],
        quals: &[PERMANENT],
        help: "enable a service and start listening",
        build: |p| Ok(Action::Send(Request::EnableService { name: p.required(0)?, permanent: p.has("permanent") })),
    },
    CommandDef {
        words: &["disable", "service"],
        params: &["name"],
        quals: &[PERMANENT],
        help: "disable a service; open connections run to their end",
        build: |p| Ok(Action::Send(Request::DisableService { name: p.required(0)?, permanent: p.has("permanent") })),
    },
    CommandDef {
        words: &["start", "service"],
        params: &["name"],
        quals: &[],
        help: "start listening again after STOP SERVICE (configuration unchanged)",
        build: |p| Ok(Action::Send(Request::StartService { name: p.required(0)? })),
    },
    CommandDef {
        words: &["stop", "service"],
        params: &["name"],
        quals: &[],
        help: "stop listening until START SERVICE or RELOAD (configuration unchanged)",
        build: |p| Ok(Action::Send(Request::StopService { name: p.required(0)? })),
    },
    CommandDef {
        words: &["set", "service"],
        params: &["name"],
        quals: &[ACCEPT, REJECT, NOACCESS, DEFAULT, LIMIT, SOURCE_LIMIT, RATE, PERMANENT],
        help: "change a service's access list or limits, live",
        build: |p| {
            Ok(Action::Send(Request::SetService {
                name: p.required(0)?,
                changes: changes(p)?,
                permanent: p.has("permanent"),
            }))
        },
    },
    CommandDef {
        words: &["disconnect"],
        params: &["id"],
        quals: &[],
        help: "close one connection (ids from SHOW CONNECTIONS)",
        build: |p| {
            let id = p.required(0)?;
            Ok(Action::Send(Request::Disconnect {
                id: id.parse().map_err(|_| format!("DISCONNECT: `{id}` is not a connection id"))?,
            }))
        },
    },
    CommandDef {
        words: &["refresh", "services"],
        params: &[],
        quals: &[],
        help: "re-read the services database; a file with any error is refused whole",
        build: |_| Ok(Action::Send(Request::RefreshServices)),
    },
];

fn opt(p: &Parsed, i: usize) -> Option<String> {
    p.param(i).map(str::to_string)
}

fn access_rules(p: &Parsed) -> Result<Option<Vec<AccessRule>>, String> {
    if p.has("noaccess") {
        return Ok(Some(Vec::new()));
    }
    let mut rules = Vec::new();
    let mut any = false;
    for (name, value) in p.qualifiers() {
        let action = match name {
            "accept" => AccessAction::Accept,
            "reject" => AccessAction::Reject,
            _ => continue,
        };
        any = true;
        for item in value.map(Value::items).unwrap_or_default() {
            let prefix = item
                .parse()
                .map_err(|e| format!("/{}={item}: {e}", name.to_uppercase()))?;
            rules.push(AccessRule { action, prefix });
        }
    }
    Ok(any.then_some(rules))
}

fn access_default(p: &Parsed) -> Result<Option<AccessAction>, String> {
    p.one("default")?
        .map(|d| {
            d.parse()
                .map_err(|_| format!("/DEFAULT={d}: expected ACCEPT or REJECT"))
        })
        .transpose()
}

fn changes(p: &Parsed) -> Result<ServiceChanges, String> {
    Ok(ServiceChanges {
        access: access_rules(p)?,
        access_default: access_default(p)?,
        max_connections: p.number("limit", "a number of connections")?,
        max_per_source: p.number("source_limit", "a number of connections")?,
        rate_per_source: p.number("rate", "connections per second")?,
    })
}

fn service_config(p: &Parsed, name: String) -> Result<ServiceConfig, String> {
    let program = p.one("program")?.map(PathBuf::from);
    let builtin = match p.one("builtin")? {
        Some(b) => Some(b.parse::<Builtin>().map_err(|e| format!("/BUILTIN={b}: {e}"))?),
        None if program.is_none() => Some(name.parse::<Builtin>().map_err(|_| {
            format!("ADD SERVICE {name}: give /BUILTIN=KIND or /PROGRAM=PATH ({name} is not a built-in server)")
        })?),
        None => None,
    };
    let protocols = match p.value("protocol") {
        None => None,
        Some(v) => Some(
            v.items()
                .iter()
                .map(|s| {
                    s.parse::<Protocol>()
                        .map_err(|_| format!("/PROTOCOL={s}: expected TCP or UDP"))
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let listen = match p.value("listen") {
        None => None,
        Some(v) => Some(
            v.items()
                .iter()
                .map(|s| {
                    s.parse()
                        .map_err(|_| format!("/LISTEN={s}: expected an IP address"))
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let multicast = match p.value("multicast") {
        None => Vec::new(),
        Some(v) => v
            .items()
            .iter()
            .map(|s| {
                s.parse::<control::config::MulticastGroup>()
                    .map_err(|e| format!("/MULTICAST={s}: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    let arguments = p.value("arguments").map(|v| match v {
        Value::One(s) => vec![s.clone()],
        Value::List(l) => l.clone(),
    });
    Ok(ServiceConfig {
        name,
        enabled: !p.has("disabled"),
        builtin,
        program,
        arguments: arguments.unwrap_or_default(),
        user: p.one("user")?,
        protocols,
        port: p.number("port", "a port number 0-65535")?,
        listen,
        max_connections: p.number("limit", "a number of connections")?,
        max_per_source: p.number("source_limit", "a number of connections")?,
        rate_per_source: p.number("rate", "connections per second")?,
        access: access_rules(p)?.unwrap_or_default(),
        access_default: access_default(p)?,
        tos: p.number("tos", "a number 0-255")?,
        multicast,
    })
}
