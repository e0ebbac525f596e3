//! Maynard's built-in servers (seed 000's small services and finger).
//!
//! Every server here is written against the transport-agnostic traits of [`net`]: a byte stream
//! ([`net::ServiceStream`]) for TCP-style services and a datagram socket ([`net::DatagramSocket`])
//! for UDP-style ones. netcp serves them on the host's sockets today; Maynard's own stack will
//! implement the same traits so the same code serves on its interfaces unchanged.

pub mod builtin;
pub mod chargen;
pub mod clock;
pub mod finger;
pub mod lpd;
pub mod meter;
pub mod net;
pub mod ntp;
pub mod qotd;
pub mod simple;
pub mod tftp;
mod unique;

#[cfg(test)]
mod testutil;

pub use builtin::{Builtin, BuiltinContext};
pub use meter::{ConnMeter, MeteredStream, ServiceMeter};
pub use net::{DatagramSocket, PeerInfo, ServiceStream};
