//! Balancer pick (`balance::View::pick`) for each algorithm: flat in the number of clusters
//! (the view is indexed), linear in the backends of the chosen sub-cluster (every algorithm
//! walks them, as nginx's and BFE's do).

use std::hint::black_box;
use std::time::Duration;

use bfe_bench::{SIZES, clusters_snapshot};
use bfe_config::cluster::Balance;
use bfe_dataplane::balance::View;
use bfe_dataplane::health::Health;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

fn pick_by_clusters(c: &mut Criterion) {
    let mut g = c.benchmark_group("balance_pick_clusters");
    for n in SIZES {
        let snap = clusters_snapshot(n, 4, Balance::Wrr);
        let health = Health::default();
        let view = View::build(&snap, &health, None, None);
        let idx = n / 2;
        let cluster = snap.clusters[idx].clone();
        g.bench_with_input(BenchmarkId::new("wrr_4_backends", n), &n, |b, _| {
            b.iter(|| view.pick(black_box(idx), &cluster, 0, black_box(12345), &[]))
        });
    }
    g.finish();
}

fn pick_by_backends(c: &mut Criterion) {
    let mut g = c.benchmark_group("balance_pick_backends");
    for n in [10, 100, 1_000] {
        for (name, balance) in [
            ("wrr", Balance::Wrr),
            ("wlc", Balance::Wlc),
            ("sticky", Balance::Sticky),
        ] {
            let snap = clusters_snapshot(1, n, balance);
            let health = Health::default();
            let view = View::build(&snap, &health, None, None);
            let cluster = snap.clusters[0].clone();
            let mut key = 0u64;
            g.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| {
                    key = key.wrapping_add(0x9e37_79b9_7f4a_7c15);
                    view.pick(0, &cluster, 0, black_box(key), &[])
                })
            });
        }
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(800))
        .sample_size(20)
}

criterion_group! { name = benches; config = config(); targets = pick_by_clusters, pick_by_backends }
criterion_main!(benches);
