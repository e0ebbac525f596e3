//! `network.toml`: Maynard's own stack (seed 001's global parameters, interfaces, routes and ARP
//! entries), parsed with source positions and validated in full.
//!
//! ```toml
//! [kernel]
//! gateway = false          # forward between interfaces
//! tcp_pmtu = true          # path MTU discovery (SET KERNEL TCP_PMTU)
//! accept_redirects = false
//!
//! [[interface]]
//! name = "se0"
//! tap = "mayn0"            # netcp creates this TAP device; or packet = "eth1" (AF_PACKET)
//! address = "192.0.2.2/24"
//!
//! [[interface]]
//! name = "pd0"
//! parent = "se0"
//! address = "192.0.2.3/24"
//!
//! [[route]]
//! destination = "default"
//! gateway = "192.0.2.1"
//!
//! [[arp]]
//! address = "192.0.2.9"
//! mac = "02:00:00:00:00:09"
//! permanent = true
//! ```
//!
//! The file is optional: without it netcp runs no stack. This module knows nothing of the
//! `stack` crate (netcu validates with it too); it checks names, addresses, prefixes and ranges
//! the way the stack will, so that a file `netcu check` accepts is one netcp can apply.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::ops::Range;

use serde::Deserialize;

use super::ConfigErrors;
use crate::span::Diagnostic;
/// The netmask of a prefix length, from `wire` (netcu reaches it here: it knows only `control`).
pub use wire::prefix::ipv4_mask;

/// The name of the stack's file in a configuration directory.
pub const NETWORK_FILE: &str = "network.toml";

/// Smallest MTU an interface takes.
pub const MIN_MTU: u32 = 68;
/// Largest MTU (seed 001's jumbo frames).
pub const MAX_MTU: u32 = 9000;
/// Largest MTU with 802.2 (RFC 1042) encapsulation.
pub const MAX_MTU_8022: u32 = 1492;

/// Global parameters (seed 001's SET KERNEL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KernelSettings {
    /// Forward datagrams between interfaces (IP gateway).
    pub gateway: bool,
    /// Path MTU discovery (seed 001's TCP_PMTU).
    pub tcp_pmtu: bool,
    /// Act on ICMP redirects.
    pub accept_redirects: bool,
}

impl Default for KernelSettings {
    fn default() -> Self {
        KernelSettings {
            gateway: false,
            tcp_pmtu: true,
            accept_redirects: false,
        }
    }
}

/// Link-level encapsulation (seed 001).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum Encapsulation {
    /// Ethernet II.
    #[default]
    #[serde(rename = "ethernet")]
    Ethernet,
    /// IEEE 802.3 with 802.2 LLC/SNAP (RFC 1042).
    #[serde(rename = "802.2")]
    Ieee8022,
}

/// What an `se` interface rides on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkDevice {
    /// A TAP device netcp creates (or attaches to) under this Linux name.
    Tap(String),
    /// AF_PACKET on this existing Linux interface.
    Packet(String),
}

/// One interface, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceConfig {
    /// `se0`, `pd1`, ... (lower case).
    pub name: String,
    /// For `se`: the link; `None` for `pd`.
    pub link: Option<LinkDevice>,
    /// For `pd`: the `se` parent.
    pub parent: Option<String>,
    /// Address and prefix length.
    pub address: Option<(Ipv4Addr, u8)>,
    /// A non-standard broadcast address.
    pub broadcast: Option<Ipv4Addr>,
    /// MTU (default: the link's, 1500).
    pub mtu: Option<u32>,
    /// Encapsulation.
    pub encapsulation: Encapsulation,
    /// The stack's hardware address on the link (default: random for TAP, the device's for AF_PACKET).
    pub mac: Option<[u8; 6]>,
    /// Brought up at start.
    pub enabled: bool,
    /// For a TAP link: the virtio-net header with checksum offload, TSO super-segments out and
    /// GRO'd frames in (default on). Off: one MTU-sized frame per read and write, which is what
    /// a raw packet reader of the TAP device (a userspace bridge) needs.
    pub offload: bool,
}

/// A static route, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteConfig {
    /// Destination network and prefix length (0.0.0.0/0 for `default`).
    pub destination: (Ipv4Addr, u8),
    /// The gateway.
    pub gateway: Ipv4Addr,
    /// An MTU the route carries.
    pub mtu: Option<u16>,
}

/// A static ARP entry, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpConfig {
    /// The IP address.
    pub address: Ipv4Addr,
    /// The hardware address (none for a proxy entry: our own is published).
    pub mac: Option<[u8; 6]>,
    /// Never ages.
    pub permanent: bool,
    /// We answer for it with `mac`.
    pub publish: bool,
    /// We answer for it with our own hardware address.
    pub proxy: bool,
}

/// `network.toml`, validated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NetworkConfig {
    /// Global parameters.
    pub kernel: KernelSettings,
    /// Interfaces in file order (every `pd` after its parent).
    pub interfaces: Vec<InterfaceConfig>,
    /// Static routes.
    pub routes: Vec<RouteConfig>,
    /// Static ARP entries.
    pub arp: Vec<ArpConfig>,
}

type S<T> = toml::Spanned<T>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetwork {
    #[serde(default)]
    kernel: KernelSettings,
    #[serde(default)]
    interface: Vec<S<RawInterface>>,
    #[serde(default)]
    route: Vec<S<RawRoute>>,
    #[serde(default)]
    arp: Vec<S<RawArp>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInterface {
    name: S<String>,
    tap: Option<S<String>>,
    packet: Option<S<String>>,
    parent: Option<S<String>>,
    address: Option<S<String>>,
    broadcast: Option<S<String>>,
    mtu: Option<S<u32>>,
    #[serde(default)]
    encapsulation: Encapsulation,
    mac: Option<S<String>>,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default = "yes")]
    offload: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    destination: S<String>,
    gateway: S<String>,
    mtu: Option<S<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArp {
    address: S<String>,
    mac: Option<S<String>>,
    #[serde(default)]
    permanent: bool,
    #[serde(default)]
    publish: bool,
    #[serde(default)]
    proxy: bool,
}

fn yes() -> bool {
    true
}

/// Collects diagnostics and warnings against one file's text.
struct Checker<'a> {
    file: &'a str,
    text: &'a str,
    errors: Vec<Diagnostic>,
    warnings: Vec<String>,
}

impl Checker<'_> {
    fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.errors.push(Diagnostic::at_offset(
            self.file, self.text, span.start, message,
        ));
    }

    fn warn(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.warnings.push(
            Diagnostic::at_offset(self.file, self.text, span.start, message.into()).to_string(),
        );
    }
}

/// The kind of an interface name: `Ok(kind prefix)`, or why not.
pub fn interface_kind(name: &str) -> Result<&'static str, String> {
    let lower = name.to_ascii_lowercase();
    let split = lower
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (kind, unit) = lower.split_at(split);
    let unit_ok = !unit.is_empty() && unit.len() <= 5 && unit.bytes().all(|b| b.is_ascii_digit());
    let k = match kind {
        "lo" => "lo",
        "se" => "se",
        "pd" => "pd",
        "sl" | "ppp" | "rp" | "gif" | "stf" => {
            return Err(format!("interface kind {kind} is not supported yet"))
        }
        _ => {
            return Err(format!(
                "bad interface name `{name}`: expected se<n>, pd<n> or lo<n>"
            ))
        }
    };
    if !unit_ok || unit.parse::<u32>().map_or(true, |u| u > 65535) {
        return Err(format!(
            "bad interface name `{name}`: expected se<n>, pd<n> or lo<n>"
        ));
    }
    if k == "pd" && unit.parse::<u32>().is_ok_and(|u| u >= 500) {
        return Err(format!("{name}: pd units are 0 to 499"));
    }
    Ok(k)
}

/// Parses `a.b.c.d/len` (an interface address with its prefix length).
pub fn parse_address_prefix(s: &str) -> Result<(Ipv4Addr, u8), String> {
    let (a, l) = s
        .split_once('/')
        .ok_or_else(|| format!("`{s}`: expected ADDRESS/LENGTH, e.g. 192.0.2.2/24"))?;
    let addr: Ipv4Addr = a
        .trim()
        .parse()
        .map_err(|_| format!("`{a}` is not an IPv4 address"))?;
    let len: u8 = l
        .trim()
        .parse()
        .ok()
        .filter(|&l| l <= 32)
        .ok_or_else(|| format!("`{l}`: a prefix length is 0 to 32"))?;
    Ok((addr, len))
}

/// Whether `addr/len` can be an interface's address; `Err` says why not.
pub fn check_interface_address(addr: Ipv4Addr, len: u8) -> Result<(), String> {
    if addr.is_unspecified() || addr.is_multicast() || addr.is_broadcast() {
        return Err(format!("{addr} is not a unicast address"));
    }
    if len < 31 && len > 0 {
        let mask = ipv4_mask(len);
        let a = u32::from(addr);
        if a & !mask == 0 || a & !mask == !mask {
            return Err(format!(
                "{addr} is the network or broadcast address of {}/{len}",
                Ipv4Addr::from(a & mask)
            ));
        }
    }
    Ok(())
}

/// Parses a route destination: `default`, `a.b.c.d/len` (host bits clear) or `a.b.c.d` (a host).
pub fn parse_destination(s: &str) -> Result<(Ipv4Addr, u8), String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("default") {
        return Ok((Ipv4Addr::UNSPECIFIED, 0));
    }
    let (addr, len) = if s.contains('/') {
        parse_address_prefix(s)?
    } else {
        let a: Ipv4Addr = s
            .parse()
            .map_err(|_| format!("`{s}`: expected `default`, NETWORK/LENGTH or an address"))?;
        (a, 32)
    };
    if u32::from(addr) & !ipv4_mask(len) != 0 {
        return Err(format!(
            "{s}: host bits are set (the network is {}/{len})",
            Ipv4Addr::from(u32::from(addr) & ipv4_mask(len))
        ));
    }
    Ok((addr, len))
}

/// Parses a hardware address `aa:bb:cc:dd:ee:ff` (or with `-`).
pub fn parse_mac(s: &str) -> Result<[u8; 6], String> {
    let parts: Vec<&str> = s.split([':', '-']).collect();
    let bad = || format!("`{s}`: expected a hardware address like 02:00:00:00:00:01");
    if parts.len() != 6 {
        return Err(bad());
    }
    let mut mac = [0u8; 6];
    for (m, p) in mac.iter_mut().zip(parts) {
        if p.is_empty() || p.len() > 2 {
            return Err(bad());
        }
        *m = u8::from_str_radix(p, 16).map_err(|_| bad())?;
    }
    Ok(mac)
}

/// Whether a Linux interface name is acceptable (1 to 15 bytes, no `/`, blank or NUL).
fn linux_name_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() < 16
        && !s.contains(['/', ' ', '\t', '\n', '\0', ':'])
        && s != "."
        && s != ".."
}

/// Parses and validates `network.toml` text; `file` names it in diagnostics. Returns the
/// configuration and its warnings (seed 001's cautions), or every error found.
pub fn parse_network(text: &str, file: &str) -> Result<(NetworkConfig, Vec<String>), ConfigErrors> {
    let raw: RawNetwork = toml::from_str(text).map_err(|e| super::toml_error(file, text, &e))?;
    let mut c = Checker {
        file,
        text,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let mut out = NetworkConfig {
        kernel: raw.kernel,
        ..NetworkConfig::default()
    };
    // Names first, so that a pd may name a parent declared after it.
    let mut kinds: HashMap<String, &'static str> = HashMap::new();
    for i in &raw.interface {
        let i = i.get_ref();
        let name = i.name.get_ref().to_ascii_lowercase();
        match interface_kind(&name) {
            Ok(k) => {
                if kinds.insert(name.clone(), k).is_some() {
                    c.error(i.name.span(), format!("interface {name} is declared twice"));
                }
            }
            Err(e) => c.error(i.name.span(), e),
        }
    }
    let mut addrs: HashMap<Ipv4Addr, String> = HashMap::new();
    let mut devices: HashMap<String, String> = HashMap::new();
    let mut networks: HashMap<String, (Ipv4Addr, u8)> = HashMap::new();
    let mut se: Vec<InterfaceConfig> = Vec::new();
    let mut pd: Vec<InterfaceConfig> = Vec::new();
    for spanned in &raw.interface {
        let i = spanned.get_ref();
        let name = i.name.get_ref().to_ascii_lowercase();
        let Some(&kind) = kinds.get(&name) else {
            continue;
        };
        let mut cfg = InterfaceConfig {
            name: name.clone(),
            link: None,
            parent: None,
            address: None,
            broadcast: None,
            mtu: None,
            encapsulation: i.encapsulation,
            mac: None,
            enabled: i.enabled,
            offload: i.offload,
        };
        match kind {
            "lo" => {
                c.error(
                    i.name.span(),
                    format!("{name}: the loopback interface is built in; it takes no settings"),
                );
                continue;
            }
            "se" => {
                if let Some(p) = &i.parent {
                    c.error(
                        p.span(),
                        format!("{name}: only a pd interface has a parent"),
                    );
                }
                match (&i.tap, &i.packet) {
                    (Some(_), Some(p)) => {
                        c.error(p.span(), format!("{name}: give `tap` or `packet`, not both"))
                    }
                    (None, None) => c.error(
                        i.name.span(),
                        format!("{name}: an se interface needs `tap = \"NAME\"` or `packet = \"LINUX-INTERFACE\"`"),
                    ),
                    (Some(d), None) | (None, Some(d)) => {
                        let dev = d.get_ref().clone();
                        if !linux_name_ok(&dev) {
                            c.error(
                                d.span(),
                                format!("`{dev}` cannot be a Linux interface name (1 to 15 characters, no `/`, `:` or blanks)"),
                            );
                        } else if let Some(other) = devices.insert(dev.clone(), name.clone()) {
                            c.error(d.span(), format!("{dev} is already the link of {other}"));
                        }
                        cfg.link = Some(if i.tap.is_some() {
                            LinkDevice::Tap(dev)
                        } else {
                            LinkDevice::Packet(dev)
                        });
                    }
                }
                if let Some(m) = &i.mac {
                    match parse_mac(m.get_ref()) {
                        Ok(mac) if mac[0] & 1 == 0 && mac != [0; 6] => cfg.mac = Some(mac),
                        Ok(_) => c.error(m.span(), "the hardware address must be unicast"),
                        Err(e) => c.error(m.span(), e),
                    }
                }
            }
            _ => {
                for (field, span) in [
                    ("tap", i.tap.as_ref().map(|s| s.span())),
                    ("packet", i.packet.as_ref().map(|s| s.span())),
                    ("mac", i.mac.as_ref().map(|s| s.span())),
                ] {
                    if let Some(span) = span {
                        c.error(
                            span,
                            format!("{name}: a pd interface rides on its parent; `{field}` belongs there"),
                        );
                    }
                }
                if i.encapsulation != Encapsulation::Ethernet {
                    c.error(
                        i.name.span(),
                        format!("{name}: encapsulation is set on the se parent"),
                    );
                }
                match &i.parent {
                    None => c.error(
                        i.name.span(),
                        format!("{name}: a pd interface needs `parent = \"se<n>\"`"),
                    ),
                    Some(p) => {
                        let parent = p.get_ref().to_ascii_lowercase();
                        if kinds.get(&parent) != Some(&"se") {
                            c.error(
                                p.span(),
                                format!(
                                    "{name}: parent `{parent}` is not an se interface of this file"
                                ),
                            );
                        }
                        cfg.parent = Some(parent);
                    }
                }
            }
        }
        if let Some(a) = &i.address {
            match parse_address_prefix(a.get_ref())
                .and_then(|(ad, l)| check_interface_address(ad, l).map(|()| (ad, l)))
            {
                Ok((addr, len)) => {
                    if addr.is_loopback() {
                        c.error(a.span(), "loopback addresses belong on lo0");
                    } else if let Some(other) = addrs.insert(addr, name.clone()) {
                        c.error(a.span(), format!("address {addr} is already on {other}"));
                    }
                    networks.insert(name.clone(), (addr, len));
                    cfg.address = Some((addr, len));
                }
                Err(e) => c.error(a.span(), e),
            }
        }
        if let Some(b) = &i.broadcast {
            match b.get_ref().parse::<Ipv4Addr>() {
                Ok(ip) => cfg.broadcast = Some(ip),
                Err(_) => c.error(
                    b.span(),
                    format!("`{}` is not an IPv4 address", b.get_ref()),
                ),
            }
            if i.address.is_none() {
                c.warn(
                    b.span(),
                    format!("{name}: a broadcast address without an address"),
                );
            }
        }
        if let Some(m) = &i.mtu {
            let max = if i.encapsulation == Encapsulation::Ieee8022 {
                MAX_MTU_8022
            } else {
                MAX_MTU
            };
            let v = *m.get_ref();
            if !(MIN_MTU..=max).contains(&v) {
                c.error(m.span(), format!("MTU {v} out of range {MIN_MTU}..={max}"));
            } else if kind == "pd" {
                c.error(
                    m.span(),
                    format!("{name}: a pd interface has its parent's MTU"),
                );
            } else {
                cfg.mtu = Some(v);
            }
        }
        if kind == "se" {
            se.push(cfg);
        } else {
            pd.push(cfg);
        }
    }
    // Seed 001's caution: a pd address on another subnet than its parent's.
    for (spanned, cfg) in raw
        .interface
        .iter()
        .filter(|s| kinds.get(&s.get_ref().name.get_ref().to_ascii_lowercase()) == Some(&"pd"))
        .zip(pd.iter())
    {
        if let (Some((a, _)), Some(parent)) = (cfg.address, &cfg.parent) {
            if let Some(&(pa, pl)) = networks.get(parent) {
                if u32::from(a) & ipv4_mask(pl) != u32::from(pa) & ipv4_mask(pl) {
                    c.warn(
                        spanned.span(),
                        format!("{}: address {a} is not on {parent}'s network {}/{pl}; hosts on the link may not reach it", cfg.name, Ipv4Addr::from(u32::from(pa) & ipv4_mask(pl))),
                    );
                }
            }
        }
    }
    out.interfaces = se;
    out.interfaces.extend(pd);

    let connected: Vec<(Ipv4Addr, u8)> = networks.values().copied().collect();
    for r in &raw.route {
        let r = r.get_ref();
        let dest = match parse_destination(r.destination.get_ref()) {
            Ok(d) => Some(d),
            Err(e) => {
                c.error(r.destination.span(), e);
                None
            }
        };
        let gateway = match r.gateway.get_ref().trim().parse::<Ipv4Addr>() {
            Ok(g) => {
                if !connected
                    .iter()
                    .any(|&(a, l)| u32::from(a) & ipv4_mask(l) == u32::from(g) & ipv4_mask(l))
                {
                    c.error(
                        r.gateway.span(),
                        format!("gateway {g} is on no interface's network"),
                    );
                }
                Some(g)
            }
            Err(_) => {
                c.error(
                    r.gateway.span(),
                    format!("`{}` is not an IPv4 address", r.gateway.get_ref()),
                );
                None
            }
        };
        let mtu = match &r.mtu {
            Some(m) if !(MIN_MTU..=MAX_MTU).contains(m.get_ref()) => {
                c.error(
                    m.span(),
                    format!("MTU {} out of range {MIN_MTU}..={MAX_MTU}", m.get_ref()),
                );
                None
            }
            Some(m) => u16::try_from(*m.get_ref()).ok(),
            None => None,
        };
        if let (Some(destination), Some(gateway)) = (dest, gateway) {
            out.routes.push(RouteConfig {
                destination,
                gateway,
                mtu,
            });
        }
    }

    for a in &raw.arp {
        let a = a.get_ref();
        let address = match a.address.get_ref().trim().parse::<Ipv4Addr>() {
            Ok(ip) => Some(ip),
            Err(_) => {
                c.error(
                    a.address.span(),
                    format!("`{}` is not an IPv4 address", a.address.get_ref()),
                );
                None
            }
        };
        let mac = match &a.mac {
            None => {
                if !a.proxy {
                    c.error(
                        a.address.span(),
                        "an ARP entry needs `mac` (only a proxy entry publishes our own)",
                    );
                }
                None
            }
            Some(m) => match parse_mac(m.get_ref()) {
                Ok(mac) if mac[0] & 1 == 0 && mac != [0; 6] => Some(mac),
                Ok(_) => {
                    c.error(m.span(), "the hardware address must be unicast");
                    None
                }
                Err(e) => {
                    c.error(m.span(), e);
                    None
                }
            },
        };
        if let Some(address) = address {
            if !a.proxy
                && !connected
                    .iter()
                    .any(|&(n, l)| u32::from(n) & ipv4_mask(l) == u32::from(address) & ipv4_mask(l))
            {
                c.error(
                    a.address.span(),
                    format!("{address} is on no interface's network"),
                );
            }
            out.arp.push(ArpConfig {
                address,
                mac,
                permanent: a.permanent,
                publish: a.publish,
                proxy: a.proxy,
            });
        }
    }

    if c.errors.is_empty() {
        Ok((out, c.warnings))
    } else {
        c.errors.sort_by_key(|d| (d.line, d.column));
        Err(ConfigErrors(c.errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[kernel]
gateway = true

[[interface]]
name = "se0"
tap = "mayn0"
address = "192.0.2.2/24"
mtu = 1400

[[interface]]
name = "pd0"
parent = "se0"
address = "198.51.100.3/24"

[[interface]]
name = "se1"
packet = "veth1"
address = "10.1.0.1/16"
encapsulation = "802.2"
enabled = false

[[route]]
destination = "default"
gateway = "192.0.2.1"

[[route]]
destination = "10.0.0.0/8"
gateway = "10.1.0.254"

[[arp]]
address = "192.0.2.9"
mac = "02:00:00:00:00:09"
permanent = true

[[arp]]
address = "203.0.113.5"
proxy = true
"#;

    #[test]
    fn a_good_file_loads_with_the_seed_caution() {
        let (cfg, warnings) = parse_network(GOOD, "network.toml").unwrap();
        assert!(cfg.kernel.gateway && cfg.kernel.tcp_pmtu && !cfg.kernel.accept_redirects);
        let names: Vec<&str> = cfg.interfaces.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["se0", "se1", "pd0"]);
        assert_eq!(
            cfg.interfaces[0].link,
            Some(LinkDevice::Tap("mayn0".into()))
        );
        assert_eq!(cfg.interfaces[0].mtu, Some(1400));
        assert_eq!(cfg.interfaces[1].encapsulation, Encapsulation::Ieee8022);
        assert!(!cfg.interfaces[1].enabled);
        assert_eq!(cfg.routes.len(), 2);
        assert_eq!(cfg.routes[0].destination, (Ipv4Addr::UNSPECIFIED, 0));
        assert_eq!(cfg.arp.len(), 2);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("pd0") && warnings[0].starts_with("network.toml:"));
    }

    fn first_error(text: &str) -> Diagnostic {
        parse_network(text, "n.toml").unwrap_err().0.remove(0)
    }

    #[test]
    fn errors_point_at_the_value() {
        let d = first_error(
            "[[interface]]\nname = \"se0\"\ntap = \"mayn0\"\naddress = \"192.0.2.0/24\"\n",
        );
        assert_eq!((d.line, d.column), (4, 11), "{d}");
        assert!(d.message.contains("network or broadcast"), "{d}");

        let d = first_error("[[interface]]\nname = \"sl0\"\n");
        assert_eq!(d.line, 2);
        assert!(d.message.contains("not supported yet"), "{d}");

        let d = first_error("[[interface]]\nname = \"se0\"\n");
        assert!(d.message.contains("tap"), "{d}");

        let d = first_error(
            "[[interface]]\nname = \"pd0\"\nparent = \"se4\"\naddress = \"10.0.0.1/8\"\n",
        );
        assert_eq!(d.line, 3, "{d}");

        let d = first_error("[[interface]]\nname = \"se0\"\ntap = \"t\"\nmtu = 9001\n");
        assert!(d.message.contains("9001"), "{d}");

        let d = first_error("[kernel]\ngatway = true\n");
        assert_eq!(d.line, 2, "{d}");
        assert!(d.message.contains("gatway"), "{d}");

        let d = first_error("[[interface]]\nname = \"se0\"\ntap = \"t\"\naddress = \"10.0.0.1/8\"\n[[route]]\ndestination = \"10.0.0.0/8\"\ngateway = \"192.0.2.1\"\n");
        assert_eq!(d.line, 7, "{d}");
        assert!(d.message.contains("no interface"), "{d}");

        let d = first_error("[[route]]\ndestination = \"10.0.0.1/8\"\ngateway = \"x\"\n");
        assert!(d.message.contains("host bits"), "{d}");
    }

    #[test]
    fn helpers_parse() {
        assert_eq!(
            parse_mac("02:00:00:0a:0B:ff").unwrap(),
            [2, 0, 0, 10, 11, 255]
        );
        assert!(parse_mac("02:00:00:0a:0B").is_err());
        assert_eq!(
            parse_destination("192.0.2.7").unwrap(),
            ("192.0.2.7".parse().unwrap(), 32)
        );
        assert_eq!(parse_destination("DEFAULT").unwrap().1, 0);
        assert!(interface_kind("pd500").is_err());
        assert_eq!(interface_kind("SE12").unwrap(), "se");
    }
}
