//! SET KERNEL's parameters: one list that netcu matches keywords against, the daemon applies, and
//! NETCONFIG KERNEL saves, so a new tunable is named in one place.

use serde::{Deserialize, Serialize};

/// The kind of value a SET KERNEL parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelKind {
    /// 0 or 1 (ON/OFF, YES/NO, TRUE/FALSE in netcu).
    Switch,
    /// A count, a size in bytes or a time; the daemon checks the range.
    Number,
    /// A congestion control algorithm: CUBIC or NEWRENO.
    Congestion,
}

/// One SET KERNEL parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelParameter {
    /// The name in lower case, as SHOW KERNEL prints it.
    pub name: &'static str,
    /// What it takes.
    pub kind: KernelKind,
    /// True when NETCONFIG KERNEL keeps it in network.toml's `[kernel]` table (the TCP tunables
    /// are set live only).
    pub saved: bool,
    /// True for the TCP tunables (new connections take them).
    pub tcp: bool,
}

const fn switch(name: &'static str, saved: bool, tcp: bool) -> KernelParameter {
    KernelParameter {
        name,
        kind: KernelKind::Switch,
        saved,
        tcp,
    }
}

const fn tcp_number(name: &'static str) -> KernelParameter {
    KernelParameter {
        name,
        kind: KernelKind::Number,
        saved: false,
        tcp: true,
    }
}

/// Every SET KERNEL parameter.
pub const KERNEL_PARAMETERS: &[KernelParameter] = &[
    switch("gateway", true, false),
    switch("tcp_pmtu", true, false),
    switch("accept_redirects", true, false),
    switch("tcp_delack", false, true),
    switch("tcp_nagle", false, true),
    switch("tcp_syncookies", false, true),
    switch("tcp_sack", false, true),
    switch("tcp_timestamps", false, true),
    switch("tcp_wscale", false, true),
    KernelParameter {
        name: "tcp_congestion",
        kind: KernelKind::Congestion,
        saved: false,
        tcp: true,
    },
    tcp_number("tcp_sendspace"),
    tcp_number("tcp_recvspace"),
    tcp_number("tcp_keepidle"),
    tcp_number("tcp_keepintvl"),
    tcp_number("tcp_keepcnt"),
    tcp_number("tcp_msl"),
    tcp_number("tcp_twlimit"),
    tcp_number("tcp_delack_ms"),
    // RFC 3168 ECN, as Linux's net.ipv4.tcp_ecn: 0 off, 1 ask and accept, 2 accept only.
    tcp_number("tcp_ecn"),
];

/// The parameter called `name` (any case).
pub fn kernel_parameter(name: &str) -> Option<&'static KernelParameter> {
    KERNEL_PARAMETERS
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name))
}

/// The names of the parameters that satisfy `keep`, upper case and comma-separated, for errors.
pub fn kernel_parameter_names(keep: impl Fn(&KernelParameter) -> bool) -> String {
    KERNEL_PARAMETERS
        .iter()
        .filter(|p| keep(p))
        .map(|p| p.name.to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A SET KERNEL value: a switch (0/1) or a word or number (`cubic`, `4194304`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum KernelValue {
    /// 0 or 1.
    Flag(bool),
    /// Anything else, checked by the daemon.
    Text(String),
}

impl KernelValue {
    /// The value as a switch: a flag, or the text `0` or `1`.
    pub fn as_flag(&self) -> Option<bool> {
        match self {
            KernelValue::Flag(b) => Some(*b),
            KernelValue::Text(t) if t == "1" => Some(true),
            KernelValue::Text(t) if t == "0" => Some(false),
            KernelValue::Text(_) => None,
        }
    }
}

impl std::fmt::Display for KernelValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KernelValue::Flag(b) => write!(f, "{}", u8::from(*b)),
            KernelValue::Text(t) => f.write_str(t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_lower_case() {
        for (i, p) in KERNEL_PARAMETERS.iter().enumerate() {
            assert_eq!(p.name, p.name.to_ascii_lowercase());
            assert!(KERNEL_PARAMETERS[..i].iter().all(|q| q.name != p.name));
            assert_eq!(p.tcp, p.name.starts_with("tcp_") && p.name != "tcp_pmtu");
        }
    }

    #[test]
    fn lookup_ignores_case_and_lists_saved_names() {
        assert_eq!(
            kernel_parameter("TCP_Sack").map(|p| p.kind),
            Some(KernelKind::Switch)
        );
        assert!(kernel_parameter("tcp_bogus").is_none());
        assert_eq!(
            kernel_parameter_names(|p| p.saved),
            "GATEWAY, TCP_PMTU, ACCEPT_REDIRECTS"
        );
    }
}
