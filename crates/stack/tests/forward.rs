//! The forwarding path: frames come out right, and no allocation happens per packet.

mod common;

use common::*;
use stack::Instant;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use wire::{EthernetFrame, Ipv4Packet, PacketBuf};

/// Counts allocations made by threads that have set `COUNTING`: libtest's own threads
/// allocate now and then while the test runs, and those are not the forwarding path's.
struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn count_one() {
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        count_one();
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        count_one();
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn forwards_in_place_without_allocating() {
    let (mut r, se0, se1) = router();
    let template = frame();
    let mut ctx = Recycle::default();
    ctx.frames.reserve(64);
    let mut bufs: Vec<PacketBuf> = (0..32)
        .map(|_| PacketBuf::from_slice(0, &template))
        .collect();
    // Warm up: the stack's output queue grows to a batch once.
    for round in 0..2 {
        r.receive_batch(&mut ctx, se0, bufs.drain(..), Instant::ZERO);
        bufs.append(&mut ctx.frames);
        refill(&mut bufs, &template);
        assert_eq!(bufs.len(), 32, "round {round}");
    }
    COUNTING.with(|c| c.set(true));
    let before = ALLOCS.load(Ordering::Relaxed);
    for _ in 0..100 {
        r.receive_batch(&mut ctx, se0, bufs.drain(..), Instant::ZERO);
        bufs.append(&mut ctx.frames);
        refill(&mut bufs, &template);
    }
    let after = ALLOCS.load(Ordering::Relaxed);
    COUNTING.with(|c| c.set(false));
    assert_eq!(
        after - before,
        0,
        "allocations while forwarding 3,200 packets"
    );
    assert_eq!(ctx.sent, 32 * 102);

    // The frame out: new MACs, TTL 63, a valid header checksum.
    r.receive(
        &mut ctx,
        se0,
        PacketBuf::from_slice(0, &template),
        Instant::ZERO,
    );
    let out = ctx.frames.pop().unwrap();
    let eth = EthernetFrame::new_checked(out.as_slice()).unwrap();
    assert_eq!((eth.dst_addr(), eth.src_addr()), (HOST_B, R1));
    let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
    assert_eq!(ip.ttl(), 63);
    assert!(ip.verify_checksum());
    assert_eq!(out.len(), template.len());
    let c = r.interface(se1).unwrap().counters();
    assert_eq!(c.opkts, 32 * 102 + 1 + 1, "and the gratuitous ARP");
    assert_eq!(r.stats().ip_forw_datagrams, 32 * 102 + 1);
}
