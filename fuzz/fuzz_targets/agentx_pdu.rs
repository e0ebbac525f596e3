#![no_main]
//! Fuzzes the AgentX PDU decoder, the stream framing helper and the subagent session fed
//! with whatever a (broken or hostile) master could send.

use agentx::pdu::{frame_len, Header, Pdu, PduBody, Response};
use agentx::session::{Config, Session};
use libfuzzer_sys::fuzz_target;
use snmp::{oid, Registry, Value};
use std::time::Duration;

/// A session that has opened and registered two subtrees (scalars and a table).
fn ready_session() -> Session {
    let base = oid!(1, 3, 6, 1, 4, 1, 99999, 2);
    let scalars = agentx::helpers::Scalars::new(base.child(&[1]))
        .read(1, || Value::string("x"))
        .write(2, || Value::Integer(1), |_| Ok(()));
    let data = agentx::helpers::TableData::new();
    data.set_row(oid!(1), [(2, Value::string("a")), (3, Value::Counter32(1))]);
    let table = agentx::helpers::Table::new(base.child(&[2, 1]), data).writable(&[2]);
    let mut reg = Registry::new();
    let _ = reg.register(base.child(&[1]), Box::new(scalars));
    let _ = reg.register(base.child(&[2]), Box::new(table));
    let mut s = Session::new(
        Config::default(),
        reg,
        vec![base.child(&[1]), base.child(&[2])],
    );
    let open = s.connect(Duration::ZERO);
    let mut pending = vec![open];
    while let Some(p) = pending.pop() {
        let r = Pdu::new(1, 0, p.packet_id, PduBody::Response(Response::ok(vec![])));
        pending.extend(s.handle(r, Duration::ZERO));
    }
    s
}

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = Pdu::decode(data) {
        // A decoded PDU re-encodes to bytes that decode to the same PDU.
        let again = Pdu::decode(&p.encode()).expect("re-decode");
        assert_eq!(again, p);
    }
    // Cutting a stream: every frame the helper announces starts with a header that decodes;
    // the frames go to a ready session, whose answers always encode and decode.
    let mut session = ready_session();
    let mut rest = data;
    let mut t = Duration::ZERO;
    while let Ok(Some(n)) = frame_len(rest) {
        assert!(Header::decode(rest).is_ok());
        if n > rest.len() {
            break;
        }
        t += Duration::from_millis(100);
        if let Ok(mut p) = Pdu::decode(&rest[..n]) {
            p.session_id = session.session_id();
            for out in session.handle(p, t) {
                assert_eq!(Pdu::decode(&out.encode()), Ok(out));
            }
        }
        let _ = session.tick(t);
        rest = &rest[n..];
    }
});
