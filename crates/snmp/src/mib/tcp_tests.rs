use super::*;
use crate::mib::ip::tests::fake;
use crate::mib::stack::{StackConn, StackTcpStats};
use crate::registry::index;
use std::net::Ipv4Addr;

fn view() -> StackView {
    StackView {
        conns: vec![
            StackConn {
                local: (Ipv4Addr::new(192, 168, 7, 2), 80),
                remote: (Ipv4Addr::UNSPECIFIED, 0),
                state: LISTEN,
            },
            StackConn {
                local: (Ipv4Addr::new(192, 168, 7, 2), 80),
                remote: (Ipv4Addr::new(192, 168, 7, 1), 40000),
                state: 5,
            },
        ],
        tcp: Some(StackTcpStats {
            in_segs: 1,
            curr_estab: 1,
            ..StackTcpStats::default()
        }),
        ..StackView::default()
    }
}

/// The same tables as cells with full OIDs: the reference the compact tables must match.
fn reference(d: &TcpData) -> SnapshotData {
    let mut r = d.scalars.clone();
    let conn = Oid::new(&CONN_ENTRY);
    let connection = Oid::new(&CONNECTION_ENTRY);
    let listener = Oid::new(&LISTENER_ENTRY);
    for c in &d.rows {
        if c.local.is_ipv4() && c.remote.is_ipv4() {
            for col in 1..=5 {
                r.cell(&conn, col, &conn_index(c), conn_value(c, col));
            }
        }
        if c.state == LISTEN {
            let mut i = index::inet(&c.local);
            i.push(u32::from(c.lport));
            r.cell(&listener, 4, &i, Value::Gauge32(c.pid));
        } else {
            let mut i = index::inet(&c.local);
            i.push(u32::from(c.lport));
            i.extend(index::inet(&c.remote));
            i.push(u32::from(c.rport));
            r.cell(&connection, 7, &i, Value::Integer(c.state));
            r.cell(&connection, 8, &i, Value::Gauge32(c.pid));
        }
    }
    r
}

#[test]
fn host_and_stack_rows() {
    let d = tcp_data(&fake(), &view());
    let g = |a: &[u32]| d.get(&Oid::new(&TCP).child(a));
    assert_eq!(g(&[4, 0]), Value::Integer(-1));
    // Host 3 + stack 1; host 999 + stack 1.
    assert_eq!(g(&[9, 0]), Value::Gauge32(4));
    assert_eq!(g(&[10, 0]), Value::Counter32(1000));
    assert_eq!(g(&[20, 1, 4, 1, 4, 127, 0, 0, 1, 22]), Value::Gauge32(77));
    assert_eq!(
        g(&[19, 1, 7, 1, 4, 127, 0, 0, 1, 22, 1, 4, 127, 0, 0, 1, 54321]),
        Value::Integer(5)
    );
    assert_eq!(
        g(&[13, 1, 1, 127, 0, 0, 1, 22, 0, 0, 0, 0, 0]),
        Value::Integer(2)
    );
    let mut l6 = vec![20, 1, 4, 2, 16];
    l6.extend([0; 15]);
    l6.extend([1, 80]);
    assert_eq!(g(&l6), Value::Gauge32(0));
    // The stack's: in this process.
    let me = Value::Gauge32(std::process::id());
    assert_eq!(g(&[20, 1, 4, 1, 4, 192, 168, 7, 2, 80]), me);
    assert_eq!(
        g(&[19, 1, 7, 1, 4, 192, 168, 7, 2, 80, 1, 4, 192, 168, 7, 1, 40000]),
        Value::Integer(5)
    );
    assert_eq!(
        g(&[13, 1, 4, 192, 168, 7, 2, 80, 192, 168, 7, 1, 40000]),
        Value::IpAddress([192, 168, 7, 1])
    );
    // Missing instances and objects.
    assert_eq!(g(&[13, 1, 1, 1, 2, 3, 4, 5]), Value::NoSuchInstance);
    assert_eq!(g(&[19, 1, 9, 1]), Value::NoSuchObject);
    assert_eq!(g(&[20, 1, 4, 1, 4, 192, 168, 7, 2]), Value::NoSuchInstance);
}

#[test]
fn walk_matches_full_oid_reference() {
    let d = tcp_data(&fake(), &view());
    let r = reference(&d);
    let mut at = Oid::new(&[1, 3, 6, 1, 2, 1, 5]);
    let mut n = 0;
    loop {
        let got = d.next(&at);
        assert_eq!(got, r.next(&at), "after {at}");
        let Some(vb) = got else { break };
        assert_eq!(d.get(&vb.oid), vb.value);
        at = vb.oid;
        n += 1;
    }
    assert_eq!(n, r.values.len());
    assert!(n > 20, "{n}");
    // From inside a column, between rows, and from a partial index.
    for a in [
        vec![1, 3, 6, 1, 2, 1, 6, 13, 1, 3, 127],
        vec![1, 3, 6, 1, 2, 1, 6, 13, 1, 6],
        vec![1, 3, 6, 1, 2, 1, 6, 19],
        vec![1, 3, 6, 1, 2, 1, 6, 19, 1, 7, 2],
        vec![1, 3, 6, 1, 2, 1, 6, 20, 1, 4, 1, 4, 200],
        vec![1, 3, 6, 1, 2, 1, 6, 13, 2],
    ] {
        let a = Oid::new(&a);
        assert_eq!(d.next(&a), r.next(&a), "after {a}");
    }
    assert_eq!(d.next(&Oid::new(&[1, 3, 6, 1, 2, 1, 7])), None);
}
