//! An AgentX subagent serving a small scalar group and a table through any AgentX master
//! (Maynard's netcp or net-snmp's snmpd with `master agentx`).
//!
//! ```text
//! cargo run -p agentx --example subagent -- --socket /var/agentx/master
//! snmpwalk -v2c -c public localhost 1.3.6.1.4.1.99999.2
//! snmpset -v2c -c private localhost 1.3.6.1.4.1.99999.2.1.3.0 i 42
//! ```
//!
//! Objects, under enterprises.99999 (Maynard's placeholder enterprise number; .1 is netcp's
//! sysObjectID, so the example lives at .2):
//!
//! | OID                      | object                          | access          |
//! |--------------------------|---------------------------------|-----------------|
//! | 99999.2.1.1.0            | exampleDescr  OCTET STRING      | read-only       |
//! | 99999.2.1.2.0            | exampleUptime TimeTicks         | read-only       |
//! | 99999.2.1.3.0            | exampleLevel  INTEGER (0..100)  | read-write      |
//! | 99999.2.1.4.0            | exampleContact OCTET STRING(64) | read-write      |
//! | 99999.2.2.1.C.ifIndex    | exampleIfTable: 1 index, 2 name (read-write), 3 octets (Counter64), 4 address (IpAddress) | |
//! | 99999.2.0.1              | exampleLevelChanged notification (exampleLevel) |  |
//! | 99999.2.3.1              | the example's AGENT-CAPABILITIES (in sysORTable) |  |

use agentx::helpers::{Scalars, Table, TableData};
use agentx::subagent::{Notifier, Subagent};
use snmp::registry::index;
use snmp::{oid, ErrorStatus, Oid, Value, VarBind};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The example's subtree.
pub fn example_oid() -> Oid {
    oid!(1, 3, 6, 1, 4, 1, 99999, 2)
}

/// exampleLevelChanged.
pub fn level_changed_oid() -> Oid {
    example_oid().child(&[0, 1])
}

/// The example's AGENT-CAPABILITIES identity (listed in the master's sysORTable).
pub fn example_caps_oid() -> Oid {
    example_oid().child(&[3, 1])
}

/// The subagent and the state its handlers share with the program.
pub struct Example {
    /// The subagent, ready to `run`.
    pub sub: Subagent,
    /// exampleLevel.
    pub level: Arc<Mutex<i32>>,
    /// exampleContact.
    pub contact: Arc<Mutex<Vec<u8>>>,
    /// exampleIfTable's rows.
    pub table: TableData,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Builds the example subagent for a master at `socket`.
pub fn example(socket: &str) -> Example {
    let start = Instant::now();
    let level = Arc::new(Mutex::new(1));
    let contact = Arc::new(Mutex::new(b"root@localhost".to_vec()));
    // The Set closure sends a notification; the notifier exists once the subagent is built.
    let notifier: Arc<OnceLock<Notifier>> = Arc::new(OnceLock::new());

    let (lg, ls, n) = (level.clone(), level.clone(), notifier.clone());
    let (cg, cs) = (contact.clone(), contact.clone());
    let scalars = Scalars::new(example_oid().child(&[1]))
        .read(1, || Value::string("Maynard AgentX example subagent"))
        .read(2, move || {
            let cs = start.elapsed().as_millis() / 10;
            Value::TimeTicks(u32::try_from(cs).unwrap_or(u32::MAX))
        })
        .write(
            3,
            move || Value::Integer(*lock(&lg)),
            move |v| {
                let Value::Integer(i) = v else {
                    return Err(ErrorStatus::WrongType);
                };
                *lock(&ls) = *i;
                if let Some(n) = n.get() {
                    let vb = VarBind::new(example_oid().child(&[1, 3, 0]), v.clone());
                    // A full queue only loses the notification, never the Set.
                    let _ = n.trap(level_changed_oid(), vec![vb]);
                }
                Ok(())
            },
        )
        .check(3, |v| match v {
            Value::Integer(0..=100) => Ok(()),
            _ => Err(ErrorStatus::WrongValue),
        })
        .write(
            4,
            move || Value::OctetString(lock(&cg).clone()),
            move |v| match v {
                Value::OctetString(s) => {
                    *lock(&cs) = s.clone();
                    Ok(())
                }
                _ => Err(ErrorStatus::WrongType),
            },
        )
        .check(4, |v| match v {
            Value::OctetString(s) if s.len() <= 64 => Ok(()),
            _ => Err(ErrorStatus::WrongLength),
        });

    let table = TableData::new();
    for (i, name, octets, addr) in [
        (1u32, "lo", 123_456u64, [127, 0, 0, 1]),
        (2, "se0", 9_876_543_210, [192, 0, 2, 1]),
    ] {
        table.set_row(
            index::join(&[index::int(i)]),
            [
                (1, Value::Integer(i as i32)),
                (2, Value::string(name)),
                (3, Value::Counter64(octets)),
                (4, Value::IpAddress(addr)),
            ],
        );
    }
    let if_table = Table::new(example_oid().child(&[2, 1]), table.clone()).writable(&[2]);

    let sub = Subagent::builder("Maynard AgentX example subagent")
        .socket(socket)
        .id(example_oid())
        .register(example_oid().child(&[1]), scalars)
        .register(example_oid().child(&[2]), if_table)
        .agent_caps(example_caps_oid(), "Maynard AgentX example: all objects")
        .on_event(|e| eprintln!("agentx: {e:?}"))
        .build();
    let _ = notifier.set(sub.notifier());
    Example {
        sub,
        level,
        contact,
        table,
    }
}

#[allow(dead_code)] // the integration test includes this file for `example` only
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut socket = agentx::subagent::DEFAULT_SOCKET.to_string();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--socket" => match args.next() {
                Some(s) => socket = s,
                None => {
                    eprintln!("--socket needs a value (a path, unix:PATH or tcp:HOST:PORT)");
                    std::process::exit(2);
                }
            },
            "-h" | "--help" => {
                println!("usage: subagent [--socket PATH|unix:PATH|tcp:HOST:PORT]");
                return;
            }
            other => {
                eprintln!("unknown argument {other:?} (try --help)");
                std::process::exit(2);
            }
        }
    }
    let mut ex = example(&socket);
    // The rows change over time like real counters do.
    let table = ex.table.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            let mut rows = table.lock();
            for row in rows.values_mut() {
                if let Some(Value::Counter64(c)) = row.get_mut(&3) {
                    *c = c.wrapping_add(1500);
                }
            }
        }
    });
    if let Err(e) = ex.sub.run().await {
        eprintln!("subagent: {e}");
        std::process::exit(1);
    }
}
