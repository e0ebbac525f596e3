//! The packet filter on interfaces of Maynard's own stack: the compiled classifier judges every
//! datagram an interface receives (seed 001: filtering restricts what an interface receives),
//! through the stack's packet hook. `deny` answers with ICMP administratively prohibited (the
//! stack sends it), `drop` is silent. The IPS's blocks are judged first, on every interface:
//! a blocked source's datagram is dropped whatever the interface's list says.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use filter::vmstime::LocalTime;
use filter::{Action, FilterSlot, Packet};
use stack::{HookPoint, IfaceId, Instant, PacketHook, Verdict};
use wire::Ipv4Packet;

/// The filter lists of the stack's interfaces, shared by the hook (on the stack's thread) and
/// the daemon (which loads and replaces lists; each packet sees the old list or the new one).
pub type FilterSlots = Arc<RwLock<HashMap<IfaceId, Arc<FilterSlot>>>>;

/// The hook the stack calls for every datagram.
pub struct FilterHook {
    slots: FilterSlots,
    /// The IPS's blocks in force.
    ips: Arc<ips::BlockSlot>,
    /// The host's UTC offset, refreshed now and then (reading the time zone per packet is dear).
    utc_offset: i32,
    offset_read: std::time::Instant,
}

impl FilterHook {
    /// A hook over `slots` and the IPS's blocks.
    pub fn new(slots: FilterSlots, ips: Arc<ips::BlockSlot>) -> FilterHook {
        FilterHook {
            slots,
            ips,
            utc_offset: control::localtime::now_with_offset().1,
            offset_read: std::time::Instant::now(),
        }
    }

    fn local_now(&mut self) -> LocalTime {
        if self.offset_read.elapsed().as_secs() >= 60 {
            self.utc_offset = control::localtime::now_with_offset().1;
            self.offset_read = std::time::Instant::now();
        }
        let unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        LocalTime::from_unix(unix, self.utc_offset)
    }
}

/// The classifier's view of an IPv4 datagram; `None` when the header is not readable (the stack
/// counts such datagrams as errors itself).
fn packet_of(datagram: &[u8], time: LocalTime) -> Option<Packet> {
    let ip = Ipv4Packet::new_checked(datagram).ok()?;
    let protocol = u8::from(ip.protocol());
    let fragment_offset = ip.frag_offset() / 8;
    let payload = ip.payload();
    let (mut src_port, mut dst_port, mut tcp_flags) = (0, 0, 0);
    if fragment_offset == 0 {
        let word = |i: usize| {
            payload
                .get(i..i + 2)
                .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]))
        };
        match protocol {
            6 | 17 => {
                src_port = word(0);
                dst_port = word(2);
                if protocol == 6 {
                    tcp_flags = payload.get(13).copied().unwrap_or(0);
                }
            }
            // ICMP: the message type sits in the destination-port slot of a rule.
            1 => dst_port = u16::from(payload.first().copied().unwrap_or(0)),
            _ => {}
        }
    }
    Some(Packet {
        src: IpAddr::V4(ip.src_addr()),
        dst: IpAddr::V4(ip.dst_addr()),
        protocol,
        src_port,
        dst_port,
        tcp_flags,
        fragment_offset,
        time,
        length: datagram.len() as u32,
    })
}

impl PacketHook for FilterHook {
    fn check(&mut self, point: HookPoint, iface: IfaceId, packet: &[u8], _now: Instant) -> Verdict {
        if point != HookPoint::Ingress {
            return Verdict::Pass;
        }
        let blocks = self.ips.load();
        let slot = match self.slots.read() {
            Ok(map) => map.get(&iface).cloned(),
            Err(poisoned) => poisoned.into_inner().get(&iface).cloned(),
        };
        if blocks.is_none() && slot.is_none() {
            return Verdict::Pass;
        }
        // Parsed once for both; only a filter list needs the local time (time-based rules).
        let time = if slot.is_some() {
            self.local_now()
        } else {
            LocalTime(0)
        };
        let Some(p) = packet_of(packet, time) else {
            return Verdict::Pass;
        };
        if blocks.is_some_and(|b| ips_stops(&b, &p)) {
            return Verdict::Drop;
        }
        let Some(slot) = slot else {
            return Verdict::Pass;
        };
        match slot.load().classify_counted(&p).action {
            Action::Permit => Verdict::Pass,
            Action::Deny => Verdict::Deny,
            Action::Drop => Verdict::Drop,
        }
    }
}

/// Whether an IPS block stops the datagram `p`.
fn ips_stops(blocks: &ips::BlockTable, p: &Packet) -> bool {
    let port = (p.fragment_offset == 0 && matches!(p.protocol, 6 | 17)).then_some(p.dst_port);
    blocks.stops(p.src, p.dst, p.protocol, port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_udp_icmp_and_fragments_are_read() {
        // 20-byte IPv4 header (TCP, 10.0.0.1 -> 10.0.0.2) + ports 1234 -> 25, flags SYN.
        let mut d = vec![
            0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        d.extend_from_slice(&[
            0x04, 0xd2, 0, 25, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0, 0, 0, 0, 0, 0,
        ]);
        let p = packet_of(&d, LocalTime(0)).unwrap();
        assert_eq!(
            (p.protocol, p.src_port, p.dst_port, p.tcp_flags),
            (6, 1234, 25, 0x02)
        );
        // A later fragment carries no ports.
        d[6] = 0x00;
        d[7] = 0x10;
        let p = packet_of(&d, LocalTime(0)).unwrap();
        assert_eq!((p.fragment_offset, p.src_port), (16, 0));
        assert!(packet_of(&d[..10], LocalTime(0)).is_none());
    }
}
