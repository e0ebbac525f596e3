//! The filter server's correlation: events are kept per rule, source and destination, age out
//! after the rule's window, and when a rule's threshold is reached the source is blocked for
//! the rule's duration. Sans-I/O: the caller passes the time and applies the blocks.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::Duration;

use crate::blocks::{Block, BlockTable};
use crate::rule::{BlockKind, Event, Rule};

/// Sources tracked at once by default (per rule and destination); the oldest give way.
pub const DEFAULT_MAX_TRACKED: usize = 10_000;

/// What became of a reported event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// No rule counts this component's event from this source.
    NoRule,
    /// The rule that applies excludes this source.
    Excluded {
        /// The rule.
        rule: String,
    },
    /// Counted; `count` events within the rule's window so far.
    Counted {
        /// The rule.
        rule: String,
        /// Events in the window, this one included.
        count: u32,
    },
    /// The threshold was reached and this block is now in force.
    Blocked(Block),
    /// The source is already blocked for this traffic.
    AlreadyBlocked {
        /// The rule.
        rule: String,
    },
    /// The threshold was reached, but as many blocks as sources tracked are in force already:
    /// none more is set (a flood of forged sources must not grow the tables without bound).
    TableFull {
        /// The rule.
        rule: String,
    },
}

/// Counters of one rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RuleCounters {
    /// Events the rule judged (excluded ones too).
    pub events: u64,
    /// Events from excluded sources.
    pub excluded: u64,
    /// Blocks the rule set.
    pub blocks: u64,
}

/// Counters of the whole engine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Events reported.
    pub events: u64,
    /// Events no rule counts.
    pub unmatched: u64,
    /// Blocks set.
    pub blocks_set: u64,
    /// Blocks that ran out.
    pub blocks_expired: u64,
    /// Blocks an administrator removed.
    pub blocks_removed: u64,
    /// Tracked sources dropped to make room for new ones.
    pub evicted: u64,
    /// Blocks not set because the block table was full.
    pub blocks_refused: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct TrackKey {
    rule: usize,
    source: IpAddr,
    /// The destination address, and the port for a rule that blocks ports.
    destination: Option<(IpAddr, Option<u16>)>,
}

#[derive(Debug, Clone)]
struct Track {
    /// The times of the events still in the window (at most the threshold's number).
    times: VecDeque<Duration>,
}

impl Track {
    fn newest(&self) -> Duration {
        self.times.back().copied().unwrap_or_default()
    }
}

/// The filter server's state.
#[derive(Debug)]
pub struct Engine {
    rules: Vec<Rule>,
    rule_counters: Vec<RuleCounters>,
    tracks: HashMap<TrackKey, Track>,
    max_tracked: usize,
    blocks: Vec<Block>,
    next_id: u64,
    counters: Counters,
    /// The last block each rule set on each source: its length and end, for repeat offenders.
    offenses: HashMap<(usize, IpAddr), (Duration, Duration)>,
}

impl Engine {
    /// An engine with `rules` (judged in order) tracking at most `max_tracked` sources.
    pub fn new(rules: Vec<Rule>, max_tracked: usize) -> Engine {
        Engine {
            rule_counters: vec![RuleCounters::default(); rules.len()],
            rules,
            tracks: HashMap::new(),
            max_tracked: max_tracked.max(1),
            blocks: Vec::new(),
            next_id: 1,
            counters: Counters::default(),
            offenses: HashMap::new(),
        }
    }

    /// Replaces the rules (a reload): the blocks in force stay until they end, the events
    /// counted so far are forgotten.
    pub fn set_rules(&mut self, rules: Vec<Rule>, max_tracked: usize) {
        self.rule_counters = vec![RuleCounters::default(); rules.len()];
        self.rules = rules;
        self.tracks.clear();
        self.offenses.clear();
        self.max_tracked = max_tracked.max(1);
    }

    /// The rules, in order, with their counters.
    pub fn rules(&self) -> impl Iterator<Item = (&Rule, RuleCounters)> {
        self.rules.iter().zip(self.rule_counters.iter().copied())
    }

    /// The engine's counters.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Sources being tracked (per rule and destination).
    pub fn tracked(&self) -> usize {
        self.tracks.len()
    }

    /// The blocks in force, oldest first.
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    /// The data path's table of the blocks in force.
    pub fn table(&self) -> BlockTable {
        BlockTable::new(&self.blocks)
    }

    /// When the next block ends.
    pub fn poll_at(&self) -> Option<Duration> {
        self.blocks.iter().map(|b| b.until).min()
    }

    /// Judges one event at `now`.
    pub fn report(&mut self, event: &Event, now: Duration) -> Outcome {
        self.counters.events += 1;
        let Some(index) = self.rules.iter().position(|r| r.applies(event)) else {
            self.counters.unmatched += 1;
            return Outcome::NoRule;
        };
        let rule = &self.rules[index];
        let name = rule.name.clone();
        self.rule_counters[index].events += 1;
        if rule.excludes(event.source) {
            self.rule_counters[index].excluded += 1;
            return Outcome::Excluded { rule: name };
        }
        let (protocol, block_destination) = match rule.block {
            BlockKind::Source(p) => (p, None),
            BlockKind::Port => (event.protocol, event.destination),
        };
        // A port rule needs the port the events reached; without it, it blocks the transport.
        let candidate = Block {
            id: 0,
            rule: name.clone(),
            source: event.source,
            protocol,
            destination: block_destination,
            since: now,
            until: now + self.block_length(index, event.source, now),
        };
        if self.blocks.iter().any(|b| b.same_traffic(&candidate)) {
            return Outcome::AlreadyBlocked { rule: name };
        }
        let key = TrackKey {
            rule: index,
            source: event.source,
            destination: event
                .destination
                .map(|(ip, port)| (ip, matches!(rule.block, BlockKind::Port).then_some(port))),
        };
        let (threshold, window) = (rule.threshold, rule.window);
        if !self.tracks.contains_key(&key) && self.tracks.len() >= self.max_tracked {
            self.make_room(now);
        }
        let track = self.tracks.entry(key.clone()).or_insert_with(|| Track {
            times: VecDeque::new(),
        });
        while track
            .times
            .front()
            .is_some_and(|t| now.saturating_sub(*t) >= window)
        {
            track.times.pop_front();
        }
        track.times.push_back(now);
        while track.times.len() > threshold as usize {
            track.times.pop_front();
        }
        let count = track.times.len() as u32;
        if count < threshold {
            return Outcome::Counted { rule: name, count };
        }
        self.tracks.remove(&key);
        if self.blocks.len() >= self.max_tracked {
            self.counters.blocks_refused += 1;
            return Outcome::TableFull { rule: name };
        }
        let block = Block {
            id: self.next_id,
            ..candidate
        };
        self.next_id += 1;
        self.rule_counters[index].blocks += 1;
        self.counters.blocks_set += 1;
        self.remember_offense(index, &block, now);
        self.blocks.push(block.clone());
        Outcome::Blocked(block)
    }

    /// How long a block by rule `index` on `source` lasts: the rule's duration, or, for a
    /// repeat offender (blocked by the rule before, within `max_duration` of that block's
    /// end), `repeat_factor` times its last block, at most `max_duration`.
    fn block_length(&self, index: usize, source: IpAddr, now: Duration) -> Duration {
        let rule = &self.rules[index];
        let base = rule.duration;
        match self.offenses.get(&(index, source)) {
            Some(&(last_len, last_end))
                if rule.repeat_factor > 1 && now.saturating_sub(last_end) < rule.max_duration =>
            {
                last_len
                    .saturating_mul(rule.repeat_factor)
                    .min(rule.max_duration)
                    .max(base)
            }
            _ => base,
        }
    }

    /// Records `block` as rule `index`'s last on its source, keeping the record bounded: when
    /// it grows past the tracking bound, offenses forgotten by now (beyond `max_duration`
    /// after their block ended) go.
    fn remember_offense(&mut self, index: usize, block: &Block, now: Duration) {
        if self.rules[index].repeat_factor <= 1 {
            return;
        }
        if self.offenses.len() >= self.max_tracked {
            let rules = &self.rules;
            self.offenses.retain(|(r, _), (_, end)| {
                rules
                    .get(*r)
                    .is_some_and(|rule| now.saturating_sub(*end) < rule.max_duration)
            });
        }
        if self.offenses.len() < self.max_tracked {
            self.offenses.insert(
                (index, block.source),
                (block.until - block.since, block.until),
            );
        }
    }

    /// Puts back a block kept from before a restart, with `block.until` on this engine's
    /// clock; false (and nothing done) when it has ended by `now` or the same traffic is
    /// blocked already. It gets a new id.
    pub fn restore(&mut self, block: Block, now: Duration) -> bool {
        if block.until <= now || self.blocks.iter().any(|b| b.same_traffic(&block)) {
            return false;
        }
        self.blocks.push(Block {
            id: self.next_id,
            ..block
        });
        self.next_id += 1;
        true
    }

    /// Ends the blocks whose time is up at `now` and returns them.
    pub fn expire(&mut self, now: Duration) -> Vec<Block> {
        let (ended, kept): (Vec<Block>, Vec<Block>) = std::mem::take(&mut self.blocks)
            .into_iter()
            .partition(|b| b.until <= now);
        self.blocks = kept;
        self.counters.blocks_expired += ended.len() as u64;
        ended
    }

    /// Removes the blocks on `source` (all blocks with `None`) and returns them.
    pub fn unblock(&mut self, source: Option<IpAddr>) -> Vec<Block> {
        let (removed, kept): (Vec<Block>, Vec<Block>) = std::mem::take(&mut self.blocks)
            .into_iter()
            .partition(|b| source.is_none_or(|s| b.source == s));
        self.blocks = kept;
        self.counters.blocks_removed += removed.len() as u64;
        removed
    }

    /// Frees room for a new tracked source: first the sources whose events have all aged out,
    /// then, if that is not enough, the sixteenth of the table heard from least recently
    /// (so that a flood of new sources costs one scan per many events, not per event).
    fn make_room(&mut self, now: Duration) {
        let rules = &self.rules;
        self.tracks.retain(|k, t| {
            let window = rules.get(k.rule).map_or(Duration::ZERO, |r| r.window);
            now.saturating_sub(t.newest()) < window
        });
        if self.tracks.len() < self.max_tracked {
            return;
        }
        let mut ages: Vec<Duration> = self.tracks.values().map(Track::newest).collect();
        let n = (self.max_tracked / 16).max(1).min(ages.len());
        let (_, cut, _) = ages.select_nth_unstable(n - 1);
        let cut = *cut;
        let before = self.tracks.len();
        let mut left = n;
        self.tracks.retain(|_, t| {
            if left > 0 && t.newest() <= cut {
                left -= 1;
                false
            } else {
                true
            }
        });
        self.counters.evicted += (before - self.tracks.len()) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::Proto;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn rule(name: &str, threshold: u32, window: u64, block: BlockKind) -> Rule {
        Rule {
            name: name.into(),
            component: "snmp".into(),
            event: "auth-failure".into(),
            sources: Vec::new(),
            exclude: Vec::new(),
            destinations: Vec::new(),
            threshold,
            window: secs(window),
            block,
            duration: secs(600),
            repeat_factor: 1,
            max_duration: secs(600),
        }
    }

    fn event(source: [u8; 4]) -> Event {
        Event {
            component: "SNMP".into(),
            event: "auth-failure".into(),
            source: IpAddr::from(source),
            destination: Some((IpAddr::from([192, 0, 2, 2]), 161)),
            protocol: Proto::Udp,
        }
    }

    #[test]
    fn the_threshold_within_the_window_sets_a_block() {
        let mut e = Engine::new(vec![rule("snmp", 3, 60, BlockKind::Source(Proto::Ip))], 100);
        let ev = event([10, 0, 0, 1]);
        assert!(matches!(
            e.report(&ev, secs(0)),
            Outcome::Counted { count: 1, .. }
        ));
        assert!(matches!(
            e.report(&ev, secs(10)),
            Outcome::Counted { count: 2, .. }
        ));
        let Outcome::Blocked(b) = e.report(&ev, secs(20)) else {
            panic!("no block");
        };
        assert_eq!(
            (b.source, b.protocol, b.destination),
            (ev.source, Proto::Ip, None)
        );
        assert_eq!((b.since, b.until), (secs(20), secs(620)));
        assert!(matches!(
            e.report(&ev, secs(21)),
            Outcome::AlreadyBlocked { .. }
        ));
        assert!(e
            .table()
            .stops(ev.source, IpAddr::from([1, 1, 1, 1]), 6, Some(22)));
        assert_eq!(e.poll_at(), Some(secs(620)));
        assert!(e.expire(secs(619)).is_empty());
        assert_eq!(e.expire(secs(620)).len(), 1);
        assert!(e.blocks().is_empty() && e.table().is_empty());
        let c = e.counters();
        assert_eq!((c.events, c.blocks_set, c.blocks_expired), (4, 1, 1));
    }

    #[test]
    fn events_age_out_of_the_window() {
        let mut e = Engine::new(vec![rule("snmp", 3, 60, BlockKind::Source(Proto::Ip))], 100);
        let ev = event([10, 0, 0, 1]);
        // A mistyped password now and then never adds up.
        for t in [0, 50, 100, 150, 200] {
            let o = e.report(&ev, secs(t));
            assert!(
                matches!(o, Outcome::Counted { count, .. } if count <= 2),
                "{o:?}"
            );
        }
        assert!(e.blocks().is_empty());
    }

    #[test]
    fn sources_are_counted_apart_and_excluded_ones_not_at_all() {
        let mut r = rule("snmp", 2, 60, BlockKind::Source(Proto::Udp));
        r.exclude = vec!["10.1.0.0/16".parse().unwrap()];
        let mut e = Engine::new(vec![r], 100);
        assert!(matches!(
            e.report(&event([10, 0, 0, 1]), secs(0)),
            Outcome::Counted { count: 1, .. }
        ));
        assert!(matches!(
            e.report(&event([10, 0, 0, 2]), secs(0)),
            Outcome::Counted { count: 1, .. }
        ));
        for _ in 0..5 {
            assert!(matches!(
                e.report(&event([10, 1, 2, 3]), secs(1)),
                Outcome::Excluded { .. }
            ));
        }
        assert!(matches!(
            e.report(&event([10, 0, 0, 2]), secs(2)),
            Outcome::Blocked(_)
        ));
        let (rule, c) = e.rules().next().unwrap();
        assert_eq!(rule.name, "snmp");
        assert_eq!((c.events, c.excluded, c.blocks), (8, 5, 1));
    }

    #[test]
    fn the_first_rule_whose_sources_hold_the_address_judges() {
        let mut inside = rule("inside", 10, 60, BlockKind::Source(Proto::Ip));
        inside.sources = vec!["10.0.0.0/8".parse().unwrap()];
        let outside = rule("outside", 2, 60, BlockKind::Source(Proto::Ip));
        let mut e = Engine::new(vec![inside, outside], 100);
        for t in 0..5 {
            let o = e.report(&event([10, 0, 0, 1]), secs(t));
            assert!(
                matches!(&o, Outcome::Counted { rule, .. } if rule == "inside"),
                "{o:?}"
            );
        }
        e.report(&event([203, 0, 113, 1]), secs(0));
        let Outcome::Blocked(b) = e.report(&event([203, 0, 113, 1]), secs(1)) else {
            panic!("the outside rule did not block");
        };
        assert_eq!(b.rule, "outside");
        // Another component's events, or another event, match no rule.
        let mut other = event([203, 0, 113, 9]);
        other.component = "ftp".into();
        assert_eq!(e.report(&other, secs(2)), Outcome::NoRule);
        assert_eq!(e.counters().unmatched, 1);
    }

    #[test]
    fn rules_can_be_for_one_interfaces_addresses() {
        // Events on the external address count fast; on the internal one, slowly.
        let mut outside = rule("outside", 2, 60, BlockKind::Source(Proto::Ip));
        outside.destinations = vec!["192.0.2.0/24".parse().unwrap()];
        let inside = rule("inside", 10, 60, BlockKind::Source(Proto::Ip));
        let mut e = Engine::new(vec![outside, inside], 100);
        let mut ev = event([10, 0, 0, 1]);
        ev.destination = Some((IpAddr::from([10, 9, 9, 9]), 161));
        for t in 0..3 {
            let o = e.report(&ev, secs(t));
            assert!(
                matches!(&o, Outcome::Counted { rule, .. } if rule == "inside"),
                "{o:?}"
            );
        }
        ev.destination = Some((IpAddr::from([192, 0, 2, 2]), 161));
        e.report(&ev, secs(3));
        assert!(matches!(e.report(&ev, secs(4)), Outcome::Blocked(b) if b.rule == "outside"));
        // An event with no destination cannot be on that interface.
        ev.destination = None;
        ev.source = IpAddr::from([10, 0, 0, 2]);
        assert!(
            matches!(e.report(&ev, secs(5)), Outcome::Counted { rule, .. } if rule == "inside")
        );
    }

    #[test]
    fn a_port_rule_blocks_only_the_port_the_events_reached() {
        let mut e = Engine::new(vec![rule("snmp", 2, 60, BlockKind::Port)], 100);
        let ev = event([10, 0, 0, 1]);
        let mut other_port = ev.clone();
        other_port.destination = Some((IpAddr::from([192, 0, 2, 2]), 162));
        e.report(&ev, secs(0));
        // Events to another port are counted apart.
        assert!(matches!(
            e.report(&other_port, secs(0)),
            Outcome::Counted { count: 1, .. }
        ));
        let Outcome::Blocked(b) = e.report(&ev, secs(1)) else {
            panic!("no block");
        };
        assert_eq!(b.destination, ev.destination);
        let t = e.table();
        let us = IpAddr::from([192, 0, 2, 2]);
        assert!(t.stops(ev.source, us, 17, Some(161)));
        assert!(!t.stops(ev.source, us, 17, Some(162)));
        assert!(!t.stops(ev.source, us, 1, None), "pings still pass");
    }

    #[test]
    fn blocks_kept_over_a_restart_come_back_until_they_end() {
        let mut e = Engine::new(vec![rule("snmp", 1, 60, BlockKind::Source(Proto::Ip))], 100);
        let Outcome::Blocked(b) = e.report(&event([10, 0, 0, 1]), secs(0)) else {
            panic!("no block");
        };
        let mut again = Engine::new(vec![rule("snmp", 1, 60, BlockKind::Source(Proto::Ip))], 100);
        let kept = Block {
            since: secs(0),
            until: secs(30),
            ..b.clone()
        };
        assert!(again.restore(kept.clone(), secs(5)));
        assert!(
            !again.restore(kept.clone(), secs(5)),
            "the same traffic twice"
        );
        assert!(
            !again.restore(
                Block {
                    until: secs(4),
                    ..kept
                },
                secs(5)
            ),
            "ended"
        );
        assert!(again
            .table()
            .stops(b.source, IpAddr::from([1, 1, 1, 1]), 1, None));
        assert_eq!(again.expire(secs(30)).len(), 1);
    }

    #[test]
    fn repeat_offenders_get_longer_blocks_up_to_the_limit() {
        let mut r = rule("snmp", 1, 60, BlockKind::Source(Proto::Ip));
        r.duration = secs(60);
        r.repeat_factor = 3;
        r.max_duration = secs(400);
        let mut e = Engine::new(vec![r], 100);
        let ev = event([10, 0, 0, 1]);
        let mut at = secs(0);
        let mut lengths = Vec::new();
        for _ in 0..4 {
            let Outcome::Blocked(b) = e.report(&ev, at) else {
                panic!("no block at {at:?}");
            };
            lengths.push((b.until - b.since).as_secs());
            e.expire(b.until);
            at = b.until + secs(10);
        }
        assert_eq!(lengths, [60, 180, 400, 400]);
        // Long after the last block (beyond max_duration) the source starts over.
        let Outcome::Blocked(b) = e.report(&ev, at + secs(1000)) else {
            panic!("no block");
        };
        assert_eq!((b.until - b.since).as_secs(), 60);
        // Another source is not a repeat offender.
        let Outcome::Blocked(b) = e.report(&event([10, 0, 0, 2]), at + secs(1000)) else {
            panic!("no block");
        };
        assert_eq!((b.until - b.since).as_secs(), 60);
    }

    #[test]
    fn blocks_stop_at_the_tracking_bound() {
        let mut e = Engine::new(vec![rule("snmp", 1, 60, BlockKind::Source(Proto::Ip))], 3);
        for i in 0..3u8 {
            assert!(matches!(
                e.report(&event([10, 0, 0, i]), secs(0)),
                Outcome::Blocked(_)
            ));
        }
        assert!(matches!(
            e.report(&event([10, 0, 0, 9]), secs(0)),
            Outcome::TableFull { .. }
        ));
        assert_eq!((e.blocks().len(), e.counters().blocks_refused), (3, 1));
    }

    #[test]
    fn an_administrator_lifts_blocks() {
        let mut e = Engine::new(vec![rule("snmp", 1, 60, BlockKind::Source(Proto::Ip))], 100);
        e.report(&event([10, 0, 0, 1]), secs(0));
        e.report(&event([10, 0, 0, 2]), secs(0));
        assert_eq!(e.blocks().len(), 2);
        assert_eq!(e.unblock(Some(IpAddr::from([10, 0, 0, 1]))).len(), 1);
        assert_eq!(e.blocks()[0].source, IpAddr::from([10, 0, 0, 2]));
        assert_eq!(e.unblock(None).len(), 1);
        assert_eq!(e.counters().blocks_removed, 2);
    }

    #[test]
    fn a_flood_of_sources_stays_within_the_bound_and_blocks_still_happen() {
        let mut e = Engine::new(vec![rule("snmp", 3, 600, BlockKind::Source(Proto::Ip))], 64);
        let attacker = event([203, 0, 113, 7]);
        for i in 0..10_000u32 {
            let b = i.to_be_bytes();
            e.report(&event([10, b[1], b[2], b[3]]), secs(u64::from(i) / 100));
            assert!(e.tracked() <= 64);
            if i % 1000 == 0 {
                e.report(&attacker, secs(u64::from(i) / 100));
            }
        }
        // The attacker's events were spread out among thousands of others; three in a row
        // still block it.
        for _ in 0..3 {
            e.report(&attacker, secs(100));
        }
        assert!(e.blocks().iter().any(|b| b.source == attacker.source));
        assert!(e.counters().evicted > 0);
    }
}
