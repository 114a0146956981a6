//! Host lookup, route lookup and condition evaluation at 10, 1,000 and 10,000 hosts/rules.
//! Host lookup and basic routes are hash probes and must stay flat. Advanced rules are an
//! ordered first-match list indexed by the hosts their `req_host_in` allows, so with one rule
//! per host `advanced_last` (only the last rule matches) must stay flat too; rules without a
//! host constraint are still evaluated in order for every request.

use std::hint::black_box;
use std::time::Duration;

use bfe_bench::{
    FakeFacts, RuleHit, SIZES, TYPICAL_CONDITIONS, advanced_request, advanced_rules_snapshot,
    basic_rules_snapshot, host, hosts_snapshot,
};
use bfe_config::TenantId;
use bfe_config::cond::Condition;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

fn host_lookup(c: &mut Criterion) {
    let mut g = c.benchmark_group("host_lookup");
    for n in SIZES {
        let snap = hosts_snapshot(n);
        let exact = format!("{}:8080", host(n / 2)).to_uppercase();
        let wildcard = format!("a.b.w{}.example.com", n / 2);
        g.bench_with_input(BenchmarkId::new("exact", n), &n, |b, _| {
            b.iter(|| snap.hosts.lookup(black_box(Some(exact.as_str())), None))
        });
        g.bench_with_input(BenchmarkId::new("wildcard", n), &n, |b, _| {
            b.iter(|| snap.hosts.lookup(black_box(Some(wildcard.as_str())), None))
        });
        g.bench_with_input(BenchmarkId::new("miss_default", n), &n, |b, _| {
            b.iter(|| {
                snap.hosts
                    .lookup(black_box(Some("nobody.example.org")), None)
            })
        });
    }
    g.finish();
}

fn route_lookup(c: &mut Criterion) {
    let mut g = c.benchmark_group("route_find");
    for n in SIZES {
        let snap = basic_rules_snapshot(n);
        let tenant = snap.tenant(TenantId(0));
        let req = FakeFacts::typical(&host(n / 2), "/api/v1/items");
        g.bench_with_input(BenchmarkId::new("basic", n), &n, |b, _| {
            b.iter(|| {
                tenant
                    .routes
                    .find(black_box(&req.host), black_box(&req.path), &req)
            })
        });

        let snap = advanced_rules_snapshot(n);
        let tenant = snap.tenant(TenantId(0));
        for (name, hit) in [
            ("advanced_first", RuleHit::First),
            ("advanced_last", RuleHit::Last),
        ] {
            let req = advanced_request(n, hit);
            assert!(tenant.routes.find(&req.host, &req.path, &req).is_some());
            g.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| {
                    tenant
                        .routes
                        .find(black_box(&req.host), black_box(&req.path), &req)
                })
            });
        }
    }
    g.finish();
}

fn condition_eval(c: &mut Criterion) {
    let mut g = c.benchmark_group("condition_eval");
    let req = FakeFacts::typical("www.example.com", "/api/v1/items");
    for (name, src) in TYPICAL_CONDITIONS {
        let cond = match Condition::compile(src) {
            Ok(c) => c,
            Err(e) => panic!("{name}: {e}"),
        };
        assert!(cond.eval(&req), "{name} should match the typical request");
        g.bench_function(name, |b| b.iter(|| cond.eval(black_box(&req))));
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(800))
        .sample_size(20)
}

criterion_group! { name = benches; config = config(); targets = host_lookup, route_lookup, condition_eval }
criterion_main!(benches);
