//! Control requests about Maynard's own stack: SHOW/SET INTERFACE (stack interfaces), ARP, ROUTE,
//! KERNEL, and PING. Each runs as a closure on the stack's thread.

use std::fmt::Write;
use std::net::Ipv4Addr;
use std::time::Duration;

use control::protocol::{
    ArpChange, ArpInfo, KernelInfo, KernelValue, Request, Response, RouteInfo, StackCounters,
    StackInterfaceChanges, StackInterfaceInfo,
};
use stack::{ArpFlags, ArpState, EthernetAddress, Ipv4Prefix, RouteKind};

use super::{err, ok, Daemon};
use crate::netstack::{Driver, NetstackHandle};

fn seconds_until(d: &Driver, t: Option<stack::Instant>) -> Option<u64> {
    t.map(|t| t.saturating_duration_since(d.now()).as_secs())
}

fn interface_info(d: &Driver, i: &stack::Interface) -> StackInterfaceInfo {
    let c = i.counters();
    StackInterfaceInfo {
        name: i.name().to_string(),
        mtu: i.mtu(),
        address: i.addr(),
        prefix_len: i.network().map(|n| n.prefix_len()),
        broadcast: i.broadcast(),
        mac: (i.kind() != stack::IfaceKind::Loopback).then(|| i.mac().to_string()),
        flags: i.flags().to_string(),
        encapsulation: match i.encapsulation() {
            stack::Encapsulation::Ethernet => "ethernet".into(),
            stack::Encapsulation::Ieee8022 => "802.2".into(),
        },
        link: d.describe(i.id()),
        counters: StackCounters {
            ipkts: c.ipkts,
            ierrs: c.ierrs,
            opkts: c.opkts,
            oerrs: c.oerrs,
            collis: c.collis,
            in_octets: c.in_octets,
            out_octets: c.out_octets,
            in_ucast: c.in_ucast,
            in_mcast: c.in_mcast,
            in_bcast: c.in_bcast,
            in_discards: c.in_discards,
            in_unknown_protos: c.in_unknown_protos,
            out_ucast: c.out_ucast,
            out_mcast: c.out_mcast,
            out_bcast: c.out_bcast,
            out_discards: c.out_discards,
        },
        groups: d
            .stack
            .multicast_groups()
            .into_iter()
            .filter(|(link, _)| *link == i.id())
            .map(|(_, g)| g)
            .collect(),
    }
}

fn set_interface(d: &mut Driver, name: &str, ch: StackInterfaceChanges) -> Result<String, String> {
    let id = d
        .stack
        .find_interface(&name.to_ascii_lowercase())
        .ok_or_else(|| format!("no stack interface `{name}` (SHOW INTERFACE lists them)"))?;
    let (cur_addr, cur_len) = {
        let i = d.stack.interface(id).ok_or("no such interface")?;
        (i.addr(), i.network().map(|n| n.prefix_len()))
    };
    // Validate what can be validated before anything changes.
    let new_len = match ch.mask {
        Some(m) => Some(Ipv4Prefix::mask_len(m).map_err(|e| format!("/MASK={m}: {e}"))?),
        None => None,
    };
    if let Some(m) = ch.mtu {
        if !(u32::from(stack::MIN_MTU)..=u32::from(stack::MAX_MTU)).contains(&m) {
            return Err(format!(
                "/MTU={m}: out of range {}..={}",
                stack::MIN_MTU,
                stack::MAX_MTU
            ));
        }
    }
    let new_address = if ch.address.is_some() || new_len.is_some() {
        let addr = ch
            .address
            .or(cur_addr)
            .ok_or("/MASK needs an address (give /ADDRESS too)")?;
        let len = new_len.or(cur_len).unwrap_or(match addr.octets()[0] {
            0..=127 => 8,
            128..=191 => 16,
            _ => 24,
        });
        control::config::network::check_interface_address(addr, len)?;
        Some((addr, len))
    } else {
        None
    };
    let mut done = Vec::new();
    let mut warnings = Vec::new();
    if let Some((addr, len)) = new_address {
        let w = d
            .with_ctx(|st, out, now| st.set_address(out, id, addr, len, now))
            .map_err(|e| e.to_string())?;
        warnings.extend(w.into_iter().map(|w| w.to_string()));
        done.push(format!("address {addr}/{len}"));
    }
    if let Some(b) = ch.broadcast {
        d.stack.set_broadcast(id, b).map_err(|e| e.to_string())?;
        done.push(match b {
            Some(b) => format!("broadcast {b}"),
            None => "standard broadcast".to_string(),
        });
    }
    if let Some(m) = ch.mtu {
        d.stack.set_mtu(id, m).map_err(|e| e.to_string())?;
        d.set_link_mtu(id, m)?;
        done.push(format!("MTU {m}"));
    }
    if let Some(up) = ch.up {
        d.with_ctx(|st, out, now| st.set_up(out, id, up, now))
            .map_err(|e| e.to_string())?;
        done.push(if up { "up" } else { "down" }.to_string());
    }
    let mut msg = format!("{}: {}", name.to_ascii_lowercase(), done.join(", "));
    for w in warnings {
        msg.push_str(&format!("\nwarning: {w}"));
    }
    Ok(msg)
}

fn arp_info(d: &Driver) -> Vec<ArpInfo> {
    let mut v: Vec<ArpInfo> = d
        .stack
        .arp_table()
        .into_iter()
        .map(|e| ArpInfo {
            address: e.addr,
            mac: e.mac.map(|m| m.to_string()),
            interface: d.iface_name(e.iface),
            permanent: e.flags.permanent,
            publish: e.flags.publish,
            proxy: e.flags.proxy,
            incomplete: e.state == ArpState::Incomplete,
            expires_seconds: seconds_until(d, e.expires),
            queued: e.queued,
        })
        .collect();
    v.sort_by_key(|e| e.address);
    v
}

fn set_arp(d: &mut Driver, change: ArpChange) -> Result<String, String> {
    match change {
        ArpChange::Add {
            address,
            mac,
            permanent,
            publish,
            proxy,
        } => {
            let mac = match mac {
                Some(m) => Some(
                    m.parse::<EthernetAddress>()
                        .map_err(|_| format!("`{m}` is not a hardware address"))?,
                ),
                None => None,
            };
            let now = d.now();
            d.stack
                .arp_add(
                    address,
                    mac,
                    ArpFlags {
                        permanent,
                        publish,
                        proxy,
                    },
                    now,
                )
                .map_err(|e| e.to_string())?;
            Ok(format!("ARP entry for {address} added"))
        }
        ArpChange::Delete { address } => {
            d.stack.arp_delete(address).map_err(|e| e.to_string())?;
            Ok(format!("ARP entry for {address} deleted"))
        }
        ArpChange::Flush { permanent } => {
            d.stack.arp_flush(permanent);
            Ok(if permanent {
                "every ARP entry flushed".into()
            } else {
                "temporary ARP entries flushed".into()
            })
        }
    }
}

fn route_info(d: &Driver) -> Vec<RouteInfo> {
    d.stack
        .routes()
        .into_iter()
        .map(|r| RouteInfo {
            destination: r.dest.network(),
            prefix_len: r.dest.prefix_len(),
            gateway: r.gateway,
            interface: d.iface_name(r.iface),
            mtu: r.mtu,
            kind: match r.kind {
                RouteKind::Connected => "connected",
                RouteKind::Host => "host",
                RouteKind::Network => "network",
                RouteKind::Default => "default",
                RouteKind::PathMtu => "pmtu",
            }
            .into(),
            active: r.active,
            dead: r.dead,
            expires_seconds: seconds_until(d, r.expires),
        })
        .collect()
}

fn kernel_info(d: &Driver) -> KernelInfo {
    let c = d.stack.config();
    let s = d.stack.stats();
    let counters = [
        ("ipInReceives", s.ip_in_receives),
        ("ipInHdrErrors", s.ip_in_hdr_errors),
        ("ipInAddrErrors", s.ip_in_addr_errors),
        ("ipForwDatagrams", s.ip_forw_datagrams),
        ("ipInUnknownProtos", s.ip_in_unknown_protos),
        ("ipInDiscards", s.ip_in_discards),
        ("ipInDelivers", s.ip_in_delivers),
        ("ipOutRequests", s.ip_out_requests),
        ("ipOutDiscards", s.ip_out_discards),
        ("ipOutNoRoutes", s.ip_out_no_routes),
        ("ipReasmReqds", s.ip_reasm_reqds),
        ("ipReasmOKs", s.ip_reasm_oks),
        ("ipReasmFails", s.ip_reasm_fails),
        ("ipFragOKs", s.ip_frag_oks),
        ("ipFragFails", s.ip_frag_fails),
        ("ipFragCreates", s.ip_frag_creates),
        ("icmpInMsgs", s.icmp_in_msgs),
        ("icmpInErrors", s.icmp_in_errors),
        ("icmpOutMsgs", s.icmp_out_msgs),
        ("icmpRateLimited", s.icmp_rate_limited),
        ("icmpRedirectsIgnored", s.icmp_redirects_ignored),
        ("igmpIn", s.igmp_in),
        ("igmpOut", s.igmp_out),
        ("arpRequestsOut", s.arp_requests_out),
        ("arpRepliesOut", s.arp_replies_out),
        ("arpQueueDrops", s.arp_queue_drops),
        ("udpInDatagrams", s.udp.in_datagrams),
        ("udpNoPorts", s.udp.no_ports),
        ("udpInErrors", s.udp.in_errors),
        ("udpOutDatagrams", s.udp.out_datagrams),
    ]
    .into_iter()
    .chain(super::stack_tcp::counters(&d.stack.tcp_stats()))
    .map(|(n, v)| (n.to_string(), v))
    .collect();
    KernelInfo {
        gateway: c.gateway_mode,
        tcp_pmtu: c.pmtu_discovery,
        accept_redirects: c.accept_redirects,
        counters,
        tcp: super::stack_tcp::tunables(d.stack.tcp_config()),
    }
}

fn set_kernel(d: &mut Driver, parameter: &str, value: &KernelValue) -> Result<String, String> {
    if let Some(r) = super::stack_tcp::set(d, parameter, value) {
        return r;
    }
    let Some(value) = value.as_flag() else {
        return Err(format!(
            "{}: `{value}`: expected 0 or 1",
            parameter.to_ascii_uppercase()
        ));
    };
    match parameter {
        "gateway" => d.stack.set_gateway_mode(value),
        "tcp_pmtu" => d.stack.set_pmtu_discovery(value),
        "accept_redirects" => d.stack.set_accept_redirects(value),
        other => {
            return Err(format!(
                "unknown kernel parameter `{other}`: expected one of {}",
                control::kernel::kernel_parameter_names(|_| true)
            ))
        }
    }
    Ok(format!(
        "{} {}",
        parameter.to_ascii_uppercase(),
        u8::from(value)
    ))
}

async fn ping(h: &NetstackHandle, address: Ipv4Addr, count: u16, size: u16) -> Response {
    let count = count.clamp(1, 20);
    let size = usize::from(size.min(65_000));
    let ident = match h.call(|d| d.take_ident()).await {
        Ok(i) => i,
        Err(e) => return err(e),
    };
    let mut text = format!("PING {address}: {size} data bytes\n");
    let mut received = 0u32;
    let mut rtts = Vec::new();
    for seq in 0..count {
        let data: Vec<u8> = (0..size).map(|i| (i % 256) as u8).collect();
        let sent = h
            .call(move |d| {
                let r = d.with_ctx(|st, out, now| {
                    st.send_echo_request(out, address, ident, seq, &data, now)
                        .map(|()| now)
                });
                r.map_err(|e| e.to_string())
            })
            .await;
        let sent_at = match sent {
            Ok(Ok(t)) => t,
            Ok(Err(e)) => {
                let _ = writeln!(text, "seq {seq}: {e}");
                continue;
            }
            Err(e) => return err(e),
        };
        // Wait up to a second for this request's answer (later answers are counted too).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
        let mut answered = false;
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let seen = match h.call(move |d| d.take_echoes(ident)).await {
                Ok(s) => s,
                Err(e) => return err(e),
            };
            for e in seen {
                received += 1;
                let rtt = e.at.saturating_duration_since(sent_at);
                rtts.push(rtt);
                let _ = writeln!(
                    text,
                    "{} bytes from {}: icmp_seq={} time={:.3} ms",
                    e.len,
                    e.from,
                    e.seq_no,
                    rtt.as_secs_f64() * 1000.0
                );
                if e.seq_no == seq {
                    answered = true;
                }
            }
            if answered {
                break;
            }
        }
        if answered && seq + 1 < count {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let _ = writeln!(
        text,
        "--- {address} ping statistics ---\n{count} packets transmitted, {received} packets received, {}% packet loss",
        (u32::from(count).saturating_sub(received)) * 100 / u32::from(count)
    );
    if received == 0 {
        return Response::Error {
            message: text.trim_end().to_string(),
        };
    }
    Response::Text { text }
}

impl Daemon {
    /// Starts Maynard's stack for `network.toml` (called once, after the configuration loads).
    pub fn set_netstack(&mut self, handle: NetstackHandle) {
        self.netstack = Some(handle);
    }

    /// Stops the stack's thread (at shutdown).
    pub fn stop_netstack(&mut self) {
        if let Some(mut h) = self.netstack.take() {
            h.stop();
        }
    }

    /// Opens a live capture session on the stack interface `name` (any case), for DUMP
    /// (control_server.rs streams its frames without holding the daemon).
    pub async fn open_capture(
        &self,
        name: &str,
    ) -> Result<crate::netstack::CaptureSession, String> {
        let Some(h) = self.netstack.as_ref() else {
            return Err(
                "Maynard's stack is not running: the configuration has no network.toml (see docs/stack.md)"
                    .into(),
            );
        };
        let wanted = name.to_string();
        let found = h
            .call(move |d| {
                let names: Vec<String> =
                    d.stack.interfaces().map(|i| i.name().to_string()).collect();
                d.stack
                    .interfaces()
                    .find(|i| i.name().to_string().eq_ignore_ascii_case(&wanted))
                    .map(|i| i.id())
                    .ok_or(names)
            })
            .await?;
        match found {
            Ok(id) => Ok(h.captures.open(id)),
            Err(names) => Err(format!(
                "no interface {name} on Maynard's stack (it has {})",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )),
        }
    }

    /// Handles one request about Maynard's own stack.
    pub async fn netstack_request(&mut self, request: Request) -> Response {
        let Some(h) = self.netstack.as_ref() else {
            return err(
                "Maynard's stack is not running: the configuration has no network.toml (see docs/stack.md)",
            );
        };
        let answer = match request {
            Request::ShowStackInterfaces { name, statistics } => {
                h.call(move |d| {
                    let list: Vec<StackInterfaceInfo> = d
                        .stack
                        .interfaces()
                        .filter(|i| {
                            name.as_deref()
                                .is_none_or(|n| i.name().to_string().eq_ignore_ascii_case(n))
                        })
                        .map(|i| interface_info(d, i))
                        .collect();
                    match (&name, list.is_empty()) {
                        (Some(n), true) => err(format!(
                            "no stack interface `{n}` (SHOW INTERFACE lists them)"
                        )),
                        _ => Response::StackInterfaces {
                            interfaces: list,
                            statistics,
                        },
                    }
                })
                .await
            }
            Request::SetStackInterface { name, changes } => {
                if changes.is_empty() {
                    return err(format!("SET INTERFACE {name}: nothing to change"));
                }
                h.call(move |d| match set_interface(d, &name, changes) {
                    Ok(m) => ok(m),
                    Err(e) => err(e),
                })
                .await
            }
            Request::ShowArp => {
                h.call(|d| Response::Arp {
                    entries: arp_info(d),
                })
                .await
            }
            Request::SetArp(change) => {
                h.call(move |d| match set_arp(d, change) {
                    Ok(m) => ok(m),
                    Err(e) => err(e),
                })
                .await
            }
            Request::ShowRoutes => {
                h.call(|d| Response::Routes {
                    routes: route_info(d),
                })
                .await
            }
            Request::SetRoute {
                add,
                destination,
                prefix_len,
                gateway,
            } => {
                h.call(move |d| {
                    let dest = match Ipv4Prefix::new(destination, prefix_len) {
                        Ok(p) => p,
                        Err(e) => return err(format!("{destination}/{prefix_len}: {e}")),
                    };
                    let r = if add {
                        match gateway {
                            Some(g) => d.stack.route_add(dest, g, None),
                            None => return err("SET ROUTE /ADD needs a gateway"),
                        }
                    } else {
                        d.stack.route_delete(dest, gateway)
                    };
                    match r {
                        Ok(()) => ok(format!(
                            "route {dest}{} {}",
                            gateway.map_or_else(String::new, |g| format!(" via {g}")),
                            if add { "added" } else { "deleted" }
                        )),
                        Err(e) => err(e.to_string()),
                    }
                })
                .await
            }
            Request::ShowKernel => h.call(|d| Response::Kernel(kernel_info(d))).await,
            Request::ShowStackSockets => {
                h.call(|d| Response::StackSockets {
                    sockets: super::stack_tcp::sockets(d),
                })
                .await
            }
            Request::SetKernel { parameter, value } => {
                h.call(move |d| match set_kernel(d, &parameter, &value) {
                    Ok(m) => ok(m),
                    Err(e) => err(e),
                })
                .await
            }
            Request::StackPing {
                address,
                count,
                size,
            } => Ok(ping(h, address, count, size).await),
            Request::Capture { .. } => Ok(err(
                "capture streams: the control session serves it (control_server.rs)",
            )),
            other => Ok(err(format!("not a stack request: {other:?}"))),
        };
        answer.unwrap_or_else(err)
    }
}
