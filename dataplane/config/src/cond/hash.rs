//! The hash BFE buckets values with: Go `github.com/spaolacci/murmur3` `Sum64`, which is the
//! first 64-bit half (h1) of MurmurHash3 x64_128 with seed 0, taken `% 10000`.
//!
//! Written out (rather than calling the `murmur3` crate's `Read`-based API) so it can hash a
//! byte iterator: case-folded values are hashed without copying them. Tests pin it to
//! spaolacci's published vectors and cross-check it with the `murmur3` crate.

const C1: u64 = 0x87c3_7b91_1142_53d5;
const C2: u64 = 0x4cf5_ad43_2745_937f;

/// `Sum64(data)`. Also BFE's GSLB hash, so the data plane calls this one implementation.
pub fn sum64(data: &[u8]) -> u64 {
    sum64_iter(data.iter().copied(), data.len())
}

/// `Sum64` of the `len` bytes `bytes` yields (it must yield exactly `len`; missing bytes read
/// as zero, extra ones are ignored, so a wrong caller gets a wrong hash, never a panic).
pub(super) fn sum64_iter(mut bytes: impl Iterator<Item = u8>, len: usize) -> u64 {
    let mut next8 = |n: usize| {
        let mut b = [0u8; 8];
        for x in b.iter_mut().take(n) {
            *x = bytes.next().unwrap_or(0);
        }
        u64::from_le_bytes(b)
    };
    let (mut h1, mut h2) = (0u64, 0u64);
    for _ in 0..len / 16 {
        let (k1, k2) = (next8(8), next8(8));
        h1 ^= mix_k1(k1);
        h1 = h1
            .rotate_left(27)
            .wrapping_add(h2)
            .wrapping_mul(5)
            .wrapping_add(0x52dc_e729);
        h2 ^= mix_k2(k2);
        h2 = h2
            .rotate_left(31)
            .wrapping_add(h1)
            .wrapping_mul(5)
            .wrapping_add(0x3849_5ab5);
    }
    // The tail, zero-padded: bytes 0..8 feed k1, bytes 8..16 feed k2.
    let tail = len % 16;
    let k1 = next8(tail.min(8));
    let k2 = next8(tail.saturating_sub(8));
    if tail > 8 {
        h2 ^= mix_k2(k2);
    }
    if tail > 0 {
        h1 ^= mix_k1(k1);
    }
    h1 ^= len as u64;
    h2 ^= len as u64;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1.wrapping_add(h2)
}

/// The bucket (`0..10000`) of a value, ASCII-lower-cased first when `fold` (BFE lower-cases
/// case-insensitive hash values). Non-ASCII values are lower-cased with a copy (rare path).
pub(super) fn bucket(value: &[u8], fold: bool) -> u64 {
    let h = if !fold {
        sum64(value)
    } else if value.is_ascii() {
        sum64_iter(value.iter().map(u8::to_ascii_lowercase), value.len())
    } else {
        match std::str::from_utf8(value) {
            Ok(s) => sum64(s.to_lowercase().as_bytes()),
            Err(_) => sum64_iter(value.iter().map(u8::to_ascii_lowercase), value.len()),
        }
    };
    h % super::matcher::BUCKETS
}

fn mix_k1(k: u64) -> u64 {
    k.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2)
}

fn mix_k2(k: u64) -> u64 {
    k.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1)
}

fn fmix(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}
