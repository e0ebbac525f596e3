//! MIB modules: the SNMPv2-MIB system and snmp groups, and modules sourced from the Linux host.

pub mod host_resources;
pub mod interfaces;
pub mod ip;
pub mod snmp_group;
pub mod stack;
pub mod system;
pub mod tcp;
pub mod vacm;

use crate::agent::Agent;
use crate::host::HostSource;
use std::sync::Arc;
use std::time::Duration;

/// Registers every Linux-sourced module (IF-MIB, HOST-RESOURCES-MIB) with the agent, reading
/// the host through `host`. Returns the subtrees that could not be registered (already taken).
pub fn register_linux(
    agent: &mut Agent,
    host: Arc<dyn HostSource>,
    now: Duration,
) -> Vec<crate::Oid> {
    register_linux_with_stack(agent, host, stack::StackViewCell::new(), now)
}

/// [`register_linux`], with the interfaces, addresses and TCP connections of Maynard's stack
/// that `stack` publishes shown beside the host's (IF-MIB, IP-MIB, TCP-MIB).
pub fn register_linux_with_stack(
    agent: &mut Agent,
    host: Arc<dyn HostSource>,
    stack: stack::StackViewCell,
    now: Duration,
) -> Vec<crate::Oid> {
    let mut failed = Vec::new();
    for (oid, h) in interfaces::handlers(host.clone(), stack.clone())
        .into_iter()
        .chain(ip::handlers(host.clone(), stack))
        .chain(host_resources::handlers(
            host,
            agent
                .config()
                .allow_set_system_date
                .then(|| agent.event_sink()),
        ))
    {
        if agent.registry_mut().register(oid.clone(), h).is_err() {
            failed.push(oid);
        }
    }
    agent.add_sysor(
        crate::Oid::new(&[1, 3, 6, 1, 2, 1, 31]),
        "The MIB module to describe generic objects for network interface sub-layers (IF-MIB)",
        now,
    );
    for (oid, descr) in [
        (
            48,
            "The MIB module for managing IP and ICMP implementations (IP-MIB)",
        ),
        (
            49,
            "The MIB module for managing TCP implementations (TCP-MIB)",
        ),
        (
            50,
            "The MIB module for managing UDP implementations (UDP-MIB)",
        ),
    ] {
        agent.add_sysor(crate::Oid::new(&[1, 3, 6, 1, 2, 1, oid]), descr, now);
    }
    agent.add_sysor(
        crate::Oid::new(&[1, 3, 6, 1, 2, 1, 25]),
        "The MIB module for managing host systems (HOST-RESOURCES-MIB)",
        now,
    );
    failed
}

/// A sysDescr in the style of net-snmp's on Linux: "Linux HOST RELEASE VERSION ARCH".
pub fn linux_sys_descr(host: &dyn HostSource) -> String {
    let r = |p: &str| {
        host.read(p)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    format!(
        "Linux {} {} {} {}",
        r("/proc/sys/kernel/hostname"),
        r("/proc/sys/kernel/osrelease"),
        r("/proc/sys/kernel/version"),
        std::env::consts::ARCH
    )
}

/// The host name, for the default sysName.
pub fn linux_host_name(host: &dyn HostSource) -> String {
    host.read("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}
