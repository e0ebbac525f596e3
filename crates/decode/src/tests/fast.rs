//! The dump fast path (a streamed file, lines rendered as bytes) against the plain one (the
//! file in memory, lines into a `String`): the same text for every shared capture.

use super::captures::{DIR, FILES};
use crate::{render, CaptureReader, CaptureStream, Decoder, Detail, Packet};

#[test]
fn streamed_byte_lines_equal_string_lines() {
    for f in FILES {
        let path = format!("{DIR}/{f}");
        let buf = std::fs::read(&path).unwrap();
        let mut d = Decoder::new();
        let mut pkt = Packet::default();
        let mut want = String::new();
        for r in CaptureReader::new(&buf).unwrap() {
            d.decode_record_into(&mut pkt, &r.unwrap());
            render::line_into(&pkt, &mut want);
            want.push('\n');
        }
        let mut d = Decoder::new();
        d.detail = Detail::Summaries;
        let mut s = CaptureStream::new(std::fs::File::open(&path).unwrap()).unwrap();
        let mut got = Vec::new();
        while let Some(r) = s.next_record() {
            d.decode_record_into(&mut pkt, &r.unwrap());
            render::line_bytes(&pkt, &mut got);
            got.push(b'\n');
        }
        assert!(!want.is_empty());
        assert_eq!(String::from_utf8(got).unwrap(), want, "{f}");
    }
}
