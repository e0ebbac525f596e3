//! A UDP service's multicast groups (`multicast` in `servers.toml`): one socket per group and
//! port on each side that joins it (Maynard's stack, the host), bound to the group's address so
//! it receives only that group's datagrams, served by the same loop as the service's other
//! sockets.
//!
//! A group without `%IFACE` is joined on the interface of each IPv4 `listen` address of the
//! service: on the stack's interface when the address is the stack's, on the host's otherwise
//! (0.0.0.0: the interface the kernel's routes choose). `GROUP%IFACE` joins on that interface
//! only: the stack's when it has one of that name, else the host's.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;

use control::config::{MulticastGroup, ResolvedService};
use servicedb::Protocol;

use crate::netstack::{NetstackHandle, StackJoin, StackUdpSocket};
use crate::runtime::Runtime;
use crate::service::{Listener, ServiceShared};
use crate::sockets::{self, HostJoin};

/// Where one group is joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupPlan {
    /// The group.
    pub group: Ipv4Addr,
    /// Joins on Maynard's stack (one socket of the stack for all of them).
    pub stack: Vec<StackJoin>,
    /// Joins on the host (one host socket for all of them).
    pub host: Vec<HostJoin>,
}

/// Decides where each group is joined. `stack_addr[i]` says whether the i-th IPv4 address of
/// `listen` is the stack's; `stack_iface[j]` whether the j-th `%IFACE` of `groups` names a
/// stack interface. A group given more than once (on several interfaces) gets one plan.
pub fn plan(
    groups: &[MulticastGroup],
    listen_v4: &[Ipv4Addr],
    stack_addr: &[bool],
    stack_iface: &[bool],
) -> Vec<GroupPlan> {
    let mut plans: Vec<GroupPlan> = Vec::new();
    let mut named = 0;
    for g in groups {
        let pos = match plans.iter().position(|p| p.group == g.group) {
            Some(i) => i,
            None => {
                plans.push(GroupPlan {
                    group: g.group,
                    stack: Vec::new(),
                    host: Vec::new(),
                });
                plans.len() - 1
            }
        };
        let p = &mut plans[pos];
        match &g.interface {
            Some(name) => {
                if stack_iface.get(named).copied().unwrap_or(false) {
                    push_new(&mut p.stack, StackJoin::Interface(name.clone()));
                } else {
                    push_new(&mut p.host, HostJoin::Interface(name.clone()));
                }
                named += 1;
            }
            None => {
                for (i, ip) in listen_v4.iter().enumerate() {
                    if stack_addr.get(i).copied().unwrap_or(false) {
                        push_new(&mut p.stack, StackJoin::Address(*ip));
                    } else {
                        push_new(&mut p.host, HostJoin::Address(*ip));
                    }
                }
            }
        }
    }
    plans
}

fn push_new<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

/// Opens the group sockets of every UDP endpoint of `s`, all or none (dropping what was opened
/// on an error closes it and leaves its groups).
pub fn open_group_listeners(
    rt: &Arc<Runtime>,
    shared: &Arc<ServiceShared>,
    s: &ResolvedService,
    low_port_offset: u16,
    netstack: Option<&NetstackHandle>,
) -> Result<Vec<Listener>, String> {
    if s.multicast.is_empty() {
        return Ok(Vec::new());
    }
    let listen_v4: Vec<Ipv4Addr> = s
        .listen
        .iter()
        .filter_map(|a| match a {
            IpAddr::V4(v4) => Some(*v4),
            IpAddr::V6(_) => None,
        })
        .collect();
    let names: Vec<String> = s
        .multicast
        .iter()
        .filter_map(|g| g.interface.clone())
        .collect();
    let (stack_addr, stack_iface) =
        crate::netstack::stack_claims(netstack, listen_v4.clone(), names);
    let plans = plan(&s.multicast, &listen_v4, &stack_addr, &stack_iface);
    let mut out = Vec::new();
    for endpoint in s.endpoints.iter().filter(|e| e.protocol == Protocol::Udp) {
        let port = s.effective_port(endpoint.port, low_port_offset);
        for p in &plans {
            let group = SocketAddrV4::new(p.group, port);
            let addr = SocketAddr::V4(group);
            let fail = |e: std::io::Error| format!("cannot listen on udp/{addr}: {e}");
            if !p.stack.is_empty() {
                let Some(stack) = netstack else {
                    return Err(fail(std::io::Error::other(
                        "Maynard's stack is not running",
                    )));
                };
                let socket = StackUdpSocket::bind_group(&stack.caller(), group, p.stack.clone())
                    .map_err(fail)?;
                let task = tokio::spawn(crate::netstack::serve_udp(
                    rt.clone(),
                    shared.clone(),
                    socket,
                ));
                out.push(Listener {
                    endpoint: *endpoint,
                    addr,
                    task: Some(task),
                });
            }
            if !p.host.is_empty() {
                let socket =
                    sockets::udp_group_socket(group, endpoint.tos, &p.host).map_err(fail)?;
                let task = tokio::spawn(crate::udp::serve(rt.clone(), shared.clone(), socket));
                out.push(Listener {
                    endpoint: *endpoint,
                    addr,
                    task: Some(task),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(list: &[&str]) -> Vec<MulticastGroup> {
        list.iter().map(|g| g.parse().unwrap()).collect()
    }

    #[test]
    fn a_group_joins_where_the_service_listens() {
        let stack_ip = Ipv4Addr::new(192, 0, 2, 2);
        let plans = plan(
            &groups(&["239.1.2.3"]),
            &[stack_ip, Ipv4Addr::LOCALHOST],
            &[true, false],
            &[],
        );
        assert_eq!(
            plans,
            [GroupPlan {
                group: Ipv4Addr::new(239, 1, 2, 3),
                stack: vec![StackJoin::Address(stack_ip)],
                host: vec![HostJoin::Address(Ipv4Addr::LOCALHOST)],
            }]
        );
    }

    #[test]
    fn a_named_interface_picks_its_side_and_repeats_merge() {
        let plans = plan(
            &groups(&[
                "239.1.2.3%se0",
                "239.1.2.3%eth1",
                "224.0.1.1%eth1",
                "239.1.2.3%se0",
            ]),
            &[Ipv4Addr::new(10, 0, 0, 1)],
            &[false],
            &[true, false, false, true],
        );
        assert_eq!(plans.len(), 2);
        assert_eq!(plans[0].stack, [StackJoin::Interface("se0".into())]);
        assert_eq!(plans[0].host, [HostJoin::Interface("eth1".into())]);
        assert_eq!(plans[1].group, Ipv4Addr::new(224, 0, 1, 1));
        assert!(plans[1].stack.is_empty());
        assert_eq!(plans[1].host, [HostJoin::Interface("eth1".into())]);
    }
}
