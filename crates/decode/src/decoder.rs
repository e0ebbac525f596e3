//! The decoder: link types, the frame entry point, and the state kept between frames (which
//! NSP logical link talks to which DECnet object, so that application data can be named).

use std::collections::HashMap;

use servicedb::ServiceDb;

use crate::model::{Packet, Span};
use crate::{decnet, ip, link};

/// Link types of capture files (tcpdump.org link-layer header types) that the decoder reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkType {
    /// DLT_NULL (0): 4-byte host-order address family, then IP.
    Null,
    /// DLT_EN10MB (1): Ethernet.
    Ethernet,
    /// DLT_RAW (101) and LINKTYPE_IPV4 / IPV6 (228, 229): IP with no link header.
    Raw,
    /// LINKTYPE_LINUX_SLL (113): Linux cooked capture.
    LinuxSll,
    /// Anything else: shown as data.
    Other(u32),
}

impl LinkType {
    /// The link type of a capture file's header value.
    pub fn from_u32(v: u32) -> LinkType {
        match v {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            101 | 228 | 229 => LinkType::Raw,
            113 => LinkType::LinuxSll,
            other => LinkType::Other(other),
        }
    }

    /// The value written to a capture file's header.
    pub fn to_u32(self) -> u32 {
        match self {
            LinkType::Null => 0,
            LinkType::Ethernet => 1,
            LinkType::Raw => 101,
            LinkType::LinuxSll => 113,
            LinkType::Other(v) => v,
        }
    }
}

/// Which application protocol an NSP logical link carries, learnt from its Connect Initiate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LinkInfo {
    /// The destination object number of the Connect Initiate (0 = named object).
    pub(crate) object: u8,
    /// A Connect Confirm was seen.
    pub(crate) confirmed: bool,
}

/// How much of each layer the decoder builds. Every level keeps the protocol, the message type
/// (so [`crate::Summary`] works at every level) and the malformed mark.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Detail {
    /// Fields and summary text: everything (the default).
    #[default]
    Full,
    /// Summary text only, no fields: the fast path for the one-line renderer (for
    /// `DUMP/READ` without a filter, `/VERBOSE` or `/JSON`, decode with this level into one
    /// reused packet, [`Decoder::decode_into`]). Filters on hosts and ports need the fields.
    /// The Ethernet layer of a frame carrying IP keeps no summary at this level, since the
    /// one-line form leaves it out.
    Summaries,
    /// Fields only, no summary text: the fast path for filters and `/SUMMARY` without output.
    Fields,
}

/// A TCP connection: source and destination addresses (IPv4 mapped into 16 bytes), ports.
pub(crate) type StreamKey = ([u8; 16], [u8; 16], u16, u16);

/// What a TCP stream carries and the sequence number where its next record starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stream {
    /// True for Multinet records, false for DDCMP messages.
    pub(crate) multinet: bool,
    /// Sequence number of the first byte of the next record.
    pub(crate) next: u32,
}

/// Hashes the decoder's small fixed-size keys (NSP link and TCP stream keys, looked up for
/// nearly every frame) with foldhash, seeded at random per decoder: a few instructions per key
/// instead of SipHash's rounds. Both maps are bounded (10 000 streams, 100 000 links), which
/// also bounds the cost of any collisions a crafted capture could cause.
pub(crate) type KeyHash = foldhash::fast::RandomState;

/// Options and cross-frame state for decoding.
///
/// ```
/// let mut d = decode::Decoder::new();
/// let pkt = d.decode(&[0u8; 10], decode::LinkType::Ethernet);
/// assert!(pkt.is_malformed()); // 10 bytes cannot hold an Ethernet header
/// ```
#[derive(Debug)]
pub struct Decoder<'s> {
    services: Option<&'s ServiceDb>,
    /// NSP links by (node, link address) of either end.
    pub(crate) links: HashMap<(u16, u16), LinkInfo, KeyHash>,
    /// TCP streams carrying Multinet records or DDCMP messages: where the next one starts.
    pub(crate) streams: HashMap<StreamKey, Stream, KeyHash>,
    /// TCP/UDP ports carrying the Multinet DECnet-over-IP encapsulation (default 700).
    pub multinet_ports: Vec<u16>,
    /// Recognise Multinet over UDP and DDCMP over TCP on other ports by their headers.
    pub heuristics: bool,
    /// What each layer keeps besides its protocol, message type and malformed mark.
    pub detail: Detail,
    /// Addresses of the innermost IP header decoded in this frame (IPv4 mapped).
    pub(crate) ip_src: [u8; 16],
    pub(crate) ip_dst: [u8; 16],
    pub(crate) count: u64,
    /// The clock of the last line [`Decoder::line_record`] wrote.
    pub(crate) clock: crate::fmtx::Clock,
}

impl Default for Decoder<'_> {
    fn default() -> Self {
        Decoder::new()
    }
}

impl<'s> Decoder<'s> {
    /// A decoder with the default options: Multinet on port 700, heuristics on, no port names.
    pub fn new() -> Decoder<'s> {
        Decoder {
            services: None,
            links: HashMap::with_hasher(KeyHash::default()),
            streams: HashMap::with_hasher(KeyHash::default()),
            multinet_ports: vec![700],
            heuristics: true,
            detail: Detail::Full,
            ip_src: [0; 16],
            ip_dst: [0; 16],
            count: 0,
            clock: crate::fmtx::Clock::default(),
        }
    }

    /// Names well-known TCP/UDP ports from this services database.
    pub fn with_services(mut self, db: &'s ServiceDb) -> Decoder<'s> {
        self.services = Some(db);
        self
    }

    /// The services database, if any.
    pub(crate) fn services(&self) -> Option<&'s ServiceDb> {
        self.services
    }

    /// Forgets the NSP links learnt so far and restarts frame numbering.
    pub fn reset(&mut self) {
        self.links.clear();
        self.streams.clear();
        self.count = 0;
    }

    /// Decodes one frame of the given link type. Never panics; a short or malformed frame yields
    /// the layers that decoded, the last one marked.
    pub fn decode(&mut self, frame: &[u8], link: LinkType) -> Packet {
        let mut pkt = Packet::default();
        self.decode_into(&mut pkt, frame, link);
        pkt
    }

    /// Like [`Decoder::decode`] but into a packet that is cleared and reused, keeping the
    /// storage of its layers: the fast path for decoding many frames.
    pub fn decode_into(&mut self, pkt: &mut Packet, frame: &[u8], link: LinkType) {
        pkt.clear();
        pkt.set_detail(
            self.detail == Detail::Summaries,
            self.detail == Detail::Fields,
        );
        self.ip_src = [0; 16];
        self.ip_dst = [0; 16];
        self.count += 1;
        let len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        pkt.number = self.count;
        pkt.orig_len = len;
        pkt.cap_len = len;
        self.dispatch(pkt, frame, link);
        if self.detail == Detail::Fields {
            // The few summaries composed outside `summary!` are dropped too.
            for l in &mut pkt.layers {
                l.summary.clear();
            }
        }
    }

    /// Counts a frame decoded by the one-line fast path ([`crate::line`]): its number, time
    /// stamp and lengths into the packet, as [`Decoder::decode_record_into`] sets them.
    pub(crate) fn count_frame(&mut self, pkt: &mut Packet, rec: &crate::capture::Record<'_>) {
        self.count += 1;
        pkt.number = self.count;
        pkt.cap_len = u32::try_from(rec.data.len()).unwrap_or(u32::MAX);
        pkt.orig_len = rec.orig_len;
        pkt.ts_sec = rec.ts_sec;
        pkt.ts_nsec = rec.ts_nsec;
    }

    /// Like [`Decoder::decode_record`] into a reused packet.
    pub fn decode_record_into(&mut self, pkt: &mut Packet, rec: &crate::capture::Record<'_>) {
        self.decode_into(pkt, rec.data, rec.link);
        pkt.ts_sec = rec.ts_sec;
        pkt.ts_nsec = rec.ts_nsec;
        pkt.orig_len = rec.orig_len;
    }

    /// Decodes a captured record (keeps its time stamp and original length).
    pub fn decode_record(&mut self, rec: &crate::capture::Record<'_>) -> Packet {
        let mut pkt = self.decode(rec.data, rec.link);
        pkt.ts_sec = rec.ts_sec;
        pkt.ts_nsec = rec.ts_nsec;
        pkt.orig_len = rec.orig_len;
        pkt
    }

    fn dispatch(&mut self, pkt: &mut Packet, frame: &[u8], link: LinkType) {
        let end = frame.len();
        match link {
            LinkType::Ethernet => link::ethernet(self, pkt, frame, 0, end),
            LinkType::Raw => ip::ip_any(self, pkt, frame, 0, end),
            LinkType::Null => link::null(self, pkt, frame, end),
            LinkType::LinuxSll => link::sll(self, pkt, frame, end),
            LinkType::Other(_) => data(pkt, frame, 0, end),
        }
    }

    /// Decodes what an Ethernet type (or SNAP protocol id) carries at `frame[start..end]`.
    pub(crate) fn ethertype(
        &mut self,
        pkt: &mut Packet,
        frame: &[u8],
        ty: u16,
        start: usize,
        end: usize,
    ) {
        if too_deep(pkt, frame, start, end) {
            return;
        }
        match ty {
            0x0800 => ip::ipv4(self, pkt, frame, start, end),
            0x86dd => ip::ipv6(self, pkt, frame, start, end),
            0x0806 | 0x8035 => link::arp(pkt, frame, start, end, ty == 0x8035),
            0x8100 => link::vlan(self, pkt, frame, start, end),
            0x6001 | 0x6002 => decnet::mop::decode(pkt, frame, start, end, ty, true),
            0x6003 => decnet::routing::decode_prefixed(self, pkt, frame, start, end),
            0x6004 => decnet::lat::decode(pkt, frame, start, end),
            0x6007 => decnet::lavc::decode(pkt, frame, start, end),
            0x8038 => decnet::stp::lanbridge(pkt, frame, start, end),
            0x9000 => decnet::loopback::decode(pkt, frame, start, end),
            _ => data(pkt, frame, start, end),
        }
    }
}

/// The most layers one frame may nest (IP in IP, GRE, VLAN tags); beyond it the rest is data.
pub(crate) const MAX_DEPTH: usize = 48;

/// True (and the rest shown as marked data) when the packet already nests too deep.
pub(crate) fn too_deep(pkt: &mut Packet, frame: &[u8], start: usize, end: usize) -> bool {
    if pkt.layers.len() + pkt.hidden < MAX_DEPTH {
        return false;
    }
    data(pkt, frame, start, end);
    if let Some(l) = pkt.layers.last_mut() {
        l.mark("encapsulations nested too deep");
    }
    true
}

/// Shows `frame[start..end]` as an undecoded data layer (nothing if empty).
pub(crate) fn data(pkt: &mut Packet, frame: &[u8], start: usize, end: usize) {
    let end = end.min(frame.len());
    if start >= end {
        return;
    }
    let mut l = pkt.new_layer("data", Span::at(start, end - start));
    l.sum().u((end - start) as u64).s(" bytes");
    let b = frame.get(start..end).unwrap_or(&[]);
    // The first 64 bytes are kept as the value; the span covers them all.
    l.add_bytes("Data", b.get(..64).unwrap_or(b), start, b.len());
    pkt.layers.push(l);
}
