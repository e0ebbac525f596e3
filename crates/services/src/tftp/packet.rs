//! TFTP packets (RFC 1350) with option negotiation (RFC 2347): reading any packet a peer may
//! send, writing the ones a server sends.

use thiserror::Error;

/// Opcodes.
const RRQ: u16 = 1;
const WRQ: u16 = 2;
const DATA: u16 = 3;
const ACK: u16 = 4;
const ERROR: u16 = 5;
const OACK: u16 = 6;

/// The error codes of RFC 1350 and RFC 2347.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum ErrorCode {
    /// Not defined, see the message.
    Undefined = 0,
    /// File not found.
    NotFound = 1,
    /// Access violation.
    AccessViolation = 2,
    /// Disk full or allocation exceeded.
    DiskFull = 3,
    /// Illegal TFTP operation.
    IllegalOperation = 4,
    /// Unknown transfer ID.
    UnknownTid = 5,
    /// File already exists.
    FileExists = 6,
    /// Option negotiation refused (RFC 2347).
    OptionRefused = 8,
}

/// The transfer mode of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Bytes as they are.
    Octet,
    /// NVT ASCII: lines end in CR LF, a lone CR is CR NUL.
    Netascii,
    /// Obsolete mail mode (refused).
    Mail,
}

/// A packet as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet<'a> {
    /// A read (RRQ) or write (WRQ) request.
    Request {
        /// WRQ.
        write: bool,
        /// The file name as sent.
        file: String,
        /// The mode.
        mode: Mode,
        /// Options (RFC 2347), names in lower case, in the order sent.
        options: Vec<(String, String)>,
    },
    /// A block of data.
    Data {
        /// Its number.
        block: u16,
        /// Its bytes.
        data: &'a [u8],
    },
    /// An acknowledgement.
    Ack {
        /// The block acknowledged.
        block: u16,
    },
    /// An error; the transfer ends.
    Error {
        /// The code.
        code: u16,
        /// The message.
        message: String,
    },
    /// An option acknowledgement (only a client receives one).
    Oack,
}

/// Why a datagram is not a TFTP packet.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PacketError {
    /// Shorter than its opcode and fixed fields.
    #[error("packet too short")]
    Short,
    /// An opcode TFTP does not have.
    #[error("unknown opcode {0}")]
    Opcode(u16),
    /// A request without its NUL-terminated strings.
    #[error("malformed request")]
    Request,
    /// A mode other than octet, netascii and mail.
    #[error("unknown transfer mode `{0}`")]
    Mode(String),
}

fn u16_at(b: &[u8], at: usize) -> Result<u16, PacketError> {
    b.get(at..at + 2)
        .map(|x| u16::from_be_bytes([x[0], x[1]]))
        .ok_or(PacketError::Short)
}

/// Reads one datagram.
pub fn parse(b: &[u8]) -> Result<Packet<'_>, PacketError> {
    let op = u16_at(b, 0)?;
    match op {
        RRQ | WRQ => {
            let body = &b[2..];
            // NUL-terminated strings: file, mode, then option name/value pairs.
            let mut strings = Vec::new();
            let mut rest = body;
            while !rest.is_empty() {
                let end = rest
                    .iter()
                    .position(|&c| c == 0)
                    .ok_or(PacketError::Request)?;
                strings.push(String::from_utf8_lossy(&rest[..end]).into_owned());
                rest = &rest[end + 1..];
            }
            if strings.len() < 2 {
                return Err(PacketError::Request);
            }
            let mode = match strings[1].to_ascii_lowercase().as_str() {
                "octet" => Mode::Octet,
                "netascii" => Mode::Netascii,
                "mail" => Mode::Mail,
                other => return Err(PacketError::Mode(other.to_string())),
            };
            // A dangling option name without a value is ignored, as RFC 2347 servers do.
            let options = strings[2..]
                .chunks_exact(2)
                .map(|kv| (kv[0].to_ascii_lowercase(), kv[1].clone()))
                .collect();
            Ok(Packet::Request {
                write: op == WRQ,
                file: strings[0].clone(),
                mode,
                options,
            })
        }
        DATA => Ok(Packet::Data {
            block: u16_at(b, 2)?,
            data: &b[4..],
        }),
        ACK => Ok(Packet::Ack {
            block: u16_at(b, 2)?,
        }),
        ERROR => {
            let code = u16_at(b, 2)?;
            let text = &b[4..];
            let end = text.iter().position(|&c| c == 0).unwrap_or(text.len());
            Ok(Packet::Error {
                code,
                message: String::from_utf8_lossy(&text[..end]).into_owned(),
            })
        }
        OACK => Ok(Packet::Oack),
        other => Err(PacketError::Opcode(other)),
    }
}

/// DATA `block` with `data`, written into `out` (cleared first; reused between blocks).
pub fn data_into(out: &mut Vec<u8>, block: u16, data: &[u8]) {
    out.clear();
    out.extend_from_slice(&DATA.to_be_bytes());
    out.extend_from_slice(&block.to_be_bytes());
    out.extend_from_slice(data);
}

/// ACK `block`.
pub fn ack(block: u16) -> [u8; 4] {
    let [a, b] = ACK.to_be_bytes();
    let [c, d] = block.to_be_bytes();
    [a, b, c, d]
}

/// ERROR `code` with `message`.
pub fn error(code: ErrorCode, message: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + message.len());
    out.extend_from_slice(&ERROR.to_be_bytes());
    out.extend_from_slice(&(code as u16).to_be_bytes());
    out.extend_from_slice(message.as_bytes());
    out.push(0);
    out
}

/// OACK with `options`.
pub fn oack(options: &[(String, String)]) -> Vec<u8> {
    let mut out = OACK.to_be_bytes().to_vec();
    for (k, v) in options {
        out.extend_from_slice(k.as_bytes());
        out.push(0);
        out.extend_from_slice(v.as_bytes());
        out.push(0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn requests_with_options_read() {
        let p = parse(b"\x00\x01boot.img\x00OCTET\x00blksize\x001432\x00TSIZE\x000\x00").unwrap();
        assert_eq!(
            p,
            Packet::Request {
                write: false,
                file: "boot.img".into(),
                mode: Mode::Octet,
                options: vec![
                    ("blksize".into(), "1432".into()),
                    ("tsize".into(), "0".into())
                ],
            }
        );
        assert!(matches!(
            parse(b"\x00\x02f\x00netascii\x00").unwrap(),
            Packet::Request {
                write: true,
                mode: Mode::Netascii,
                ..
            }
        ));
        assert_eq!(parse(b"\x00\x01f\x00"), Err(PacketError::Request));
        assert_eq!(parse(b"\x00\x01f\x00octet"), Err(PacketError::Request));
        assert_eq!(
            parse(b"\x00\x01f\x00binary\x00"),
            Err(PacketError::Mode("binary".into()))
        );
        assert_eq!(parse(b"\x00\x09"), Err(PacketError::Opcode(9)));
        assert_eq!(parse(b"\x00"), Err(PacketError::Short));
    }

    #[test]
    fn what_the_server_writes_reads_back() {
        let mut d = Vec::new();
        data_into(&mut d, 7, b"abc");
        assert_eq!(
            parse(&d).unwrap(),
            Packet::Data {
                block: 7,
                data: b"abc"
            }
        );
        assert_eq!(parse(&ack(65535)).unwrap(), Packet::Ack { block: 65535 });
        assert_eq!(
            parse(&error(ErrorCode::NotFound, "no such file")).unwrap(),
            Packet::Error {
                code: 1,
                message: "no such file".into()
            }
        );
        let o = oack(&[("blksize".into(), "1024".into())]);
        assert_eq!(o, b"\x00\x06blksize\x001024\x00");
    }

    proptest! {
        #[test]
        fn any_datagram_is_read_or_refused_without_panic(b in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse(&b);
        }
    }
}
