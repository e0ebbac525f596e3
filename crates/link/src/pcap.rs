//! A classic pcap writer (libpcap format, link type Ethernet) that any link's frames can feed.
//!
//! Timestamps come from the caller (the stack's `now`), as a [`Duration`] since the Unix epoch,
//! written with microsecond or nanosecond precision (magic `a1b2c3d4` or `a1b23c4d`). Frames
//! longer than the snapshot length are cut to it, their original length kept in the record.

use crate::Frame;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::Duration;

/// `LINKTYPE_ETHERNET`.
pub const LINKTYPE_ETHERNET: u32 = 1;

/// Timestamp precision of a capture file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TsPrecision {
    /// Microseconds (magic `0xa1b2c3d4`), what every reader understands.
    Micro,
    /// Nanoseconds (magic `0xa1b23c4d`).
    Nano,
}

impl TsPrecision {
    fn magic(self) -> u32 {
        match self {
            TsPrecision::Micro => 0xa1b2_c3d4,
            TsPrecision::Nano => 0xa1b2_3c4d,
        }
    }
}

/// Writes a pcap file: the global header when made, one record per frame.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    precision: TsPrecision,
    snaplen: u32,
    records: u64,
}

impl PcapWriter<BufWriter<File>> {
    /// Creates (or truncates) `path` and writes the global header.
    pub fn create(path: impl AsRef<Path>, precision: TsPrecision) -> io::Result<Self> {
        PcapWriter::new(BufWriter::new(File::create(path)?), precision, 262_144)
    }
}

impl<W: Write> PcapWriter<W> {
    /// Writes the global header to `out`. `snaplen` is the longest record kept (0 means 262144).
    pub fn new(mut out: W, precision: TsPrecision, snaplen: u32) -> io::Result<Self> {
        let snaplen = if snaplen == 0 { 262_144 } else { snaplen };
        let mut h = [0u8; 24];
        h[0..4].copy_from_slice(&precision.magic().to_le_bytes());
        h[4..6].copy_from_slice(&2u16.to_le_bytes());
        h[6..8].copy_from_slice(&4u16.to_le_bytes());
        // thiszone and sigfigs stay zero.
        h[16..20].copy_from_slice(&snaplen.to_le_bytes());
        h[20..24].copy_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        out.write_all(&h)?;
        Ok(PcapWriter {
            out,
            precision,
            snaplen,
            records: 0,
        })
    }

    /// Appends one frame captured at `ts` (since the Unix epoch).
    pub fn write_frame(&mut self, ts: Duration, frame: &[u8]) -> io::Result<()> {
        let orig = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        let incl = orig.min(self.snaplen);
        let frac = match self.precision {
            TsPrecision::Micro => ts.subsec_micros(),
            TsPrecision::Nano => ts.subsec_nanos(),
        };
        let mut h = [0u8; 16];
        // pcap's seconds are 32 bits: good until 2106.
        h[0..4].copy_from_slice(&(ts.as_secs() as u32).to_le_bytes());
        h[4..8].copy_from_slice(&frac.to_le_bytes());
        h[8..12].copy_from_slice(&incl.to_le_bytes());
        h[12..16].copy_from_slice(&orig.to_le_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(&frame[..incl as usize])?;
        self.records += 1;
        Ok(())
    }

    /// Appends a link frame. A partial checksum is written as it is (as tcpdump shows it on
    /// Linux); a super-frame is written whole, as one record.
    pub fn write(&mut self, ts: Duration, frame: &Frame) -> io::Result<()> {
        self.write_frame(ts, frame.as_slice())
    }

    /// Records written so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Flushes buffered records to the output.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Flushes and returns the output.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_records() {
        let mut w = PcapWriter::new(Vec::new(), TsPrecision::Nano, 100).unwrap();
        w.write_frame(Duration::new(1_700_000_000, 123_456_789), &[0xab; 60])
            .unwrap();
        w.write_frame(Duration::new(1, 5), &[0xcd; 150]).unwrap();
        assert_eq!(w.records(), 2);
        let b = w.into_inner().unwrap();
        assert_eq!(&b[0..4], &0xa1b2_3c4du32.to_le_bytes());
        assert_eq!(&b[16..20], &100u32.to_le_bytes());
        assert_eq!(&b[20..24], &1u32.to_le_bytes());
        let r = &b[24..];
        assert_eq!(&r[0..4], &1_700_000_000u32.to_le_bytes());
        assert_eq!(&r[4..8], &123_456_789u32.to_le_bytes());
        assert_eq!(&r[8..12], &60u32.to_le_bytes());
        assert_eq!(&r[12..16], &60u32.to_le_bytes());
        let r2 = &r[16 + 60..];
        assert_eq!(&r2[8..12], &100u32.to_le_bytes(), "cut to the snaplen");
        assert_eq!(&r2[12..16], &150u32.to_le_bytes(), "original length kept");
        assert_eq!(r2.len(), 16 + 100);
    }

    #[test]
    fn micro_precision() {
        let mut w = PcapWriter::new(Vec::new(), TsPrecision::Micro, 0).unwrap();
        w.write_frame(Duration::new(2, 123_456_789), &[1; 14])
            .unwrap();
        let b = w.into_inner().unwrap();
        assert_eq!(&b[0..4], &0xa1b2_c3d4u32.to_le_bytes());
        assert_eq!(&b[16..20], &262_144u32.to_le_bytes());
        assert_eq!(&b[28..32], &123_456u32.to_le_bytes());
    }
}
