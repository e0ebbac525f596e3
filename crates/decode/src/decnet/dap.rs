//! DAP, the Data Access Protocol (file access, object 17 "FAL").
//!
//! Layouts from *DECnet Digital Network Architecture Data Access Protocol Functional
//! Specification*, version 5.6.0 (Digital, 1980, order no. AA-K177A-TK), section 4 (message
//! formats) and its field tables; cross-checked against PyDECnet's `decnet/applications/fal.py`.
//! Every message starts with an operator: TYPE, FLAGS (STREAMID 0x01, LENGTH 0x02, LEN256
//! 0x04, BITCNT 0x08, SYSPEC 0x20, SEGMENTED 0x40) and the optional fields they announce.
//! A message with LENGTH ends where it says, so several can be blocked in one NSP message;
//! without it, it runs to the end of the NSP message. Extensible (EX-n) fields are decoded bit
//! by bit into names; image (I-n) fields are a count byte and that many bytes. The key
//! definition, allocation and summary messages are decoded from their menus; when a message
//! does not fit the menu's layout its fields are shown undecoded rather than marked malformed.

use crate::model::{Layer, Packet, Span, Value};
use crate::rd::{lookup, text, Rd};

const TYPES: &[(u64, &str)] = &[
    (1, "configuration"),
    (2, "file attribs"),
    (3, "access"),
    (4, "control info"),
    (5, "continue"),
    (6, "acknowledge"),
    (7, "close file"),
    (8, "data message"),
    (9, "status"),
    (10, "file index"),
    (11, "allocate"),
    (12, "summary info"),
    (13, "timestamp"),
    (14, "protect mode"),
    (15, "file name"),
    (16, "access rights"),
];
const ACCESS_FUNCS: &[(u64, &str)] = &[
    (1, "open file"),
    (2, "create file"),
    (3, "rename file"),
    (4, "delete file"),
    (6, "list dir"),
    (7, "submit file"),
    (8, "execute file"),
];
const OSTYPES: &[(u64, &str)] = &[
    (1, "RT-11"),
    (2, "RSTS/E"),
    (3, "RSX-11S"),
    (4, "RSX-11M"),
    (5, "RSX-11D"),
    (6, "IAS"),
    (7, "VAX/VMS"),
    (8, "TOPS-20"),
    (9, "TOPS-10"),
    (10, "RTS-8"),
    (11, "OS-8"),
    (12, "RSX-11M+"),
    (13, "COPOS/11"),
    (14, "P/OS"),
    (15, "VAXELN"),
    (16, "CP/M"),
    (17, "MS-DOS"),
    (18, "ULTRIX-32"),
    (19, "ULTRIX-11"),
];
const FILESYS: &[(u64, &str)] = &[
    (1, "RMS-11"),
    (2, "RMS-20"),
    (3, "RMS-32"),
    (4, "FCS-11"),
    (5, "RT-11"),
    (6, "None"),
    (7, "TOPS-20"),
    (8, "TOPS-10"),
    (9, "OS-8"),
];
const SYSCAP: &[(u64, &str)] = &[
    (1 << 0, "preallocation"),
    (1 << 1, "sequential org"),
    (1 << 2, "relative org"),
    (1 << 4, "single-key indexed"),
    (1 << 5, "sequential transfer"),
    (1 << 6, "random by record number"),
    (1 << 7, "random by VBN"),
    (1 << 8, "random by key"),
    (1 << 10, "random by RFA"),
    (1 << 11, "multi-key indexed"),
    (1 << 12, "switch access mode"),
    (1 << 13, "append"),
    (1 << 14, "submit"),
    (1 << 16, "multiple streams"),
    (1 << 17, "status return"),
    (1 << 18, "blocking"),
    (1 << 19, "unrestricted blocking"),
    (1 << 20, "2-byte length"),
    (1 << 21, "file checksum"),
    (1 << 22, "key definition"),
    (1 << 23, "allocation"),
    (1 << 24, "summary"),
    (1 << 25, "directory list"),
    (1 << 26, "date and time"),
    (1 << 27, "protection"),
    (1 << 28, "ACL"),
    (1 << 29, "spool on close"),
    (1 << 30, "submit on close"),
    (1 << 31, "rename"),
    (1 << 32, "wildcard"),
    (1 << 33, "go/no-go"),
    (1 << 34, "name message"),
    (1 << 35, "segmentation"),
];
const ATTMENU: &[(u64, &str)] = &[
    (1 << 0, "DATATYPE"),
    (1 << 1, "ORG"),
    (1 << 2, "RFM"),
    (1 << 3, "RAT"),
    (1 << 4, "BLS"),
    (1 << 5, "MRS"),
    (1 << 6, "ALQ"),
    (1 << 7, "BKS"),
    (1 << 8, "FSZ"),
    (1 << 9, "MRN"),
    (1 << 10, "RUNSYS"),
    (1 << 11, "DEQ"),
    (1 << 12, "FOP"),
    (1 << 13, "BSZ"),
    (1 << 14, "DEV"),
    (1 << 15, "SDC"),
    (1 << 16, "LRL"),
    (1 << 17, "HBK"),
    (1 << 18, "EBK"),
    (1 << 19, "FFB"),
    (1 << 20, "SBN"),
];
const DATATYPE: &[(u64, &str)] = &[
    (1, "ASCII"),
    (2, "Image"),
    (4, "EBCDIC"),
    (8, "Compr"),
    (16, "Exec"),
    (32, "Privil"),
    (128, "Senstv"),
];
const ORGS: &[(u64, &str)] = &[
    (0, "Seqnt"),
    (0x10, "Relatv"),
    (0x20, "Index"),
    (0x30, "Hashed"),
];
const RFMS: &[(u64, &str)] = &[
    (0, "Undef"),
    (1, "FixLen"),
    (2, "VarLen"),
    (3, "Var/FC"),
    (4, "ASCII"),
    (5, "StreamLF"),
    (6, "StreamCR"),
];
const RAT: &[(u64, &str)] = &[
    (1, "FORTRAN carriage control"),
    (2, "implied CR/LF"),
    (4, "print"),
    (8, "no span"),
    (16, "embedded"),
    (32, "line sequenced"),
    (64, "MACY11"),
];
const FAC: &[(u64, &str)] = &[
    (1, "Put"),
    (2, "Get"),
    (4, "Del"),
    (8, "Upd"),
    (16, "Trn"),
    (32, "BIO"),
    (64, "BRO"),
    (128, "FAO"),
];
const SHR: &[(u64, &str)] = &[
    (1, "Put"),
    (2, "Get"),
    (4, "Del"),
    (8, "Upd"),
    (16, "MSE"),
    (32, "UPI"),
    (64, "Nil"),
];
const DISPLAY: &[(u64, &str)] = &[
    (1, "attributes"),
    (2, "key definition"),
    (4, "allocation"),
    (8, "summary"),
    (16, "date and time"),
    (32, "protection"),
    (128, "ACL"),
    (256, "name"),
];
const CTL_FUNCS: &[(u64, &str)] = &[
    (1, "get"),
    (2, "connect"),
    (3, "update"),
    (4, "put"),
    (5, "delete"),
    (6, "rewind"),
    (7, "truncate"),
    (8, "modify"),
    (9, "release"),
    (10, "free"),
    (12, "flush"),
    (13, "next volume"),
    (14, "find"),
    (16, "display"),
    (17, "space forward"),
    (18, "space backward"),
];
const RAC: &[(u64, &str)] = &[
    (0, "sequential record"),
    (1, "keyed"),
    (2, "RFA"),
    (3, "sequential file"),
    (4, "block VBN"),
    (5, "block file transfer"),
];
const CONTINUE: &[(u64, &str)] = &[
    (1, "try again"),
    (2, "skip it"),
    (3, "abort transfer"),
    (4, "resume"),
];
const COMPLETE: &[(u64, &str)] = &[
    (1, "close"),
    (2, "response"),
    (3, "purge"),
    (4, "end of stream"),
    (5, "skip"),
];
const MACCODES: &[(u64, &str)] = &[
    (0, "pending"),
    (1, "OK"),
    (2, "bad request"),
    (3, "reserved"),
    (4, "open error"),
    (5, "I/O error"),
    (6, "I/O warning"),
    (7, "close error"),
    (8, "bad format"),
    (9, "bad field"),
    (10, "sync error"),
];
const NAMETYPE: &[(u64, &str)] = &[
    (1, "file spec"),
    (2, "file name"),
    (4, "directory name"),
    (8, "volume name"),
    (16, "default file spec"),
    (32, "related file spec"),
];
const DTMMENU: &[(u64, &str)] = &[
    (1, "creation"),
    (2, "revision"),
    (4, "expiration"),
    (8, "revision count"),
    (16, "backup"),
    (32, "update"),
];
const PROTMENU: &[(u64, &str)] = &[
    (1, "owner"),
    (2, "system"),
    (4, "owner access"),
    (8, "group"),
    (16, "world"),
    (32, "ACL"),
];
const PROT: &[(u64, &str)] = &[
    (1, "deny read"),
    (2, "deny write"),
    (4, "deny execute"),
    (8, "deny delete"),
    (16, "deny append"),
    (32, "deny list"),
    (64, "deny update"),
];

/// A field of a menu-driven message: its name and its form.
#[derive(Clone, Copy)]
enum Form {
    /// 1-byte number.
    B1,
    /// 2-byte number.
    B2,
    /// Extensible field of at most n bytes.
    Ex(usize),
    /// Image field (count byte).
    Img,
    /// Segment count then (position 2, size 1) pairs.
    Segs,
}

type Fld = (&'static str, Form);

const KEYMENU: &[(u64, &str)] = &[
    (1 << 0, "FLG"),
    (1 << 1, "DFL"),
    (1 << 2, "IFL"),
    (1 << 3, "SEGCNT"),
    (1 << 4, "REF"),
    (1 << 5, "KNM"),
    (1 << 6, "NUL"),
    (1 << 7, "IAN"),
    (1 << 8, "LAN"),
    (1 << 9, "DAN"),
    (1 << 10, "DTP"),
    (1 << 11, "RVB"),
    (1 << 12, "HAL"),
    (1 << 13, "DVB"),
    (1 << 14, "DBS"),
    (1 << 15, "IBS"),
    (1 << 16, "LVL"),
    (1 << 17, "TKS"),
    (1 << 18, "MRL"),
];
const KEY_FIELDS: &[Fld] = &[
    ("Key flags", Form::Ex(3)),
    ("Data bucket fill", Form::B2),
    ("Index bucket fill", Form::B2),
    ("Key segments", Form::Segs),
    ("Key of reference", Form::B1),
    ("Key name", Form::Img),
    ("Null key character", Form::B1),
    ("Index area", Form::B1),
    ("Lowest index area", Form::B1),
    ("Data area", Form::B1),
    ("Key data type", Form::B1),
    ("Root VBN", Form::Img),
    ("Highest level", Form::Img),
    ("First data VBN", Form::Img),
    ("Data bucket size", Form::B1),
    ("Index bucket size", Form::B1),
    ("Index levels", Form::B1),
    ("Total key size", Form::B2),
    ("Minimum record length", Form::B2),
];
const ALLMENU: &[(u64, &str)] = &[
    (1 << 0, "VOL"),
    (1 << 1, "ALN"),
    (1 << 2, "AOP"),
    (1 << 3, "LOC"),
    (1 << 4, "RFI"),
    (1 << 5, "ALQ"),
    (1 << 6, "AID"),
    (1 << 7, "BKZ"),
    (1 << 8, "DEQ"),
];
const ALL_FIELDS: &[Fld] = &[
    ("Relative volume", Form::B2),
    ("Alignment", Form::Ex(4)),
    ("Allocation options", Form::Ex(4)),
    ("Location", Form::Img),
    ("Related file", Form::Img),
    ("Allocation size", Form::Img),
    ("Area id", Form::B1),
    ("Bucket size", Form::B1),
    ("Default extension", Form::B2),
];
const SUMENU: &[(u64, &str)] = &[(1, "NOKEYS"), (2, "NOAREAS"), (4, "NOREC"), (8, "PVER")];
const SUM_FIELDS: &[Fld] = &[
    ("Number of keys", Form::B1),
    ("Number of areas", Form::B1),
    ("Number of records", Form::B1),
    ("Prologue version", Form::B2),
];

fn menu_fields(l: &mut Layer, r: &mut Rd, menu: u64, fields: &[Fld]) -> Option<()> {
    for (bit, (name, form)) in fields.iter().enumerate() {
        if menu & (1u64 << bit) == 0 {
            continue;
        }
        match form {
            Form::B1 => {
                byte(l, r, name)?;
            }
            Form::B2 => {
                word(l, r, name)?;
            }
            Form::Ex(n) => {
                ex(l, r, name, *n, &[])?;
            }
            Form::Img => {
                image_num(l, r, name)?;
            }
            Form::Segs => {
                let n = byte(l, r, name)?;
                for _ in 0..n {
                    word(l, r, "Segment position")?;
                    byte(l, r, "Segment size")?;
                }
            }
        }
    }
    Some(())
}

/// One or more DAP messages in an NSP message (`eom`: the NSP message ends here).
pub(crate) fn decode(pkt: &mut Packet, frame: &[u8], start: usize, end: usize, eom: bool) {
    let mut r = Rd::new(frame, start, end);
    while r.left() > 0 {
        let at = r.pos;
        let mut l = pkt.new_layer("dap", Span::at(at, r.left()));
        let ok = message(&mut l, &mut r, eom);
        if ok.is_none() {
            if eom {
                l.mark("truncated DAP message");
            } else {
                l.summary.push_str(" (continues in next segment)");
                r.pos = r.end;
            }
        }
        l.span = Span::at(at, r.pos - at);
        pkt.layers.push(l);
        if ok.is_none() {
            break;
        }
    }
}

fn ex(
    l: &mut Layer,
    r: &mut Rd,
    name: &'static str,
    max: usize,
    table: &[(u64, &'static str)],
) -> Option<u64> {
    let at = r.pos;
    let (v, n) = r.ex(max)?;
    l.add_text(name, at, n, |w| {
        w.s("0x").x(v, 0).s(" ").bits(table, v);
    });
    Some(v)
}

fn image(l: &mut Layer, r: &mut Rd, name: &'static str) -> Option<String> {
    let (at, b) = r.image()?;
    let t = text(b);
    l.add(name, Value::Text(t.clone()), at, b.len() + 1);
    Some(t)
}

fn image_num(l: &mut Layer, r: &mut Rd, name: &'static str) -> Option<u64> {
    let (at, b) = r.image()?;
    let mut v = 0u64;
    for (i, x) in b.iter().take(8).enumerate() {
        v |= u64::from(*x) << (8 * i);
    }
    l.add(name, Value::U(v), at, b.len() + 1);
    Some(v)
}

fn byte(l: &mut Layer, r: &mut Rd, name: &'static str) -> Option<u8> {
    let at = r.pos;
    let b = r.u8()?;
    l.add(name, Value::U(u64::from(b)), at, 1);
    Some(b)
}

fn word(l: &mut Layer, r: &mut Rd, name: &'static str) -> Option<u16> {
    let at = r.pos;
    let w = r.u16le()?;
    l.add(name, Value::U(u64::from(w)), at, 2);
    Some(w)
}

fn message(l: &mut Layer, r: &mut Rd, eom: bool) -> Option<()> {
    let at = r.pos;
    let ty = r.u8()?;
    let tn = lookup(TYPES, u64::from(ty));
    l.add("Type", Value::Coded(u64::from(ty), tn), at, 1);
    summary!(l, "DAP [{tn}]");
    if tn == "unknown" {
        l.mark("unknown DAP message type");
        r.pos = r.end;
        return Some(());
    }
    l.msg = Some(tn);
    let flags = r.u8()?;
    l.add_text("Flags", at + 1, 1, |w| {
        w.s("0x").x(flags, 2).s(" ").bits(
            &[
                (1, "STREAMID"),
                (2, "LENGTH"),
                (4, "LEN256"),
                (8, "BITCNT"),
                (32, "SYSPEC"),
                (64, "SEGMENTED"),
            ],
            u64::from(flags),
        );
    });
    if flags & 1 != 0 {
        byte(l, r, "Stream ID")?;
    }
    let mut len: Option<usize> = None;
    if flags & 2 != 0 {
        let lo = byte(l, r, "Length")?;
        let mut n = usize::from(lo);
        if flags & 4 != 0 {
            let hi = byte(l, r, "Length (high)")?;
            n |= usize::from(hi) << 8;
        }
        len = Some(n);
    }
    if flags & 8 != 0 {
        byte(l, r, "Bit count")?;
    }
    if flags & 32 != 0 {
        image(l, r, "System specific information")?;
    }
    let body_end = match len {
        Some(n) => {
            let e = r.pos.checked_add(n)?;
            if e > r.end {
                if !eom {
                    return None;
                }
                l.mark("DAP length exceeds message");
                r.end
            } else {
                e
            }
        }
        None => r.end,
    };
    let mut b = Rd::new(r.frame(), r.pos, body_end);
    let res = body(l, &mut b, ty);
    r.pos = body_end;
    if res.is_none() {
        l.mark("truncated DAP message body");
    }
    if b.left() > 0 && res.is_some() {
        let at = b.pos;
        l.add_bytes("Extra", b.rest(), at, b.left());
    }
    Some(())
}

fn body(l: &mut Layer, r: &mut Rd, ty: u8) -> Option<()> {
    match ty {
        1 => {
            let bs = word(l, r, "Maximum buffer size")?;
            let at = r.pos;
            let os = r.u8()?;
            let osn = lookup(OSTYPES, u64::from(os));
            l.add(
                "Operating system type",
                Value::Coded(u64::from(os), osn),
                at,
                1,
            );
            let fs = r.u8()?;
            let fsn = lookup(FILESYS, u64::from(fs));
            l.add("FilSys", Value::Coded(u64::from(fs), fsn), at + 1, 1);
            let v = r.take(5)?;
            let g = |i: usize| v.get(i).copied().unwrap_or(0);
            l.add_text("Ver", at + 2, 5, |w| {
                w.u(g(0))
                    .s(".")
                    .u(g(1))
                    .s(".")
                    .u(g(2))
                    .s(".")
                    .u(g(3))
                    .s("(")
                    .u(g(4))
                    .s(")");
            });
            let caps = if r.left() > 0 {
                ex(l, r, "System capabilities", 12, SYSCAP)?
            } else {
                0
            };
            let _ = caps;
            summary!(
                l,
                "DAP [configuration] {osn} {fsn} ver {}.{}.{} bufsiz {bs}",
                g(0),
                g(1),
                g(2)
            );
        }
        2 => {
            let menu = ex(l, r, "Attributes menu", 6, ATTMENU)?;
            let mut s = String::new();
            let has = |b: u32| menu & (1u64 << b) != 0;
            if has(0) {
                ex(l, r, "Data type", 2, DATATYPE)?;
            }
            if has(1) {
                let at = r.pos;
                let o = r.u8()?;
                let n = lookup(ORGS, u64::from(o));
                l.add("Attribute", Value::Coded(u64::from(o), n), at, 1);
                s.push_str(&format!(" {n}"));
            }
            if has(2) {
                let at = r.pos;
                let f = r.u8()?;
                let n = lookup(RFMS, u64::from(f));
                l.add("Record format", Value::Coded(u64::from(f), n), at, 1);
                s.push_str(&format!(" {n}"));
            }
            if has(3) {
                ex(l, r, "Record attributes", 3, RAT)?;
            }
            if has(4) {
                word(l, r, "Block size")?;
            }
            if has(5) {
                let m = word(l, r, "Record size")?;
                s.push_str(&format!(" mrs {m}"));
            }
            if has(6) {
                image_num(l, r, "Allocation size")?;
            }
            if has(7) {
                byte(l, r, "Bucket size")?;
            }
            if has(8) {
                byte(l, r, "Fixed control size")?;
            }
            if has(9) {
                image_num(l, r, "Maximum record number")?;
            }
            if has(10) {
                image(l, r, "Runtime system")?;
            }
            if has(11) {
                word(l, r, "Default extension")?;
            }
            if has(12) {
                ex(l, r, "File options", 6, &[])?;
            }
            if has(13) {
                byte(l, r, "Bits per byte")?;
            }
            if has(14) {
                ex(l, r, "Device type", 6, &[])?;
            }
            if has(15) {
                ex(l, r, "Spooling device", 6, &[])?;
            }
            if has(16) {
                word(l, r, "Longest record")?;
            }
            if has(17) {
                image_num(l, r, "Highest block")?;
            }
            if has(18) {
                image_num(l, r, "End of file block")?;
            }
            if has(19) {
                word(l, r, "First free byte")?;
            }
            if has(20) {
                image_num(l, r, "Starting block")?;
            }
            summary!(l, "DAP [file attribs]{s}");
        }
        3 => {
            let at = r.pos;
            let f = r.u8()?;
            let n = lookup(ACCESS_FUNCS, u64::from(f));
            l.add("Access function", Value::Coded(u64::from(f), n), at, 1);
            if n != "unknown" {
                l.msg = Some(n);
            }
            ex(
                l,
                r,
                "Access options",
                5,
                &[
                    (1, "nonfatal"),
                    (2, "status return"),
                    (8, "file checksum"),
                    (16, "go/no-go"),
                ],
            )?;
            let spec = image(l, r, "File specification")?;
            if r.left() > 0 {
                ex(l, r, "File access mode", 3, FAC)?;
            }
            if r.left() > 0 {
                ex(l, r, "Shared access mode", 3, SHR)?;
            }
            if r.left() > 0 {
                ex(l, r, "Display", 4, DISPLAY)?;
            }
            if r.left() > 0 {
                let (at, b) = r.image()?;
                l.add(
                    "Password",
                    Value::Text("*".repeat(b.len())),
                    at,
                    b.len() + 1,
                );
            }
            summary!(l, "DAP [{n}] \"{spec}\"");
        }
        4 => {
            let at = r.pos;
            let f = r.u8()?;
            let n = lookup(CTL_FUNCS, u64::from(f));
            l.add("Control function", Value::Coded(u64::from(f), n), at, 1);
            let menu = if r.left() > 0 {
                ex(
                    l,
                    r,
                    "Control menu",
                    4,
                    &[
                        (1, "RAC"),
                        (2, "KEY"),
                        (4, "KRF"),
                        (8, "ROP"),
                        (16, "HSH"),
                        (32, "DISPLAY"),
                        (64, "BLKCNT"),
                    ],
                )?
            } else {
                0
            };
            if menu & 1 != 0 {
                let at = r.pos;
                let a = r.u8()?;
                l.add(
                    "Record access",
                    Value::Coded(u64::from(a), lookup(RAC, u64::from(a))),
                    at,
                    1,
                );
            }
            if menu & 2 != 0 {
                image(l, r, "Key")?;
            }
            if menu & 4 != 0 {
                byte(l, r, "Key of reference")?;
            }
            if menu & 8 != 0 {
                ex(l, r, "Record options", 6, &[])?;
            }
            if menu & 16 != 0 {
                image_num(l, r, "Hash code")?;
            }
            if menu & 32 != 0 {
                ex(l, r, "Display", 4, DISPLAY)?;
            }
            if menu & 64 != 0 {
                byte(l, r, "Block count")?;
            }
            summary!(l, "DAP [control info] {n}");
        }
        5 => {
            let at = r.pos;
            let f = r.u8()?;
            let n = lookup(CONTINUE, u64::from(f));
            l.add("Recovery action", Value::Coded(u64::from(f), n), at, 1);
            summary!(l, "DAP [continue] {{{n}}}");
        }
        6 => {}
        7 => {
            let at = r.pos;
            let f = r.u8()?;
            let n = lookup(COMPLETE, u64::from(f));
            l.add("Completion function", Value::Coded(u64::from(f), n), at, 1);
            if r.left() > 0 {
                ex(l, r, "File options", 6, &[])?;
            }
            if r.left() >= 2 {
                let at = r.pos;
                let c = r.u16le()?;
                l.add("Checksum", Value::Hex(u64::from(c)), at, 2);
            }
            summary!(l, "DAP [close file] {n}");
        }
        8 => {
            let n = image_num(l, r, "Record number")?;
            let at = r.pos;
            let len = r.left();
            l.add("File data", Value::Text(text(r.take(len)?)), at, len);
            summary!(l, "DAP [data message] record {n} {len} bytes");
        }
        9 => {
            let at = r.pos;
            let s = r.u16le()?;
            let mac = u64::from(s >> 12);
            let n = lookup(MACCODES, mac);
            l.add("Status", Value::Coded(mac, n), at, 2);
            l.add("Detail", Value::Hex(u64::from(s & 0xfff)), at, 2);
            if r.left() > 0 {
                image_num(l, r, "Record file address")?;
            }
            if r.left() > 0 {
                image_num(l, r, "Record number")?;
            }
            if r.left() > 0 {
                image_num(l, r, "Secondary status")?;
            }
            summary!(l, "DAP [status] {{{n}}} 0x{:03x}", s & 0xfff);
        }
        16 => {
            let n = byte(l, r, "ACL repeat count")?;
            for _ in 0..n {
                if r.left() == 0 {
                    break;
                }
                image(l, r, "Access control entry")?;
            }
        }
        10..=12 => {
            let (menu_name, table, fields): (&'static str, &[(u64, &'static str)], &[Fld]) =
                match ty {
                    10 => ("Key menu", KEYMENU, KEY_FIELDS),
                    11 => ("Allocation menu", ALLMENU, ALL_FIELDS),
                    _ => ("Summary menu", SUMENU, SUM_FIELDS),
                };
            let menu = ex(l, r, menu_name, 6, table)?;
            // Decode the fields the menu announces; if the message does not fit that layout,
            // show the rest undecoded rather than calling a valid message malformed.
            let mut scratch = Layer::default();
            let mut t = *r;
            let ok = menu_fields(&mut scratch, &mut t, menu, fields);
            if ok.is_some() {
                l.fields.append(&mut scratch.fields);
                *r = t;
            } else if r.left() > 0 {
                let at = r.pos;
                l.add_bytes("Fields (undecoded)", r.rest(), at, r.left());
                r.pos = r.end;
            }
        }
        13 => {
            let menu = ex(l, r, "Date and time menu", 6, DTMMENU)?;
            for (bit, name) in [
                (0, "Created"),
                (1, "Revised"),
                (2, "Expires"),
                (3, "Revision count"),
                (4, "Backed up"),
                (5, "Updated"),
            ] {
                if menu & (1 << bit) == 0 {
                    continue;
                }
                if bit == 3 {
                    word(l, r, name)?;
                } else {
                    let at = r.pos;
                    l.add(name, Value::Text(text(r.take(18)?)), at, 18);
                }
            }
        }
        14 => {
            let menu = ex(l, r, "Protection menu", 6, PROTMENU)?;
            if menu & 1 != 0 {
                image(l, r, "Owner")?;
            }
            for (bit, name) in [
                (1, "System protection"),
                (2, "Owner protection"),
                (3, "Group protection"),
                (4, "World protection"),
            ] {
                if menu & (1 << bit) != 0 {
                    ex(l, r, name, 3, PROT)?;
                }
            }
        }
        15 => {
            ex(l, r, "Name type", 3, NAMETYPE)?;
            let n = image(l, r, "Name")?;
            summary!(l, "DAP [file name] \"{n}\"");
        }
        _ => {}
    }
    Some(())
}
