//! AgentX (RFC 2741) for Maynard.
//!
//! - [`pdu`]: the sans-I/O codec — every PDU, both byte orders on input, stream framing.
//! - [`session`]: the subagent's protocol logic, sans-I/O: PDUs in, PDUs out, handlers
//!   (the same [`snmp::Handler`] trait our own agent serves) called for Get/GetNext/GetBulk
//!   and the Set phases.
//! - [`helpers`]: read-write scalar groups and shared-row tables as handlers.
//! - [`subagent`] (feature `tokio`, on by default): the socket runtime — connect to a master
//!   over a Unix or TCP socket, Open, Register, serve, Ping, reconnect with backoff.

pub mod helpers;
pub mod master;
pub mod pdu;
pub mod pdu_error;
pub mod pdu_wire;
pub mod session;
#[cfg(feature = "tokio")]
pub mod subagent;

pub use pdu::{Header, Pdu, PduBody, PduType};
pub use pdu_error::{CloseReason, DecodeError, ResponseError};
#[cfg(feature = "tokio")]
pub use subagent::{Notifier, Subagent};
