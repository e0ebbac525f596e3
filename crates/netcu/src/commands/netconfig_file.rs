//! NETCONFIG: seed 001's NET-CONFIG verbs on `network.toml`, the stack's saved configuration.
//! ADD, MODIFY, DELETE, ENABLE and DISABLE change the file (keeping its comments) and the running
//! stack together; CHECK validates the file; SHOW shows it as saved (SHOW INTERFACE shows the live
//! stack). `NETCONFIG ADD se1 /TAP=mayn1 /ADDRESS=192.0.2.2/24`; the keyword INTERFACE may come
//! before the name, as in NET-CONFIG (`NETCONFIG ADD INTERFACE se1 ...`). NETCONFIG ROUTE, ARP and
//! KERNEL take SET ROUTE's, SET ARP's and SET KERNEL's forms and save them as well.

use control::protocol::{KernelValue, NetConfigOp, NetConfigSettings, Request};

use super::{q, Action, CommandDef, Parsed, QualDef, Takes::Value as V};

const SETTINGS: &[QualDef] = &[
    q("tap", V, "se: a TAP device netcp creates, e.g. mayn1"),
    q(
        "packet",
        V,
        "se: an existing Linux interface, through AF_PACKET",
    ),
    q(
        "parent",
        V,
        "pd: the se interface it is a secondary address on",
    ),
    q("address", V, "A.B.C.D/LENGTH"),
    q(
        "broadcast",
        V,
        "a non-standard broadcast address, or STANDARD",
    ),
    q(
        "mtu",
        V,
        "68 to 1500 (9000 with jumbo frames); DEFAULT: the link's",
    ),
    q("encapsulation", V, "ETHERNET (the default) or 802.2"),
    q("mac", V, "the stack's hardware address on the link"),
];

/// The interface's name: the first parameter, or the second after the keyword INTERFACE.
fn name(p: &Parsed, optional: bool) -> Result<Option<String>, String> {
    let mut params = p.params().iter().map(String::as_str);
    let mut first = params.next();
    if let Some(f) = first {
        let f = f.to_ascii_lowercase();
        if f.len() >= 3 && "interface".starts_with(&f) {
            first = params.next();
        }
    }
    if let Some(x) = params.next() {
        return Err(format!("NETCONFIG: unexpected `{x}`"));
    }
    match first {
        Some(n) => Ok(Some(n.to_ascii_lowercase())),
        None if optional => Ok(None),
        None => Err("NETCONFIG: which interface? (e.g. se1)".into()),
    }
}

fn settings(p: &Parsed) -> Result<NetConfigSettings, String> {
    let mtu = match p.one("mtu")? {
        None => None,
        Some(m) if m.eq_ignore_ascii_case("default") => Some(0),
        Some(m) => Some(match m.trim().parse::<u32>() {
            Ok(n) if n > 0 => n,
            _ => return Err(format!("/MTU={m}: expected a number of bytes or DEFAULT")),
        }),
    };
    let broadcast = p.one("broadcast")?.map(|b| {
        if b.eq_ignore_ascii_case("standard") || b.eq_ignore_ascii_case("default") {
            String::new()
        } else {
            b
        }
    });
    Ok(NetConfigSettings {
        tap: p.one("tap")?,
        packet: p.one("packet")?,
        parent: p.one("parent")?,
        address: p.one("address")?,
        broadcast,
        mtu,
        encapsulation: p.one("encapsulation")?,
        mac: p.one("mac")?,
    })
}

fn send(op: NetConfigOp) -> Result<Action, String> {
    Ok(Action::Send(Request::NetConfig(op)))
}

fn req(p: &Parsed) -> Result<String, String> {
    name(p, false).map(|n| n.unwrap_or_default())
}

/// The live SET command's request, saved: NETCONFIG ROUTE/ARP/KERNEL parse as SET ROUTE/ARP/KERNEL.
fn saved(live: Result<Action, String>) -> Result<Action, String> {
    let op = match live? {
        Action::Send(Request::SetRoute {
            add,
            destination,
            prefix_len,
            gateway,
        }) => NetConfigOp::Route {
            add,
            destination,
            prefix_len,
            gateway,
        },
        Action::Send(Request::SetArp(change)) => NetConfigOp::Arp(change),
        Action::Send(Request::SetKernel { parameter, value }) => {
            match (control::kernel::kernel_parameter(&parameter), value) {
                (Some(p), KernelValue::Flag(value)) if p.saved => {
                    NetConfigOp::Kernel { parameter, value }
                }
                _ => {
                    return Err(format!(
                        "NETCONFIG KERNEL {}: network.toml keeps {}; set the TCP tunables live \
                         with SET KERNEL",
                        parameter.to_ascii_uppercase(),
                        control::kernel::kernel_parameter_names(|p| p.saved)
                    ))
                }
            }
        }
        other => return Err(format!("NETCONFIG: cannot save {other:?}")),
    };
    send(op)
}

/// NETCONFIG's commands.
pub static COMMANDS: &[CommandDef] = &[
    CommandDef {
        words: &["netconfig", "route"],
        params: &["[destination]", "[gateway]"],
        quals: super::netconfig::ROUTE_QUALIFIERS,
        help: "add or delete a static route in network.toml and on the running stack: /ADD=(DESTINATION=d,GATEWAY=g), /DELETE=(...)",
        build: |p| saved(super::netconfig::set_route(p)),
    },
    CommandDef {
        words: &["netconfig", "arp"],
        params: &["[host]", "[hardware-address]"],
        quals: super::netconfig::ARP_QUALIFIERS,
        help: "add or delete a static ARP entry in network.toml and on the running stack: /ADD host hw [/PERMANENT|/PUBLISH|/PROXY], /DELETE host",
        build: |p| saved(super::netconfig::set_arp(p)),
    },
    CommandDef {
        words: &["netconfig", "kernel"],
        params: &["parameter", "value"],
        quals: &[],
        help: "save GATEWAY, TCP_PMTU or ACCEPT_REDIRECTS (0 or 1) in network.toml and apply it",
        build: |p| saved(super::netconfig::set_kernel(p)),
    },
    CommandDef {
        words: &["netconfig", "add"],
        params: &["[interface]", "name"],
        quals: SETTINGS,
        help: "add an interface to network.toml and the running stack: ADD se1 /TAP=mayn1 /ADDRESS=a/len",
        build: |p| {
            send(NetConfigOp::Add {
                name: req(p)?,
                settings: settings(p)?,
            })
        },
    },
    CommandDef {
        words: &["netconfig", "modify"],
        params: &["[interface]", "name"],
        quals: SETTINGS,
        help: "change an interface in network.toml and on the running stack",
        build: |p| {
            send(NetConfigOp::Modify {
                name: req(p)?,
                settings: settings(p)?,
            })
        },
    },
    CommandDef {
        words: &["netconfig", "delete"],
        params: &["[interface]", "name"],
        quals: &[],
        help: "remove an interface from network.toml and the running stack",
        build: |p| send(NetConfigOp::Delete { name: req(p)? }),
    },
    CommandDef {
        words: &["netconfig", "enable"],
        params: &["[interface]", "name"],
        quals: &[],
        help: "enable an interface in network.toml and bring it onto the running stack",
        build: |p| {
            send(NetConfigOp::Enable {
                name: req(p)?,
                enabled: true,
            })
        },
    },
    CommandDef {
        words: &["netconfig", "disable"],
        params: &["[interface]", "name"],
        quals: &[],
        help: "disable an interface in network.toml and take it off the running stack",
        build: |p| {
            send(NetConfigOp::Enable {
                name: req(p)?,
                enabled: false,
            })
        },
    },
    CommandDef {
        words: &["netconfig", "check"],
        params: &[],
        quals: &[],
        help: "validate network.toml and list its warnings",
        build: |_| send(NetConfigOp::Check),
    },
    CommandDef {
        words: &["netconfig", "show"],
        params: &["[interface]", "[name]"],
        quals: &[],
        help: "network.toml as saved (SHOW INTERFACE shows the live stack)",
        build: |p| send(NetConfigOp::Show { name: name(p, true)? }),
    },
];

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    #[test]
    fn verbs_parse() {
        let want = Action::Send(Request::NetConfig(NetConfigOp::Add {
            name: "se1".into(),
            settings: NetConfigSettings {
                tap: Some("mayn1".into()),
                address: Some("192.0.2.2/24".into()),
                mtu: Some(1400),
                ..Default::default()
            },
        }));
        assert_eq!(
            parse("NETCONFIG ADD INTERFACE SE1/TAP=mayn1/ADDRESS=192.0.2.2/24/MTU=1400").unwrap(),
            want
        );
        assert_eq!(
            parse("netc add se1 --tap mayn1 --address 192.0.2.2/24 --mtu 1400").unwrap(),
            want
        );
        assert_eq!(
            parse("NETCONFIG MOD se0 /BROADCAST=STANDARD /MTU=DEFAULT").unwrap(),
            Action::Send(Request::NetConfig(NetConfigOp::Modify {
                name: "se0".into(),
                settings: NetConfigSettings {
                    broadcast: Some(String::new()),
                    mtu: Some(0),
                    ..Default::default()
                }
            }))
        );
        assert_eq!(
            parse("NETCONFIG DISABLE INT se1").unwrap(),
            Action::Send(Request::NetConfig(NetConfigOp::Enable {
                name: "se1".into(),
                enabled: false
            }))
        );
        assert_eq!(
            parse("NETCONFIG DELETE se1").unwrap(),
            Action::Send(Request::NetConfig(NetConfigOp::Delete {
                name: "se1".into()
            }))
        );
        assert_eq!(
            parse("NETCONFIG CHECK").unwrap(),
            Action::Send(Request::NetConfig(NetConfigOp::Check))
        );
        assert_eq!(
            parse("NETCONFIG SHOW").unwrap(),
            Action::Send(Request::NetConfig(NetConfigOp::Show { name: None }))
        );
        assert_eq!(
            parse("NETCONFIG SHOW INTERFACE se0").unwrap(),
            Action::Send(Request::NetConfig(NetConfigOp::Show {
                name: Some("se0".into())
            }))
        );
        assert!(parse("NETCONFIG ADD").is_err());
        assert!(parse("NETCONFIG ADD se1 /MTU=big").is_err());
    }

    #[test]
    fn route_arp_and_kernel_are_saved_forms_of_the_set_commands() {
        assert_eq!(
            parse("NETCONFIG ROUTE /ADD=(DESTINATION=10.0.0.0/8,GATEWAY=192.0.2.1)").unwrap(),
            Action::Send(Request::NetConfig(NetConfigOp::Route {
                add: true,
                destination: "10.0.0.0".parse().unwrap(),
                prefix_len: 8,
                gateway: Some("192.0.2.1".parse().unwrap()),
            }))
        );
        assert_eq!(
            parse("NETCONFIG ARP /DELETE 192.0.2.9").unwrap(),
            Action::Send(Request::NetConfig(NetConfigOp::Arp(
                control::protocol::ArpChange::Delete {
                    address: "192.0.2.9".parse().unwrap()
                }
            )))
        );
        assert_eq!(
            parse("NETCONFIG KERNEL TCP_P 0").unwrap(),
            Action::Send(Request::NetConfig(NetConfigOp::Kernel {
                parameter: "tcp_pmtu".into(),
                value: false
            }))
        );
        assert!(parse("NETCONFIG KERNEL TCP_CONGESTION cubic").is_err());
        assert!(parse("NETCONFIG ROUTE /ADD=(GATEWAY=192.0.2.1)").is_err());
    }
}
