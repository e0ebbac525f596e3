//! The Ethernet loopback ("configuration testing") protocol, Ethernet type 0x9000.
//!
//! Layout from *The Ethernet, Version 2.0* (DEC, Intel, Xerox, 1982), section 7 (the
//! Configuration Testing Protocol), as MOP 3.0 appendix (loop) uses it: a 2-byte little-endian
//! skip count, then at offset 2 + skip the current function: 2 = forward data (a 6-byte forward
//! address follows), 1 = reply (a 2-byte receipt number and the data follow). No length prefix.

use crate::model::{Packet, Span, Value};
use crate::rd::Rd;

/// A loopback message.
pub(crate) fn decode(pkt: &mut Packet, frame: &[u8], start: usize, end: usize) {
    let mut r = Rd::new(frame, start, end);
    let mut l = pkt.new_layer("loop", Span::at(start, r.left()));
    let ok = (|| {
        let skip = r.u16le()?;
        l.add("Skip count", Value::U(u64::from(skip)), start, 2);
        // The function list: forward-data entries (2 + 6-byte address) up to a reply
        // (1 + 2-byte receipt number) followed by the data. The current one is at 2 + skip.
        let current = start + 2 + usize::from(skip);
        let mut summary = None;
        loop {
            let at = r.pos;
            let f = r.u16le()?;
            let here = at == current;
            match f {
                2 => {
                    let m = r.arr::<6>()?;
                    l.open(
                        if here { "Function" } else { "Other function" },
                        Value::Coded(2, "forward data"),
                        at,
                        8,
                    );
                    l.add("Forward address", Value::Mac(m), at + 2, 6);
                    l.close();
                    if here {
                        l.msg = Some("loopback request");
                        summary = Some(format!(
                            "LOOP [loopback request] skip {skip} forward to {}",
                            Value::Mac(m)
                        ));
                    }
                }
                1 => {
                    let n = r.u16le()?;
                    l.open(
                        if here { "Function" } else { "Other function" },
                        Value::Coded(1, "reply"),
                        at,
                        4,
                    );
                    l.add("Receipt number", Value::U(u64::from(n)), at + 2, 2);
                    l.close();
                    if here {
                        l.msg = Some("loopback reply");
                        summary = Some(format!("LOOP [loopback reply] skip {skip} receipt {n}"));
                    }
                    break;
                }
                _ => {
                    l.add("Function", Value::Coded(u64::from(f), "unknown"), at, 2);
                    l.mark("unknown loopback function");
                    break;
                }
            }
        }
        match summary {
            Some(s) => l.summary = s.into(),
            None => {
                summary!(l, "LOOP skip {skip}");
                if l.malformed.is_none() {
                    l.mark("skip count does not point at a function");
                }
            }
        }
        let at = r.pos;
        if r.left() > 0 {
            l.add("Data", Value::U(r.left() as u64), at, r.left());
        }
        Some(())
    })();
    if ok.is_none() {
        l.mark("truncated loopback message");
        if l.summary.is_empty() {
            summary!(l, "LOOP truncated");
        }
    }
    pkt.layers.push(l);
}
