//! Maynard's own stack (seed 001's MULTINET SET/SHOW for ARP, routes and kernel parameters):
//! SHOW ARP, SET ARP, SHOW ROUTE, SET ROUTE, SHOW KERNEL, SET KERNEL, PING; and the stack's side
//! of SHOW INTERFACE / SET INTERFACE ([`show_interface_stack`], [`set_interface_stack`],
//! [`STACK_INTERFACE_QUALIFIERS`]), which `interface.rs` dispatches to.

use std::net::Ipv4Addr;

use control::config::network::{ipv4_mask, parse_address_prefix, parse_destination, parse_mac};
use control::kernel::{kernel_parameter, KernelKind, KERNEL_PARAMETERS};
use control::protocol::{ArpChange, KernelValue, Request, StackInterfaceChanges};

use super::{q, Action, CommandDef, Parsed, QualDef, Takes::Nothing as F, Takes::Value as V};

/// The stack's qualifiers of SET INTERFACE and SHOW INTERFACE.
pub const STACK_INTERFACE_QUALIFIERS: &[QualDef] = &[
    q(
        "statistics",
        F,
        "SHOW: the counters table (Name Mtu Network Address Ipkts Ierrs Opkts Oerrs Collis)",
    ),
    q(
        "address",
        V,
        "SET: the IP address, A.B.C.D or A.B.C.D/LENGTH",
    ),
    q("mask", V, "SET: the subnet mask, e.g. 255.255.255.0"),
    q(
        "broadcast",
        V,
        "SET: a non-standard broadcast address, or STANDARD",
    ),
    q(
        "mtu",
        V,
        "SET: the MTU, 68 to 1500 (9000 with jumbo frames)",
    ),
    q("up", F, "SET: bring the interface up"),
    q("down", F, "SET: take the interface down"),
];

/// Whether a SET INTERFACE line carries any of the stack's qualifiers (so `interface.rs` sends
/// it to [`set_interface_stack`]).
pub fn wants_stack(p: &Parsed) -> bool {
    ["address", "mask", "broadcast", "mtu", "up", "down"]
        .iter()
        .any(|q| p.has(q))
}

/// SHOW INTERFACE [name] [/STATISTICS] for the stack's interfaces.
pub fn show_interface_stack(p: &Parsed) -> Result<Action, String> {
    Ok(Action::Send(Request::ShowStackInterfaces {
        name: p.param(0).map(str::to_ascii_lowercase),
        statistics: p.has("statistics"),
    }))
}

fn ipv4(what: &str, s: &str) -> Result<Ipv4Addr, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("{what}={s}: expected an IPv4 address"))
}

/// SET INTERFACE name /ADDRESS /MASK /BROADCAST /MTU /UP /DOWN for a stack interface.
pub fn set_interface_stack(p: &Parsed) -> Result<Action, String> {
    let name = p.required(0)?;
    let mut changes = StackInterfaceChanges::default();
    if let Some(a) = p.one("address")? {
        if a.contains('/') {
            let (addr, len) = parse_address_prefix(&a).map_err(|e| format!("/ADDRESS: {e}"))?;
            changes.address = Some(addr);
            changes.mask = Some(Ipv4Addr::from(ipv4_mask(len)));
        } else {
            changes.address = Some(ipv4("/ADDRESS", &a)?);
        }
    }
    if let Some(m) = p.one("mask")? {
        changes.mask = Some(ipv4("/MASK", &m)?);
    }
    if let Some(b) = p.one("broadcast")? {
        changes.broadcast = Some(
            if b.eq_ignore_ascii_case("standard") || b.eq_ignore_ascii_case("default") {
                None
            } else {
                Some(ipv4("/BROADCAST", &b)?)
            },
        );
    }
    changes.mtu = p.number::<u32>("mtu", "a number of bytes")?;
    changes.up = match (p.has("up"), p.has("down")) {
        (true, true) => return Err("give /UP or /DOWN, not both".into()),
        (true, false) => Some(true),
        (false, true) => Some(false),
        (false, false) => None,
    };
    if changes.is_empty() {
        return Err(format!("SET INTERFACE {name}: nothing to change"));
    }
    Ok(Action::Send(Request::SetStackInterface { name, changes }))
}

/// The stack's commands.
pub static COMMANDS: &[CommandDef] = &[
    CommandDef {
        words: &["show", "arp"],
        params: &[],
        quals: &[],
        help: "the stack's ARP table",
        build: |_| Ok(Action::Send(Request::ShowArp)),
    },
    CommandDef {
        words: &["set", "arp"],
        params: &["[host]", "[hardware-address]"],
        quals: ARP_QUALIFIERS,
        help: "change the stack's ARP table: /ADD host hw, /DELETE host, /FLUSH",
        build: set_arp,
    },
    CommandDef {
        words: &["show", "route"],
        params: &[],
        quals: &[],
        help: "the stack's routing table",
        build: |_| Ok(Action::Send(Request::ShowRoutes)),
    },
    CommandDef {
        words: &["set", "route"],
        params: &["[destination]", "[gateway]"],
        quals: ROUTE_QUALIFIERS,
        help: "change the stack's routing table: /ADD=(DESTINATION=d,GATEWAY=g), /DELETE=(...)",
        build: set_route,
    },
    CommandDef {
        words: &["show", "kernel"],
        params: &[],
        quals: &[],
        help: "the stack's global parameters (GATEWAY, TCP_PMTU, the TCP tunables) and IP/ICMP/UDP/TCP counters",
        build: |_| Ok(Action::Send(Request::ShowKernel)),
    },
    CommandDef {
        words: &["show", "statistics"],
        params: &[],
        quals: &[],
        help: "the stack's protocol counters by protocol, like netstat -s: IP, ICMP, IGMP, ARP, UDP and TCP (TCP-MIB)",
        build: |_| Ok(Action::SendFull(Request::ShowKernel)),
    },
    CommandDef {
        words: &["set", "kernel"],
        params: &["parameter", "value"],
        quals: &[],
        help: "change a stack parameter live: GATEWAY, TCP_PMTU, ACCEPT_REDIRECTS (0|1); TCP_CONGESTION \
               (CUBIC|NEWRENO), TCP_DELACK, TCP_NAGLE, TCP_SYNCOOKIES, TCP_SACK, TCP_TIMESTAMPS, \
               TCP_WSCALE (0|1), TCP_SENDSPACE, TCP_RECVSPACE (bytes), TCP_KEEPIDLE, TCP_KEEPINTVL, \
               TCP_MSL (seconds), TCP_KEEPCNT, TCP_TWLIMIT, TCP_DELACK_MS",
        build: set_kernel,
    },
    CommandDef {
        words: &["ping"],
        params: &["address"],
        quals: &[
            q("count", V, "requests to send (default 3, at most 20)"),
            q("size", V, "bytes of data in each (default 56)"),
        ],
        help: "send ICMP echo requests from Maynard's stack",
        build: ping,
    },
];

/// SET ARP's qualifiers (NETCONFIG ARP takes the same).
pub(super) const ARP_QUALIFIERS: &[QualDef] = &[
    q("add", F, "add host's hardware address to the table"),
    q("delete", F, "delete host's entry"),
    q(
        "flush",
        F,
        "flush temporary entries (with /PERMANENT: every entry)",
    ),
    q(
        "permanent",
        F,
        "with /ADD: never ages; with /FLUSH: flush every entry",
    ),
    q(
        "temporary",
        F,
        "with /ADD: ages like a learnt entry (the default)",
    ),
    q(
        "proxy",
        F,
        "with /ADD: answer for host with our own hardware address",
    ),
    q(
        "publish",
        F,
        "with /ADD: answer for host with the hardware address given",
    ),
];

/// SET ROUTE's qualifiers (NETCONFIG ROUTE takes the same).
pub(super) const ROUTE_QUALIFIERS: &[QualDef] = &[
    q(
        "add",
        V,
        "add a route: /ADD=(DESTINATION=d,GATEWAY=g), d = DEFAULT, A.B.C.D/LEN or a host",
    ),
    q(
        "delete",
        V,
        "delete a route: /DELETE=(DESTINATION=d[,GATEWAY=g])",
    ),
];

pub(super) fn set_arp(p: &Parsed) -> Result<Action, String> {
    let modes = [p.has("add"), p.has("delete"), p.has("flush")];
    if modes.iter().filter(|&&m| m).count() != 1 {
        return Err("SET ARP: give one of /ADD, /DELETE or /FLUSH".into());
    }
    if p.has("permanent") && p.has("temporary") {
        return Err("give /PERMANENT or /TEMPORARY, not both".into());
    }
    if p.has("flush") {
        if let Some(x) = p.param(0) {
            return Err(format!("SET ARP /FLUSH: unexpected `{x}`"));
        }
        return Ok(Action::Send(Request::SetArp(ArpChange::Flush {
            permanent: p.has("permanent"),
        })));
    }
    let host = p.param(0).ok_or("SET ARP needs the host's IP address")?;
    let address = ipv4("host", host)?;
    if p.has("delete") {
        if let Some(x) = p.param(1) {
            return Err(format!("SET ARP /DELETE: unexpected `{x}`"));
        }
        return Ok(Action::Send(Request::SetArp(ArpChange::Delete { address })));
    }
    let proxy = p.has("proxy");
    let mac = match p.param(1) {
        Some(m) => {
            let b = parse_mac(m)?;
            Some(
                b.iter()
                    .map(|x| format!("{x:02x}"))
                    .collect::<Vec<_>>()
                    .join(":"),
            )
        }
        None if proxy => None,
        None => return Err("SET ARP /ADD needs host and hardware address".into()),
    };
    Ok(Action::Send(Request::SetArp(ArpChange::Add {
        address,
        mac,
        permanent: p.has("permanent"),
        publish: p.has("publish"),
        proxy,
    })))
}

pub(super) fn set_route(p: &Parsed) -> Result<Action, String> {
    let (add, which) = match (p.has("add"), p.has("delete")) {
        (true, false) => (true, "add"),
        (false, true) => (false, "delete"),
        _ => return Err("SET ROUTE: give /ADD or /DELETE".into()),
    };
    let items = p.value(which).map(|v| v.items()).unwrap_or_default();
    let mut destination: Option<String> = None;
    let mut gateway: Option<String> = None;
    for item in items {
        match item.split_once('=') {
            Some((k, v)) => {
                let k = k.trim().to_ascii_lowercase();
                if "destination".starts_with(&k) && !k.is_empty() {
                    destination = Some(v.trim().to_string());
                } else if "gateway".starts_with(&k) && !k.is_empty() {
                    gateway = Some(v.trim().to_string());
                } else {
                    return Err(format!(
                        "/{}: unknown `{k}`: expected DESTINATION or GATEWAY",
                        which.to_uppercase()
                    ));
                }
            }
            // --add 10.0.0.0/8 192.0.2.1: the value is the destination.
            None if destination.is_none() => destination = Some(item),
            None => gateway = Some(item),
        }
    }
    let mut params = p.params().iter();
    let destination = match destination {
        Some(d) => d,
        None => params
            .next()
            .cloned()
            .ok_or("SET ROUTE needs a destination")?,
    };
    if gateway.is_none() {
        gateway = params.next().cloned();
    }
    if let Some(x) = params.next() {
        return Err(format!("SET ROUTE: unexpected `{x}`"));
    }
    let (dest, prefix_len) = parse_destination(&destination)?;
    let gateway = gateway.map(|g| ipv4("GATEWAY", &g)).transpose()?;
    if add && gateway.is_none() {
        return Err("SET ROUTE /ADD needs GATEWAY=A.B.C.D".into());
    }
    Ok(Action::Send(Request::SetRoute {
        add,
        destination: dest,
        prefix_len,
        gateway,
    }))
}

pub(super) fn set_kernel(p: &Parsed) -> Result<Action, String> {
    let name = p.required(0)?;
    let value = p.required(1)?;
    let all: Vec<&str> = KERNEL_PARAMETERS.iter().map(|p| p.name).collect();
    let parameter = crate::lang::match_keyword(&name.to_ascii_lowercase(), &all)
        .map_err(|e| format!("SET KERNEL: {e}"))?
        .to_string();
    let kind = kernel_parameter(&parameter).map(|p| p.kind);
    let value = if kind == Some(KernelKind::Switch) {
        KernelValue::Flag(match value.to_ascii_lowercase().as_str() {
            "1" | "on" | "yes" | "true" => true,
            "0" | "off" | "no" | "false" => false,
            other => return Err(format!("SET KERNEL {name}: `{other}`: expected 0 or 1")),
        })
    } else if kind == Some(KernelKind::Congestion) {
        let v = crate::lang::match_keyword(&value.to_ascii_lowercase(), &["cubic", "newreno"])
            .map_err(|e| format!("SET KERNEL {name}: {e}"))?;
        KernelValue::Text(v.to_string())
    } else {
        let n: u64 = value.parse().map_err(|_| {
            format!("SET KERNEL {name}: `{value}`: expected a number (bytes, seconds or a count)")
        })?;
        KernelValue::Text(n.to_string())
    };
    Ok(Action::Send(Request::SetKernel { parameter, value }))
}

fn ping(p: &Parsed) -> Result<Action, String> {
    let address = ipv4("address", &p.required(0)?)?;
    let count = p
        .number::<u16>("count", "a number of requests")?
        .unwrap_or(3);
    if !(1..=20).contains(&count) {
        return Err(format!("/COUNT={count}: 1 to 20"));
    }
    let size = p.number::<u16>("size", "a number of bytes")?.unwrap_or(56);
    if size > 65_000 {
        return Err(format!("/SIZE={size}: at most 65000"));
    }
    Ok(Action::Send(Request::StackPing {
        address,
        count,
        size,
    }))
}

#[cfg(test)]
mod tests {
    use super::super::{parse, parse_line};
    use super::*;

    #[test]
    fn route_forms_agree() {
        let vms = parse("SET ROUTE/ADD=(DESTINATION=10.0.0.0/8,GATEWAY=192.0.2.1)").unwrap();
        let unix = parse("set route --add 10.0.0.0/8 192.0.2.1").unwrap();
        let plain = parse("set route /add=10.0.0.0/8 192.0.2.1").unwrap();
        assert_eq!(vms, unix);
        assert_eq!(vms, plain);
        assert_eq!(
            vms,
            Action::Send(Request::SetRoute {
                add: true,
                destination: "10.0.0.0".parse().unwrap(),
                prefix_len: 8,
                gateway: Some("192.0.2.1".parse().unwrap()),
            })
        );
        let d = parse("SET ROUTE/DELETE=(DEST=DEFAULT)").unwrap();
        assert_eq!(
            d,
            Action::Send(Request::SetRoute {
                add: false,
                destination: std::net::Ipv4Addr::UNSPECIFIED,
                prefix_len: 0,
                gateway: None,
            })
        );
        assert!(
            parse("SET ROUTE/ADD=(DESTINATION=10.0.0.1/8,GATEWAY=1.2.3.4)")
                .unwrap_err()
                .contains("host bits")
        );
        assert!(parse("SET ROUTE/ADD=(DESTINATION=10.0.0.0/8)").is_err());
    }

    #[test]
    fn arp_and_kernel_and_ping() {
        assert_eq!(
            parse("SET ARP/ADD 192.0.2.9 02-00-00-00-00-0A/PERMANENT").unwrap(),
            Action::Send(Request::SetArp(ArpChange::Add {
                address: "192.0.2.9".parse().unwrap(),
                mac: Some("02:00:00:00:00:0a".into()),
                permanent: true,
                publish: false,
                proxy: false,
            }))
        );
        assert!(matches!(
            parse("set arp --add 10.1.1.1 --proxy").unwrap(),
            Action::Send(Request::SetArp(ArpChange::Add {
                proxy: true,
                mac: None,
                ..
            }))
        ));
        assert_eq!(
            parse("SET ARP/FLUSH/PERM").unwrap(),
            Action::Send(Request::SetArp(ArpChange::Flush { permanent: true }))
        );
        assert!(parse("SET ARP/ADD 192.0.2.9").is_err());
        assert!(parse("SET ARP 192.0.2.9").is_err());
        assert_eq!(
            parse("SET KERNEL TCP_P 0").unwrap(),
            Action::Send(Request::SetKernel {
                parameter: "tcp_pmtu".into(),
                value: KernelValue::Flag(false)
            })
        );
        assert!(parse("SET KERNEL GATEWAY 2").is_err());
        assert_eq!(
            parse("SET KERNEL TCP_CONG newreno").unwrap(),
            Action::Send(Request::SetKernel {
                parameter: "tcp_congestion".into(),
                value: KernelValue::Text("newreno".into())
            })
        );
        assert_eq!(
            parse("set kernel tcp_sendspace 65536").unwrap(),
            Action::Send(Request::SetKernel {
                parameter: "tcp_sendspace".into(),
                value: KernelValue::Text("65536".into())
            })
        );
        assert!(parse("SET KERNEL TCP_CONGESTION vegas").is_err());
        // An exact name wins over a longer one it begins.
        assert_eq!(
            parse("SET KERNEL TCP_DELACK 0").unwrap(),
            Action::Send(Request::SetKernel {
                parameter: "tcp_delack".into(),
                value: KernelValue::Flag(false)
            })
        );
        assert!(parse("SET KERNEL TCP 0").is_err());
        assert!(parse("SET KERNEL TCP_SENDSPACE lots").is_err());
        assert_eq!(
            parse("PING 192.0.2.1/COUNT=2/SIZE=4000").unwrap(),
            Action::Send(Request::StackPing {
                address: "192.0.2.1".parse().unwrap(),
                count: 2,
                size: 4000
            })
        );
        assert_eq!(parse("SHOW ARP").unwrap(), Action::Send(Request::ShowArp));
        assert_eq!(parse("sho rou").unwrap(), Action::Send(Request::ShowRoutes));
        assert_eq!(
            parse("show kernel").unwrap(),
            Action::Send(Request::ShowKernel)
        );
    }

    /// The interface builders, through a table like the one interface.rs will carry.
    static TEST_INTERFACE: &[CommandDef] = &[
        CommandDef {
            words: &["show", "arp"],
            params: &["[name]"],
            quals: STACK_INTERFACE_QUALIFIERS,
            help: "",
            build: show_interface_stack,
        },
        CommandDef {
            words: &["set", "arp"],
            params: &["name"],
            // As interface.rs merges them: its own qualifiers, then ours one by one.
            quals: &[
                super::super::q("filter", F, ""),
                STACK_INTERFACE_QUALIFIERS[1],
                STACK_INTERFACE_QUALIFIERS[2],
                STACK_INTERFACE_QUALIFIERS[3],
                STACK_INTERFACE_QUALIFIERS[4],
                STACK_INTERFACE_QUALIFIERS[5],
                STACK_INTERFACE_QUALIFIERS[6],
            ],
            help: "",
            build: set_interface_stack,
        },
    ];

    fn with(def: &'static CommandDef, line: &str) -> Result<Action, String> {
        // Parse against the real grammar, then swap in the test definition.
        let mut p = parse_line(line)?.expect("a command");
        p.def = def;
        assert!(p
            .qualifiers()
            .all(|(n, _)| def.quals.iter().any(|q| q.name == n)));
        (def.build)(&p)
    }

    #[test]
    fn interface_builders() {
        let show = &TEST_INTERFACE[0];
        let set = &TEST_INTERFACE[1];
        assert_eq!(
            with(show, "SHOW ARP").unwrap(),
            Action::Send(Request::ShowStackInterfaces {
                name: None,
                statistics: false
            })
        );
        assert!(with(set, "SET ARP").is_err(), "the name is required");
        let mut p = parse_line("SET ARP").unwrap().unwrap();
        p.def = set;
        p.params = vec!["SE0".into()];
        p.quals = vec![
            (
                "address",
                Some(crate::lang::Value::One("192.0.2.5/25".into())),
            ),
            ("mtu", Some(crate::lang::Value::One("1400".into()))),
            ("down", None),
        ];
        assert!(wants_stack(&p));
        assert_eq!(
            set_interface_stack(&p).unwrap(),
            Action::Send(Request::SetStackInterface {
                name: "SE0".into(),
                changes: StackInterfaceChanges {
                    address: Some("192.0.2.5".parse().unwrap()),
                    mask: Some("255.255.255.128".parse().unwrap()),
                    broadcast: None,
                    mtu: Some(1400),
                    up: Some(false),
                }
            })
        );
        p.quals = vec![("up", None), ("down", None)];
        assert!(set_interface_stack(&p).is_err());
        p.quals = vec![("statistics", None)];
        assert!(!wants_stack(&p));
        assert!(set_interface_stack(&p).is_err());
        p.params.clear();
        p.def = show;
        assert_eq!(
            show_interface_stack(&p).unwrap(),
            Action::Send(Request::ShowStackInterfaces {
                name: None,
                statistics: true
            })
        );
    }
}
