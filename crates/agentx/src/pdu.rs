//! AgentX PDUs (RFC 2741 §6): the 20-octet header, every PDU type, encoding (network byte
//! order) and decoding (either byte order), and stream framing.
//!
//! ```
//! use agentx::pdu::{Pdu, PduBody, frame_len};
//! let ping = Pdu::new(7, 1, 42, PduBody::Ping { context: None });
//! let bytes = ping.encode();
//! assert_eq!(frame_len(&bytes), Ok(Some(20)));
//! assert_eq!(Pdu::decode(&bytes), Ok(ping));
//! ```

use crate::pdu_error::DecodeError;
pub use crate::pdu_error::{CloseReason, ResponseError};
pub use crate::pdu_wire::{value_type, vtype, ByteOrder, SearchRange};
use crate::pdu_wire::{Reader, Writer};
use snmp::{Oid, VarBind};

/// Octets in the fixed header.
pub const HEADER_LEN: usize = 20;

/// The only AgentX protocol version.
pub const VERSION: u8 = 1;

/// The largest payload the decoder and [`frame_len`] accept. RFC 2741 sets no limit; a
/// megabyte is far above any real PDU (a GetBulk response of thousands of varbinds) and keeps
/// a garbage length from making a stream reader buffer gigabytes.
pub const MAX_PAYLOAD: u32 = 1 << 20;

/// The header flag bits (RFC 2741 §6.1).
pub mod flags {
    /// Register: the subtree is a single fully qualified instance.
    pub const INSTANCE_REGISTRATION: u8 = 0x01;
    /// IndexAllocate: allocate a never-before-used index.
    pub const NEW_INDEX: u8 = 0x02;
    /// IndexAllocate: allocate any unused index.
    pub const ANY_INDEX: u8 = 0x04;
    /// A context octet string precedes the PDU-specific fields.
    pub const NON_DEFAULT_CONTEXT: u8 = 0x08;
    /// Multi-octet integers are big-endian.
    pub const NETWORK_BYTE_ORDER: u8 = 0x10;
}

/// The PDU types (RFC 2741 §6.1, h.type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum PduType {
    /// agentx-Open-PDU.
    Open = 1,
    /// agentx-Close-PDU.
    Close = 2,
    /// agentx-Register-PDU.
    Register = 3,
    /// agentx-Unregister-PDU.
    Unregister = 4,
    /// agentx-Get-PDU.
    Get = 5,
    /// agentx-GetNext-PDU.
    GetNext = 6,
    /// agentx-GetBulk-PDU.
    GetBulk = 7,
    /// agentx-TestSet-PDU.
    TestSet = 8,
    /// agentx-CommitSet-PDU.
    CommitSet = 9,
    /// agentx-UndoSet-PDU.
    UndoSet = 10,
    /// agentx-CleanupSet-PDU.
    CleanupSet = 11,
    /// agentx-Notify-PDU.
    Notify = 12,
    /// agentx-Ping-PDU.
    Ping = 13,
    /// agentx-IndexAllocate-PDU.
    IndexAllocate = 14,
    /// agentx-IndexDeallocate-PDU.
    IndexDeallocate = 15,
    /// agentx-AddAgentCaps-PDU.
    AddAgentCaps = 16,
    /// agentx-RemoveAgentCaps-PDU.
    RemoveAgentCaps = 17,
    /// agentx-Response-PDU.
    Response = 18,
}

impl PduType {
    /// The type for a wire value.
    pub fn from_code(c: u8) -> Option<PduType> {
        use PduType::*;
        const ALL: [PduType; 18] = [
            Open,
            Close,
            Register,
            Unregister,
            Get,
            GetNext,
            GetBulk,
            TestSet,
            CommitSet,
            UndoSet,
            CleanupSet,
            Notify,
            Ping,
            IndexAllocate,
            IndexDeallocate,
            AddAgentCaps,
            RemoveAgentCaps,
            Response,
        ];
        ALL.get(usize::from(c).checked_sub(1)?).copied()
    }

    /// Whether this type may carry a context (NON_DEFAULT_CONTEXT).
    pub fn has_context(self) -> bool {
        !matches!(
            self,
            PduType::Open
                | PduType::Close
                | PduType::CommitSet
                | PduType::UndoSet
                | PduType::CleanupSet
                | PduType::Response
        )
    }
}

/// The fixed header as it was on the wire. [`Header::decode`] reads it alone, so a master can
/// answer a PDU whose body does not parse with a parseError carrying the right IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// h.version (1).
    pub version: u8,
    /// h.type.
    pub pdu_type: PduType,
    /// h.flags, all bits as received.
    pub flags: u8,
    /// h.sessionID.
    pub session_id: u32,
    /// h.transactionID.
    pub transaction_id: u32,
    /// h.packetID.
    pub packet_id: u32,
    /// h.payload_length.
    pub payload_length: u32,
}

impl Header {
    /// The byte order the flags announce.
    pub fn byte_order(&self) -> ByteOrder {
        if self.flags & flags::NETWORK_BYTE_ORDER != 0 {
            ByteOrder::Network
        } else {
            ByteOrder::Little
        }
    }

    /// Octets of the whole PDU (header and payload).
    pub fn pdu_len(&self) -> usize {
        HEADER_LEN + self.payload_length as usize
    }

    /// Decodes the header at the start of `buf` (the payload need not be there yet).
    pub fn decode(buf: &[u8]) -> Result<Header, DecodeError> {
        let h = buf
            .get(..HEADER_LEN)
            .ok_or(DecodeError::Truncated("header"))?;
        let (version, ty, fl) = (h[0], h[1], h[2]);
        if version != VERSION {
            return Err(DecodeError::BadVersion(version));
        }
        let pdu_type = PduType::from_code(ty).ok_or(DecodeError::UnknownType(ty))?;
        let order = if fl & flags::NETWORK_BYTE_ORDER != 0 {
            ByteOrder::Network
        } else {
            ByteOrder::Little
        };
        let mut r = Reader::new(&h[4..], order);
        let session_id = r.u32("header")?;
        let transaction_id = r.u32("header")?;
        let packet_id = r.u32("header")?;
        let payload_length = r.u32("header")?;
        if payload_length % 4 != 0 {
            return Err(DecodeError::UnalignedPayload(payload_length));
        }
        if payload_length > MAX_PAYLOAD {
            return Err(DecodeError::PayloadTooLarge(payload_length));
        }
        Ok(Header {
            version,
            pdu_type,
            flags: fl,
            session_id,
            transaction_id,
            packet_id,
            payload_length,
        })
    }
}

/// Framing for a byte stream: the length of the whole PDU at the start of `buf` (20-octet
/// header + payload_length), `Ok(None)` while fewer than 20 octets are buffered, or an error
/// when the header is not AgentX (the stream cannot be resynchronised: close it).
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, DecodeError> {
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    Header::decode(buf).map(|h| Some(h.pdu_len()))
}

/// agentx-Open-PDU (§6.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open {
    /// Seconds the master waits for this session's answers (0 = the master's default).
    pub timeout: u8,
    /// The subagent's identity (may be empty).
    pub id: Oid,
    /// A description of the subagent.
    pub descr: Vec<u8>,
}

/// agentx-Register-PDU (§6.2.3) and, without `timeout`, agentx-Unregister-PDU (§6.2.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Register {
    /// The non-default context, if any.
    pub context: Option<Vec<u8>>,
    /// Seconds the master waits for answers in this region (0 = the session's). Unregister
    /// has no timeout field: it encodes as a reserved octet and decodes as 0.
    pub timeout: u8,
    /// Lower value = higher priority; RFC 2741's default is 127.
    pub priority: u8,
    /// Non-zero: the 1-based sub-identifier of `subtree` that ranges up to `upper_bound`.
    pub range_subid: u8,
    /// The registered subtree (or its lower bound with `range_subid`).
    pub subtree: Oid,
    /// The range's upper bound (present on the wire only when `range_subid` is non-zero).
    pub upper_bound: u32,
    /// INSTANCE_REGISTRATION: `subtree` is one fully qualified instance.
    pub instance: bool,
}

impl Register {
    /// A plain registration of `subtree` at the default priority.
    pub fn subtree(subtree: Oid) -> Self {
        Register {
            context: None,
            timeout: 0,
            priority: 127,
            range_subid: 0,
            subtree,
            upper_bound: 0,
            instance: false,
        }
    }
}

/// agentx-Get-PDU and agentx-GetNext-PDU (§6.2.5, §6.2.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Get {
    /// The non-default context, if any.
    pub context: Option<Vec<u8>>,
    /// One range per requested variable.
    pub ranges: Vec<SearchRange>,
}

/// agentx-GetBulk-PDU (§6.2.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetBulk {
    /// The non-default context, if any.
    pub context: Option<Vec<u8>>,
    /// Leading ranges answered once.
    pub non_repeaters: u16,
    /// Repetitions for the remaining ranges.
    pub max_repetitions: u16,
    /// The ranges.
    pub ranges: Vec<SearchRange>,
}

/// A context and varbinds: TestSet, Notify, IndexAllocate, IndexDeallocate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextVarBinds {
    /// The non-default context, if any.
    pub context: Option<Vec<u8>>,
    /// The varbinds.
    pub varbinds: Vec<VarBind>,
}

/// agentx-IndexAllocate-PDU (§6.2.12) with its flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexAllocate {
    /// The non-default context, if any.
    pub context: Option<Vec<u8>>,
    /// NEW_INDEX: a value never allocated before.
    pub new_index: bool,
    /// ANY_INDEX: any value not currently allocated.
    pub any_index: bool,
    /// The index objects and requested values.
    pub varbinds: Vec<VarBind>,
}

/// agentx-AddAgentCaps-PDU (§6.2.14) (RemoveAgentCaps has no `descr`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentCaps {
    /// The non-default context, if any.
    pub context: Option<Vec<u8>>,
    /// The AGENT-CAPABILITIES object identifier.
    pub id: Oid,
    /// Its description (AddAgentCaps only; empty and not encoded for RemoveAgentCaps).
    pub descr: Vec<u8>,
}

/// agentx-Response-PDU (§6.2.16).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The master's sysUpTime (in answers to the subagent; 0 from subagents).
    pub sys_uptime: u32,
    /// res.error.
    pub error: ResponseError,
    /// res.index: 1-based varbind the error concerns (0 = none).
    pub index: u16,
    /// The varbinds.
    pub varbinds: Vec<VarBind>,
}

impl Response {
    /// A successful response with varbinds.
    pub fn ok(varbinds: Vec<VarBind>) -> Self {
        Response {
            sys_uptime: 0,
            error: ResponseError::NoError,
            index: 0,
            varbinds,
        }
    }

    /// An error response without varbinds.
    pub fn error(error: ResponseError, index: u16) -> Self {
        Response {
            sys_uptime: 0,
            error,
            index,
            varbinds: Vec::new(),
        }
    }
}

/// The PDU-specific part of each PDU type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PduBody {
    /// Open.
    Open(Open),
    /// Close with its reason.
    Close(CloseReason),
    /// Register.
    Register(Register),
    /// Unregister (the `timeout` field is not on the wire).
    Unregister(Register),
    /// Get.
    Get(Get),
    /// GetNext.
    GetNext(Get),
    /// GetBulk.
    GetBulk(GetBulk),
    /// TestSet.
    TestSet(ContextVarBinds),
    /// CommitSet.
    CommitSet,
    /// UndoSet.
    UndoSet,
    /// CleanupSet.
    CleanupSet,
    /// Notify.
    Notify(ContextVarBinds),
    /// Ping.
    Ping {
        /// The non-default context, if any.
        context: Option<Vec<u8>>,
    },
    /// IndexAllocate.
    IndexAllocate(IndexAllocate),
    /// IndexDeallocate.
    IndexDeallocate(ContextVarBinds),
    /// AddAgentCaps.
    AddAgentCaps(AgentCaps),
    /// RemoveAgentCaps (`descr` not on the wire).
    RemoveAgentCaps(AgentCaps),
    /// Response.
    Response(Response),
}

impl PduBody {
    /// The type of this body.
    pub fn pdu_type(&self) -> PduType {
        match self {
            PduBody::Open(_) => PduType::Open,
            PduBody::Close(_) => PduType::Close,
            PduBody::Register(_) => PduType::Register,
            PduBody::Unregister(_) => PduType::Unregister,
            PduBody::Get(_) => PduType::Get,
            PduBody::GetNext(_) => PduType::GetNext,
            PduBody::GetBulk(_) => PduType::GetBulk,
            PduBody::TestSet(_) => PduType::TestSet,
            PduBody::CommitSet => PduType::CommitSet,
            PduBody::UndoSet => PduType::UndoSet,
            PduBody::CleanupSet => PduType::CleanupSet,
            PduBody::Notify(_) => PduType::Notify,
            PduBody::Ping { .. } => PduType::Ping,
            PduBody::IndexAllocate(_) => PduType::IndexAllocate,
            PduBody::IndexDeallocate(_) => PduType::IndexDeallocate,
            PduBody::AddAgentCaps(_) => PduType::AddAgentCaps,
            PduBody::RemoveAgentCaps(_) => PduType::RemoveAgentCaps,
            PduBody::Response(_) => PduType::Response,
        }
    }

    /// The non-default context this PDU carries, if any (None also for types without one).
    pub fn context(&self) -> Option<&[u8]> {
        let c = match self {
            PduBody::Register(r) | PduBody::Unregister(r) => &r.context,
            PduBody::Get(g) | PduBody::GetNext(g) => &g.context,
            PduBody::GetBulk(g) => &g.context,
            PduBody::TestSet(c) | PduBody::Notify(c) | PduBody::IndexDeallocate(c) => &c.context,
            PduBody::Ping { context } => context,
            PduBody::IndexAllocate(i) => &i.context,
            PduBody::AddAgentCaps(a) | PduBody::RemoveAgentCaps(a) => &a.context,
            _ => return None,
        };
        c.as_deref()
    }

    /// The header flags this body implies (NETWORK_BYTE_ORDER not included).
    fn flags(&self) -> u8 {
        let mut f = 0;
        if self.context().is_some() {
            f |= flags::NON_DEFAULT_CONTEXT;
        }
        match self {
            PduBody::Register(r) if r.instance => f |= flags::INSTANCE_REGISTRATION,
            PduBody::IndexAllocate(i) => {
                if i.new_index {
                    f |= flags::NEW_INDEX;
                }
                if i.any_index {
                    f |= flags::ANY_INDEX;
                }
            }
            _ => {}
        }
        f
    }
}

/// One AgentX PDU: the header's IDs and a typed body. The flags are derived from the body
/// (context present, INSTANCE_REGISTRATION, NEW_INDEX/ANY_INDEX) so they cannot disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pdu {
    /// h.sessionID.
    pub session_id: u32,
    /// h.transactionID.
    pub transaction_id: u32,
    /// h.packetID.
    pub packet_id: u32,
    /// The PDU-specific fields.
    pub body: PduBody,
}

impl Pdu {
    /// A PDU with these IDs.
    pub fn new(session_id: u32, transaction_id: u32, packet_id: u32, body: PduBody) -> Self {
        Pdu {
            session_id,
            transaction_id,
            packet_id,
            body,
        }
    }

    /// The type of this PDU.
    pub fn pdu_type(&self) -> PduType {
        self.body.pdu_type()
    }

    /// A Response to `req` (same session, transaction and packet IDs).
    pub fn response_to(req: &Header, response: Response) -> Pdu {
        Pdu::new(
            req.session_id,
            req.transaction_id,
            req.packet_id,
            PduBody::Response(response),
        )
    }

    /// A Response to this PDU (same session, transaction and packet IDs).
    pub fn reply(&self, response: Response) -> Pdu {
        Pdu::new(
            self.session_id,
            self.transaction_id,
            self.packet_id,
            PduBody::Response(response),
        )
    }

    /// Encodes in network byte order (what this crate always sends).
    pub fn encode(&self) -> Vec<u8> {
        self.encode_in(ByteOrder::Network)
    }

    /// Encodes in the given byte order (RFC 2741 lets a subagent choose; a master answers in
    /// the order the session's Open used).
    pub fn encode_in(&self, order: ByteOrder) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        self.encode_into(order, &mut out);
        out
    }

    /// Appends the encoding to `out` (several PDUs to one buffer, one write, no allocation
    /// per PDU once the buffer has grown).
    pub fn encode_into(&self, order: ByteOrder, out: &mut Vec<u8>) {
        let start = out.len();
        let mut w = Writer::append(std::mem::take(out), order);
        let mut fl = self.body.flags();
        if order == ByteOrder::Network {
            fl |= flags::NETWORK_BYTE_ORDER;
        }
        w.u8(VERSION);
        w.u8(self.pdu_type() as u8);
        w.u8(fl);
        w.u8(0);
        w.u32(self.session_id);
        w.u32(self.transaction_id);
        w.u32(self.packet_id);
        w.u32(0); // payload_length, patched below
        if let Some(c) = self.body.context() {
            w.octets(c);
        }
        encode_body(&mut w, &self.body);
        let len = w.out.len() - start - HEADER_LEN;
        w.patch_u32(start + 16, u32::try_from(len).unwrap_or(u32::MAX));
        *out = w.out;
    }

    /// Decodes exactly one PDU: `buf` must hold the header and its whole payload, nothing more
    /// (cut a stream with [`frame_len`]).
    pub fn decode(buf: &[u8]) -> Result<Pdu, DecodeError> {
        let h = Header::decode(buf)?;
        if buf.len() != h.pdu_len() {
            return Err(DecodeError::LengthMismatch {
                have: buf.len(),
                want: h.pdu_len(),
            });
        }
        Pdu::decode_body(&h, &buf[HEADER_LEN..])
    }

    /// Decodes the payload that follows an already decoded header.
    pub fn decode_body(h: &Header, payload: &[u8]) -> Result<Pdu, DecodeError> {
        let mut r = Reader::new(payload, h.byte_order());
        let context = if h.flags & flags::NON_DEFAULT_CONTEXT != 0 {
            // net-snmp's subagents answer a request of a non-default context with the flag
            // and the context in the Response, which RFC 2741 gives no context: skipped.
            if h.pdu_type == PduType::Response {
                r.octets("context")?;
                None
            } else if !h.pdu_type.has_context() {
                return Err(DecodeError::UnexpectedContext(h.pdu_type));
            } else {
                Some(r.octets("context")?)
            }
        } else {
            None
        };
        let body = decode_body(&mut r, h, context)?;
        if r.remaining() != 0 {
            return Err(DecodeError::TrailingBytes(r.remaining()));
        }
        Ok(Pdu::new(h.session_id, h.transaction_id, h.packet_id, body))
    }
}

fn encode_body(w: &mut Writer, body: &PduBody) {
    match body {
        PduBody::Open(o) => {
            w.u8(o.timeout);
            w.out.extend_from_slice(&[0, 0, 0]);
            w.oid(&o.id, false);
            w.octets(&o.descr);
        }
        PduBody::Close(reason) => {
            w.u8(reason.code());
            w.out.extend_from_slice(&[0, 0, 0]);
        }
        PduBody::Register(r) | PduBody::Unregister(r) => {
            let is_reg = matches!(body, PduBody::Register(_));
            w.u8(if is_reg { r.timeout } else { 0 });
            w.u8(r.priority);
            w.u8(r.range_subid);
            w.u8(0);
            w.oid(&r.subtree, false);
            if r.range_subid != 0 {
                w.u32(r.upper_bound);
            }
        }
        PduBody::Get(g) | PduBody::GetNext(g) => {
            for s in &g.ranges {
                w.search_range(s);
            }
        }
        PduBody::GetBulk(g) => {
            w.u16(g.non_repeaters);
            w.u16(g.max_repetitions);
            for s in &g.ranges {
                w.search_range(s);
            }
        }
        PduBody::TestSet(c) | PduBody::Notify(c) | PduBody::IndexDeallocate(c) => {
            w.varbinds(&c.varbinds)
        }
        PduBody::IndexAllocate(i) => w.varbinds(&i.varbinds),
        PduBody::CommitSet | PduBody::UndoSet | PduBody::CleanupSet | PduBody::Ping { .. } => {}
        PduBody::AddAgentCaps(a) => {
            w.oid(&a.id, false);
            w.octets(&a.descr);
        }
        PduBody::RemoveAgentCaps(a) => w.oid(&a.id, false),
        PduBody::Response(r) => {
            w.u32(r.sys_uptime);
            w.u16(r.error.code());
            w.u16(r.index);
            w.varbinds(&r.varbinds);
        }
    }
}

fn decode_body(
    r: &mut Reader<'_>,
    h: &Header,
    context: Option<Vec<u8>>,
) -> Result<PduBody, DecodeError> {
    Ok(match h.pdu_type {
        PduType::Open => {
            let timeout = r.u8("open timeout")?;
            r.skip(3, "open reserved")?;
            let (id, _) = r.oid("open id")?;
            let descr = r.octets("open descr")?;
            PduBody::Open(Open { timeout, id, descr })
        }
        PduType::Close => {
            let reason = CloseReason::from_code(r.u8("close reason")?);
            r.skip(3, "close reserved")?;
            PduBody::Close(reason)
        }
        PduType::Register | PduType::Unregister => {
            let is_reg = h.pdu_type == PduType::Register;
            let timeout = r.u8("register timeout")?;
            let priority = r.u8("register priority")?;
            let range_subid = r.u8("register range_subid")?;
            r.skip(1, "register reserved")?;
            let (subtree, _) = r.oid("register subtree")?;
            let upper_bound = if range_subid != 0 {
                if usize::from(range_subid) > subtree.len() {
                    return Err(DecodeError::BadRangeSubid {
                        range_subid,
                        len: subtree.len(),
                    });
                }
                r.u32("register upper_bound")?
            } else {
                0
            };
            let reg = Register {
                context,
                timeout: if is_reg { timeout } else { 0 },
                priority,
                range_subid,
                subtree,
                upper_bound,
                instance: is_reg && h.flags & flags::INSTANCE_REGISTRATION != 0,
            };
            if is_reg {
                PduBody::Register(reg)
            } else {
                PduBody::Unregister(reg)
            }
        }
        PduType::Get | PduType::GetNext => {
            let g = Get {
                context,
                ranges: r.search_ranges()?,
            };
            if h.pdu_type == PduType::Get {
                PduBody::Get(g)
            } else {
                PduBody::GetNext(g)
            }
        }
        PduType::GetBulk => {
            let non_repeaters = r.u16("getbulk non_repeaters")?;
            let max_repetitions = r.u16("getbulk max_repetitions")?;
            PduBody::GetBulk(GetBulk {
                context,
                non_repeaters,
                max_repetitions,
                ranges: r.search_ranges()?,
            })
        }
        PduType::TestSet | PduType::Notify | PduType::IndexDeallocate => {
            let c = ContextVarBinds {
                context,
                varbinds: r.varbinds()?,
            };
            match h.pdu_type {
                PduType::TestSet => PduBody::TestSet(c),
                PduType::Notify => PduBody::Notify(c),
                _ => PduBody::IndexDeallocate(c),
            }
        }
        PduType::IndexAllocate => PduBody::IndexAllocate(IndexAllocate {
            context,
            new_index: h.flags & flags::NEW_INDEX != 0,
            any_index: h.flags & flags::ANY_INDEX != 0,
            varbinds: r.varbinds()?,
        }),
        PduType::CommitSet => PduBody::CommitSet,
        PduType::UndoSet => PduBody::UndoSet,
        PduType::CleanupSet => PduBody::CleanupSet,
        PduType::Ping => PduBody::Ping { context },
        PduType::AddAgentCaps => {
            let (id, _) = r.oid("agentcaps id")?;
            let descr = r.octets("agentcaps descr")?;
            PduBody::AddAgentCaps(AgentCaps { context, id, descr })
        }
        PduType::RemoveAgentCaps => {
            let (id, _) = r.oid("agentcaps id")?;
            PduBody::RemoveAgentCaps(AgentCaps {
                context,
                id,
                descr: Vec::new(),
            })
        }
        PduType::Response => {
            let sys_uptime = r.u32("response sysUpTime")?;
            let error = ResponseError::from_code(r.u16("response error")?);
            let index = r.u16("response index")?;
            PduBody::Response(Response {
                sys_uptime,
                error,
                index,
                varbinds: r.varbinds()?,
            })
        }
    })
}
