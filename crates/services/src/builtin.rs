//! The built-in services by name: what netcp starts for `echo`, `discard`, ... in servers.toml.

use std::fmt;
use std::io;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::chargen;
use crate::clock::{system_clock, Clock};
use crate::finger::{self, FingerConfig};
use crate::lpd::{self, LpdConfig};
use crate::net::{PeerInfo, ServiceStream};
use crate::ntp::{self, NtpConfig};
use crate::qotd::Quotes;
use crate::simple;
use crate::tftp::TftpConfig;

/// One of the built-in services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Builtin {
    /// Echo (RFC 862).
    Echo,
    /// Discard (RFC 863).
    Discard,
    /// Character generator (RFC 864).
    Chargen,
    /// Quote of the day (RFC 865).
    Qotd,
    /// Daytime (RFC 867).
    Daytime,
    /// Time (RFC 868).
    Time,
    /// Finger (RFC 1288), TCP only.
    Finger,
    /// The SNMP agent (crate `snmp`), UDP only; netcp answers its datagrams itself.
    Snmp,
    /// TFTP (RFC 1350), UDP only: each request is served from a socket of its own
    /// ([`crate::tftp`]).
    Tftp,
    /// NTP (RFC 5905) server mode, UDP only: the host's clock ([`crate::ntp`]).
    Ntp,
    /// The line printer daemon (RFC 1179), TCP only ([`crate::lpd`]).
    Lpd,
}

/// Everything the built-in services share: the quotations, finger's settings and the clock.
#[derive(Clone)]
pub struct BuiltinContext {
    /// Quotations for qotd.
    pub quotes: Arc<Quotes>,
    /// Finger's settings.
    pub finger: Arc<FingerConfig>,
    /// The TFTP server's settings.
    pub tftp: Arc<TftpConfig>,
    /// The NTP server's settings.
    pub ntp: Arc<NtpConfig>,
    /// The line printer daemon's settings.
    pub lpd: Arc<LpdConfig>,
    /// The time daytime, time and finger report.
    pub clock: Clock,
}

impl BuiltinContext {
    /// A context reading the system clock.
    pub fn new(
        quotes: Arc<Quotes>,
        finger: Arc<FingerConfig>,
        tftp: Arc<TftpConfig>,
        ntp: Arc<NtpConfig>,
        lpd: Arc<LpdConfig>,
    ) -> Self {
        Self {
            quotes,
            finger,
            tftp,
            ntp,
            lpd,
            clock: system_clock(),
        }
    }
}

impl Default for BuiltinContext {
    /// The embedded quotations, the default finger settings, the system clock.
    fn default() -> Self {
        Self::new(
            Arc::new(Quotes::embedded()),
            Arc::new(FingerConfig::default()),
            Arc::new(TftpConfig::default()),
            Arc::new(NtpConfig::default()),
            Arc::new(LpdConfig::default()),
        )
    }
}

impl fmt::Debug for BuiltinContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BuiltinContext")
            .field("quotes", &self.quotes.len())
            .field("finger", &self.finger)
            .finish_non_exhaustive()
    }
}

/// A name that is not one of the built-in services.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown built-in service {name:?} (expected one of: echo, discard, chargen, qotd, daytime, time, finger, snmp, tftp, ntp, lpd)")]
pub struct UnknownBuiltin {
    /// The name given.
    pub name: String,
}

impl Builtin {
    /// Every built-in service.
    pub const ALL: [Builtin; 11] = [
        Builtin::Echo,
        Builtin::Discard,
        Builtin::Chargen,
        Builtin::Qotd,
        Builtin::Daytime,
        Builtin::Time,
        Builtin::Finger,
        Builtin::Snmp,
        Builtin::Tftp,
        Builtin::Ntp,
        Builtin::Lpd,
    ];

    /// The service name, as in /etc/services: "echo", "discard", ...
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Echo => "echo",
            Builtin::Discard => "discard",
            Builtin::Chargen => "chargen",
            Builtin::Qotd => "qotd",
            Builtin::Daytime => "daytime",
            Builtin::Time => "time",
            Builtin::Finger => "finger",
            Builtin::Snmp => "snmp",
            Builtin::Tftp => "tftp",
            Builtin::Ntp => "ntp",
            Builtin::Lpd => "lpd",
        }
    }

    /// The well-known port.
    pub fn default_port(self) -> u16 {
        match self {
            Builtin::Echo => 7,
            Builtin::Discard => 9,
            Builtin::Chargen => 19,
            Builtin::Qotd => 17,
            Builtin::Daytime => 13,
            Builtin::Time => 37,
            Builtin::Finger => 79,
            Builtin::Snmp => 161,
            Builtin::Tftp => 69,
            Builtin::Ntp => 123,
            Builtin::Lpd => 515,
        }
    }

    /// True if the service is also offered over UDP (all but finger and the printer).
    pub fn supports_udp(self) -> bool {
        !matches!(self, Builtin::Finger | Builtin::Lpd)
    }

    /// True if the service is offered over TCP (all but the SNMP agent, TFTP and NTP).
    pub fn supports_tcp(self) -> bool {
        !matches!(self, Builtin::Snmp | Builtin::Tftp | Builtin::Ntp)
    }

    /// Serves one connection until the protocol says it is done; the stream is closed on return.
    pub async fn serve_stream<S: ServiceStream>(
        self,
        ctx: &BuiltinContext,
        stream: S,
        info: &PeerInfo,
    ) -> io::Result<()> {
        // The peer's address changes no answer today; it is part of the signature so services
        // that need it (access rules, logging) do not change netcp's calls.
        let _ = info;
        match self {
            Builtin::Echo => simple::echo_stream(stream).await,
            Builtin::Discard => simple::discard_stream(stream).await,
            Builtin::Chargen => chargen::chargen_stream(stream).await,
            Builtin::Qotd => simple::send_and_close(stream, ctx.quotes.next().as_bytes()).await,
            Builtin::Daytime => simple::daytime_stream(stream, (ctx.clock)()).await,
            Builtin::Time => simple::time_stream(stream, (ctx.clock)()).await,
            Builtin::Finger => finger::serve(&ctx.finger, &ctx.clock, stream).await,
            Builtin::Lpd => lpd::serve(&ctx.lpd, stream).await,
            // SNMP, TFTP and NTP have no TCP form (configuration refuses it); close at once.
            Builtin::Snmp | Builtin::Tftp | Builtin::Ntp => Ok(()),
        }
    }

    /// Whether a datagram from source `port` is most likely a reflection: port 0, or the port of
    /// one of the UDP built-ins.
    pub fn is_reflection_port(port: u16) -> bool {
        port == 0
            || Builtin::ALL.iter().any(|b| {
                // Their clients are no reflection risk (NTP clients even use port 123).
                !matches!(b, Builtin::Snmp | Builtin::Tftp | Builtin::Ntp)
                    && b.supports_udp()
                    && b.default_port() == port
            })
    }

    /// UDP: the reply to one request datagram, or None to send nothing.
    ///
    /// Like BSD inetd, nothing is sent to a source port of one of the UDP built-ins (or port 0):
    /// a forged datagram from one echo or chargen server to another would otherwise make them
    /// answer each other forever.
    pub fn answer_datagram(
        self,
        ctx: &BuiltinContext,
        request: &[u8],
        info: &PeerInfo,
    ) -> Option<Vec<u8>> {
        if Builtin::is_reflection_port(info.peer.port()) {
            return None;
        }
        match self {
            Builtin::Echo => Some(simple::echo_datagram(request)),
            // The SNMP agent is netcp's (crate `snmp`) and TFTP transfers run on sockets of
            // their own (`crate::tftp::serve`): their datagrams never reach this function.
            Builtin::Discard | Builtin::Finger | Builtin::Snmp | Builtin::Tftp | Builtin::Lpd => {
                None
            }
            Builtin::Chargen => Some(chargen::chargen_datagram((ctx.clock)())),
            Builtin::Qotd => Some(ctx.quotes.next().as_bytes().to_vec()),
            Builtin::Daytime => Some(simple::daytime_datagram((ctx.clock)())),
            Builtin::Time => Some(simple::time_datagram((ctx.clock)())),
            Builtin::Ntp => {
                let received = (ctx.clock)();
                ntp::answer(
                    &ctx.ntp,
                    ntp::kernel_clock(),
                    request,
                    received,
                    (ctx.clock)(),
                )
            }
        }
    }
}

impl fmt::Display for Builtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Builtin {
    type Err = UnknownBuiltin;

    /// Parses a service name, ignoring case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Builtin::ALL
            .into_iter()
            .find(|b| b.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownBuiltin { name: s.to_owned() })
    }
}

#[cfg(test)]
mod tests;
