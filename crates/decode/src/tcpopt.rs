//! TCP options (RFC 9293, RFC 7323 time stamps, RFC 2018 SACK): as fields, and as tcpdump
//! shows them in the summary (`, options [nop,nop,TS val 1 ecr 2]`), for the TCP layer and
//! for the one-line fast path ([`crate::line`]).

use crate::fmtx::W;
use crate::model::{Layer, Value};
use crate::rd::Rd;

/// The TCP options as fields, and appended to the summary as tcpdump shows them
/// (`, options [nop,nop,TS val 1 ecr 2]`).
pub(crate) fn tcp_options(l: &mut Layer, o: &[u8], at: usize) {
    // Linux's `nop, nop, time stamps` (nearly every segment after the handshake) in one
    // piece: the fields and text the loop below gives them.
    if let [1, 1, 8, 10, ..] = *o {
        if let Some(ts) = o.get(4..12).filter(|_| o.len() == 12) {
            let (v, e) = (be32(ts, 0), be32(ts, 4));
            if !l.quiet() {
                let f = [
                    l.make("No-operation", Value::None, at, 1),
                    l.make("No-operation", Value::None, at + 1, 1),
                    l.make("Timestamps", Value::Stamps(v, e), at + 2, 10),
                ];
                l.add_all(f);
            }
            l.sum_more()
                .s(", options [nop,nop,TS val ")
                .u(v)
                .s(" ecr ")
                .u(e)
                .s("]");
            return;
        }
    }
    let mut r = Rd::new(o, 0, o.len());
    l.sum_more().s(", options [");
    let mut first = true;
    // The separator before each option but the first.
    fn sep<'a>(l: &'a mut Layer, first: &mut bool) -> W<'a> {
        let w = l.sum_more();
        let w = if *first { w } else { w.s(",") };
        *first = false;
        w
    }
    while let Some(kind) = r.u8() {
        let pos = at + r.pos - 1;
        match kind {
            0 => {
                l.add("End of options", Value::None, pos, 1);
                sep(l, &mut first).s("eol");
                break;
            }
            1 => {
                l.add("No-operation", Value::None, pos, 1);
                sep(l, &mut first).s("nop");
                continue;
            }
            _ => {}
        }
        let Some(len) = r.u8() else {
            l.mark("truncated TCP option");
            break;
        };
        let Some(body) = r.take(usize::from(len).saturating_sub(2)) else {
            l.mark("truncated TCP option");
            break;
        };
        if len < 2 {
            l.mark("bad TCP option length");
            break;
        }
        if !l.quiet() {
            tcp_option_field(l, kind, len, body, pos);
        }
        tcp_option_text(sep(l, &mut first), kind, len, body);
    }
    l.sum_more().s("]");
}

/// Big-endian 16 and 32-bit words of an option's body (zero past its end).
fn be16(b: &[u8], i: usize) -> u16 {
    u16::from_be_bytes([
        b.get(i).copied().unwrap_or(0),
        b.get(i + 1).copied().unwrap_or(0),
    ])
}

/// See [`be16`].
fn be32(b: &[u8], i: usize) -> u32 {
    (u32::from(be16(b, i)) << 16) | u32::from(be16(b, i + 2))
}

/// One TCP option (not end or no-operation) as tcpdump shows it (`mss 1460`,
/// `TS val 1 ecr 2`): `len` is its length byte, `body` what follows it.
fn tcp_option_text(w: W<'_>, kind: u8, len: u8, body: &[u8]) {
    match (kind, len) {
        (2, 4) => {
            w.s("mss ").u(be16(body, 0));
        }
        (3, 3) => {
            w.s("wscale ").u(body.first().copied().unwrap_or(0));
        }
        (4, 2) => {
            w.s("sackOK");
        }
        (5, _) => {
            sack_blocks(w.s("sack "), body);
        }
        (8, 10) => {
            w.s("TS val ").u(be32(body, 0)).s(" ecr ").u(be32(body, 4));
        }
        _ => {
            w.s("opt-").u(kind);
        }
    }
}

/// SACK blocks as `{left:right}` each.
fn sack_blocks(mut w: W<'_>, body: &[u8]) {
    for i in (0..body.len() / 8).map(|i| i * 8) {
        w = w.s("{").u(be32(body, i)).s(":").u(be32(body, i + 4)).s("}");
    }
}

/// One TCP option's field (see [`tcp_option_text`]), at `pos` in the frame.
fn tcp_option_field(l: &mut Layer, kind: u8, len: u8, body: &[u8], pos: usize) {
    let n = usize::from(len);
    match (kind, len) {
        (2, 4) => l.add("MSS", Value::U(u64::from(be16(body, 0))), pos, n),
        (3, 3) => {
            let s = body.first().copied().unwrap_or(0);
            l.add("Window scale", Value::U(u64::from(s)), pos, n);
        }
        (4, 2) => l.add("SACK permitted", Value::None, pos, n),
        (5, _) => l.add_text("SACK", pos, n, |w| sack_blocks(w, body)),
        (8, 10) => l.add(
            "Timestamps",
            Value::Stamps(be32(body, 0), be32(body, 4)),
            pos,
            n,
        ),
        _ => l.add("Option", Value::Coded(u64::from(kind), "unknown"), pos, n),
    }
}

/// The TCP options as [`tcp_options`] appends them to the summary, straight into the line
/// (the one-line fast path, [`crate::line`]); false (the line then cut back by the caller)
/// where the layer would be marked malformed.
#[inline]
pub(crate) fn tcp_options_line(o: &[u8], out: &mut Vec<u8>) -> bool {
    // The options Linux sends on every segment after the handshake (nop, nop, time stamps)
    // in one piece: the text the loop below writes for them.
    if let [1, 1, 8, 10, ..] = *o {
        if let Some(ts) = o.get(4..12).filter(|_| o.len() == 12) {
            W(Some(out))
                .s(", options [nop,nop,TS val ")
                .u(be32(ts, 0))
                .s(" ecr ")
                .u(be32(ts, 4))
                .s("]");
            return true;
        }
    }
    let mut r = Rd::new(o, 0, o.len());
    out.extend_from_slice(b", options [");
    let mut first = true;
    while let Some(kind) = r.u8() {
        if !first {
            out.push(b',');
        }
        first = false;
        match kind {
            0 => {
                out.extend_from_slice(b"eol");
                break;
            }
            1 => {
                out.extend_from_slice(b"nop");
                continue;
            }
            _ => {}
        }
        let Some(len) = r.u8() else { return false };
        let Some(body) = r.take(usize::from(len).saturating_sub(2)) else {
            return false;
        };
        if len < 2 {
            return false;
        }
        tcp_option_text(W(Some(out)), kind, len, body);
    }
    out.push(b']');
    true
}
