//! Consistent stickiness by weighted rendezvous hashing (HRW): each backend scores
//! `-weight / ln(u)` with `u` derived from hash(key, backend); the highest score wins. Removing
//! or failing a backend moves only the keys it owned; BFE's modulo hashing moved almost all.

use bfe_config::cluster::Backend;

pub(super) fn pick(
    backends: &[Backend],
    key: u64,
    eligible: &dyn Fn(usize) -> bool,
    weight: &dyn Fn(usize) -> u32,
) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, b) in backends.iter().enumerate() {
        if !eligible(i) {
            continue;
        }
        let h = mix(key ^ bfe_config::cond::murmur3_sum64(b.addr.as_bytes()));
        // u in (0, 1): 53 random bits, never 0.
        let u = ((h >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        let score = -f64::from(weight(i)) / u.ln();
        if best.is_none_or(|(_, s)| score > s) {
            best = Some((i, score));
        }
    }
    best.map(|(i, _)| i)
}

/// splitmix64 finaliser: spreads the combined hash over all bits.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bfe_config::cluster::BackendId;

    fn backends(n: usize) -> Vec<Backend> {
        (0..n)
            .map(|i| {
                let addr: std::sync::Arc<str> = format!("10.0.0.{i}:80").into();
                Backend {
                    id: BackendId(addr.clone()),
                    addr,
                    weight: 1,
                    name: None,
                }
            })
            .collect()
    }

    #[test]
    fn removing_one_backend_moves_only_its_clients() {
        let all = backends(10);
        let keys: Vec<u64> = (0..10_000u64)
            .map(|k| bfe_config::cond::murmur3_sum64(&k.to_le_bytes()))
            .collect();
        let before: Vec<usize> = keys
            .iter()
            .map(|&k| pick(&all, k, &|_| true, &|_| 1).unwrap())
            .collect();
        // Backend 3 goes away.
        let after: Vec<usize> = keys
            .iter()
            .map(|&k| pick(&all, k, &|i| i != 3, &|_| 1).unwrap())
            .collect();
        let unrelated = before.iter().filter(|&&b| b != 3).count();
        let stayed = before
            .iter()
            .zip(&after)
            .filter(|(b, a)| **b != 3 && b == a)
            .count();
        assert_eq!(stayed, unrelated, "every client of another backend stays");
        // Shares are even: each backend gets 10% ± 2%.
        for b in 0..10 {
            let share = before.iter().filter(|&&x| x == b).count() as f64 / 10_000.0;
            assert!((share - 0.1).abs() < 0.02, "backend {b}: {share}");
        }
    }

    #[test]
    fn weights_skew_the_shares() {
        let all = backends(2);
        let n = 20_000u64;
        let heavy = (0..n)
            .filter(|k| {
                pick(
                    &all,
                    bfe_config::cond::murmur3_sum64(&k.to_le_bytes()),
                    &|_| true,
                    &|i| if i == 0 { 3 } else { 1 },
                ) == Some(0)
            })
            .count() as f64
            / n as f64;
        assert!((heavy - 0.75).abs() < 0.02, "{heavy}");
    }
}
