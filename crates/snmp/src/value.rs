//! SMI value types and variable bindings.

use crate::ber::{self, tag, DecodeError, Reader};
use crate::oid::Oid;

/// A value in a variable binding, including the SNMPv2 exceptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Integer(i32),
    OctetString(Vec<u8>),
    Null,
    ObjectId(Oid),
    IpAddress([u8; 4]),
    Counter32(u32),
    Gauge32(u32),
    TimeTicks(u32),
    Opaque(Vec<u8>),
    Counter64(u64),
    NoSuchObject,
    NoSuchInstance,
    EndOfMibView,
}

impl Value {
    /// One of the v2 exceptions (noSuchObject, noSuchInstance, endOfMibView).
    pub fn is_exception(&self) -> bool {
        matches!(
            self,
            Value::NoSuchObject | Value::NoSuchInstance | Value::EndOfMibView
        )
    }

    pub fn string(s: impl AsRef<[u8]>) -> Value {
        Value::OctetString(s.as_ref().to_vec())
    }

    pub fn tag(&self) -> u8 {
        match self {
            Value::Integer(_) => tag::INTEGER,
            Value::OctetString(_) => tag::OCTET_STRING,
            Value::Null => tag::NULL,
            Value::ObjectId(_) => tag::OBJECT_IDENTIFIER,
            Value::IpAddress(_) => tag::IP_ADDRESS,
            Value::Counter32(_) => tag::COUNTER32,
            Value::Gauge32(_) => tag::GAUGE32,
            Value::TimeTicks(_) => tag::TIMETICKS,
            Value::Opaque(_) => tag::OPAQUE,
            Value::Counter64(_) => tag::COUNTER64,
            Value::NoSuchObject => tag::NO_SUCH_OBJECT,
            Value::NoSuchInstance => tag::NO_SUCH_INSTANCE,
            Value::EndOfMibView => tag::END_OF_MIB_VIEW,
        }
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        let t = self.tag();
        match self {
            Value::Integer(v) => ber::push_tlv(out, t, &ber::int_bytes(i64::from(*v))),
            Value::OctetString(b) | Value::Opaque(b) => ber::push_tlv(out, t, b),
            Value::Null | Value::NoSuchObject | Value::NoSuchInstance | Value::EndOfMibView => {
                ber::push_tlv(out, t, &[])
            }
            Value::ObjectId(o) => {
                let mut c = Vec::new();
                o.encode_contents(&mut c);
                ber::push_tlv(out, t, &c)
            }
            Value::IpAddress(a) => ber::push_tlv(out, t, a),
            Value::Counter32(v) | Value::Gauge32(v) | Value::TimeTicks(v) => {
                ber::push_tlv(out, t, &ber::uint_bytes(u64::from(*v)))
            }
            Value::Counter64(v) => ber::push_tlv(out, t, &ber::uint_bytes(*v)),
        }
    }

    pub fn decode(r: &mut Reader<'_>) -> Result<Value, DecodeError> {
        let (t, c) = r.read_tlv()?;
        Value::from_tlv(t, c)
    }

    pub fn from_tlv(t: u8, c: &[u8]) -> Result<Value, DecodeError> {
        Ok(match t {
            tag::INTEGER => Value::Integer(
                i32::try_from(ber::decode_i64(c)?).map_err(|_| DecodeError::IntegerOverflow)?,
            ),
            tag::OCTET_STRING => Value::OctetString(c.to_vec()),
            tag::NULL => {
                if !c.is_empty() {
                    return Err(DecodeError::BadLength);
                }
                Value::Null
            }
            tag::OBJECT_IDENTIFIER => Value::ObjectId(Oid::decode_contents(c)?),
            tag::IP_ADDRESS => {
                Value::IpAddress(<[u8; 4]>::try_from(c).map_err(|_| DecodeError::BadLength)?)
            }
            tag::COUNTER32 => Value::Counter32(u32_of(c)?),
            tag::GAUGE32 => Value::Gauge32(u32_of(c)?),
            tag::TIMETICKS => Value::TimeTicks(u32_of(c)?),
            tag::OPAQUE => Value::Opaque(c.to_vec()),
            tag::COUNTER64 => Value::Counter64(ber::decode_unsigned(c, 64)?),
            tag::NO_SUCH_OBJECT => Value::NoSuchObject,
            tag::NO_SUCH_INSTANCE => Value::NoSuchInstance,
            tag::END_OF_MIB_VIEW => Value::EndOfMibView,
            other => return Err(DecodeError::UnknownTag(other)),
        })
    }

    /// A short type name for logs and errors.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Integer(_) => "INTEGER",
            Value::OctetString(_) => "OCTET STRING",
            Value::Null => "NULL",
            Value::ObjectId(_) => "OBJECT IDENTIFIER",
            Value::IpAddress(_) => "IpAddress",
            Value::Counter32(_) => "Counter32",
            Value::Gauge32(_) => "Gauge32",
            Value::TimeTicks(_) => "TimeTicks",
            Value::Opaque(_) => "Opaque",
            Value::Counter64(_) => "Counter64",
            Value::NoSuchObject => "noSuchObject",
            Value::NoSuchInstance => "noSuchInstance",
            Value::EndOfMibView => "endOfMibView",
        }
    }
}

fn u32_of(c: &[u8]) -> Result<u32, DecodeError> {
    u32::try_from(ber::decode_unsigned(c, 32)?).map_err(|_| DecodeError::IntegerOverflow)
}

/// A variable binding: a name and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarBind {
    pub oid: Oid,
    pub value: Value,
}

impl VarBind {
    pub fn new(oid: Oid, value: Value) -> Self {
        VarBind { oid, value }
    }

    pub fn null(oid: Oid) -> Self {
        VarBind {
            oid,
            value: Value::Null,
        }
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        ber::push_constructed(out, tag::SEQUENCE, |o| {
            let mut c = Vec::new();
            self.oid.encode_contents(&mut c);
            ber::push_tlv(o, tag::OBJECT_IDENTIFIER, &c);
            self.value.encode(o);
        });
    }

    /// Encoded size in octets.
    pub fn encoded_len(&self) -> usize {
        let mut v = Vec::new();
        self.encode(&mut v);
        v.len()
    }

    pub fn decode(r: &mut Reader<'_>) -> Result<VarBind, DecodeError> {
        let mut s = r.read_sequence()?;
        let oid = Oid::decode_contents(s.read_expect(tag::OBJECT_IDENTIFIER)?)?;
        let value = Value::decode(&mut s)?;
        if !s.is_empty() {
            return Err(DecodeError::TrailingBytes);
        }
        Ok(VarBind { oid, value })
    }
}

pub fn encode_varbinds(out: &mut Vec<u8>, vbs: &[VarBind]) {
    ber::push_constructed(out, tag::SEQUENCE, |o| {
        for vb in vbs {
            vb.encode(o);
        }
    });
}

pub fn decode_varbinds(r: &mut Reader<'_>) -> Result<Vec<VarBind>, DecodeError> {
    let mut s = r.read_sequence()?;
    let mut out = Vec::new();
    while !s.is_empty() {
        out.push(VarBind::decode(&mut s)?);
    }
    Ok(out)
}
