//! Smooth weighted round robin (nginx's algorithm, BFE's WrrSmooth): every pick adds each
//! weight to its backend's current value, takes the largest, and subtracts the total from it.
//! Picks interleave (a, a, b for 2:1 becomes a, b, a) and shares are exact over each cycle.

use std::sync::Arc;

use bfe_config::cluster::Backend;

#[derive(Default)]
pub(super) struct SmoothWrr {
    /// Current values, aligned with the backend list they were computed for.
    current: Vec<(Arc<str>, i64)>,
}

impl SmoothWrr {
    pub(super) fn pick(&mut self, backends: &[Backend], exclude: &[Arc<str>]) -> Option<usize> {
        let same = self.current.len() == backends.len()
            && self
                .current
                .iter()
                .zip(backends)
                .all(|((a, _), b)| *a == b.addr);
        if !same {
            // The list changed (a swap): keep current values of backends still present.
            let old = std::mem::take(&mut self.current);
            self.current = backends
                .iter()
                .map(|b| {
                    let cur = old
                        .iter()
                        .find(|(a, _)| *a == b.addr)
                        .map_or(0, |(_, c)| *c);
                    (b.addr.clone(), cur)
                })
                .collect();
        }
        let mut total = 0i64;
        let mut best: Option<usize> = None;
        for (i, b) in backends.iter().enumerate() {
            if b.weight == 0 || exclude.contains(&b.addr) {
                continue;
            }
            let w = i64::from(b.weight);
            self.current[i].1 += w;
            total += w;
            if best.is_none_or(|j| self.current[i].1 > self.current[j].1) {
                best = Some(i);
            }
        }
        let i = best?;
        self.current[i].1 -= total;
        Some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bfe_config::cluster::BackendId;

    fn backend(addr: &str, weight: u32) -> Backend {
        Backend {
            id: BackendId(addr.into()),
            addr: addr.into(),
            weight,
            name: None,
        }
    }

    #[test]
    fn shares_follow_weights_and_interleave() {
        let bs = [backend("a:1", 5), backend("b:1", 1), backend("c:1", 1)];
        let mut w = SmoothWrr::default();
        let picks: Vec<usize> = (0..7).map(|_| w.pick(&bs, &[]).unwrap()).collect();
        assert_eq!(picks, [0, 0, 1, 0, 2, 0, 0], "nginx's documented sequence");
        let mut counts = [0usize; 3];
        for _ in 0..7000 {
            counts[w.pick(&bs, &[]).unwrap()] += 1;
        }
        assert_eq!(counts, [5000, 1000, 1000]);
    }

    #[test]
    fn excluded_and_zero_weight_backends_are_skipped() {
        let bs = [backend("a:1", 1), backend("b:1", 0), backend("c:1", 1)];
        let mut w = SmoothWrr::default();
        let ex: Vec<Arc<str>> = vec!["a:1".into()];
        for _ in 0..10 {
            assert_eq!(w.pick(&bs, &ex), Some(2));
        }
        let all: Vec<Arc<str>> = vec!["a:1".into(), "c:1".into()];
        assert_eq!(w.pick(&bs, &all), None);
    }
}
