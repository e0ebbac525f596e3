//! IEEE 802.1D spanning tree BPDUs (LLC SAP 0x42) and DEC LANbridge 100 hellos (Ethernet
//! type 0x8038).
//!
//! 802.1D BPDU layout from IEEE Std 802.1D-1990 section 4.5 (and 802.1w for the RST type):
//! protocol id, version, type, flags, root id, root path cost, bridge id, port id, message age,
//! max age, hello time, forward delay (times in 1/256 s). The LANbridge hello layout, which
//! DEC never published in a standard, is taken from Wireshark's `packet-dec-bpdu.c`: protocol
//! id 0xE1, type (0x19 hello, 0x02 topology change), version, flags, root priority, root
//! address, root path cost, bridge priority, bridge address, port, message age, hello time,
//! max age, forward delay (times in seconds, one byte each).

use crate::model::{Packet, Span, Value};
use crate::rd::{bits, Rd};

const STP_FLAGS: &[(u64, &str)] = &[
    (0x01, "TC"),
    (0x80, "TCA"),
    (0x02, "proposal"),
    (0x40, "agreement"),
];
const DEC_FLAGS: &[(u64, &str)] = &[(0x01, "TC"), (0x02, "short timers"), (0x80, "TCA")];

/// An 802.1D BPDU.
pub(crate) fn bpdu(pkt: &mut Packet, frame: &[u8], start: usize, end: usize) {
    let mut r = Rd::new(frame, start, end);
    let mut l = pkt.new_layer("stp", Span::at(start, r.left()));
    let ok = (|| {
        let pid = r.u16be()?;
        l.add("Protocol identifier", Value::U(u64::from(pid)), start, 2);
        let v = r.u8()?;
        l.add("Version", Value::U(u64::from(v)), start + 2, 1);
        let t = r.u8()?;
        let tn = match t {
            0x00 => "config BPDU",
            0x80 => "topology change",
            0x02 => "RST BPDU",
            _ => "unknown",
        };
        l.msg = Some(tn);
        l.add("BPDU type", Value::Coded(u64::from(t), tn), start + 3, 1);
        summary!(l, "STP 802.1d [{tn}]");
        if t == 0x80 {
            return Some(());
        }
        let f = r.u8()?;
        l.add_lazy(
            "Flags",
            || Value::Text(format!("0x{f:02x} {}", bits(STP_FLAGS, u64::from(f)))),
            start + 4,
            1,
        );
        let rp = r.u16be()?;
        let rm = r.arr::<6>()?;
        l.add("Root priority", Value::U(u64::from(rp)), start + 5, 2);
        l.add("Root address", Value::Mac(rm), start + 7, 6);
        let cost = r.u32be()?;
        l.add("Root path cost", Value::U(u64::from(cost)), start + 13, 4);
        let bp = r.u16be()?;
        let bm = r.arr::<6>()?;
        l.add("Bridge priority", Value::U(u64::from(bp)), start + 17, 2);
        l.add("Bridge address", Value::Mac(bm), start + 19, 6);
        let port = r.u16be()?;
        l.add(
            "Port identifier",
            Value::Hex(u64::from(port)),
            start + 25,
            2,
        );
        let mut times = [0u16; 4];
        for (i, name) in ["Message age", "Max age", "Hello time", "Forward delay"]
            .into_iter()
            .enumerate()
        {
            let at = r.pos;
            let x = r.u16be()?;
            l.add_lazy(
                name,
                || Value::Text(format!("{:.2}", f64::from(x) / 256.0)),
                at,
                2,
            );
            if let Some(s) = times.get_mut(i) {
                *s = x;
            }
        }
        summary!(l,
            "STP 802.1d [{tn}] root {rp:x}.{} pathcost {cost} bridge {bp:x}.{} port 0x{port:04x} hello {} maxage {} fwd {}",
            Value::Mac(rm), Value::Mac(bm), times[2] / 256, times[1] / 256, times[3] / 256
        );
        Some(())
    })();
    if ok.is_none() {
        l.mark("truncated BPDU");
        if l.summary.is_empty() {
            summary!(l, "STP truncated");
        }
    }
    pkt.layers.push(l);
}

/// A DEC LANbridge hello (0x8038).
pub(crate) fn lanbridge(pkt: &mut Packet, frame: &[u8], start: usize, end: usize) {
    let mut r = Rd::new(frame, start, end);
    let mut l = pkt.new_layer("stp", Span::at(start, r.left()));
    let ok = (|| {
        let pid = r.u8()?;
        l.add("Protocol identifier", Value::Hex(u64::from(pid)), start, 1);
        let t = r.u8()?;
        let tn = match t {
            0x19 => "LANbridge hello",
            0x02 => "LANbridge topology change",
            _ => "unknown",
        };
        l.msg = Some(tn);
        l.add("BPDU type", Value::Coded(u64::from(t), tn), start + 1, 1);
        summary!(l, "STP DEC [{tn}]");
        let v = r.u8()?;
        l.add("Version", Value::U(u64::from(v)), start + 2, 1);
        let f = r.u8()?;
        l.add_lazy(
            "Flags",
            || Value::Text(format!("0x{f:02x} {}", bits(DEC_FLAGS, u64::from(f)))),
            start + 3,
            1,
        );
        if t == 0x02 {
            return Some(());
        }
        let rp = r.u16be()?;
        l.add("Root priority", Value::U(u64::from(rp)), start + 4, 2);
        let rm = r.arr::<6>()?;
        l.add("Root address", Value::Mac(rm), start + 6, 6);
        let cost = r.u16be()?;
        l.add("Root path cost", Value::U(u64::from(cost)), start + 12, 2);
        let bp = r.u16be()?;
        l.add("Bridge priority", Value::U(u64::from(bp)), start + 14, 2);
        let bm = r.arr::<6>()?;
        l.add("Bridge address", Value::Mac(bm), start + 16, 6);
        let mut v5 = [0u8; 5];
        for (i, name) in [
            "Port identifier",
            "Message age",
            "Hello time",
            "Max age",
            "Forward delay",
        ]
        .into_iter()
        .enumerate()
        {
            let at = r.pos;
            let x = r.u8()?;
            l.add(name, Value::U(u64::from(x)), at, 1);
            if let Some(s) = v5.get_mut(i) {
                *s = x;
            }
        }
        summary!(
            l,
            "STP DEC [{tn}] root {rp}.{} cost {cost} bridge {bp}.{} port {} hello {}",
            Value::Mac(rm),
            Value::Mac(bm),
            v5[0],
            v5[2]
        );
        Some(())
    })();
    if ok.is_none() {
        l.mark("truncated LANbridge hello");
    }
    pkt.layers.push(l);
}
