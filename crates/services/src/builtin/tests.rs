use super::*;
use crate::clock::fixed_clock;
use crate::testutil::{fake_info, tcp_pair};
use std::time::{Duration, UNIX_EPOCH};
use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt};

const T: u64 = 1_795_303_845; // 2026-11-21T23:30:45Z

fn ctx() -> BuiltinContext {
    let quotes = Quotes::from_text("first\n%\nsecond\n", "test").unwrap();
    BuiltinContext {
        quotes: Arc::new(quotes),
        finger: Arc::new(FingerConfig::default()),
        tftp: Arc::default(),
        ntp: Arc::default(),
        lpd: Arc::default(),
        clock: fixed_clock(UNIX_EPOCH + Duration::from_secs(T)),
    }
}

/// Serves `b` on one end of a loopback TCP connection, sends `input` (then half-closes if
/// `close`), and returns what came back.
async fn over_tcp(b: Builtin, input: &[u8], close: bool) -> Vec<u8> {
    let ctx = ctx();
    let (mut client, server, info) = tcp_pair().await;
    let task = tokio::spawn(async move { b.serve_stream(&ctx, server, &info).await });
    client.write_all(input).await.unwrap();
    if close {
        client.shutdown().await.unwrap();
    }
    let mut got = Vec::new();
    client.read_to_end(&mut got).await.unwrap();
    task.await.unwrap().unwrap();
    got
}

/// The same over an in-memory duplex (the shape Maynard's own stack will present).
async fn over_duplex(b: Builtin, input: &[u8], close: bool) -> Vec<u8> {
    let ctx = ctx();
    let (mut client, server) = duplex(1024);
    let task = tokio::spawn(async move { b.serve_stream(&ctx, server, &fake_info()).await });
    client.write_all(input).await.unwrap();
    if close {
        client.shutdown().await.unwrap();
    }
    let mut got = Vec::new();
    client.read_to_end(&mut got).await.unwrap();
    task.await.unwrap().unwrap();
    got
}

#[test]
fn names_ports_and_parsing() {
    let names: Vec<&str> = Builtin::ALL.iter().map(|b| b.name()).collect();
    assert_eq!(
        names,
        [
            "echo", "discard", "chargen", "qotd", "daytime", "time", "finger", "snmp", "tftp",
            "ntp", "lpd"
        ]
    );
    let ports: Vec<u16> = Builtin::ALL.iter().map(|b| b.default_port()).collect();
    assert_eq!(ports, [7, 9, 19, 17, 13, 37, 79, 161, 69, 123, 515]);
    assert!(!Builtin::Snmp.supports_tcp() && Builtin::Snmp.supports_udp());
    assert!(!Builtin::Tftp.supports_tcp() && Builtin::Tftp.supports_udp());
    assert!(
        !Builtin::is_reflection_port(161)
            && !Builtin::is_reflection_port(69)
            && !Builtin::is_reflection_port(123),
        "SNMP, TFTP and NTP clients are not a reflection risk"
    );
    for b in Builtin::ALL {
        assert_eq!(b.to_string().parse::<Builtin>(), Ok(b));
        assert_eq!(b.name().to_uppercase().parse::<Builtin>(), Ok(b));
        assert_eq!(
            b.supports_udp(),
            !matches!(b, Builtin::Finger | Builtin::Lpd)
        );
    }
    let err = "gopher".parse::<Builtin>().unwrap_err().to_string();
    assert!(err.contains("\"gopher\""), "{err}");
    assert!(
        err.contains("echo, discard, chargen, qotd, daytime, time, finger"),
        "{err}"
    );
}

#[test]
fn serde_names_are_lowercase() {
    use serde::de::value::{Error as DeError, StrDeserializer};
    use serde::de::IntoDeserializer;
    for b in Builtin::ALL {
        let de: StrDeserializer<'_, DeError> = b.name().into_deserializer();
        assert_eq!(Builtin::deserialize(de), Ok(b));
    }
    let de: StrDeserializer<'_, DeError> = "Echo".into_deserializer();
    assert!(Builtin::deserialize(de).is_err());
}

#[test]
fn finger_config_serde_defaults_and_unknown_fields() {
    use serde::de::value::{Error as DeError, MapDeserializer};
    let de: MapDeserializer<'_, _, DeError> =
        MapDeserializer::new(vec![("min_uid", 500u32)].into_iter());
    let cfg = FingerConfig::deserialize(de).unwrap();
    assert_eq!(cfg.min_uid, 500);
    assert_eq!(cfg.passwd_file, std::path::PathBuf::from("/etc/passwd"));
    assert!(!cfg.allow_forwarding && cfg.list_users && cfg.show_plan);
    let de: MapDeserializer<'_, _, DeError> =
        MapDeserializer::new(vec![("allow_forwardin", true)].into_iter());
    assert!(FingerConfig::deserialize(de).is_err());
}

#[test]
fn default_context() {
    let c = BuiltinContext::default();
    assert_eq!(c.quotes.len(), 12);
    assert_eq!(*c.finger, FingerConfig::default());
    let now = (c.clock)();
    assert!(now > UNIX_EPOCH + Duration::from_secs(T - 86_400 * 365 * 10));
    assert!(format!("{c:?}").contains("BuiltinContext"));
}

#[test]
fn serve_future_is_send() {
    fn is_send<F: Send>(_: F) {}
    let c = ctx();
    let (_client, server) = duplex(8);
    for b in Builtin::ALL {
        let (_c2, s2) = duplex(8);
        is_send(b.serve_stream(&c, s2, &fake_info()));
    }
    drop(server);
}

#[tokio::test]
async fn echo_both_transports() {
    assert_eq!(
        over_tcp(Builtin::Echo, b"ping\r\n", true).await,
        b"ping\r\n"
    );
    assert_eq!(
        over_duplex(Builtin::Echo, b"ping\r\n", true).await,
        b"ping\r\n"
    );
}

#[tokio::test]
async fn discard_both_transports() {
    assert!(over_tcp(Builtin::Discard, b"gone", true).await.is_empty());
    assert!(over_duplex(Builtin::Discard, b"gone", true)
        .await
        .is_empty());
}

#[tokio::test]
async fn qotd_rotates_both_transports() {
    let ctx = ctx();
    for (want, transport) in [("first\r\n", 0), ("second\r\n", 1), ("first\r\n", 0)] {
        let got = if transport == 0 {
            let (mut client, server, info) = tcp_pair().await;
            Builtin::Qotd
                .serve_stream(&ctx, server, &info)
                .await
                .unwrap();
            let mut got = String::new();
            client.read_to_string(&mut got).await.unwrap();
            got
        } else {
            let (mut client, server) = duplex(64);
            Builtin::Qotd
                .serve_stream(&ctx, server, &fake_info())
                .await
                .unwrap();
            let mut got = String::new();
            client.read_to_string(&mut got).await.unwrap();
            got
        };
        assert_eq!(got, want);
    }
}

#[tokio::test]
async fn daytime_and_time_both_transports() {
    let day = b"Saturday, November 21, 2026 23:30:45-UTC\r\n";
    assert_eq!(over_tcp(Builtin::Daytime, b"", false).await, day);
    assert_eq!(over_duplex(Builtin::Daytime, b"", false).await, day);
    let want = ((T + 2_208_988_800) as u32).to_be_bytes();
    assert_eq!(over_tcp(Builtin::Time, b"", false).await, want);
    assert_eq!(over_duplex(Builtin::Time, b"", false).await, want);
}

#[tokio::test]
async fn chargen_both_transports() {
    for tcp in [true, false] {
        let ctx = ctx();
        let mut got = vec![0u8; chargen::CYCLE_BYTES + 10];
        if tcp {
            let (mut client, server, info) = tcp_pair().await;
            let task =
                tokio::spawn(
                    async move { Builtin::Chargen.serve_stream(&ctx, server, &info).await },
                );
            client.read_exact(&mut got).await.unwrap();
            drop(client);
            task.await.unwrap().unwrap();
        } else {
            let (mut client, server) = duplex(512);
            let task = tokio::spawn(async move {
                Builtin::Chargen
                    .serve_stream(&ctx, server, &fake_info())
                    .await
            });
            client.read_exact(&mut got).await.unwrap();
            drop(client);
            task.await.unwrap().unwrap();
        }
        assert_eq!(&got[..], chargen::pattern_slice(0, got.len()));
    }
}

#[tokio::test]
async fn finger_forwarding_refused_both_transports() {
    let want = b"finger: forwarding service denied\r\n";
    assert_eq!(
        over_tcp(Builtin::Finger, b"alice@example.com\r\n", false).await,
        want
    );
    assert_eq!(
        over_duplex(Builtin::Finger, b"@example.com\r\n", false).await,
        want
    );
}

#[test]
fn datagram_answers() {
    let c = ctx();
    let info = fake_info();
    assert_eq!(
        Builtin::Echo.answer_datagram(&c, b"abc", &info),
        Some(b"abc".to_vec())
    );
    assert_eq!(Builtin::Discard.answer_datagram(&c, b"abc", &info), None);
    assert_eq!(Builtin::Finger.answer_datagram(&c, b"abc\r\n", &info), None);
    assert_eq!(
        Builtin::Daytime.answer_datagram(&c, b"", &info),
        Some(b"Saturday, November 21, 2026 23:30:45-UTC\r\n".to_vec())
    );
    assert_eq!(
        Builtin::Time.answer_datagram(&c, b"anything", &info),
        Some(((T + 2_208_988_800) as u32).to_be_bytes().to_vec())
    );
    assert_eq!(
        Builtin::Qotd.answer_datagram(&c, b"", &info),
        Some(b"first\r\n".to_vec())
    );
    assert_eq!(
        Builtin::Qotd.answer_datagram(&c, b"", &info),
        Some(b"second\r\n".to_vec())
    );
    let cg = Builtin::Chargen.answer_datagram(&c, b"", &info).unwrap();
    assert!(cg.len() <= 512);
}

#[test]
fn datagrams_from_service_ports_get_no_answer() {
    let c = ctx();
    for port in [0, 7, 9, 13, 17, 19, 37] {
        let mut info = fake_info();
        info.peer.set_port(port);
        for b in Builtin::ALL {
            assert_eq!(
                b.answer_datagram(&c, b"x", &info),
                None,
                "{b} from port {port}"
            );
        }
    }
    let mut info = fake_info();
    info.peer.set_port(79);
    assert!(Builtin::Echo.answer_datagram(&c, b"x", &info).is_some());
}

#[tokio::test]
async fn datagrams_over_real_udp() {
    use crate::net::DatagramSocket;
    use tokio::net::UdpSocket;
    let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let server_addr = DatagramSocket::local_addr(&server).unwrap();
    let c = ctx();
    for (b, req) in [
        (Builtin::Echo, &b"hello"[..]),
        (Builtin::Time, b""),
        (Builtin::Daytime, b"?"),
    ] {
        client.send_to(req, server_addr).await.unwrap();
        let mut buf = [0u8; 1024];
        let (n, peer) = DatagramSocket::recv_from(&server, &mut buf).await.unwrap();
        let info = PeerInfo {
            peer,
            local: server_addr,
        };
        let reply = b.answer_datagram(&c, &buf[..n], &info).unwrap();
        DatagramSocket::send_to(&server, &reply, peer)
            .await
            .unwrap();
        let (n, _) = client.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], &reply[..]);
        match b {
            Builtin::Echo => assert_eq!(&buf[..n], b"hello"),
            Builtin::Time => assert_eq!(n, 4),
            _ => assert!(buf[..n].ends_with(b"-UTC\r\n")),
        }
    }
}
