//! Classification benchmark: the compiled classifier against the linear reference evaluator
//! (peer: linear reference), on realistic lists of 10, 100, 1,000 and 10,000 rules, plus the
//! compile time and memory of 10,000 rules against the 1 s / 64 MB targets.
//!
//! Prints one `bench:` line per figure (see DESIGN.md, "Benchmarks"). Run with
//! `cargo bench -p filter`.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use filter::{
    reference, Action, Classifier, LocalTime, Packet, PortMatch, PortOp, Proto, Rule, TimeSpec,
    Window,
};
use wire::prefix::{Family, IpPrefix};

/// A small deterministic generator (xorshift64*), so every run measures the same lists.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const PORTS: [u16; 12] = [22, 25, 53, 80, 110, 123, 143, 443, 993, 2049, 6000, 8080];

fn v4_net(rng: &mut Rng) -> u32 {
    // Addresses from the whole IPv4 space, as block lists and remote peers are.
    rng.next() as u32
}

fn v6_net(rng: &mut Rng) -> u128 {
    (0x2001_0db8u128 << 96) | (u128::from(rng.below(4096) as u16) << 80) | u128::from(rng.next())
}

/// A realistic list: host and network blocks, service permits, ICMP rules, some time windows,
/// both families, and a final catch-all for established TCP.
fn make_rules(n: usize, rng: &mut Rng) -> Vec<Rule> {
    let mut rules = Vec::with_capacity(n);
    for i in 0..n.saturating_sub(1) {
        let v6 = rng.below(10) < 3;
        let family = if v6 { Family::V6 } else { Family::V4 };
        let bits = family.bits();
        let addr = |rng: &mut Rng| -> u128 {
            if v6 {
                v6_net(rng)
            } else {
                u128::from(v4_net(rng))
            }
        };
        let len = |rng: &mut Rng| -> u8 {
            let choices: [u8; 5] = if v6 {
                [128, 64, 56, 48, 32]
            } else {
                [32, 32, 32, 24, 16]
            };
            choices[rng.below(5) as usize]
        };
        let any = IpPrefix::any(family);
        let kind = rng.below(10);
        let mut r = Rule::any(i + 1, Action::Deny, Proto::Any);
        r.family = Some(family);
        r.src = any;
        r.dst = any;
        match kind {
            // Block lists: a source host or network, any protocol.
            0..=3 => {
                r.action = if rng.below(2) == 0 {
                    Action::Drop
                } else {
                    Action::Deny
                };
                let l = len(rng);
                r.src = IpPrefix::from_bits(family, addr(rng), l).unwrap_or(any);
            }
            // Services offered on a server.
            4..=6 => {
                r.action = Action::Permit;
                r.proto = if rng.below(4) == 0 {
                    Proto::Udp
                } else {
                    Proto::Tcp
                };
                r.dst = IpPrefix::from_bits(family, addr(rng), bits).unwrap_or(any);
                r.dport = Some(PortMatch {
                    op: PortOp::Eq,
                    value: PORTS[rng.below(PORTS.len() as u64) as usize],
                });
                if rng.below(3) == 0 {
                    let l = len(rng);
                    r.src = IpPrefix::from_bits(family, addr(rng), l.min(24)).unwrap_or(any);
                }
            }
            // Port ranges from a network.
            7 => {
                r.proto = Proto::Tcp;
                r.action = Action::Permit;
                r.src =
                    IpPrefix::from_bits(family, addr(rng), if v6 { 48 } else { 16 }).unwrap_or(any);
                r.dport = Some(PortMatch {
                    op: PortOp::Gt,
                    value: 1023,
                });
                r.established = rng.below(2) == 0;
            }
            // ICMP types.
            8 => {
                r.proto = Proto::Icmp;
                r.action = Action::Drop;
                r.dport = Some(PortMatch {
                    op: PortOp::Eq,
                    value: [5u16, 13, 8, 3][rng.below(4) as usize],
                });
                let l = len(rng);
                r.src = IpPrefix::from_bits(family, addr(rng), l).unwrap_or(any);
            }
            // Time-limited blocks.
            _ => {
                let l = len(rng);
                r.src = IpPrefix::from_bits(family, addr(rng), l).unwrap_or(any);
                r.window = Window::Daily {
                    start: 17 * 3600,
                    length: 14 * 3600,
                    not_before: None,
                    not_after: None,
                };
            }
        }
        rules.push(r);
    }
    let mut last = Rule::any(n, Action::Permit, Proto::Tcp);
    last.established = true;
    last.time = TimeSpec::default();
    rules.push(last);
    rules
}

/// Packets: half aimed at the rules' addresses and ports, half random traffic.
fn make_packets(n: usize, rules: &[Rule], rng: &mut Rng) -> Vec<Packet> {
    (0..n)
        .map(|_| {
            let v6 = rng.below(10) < 3;
            let aimed = rules.get(rng.below(rules.len() as u64) as usize);
            let pick = |rng: &mut Rng, p: Option<IpPrefix>| -> u128 {
                match p.filter(|p| (p.family() == Family::V6) == v6 && !p.is_empty()) {
                    Some(p) => {
                        let (lo, hi) = p.range();
                        lo + (u128::from(rng.next()) % (hi - lo).saturating_add(1).max(1))
                    }
                    None if v6 => v6_net(rng),
                    None => u128::from(v4_net(rng)),
                }
            };
            let aim = rng.below(2) == 0;
            let s = pick(rng, aimed.filter(|_| aim).map(|r| r.src));
            let d = pick(rng, aimed.filter(|_| aim).map(|r| r.dst));
            let (src, dst) = if v6 {
                (IpAddr::V6(Ipv6Addr::from(s)), IpAddr::V6(Ipv6Addr::from(d)))
            } else {
                (
                    IpAddr::V4(Ipv4Addr::from(s as u32)),
                    IpAddr::V4(Ipv4Addr::from(d as u32)),
                )
            };
            let protocol = [6u8, 6, 6, 17, 17, 1, 58, 47][rng.below(8) as usize];
            Packet {
                src,
                dst,
                protocol,
                src_port: 1024 + rng.below(60000) as u16,
                dst_port: if rng.below(2) == 0 {
                    PORTS[rng.below(PORTS.len() as u64) as usize]
                } else {
                    rng.below(65536) as u16
                },
                tcp_flags: [0x02u8, 0x10, 0x18, 0x04][rng.below(4) as usize],
                fragment_offset: if rng.below(50) == 0 { 185 } else { 0 },
                time: LocalTime(1_800_000_000 + rng.below(86_400) as i64),
                length: 64 + rng.below(1400) as u32,
            }
        })
        .collect()
}

/// Classifications per second of `f` over `packets`, running for about `budget`.
fn rate(packets: &[Packet], budget: Duration, mut f: impl FnMut(&Packet) -> u64) -> f64 {
    let mut done: u64 = 0;
    let mut sink = 0u64;
    let start = Instant::now();
    while start.elapsed() < budget {
        for p in packets {
            sink = sink.wrapping_add(f(black_box(p)));
        }
        done += packets.len() as u64;
    }
    black_box(sink);
    done as f64 / start.elapsed().as_secs_f64()
}

const ROUNDS: usize = 5;
const ROUND: Duration = Duration::from_millis(200);

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn verdict_code(v: filter::Verdict) -> u64 {
    match v.by {
        filter::Decided::Rule(i) => i as u64,
        filter::Decided::Implicit => 1 << 40,
        filter::Decided::LaterFragment => 1 << 41,
    }
}

fn human(r: f64) -> String {
    if r >= 1e6 {
        format!("{:.1}M/s", r / 1e6)
    } else {
        format!("{:.0}k/s", r / 1e3)
    }
}

/// The process's peak resident set (VmHWM) in bytes, from /proc (Linux only).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument filters by size name.
    let filter_arg: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // First, while the process is small: how much the peak RSS grows while compiling 10,000
    // rules (the builder's temporary index included), against the 64 MB target.
    if filter_arg
        .as_deref()
        .is_none_or(|f| "filter-peak-rss-10k".contains(f))
    {
        let rules = make_rules(10_000, &mut Rng(7));
        let before = peak_rss();
        let compiled = Classifier::compile(&rules);
        let after = peak_rss();
        black_box(&compiled);
        if let (Some(b), Some(a)) = (before, after) {
            let mb = (a.saturating_sub(b)) as f64 / (1024.0 * 1024.0);
            println!(
                "bench: filter-peak-rss-10k ours={mb:.1}MB peer=64MB ratio={:.2}",
                64.0 / mb.max(0.1)
            );
        }
    }
    for (name, n) in [
        ("filter-10", 10usize),
        ("filter-100", 100),
        ("filter-1k", 1000),
        ("filter-10k", 10_000),
    ] {
        if filter_arg.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        let rules = make_rules(n, &mut rng);
        let packets = make_packets(4096, &rules, &mut rng);
        let compiled = Classifier::compile(&rules);
        // The two must agree before their speeds mean anything.
        for p in &packets {
            assert_eq!(compiled.classify(p), reference(&rules, p));
        }
        // Alternate ours and the peer over several rounds and keep the medians, so a burst of
        // load from other builds on the shared machine skews neither side alone.
        let mut ours_r = Vec::new();
        let mut peer_r = Vec::new();
        for round in 0..ROUNDS {
            ours_r.push(rate(&packets, ROUND, |p| {
                verdict_code(compiled.classify(p))
            }));
            peer_r.push(rate(&packets, ROUND, |p| {
                verdict_code(reference(&rules, p))
            }));
            eprintln!(
                "{name} round {round}: ours={} peer={}",
                human(ours_r[round]),
                human(peer_r[round])
            );
        }
        let ours = median(&mut ours_r);
        let peer = median(&mut peer_r);
        println!(
            "bench: {name} ours={} peer={} ratio={:.2}",
            human(ours),
            human(peer),
            ours / peer
        );
    }
    if filter_arg
        .as_deref()
        .is_none_or(|f| "filter-compile-10k".contains(f))
    {
        let rules = make_rules(10_000, &mut rng);
        let mut times = Vec::new();
        let mut compiled = Classifier::compile(&rules[..1]);
        for _ in 0..ROUNDS {
            let start = Instant::now();
            compiled = Classifier::compile(&rules);
            times.push(start.elapsed().as_secs_f64() * 1e3);
        }
        let ms = median(&mut times);
        let mb = compiled.memory() as f64 / (1024.0 * 1024.0);
        // Peers here are the targets: 1 s and 64 MB.
        println!(
            "bench: filter-compile-10k ours={ms:.0}ms peer=1000ms ratio={:.2}",
            1000.0 / ms
        );
        println!(
            "bench: filter-memory-10k ours={mb:.1}MB peer=64MB ratio={:.2}",
            64.0 / mb
        );
    }
}
