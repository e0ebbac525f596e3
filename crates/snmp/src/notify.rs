//! Building notifications: SNMPv2-Trap and InformRequest (v2c), and the SNMPv1 Trap-PDU with
//! RFC 3584's translation of the standard traps. Sending them (and retrying informs) is the
//! host's job; the agent reports authentication failures as [`AgentEvent`]s.

use crate::oid::Oid;
use crate::pdu::{AnyPdu, Message, Pdu, PduType, TrapV1, Version};
use crate::value::{Value, VarBind};
use std::net::SocketAddr;

/// snmpTraps (1.3.6.1.6.3.1.1.5): coldStart .1, warmStart .2, linkDown .3, linkUp .4,
/// authenticationFailure .5.
pub const SNMP_TRAPS: [u32; 9] = [1, 3, 6, 1, 6, 3, 1, 1, 5];

/// The standard notifications of SNMPv2-MIB and IF-MIB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StandardTrap {
    ColdStart,
    WarmStart,
    LinkDown,
    LinkUp,
    AuthenticationFailure,
}

impl StandardTrap {
    pub fn generic(self) -> i32 {
        match self {
            StandardTrap::ColdStart => 0,
            StandardTrap::WarmStart => 1,
            StandardTrap::LinkDown => 2,
            StandardTrap::LinkUp => 3,
            StandardTrap::AuthenticationFailure => 4,
        }
    }

    /// snmpTrapOID value.
    pub fn oid(self) -> Oid {
        Oid::new(&SNMP_TRAPS).child(&[self.generic() as u32 + 1])
    }
}

/// Something the host should act on (send an authenticationFailure notification, log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentEvent {
    /// A request with an unknown community, a community used from a source it is not allowed
    /// from, or (v3) an unknown user or a wrong digest.
    AuthenticationFailure { peer: SocketAddr },
    /// A committed Set of hrSystemDate: set the clock to this time (seconds since the Unix
    /// epoch, UTC), after the response is sent.
    SetSystemDate { unix_seconds: i64 },
}

const SYS_UP_TIME_0: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 3, 0];
const SNMP_TRAP_OID_0: [u32; 11] = [1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0];

fn v2_varbinds(uptime: u32, trap: &Oid, extra: &[VarBind]) -> Vec<VarBind> {
    let mut v = vec![
        VarBind::new(Oid::new(&SYS_UP_TIME_0), Value::TimeTicks(uptime)),
        VarBind::new(Oid::new(&SNMP_TRAP_OID_0), Value::ObjectId(trap.clone())),
    ];
    v.extend_from_slice(extra);
    v
}

/// The SNMPv2-Trap PDU of a notification (sysUpTime.0, snmpTrapOID.0, then `extra`): what
/// a v2c trap carries, and what [`crate::Agent::v3_notification`] wraps in an SNMPv3 message.
pub fn v2_trap_pdu(request_id: i32, uptime: u32, trap: &Oid, extra: &[VarBind]) -> Pdu {
    Pdu::new(
        PduType::V2Trap,
        request_id,
        v2_varbinds(uptime, trap, extra),
    )
}

/// An SNMPv2-Trap (v2c) message.
pub fn v2c_trap(
    community: &[u8],
    request_id: i32,
    uptime: u32,
    trap: &Oid,
    extra: &[VarBind],
) -> Vec<u8> {
    Message {
        version: Version::V2c,
        community: community.to_vec(),
        pdu: AnyPdu::Pdu(v2_trap_pdu(request_id, uptime, trap, extra)),
    }
    .encode()
}

/// An InformRequest (v2c) message; the receiver answers with a Response of the same
/// request-id, and the host retries until it does.
pub fn v2c_inform(
    community: &[u8],
    request_id: i32,
    uptime: u32,
    trap: &Oid,
    extra: &[VarBind],
) -> Vec<u8> {
    Message {
        version: Version::V2c,
        community: community.to_vec(),
        pdu: AnyPdu::Pdu(Pdu::new(
            PduType::Inform,
            request_id,
            v2_varbinds(uptime, trap, extra),
        )),
    }
    .encode()
}

/// An SNMPv1 Trap-PDU for a v2 notification, translated per RFC 3584 section 3.2: the
/// standard traps become generic traps 0-4 with enterprise snmpTraps; any other
/// notification becomes enterpriseSpecific(6) with the specific code its last arc and the
/// enterprise the rest (dropping a zero second-to-last arc).
pub fn v1_trap(
    community: &[u8],
    agent_addr: [u8; 4],
    uptime: u32,
    trap: &Oid,
    extra: &[VarBind],
) -> Vec<u8> {
    let arcs = trap.arcs();
    let (enterprise, generic, specific) = match arcs.strip_prefix(&SNMP_TRAPS[..]) {
        Some([n @ 1..=5]) => (Oid::new(&SNMP_TRAPS), (*n as i32) - 1, 0),
        _ => {
            let (last, rest) = arcs.split_last().map_or((0, &[][..]), |(l, r)| (*l, r));
            let rest = match rest.split_last() {
                Some((0, r)) => r,
                _ => rest,
            };
            (Oid::new(rest), 6, i32::try_from(last).unwrap_or(i32::MAX))
        }
    };
    // Counter64 cannot travel in v1 (RFC 3584 3.2 (3)).
    let varbinds = extra
        .iter()
        .filter(|vb| !matches!(vb.value, Value::Counter64(_)))
        .cloned()
        .collect();
    Message {
        version: Version::V1,
        community: community.to_vec(),
        pdu: AnyPdu::TrapV1(TrapV1 {
            enterprise,
            agent_addr,
            generic_trap: generic,
            specific_trap: specific,
            time_stamp: uptime,
            varbinds,
        }),
    }
    .encode()
}

/// The varbinds of linkUp/linkDown (IF-MIB): ifIndex, ifAdminStatus, ifOperStatus.
pub fn link_varbinds(if_index: u32, admin: i32, oper: i32) -> Vec<VarBind> {
    let col =
        |c: u32, v: Value| VarBind::new(Oid::new(&[1, 3, 6, 1, 2, 1, 2, 2, 1, c, if_index]), v);
    vec![
        col(
            1,
            Value::Integer(i32::try_from(if_index).unwrap_or(i32::MAX)),
        ),
        col(7, Value::Integer(admin)),
        col(8, Value::Integer(oper)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2c_and_v1() {
        let b = v2c_trap(
            b"public",
            9,
            100,
            &StandardTrap::LinkDown.oid(),
            &link_varbinds(2, 1, 2),
        );
        let m = Message::decode(&b).unwrap();
        let AnyPdu::Pdu(p) = m.pdu else {
            panic!("not a v2 pdu")
        };
        assert_eq!(p.pdu_type, PduType::V2Trap);
        assert_eq!(p.varbinds.len(), 5);
        assert_eq!(
            p.varbinds[1].value,
            Value::ObjectId(Oid::new(&[1, 3, 6, 1, 6, 3, 1, 1, 5, 3]))
        );
        let b = v1_trap(
            b"public",
            [127, 0, 0, 1],
            100,
            &StandardTrap::AuthenticationFailure.oid(),
            &[],
        );
        let AnyPdu::TrapV1(t) = Message::decode(&b).unwrap().pdu else {
            panic!("not a v1 trap")
        };
        assert_eq!((t.generic_trap, t.specific_trap), (4, 0));
        assert_eq!(t.enterprise, Oid::new(&SNMP_TRAPS));
        let b = v1_trap(
            b"p",
            [0; 4],
            1,
            &Oid::new(&[1, 3, 6, 1, 4, 1, 99999, 0, 7]),
            &[],
        );
        let AnyPdu::TrapV1(t) = Message::decode(&b).unwrap().pdu else {
            panic!("not a v1 trap")
        };
        assert_eq!((t.generic_trap, t.specific_trap), (6, 7));
        assert_eq!(t.enterprise, Oid::new(&[1, 3, 6, 1, 4, 1, 99999]));
        let b = v2c_inform(b"public", 3, 5, &StandardTrap::ColdStart.oid(), &[]);
        let AnyPdu::Pdu(p) = Message::decode(&b).unwrap().pdu else {
            panic!("not a v2 pdu")
        };
        assert_eq!(p.pdu_type, PduType::Inform);
    }
}
