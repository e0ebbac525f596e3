//! Intrusion prevention (seed 000's IPS): components report events such as failed logins or
//! refused connections; the filter server ([`Engine`]) keeps them per rule, source and
//! destination, lets them age out after the rule's window, and when a rule's threshold is
//! reached blocks the source for the rule's duration, on every interface: all traffic of one
//! protocol from it ([`BlockKind::Source`]) or only its traffic to the port the events reached
//! ([`BlockKind::Port`]). Rules can exclude networks, and several rules for one event can give
//! different limits to different source networks.
//!
//! Sans-I/O: the caller passes the time in, receives the blocks out, and enforces them through
//! a [`BlockSlot`] (Maynard's stack) or nftables (the host). [`report`] is the wire form of the
//! event API applications use.

mod blocks;
mod engine;
pub mod report;
mod rule;

pub use blocks::{Block, BlockSlot, BlockTable};
pub use engine::{Counters, Engine, Outcome, RuleCounters, DEFAULT_MAX_TRACKED};
pub use rule::{BlockKind, Event, Proto, Rule};
