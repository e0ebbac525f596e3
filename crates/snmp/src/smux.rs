//! SMUX (RFC 1227): the PDUs in the snmp crate's BER, stream framing, and the master's
//! registration rules. The sockets are the host's (netcp).
//!
//! ```text
//! SMUX-PDUs ::= CHOICE { open OpenPDU, close ClosePDU, registerRequest RReqPDU,
//!                        registerResponse RRspPDU, PDUs, commitOrRollback SOutPDU }
//! OpenPDU  ::= [APPLICATION 0] IMPLICIT SEQUENCE { version INTEGER, identity OBJECT IDENTIFIER,
//!                                                  description DisplayString, password OCTET STRING }
//! ClosePDU ::= [APPLICATION 1] IMPLICIT INTEGER
//! RReqPDU  ::= [APPLICATION 2] IMPLICIT SEQUENCE { subtree ObjectName, priority INTEGER,
//!                                                  operation INTEGER { delete(0), readOnly(1), readWrite(2) } }
//! RRspPDU  ::= [APPLICATION 3] IMPLICIT INTEGER  -- the priority granted, or failure(-1)
//! SOutPDU  ::= [APPLICATION 4] IMPLICIT INTEGER { commit(0), rollback(1) }
//! ```

use crate::ber::{self, tag, DecodeError, Reader};
use crate::oid::Oid;
use crate::pdu::{Pdu, PduType, TrapV1};

const OPEN: u8 = 0x60;
const CLOSE: u8 = 0x41;
const RREQ: u8 = 0x62;
const RRSP: u8 = 0x43;
const SOUT: u8 = 0x44;

/// The largest SMUX PDU accepted (a peer announcing more is closed).
pub const MAX_PDU: usize = 1 << 20;

/// ClosePDU reasons.
pub mod close {
    pub const GOING_DOWN: i64 = 0;
    pub const UNSUPPORTED_VERSION: i64 = 1;
    pub const PACKET_FORMAT: i64 = 2;
    pub const PROTOCOL_ERROR: i64 = 3;
    pub const INTERNAL_ERROR: i64 = 4;
    pub const AUTHENTICATION_FAILURE: i64 = 5;
}

/// One SMUX PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmuxPdu {
    Open {
        version: i64,
        identity: Oid,
        description: Vec<u8>,
        password: Vec<u8>,
    },
    Close(i64),
    /// Register (`operation` 1 read-only, 2 read-write) or delete (0) a subtree.
    RReq {
        subtree: Oid,
        priority: i64,
        operation: i64,
    },
    RRsp(i64),
    /// SOutPDU: commit (0) or rollback (1).
    SOut(i64),
    /// Get, GetNext, Set (master to peer) and GetResponse (peer to master).
    Pdu(Pdu),
    Trap(TrapV1),
}

/// The length of the PDU at the start of `buf`: `Ok(None)` while incomplete.
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, DecodeError> {
    let Some(&l0) = buf.get(1) else {
        return Ok(None);
    };
    let (hdr, len) = if l0 < 0x80 {
        (2, usize::from(l0))
    } else if l0 == 0x80 {
        return Err(DecodeError::IndefiniteLength);
    } else {
        let n = usize::from(l0 & 0x7f);
        if n > 4 {
            return Err(DecodeError::LengthTooLong);
        }
        let Some(lb) = buf.get(2..2 + n) else {
            return Ok(None);
        };
        (
            2 + n,
            lb.iter().fold(0usize, |a, b| (a << 8) | usize::from(*b)),
        )
    };
    if len > MAX_PDU {
        return Err(DecodeError::LengthTooLong);
    }
    Ok(Some(hdr + len))
}

impl SmuxPdu {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            SmuxPdu::Open {
                version,
                identity,
                description,
                password,
            } => ber::push_constructed(&mut out, OPEN, |o| {
                ber::push_integer(o, *version);
                let mut c = Vec::new();
                identity.encode_contents(&mut c);
                ber::push_tlv(o, tag::OBJECT_IDENTIFIER, &c);
                ber::push_tlv(o, tag::OCTET_STRING, description);
                ber::push_tlv(o, tag::OCTET_STRING, password);
            }),
            SmuxPdu::Close(v) => ber::push_tlv(&mut out, CLOSE, &ber::int_bytes(*v)),
            SmuxPdu::RReq {
                subtree,
                priority,
                operation,
            } => ber::push_constructed(&mut out, RREQ, |o| {
                let mut c = Vec::new();
                subtree.encode_contents(&mut c);
                ber::push_tlv(o, tag::OBJECT_IDENTIFIER, &c);
                ber::push_integer(o, *priority);
                ber::push_integer(o, *operation);
            }),
            SmuxPdu::RRsp(v) => ber::push_tlv(&mut out, RRSP, &ber::int_bytes(*v)),
            SmuxPdu::SOut(v) => ber::push_tlv(&mut out, SOUT, &ber::int_bytes(*v)),
            SmuxPdu::Pdu(p) => p.encode(&mut out),
            SmuxPdu::Trap(t) => t.encode(&mut out),
        }
        out
    }

    /// Decodes exactly one PDU (`buf` cut with [`frame_len`]).
    pub fn decode(buf: &[u8]) -> Result<SmuxPdu, DecodeError> {
        let mut r = Reader::new(buf);
        let (t, c) = r.read_tlv()?;
        if !r.is_empty() {
            return Err(DecodeError::TrailingBytes);
        }
        let pdu = match t {
            OPEN => {
                let mut s = Reader::new(c);
                let version = s.read_integer()?;
                let identity = Oid::decode_contents(s.read_expect(tag::OBJECT_IDENTIFIER)?)?;
                let description = s.read_octets()?.to_vec();
                let password = s.read_octets()?.to_vec();
                if !s.is_empty() {
                    return Err(DecodeError::TrailingBytes);
                }
                SmuxPdu::Open {
                    version,
                    identity,
                    description,
                    password,
                }
            }
            CLOSE => SmuxPdu::Close(ber::decode_i64(c)?),
            RREQ => {
                let mut s = Reader::new(c);
                let subtree = Oid::decode_contents(s.read_expect(tag::OBJECT_IDENTIFIER)?)?;
                let priority = s.read_integer()?;
                let operation = s.read_integer()?;
                if !s.is_empty() {
                    return Err(DecodeError::TrailingBytes);
                }
                SmuxPdu::RReq {
                    subtree,
                    priority,
                    operation,
                }
            }
            RRSP => SmuxPdu::RRsp(ber::decode_i64(c)?),
            SOUT => SmuxPdu::SOut(ber::decode_i64(c)?),
            tag::TRAP_V1 => SmuxPdu::Trap(TrapV1::decode_body(c)?),
            t => {
                let pt = PduType::from_tag(t).ok_or(DecodeError::UnknownTag(t))?;
                if !matches!(
                    pt,
                    PduType::Get | PduType::GetNext | PduType::Set | PduType::Response
                ) {
                    return Err(DecodeError::UnknownTag(t));
                }
                SmuxPdu::Pdu(Pdu::decode_body(pt, c)?)
            }
        };
        Ok(pdu)
    }
}

/// One registration of a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmuxRegistration {
    pub peer: u32,
    pub subtree: Oid,
    pub priority: i64,
    pub read_write: bool,
}

/// The registrations of every peer (RFC 1227 §3.1.2: priorities per subtree, lower wins; a
/// taken priority moves to the next free one; -1 asks for the best free one).
#[derive(Debug, Default)]
pub struct SmuxRegistry {
    regs: Vec<SmuxRegistration>,
}

impl SmuxRegistry {
    /// Registers (operation 1 or 2) or deletes (0); the RRspPDU value: the priority granted, or
    /// -1.
    pub fn request(&mut self, peer: u32, subtree: &Oid, priority: i64, operation: i64) -> i64 {
        if subtree.is_empty() || !(-1..=i64::from(i32::MAX)).contains(&priority) {
            return -1;
        }
        match operation {
            0 => {
                let found = self.regs.iter().position(|r| {
                    r.peer == peer
                        && r.subtree == *subtree
                        && (priority == -1 || r.priority == priority)
                });
                match found {
                    Some(i) => self.regs.remove(i).priority,
                    None => -1,
                }
            }
            1 | 2 => {
                let mut p = priority.max(0);
                while self
                    .regs
                    .iter()
                    .any(|r| r.subtree == *subtree && r.priority == p)
                {
                    p += 1;
                }
                if p > i64::from(i32::MAX) {
                    return -1;
                }
                self.regs.push(SmuxRegistration {
                    peer,
                    subtree: subtree.clone(),
                    priority: p,
                    read_write: operation == 2,
                });
                p
            }
            _ => -1,
        }
    }

    pub fn remove_peer(&mut self, peer: u32) {
        self.regs.retain(|r| r.peer != peer);
    }

    pub fn all(&self) -> &[SmuxRegistration] {
        &self.regs
    }

    /// The peer serving each subtree (lowest priority value), sorted by subtree.
    pub fn effective(&self) -> Vec<(Oid, u32)> {
        let mut best: std::collections::BTreeMap<&Oid, &SmuxRegistration> = Default::default();
        for r in &self.regs {
            if best.get(&r.subtree).is_none_or(|b| r.priority < b.priority) {
                best.insert(&r.subtree, r);
            }
        }
        best.into_iter().map(|(o, r)| (o.clone(), r.peer)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{Value, VarBind};

    fn oid(s: &str) -> Oid {
        s.parse().unwrap()
    }

    #[test]
    fn round_trips_and_framing() {
        let pdus = [
            SmuxPdu::Open {
                version: 0,
                identity: oid("1.3.6.1.4.1.9.1"),
                description: b"peer".to_vec(),
                password: b"secret".to_vec(),
            },
            SmuxPdu::Close(close::GOING_DOWN),
            SmuxPdu::RReq {
                subtree: oid("1.3.6.1.4.1.9"),
                priority: -1,
                operation: 2,
            },
            SmuxPdu::RRsp(-1),
            SmuxPdu::SOut(1),
            SmuxPdu::Pdu(Pdu::new(
                PduType::GetNext,
                7,
                vec![VarBind::new(oid("1.3.6.1.4.1.9.1"), Value::Null)],
            )),
        ];
        for p in pdus {
            let b = p.encode();
            assert_eq!(frame_len(&b), Ok(Some(b.len())), "{p:?}");
            assert_eq!(frame_len(&b[..1]), Ok(None));
            assert_eq!(SmuxPdu::decode(&b), Ok(p));
        }
        // The three octets of `Close` in RFC 1227's encoding.
        assert_eq!(SmuxPdu::Close(0).encode(), [0x41, 0x01, 0x00]);
        assert!(SmuxPdu::decode(&[0x30, 0x00]).is_err());
        assert!(frame_len(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_err());
    }

    #[test]
    fn priorities() {
        let mut r = SmuxRegistry::default();
        let s = oid("1.3.6.1.4.1.9");
        assert_eq!(r.request(1, &s, -1, 1), 0);
        assert_eq!(r.request(2, &s, 0, 2), 1);
        assert_eq!(r.effective(), vec![(s.clone(), 1)]);
        assert_eq!(r.request(2, &s, 5, 3), -1);
        assert_eq!(r.request(1, &s, 0, 0), 0);
        assert_eq!(r.effective(), vec![(s.clone(), 2)]);
        assert_eq!(r.request(1, &s, 0, 0), -1);
        r.remove_peer(2);
        assert!(r.effective().is_empty());
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Arbitrary bytes never panic the framing or the decoder.
        #[test]
        fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = frame_len(&bytes);
            let _ = SmuxPdu::decode(&bytes);
        }
    }
}
