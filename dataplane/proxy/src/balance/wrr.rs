//! Smooth weighted round robin (nginx's algorithm, BFE's WrrSmooth): every pick adds each
//! eligible backend's weight to its current value, takes the largest, and subtracts the total
//! from it. Picks interleave (5:1:1 gives a a b a c a a) and shares are exact over each cycle.

use std::sync::Arc;

use bfe_config::cluster::Backend;

#[derive(Default)]
pub(super) struct SmoothWrr {
    /// Current values keyed by backend address, aligned with the last list seen.
    current: Vec<(Arc<str>, i64)>,
}

impl SmoothWrr {
    pub(super) fn pick(
        &mut self,
        backends: &[Backend],
        eligible: &dyn Fn(usize) -> bool,
        weight: &dyn Fn(usize) -> u32,
    ) -> Option<usize> {
        let same = self.current.len() == backends.len()
            && self
                .current
                .iter()
                .zip(backends)
                .all(|((a, _), b)| *a == b.addr);
        if !same {
            // The list changed (a swap): keep the values of backends still present.
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
        for i in 0..backends.len() {
            if !eligible(i) {
                continue;
            }
            let w = i64::from(weight(i));
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

    fn pick(w: &mut SmoothWrr, bs: &[Backend], ex: &[&str]) -> Option<usize> {
        w.pick(
            bs,
            &|i| bs[i].weight > 0 && !ex.contains(&&*bs[i].addr),
            &|i| bs[i].weight,
        )
    }

    #[test]
    fn shares_follow_weights_and_interleave() {
        let bs = [backend("a:1", 5), backend("b:1", 1), backend("c:1", 1)];
        let mut w = SmoothWrr::default();
        let picks: Vec<usize> = (0..7).map(|_| pick(&mut w, &bs, &[]).unwrap()).collect();
        assert_eq!(picks, [0, 0, 1, 0, 2, 0, 0], "nginx's documented sequence");
        let mut counts = [0usize; 3];
        for _ in 0..7000 {
            counts[pick(&mut w, &bs, &[]).unwrap()] += 1;
        }
        assert_eq!(counts, [5000, 1000, 1000]);
    }

    #[test]
    fn ten_thousand_picks_stay_within_two_percent_of_weights() {
        let bs = [
            backend("a:1", 3),
            backend("b:1", 2),
            backend("c:1", 7),
            backend("d:1", 11),
        ];
        let mut w = SmoothWrr::default();
        let mut counts = [0f64; 4];
        for _ in 0..10_000 {
            counts[pick(&mut w, &bs, &[]).unwrap()] += 1.0;
        }
        for (i, b) in bs.iter().enumerate() {
            let want = f64::from(b.weight) / 23.0;
            let got = counts[i] / 10_000.0;
            assert!(
                (got - want).abs() <= 0.02 * want.max(0.01) + 0.0005,
                "{}: {got} vs {want}",
                b.addr
            );
        }
    }

    #[test]
    fn excluded_and_zero_weight_backends_are_skipped() {
        let bs = [backend("a:1", 1), backend("b:1", 0), backend("c:1", 1)];
        let mut w = SmoothWrr::default();
        for _ in 0..10 {
            assert_eq!(pick(&mut w, &bs, &["a:1"]), Some(2));
        }
        assert_eq!(pick(&mut w, &bs, &["a:1", "c:1"]), None);
    }
}
