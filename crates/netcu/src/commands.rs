//! The command table: every command, its parameters and qualifiers, its help, and how a parsed
//! command becomes a control request or a local action.

use std::path::PathBuf;

use control::access::{AccessAction, AccessRule};
use control::config::ServiceConfig;
use control::protocol::{Request, ServiceChanges};
use servicedb::Protocol;
use services::Builtin;

use crate::lang::{match_keyword, tokenize, RawQualifier, Token, Value};

/// Whether a qualifier takes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takes {
    /// A flag.
    Nothing,
    /// A value (or list) is required.
    Value,
}

/// A qualifier of a command.
#[derive(Debug, Clone, Copy)]
pub struct QualDef {
    /// Canonical name, lower case (`source_limit`).
    pub name: &'static str,
    /// Value or flag.
    pub takes: Takes,
    /// One line of help.
    pub help: &'static str,
}

const fn q(name: &'static str, takes: Takes, help: &'static str) -> QualDef {
    QualDef { name, takes, help }
}

/// A command of the table.
#[derive(Debug)]
pub struct CommandDef {
    /// Its keywords, lower case (`["show", "services"]`).
    pub words: &'static [&'static str],
    /// Parameter names for help (`[name]` optional, `name` required).
    pub params: &'static [&'static str],
    /// Its qualifiers.
    pub quals: &'static [QualDef],
    /// What it does.
    pub help: &'static str,
}

use Takes::{Nothing as F, Value as V};

const PERMANENT: QualDef = q(
    "permanent",
    F,
    "also write the change to servers.toml (alias --save)",
);
const SERVICE_SETTINGS: [QualDef; 7] = [
    q(
        "accept",
        V,
        "sources to accept, e.g. /ACCEPT=(10.0.0.0/8,::1); rules keep the qualifiers' order",
    ),
    q("reject", V, "sources to reject, e.g. /REJECT=0/0"),
    q("noaccess", F, "remove every access rule"),
    q(
        "default",
        V,
        "ACCEPT or REJECT: what happens to sources no rule matches",
    ),
    q("limit", V, "concurrent connections of the service"),
    q(
        "source_limit",
        V,
        "concurrent connections per source address (0 = no limit)",
    ),
    q(
        "rate",
        V,
        "new connections per second per source address (0 = no limit)",
    ),
];

/// Every command.
pub static COMMANDS: &[CommandDef] = &[
    CommandDef { words: &["show", "services"], params: &["[name]"], quals: &[q("full", F, "every detail of each service")], help: "list the hosted services and their state" },
    CommandDef { words: &["show", "connections"], params: &["[service]"], quals: &[], help: "list open connections" },
    CommandDef { words: &["show", "counters"], params: &["[service]"], quals: &[], help: "per-service connections, refusals, messages and bytes" },
    CommandDef { words: &["show", "version"], params: &[], quals: &[], help: "netcu's and netcp's versions" },
    CommandDef { words: &["zero", "counters"], params: &["[service]"], quals: &[], help: "set counters back to zero" },
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
            q("disabled", F, "add it without starting it"),
            SERVICE_SETTINGS[0], SERVICE_SETTINGS[1], SERVICE_SETTINGS[3], SERVICE_SETTINGS[4], SERVICE_SETTINGS[5], SERVICE_SETTINGS[6],
            PERMANENT,
        ],
        help: "add a service and start it",
    },
    CommandDef { words: &["remove", "service"], params: &["name"], quals: &[PERMANENT], help: "stop and remove a service; open connections run to their end" },
    CommandDef { words: &["enable", "service"], params: &["name"], quals: &[PERMANENT], help: "enable a service and start listening" },
    CommandDef { words: &["disable", "service"], params: &["name"], quals: &[PERMANENT], help: "disable a service; open connections run to their end" },
    CommandDef { words: &["start", "service"], params: &["name"], quals: &[], help: "start listening again after STOP SERVICE (configuration unchanged)" },
    CommandDef { words: &["stop", "service"], params: &["name"], quals: &[], help: "stop listening until START SERVICE or RELOAD (configuration unchanged)" },
    CommandDef {
        words: &["set", "service"],
        params: &["name"],
        quals: &[SERVICE_SETTINGS[0], SERVICE_SETTINGS[1], SERVICE_SETTINGS[2], SERVICE_SETTINGS[3], SERVICE_SETTINGS[4], SERVICE_SETTINGS[5], SERVICE_SETTINGS[6], PERMANENT],
        help: "change a service's access list or limits, live",
    },
    CommandDef { words: &["disconnect"], params: &["id"], quals: &[], help: "close one connection (ids from SHOW CONNECTIONS)" },
    CommandDef { words: &["refresh", "services"], params: &[], quals: &[], help: "re-read the services database; a file with any error is refused whole" },
    CommandDef { words: &["reload"], params: &[], quals: &[], help: "re-read the whole configuration, keeping open connections (as SIGHUP)" },
    CommandDef { words: &["check"], params: &["[directory]"], quals: &[], help: "validate a configuration directory without applying it (default: --config, $MAYNARD_CONFIG, or the embedded default)" },
    CommandDef { words: &["shutdown"], params: &[], quals: &[q("abort", F, "close open connections at once instead of draining them")], help: "stop netcp" },
    CommandDef { words: &["help"], params: &["[command...]"], quals: &[], help: "this list, or one command's details" },
    CommandDef { words: &["exit"], params: &[], quals: &[], help: "leave netcu" },
    CommandDef { words: &["quit"], params: &[], quals: &[], help: "leave netcu" },
];

/// What a command line asks netcu to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send a request to netcp.
    Send(Request),
    /// SHOW SERVICES /FULL etc.: send and render in detail.
    ShowServicesFull(Request),
    /// SHOW VERSION: netcu's version, then netcp's.
    Version,
    /// CHECK a configuration locally.
    Check(Option<PathBuf>),
    /// Print help.
    Help(Vec<String>),
    /// Leave the interactive prompt.
    Exit,
    /// An empty line.
    Nothing,
}

/// A parsed command: which definition, its parameters, its qualifiers in order.
struct Parsed {
    def: &'static CommandDef,
    params: Vec<String>,
    quals: Vec<(&'static str, Option<Value>)>,
}

impl Parsed {
    fn has(&self, name: &str) -> bool {
        self.quals.iter().any(|(n, _)| *n == name)
    }

    fn value(&self, name: &str) -> Option<&Value> {
        self.quals
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.as_ref())
    }

    fn one(&self, name: &str) -> Result<Option<String>, String> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::One(s)) => Ok(Some(s.clone())),
            Some(Value::List(l)) if l.len() == 1 => Ok(l.first().cloned()),
            Some(_) => Err(format!(
                "/{} takes one value, not a list",
                name.to_uppercase()
            )),
        }
    }

    fn number<T: std::str::FromStr>(&self, name: &str, what: &str) -> Result<Option<T>, String> {
        match self.one(name)? {
            None => Ok(None),
            Some(s) => s
                .parse()
                .map(Some)
                .map_err(|_| format!("/{}={s}: expected {what}", name.to_uppercase())),
        }
    }

    fn param(&self, i: usize) -> Option<&str> {
        self.params.get(i).map(String::as_str)
    }

    fn required(&self, i: usize) -> Result<String, String> {
        self.param(i).map(str::to_string).ok_or_else(|| {
            format!(
                "{} needs {}",
                self.def.words.join(" ").to_uppercase(),
                self.def.params.get(i).unwrap_or(&"a parameter")
            )
        })
    }
}

/// Whether `name` is a prefix (at least as typed) of any qualifier of any command.
fn known_qualifier(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "save"
        || COMMANDS
            .iter()
            .flat_map(|c| c.quals.iter())
            .any(|q| q.name.starts_with(&lower))
}

fn find_command(words: &[(String, usize)]) -> Result<(&'static CommandDef, usize), String> {
    let Some((first, _)) = words.first() else {
        return Err("no command".into());
    };
    let mut verbs: Vec<&str> = COMMANDS.iter().map(|c| c.words[0]).collect();
    verbs.dedup();
    let verb = match_keyword(first, &verbs)?;
    let with_verb: Vec<&'static CommandDef> =
        COMMANDS.iter().filter(|c| c.words[0] == verb).collect();
    if let [only] = with_verb.as_slice() {
        if only.words.len() == 1 {
            return Ok((only, 1));
        }
    }
    let objects: Vec<&str> = with_verb
        .iter()
        .filter_map(|c| c.words.get(1).copied())
        .collect();
    let Some((second, _)) = words.get(1) else {
        return Err(format!(
            "{} what? One of: {}",
            verb.to_uppercase(),
            objects.join(", ").to_uppercase()
        ));
    };
    let object =
        match_keyword(second, &objects).map_err(|e| format!("{}: {e}", verb.to_uppercase()))?;
    let def = with_verb
        .into_iter()
        .find(|c| c.words.get(1) == Some(&object))
        .ok_or_else(|| format!("{} {}: unknown", verb, object))?;
    Ok((def, 2))
}

fn parse_line(line: &str) -> Result<Option<Parsed>, String> {
    let tokens = tokenize(line, &known_qualifier).map_err(|e| e.to_string())?;
    // Keywords come first; qualifiers may be attached anywhere (SHOW SERVICES/FULL ECHO).
    let words: Vec<(String, usize)> = tokens
        .iter()
        .filter_map(|t| match t {
            Token::Word(w, at) => Some((w.clone(), *at)),
            Token::Qualifier(_) => None,
        })
        .collect();
    if tokens.is_empty() {
        return Ok(None);
    }
    let (def, used) = find_command(&words)?;
    let mut params: Vec<String> = Vec::new();
    let mut quals = Vec::new();
    let mut seen_words = 0;
    let mut iter = tokens.into_iter().peekable();
    while let Some(tok) = iter.next() {
        match tok {
            Token::Word(w, _) => {
                seen_words += 1;
                if seen_words > used {
                    params.push(w);
                }
            }
            Token::Qualifier(RawQualifier {
                name,
                mut value,
                unix,
                at,
            }) => {
                let lower = name.to_ascii_lowercase();
                let canonical = if lower == "save" {
                    "permanent"
                } else {
                    let names: Vec<&str> = def.quals.iter().map(|q| q.name).collect();
                    // Unix users write --source-limit.
                    let lower = lower.replace('-', "_");
                    match_keyword(&lower, &names).map_err(|e| {
                        if names.is_empty() {
                            format!(
                                "column {}: {} takes no qualifiers",
                                at + 1,
                                def.words.join(" ").to_uppercase()
                            )
                        } else {
                            format!("column {}: qualifier {e}", at + 1)
                        }
                    })?
                };
                let takes = def
                    .quals
                    .iter()
                    .find(|q| q.name == canonical)
                    .map_or(Takes::Nothing, |q| q.takes);
                match takes {
                    Takes::Value if value.is_none() => {
                        let next_is_word = matches!(iter.peek(), Some(Token::Word(..)));
                        if unix && next_is_word {
                            if let Some(Token::Word(w, _)) = iter.next() {
                                value = Some(Value::One(w));
                            }
                        } else {
                            return Err(format!(
                                "column {}: /{} needs a value (/{}=VALUE or --{} VALUE)",
                                at + 1,
                                canonical.to_uppercase(),
                                canonical.to_uppercase(),
                                canonical
                            ));
                        }
                    }
                    Takes::Nothing if value.is_some() => {
                        return Err(format!(
                            "column {}: /{} takes no value",
                            at + 1,
                            canonical.to_uppercase()
                        ));
                    }
                    _ => {}
                }
                quals.push((canonical, value));
            }
        }
    }
    let max = if def.params.iter().any(|p| p.ends_with("...]")) {
        usize::MAX
    } else {
        def.params.len()
    };
    if params.len() > max {
        return Err(format!(
            "{}: unexpected `{}`",
            def.words.join(" ").to_uppercase(),
            params[max]
        ));
    }
    Ok(Some(Parsed { def, params, quals }))
}

/// Parses one command line into what netcu should do.
pub fn parse(line: &str) -> Result<Action, String> {
    let Some(p) = parse_line(line)? else {
        return Ok(Action::Nothing);
    };
    let permanent = p.has("permanent");
    let name = || p.required(0);
    let opt = |i: usize| p.param(i).map(str::to_string);
    Ok(match p.def.words {
        ["show", "services"] => {
            let r = Request::ShowServices { name: opt(0) };
            if p.has("full") {
                Action::ShowServicesFull(r)
            } else {
                Action::Send(r)
            }
        }
        ["show", "connections"] => Action::Send(Request::ShowConnections { service: opt(0) }),
        ["show", "counters"] => Action::Send(Request::ShowCounters { service: opt(0) }),
        ["show", "version"] => Action::Version,
        ["zero", "counters"] => Action::Send(Request::ZeroCounters { service: opt(0) }),
        ["add", "service"] => Action::Send(Request::AddService {
            service: service_config(&p, name()?)?,
            permanent,
        }),
        ["remove", "service"] => Action::Send(Request::RemoveService {
            name: name()?,
            permanent,
        }),
        ["enable", "service"] => Action::Send(Request::EnableService {
            name: name()?,
            permanent,
        }),
        ["disable", "service"] => Action::Send(Request::DisableService {
            name: name()?,
            permanent,
        }),
        ["start", "service"] => Action::Send(Request::StartService { name: name()? }),
        ["stop", "service"] => Action::Send(Request::StopService { name: name()? }),
        ["set", "service"] => Action::Send(Request::SetService {
            name: name()?,
            changes: changes(&p)?,
            permanent,
        }),
        ["disconnect"] => {
            let id = p.required(0)?;
            Action::Send(Request::Disconnect {
                id: id
                    .parse()
                    .map_err(|_| format!("DISCONNECT: `{id}` is not a connection id"))?,
            })
        }
        ["refresh", "services"] => Action::Send(Request::RefreshServices),
        ["reload"] => Action::Send(Request::Reload),
        ["check"] => Action::Check(opt(0).map(PathBuf::from)),
        ["shutdown"] => Action::Send(Request::Shutdown {
            abort: p.has("abort"),
        }),
        ["help"] => Action::Help(p.params.clone()),
        ["exit"] | ["quit"] => Action::Exit,
        other => {
            return Err(format!(
                "{} is not implemented",
                other.join(" ").to_uppercase()
            ))
        }
    })
}

fn access_rules(p: &Parsed) -> Result<Option<Vec<AccessRule>>, String> {
    if p.has("noaccess") {
        return Ok(Some(Vec::new()));
    }
    let mut rules = Vec::new();
    let mut any = false;
    for (name, value) in &p.quals {
        let action = match *name {
            "accept" => AccessAction::Accept,
            "reject" => AccessAction::Reject,
            _ => continue,
        };
        any = true;
        for item in value.as_ref().map(Value::items).unwrap_or_default() {
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
    })
}

/// The help text: every command, or the details of the ones `topic` names.
pub fn help(topic: &[String]) -> String {
    let mut out = String::new();
    let matching: Vec<&CommandDef> = if topic.is_empty() {
        Vec::new()
    } else {
        COMMANDS
            .iter()
            .filter(|c| {
                topic
                    .iter()
                    .zip(c.words.iter())
                    .all(|(t, w)| w.starts_with(&t.to_ascii_lowercase()))
            })
            .collect()
    };
    if topic.is_empty() || matching.is_empty() {
        if !topic.is_empty() {
            out.push_str(&format!(
                "No command {}.\n\n",
                topic.join(" ").to_uppercase()
            ));
        }
        out.push_str(
            "Commands (keywords may be abbreviated; qualifiers as /NAME=value or --name value):\n",
        );
        for c in COMMANDS {
            let usage = format!(
                "{} {}",
                c.words.join(" ").to_uppercase(),
                c.params.join(" ")
            );
            out.push_str(&format!("  {:<34} {}\n", usage.trim_end(), c.help));
        }
        out.push_str("\nHELP command gives its qualifiers, e.g. HELP SET SERVICE.\n");
        return out;
    }
    for c in matching {
        out.push_str(&format!(
            "{} {}\n  {}\n",
            c.words.join(" ").to_uppercase(),
            c.params.join(" "),
            c.help
        ));
        for q in c.quals {
            let form = match q.takes {
                Takes::Nothing => format!("/{}", q.name.to_uppercase()),
                Takes::Value => format!("/{}=value", q.name.to_uppercase()),
            };
            out.push_str(&format!("    {form:<22} {}\n", q.help));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_styles_make_the_same_request() {
        let vms = parse("SET SERV ECHO/REJECT=10.1.0.0/16/ACCEPT=(10.0.0.0/8,::1)/DEF=REJECT/PERM")
            .unwrap();
        let unix = parse(
            "set service ECHO --reject 10.1.0.0/16 --accept 10.0.0.0/8,::1 --default reject --save",
        )
        .unwrap();
        assert_eq!(vms, unix);
        let Action::Send(Request::SetService {
            name,
            changes,
            permanent,
        }) = vms
        else {
            panic!("{vms:?}")
        };
        assert_eq!(name, "ECHO");
        assert!(permanent);
        let rules: Vec<String> = changes
            .access
            .unwrap()
            .iter()
            .map(|r| r.to_string())
            .collect();
        assert_eq!(
            rules,
            ["reject 10.1.0.0/16", "accept 10.0.0.0/8", "accept ::1/128"]
        );
        assert_eq!(changes.access_default, Some(AccessAction::Reject));
    }

    #[test]
    fn add_service_defaults_to_the_builtin_of_its_name() {
        let Action::Send(Request::AddService { service, permanent }) =
            parse("add service daytime /port=10013 /protocol=tcp").unwrap()
        else {
            panic!()
        };
        assert_eq!(service.builtin, Some(Builtin::Daytime));
        assert_eq!(service.port, Some(10013));
        assert_eq!(service.protocols, Some(vec![Protocol::Tcp]));
        assert!(!permanent);
        let err = parse("add service mysvc").unwrap_err();
        assert!(err.contains("/PROGRAM"), "{err}");
        let Action::Send(Request::AddService { service, .. }) =
            parse("add service mysvc /program=/bin/cat /arguments=(\"-u\") /user=nobody /port=9999 /protocol=tcp").unwrap()
        else {
            panic!()
        };
        assert_eq!(service.program, Some(PathBuf::from("/bin/cat")));
        assert_eq!(service.arguments, ["-u"]);
    }

    #[test]
    fn errors_are_clear() {
        assert!(parse("sh services").unwrap_err().contains("ambiguous"));
        assert!(parse("show").unwrap_err().contains("SHOW what?"));
        assert!(parse("show services /bogus")
            .unwrap_err()
            .contains("qualifier"));
        assert!(parse("set service echo /limit")
            .unwrap_err()
            .contains("needs a value"));
        assert!(parse("set service echo /limit=many")
            .unwrap_err()
            .contains("expected"));
        assert!(parse("reload extra").unwrap_err().contains("unexpected"));
        assert!(parse("set service echo /accept=10.1.0.0/8")
            .unwrap_err()
            .contains("10.0.0.0/8"));
        assert_eq!(parse("   ! just a comment").unwrap(), Action::Nothing);
    }

    #[test]
    fn qualifiers_attach_anywhere() {
        assert_eq!(
            parse("SHOW SERVICES/FULL ECHO").unwrap(),
            Action::ShowServicesFull(Request::ShowServices {
                name: Some("ECHO".into())
            })
        );
        assert_eq!(parse("sho ver").unwrap(), Action::Version);
    }

    #[test]
    fn help_lists_everything() {
        let h = help(&[]);
        for c in COMMANDS {
            assert!(h.contains(&c.words.join(" ").to_uppercase()));
        }
        assert!(help(&["set".into(), "serv".into()]).contains("/SOURCE_LIMIT"));
    }
}
