//! AgentX (RFC 2741) for Maynard.
//!
//! - [`pdu`]: the sans-I/O codec — every PDU, both byte orders on input, stream framing.
//! - [`session`]: the subagent's protocol logic, sans-I/O: PDUs in, PDUs out, handlers
//!   (the same [`snmp::Handler`] trait our own agent serves) called for Get/GetNext/GetBulk
//!   and the Set phases.
//! - [`subagent`] (feature `tokio`, on by default): the socket runtime — connect to a master
//!   over a Unix or TCP socket, Open, Register, serve, Ping, reconnect with backoff.

pub mod master;
pub mod pdu;
pub mod pdu_error;
pub mod pdu_wire;

pub use pdu::{Header, Pdu, PduBody, PduType};
pub use pdu_error::{CloseReason, DecodeError, ResponseError};
