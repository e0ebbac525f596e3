//! The passwd file (`name:password:uid:gid:gecos:home:shell`), parsed by hand.
//!
//! Malformed lines are skipped, never fatal: a broken line must not hide every other user.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Passwd files larger than this are not read (no real one comes close).
pub const MAX_PASSWD_BYTES: u64 = 64 * 1024 * 1024;

/// At most this many users are reported for one query, bounding the work a query can cause.
pub const MAX_MATCHES: usize = 64;

/// One account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    /// Login name.
    pub login: String,
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// The GECOS field, whole (real name, office, phones, ... separated by commas).
    pub gecos: String,
    /// Home directory, byte for byte (it need not be UTF-8).
    pub home: PathBuf,
    /// Login shell.
    pub shell: String,
}

impl PasswdEntry {
    /// The real name: the first GECOS field, with `&` standing for the capitalised login as BSD
    /// finger has always read it. Not sanitised: render it through `render::clean_line`.
    pub fn real_name(&self) -> String {
        let first = self.gecos.split(',').next().unwrap_or_default();
        if !first.contains('&') {
            return first.to_owned();
        }
        let mut chars = self.login.chars();
        let cap: String = chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect())
            .unwrap_or_default();
        first.replace('&', &cap)
    }

    /// True if `query` names this account: its login exactly, or (RFC 1288 lets a server match
    /// names loosely) any word of its real name, case-insensitively.
    pub fn matches(&self, query: &str) -> bool {
        if self.login == query {
            return true;
        }
        let q = query.to_lowercase();
        self.real_name()
            .split_whitespace()
            .any(|word| word.to_lowercase() == q)
    }
}

/// Parses passwd text; lines that are blank, comments, NIS `+`/`-` entries, or not exactly seven
/// fields with numeric ids are skipped.
pub fn parse_passwd(text: &[u8]) -> Vec<PasswdEntry> {
    text.split(|b| *b == b'\n').filter_map(parse_line).collect()
}

fn parse_line(line: &[u8]) -> Option<PasswdEntry> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.is_empty() || matches!(line.first(), Some(b'#' | b'+' | b'-')) {
        return None;
    }
    let fields: Vec<&[u8]> = line.split(|b| *b == b':').collect();
    let [login, _password, uid, gid, gecos, home, shell] = fields.as_slice() else {
        return None;
    };
    if login.is_empty() {
        return None;
    }
    let number = |f: &[u8]| std::str::from_utf8(f).ok()?.parse::<u32>().ok();
    let text = |f: &[u8]| String::from_utf8_lossy(f).into_owned();
    Some(PasswdEntry {
        login: text(login),
        uid: number(uid)?,
        gid: number(gid)?,
        gecos: text(gecos),
        home: PathBuf::from(OsStr::from_bytes(home)),
        shell: text(shell),
    })
}

/// Reads and parses a passwd file.
pub fn load_passwd(path: &Path) -> io::Result<Vec<PasswdEntry>> {
    let mut bytes = Vec::new();
    File::open(path)?
        .take(MAX_PASSWD_BYTES)
        .read_to_end(&mut bytes)?;
    Ok(parse_passwd(&bytes))
}

/// The accounts `query` names (see [`PasswdEntry::matches`]), each login once, leaving out
/// accounts with a uid below `min_uid` (system accounts are not fingered at all).
pub fn find_users<'a>(
    entries: &'a [PasswdEntry],
    query: &str,
    min_uid: u32,
) -> Vec<&'a PasswdEntry> {
    let mut found: Vec<&PasswdEntry> = Vec::new();
    for e in entries {
        if found.len() >= MAX_MATCHES {
            break;
        }
        if e.uid >= min_uid && e.matches(query) && !found.iter().any(|f| f.login == e.login) {
            found.push(e);
        }
    }
    found
}

/// The first account with login `login`.
pub fn by_login<'a>(entries: &'a [PasswdEntry], login: &str) -> Option<&'a PasswdEntry> {
    entries.iter().find(|e| e.login == login)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SAMPLE: &str = "\
root:x:0:0:root:/root:/bin/bash
# a comment
+nisuser::::::
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
alice:x:1000:1000:Alice Liddell,Room 1,555-1234,:/home/alice:/bin/bash
broken:x:notanumber:1000::/home/broken:/bin/sh
short:x:1001:1001
toomany:x:1002:1002:a:b:c:d
bob:x:1003:1003:& Builder:/home/bob:/bin/zsh
:x:1004:1004:no login:/home/x:/bin/sh
carol:x:1005:1005::/home/carol:/bin/sh\r
";

    #[test]
    fn parses_good_lines_and_skips_bad_ones() {
        let e = parse_passwd(SAMPLE.as_bytes());
        let logins: Vec<&str> = e.iter().map(|e| e.login.as_str()).collect();
        assert_eq!(logins, ["root", "daemon", "alice", "bob", "carol"]);
        let alice = &e[2];
        assert_eq!(alice.uid, 1000);
        assert_eq!(alice.home, PathBuf::from("/home/alice"));
        assert_eq!(alice.shell, "/bin/bash");
        assert_eq!(alice.real_name(), "Alice Liddell");
        assert_eq!(e[3].real_name(), "Bob Builder");
        assert_eq!(e[4].shell, "/bin/sh");
        assert_eq!(e[4].real_name(), "");
    }

    #[test]
    fn matching_logins_and_real_names() {
        let e = parse_passwd(SAMPLE.as_bytes());
        let logins = |q: &str, min| -> Vec<String> {
            find_users(&e, q, min)
                .iter()
                .map(|e| e.login.clone())
                .collect()
        };
        assert_eq!(logins("alice", 1000), ["alice"]);
        assert_eq!(logins("LIDDELL", 1000), ["alice"]);
        assert_eq!(logins("builder", 1000), ["bob"]);
        assert!(logins("Alice", 1000) == ["alice"]);
        assert!(logins("alic", 1000).is_empty());
        // System accounts are hidden below min_uid, root included.
        assert!(logins("root", 1000).is_empty());
        assert!(logins("daemon", 1000).is_empty());
        assert_eq!(logins("root", 0), ["root"]);
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_passwd(&bytes);
        }

        #[test]
        fn parses_what_it_is_given(
            login in "[a-z_][a-z0-9_-]{0,15}",
            uid in any::<u32>(),
            gid in any::<u32>(),
            gecos in "[A-Za-z ,.&]{0,30}",
            home in "/[a-z/]{0,20}",
            shell in "/[a-z/]{0,20}",
        ) {
            let line = format!("{login}:x:{uid}:{gid}:{gecos}:{home}:{shell}\n");
            let e = parse_passwd(line.as_bytes());
            prop_assert_eq!(e.len(), 1);
            prop_assert_eq!(&e[0].login, &login);
            prop_assert_eq!(e[0].uid, uid);
            prop_assert_eq!(e[0].gid, gid);
            prop_assert_eq!(&e[0].gecos, &gecos);
            prop_assert_eq!(&e[0].home, &PathBuf::from(&home));
            prop_assert_eq!(&e[0].shell, &shell);
        }
    }
}
