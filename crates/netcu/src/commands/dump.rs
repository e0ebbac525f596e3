//! DUMP: the protocol analyzer (seed 000's TCPDUMP) over capture files and, live, over the
//! interfaces of Maynard's own stack.

use std::path::PathBuf;

use super::{q, Action, CommandDef, Parsed, Takes::Nothing as F, Takes::Value as V};

/// What DUMP was asked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DumpRequest {
    /// A live interface of Maynard's stack (`se0`).
    pub interface: Option<String>,
    /// A pcap or pcapng file to read.
    pub read: Option<PathBuf>,
    /// A pcap file to write the selected frames to.
    pub write: Option<PathBuf>,
    /// Stop after this many selected frames.
    pub count: Option<u64>,
    /// Live capture: stop after this many seconds.
    pub seconds: Option<u64>,
    /// The indented tree with seed 002's names.
    pub verbose: bool,
    /// JSON lines.
    pub json: bool,
    /// End with the protocol hierarchy.
    pub summary: bool,
    /// The filter expression, as typed.
    pub expression: String,
}

/// The DUMP command.
pub static COMMANDS: &[CommandDef] = &[CommandDef {
    words: &["dump"],
    params: &["[interface]", "[expression...]"],
    quals: &[
        q("read", V, "read a pcap or pcapng file instead of an interface"),
        q("write", V, "write the selected frames to a pcap file"),
        q("count", V, "stop after this many frames"),
        q("seconds", V, "live capture: stop after this many seconds"),
        q("verbose", F, "every field, as an indented tree with seed 002's names"),
        q("json", F, "one JSON object per frame"),
        q("summary", F, "end with the protocol hierarchy: packets per protocol and message type"),
    ],
    help: "decode frames (IP and the DECnet family): DUMP/READ=file [expression], or live on the stack: DUMP se0 [/COUNT=n] [/SECONDS=n] [expression]",
    build: dump,
}];

fn dump(p: &Parsed) -> Result<Action, String> {
    let read = p.one("read")?.map(PathBuf::from);
    let mut words = p.params().to_vec();
    // Reading a file, every word is the expression; otherwise the first names the interface.
    let interface = if read.is_none() && !words.is_empty() {
        Some(words.remove(0))
    } else {
        None
    };
    if read.is_some() && p.has("seconds") {
        return Err("/SECONDS is for live capture, not /READ".into());
    }
    if p.has("verbose") && p.has("json") {
        return Err("give /VERBOSE or /JSON, not both".into());
    }
    Ok(Action::Dump(DumpRequest {
        interface,
        read,
        write: p.one("write")?.map(PathBuf::from),
        count: p.number("count", "a number of frames")?,
        seconds: p.number("seconds", "a number of seconds")?,
        verbose: p.has("verbose"),
        json: p.has("json"),
        summary: p.has("summary"),
        expression: words.join(" "),
    }))
}
