//! The sample entries of seed 004, exactly as printed there (trailing blanks included).

use servicedb::{Expected, Protocol, ServiceDb};

/// "The following shows some sample entries".
const SAMPLE: &str = "\
rip          520/udp    weight-50             #RIP\n\
smtp          25/tcp                          #Simple Mail Transfer Protocol\n\
mq          1414/tcp    tos-5 weight-100      #MQ Series\n\
dns           53/udp    tos-10                #DNS\n\
";

/// Figure 22, the example file, with the `port1`/`port2` placeholders of the RPC and TPFAR lines.
const FIGURE_22: &str = "\
ftp-data           20/tcp    weight-100      #FTP data \n\
ftp-ctl            21/tcp    weight-100      #FTP control \n\
smtp               25/tcp    weight-100      #Simple Mail Transfer Protocol\n\
dns                53/udp    weight-100      #DNS \n\
tftp               69/udp    weight-100      #Trivial File Transfer \n\
http               80/tcp    weight-100      #World Wide Web \n\
pop3              110/tcp    weight-100      #Post Office Protocol - Version 3 \n\
imap              143/tcp    weight-100      #Internet Message Access Protocol \n\
snmp              161/udp    weight-100      #SNMP \n\
snmp-trap         162/udp    weight-100      #SNMP trap \n\
matipa            350/tcp    weight-100      #MATIP Type A \n\
matipb            351/tcp    weight-100      #MATIP Type B \n\
https             443/tcp    weight-100      #Secure HTTP \n\
rip               520/udp    weight-100      #RIP \n\
mq               1414/tcp    weight-100      #MQ \n\
ipbridge         9500/tcp    weight-100      #IPBRIDGE \n\
rpc             port1/tcp    weight-100      #RPC \n\
tpfar           port2/tcp    weight-100      #TPFAR\n\
";

#[test]
fn sample_entries_parse() {
    let db = ServiceDb::parse(SAMPLE, "services").unwrap();
    assert_eq!(db.len(), 4);
    assert_eq!(db.applications(), 4);

    let rip = db.lookup("rip", Protocol::Udp).unwrap();
    assert_eq!((rip.port, rip.tos, rip.weight), (520, None, Some(50)));
    assert_eq!(rip.comment.as_deref(), Some("RIP"));
    assert_eq!(rip.message_weight(), 50);
    assert_eq!(rip.line, 1);

    let smtp = db.lookup("SMTP", Protocol::Tcp).unwrap();
    assert_eq!((smtp.port, smtp.tos, smtp.weight), (25, None, None));
    assert_eq!(
        smtp.comment.as_deref(),
        Some("Simple Mail Transfer Protocol")
    );
    assert_eq!(smtp.message_weight(), 100);

    let mq = db.lookup("mq", Protocol::Tcp).unwrap();
    assert_eq!((mq.port, mq.tos, mq.weight), (1414, Some(5), Some(100)));
    assert_eq!(mq.comment.as_deref(), Some("MQ Series"));

    let dns = db.by_port(53, Protocol::Udp).unwrap();
    assert_eq!(
        (dns.name.as_str(), dns.tos, dns.weight),
        ("dns", Some(10), None)
    );
    assert_eq!(dns.line, 4);

    assert!(db.lookup("rip", Protocol::Tcp).is_none());
    assert!(db.by_port(53, Protocol::Tcp).is_none());
}

#[test]
fn figure_22_placeholders_are_errors() {
    let errors = ServiceDb::parse(FIGURE_22, "services").unwrap_err();
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        vec![
            "services:17:17: expected a port number 0-65535, found \"port1\"",
            "services:18:17: expected a port number 0-65535, found \"port2\"",
        ]
    );
    assert_eq!(errors.errors()[0].expected, Expected::PortNumber);
    assert_eq!(errors.errors()[0].token, "port1");
    assert_eq!(
        errors.to_string(),
        "services:17:17: expected a port number 0-65535, found \"port1\"\n\
         services:18:17: expected a port number 0-65535, found \"port2\""
    );
}

#[test]
fn figure_22_without_placeholders_parses() {
    let text: String = FIGURE_22
        .lines()
        .filter(|l| !l.contains("port1") && !l.contains("port2"))
        .map(|l| format!("{l}\n"))
        .collect();
    let db = ServiceDb::parse(&text, "services").unwrap();
    assert_eq!(db.len(), 16);
    assert_eq!(db.applications(), 16);
    assert!(db
        .entries()
        .all(|e| e.weight == Some(100) && e.tos.is_none()));
    assert!(db.entries().all(|e| e.message_weight() == 100));

    let names: Vec<&str> = db.entries().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "ftp-data",
            "ftp-ctl",
            "smtp",
            "dns",
            "tftp",
            "http",
            "pop3",
            "imap",
            "snmp",
            "snmp-trap",
            "matipa",
            "matipb",
            "https",
            "rip",
            "mq",
            "ipbridge"
        ]
    );
    let trap = db.lookup("SNMP-TRAP", Protocol::Udp).unwrap();
    assert_eq!(
        (trap.port, trap.comment.as_deref()),
        (162, Some("SNMP trap"))
    );
    assert_eq!(db.name_by_port(9500, Protocol::Tcp), Some("ipbridge"));
    assert_eq!(db.port_by_name("pop3", Protocol::Tcp), Some(110));
    assert_eq!(
        db.lookup("pop3", Protocol::Tcp).unwrap().comment.as_deref(),
        Some("Post Office Protocol - Version 3")
    );
}

#[test]
fn figure_22_with_real_ports_parses() {
    let text = FIGURE_22
        .replace("port1/tcp", "30001/tcp")
        .replace("port2/tcp", "30002/tcp");
    let db = ServiceDb::parse(&text, "services").unwrap();
    assert_eq!(db.len(), 18);
    assert_eq!(db.lookup("rpc", Protocol::Tcp).unwrap().port, 30001);
    assert_eq!(db.lookup("tpfar", Protocol::Tcp).unwrap().line, 18);
}

#[test]
fn samples_round_trip() {
    for text in [
        SAMPLE.to_string(),
        FIGURE_22.replace("port1", "1").replace("port2", "2"),
    ] {
        let db = ServiceDb::parse(&text, "services").unwrap();
        let again = ServiceDb::parse(&db.to_text(), "again").unwrap();
        let strip = |db: &ServiceDb| {
            db.entries()
                .map(|e| {
                    let mut e = e.clone();
                    e.line = 0;
                    e
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(&db), strip(&again));
    }
}
