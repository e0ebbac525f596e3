//! The TCP side of the stack's requests: SET/SHOW KERNEL's TCP tunables, TCP-MIB counters, and
//! SHOW CONNECTIONS /STACK.

use std::net::{SocketAddr, SocketAddrV4};
use std::time::Duration;

use control::protocol::{KernelValue, StackSocketInfo, TcpDetails};
use servicedb::Protocol;
use stack::{CongestionAlgorithm, TcpConfig, TcpEcn, TcpInfo, TcpStats};

use crate::netstack::Driver;

/// Receive and send buffers: no smaller than a few segments, no larger than the window scale
/// can advertise usefully.
const BUFFER_RANGE: (u64, u64) = (4 * 1024, 256 * 1024 * 1024);

/// SHOW KERNEL's TCP lines, under the names SET KERNEL takes.
pub(super) fn tunables(c: &TcpConfig) -> Vec<(String, String)> {
    let b = |v: bool| u8::from(v).to_string();
    let secs = |d: Duration| d.as_secs().to_string();
    [
        (
            "tcp_congestion",
            c.congestion.to_string().to_ascii_lowercase(),
        ),
        ("tcp_delack", b(c.delayed_ack)),
        (
            "tcp_delack_ms",
            c.delayed_ack_timeout.as_millis().to_string(),
        ),
        ("tcp_nagle", b(c.nagle)),
        ("tcp_sendspace", c.send_buffer.to_string()),
        ("tcp_recvspace", c.recv_buffer.to_string()),
        ("tcp_syncookies", b(c.syn_cookies)),
        ("tcp_sack", b(c.sack)),
        ("tcp_timestamps", b(c.timestamps)),
        ("tcp_wscale", b(c.window_scaling)),
        ("tcp_keepidle", secs(c.keepalive_idle)),
        ("tcp_keepintvl", secs(c.keepalive_interval)),
        ("tcp_keepcnt", c.keepalive_probes.to_string()),
        ("tcp_msl", secs(c.msl)),
        ("tcp_twlimit", c.time_wait_limit.to_string()),
        (
            "tcp_ecn",
            match c.ecn {
                TcpEcn::Off => "0",
                TcpEcn::On => "1",
                TcpEcn::Passive => "2",
            }
            .to_string(),
        ),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_string(), v))
    .collect()
}

/// TCP-MIB's counters (RFC 4022 names) and ours, for SHOW KERNEL.
pub(super) fn counters(s: &TcpStats) -> Vec<(&'static str, u64)> {
    vec![
        ("tcpActiveOpens", s.active_opens),
        ("tcpPassiveOpens", s.passive_opens),
        ("tcpAttemptFails", s.attempt_fails),
        ("tcpEstabResets", s.estab_resets),
        ("tcpCurrEstab", s.curr_estab),
        ("tcpInSegs", s.in_segs),
        ("tcpOutSegs", s.out_segs),
        ("tcpRetransSegs", s.retrans_segs),
        ("tcpInErrs", s.in_errs),
        ("tcpOutRsts", s.out_rsts),
        ("tcpSynCookiesSent", s.syn_cookies_sent),
        ("tcpSynCookiesAccepted", s.syn_cookies_accepted),
        ("tcpChallengeAcks", s.challenge_acks),
        ("tcpTimeWaitDrops", s.time_wait_drops),
        ("tcpEcnReductions", s.ecn_reductions),
        ("tcpCeReceived", s.ce_received),
    ]
}

/// Applies one SET KERNEL TCP_* to the stack (new connections take it). `None`: not a TCP
/// tunable.
pub(super) fn set(
    d: &mut Driver,
    parameter: &str,
    value: &KernelValue,
) -> Option<Result<String, String>> {
    let mut c = d.stack.tcp_config().clone();
    if !control::kernel::kernel_parameter(parameter).is_some_and(|p| p.tcp) {
        return None;
    }
    let flag = || {
        value.as_flag().ok_or_else(|| {
            format!(
                "{}: `{value}`: expected 0 or 1",
                parameter.to_ascii_uppercase()
            )
        })
    };
    let number = |range: (u64, u64)| -> Result<u64, String> {
        let text = value.to_string();
        let n: u64 = text.parse().map_err(|_| {
            format!(
                "{}: `{text}`: expected a number",
                parameter.to_ascii_uppercase()
            )
        })?;
        if n < range.0 || n > range.1 {
            return Err(format!(
                "{}: {n} is out of range ({} to {})",
                parameter.to_ascii_uppercase(),
                range.0,
                range.1
            ));
        }
        Ok(n)
    };
    let applied: Result<(), String> = (|| {
        match parameter {
            "tcp_congestion" => {
                c.congestion = value
                    .to_string()
                    .parse::<CongestionAlgorithm>()
                    .map_err(|_| format!("TCP_CONGESTION: `{value}`: expected CUBIC or NEWRENO"))?
            }
            "tcp_delack" => c.delayed_ack = flag()?,
            "tcp_delack_ms" => {
                c.delayed_ack_timeout = Duration::from_millis(number((1, 500))?);
            }
            "tcp_nagle" => c.nagle = flag()?,
            "tcp_sendspace" => c.send_buffer = number(BUFFER_RANGE)? as usize,
            "tcp_recvspace" => c.recv_buffer = number(BUFFER_RANGE)? as usize,
            "tcp_syncookies" => c.syn_cookies = flag()?,
            "tcp_sack" => c.sack = flag()?,
            "tcp_timestamps" => c.timestamps = flag()?,
            "tcp_wscale" => c.window_scaling = flag()?,
            "tcp_keepidle" => c.keepalive_idle = Duration::from_secs(number((1, 86_400 * 7))?),
            "tcp_keepintvl" => c.keepalive_interval = Duration::from_secs(number((1, 3_600))?),
            "tcp_keepcnt" => c.keepalive_probes = number((1, 127))? as u32,
            "tcp_msl" => c.msl = Duration::from_secs(number((1, 600))?),
            "tcp_twlimit" => c.time_wait_limit = number((16, 1 << 22))? as usize,
            "tcp_ecn" => {
                c.ecn = match number((0, 2))? {
                    0 => TcpEcn::Off,
                    1 => TcpEcn::On,
                    _ => TcpEcn::Passive,
                }
            }
            other => return Err(format!("{}: not settable", other.to_ascii_uppercase())),
        }
        Ok(())
    })();
    match applied {
        Err(e) => Some(Err(e)),
        Ok(()) => {
            d.stack.set_tcp_config(c);
            Some(Ok(format!("{} {value}", parameter.to_ascii_uppercase())))
        }
    }
}

fn v4(a: SocketAddrV4) -> SocketAddr {
    SocketAddr::V4(a)
}

fn tcp_row(t: &TcpInfo) -> StackSocketInfo {
    StackSocketInfo {
        protocol: Protocol::Tcp,
        local: v4(t.local),
        remote: v4(t.remote),
        state: t.state.to_string(),
        send_queue: t.send_queue as u64,
        recv_queue: t.recv_queue as u64,
        tcp: Some(TcpDetails {
            srtt_us: t.srtt.map(|d| d.as_micros() as u64),
            rttvar_us: t.rttvar.as_micros() as u64,
            rto_ms: t.rto.as_millis() as u64,
            mss: u32::from(t.mss),
            cwnd: u64::from(t.cwnd),
            ssthresh: u64::from(t.ssthresh),
            snd_wnd: u64::from(t.snd_wnd),
            rcv_wnd: u64::from(t.rcv_wnd),
            retransmits: t.retransmits,
            bytes_sent: t.bytes_sent,
            bytes_received: t.bytes_received,
            congestion: t.congestion.to_string().to_ascii_lowercase(),
            owned: t.handle.is_some(),
        }),
    }
}

/// SHOW CONNECTIONS /STACK: TCP sockets (listeners first, then by local address), then UDP's.
pub(super) fn sockets(d: &Driver) -> Vec<StackSocketInfo> {
    let mut tcp: Vec<StackSocketInfo> = d.stack.tcp_connections().iter().map(tcp_row).collect();
    tcp.sort_by(|a, b| {
        (a.state != "LISTEN", a.local, a.remote).cmp(&(b.state != "LISTEN", b.local, b.remote))
    });
    let unspecified = SocketAddr::V4(SocketAddrV4::new(std::net::Ipv4Addr::UNSPECIFIED, 0));
    let udp = d
        .stack
        .udp_sockets()
        .into_iter()
        .map(|(_, local, remote)| StackSocketInfo {
            protocol: Protocol::Udp,
            local: local.map_or(unspecified, v4),
            remote: remote.map_or(unspecified, v4),
            state: String::new(),
            // The driver hands datagrams to the services' channels as they come.
            send_queue: 0,
            recv_queue: 0,
            tcp: None,
        });
    tcp.into_iter().chain(udp).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SHOW KERNEL lists exactly the TCP tunables that SET KERNEL takes.
    #[test]
    fn show_kernel_lists_every_settable_tunable() {
        let shown: Vec<String> = tunables(&TcpConfig::default())
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        let settable: Vec<&str> = control::kernel::KERNEL_PARAMETERS
            .iter()
            .filter(|p| p.tcp)
            .map(|p| p.name)
            .collect();
        for name in &settable {
            assert!(shown.iter().any(|s| s == name), "{name} not in SHOW KERNEL");
        }
        assert_eq!(shown.len(), settable.len());
    }
}
