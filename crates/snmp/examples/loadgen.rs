//! A small windowed SNMP load generator (v2c), for benchmarks against any agent.
//!
//! `loadgen --target ADDR:PORT [--mode get|bulk] [--window N] [--seconds S] [--community C]
//!  [--root OID] [--reps N]`
//!
//! `get` keeps N GetRequests for sysDescr.0 in flight; `bulk` runs N concurrent GetBulk walks of
//! the subtree under `--root` (default the whole MIB), each restarting at the end. Prints one
//! line: `get/s=...` or `varbinds/s=... walks=...`.

use snmp::pdu::{AnyPdu, Message, Pdu, PduType, Version};
use snmp::{Oid, Value, VarBind};
use std::net::UdpSocket;
use std::time::{Duration, Instant};

fn main() -> std::io::Result<()> {
    let mut target = "127.0.0.1:16161".to_string();
    let mut mode = "get".to_string();
    let mut window = 16usize;
    let mut seconds = 3u64;
    let mut community = "public".to_string();
    let mut root: Oid = Oid::new(&[1]);
    let mut reps = 25i32;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().unwrap_or_default();
        match a.as_str() {
            "--target" => target = v,
            "--mode" => mode = v,
            "--window" => window = v.parse().unwrap_or(16),
            "--seconds" => seconds = v.parse().unwrap_or(3),
            "--community" => community = v,
            "--root" => root = v.parse().unwrap_or(Oid::new(&[1])),
            "--reps" => reps = v.parse().unwrap_or(25),
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
    }
    let sock = UdpSocket::bind("127.0.0.1:0")?;
    sock.connect(&target)?;
    sock.set_read_timeout(Some(Duration::from_millis(200)))?;
    let bulk = mode == "bulk";
    let encode = |id: i32, cursor: &Oid| {
        let pdu = if bulk {
            Pdu {
                pdu_type: PduType::GetBulk,
                request_id: id,
                error_status: 0,
                error_index: reps,
                varbinds: vec![VarBind::null(cursor.clone())],
            }
        } else {
            Pdu::new(
                PduType::Get,
                id,
                vec![VarBind::null(Oid::new(&[1, 3, 6, 1, 2, 1, 1, 1, 0]))],
            )
        };
        Message {
            version: Version::V2c,
            community: community.as_bytes().to_vec(),
            pdu: AnyPdu::Pdu(pdu),
        }
        .encode()
    };
    // One slot per outstanding request: (request-id, cursor).
    let mut slots: Vec<(i32, Oid)> = (0..window).map(|i| (i as i32, root.clone())).collect();
    for (id, cur) in &slots {
        sock.send(&encode(*id, cur))?;
    }
    let mut next_id = window as i32;
    let (mut answers, mut varbinds, mut walks) = (0u64, 0u64, 0u64);
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    let mut buf = vec![0u8; 65536];
    while Instant::now() < end {
        let n = match sock.recv(&mut buf) {
            Ok(n) => n,
            Err(_) => {
                // Lost packets: resend every slot.
                for (id, cur) in &slots {
                    sock.send(&encode(*id, cur))?;
                }
                continue;
            }
        };
        let Ok(m) = Message::decode(buf.get(..n).unwrap_or_default()) else {
            continue;
        };
        let AnyPdu::Pdu(p) = m.pdu else { continue };
        let Some(slot) = slots.iter_mut().find(|(id, _)| *id == p.request_id) else {
            continue;
        };
        answers += 1;
        if bulk {
            let mut done = p.varbinds.is_empty();
            for vb in &p.varbinds {
                if vb.value == Value::EndOfMibView || !vb.oid.starts_with(&root) {
                    done = true;
                    break;
                }
                varbinds += 1;
                slot.1 = vb.oid.clone();
            }
            if done {
                walks += 1;
                slot.1 = root.clone();
            }
        }
        slot.0 = next_id;
        next_id = next_id.wrapping_add(1);
        sock.send(&encode(slot.0, &slot.1))?;
    }
    let secs = start.elapsed().as_secs_f64();
    if bulk {
        println!(
            "varbinds/s={:.0} walks={walks} requests/s={:.0}",
            varbinds as f64 / secs,
            answers as f64 / secs
        );
    } else {
        println!("get/s={:.0}", answers as f64 / secs);
    }
    Ok(())
}
