//! NET-CONFIG's verbs (seed 001) on `network.toml`: ADD, MODIFY, DELETE, ENABLE and DISABLE of
//! interfaces, ROUTE and ARP entries and KERNEL switches edit the file's text in place with
//! `toml_edit`, so the administrator's comments, blank lines and
//! key order survive (like `preserve.rs` does for `servers.toml`); SHOW renders the saved
//! configuration. The caller validates the edited text with [`super::network::parse_network`]
//! before saving it.

use std::fmt::Write;

use toml_edit::{value, ArrayOfTables, DocumentMut, Item, Table};

use std::net::Ipv4Addr;

use super::network::{interface_kind, parse_destination, Encapsulation, LinkDevice, NetworkConfig};
use crate::protocol::{ArpChange, NetConfigOp, NetConfigSettings};

fn same_name(t: &Table, name: &str) -> bool {
    t.get("name")
        .and_then(|n| n.as_str())
        .is_some_and(|n| n.eq_ignore_ascii_case(name))
}

fn interfaces(doc: &mut DocumentMut) -> Result<&mut ArrayOfTables, String> {
    if !doc.contains_key("interface") {
        doc.insert("interface", Item::ArrayOfTables(ArrayOfTables::new()));
    }
    doc.get_mut("interface")
        .and_then(Item::as_array_of_tables_mut)
        .ok_or_else(|| "`interface` in network.toml is not an array of [[interface]] tables".into())
}

fn set(t: &mut Table, key: &str, item: Option<Item>) {
    match item {
        Some(i) => match t.get_mut(key) {
            // Keep the comments around a key that stays.
            Some(Item::Value(old)) if i.is_value() => {
                let decor = old.decor().clone();
                let mut v = i.into_value().expect("a value");
                *v.decor_mut() = decor;
                *old = v;
            }
            _ => {
                t.insert(key, i);
            }
        },
        None => {
            t.remove(key);
        }
    }
}

fn apply_settings(t: &mut Table, s: &NetConfigSettings) -> Result<(), String> {
    if s.tap.is_some() && s.packet.is_some() {
        return Err("give /TAP or /PACKET, not both".into());
    }
    if let Some(tap) = &s.tap {
        set(t, "tap", Some(value(tap.as_str())));
        set(t, "packet", None);
    }
    if let Some(p) = &s.packet {
        set(t, "packet", Some(value(p.as_str())));
        set(t, "tap", None);
    }
    if let Some(p) = &s.parent {
        set(t, "parent", Some(value(p.to_ascii_lowercase())));
    }
    if let Some(a) = &s.address {
        set(t, "address", Some(value(a.as_str())));
    }
    if let Some(b) = &s.broadcast {
        set(t, "broadcast", (!b.is_empty()).then(|| value(b.as_str())));
    }
    if let Some(m) = s.mtu {
        set(t, "mtu", (m != 0).then(|| value(i64::from(m))));
    }
    if let Some(e) = &s.encapsulation {
        let e = match e.to_ascii_lowercase().as_str() {
            "ethernet" | "ether" | "eth" => "ethernet",
            "802.2" | "8022" | "llc" | "snap" => "802.2",
            other => {
                return Err(format!(
                    "/ENCAPSULATION={other}: expected ETHERNET or 802.2"
                ))
            }
        };
        set(t, "encapsulation", Some(value(e)));
    }
    if let Some(m) = &s.mac {
        set(t, "mac", Some(value(m.as_str())));
    }
    Ok(())
}

/// The array of tables `key` (`route`, `arp`), made if absent.
fn array<'a>(doc: &'a mut DocumentMut, key: &str) -> Result<&'a mut ArrayOfTables, String> {
    if !doc.contains_key(key) {
        doc.insert(key, Item::ArrayOfTables(ArrayOfTables::new()));
    }
    doc.get_mut(key)
        .and_then(Item::as_array_of_tables_mut)
        .ok_or_else(|| format!("`{key}` in network.toml is not an array of [[{key}]] tables"))
}

/// Drops an array of tables left empty, so the file does not keep a bare key.
fn drop_if_empty(doc: &mut DocumentMut, key: &str) {
    if doc
        .get(key)
        .and_then(Item::as_array_of_tables)
        .is_some_and(|a| a.is_empty())
    {
        doc.remove(key);
    }
}

fn str_of<'a>(t: &'a Table, key: &str) -> Option<&'a str> {
    t.get(key).and_then(|v| v.as_str())
}

/// A route's destination as the file writes it: `default`, a host, or `network/length`.
fn destination_text(dest: Ipv4Addr, len: u8) -> String {
    match len {
        0 => "default".into(),
        32 => dest.to_string(),
        _ => format!("{dest}/{len}"),
    }
}

fn edit_route(
    doc: &mut DocumentMut,
    add: bool,
    dest: Ipv4Addr,
    len: u8,
    gateway: Option<Ipv4Addr>,
) -> Result<(), String> {
    let shown = destination_text(dest, len);
    let list = array(doc, "route")?;
    let matches = |t: &Table| {
        str_of(t, "destination").and_then(|d| parse_destination(d).ok()) == Some((dest, len))
            && gateway.is_none_or(|g| {
                str_of(t, "gateway").and_then(|x| x.parse::<Ipv4Addr>().ok()) == Some(g)
            })
    };
    if add {
        let gateway = gateway.ok_or("ROUTE /ADD needs a gateway")?;
        if list.iter().any(matches) {
            return Err(format!(
                "a route to {shown} via {gateway} is already configured"
            ));
        }
        let mut t = Table::new();
        t.insert("destination", value(shown));
        t.insert("gateway", value(gateway.to_string()));
        list.push(t);
    } else {
        let before = list.len();
        list.retain(|t| !matches(t));
        if list.len() == before {
            return Err(format!("no route to {shown} in network.toml"));
        }
    }
    drop_if_empty(doc, "route");
    Ok(())
}

fn edit_arp(doc: &mut DocumentMut, change: &ArpChange) -> Result<(), String> {
    let list = array(doc, "arp")?;
    let same = |t: &Table, a: Ipv4Addr| {
        str_of(t, "address").and_then(|x| x.parse::<Ipv4Addr>().ok()) == Some(a)
    };
    match change {
        ArpChange::Add {
            address,
            mac,
            permanent,
            publish,
            proxy,
        } => {
            if list.iter().any(|t| same(t, *address)) {
                return Err(format!(
                    "an ARP entry for {address} is already configured (ARP /DELETE it first)"
                ));
            }
            let mut t = Table::new();
            t.insert("address", value(address.to_string()));
            if let Some(m) = mac {
                t.insert("mac", value(m.as_str()));
            }
            for (key, on) in [
                ("permanent", permanent),
                ("publish", publish),
                ("proxy", proxy),
            ] {
                if *on {
                    t.insert(key, value(true));
                }
            }
            list.push(t);
        }
        ArpChange::Delete { address } => {
            let before = list.len();
            list.retain(|t| !same(t, *address));
            if list.len() == before {
                return Err(format!("no ARP entry for {address} in network.toml"));
            }
        }
        ArpChange::Flush { .. } => {
            return Err("ARP /FLUSH changes the running table only: use SET ARP /FLUSH".into())
        }
    }
    drop_if_empty(doc, "arp");
    Ok(())
}

fn edit_kernel(doc: &mut DocumentMut, parameter: &str, on: bool) -> Result<(), String> {
    let key = match crate::kernel::kernel_parameter(parameter) {
        Some(p) if p.saved => p.name,
        _ => {
            return Err(format!(
                "KERNEL {}: network.toml keeps {}; the TCP tunables are set live with SET KERNEL",
                parameter.to_ascii_uppercase(),
                crate::kernel::kernel_parameter_names(|p| p.saved)
            ))
        }
    };
    if !doc.contains_key("kernel") {
        doc.insert("kernel", Item::Table(Table::new()));
    }
    let t = doc
        .get_mut("kernel")
        .and_then(Item::as_table_mut)
        .ok_or("`kernel` in network.toml is not a [kernel] table")?;
    set(t, key, Some(value(on)));
    Ok(())
}

/// `text` (network.toml as it stands; empty when there is none) changed by `op`. Only the verbs
/// that change the file are accepted here (CHECK and SHOW do not).
pub fn edit(text: &str, op: &NetConfigOp) -> Result<String, String> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e| format!("network.toml does not parse: {e}"))?;
    match op {
        NetConfigOp::Route {
            add,
            destination,
            prefix_len,
            gateway,
        } => edit_route(&mut doc, *add, *destination, *prefix_len, *gateway)?,
        NetConfigOp::Arp(change) => edit_arp(&mut doc, change)?,
        NetConfigOp::Kernel { parameter, value } => edit_kernel(&mut doc, parameter, *value)?,
        NetConfigOp::Check | NetConfigOp::Show { .. } => {
            return Err("CHECK and SHOW do not change the configuration".into())
        }
        NetConfigOp::Add { .. }
        | NetConfigOp::Modify { .. }
        | NetConfigOp::Delete { .. }
        | NetConfigOp::Enable { .. } => edit_interface(&mut doc, op)?,
    }
    Ok(doc.to_string())
}

/// ADD, MODIFY, DELETE, ENABLE and DISABLE of one `[[interface]]`.
fn edit_interface(doc: &mut DocumentMut, op: &NetConfigOp) -> Result<(), String> {
    let list = interfaces(doc)?;
    match op {
        NetConfigOp::Add { name, settings } => {
            let name = name.to_ascii_lowercase();
            interface_kind(&name)?;
            if list.iter().any(|t| same_name(t, &name)) {
                return Err(format!(
                    "interface {name} is already configured (MODIFY changes it)"
                ));
            }
            let mut t = Table::new();
            t.insert("name", value(name.as_str()));
            apply_settings(&mut t, settings)?;
            list.push(t);
        }
        NetConfigOp::Modify { name, settings } => {
            if settings.is_empty() {
                return Err(format!("MODIFY {name}: nothing to change"));
            }
            let t = list
                .iter_mut()
                .find(|t| same_name(t, name))
                .ok_or_else(|| format!("no interface {name} in network.toml"))?;
            apply_settings(t, settings)?;
        }
        NetConfigOp::Delete { name } => {
            let i = list
                .iter()
                .position(|t| same_name(t, name))
                .ok_or_else(|| format!("no interface {name} in network.toml"))?;
            list.remove(i);
        }
        NetConfigOp::Enable { name, enabled } => {
            let t = list
                .iter_mut()
                .find(|t| same_name(t, name))
                .ok_or_else(|| format!("no interface {name} in network.toml"))?;
            // `enabled` defaults to true: enabling removes the key.
            set(t, "enabled", (!enabled).then(|| value(false)));
        }
        _ => return Err("not an interface verb".into()),
    }
    drop_if_empty(doc, "interface");
    Ok(())
}

/// NETCONFIG SHOW [name]: the configuration as saved.
pub fn show(cfg: &NetworkConfig, name: Option<&str>) -> Result<String, String> {
    let mut out = String::new();
    let chosen: Vec<_> = cfg
        .interfaces
        .iter()
        .filter(|i| name.is_none_or(|n| i.name.eq_ignore_ascii_case(n)))
        .collect();
    if let Some(n) = name {
        if chosen.is_empty() {
            return Err(format!("no interface {n} in network.toml"));
        }
    }
    let _ = writeln!(
        out,
        "{:<9} {:<20} {:<18} {:<15} {:<5} {:<8} Enabled",
        "Interface", "Link", "Address", "Broadcast", "Mtu", "Encap"
    );
    for i in chosen {
        let link = match (&i.link, &i.parent) {
            (Some(LinkDevice::Tap(t)), _) => format!("tap {t}"),
            (Some(LinkDevice::Packet(p)), _) => format!("packet {p}"),
            (None, Some(p)) => format!("on {p}"),
            (None, None) => "-".into(),
        };
        let _ = writeln!(
            out,
            "{:<9} {:<20} {:<18} {:<15} {:<5} {:<8} {}",
            i.name,
            link,
            i.address
                .map_or_else(|| "-".into(), |(a, l)| format!("{a}/{l}")),
            i.broadcast
                .map_or_else(|| "standard".into(), |b| b.to_string()),
            i.mtu.map_or_else(|| "-".into(), |m| m.to_string()),
            match i.encapsulation {
                Encapsulation::Ethernet => "ethernet",
                Encapsulation::Ieee8022 => "802.2",
            },
            if i.enabled { "yes" } else { "no" }
        );
    }
    if name.is_none() {
        let k = &cfg.kernel;
        let _ = writeln!(
            out,
            "Kernel: GATEWAY {}, TCP_PMTU {}, ACCEPT_REDIRECTS {}",
            u8::from(k.gateway),
            u8::from(k.tcp_pmtu),
            u8::from(k.accept_redirects)
        );
        for r in &cfg.routes {
            let _ = writeln!(
                out,
                "Route: {}/{} via {}{}",
                r.destination.0,
                r.destination.1,
                r.gateway,
                r.mtu.map_or_else(String::new, |m| format!(" mtu {m}"))
            );
        }
        for a in &cfg.arp {
            let _ = writeln!(
                out,
                "ARP: {} {}{}{}{}",
                a.address,
                a.mac.map_or_else(
                    || "proxy".into(),
                    |m| m
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect::<Vec<_>>()
                        .join(":")
                ),
                if a.permanent { " permanent" } else { "" },
                if a.publish { " publish" } else { "" },
                if a.proxy { " proxy" } else { "" },
            );
        }
    }
    Ok(out.trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use super::super::network::parse_network;
    use super::*;

    const FILE: &str = "# Maynard's stack\n[kernel]\ngateway = false\n\n\
                        # the lab link\n[[interface]]\nname = \"se0\"\ntap = \"mayn0\" # made by netcp\n\
                        address = \"192.0.2.2/24\"\n";

    fn settings(address: &str) -> NetConfigSettings {
        NetConfigSettings {
            address: Some(address.into()),
            ..Default::default()
        }
    }

    #[test]
    fn add_modify_disable_delete_keep_comments() {
        let add = NetConfigOp::Add {
            name: "SE1".into(),
            settings: NetConfigSettings {
                tap: Some("mayn1".into()),
                mtu: Some(1400),
                ..settings("198.51.100.2/24")
            },
        };
        let t = edit(FILE, &add).unwrap();
        assert!(t.starts_with("# Maynard's stack\n"), "{t}");
        assert!(t.contains("# the lab link"), "{t}");
        assert!(t.contains("tap = \"mayn0\" # made by netcp"), "{t}");
        let (cfg, _) = parse_network(&t, "network.toml").unwrap();
        assert_eq!(cfg.interfaces.len(), 2);
        assert_eq!(cfg.interfaces[1].name, "se1");
        assert_eq!(cfg.interfaces[1].mtu, Some(1400));
        assert!(edit(&t, &add).unwrap_err().contains("already"));

        let m = NetConfigOp::Modify {
            name: "se0".into(),
            settings: settings("192.0.2.9/24"),
        };
        let t = edit(&t, &m).unwrap();
        assert!(t.contains("address = \"192.0.2.9/24\""), "{t}");
        assert!(t.contains("# made by netcp"), "{t}");

        let d = NetConfigOp::Enable {
            name: "se1".into(),
            enabled: false,
        };
        let t = edit(&t, &d).unwrap();
        let (cfg, _) = parse_network(&t, "network.toml").unwrap();
        assert!(!cfg.interfaces[1].enabled);
        let e = NetConfigOp::Enable {
            name: "se1".into(),
            enabled: true,
        };
        let t = edit(&t, &e).unwrap();
        assert!(!t.contains("enabled"), "{t}");

        let t = edit(&t, &NetConfigOp::Delete { name: "se1".into() }).unwrap();
        let (cfg, _) = parse_network(&t, "network.toml").unwrap();
        assert_eq!(cfg.interfaces.len(), 1);
        assert!(t.contains("# the lab link"), "{t}");
        let shown = show(&cfg, None).unwrap();
        assert!(
            shown.contains("se0") && shown.contains("192.0.2.9/24"),
            "{shown}"
        );
        assert!(show(&cfg, Some("se7")).is_err());
    }

    #[test]
    fn bad_edits_are_refused() {
        assert!(edit(FILE, &NetConfigOp::Delete { name: "se4".into() }).is_err());
        assert!(edit(
            FILE,
            &NetConfigOp::Modify {
                name: "se0".into(),
                settings: NetConfigSettings::default()
            }
        )
        .is_err());
        // An edit that parses but does not validate: the caller's parse_network refuses it.
        let t = edit(
            FILE,
            &NetConfigOp::Modify {
                name: "se0".into(),
                settings: settings("300.1.1.1/24"),
            },
        )
        .unwrap();
        assert!(parse_network(&t, "network.toml").is_err());
    }

    #[test]
    fn routes_arp_entries_and_kernel_switches_are_saved_keeping_comments() {
        let route = |add: bool, gw: Option<&str>| NetConfigOp::Route {
            add,
            destination: "10.0.0.0".parse().unwrap(),
            prefix_len: 8,
            gateway: gw.map(|g| g.parse().unwrap()),
        };
        let t = edit(FILE, &route(true, Some("192.0.2.1"))).unwrap();
        let t = edit(
            &t,
            &NetConfigOp::Route {
                add: true,
                destination: std::net::Ipv4Addr::UNSPECIFIED,
                prefix_len: 0,
                gateway: Some("192.0.2.254".parse().unwrap()),
            },
        )
        .unwrap();
        assert!(
            t.contains("# the lab link") && t.contains("# made by netcp"),
            "{t}"
        );
        let (cfg, _) = parse_network(&t, "network.toml").unwrap();
        assert_eq!(cfg.routes.len(), 2);
        assert_eq!(cfg.routes[0].destination, ("10.0.0.0".parse().unwrap(), 8));
        assert_eq!(cfg.routes[1].destination.1, 0);
        assert!(t.contains("destination = \"default\""), "{t}");
        // The same route twice, a delete of one that is not there: refused.
        assert!(edit(&t, &route(true, Some("192.0.2.1"))).is_err());
        assert!(edit(&t, &route(false, Some("192.0.2.9"))).is_err());
        // Deleting without a gateway matches any.
        let t = edit(&t, &route(false, None)).unwrap();
        let (cfg, _) = parse_network(&t, "network.toml").unwrap();
        assert_eq!(cfg.routes.len(), 1);

        let add = NetConfigOp::Arp(ArpChange::Add {
            address: "192.0.2.9".parse().unwrap(),
            mac: Some("02:00:00:00:00:09".into()),
            permanent: true,
            publish: false,
            proxy: false,
        });
        let t = edit(&t, &add).unwrap();
        let (cfg, _) = parse_network(&t, "network.toml").unwrap();
        assert_eq!(cfg.arp.len(), 1);
        assert!(cfg.arp[0].permanent);
        assert!(edit(&t, &add).is_err(), "a second entry for one address");
        let flush = NetConfigOp::Arp(ArpChange::Flush { permanent: true });
        assert!(edit(&t, &flush).is_err());
        let del = NetConfigOp::Arp(ArpChange::Delete {
            address: "192.0.2.9".parse().unwrap(),
        });
        let t = edit(&t, &del).unwrap();
        assert!(!t.contains("[[arp]]"), "{t}");
        assert!(edit(&t, &del).is_err());

        let k = |p: &str, v: bool| NetConfigOp::Kernel {
            parameter: p.into(),
            value: v,
        };
        let t = edit(&t, &k("gateway", true)).unwrap();
        let t = edit(&t, &k("TCP_PMTU", false)).unwrap();
        let (cfg, _) = parse_network(&t, "network.toml").unwrap();
        assert!(cfg.kernel.gateway && !cfg.kernel.tcp_pmtu);
        assert!(t.starts_with("# Maynard's stack\n[kernel]"), "{t}");
        assert!(edit(&t, &k("tcp_sack", true)).is_err());
    }
}
