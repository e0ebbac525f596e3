//! The blocks in force, kept in a file (`ips-state.json` in the configuration directory by
//! default) each time they change, so that a restart of netcp does not free the sources it
//! blocked: at start the blocks that have not ended come back with the time they had left.
//! Times are wall-clock there (the engine's clock starts anew with each filter server).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ips::{Block, Proto};
use serde::{Deserialize, Serialize};

/// One block as kept.
#[derive(Debug, Serialize, Deserialize)]
struct Kept {
    rule: String,
    source: IpAddr,
    protocol: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    destination: Option<SocketAddr>,
    /// When it ends, milliseconds since the Unix epoch.
    until_unix_ms: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    blocks: Vec<Kept>,
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Writes `blocks` (`until` on the engine's clock, whose time is `now`) to `path`.
pub fn save(path: &Path, blocks: &[Block], now: Duration) -> io::Result<()> {
    let wall = unix_ms(SystemTime::now());
    let file = File {
        blocks: blocks
            .iter()
            .map(|b| Kept {
                rule: b.rule.clone(),
                source: b.source,
                protocol: b.protocol.to_string(),
                destination: b.destination.map(|(ip, port)| SocketAddr::new(ip, port)),
                until_unix_ms: wall + b.until.saturating_sub(now).as_millis() as u64,
            })
            .collect(),
    };
    let text = serde_json::to_string_pretty(&file).map_err(io::Error::other)?;
    control::config::write_atomically(path, text.as_bytes())
}

/// The blocks kept in `path` that have not ended, with `since` and `until` on the engine's
/// clock (whose time is `now`); none when there is no file. A file that does not parse is an
/// error (the caller logs it and starts without).
pub fn load(path: &Path, now: Duration) -> io::Result<Vec<Block>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let file: File =
        serde_json::from_str(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let wall = unix_ms(SystemTime::now());
    Ok(file
        .blocks
        .into_iter()
        .filter(|k| k.until_unix_ms > wall)
        .filter_map(|k| {
            Some(Block {
                id: 0,
                rule: k.rule,
                source: wire::prefix::canonical(k.source),
                protocol: Proto::parse(&k.protocol)?,
                destination: k
                    .destination
                    .map(|a| (wire::prefix::canonical(a.ip()), a.port())),
                since: now,
                until: now + Duration::from_millis(k.until_unix_ms - wall),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_come_back_with_the_time_they_had_left() {
        let path =
            std::env::temp_dir().join(format!("maynard-ips-state-{}.json", std::process::id()));
        let block = |until: u64, port: Option<u16>| Block {
            id: 1,
            rule: "r".into(),
            source: "203.0.113.7".parse().unwrap(),
            protocol: Proto::Tcp,
            destination: port.map(|p| ("192.0.2.2".parse().unwrap(), p)),
            since: Duration::from_secs(100),
            until: Duration::from_secs(until),
        };
        // Engine time 100 s: one block with 600 s left, one already over.
        save(
            &path,
            &[block(700, Some(23)), block(100, None)],
            Duration::from_secs(100),
        )
        .unwrap();
        // A new engine at 5 s.
        let back = load(&path, Duration::from_secs(5)).unwrap();
        assert_eq!(back.len(), 1);
        let left = back[0].until - Duration::from_secs(5);
        assert!(
            left > Duration::from_secs(598) && left <= Duration::from_secs(600),
            "{left:?}"
        );
        assert_eq!(back[0].destination, block(0, Some(23)).destination);
        assert_eq!(back[0].protocol, Proto::Tcp);
        std::fs::write(&path, "not json").unwrap();
        assert!(load(&path, Duration::ZERO).is_err());
        std::fs::remove_file(&path).unwrap();
        assert!(load(&path, Duration::ZERO).unwrap().is_empty());
    }
}
