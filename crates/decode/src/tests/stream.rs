//! The streaming capture reader against the in-memory one: the same records and the same
//! errors (at the same file offsets), whatever sizes the underlying reads return.

use std::io::Read;

use crate::{CaptureError, CaptureReader, CaptureStream, LinkType, PcapWriter};

/// A reader that hands out at most `step` bytes per read (a pipe, a slow disk).
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

type Rec = (i64, u32, u32, LinkType, Vec<u8>);

fn from_memory(f: &[u8]) -> Result<Vec<Result<Rec, CaptureError>>, CaptureError> {
    Ok(CaptureReader::new(f)?
        .map(|r| r.map(|r| (r.ts_sec, r.ts_nsec, r.orig_len, r.link, r.data.to_vec())))
        .collect())
}

fn streamed(f: &[u8], step: usize) -> Result<Vec<Result<Rec, CaptureError>>, CaptureError> {
    let mut s = CaptureStream::new(Trickle { data: f, step })?;
    let mut out = Vec::new();
    while let Some(r) = s.next_record() {
        out.push(r.map(|r| (r.ts_sec, r.ts_nsec, r.orig_len, r.link, r.data.to_vec())));
    }
    Ok(out)
}

fn block(ty: u32, body: &[u8]) -> Vec<u8> {
    let mut b = body.to_vec();
    b.resize(b.len().div_ceil(4) * 4, 0);
    let len = (b.len() + 12) as u32;
    let mut out = ty.to_le_bytes().to_vec();
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&b);
    out.extend_from_slice(&len.to_le_bytes());
    out
}

/// A small pcapng file: section header, interface, a block to skip, an enhanced and a simple
/// packet block.
fn pcapng() -> Vec<u8> {
    let mut f = block(
        0x0a0d_0d0a,
        &[
            0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ],
    );
    f.extend(block(
        1,
        &[1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0],
    ));
    f.extend(block(0xbad, &[1, 2, 3, 4]));
    let mut epb = 0u32.to_le_bytes().to_vec();
    epb.extend_from_slice(&0u32.to_le_bytes());
    epb.extend_from_slice(&2_000_000_123u32.to_le_bytes());
    epb.extend_from_slice(&3u32.to_le_bytes());
    epb.extend_from_slice(&60u32.to_le_bytes());
    epb.extend_from_slice(&[7, 8, 9]);
    f.extend(block(6, &epb));
    f.extend(block(3, &[2, 0, 0, 0, 5, 6]));
    f
}

fn pcap(n: usize) -> Vec<u8> {
    let mut f = Vec::new();
    let mut w = PcapWriter::new(&mut f, LinkType::Ethernet, 65535).unwrap();
    for i in 0..n {
        let data: Vec<u8> = (0..(i * 37) % 1500).map(|k| (k + i) as u8).collect();
        w.write(i as i64, (i * 1000) as u32, data.len() as u32 + 1, &data)
            .unwrap();
    }
    w.into_inner().unwrap();
    f
}

#[test]
fn streamed_records_equal_in_memory_records() {
    let mut files = vec![pcapng(), pcap(40)];
    for name in [
        "dn-ethernet-lan-routing-mop.pcap",
        "dn-multinet-tcp-l2r-l1r-verify.pcap",
        "dn-ddcmp-tcp-l2routers.pcap",
    ] {
        if let Ok(f) = std::fs::read(format!("/work/shared/captures/decnet/{name}")) {
            files.push(f);
        }
    }
    for f in &files {
        let want = from_memory(f).unwrap();
        assert!(!want.is_empty());
        assert!(want.iter().all(|r| r.is_ok()));
        for step in [1, 7, 4096, 1 << 22] {
            assert_eq!(streamed(f, step).unwrap(), want, "read size {step}");
        }
    }
}

#[test]
fn streamed_truncation_is_reported_where_the_file_ends() {
    // Every prefix of two small files: the same records, then the same error or end.
    for f in [pcapng(), pcap(6)] {
        for cut in 0..f.len() {
            let p = &f[..cut];
            let want = from_memory(p);
            for step in [1, 5, 1 << 20] {
                assert_eq!(streamed(p, step), want, "cut {cut} read size {step}");
            }
        }
    }
}

#[test]
fn streamed_read_errors_are_reported() {
    struct Broken(usize);
    impl Read for Broken {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let f = pcap(3);
            if self.0 >= 30 {
                return Err(std::io::Error::other("gone"));
            }
            let n = (f.len() - self.0).min(buf.len()).min(30 - self.0);
            buf[..n].copy_from_slice(&f[self.0..self.0 + n]);
            self.0 += n;
            Ok(n)
        }
    }
    let mut s = CaptureStream::new(Broken(0)).unwrap();
    assert_eq!(s.link_type(), Some(LinkType::Ethernet));
    let r = s.next_record().map(|r| r.map(|r| r.data.to_vec()));
    assert_eq!(
        r,
        Some(Err(CaptureError::Io {
            offset: 30,
            kind: std::io::ErrorKind::Other
        }))
    );
    assert!(s.next_record().is_none());
}
