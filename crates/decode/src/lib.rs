//! Maynard's protocol analyzer: capture files in, decoded packets out.
//!
//! A frame decodes ([`Decoder::decode`]) into a [`Packet`]: a list of [`Layer`]s, each with a
//! protocol name, a message type in seed 002's words, a one-line summary and its [`Field`]s
//! (name, typed value, byte range, nesting depth). Decoding never panics: a truncated or
//! malformed frame keeps what decoded and marks the layer where it stopped
//! ([`Layer::malformed`]).
//!
//! * Capture files: [`CaptureReader`] (pcap and pcapng, in memory), [`CaptureStream`] (the
//!   same, read a block at a time), [`PcapWriter`].
//! * Renderers: [`render::line`] (and [`render::line_bytes`], straight into an output buffer),
//!   [`render::tree`], [`render::json`]. Summaries are [`Text`]: UTF-8 kept as bytes.
//! * Protocol hierarchy for `/SUMMARY`: [`Summary`].
//! * Filter expressions: [`Filter::parse`], [`Filter::matches`].
//!
//! Protocols: Ethernet II, 802.3/802.2 LLC/SNAP, 802.1Q, ARP/RARP, IPv4, IPv6, ICMP, ICMPv6,
//! UDP, TCP, GRE; DECnet routing (RP), NSP, session control (SCP), DAP, CTERM, NICE and MIRROR
//! (by object), MOP, loopback, LAT, 802.1D and DEC LANbridge spanning tree, LAVC (frame level),
//! Multinet DECnet-over-IP and DDCMP over TCP. Each module's documentation cites its sources.
//!
//! ```
//! use decode::{render, Decoder, LinkType};
//! // A MOP remote console Request ID (code 5) with receipt number 7.
//! let mut f = vec![0xab, 0, 0, 2, 0, 0, 8, 0, 0x2b, 1, 2, 3, 0x60, 0x02];
//! f.extend_from_slice(&[4, 0, 5, 0, 7, 0]);
//! let pkt = Decoder::new().decode(&f, LinkType::Ethernet);
//! assert_eq!(pkt.layer("mop").and_then(|l| l.msg), Some("remote ID reqst"));
//! assert!(render::line(&pkt).contains("MOP [remote ID reqst] receipt 7"));
//! ```

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

/// Replaces a layer's summary with formatted text, reusing its buffer. Text without arguments
/// is copied as it is (no trip through `core::fmt`).
macro_rules! summary {
    ($l:expr, $($t:tt)*) => {{
        if !$l.nosum {
            use std::fmt::Write as _;
            $l.summary.clear();
            match format_args!($($t)*) {
                a => match a.as_str() {
                    Some(t) => $l.summary.push_str(t),
                    None => {
                        let _ = $l.summary.write_fmt(a);
                    }
                },
            }
        }
    }};
}

mod capture;
mod decnet;
mod decoder;
mod filter;
mod fmtx;
mod ip;
mod line;
mod link;
mod model;
mod rd;
pub mod render;
mod summary;
mod tcpopt;

pub use capture::{CaptureError, CaptureReader, CaptureStream, PcapWriter, Record};
pub use decoder::{Decoder, Detail, LinkType};
pub use filter::{Addr, Dir, Filter, FilterError, PROTOCOLS};
pub use model::{Field, Layer, Packet, Span, Text, Value};
pub use summary::{protocol_display, Summary};

#[cfg(test)]
mod tests;
