//! The Internet checksum (RFC 1071), the IPv4 pseudo-header, and incremental update (RFC 1624).
//!
//! [`accumulate`] sums big-endian 32-bit words, 16 bytes per step, into a `u64` and [`fold`]s the
//! carries only at the end; since 2^16 ≡ 1 (mod 2^16 − 1) this is the same one's complement sum as
//! adding 16-bit words one at a time. A `u64` cannot overflow for any buffer shorter than 2^32 × 4
//! bytes, far beyond any packet.

use std::net::Ipv4Addr;

/// The raw (unfolded) sum of `data` as big-endian 16-bit words, an odd last byte padded with zero.
#[inline]
pub fn accumulate(data: &[u8]) -> u64 {
    let mut acc: u64 = 0;
    let mut chunks = data.chunks_exact(16);
    for c in &mut chunks {
        acc += u64::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            + u64::from(u32::from_be_bytes([c[4], c[5], c[6], c[7]]))
            + u64::from(u32::from_be_bytes([c[8], c[9], c[10], c[11]]))
            + u64::from(u32::from_be_bytes([c[12], c[13], c[14], c[15]]));
    }
    let mut words = chunks.remainder().chunks_exact(2);
    for w in &mut words {
        acc += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        acc += u64::from(*last) << 8;
    }
    acc
}

/// Folds a raw sum to 16 bits with end-around carry (the one's complement sum, not inverted).
#[inline]
pub fn fold(mut acc: u64) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// The one's complement sum of `data` (not inverted). A received header verifies when the sum over
/// it, checksum field included, is `0xffff`.
#[inline]
pub fn sum(data: &[u8]) -> u16 {
    fold(accumulate(data))
}

/// The Internet checksum of `data`: the complement of [`sum`], ready to store in a header.
#[inline]
pub fn checksum(data: &[u8]) -> u16 {
    !sum(data)
}

/// Combines several partial one's complement sums (e.g. pseudo-header and segment).
#[inline]
pub fn combine(sums: &[u16]) -> u16 {
    fold(sums.iter().map(|&s| u64::from(s)).sum())
}

/// The one's complement sum (not inverted) of the IPv4 pseudo-header used by UDP and TCP:
/// source, destination, zero, protocol, and the transport length.
#[inline]
pub fn pseudo_header(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, length: u16) -> u16 {
    let s = src.octets();
    let d = dst.octets();
    let acc = u64::from(u16::from_be_bytes([s[0], s[1]]))
        + u64::from(u16::from_be_bytes([s[2], s[3]]))
        + u64::from(u16::from_be_bytes([d[0], d[1]]))
        + u64::from(u16::from_be_bytes([d[2], d[3]]))
        + u64::from(protocol)
        + u64::from(length);
    fold(acc)
}

/// RFC 1624 eqn. 3: the new checksum after one 16-bit word of the covered data changes from
/// `old_word` to `new_word`, without touching the rest: `HC' = ~(~HC + ~m + m')`.
///
/// For a TTL decrement the word is the TTL/protocol pair: `update16(c, ttl<<8|proto, (ttl-1)<<8|proto)`.
/// The result equals a full recomputation whenever the covered data is not all zeros.
#[inline]
pub fn update16(old_checksum: u16, old_word: u16, new_word: u16) -> u16 {
    let acc = u64::from(!old_checksum) + u64::from(!old_word) + u64::from(new_word);
    !fold(acc)
}

/// [`update16`] for a 32-bit field (an address rewritten by NAT, say): two word updates in one.
#[inline]
pub fn update32(old_checksum: u16, old: u32, new: u32) -> u16 {
    let acc = u64::from(!old_checksum)
        + u64::from(!(old >> 16) as u16)
        + u64::from(!(old as u16))
        + u64::from((new >> 16) as u16)
        + u64::from(new as u16);
    !fold(acc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The textbook reference: 16 bits at a time, carry folded every step.
    fn reference(data: &[u8]) -> u16 {
        let mut s: u32 = 0;
        let mut i = 0;
        while i + 1 < data.len() {
            s += u32::from(u16::from_be_bytes([data[i], data[i + 1]]));
            s = (s & 0xffff) + (s >> 16);
            i += 2;
        }
        if i < data.len() {
            s += u32::from(data[i]) << 8;
            s = (s & 0xffff) + (s >> 16);
        }
        s as u16
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3: the sum of these words is ddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(sum(&data), 0xddf2);
        assert_eq!(checksum(&data), !0xddf2);
    }

    #[test]
    fn known_ipv4_header() {
        // A classic example header with checksum b861.
        let h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(checksum(&h), 0xb861);
    }

    #[test]
    fn ttl_decrement() {
        let mut h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        let old = u16::from_be_bytes([h[8], h[9]]);
        h[8] -= 1;
        let new = u16::from_be_bytes([h[8], h[9]]);
        let c = update16(0xb861, old, new);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        assert_eq!(sum(&h), 0xffff);
        h[10] = 0;
        h[11] = 0;
        assert_eq!(checksum(&h), c);
    }

    proptest! {
        #[test]
        fn fast_equals_reference(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            prop_assert_eq!(sum(&data), reference(&data));
        }

        #[test]
        fn incremental_equals_recomputed(
            mut data in proptest::collection::vec(any::<u8>(), 4..64).prop_map(|mut v| { v[0] |= 0x40; v }),
            at in any::<prop::sample::Index>(),
            new_word in any::<u16>(),
        ) {
            if data.len() % 2 == 1 { data.push(0); }
            let words = data.len() / 2;
            // Word 0 stays non-zero so the data is never all zeros (see update16's note).
            let w = 1 + at.index(words - 1);
            let before = checksum(&data);
            let old_word = u16::from_be_bytes([data[2 * w], data[2 * w + 1]]);
            data[2 * w..2 * w + 2].copy_from_slice(&new_word.to_be_bytes());
            prop_assert_eq!(update16(before, old_word, new_word), checksum(&data));
        }

        #[test]
        fn incremental32_equals_recomputed(
            mut data in proptest::collection::vec(any::<u8>(), 8..9).prop_map(|mut v| { v[0] |= 0x40; v }),
            new in any::<u32>(),
        ) {
            let before = checksum(&data);
            let old = u32::from_be_bytes([data[4], data[5], data[6], data[7]]);
            data[4..8].copy_from_slice(&new.to_be_bytes());
            prop_assert_eq!(update32(before, old, new), checksum(&data));
        }

        #[test]
        fn pseudo_header_equals_bytes(s in any::<u32>(), d in any::<u32>(), p in any::<u8>(), l in any::<u16>()) {
            let (s, d) = (Ipv4Addr::from(s), Ipv4Addr::from(d));
            let mut b = [0u8; 12];
            b[0..4].copy_from_slice(&s.octets());
            b[4..8].copy_from_slice(&d.octets());
            b[9] = p;
            b[10..12].copy_from_slice(&l.to_be_bytes());
            prop_assert_eq!(pseudo_header(s, d, p, l), reference(&b));
        }
    }
}
