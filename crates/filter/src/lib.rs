//! Packet filters: the MultiNet filter language (seed 001), a compiled classifier, filter
//! logging, FILTER_CONVERT and the nftables translation.
//!
//! Pure library: no I/O, no clock, no globals. Time is always a parameter, a [`LocalTime`]
//! (seconds since 1970-01-01 00:00:00 on the local wall clock; see [`vmstime`]).
//!
//! The usual path: [`parse()`] a filter file into a [`FilterList`] (errors and warnings with
//! file:line:column), [`Classifier::compile`] its rules, install the classifier in the
//! interface's [`FilterSlot`], and for each received datagram call
//! [`Classifier::classify_counted`] on the list [`FilterSlot::load`] returns. [`show_filter`],
//! [`LogState`] and [`format_normal`]/[`format_comma`] give SHOW and logging texts, [`convert()`] is
//! FILTER_CONVERT, [`nft`] the translation for Linux interfaces, [`test_packet`] and
//! [`describe`] the `netcu test filter` dry run.
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr};
//! use filter::{Action, Classifier, Decided, FilterSlot, LocalTime, Packet};
//!
//! let services = servicedb::ServiceDb::parse("smtp 25/tcp\n", "services").unwrap();
//! let now = LocalTime::from_unix(1_800_000_000, 3600); // netcp reads the clock, not us
//! let text = "deny tcp 0/0 0/0 eq smtp\npermit tcp 0/0 0/0 gt 1023 established\n";
//! let list = filter::parse(text, "FILTER-se0.dat", &services, now).unwrap();
//! let slot = FilterSlot::new(Classifier::compile(&list.rules));
//!
//! let syn = Packet {
//!     src: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
//!     dst: IpAddr::V4(Ipv4Addr::new(10, 1, 1, 1)),
//!     protocol: 6,
//!     src_port: 40000,
//!     dst_port: 25,
//!     tcp_flags: 0x02,
//!     fragment_offset: 0,
//!     time: now,
//!     length: 60,
//! };
//! let v = slot.load().classify_counted(&syn);
//! assert_eq!((v.action, v.by), (Action::Deny, Decided::Rule(0)));
//! assert_eq!(slot.load().hits().rules[0], (1, 60));
//! ```

#![warn(missing_docs)]

pub mod bitset;
pub mod classify;
pub mod convert;
pub mod diag;
pub mod dryrun;
pub mod lex;
pub mod nft;
pub mod packet;
pub mod parse;
pub mod report;
pub mod rule;
pub mod shadow;
pub mod vmstime;
pub mod window;

pub use classify::{Classifier, Counter, FilterSlot, Hits};
pub use convert::{convert, Conversion, ConvertProblem};
pub use diag::{Diagnostic, FilterErrors, Severity};
pub use dryrun::{describe, test_packet, OperandError, TestOperands};
pub use packet::{reference, rule_matches, Decided, Packet, Verdict};
pub use parse::{parse, FilterList};
pub use report::{
    format_comma, format_normal, show_filter, LogEvent, LogFormat, LogSettings, LogState,
    LogTarget, COMMA_HEADER,
};
pub use rule::{Action, PortMatch, PortOp, Proto, Rule, TimeSpec, Window};
pub use shadow::{covers, shadowed};
pub use vmstime::LocalTime;
