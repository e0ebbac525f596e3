//! DECnet Session Control (SCP): connect data, accept data, disconnect and reject data.
//!
//! Layouts from *DECnet Digital Network Architecture Session Control Functional
//! Specification*, version 1.0.0 (Digital, 1980, order no. AA-K182A-TK), section 4 (connect
//! data: DSTNAME, SRCNAME, MENUVER, RQSTRID, PASSWRD, ACCOUNT, USRDATA; end-user names of
//! format 0 (object number), 1 (object number and name, up to 16 bytes) and 2 (object number,
//! group and user codes, name up to 12 bytes)), and its appendices (object types and reason
//! codes); MENUVER's version bits (V2.0) and proxy bit from PyDECnet (`decnet/session.py`).
//! Names in braces and parentheses are seed 002's.

use crate::decoder::{Decoder, LinkInfo};
use crate::model::{Layer, Packet, Span, Value};
use crate::rd::Rd;

/// DECnet object types, in seed 002's words (numbers 0-28), then well-known later ones.
pub(crate) const OBJECTS: &[(u64, &str)] = &[
    (0, "User Process"),
    (1, "Files-DAP 1"),
    (2, "Unit Record"),
    (3, "App. TrmSrv"),
    (4, "Cmd. TrmSrv"),
    (5, "RSX-11M TC1"),
    (6, "Op Services"),
    (7, "Node Manage"),
    (8, "3270-BSC GW"),
    (9, "2780-BSC GW"),
    (10, "3790-SDLC"),
    (11, "TPS Applic."),
    (12, "RT-11 DIBOL"),
    (13, "TOPS-20 T H"),
    (14, "TOPS-20 R S"),
    (15, "RSX-11M TC2"),
    (16, "TLK Utility"),
    (17, "Files-DAP4+"),
    (18, "RSX-11S RTL"),
    (19, "NICE Proc."),
    (20, "RSTS/E MTP"),
    (21, "RSTS/E HCTH"),
    (22, "Mail Listen"),
    (23, "Host TrmHnd"),
    (24, "Con. TrmHnd"),
    (25, "Loop Mirror"),
    (26, "Event Rcvr"),
    (27, "VAX/VMS PMU"),
    (28, "FTS Service"),
    (29, "Phone"),
    (42, "CTERM"),
    (63, "DTR"),
];

/// Object numbers of well-known object names (format 1 with object 0).
const NAMED: &[(&str, u8)] = &[
    ("FAL", 17),
    ("NML", 19),
    ("MIRROR", 25),
    ("CTERM", 42),
    ("EVL", 26),
];

/// Disconnect and reject reasons (Session Control appendix C, NSP appendix) in seed 002's
/// words where the seed names one.
pub(crate) const REASONS: &[(u64, &str)] = &[
    (0, "No error"),
    (1, "Host overloaded"),
    (2, "Unknown node"),
    (3, "Shutting down"),
    (4, "Unknown user"),
    (5, "Invalid username"),
    (6, "Dest. overloaded"),
    (7, "Unknown error"),
    (8, "Link aborted"),
    (9, "User aborted"),
    (10, "Invalid node name"),
    (11, "Local node shut down"),
    (21, "Bad destination address"),
    (24, "Flow control violation"),
    (32, "Too many node links"),
    (33, "Too many object links"),
    (34, "Bad ID/password"),
    (35, "Services mismatch"),
    (36, "Bad account info"),
    (37, "Segment size too small"),
    (38, "Process aborted"),
    (39, "No path"),
    (40, "Data loss"),
    (41, "No link"),
    (42, "Disconnect complete"),
    (43, "Data too long"),
];

/// The name of a disconnect reason.
pub(crate) fn reason_name(r: u16) -> &'static str {
    crate::rd::lookup(REASONS, u64::from(r))
}

/// The seed's name of an object type.
pub(crate) fn object_name(o: u8) -> &'static str {
    crate::rd::lookup(OBJECTS, u64::from(o))
}

/// Reads one end-user name, appending its display text to the summary; returns the object
/// number.
fn end_user(l: &mut Layer, r: &mut Rd, label: &'static str) -> Option<u8> {
    let at = r.pos;
    let fmt = r.u8()?;
    let obj = r.u8()?;
    let group = l.fields.len();
    l.open(label, Value::None, at, 2);
    l.add("Format", Value::U(u64::from(fmt)), at, 1);
    l.add(
        "Object type",
        Value::Coded(u64::from(obj), object_name(obj)),
        at + 1,
        1,
    );
    l.sum_more().s("(").s(object_name(obj)).s(")");
    let mut num = obj;
    match fmt {
        0 => {
            if obj == 0 {
                l.mark("format 0 end user with object 0");
            }
        }
        1 | 2 => {
            if fmt == 2 {
                let at = r.pos;
                let g = r.u16le()?;
                l.add("Group", Value::U(u64::from(g)), at, 2);
                let u = r.u16le()?;
                l.add("User", Value::U(u64::from(u)), at + 2, 2);
                l.sum_more().s(" [").u(g).s(",").u(u).s("]");
            }
            let (at, desc) = r.image()?;
            l.add_text("Descriptor", at, desc.len() + 1, |w| {
                w.text(desc);
            });
            if desc.len() > if fmt == 1 { 16 } else { 12 } {
                l.mark("end-user descriptor too long");
            }
            l.sum_more().s(" \"").text(desc).s("\"");
            if obj == 0 {
                if let Some((_, n)) = NAMED
                    .iter()
                    .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(desc))
                {
                    num = *n;
                }
            }
        }
        _ => {
            l.close();
            l.mark("unknown end-user name format");
            return None;
        }
    }
    l.close();
    if let Some(f) = l.fields.get_mut(group) {
        f.span = crate::model::Span::at(at, r.pos - at);
    }
    Some(num)
}

/// Session control connect data carried by a Connect Initiate; learns the link's object.
pub(crate) fn connect_data(
    d: &mut Decoder,
    pkt: &mut Packet,
    frame: &[u8],
    start: usize,
    end: usize,
    src: u16,
    sl: u16,
) {
    let mut r = Rd::new(frame, start, end);
    let mut l = pkt.new_layer("scp", Span::at(start, r.left()));
    l.msg = Some("connect data");
    // The summary grows as the names decode; if anything is missing it is put back to the
    // bare message name below.
    l.sum().s("SCP [connect data] Dest ");
    let ok = (|| {
        let obj = end_user(&mut l, &mut r, "Dest")?;
        if d.links.len() > 100_000 {
            d.links.clear();
        }
        d.links.insert(
            ((src & 0x3ff), sl),
            LinkInfo {
                object: obj,
                confirmed: false,
            },
        );
        l.sum_more().s(" Src ");
        end_user(&mut l, &mut r, "Src")?;
        let at = r.pos;
        let mv = r.u8()?;
        l.open("Menu", Value::Hex(u64::from(mv)), at, 1);
        l.add("Access control", Value::Bool(mv & 1 != 0), at, 1);
        l.add("User data present", Value::Bool(mv & 2 != 0), at, 1);
        l.add("Proxy", Value::Bool(mv & 4 != 0), at, 1);
        let v = (mv >> 5) & 3;
        l.add_text("Version", at, 1, |w| {
            w.s("SCP ").u(v + 1).s(".0");
        });
        l.close();
        l.sum_more().s(" {SCP ").u(v + 1).s(".0}");
        if mv & 1 != 0 {
            for (name, key) in [
                ("Requestor ID", "user"),
                ("Password", "password"),
                ("Account", "account"),
            ] {
                let (at, b) = r.image()?;
                l.add_text(name, at, b.len() + 1, |w| {
                    w.text(b);
                });
                if !b.is_empty() {
                    if key == "password" {
                        l.sum_more().s(" password ****");
                    } else {
                        l.sum_more().s(" ").s(key).s(" ").text(b);
                    }
                }
            }
        }
        if mv & 2 != 0 {
            let (at, b) = r.image()?;
            l.add_text("User data", at, b.len() + 1, |w| {
                w.text(b);
            });
            l.sum_more().s(" data ").u(b.len() as u64);
        }
        Some(())
    })();
    if ok.is_none() {
        summary!(l, "SCP [connect data]");
        l.mark("truncated connect data");
    }
    if r.left() > 0 {
        let at = r.pos;
        l.add_bytes("Extra", r.rest(), at, r.left());
    }
    pkt.layers.push(l);
}

/// Accept data of a Connect Confirm (a DATA CTL image of up to 16 bytes).
pub(crate) fn accept(pkt: &mut Packet, frame: &[u8], start: usize, end: usize) {
    let mut r = Rd::new(frame, start, end);
    let mut l = pkt.new_layer("scp", Span::at(start, r.left()));
    l.msg = Some("accept data");
    match r.image() {
        Some((at, b)) => {
            l.add_text("User data", at, b.len() + 1, |w| {
                w.text(b);
            });
            l.sum()
                .s("SCP [accept data] ")
                .u(b.len() as u64)
                .s(" bytes");
        }
        None if r.left() == 0 => {
            summary!(l, "SCP [accept data] none");
        }
        None => {
            summary!(l, "SCP [accept data] truncated");
            l.mark("truncated accept data");
        }
    }
    pkt.layers.push(l);
}

/// Disconnect (after a confirm) or reject (before) data of a Disconnect Initiate.
pub(crate) fn disconnect(
    pkt: &mut Packet,
    frame: &[u8],
    start: usize,
    end: usize,
    reason: u16,
    confirmed: bool,
) {
    let mut r = Rd::new(frame, start, end);
    let mut l = pkt.new_layer("scp", Span::at(start, r.left()));
    let name = if confirmed {
        "disconnect"
    } else {
        "reject data"
    };
    l.msg = Some(name);
    l.add(
        "Reason",
        Value::Coded(u64::from(reason), reason_name(reason)),
        start.saturating_sub(2),
        2,
    );
    l.sum()
        .s("SCP [")
        .s(name)
        .s("] {")
        .s(reason_name(reason))
        .s("}");
    match r.image() {
        Some((at, b)) => {
            l.add_text("User data", at, b.len() + 1, |w| {
                w.text(b);
            });
            if !b.is_empty() {
                l.sum_more().s(" data \"").text(b).s("\"");
            }
        }
        None if r.left() == 0 => {}
        None => l.mark("truncated disconnect data"),
    }
    pkt.layers.push(l);
}
