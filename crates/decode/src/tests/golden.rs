//! Golden outputs: the line, tree and JSON renderings of every shared capture, byte for byte,
//! at every [`Detail`] level that renders them. Guards the fast paths (lazy summaries, reused
//! packets) against any change in what is decoded or printed.
//!
//! Regenerate (only when an output change is intended):
//! `GOLDEN_UPDATE=1 cargo test -p decode golden`. `GOLDEN_DIR=/some/dir` also writes the full
//! tree and JSON outputs there, to diff by hand when a hash differs.

use super::captures::{DIR, FILES};
use crate::{render, CaptureReader, Decoder, Detail, Packet};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");

/// 64-bit FNV-1a, for the outputs too large to keep in the tree.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Renders every frame of `name` with `detail`, reusing one packet (as `netcu dump` does).
fn render_all(name: &str, detail: Detail) -> (String, String, String) {
    let buf = std::fs::read(format!("{DIR}/{name}")).unwrap();
    let mut d = Decoder::new();
    d.detail = detail;
    let mut pkt = Packet::default();
    let (mut line, mut tree, mut json) = (String::new(), String::new(), String::new());
    for r in CaptureReader::new(&buf).unwrap() {
        d.decode_record_into(&mut pkt, &r.unwrap());
        render::line_into(&pkt, &mut line);
        line.push('\n');
        tree.push_str(&render::tree(&pkt));
        json.push_str(&render::json(&pkt));
        json.push('\n');
    }
    (line, tree, json)
}

#[test]
fn golden_outputs() {
    let update = std::env::var("GOLDEN_UPDATE").is_ok();
    let mut hashes = String::new();
    let mut bad = Vec::new();
    for f in FILES {
        let (line, tree, json) = render_all(f, Detail::Full);
        hashes.push_str(&format!(
            "{f} tree {:016x}\n{f} json {:016x}\n",
            fnv(&tree),
            fnv(&json)
        ));
        if let Ok(dir) = std::env::var("GOLDEN_DIR") {
            // Full outputs for diffing by hand.
            std::fs::write(format!("{dir}/{f}.tree.txt"), &tree).unwrap();
            std::fs::write(format!("{dir}/{f}.json"), &json).unwrap();
        }
        let path = format!("{GOLDEN}/{f}.line.txt");
        if update {
            std::fs::write(&path, &line).unwrap();
        } else if std::fs::read_to_string(&path).unwrap() != line {
            bad.push(format!("{f}: line output differs from {path}"));
        }
        // The one-line fast path prints exactly what the full decode prints.
        let (fast, _, _) = render_all(f, Detail::Summaries);
        if fast != line {
            bad.push(format!(
                "{f}: Detail::Summaries line output differs from Detail::Full"
            ));
        }
        // Fields only: the same fields as the full decode (the tree without summaries).
        let (_, _, json_fields) = render_all(f, Detail::Fields);
        let strip = |s: &str| {
            s.lines()
                .map(|l| {
                    let v: serde_json::Value = serde_json::from_str(l).unwrap();
                    let mut layers = v["layers"].clone();
                    for l in layers.as_array_mut().unwrap() {
                        l.as_object_mut().unwrap().remove("summary");
                    }
                    layers.to_string()
                })
                .collect::<Vec<_>>()
        };
        if strip(&json_fields) != strip(&json) {
            bad.push(format!(
                "{f}: Detail::Fields fields differ from Detail::Full"
            ));
        }
    }
    let path = format!("{GOLDEN}/hashes.txt");
    if update {
        std::fs::write(&path, &hashes).unwrap();
    } else {
        let want = std::fs::read_to_string(&path).unwrap();
        for (w, g) in want.lines().zip(hashes.lines()) {
            if w != g {
                bad.push(format!("tree/json hash: want {w}, got {g}"));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
