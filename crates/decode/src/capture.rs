//! Capture files: a reader for pcap (both byte orders, microsecond and nanosecond magic) and
//! pcapng (section header, interface description, enhanced and simple packet blocks; other
//! blocks are skipped), and a pcap writer.
//!
//! Formats: tcpdump.org "pcap" file format (draft-ietf-opsawg-pcap) and the pcapng draft
//! (draft-ietf-opsawg-pcapng), sections 4.1-4.4.

use std::io::{self, Read, Write};

use crate::decoder::LinkType;

/// Why a capture file cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CaptureError {
    /// The file starts with neither a pcap magic nor a pcapng section header.
    #[error("not a pcap or pcapng file (magic {0:#010x})")]
    BadMagic(u32),
    /// The file ends inside a header or record.
    #[error("capture truncated at byte {0}")]
    Truncated(usize),
    /// A record or block is inconsistent.
    #[error("malformed capture at byte {offset}: {what}")]
    Malformed {
        /// Byte offset of the record or block.
        offset: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// Reading the file failed ([`CaptureStream`]).
    #[error("read error at byte {offset}: {kind}")]
    Io {
        /// Byte offset where the read was to start.
        offset: usize,
        /// What the system said.
        kind: io::ErrorKind,
    },
}

/// One captured frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// Seconds since the Unix epoch.
    pub ts_sec: i64,
    /// Nanoseconds within the second.
    pub ts_nsec: u32,
    /// Length on the wire.
    pub orig_len: u32,
    /// Link type of the interface it was captured on.
    pub link: LinkType,
    /// The captured bytes.
    pub data: &'a [u8],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Pcap {
        be: bool,
        nano: bool,
        link: LinkType,
    },
    Pcapng {
        be: bool,
    },
}

#[derive(Clone, Copy, Debug)]
struct Iface {
    link: LinkType,
    /// Units per second of time stamps.
    tsres: u64,
}

/// A record found by the parser: where its bytes lie in the buffer parsed, not a borrow of
/// it, so that a streaming reader may refill its buffer between blocks.
#[derive(Clone, Copy, Debug)]
struct Raw {
    ts_sec: i64,
    ts_nsec: u32,
    orig_len: u32,
    link: LinkType,
    start: usize,
    end: usize,
}

impl Raw {
    fn record(self, buf: &[u8]) -> Record<'_> {
        Record {
            ts_sec: self.ts_sec,
            ts_nsec: self.ts_nsec,
            orig_len: self.orig_len,
            link: self.link,
            data: buf.get(self.start..self.end).unwrap_or(&[]),
        }
    }
}

/// The state of a capture file's parse: its format and (pcapng) interfaces.
#[derive(Clone, Debug)]
struct Parser {
    fmt: Format,
    ifaces: Vec<Iface>,
}

/// Reads the records of a capture file held in memory.
///
/// ```
/// let mut file = Vec::new();
/// let mut w = decode::PcapWriter::new(&mut file, decode::LinkType::Ethernet, 65535).unwrap();
/// w.write(1, 500_000, 3, &[1, 2, 3]).unwrap();
/// let recs: Vec<_> = decode::CaptureReader::new(&file).unwrap().collect::<Result<_, _>>().unwrap();
/// assert_eq!(recs[0].data, &[1, 2, 3]);
/// assert_eq!(recs[0].ts_nsec, 500_000);
/// ```
#[derive(Debug)]
pub struct CaptureReader<'a> {
    buf: &'a [u8],
    pos: usize,
    parser: Parser,
    done: bool,
}

fn u16_at(b: &[u8], at: usize, be: bool) -> Option<u16> {
    let x: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(if be {
        u16::from_be_bytes(x)
    } else {
        u16::from_le_bytes(x)
    })
}

fn u32_at(b: &[u8], at: usize, be: bool) -> Option<u32> {
    let x: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if be {
        u32::from_be_bytes(x)
    } else {
        u32::from_le_bytes(x)
    })
}

impl Parser {
    /// Reads the file header at the start of `buf`; returns the parser and where the first
    /// record or block starts.
    fn header(buf: &[u8]) -> Result<(Parser, usize), CaptureError> {
        let magic = u32_at(buf, 0, false).ok_or(CaptureError::Truncated(0))?;
        let fmt = match magic {
            0xa1b2_c3d4 | 0xa1b2_3c4d | 0xd4c3_b2a1 | 0x4d3c_b2a1 => {
                let be = matches!(magic, 0xd4c3_b2a1 | 0x4d3c_b2a1);
                let nano = matches!(magic, 0xa1b2_3c4d | 0x4d3c_b2a1);
                let lt = u32_at(buf, 20, be).ok_or(CaptureError::Truncated(0))?;
                Format::Pcap {
                    be,
                    nano,
                    link: LinkType::from_u32(lt & 0x0fff_ffff),
                }
            }
            0x0a0d_0d0a => {
                let bom = u32_at(buf, 8, false).ok_or(CaptureError::Truncated(0))?;
                let be = match bom {
                    0x1a2b_3c4d => false,
                    0x4d3c_2b1a => true,
                    _ => {
                        return Err(CaptureError::Malformed {
                            offset: 8,
                            what: "bad byte-order magic",
                        })
                    }
                };
                Format::Pcapng { be }
            }
            m => return Err(CaptureError::BadMagic(m)),
        };
        let pos = if matches!(fmt, Format::Pcap { .. }) {
            24
        } else {
            0
        };
        Ok((
            Parser {
                fmt,
                ifaces: Vec::new(),
            },
            pos,
        ))
    }

    /// The link type of a pcap file (pcapng files: of the first interface seen so far).
    fn link_type(&self) -> Option<LinkType> {
        match self.fmt {
            Format::Pcap { link, .. } => Some(link),
            Format::Pcapng { .. } => self.ifaces.first().map(|i| i.link),
        }
    }

    /// How many bytes from the start of `b` the next record or block needs (its header when
    /// fewer bytes than that are there, else the whole of it as its header says).
    fn need(&self, b: &[u8]) -> usize {
        match self.fmt {
            Format::Pcap { be, .. } => match u32_at(b, 8, be) {
                Some(cl) => 16usize.saturating_add(cl as usize),
                None => 16,
            },
            Format::Pcapng { be } => {
                // A section header gives its own byte order.
                let be = match (u32_at(b, 0, be), u32_at(b, 8, false)) {
                    (Some(0x0a0d_0d0a), Some(0x4d3c_2b1a)) => true,
                    (Some(0x0a0d_0d0a), Some(_)) => false,
                    (Some(_), _) => be,
                    (None, _) => return 12,
                };
                match u32_at(b, 4, be) {
                    Some(len) => (len as usize).max(12),
                    None => 12,
                }
            }
        }
    }

    /// Parses one record or block at `*pos` of `buf`: `Ok(Some)` a record, `Ok(None)` a block
    /// with no packet (consumed), `None` at the end of `buf`. `*pos` moves only past whole
    /// records and blocks; error offsets are offsets in `buf`.
    fn step(&mut self, buf: &[u8], pos: &mut usize) -> Option<Result<Option<Raw>, CaptureError>> {
        match self.fmt {
            Format::Pcap { be, nano, link } => next_pcap(buf, pos, be, nano, link),
            Format::Pcapng { be } => self.next_pcapng(buf, pos, be),
        }
    }

    /// One pcapng block at `*pos` of `buf`.
    fn next_pcapng(
        &mut self,
        buf: &[u8],
        pos: &mut usize,
        mut be: bool,
    ) -> Option<Result<Option<Raw>, CaptureError>> {
        {
            let at = *pos;
            if at >= buf.len() {
                return None;
            }
            let ty = u32_at(buf, at, be);
            if ty == Some(0x0a0d_0d0a) {
                be = match u32_at(buf, at + 8, false) {
                    Some(0x1a2b_3c4d) => false,
                    Some(0x4d3c_2b1a) => true,
                    Some(_) => {
                        return Some(Err(CaptureError::Malformed {
                            offset: at,
                            what: "bad byte-order magic",
                        }))
                    }
                    None => return Some(Err(CaptureError::Truncated(at))),
                };
                self.fmt = Format::Pcapng { be };
                self.ifaces.clear();
            }
            let (Some(ty), Some(len)) = (u32_at(buf, at, be), u32_at(buf, at + 4, be)) else {
                return Some(Err(CaptureError::Truncated(at)));
            };
            let len = len as usize;
            if len < 12 || !len.is_multiple_of(4) {
                return Some(Err(CaptureError::Malformed {
                    offset: at,
                    what: "bad block length",
                }));
            }
            let Some(block) = at.checked_add(len).and_then(|e| buf.get(at..e)) else {
                return Some(Err(CaptureError::Truncated(at)));
            };
            *pos = at + len;
            let body = block.get(8..len - 4).unwrap_or(&[]);
            match ty {
                1 => {
                    let lt = u16_at(body, 0, be).unwrap_or(0);
                    let mut tsres = 1_000_000u64;
                    // Options from byte 8: look for if_tsresol (code 9).
                    let mut o = 8;
                    while let (Some(code), Some(olen)) =
                        (u16_at(body, o, be), u16_at(body, o + 2, be))
                    {
                        if code == 0 {
                            break;
                        }
                        if code == 9 {
                            if let Some(&v) = body.get(o + 4) {
                                let exp = u32::from(v & 0x7f);
                                tsres = if v & 0x80 != 0 {
                                    2u64.checked_pow(exp)
                                } else {
                                    10u64.checked_pow(exp)
                                }
                                .unwrap_or(1_000_000);
                            }
                        }
                        o += 4 + usize::from(olen).div_ceil(4) * 4;
                    }
                    self.ifaces.push(Iface {
                        link: LinkType::from_u32(u32::from(lt)),
                        tsres: tsres.max(1),
                    });
                }
                6 => {
                    let (Some(id), Some(hi), Some(lo), Some(cl), Some(ol)) = (
                        u32_at(body, 0, be),
                        u32_at(body, 4, be),
                        u32_at(body, 8, be),
                        u32_at(body, 12, be),
                        u32_at(body, 16, be),
                    ) else {
                        return Some(Err(CaptureError::Malformed {
                            offset: at,
                            what: "short enhanced packet block",
                        }));
                    };
                    let Some(data) = 20usize
                        .checked_add(cl as usize)
                        .and_then(|e| body.get(20..e))
                    else {
                        return Some(Err(CaptureError::Malformed {
                            offset: at,
                            what: "packet exceeds block",
                        }));
                    };
                    let Some(iface) = self.ifaces.get(id as usize).copied() else {
                        return Some(Err(CaptureError::Malformed {
                            offset: at,
                            what: "unknown interface id",
                        }));
                    };
                    let ts = (u64::from(hi) << 32) | u64::from(lo);
                    let sec = ts / iface.tsres;
                    let frac = ts % iface.tsres;
                    let ns = (u128::from(frac) * 1_000_000_000 / u128::from(iface.tsres)) as u32;
                    let start = at + 8 + 20;
                    return Some(Ok(Some(Raw {
                        ts_sec: i64::try_from(sec).unwrap_or(i64::MAX),
                        ts_nsec: ns,
                        orig_len: ol,
                        link: iface.link,
                        start,
                        end: start + data.len(),
                    })));
                }
                3 => {
                    let Some(ol) = u32_at(body, 0, be) else {
                        return Some(Err(CaptureError::Malformed {
                            offset: at,
                            what: "short simple packet block",
                        }));
                    };
                    let Some(iface) = self.ifaces.first().copied() else {
                        return Some(Err(CaptureError::Malformed {
                            offset: at,
                            what: "simple packet before any interface",
                        }));
                    };
                    let n = (ol as usize).min(body.len().saturating_sub(4));
                    let start = at + 8 + 4;
                    return Some(Ok(Some(Raw {
                        ts_sec: 0,
                        ts_nsec: 0,
                        orig_len: ol,
                        link: iface.link,
                        start,
                        end: start + n,
                    })));
                }
                _ => {}
            }
            // A block with no packet: consumed, the caller asks again.
            Some(Ok(None))
        }
    }
}

/// One pcap record at `*pos` of `buf`.
fn next_pcap(
    buf: &[u8],
    pos: &mut usize,
    be: bool,
    nano: bool,
    link: LinkType,
) -> Option<Result<Option<Raw>, CaptureError>> {
    let at = *pos;
    if at >= buf.len() {
        return None;
    }
    let (Some(s), Some(f), Some(cl), Some(ol)) = (
        u32_at(buf, at, be),
        u32_at(buf, at + 4, be),
        u32_at(buf, at + 8, be),
        u32_at(buf, at + 12, be),
    ) else {
        return Some(Err(CaptureError::Truncated(at)));
    };
    let start = at + 16;
    let Some(data) = start
        .checked_add(cl as usize)
        .and_then(|e| buf.get(start..e))
    else {
        return Some(Err(CaptureError::Truncated(at)));
    };
    *pos = start + data.len();
    let ns = if nano { f } else { f.saturating_mul(1000) };
    Some(Ok(Some(Raw {
        ts_sec: i64::from(s),
        ts_nsec: ns.min(999_999_999),
        orig_len: ol,
        link,
        start,
        end: *pos,
    })))
}

impl<'a> CaptureReader<'a> {
    /// Opens a capture held in `buf`: reads the file header.
    pub fn new(buf: &'a [u8]) -> Result<CaptureReader<'a>, CaptureError> {
        let (parser, pos) = Parser::header(buf)?;
        Ok(CaptureReader {
            buf,
            pos,
            parser,
            done: false,
        })
    }

    /// The link type of a pcap file (pcapng files: of the first interface seen so far).
    pub fn link_type(&self) -> Option<LinkType> {
        self.parser.link_type()
    }
}

impl<'a> Iterator for CaptureReader<'a> {
    type Item = Result<Record<'a>, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let buf = self.buf;
        loop {
            match self.parser.step(buf, &mut self.pos) {
                Some(Ok(None)) => continue,
                Some(Ok(Some(raw))) => return Some(Ok(raw.record(buf))),
                Some(Err(e)) => {
                    self.done = true;
                    return Some(Err(e));
                }
                None => {
                    self.done = true;
                    return None;
                }
            }
        }
    }
}

/// How much a [`CaptureStream`] reads at a time: small enough that what the kernel copies in
/// is still in the core's cache when the decoder reads it.
const CHUNK: usize = 1 << 17;

/// The largest record or block a [`CaptureStream`] holds whole; a header claiming more is
/// reported as truncated (at the end of the file) rather than buffered.
const MAX_BLOCK: usize = 64 << 20;

/// Reads the records of a capture file from a reader (a file, a pipe), 128 KiB at a time,
/// into one buffer that is reused: memory stays bounded whatever the file's size, and no
/// time goes to paging in a copy of the whole file. The records are the same as
/// [`CaptureReader`]'s; errors give offsets in the file.
///
/// ```
/// let mut file = Vec::new();
/// let mut w = decode::PcapWriter::new(&mut file, decode::LinkType::Ethernet, 65535).unwrap();
/// w.write(1, 500_000, 3, &[1, 2, 3]).unwrap();
/// let mut s = decode::CaptureStream::new(&file[..]).unwrap();
/// assert_eq!(s.next_record().unwrap().unwrap().data, &[1, 2, 3]);
/// assert!(s.next_record().is_none());
/// ```
#[derive(Debug)]
pub struct CaptureStream<R: Read> {
    src: R,
    buf: Vec<u8>,
    /// The next record starts at `buf[pos]`; `buf[..end]` holds data read.
    pos: usize,
    end: usize,
    /// File offset of `buf[0]`.
    base: usize,
    parser: Parser,
    eof: bool,
    done: bool,
}

impl<R: Read> CaptureStream<R> {
    /// Reads the file header from `src`.
    pub fn new(src: R) -> Result<CaptureStream<R>, CaptureError> {
        let mut s = CaptureStream {
            src,
            buf: vec![0; CHUNK],
            pos: 0,
            end: 0,
            base: 0,
            parser: Parser {
                fmt: Format::Pcapng { be: false },
                ifaces: Vec::new(),
            },
            eof: false,
            done: false,
        };
        // A pcap header is 24 bytes; a pcapng section header's byte-order magic ends at 12.
        s.fill(24)?;
        let (parser, pos) = Parser::header(s.buf.get(..s.end).unwrap_or(&[]))?;
        s.parser = parser;
        s.pos = pos;
        Ok(s)
    }

    /// The link type of a pcap file (pcapng files: of the first interface seen so far).
    pub fn link_type(&self) -> Option<LinkType> {
        self.parser.link_type()
    }

    /// Makes `buf[pos..end]` hold at least `need` bytes, or all that is left of the file.
    fn fill(&mut self, need: usize) -> Result<(), CaptureError> {
        if self.pos > 0 {
            // What is left moves to the front; the buffer keeps its size.
            self.buf.copy_within(self.pos..self.end, 0);
            self.base += self.pos;
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.buf.len() < need {
            self.buf.resize(need.next_multiple_of(CHUNK), 0);
        }
        while self.end < need && !self.eof {
            let Some(room) = self.buf.get_mut(self.end..) else {
                break;
            };
            match self.src.read(room) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(CaptureError::Io {
                        offset: self.base + self.end,
                        kind: e.kind(),
                    })
                }
            }
        }
        Ok(())
    }

    /// The next record, `None` at the end of the file (or after an error). A record borrows
    /// the stream's buffer until the next call.
    #[inline]
    pub fn next_record(&mut self) -> Option<Result<Record<'_>, CaptureError>> {
        if self.done {
            return None;
        }
        // The common case first: a whole pcap record already in the buffer, its header read
        // in one piece.
        if let Format::Pcap { be, nano, link } = self.parser.fmt {
            let at = self.pos;
            let head = self
                .buf
                .get(at..at + 16)
                .filter(|_| at + 16 <= self.end)
                .and_then(|h| <[u8; 16]>::try_from(h).ok());
            if let Some([s0, s1, s2, s3, f0, f1, f2, f3, c0, c1, c2, c3, o0, o1, o2, o3]) = head {
                let w = |x: [u8; 4]| {
                    if be {
                        u32::from_be_bytes(x)
                    } else {
                        u32::from_le_bytes(x)
                    }
                };
                let start = at + 16;
                let cl = w([c0, c1, c2, c3]) as usize;
                if let Some(end) = start.checked_add(cl).filter(|&e| e <= self.end) {
                    self.pos = end;
                    let f = w([f0, f1, f2, f3]);
                    let ns = if nano { f } else { f.saturating_mul(1000) };
                    return Some(Ok(Record {
                        ts_sec: i64::from(w([s0, s1, s2, s3])),
                        ts_nsec: ns.min(999_999_999),
                        orig_len: w([o0, o1, o2, o3]),
                        link,
                        data: self.buf.get(start..end).unwrap_or(&[]),
                    }));
                }
            }
        }
        loop {
            let have = self.end - self.pos;
            if !self.eof {
                let need = self
                    .parser
                    .need(self.buf.get(self.pos..self.end).unwrap_or(&[]))
                    .min(MAX_BLOCK);
                // Reads a chunk at a time, not a record at a time.
                if have < need.max(1) {
                    if let Err(e) = self.fill(need.max(CHUNK)) {
                        self.done = true;
                        return Some(Err(e));
                    }
                    continue;
                }
            }
            let mut p = self.pos;
            let step = self
                .parser
                .step(self.buf.get(..self.end).unwrap_or(&[]), &mut p);
            self.pos = p;
            match step {
                Some(Ok(None)) => continue,
                Some(Ok(Some(raw))) => return Some(Ok(raw.record(&self.buf))),
                Some(Err(e)) => {
                    self.done = true;
                    return Some(Err(e.shifted(self.base)));
                }
                None => {
                    self.done = true;
                    return None;
                }
            }
        }
    }
}

impl CaptureError {
    /// The error with its offset moved by `by` (from a buffer's to the file's).
    fn shifted(self, by: usize) -> CaptureError {
        match self {
            CaptureError::Truncated(at) => CaptureError::Truncated(at + by),
            CaptureError::Malformed { offset, what } => CaptureError::Malformed {
                offset: offset + by,
                what,
            },
            other => other,
        }
    }
}

/// Writes a classic pcap file (little-endian, microsecond time stamps).
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    w: W,
    snaplen: u32,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header.
    pub fn new(mut w: W, link: LinkType, snaplen: u32) -> io::Result<PcapWriter<W>> {
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes());
        h.extend_from_slice(&snaplen.to_le_bytes());
        h.extend_from_slice(&link.to_u32().to_le_bytes());
        w.write_all(&h)?;
        Ok(PcapWriter { w, snaplen })
    }

    /// Writes one record (truncated to the snap length).
    pub fn write(
        &mut self,
        ts_sec: i64,
        ts_nsec: u32,
        orig_len: u32,
        data: &[u8],
    ) -> io::Result<()> {
        let n = data.len().min(self.snaplen as usize);
        let mut h = [0u8; 16];
        let sec = u32::try_from(ts_sec.max(0)).unwrap_or(u32::MAX);
        h[..4].copy_from_slice(&sec.to_le_bytes());
        h[4..8].copy_from_slice(&(ts_nsec.min(999_999_999) / 1000).to_le_bytes());
        h[8..12].copy_from_slice(&(n as u32).to_le_bytes());
        h[12..16].copy_from_slice(&orig_len.max(n as u32).to_le_bytes());
        self.w.write_all(&h)?;
        self.w.write_all(data.get(..n).unwrap_or(data))
    }

    /// Writes a record as read.
    pub fn write_record(&mut self, rec: &Record<'_>) -> io::Result<()> {
        self.write(rec.ts_sec, rec.ts_nsec, rec.orig_len, rec.data)
    }

    /// Flushes and returns the writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.w.flush()?;
        Ok(self.w)
    }
}
