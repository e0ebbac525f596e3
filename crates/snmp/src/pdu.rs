//! SNMPv1 (RFC 1157) and SNMPv2c (RFC 1901, RFC 3416) messages and PDUs.

use crate::ber::{self, tag, DecodeError, Reader};
use crate::oid::Oid;
use crate::value::{decode_varbinds, encode_varbinds, VarBind};

/// Message version field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    V1,
    V2c,
}

impl Version {
    pub fn code(self) -> i64 {
        match self {
            Version::V1 => 0,
            Version::V2c => 1,
        }
    }
}

/// PDU types sharing the request-id / error-status / error-index / varbinds layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PduType {
    Get,
    GetNext,
    Response,
    Set,
    GetBulk,
    Inform,
    V2Trap,
    Report,
}

impl PduType {
    pub fn tag(self) -> u8 {
        match self {
            PduType::Get => tag::GET_REQUEST,
            PduType::GetNext => tag::GET_NEXT_REQUEST,
            PduType::Response => tag::RESPONSE,
            PduType::Set => tag::SET_REQUEST,
            PduType::GetBulk => tag::GET_BULK_REQUEST,
            PduType::Inform => tag::INFORM_REQUEST,
            PduType::V2Trap => tag::SNMPV2_TRAP,
            PduType::Report => tag::REPORT,
        }
    }

    pub fn from_tag(t: u8) -> Option<PduType> {
        Some(match t {
            tag::GET_REQUEST => PduType::Get,
            tag::GET_NEXT_REQUEST => PduType::GetNext,
            tag::RESPONSE => PduType::Response,
            tag::SET_REQUEST => PduType::Set,
            tag::GET_BULK_REQUEST => PduType::GetBulk,
            tag::INFORM_REQUEST => PduType::Inform,
            tag::SNMPV2_TRAP => PduType::V2Trap,
            tag::REPORT => PduType::Report,
            _ => return None,
        })
    }
}

/// RFC 3416 error-status values (0-5 are also SNMPv1's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum ErrorStatus {
    NoError = 0,
    TooBig = 1,
    NoSuchName = 2,
    BadValue = 3,
    ReadOnly = 4,
    GenErr = 5,
    NoAccess = 6,
    WrongType = 7,
    WrongLength = 8,
    WrongEncoding = 9,
    WrongValue = 10,
    NoCreation = 11,
    InconsistentValue = 12,
    ResourceUnavailable = 13,
    CommitFailed = 14,
    UndoFailed = 15,
    AuthorizationError = 16,
    NotWritable = 17,
    InconsistentName = 18,
}

impl ErrorStatus {
    pub fn code(self) -> i32 {
        self as i32
    }

    pub fn from_code(c: i32) -> Option<ErrorStatus> {
        use ErrorStatus::*;
        const ALL: [ErrorStatus; 19] = [
            NoError,
            TooBig,
            NoSuchName,
            BadValue,
            ReadOnly,
            GenErr,
            NoAccess,
            WrongType,
            WrongLength,
            WrongEncoding,
            WrongValue,
            NoCreation,
            InconsistentValue,
            ResourceUnavailable,
            CommitFailed,
            UndoFailed,
            AuthorizationError,
            NotWritable,
            InconsistentName,
        ];
        usize::try_from(c).ok().and_then(|i| ALL.get(i).copied())
    }

    /// RFC 3584 section 4.4: the error-status an SNMPv1 manager sees for a v2 error-status.
    pub fn to_v1(self) -> ErrorStatus {
        use ErrorStatus::*;
        match self {
            NoError | TooBig | NoSuchName | BadValue | ReadOnly | GenErr => self,
            WrongValue | WrongEncoding | WrongType | WrongLength | InconsistentValue => BadValue,
            NoAccess | NotWritable | NoCreation | InconsistentName | AuthorizationError => {
                NoSuchName
            }
            ResourceUnavailable | CommitFailed | UndoFailed => GenErr,
        }
    }
}

/// The common PDU. For GetBulk, `error_status` carries non-repeaters and `error_index`
/// max-repetitions (RFC 3416 section 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pdu {
    pub pdu_type: PduType,
    pub request_id: i32,
    pub error_status: i32,
    pub error_index: i32,
    pub varbinds: Vec<VarBind>,
}

impl Pdu {
    pub fn new(pdu_type: PduType, request_id: i32, varbinds: Vec<VarBind>) -> Self {
        Pdu {
            pdu_type,
            request_id,
            error_status: 0,
            error_index: 0,
            varbinds,
        }
    }

    pub fn non_repeaters(&self) -> i32 {
        self.error_status
    }

    pub fn max_repetitions(&self) -> i32 {
        self.error_index
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        ber::push_constructed(out, self.pdu_type.tag(), |o| {
            ber::push_integer(o, i64::from(self.request_id));
            ber::push_integer(o, i64::from(self.error_status));
            ber::push_integer(o, i64::from(self.error_index));
            encode_varbinds(o, &self.varbinds);
        });
    }

    pub(crate) fn decode_body(pdu_type: PduType, c: &[u8]) -> Result<Pdu, DecodeError> {
        let mut r = Reader::new(c);
        let request_id = r.read_i32()?;
        let error_status = r.read_i32()?;
        let error_index = r.read_i32()?;
        let varbinds = decode_varbinds(&mut r)?;
        if !r.is_empty() {
            return Err(DecodeError::TrailingBytes);
        }
        Ok(Pdu {
            pdu_type,
            request_id,
            error_status,
            error_index,
            varbinds,
        })
    }
}

/// The SNMPv1 Trap-PDU (RFC 1157 section 4.1.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrapV1 {
    pub enterprise: Oid,
    pub agent_addr: [u8; 4],
    pub generic_trap: i32,
    pub specific_trap: i32,
    pub time_stamp: u32,
    pub varbinds: Vec<VarBind>,
}

impl TrapV1 {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        ber::push_constructed(out, tag::TRAP_V1, |o| {
            let mut c = Vec::new();
            self.enterprise.encode_contents(&mut c);
            ber::push_tlv(o, tag::OBJECT_IDENTIFIER, &c);
            ber::push_tlv(o, tag::IP_ADDRESS, &self.agent_addr);
            ber::push_integer(o, i64::from(self.generic_trap));
            ber::push_integer(o, i64::from(self.specific_trap));
            ber::push_tlv(
                o,
                tag::TIMETICKS,
                &ber::uint_bytes(u64::from(self.time_stamp)),
            );
            encode_varbinds(o, &self.varbinds);
        });
    }

    pub(crate) fn decode_body(c: &[u8]) -> Result<TrapV1, DecodeError> {
        let mut r = Reader::new(c);
        let enterprise = Oid::decode_contents(r.read_expect(tag::OBJECT_IDENTIFIER)?)?;
        let agent_addr = <[u8; 4]>::try_from(r.read_expect(tag::IP_ADDRESS)?)
            .map_err(|_| DecodeError::BadLength)?;
        let generic_trap = r.read_i32()?;
        let specific_trap = r.read_i32()?;
        let ts = ber::decode_unsigned(r.read_expect(tag::TIMETICKS)?, 32)?;
        let varbinds = decode_varbinds(&mut r)?;
        if !r.is_empty() {
            return Err(DecodeError::TrailingBytes);
        }
        Ok(TrapV1 {
            enterprise,
            agent_addr,
            generic_trap,
            specific_trap,
            time_stamp: u32::try_from(ts).map_err(|_| DecodeError::IntegerOverflow)?,
            varbinds,
        })
    }
}

/// Any PDU a v1/v2c message can carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnyPdu {
    Pdu(Pdu),
    TrapV1(TrapV1),
}

/// A community-based message (v1 or v2c).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub version: Version,
    pub community: Vec<u8>,
    pub pdu: AnyPdu,
}

impl Message {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        ber::push_constructed(&mut out, tag::SEQUENCE, |o| {
            ber::push_integer(o, self.version.code());
            ber::push_tlv(o, tag::OCTET_STRING, &self.community);
            match &self.pdu {
                AnyPdu::Pdu(p) => p.encode(o),
                AnyPdu::TrapV1(t) => t.encode(o),
            }
        });
        out
    }

    /// Reads only the version field of a message (so that v3 can be told apart).
    pub fn peek_version(buf: &[u8]) -> Result<i64, DecodeError> {
        let mut r = Reader::new(buf);
        let mut s = r.read_sequence()?;
        s.read_integer()
    }

    pub fn decode(buf: &[u8]) -> Result<Message, DecodeError> {
        let mut r = Reader::new(buf);
        let mut s = r.read_sequence()?;
        // Trailing bytes after the message are tolerated (some stacks pad datagrams).
        let version = match s.read_integer()? {
            0 => Version::V1,
            1 => Version::V2c,
            v => return Err(DecodeError::BadVersion(v)),
        };
        let community = s.read_octets()?.to_vec();
        let (t, c) = s.read_tlv()?;
        let pdu = if t == tag::TRAP_V1 {
            AnyPdu::TrapV1(TrapV1::decode_body(c)?)
        } else {
            let pt = PduType::from_tag(t).ok_or(DecodeError::UnknownTag(t))?;
            AnyPdu::Pdu(Pdu::decode_body(pt, c)?)
        };
        if !s.is_empty() {
            return Err(DecodeError::TrailingBytes);
        }
        Ok(Message {
            version,
            community,
            pdu,
        })
    }
}

/// Encoded size of a message with this community and these varbinds, without building it.
pub fn response_size(community_len: usize, request_id: i32, varbinds_len: usize) -> usize {
    fn tlv(n: usize) -> usize {
        1 + ber::len_of_len(n) + n
    }
    let pdu_inner = tlv(ber::int_bytes(i64::from(request_id)).len()) + 3 + 3 + tlv(varbinds_len);
    let msg_inner = 3 + tlv(community_len) + tlv(pdu_inner);
    tlv(msg_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    #[test]
    fn net_snmp_get() {
        // snmpget -v2c -c public localhost sysDescr.0 as captured on the wire.
        let bytes = [
            0x30, 0x29, 0x02, 0x01, 0x01, 0x04, 0x06, b'p', b'u', b'b', b'l', b'i', b'c', 0xa0,
            0x1c, 0x02, 0x04, 0x12, 0x34, 0x56, 0x78, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30,
            0x0e, 0x30, 0x0c, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05,
            0x00,
        ];
        let m = Message::decode(&bytes).unwrap();
        assert_eq!(m.version, Version::V2c);
        assert_eq!(m.community, b"public");
        let AnyPdu::Pdu(p) = &m.pdu else {
            panic!("not a pdu")
        };
        assert_eq!(p.pdu_type, PduType::Get);
        assert_eq!(p.request_id, 0x12345678);
        assert_eq!(p.varbinds[0].oid, "1.3.6.1.2.1.1.1.0".parse().unwrap());
        assert_eq!(p.varbinds[0].value, Value::Null);
        assert_eq!(m.encode(), bytes);
    }

    #[test]
    fn size_estimate_matches() {
        for n in [0usize, 3, 200, 70000] {
            let vb = VarBind::new(Oid::new(&[1, 3]), Value::OctetString(vec![0; n]));
            let p = Pdu::new(PduType::Response, -5, vec![vb.clone()]);
            let m = Message {
                version: Version::V2c,
                community: b"public".to_vec(),
                pdu: AnyPdu::Pdu(p),
            };
            let vl = vb.encoded_len();
            assert_eq!(response_size(6, -5, vl), m.encode().len());
        }
    }

    #[test]
    fn v1_mapping() {
        assert_eq!(ErrorStatus::NotWritable.to_v1(), ErrorStatus::NoSuchName);
        assert_eq!(ErrorStatus::WrongType.to_v1(), ErrorStatus::BadValue);
        assert_eq!(ErrorStatus::CommitFailed.to_v1(), ErrorStatus::GenErr);
        assert_eq!(ErrorStatus::from_code(17), Some(ErrorStatus::NotWritable));
        assert_eq!(ErrorStatus::from_code(19), None);
    }
}
