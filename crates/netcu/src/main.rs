//! netcu, Maynard's network control utility: one command language for netcp, one-shot
//! (`netcu show services`), interactive (`NETCU>`), or from command files (`netcu @FILE`).

mod client;
mod commands;
mod dump;
mod lang;
mod local;
mod render;
mod render_net;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use control::config::{self, Origin};
use control::protocol::{default_socket_path, Response, PROTOCOL_VERSION};

use crate::client::{Client, ClientError};
use crate::commands::Action;

/// Exit status: a command failed.
const FAILED: u8 = 1;
/// Exit status: the command line or a command file is wrong.
const USAGE_ERROR: u8 = 2;
/// Exit status: netcp is not running.
const NOT_RUNNING: u8 = 3;

const USAGE: &str = "\
usage: netcu [--socket PATH] [--config DIR] [COMMAND ...]   one command, or the NETCU> prompt
       netcu [--socket PATH] @FILE | -f FILE               run a command file
Type HELP at the prompt (or `netcu help`) for the commands.";

/// The outcome of one command.
enum Outcome {
    Done,
    Exit,
    Failed(u8),
}

struct Session {
    client: Client,
    config: Option<PathBuf>,
}

impl Session {
    fn run_line(&mut self, line: &str) -> Outcome {
        let action = match commands::parse(line) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("%NETCU-E-SYNTAX, {e}");
                return Outcome::Failed(USAGE_ERROR);
            }
        };
        match action {
            Action::Nothing => Outcome::Done,
            Action::Exit => Outcome::Exit,
            Action::Help(topic) => {
                print!("{}", commands::help(&topic));
                Outcome::Done
            }
            Action::Check(dir) => self.check(dir),
            Action::CheckFilter(path) => {
                local_outcome(local::check_filter(&path, self.config.clone()))
            }
            Action::TestFilter { file, operands } => {
                local_outcome(local::test_filter(&file, &operands, self.config.clone()))
            }
            Action::ConvertFilter { old, new } => local_outcome(local::convert_filter(&old, &new)),
            Action::Dump(req) => {
                let db = local::services_db(self.config.clone()).ok();
                local_outcome(dump::run(&req, db.as_ref(), &mut self.client))
            }
            Action::CompileMib(req) => local_outcome(commands::mib::run(&req)),
            Action::Version => {
                println!(
                    "netcu {} (protocol {PROTOCOL_VERSION})",
                    env!("CARGO_PKG_VERSION")
                );
                self.send(&control::protocol::Request::ShowVersion, false)
            }
            Action::Send(request) => self.send(&request, false),
            Action::SendFull(request) => self.send(&request, true),
        }
    }

    fn send(&mut self, request: &control::protocol::Request, full: bool) -> Outcome {
        match self.client.call(request) {
            Ok(response) => show(response, full),
            Err(e @ ClientError::NotRunning { .. }) => {
                eprintln!("%NETCU-E-NOTRUNNING, {e}");
                Outcome::Failed(NOT_RUNNING)
            }
            Err(e) => {
                eprintln!("%NETCU-E-PROTOCOL, {e}");
                Outcome::Failed(FAILED)
            }
        }
    }

    fn check(&self, dir: Option<PathBuf>) -> Outcome {
        let origin = Origin::from_args(dir.or_else(|| self.config.clone()));
        match config::load(&origin) {
            Ok(loaded) => {
                for w in &loaded.warnings {
                    println!("%NETCU-W-CHECK, {w}");
                }
                println!(
                    "%NETCU-S-VALID, {} is valid: {} services, {} applications in the services database",
                    origin.describe(),
                    loaded.resolved.len(),
                    loaded.db.applications()
                );
                Outcome::Done
            }
            Err(errors) => {
                for d in &errors.0 {
                    eprintln!("%NETCU-E-CHECK, {d}");
                }
                eprintln!(
                    "%NETCU-E-INVALID, {} has {} error(s); nothing was applied",
                    origin.describe(),
                    errors.0.len()
                );
                Outcome::Failed(FAILED)
            }
        }
    }
}

fn local_outcome(done: local::Done) -> Outcome {
    match done {
        Ok(()) => Outcome::Done,
        Err(()) => Outcome::Failed(FAILED),
    }
}

fn show(response: Response, full: bool) -> Outcome {
    match response {
        Response::Ok { message } => {
            println!("%NETCU-S-DONE, {message}");
            Outcome::Done
        }
        Response::Error { message } => {
            let mut lines = message.lines();
            eprintln!("%NETCU-E-REFUSED, {}", lines.next().unwrap_or(""));
            for l in lines {
                eprintln!("  {l}");
            }
            Outcome::Failed(FAILED)
        }
        Response::Version(v) => {
            print!("{}", render::version(&v));
            Outcome::Done
        }
        Response::Services { services } if full => {
            print!("{}", render::services_full(&services));
            Outcome::Done
        }
        Response::Services { services } => {
            print!("{}", render::services(&services));
            Outcome::Done
        }
        Response::Connections { connections } => {
            print!("{}", render::connections(&connections));
            Outcome::Done
        }
        Response::Text { text } => {
            print!("{text}");
            Outcome::Done
        }
        Response::Counters { counters } => {
            print!("{}", render::counters(&counters));
            Outcome::Done
        }
        Response::StackInterfaces {
            interfaces,
            statistics: true,
        } => {
            print!("{}", render_net::interface_statistics(&interfaces));
            Outcome::Done
        }
        Response::StackInterfaces { interfaces, .. } => {
            print!("{}", render_net::interfaces(&interfaces));
            Outcome::Done
        }
        Response::Arp { entries } => {
            print!("{}", render_net::arp(&entries));
            Outcome::Done
        }
        Response::Routes { routes } => {
            print!("{}", render_net::routes(&routes));
            Outcome::Done
        }
        Response::StackSockets { sockets } => {
            print!("{}", render_net::stack_sockets(&sockets, full));
            Outcome::Done
        }
        Response::Kernel(k) if full => {
            print!("{}", render_net::statistics(&k));
            Outcome::Done
        }
        Response::Kernel(k) => {
            print!("{}", render_net::kernel(&k));
            Outcome::Done
        }
        // Live capture frames come only to DUMP interface (dump.rs), which reads them itself.
        Response::Frames { .. } => {
            eprintln!("%NETCU-E-PROTOCOL, unexpected capture frames");
            Outcome::Failed(FAILED)
        }
    }
}

/// Quotes a shell argument back into the command language, so one-shot arguments parse as the
/// same line would: `/ARGUMENTS=a b` (the shell took the quotes) becomes `/ARGUMENTS="a b"`.
fn requote(arg: &str) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    if !arg.is_empty() && !arg.contains(char::is_whitespace) {
        return arg.to_string();
    }
    if arg.starts_with('/') || arg.starts_with("--") {
        if let Some((name, value)) = arg.split_once('=') {
            if !name.contains(char::is_whitespace) {
                return format!("{name}={}", quote(value));
            }
        }
    }
    quote(arg)
}

/// The command line of a one-shot invocation: a single argument is the line itself
/// (`netcu "SHOW SERVICES/FULL"`); several are words of it.
fn one_shot_line(args: &[String]) -> String {
    match args {
        [line] => line.clone(),
        _ => args
            .iter()
            .map(|a| requote(a))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn run_file(session: &mut Session, path: &str) -> ExitCode {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("%NETCU-E-OPEN, {path}: {e}");
            return ExitCode::from(USAGE_ERROR);
        }
    };
    // A line ending in `-` continues on the next, as in DCL.
    let mut pending = String::new();
    let mut first_line = 0;
    for (i, raw) in text.lines().enumerate() {
        if pending.is_empty() {
            first_line = i + 1;
        }
        let trimmed = raw.trim_end();
        if let Some(head) = trimmed.strip_suffix('-').filter(|h| !h.ends_with('-')) {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(trimmed);
        let line = std::mem::take(&mut pending);
        let line = line.trim().trim_start_matches('$').trim();
        if line.is_empty() || line.starts_with('!') || line.starts_with('#') {
            continue;
        }
        match session.run_line(line) {
            Outcome::Done => {}
            Outcome::Exit => return ExitCode::SUCCESS,
            Outcome::Failed(code) => {
                eprintln!(
                    "%NETCU-E-ABORTED, {path}:{first_line}: command failed, stopping: {line}"
                );
                return ExitCode::from(code);
            }
        }
    }
    ExitCode::SUCCESS
}

fn interactive(session: &mut Session) -> ExitCode {
    let mut editor = match rustyline::DefaultEditor::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("%NETCU-E-TERMINAL, {e}");
            return ExitCode::from(FAILED);
        }
    };
    loop {
        match editor.readline("NETCU> ") {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                }
                if let Outcome::Exit = session.run_line(&line) {
                    return ExitCode::SUCCESS;
                }
            }
            Err(rustyline::error::ReadlineError::Interrupted) => continue,
            Err(_) => return ExitCode::SUCCESS,
        }
    }
}

/// Commands from a pipe: one per line, errors reported, the last failure is the exit status.
fn piped(session: &mut Session) -> ExitCode {
    let mut status = 0u8;
    for line in std::io::stdin().lines() {
        let Ok(line) = line else { break };
        match session.run_line(&line) {
            Outcome::Exit => break,
            Outcome::Failed(c) => status = c,
            Outcome::Done => {}
        }
    }
    ExitCode::from(status)
}

fn main() -> ExitCode {
    let mut socket = None;
    let mut config = None;
    let mut file = None;
    let mut rest: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if !rest.is_empty() {
            rest.push(a);
            continue;
        }
        match a.as_str() {
            "--socket" | "-s" => socket = args.next().map(PathBuf::from),
            "--config" | "-c" => config = args.next().map(PathBuf::from),
            "-f" => file = args.next(),
            "--help" | "-h" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "--version" | "-V" => {
                println!("netcu {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            s if s.starts_with('@') && s.len() > 1 => file = Some(s[1..].to_string()),
            s if s.starts_with("--socket=") => socket = Some(PathBuf::from(&s[9..])),
            s if s.starts_with("--config=") => config = Some(PathBuf::from(&s[9..])),
            _ => rest.push(a),
        }
    }
    let mut session = Session {
        client: Client::new(socket.unwrap_or_else(default_socket_path)),
        config,
    };
    if let Some(f) = file {
        return run_file(&mut session, &f);
    }
    if !rest.is_empty() {
        return match session.run_line(&one_shot_line(&rest)) {
            Outcome::Done | Outcome::Exit => ExitCode::SUCCESS,
            Outcome::Failed(c) => ExitCode::from(c),
        };
    }
    if std::io::stdin().is_terminal() {
        println!(
            "Maynard network control utility {} (netcp at {}). HELP lists the commands.",
            env!("CARGO_PKG_VERSION"),
            session.client.path().display()
        );
        interactive(&mut session)
    } else {
        piped(&mut session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_arguments_become_one_line() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            one_shot_line(&args(&["SHOW SERVICES/FULL"])),
            "SHOW SERVICES/FULL"
        );
        assert_eq!(
            one_shot_line(&args(&[
                "add",
                "service",
                "x",
                "/arguments=a b",
                "--user",
                "my user"
            ])),
            "add service x /arguments=\"a b\" --user \"my user\""
        );
    }
}
