//! An NTP server (RFC 5905, server mode; SNTP clients of RFC 4330 too): answers client-mode
//! requests with the host's clock. It is not a time daemon: it does not discipline the clock,
//! it serves it, and says honestly how good it is. When the kernel reports the clock
//! synchronized (adjtimex), the answer carries no alarm and the configured stratum; when not,
//! the answer carries the alarm (leap indicator 3, stratum 16) that makes clients ignore it,
//! unless `local_stratum` says to serve the local clock anyway (as chrony's `local stratum`).
//! Control (mode 6) and private (mode 7) queries get no answer: they are the amplification
//! vectors of NTP.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Seconds from 1900 (NTP's era 0) to 1970.
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// The NTP server's settings (the `[ntp]` table of servers.toml).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NtpConfig {
    /// The stratum announced while the kernel reports the clock synchronized (the clock's
    /// own source is one stratum above; 2 suits a host kept by a stratum-1 server).
    pub stratum: u8,
    /// Serve the local clock with this stratum even when it is not synchronized (0: never;
    /// then clients are told the server is unsynchronized).
    pub local_stratum: u8,
}

impl Default for NtpConfig {
    fn default() -> Self {
        NtpConfig {
            stratum: 2,
            local_stratum: 0,
        }
    }
}

impl NtpConfig {
    /// Problems with the settings, for the configuration's check.
    pub fn check(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !(1..=15).contains(&self.stratum) {
            out.push(format!("stratum {}: 1 to 15 expected", self.stratum));
        }
        if self.local_stratum > 15 {
            out.push(format!(
                "local_stratum {}: 0 (off) or 1 to 15 expected",
                self.local_stratum
            ));
        }
        out
    }
}

/// What the kernel says of the clock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClockState {
    /// Synchronized to a source (adjtimex's STA_UNSYNC clear).
    pub synchronized: bool,
    /// The maximum error, seconds (adjtimex's maxerror).
    pub max_error: f64,
}

/// The kernel's view of the clock (`adjtimex(2)` read-only).
pub fn kernel_clock() -> ClockState {
    // SAFETY: a zeroed timex with modes 0 asks adjtimex only to read the state into it.
    let mut tx: libc::timex = unsafe { std::mem::zeroed() };
    let state = unsafe { libc::adjtimex(&mut tx) };
    if state < 0 {
        return ClockState {
            synchronized: false,
            max_error: 16.0,
        };
    }
    ClockState {
        synchronized: state != libc::TIME_ERROR && tx.status & libc::STA_UNSYNC == 0,
        max_error: tx.maxerror as f64 / 1e6,
    }
}

/// `t` as a 64-bit NTP timestamp (era 0, which ends in 2036; later times wrap into era 1 as
/// RFC 5905 intends).
pub fn ntp_timestamp(t: SystemTime) -> u64 {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = (d.as_secs() + NTP_UNIX_OFFSET) & 0xffff_ffff;
    let frac = (u64::from(d.subsec_nanos()) << 32) / 1_000_000_000;
    (secs << 32) | frac
}

/// Seconds as NTP's 32-bit short format (16.16).
fn short(seconds: f64) -> u32 {
    (seconds.clamp(0.0, 65535.0) * 65536.0) as u32
}

/// The answer to `request`, received at `received` and answered at `now`, or `None` when it
/// gets none (not a client-mode request of versions 1 to 4).
pub fn answer(
    config: &NtpConfig,
    clock: ClockState,
    request: &[u8],
    received: SystemTime,
    now: SystemTime,
) -> Option<Vec<u8>> {
    if request.len() < 48 {
        return None;
    }
    let version = (request[0] >> 3) & 7;
    let mode = request[0] & 7;
    if !(1..=4).contains(&version) || mode != 3 {
        return None;
    }
    let (leap, stratum, refid) = if clock.synchronized {
        (0u8, config.stratum, *b"KERN")
    } else if config.local_stratum > 0 {
        (0, config.local_stratum, *b"LOCL")
    } else {
        // The alarm: clients do not use this server.
        (3, 16, *b"INIT")
    };
    let mut r = vec![0u8; 48];
    r[0] = (leap << 6) | (version << 3) | 4;
    r[1] = stratum;
    r[2] = request[2]; // poll: the client's
    r[3] = (-20i8) as u8; // precision: about a microsecond
    r[4..8].copy_from_slice(&0u32.to_be_bytes()); // root delay
    let dispersion = if clock.synchronized {
        clock.max_error
    } else {
        0.0
    };
    r[8..12].copy_from_slice(&short(dispersion).to_be_bytes());
    r[12..16].copy_from_slice(&refid);
    r[16..24].copy_from_slice(&ntp_timestamp(now).to_be_bytes()); // reference
    r[24..32].copy_from_slice(&request[40..48]); // origin: the client's transmit
    r[32..40].copy_from_slice(&ntp_timestamp(received).to_be_bytes());
    r[40..48].copy_from_slice(&ntp_timestamp(now).to_be_bytes());
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn request(version: u8, mode: u8) -> Vec<u8> {
        let mut r = vec![0u8; 48];
        r[0] = (version << 3) | mode;
        r[2] = 6;
        r[40..48].copy_from_slice(&0x1122_3344_5566_7788u64.to_be_bytes());
        r
    }

    const SYNCED: ClockState = ClockState {
        synchronized: true,
        max_error: 0.5,
    };
    const UNSYNCED: ClockState = ClockState {
        synchronized: false,
        max_error: 16.0,
    };

    #[test]
    fn a_client_request_is_answered_in_server_mode() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_303_845) + Duration::from_millis(500);
        let r = answer(&NtpConfig::default(), SYNCED, &request(4, 3), t, t).unwrap();
        assert_eq!(r[0], 4 << 3 | 4, "LI 0, version 4, mode 4");
        assert_eq!((r[1], r[2]), (2, 6), "stratum 2, the client's poll");
        assert_eq!(
            &r[24..32],
            &0x1122_3344_5566_7788u64.to_be_bytes(),
            "origin"
        );
        let secs = u32::from_be_bytes([r[40], r[41], r[42], r[43]]);
        assert_eq!(u64::from(secs), 1_795_303_845 + NTP_UNIX_OFFSET);
        let frac = u32::from_be_bytes([r[44], r[45], r[46], r[47]]);
        assert_eq!(frac, 1 << 31, "half a second");
        assert_eq!(
            u32::from_be_bytes([r[8], r[9], r[10], r[11]]),
            1 << 15,
            "0.5 s dispersion"
        );
        // SNTP version 3 gets version 3 back.
        assert_eq!(
            answer(&NtpConfig::default(), SYNCED, &request(3, 3), t, t).unwrap()[0] >> 3,
            3
        );
    }

    #[test]
    fn an_unsynchronized_clock_is_served_only_when_asked() {
        let t = SystemTime::now();
        let r = answer(&NtpConfig::default(), UNSYNCED, &request(4, 3), t, t).unwrap();
        assert_eq!((r[0] >> 6, r[1]), (3, 16), "the alarm");
        let local = NtpConfig {
            local_stratum: 10,
            ..NtpConfig::default()
        };
        let r = answer(&local, UNSYNCED, &request(4, 3), t, t).unwrap();
        assert_eq!((r[0] >> 6, r[1], &r[12..16]), (0, 10, &b"LOCL"[..]));
    }

    #[test]
    fn other_modes_and_short_datagrams_get_nothing() {
        let t = SystemTime::now();
        let c = NtpConfig::default();
        for mode in [1, 2, 4, 5, 6, 7] {
            assert!(
                answer(&c, SYNCED, &request(4, mode), t, t).is_none(),
                "mode {mode}"
            );
        }
        assert!(answer(&c, SYNCED, &request(0, 3), t, t).is_none());
        assert!(answer(&c, SYNCED, &request(5, 3), t, t).is_none());
        assert!(answer(&c, SYNCED, &request(4, 3)[..47], t, t).is_none());
    }

    proptest! {
        #[test]
        fn any_datagram_is_answered_or_not_without_panic(b in proptest::collection::vec(any::<u8>(), 0..100)) {
            let t = SystemTime::now();
            if let Some(r) = answer(&NtpConfig::default(), SYNCED, &b, t, t) {
                prop_assert_eq!(r.len(), 48);
            }
        }
    }
}
