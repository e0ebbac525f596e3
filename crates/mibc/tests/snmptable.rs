//! The generated code serves tables that net-snmp's `snmptable` reads: MAYNARD-TEST-MIB is
//! compiled by `gentest`'s build script, its row structs and table handlers are registered in
//! the `snmp` crate's agent core, served on a UDP port of 127.0.0.1, and `snmptable` (Debian's
//! `snmp` package, which reads the same MIB file) prints the rows. Without the tools these
//! tests fail loudly.

mod common;

use std::time::Duration;

use common::{tool, widgets, Served};
use mibc_gentest::maynard_test_mib as mt;
use snmp::agent::{Agent, AgentConfig};
use snmp::{Oid, Value};

fn serve() -> Served {
    let mut agent = Agent::new(AgentConfig::default());
    let reg = agent.registry_mut();
    let ttl = Duration::from_secs(1);
    reg.register(
        Oid::new(mt::MT_WIDGET_TABLE),
        Box::new(mt::mt_widget_table_handler(ttl, |_| widgets())),
    )
    .expect("register widgets");
    reg.register(
        Oid::new(mt::MT_WIDGET_EXT_TABLE),
        Box::new(mt::mt_widget_ext_table_handler(ttl, |_| {
            widgets()
                .into_iter()
                .map(|w| mt::MtWidgetExtEntry {
                    mt_widget_weight: 100 * w.index.mt_widget_index as u32,
                    mt_widget_note: b"ok".to_vec(),
                    mt_widget_shiny: if w.index.mt_widget_index == 2 {
                        mt::TruthValue::True
                    } else {
                        mt::TruthValue::False
                    },
                    index: w.index,
                })
                .collect()
        })),
    )
    .expect("register ext");
    reg.register(
        Oid::new(mt::MT_NAME_TABLE),
        Box::new(mt::mt_name_table_handler(ttl, |_| {
            ["alpha", "be"]
                .iter()
                .zip([1, 2])
                .map(|(k, v)| mt::MtNameEntry {
                    index: mt::MtNameEntryIndex {
                        mt_name_key: k.as_bytes().to_vec(),
                    },
                    mt_name_value: v,
                })
                .collect()
        })),
    )
    .expect("register names");
    reg.register(
        Oid::new(mt::MT_OBJECTS),
        Box::new(mt::mt_objects_scalars_handler(ttl, |_| {
            mt::MtObjectsScalars {
                mt_count: 3,
                mt_label: mt::MT_LABEL_DEFVAL.to_vec(),
                mt_level: mt::MT_LEVEL_DEFVAL,
                mt_flags: mt::bits_encode(&[mt::MT_FLAGS_BETA, mt::MT_FLAGS_GAMMA]),
            }
        })),
    )
    .expect("register scalars");
    common::serve_agent(agent)
}

#[test]
fn snmptable_reads_generated_table() {
    let a = serve();
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
    let lines: Vec<&str> = out.lines().filter(|l| l.contains(',')).collect();
    assert_eq!(
        lines.first().copied(),
        Some("index,mtWidgetName,mtWidgetColour,mtWidgetLoad,mtWidgetAddr,mtWidgetHits,mtWidgetStatus"),
        "{out}"
    );
    assert!(
        lines.contains(&"1,sprocket,red,10 percent,10.0.0.1,5,active"),
        "{out}"
    );
    assert!(
        lines.contains(&"2,gear,green,55 percent,10.0.0.2,1099511627776,active"),
        "{out}"
    );
    assert!(
        lines.contains(&"7,flange,blue,100 percent,192.0.2.7,0,active"),
        "{out}"
    );
    assert_eq!(lines.len(), 4, "{out}");
}

#[test]
fn snmptable_reads_augmenting_and_implied_tables() {
    let a = serve();
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
            "mtWidgetExtTable",
        ],
    );
    assert!(ok, "{out}");
    let lines: Vec<&str> = out.lines().filter(|l| l.contains(',')).collect();
    assert_eq!(
        lines,
        vec![
            "index,mtWidgetWeight,mtWidgetNote,mtWidgetShiny",
            // A plain OCTET STRING (no DisplayString hint) is shown quoted.
            "1,100 grams,\"ok\",false",
            "2,200 grams,\"ok\",true",
            "7,700 grams,\"ok\",false"
        ],
        "{out}"
    );
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
            "mtNameTable",
        ],
    );
    assert!(ok, "{out}");
    let lines: Vec<&str> = out.lines().filter(|l| l.contains(',')).collect();
    assert_eq!(
        lines,
        // net-snmp quotes an IMPLIED string index with single quotes.
        vec!["index,mtNameValue", "'alpha',1", "'be',2"],
        "{out}"
    );
    // The IMPLIED key has no length arc: be = 98.101.
    let (ok, out) = tool(
        "snmpget",
        &[
            "-v2c",
            "-c",
            "public",
            "-On",
            &a.addr,
            ".1.3.6.1.4.1.99999.100.1.12.1.2.98.101",
        ],
    );
    assert!(ok, "{out}");
    assert!(out.contains("INTEGER: 2"), "{out}");
}

#[test]
fn scalars_and_tables_walk_together() {
    let a = serve();
    let (ok, out) = tool(
        "snmpwalk",
        &[
            "-v2c",
            "-c",
            "public",
            "-Oqn",
            &a.addr,
            ".1.3.6.1.4.1.99999.100.1",
        ],
    );
    assert!(ok, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines.get(..4),
        Some(
            &[
                ".1.3.6.1.4.1.99999.100.1.1.0 3",
                ".1.3.6.1.4.1.99999.100.1.2.0 maynard",
                ".1.3.6.1.4.1.99999.100.1.3.0 5",
                // BITS beta(1) and gamma(9): 0x40 0x40 (net-snmp's -Oq shows the octets).
                ".1.3.6.1.4.1.99999.100.1.4.0 \"40 40 \"",
            ][..]
        ),
        "{out}"
    );
    // The widget table follows the scalars, then the other tables: 4 + 6 x 3 + 3 x 3 + 2.
    assert_eq!(lines.len(), 4 + 18 + 9 + 2, "{out}");
    assert!(
        out.contains(".1.3.6.1.4.1.99999.100.1.10.1.2.7 flange"),
        "{out}"
    );
}

#[test]
fn index_round_trips_and_checks() {
    let idx = mt::MtMixEntryIndex {
        mt_mix_addr: [192, 0, 2, 1],
        mt_mix_kind: Oid::new(&[1, 3, 6]),
        mt_mix_mac: vec![0, 1, 2, 3, 4, 5],
    };
    let arcs = idx.to_arcs();
    assert_eq!(arcs, vec![192, 0, 2, 1, 3, 1, 3, 6, 0, 1, 2, 3, 4, 5]);
    assert_eq!(mt::MtMixEntryIndex::from_arcs(&arcs), Some(idx));
    assert_eq!(mt::MtMixEntryIndex::from_arcs(&arcs[..13]), None);
    let mut long = arcs.clone();
    long.push(9);
    assert_eq!(mt::MtMixEntryIndex::from_arcs(&long), None);
    let mut bad = arcs;
    bad[0] = 256;
    assert_eq!(mt::MtMixEntryIndex::from_arcs(&bad), None);
    // mtWidgetIndex is 1..65535.
    assert!(mt::MtWidgetEntryIndex::from_arcs(&[0]).is_none());
    assert!(mt::MtWidgetEntryIndex::from_arcs(&[65536]).is_none());
    assert_eq!(
        mt::MtWidgetEntryIndex::from_arcs(&[65535]).map(|i| i.mt_widget_index),
        Some(65535)
    );
    // IMPLIED string: size 1..16, octets only.
    assert!(mt::MtNameEntryIndex::from_arcs(&[]).is_none());
    assert!(mt::MtNameEntryIndex::from_arcs(&[97; 17]).is_none());
    assert!(mt::MtNameEntryIndex::from_arcs(&[97, 300]).is_none());

    use snmp::ErrorStatus::{WrongLength, WrongType, WrongValue};
    assert_eq!(mt::check_mt_level(&Value::Integer(0)), Err(WrongValue));
    assert_eq!(mt::check_mt_level(&Value::Integer(-3)), Ok(()));
    assert_eq!(mt::check_mt_level(&Value::Integer(11)), Err(WrongValue));
    assert_eq!(mt::check_mt_level(&Value::string("x")), Err(WrongType));
    assert_eq!(
        mt::check_mt_label(&Value::string([b'a'; 33])),
        Err(WrongLength)
    );
    assert_eq!(mt::check_mt_label(&Value::string("")), Ok(()));
    assert_eq!(mt::check_mt_widget_colour(&Value::Integer(3)), Ok(()));
    assert_eq!(
        mt::check_mt_widget_colour(&Value::Integer(4)),
        Err(WrongValue)
    );
    assert_eq!(
        mt::check_mt_widget_load(&Value::Gauge32(101)),
        Err(WrongValue)
    );
    assert_eq!(mt::check_mt_widget_load(&Value::Integer(1)), Err(WrongType));
    assert_eq!(
        mt::check_mt_widget_addr(&Value::IpAddress([1, 2, 3, 4])),
        Ok(())
    );
    assert_eq!(mt::MT_WIDGET_COLOUR_DEFVAL, mt::MaynardColour::Green);
    assert_eq!(mt::MT_WIDGET_NOTE_DEFVAL, &[0xca, 0xfe]);
    assert_eq!(
        mt::MaynardColour::from_i32(2).map(|c| c.label()),
        Some("green")
    );
    assert_eq!(mt::MT_WIDGET_CHANGED, &[1, 3, 6, 1, 4, 1, 99999, 100, 2, 1]);
    assert_eq!(mt::MODULE_NAME, "MAYNARD-TEST-MIB");
    assert_eq!(mt::MODULE_IDENTITY, Some(mt::MAYNARD_TEST_MIB));
    let name = mt::OBJECTS
        .iter()
        .find(|o| o.name == "mtWidgetName")
        .copied();
    assert_eq!(
        name,
        Some(mt::ObjectInfo {
            name: "mtWidgetName",
            oid: mt::MT_WIDGET_NAME,
            kind: "column",
            syntax: "DisplayString (SIZE (1..32))",
            access: "read-create",
        })
    );
    assert_eq!(mt::OBJECTS.len(), 4 + 7 + 3 + 2 + 4);
    assert_eq!(
        mt::bits_encode(&[mt::MT_FLAGS_ALPHA, mt::MT_FLAGS_GAMMA]),
        vec![0x80, 0x40]
    );
    assert!(mt::bits_test(&[0x80, 0x40], mt::MT_FLAGS_GAMMA));
    assert!(!mt::bits_test(&[0x80, 0x40], mt::MT_FLAGS_BETA));
    assert!(!mt::bits_test(&[], 200));
    assert_eq!(
        mt::MT_WIDGET_CHANGED_OBJECTS,
        &[mt::MT_WIDGET_NAME, mt::MT_WIDGET_COLOUR]
    );
}

#[test]
fn ietf_modules_generate_usable_code() {
    use mibc_gentest::{host_resources_mib as hr, if_mib, rfc1213_mib};
    assert_eq!(rfc1213_mib::MODULE_IDENTITY, None);
    assert_eq!(if_mib::MODULE_IDENTITY, Some(if_mib::IF_MIB));
    assert_eq!(if_mib::IF_DESCR, &[1, 3, 6, 1, 2, 1, 2, 2, 1, 2]);
    assert_eq!(hr::HR_STORAGE_SIZE, &[1, 3, 6, 1, 2, 1, 25, 2, 3, 1, 5]);
    assert_eq!(rfc1213_mib::IP_ROUTE_DEST, &[1, 3, 6, 1, 2, 1, 4, 21, 1, 1]);
    assert_eq!(
        if_mib::IanAifType::from_i32(6),
        Some(if_mib::IanAifType::EthernetCsmacd)
    );
    // SMIv1 NetworkAddress index: a leading 1, then the address (RFC 1212 4.1.6).
    let at = rfc1213_mib::AtEntryIndex {
        at_if_index: 2,
        at_net_address: [10, 1, 2, 3],
    };
    assert_eq!(at.to_arcs(), vec![2, 1, 10, 1, 2, 3]);
    assert_eq!(
        rfc1213_mib::AtEntryIndex::from_arcs(&[2, 1, 10, 1, 2, 3]),
        Some(at)
    );
    assert_eq!(
        rfc1213_mib::AtEntryIndex::from_arcs(&[2, 2, 10, 1, 2, 3]),
        None
    );
    // ifXEntry AUGMENTS ifEntry: the same index type.
    let i: if_mib::IfXEntryIndex = if_mib::IfEntryIndex { if_index: 3 };
    assert_eq!(i.to_arcs(), vec![3]);
    assert_eq!(
        if_mib::check_if_admin_status(&Value::Integer(4)),
        Err(snmp::ErrorStatus::WrongValue)
    );
}
