//! LAVC, the Local Area VAXcluster protocol (Ethernet type 0x6007, "NISCA").
//!
//! DEC never published the NISCA/SCS wire format as a functional specification, and neither
//! Wireshark nor tcpdump has a dissector for it. What public sources establish is the Ethernet
//! type (IEEE registry: 0x6007, DEC LAVC/SCA) and the cluster multicast address family
//! AB-00-04-01-xx-yy (cluster group number in the low bytes). This decoder therefore names the
//! frame, shows the cluster group number taken from a cluster multicast destination, and shows
//! the rest as data; it stops there (see docs/analyzer.md).

use crate::model::{Packet, Span, Value};

/// An LAVC frame body.
pub(crate) fn decode(pkt: &mut Packet, frame: &[u8], start: usize, end: usize) {
    let end = end.min(frame.len());
    let len = end.saturating_sub(start);
    let mut l = pkt.new_layer("lavc", Span::at(start, len));
    l.msg = Some("cluster message");
    let mut s = format!("LAVC cluster message {len} bytes");
    if let Some(dst) = frame.get(..6) {
        if dst.get(..4) == Some(&[0xab, 0x00, 0x04, 0x01][..]) {
            let g = u16::from_le_bytes([
                dst.get(4).copied().unwrap_or(0),
                dst.get(5).copied().unwrap_or(0),
            ]);
            l.add("Cluster group", Value::U(u64::from(g)), 4, 2);
            s.push_str(&format!(" group {g}"));
        }
    }
    if len > 0 {
        l.add("Data", Value::U(len as u64), start, len);
    }
    l.summary = s.into();
    pkt.layers.push(l);
}
