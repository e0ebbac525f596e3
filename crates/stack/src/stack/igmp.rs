//! Multicast group membership on each link and IGMPv2 (RFC 2236): joins and leaves counted
//! per link, reports, query answers and the IGMPv1 compatibility timer.

use super::{OutRoute, ALL_HOSTS, ALL_ROUTERS};
use crate::iface::IfaceId;
use crate::{Instant, LinkContext, SendError, Stack, UdpError};
use std::net::Ipv4Addr;
use std::time::Duration;
use wire::{IgmpPacket, IgmpRepr, IpProtocol, Ipv4Option, Ipv4OptionsBuf, PacketBuf};

#[derive(Debug, Clone, Copy)]
pub(super) struct GroupState {
    pub(super) refs: u32,
    pub(super) report_at: Option<Instant>,
    pub(super) last_reporter: bool,
    pub(super) unsolicited_left: u8,
}

impl Stack {
    /// Multicast groups joined: (link interface, group).
    pub fn multicast_groups(&self) -> Vec<(IfaceId, Ipv4Addr)> {
        let mut v: Vec<_> = self.groups.keys().copied().collect();
        v.sort_by_key(|(i, g)| (*i, u32::from(*g)));
        v
    }

    // ----- IGMPv2 -----

    /// Joins `group` on the link of `iface` (reference-counted; the first join reports).
    pub fn join_group<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        iface: IfaceId,
        group: Ipv4Addr,
        now: Instant,
    ) -> Result<(), UdpError> {
        self.join(iface, group, now)?;
        self.flush(ctx);
        Ok(())
    }

    /// Leaves `group` on the link of `iface` (the last leave sends IGMP leave).
    pub fn leave_group<C: LinkContext + ?Sized>(
        &mut self,
        ctx: &mut C,
        iface: IfaceId,
        group: Ipv4Addr,
        now: Instant,
    ) {
        self.leave(iface, group, now);
        self.flush(ctx);
    }

    pub(super) fn join(
        &mut self,
        iface: IfaceId,
        group: Ipv4Addr,
        now: Instant,
    ) -> Result<(), UdpError> {
        if !group.is_multicast() {
            return Err(UdpError::NotMulticast(group));
        }
        let link = self
            .iface(iface)
            .ok_or(UdpError::Send(SendError::NoRoute(group)))?
            .link;
        let delay = self.rng.below(
            self.config
                .igmp_unsolicited_interval
                .as_millis()
                .min(u128::from(u32::MAX)) as u32,
        );
        let e = self.groups.entry((link, group)).or_insert(GroupState {
            refs: 0,
            report_at: None,
            last_reporter: false,
            unsolicited_left: 0,
        });
        e.refs += 1;
        if e.refs == 1 && group != ALL_HOSTS {
            // RFC 2236 section 3: report at once, and once more a little later.
            e.unsolicited_left = 1;
            e.report_at = Some(now + Duration::from_millis(u64::from(delay)));
            e.last_reporter = true;
            self.send_igmp(
                link,
                IgmpRepr::MembershipReportV2 { group_addr: group },
                group,
                now,
            );
        }
        Ok(())
    }

    pub(super) fn leave(&mut self, iface: IfaceId, group: Ipv4Addr, now: Instant) {
        let Some(link) = self.iface(iface).map(|i| i.link) else {
            return;
        };
        let Some(e) = self.groups.get_mut(&(link, group)) else {
            return;
        };
        e.refs = e.refs.saturating_sub(1);
        if e.refs == 0 {
            let last = e.last_reporter;
            self.groups.remove(&(link, group));
            let v1 = self.igmp_v1_until.get(&link).is_some_and(|t| *t > now);
            if last && group != ALL_HOSTS && !v1 {
                self.send_igmp(
                    link,
                    IgmpRepr::LeaveGroup { group_addr: group },
                    ALL_ROUTERS,
                    now,
                );
            }
        }
    }

    fn send_igmp(&mut self, link: IfaceId, repr: IgmpRepr, dst: Ipv4Addr, now: Instant) {
        let mut buf = PacketBuf::with_headroom(PacketBuf::DEFAULT_HEADROOM, repr.buffer_len());
        repr.emit(&mut IgmpPacket::new_unchecked(buf.as_mut_slice()));
        let src = self
            .iface(link)
            .and_then(|i| i.addr())
            .unwrap_or(Ipv4Addr::UNSPECIFIED);
        let mut opts = Ipv4OptionsBuf::new();
        let _ = opts.push(&Ipv4Option::RouterAlert(0));
        let route = OutRoute {
            iface: link,
            next_hop: dst,
            mtu: None,
            src,
            local: false,
            // Our own report must not suppress our own report timer.
            mcast_loop: false,
        };
        self.stats.igmp_out += 1;
        let _ = self.ip_send_routed(route, dst, buf, IpProtocol::Igmp, 1, 0, false, opts, now);
    }

    pub(super) fn igmp_input(
        &mut self,
        link: IfaceId,
        buf: PacketBuf,
        _src: Ipv4Addr,
        now: Instant,
    ) {
        self.stats.igmp_in += 1;
        let repr = match IgmpPacket::new_checked(buf.as_slice()).and_then(|p| IgmpRepr::parse(&p)) {
            Ok(r) => r,
            Err(_) => return,
        };
        match repr {
            IgmpRepr::MembershipQuery {
                max_resp_time,
                group_addr,
            } => {
                if max_resp_time == 0 {
                    // An IGMPv1 router: answer in version 1 for the next 400 s.
                    self.igmp_v1_until
                        .insert(link, now + Duration::from_secs(400));
                }
                let max = if max_resp_time == 0 {
                    100
                } else {
                    max_resp_time
                };
                let max_ms = u32::from(max) * 100;
                let keys: Vec<(IfaceId, Ipv4Addr)> = self
                    .groups
                    .keys()
                    .filter(|(l, g)| {
                        *l == link
                            && *g != ALL_HOSTS
                            && (group_addr.is_unspecified() || *g == group_addr)
                    })
                    .copied()
                    .collect();
                for k in keys {
                    let d = Duration::from_millis(u64::from(self.rng.below(max_ms)));
                    if let Some(e) = self.groups.get_mut(&k) {
                        let at = now + d;
                        e.report_at = Some(e.report_at.map_or(at, |t| t.min(at)));
                    }
                }
            }
            IgmpRepr::MembershipReportV1 { group_addr }
            | IgmpRepr::MembershipReportV2 { group_addr } => {
                // Another member reported: suppress ours (RFC 2236 section 3).
                if let Some(e) = self.groups.get_mut(&(link, group_addr)) {
                    e.report_at = None;
                    e.unsolicited_left = 0;
                    e.last_reporter = false;
                }
            }
            IgmpRepr::LeaveGroup { .. } => {}
        }
    }

    pub(super) fn igmp_timers(&mut self, now: Instant) {
        let due: Vec<(IfaceId, Ipv4Addr)> = self
            .groups
            .iter()
            .filter(|(_, e)| e.report_at.is_some_and(|t| t <= now))
            .map(|(k, _)| *k)
            .collect();
        for (link, g) in due {
            if let Some(e) = self.groups.get_mut(&(link, g)) {
                e.report_at = None;
                e.last_reporter = true;
                e.unsolicited_left = e.unsolicited_left.saturating_sub(1);
            }
            let v1 = self.igmp_v1_until.get(&link).is_some_and(|t| *t > now);
            let report = if v1 {
                IgmpRepr::MembershipReportV1 { group_addr: g }
            } else {
                IgmpRepr::MembershipReportV2 { group_addr: g }
            };
            self.send_igmp(link, report, g, now);
        }
    }
}
