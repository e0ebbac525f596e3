//! The host database: Debian's real /etc/services (package netbase) and an excerpt of it.

use servicedb::{Expected, Protocol, ServiceDb};

/// Lines of Debian's /etc/services (netbase), tabs and all.
const DEBIAN_EXCERPT: &str = "\
# Network services, Internet style\n\
#\n\
# Updated from https://www.iana.org/assignments/service-names-port-numbers/service-names-port-numbers.xhtml .\n\
#\n\
# New ports will be added on request if they have been officially assigned\n\
# by IANA and used in the real-world or are needed by a debian package.\n\
# If you need a huge list of used numbers please install the nmap package.\n\
\n\
tcpmux\t\t1/tcp\t\t\t\t# TCP port service multiplexer\n\
echo\t\t7/tcp\n\
echo\t\t7/udp\n\
discard\t\t9/tcp\t\tsink null\n\
discard\t\t9/udp\t\tsink null\n\
systat\t\t11/tcp\t\tusers\n\
daytime\t\t13/tcp\n\
daytime\t\t13/udp\n\
netstat\t\t15/tcp\n\
qotd\t\t17/tcp\t\tquote\n\
chargen\t\t19/tcp\t\tttytst source\n\
chargen\t\t19/udp\t\tttytst source\n\
ftp-data\t20/tcp\n\
ftp\t\t21/tcp\n\
fsp\t\t21/udp\t\tfspd\n\
ssh\t\t22/tcp\t\t\t\t# SSH Remote Login Protocol\n\
telnet\t\t23/tcp\n\
smtp\t\t25/tcp\t\tmail\n\
time\t\t37/tcp\t\ttimserver\n\
time\t\t37/udp\t\ttimserver\n\
whois\t\t43/tcp\t\tnicname\n\
tacacs\t\t49/tcp\t\t\t\t# Login Host Protocol (TACACS)\n\
tacacs\t\t49/udp\n\
domain\t\t53/tcp\t\t\t\t# Domain Name Server\n\
domain\t\t53/udp\n\
bootps\t\t67/udp\n\
bootpc\t\t68/udp\n\
tftp\t\t69/udp\n\
gopher\t\t70/tcp\t\t\t\t# Internet Gopher\n\
finger\t\t79/tcp\n\
http\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP\n\
kerberos\t88/tcp\t\tkerberos5 krb5 kerberos-sec\t# Kerberos v5\n\
kerberos\t88/udp\t\tkerberos5 krb5 kerberos-sec\t# Kerberos v5\n\
iso-tsap\t102/tcp\t\ttsap\t\t# part of ISODE\n\
acr-nema\t104/tcp\t\tdicom\t\t# Digital Imag. & Comm. 300\n\
pop3\t\t110/tcp\t\tpop-3\t\t# POP version 3\n\
sunrpc\t\t111/tcp\t\tportmapper\t# RPC 4.0 portmapper\n\
afpovertcp\t548/tcp\t\t\t\t# AFP over TCP\n\
nntps\t\t563/tcp\t\tsnntp\t\t# NNTP over SSL\n\
submission\t587/tcp\t\t\t\t# Submission [RFC4409]\n\
ldaps\t\t636/tcp\t\t\t\t# LDAP over SSL\n\
ldaps\t\t636/udp\n\
tinc\t\t655/tcp\t\t\t\t# tinc control port\n\
tinc\t\t655/udp\n\
silc\t\t706/tcp\n\
kerberos-adm\t749/tcp\t\t\t\t# Kerberos `kadmin' (v5)\n\
#\n\
domain-s\t853/tcp\t\t\t\t# DNS over TLS [RFC7858]\n\
domain-s\t853/udp\t\t\t\t# DNS over DTLS [RFC8094]\n\
rsync\t\t873/tcp\n\
ftps-data\t989/tcp\t\t\t\t# FTP over SSL (data)\n\
ftps\t\t990/tcp\n\
telnets\t\t992/tcp\t\t\t\t# Telnet over SSL\n\
imaps\t\t993/tcp\t\t\t\t# IMAP over SSL\n\
pop3s\t\t995/tcp\t\t\t\t# POP-3 over SSL\n\
xmpp-client\t5222/tcp\tjabber-client\t# Jabber Client Connection\n\
xmpp-server\t5269/tcp\tjabber-server\t# Jabber Server Connection\n\
cfengine\t5308/tcp\n\
mdns\t\t5353/udp\t\t\t# Multicast DNS\n\
postgresql\t5432/tcp\tpostgres\t# PostgreSQL Database\n\
freeciv\t\t5556/tcp\trptp\t\t# Freeciv gameplay\n\
amqps\t\t5671/tcp\t\t\t# AMQP protocol over TLS/SSL\n\
amqp\t\t5672/tcp\n\
amqp\t\t5672/sctp\n\
x11\t\t6000/tcp\tx11-0\t\t# X Window System\n\
x11-1\t\t6001/tcp\n\
x11-2\t\t6002/tcp\n\
x11-3\t\t6003/tcp\n\
x11-4\t\t6004/tcp\n\
x11-5\t\t6005/tcp\n\
x11-6\t\t6006/tcp\n\
\n\
#\n\
# Datagram Delivery Protocol services\n\
#\n\
rtmp\t\t1/ddp\t\t\t# Routing Table Maintenance Protocol\n\
nbp\t\t2/ddp\t\t\t# Name Binding Protocol\n\
echo\t\t4/ddp\t\t\t# AppleTalk Echo Protocol\n\
zip\t\t6/ddp\t\t\t# Zone Information Protocol\n\
\n\
#=========================================================================\n\
# The remaining port numbers are not as allocated by IANA.\n\
#=========================================================================\n\
\n\
# Kerberos (Project Athena/MIT) services\n\
kerberos4\t750/udp\t\tkerberos-iv kdc\t# Kerberos (server)\n\
kerberos4\t750/tcp\t\tkerberos-iv kdc\n\
kerberos-master\t751/udp\t\tkerberos_master\t# Kerberos authentication\n\
kerberos-master\t751/tcp\n\
passwd-server\t752/udp\t\tpasswd_server\t# Kerberos passwd server\n\
krb-prop\t754/tcp\t\tkrb_prop krb5_prop hprop # Kerberos slave propagation\n\
zephyr-srv\t2102/udp\t\t\t# Zephyr server\n\
zephyr-clt\t2103/udp\t\t\t# Zephyr serv-hm connection\n\
zephyr-hm\t2104/udp\t\t\t# Zephyr hostmanager\n\
iprop\t\t2121/tcp\t\t\t# incremental propagation\n\
supfilesrv\t871/tcp\t\t\t# Software Upgrade Protocol server\n\
supfiledbg\t1127/tcp\t\t# Software Upgrade Protocol debugging\n\
\n\
asp\t\t27374/udp\n\
csync2\t\t30865/tcp\t\t\t# cluster synchronization tool\n\
dircproxy\t57000/tcp\t\t\t# Detachable IRC Proxy\n\
tfido\t\t60177/tcp\t\t\t# fidonet EMSI over telnet\n\
fido\t\t60179/tcp\t\t\t# fidonet EMSI over TCP\n\
\n\
# Local services\n\
";

fn strip_lines(db: &ServiceDb) -> Vec<servicedb::Entry> {
    db.entries()
        .map(|e| {
            let mut e = e.clone();
            e.line = 0;
            e
        })
        .collect()
}

/// What every Debian /etc/services must give.
fn check_debian(db: &ServiceDb) {
    assert_eq!(db.port_by_name("ssh", Protocol::Tcp), Some(22));
    assert_eq!(db.port_by_name("www", Protocol::Tcp), Some(80));
    assert_eq!(db.port_by_name("domain", Protocol::Udp), Some(53));
    assert_eq!(db.port_by_name("krb5", Protocol::Udp), Some(88));
    assert_eq!(db.name_by_port(25, Protocol::Tcp), Some("smtp"));
    assert_eq!(db.name_by_port(7, Protocol::Udp), Some("echo"));
    // the AppleTalk (ddp) lines are skipped: rtmp 1/ddp is not a tcp or udp service
    assert_eq!(db.port_by_name("rtmp", Protocol::Tcp), None);
    assert_eq!(db.port_by_name("rtmp", Protocol::Udp), None);
    assert!(db.entries().all(|e| !e.name.eq_ignore_ascii_case("rtmp")));
    // echo 4/ddp did not replace echo 7
    assert_eq!(db.port_by_name("echo", Protocol::Tcp), Some(7));
    let kerberos = db.lookup("kerberos-sec", Protocol::Tcp).unwrap();
    assert_eq!(kerberos.name, "kerberos");
    assert_eq!(kerberos.aliases, vec!["kerberos5", "krb5", "kerberos-sec"]);
    assert_eq!(kerberos.comment.as_deref(), Some("Kerberos v5"));
    // names longer than the application database allows
    assert_eq!(db.port_by_name("kerberos-adm", Protocol::Tcp), Some(749));
    // the host file has no application limit and its names break the seed's rules
    assert!(db.entries().any(|e| e.name.len() > servicedb::MAX_NAME_LEN));
    // written back and read again (leniently), the same entries
    let again = ServiceDb::parse_host(&db.to_text(), "again").unwrap();
    assert_eq!(strip_lines(db), strip_lines(&again));
}

#[test]
fn debian_excerpt_parses() {
    let db = ServiceDb::parse_host(DEBIAN_EXCERPT, "/etc/services").unwrap();
    check_debian(&db);
    // sctp is skipped, the tcp line of the same service stays
    assert_eq!(db.port_by_name("amqp", Protocol::Tcp), Some(5672));
    assert_eq!(db.port_by_name("amqp", Protocol::Udp), None);
    assert!(db
        .entries()
        .all(|e| e.port != 5672 || e.protocol == Protocol::Tcp));
    let krb_prop = db.lookup("hprop", Protocol::Tcp).unwrap();
    assert_eq!(krb_prop.name, "krb-prop");
    assert_eq!(krb_prop.aliases, vec!["krb_prop", "krb5_prop", "hprop"]);
    assert_eq!(
        krb_prop.comment.as_deref(),
        Some("Kerberos slave propagation")
    );
    assert_eq!(
        db.lookup("kerberos-adm", Protocol::Tcp)
            .unwrap()
            .comment
            .as_deref(),
        Some("Kerberos `kadmin' (v5)")
    );
}

#[test]
fn debian_excerpt_breaks_the_application_rules() {
    let errors = ServiceDb::parse(DEBIAN_EXCERPT, "/etc/services").unwrap_err();
    assert!(errors.iter().any(|e| e.expected == Expected::NameLength));
    assert!(errors
        .iter()
        .any(|e| e.expected == Expected::Protocol && e.token == "ddp"));
    assert!(errors.iter().all(|e| e.file == "/etc/services"));
}

#[test]
fn real_etc_services_parses() {
    let path = std::path::Path::new("/etc/services");
    assert!(
        path.exists(),
        "/etc/services is missing: install it with `apt-get install netbase` (this test reads \
         the host's real services file and must not pass without it)"
    );
    let db = match ServiceDb::load_host(path) {
        Ok(db) => db,
        Err(e) => panic!("{e}"),
    };
    assert!(db.len() > 100, "only {} entries", db.len());
    check_debian(&db);
    // the strict parser refuses it, with errors rather than a panic
    assert!(ServiceDb::load(path).is_err());
}

#[test]
fn host_duplicates_first_wins() {
    let db = ServiceDb::parse_host("a 1/tcp x\na 2/tcp\nb 1/tcp x\nA 3/tcp\nb 4/udp\n", "hosts")
        .unwrap();
    assert_eq!(db.len(), 5);
    assert_eq!(db.applications(), 2);
    assert_eq!(db.port_by_name("a", Protocol::Tcp), Some(1));
    assert_eq!(db.port_by_name("x", Protocol::Tcp), Some(1));
    assert_eq!(db.port_by_name("b", Protocol::Tcp), Some(1));
    assert_eq!(db.port_by_name("b", Protocol::Udp), Some(4));
    assert_eq!(db.name_by_port(1, Protocol::Tcp), Some("a"));
    assert_eq!(db.name_by_port(3, Protocol::Tcp), Some("A"));
    assert_eq!(db.lookup("a", Protocol::Tcp).unwrap().line, 1);
}

#[test]
fn host_lenient_names_and_words() {
    let db = ServiceDb::parse_host(
        "a-very-long-service-name 1/tcp OTHER tos-300 weight-5 #c\n1234 2/udp\n",
        "hosts",
    )
    .unwrap();
    let e = db
        .lookup("A-VERY-LONG-SERVICE-NAME", Protocol::Tcp)
        .unwrap();
    assert_eq!(e.aliases, vec!["OTHER", "tos-300"]);
    assert_eq!((e.tos, e.weight), (None, Some(5)));
    // a name made of digits is still found by lookup, port_by_name reads it as a number
    assert_eq!(db.lookup("1234", Protocol::Udp).unwrap().port, 2);
    assert_eq!(db.port_by_name("1234", Protocol::Udp), Some(1234));
}

#[test]
fn host_repeated_keywords_round_trip() {
    let db = ServiceDb::parse_host("a 1/tcp x tos-3 y TOS-4 weight-9 weight-10 #c\n", "h").unwrap();
    let e = db.entries().next().unwrap();
    assert_eq!((e.tos, e.weight), (Some(3), Some(9)));
    assert_eq!(e.aliases, vec!["x", "y", "TOS-4", "weight-10"]);
    assert_eq!(
        e.to_line(),
        "a             1/tcp tos-3 weight-9 x y TOS-4 weight-10 #c"
    );
    let again = ServiceDb::parse_host(&db.to_text(), "h").unwrap();
    assert_eq!(strip_lines(&again), strip_lines(&db));
}

#[test]
fn host_unusable_lines_are_errors() {
    let errors = ServiceDb::parse_host(
        "ok 1/tcp\nlonely\nbad port1/tcp\nworse 70000/udp\nother 5/ddp\nalso 6/\n",
        "/etc/services",
    )
    .unwrap_err();
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        vec![
            "/etc/services:2:7: expected port/protocol (such as 25/tcp), found end of line",
            "/etc/services:3:5: expected a port number 0-65535, found \"port1\"",
            "/etc/services:4:7: expected a port number 0-65535, found \"70000\"",
            "/etc/services:6:6: expected protocol tcp or udp, found \"6/\"",
        ]
    );
}
