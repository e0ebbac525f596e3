//! Frames built from the specifications' layouts, decoded and checked field by field.

use crate::{render, Decoder, Layer, LinkType, Packet};

pub(crate) fn eth(ty: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0xaa, 0, 4, 0, 1, 8, 0xaa, 0, 4, 0, 2, 8];
    f.extend_from_slice(&ty.to_be_bytes());
    f.extend_from_slice(payload);
    while f.len() < 60 {
        f.push(0x42);
    }
    f
}

/// A DECnet routing message on Ethernet, with its length prefix (padded with 0x42).
pub(crate) fn dn(msg: &[u8]) -> Vec<u8> {
    let mut p = (msg.len() as u16).to_le_bytes().to_vec();
    p.extend_from_slice(msg);
    eth(0x6003, &p)
}

/// A long-format data header from 2.2 to 2.1 (flags 0x26: IE), then `nsp`.
pub(crate) fn long_data(nsp: &[u8]) -> Vec<u8> {
    let mut m = vec![
        0x26, 0, 0, 0xaa, 0, 4, 0, 1, 8, 0, 0, 0xaa, 0, 4, 0, 2, 8, 0, 0, 0, 0,
    ];
    m.extend_from_slice(nsp);
    dn(&m)
}

pub(crate) fn dec(f: &[u8]) -> Packet {
    let p = Decoder::new().decode(f, LinkType::Ethernet);
    let _ = (render::tree(&p), render::json(&p), render::line(&p));
    p
}

fn ok(p: &Packet) {
    assert!(!p.is_malformed(), "{}", render::tree(p));
}

fn l<'a>(p: &'a Packet, proto: &str) -> &'a Layer {
    p.layer(proto)
        .unwrap_or_else(|| panic!("no {proto} in\n{}", render::tree(p)))
}

fn v(l: &Layer, name: &str) -> String {
    l.value(name)
        .unwrap_or_else(|| panic!("no {name} in {}", l.summary))
        .to_string()
}

fn n(l: &Layer, name: &str) -> u64 {
    l.num(name)
        .unwrap_or_else(|| panic!("no {name} in {}", l.summary))
}

// ---- Routing (Routing 2.0.0 section 6) ----

#[test]
fn rp_initialization_phase4() {
    // flags 0x01, srcnode 1.2, tiinfo 0x05 (L1 router + verify), blksize 576, tiver 2.0.0,
    // timer 20, reserved image (0).
    let p = dec(&dn(&[
        0x01, 0x02, 0x04, 0x05, 0x40, 0x02, 2, 0, 0, 20, 0, 0,
    ]));
    ok(&p);
    let r = l(&p, "rp");
    assert_eq!(r.msg, Some("initialization"));
    assert_eq!(v(r, "Node address"), "1.2");
    assert_eq!(v(r, "Node type"), "level 2 router (1)");
    assert_eq!(v(r, "Verification required"), "Y");
    assert_eq!(n(r, "Maximum"), 576);
    assert_eq!(v(r, "Version"), "2.0.0");
    assert_eq!(n(r, "Hello period"), 20);
}

#[test]
fn rp_initialization_phase3_has_no_timer() {
    let p = dec(&dn(&[0x01, 5, 0, 0x02, 0x40, 0x02, 1, 3, 0, 0]));
    ok(&p);
    let r = l(&p, "rp");
    assert_eq!(v(r, "Version"), "1.3.0");
    assert!(r.field("Hello period").is_none());
}

#[test]
fn rp_verification() {
    let mut m = vec![0x03, 0x02, 0x04, 9];
    m.extend_from_slice(b"BRVSECRET");
    let p = dec(&dn(&m));
    ok(&p);
    let r = l(&p, "rp");
    assert_eq!(r.msg, Some("verification"));
    assert_eq!(v(r, "Function value"), "BRVSECRET");
}

#[test]
fn rp_hello_and_test() {
    let mut m = vec![0x05, 0x01, 0x04, 10];
    m.extend_from_slice(&[0xaa; 10]);
    let p = dec(&dn(&m));
    ok(&p);
    let r = l(&p, "rp");
    assert_eq!(r.msg, Some("hello and test"));
    assert_eq!(v(r, "Node address"), "1.1");
    assert_eq!(
        r.field("Test data").unwrap().span.end - r.field("Test data").unwrap().span.start,
        11
    );
}

/// Two segments of COUNT routing words each; tcpdump and tshark read one word per segment.
#[test]
fn rp_level1_routing_segments_hold_count_words() {
    let mut body = vec![];
    // Segment 1: count 3, start 10: costs 1, 2, 3 with hops 1.
    body.extend_from_slice(&[3, 0, 10, 0]);
    for c in 1u16..=3 {
        body.extend_from_slice(&((1 << 10) | c).to_le_bytes());
    }
    // Segment 2: count 1, start 0: cost 1023 hops 31 (unreachable).
    body.extend_from_slice(&[1, 0, 0, 0]);
    body.extend_from_slice(&0x7fffu16.to_le_bytes());
    let ck = crate::decnet::routing::checksum(&body, 1);
    let mut m = vec![0x07, 0x02, 0x08, 0x00];
    m.extend_from_slice(&body);
    m.extend_from_slice(&ck.to_le_bytes());
    let p = dec(&dn(&m));
    ok(&p);
    let r = l(&p, "rp");
    assert_eq!(r.msg, Some("L1 router msg"));
    assert_eq!(v(r, "Source node"), "2.2");
    assert_eq!(n(r, "Number of IDs"), 4);
    let entries: Vec<String> = r
        .fields
        .iter()
        .filter(|f| f.name == "Routing entry")
        .map(|f| f.value.to_string())
        .collect();
    assert_eq!(
        entries,
        [
            "10: cost 1 hops 1",
            "11: cost 2 hops 1",
            "12: cost 3 hops 1",
            "0: cost 1023 hops 31"
        ]
    );
    assert!(v(r, "Checksum").ends_with("[correct]"));
    assert!(r.summary.contains("ids 10-12,0-0"), "{}", r.summary);
}

#[test]
fn rp_level2_routing_bad_checksum_is_shown_not_malformed() {
    let m = [0x09, 0x01, 0x08, 0x00, 1, 0, 3, 0, 4, 4, 0x99, 0x99];
    let p = dec(&dn(&m));
    ok(&p);
    let r = l(&p, "rp");
    assert_eq!(r.msg, Some("L2 router msg"));
    assert_eq!(n(r, "Number of areas"), 1);
    assert!(v(r, "Checksum").ends_with("[incorrect]"));
}

#[test]
fn rp_phase3_routing_checksum_initial_zero() {
    let mut body = vec![];
    for c in 1u16..=4 {
        body.extend_from_slice(&((1 << 10) | c).to_le_bytes());
    }
    let ck = crate::decnet::routing::checksum(&body, 0);
    let mut m = vec![0x07, 12, 0, 0];
    m.extend_from_slice(&body);
    m.extend_from_slice(&ck.to_le_bytes());
    let p = dec(&dn(&m));
    ok(&p);
    let r = l(&p, "rp");
    assert_eq!(v(r, "Format"), "Phase III");
    assert_eq!(n(r, "Number of IDs"), 4);
}

#[test]
fn rp_router_hello_with_router_list() {
    let mut m = vec![
        0x0b, 2, 0, 0, 0xaa, 0, 4, 0, 2, 8, 0x02, 0x4f, 0x02, 90, 0, 10, 0, 0,
    ];
    // E-list: name (7 reserved bytes), router list of two.
    let mut rs = vec![];
    rs.extend_from_slice(&[0xaa, 0, 4, 0, 1, 8, 0xc0]);
    rs.extend_from_slice(&[0xaa, 0, 4, 0, 2, 8, 0xda]);
    let mut e = vec![0; 7];
    e.push(rs.len() as u8);
    e.extend_from_slice(&rs);
    m.push(e.len() as u8);
    m.extend_from_slice(&e);
    let p = dec(&dn(&m));
    ok(&p);
    let r = l(&p, "rp");
    assert_eq!(r.msg, Some("Level 1 hello"));
    assert_eq!(v(r, "Node address"), "2.2");
    assert_eq!(n(r, "Routing priority"), 90);
    assert_eq!(n(r, "Hello period"), 10);
    assert_eq!(n(r, "Maximum"), 591);
    let routers: Vec<String> = r
        .fields
        .iter()
        .filter(|f| f.name == "Router")
        .map(|f| f.value.to_string())
        .collect();
    assert_eq!(routers, ["2.1", "2.2"]);
    let known: Vec<String> = r
        .fields
        .iter()
        .filter(|f| f.name == "Known")
        .map(|f| f.value.to_string())
        .collect();
    assert_eq!(known, ["Y", "Y"]);
}

#[test]
fn rp_endnode_hello() {
    let mut m = vec![0x0d, 2, 0, 0, 0xaa, 0, 4, 0, 0x14, 8, 0x03, 0x4f, 0x02, 0];
    m.extend_from_slice(&[0; 8]);
    m.extend_from_slice(&[0xaa, 0, 4, 0, 2, 8]);
    m.extend_from_slice(&[10, 0, 0, 3, 0xaa, 0xaa, 0xaa]);
    let p = dec(&dn(&m));
    ok(&p);
    let r = l(&p, "rp");
    assert_eq!(r.msg, Some("Endnode hello"));
    assert_eq!(v(r, "Node address"), "2.20");
    assert_eq!(v(r, "Designated router"), "aa:00:04:00:02:08");
    assert_eq!(n(r, "Test data"), 3);
}

#[test]
fn rp_short_data_flags() {
    // flags 0x1a = short + RQR + RTS; dst 1.1, src 1.2, forward 3.
    let mut m = vec![0x1a, 0x01, 0x04, 0x02, 0x04, 3];
    m.extend_from_slice(&[0x08]);
    let p = dec(&dn(&m));
    ok(&p);
    let r = l(&p, "rp");
    assert_eq!(r.msg, Some("routed data"));
    assert_eq!(v(r, "Request return"), "Y");
    assert_eq!(v(r, "Return path"), "Y");
    assert_eq!(v(r, "Destination node"), "1.1");
    assert_eq!(v(r, "Source node"), "1.2");
    assert_eq!(n(r, "Visits"), 3);
    assert_eq!(l(&p, "nsp").msg, Some("no operation"));
}

#[test]
fn rp_long_data_and_padding_byte() {
    // Padding byte 0x83 (skip 3 bytes including itself) then a long header with IE.
    let mut m = vec![
        0x83, 0, 0, 0x2e, 0, 0, 0xaa, 0, 4, 0, 1, 8, 0, 0, 0xaa, 0, 4, 0, 2, 8, 0, 4, 0, 0, 0x08,
    ];
    m.push(0x08);
    m.truncate(26);
    let p = dec(&dn(&m));
    ok(&p);
    let r = l(&p, "rp");
    assert_eq!(n(r, "Padding"), 3);
    assert_eq!(v(r, "Intra-Ethernet"), "Y");
    assert_eq!(v(r, "Request return"), "Y");
    assert_eq!(v(r, "Destination node"), "2.1");
    assert_eq!(v(r, "Source node"), "2.2");
    assert_eq!(n(r, "Visits"), 4);
}

// ---- NSP (NSP 4.0.1 section 6) ----

#[test]
fn nsp_data_segment_bom_eom_ack_nak() {
    // 0x60 BOM+EOM, dst 0x1234, src 0x5678, acknum 5 NAK (0x9005), segnum 6 with DLY.
    let p = dec(&long_data(&[
        0x60, 0x34, 0x12, 0x78, 0x56, 0x05, 0x90, 0x06, 0x10, b'h', b'i',
    ]));
    ok(&p);
    let s = l(&p, "nsp");
    assert_eq!(s.msg, Some("data segment"));
    assert_eq!(n(s, "Destination link address"), 0x1234);
    assert_eq!(n(s, "Source link address"), 0x5678);
    assert_eq!(n(s, "Acknowledge number"), 5);
    assert_eq!(v(s, "Qualifier"), "NAK (1)");
    assert_eq!(n(s, "Segment number"), 6);
    assert_eq!(v(s, "Delay"), "Y");
    assert_eq!(v(s, "BOM"), "Y");
    assert_eq!(v(s, "EOM"), "Y");
    assert!(s.summary.contains("{NAK}"));
}

#[test]
fn nsp_data_segment_middle() {
    let p = dec(&long_data(&[0x00, 1, 0, 2, 0, 7, 0, 1, 2, 3]));
    ok(&p);
    let s = l(&p, "nsp");
    assert_eq!(v(s, "BOM"), "N");
    assert_eq!(v(s, "EOM"), "N");
    assert_eq!(n(s, "Segment number"), 7);
    assert!(s.field("Acknowledge number").is_none());
}

#[test]
fn nsp_interrupt_with_cross_ack() {
    // ackoth 1 (0x8001), cross-subchannel ack of data 3 (0xa003), segnum 1.
    let p = dec(&long_data(&[
        0x30, 1, 0, 2, 0, 0x01, 0x80, 0x03, 0xa0, 1, 0, b'!',
    ]));
    ok(&p);
    let s = l(&p, "nsp");
    assert_eq!(s.msg, Some("interrupt"));
    assert_eq!(n(s, "Acknowledge other"), 1);
    assert_eq!(n(s, "Acknowledge number"), 3);
    assert_eq!(v(s, "Interrupt data"), "!");
}

#[test]
fn nsp_link_service() {
    // lsflags: fcmod 2 (send), fcval int 0 (data request), fcval 0.
    let p = dec(&long_data(&[0x10, 1, 0, 2, 0, 1, 0, 0x02, 0]));
    ok(&p);
    let s = l(&p, "nsp");
    assert_eq!(s.msg, Some("data request"));
    assert_eq!(v(s, "Flow control information"), "send (2)");
    let p = dec(&long_data(&[0x10, 1, 0, 2, 0, 1, 0, 0x05, 1]));
    let s = l(&p, "nsp");
    assert_eq!(s.msg, Some("interrupt rq"));
    assert_eq!(v(s, "Flow control information"), "stop (1)");
}

#[test]
fn nsp_acks() {
    let p = dec(&long_data(&[0x04, 1, 0, 2, 0, 0x00, 0x80]));
    ok(&p);
    assert_eq!(l(&p, "nsp").msg, Some("data ackn"));
    assert_eq!(n(l(&p, "nsp"), "Acknowledge number"), 0);
    let p = dec(&long_data(&[0x14, 1, 0, 2, 0, 0x02, 0x90]));
    ok(&p);
    let s = l(&p, "nsp");
    assert_eq!(s.msg, Some("control ackn"));
    assert_eq!(n(s, "Acknowledge other"), 2);
    assert_eq!(v(s, "Qualifier"), "NAK (1)");
}

/// The Connect Ack is 3 bytes (MSGFLG, DSTADDR); tcpdump calls it "(nsplen 3 < 5) (invalid)".
#[test]
fn nsp_connect_ack_is_three_bytes() {
    let p = dec(&long_data(&[0x24, 0x96, 0x6f]));
    ok(&p);
    let s = l(&p, "nsp");
    assert_eq!(s.msg, Some("connect ackn"));
    assert_eq!(n(s, "Destination link address"), 0x6f96);
}

#[test]
fn nsp_no_op_and_reserved() {
    let p = dec(&long_data(&[0x08, 1, 2, 3]));
    ok(&p);
    assert_eq!(l(&p, "nsp").msg, Some("no operation"));
    let p = dec(&long_data(&[0x58, 0, 0]));
    assert!(l(&p, "nsp").malformed.is_some());
}

fn ci(retrans: bool, session: &[u8]) -> Vec<u8> {
    let mut m = vec![
        if retrans { 0x68 } else { 0x18 },
        0,
        0,
        0xcc,
        0xdc,
        0x01,
        0x02,
        0x33,
        0x02,
    ];
    m.extend_from_slice(session);
    long_data(&m)
}

#[test]
fn nsp_connect_initiate_and_scp_format1() {
    // Dest: format 1 object 0 "FAL"; Src: format 1 object 0 "PyNFT"; menuver 0x03
    // (access control + user data); user, password, account, user data.
    let mut s = vec![1, 0, 3];
    s.extend_from_slice(b"FAL");
    s.extend_from_slice(&[1, 0, 5]);
    s.extend_from_slice(b"PyNFT");
    s.push(0x03);
    for x in [&b"TESTER"[..], b"SECRET", b"ACCT42", b"hello"] {
        s.push(x.len() as u8);
        s.extend_from_slice(x);
    }
    let p = dec(&ci(false, &s));
    ok(&p);
    let nsp = l(&p, "nsp");
    assert_eq!(nsp.msg, Some("connect init"));
    assert_eq!(n(nsp, "Source link address"), 0xdccc);
    assert_eq!(v(nsp, "NSP version"), "4.0");
    assert_eq!(n(nsp, "Segment size"), 563);
    let c = l(&p, "scp");
    assert_eq!(c.msg, Some("connect data"));
    assert_eq!(v(c, "Descriptor"), "FAL");
    assert_eq!(v(c, "Requestor ID"), "TESTER");
    assert_eq!(v(c, "Password"), "SECRET");
    assert_eq!(v(c, "Account"), "ACCT42");
    assert_eq!(v(c, "User data"), "hello");
    assert_eq!(v(c, "Version"), "SCP 1.0");
    assert!(
        c.summary.contains("password ****"),
        "the line never shows passwords"
    );
}

#[test]
fn scp_format0_and_format2_and_version2() {
    // Dest format 0 object 17; Src format 2 object 0, group 1, user 4, "ME"; menuver V2 + proxy.
    let s = [0, 17, 2, 0, 1, 0, 4, 0, 2, b'M', b'E', 0x24];
    let p = dec(&ci(true, &s));
    ok(&p);
    assert_eq!(v(l(&p, "nsp"), "Retransmitted"), "Y");
    let c = l(&p, "scp");
    assert_eq!(v(c, "Object type"), "Files-DAP4+ (17)");
    assert_eq!(n(c, "Group"), 1);
    assert_eq!(n(c, "User"), 4);
    assert_eq!(v(c, "Proxy"), "Y");
    assert_eq!(v(c, "Version"), "SCP 2.0");
    assert!(c.summary.contains("(Files-DAP4+)"));
}

/// The Connect Confirm carries accept data, not connect data (Wireshark gets this wrong).
#[test]
fn nsp_connect_confirm_accept_data() {
    let p = dec(&long_data(&[
        0x28, 0xcc, 0xdc, 0x96, 0x6f, 0x01, 0x02, 0x33, 0x02, 2, 0xff, 0xff,
    ]));
    ok(&p);
    assert_eq!(l(&p, "nsp").msg, Some("connect confirm"));
    let a = l(&p, "scp");
    assert_eq!(a.msg, Some("accept data"));
    assert_eq!(v(a, "User data"), "\\xff\\xff");
}

#[test]
fn nsp_disconnects_and_reasons() {
    let mut m = vec![0x38, 1, 0, 2, 0, 9, 0, 8];
    m.extend_from_slice(b"ABORTING");
    let p = dec(&long_data(&m));
    ok(&p);
    let d = l(&p, "nsp");
    assert_eq!(d.msg, Some("discnct init"));
    assert_eq!(v(d, "Reason"), "User aborted (9)");
    let s = l(&p, "scp");
    assert_eq!(s.msg, Some("reject data"), "no confirm seen: a reject");
    assert_eq!(v(s, "User data"), "ABORTING");
    let p = dec(&long_data(&[0x48, 1, 0, 2, 0, 42, 0]));
    ok(&p);
    assert_eq!(v(l(&p, "nsp"), "Reason"), "Disconnect complete (42)");
    for (code, name) in [
        (6u8, "Dest. overloaded"),
        (34, "Bad ID/password"),
        (36, "Bad account info"),
        (43, "Data too long"),
        (4, "Unknown user"),
    ] {
        let p = dec(&long_data(&[0x38, 1, 0, 2, 0, code, 0, 0]));
        assert!(l(&p, "scp").summary.contains(&format!("{{{name}}}")));
    }
}

/// The link's object, learnt from its connect, names the application data (here DAP).
#[test]
fn session_follows_link_to_dap() {
    let mut d = Decoder::new();
    let s = [0, 17, 0, 5, 0];
    let p1 = d.decode(&ci(false, &s), LinkType::Ethernet);
    ok(&p1);
    // Data from the CI's source link: DAP configuration.
    let dap = [1, 0, 0, 0x10, 7, 3, 7, 0, 0, 0, 0, 0x02];
    let mut m = vec![0x60, 0x96, 0x6f, 0xcc, 0xdc, 1, 0];
    m.extend_from_slice(&dap);
    let p2 = d.decode(&long_data(&m), LinkType::Ethernet);
    ok(&p2);
    let a = l(&p2, "dap");
    assert_eq!(a.msg, Some("configuration"));
    assert_eq!(n(a, "Maximum buffer size"), 4096);
    assert_eq!(v(a, "Operating system type"), "VAX/VMS (7)");
    assert_eq!(v(a, "FilSys"), "RMS-32 (3)");
    assert_eq!(v(a, "Ver"), "7.0.0.0(0)");
    assert!(v(a, "System capabilities").contains("sequential org"));
}
