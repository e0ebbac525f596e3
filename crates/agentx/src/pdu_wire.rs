//! The AgentX data types of RFC 2741 §5: integers in either byte order, object identifiers
//! with the `1.3.6.1` prefix compression, padded octet strings, varbinds and search ranges.

use crate::pdu_error::DecodeError;
use snmp::{Oid, Value, VarBind};

/// The byte order of a PDU's multi-octet integers (the NETWORK_BYTE_ORDER header flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// Big-endian: NETWORK_BYTE_ORDER set. What this crate sends.
    Network,
    /// Little-endian: NETWORK_BYTE_ORDER clear.
    Little,
}

/// The value type codes of a VarBind (RFC 2741 §5.4).
pub mod vtype {
    /// Integer.
    pub const INTEGER: u16 = 2;
    /// Octet String.
    pub const OCTET_STRING: u16 = 4;
    /// Null.
    pub const NULL: u16 = 5;
    /// Object Identifier.
    pub const OBJECT_IDENTIFIER: u16 = 6;
    /// IpAddress (an octet string of 4).
    pub const IP_ADDRESS: u16 = 64;
    /// Counter32.
    pub const COUNTER32: u16 = 65;
    /// Gauge32.
    pub const GAUGE32: u16 = 66;
    /// TimeTicks.
    pub const TIME_TICKS: u16 = 67;
    /// Opaque (an octet string).
    pub const OPAQUE: u16 = 68;
    /// Counter64.
    pub const COUNTER64: u16 = 70;
    /// noSuchObject.
    pub const NO_SUCH_OBJECT: u16 = 128;
    /// noSuchInstance.
    pub const NO_SUCH_INSTANCE: u16 = 129;
    /// endOfMibView.
    pub const END_OF_MIB_VIEW: u16 = 130;
}

/// The `1.3.6.1` prefix the `prefix` field of an encoded OID stands for.
const INTERNET: [u32; 4] = [1, 3, 6, 1];

/// One SearchRange of a Get/GetNext/GetBulk (RFC 2741 §5.2): from `start` (inclusive when
/// `include` is set) up to `end` (exclusive; the empty OID means no upper bound).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRange {
    /// Where the search starts.
    pub start: Oid,
    /// Where it ends (exclusive); empty = unbounded.
    pub end: Oid,
    /// For GetNext/GetBulk: `start` itself may be returned.
    pub include: bool,
}

impl SearchRange {
    /// A range with no upper bound.
    pub fn from(start: Oid, include: bool) -> Self {
        SearchRange {
            start,
            end: Oid::empty(),
            include,
        }
    }

    /// True when `oid` lies before the range's end (always, for an unbounded range).
    pub fn below_end(&self, oid: &Oid) -> bool {
        self.end.is_empty() || *oid < self.end
    }
}

/// Appends AgentX fields to a buffer in one byte order.
pub(crate) struct Writer {
    pub(crate) out: Vec<u8>,
    order: ByteOrder,
}

impl Writer {
    #[cfg(test)]
    pub(crate) fn new(order: ByteOrder) -> Self {
        Writer {
            out: Vec::with_capacity(64),
            order,
        }
    }

    /// A writer appending to `out` (taken back with `.out`).
    pub(crate) fn append(out: Vec<u8>, order: ByteOrder) -> Self {
        Writer { out, order }
    }

    pub(crate) fn u8(&mut self, v: u8) {
        self.out.push(v);
    }

    pub(crate) fn u16(&mut self, v: u16) {
        match self.order {
            ByteOrder::Network => self.out.extend_from_slice(&v.to_be_bytes()),
            ByteOrder::Little => self.out.extend_from_slice(&v.to_le_bytes()),
        }
    }

    pub(crate) fn u32(&mut self, v: u32) {
        match self.order {
            ByteOrder::Network => self.out.extend_from_slice(&v.to_be_bytes()),
            ByteOrder::Little => self.out.extend_from_slice(&v.to_le_bytes()),
        }
    }

    pub(crate) fn u64(&mut self, v: u64) {
        match self.order {
            ByteOrder::Network => self.out.extend_from_slice(&v.to_be_bytes()),
            ByteOrder::Little => self.out.extend_from_slice(&v.to_le_bytes()),
        }
    }

    /// Overwrites a u32 written earlier (the header's payload_length).
    pub(crate) fn patch_u32(&mut self, at: usize, v: u32) {
        let b = match self.order {
            ByteOrder::Network => v.to_be_bytes(),
            ByteOrder::Little => v.to_le_bytes(),
        };
        if let Some(dst) = self.out.get_mut(at..at + 4) {
            dst.copy_from_slice(&b);
        }
    }

    /// An object identifier (§5.1), compressed when it starts with `1.3.6.1.x`, x in 1..=255.
    pub(crate) fn oid(&mut self, oid: &Oid, include: bool) {
        let arcs = oid.arcs();
        let (prefix, rest) = match arcs {
            [1, 3, 6, 1, p, rest @ ..] if (1..=255).contains(p) => (*p as u8, rest),
            _ => (0, arcs),
        };
        // Oid holds at most 128 arcs, so the count fits; clamp rather than wrap if not.
        self.u8(u8::try_from(rest.len()).unwrap_or(u8::MAX));
        self.u8(prefix);
        self.u8(u8::from(include));
        self.u8(0);
        for &a in rest.iter().take(255) {
            self.u32(a);
        }
    }

    /// An octet string (§5.3): length, octets, zero padding to a multiple of 4.
    pub(crate) fn octets(&mut self, b: &[u8]) {
        self.u32(u32::try_from(b.len()).unwrap_or(u32::MAX));
        self.out.extend_from_slice(b);
        let pad = (4 - b.len() % 4) % 4;
        self.out.extend_from_slice(&[0u8; 3][..pad]);
    }

    pub(crate) fn varbind(&mut self, vb: &VarBind) {
        let t = value_type(&vb.value);
        self.u16(t);
        self.u16(0);
        self.oid(&vb.oid, false);
        match &vb.value {
            Value::Integer(v) => self.u32(*v as u32),
            Value::OctetString(b) | Value::Opaque(b) => self.octets(b),
            Value::IpAddress(a) => self.octets(a),
            Value::ObjectId(o) => self.oid(o, false),
            Value::Counter32(v) | Value::Gauge32(v) | Value::TimeTicks(v) => self.u32(*v),
            Value::Counter64(v) => self.u64(*v),
            Value::Null | Value::NoSuchObject | Value::NoSuchInstance | Value::EndOfMibView => {}
        }
    }

    pub(crate) fn varbinds(&mut self, vbs: &[VarBind]) {
        for vb in vbs {
            self.varbind(vb);
        }
    }

    pub(crate) fn search_range(&mut self, r: &SearchRange) {
        self.oid(&r.start, r.include);
        self.oid(&r.end, false);
    }
}

/// The AgentX type code of a value.
pub fn value_type(v: &Value) -> u16 {
    match v {
        Value::Integer(_) => vtype::INTEGER,
        Value::OctetString(_) => vtype::OCTET_STRING,
        Value::Null => vtype::NULL,
        Value::ObjectId(_) => vtype::OBJECT_IDENTIFIER,
        Value::IpAddress(_) => vtype::IP_ADDRESS,
        Value::Counter32(_) => vtype::COUNTER32,
        Value::Gauge32(_) => vtype::GAUGE32,
        Value::TimeTicks(_) => vtype::TIME_TICKS,
        Value::Opaque(_) => vtype::OPAQUE,
        Value::Counter64(_) => vtype::COUNTER64,
        Value::NoSuchObject => vtype::NO_SUCH_OBJECT,
        Value::NoSuchInstance => vtype::NO_SUCH_INSTANCE,
        Value::EndOfMibView => vtype::END_OF_MIB_VIEW,
    }
}

/// Reads AgentX fields from a PDU's payload.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    order: ByteOrder,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], order: ByteOrder) -> Self {
        Reader { buf, order }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len()
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError::Truncated(what));
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Ok(a)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let s = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(what)?[0])
    }

    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        let a = self.array::<2>(what)?;
        Ok(match self.order {
            ByteOrder::Network => u16::from_be_bytes(a),
            ByteOrder::Little => u16::from_le_bytes(a),
        })
    }

    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let a = self.array::<4>(what)?;
        Ok(match self.order {
            ByteOrder::Network => u32::from_be_bytes(a),
            ByteOrder::Little => u32::from_le_bytes(a),
        })
    }

    pub(crate) fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        let a = self.array::<8>(what)?;
        Ok(match self.order {
            ByteOrder::Network => u64::from_be_bytes(a),
            ByteOrder::Little => u64::from_le_bytes(a),
        })
    }

    /// Skips reserved octets (their value is ignored, as RFC 2741 asks of receivers).
    pub(crate) fn skip(&mut self, n: usize, what: &'static str) -> Result<(), DecodeError> {
        self.take(n, what).map(|_| ())
    }

    /// An object identifier and its include flag.
    pub(crate) fn oid(&mut self, what: &'static str) -> Result<(Oid, bool), DecodeError> {
        let n = usize::from(self.u8(what)?);
        let prefix = self.u8(what)?;
        let include = self.u8(what)? != 0;
        self.skip(1, what)?;
        let total = n + if prefix != 0 { 5 } else { 0 };
        if total > snmp::oid::MAX_ARCS {
            return Err(DecodeError::OidTooLong(total));
        }
        let mut arcs = Vec::with_capacity(total);
        if prefix != 0 {
            arcs.extend_from_slice(&INTERNET);
            arcs.push(u32::from(prefix));
        }
        for _ in 0..n {
            arcs.push(self.u32(what)?);
        }
        Ok((Oid::new(&arcs), include))
    }

    /// An octet string, its padding skipped.
    pub(crate) fn octets(&mut self, what: &'static str) -> Result<Vec<u8>, DecodeError> {
        let len = self.u32(what)?;
        let len = usize::try_from(len).map_err(|_| DecodeError::Truncated(what))?;
        let padded = len
            .checked_add((4 - len % 4) % 4)
            .ok_or(DecodeError::Truncated(what))?;
        let b = self.take(padded, what)?;
        Ok(b[..len].to_vec())
    }

    pub(crate) fn varbind(&mut self) -> Result<VarBind, DecodeError> {
        const W: &str = "varbind";
        let t = self.u16(W)?;
        self.skip(2, W)?;
        let (oid, _) = self.oid("varbind name")?;
        let value = match t {
            vtype::INTEGER => Value::Integer(self.u32(W)? as i32),
            vtype::OCTET_STRING => Value::OctetString(self.octets(W)?),
            vtype::NULL => Value::Null,
            vtype::OBJECT_IDENTIFIER => Value::ObjectId(self.oid("varbind value")?.0),
            vtype::IP_ADDRESS => {
                let b = self.octets(W)?;
                let a = <[u8; 4]>::try_from(b.as_slice())
                    .map_err(|_| DecodeError::BadIpAddress(b.len()))?;
                Value::IpAddress(a)
            }
            vtype::COUNTER32 => Value::Counter32(self.u32(W)?),
            vtype::GAUGE32 => Value::Gauge32(self.u32(W)?),
            vtype::TIME_TICKS => Value::TimeTicks(self.u32(W)?),
            vtype::OPAQUE => Value::Opaque(self.octets(W)?),
            vtype::COUNTER64 => Value::Counter64(self.u64(W)?),
            vtype::NO_SUCH_OBJECT => Value::NoSuchObject,
            vtype::NO_SUCH_INSTANCE => Value::NoSuchInstance,
            vtype::END_OF_MIB_VIEW => Value::EndOfMibView,
            other => return Err(DecodeError::UnknownValueType(other)),
        };
        Ok(VarBind { oid, value })
    }

    /// Varbinds up to the end of the payload.
    pub(crate) fn varbinds(&mut self) -> Result<Vec<VarBind>, DecodeError> {
        let mut v = Vec::new();
        while self.remaining() > 0 {
            v.push(self.varbind()?);
        }
        Ok(v)
    }

    pub(crate) fn search_range(&mut self) -> Result<SearchRange, DecodeError> {
        let (start, include) = self.oid("search range start")?;
        let (end, _) = self.oid("search range end")?;
        Ok(SearchRange {
            start,
            end,
            include,
        })
    }

    /// Search ranges up to the end of the payload.
    pub(crate) fn search_ranges(&mut self) -> Result<Vec<SearchRange>, DecodeError> {
        let mut v = Vec::new();
        while self.remaining() > 0 {
            v.push(self.search_range()?);
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use snmp::oid;

    #[test]
    fn oid_prefix_compression() {
        let mut w = Writer::new(ByteOrder::Network);
        w.oid(&oid!(1, 3, 6, 1, 2, 1, 1, 1, 0), true);
        assert_eq!(
            w.out,
            [4, 2, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0]
        );
        let mut r = Reader::new(&w.out, ByteOrder::Network);
        assert_eq!(r.oid("t").unwrap(), (oid!(1, 3, 6, 1, 2, 1, 1, 1, 0), true));
        // 1.3.6.1.0.x and 1.3.6.1.300.x cannot use the prefix octet.
        let mut w = Writer::new(ByteOrder::Network);
        w.oid(&oid!(1, 3, 6, 1, 300), false);
        assert_eq!(w.out[..4], [5, 0, 0, 0]);
        let mut w = Writer::new(ByteOrder::Little);
        w.oid(&Oid::empty(), false);
        assert_eq!(w.out, [0, 0, 0, 0]);
    }

    #[test]
    fn octets_pad() {
        let mut w = Writer::new(ByteOrder::Little);
        w.octets(b"abcde");
        assert_eq!(w.out, [5, 0, 0, 0, b'a', b'b', b'c', b'd', b'e', 0, 0, 0]);
        let mut r = Reader::new(&w.out, ByteOrder::Little);
        assert_eq!(r.octets("t").unwrap(), b"abcde");
        assert_eq!(r.remaining(), 0);
        let mut r = Reader::new(&w.out[..10], ByteOrder::Little);
        assert_eq!(r.octets("t"), Err(DecodeError::Truncated("t")));
        let huge = [0xff, 0xff, 0xff, 0xff];
        let mut r = Reader::new(&huge, ByteOrder::Little);
        assert!(r.octets("t").is_err());
    }
}
