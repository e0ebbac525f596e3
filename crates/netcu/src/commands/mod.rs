//! The command table: every command, its parameters and qualifiers, its help, and how a parsed
//! command becomes a control request or a local action.
//!
//! Each family of commands (services, general) is a module with its own table of
//! [`CommandDef`]s; a definition carries the function that builds its [`Action`], so adding a
//! command is adding one entry to its family's table.

mod access;
mod dump;
mod filter;
mod general;
mod interface;
mod ips;
pub mod mib;
mod netconfig;
mod netconfig_file;
mod service;

use std::path::PathBuf;

use control::protocol::Request;

pub use dump::DumpRequest;
pub use mib::MibRequest;

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

/// A qualifier definition (shorthand for the tables).
pub const fn q(name: &'static str, takes: Takes, help: &'static str) -> QualDef {
    QualDef { name, takes, help }
}

/// A command of the table.
#[derive(Debug)]
pub struct CommandDef {
    /// Its keywords, lower case (`["show", "services"]`).
    pub words: &'static [&'static str],
    /// Parameter names for help (`[name]` optional, `name` required, `[x...]` any number).
    pub params: &'static [&'static str],
    /// Its qualifiers.
    pub quals: &'static [QualDef],
    /// What it does.
    pub help: &'static str,
    /// Turns the parsed command into an action.
    pub build: fn(&Parsed) -> Result<Action, String>,
}

/// What a command line asks netcu to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send a request to netcp.
    Send(Request),
    /// SHOW SERVICES /FULL, SHOW CONNECTIONS /STACK /FULL: send and render every detail.
    SendFull(Request),
    /// SHOW VERSION: netcu's version, then netcp's.
    Version,
    /// CHECK a configuration locally.
    Check(Option<PathBuf>),
    /// CHECK FILTER: validate a filter file locally.
    CheckFilter(PathBuf),
    /// TEST FILTER: classify one packet against a filter file.
    TestFilter {
        /// The filter file.
        file: PathBuf,
        /// The packet.
        operands: ::filter::dryrun::TestOperands,
    },
    /// CONVERT FILTER: old format to CIDR.
    ConvertFilter {
        /// The old file.
        old: PathBuf,
        /// The file to write.
        new: PathBuf,
    },
    /// DUMP: decode a capture.
    Dump(DumpRequest),
    /// COMPILE MIB: the MIB compiler.
    CompileMib(MibRequest),
    /// Print help.
    Help(Vec<String>),
    /// Leave the interactive prompt.
    Exit,
    /// An empty line.
    Nothing,
}

/// Every command, family by family, in the order HELP lists them.
fn all() -> impl Iterator<Item = &'static CommandDef> {
    service::COMMANDS
        .iter()
        .chain(interface::COMMANDS.iter())
        .chain(netconfig::COMMANDS.iter())
        .chain(netconfig_file::COMMANDS.iter())
        .chain(filter::COMMANDS.iter())
        .chain(ips::COMMANDS.iter())
        .chain(access::COMMANDS.iter())
        .chain(dump::COMMANDS.iter())
        .chain(mib::COMMANDS.iter())
        .chain(general::COMMANDS.iter())
}

/// A parsed command: which definition, its parameters, its qualifiers in order.
pub struct Parsed {
    def: &'static CommandDef,
    params: Vec<String>,
    quals: Vec<(&'static str, Option<Value>)>,
}

impl Parsed {
    /// Whether the qualifier was given.
    pub fn has(&self, name: &str) -> bool {
        self.quals.iter().any(|(n, _)| *n == name)
    }

    /// The qualifier's value (the last one given).
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.quals
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.as_ref())
    }

    /// The qualifiers in the order given.
    pub fn qualifiers(&self) -> impl Iterator<Item = (&'static str, Option<&Value>)> {
        self.quals.iter().map(|(n, v)| (*n, v.as_ref()))
    }

    /// The qualifier's single value.
    pub fn one(&self, name: &str) -> Result<Option<String>, String> {
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

    /// The qualifier's value as a number.
    pub fn number<T: std::str::FromStr>(
        &self,
        name: &str,
        what: &str,
    ) -> Result<Option<T>, String> {
        match self.one(name)? {
            None => Ok(None),
            Some(s) => s
                .parse()
                .map(Some)
                .map_err(|_| format!("/{}={s}: expected {what}", name.to_uppercase())),
        }
    }

    /// Parameter `i`, if given.
    pub fn param(&self, i: usize) -> Option<&str> {
        self.params.get(i).map(String::as_str)
    }

    /// Every parameter.
    pub fn params(&self) -> &[String] {
        &self.params
    }

    /// Parameter `i`, which the command needs.
    pub fn required(&self, i: usize) -> Result<String, String> {
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
        || all()
            .flat_map(|c| c.quals.iter())
            .any(|q| q.name.starts_with(&lower))
}

fn find_command(words: &[(String, usize)]) -> Result<(&'static CommandDef, usize), String> {
    let Some((first, _)) = words.first() else {
        return Err("no command".into());
    };
    let mut verbs: Vec<&str> = Vec::new();
    for c in all() {
        if !verbs.contains(&c.words[0]) {
            verbs.push(c.words[0]);
        }
    }
    let verb = match_keyword(first, &verbs)?;
    let with_verb: Vec<&'static CommandDef> = all().filter(|c| c.words[0] == verb).collect();
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
        if let Some(one) = with_verb.iter().find(|c| c.words.len() == 1) {
            return Ok((one, 1));
        }
        return Err(format!(
            "{} what? One of: {}",
            verb.to_uppercase(),
            objects.join(", ").to_uppercase()
        ));
    };
    let single = with_verb.iter().copied().find(|c| c.words.len() == 1);
    let object = match (match_keyword(second, &objects), single) {
        (Ok(o), _) => o,
        // CHECK /etc/maynard: a parameter of the one-word command, not an object.
        (Err(_), Some(one)) => return Ok((one, 1)),
        (Err(e), None) => return Err(format!("{}: {e}", verb.to_uppercase())),
    };
    let def = with_verb
        .into_iter()
        .find(|c| c.words.get(1) == Some(&object))
        .ok_or_else(|| format!("{verb} {object}: unknown"))?;
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
    if let Some(extra) = params.get(max) {
        return Err(format!(
            "{}: unexpected `{extra}`",
            def.words.join(" ").to_uppercase()
        ));
    }
    Ok(Some(Parsed { def, params, quals }))
}

/// Parses one command line into what netcu should do.
pub fn parse(line: &str) -> Result<Action, String> {
    match parse_line(line)? {
        None => Ok(Action::Nothing),
        Some(p) => (p.def.build)(&p),
    }
}

/// The help text: every command, or the details of the ones `topic` names.
pub fn help(topic: &[String]) -> String {
    let mut out = String::new();
    let matching: Vec<&CommandDef> = if topic.is_empty() {
        Vec::new()
    } else {
        all()
            .filter(|c| {
                topic
                    .iter()
                    .zip(c.words.iter())
                    .all(|(t, w)| w.starts_with(&t.to_ascii_lowercase()))
            })
            .collect()
    };
    if matching.is_empty() {
        if !topic.is_empty() {
            out.push_str(&format!(
                "No command {}.\n\n",
                topic.join(" ").to_uppercase()
            ));
        }
        out.push_str(
            "Commands (keywords may be abbreviated; qualifiers as /NAME=value or --name value):\n",
        );
        for c in all() {
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
mod tests;
