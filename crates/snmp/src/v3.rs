//! SNMPv3 (RFC 3412) messages and the User-based Security Model (RFC 3414): HMAC-SHA-1-96 and
//! the HMAC-SHA-2 protocols of RFC 7860, AES-128-CFB privacy (RFC 3826), key localization.

use crate::ber::{self, tag, DecodeError, Reader};
use crate::pdu::{Pdu, PduType};
use crate::value::{decode_varbinds, encode_varbinds};
use aes::Aes128;
use cfb_mode::cipher::{AsyncStreamCipher, KeyIvInit};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

pub const FLAG_AUTH: u8 = 0x01;
pub const FLAG_PRIV: u8 = 0x02;
pub const FLAG_REPORTABLE: u8 = 0x04;
pub const USM: i64 = 3;

/// A USM security level (RFC 3411 section 3.4.3): what a message is protected with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecurityLevel {
    /// Neither authenticated nor encrypted.
    NoAuthNoPriv,
    /// Authenticated (HMAC), not encrypted.
    AuthNoPriv,
    /// Authenticated and encrypted.
    AuthPriv,
}

impl SecurityLevel {
    /// The level's msgFlags bits (auth, priv; reportable is the caller's).
    pub fn flags(self) -> u8 {
        match self {
            SecurityLevel::NoAuthNoPriv => 0,
            SecurityLevel::AuthNoPriv => FLAG_AUTH,
            SecurityLevel::AuthPriv => FLAG_AUTH | FLAG_PRIV,
        }
    }

    /// Parses `noAuthNoPriv`, `authNoPriv` or `authPriv` (any case).
    pub fn parse(s: &str) -> Option<SecurityLevel> {
        match s.to_ascii_lowercase().as_str() {
            "noauthnopriv" => Some(SecurityLevel::NoAuthNoPriv),
            "authnopriv" => Some(SecurityLevel::AuthNoPriv),
            "authpriv" => Some(SecurityLevel::AuthPriv),
            _ => None,
        }
    }
}

/// Authentication protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthProtocol {
    /// usmHMACSHAAuthProtocol (HMAC-SHA-1-96).
    Sha1,
    /// usmHMAC128SHA224AuthProtocol.
    Sha224,
    /// usmHMAC192SHA256AuthProtocol.
    Sha256,
    /// usmHMAC256SHA384AuthProtocol.
    Sha384,
    /// usmHMAC384SHA512AuthProtocol.
    Sha512,
}

impl AuthProtocol {
    /// Length of msgAuthenticationParameters (the truncated MAC).
    pub fn mac_len(self) -> usize {
        match self {
            AuthProtocol::Sha1 => 12,
            AuthProtocol::Sha224 => 16,
            AuthProtocol::Sha256 => 24,
            AuthProtocol::Sha384 => 32,
            AuthProtocol::Sha512 => 48,
        }
    }

    /// RFC 3414 A.2 password-to-key, then key localization with the engine ID.
    pub fn localize(self, password: &[u8], engine_id: &[u8]) -> Vec<u8> {
        match self {
            AuthProtocol::Sha1 => localize::<Sha1>(password, engine_id),
            AuthProtocol::Sha224 => localize::<Sha224>(password, engine_id),
            AuthProtocol::Sha256 => localize::<Sha256>(password, engine_id),
            AuthProtocol::Sha384 => localize::<Sha384>(password, engine_id),
            AuthProtocol::Sha512 => localize::<Sha512>(password, engine_id),
        }
    }

    /// The truncated HMAC of `data` under a localized key.
    pub fn mac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        let full = match self {
            AuthProtocol::Sha1 => hmac_of::<Hmac<Sha1>>(key, data),
            AuthProtocol::Sha224 => hmac_of::<Hmac<Sha224>>(key, data),
            AuthProtocol::Sha256 => hmac_of::<Hmac<Sha256>>(key, data),
            AuthProtocol::Sha384 => hmac_of::<Hmac<Sha384>>(key, data),
            AuthProtocol::Sha512 => hmac_of::<Hmac<Sha512>>(key, data),
        };
        full.into_iter().take(self.mac_len()).collect()
    }
}

fn hmac_of<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
    match <M as hmac::digest::KeyInit>::new_from_slice(key) {
        Ok(mut m) => {
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

fn localize<D: Digest>(password: &[u8], engine_id: &[u8]) -> Vec<u8> {
    let mut h = D::new();
    if !password.is_empty() {
        let mut count = 0usize;
        let mut buf = [0u8; 64];
        let mut idx = 0usize;
        while count < 1_048_576 {
            for b in buf.iter_mut() {
                *b = password[idx % password.len()];
                idx += 1;
            }
            h.update(buf);
            count += 64;
        }
    }
    let ku = h.finalize();
    let mut h = D::new();
    h.update(&ku);
    h.update(engine_id);
    h.update(&ku);
    h.finalize().to_vec()
}

/// Privacy protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrivProtocol {
    /// usmAesCfb128Protocol (RFC 3826).
    Aes128,
}

fn aes_iv(boots: u32, time: u32, salt: &[u8]) -> Option<[u8; 16]> {
    let salt: [u8; 8] = salt.try_into().ok()?;
    let mut iv = [0u8; 16];
    iv[..4].copy_from_slice(&boots.to_be_bytes());
    iv[4..8].copy_from_slice(&time.to_be_bytes());
    iv[8..].copy_from_slice(&salt);
    Some(iv)
}

/// Encrypts a scoped PDU (RFC 3826 section 3.1.3); the key is the localized privacy key.
pub fn encrypt(key: &[u8], boots: u32, time: u32, salt: &[u8], data: &mut [u8]) -> bool {
    let (Some(k), Some(iv)) = (key.get(..16), aes_iv(boots, time, salt)) else {
        return false;
    };
    match cfb_mode::Encryptor::<Aes128>::new_from_slices(k, &iv) {
        Ok(c) => {
            c.encrypt(data);
            true
        }
        Err(_) => false,
    }
}

pub fn decrypt(key: &[u8], boots: u32, time: u32, salt: &[u8], data: &mut [u8]) -> bool {
    let (Some(k), Some(iv)) = (key.get(..16), aes_iv(boots, time, salt)) else {
        return false;
    };
    match cfb_mode::Decryptor::<Aes128>::new_from_slices(k, &iv) {
        Ok(c) => {
            c.decrypt(data);
            true
        }
        Err(_) => false,
    }
}

/// UsmSecurityParameters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UsmParams {
    pub engine_id: Vec<u8>,
    pub boots: i32,
    pub time: i32,
    pub user: Vec<u8>,
    pub auth: Vec<u8>,
    pub privacy: Vec<u8>,
}

/// The scoped PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopedPdu {
    pub context_engine_id: Vec<u8>,
    pub context_name: Vec<u8>,
    pub pdu: Pdu,
}

impl ScopedPdu {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        ber::push_constructed(&mut out, tag::SEQUENCE, |o| {
            ber::push_tlv(o, tag::OCTET_STRING, &self.context_engine_id);
            ber::push_tlv(o, tag::OCTET_STRING, &self.context_name);
            ber::push_constructed(o, self.pdu.pdu_type.tag(), |p| {
                ber::push_integer(p, i64::from(self.pdu.request_id));
                ber::push_integer(p, i64::from(self.pdu.error_status));
                ber::push_integer(p, i64::from(self.pdu.error_index));
                encode_varbinds(p, &self.pdu.varbinds);
            });
        });
        out
    }

    /// Decodes a scoped PDU; trailing bytes after it are tolerated (padding after decryption).
    pub fn decode(buf: &[u8]) -> Result<ScopedPdu, DecodeError> {
        let mut r = Reader::new(buf);
        Self::decode_body(r.read_expect(tag::SEQUENCE)?)
    }

    /// Decodes the contents of a scoped PDU's SEQUENCE.
    pub fn decode_body(contents: &[u8]) -> Result<ScopedPdu, DecodeError> {
        let mut s = Reader::new(contents);
        let context_engine_id = s.read_octets()?.to_vec();
        let context_name = s.read_octets()?.to_vec();
        let (t, c) = s.read_tlv()?;
        let pdu_type = PduType::from_tag(t).ok_or(DecodeError::UnknownTag(t))?;
        let mut p = Reader::new(c);
        let request_id = p.read_i32()?;
        let error_status = p.read_i32()?;
        let error_index = p.read_i32()?;
        let varbinds = decode_varbinds(&mut p)?;
        if !p.is_empty() || !s.is_empty() {
            return Err(DecodeError::TrailingBytes);
        }
        Ok(ScopedPdu {
            context_engine_id,
            context_name,
            pdu: Pdu {
                pdu_type,
                request_id,
                error_status,
                error_index,
                varbinds,
            },
        })
    }
}

/// A decoded SNMPv3 message, with where its authentication parameters lie in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V3Message<'a> {
    pub msg_id: i32,
    pub max_size: i32,
    pub flags: u8,
    pub security_model: i64,
    pub usm: Option<UsmParams>,
    /// Byte range of msgAuthenticationParameters in the input (for HMAC verification).
    pub auth_range: Option<(usize, usize)>,
    /// The encrypted scoped PDU, or the contents of the plaintext scoped PDU's SEQUENCE
    /// (see [`V3Message::scoped`]).
    pub data: &'a [u8],
    pub encrypted: bool,
}

fn offset_in(outer: &[u8], inner: &[u8]) -> Option<usize> {
    let o = outer.as_ptr() as usize;
    let i = inner.as_ptr() as usize;
    (i >= o && i + inner.len() <= o + outer.len()).then(|| i - o)
}

impl<'a> V3Message<'a> {
    /// The plaintext scoped PDU (`None` when encrypted).
    pub fn scoped(&self) -> Option<Result<ScopedPdu, DecodeError>> {
        (!self.encrypted).then(|| ScopedPdu::decode_body(self.data))
    }

    pub fn decode(buf: &'a [u8]) -> Result<V3Message<'a>, DecodeError> {
        let mut r = Reader::new(buf);
        let mut s = r.read_sequence()?;
        let v = s.read_integer()?;
        if v != 3 {
            return Err(DecodeError::BadVersion(v));
        }
        let mut g = s.read_sequence()?;
        let msg_id = g.read_i32()?;
        let max_size = g.read_i32()?;
        let flags_s = g.read_octets()?;
        let [flags] = flags_s else {
            return Err(DecodeError::BadLength);
        };
        let security_model = g.read_integer()?;
        if msg_id < 0 || max_size < 484 {
            return Err(DecodeError::BadPdu);
        }
        let sp = s.read_octets()?;
        let (usm, auth_range) = if security_model == USM {
            let mut u = Reader::new(sp).read_sequence()?;
            let engine_id = u.read_octets()?.to_vec();
            let boots = u.read_i32()?;
            let time = u.read_i32()?;
            let user = u.read_octets()?.to_vec();
            let auth = u.read_octets()?;
            let privacy = u.read_octets()?.to_vec();
            let range = offset_in(buf, auth).map(|o| (o, o + auth.len()));
            (
                Some(UsmParams {
                    engine_id,
                    boots,
                    time,
                    user,
                    auth: auth.to_vec(),
                    privacy,
                }),
                range,
            )
        } else {
            (None, None)
        };
        let (t, data) = s.read_tlv()?;
        let encrypted = match t {
            tag::OCTET_STRING => true,
            tag::SEQUENCE => false,
            other => return Err(DecodeError::UnknownTag(other)),
        };
        Ok(V3Message {
            msg_id,
            max_size,
            flags: *flags,
            security_model,
            usm,
            auth_range,
            data,
            encrypted,
        })
    }
}

/// Encodes an outgoing v3 message; returns the bytes and the offset of the (zeroed)
/// authentication parameters, to be filled in by the caller.
pub fn encode_message(
    msg_id: i32,
    max_size: i32,
    flags: u8,
    usm: &UsmParams,
    auth_len: usize,
    data: &[u8],
    encrypted: bool,
) -> (Vec<u8>, usize) {
    let mut head = Vec::new();
    ber::push_integer(&mut head, 3);
    ber::push_constructed(&mut head, tag::SEQUENCE, |g| {
        ber::push_integer(g, i64::from(msg_id));
        ber::push_integer(g, i64::from(max_size));
        ber::push_tlv(g, tag::OCTET_STRING, &[flags]);
        ber::push_integer(g, USM);
    });
    // UsmSecurityParameters, tracking where the auth parameters go.
    let mut before_auth = Vec::new();
    ber::push_tlv(&mut before_auth, tag::OCTET_STRING, &usm.engine_id);
    ber::push_integer(&mut before_auth, i64::from(usm.boots));
    ber::push_integer(&mut before_auth, i64::from(usm.time));
    ber::push_tlv(&mut before_auth, tag::OCTET_STRING, &usm.user);
    let mut auth_tlv = Vec::new();
    ber::push_tlv(&mut auth_tlv, tag::OCTET_STRING, &vec![0u8; auth_len]);
    let auth_hdr = auth_tlv.len() - auth_len;
    let mut priv_tlv = Vec::new();
    ber::push_tlv(&mut priv_tlv, tag::OCTET_STRING, &usm.privacy);
    let seq_len = before_auth.len() + auth_tlv.len() + priv_tlv.len();
    let mut sp = Vec::new();
    sp.push(tag::SEQUENCE);
    ber::push_len(&mut sp, seq_len);
    let auth_in_sp = sp.len() + before_auth.len() + auth_hdr;
    sp.extend_from_slice(&before_auth);
    sp.extend_from_slice(&auth_tlv);
    sp.extend_from_slice(&priv_tlv);
    let mut sp_tlv = Vec::new();
    sp_tlv.push(tag::OCTET_STRING);
    ber::push_len(&mut sp_tlv, sp.len());
    let auth_in_sp_tlv = sp_tlv.len() + auth_in_sp;
    sp_tlv.extend_from_slice(&sp);
    let mut data_tlv = Vec::new();
    if encrypted {
        ber::push_tlv(&mut data_tlv, tag::OCTET_STRING, data);
    } else {
        data_tlv.extend_from_slice(data);
    }
    let inner = head.len() + sp_tlv.len() + data_tlv.len();
    let mut out = Vec::with_capacity(inner + 6);
    out.push(tag::SEQUENCE);
    ber::push_len(&mut out, inner);
    let auth_off = out.len() + head.len() + auth_in_sp_tlv;
    out.extend_from_slice(&head);
    out.extend_from_slice(&sp_tlv);
    out.extend_from_slice(&data_tlv);
    (out, auth_off)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn rfc3414_a3_sha1_key_localization() {
        // RFC 3414 A.3.2: password "maplesyrup", engine ID 000000000000000000000002.
        let engine = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
        let k = AuthProtocol::Sha1.localize(b"maplesyrup", &engine);
        assert_eq!(hex(&k), "6695febc9288e36282235fc7151f128497b38f3f");
    }

    #[test]
    fn encode_decode_with_auth_offset() {
        let usm = UsmParams {
            engine_id: b"\x80\x00\x1f\x88\x04abc".to_vec(),
            boots: 1,
            time: 2,
            user: b"alice".to_vec(),
            auth: Vec::new(),
            privacy: vec![1; 8],
        };
        let sp = ScopedPdu {
            context_engine_id: usm.engine_id.clone(),
            context_name: Vec::new(),
            pdu: Pdu::new(PduType::Get, 5, Vec::new()),
        };
        let data = sp.encode();
        let (mut bytes, off) =
            encode_message(9, 1500, FLAG_AUTH | FLAG_REPORTABLE, &usm, 12, &data, false);
        bytes[off..off + 12].copy_from_slice(&[0xAA; 12]);
        let m = V3Message::decode(&bytes).unwrap();
        assert_eq!(m.auth_range, Some((off, off + 12)));
        assert_eq!(m.usm.as_ref().unwrap().auth, vec![0xAA; 12]);
        assert_eq!(m.usm.as_ref().unwrap().user, b"alice");
        assert_eq!(m.scoped().unwrap().unwrap(), sp);
        let mut enc = data.clone();
        assert!(encrypt(&[7; 20], 1, 2, &[1; 8], &mut enc));
        assert_ne!(enc, data);
        assert!(decrypt(&[7; 20], 1, 2, &[1; 8], &mut enc));
        assert_eq!(enc, data);
    }
}
