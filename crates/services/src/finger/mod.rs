//! Finger (RFC 1288), TCP only.
//!
//! One query line in, one answer out, then the connection closes:
//! - empty query: the users logged in (from utmp), if [`FingerConfig::list_users`];
//! - `user`: the long format for every account whose login is `user` or whose real name has
//!   `user` as a word (case-insensitive); accounts with a uid below [`FingerConfig::min_uid`] are
//!   not found at all;
//! - `/W user`: the same plus the user's `.plan` (`Plan:` or `No Plan.`) — the plan is shown only
//!   for the verbose query, as `finger -l` sends `/W`;
//! - `user@host...`: forwarded to the last host if [`FingerConfig::allow_forwarding`], else
//!   refused with `finger: forwarding service denied`.
//!
//! The answer is built in memory and written at once; local files are small (passwd, utmp, a
//! plan of at most 4 KiB) and are read synchronously.

pub mod forward;
pub mod passwd;
pub mod plan;
pub mod query;
pub mod render;
pub mod utmp;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;

use crate::clock::Clock;
use crate::net::ServiceStream;
use crate::simple::send_and_close;

pub use query::{Query, QueryError, MAX_QUERY_BYTES};

use forward::ForwardLimits;
use render::{clean_line, ListRow, PlanView, Session, UserReport};

/// How long a client may take to send its query (and a forwarded server to connect or answer).
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(10);

/// The finger server's settings (the `[finger]` table of servers.toml).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FingerConfig {
    /// The passwd file accounts are looked up in.
    pub passwd_file: PathBuf,
    /// The utmp file sessions are read from.
    pub utmp_file: PathBuf,
    /// Forward `user@host` queries (RFC 1288 says off by default: it hides the true requester).
    pub allow_forwarding: bool,
    /// Answer the empty query with the list of users logged in.
    pub list_users: bool,
    /// Show `~/.plan` for `/W` queries.
    pub show_plan: bool,
    /// Accounts with a smaller uid are system accounts: treated as not existing.
    pub min_uid: u32,
}

impl Default for FingerConfig {
    fn default() -> Self {
        Self {
            passwd_file: PathBuf::from("/etc/passwd"),
            utmp_file: PathBuf::from("/var/run/utmp"),
            allow_forwarding: false,
            list_users: true,
            show_plan: true,
            min_uid: 1000,
        }
    }
}

/// Knobs that are fixed in production but shortened or redirected in tests.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    /// Time allowed for the query line.
    pub query_timeout: Duration,
    /// Forwarding port and time limit.
    pub forward: ForwardLimits,
    /// Where tty devices live, for idle times.
    pub dev_dir: PathBuf,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            query_timeout: QUERY_TIMEOUT,
            forward: ForwardLimits {
                port: 79,
                timeout: QUERY_TIMEOUT,
            },
            dev_dir: PathBuf::from("/dev"),
        }
    }
}

/// Serves one finger connection: reads the query, answers, closes.
pub async fn serve<S: ServiceStream>(
    config: &FingerConfig,
    clock: &Clock,
    stream: S,
) -> std::io::Result<()> {
    serve_with(config, clock, stream, &Limits::default()).await
}

/// [`serve`] with adjustable limits (tests shorten the timeout and redirect the port).
pub(crate) async fn serve_with<S: ServiceStream>(
    config: &FingerConfig,
    clock: &Clock,
    mut stream: S,
    limits: &Limits,
) -> std::io::Result<()> {
    let line = match tokio::time::timeout(limits.query_timeout, read_query_line(&mut stream)).await
    {
        Err(_) => {
            return send_and_close(stream, b"finger: timed out waiting for the query\r\n").await
        }
        Ok(Err(ReadError::TooLong)) => {
            return send_and_close(stream, b"finger: query too long\r\n").await
        }
        Ok(Err(ReadError::Io(e))) => return Err(e),
        Ok(Ok(line)) => line,
    };
    let reply = match Query::parse(&line) {
        Err(e) => format!("finger: {e}\r\n"),
        Ok(q) if q.is_forwarded() => {
            if config.allow_forwarding {
                forward::forward(&q, limits.forward).await
            } else {
                "finger: forwarding service denied\r\n".to_owned()
            }
        }
        Ok(q) => answer_local(config, &q, clock(), &limits.dev_dir),
    };
    send_and_close(stream, reply.as_bytes()).await
}

/// Why no query line was read.
enum ReadError {
    /// More than [`MAX_QUERY_BYTES`] without a line end.
    TooLong,
    /// The stream failed.
    Io(std::io::Error),
}

/// Reads up to and including the first LF (or to EOF), at most [`MAX_QUERY_BYTES`].
async fn read_query_line<S: ServiceStream>(stream: &mut S) -> Result<Vec<u8>, ReadError> {
    let mut line = Vec::with_capacity(128);
    let mut chunk = [0u8; 256];
    loop {
        let n = stream.read(&mut chunk).await.map_err(ReadError::Io)?;
        let got = chunk.get(..n).unwrap_or_default();
        if let Some(pos) = got.iter().position(|b| *b == b'\n') {
            // Anything after the line is not part of the protocol and is ignored.
            line.extend_from_slice(got.get(..=pos).unwrap_or_default());
        } else {
            line.extend_from_slice(got);
        }
        if line.len() > MAX_QUERY_BYTES {
            return Err(ReadError::TooLong);
        }
        if n == 0 || line.last() == Some(&b'\n') {
            return Ok(line);
        }
    }
}

/// The answer to a local (not forwarded) query, CRLF line ends.
pub fn answer(config: &FingerConfig, query: &Query, now: SystemTime) -> String {
    answer_local(config, query, now, Path::new("/dev"))
}

fn answer_local(config: &FingerConfig, query: &Query, now: SystemTime, dev: &Path) -> String {
    if query.user.is_empty() {
        if !config.list_users {
            return "finger: user listing denied\r\n".to_owned();
        }
        return list_users(config, now, dev);
    }
    let Ok(accounts) = passwd::load_passwd(&config.passwd_file) else {
        return "finger: cannot read the user database\r\n".to_owned();
    };
    let found = passwd::find_users(&accounts, &query.user, config.min_uid);
    if found.is_empty() {
        return format!("finger: {}: no such user.\r\n", clean_line(&query.user));
    }
    // No utmp means no one is known to be logged in, not that the query fails.
    let records = utmp::load_utmp(&config.utmp_file).unwrap_or_default();
    let reports: Vec<String> = found
        .iter()
        .map(|entry| {
            let sessions = records
                .iter()
                .filter(|r| r.is_session() && r.user == entry.login)
                .map(|r| session_of(r, now, dev))
                .collect();
            let plan = match (query.verbose, config.show_plan) {
                (false, _) => PlanView::Hidden,
                (true, false) => PlanView::Missing,
                (true, true) => plan::read_plan(&entry.home, entry.uid)
                    .map(PlanView::Text)
                    .unwrap_or(PlanView::Missing),
            };
            render::long_format(&UserReport {
                login: entry.login.clone(),
                name: entry.real_name(),
                home: entry.home.to_string_lossy().into_owned(),
                shell: entry.shell.clone(),
                sessions,
                plan,
            })
        })
        .collect();
    reports.join("\r\n")
}

fn session_of(r: &utmp::UtmpRecord, now: SystemTime, dev: &Path) -> Session {
    Session {
        tty: r.line.clone(),
        host: r.host.clone(),
        since: r.login_time(),
        idle: utmp::tty_idle(dev, &r.line, now),
    }
}

fn list_users(config: &FingerConfig, now: SystemTime, dev: &Path) -> String {
    let Ok(records) = utmp::load_utmp(&config.utmp_file) else {
        return render::user_list(&[]);
    };
    // Without passwd the list still shows logins, just without names.
    let accounts = passwd::load_passwd(&config.passwd_file).unwrap_or_default();
    let mut rows: Vec<ListRow> = records
        .iter()
        .filter(|r| r.is_session())
        .filter_map(|r| {
            let entry = passwd::by_login(&accounts, &r.user);
            if entry.is_some_and(|e| e.uid < config.min_uid) {
                return None;
            }
            Some(ListRow {
                login: r.user.clone(),
                name: entry.map(|e| e.real_name()).unwrap_or_default(),
                session: session_of(r, now, dev),
            })
        })
        .collect();
    rows.sort_by(|a, b| (&a.login, &a.session.tty).cmp(&(&b.login, &b.session.tty)));
    render::user_list(&rows)
}

#[cfg(test)]
mod tests;
