//! A BER codec written for SNMP.
//!
//! Lenient where real managers are sloppy: long-form lengths (even when the short form would do,
//! and with leading zero octets) and non-minimal integers (leading `0x00`/`0xFF` padding) are
//! accepted. Strict where safety needs it: every length is checked against the bytes that remain,
//! the indefinite form and high tag numbers are refused, and values must fit their types.
//! Nothing here panics on input.

use thiserror::Error;

/// Tag octets used by SNMP (universal, application and context classes, single octet).
pub mod tag {
    pub const INTEGER: u8 = 0x02;
    pub const OCTET_STRING: u8 = 0x04;
    pub const NULL: u8 = 0x05;
    pub const OBJECT_IDENTIFIER: u8 = 0x06;
    pub const SEQUENCE: u8 = 0x30;
    pub const IP_ADDRESS: u8 = 0x40;
    pub const COUNTER32: u8 = 0x41;
    pub const GAUGE32: u8 = 0x42;
    pub const TIMETICKS: u8 = 0x43;
    pub const OPAQUE: u8 = 0x44;
    pub const COUNTER64: u8 = 0x46;
    pub const NO_SUCH_OBJECT: u8 = 0x80;
    pub const NO_SUCH_INSTANCE: u8 = 0x81;
    pub const END_OF_MIB_VIEW: u8 = 0x82;
    pub const GET_REQUEST: u8 = 0xA0;
    pub const GET_NEXT_REQUEST: u8 = 0xA1;
    pub const RESPONSE: u8 = 0xA2;
    pub const SET_REQUEST: u8 = 0xA3;
    pub const TRAP_V1: u8 = 0xA4;
    pub const GET_BULK_REQUEST: u8 = 0xA5;
    pub const INFORM_REQUEST: u8 = 0xA6;
    pub const SNMPV2_TRAP: u8 = 0xA7;
    pub const REPORT: u8 = 0xA8;
}

/// Why a BER decode failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("unexpected end of data")]
    Truncated,
    #[error("expected tag {expected:#04x}, found {found:#04x}")]
    UnexpectedTag { expected: u8, found: u8 },
    #[error("unknown or unsupported tag {0:#04x}")]
    UnknownTag(u8),
    #[error("high tag numbers are not used by SNMP")]
    HighTagNumber,
    #[error("indefinite length is not allowed")]
    IndefiniteLength,
    #[error("length field too long")]
    LengthTooLong,
    #[error("integer out of range")]
    IntegerOverflow,
    #[error("empty integer")]
    EmptyInteger,
    #[error("bad object identifier")]
    BadOid,
    #[error("bad value length for its type")]
    BadLength,
    #[error("trailing bytes after the value")]
    TrailingBytes,
    #[error("unsupported SNMP version {0}")]
    BadVersion(i64),
    #[error("malformed PDU")]
    BadPdu,
}

/// A cursor over BER bytes. Every read is bounds-checked.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn remaining(&self) -> &'a [u8] {
        self.buf
    }

    /// The tag of the next TLV without consuming it.
    pub fn peek_tag(&self) -> Result<u8, DecodeError> {
        self.buf.first().copied().ok_or(DecodeError::Truncated)
    }

    /// Reads one TLV: its tag and its contents.
    pub fn read_tlv(&mut self) -> Result<(u8, &'a [u8]), DecodeError> {
        let (&t, rest) = self.buf.split_first().ok_or(DecodeError::Truncated)?;
        if t & 0x1f == 0x1f {
            return Err(DecodeError::HighTagNumber);
        }
        let (&l0, mut rest) = rest.split_first().ok_or(DecodeError::Truncated)?;
        let len: usize = if l0 < 0x80 {
            usize::from(l0)
        } else if l0 == 0x80 {
            return Err(DecodeError::IndefiniteLength);
        } else {
            let n = usize::from(l0 & 0x7f);
            if n > rest.len() {
                return Err(DecodeError::Truncated);
            }
            let (lb, r) = rest.split_at(n);
            rest = r;
            let mut len: u64 = 0;
            for &b in lb {
                len = len
                    .checked_mul(256)
                    .and_then(|v| v.checked_add(u64::from(b)))
                    .ok_or(DecodeError::LengthTooLong)?;
                if len > u64::from(u32::MAX) {
                    return Err(DecodeError::LengthTooLong);
                }
            }
            usize::try_from(len).map_err(|_| DecodeError::LengthTooLong)?
        };
        if len > rest.len() {
            return Err(DecodeError::Truncated);
        }
        let (content, after) = rest.split_at(len);
        self.buf = after;
        Ok((t, content))
    }

    /// Reads a TLV that must carry `expected` as its tag.
    pub fn read_expect(&mut self, expected: u8) -> Result<&'a [u8], DecodeError> {
        let (t, c) = self.read_tlv()?;
        if t != expected {
            return Err(DecodeError::UnexpectedTag { expected, found: t });
        }
        Ok(c)
    }

    pub fn read_sequence(&mut self) -> Result<Reader<'a>, DecodeError> {
        self.read_expect(tag::SEQUENCE).map(Reader::new)
    }

    pub fn read_integer(&mut self) -> Result<i64, DecodeError> {
        let c = self.read_expect(tag::INTEGER)?;
        decode_i64(c)
    }

    pub fn read_i32(&mut self) -> Result<i32, DecodeError> {
        i32::try_from(self.read_integer()?).map_err(|_| DecodeError::IntegerOverflow)
    }

    pub fn read_octets(&mut self) -> Result<&'a [u8], DecodeError> {
        self.read_expect(tag::OCTET_STRING)
    }
}

/// Decodes a two's complement integer, accepting redundant leading octets.
pub fn decode_i64(c: &[u8]) -> Result<i64, DecodeError> {
    let (&first, _) = c.split_first().ok_or(DecodeError::EmptyInteger)?;
    let negative = first & 0x80 != 0;
    let pad = if negative { 0xff } else { 0x00 };
    // Strip redundant padding, keeping one octet with the right sign bit.
    let mut s = c;
    while s.len() > 1 && s[0] == pad && (s[1] & 0x80 != 0) == negative {
        s = &s[1..];
    }
    if s.len() > 8 {
        return Err(DecodeError::IntegerOverflow);
    }
    let mut v: i64 = if negative { -1 } else { 0 };
    for &b in s {
        v = (v << 8) | i64::from(b);
    }
    Ok(v)
}

/// Decodes an unsigned integer of at most `bits` bits, accepting redundant leading zeros.
/// A value with the sign bit set is refused unless the caller is lenient about it; managers
/// sometimes send Counter32 values without the leading zero, so those are read as unsigned.
pub fn decode_unsigned(c: &[u8], bits: u32) -> Result<u64, DecodeError> {
    if c.is_empty() {
        return Err(DecodeError::EmptyInteger);
    }
    let mut s = c;
    while s.len() > 1 && s[0] == 0 {
        s = &s[1..];
    }
    if s.len() > 8 {
        return Err(DecodeError::IntegerOverflow);
    }
    let mut v: u64 = 0;
    for &b in s {
        v = (v << 8) | u64::from(b);
    }
    if bits < 64 && v >> bits != 0 {
        return Err(DecodeError::IntegerOverflow);
    }
    Ok(v)
}

/// Appends a BER length.
pub fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (8 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// The number of octets a BER length takes.
pub fn len_of_len(len: usize) -> usize {
    if len < 0x80 {
        1
    } else {
        let bytes = (len as u64).to_be_bytes();
        1 + 8 - bytes.iter().take_while(|&&b| b == 0).count()
    }
}

pub fn push_tlv(out: &mut Vec<u8>, t: u8, content: &[u8]) {
    out.push(t);
    push_len(out, content.len());
    out.extend_from_slice(content);
}

/// Writes a constructed TLV whose contents are produced by `f`.
pub fn push_constructed(out: &mut Vec<u8>, t: u8, f: impl FnOnce(&mut Vec<u8>)) {
    let mut inner = Vec::new();
    f(&mut inner);
    push_tlv(out, t, &inner);
}

/// Minimal two's complement encoding of a signed integer.
pub fn int_bytes(v: i64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut start = 0;
    while start < 7 {
        let b = bytes[start];
        let next = bytes[start + 1];
        if (b == 0 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    bytes[start..].to_vec()
}

/// Minimal encoding of an unsigned integer (with a leading zero when the top bit is set).
pub fn uint_bytes(v: u64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(7);
    let mut out = Vec::with_capacity(9);
    if bytes[skip] & 0x80 != 0 {
        out.push(0);
    }
    out.extend_from_slice(&bytes[skip..]);
    out
}

pub fn push_integer(out: &mut Vec<u8>, v: i64) {
    push_tlv(out, tag::INTEGER, &int_bytes(v));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        let mut r = Reader::new(&[0x04, 0x82, 0x00, 0x02, b'h', b'i']);
        assert_eq!(r.read_octets().unwrap(), b"hi");
        let mut r = Reader::new(&[0x04, 0x80, 0x00, 0x00]);
        assert_eq!(r.read_octets(), Err(DecodeError::IndefiniteLength));
        let mut r = Reader::new(&[0x04, 0x84, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(r.read_octets(), Err(DecodeError::Truncated));
        let mut r = Reader::new(&[0x04, 0x89, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
        assert!(r.read_octets().is_err());
    }

    #[test]
    fn integers() {
        assert_eq!(decode_i64(&[0x00, 0x00, 0x7f]).unwrap(), 127);
        assert_eq!(decode_i64(&[0xff, 0xff, 0x80]).unwrap(), -128);
        assert_eq!(decode_i64(&[0x00, 0x80]).unwrap(), 128);
        assert_eq!(decode_i64(&[0xff]).unwrap(), -1);
        assert!(decode_i64(&[]).is_err());
        assert!(decode_i64(&[1, 2, 3, 4, 5, 6, 7, 8, 9]).is_err());
        for v in [
            0i64,
            1,
            -1,
            127,
            128,
            -128,
            -129,
            255,
            256,
            i64::MAX,
            i64::MIN,
        ] {
            assert_eq!(decode_i64(&int_bytes(v)).unwrap(), v);
        }
        assert_eq!(uint_bytes(0xffff_ffff), vec![0, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(decode_unsigned(&[0, 0, 0xff], 32).unwrap(), 255);
        assert!(decode_unsigned(&[1, 0, 0, 0, 0], 32).is_err());
        assert_eq!(
            decode_unsigned(&uint_bytes(u64::MAX), 64).unwrap(),
            u64::MAX
        );
    }

    #[test]
    fn len_encoding() {
        for len in [0usize, 1, 127, 128, 255, 256, 65535, 65536] {
            let mut v = Vec::new();
            push_len(&mut v, len);
            assert_eq!(v.len(), len_of_len(len));
        }
    }
}
