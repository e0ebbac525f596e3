//! Codec tests: PDUs hand-encoded from RFC 2741's layouts, both byte orders, malformed input,
//! and a property-based round trip of every PDU type.

use agentx::pdu::*;
use agentx::DecodeError;
use proptest::prelude::*;
use snmp::{oid, Oid, Value, VarBind};

/// A header in network byte order.
fn header(ty: u8, flags: u8, sid: u32, tid: u32, pid: u32, len: u32) -> Vec<u8> {
    let mut v = vec![1, ty, flags | 0x10, 0];
    for x in [sid, tid, pid, len] {
        v.extend_from_slice(&x.to_be_bytes());
    }
    v
}

#[test]
fn open_known_bytes() {
    // Open: timeout 5, id 1.3.6.1.4.1.99999 (prefix 4, subids 1.99999), descr "ab".
    let mut want = header(1, 0, 0, 0, 1, 4 + 12 + 8);
    want.extend_from_slice(&[5, 0, 0, 0]);
    want.extend_from_slice(&[2, 4, 0, 0, 0, 0, 0, 1, 0, 1, 0x86, 0x9f]);
    want.extend_from_slice(&[0, 0, 0, 2, b'a', b'b', 0, 0]);
    let pdu = Pdu::new(
        0,
        0,
        1,
        PduBody::Open(Open {
            timeout: 5,
            id: oid!(1, 3, 6, 1, 4, 1, 99999),
            descr: b"ab".to_vec(),
        }),
    );
    assert_eq!(pdu.encode(), want);
    assert_eq!(Pdu::decode(&want), Ok(pdu));
}

#[test]
fn register_with_range_and_context() {
    // Register in context "c", timeout 0, priority 127, range_subid 11 upper bound 20:
    // subtree 1.3.6.1.2.1.2.2.1.1.1 .. .20 (ifIndex 1..20).
    let mut want = header(3, 0x08 | 0x01, 9, 0, 2, 8 + 4 + 4 + 6 * 4 + 4);
    want.extend_from_slice(&[0, 0, 0, 1, b'c', 0, 0, 0]);
    want.extend_from_slice(&[0, 127, 11, 0]);
    want.extend_from_slice(&[6, 2, 0, 0]);
    for a in [1u32, 2, 2, 1, 1, 1] {
        want.extend_from_slice(&a.to_be_bytes());
    }
    want.extend_from_slice(&20u32.to_be_bytes());
    let pdu = Pdu::new(
        9,
        0,
        2,
        PduBody::Register(Register {
            context: Some(b"c".to_vec()),
            timeout: 0,
            priority: 127,
            range_subid: 11,
            subtree: oid!(1, 3, 6, 1, 2, 1, 2, 2, 1, 1, 1),
            upper_bound: 20,
            instance: true,
        }),
    );
    assert_eq!(pdu.encode(), want);
    assert_eq!(Pdu::decode(&want), Ok(pdu));
}

#[test]
fn response_known_bytes() {
    // Response: sysUpTime 100, error 0, index 0, one varbind sysDescr.0 = "x",
    // one Counter64.
    let mut want = header(18, 0, 1, 2, 3, 8 + (4 + 20 + 8) + (4 + 8 + 8));
    want.extend_from_slice(&[0, 0, 0, 100, 0, 0, 0, 0]);
    want.extend_from_slice(&[0, 4, 0, 0]); // OctetString
    want.extend_from_slice(&[4, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0]);
    want.extend_from_slice(&[0, 0, 0, 1, b'x', 0, 0, 0]);
    want.extend_from_slice(&[0, 70, 0, 0]); // Counter64
    want.extend_from_slice(&[1, 4, 0, 0, 0, 0, 0, 7]); // 1.3.6.1.4.7
    want.extend_from_slice(&(1u64 << 40).to_be_bytes());
    let pdu = Pdu::new(
        1,
        2,
        3,
        PduBody::Response(Response {
            sys_uptime: 100,
            error: ResponseError::NoError,
            index: 0,
            varbinds: vec![
                VarBind::new(oid!(1, 3, 6, 1, 2, 1, 1, 1, 0), Value::string("x")),
                VarBind::new(oid!(1, 3, 6, 1, 4, 7), Value::Counter64(1 << 40)),
            ],
        }),
    );
    assert_eq!(pdu.encode(), want);
    assert_eq!(Pdu::decode(&want), Ok(pdu));
}

#[test]
fn getnext_little_endian() {
    // A GetNext as a little-endian subagent or master would send it (flags without
    // NETWORK_BYTE_ORDER): one range 1.3.6.1.2.1.1 (include) .. 1.3.6.1.2.1.2.
    let mut b = vec![1, 6, 0, 0];
    for x in [5u32, 6, 7, 8 + 4 + 8 + 4] {
        b.extend_from_slice(&x.to_le_bytes());
    }
    b.extend_from_slice(&[2, 2, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0]);
    b.extend_from_slice(&[2, 2, 0, 0, 1, 0, 0, 0]);
    b.extend_from_slice(&2u32.to_le_bytes());
    let pdu = Pdu::decode(&b).unwrap();
    let want = Pdu::new(
        5,
        6,
        7,
        PduBody::GetNext(Get {
            context: None,
            ranges: vec![SearchRange {
                start: oid!(1, 3, 6, 1, 2, 1, 1),
                end: oid!(1, 3, 6, 1, 2, 1, 2),
                include: true,
            }],
        }),
    );
    assert_eq!(pdu, want);
    assert_eq!(pdu.encode_in(ByteOrder::Little), b);
    assert_eq!(Header::decode(&b).unwrap().byte_order(), ByteOrder::Little);
}

#[test]
fn close_and_getbulk_bytes() {
    let pdu = Pdu::new(3, 0, 4, PduBody::Close(CloseReason::Shutdown));
    let mut want = header(2, 0, 3, 0, 4, 4);
    want.extend_from_slice(&[5, 0, 0, 0]);
    assert_eq!(pdu.encode(), want);

    let pdu = Pdu::new(
        1,
        1,
        1,
        PduBody::GetBulk(GetBulk {
            context: None,
            non_repeaters: 1,
            max_repetitions: 10,
            ranges: vec![SearchRange::from(oid!(1, 3, 6, 1, 2, 1, 1), false)],
        }),
    );
    let b = pdu.encode();
    assert_eq!(&b[20..24], &[0, 1, 0, 10]);
    assert_eq!(&b[24..28], &[2, 2, 0, 0]);
    assert_eq!(&b[36..40], &[0, 0, 0, 0]); // unbounded end: the null OID
    assert_eq!(b.len(), 40);
    assert_eq!(Pdu::decode(&b), Ok(pdu));
}

#[test]
fn framing_cuts_a_stream() {
    let a = Pdu::new(1, 0, 1, PduBody::Ping { context: None }).encode();
    let b = Pdu::new(1, 0, 2, PduBody::Close(CloseReason::Other)).encode();
    let mut stream = a.clone();
    stream.extend_from_slice(&b);
    assert_eq!(frame_len(&stream[..19]), Ok(None));
    assert_eq!(frame_len(&stream), Ok(Some(a.len())));
    assert_eq!(frame_len(&stream[a.len()..]), Ok(Some(b.len())));
    let mut bad = a.clone();
    bad[0] = 2;
    assert_eq!(frame_len(&bad), Err(DecodeError::BadVersion(2)));
}

#[test]
fn malformed_input_is_a_typed_error() {
    let ping = Pdu::new(1, 0, 1, PduBody::Ping { context: None }).encode();
    assert_eq!(
        Pdu::decode(&ping[..10]),
        Err(DecodeError::Truncated("header"))
    );
    let mut t = ping.clone();
    t[1] = 19;
    assert_eq!(Pdu::decode(&t), Err(DecodeError::UnknownType(19)));
    let mut t = ping.clone();
    t[19] = 3;
    assert_eq!(Pdu::decode(&t), Err(DecodeError::UnalignedPayload(3)));
    let mut t = ping.clone();
    t[19] = 4;
    assert_eq!(
        Pdu::decode(&t),
        Err(DecodeError::LengthMismatch { have: 20, want: 24 })
    );
    t.extend_from_slice(&[0; 4]);
    assert_eq!(Pdu::decode(&t), Err(DecodeError::TrailingBytes(4)));
    let mut t = ping.clone();
    t[16] = 0xff;
    assert!(matches!(
        Pdu::decode(&t),
        Err(DecodeError::PayloadTooLarge(_))
    ));
    // A context on a CommitSet.
    let mut t = header(9, 0x08, 1, 1, 1, 8);
    t.extend_from_slice(&[0, 0, 0, 1, b'c', 0, 0, 0]);
    assert_eq!(
        Pdu::decode(&t),
        Err(DecodeError::UnexpectedContext(PduType::CommitSet))
    );
    // net-snmp's Response to a request of context "ctxN": the flag and the context (which a
    // Response does not have) before the fields; decoded with the context skipped.
    let mut t = header(18, 0x08, 1, 1, 1, 8 + 8);
    t.extend_from_slice(&[0, 0, 0, 4, b'c', b't', b'x', b'N']);
    t.extend_from_slice(&[0, 0, 0, 42, 0, 0, 0, 0]);
    let p = Pdu::decode(&t).unwrap();
    assert!(matches!(p.body, PduBody::Response(r) if r.sys_uptime == 42 && r.error.is_ok()));
    // A varbind of unknown type 99, and an IpAddress of 3 octets.
    let mut t = header(12, 0, 1, 1, 1, 4 + 4 + 4);
    t.extend_from_slice(&[0, 99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(Pdu::decode(&t), Err(DecodeError::UnknownValueType(99)));
    let mut t = header(12, 0, 1, 1, 1, 4 + 4 + 8);
    t.extend_from_slice(&[0, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 0]);
    assert_eq!(Pdu::decode(&t), Err(DecodeError::BadIpAddress(3)));
    // An OID of 200 sub-identifiers.
    let mut t = header(12, 0, 1, 1, 1, 8);
    t.extend_from_slice(&[0, 5, 0, 0, 200, 0, 0, 0]);
    assert_eq!(Pdu::decode(&t), Err(DecodeError::OidTooLong(200)));
    // range_subid past the subtree.
    let mut t = header(3, 0, 1, 1, 1, 16);
    t.extend_from_slice(&[0, 127, 9, 0, 1, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 5]);
    assert!(matches!(
        Pdu::decode(&t),
        Err(DecodeError::BadRangeSubid { .. })
    ));
}

#[test]
fn error_messages_say_what() {
    let e = DecodeError::Truncated("register subtree");
    assert_eq!(
        e.to_string(),
        "truncated PDU: input ends inside the register subtree"
    );
    assert_eq!(ResponseError::ParseError.code(), 266);
    assert_eq!(ResponseError::ProcessingError.code(), 268);
    assert_eq!(ResponseError::DuplicateRegistration.code(), 263);
}

fn arb_oid() -> impl Strategy<Value = Oid> {
    prop_oneof![
        prop::collection::vec(any::<u32>(), 0..12).prop_map(|v| Oid::new(&v)),
        (0u32..300, prop::collection::vec(any::<u32>(), 0..10)).prop_map(|(p, v)| {
            let mut a = vec![1, 3, 6, 1, p];
            a.extend(v);
            Oid::new(&a)
        }),
        prop::collection::vec(any::<u32>(), 120..=128).prop_map(|v| Oid::new(&v)),
    ]
}

fn arb_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..20)
}

fn arb_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i32>().prop_map(Value::Integer),
        arb_bytes().prop_map(Value::OctetString),
        Just(Value::Null),
        arb_oid().prop_map(Value::ObjectId),
        any::<[u8; 4]>().prop_map(Value::IpAddress),
        any::<u32>().prop_map(Value::Counter32),
        any::<u32>().prop_map(Value::Gauge32),
        any::<u32>().prop_map(Value::TimeTicks),
        arb_bytes().prop_map(Value::Opaque),
        any::<u64>().prop_map(Value::Counter64),
        Just(Value::NoSuchObject),
        Just(Value::NoSuchInstance),
        Just(Value::EndOfMibView),
    ]
}

fn arb_varbinds() -> impl Strategy<Value = Vec<VarBind>> {
    prop::collection::vec(
        (arb_oid(), arb_value()).prop_map(|(o, v)| VarBind::new(o, v)),
        0..5,
    )
}

fn arb_ctx() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop::option::of(arb_bytes())
}

fn arb_ranges() -> impl Strategy<Value = Vec<SearchRange>> {
    prop::collection::vec(
        (arb_oid(), arb_oid(), any::<bool>()).prop_map(|(start, end, include)| SearchRange {
            start,
            end,
            include,
        }),
        0..4,
    )
}

fn arb_register(is_reg: bool) -> impl Strategy<Value = Register> {
    (
        arb_ctx(),
        any::<u8>(),
        any::<u8>(),
        arb_oid(),
        any::<u8>(),
        any::<u32>(),
        any::<bool>(),
    )
        .prop_map(move |(context, timeout, priority, subtree, rs, ub, inst)| {
            // range_subid must point inside the subtree.
            let range_subid = match subtree.len() {
                0 => 0,
                n => (usize::from(rs) % (n + 1)) as u8,
            };
            Register {
                context,
                timeout: if is_reg { timeout } else { 0 },
                priority,
                range_subid,
                subtree,
                upper_bound: if range_subid != 0 { ub } else { 0 },
                instance: is_reg && inst,
            }
        })
}

fn arb_body() -> impl Strategy<Value = PduBody> {
    let cvb = || {
        (arb_ctx(), arb_varbinds())
            .prop_map(|(context, varbinds)| ContextVarBinds { context, varbinds })
    };
    prop_oneof![
        (any::<u8>(), arb_oid(), arb_bytes())
            .prop_map(|(timeout, id, descr)| PduBody::Open(Open { timeout, id, descr })),
        any::<u8>().prop_map(|c| PduBody::Close(CloseReason::from_code(c))),
        arb_register(true).prop_map(PduBody::Register),
        arb_register(false).prop_map(PduBody::Unregister),
        (arb_ctx(), arb_ranges())
            .prop_map(|(context, ranges)| PduBody::Get(Get { context, ranges })),
        (arb_ctx(), arb_ranges())
            .prop_map(|(context, ranges)| PduBody::GetNext(Get { context, ranges })),
        (arb_ctx(), any::<u16>(), any::<u16>(), arb_ranges()).prop_map(
            |(context, n, m, ranges)| {
                PduBody::GetBulk(GetBulk {
                    context,
                    non_repeaters: n,
                    max_repetitions: m,
                    ranges,
                })
            }
        ),
        cvb().prop_map(PduBody::TestSet),
        Just(PduBody::CommitSet),
        Just(PduBody::UndoSet),
        Just(PduBody::CleanupSet),
        cvb().prop_map(PduBody::Notify),
        arb_ctx().prop_map(|context| PduBody::Ping { context }),
        (arb_ctx(), any::<bool>(), any::<bool>(), arb_varbinds()).prop_map(
            |(context, new_index, any_index, varbinds)| PduBody::IndexAllocate(IndexAllocate {
                context,
                new_index,
                any_index,
                varbinds
            })
        ),
        cvb().prop_map(PduBody::IndexDeallocate),
        (arb_ctx(), arb_oid(), arb_bytes()).prop_map(|(context, id, descr)| {
            PduBody::AddAgentCaps(AgentCaps { context, id, descr })
        }),
        (arb_ctx(), arb_oid()).prop_map(|(context, id)| PduBody::RemoveAgentCaps(AgentCaps {
            context,
            id,
            descr: Vec::new()
        })),
        (any::<u32>(), any::<u16>(), any::<u16>(), arb_varbinds()).prop_map(|(up, e, i, vbs)| {
            PduBody::Response(Response {
                sys_uptime: up,
                error: ResponseError::from_code(e),
                index: i,
                varbinds: vbs,
            })
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn round_trip_every_pdu(
        body in arb_body(),
        sid in any::<u32>(),
        tid in any::<u32>(),
        pid in any::<u32>(),
        little in any::<bool>(),
    ) {
        let pdu = Pdu::new(sid, tid, pid, body);
        let order = if little { ByteOrder::Little } else { ByteOrder::Network };
        let bytes = pdu.encode_in(order);
        prop_assert_eq!(bytes.len() % 4, 0);
        prop_assert_eq!(frame_len(&bytes), Ok(Some(bytes.len())));
        let h = Header::decode(&bytes).unwrap();
        prop_assert_eq!(h.pdu_type, pdu.pdu_type());
        prop_assert_eq!(h.byte_order(), order);
        prop_assert_eq!(Pdu::decode(&bytes), Ok(pdu));
    }

    #[test]
    fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(p) = Pdu::decode(&bytes) {
            // Whatever decodes re-encodes to something that decodes to the same PDU.
            prop_assert_eq!(Pdu::decode(&p.encode()), Ok(p));
        }
        let _ = frame_len(&bytes);
    }

    #[test]
    fn mutated_pdus_never_panic(
        body in arb_body(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut bytes = Pdu::new(1, 2, 3, body).encode();
        for (i, b) in flips {
            let at = i.index(bytes.len());
            bytes[at] = b;
        }
        if let Ok(p) = Pdu::decode(&bytes) {
            prop_assert_eq!(Pdu::decode(&p.encode()), Ok(p));
        }
    }
}
