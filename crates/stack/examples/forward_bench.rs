//! The sans-I/O core forwarding 64-byte UDP frames between two in-memory links on one core.
//! `cargo run --release -p stack --example forward_bench [seconds]`
//! prints `bench: stack-core-forward ours=<Mpps>`.

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use stack::Instant;
use wire::PacketBuf;

fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let (mut r, se0, _) = router();
    let template = frame();
    let mut ctx = Recycle::default();
    const BATCH: usize = 64;
    let mut bufs: Vec<PacketBuf> = (0..BATCH)
        .map(|_| PacketBuf::from_slice(0, &template))
        .collect();
    let start = std::time::Instant::now();
    let mut packets = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        for _ in 0..1000 {
            r.receive_batch(&mut ctx, se0, bufs.drain(..), Instant::ZERO);
            bufs.append(&mut ctx.frames);
            refill(&mut bufs, &template);
            packets += BATCH as u64;
        }
    }
    let dt = start.elapsed().as_secs_f64();
    assert_eq!(ctx.sent, packets);
    println!(
        "bench: stack-core-forward ours={:.2}Mpps",
        packets as f64 / dt / 1e6
    );
}
