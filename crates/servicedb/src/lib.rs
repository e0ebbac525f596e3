//! The services database of Maynard: seed 004's superset of `/etc/services`.
//!
//! Each line of a services file reads
//!
//! ```text
//! name port/protocol [aliases...] [tos-N] [weight-N] [#comment]
//! ```
//!
//! `tos-N` (0-255) is the traffic class set on the service's sockets, `weight-N` (1-1000, 100 =
//! one message) the weight of each socket read and write when messages are counted.
//!
//! There are two tiers:
//!
//! * the **application database**, Maynard's own `services` file, read with
//!   [`ServiceDb::parse`] / [`ServiceDb::load`] under the seed's limits (names of 1 to
//!   [`MAX_NAME_LEN`] characters, at most [`MAX_APPLICATIONS`] applications, no duplicates,
//!   `OTHER` reserved). Any error refuses the whole file, and every error is reported at once;
//! * the **host database**, the system's `/etc/services`, read leniently with
//!   [`ServiceDb::parse_host`] / [`ServiceDb::load_host`] and attached with
//!   [`ServiceDb::with_host_fallback`]; it is only consulted to turn port names into numbers and
//!   back ([`ServiceDb::port_by_name`], [`ServiceDb::name_by_port`]).
//!
//! ```
//! use servicedb::{Protocol, ServiceDb};
//!
//! let db = ServiceDb::parse("mq 1414/tcp tos-5 weight-100 #MQ Series\n", "services").unwrap();
//! let mq = db.lookup("MQ", Protocol::Tcp).unwrap();
//! assert_eq!((mq.port, mq.tos, mq.message_weight()), (1414, Some(5), 100));
//! ```
//!
//! The crate is pure: no I/O except reading the one file in `load`, no clock, no globals.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo
    )
)]

mod db;
mod entry;
mod error;
mod lex;
mod parse;
mod protocol;
mod tier;

pub use db::ServiceDb;
pub use entry::{Entry, ONE_MESSAGE_WEIGHT};
pub use error::{Expected, LoadError, ParseError, ParseErrors};
pub use protocol::{Protocol, UnknownProtocol};

/// The most applications (distinct names; `echo/tcp` and `echo/udp` are one application) the
/// application database may define.
pub const MAX_APPLICATIONS: usize = 1000;

/// The longest name or alias, in characters, in the application database.
pub const MAX_NAME_LEN: usize = 9;
