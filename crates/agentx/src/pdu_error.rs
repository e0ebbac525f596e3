//! Errors of the codec and the protocol's own error and reason codes (RFC 2741 §6.2.2,
//! §6.2.16).

use crate::pdu::PduType;
use thiserror::Error;

/// Why bytes did not decode as an AgentX PDU. Decoding never panics: every malformed input
/// ends here, naming what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The input ended inside a field.
    #[error("truncated PDU: input ends inside the {0}")]
    Truncated(&'static str),
    /// The header's version octet is not 1.
    #[error("unsupported AgentX version {0} (only version 1 exists)")]
    BadVersion(u8),
    /// The header's type octet names no PDU.
    #[error("unknown PDU type {0}")]
    UnknownType(u8),
    /// RFC 2741 §6.1: every field is 4-aligned, so the payload length is a multiple of 4.
    #[error("payload length {0} is not a multiple of 4")]
    UnalignedPayload(u32),
    /// The payload is larger than the decoder accepts (a guard against absurd allocations).
    #[error("payload length {0} exceeds the maximum {max}", max = crate::pdu::MAX_PAYLOAD)]
    PayloadTooLarge(u32),
    /// A buffer passed to [`crate::pdu::Pdu::decode`] holds more or fewer bytes than the
    /// header announces.
    #[error("buffer holds {have} bytes but the header announces {want}")]
    LengthMismatch {
        /// Bytes in the buffer.
        have: usize,
        /// 20 + payload_length.
        want: usize,
    },
    /// The body ended before the payload did.
    #[error("{0} bytes left over after the PDU body")]
    TrailingBytes(usize),
    /// An object identifier longer than RFC 2578's 128 sub-identifiers.
    #[error("object identifier with {0} sub-identifiers (at most 128)")]
    OidTooLong(usize),
    /// A varbind's type field names no SMI type.
    #[error("unknown varbind type {0}")]
    UnknownValueType(u16),
    /// An IpAddress value is an octet string that must hold exactly 4 octets.
    #[error("IpAddress value of {0} octets (must be 4)")]
    BadIpAddress(usize),
    /// NON_DEFAULT_CONTEXT set on a PDU type that carries no context.
    #[error("NON_DEFAULT_CONTEXT flag on a {0:?} PDU, which has no context field")]
    UnexpectedContext(PduType),
    /// A Register/Unregister range_subid that points past the subtree's sub-identifiers.
    #[error("range_subid {range_subid} outside a subtree of {len} sub-identifiers")]
    BadRangeSubid {
        /// The range_subid field.
        range_subid: u8,
        /// Sub-identifiers in the subtree.
        len: usize,
    },
}

/// `res.error` of a Response PDU: the SNMP error statuses (0–18) and the AgentX
/// administrative errors (256–268). Unknown codes are kept as `Other`, so a decoded
/// Response re-encodes unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseError {
    /// noAgentXError / noError (0).
    NoError,
    /// An SNMP error status (1..=18), as `snmp::ErrorStatus` numbers it.
    Snmp(snmp::ErrorStatus),
    /// openFailed (256).
    OpenFailed,
    /// notOpen (257).
    NotOpen,
    /// indexWrongType (258).
    IndexWrongType,
    /// indexAlreadyAllocated (259).
    IndexAlreadyAllocated,
    /// indexNoneAvailable (260).
    IndexNoneAvailable,
    /// indexNotAllocated (261).
    IndexNotAllocated,
    /// unsupportedContext (262).
    UnsupportedContext,
    /// duplicateRegistration (263).
    DuplicateRegistration,
    /// unknownRegistration (264).
    UnknownRegistration,
    /// unknownAgentCaps (265).
    UnknownAgentCaps,
    /// parseError (266).
    ParseError,
    /// requestDenied (267).
    RequestDenied,
    /// processingError (268).
    ProcessingError,
    /// Any other value.
    Other(u16),
}

const ADMIN: [(u16, ResponseError); 13] = [
    (256, ResponseError::OpenFailed),
    (257, ResponseError::NotOpen),
    (258, ResponseError::IndexWrongType),
    (259, ResponseError::IndexAlreadyAllocated),
    (260, ResponseError::IndexNoneAvailable),
    (261, ResponseError::IndexNotAllocated),
    (262, ResponseError::UnsupportedContext),
    (263, ResponseError::DuplicateRegistration),
    (264, ResponseError::UnknownRegistration),
    (265, ResponseError::UnknownAgentCaps),
    (266, ResponseError::ParseError),
    (267, ResponseError::RequestDenied),
    (268, ResponseError::ProcessingError),
];

impl ResponseError {
    /// The wire value.
    pub fn code(self) -> u16 {
        match self {
            ResponseError::NoError => 0,
            // The SNMP statuses are 1..=18, so the conversion cannot truncate.
            ResponseError::Snmp(s) => u16::try_from(s.code()).unwrap_or(5),
            ResponseError::Other(c) => c,
            other => ADMIN
                .iter()
                .find(|(_, e)| *e == other)
                .map_or(0, |(c, _)| *c),
        }
    }

    /// The error for a wire value (never fails: unknown values become `Other`).
    pub fn from_code(c: u16) -> ResponseError {
        if c == 0 {
            return ResponseError::NoError;
        }
        if let Some(s) = snmp::ErrorStatus::from_code(i32::from(c)) {
            return ResponseError::Snmp(s);
        }
        ADMIN
            .iter()
            .find(|(k, _)| *k == c)
            .map_or(ResponseError::Other(c), |(_, e)| *e)
    }

    /// True for `NoError`.
    pub fn is_ok(self) -> bool {
        self == ResponseError::NoError
    }
}

impl From<snmp::ErrorStatus> for ResponseError {
    fn from(s: snmp::ErrorStatus) -> Self {
        if s == snmp::ErrorStatus::NoError {
            ResponseError::NoError
        } else {
            ResponseError::Snmp(s)
        }
    }
}

/// Why a session is closed (Close PDU, RFC 2741 §6.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// reasonOther (1).
    Other,
    /// reasonParseError (2).
    ParseError,
    /// reasonProtocolError (3).
    ProtocolError,
    /// reasonTimeouts (4).
    Timeouts,
    /// reasonShutdown (5).
    Shutdown,
    /// reasonByManager (6).
    ByManager,
    /// A value outside 1..=6, kept for re-encoding.
    Unknown(u8),
}

impl CloseReason {
    /// The wire value.
    pub fn code(self) -> u8 {
        match self {
            CloseReason::Other => 1,
            CloseReason::ParseError => 2,
            CloseReason::ProtocolError => 3,
            CloseReason::Timeouts => 4,
            CloseReason::Shutdown => 5,
            CloseReason::ByManager => 6,
            CloseReason::Unknown(c) => c,
        }
    }

    /// The reason for a wire value.
    pub fn from_code(c: u8) -> CloseReason {
        match c {
            1 => CloseReason::Other,
            2 => CloseReason::ParseError,
            3 => CloseReason::ProtocolError,
            4 => CloseReason::Timeouts,
            5 => CloseReason::Shutdown,
            6 => CloseReason::ByManager,
            c => CloseReason::Unknown(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for c in 0..=300u16 {
            assert_eq!(ResponseError::from_code(c).code(), c);
        }
        assert_eq!(ResponseError::from_code(266), ResponseError::ParseError);
        assert_eq!(
            ResponseError::from_code(17),
            ResponseError::Snmp(snmp::ErrorStatus::NotWritable)
        );
        assert_eq!(ResponseError::from_code(999), ResponseError::Other(999));
        for c in 0..=255u8 {
            assert_eq!(CloseReason::from_code(c).code(), c);
        }
        assert_eq!(CloseReason::from_code(5), CloseReason::Shutdown);
    }
}
