//! The tokio runtime against a scripted in-process master on a Unix socket: framing of PDUs
//! split across reads, notifications, a Close from the master, garbage on the stream, and
//! shutdown — each followed by the reconnection the subagent must make by itself.

#![cfg(feature = "tokio")]

use agentx::helpers::Scalars;
use agentx::pdu::*;
use agentx::subagent::Subagent;
use snmp::{oid, Oid, Value, VarBind};
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};

const LIMIT: Duration = Duration::from_secs(10);

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One master-side connection with its read buffer.
struct Conn {
    s: UnixStream,
    buf: Vec<u8>,
}

impl Conn {
    async fn accept(l: &UnixListener) -> Conn {
        let (s, _) = tokio::time::timeout(LIMIT, l.accept())
            .await
            .expect("no connection from the subagent")
            .expect("accept");
        Conn { s, buf: Vec::new() }
    }

    /// The next PDU, or None at EOF.
    async fn read(&mut self) -> Option<Pdu> {
        loop {
            if let Some(n) = frame_len(&self.buf).expect("subagent sent non-AgentX bytes") {
                if self.buf.len() >= n {
                    let frame: Vec<u8> = self.buf.drain(..n).collect();
                    return Some(Pdu::decode(&frame).expect("subagent sent a bad PDU"));
                }
            }
            let r = tokio::time::timeout(LIMIT, self.s.read_buf(&mut self.buf))
                .await
                .expect("subagent silent");
            if r.expect("read") == 0 {
                return None;
            }
        }
    }

    async fn write(&mut self, p: &Pdu) {
        self.s.write_all(&p.encode()).await.expect("write");
    }

    /// Writes a PDU one octet at a time (the subagent must reassemble it).
    async fn write_trickle(&mut self, p: &Pdu) {
        for b in p.encode() {
            self.s.write_all(&[b]).await.expect("write");
            self.s.flush().await.expect("flush");
            tokio::task::yield_now().await;
        }
    }

    /// Answers the Open and the Registers; returns the registered subtrees.
    async fn accept_session(&mut self, sid: u32) -> Vec<Oid> {
        let open = self.read().await.expect("Open");
        let PduBody::Open(o) = &open.body else {
            panic!("expected Open, got {open:?}")
        };
        assert_eq!(o.descr, b"runtime test");
        self.write(&ok(sid, &open)).await;
        let reg = self.read().await.expect("Register");
        let PduBody::Register(r) = &reg.body else {
            panic!("expected Register, got {reg:?}")
        };
        assert_eq!(reg.session_id, sid);
        let subtree = r.subtree.clone();
        self.write(&ok(sid, &reg)).await;
        vec![subtree]
    }
}

fn ok(sid: u32, to: &Pdu) -> Pdu {
    Pdu::new(
        sid,
        to.transaction_id,
        to.packet_id,
        PduBody::Response(Response::ok(Vec::new())),
    )
}

fn base() -> Oid {
    oid!(1, 3, 6, 1, 4, 1, 99999, 7)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_master() {
    let dir =
        TempDir(std::env::temp_dir().join(format!("maynard-agentx-rt-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).expect("temp dir");
    let path = dir.0.join("master");
    let listener = UnixListener::bind(&path).expect("bind");

    let mut sub = Subagent::builder("runtime test")
        .socket(format!("unix:{}", path.display()))
        .register(base(), Scalars::new(base()).read(1, || Value::string("rt")))
        .ping_interval(None)
        .backoff(Duration::from_millis(20), Duration::from_millis(100))
        .build();
    let notifier = sub.notifier();
    let stop = sub.shutdown_handle();
    let mut status = sub.status();
    let runner = tokio::spawn(async move { sub.run().await });

    // Session 1: a Get trickled in one octet at a time.
    let mut c = Conn::accept(&listener).await;
    assert_eq!(c.accept_session(11).await, vec![base()]);
    let get = Pdu::new(
        11,
        5,
        6,
        PduBody::Get(Get {
            context: None,
            ranges: vec![SearchRange::from(base().child(&[1, 0]), false)],
        }),
    );
    c.write_trickle(&get).await;
    let resp = c.read().await.expect("Response");
    assert_eq!((resp.transaction_id, resp.packet_id), (5, 6));
    let PduBody::Response(r) = resp.body else {
        panic!("expected Response, got {resp:?}")
    };
    assert_eq!(
        r.varbinds,
        vec![VarBind::new(base().child(&[1, 0]), Value::string("rt"))]
    );
    // Two requests in one write: both answered, in order.
    let mut two = get.encode();
    let mut second = get.clone();
    second.packet_id = 7;
    two.extend_from_slice(&second.encode());
    c.s.write_all(&two).await.expect("write");
    assert_eq!(c.read().await.expect("first").packet_id, 6);
    assert_eq!(c.read().await.expect("second").packet_id, 7);

    // A notification.
    notifier
        .trap(base().child(&[0, 1]), vec![])
        .expect("notify");
    let n = c.read().await.expect("Notify");
    let PduBody::Notify(nv) = &n.body else {
        panic!("expected Notify, got {n:?}")
    };
    assert_eq!(nv.varbinds[0].value, Value::ObjectId(base().child(&[0, 1])));
    c.write(&ok(11, &n)).await;

    // The master closes: the subagent comes back by itself.
    c.write(&Pdu::new(11, 0, 0, PduBody::Close(CloseReason::Shutdown)))
        .await;
    assert!(c.read().await.is_none(), "the subagent should hang up");
    let mut c = Conn::accept(&listener).await;
    c.accept_session(12).await;
    tokio::time::timeout(LIMIT, status.wait_for(|s| s.sessions == 2))
        .await
        .expect("second session not reported")
        .expect("status");

    // Garbage on the stream: the subagent says parseError in a Close and reconnects.
    c.s.write_all(&[9u8; 20]).await.expect("write");
    let close = c.read().await.expect("Close");
    assert_eq!(close.body, PduBody::Close(CloseReason::ParseError));
    assert!(c.read().await.is_none());
    let mut c = Conn::accept(&listener).await;
    c.accept_session(13).await;

    // A PDU whose body does not parse (a Get with a 3-octet IpAddress is impossible, so
    // use a TestSet with an unknown varbind type): answered with parseError, session kept.
    let mut bad = Pdu::new(
        13,
        1,
        42,
        PduBody::TestSet(ContextVarBinds {
            context: None,
            varbinds: vec![VarBind::new(base().child(&[1, 0]), Value::Integer(1))],
        }),
    )
    .encode();
    bad[21] = 99; // the varbind's type
    c.s.write_all(&bad).await.expect("write");
    let r = c.read().await.expect("Response");
    assert_eq!(r.packet_id, 42);
    assert!(matches!(
        r.body,
        PduBody::Response(Response {
            error: ResponseError::ParseError,
            ..
        })
    ));

    // Shutdown: Close(shutdown) to the master, then run() returns Ok.
    stop.shutdown();
    let close = c.read().await.expect("Close");
    assert_eq!(close.body, PduBody::Close(CloseReason::Shutdown));
    let r = tokio::time::timeout(LIMIT, runner)
        .await
        .expect("run did not return")
        .expect("join");
    assert_eq!(r, Ok(()));
}

#[tokio::test]
async fn bad_socket_string_is_an_error() {
    let mut sub = Subagent::builder("x").socket("tcp:").build();
    assert!(sub.run().await.is_err());
    // A subtree registered twice locally is refused at run.
    let mut sub = Subagent::builder("x")
        .register(base(), Scalars::new(base()))
        .register(base(), Scalars::new(base()))
        .build();
    assert!(sub.run().await.is_err());
}
