//! Property tests: encode→decode round trips, and decoding arbitrary bytes never panics.

use proptest::prelude::*;
use snmp::ber::Reader;
use snmp::pdu::{AnyPdu, Message, Pdu, PduType, TrapV1, Version};
use snmp::{Oid, Value, VarBind};

fn arb_oid() -> impl Strategy<Value = Oid> {
    (
        0u32..=2,
        0u32..40,
        proptest::collection::vec(any::<u32>(), 0..30),
    )
        .prop_map(|(a, b, rest)| {
            let mut v = vec![a, b];
            v.extend(rest);
            Oid::new(&v)
        })
}

fn arb_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i32>().prop_map(Value::Integer),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(Value::OctetString),
        Just(Value::Null),
        arb_oid().prop_map(Value::ObjectId),
        any::<[u8; 4]>().prop_map(Value::IpAddress),
        any::<u32>().prop_map(Value::Counter32),
        any::<u32>().prop_map(Value::Gauge32),
        any::<u32>().prop_map(Value::TimeTicks),
        proptest::collection::vec(any::<u8>(), 0..20).prop_map(Value::Opaque),
        any::<u64>().prop_map(Value::Counter64),
        Just(Value::NoSuchObject),
        Just(Value::NoSuchInstance),
        Just(Value::EndOfMibView),
    ]
}

fn arb_varbinds() -> impl Strategy<Value = Vec<VarBind>> {
    proptest::collection::vec(
        (arb_oid(), arb_value()).prop_map(|(o, v)| VarBind::new(o, v)),
        0..12,
    )
}

fn arb_pdu_type() -> impl Strategy<Value = PduType> {
    prop_oneof![
        Just(PduType::Get),
        Just(PduType::GetNext),
        Just(PduType::Response),
        Just(PduType::Set),
        Just(PduType::GetBulk),
        Just(PduType::Inform),
        Just(PduType::V2Trap),
        Just(PduType::Report),
    ]
}

fn arb_message() -> impl Strategy<Value = Message> {
    let pdu = (
        arb_pdu_type(),
        any::<i32>(),
        any::<i32>(),
        any::<i32>(),
        arb_varbinds(),
    )
        .prop_map(|(t, id, es, ei, vbs)| {
            AnyPdu::Pdu(Pdu {
                pdu_type: t,
                request_id: id,
                error_status: es,
                error_index: ei,
                varbinds: vbs,
            })
        });
    let trap = (
        arb_oid(),
        any::<[u8; 4]>(),
        any::<i32>(),
        any::<i32>(),
        any::<u32>(),
        arb_varbinds(),
    )
        .prop_map(|(e, a, g, s, t, vbs)| {
            AnyPdu::TrapV1(TrapV1 {
                enterprise: e,
                agent_addr: a,
                generic_trap: g,
                specific_trap: s,
                time_stamp: t,
                varbinds: vbs,
            })
        });
    (
        prop_oneof![Just(Version::V1), Just(Version::V2c)],
        proptest::collection::vec(any::<u8>(), 0..40),
        prop_oneof![4 => pdu, 1 => trap],
    )
        .prop_map(|(version, community, pdu)| Message {
            version,
            community,
            pdu,
        })
}

proptest! {
    #[test]
    fn oid_round_trip(o in arb_oid()) {
        let mut c = Vec::new();
        o.encode_contents(&mut c);
        prop_assert_eq!(Oid::decode_contents(&c).unwrap(), o.clone());
        let s = o.to_string();
        prop_assert_eq!(s.parse::<Oid>().unwrap(), o);
    }

    #[test]
    fn oid_order_is_arc_order(a in arb_oid(), b in arb_oid()) {
        prop_assert_eq!(a.cmp(&b), a.arcs().cmp(b.arcs()));
    }

    #[test]
    fn value_round_trip(v in arb_value()) {
        let mut out = Vec::new();
        v.encode(&mut out);
        let mut r = Reader::new(&out);
        prop_assert_eq!(Value::decode(&mut r).unwrap(), v);
        prop_assert!(r.is_empty());
    }

    #[test]
    fn message_round_trip(m in arb_message()) {
        let bytes = m.encode();
        prop_assert_eq!(Message::decode(&bytes).unwrap(), m);
    }

    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Message::decode(&bytes);
        let _ = Oid::decode_contents(&bytes);
        let mut r = Reader::new(&bytes);
        let _ = Value::decode(&mut r);
    }

    #[test]
    fn mutated_messages_never_panic(m in arb_message(), pos in any::<usize>(), byte in any::<u8>()) {
        let mut bytes = m.encode();
        if !bytes.is_empty() {
            let i = pos % bytes.len();
            bytes[i] = byte;
        }
        let _ = Message::decode(&bytes);
        let cut = pos % (bytes.len() + 1);
        let _ = Message::decode(&bytes[..cut]);
    }

    #[test]
    fn agent_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut agent = snmp::Agent::new(snmp::AgentConfig::default());
        let peer = "127.0.0.1:5000".parse().unwrap();
        let _ = agent.handle(&bytes, peer, std::time::Duration::ZERO);
    }
}

proptest! {
    #[test]
    fn v3_message_round_trip(
        msg_id in 0i32..i32::MAX,
        flags in 0u8..8,
        engine in proptest::collection::vec(any::<u8>(), 0..32),
        boots in 0i32..i32::MAX,
        time in 0i32..i32::MAX,
        user in proptest::collection::vec(any::<u8>(), 0..32),
        salt in proptest::collection::vec(any::<u8>(), 0..9),
        auth_len in prop_oneof![Just(0usize), Just(12), Just(24), Just(48)],
        vbs in arb_varbinds(),
        t in arb_pdu_type(),
        encrypted in any::<bool>(),
    ) {
        use snmp::v3::{encode_message, ScopedPdu, UsmParams, V3Message};
        let usm = UsmParams { engine_id: engine.clone(), boots, time, user, auth: Vec::new(), privacy: salt };
        let scoped = ScopedPdu {
            context_engine_id: engine,
            context_name: b"ctx".to_vec(),
            pdu: Pdu { pdu_type: t, request_id: 3, error_status: 0, error_index: 0, varbinds: vbs },
        };
        let data = scoped.encode();
        let (bytes, off) = encode_message(msg_id, 1500, flags, &usm, auth_len, &data, encrypted);
        let m = V3Message::decode(&bytes).unwrap();
        prop_assert_eq!(m.msg_id, msg_id);
        prop_assert_eq!(m.flags, flags);
        prop_assert_eq!(m.auth_range, Some((off, off + auth_len)));
        let mut got = m.usm.clone().unwrap();
        prop_assert_eq!(got.auth.clone(), vec![0u8; auth_len]);
        got.auth = Vec::new();
        prop_assert_eq!(got, usm);
        if encrypted {
            prop_assert_eq!(m.data, &data[..]);
        } else {
            prop_assert_eq!(m.scoped().unwrap().unwrap(), scoped);
        }
    }
}
