//! The rules of the application database across lines, the lookups, the tiers and `load`,
//! checked through the public API with exact `file:line:column` positions.

use servicedb::{
    Entry, Expected, LoadError, ParseError, Protocol, ServiceDb, MAX_APPLICATIONS, MAX_NAME_LEN,
};

/// The errors of `text` as displayed, one string each.
fn errors(text: &str) -> Vec<String> {
    match ServiceDb::parse(text, "services") {
        Ok(db) => panic!("expected errors, parsed {} entries", db.len()),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

fn parse(text: &str) -> ServiceDb {
    match ServiceDb::parse(text, "services") {
        Ok(db) => db,
        Err(errors) => panic!("{errors}"),
    }
}

#[test]
fn limits_are_the_seeds() {
    assert_eq!(MAX_APPLICATIONS, 1000);
    assert_eq!(MAX_NAME_LEN, 9);
}

#[test]
fn blank_and_comment_lines_count_as_lines() {
    let db = parse("# header\n\n   \n\t# indented\nsmtp 25/tcp\n\n");
    assert_eq!(db.len(), 1);
    assert_eq!(db.entries().next().unwrap().line, 5);
    assert!(parse("").is_empty());
    assert!(parse("\n\n# nothing\n").is_empty());
    assert_eq!(parse("# only\n").applications(), 0);
}

#[test]
fn crlf_lines_and_tabs() {
    let db = parse("smtp\t25/tcp\tmail\t# SMTP\r\ndns 53/udp\r\n");
    let smtp = db.lookup("mail", Protocol::Tcp).unwrap();
    assert_eq!(smtp.comment.as_deref(), Some("SMTP"));
    assert_eq!(smtp.aliases, vec!["mail"]);
    assert_eq!(db.lookup("dns", Protocol::Udp).unwrap().line, 2);
}

#[test]
fn byte_order_mark_is_ignored() {
    let db = parse("\u{feff}smtp 25/tcp\n");
    assert_eq!(db.lookup("smtp", Protocol::Tcp).unwrap().port, 25);
    assert_eq!(
        errors("\u{feff}smtp 25/xyz\n"),
        vec!["services:1:9: expected protocol tcp or udp, found \"xyz\""]
    );
}

#[test]
fn protocol_in_any_case() {
    let db = parse("a 1/TCP\nb 2/Udp\n");
    assert_eq!(
        db.lookup("a", Protocol::Tcp).unwrap().protocol,
        Protocol::Tcp
    );
    assert_eq!(
        db.lookup("b", Protocol::Udp).unwrap().protocol,
        Protocol::Udp
    );
}

#[test]
fn missing_and_malformed_fields() {
    assert_eq!(
        errors("smtp\n"),
        vec!["services:1:5: expected port/protocol (such as 25/tcp), found end of line"]
    );
    assert_eq!(
        errors("ok 1/tcp\nsmtp 25 # no protocol\n"),
        vec!["services:2:6: expected port/protocol (such as 25/tcp), found \"25\""]
    );
    assert_eq!(
        errors("ok 1/tcp\n\nsmtp    25/sctp\n"),
        vec!["services:3:12: expected protocol tcp or udp, found \"sctp\""]
    );
    assert_eq!(
        errors("smtp 25/\n"),
        vec!["services:1:6: expected protocol tcp or udp, found \"25/\""]
    );
    assert_eq!(
        errors("rpc             port1/tcp    weight-100      #RPC\n"),
        vec!["services:1:17: expected a port number 0-65535, found \"port1\""]
    );
    assert_eq!(
        errors("a 65536/udp\n"),
        vec!["services:1:3: expected a port number 0-65535, found \"65536\""]
    );
    assert_eq!(
        errors("a 0x50/udp\n"),
        vec!["services:1:3: expected a port number 0-65535, found \"0x50\""]
    );
}

#[test]
fn name_rules() {
    assert_eq!(
        errors("ftp-data-x 20/tcp\n"),
        vec!["services:1:1: expected a name of 1 to 9 characters, found \"ftp-data-x\""]
    );
    assert_eq!(
        errors("  -ftp 20/tcp\n"),
        vec![
            "services:1:3: expected a name of letters, digits, \"-\", \"_\", \".\" or \"+\" \
             starting with a letter or digit, found \"-ftp\""
        ]
    );
    assert_eq!(
        errors("Other 20/tcp\n"),
        vec!["services:1:1: expected a name other than OTHER, which is reserved, found \"Other\""]
    );
    assert_eq!(
        errors("a 20/tcp OTHER\n"),
        vec!["services:1:10: expected a name other than OTHER, which is reserved, found \"OTHER\""]
    );
    assert_eq!(
        errors("1414 20/tcp\n"),
        vec![
            "services:1:1: expected a name that is not only digits (it would read as a port \
             number), found \"1414\""
        ]
    );
    let db = parse("a 1/tcp\nabcdefghi 2/tcp\nx_y.z+1-2 3/tcp\n9p 4/tcp\nOTHERS 5/tcp\n");
    assert_eq!(db.len(), 5);
}

#[test]
fn tos_and_weight_rules() {
    assert_eq!(
        errors("mq 1414/tcp tos-256\n"),
        vec!["services:1:13: expected tos-N with N 0-255, found \"tos-256\""]
    );
    assert_eq!(
        errors("mq 1414/tcp weight-0\n"),
        vec!["services:1:13: expected weight-N with N 1-1000, found \"weight-0\""]
    );
    assert_eq!(
        errors("mq 1414/tcp weight-1001\n"),
        vec!["services:1:13: expected weight-N with N 1-1000, found \"weight-1001\""]
    );
    assert_eq!(
        errors("mq 1414/tcp tos-1 TOS-2\n"),
        vec!["services:1:19: expected at most one tos-N on a line, found \"TOS-2\""]
    );
    assert_eq!(
        errors("mq 1414/tcp weight-1 Weight-1\n"),
        vec!["services:1:22: expected at most one weight-N on a line, found \"Weight-1\""]
    );
    let db = parse("mq 1414/tcp mqs TOS-7 series WEIGHT-250\n");
    let mq = db.lookup("series", Protocol::Tcp).unwrap();
    assert_eq!(
        (mq.tos, mq.weight, mq.message_weight()),
        (Some(7), Some(250), 250)
    );
    assert_eq!(mq.aliases, vec!["mqs", "series"]);
}

#[test]
fn alias_rules() {
    assert_eq!(
        errors("http 80/tcp www WWW\n"),
        vec![
            "services:1:17: expected an alias different from the name and the other aliases \
             of the line, found \"WWW\""
        ]
    );
    assert_eq!(
        errors("http 80/tcp web-server-x\n"),
        vec!["services:1:13: expected a name of 1 to 9 characters, found \"web-server-x\""]
    );
    // An alias may not be another entry's name or alias for the same protocol...
    assert_eq!(
        errors("http 80/tcp www\nweb 8080/tcp WWW\nwww 8081/tcp\nalt 8082/tcp http\n"),
        vec![
            "services:2:14: expected a name not already used for tcp (\"http\" on line 1 has \
             it), found \"WWW\"",
            "services:3:1: expected a name not already used for tcp (\"http\" on line 1 has it), \
             found \"www\"",
            "services:4:14: expected a name not already used for tcp (\"http\" on line 1 has \
             it), found \"http\"",
        ]
    );
    // ...but may be reused under the other protocol.
    let db = parse("http 80/tcp www\nwww 8080/udp\n");
    let found: Vec<(&str, Protocol)> = db
        .lookup_any("WWW")
        .iter()
        .map(|e| (e.name.as_str(), e.protocol))
        .collect();
    assert_eq!(found, vec![("http", Protocol::Tcp), ("www", Protocol::Udp)]);
    assert_eq!(db.applications(), 2);
}

#[test]
fn duplicate_name_and_protocol() {
    assert_eq!(
        errors("smtp 25/tcp\ndns 53/udp\n  SMTP 587/tcp\n"),
        vec![
            "services:3:3: expected a name not already used for tcp (\"smtp\" on line 1 has it), \
             found \"SMTP\""
        ]
    );
    let e = ServiceDb::parse("smtp 25/tcp\nsmtp 26/tcp\n", "f")
        .unwrap_err()
        .into_vec();
    assert_eq!(
        e,
        vec![ParseError {
            file: "f".into(),
            line: 2,
            column: 1,
            token: "smtp".into(),
            expected: Expected::UnusedName {
                protocol: Protocol::Tcp,
                owner: "smtp".into(),
                line: 1,
            },
        }]
    );
}

#[test]
fn same_name_both_protocols_is_one_application() {
    let db = parse("echo 7/tcp\necho 7/udp\nEcho-2 8/tcp\n");
    assert_eq!(db.len(), 3);
    assert_eq!(db.applications(), 2);
    let both: Vec<Protocol> = db.lookup_any("ECHO").iter().map(|e| e.protocol).collect();
    assert_eq!(both, vec![Protocol::Tcp, Protocol::Udp]);
    // udp first in the file, still tcp first in lookup_any
    let db = parse("dns 53/udp\ndns 53/tcp\n");
    let both: Vec<Protocol> = db.lookup_any("dns").iter().map(|e| e.protocol).collect();
    assert_eq!(both, vec![Protocol::Tcp, Protocol::Udp]);
    assert!(db.lookup_any("nope").is_empty());
    // the two protocols may even use different ports
    let db = parse("svc 100/tcp\nsvc 200/udp\n");
    assert_eq!(db.port_by_name("svc", Protocol::Tcp), Some(100));
    assert_eq!(db.port_by_name("svc", Protocol::Udp), Some(200));
}

#[test]
fn duplicate_port_and_protocol() {
    assert_eq!(
        errors("smtp 25/tcp\nmail  025/tcp\n"),
        vec![
            "services:2:7: expected a port not already used for tcp (\"smtp\" on line 1 has it), \
             found \"025\""
        ]
    );
    let db = parse("dns 53/tcp\ndomain 53/udp\n");
    assert_eq!(db.name_by_port(53, Protocol::Tcp), Some("dns"));
    assert_eq!(db.name_by_port(53, Protocol::Udp), Some("domain"));
}

#[test]
fn application_limit() {
    let mut text = String::new();
    for i in 0..MAX_APPLICATIONS {
        text.push_str(&format!("app{i} {i}/tcp\napp{i} {i}/udp\n"));
    }
    let db = parse(&text);
    assert_eq!(db.applications(), 1000);
    assert_eq!(db.len(), 2000);

    text.push_str("# one more\nextra 5000/tcp\nAPP7 5001/tcp # duplicate, not a new application\n");
    text.push_str("extra 5000/udp # same application as line 2002\nmore 5002/udp\n");
    assert_eq!(
        errors(&text),
        vec![
            "services:2002:1: expected at most 1000 applications (distinct names), this name is \
             one more, found \"extra\"",
            "services:2003:1: expected a name not already used for tcp (\"app7\" on line 15 has \
             it), found \"APP7\"",
            "services:2004:1: expected at most 1000 applications (distinct names), this name is \
             one more, found \"extra\"",
            "services:2005:1: expected at most 1000 applications (distinct names), this name is \
             one more, found \"more\"",
        ]
    );
}

#[test]
fn all_errors_are_collected_in_order() {
    let text = "\
ok 1/tcp
toolongname port1/xyz tos-256 weight-0 OTHER
ok 2/tcp
fine 1/tcp
";
    assert_eq!(
        errors(text),
        vec![
            "services:2:1: expected a name of 1 to 9 characters, found \"toolongname\"",
            "services:2:13: expected a port number 0-65535, found \"port1\"",
            "services:2:19: expected protocol tcp or udp, found \"xyz\"",
            "services:2:23: expected tos-N with N 0-255, found \"tos-256\"",
            "services:2:31: expected weight-N with N 1-1000, found \"weight-0\"",
            "services:2:40: expected a name other than OTHER, which is reserved, found \"OTHER\"",
            "services:3:1: expected a name not already used for tcp (\"ok\" on line 1 has it), \
             found \"ok\"",
            "services:4:6: expected a port not already used for tcp (\"ok\" on line 1 has it), \
             found \"1\"",
        ]
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    assert_eq!(
        errors("é\t25/tcp\n"),
        vec![
            "services:1:1: expected a name of letters, digits, \"-\", \"_\", \".\" or \"+\" \
             starting with a letter or digit, found \"é\""
        ]
    );
    assert_eq!(
        errors("a 25/tcp ünï\n"),
        vec![
            "services:1:10: expected a name of letters, digits, \"-\", \"_\", \".\" or \"+\" \
             starting with a letter or digit, found \"ünï\""
        ]
    );
    assert_eq!(
        errors("a 25/tcp #ünï\nb\u{e9}\u{e9} 25/tcp\n")[0],
        "services:2:1: expected a name of letters, digits, \"-\", \"_\", \".\" or \"+\" \
         starting with a letter or digit, found \"béé\""
    );
}

#[test]
fn comments() {
    let db = parse("a 1/tcp #  spaced  \nb 2/tcp#tight\nc 3/tcp #\nd 4/tcp # has # inside\n");
    let comments: Vec<Option<&str>> = db.entries().map(|e| e.comment.as_deref()).collect();
    assert_eq!(
        comments,
        vec![Some("spaced"), Some("tight"), None, Some("has # inside")]
    );
}

#[test]
fn lookups_ignore_case() {
    let db = parse("Kerb 88/tcp KRB5 kdc\nKerb 88/udp\n");
    for name in ["kerb", "KERB", "krb5", "Kdc"] {
        assert_eq!(
            db.lookup(name, Protocol::Tcp).map(|e| e.port),
            Some(88),
            "{name}"
        );
    }
    assert_eq!(db.lookup("krb5", Protocol::Udp), None);
    assert_eq!(db.lookup("Kerb", Protocol::Udp).unwrap().line, 2);
    assert_eq!(db.by_port(88, Protocol::Tcp).unwrap().name, "Kerb");
    assert_eq!(db.name_by_port(88, Protocol::Udp), Some("Kerb"));
    assert_eq!(db.name_by_port(89, Protocol::Udp), None);
    assert_eq!(db.port_by_name("KDC", Protocol::Tcp), Some(88));
    assert_eq!(db.port_by_name("kdc", Protocol::Udp), None);
}

#[test]
fn port_by_name_accepts_numbers() {
    let db = parse("web 8080/tcp\n");
    assert_eq!(db.port_by_name("80", Protocol::Tcp), Some(80));
    assert_eq!(db.port_by_name("0", Protocol::Udp), Some(0));
    assert_eq!(db.port_by_name("65535", Protocol::Udp), Some(65535));
    assert_eq!(db.port_by_name("65536", Protocol::Udp), None);
    assert_eq!(db.port_by_name("-1", Protocol::Udp), None);
    assert_eq!(db.port_by_name("", Protocol::Udp), None);
    assert_eq!(db.port_by_name("web", Protocol::Tcp), Some(8080));
    assert_eq!(
        ServiceDb::default().port_by_name("22", Protocol::Tcp),
        Some(22)
    );
}

#[test]
fn host_tier_is_only_for_port_names() {
    let host = ServiceDb::parse_host(
        "ssh 22/tcp\nhttp 80/tcp www\nsmtp 25/tcp mail\nkerberos-adm 749/tcp\n",
        "/etc/services",
    )
    .unwrap();
    let db = parse("web 80/tcp\nmail 2525/tcp\n").with_host_fallback(host);
    // application tier first
    assert_eq!(db.port_by_name("mail", Protocol::Tcp), Some(2525));
    assert_eq!(db.name_by_port(80, Protocol::Tcp), Some("web"));
    // then the host tier
    assert_eq!(db.port_by_name("SSH", Protocol::Tcp), Some(22));
    assert_eq!(db.port_by_name("www", Protocol::Tcp), Some(80));
    assert_eq!(db.port_by_name("kerberos-adm", Protocol::Tcp), Some(749));
    assert_eq!(db.name_by_port(25, Protocol::Tcp), Some("smtp"));
    assert_eq!(db.port_by_name("ssh", Protocol::Udp), None);
    // never by the application lookups
    assert!(db.lookup("ssh", Protocol::Tcp).is_none());
    assert!(db.lookup_any("ssh").is_empty());
    assert!(db.by_port(22, Protocol::Tcp).is_none());
    assert_eq!(db.len(), 2);
    assert_eq!(db.applications(), 2);
    assert_eq!(db.entries().count(), 2);
    assert_eq!(db.host_entries().count(), 4);
    assert_eq!(db.to_text(), "web          80/tcp\nmail       2525/tcp\n");
    // a new fallback replaces the old one
    let db = db.with_host_fallback(ServiceDb::default());
    assert_eq!(db.port_by_name("ssh", Protocol::Tcp), None);
    assert_eq!(db.host_entries().count(), 0);
}

#[test]
fn default_is_empty() {
    let db = ServiceDb::default();
    assert!(db.is_empty());
    assert_eq!(db.len(), 0);
    assert_eq!(db.applications(), 0);
    assert_eq!(db.to_text(), "");
    assert!(db.lookup("x", Protocol::Tcp).is_none());
    assert!(db.name_by_port(1, Protocol::Tcp).is_none());
    let cloned = db.clone();
    assert!(format!("{cloned:?}").contains("ServiceDb"));
}

#[test]
fn to_text_is_canonical() {
    let db = parse("mq 1414/tcp tos-5 mqseries weight-100 #MQ Series\ndns 53/UDP TOS-10 #DNS\n");
    assert_eq!(
        db.to_text(),
        "mq         1414/tcp tos-5 weight-100 mqseries #MQ Series\n\
         dns          53/udp tos-10 #DNS\n"
    );
}

#[test]
fn entries_serialize_fields() {
    let db = parse("mq 1414/tcp\n");
    let e: &Entry = db.entries().next().unwrap();
    assert_eq!(
        e,
        &Entry {
            name: "mq".into(),
            port: 1414,
            protocol: Protocol::Tcp,
            aliases: vec![],
            tos: None,
            weight: None,
            comment: None,
            line: 1,
        }
    );
}

/// A file in the temporary directory, removed when dropped.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(tag: &str, contents: &[u8]) -> TempFile {
        let path =
            std::env::temp_dir().join(format!("servicedb-test-{}-{tag}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn load_reads_a_file() {
    let file = TempFile::new("good", b"mq 1414/tcp tos-5\n");
    let db = ServiceDb::load(&file.0).unwrap();
    assert_eq!(db.lookup("mq", Protocol::Tcp).unwrap().tos, Some(5));
    let db = ServiceDb::load_host(&file.0).unwrap();
    assert_eq!(db.len(), 1);
}

#[test]
fn load_reports_errors_with_the_path() {
    let file = TempFile::new("bad", b"ok 1/tcp\nrpc port1/tcp\n");
    let Err(LoadError::Parse(errors)) = ServiceDb::load(&file.0) else {
        panic!("expected parse errors");
    };
    assert_eq!(
        errors.to_string(),
        format!(
            "{}:2:5: expected a port number 0-65535, found \"port1\"",
            file.0.display()
        )
    );
}

#[test]
fn load_replaces_invalid_utf8() {
    let file = TempFile::new("latin1", b"ok 1/tcp\ncaf\xe9 2/tcp\n");
    let Err(LoadError::Parse(errors)) = ServiceDb::load(&file.0) else {
        panic!("expected parse errors");
    };
    assert_eq!(errors.len(), 1);
    let e = &errors.errors()[0];
    assert_eq!((e.line, e.column, e.token.as_str()), (2, 1, "caf\u{fffd}"));
    assert_eq!(e.expected, Expected::NameCharacters);
    // the host parser takes any name
    let db = ServiceDb::load_host(&file.0).unwrap();
    assert_eq!(db.port_by_name("caf\u{fffd}", Protocol::Tcp), Some(2));
}

#[test]
fn load_missing_file() {
    let path = std::path::Path::new("/nonexistent/maynard/services");
    match ServiceDb::load(path) {
        Err(LoadError::Io { path: p, source }) => {
            assert_eq!(p, path);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected an I/O error, got {other:?}"),
    }
    assert!(matches!(
        ServiceDb::load_host(path),
        Err(LoadError::Io { .. })
    ));
}
