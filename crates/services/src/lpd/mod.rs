//! The line printer daemon (RFC 1179), TCP only: jobs are received into a spool directory per
//! queue, listed (short and long), removed, and, when a print command is configured, handed to
//! it. One command per connection, as RFC 1179 has it.
//!
//! ```text
//!  \x02queue\n  receive a job: subcommands \x02count SP cfA123host\n (control file) and
//!              \x03count SP dfA123host\n (data file), each acknowledged with a zero byte
//!  \x03queue\n  short queue state      \x04queue\n long queue state
//!  \x05queue agent [jobs or users]\n   remove jobs      \x01queue\n  print waiting jobs
//! ```

mod spool;

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::net::ServiceStream;
pub use spool::{Job, Spool};

/// How long a client may pause while sending.
const IDLE: Duration = Duration::from_secs(60);
/// The longest command or subcommand line.
const MAX_LINE: usize = 1024;

/// The LPD server's settings (the `[lpd]` table of servers.toml).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LpdConfig {
    /// The spool directory; each queue is a directory in it.
    pub spool: PathBuf,
    /// The queues accepted (empty: none, every job is refused).
    pub queues: Vec<String>,
    /// A program run for each complete job, with the job's data files as its last arguments
    /// (empty: jobs stay spooled, to be listed and removed).
    pub print_command: Vec<String>,
    /// The largest file of a job, in bytes.
    pub max_file_size: u64,
}

impl Default for LpdConfig {
    fn default() -> Self {
        LpdConfig {
            spool: PathBuf::from("/var/spool/maynard-lpd"),
            queues: vec!["lp".into()],
            print_command: Vec::new(),
            max_file_size: 100 << 20,
        }
    }
}

impl LpdConfig {
    /// Problems with the settings, for the configuration's check.
    pub fn check(&self) -> Vec<String> {
        self.queues
            .iter()
            .filter(|q| !spool::name_ok(q))
            .map(|q| format!("queue `{q}`: 1 to 64 letters, digits, `-`, `_` or `.` expected"))
            .collect()
    }

    fn knows(&self, queue: &str) -> bool {
        self.queues.iter().any(|q| q == queue)
    }
}

/// Reads a line ending in LF (without it); `None` at end of file, an error past MAX_LINE.
async fn line<R: tokio::io::AsyncBufRead + Unpin>(r: &mut R) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    let n = tokio::time::timeout(
        IDLE,
        (&mut *r)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf),
    )
    .await
    .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "client idle"))??;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() != Some(&b'\n') {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "line too long or cut",
        ));
    }
    buf.pop();
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

/// Serves one connection.
pub async fn serve<S: ServiceStream>(config: &LpdConfig, stream: S) -> std::io::Result<()> {
    let mut s = BufReader::new(stream);
    let Some(first) = line(&mut s).await? else {
        return Ok(());
    };
    let mut chars = first.chars();
    let command = chars.next().map_or(0, |c| c as u32);
    let rest: String = chars.collect();
    let mut words = rest.split_ascii_whitespace();
    let queue = words.next().unwrap_or("").to_string();
    let spool = Spool::new(&config.spool, &queue);
    match command {
        // Print any waiting jobs: they are handed over as they complete; nothing waits.
        1 => Ok(()),
        2 => {
            let Some(spool) = spool.filter(|_| config.knows(&queue)) else {
                s.write_all(&[1]).await?;
                return s.shutdown().await;
            };
            receive_job(config, &spool, &mut s).await
        }
        3 | 4 => {
            let text = match spool.filter(|_| config.knows(&queue)) {
                Some(sp) => sp.status(command == 4, &words.collect::<Vec<_>>()).await,
                None => format!("{}: unknown printer\n", clean(&queue)),
            };
            s.write_all(text.as_bytes()).await?;
            s.shutdown().await
        }
        5 => {
            let agent = words.next().unwrap_or("").to_string();
            let which: Vec<&str> = words.collect();
            let text = match spool.filter(|_| config.knows(&queue)) {
                Some(sp) => sp.remove(&agent, &which).await,
                None => format!("{}: unknown printer\n", clean(&queue)),
            };
            s.write_all(text.as_bytes()).await?;
            s.shutdown().await
        }
        _ => s.shutdown().await,
    }
}

/// What a client wrote, made safe to echo: printable ASCII only.
fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(64)
        .collect()
}

/// The "receive job" subcommands, until the client closes.
async fn receive_job<S: ServiceStream>(
    config: &LpdConfig,
    spool: &Spool,
    s: &mut BufReader<S>,
) -> std::io::Result<()> {
    s.write_all(&[0]).await?;
    let mut job = spool.begin().await?;
    loop {
        let Some(sub) = line(s).await? else {
            break;
        };
        let mut chars = sub.chars();
        let code = chars.next().map_or(0, |c| c as u32);
        let rest: String = chars.collect();
        match code {
            // Abort: what was received of this job goes.
            1 => {
                job.abort().await;
                job = spool.begin().await?;
                continue;
            }
            2 | 3 => {}
            _ => {
                s.write_all(&[1]).await?;
                continue;
            }
        }
        let mut parts = rest.splitn(2, ' ');
        let count: Option<u64> = parts.next().and_then(|c| c.trim().parse().ok());
        let name = parts.next().unwrap_or("").trim().to_string();
        let ok_name =
            spool::name_ok(&name) && name.starts_with(if code == 2 { "cf" } else { "df" });
        let Some(count) = count.filter(|c| *c <= config.max_file_size && ok_name) else {
            s.write_all(&[1]).await?;
            continue;
        };
        s.write_all(&[0]).await?;
        // The file's bytes and the zero byte that ends them.
        let mut body = vec![0u8; count as usize + 1];
        tokio::time::timeout(IDLE, s.read_exact(&mut body))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "client idle"))??;
        body.pop();
        job.put(&name, &body).await?;
        s.write_all(&[0]).await?;
    }
    if let Some(done) = job.commit().await? {
        if !config.print_command.is_empty() {
            let _ = spool.print(&config.print_command, &done).await;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::duplex;

    fn config(dir: &std::path::Path) -> LpdConfig {
        LpdConfig {
            spool: dir.to_path_buf(),
            ..LpdConfig::default()
        }
    }

    /// Runs one connection: `input` in (then end of file), everything the server wrote out
    /// (a client that cuts a job short ends it with an error, as the test means).
    async fn exchange(config: &LpdConfig, input: &[u8]) -> Vec<u8> {
        let (mut client, server) = duplex(1 << 20);
        client.write_all(input).await.unwrap();
        client.shutdown().await.unwrap();
        let _ = serve(config, server).await;
        let mut out = Vec::new();
        client.read_to_end(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn a_job_is_spooled_listed_and_removed() {
        let dir = std::env::temp_dir().join(format!("maynard-lpd-{}", std::process::id()));
        let c = config(&dir);
        let control = b"Hclient\nPalice\nJletter\nldfA042client\nNletter.txt\n";
        let mut job = b"\x02lp\n".to_vec();
        job.extend_from_slice(format!("\x02{} cfA042client\n", control.len()).as_bytes());
        job.extend_from_slice(control);
        job.push(0);
        job.extend_from_slice(b"\x035 dfA042client\nhello\0");
        // Every step acknowledged with a zero byte.
        assert_eq!(exchange(&c, &job).await, [0, 0, 0, 0, 0]);
        let short = String::from_utf8(exchange(&c, b"\x03lp\n").await).unwrap();
        assert!(
            short.contains("1st    alice      42   letter.txt"),
            "{short}"
        );
        assert!(short.contains("5 bytes"), "{short}");
        let long = String::from_utf8(exchange(&c, b"\x04lp\n").await).unwrap();
        assert!(long.starts_with("alice: 1st"), "{long}");
        // Someone else cannot remove it; its owner can.
        assert_eq!(exchange(&c, b"\x05lp mallory 42\n").await, b"");
        let removed = String::from_utf8(exchange(&c, b"\x05lp alice 42\n").await).unwrap();
        assert_eq!(removed, "job 042 dequeued\n");
        assert_eq!(exchange(&c, b"\x03lp\n").await, b"no entries\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn bad_names_unknown_queues_and_cut_jobs_leave_nothing() {
        let dir = std::env::temp_dir().join(format!("maynard-lpd-bad-{}", std::process::id()));
        let c = config(&dir);
        // An unknown queue is refused at once.
        assert_eq!(exchange(&c, b"\x02other\n").await, [1]);
        assert_eq!(
            exchange(&c, b"\x03../etc\n").await,
            b"../etc: unknown printer\n"
        );
        // A file name that could leave the spool, and a subcommand that is not one: refused.
        let out = exchange(&c, b"\x02lp\n\x025 cf/../../x\n\x09\n").await;
        assert_eq!(out, [0, 1, 1]);
        // A data file cut short, with no control file: nothing joins the queue.
        let out = exchange(&c, b"\x02lp\n\x0310 dfA001h\nabc").await;
        assert_eq!(out, [0, 0]);
        assert_eq!(exchange(&c, b"\x03lp\n").await, b"no entries\n");
        // A line longer than any command is an error, not a hang.
        let mut long = b"\x03".to_vec();
        long.extend(std::iter::repeat_n(b'x', 5000));
        let (mut client, server) = duplex(1 << 16);
        client.write_all(&long).await.unwrap();
        client.shutdown().await.unwrap();
        assert!(serve(&c, server).await.is_err());
        let leftovers: Vec<_> = std::fs::read_dir(dir.join("lp"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
