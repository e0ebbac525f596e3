//! The SNMP agent's look at the stack, taken on the stack's thread each round: linkUp and
//! linkDown from the interfaces' states, and once a second the view the IF-MIB, IP-MIB,
//! TCP-MIB and UDP-MIB show (`snmp_agent/stack_view.rs`). Nothing here waits.

use stack::Stack;

use crate::snmp_agent::{stack_view, SnmpHost};

/// Feeds the agent from the stack.
pub(super) fn observe(stack: &Stack, snmp: &SnmpHost) {
    snmp.observe_links(stack.interfaces());
    if snmp.stack_view_due() {
        let conns = stack.tcp_connections();
        let udp: Vec<_> = stack
            .udp_sockets()
            .into_iter()
            .filter_map(|(_, local, remote)| Some((local?, remote)))
            .collect();
        snmp.publish_stack(stack_view::view(
            stack.interfaces(),
            &conns,
            &stack.tcp_stats(),
            &udp,
            &stack.stats().udp,
        ));
    }
}
