//! Built frames for MOP, loopback, DAP, CTERM, LAT, STP, LAVC, Multinet, DDCMP and the IP
//! family, checked field by field.

use super::frames::{dec, eth, long_data};
use crate::{render, Decoder, Layer, LinkType, Packet};

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

fn mop(ty: u16, msg: &[u8]) -> Packet {
    let mut p = (msg.len() as u16).to_le_bytes().to_vec();
    p.extend_from_slice(msg);
    dec(&eth(ty, &p))
}

// ---- MOP (MOP 3.0.0 section 5) ----

#[test]
fn mop_every_code_has_its_seed_name() {
    let cases: &[(u16, &[u8], &str)] = &[
        (
            0x6001,
            &[0, 1, 0, 0x10, 0, 0, 0xde, 0xad, 0, 0x20, 0, 0],
            "mem load w/addr",
        ),
        (0x6001, &[1], "dump completed"),
        (0x6001, &[2, 1, 0, 0x10, 0, 0, 1, 2, 3], "memory load data"),
        (0x6001, &[3], "volunteer assist"),
        (0x6001, &[4, 0, 0, 1, 0, 0, 2], "mem dump request"),
        (0x6002, &[5, 0, 7, 0], "remote ID reqst"),
        (
            0x6002,
            &[6, 1, 2, 3, 4, 5, 6, 7, 8, 0, 3, 0, 0xff],
            "rem boot request",
        ),
        (0x6002, &[7, 0, 0, 0], "remote system ID"),
        (0x6001, &[8, 1, 1, 2, 0xff, 0], "request program"),
        (0x6002, &[9, 2, 0], "counters request"),
        (0x6001, &[10, 3, 0], "mem load request"),
        (
            0x6001,
            &[12, 5, 1, 0, 0, 0x10, 0, 2, 0, 2],
            "dump service req",
        ),
        (0x6002, &[13, 1, 2, 3, 4, 5, 6, 7, 8], "reserve console"),
        (0x6001, &[14, 0, 0, 1, 0, 9, 9], "memory dump data"),
        (0x6002, &[15], "release console"),
        (
            0x6001,
            &[16, 4, 1, 3, b'A', b'B', b'C', 0, 0, 0x20, 0, 0],
            "par load w/addr",
        ),
        (0x6002, &[17, 1, b'x'], "rem console poll"),
        (0x6002, &[19, 3, b'y'], "rem console rply"),
    ];
    for (ty, m, name) in cases {
        let p = mop(*ty, m);
        ok(&p);
        assert_eq!(l(&p, "mop").msg, Some(*name), "{}", render::tree(&p));
    }
}

#[test]
fn mop_fields() {
    let p = mop(0x6001, &[0, 1, 0, 0x10, 0, 0, 0xde, 0xad, 0, 0x20, 0, 0]);
    let m = l(&p, "mop");
    assert_eq!(n(m, "Load number"), 1);
    assert_eq!(n(m, "Load address"), 0x1000);
    assert_eq!(n(m, "Image data"), 2);
    assert_eq!(n(m, "Transfer address"), 0x2000);
    let p = mop(0x6001, &[8, 1, 1, 2, 0xff, 0]);
    let m = l(&p, "mop");
    assert_eq!(v(m, "Communication device"), "UNA (1)");
    assert_eq!(v(m, "Type"), "System (2)");
    assert_eq!(v(m, "Software ID"), "Standard O/S");
    assert_eq!(v(m, "Processor"), "PDP-11 (0)");
    let p = mop(0x6001, &[16, 4, 1, 3, b'A', b'B', b'C', 0, 0, 0x20, 0, 0]);
    let m = l(&p, "mop");
    assert_eq!(v(m, "Target name"), "ABC");
    let p = mop(0x6002, &[19, 3, b'y']);
    let m = l(&p, "mop");
    assert_eq!(v(m, "Command status"), "Lost");
    let p = mop(0x6002, &[6, 1, 2, 3, 4, 5, 6, 7, 8, 0, 3, 0, 0xff]);
    let m = l(&p, "mop");
    assert_eq!(v(m, "Boot server"), "Req");
    assert_eq!(v(m, "Software ID"), "Standard O/S");
}

/// System ID information fields as PyDECnet sends them (FUNCTIONS with length 1).
#[test]
fn mop_system_id_information() {
    let mut m = vec![7, 0, 0, 0];
    m.extend_from_slice(&[1, 0, 3, 3, 0, 0]);
    m.extend_from_slice(&[2, 0, 1, 0x61]);
    m.extend_from_slice(&[7, 0, 6, 8, 0, 0x2b, 0xe1, 2, 1]);
    m.extend_from_slice(&[100, 0, 1, 9]);
    m.extend_from_slice(&[200, 0, 4, 3, b'D', b'N', b'P']);
    m.extend_from_slice(&[0x2c, 1, 1, 2]);
    m.extend_from_slice(&[0x90, 1, 1, 1]);
    let p = mop(0x6002, &m);
    ok(&p);
    let s = l(&p, "mop");
    assert_eq!(v(s, "Version"), "3.0.0");
    assert_eq!(
        v(s, "Functions"),
        "0x61 loop,console carrier,data link counters"
    );
    assert_eq!(v(s, "Hardware address"), "08:00:2b:e1:02:01");
    assert_eq!(v(s, "Communication device"), "PCL (9)");
    assert_eq!(v(s, "Software ID"), "DNP");
    assert_eq!(v(s, "Datalink type"), "Ethernet (1)");
}

#[test]
fn mop_counters_reply_57_bytes() {
    let mut m = vec![11, 0x34, 0x12];
    m.extend_from_slice(&[0; 54]);
    m[3] = 60;
    let p = mop(0x6002, &m);
    ok(&p);
    let c = l(&p, "mop");
    assert_eq!(n(c, "Receipt number"), 0x1234);
    assert_eq!(n(c, "Seconds since zeroed"), 60);
    assert_eq!(n(c, "User buffer unavailable"), 0);
}

#[test]
fn loopback_forward_and_reply() {
    let mut m = vec![0, 0, 2, 0, 8, 0, 0x2b, 1, 2, 3, 1, 0, 0x02, 0x7b];
    m.extend_from_slice(&[0; 10]);
    let p = dec(&eth(0x9000, &m));
    ok(&p);
    let lp = l(&p, "loop");
    assert_eq!(lp.msg, Some("loopback request"));
    assert_eq!(v(lp, "Forward address"), "08:00:2b:01:02:03");
    let m = [8, 0, 2, 0, 8, 0, 0x2b, 1, 2, 3, 1, 0, 0x02, 0x7b, 0, 0];
    let p = dec(&eth(0x9000, &m));
    ok(&p);
    let lp = l(&p, "loop");
    assert_eq!(lp.msg, Some("loopback reply"));
    assert_eq!(n(lp, "Skip count"), 8);
    assert_eq!(n(lp, "Receipt number"), 31490);
}

// ---- DAP (DAP 5.6.0 section 4) ----

fn dap_link(msgs: &[u8]) -> Packet {
    let mut d = Decoder::new();
    // CI to object 17 from link 0xdccc.
    let mut ci = vec![0x18, 0, 0, 0xcc, 0xdc, 1, 2, 0x33, 2];
    ci.extend_from_slice(&[0, 17, 0, 5, 0]);
    let _ = d.decode(&long_data(&ci), LinkType::Ethernet);
    let mut m = vec![0x60, 0x96, 0x6f, 0xcc, 0xdc, 1, 0];
    m.extend_from_slice(msgs);
    d.decode(&long_data(&m), LinkType::Ethernet)
}

fn daps(p: &Packet) -> Vec<&Layer> {
    p.layers.iter().filter(|l| l.proto == "dap").collect()
}

#[test]
fn dap_every_message_type() {
    // Blocked messages: each with FLAGS LENGTH (0x02) and a 1-byte length.
    let bodies: &[(u8, &[u8], &str)] = &[
        (1, &[0, 2, 7, 3, 5, 6, 0, 0, 0, 0x02], "configuration"),
        (2, &[0x07, 0x02, 0x00, 0x02], "file attribs"),
        (3, &[1, 0, 1, b'A', 0x02, 0x02], "open file"),
        (3, &[6, 0, 1, b'*'], "list dir"),
        (4, &[1, 0x01, 0], "control info"),
        (5, &[3], "continue"),
        (6, &[], "acknowledge"),
        (7, &[1], "close file"),
        (8, &[0, b'x'], "data message"),
        (9, &[0x27, 0x50], "status"),
        (10, &[0], "file index"),
        (11, &[0], "allocate"),
        (12, &[0], "summary info"),
        (
            13,
            &[
                0x01, b'2', b'1', b'-', b'N', b'O', b'V', b'-', b'2', b'0', b'2', b'6', b' ', b'0',
                b'0', b':', b'0', b'0', b':',
            ],
            "timestamp",
        ),
        (14, &[0x05, 2, b'M', b'E', 0x05], "protect mode"),
        (15, &[0x01, 1, b'F'], "file name"),
        (16, &[1, 2, b'a', b'b'], "access rights"),
    ];
    let mut all = Vec::new();
    for (ty, body, _) in bodies {
        all.extend_from_slice(&[*ty, 0x02, body.len() as u8]);
        all.extend_from_slice(body);
    }
    let p = dap_link(&all);
    ok(&p);
    let got: Vec<&str> = daps(&p).iter().map(|l| l.msg.unwrap()).collect();
    let want: Vec<&str> = bodies.iter().map(|b| b.2).collect();
    assert_eq!(got, want);
    let d = daps(&p);
    assert_eq!(v(d[0], "Operating system type"), "VAX/VMS (7)");
    assert_eq!(v(d[0], "Ver"), "5.6.0.0(0)");
    assert_eq!(v(d[1], "Data type"), "0x2 Image");
    assert_eq!(v(d[1], "Attribute"), "Seqnt (0)");
    assert_eq!(v(d[1], "Record format"), "VarLen (2)");
    assert_eq!(v(d[2], "File specification"), "A");
    assert_eq!(v(d[2], "File access mode"), "0x2 Get");
    assert_eq!(v(d[2], "Shared access mode"), "0x2 Get");
    assert_eq!(v(d[4], "Control function"), "get (1)");
    assert_eq!(v(d[4], "Record access"), "sequential record (0)");
    assert_eq!(v(d[5], "Recovery action"), "abort transfer (3)");
    assert_eq!(v(d[7], "Completion function"), "close (1)");
    assert_eq!(v(d[8], "File data"), "x");
    assert_eq!(v(d[9], "Status"), "I/O error (5)");
    assert_eq!(n(d[9], "Detail"), 0x027);
    assert_eq!(v(d[13], "Created"), "21-NOV-2026 00:00:");
    assert_eq!(v(d[14], "Owner"), "ME");
    assert_eq!(v(d[14], "Owner protection"), "0x5 deny read,deny execute");
    assert_eq!(v(d[15], "Name type"), "0x1 file spec");
    assert_eq!(v(d[15], "Name"), "F");
}

#[test]
fn dap_continue_names() {
    for (c, name) in [
        (1u8, "try again"),
        (2, "skip it"),
        (3, "abort transfer"),
        (4, "resume"),
    ] {
        let p = dap_link(&[5, 0, c]);
        assert!(l(&p, "dap").summary.contains(&format!("{{{name}}}")));
    }
}

#[test]
fn dap_split_message_is_continued_not_malformed() {
    // LENGTH says 10 but the BOM-only segment holds 3: the rest comes in the next segment.
    let mut d = Decoder::new();
    let mut ci = vec![0x18, 0, 0, 0xcc, 0xdc, 1, 2, 0x33, 2];
    ci.extend_from_slice(&[0, 17, 0, 5, 0]);
    let _ = d.decode(&long_data(&ci), LinkType::Ethernet);
    let m = [0x20, 0x96, 0x6f, 0xcc, 0xdc, 1, 0, 8, 0x02, 10, 0, 1, 2];
    let p = d.decode(&long_data(&m), LinkType::Ethernet);
    ok(&p);
    assert!(l(&p, "dap").summary.contains("continues"));
}

// ---- CTERM (Foundation and Command Terminal 1.0.0) ----

fn cterm_link(msg: &[u8]) -> Packet {
    let mut d = Decoder::new();
    let mut ci = vec![0x18, 0, 0, 0xcc, 0xdc, 1, 2, 0x33, 2];
    ci.extend_from_slice(&[0, 42, 0, 5, 0]);
    let _ = d.decode(&long_data(&ci), LinkType::Ethernet);
    let mut m = vec![0x60, 0x96, 0x6f, 0xcc, 0xdc, 1, 0];
    m.extend_from_slice(msg);
    d.decode(&long_data(&m), LinkType::Ethernet)
}

#[test]
fn cterm_foundation_bind() {
    let p = cterm_link(&[1, 2, 0, 0, 7, 0, 0x10, 0]);
    ok(&p);
    let c = l(&p, "cterm");
    assert_eq!(c.msg, Some("bind request"));
    assert_eq!(v(c, "Version"), "2.0.0");
    assert_eq!(n(c, "Operating system"), 7);
}

#[test]
fn cterm_every_command_message() {
    let msgs: &[(&[u8], &str)] = &[
        (
            &[
                1, 0, 1, 0, 0, b'V', b'M', b'S', b' ', b' ', b' ', b' ', b' ', 1, 2, 0, 2,
            ],
            "initiate",
        ),
        (
            &[2, 0, 0, 0, 80, 0, 0, 0, 30, 0, 0, 0, 0, 0, 0, 0, 1, 0xff],
            "start read",
        ),
        (&[3, 0, 0, 0, 1, 2, 3, 0, b'o', b'k'], "read data"),
        (&[4, 1, 3], "out-of-band"),
        (&[5, 1], "abort read"),
        (&[6, 0], "clear input"),
        (&[7, 0, 0, 1, 1, b'h', b'i'], "write data"),
        (&[8, 1, 5, 0, 6, 0], "write status"),
        (&[9, 1], "discard stat"),
        (&[10, 0, 1, 2], "read config"),
        (&[11, 0, 1, 2, 80], "config data"),
        (&[12, 0], "check input"),
        (&[13, 0, 7, 0], "input count"),
        (&[14, 1], "input state"),
    ];
    let mut common = vec![9, 0];
    for (m, _) in msgs {
        common.extend_from_slice(&(m.len() as u16).to_le_bytes());
        common.extend_from_slice(m);
    }
    let p = cterm_link(&common);
    ok(&p);
    let got: Vec<&str> = p
        .layers
        .iter()
        .filter(|l| l.proto == "cterm")
        .skip(1)
        .map(|l| l.msg.unwrap())
        .collect();
    let want: Vec<&str> = msgs.iter().map(|m| m.1).collect();
    assert_eq!(got, want);
    let c: Vec<&Layer> = p
        .layers
        .iter()
        .filter(|l| l.proto == "cterm")
        .skip(1)
        .collect();
    assert_eq!(n(c[0], "Maximum receive size"), 512);
    assert_eq!(n(c[1], "Buffer size"), 80);
    assert_eq!(n(c[1], "Time out"), 30);
    assert_eq!(v(c[2], "Data"), "ok");
    assert!(c[3].summary.contains("[discard]"));
    assert!(c[4].summary.contains("{if no more input}"));
    assert_eq!(n(c[6], "Prefix"), 1);
    assert!(c[7].summary.contains("{some output lost}"));
    assert_eq!(n(c[7], "Horizontal position"), 5);
    assert!(c[8].summary.contains("{discard}"));
    assert_eq!(n(c[12], "Character count"), 7);
    assert!(c[13].summary.contains("{more characters}"));
}

// ---- LAT, STP, LANbridge, LAVC ----

#[test]
fn lat_run_with_slots() {
    let m = [
        0x00, 2, 0x34, 0x12, 0x78, 0x56, 3, 2, 1, 2, 3, 0x01, b'a', b'b', b'c', 0, 4, 5, 0, 0xd0,
    ];
    let p = dec(&eth(0x6004, &m));
    ok(&p);
    let t = l(&p, "lat");
    assert_eq!(t.msg, Some("run"));
    assert_eq!(n(t, "Slots"), 2);
    assert_eq!(n(t, "Destination circuit"), 0x1234);
    assert_eq!(n(t, "Source circuit"), 0x5678);
    assert_eq!(v(t, "Data"), "abc");
    let types: Vec<String> = t
        .fields
        .iter()
        .filter(|f| f.name == "Slot type")
        .map(|f| f.value.to_string())
        .collect();
    assert_eq!(types, ["data-a (0)", "stop (13)"]);
}

#[test]
fn lat_start_stop_and_service_announcement() {
    let mut m = vec![0x06, 0, 0, 0, 1, 0, 0, 0];
    m.extend_from_slice(&[0xdc, 5, 5, 2, 8, 4, 8, 20, 0, 0, 3, 1]);
    m.extend_from_slice(&[4, b'V', b'A', b'X', b'1', 3, b'D', b'S', b'1', 0, 0]);
    let p = dec(&eth(0x6004, &m));
    ok(&p);
    let t = l(&p, "lat");
    assert_eq!(t.msg, Some("start"));
    assert_eq!(v(t, "Product type"), "VAX/VMS (3)");
    assert_eq!(v(t, "Slave node name"), "VAX1");
    assert_eq!(v(t, "Master node name"), "DS1");
    let p = dec(&eth(0x6004, &[0x0a, 0, 0, 0, 1, 0, 0, 0, 6]));
    ok(&p);
    assert_eq!(v(l(&p, "lat"), "Reason"), "time limit expired (6)");
    let mut m = vec![0x28, 80, 5, 5, 5, 0, 1, 0, 0xdc, 5, 20, 0, 1, 1];
    m.extend_from_slice(&[
        4, b'V', b'A', b'X', b'1', 0, 1, 100, 3, b'S', b'V', b'C', 0, 1, 1,
    ]);
    let p = dec(&eth(0x6004, &m));
    ok(&p);
    let t = l(&p, "lat");
    assert_eq!(t.msg, Some("service announcement"));
    assert_eq!(v(t, "Node name"), "VAX1");
    assert_eq!(v(t, "Service"), "SVC");
    assert_eq!(n(t, "Rating"), 100);
    let mut m = vec![0x38, 1, 5, 5, 5, 0, 0xdc, 5, 9, 0, 10, 0];
    m.extend_from_slice(&[
        3, b'V', b'A', b'X', 0, 2, b'D', b'S', 3, b'S', b'V', b'C', 0,
    ]);
    let p = dec(&eth(0x6004, &m));
    ok(&p);
    let t = l(&p, "lat");
    assert_eq!(t.msg, Some("solicit information"));
    assert_eq!(n(t, "Solicit identifier"), 9);
    assert_eq!(v(t, "Destination service name"), "SVC");
}

/// A start slot and a reject slot with its reason in the low nibble.
#[test]
fn lat_start_and_reject_slots() {
    let mut m = vec![0x00, 2, 0x34, 0x12, 0x78, 0x56, 3, 2];
    let body = [1u8, 0, 0, 3, b'S', b'V', b'C', 0];
    m.extend_from_slice(&[1, 2, body.len() as u8, 0x92]);
    m.extend_from_slice(&body);
    m.extend_from_slice(&[1, 2, 0, 0xc8]);
    let p = dec(&eth(0x6004, &m));
    ok(&p);
    let t = l(&p, "lat");
    assert_eq!(v(t, "Service name"), "SVC");
    assert_eq!(v(t, "Reason"), "no such service (8)");
}

#[test]
fn stp_config_bpdu_over_llc() {
    let mut b = vec![
        0, 0, 0, 0, 0x01, 0x80, 0, 0, 1, 2, 3, 4, 5, 0, 0, 0, 4, 0x80, 0, 0, 1, 2, 3, 4, 6, 0x80, 1,
    ];
    b.extend_from_slice(&[0, 0, 0x14, 0, 2, 0, 0x0f, 0]);
    let mut f = vec![0x01, 0x80, 0xc2, 0, 0, 0, 0, 1, 2, 3, 4, 6];
    f.extend_from_slice(&((b.len() + 3) as u16).to_be_bytes());
    f.extend_from_slice(&[0x42, 0x42, 0x03]);
    f.extend_from_slice(&b);
    let p = dec(&f);
    ok(&p);
    let s = l(&p, "stp");
    assert_eq!(s.msg, Some("config BPDU"));
    assert_eq!(n(s, "Root priority"), 0x8000);
    assert_eq!(n(s, "Root path cost"), 4);
    assert_eq!(v(s, "Hello time"), "2.00");
    assert_eq!(v(s, "Flags"), "0x01 TC");
}

#[test]
fn lanbridge_hello() {
    let m = [
        0xe1, 0x19, 1, 0, 0, 0x80, 8, 0, 0x2b, 1, 2, 3, 0, 10, 0, 0x80, 8, 0, 0x2b, 4, 5, 6, 1, 0,
        1, 15, 30,
    ];
    let p = dec(&eth(0x8038, &m));
    ok(&p);
    let s = l(&p, "stp");
    assert_eq!(s.msg, Some("LANbridge hello"));
    assert_eq!(n(s, "Root path cost"), 10);
    assert_eq!(v(s, "Bridge address"), "08:00:2b:04:05:06");
    assert_eq!(n(s, "Hello time"), 1);
}

#[test]
fn lavc_frame() {
    let mut f = vec![0xab, 0, 4, 1, 7, 0, 8, 0, 0x2b, 1, 2, 3, 0x60, 0x07];
    f.extend_from_slice(&[0; 46]);
    let p = dec(&f);
    ok(&p);
    assert_eq!(n(l(&p, "lavc"), "Cluster group"), 7);
}

// ---- Encapsulations and the IP family ----

fn ipv4(proto: u8, payload: &[u8]) -> Vec<u8> {
    let tot = (20 + payload.len()) as u16;
    let mut ip = vec![
        0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];
    ip[2..4].copy_from_slice(&tot.to_be_bytes());
    ip.extend_from_slice(payload);
    let mut f = vec![0; 12];
    f.extend_from_slice(&[8, 0]);
    f.extend_from_slice(&ip);
    f
}

fn tcp(sp: u16, dp: u16, opts: &[u8], payload: &[u8]) -> Vec<u8> {
    tcp_seq(sp, dp, 1, opts, payload)
}

fn tcp_seq(sp: u16, dp: u16, seq: u32, opts: &[u8], payload: &[u8]) -> Vec<u8> {
    let off = ((20 + opts.len()) / 4) as u8;
    let mut t = sp.to_be_bytes().to_vec();
    t.extend_from_slice(&dp.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&[0, 0, 0, 2, off << 4, 0x18, 1, 0, 0, 0, 0, 0]);
    t.extend_from_slice(opts);
    t.extend_from_slice(payload);
    ipv4(6, &t)
}

#[test]
fn multinet_tcp_two_records_in_one_segment() {
    let mut pl = vec![];
    for m in [
        &[0x05u8, 0x01, 0x04, 2, 0xaa, 0xaa][..],
        &[0x02, 0x01, 0x04, 0x02, 0x04, 0, 0x08][..],
    ] {
        pl.extend_from_slice(&(m.len() as u16).to_le_bytes());
        pl.extend_from_slice(&[0, 0]);
        pl.extend_from_slice(m);
    }
    pl[4] = 0x05;
    let p = dec(&tcp(42686, 700, &[], &pl));
    ok(&p);
    let recs = p.layers.iter().filter(|l| l.proto == "multinet").count();
    assert_eq!(recs, 2);
    let rps: Vec<Option<&str>> = p
        .layers
        .iter()
        .filter(|l| l.proto == "rp")
        .map(|l| l.msg)
        .collect();
    assert_eq!(rps, [Some("hello and test"), Some("routed data")]);
}

#[test]
fn multinet_udp() {
    let m = [7, 0, 0, 0, 0x05, 0x01, 0x04, 0];
    let mut u = 7101u16.to_be_bytes().to_vec();
    u.extend_from_slice(&7102u16.to_be_bytes());
    u.extend_from_slice(&((8 + m.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(&m);
    let p = dec(&ipv4(17, &u));
    ok(&p);
    assert_eq!(n(l(&p, "multinet"), "Sequence"), 7);
    assert_eq!(l(&p, "rp").msg, Some("hello and test"));
}

#[test]
fn ddcmp_data_and_control() {
    let crc = crate::decnet::ddcmp::crc16;
    let mut s = vec![0x05, 6, 0x40, 0, 0, 1];
    s.extend_from_slice(&crc(&s.clone()).to_le_bytes());
    let data = [0x05u8, 0x01, 0x04, 0];
    let mut d = vec![0x81, data.len() as u8, 0xc0, 0, 1, 1];
    d.extend_from_slice(&crc(&d.clone()).to_le_bytes());
    d.extend_from_slice(&data);
    d.extend_from_slice(&crc(&data).to_le_bytes());
    s.extend_from_slice(&d);
    let p = dec(&tcp(8201, 8202, &[], &s));
    ok(&p);
    let dd: Vec<Option<&str>> = p
        .layers
        .iter()
        .filter(|l| l.proto == "ddcmp")
        .map(|l| l.msg)
        .collect();
    assert_eq!(dd, [Some("STRT"), Some("data")]);
    assert_eq!(l(&p, "rp").msg, Some("hello and test"));
}

#[test]
fn gre_carries_decnet() {
    let mut g = vec![0, 0, 0x60, 0x03];
    g.extend_from_slice(&[4, 0, 0x05, 0x01, 0x10, 0]);
    let p = dec(&ipv4(47, &g));
    ok(&p);
    assert_eq!(v(l(&p, "rp"), "Node address"), "4.1");
}

#[test]
fn tcp_flags_and_options() {
    let opts = [
        2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0,
    ];
    let p = dec(&tcp(1234, 80, &opts, b"GET"));
    ok(&p);
    let t = l(&p, "tcp");
    assert_eq!(n(t, "MSS"), 1460);
    assert_eq!(n(t, "Window scale"), 7);
    assert_eq!(v(t, "Timestamps"), "val 1 ecr 2");
    assert_eq!(v(t, "Flags"), "0x018 PSH,ACK");
    assert!(t.summary.contains("Flags [P.]"));
    assert_eq!(v(l(&p, "ip"), "Source"), "10.0.0.1");
}

#[test]
fn ports_named_from_services_database() {
    let db = servicedb::ServiceDb::parse("web 80/tcp\n", "services").unwrap();
    let mut d = Decoder::new().with_services(&db);
    let p = d.decode(&tcp(1234, 80, &[], &[]), LinkType::Ethernet);
    assert!(
        l(&p, "tcp").summary.contains("1234 > web"),
        "{}",
        l(&p, "tcp").summary
    );
}

#[test]
fn icmp_echo_and_arp() {
    let p = dec(&ipv4(1, &[8, 0, 0, 0, 0, 1, 0, 2]));
    ok(&p);
    let i = l(&p, "icmp");
    assert_eq!(i.msg, Some("echo request"));
    assert_eq!(n(i, "Sequence"), 2);
    let mut a = vec![
        0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2,
    ];
    let p = dec(&eth(0x0806, &a));
    ok(&p);
    assert!(l(&p, "arp")
        .summary
        .contains("who-has 10.0.0.2 tell 10.0.0.1"));
    a[7] = 4;
    let p = dec(&eth(0x8035, &a));
    assert_eq!(l(&p, "rarp").msg, Some("reverse reply"));
}

#[test]
fn ipv6_extension_headers_and_icmpv6() {
    let mut ip6 = vec![0x60, 0, 0, 0, 0, 0, 0, 255];
    ip6.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    ip6.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    let mut body = vec![58, 0, 0, 0, 0, 0, 0, 0]; // hop-by-hop, next ICMPv6
    body.extend_from_slice(&[128, 0, 0, 0, 0, 5, 0, 6]);
    ip6[4..6].copy_from_slice(&(body.len() as u16).to_be_bytes());
    ip6[6] = 0;
    ip6.extend_from_slice(&body);
    let p = dec(&eth(0x86dd, &ip6));
    ok(&p);
    let i = l(&p, "ip6");
    assert_eq!(v(i, "Source"), "fe80::1");
    assert!(i.field("HOPOPT").is_some());
    let c = l(&p, "icmp6");
    assert_eq!(c.msg, Some("echo request"));
    assert_eq!(n(c, "Identifier"), 5);
}

#[test]
fn snap_and_vlan() {
    let mut f = vec![0; 12];
    f.extend_from_slice(&[0x81, 0x00, 0x20, 0x05, 0x08, 0x06]);
    f.extend_from_slice(&[
        0, 1, 8, 0, 6, 4, 0, 2, 2, 0, 0, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2,
    ]);
    let p = dec(&f);
    ok(&p);
    assert_eq!(n(l(&p, "vlan"), "VLAN ID"), 5);
    let mut f = vec![0; 12];
    let body = [
        0xaa, 0xaa, 0x03, 0, 0, 0, 0x60, 0x03, 4, 0, 0x05, 0x01, 0x10, 0,
    ];
    f.extend_from_slice(&(body.len() as u16).to_be_bytes());
    f.extend_from_slice(&body);
    let p = dec(&f);
    ok(&p);
    assert_eq!(l(&p, "rp").msg, Some("hello and test"));
}

/// Truncation keeps what decoded and marks the layer where it stopped.
#[test]
fn truncated_frames_are_marked() {
    let full = long_data(&[0x18, 0, 0, 0xcc, 0xdc, 1, 2, 0x33, 2, 0, 25, 0, 0, 0]);
    let p = dec(&full[..30]);
    assert!(p.is_malformed());
    assert!(p.has("eth"));
    let p = dec(&full[..5]);
    assert!(l(&p, "eth").malformed.is_some());
}

/// A Multinet record split across TCP segments: the tail is a continuation and the record
/// after it decodes.
#[test]
fn multinet_record_split_across_segments() {
    let rec = |m: &[u8]| {
        let mut v = (m.len() as u16).to_le_bytes().to_vec();
        v.extend_from_slice(&[0, 0]);
        v.extend_from_slice(m);
        v
    };
    let mut stream = rec(&[
        0x05, 0x01, 0x04, 10, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
    ]);
    let second = rec(&[0x05, 0x02, 0x04, 0]);
    stream.extend_from_slice(&second);
    let mut d = Decoder::new();
    let p1 = d.decode(
        &tcp_seq(1000, 700, 100, &[], &stream[..9]),
        LinkType::Ethernet,
    );
    ok(&p1);
    assert!(l(&p1, "multinet").summary.contains("continues"));
    let p2 = d.decode(
        &tcp_seq(1000, 700, 109, &[], &stream[9..]),
        LinkType::Ethernet,
    );
    ok(&p2);
    assert!(l(&p2, "data").summary.starts_with("continuation"));
    assert_eq!(v(l(&p2, "rp"), "Node address"), "1.2");
}

#[test]
fn ddcmp_message_split_across_segments() {
    let crc = crate::decnet::ddcmp::crc16;
    let msg = |data: &[u8]| {
        let mut d = vec![0x81, data.len() as u8, 0xc0, 0, 1, 1];
        d.extend_from_slice(&crc(&d.clone()).to_le_bytes());
        d.extend_from_slice(data);
        d.extend_from_slice(&crc(data).to_le_bytes());
        d
    };
    let mut s = msg(&[0x05, 0x01, 0x04, 2, 0xaa, 0xaa]);
    s.extend(msg(&[0x05, 0x02, 0x04, 0]));
    let mut d = Decoder::new();
    let p1 = d.decode(&tcp_seq(8201, 8202, 5, &[], &s[..12]), LinkType::Ethernet);
    ok(&p1);
    let p2 = d.decode(&tcp_seq(8201, 8202, 17, &[], &s[12..]), LinkType::Ethernet);
    ok(&p2);
    assert_eq!(v(l(&p2, "rp"), "Node address"), "1.2");
}

#[test]
fn dap_key_definition_allocation_summary_fields() {
    // Key definition: menu FLG|SEGCNT|REF (0x19): flags 0x02, 1 segment (pos 0, size 8), ref 0.
    // Allocation: menu ALQ|BKZ (0xa0, 0x00): alq image 2 bytes = 100, bucket size 4.
    // Summary: menu NOKEYS|PVER (0x09): 1 key, prologue 3.
    let mut m = vec![10, 0x02, 7, 0x19, 0x02, 1, 0, 0, 8, 0];
    m.extend_from_slice(&[11, 0x02, 6, 0xa0, 0x01, 2, 100, 0, 4]);
    m.extend_from_slice(&[12, 0x02, 4, 0x09, 1, 3, 0]);
    let p = dap_link(&m);
    ok(&p);
    let d = daps(&p);
    assert_eq!(d[0].msg, Some("file index"));
    assert_eq!(v(d[0], "Key menu"), "0x19 FLG,SEGCNT,REF");
    assert_eq!(n(d[0], "Segment size"), 8);
    assert_eq!(n(d[0], "Key of reference"), 0);
    assert_eq!(d[1].msg, Some("allocate"));
    assert_eq!(n(d[1], "Allocation size"), 100);
    assert_eq!(n(d[1], "Bucket size"), 4);
    assert_eq!(d[2].msg, Some("summary info"));
    assert_eq!(n(d[2], "Number of keys"), 1);
    assert_eq!(n(d[2], "Prologue version"), 3);
}

/// Multinet on a port other than 700 is recognised by its record headers.
#[test]
fn multinet_tcp_on_another_port() {
    let m = [0x05u8, 0x01, 0x04, 0];
    let mut pl = (m.len() as u16).to_le_bytes().to_vec();
    pl.extend_from_slice(&[0, 0]);
    pl.extend_from_slice(&m);
    let p = dec(&tcp(7000, 7001, &[], &pl));
    ok(&p);
    assert_eq!(l(&p, "rp").msg, Some("hello and test"));
    // Ordinary data is left alone.
    let p = dec(&tcp(7000, 7001, &[], b"GET / HTTP/1.0\r\n"));
    assert!(!p.has("multinet"));
}

/// Deep nesting (IP in IP thousands of times) is cut off, not a stack overflow.
#[test]
fn deep_encapsulation_is_cut_off() {
    let mut inner: Vec<u8> = vec![];
    for _ in 0..3000 {
        let tot = (20 + inner.len()) as u16;
        let mut ip = vec![
            0x45, 0, 0, 0, 0, 1, 0, 0, 64, 4, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        ip[2..4].copy_from_slice(&tot.to_be_bytes());
        ip.extend_from_slice(&inner);
        inner = ip;
    }
    let mut f = vec![0; 12];
    f.extend_from_slice(&[8, 0]);
    f.extend_from_slice(&inner[..inner.len().min(65000)]);
    let p = dec(&f);
    assert!(p.layers.len() <= crate::decoder::MAX_DEPTH + 1);
    assert!(p.is_malformed());
}

/// JSON lines parse back as JSON with one entry per layer.
#[test]
fn json_lines_are_json() {
    for f in super::captures::FILES {
        for p in super::captures::load(f) {
            let v: serde_json::Value = serde_json::from_str(&render::json(&p)).unwrap();
            assert_eq!(v["layers"].as_array().unwrap().len(), p.layers.len());
            assert_eq!(v["number"], p.number);
        }
    }
}
