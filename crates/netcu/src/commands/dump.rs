//! DUMP: the protocol analyzer (seed 000's TCPDUMP) over capture files.

use std::path::PathBuf;

use super::{q, Action, CommandDef, Parsed, Takes::Nothing as F, Takes::Value as V};

/// What DUMP was asked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DumpRequest {
    /// A live interface (needs Maynard's stack; not yet).
    pub interface: Option<String>,
    /// A pcap or pcapng file to read.
    pub read: Option<PathBuf>,
    /// A pcap file to write the selected frames to.
    pub write: Option<PathBuf>,
    /// Stop after this many selected frames.
    pub count: Option<u64>,
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
        q("verbose", F, "every field, as an indented tree with seed 002's names"),
        q("json", F, "one JSON object per frame"),
        q("summary", F, "end with the protocol hierarchy: packets per protocol and message type"),
    ],
    help: "decode frames (IP and the DECnet family): DUMP/READ=file [expression], e.g. DUMP/READ=x.pcap nsp or mop",
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
    if p.has("verbose") && p.has("json") {
        return Err("give /VERBOSE or /JSON, not both".into());
    }
    Ok(Action::Dump(DumpRequest {
        interface,
        read,
        write: p.one("write")?.map(PathBuf::from),
        count: p.number("count", "a number of frames")?,
        verbose: p.has("verbose"),
        json: p.has("json"),
        summary: p.has("summary"),
        expression: words.join(" "),
    }))
}
