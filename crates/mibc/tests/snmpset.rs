//! The generated read-write handlers under net-snmp's `snmpset`: checked writes to scalars and
//! to existing rows, wrongValue / wrongLength / notWritable / noCreation answers, and a Set
//! whose second varbind fails leaving the first undone (RFC 3416's all-or-nothing).

mod common;

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use common::{tool, widgets};
use mibc_gentest::maynard_test_mib as mt;
use snmp::agent::{Access, Agent, AgentConfig, Community};
use snmp::{ErrorStatus, Oid};

struct State {
    scalars: Arc<Mutex<mt::MtObjectsScalars>>,
    rows: Arc<Mutex<Vec<mt::MtWidgetEntry>>>,
}

fn serve() -> (common::Served, State) {
    let mut config = AgentConfig::default();
    let loopback: IpAddr = [127, 0, 0, 1].into();
    config.communities.push(
        Community::new("private", Access::ReadWrite).from_source(snmp::IpPrefix::host(loopback)),
    );
    let mut agent = Agent::new(config);
    let scalars = Arc::new(Mutex::new(mt::MtObjectsScalars {
        mt_count: 3,
        mt_label: mt::MT_LABEL_DEFVAL.to_vec(),
        mt_level: mt::MT_LEVEL_DEFVAL,
        mt_flags: Vec::new(),
    }));
    let rows = Arc::new(Mutex::new(widgets()));
    let (get, set) = (scalars.clone(), scalars.clone());
    agent
        .registry_mut()
        .register(
            Oid::new(mt::MT_OBJECTS),
            Box::new(mt::mt_objects_scalars_handler_rw(
                move |_| {
                    get.lock()
                        .map(|s| s.clone())
                        .unwrap_or_else(|e| e.into_inner().clone())
                },
                move |_, w| {
                    let mut s = set.lock().map_err(|_| ErrorStatus::GenErr)?;
                    match w {
                        mt::MtObjectsWrite::MtLabel(v) => s.mt_label = v,
                        mt::MtObjectsWrite::MtLevel(v) => s.mt_level = v,
                        mt::MtObjectsWrite::MtFlags(v) => s.mt_flags = v,
                    }
                    Ok(())
                },
            )),
        )
        .expect("register scalars");
    let (get, set) = (rows.clone(), rows.clone());
    agent
        .registry_mut()
        .register(
            Oid::new(mt::MT_WIDGET_TABLE),
            Box::new(mt::mt_widget_table_handler_rw(
                move |_| get.lock().map(|r| r.clone()).unwrap_or_default(),
                move |_, index, w| {
                    let mut rows = set.lock().map_err(|_| ErrorStatus::GenErr)?;
                    widget_write(&mut rows, index, w)
                },
            )),
        )
        .expect("register widgets");
    (common::serve_agent(agent), State { scalars, rows })
}

/// The subagent's side of a write to the widget table: create, destroy or change a row.
fn widget_write(
    rows: &mut Vec<mt::MtWidgetEntry>,
    index: &mt::MtWidgetEntryIndex,
    w: mt::MtWidgetEntryWrite,
) -> Result<(), ErrorStatus> {
    use mt::MtWidgetEntryWrite as W;
    use mt::RowStatus as S;
    let at = rows.iter().position(|r| r.index == *index);
    match (at, w) {
        (None, W::MtWidgetStatus(s @ (S::CreateAndGo | S::CreateAndWait))) => {
            rows.push(mt::MtWidgetEntry {
                index: index.clone(),
                mt_widget_name: Vec::new(),
                mt_widget_colour: mt::MT_WIDGET_COLOUR_DEFVAL,
                mt_widget_load: 0,
                mt_widget_addr: [0; 4],
                mt_widget_hits: 0,
                mt_widget_status: if s == S::CreateAndGo {
                    S::Active
                } else {
                    S::NotInService
                },
            });
            rows.sort_by_key(|r| r.index.mt_widget_index);
        }
        (Some(i), W::MtWidgetStatus(S::Destroy)) => {
            rows.remove(i);
        }
        (Some(i), w) => {
            let row = rows.get_mut(i).ok_or(ErrorStatus::GenErr)?;
            match w {
                W::MtWidgetName(v) if v == b"refused" => return Err(ErrorStatus::CommitFailed),
                W::MtWidgetName(v) => row.mt_widget_name = v,
                W::MtWidgetColour(v) => row.mt_widget_colour = v,
                W::MtWidgetStatus(v) => row.mt_widget_status = v,
            }
        }
        (None, _) => return Err(ErrorStatus::CommitFailed),
    }
    Ok(())
}

fn set(addr: &str, args: &[&str]) -> (bool, String) {
    // -Ir: net-snmp must not check values against the MIB itself; the agent answers.
    let mut a = vec!["-v2c", "-c", "private", "-Ir", addr];
    a.extend_from_slice(args);
    tool("snmpset", &a)
}

#[test]
fn sets_scalars_and_columns_through_generated_handlers() {
    let (a, state) = serve();
    let (ok, out) = set(
        &a.addr,
        &["mtLabel.0", "s", "hello", "mtLevel.0", "i", "-7"],
    );
    assert!(ok, "{out}");
    {
        let s = state.scalars.lock().expect("lock");
        assert_eq!((s.mt_label.as_slice(), s.mt_level), (&b"hello"[..], -7));
    }
    let (ok, out) = tool(
        "snmpget",
        &[
            "-v2c",
            "-c",
            "public",
            "-Oqv",
            &a.addr,
            "mtLabel.0",
            "mtLevel.0",
        ],
    );
    assert!(ok, "{out}");
    assert_eq!(out.lines().collect::<Vec<_>>(), ["hello", "-7"], "{out}");

    let (ok, out) = set(
        &a.addr,
        &["mtWidgetColour.2", "i", "3", "mtWidgetName.2", "s", "cog"],
    );
    assert!(ok, "{out}");
    let (ok, out) = tool(
        "snmptable",
        &[
            "-v2c",
            "-c",
            "public",
            "-Cf",
            ",",
            "-Ci",
            &a.addr,
            "mtWidgetTable",
        ],
    );
    assert!(ok, "{out}");
    assert!(out.contains("\n2,cog,blue,55 percent,"), "{out}");
    let rows = state.rows.lock().expect("lock");
    assert_eq!(rows[1].mt_widget_colour, mt::MaynardColour::Blue);
}

#[test]
fn refused_sets_change_nothing() {
    let (a, state) = serve();
    // Out of range (mtLevel is never 0), too long (mtLabel is 0..32), enumeration.
    let (ok, out) = set(&a.addr, &["mtLevel.0", "i", "0"]);
    assert!(!ok && out.contains("wrongValue"), "{out}");
    let long = "x".repeat(33);
    let (ok, out) = set(&a.addr, &["mtLabel.0", "s", &long]);
    assert!(!ok && out.contains("wrongLength"), "{out}");
    let (ok, out) = set(&a.addr, &["mtWidgetColour.1", "i", "9"]);
    assert!(!ok && out.contains("wrongValue"), "{out}");
    // Wrong type.
    let (ok, out) = set(&a.addr, &["mtLevel.0", "s", "five"]);
    assert!(!ok && out.contains("wrongType"), "{out}");
    // Read-only objects and missing rows.
    let (ok, out) = set(&a.addr, &["mtCount.0", "i", "4"]);
    assert!(!ok && out.contains("notWritable"), "{out}");
    let (ok, out) = set(&a.addr, &["mtWidgetLoad.1", "u", "4"]);
    assert!(!ok && out.contains("notWritable"), "{out}");
    let (ok, out) = set(&a.addr, &["mtWidgetName.9", "s", "new"]);
    assert!(!ok && out.contains("noCreation"), "{out}");
    // The second varbind fails its test: the first is not applied.
    let (ok, out) = set(
        &a.addr,
        &["mtLabel.0", "s", "changed", "mtLevel.0", "i", "99"],
    );
    assert!(!ok && out.contains("wrongValue"), "{out}");
    let s = state.scalars.lock().expect("lock");
    assert_eq!(
        (s.mt_label.as_slice(), s.mt_level),
        (mt::MT_LABEL_DEFVAL, 5)
    );
    assert_eq!(*state.rows.lock().expect("lock"), widgets());
}

#[test]
fn rows_are_created_and_destroyed_through_row_status() {
    let (a, state) = serve();
    // createAndGo with a column in the same request.
    let (ok, out) = set(
        &a.addr,
        &["mtWidgetStatus.9", "i", "4", "mtWidgetName.9", "s", "nut"],
    );
    assert!(ok, "{out}");
    let (ok, out) = tool(
        "snmptable",
        &[
            "-v2c",
            "-c",
            "public",
            "-Cf",
            ",",
            "-Ci",
            &a.addr,
            "mtWidgetTable",
        ],
    );
    assert!(ok, "{out}");
    assert!(
        out.contains("\n9,nut,green,0 percent,0.0.0.0,0,active"),
        "{out}"
    );
    // Creating an existing row is inconsistent; a column alone cannot create one.
    let (ok, out) = set(&a.addr, &["mtWidgetStatus.9", "i", "4"]);
    assert!(!ok && out.contains("inconsistentValue"), "{out}");
    let (ok, out) = set(
        &a.addr,
        &["mtWidgetName.10", "s", "x", "mtWidgetStatus.10", "i", "4"],
    );
    assert!(!ok && out.contains("noCreation"), "{out}");
    // A creation whose other column fails at commit is undone: no row 11.
    let (ok, out) = set(
        &a.addr,
        &[
            "mtWidgetStatus.11",
            "i",
            "5",
            "mtWidgetName.11",
            "s",
            "refused",
        ],
    );
    assert!(!ok && out.contains("commitFailed"), "{out}");
    assert!(!state
        .rows
        .lock()
        .expect("lock")
        .iter()
        .any(|r| r.index.mt_widget_index == 11));
    // destroy.
    let (ok, out) = set(&a.addr, &["mtWidgetStatus.9", "i", "6"]);
    assert!(ok, "{out}");
    assert_eq!(*state.rows.lock().expect("lock"), widgets());
}

#[test]
fn a_failed_commit_is_undone() {
    // The setter refuses the second write at commit: the first one is written back.
    let scalars = Arc::new(Mutex::new(mt::MtObjectsScalars {
        mt_count: 0,
        mt_label: b"before".to_vec(),
        mt_level: 1,
        mt_flags: Vec::new(),
    }));
    let (get, put) = (scalars.clone(), scalars.clone());
    let mut h = mt::mt_objects_scalars_handler_rw(
        move |_| {
            get.lock()
                .map(|s| s.clone())
                .unwrap_or_else(|e| e.into_inner().clone())
        },
        move |_, w| {
            let mut s = put.lock().map_err(|_| ErrorStatus::GenErr)?;
            match w {
                mt::MtObjectsWrite::MtLabel(v) => s.mt_label = v,
                mt::MtObjectsWrite::MtLevel(2) => return Err(ErrorStatus::CommitFailed),
                mt::MtObjectsWrite::MtLevel(v) => s.mt_level = v,
                mt::MtObjectsWrite::MtFlags(v) => s.mt_flags = v,
            }
            Ok(())
        },
    );
    use snmp::Handler;
    let cx = snmp::registry::Ctx {
        now: std::time::Duration::ZERO,
    };
    let label = snmp::VarBind::new(
        Oid::new(mt::MT_LABEL).child(&[0]),
        snmp::Value::string("after"),
    );
    let level = snmp::VarBind::new(Oid::new(mt::MT_LEVEL).child(&[0]), snmp::Value::Integer(2));
    assert_eq!(h.test_set(&label, &cx), Ok(()));
    assert_eq!(h.test_set(&level, &cx), Ok(()));
    assert_eq!(h.commit_set(&label, &cx), Ok(()));
    assert_eq!(scalars.lock().expect("lock").mt_label, b"after");
    assert_eq!(h.commit_set(&level, &cx), Err(ErrorStatus::CommitFailed));
    assert_eq!(h.undo_set(&label, &cx), Ok(()));
    h.cleanup_set(&label, &cx);
    h.cleanup_set(&level, &cx);
    assert_eq!(scalars.lock().expect("lock").mt_label, b"before");
    // Decoding errors: another instance than .0.
    let bad = snmp::VarBind::new(Oid::new(mt::MT_LABEL).child(&[1]), snmp::Value::string("x"));
    assert_eq!(
        mt::MtObjectsWrite::from_varbind(&bad),
        Err(ErrorStatus::NoCreation)
    );
}
