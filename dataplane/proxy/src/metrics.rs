//! The node's own Prometheus metrics, served on the admin listener at /metrics.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::pipeline::RequestCtx;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    tenant: String,
    cluster: String,
    status_class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TenantLabels {
    tenant: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConfigLabels {
    hash: String,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<TenantLabels, Histogram>,
    errors: Family<ErrorLabels, Counter>,
    pub connections_active: Gauge,
    pub connections_total: Counter,
    config_generation: Gauge,
    config_info: Family<ConfigLabels, Gauge>,
    reloads: Family<ResultLabels, Counter>,
}

// === impl Metrics ===

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("bfe");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Requests finished, by tenant, cluster and status class",
            requests.clone(),
        );
        let latency = Family::<TenantLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ])
        });
        registry.register(
            "request_duration_seconds",
            "Time from request head to last response byte",
            latency.clone(),
        );
        let errors = Family::<ErrorLabels, Counter>::default();
        registry.register(
            "request_errors",
            "Requests that failed, by error code",
            errors.clone(),
        );
        let connections_active = Gauge::default();
        registry.register(
            "connections_active",
            "Client connections open now",
            connections_active.clone(),
        );
        let connections_total = Counter::default();
        registry.register(
            "connections",
            "Client connections accepted",
            connections_total.clone(),
        );
        let config_generation = Gauge::default();
        registry.register(
            "config_generation",
            "Local install counter of the running configuration",
            config_generation.clone(),
        );
        let config_info = Family::<ConfigLabels, Gauge>::default();
        registry.register(
            "config_info",
            "The running configuration's hash (value 1)",
            config_info.clone(),
        );
        let reloads = Family::<ResultLabels, Counter>::default();
        registry.register(
            "config_reloads",
            "Configuration reload attempts by result",
            reloads.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            errors,
            connections_active,
            connections_total,
            config_generation,
            config_info,
            reloads,
        }
    }

    pub fn request_finished(&self, ctx: &RequestCtx) {
        let tenant = ctx.tenant_name().unwrap_or("-").to_owned();
        let status_class = match ctx.status {
            0 => "none",
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        self.requests
            .get_or_create(&RequestLabels {
                tenant: tenant.clone(),
                cluster: ctx.cluster_name().unwrap_or("-").to_owned(),
                status_class,
            })
            .inc();
        self.latency
            .get_or_create(&TenantLabels { tenant })
            .observe(ctx.started.elapsed().as_secs_f64());
        if let Some(e) = ctx.error {
            self.errors
                .get_or_create(&ErrorLabels { code: e.code() })
                .inc();
        }
    }

    pub fn config_installed(&self, generation: u64, hash: &str) {
        self.config_generation.set(generation as i64);
        self.config_info.clear();
        self.config_info
            .get_or_create(&ConfigLabels {
                hash: hash.to_owned(),
            })
            .set(1);
    }

    pub fn reload(&self, ok: bool) {
        let result = if ok { "ok" } else { "invalid" };
        self.reloads.get_or_create(&ResultLabels { result }).inc();
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
