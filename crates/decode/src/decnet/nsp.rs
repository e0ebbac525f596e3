//! DECnet Network Services Protocol (NSP) messages.
//!
//! Layouts from *DECnet Digital Network Architecture NSP Functional Specification*, version
//! 4.0.1 (Digital, 1984, order no. AA-X439A-TK), section 6 (message formats); cross-checked
//! against PyDECnet (`decnet/nsp.py`) and Wireshark's `packet-dec-dnart.c`.
//!
//! MSGFLG bits 2-3 give the type (0 data, 1 acknowledgement, 2 control), bits 4-6 the subtype:
//! data segment `0BE0 0000` (B = BOM 0x20, E = EOM 0x40), link service 0x10, interrupt 0x30,
//! data ack 0x04, other-data ack 0x14, connect ack 0x24 (3 bytes: MSGFLG and DSTADDR only;
//! tcpdump rejects it), no-op 0x08, connect initiate 0x18, retransmitted CI 0x68, connect
//! confirm 0x28, disconnect initiate 0x38, disconnect confirm 0x48.
//! Acknowledgement fields have bit 15 set; bits 12-13 are the qualifier (0 ACK, 1 NAK,
//! 2 cross-subchannel ACK, 3 cross-subchannel NAK); bits 0-11 the number. SEGNUM bit 12 in data
//! segments is the DLY flag. The Connect Confirm carries *accept data* (a DATA CTL image), not
//! connect data: Wireshark runs its connect-data parser on it and reports it malformed.

use crate::decoder::{data, Decoder, LinkInfo};
use crate::model::{Layer, Packet, Span, Value};
use crate::rd::{lookup, Rd};

use super::session;

const FCOPT: &[(u64, &str)] = &[(0, "none"), (1, "segment"), (2, "message"), (3, "reserved")];
const NSP_VERS: &[(u64, &str)] = &[(0, "3.2"), (1, "3.1"), (2, "4.0"), (3, "4.1")];
const QUAL: &[(u64, &str)] = &[(0, "ACK"), (1, "NAK"), (2, "cross ACK"), (3, "cross NAK")];
const FCMOD: &[(u64, &str)] = &[(0, "no change"), (1, "stop"), (2, "send"), (3, "reserved")];

fn key(node: u16, link: u16) -> (u16, u16) {
    (node & 0x3ff, link)
}

/// Reads optional acknowledgement fields (bit 15 set), at most `max`; returns a summary text.
/// `names[0]` is the message's own subchannel, `names[1]` the other one: a field with a
/// cross-subchannel qualifier (2 or 3) acknowledges the other subchannel, whichever comes first.
/// The acknowledgements of a message as the summary shows them: ` ack N`, ` ackoth N`, each
/// with ` {NAK}` when negative.
#[derive(Clone, Copy, Default)]
struct Acks {
    /// (tag, number, negative) of each, in wire order.
    each: [(&'static str, u16, bool); 2],
    n: usize,
}

impl Acks {
    fn is_empty(&self) -> bool {
        self.n == 0
    }

    fn write<'a>(&self, mut w: crate::fmtx::W<'a>) -> crate::fmtx::W<'a> {
        for (tag, v, nak) in self.each.iter().take(self.n) {
            w = w.s(" ").s(tag).s(" ").u(*v);
            if *nak {
                w = w.s(" {NAK}");
            }
        }
        w
    }
}

fn acks(l: &mut Layer, r: &mut Rd, names: [&'static str; 2], max: usize) -> Acks {
    let mut s = Acks::default();
    for _ in 0..max {
        let Some(b1) = r.peek(1) else { break };
        if b1 & 0x80 == 0 {
            break;
        }
        let at = r.pos;
        let Some(v) = r.u16le() else { break };
        let q = (v >> 12) & 3;
        let qn = lookup(QUAL, u64::from(q));
        let name = if q < 2 { names[0] } else { names[1] };
        l.open(name, Value::U(u64::from(v & 0xfff)), at, 2);
        l.add("Qualifier", Value::Coded(u64::from(q), qn), at, 2);
        l.close();
        // (The names are "Acknowledge number" and "Acknowledge other".)
        let tag = if name.ends_with("other") {
            "ackoth"
        } else {
            "ack"
        };
        if let Some(e) = s.each.get_mut(s.n) {
            *e = (tag, v & 0xfff, q & 1 == 1);
            s.n += 1;
        }
    }
    s
}

/// An NSP message at `frame[start..end]` routed from node `src` to node `dst`.
pub(crate) fn decode(
    d: &mut Decoder,
    pkt: &mut Packet,
    frame: &[u8],
    start: usize,
    end: usize,
    src: u16,
    dst: u16,
) {
    let mut r = Rd::new(frame, start, end);
    let mut l = pkt.new_layer("nsp", Span::at(start, r.left()));
    let Some(flags) = r.u8() else {
        summary!(l, "NSP empty");
        l.mark("empty NSP message");
        pkt.layers.push(l);
        return;
    };
    l.add("Message flags", Value::Hex(u64::from(flags)), start, 1);
    if flags & 0x83 != 0 {
        summary!(l, "NSP invalid msgflg 0x{flags:02x}");
        l.mark("invalid NSP message flags");
        pkt.layers.push(l);
        return;
    }
    let mut next: Option<Next> = None;
    let ok = message(d, &mut l, &mut r, flags, src, dst, &mut next);
    if ok.is_none() {
        l.mark("truncated NSP message");
        if l.summary.is_empty() {
            summary!(l, "NSP truncated");
        }
    }
    pkt.layers.push(l);
    match next {
        Some(Next::Connect(sl)) => session::connect_data(d, pkt, frame, r.pos, r.end, src, sl),
        Some(Next::Accept(from)) => session::accept(pkt, frame, from, r.end),
        Some(Next::Disconnect {
            from,
            reason,
            confirmed,
        }) => session::disconnect(pkt, frame, from, r.end, reason, confirmed),
        Some(Next::Data { object, bom, eom }) => {
            super::app::decode(d, pkt, frame, r.pos, r.end, object, bom, eom)
        }
        Some(Next::Raw) => data(pkt, frame, r.pos, r.end),
        None => {}
    }
}

enum Next {
    Connect(u16),
    Accept(usize),
    Disconnect {
        from: usize,
        reason: u16,
        confirmed: bool,
    },
    Data {
        object: Option<u8>,
        bom: bool,
        eom: bool,
    },
    Raw,
}

fn addrs(l: &mut Layer, r: &mut Rd) -> Option<(u16, u16)> {
    let at = r.pos;
    let dl = r.u16le()?;
    l.add("Destination link address", Value::Hex(u64::from(dl)), at, 2);
    let sl = r.u16le()?;
    l.add("Source link address", Value::Hex(u64::from(sl)), at + 2, 2);
    Some((dl, sl))
}

fn segnum(l: &mut Layer, r: &mut Rd, data_seg: bool) -> Option<u16> {
    let at = r.pos;
    let s = r.u16le()?;
    l.add("Segment number", Value::U(u64::from(s & 0xfff)), at, 2);
    if data_seg {
        l.add("Delay", Value::Bool(s & 0x1000 != 0), at, 2);
    }
    Some(s)
}

fn lookup_link(d: &Decoder, src: u16, sl: u16, dst: u16, dl: u16) -> Option<LinkInfo> {
    d.links
        .get(&key(src, sl))
        .or_else(|| d.links.get(&key(dst, dl)))
        .copied()
}

#[allow(clippy::too_many_arguments)]
fn message(
    d: &mut Decoder,
    l: &mut Layer,
    r: &mut Rd,
    flags: u8,
    src: u16,
    dst: u16,
    next: &mut Option<Next>,
) -> Option<()> {
    match flags {
        f if f & 0x9f == 0 => {
            let bom = f & 0x20 != 0;
            let eom = f & 0x40 != 0;
            l.msg = Some("data segment");
            summary!(l, "NSP [data segment]");
            let (dl, sl) = addrs(l, r)?;
            let a = acks(l, r, ["Acknowledge number", "Acknowledge other"], 2);
            let s = segnum(l, r, true)?;
            let fpos = l.span.start as usize;
            l.add("BOM", Value::Bool(bom), fpos, 1);
            l.add("EOM", Value::Bool(eom), fpos, 1);
            let info = lookup_link(d, src, sl, dst, dl);
            let w = l.sum().s("NSP [data segment] ").x(sl, 4).s(">").x(dl, 4);
            a.write(w)
                .s(" seg ")
                .u(s & 0xfff)
                .s(if s & 0x1000 != 0 { " DLY" } else { "" })
                .s(if bom { " BOM" } else { "" })
                .s(if eom { " EOM" } else { "" })
                .s(" len ")
                .u(r.left() as u64);
            *next = Some(Next::Data {
                object: info.map(|i| i.object),
                bom,
                eom,
            });
        }
        0x30 => {
            l.msg = Some("interrupt");
            summary!(l, "NSP [interrupt]");
            let (sl, dl) = addrs(l, r).map(|(a, b)| (b, a))?;
            let a = acks(l, r, ["Acknowledge other", "Acknowledge number"], 2);
            let s = segnum(l, r, false)?;
            let w = l.sum().s("NSP [interrupt] ").x(sl, 4).s(">").x(dl, 4);
            a.write(w)
                .s(" seg ")
                .u(s & 0xfff)
                .s(" len ")
                .u(r.left() as u64);
            if r.left() > 0 {
                let at = r.pos;
                let (rest, n) = (r.rest(), r.left());
                l.add_text("Interrupt data", at, n, |w| {
                    w.text(rest);
                });
                r.pos = r.end;
            }
        }
        0x10 => {
            summary!(l, "NSP [data request]");
            let (dl, sl) = addrs(l, r)?;
            let a = acks(l, r, ["Acknowledge other", "Acknowledge number"], 2);
            let s = segnum(l, r, false)?;
            let at = r.pos;
            let ls = r.u8()?;
            let int = (ls >> 2) & 3 == 1;
            l.msg = Some(if int { "interrupt rq" } else { "data request" });
            l.open("Flow control", Value::Hex(u64::from(ls)), at, 1);
            let m = lookup(FCMOD, u64::from(ls & 3));
            l.add(
                "Flow control information",
                Value::Coded(u64::from(ls & 3), m),
                at,
                1,
            );
            l.add(
                "Flow control",
                Value::Name(if int { "SCP_reqst" } else { "Seg_reqst" }),
                at,
                1,
            );
            l.close();
            let v = r.u8()? as i8;
            l.add("Flow control value", Value::Int(i64::from(v)), at + 1, 1);
            let w = l
                .sum()
                .s("NSP [")
                .s(if int { "interrupt rq" } else { "data request" })
                .s("] ")
                .x(sl, 4)
                .s(">")
                .x(dl, 4);
            a.write(w)
                .s(" seg ")
                .u(s & 0xfff)
                .s(" {")
                .s(m)
                .s("} fcval ")
                .i(i64::from(v));
        }
        0x04 | 0x14 => {
            let other = flags == 0x14;
            let name = if other { "control ackn" } else { "data ackn" };
            l.msg = Some(name);
            l.sum().s("NSP [").s(name).s("]");
            let (dl, sl) = addrs(l, r)?;
            let names = if other {
                ["Acknowledge other", "Acknowledge number"]
            } else {
                ["Acknowledge number", "Acknowledge other"]
            };
            let a = acks(l, r, names, 2);
            if a.is_empty() {
                // The ACKNUM is required (bit 15 set); a missing one is a malformed message.
                if r.left() < 2 {
                    return None;
                }
                l.mark("acknowledgement field without bit 15");
            }
            let w = l.sum().s("NSP [").s(name).s("] ").x(sl, 4).s(">").x(dl, 4);
            a.write(w);
        }
        0x24 => {
            l.msg = Some("connect ackn");
            let at = r.pos;
            let dl = r.u16le()?;
            l.add("Destination link address", Value::Hex(u64::from(dl)), at, 2);
            l.sum().s("NSP [connect ackn] >").x(dl, 4);
        }
        0x08 => {
            l.msg = Some("no operation");
            summary!(l, "NSP [no operation]");
            if r.left() > 0 {
                let at = r.pos;
                l.add("Data", Value::U(r.left() as u64), at, r.left());
                r.pos = r.end;
            }
        }
        0x18 | 0x68 | 0x28 => {
            let ci = flags != 0x28;
            let name = if ci {
                "connect init"
            } else {
                "connect confirm"
            };
            l.msg = Some(name);
            l.sum().s("NSP [").s(name).s("]");
            if flags == 0x68 {
                l.add("Retransmitted", Value::Bool(true), r.pos - 1, 1);
            }
            let (dl, sl) = addrs(l, r)?;
            let at = r.pos;
            let sv = r.u8()?;
            l.open("Services", Value::Hex(u64::from(sv)), at, 1);
            l.add(
                "Flow control option",
                Value::Coded(
                    u64::from((sv >> 2) & 3),
                    lookup(FCOPT, u64::from((sv >> 2) & 3)),
                ),
                at,
                1,
            );
            l.close();
            let inf = r.u8()?;
            let ver = lookup(NSP_VERS, u64::from(inf & 3));
            l.add("NSP version", Value::Name(ver), at + 1, 1);
            let ss = r.u16le()?;
            l.add("Segment size", Value::U(u64::from(ss)), at + 2, 2);
            l.sum()
                .s("NSP [")
                .s(name)
                .s("]")
                .s(if flags == 0x68 {
                    " (retransmitted)"
                } else {
                    ""
                })
                .s(" ")
                .x(sl, 4)
                .s(">")
                .x(dl, 4)
                .s(" fc ")
                .s(lookup(FCOPT, u64::from((sv >> 2) & 3)))
                .s(" ver ")
                .s(ver)
                .s(" segsize ")
                .u(ss);
            if ci {
                // Remember the link until its connect data names the object (session layer).
                d.links.remove(&key(src, sl));
                *next = Some(Next::Connect(sl));
            } else {
                if let Some(mut info) = d.links.get(&key(dst, dl)).copied() {
                    info.confirmed = true;
                    d.links.insert(key(dst, dl), info);
                    d.links.insert(key(src, sl), info);
                }
                *next = Some(Next::Accept(r.pos));
            }
        }
        0x38 | 0x48 => {
            let di = flags == 0x38;
            let name = if di { "discnct init" } else { "discnct ackn" };
            l.msg = Some(name);
            l.sum().s("NSP [").s(name).s("]");
            let (dl, sl) = addrs(l, r)?;
            let at = r.pos;
            let reason = r.u16le()?;
            let rn = session::reason_name(reason);
            l.add("Reason", Value::Coded(u64::from(reason), rn), at, 2);
            l.sum()
                .s("NSP [")
                .s(name)
                .s("] ")
                .x(sl, 4)
                .s(">")
                .x(dl, 4)
                .s(" {")
                .s(rn)
                .s("}");
            let confirmed = lookup_link(d, src, sl, dst, dl).is_some_and(|i| i.confirmed);
            if di {
                *next = Some(Next::Disconnect {
                    from: r.pos,
                    reason,
                    confirmed,
                });
            } else {
                // The link is gone: forget it.
                d.links.remove(&key(src, sl));
                d.links.remove(&key(dst, dl));
                if r.left() > 0 {
                    *next = Some(Next::Raw);
                }
            }
        }
        _ => {
            summary!(l, "NSP reserved msgflg 0x{flags:02x}");
            l.mark("reserved NSP message type");
        }
    }
    Some(())
}
