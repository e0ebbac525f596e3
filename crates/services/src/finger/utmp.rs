//! The utmp file: glibc's `struct utmp` on Linux (x86_64 and the other 64-bit glibc ports share
//! the layout), parsed by hand. Records are native-endian, 384 bytes each:
//!
//! ```text
//! off  size  field
//!   0     2  ut_type (i16), then 2 bytes padding
//!   4     4  ut_pid (i32)
//!   8    32  ut_line   (tty, without "/dev/")
//!  40     4  ut_id
//!  44    32  ut_user
//!  76   256  ut_host
//! 332     4  ut_exit (two i16)
//! 336     4  ut_session (i32)
//! 340     8  ut_tv (i32 seconds, i32 microseconds)
//! 348    16  ut_addr_v6 (four i32)
//! 364    20  unused
//! ```

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Bytes in one record.
pub const RECORD_SIZE: usize = 384;
/// `ut_type` of a user's login session.
pub const USER_PROCESS: i16 = 7;
/// utmp files larger than this are read only this far (about 170 000 records).
pub const MAX_UTMP_BYTES: u64 = 64 * 1024 * 1024;

const LINE: (usize, usize) = (8, 32);
const ID: (usize, usize) = (40, 4);
const USER: (usize, usize) = (44, 32);
const HOST: (usize, usize) = (76, 256);

/// One utmp record, its text fields decoded (lossily) but not sanitised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UtmpRecord {
    /// `ut_type`: [`USER_PROCESS`] for a login session.
    pub kind: i16,
    /// Process id of the login process.
    pub pid: i32,
    /// The terminal, e.g. `pts/0`.
    pub line: String,
    /// The inittab id or the tty suffix, raw.
    pub id: [u8; 4],
    /// The login name.
    pub user: String,
    /// The remote host, if any.
    pub host: String,
    /// Exit status of a dead process (`e_termination`, `e_exit`).
    pub exit: (i16, i16),
    /// Session id.
    pub session: i32,
    /// Login time, seconds (see [`UtmpRecord::login_time`]).
    pub tv_sec: i32,
    /// Login time, microseconds.
    pub tv_usec: i32,
    /// The remote address (IPv4 in the first word), raw.
    pub addr_v6: [i32; 4],
}

impl UtmpRecord {
    /// Decodes one record; `bytes` must hold at least [`RECORD_SIZE`] bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<UtmpRecord> {
        let rec = bytes.get(..RECORD_SIZE)?;
        let i16_at = |off: usize| -> Option<i16> {
            Some(i16::from_ne_bytes(rec.get(off..off + 2)?.try_into().ok()?))
        };
        let i32_at = |off: usize| -> Option<i32> {
            Some(i32::from_ne_bytes(rec.get(off..off + 4)?.try_into().ok()?))
        };
        let text = |(off, len): (usize, usize)| -> Option<String> {
            let field = rec.get(off..off + len)?;
            let end = field.iter().position(|b| *b == 0).unwrap_or(field.len());
            Some(String::from_utf8_lossy(field.get(..end)?).into_owned())
        };
        Some(UtmpRecord {
            kind: i16_at(0)?,
            pid: i32_at(4)?,
            line: text(LINE)?,
            id: rec.get(ID.0..ID.0 + ID.1)?.try_into().ok()?,
            user: text(USER)?,
            host: text(HOST)?,
            exit: (i16_at(332)?, i16_at(334)?),
            session: i32_at(336)?,
            tv_sec: i32_at(340)?,
            tv_usec: i32_at(344)?,
            addr_v6: [i32_at(348)?, i32_at(352)?, i32_at(356)?, i32_at(360)?],
        })
    }

    /// Encodes the record (text fields truncated to their width), as glibc would write it.
    pub fn to_bytes(&self) -> [u8; RECORD_SIZE] {
        let mut out = [0u8; RECORD_SIZE];
        let mut put = |off: usize, bytes: &[u8]| {
            if let Some(dst) = out.get_mut(off..off + bytes.len()) {
                dst.copy_from_slice(bytes);
            }
        };
        let text = |s: &str, len: usize| -> Vec<u8> { s.bytes().take(len).collect() };
        put(0, &self.kind.to_ne_bytes());
        put(4, &self.pid.to_ne_bytes());
        put(LINE.0, &text(&self.line, LINE.1));
        put(ID.0, &self.id);
        put(USER.0, &text(&self.user, USER.1));
        put(HOST.0, &text(&self.host, HOST.1));
        put(332, &self.exit.0.to_ne_bytes());
        put(334, &self.exit.1.to_ne_bytes());
        put(336, &self.session.to_ne_bytes());
        put(340, &self.tv_sec.to_ne_bytes());
        put(344, &self.tv_usec.to_ne_bytes());
        for (i, word) in self.addr_v6.iter().enumerate() {
            put(348 + 4 * i, &word.to_ne_bytes());
        }
        out
    }

    /// True for a live login session with a user name.
    pub fn is_session(&self) -> bool {
        self.kind == USER_PROCESS && !self.user.is_empty()
    }

    /// When the session began. The seconds are read as unsigned: utmp never holds times before
    /// 1970, and unsigned keeps the 32-bit field meaningful past 2038.
    pub fn login_time(&self) -> SystemTime {
        let secs = u64::from(self.tv_sec as u32);
        let micros = u64::from(self.tv_usec.clamp(0, 999_999) as u32);
        UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros)
    }
}

/// Decodes every whole record of `bytes`; a partial trailing record (a file caught mid-write) is
/// ignored.
pub fn parse_utmp(bytes: &[u8]) -> Vec<UtmpRecord> {
    bytes
        .chunks_exact(RECORD_SIZE)
        .filter_map(UtmpRecord::from_bytes)
        .collect()
}

/// Reads and decodes a utmp file.
pub fn load_utmp(path: &Path) -> io::Result<Vec<UtmpRecord>> {
    let mut bytes = Vec::new();
    File::open(path)?
        .take(MAX_UTMP_BYTES)
        .read_to_end(&mut bytes)?;
    Ok(parse_utmp(&bytes))
}

/// How long terminal `line` under `dev_dir` (normally `/dev`) has been idle: now minus the
/// device's last access time. `None` if the name is not a plain tty name or cannot be stat'ed.
pub fn tty_idle(dev_dir: &Path, line: &str, now: SystemTime) -> Option<Duration> {
    // The name comes from a file; never let it walk out of the device directory.
    let plain = !line.is_empty()
        && !line.starts_with('/')
        && line
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
        && !line.chars().any(char::is_control);
    if !plain {
        return None;
    }
    let accessed = std::fs::metadata(dev_dir.join(line))
        .ok()?
        .accessed()
        .ok()?;
    Some(now.duration_since(accessed).unwrap_or(Duration::ZERO))
}

/// A login session record for tests.
#[cfg(test)]
pub(crate) fn test_session(user: &str, line: &str, host: &str, tv_sec: i32) -> UtmpRecord {
    UtmpRecord {
        kind: USER_PROCESS,
        pid: 1234,
        line: line.to_owned(),
        id: *b"ts/0",
        user: user.to_owned(),
        host: host.to_owned(),
        exit: (0, 0),
        session: 77,
        tv_sec,
        tv_usec: 500_000,
        addr_v6: [0x0100_007f, 0, 0, 0],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;
    use proptest::prelude::*;

    use super::test_session as session;

    #[test]
    fn layout_offsets() {
        let r = session("alice", "pts/3", "10.1.2.3", 1_795_303_845);
        let b = r.to_bytes();
        assert_eq!(&b[0..2], &7i16.to_ne_bytes());
        assert_eq!(&b[8..13], b"pts/3");
        assert_eq!(&b[44..49], b"alice");
        assert_eq!(&b[76..84], b"10.1.2.3");
        assert_eq!(&b[340..344], &1_795_303_845i32.to_ne_bytes());
        assert_eq!(UtmpRecord::from_bytes(&b), Some(r.clone()));
        assert_eq!(
            r.login_time(),
            UNIX_EPOCH + Duration::from_millis(1_795_303_845_500)
        );
    }

    #[test]
    fn partial_records_and_full_width_fields() {
        let mut r = session("u", "tty1", "", 0);
        // A user name filling all 32 bytes has no NUL terminator.
        r.user = "x".repeat(32);
        let mut file = r.to_bytes().to_vec();
        let mut dead = session("gone", "pts/9", "", 0);
        dead.kind = 8;
        file.extend_from_slice(&dead.to_bytes());
        file.extend_from_slice(&[1u8; 100]);
        let recs = parse_utmp(&file);
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].user.len(), 32);
        assert!(recs[0].is_session());
        assert!(!recs[1].is_session());
    }

    #[test]
    fn load_from_file() {
        let dir = TempDir::new("utmp");
        let mut bytes = session("alice", "pts/0", "h", 1).to_bytes().to_vec();
        bytes.extend_from_slice(&session("bob", "pts/1", "", 2).to_bytes());
        let path = dir.write("utmp", &bytes);
        let recs = load_utmp(&path).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[1].user, "bob");
        assert!(load_utmp(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn tty_idle_stays_in_dev_dir() {
        let dir = TempDir::new("dev");
        dir.write("pts/0", b"");
        let now = SystemTime::now() + Duration::from_secs(600);
        let idle = tty_idle(dir.path(), "pts/0", now).unwrap();
        assert!(idle >= Duration::from_secs(590), "{idle:?}");
        assert!(tty_idle(dir.path(), "pts/1", now).is_none());
        for bad in ["", "/etc/passwd", "../x", "pts/../../x", "a//b", "pts/0\n"] {
            assert!(tty_idle(dir.path(), bad, now).is_none(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let recs = parse_utmp(&bytes);
            prop_assert_eq!(recs.len(), bytes.len() / RECORD_SIZE);
            for r in &recs {
                let _ = r.login_time();
            }
        }

        #[test]
        fn round_trip(
            kind in any::<i16>(), pid in any::<i32>(), line in "[a-z0-9/]{0,32}",
            user in "[a-z0-9]{0,32}", host in "[a-z0-9.:]{0,256}", sec in any::<i32>(),
            usec in any::<i32>(), session in any::<i32>(), addr in any::<[i32; 4]>(),
        ) {
            let r = UtmpRecord {
                kind, pid, line, id: *b"abcd", user, host, exit: (1, -1), session,
                tv_sec: sec, tv_usec: usec, addr_v6: addr,
            };
            prop_assert_eq!(UtmpRecord::from_bytes(&r.to_bytes()), Some(r));
        }
    }
}
