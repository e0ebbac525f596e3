//! The compiler on the IETF modules in `mibs/` (SMIv2 and SMIv1) and on the test module, with
//! known OIDs, syntaxes and indexes checked, and error cases with file:line:column.

use std::path::PathBuf;

use mibc::{Access, BaseType, Compiler, Error, NodeKind, Pos};

fn mibs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../mibs")
}

fn data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn compiler() -> Compiler {
    Compiler::new().search_path(data()).search_path(mibs())
}

fn oid(s: &str) -> Vec<u32> {
    s.split('.').map(|a| a.parse().expect("arc")).collect()
}

#[test]
fn if_mib() {
    let m = compiler().compile("IF-MIB").expect("IF-MIB compiles");
    let descr = m.node("ifDescr").expect("ifDescr");
    assert_eq!(descr.oid, oid("1.3.6.1.2.1.2.2.1.2"));
    assert_eq!(descr.kind, NodeKind::Column);
    assert_eq!(descr.access, Some(Access::ReadOnly));
    let s = descr.syntax.as_ref().expect("syntax");
    assert_eq!(
        (s.base, s.name.as_str()),
        (BaseType::OctetString, "DisplayString")
    );
    assert_eq!(s.sizes, vec![(0, 255)]);
    assert_eq!(s.display_hint.as_deref(), Some("255a"));

    let entry = m.node("ifEntry").expect("ifEntry");
    assert_eq!(entry.kind, NodeKind::Entry);
    assert_eq!(entry.index.len(), 1);
    assert_eq!(entry.index[0].name, "ifIndex");
    assert_eq!(entry.index[0].syntax.ranges, vec![(1, 2147483647)]);
    let x = m.node("ifXEntry").expect("ifXEntry");
    assert_eq!(x.augments.as_deref(), Some("ifEntry"));
    assert_eq!(x.index, entry.index);
    let stack = m.node("ifStackEntry").expect("ifStackEntry");
    let names: Vec<&str> = stack.index.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["ifStackHigherLayer", "ifStackLowerLayer"]);

    let t = m
        .node("ifType")
        .and_then(|n| n.syntax.as_ref())
        .expect("ifType");
    assert_eq!(
        t.named,
        Some(("IANAifType-MIB".into(), "IANAifType".into()))
    );
    assert!(t.enums.contains(&("softwareLoopback".into(), 24)));
    let admin = m.node("ifAdminStatus").expect("ifAdminStatus");
    assert_eq!(admin.access, Some(Access::ReadWrite));
    let hc = m
        .node("ifHCInOctets")
        .and_then(|n| n.syntax.as_ref())
        .expect("hc");
    assert_eq!(hc.base, BaseType::Counter64);
    let link_down = m.node("linkDown").expect("linkDown");
    assert_eq!(link_down.kind, NodeKind::Notification);
    assert_eq!(link_down.oid, oid("1.3.6.1.6.3.1.1.5.3"));
    assert_eq!(
        m.node("ifMIB").map(|n| n.kind),
        Some(NodeKind::ModuleIdentity)
    );
    assert_eq!(m.columns(entry).len(), 22);

    let list = m.list();
    assert!(
        list.lines().any(|l| l.starts_with("1.3.6.1.2.1.2.2.1.2 ")
            && l.contains("ifDescr  [column]  DisplayString (SIZE (0..255))  read-only")),
        "{list}"
    );
    assert!(
        list.contains("ifXEntry  [row]  AUGMENTS ifEntry (INDEX ifIndex)"),
        "{list}"
    );
    let rust = m.to_rust();
    assert!(rust.contains("pub const IF_DESCR: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1, 2];"));
    assert!(rust.contains("pub struct IfEntry {"));
    assert!(rust.contains("pub fn if_table_handler<F>("));
}

#[test]
fn host_resources_mib() {
    let m = compiler()
        .compile("HOST-RESOURCES-MIB")
        .expect("HOST-RESOURCES-MIB compiles");
    let size = m.node("hrStorageSize").expect("hrStorageSize");
    assert_eq!(size.oid, oid("1.3.6.1.2.1.25.2.3.1.5"));
    assert_eq!(size.access, Some(Access::ReadWrite));
    let s = size.syntax.as_ref().expect("syntax");
    assert_eq!(
        (s.base, s.ranges.clone()),
        (BaseType::Integer, vec![(0, 2147483647)])
    );
    assert_eq!(
        m.node("hrSWRunName").map(|n| n.oid.clone()),
        Some(oid("1.3.6.1.2.1.25.4.2.1.2"))
    );
    // hrProcessorEntry is indexed by a column of another table.
    let p = m.node("hrProcessorEntry").expect("hrProcessorEntry");
    assert_eq!(p.index[0].name, "hrDeviceIndex");
    assert_eq!(p.index[0].module, "HOST-RESOURCES-MIB");
    // InterfaceIndexOrZero comes from IF-MIB.
    let dev = m
        .node("hrPrinterStatus")
        .and_then(|n| n.syntax.as_ref())
        .expect("printer");
    assert!(dev.enums.contains(&("printing".into(), 4)));
    let date = m
        .node("hrSystemDate")
        .and_then(|n| n.syntax.as_ref())
        .expect("date");
    assert_eq!(date.name, "DateAndTime");
    assert_eq!(date.sizes, vec![(8, 8), (11, 11)]);
}

#[test]
fn rfc1213_mib_smiv1() {
    let m = compiler()
        .compile("RFC1213-MIB")
        .expect("RFC1213-MIB compiles");
    let descr = m.node("ifDescr").expect("ifDescr");
    assert_eq!(descr.oid, oid("1.3.6.1.2.1.2.2.1.2"));
    assert_eq!(descr.access, Some(Access::ReadOnly));
    assert_eq!(descr.status.as_deref(), Some("mandatory"));
    let s = descr.syntax.as_ref().expect("syntax");
    assert_eq!(
        (s.base, s.name.as_str()),
        (BaseType::OctetString, "DisplayString")
    );
    let in_octets = m
        .node("ifInOctets")
        .and_then(|n| n.syntax.as_ref())
        .expect("ifInOctets");
    assert_eq!(
        (in_octets.base, in_octets.name.as_str()),
        (BaseType::Counter32, "Counter")
    );
    let at = m.node("atEntry").expect("atEntry");
    assert_eq!(at.index[1].syntax.base, BaseType::IpAddress);
    assert_eq!(at.index[1].syntax.name, "NetworkAddress");
    let tcp = m.node("tcpConnEntry").expect("tcpConnEntry");
    assert_eq!(tcp.index.len(), 4);
    assert_eq!(
        m.node("snmpEnableAuthenTraps").map(|n| n.oid.clone()),
        Some(oid("1.3.6.1.2.1.11.30"))
    );
}

#[test]
fn test_mib_by_path_and_augments() {
    let path = data().join("MAYNARD-TEST-MIB.txt");
    let mut c = Compiler::new().search_path(mibs());
    let m = c.compile(&path.display().to_string()).expect("by path");
    assert_eq!(m.name, "MAYNARD-TEST-MIB");
    let ext = m.node("mtWidgetExtEntry").expect("ext");
    assert_eq!(ext.augments.as_deref(), Some("mtWidgetEntry"));
    assert_eq!(ext.index[0].name, "mtWidgetIndex");
    assert_eq!(
        m.node("mtWidgetName").map(|n| n.oid.clone()),
        Some(oid("1.3.6.1.4.1.99999.100.1.10.1.2"))
    );
    let key = m.node("mtNameEntry").expect("names");
    assert!(key.index[0].implied);
    let load = m
        .node("mtWidgetLoad")
        .and_then(|n| n.syntax.as_ref())
        .expect("load");
    assert_eq!(
        (load.base, load.ranges.clone()),
        (BaseType::Gauge32, vec![(0, 100)])
    );
    assert_eq!(
        m.node("mtWidgetKinds").map(|n| n.kind),
        Some(NodeKind::ObjectIdentity)
    );
    assert_eq!(
        m.node("mtCompliance").map(|n| n.kind),
        Some(NodeKind::Conformance)
    );
}

#[test]
fn trap_type_oid_is_enterprise_zero_number() {
    let text = "TRAPS-MIB DEFINITIONS ::= BEGIN
IMPORTS enterprises FROM RFC1155-SMI
        TRAP-TYPE FROM RFC-1215;
acme OBJECT IDENTIFIER ::= { enterprises 4242 }
acmeOverheat TRAP-TYPE
    ENTERPRISE acme
    DESCRIPTION \"hot\"
    ::= 7
END
";
    let m = compiler()
        .compile_text(text, "traps.mib")
        .expect("compiles");
    let t = m.node("acmeOverheat").expect("trap");
    assert_eq!(t.kind, NodeKind::Trap);
    assert_eq!(t.oid, oid("1.3.6.1.4.1.4242.0.7"));
}

/// Compiles `body` inside a module header that imports the usual SMIv2 symbols (lines 1-4).
fn err_of(body: &str) -> String {
    let text = format!(
        "BAD-MIB DEFINITIONS ::= BEGIN\nIMPORTS OBJECT-TYPE, Integer32, enterprises\n    FROM SNMPv2-SMI;\n\n{body}\nEND\n"
    );
    match compiler().compile_text(&text, "bad.mib") {
        Ok(_) => panic!("compiled:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn errors_name_file_line_column() {
    // Undefined parent.
    assert_eq!(
        err_of("x OBJECT IDENTIFIER ::= { nowhere 1 }"),
        "bad.mib:5:27: undefined symbol nowhere (not defined here nor imported)"
    );
    // Undefined type.
    assert_eq!(
        err_of("x OBJECT-TYPE\n SYNTAX Gadget\n MAX-ACCESS read-only\n STATUS current\n DESCRIPTION \"\"\n ::= { enterprises 1 }"),
        "bad.mib:6:9: undefined type Gadget (not defined here nor imported)"
    );
    // A macro that is not imported.
    assert_eq!(
        err_of("x OBJECT-IDENTITY\n STATUS current\n DESCRIPTION \"\"\n ::= { enterprises 1 }"),
        "bad.mib:5:3: OBJECT-IDENTITY is used but not imported (expected it in IMPORTS, e.g. from SNMPv2-SMI)"
    );
    // Syntax: a clause OBJECT-TYPE does not have.
    assert_eq!(
        err_of("x OBJECT-TYPE\n SYNTAX Integer32\n ACCES read-only\n ::= { enterprises 1 }"),
        "bad.mib:7:2: expected an OBJECT-TYPE clause (SYNTAX, UNITS, MAX-ACCESS, STATUS, DESCRIPTION, REFERENCE, INDEX, AUGMENTS, DEFVAL) or `::=`, found `ACCES`"
    );
    // Syntax: a range left open.
    assert_eq!(
        err_of(
            "x OBJECT-TYPE\n SYNTAX Integer32 (1..)\n MAX-ACCESS read-only\n ::= { enterprises 1 }"
        ),
        "bad.mib:6:23: expected a number, MIN or MAX, found `)`"
    );
    // Unknown access keyword.
    assert_eq!(
        err_of("x OBJECT-TYPE\n SYNTAX Integer32\n MAX-ACCESS read-mostly\n STATUS current\n DESCRIPTION \"\"\n ::= { enterprises 1 }"),
        "bad.mib:7:13: unknown access `read-mostly` (expected not-accessible, accessible-for-notify, read-only, read-write, read-create or write-only)"
    );
    // An index object that does not exist.
    let e = err_of(
        "t OBJECT-TYPE SYNTAX SEQUENCE OF E MAX-ACCESS not-accessible STATUS current DESCRIPTION \"\" ::= { enterprises 1 }\n\
         e OBJECT-TYPE SYNTAX E MAX-ACCESS not-accessible STATUS current DESCRIPTION \"\" INDEX { missing } ::= { t 1 }\n\
         E ::= SEQUENCE { c Integer32 }",
    );
    assert_eq!(
        e,
        "bad.mib:6:88: undefined symbol missing (not defined here nor imported)"
    );
    // A string never closed.
    assert_eq!(
        err_of("x OBJECT IDENTIFIER ::= { enterprises 1 }\ny OBJECT-TYPE DESCRIPTION \"open"),
        "bad.mib:6:27: string not terminated (expected `\"`)"
    );
}

#[test]
fn import_errors() {
    let e = compiler()
        .compile_text(
            "A DEFINITIONS ::= BEGIN\nIMPORTS\n  enterprises, noSuchThing FROM SNMPv2-SMI;\nEND",
            "a.mib",
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "a.mib:3:16: unknown import: noSuchThing is not defined in SNMPv2-SMI"
    );
    let e = compiler()
        .compile_text(
            "A DEFINITIONS ::= BEGIN\nIMPORTS\n  enterprises FROM SNMPv2-SMI\n  thing FROM NO-SUCH-MIB;\nEND",
            "a.mib",
        )
        .unwrap_err();
    assert!(
        e.to_string().starts_with(
            "a.mib:4:14: unknown module NO-SUCH-MIB in IMPORTS (not found on the search path: "
        ),
        "{e}"
    );
    assert_eq!(
        e.pos(),
        Some(Pos {
            line: 4,
            column: 14
        })
    );
    let e = compiler().compile("NO-SUCH-MIB").unwrap_err();
    assert!(matches!(e, Error::ModuleNotFound { .. }), "{e}");
}

#[test]
fn a_file_named_for_another_module_is_an_error() {
    let dir = std::env::temp_dir().join(format!("mibc-misnamed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    std::fs::write(
        dir.join("WANTED-MIB.txt"),
        "OTHER-MIB DEFINITIONS ::= BEGIN\nEND\n",
    )
    .expect("write");
    let r = Compiler::new().search_path(&dir).compile("WANTED-MIB");
    let _ = std::fs::remove_dir_all(&dir);
    let e = r.unwrap_err().to_string();
    assert!(
        e.ends_with("WANTED-MIB.txt:1:1: expected module WANTED-MIB in this file (its name says so), found OTHER-MIB"),
        "{e}"
    );
}

#[test]
fn finds_modules_by_header_when_file_names_differ() {
    let dir = std::env::temp_dir().join(format!("mibc-scan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    std::fs::write(
        dir.join("odd-name.my"),
        "-- a comment first\nODD-MIB DEFINITIONS ::= BEGIN\nIMPORTS enterprises FROM SNMPv2-SMI;\nodd OBJECT IDENTIFIER ::= { enterprises 7 }\nEND\n",
    )
    .expect("write");
    let r = Compiler::new()
        .search_path(&dir)
        .search_path(mibs())
        .compile("ODD-MIB");
    let _ = std::fs::remove_dir_all(&dir);
    let m = r.expect("found by header");
    assert_eq!(
        m.node("odd").map(|n| n.oid.clone()),
        Some(oid("1.3.6.1.4.1.7"))
    );
}
