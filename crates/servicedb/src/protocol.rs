//! The transport protocol of a service: `tcp` or `udp`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The transport protocol a service runs on.
///
/// Written lowercase (`tcp`, `udp`) by [`Display`](fmt::Display) and serde; read in any case by
/// [`FromStr`] (`TCP`, `Udp`, ...), as the services file allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// The Transmission Control Protocol.
    Tcp,
    /// The User Datagram Protocol.
    Udp,
}

impl Protocol {
    /// Both protocols, in the order lookups report them (tcp first).
    pub const ALL: [Protocol; 2] = [Protocol::Tcp, Protocol::Udp];

    /// The lowercase name, as written in a services file.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of [`Protocol::from_str`]: the text was neither `tcp` nor `udp` in any case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown protocol {0:?}, expected tcp or udp")]
pub struct UnknownProtocol(pub String);

impl FromStr for Protocol {
    type Err = UnknownProtocol;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("tcp") {
            Ok(Protocol::Tcp)
        } else if s.eq_ignore_ascii_case("udp") {
            Ok(Protocol::Udp)
        } else {
            Err(UnknownProtocol(s.to_string()))
        }
    }
}

/// One value per protocol: a tiny map keyed by [`Protocol`] without indexing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PerProtocol<T> {
    pub(crate) tcp: T,
    pub(crate) udp: T,
}

impl<T> PerProtocol<T> {
    /// The value for `protocol`.
    pub(crate) fn get(&self, protocol: Protocol) -> &T {
        match protocol {
            Protocol::Tcp => &self.tcp,
            Protocol::Udp => &self.udp,
        }
    }

    /// The value for `protocol`, mutably.
    pub(crate) fn get_mut(&mut self, protocol: Protocol) -> &mut T {
        match protocol {
            Protocol::Tcp => &mut self.tcp,
            Protocol::Udp => &mut self.udp,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::value::{Error as DeError, StrDeserializer};
    use serde::de::IntoDeserializer;

    #[test]
    fn display_is_lowercase() {
        assert_eq!(Protocol::Tcp.to_string(), "tcp");
        assert_eq!(Protocol::Udp.to_string(), "udp");
    }

    #[test]
    fn from_str_any_case() {
        for s in ["tcp", "TCP", "Tcp", "tCp"] {
            assert_eq!(s.parse::<Protocol>(), Ok(Protocol::Tcp));
        }
        for s in ["udp", "UDP", "Udp"] {
            assert_eq!(s.parse::<Protocol>(), Ok(Protocol::Udp));
        }
        for s in ["", "sctp", "ddp", "tcp ", "tcpx", "t"] {
            assert_eq!(
                s.parse::<Protocol>(),
                Err(UnknownProtocol(s.to_string())),
                "{s:?}"
            );
        }
        assert_eq!(
            "ip".parse::<Protocol>().unwrap_err().to_string(),
            "unknown protocol \"ip\", expected tcp or udp"
        );
    }

    #[test]
    fn ordering_tcp_first() {
        assert!(Protocol::Tcp < Protocol::Udp);
        assert_eq!(Protocol::ALL, [Protocol::Tcp, Protocol::Udp]);
    }

    #[test]
    fn serde_lowercase_names() {
        let de: StrDeserializer<'_, DeError> = "udp".into_deserializer();
        assert_eq!(Protocol::deserialize(de), Ok(Protocol::Udp));
        let de: StrDeserializer<'_, DeError> = "tcp".into_deserializer();
        assert_eq!(Protocol::deserialize(de), Ok(Protocol::Tcp));
        let de: StrDeserializer<'_, DeError> = "Tcp".into_deserializer();
        assert!(Protocol::deserialize(de).is_err());
    }

    #[test]
    fn per_protocol_get() {
        let mut p = PerProtocol { tcp: 1, udp: 2 };
        assert_eq!(*p.get(Protocol::Tcp), 1);
        *p.get_mut(Protocol::Udp) = 5;
        assert_eq!(*p.get(Protocol::Udp), 5);
    }
}
