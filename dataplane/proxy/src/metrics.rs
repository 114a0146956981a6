//! The node's own Prometheus metrics, served on the admin listener at /metrics.

use std::sync::Arc;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::pipeline::RequestCtx;

/// A tenant, cluster or backend name as a label value: shares the snapshot's `Arc<str>`, so
/// counting a request clones pointers instead of allocating strings.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct Name(Arc<str>);

impl EncodeLabelValue for Name {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        (&*self.0).encode(encoder)
    }
}

impl Name {
    /// The same name object (a pointer comparison): names come from the snapshot.
    fn same(&self, other: &Name) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    fn or_dash(name: Option<&Arc<str>>) -> Self {
        static DASH: std::sync::LazyLock<Arc<str>> = std::sync::LazyLock::new(|| Arc::from("-"));
        Name(name.unwrap_or(&DASH).clone())
    }
}

/// A connection's cached metric handles (see [`Metrics::request_finished`]).
#[derive(Default)]
pub struct HandleCache(std::sync::Mutex<Option<Handles>>);

impl std::fmt::Debug for HandleCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HandleCache")
    }
}

/// The counters and histograms one (tenant, cluster, backend, status class) feeds. Handles
/// share their values with the registered families.
struct Handles {
    tenant: Name,
    cluster: Name,
    status_class: &'static str,
    requests: Counter,
    latency: Histogram,
    backend: Option<(Name, Counter, Histogram)>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    tenant: Name,
    cluster: Name,
    status_class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TenantLabels {
    tenant: Name,
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
    retries: Family<KindLabels, Counter>,
    actions: Family<ActionLabels, Counter>,
    backend_up: Family<BackendLabels, Gauge>,
    backend_active: Family<BackendLabels, Gauge>,
    backend_requests: Family<BackendStatusLabels, Counter>,
    backend_latency: Family<BackendLabels, Histogram>,
    tls_handshakes: Family<HandshakeLabels, Counter>,
    proxy_headers: Family<ResultLabels, Counter>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HandshakeLabels {
    /// `full`, `resumed`, or why it failed: `error`, `timeout`, `no_certificate`.
    result: &'static str,
    version: &'static str,
    protocol: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BackendLabels {
    backend: Name,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BackendStatusLabels {
    backend: Name,
    status_class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    module: &'static str,
    action: &'static str,
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
        let retries = Family::<KindLabels, Counter>::default();
        registry.register("retries", "Forwarding retries by kind", retries.clone());
        let tls_handshakes = Family::<HandshakeLabels, Counter>::default();
        registry.register(
            "tls_handshakes",
            "TLS handshakes by result, version and negotiated protocol",
            tls_handshakes.clone(),
        );
        let proxy_headers = Family::<ResultLabels, Counter>::default();
        registry.register(
            "proxy_protocol_headers",
            "PROXY protocol headers read, by result",
            proxy_headers.clone(),
        );
        let actions = Family::<ActionLabels, Counter>::default();
        registry.register(
            "module_actions",
            "Actions taken by modules",
            actions.clone(),
        );
        let backend_up = Family::<BackendLabels, Gauge>::default();
        registry.register(
            "backend_up",
            "1 when the backend is healthy, 0 when marked down",
            backend_up.clone(),
        );
        let backend_active = Family::<BackendLabels, Gauge>::default();
        registry.register(
            "backend_active_requests",
            "Requests in flight per backend",
            backend_active.clone(),
        );
        let backend_requests = Family::<BackendStatusLabels, Counter>::default();
        registry.register(
            "backend_requests",
            "Requests answered through each backend, by status class",
            backend_requests.clone(),
        );
        let backend_latency = Family::<BackendLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ])
        });
        registry.register(
            "backend_response_header_seconds",
            "Time from request start to the backend's response head",
            backend_latency.clone(),
        );
        Self {
            backend_up,
            backend_active,
            backend_requests,
            backend_latency,
            retries,
            tls_handshakes,
            proxy_headers,
            actions,
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
        let snapshot = &ctx.active.snapshot;
        let tenant = Name::or_dash(ctx.tenant.map(|t| &snapshot.tenant(t).name));
        let cluster = Name::or_dash(ctx.cluster.map(|c| &snapshot.cluster(c).name));
        let backend = ctx.backend.as_ref().map(|b| Name(b.addr.clone()));
        let status_class = ctx.status_class();
        // Requests of one connection mostly share tenant, cluster, backend and class: reuse the
        // handles found last time instead of hashing the label sets again.
        let mut cache = ctx
            .session
            .metric_handles
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let hit = cache.as_ref().is_some_and(|h| {
            h.status_class == status_class
                && h.tenant.same(&tenant)
                && h.cluster.same(&cluster)
                && match (&h.backend, &backend) {
                    (Some((a, _, _)), Some(b)) => a.same(b),
                    (None, None) => true,
                    _ => false,
                }
        });
        if !hit {
            *cache = Some(self.handles(tenant, cluster, backend, status_class));
        }
        if let Some(h) = cache.as_ref() {
            h.requests.inc();
            h.latency.observe(ctx.started.elapsed().as_secs_f64());
            if let Some((_, requests, latency)) = &h.backend {
                requests.inc();
                if let Some(at) = ctx.backend_header_at {
                    latency.observe(at.duration_since(ctx.started).as_secs_f64());
                }
            }
        }
        drop(cache);
        for (module, action) in &ctx.actions {
            self.actions
                .get_or_create(&ActionLabels { module, action })
                .inc();
        }
        if let Some(e) = ctx.error {
            self.errors
                .get_or_create(&ErrorLabels { code: e.code() })
                .inc();
        }
    }

    fn handles(
        &self,
        tenant: Name,
        cluster: Name,
        backend: Option<Name>,
        status_class: &'static str,
    ) -> Handles {
        let requests = self
            .requests
            .get_or_create(&RequestLabels {
                tenant: tenant.clone(),
                cluster: cluster.clone(),
                status_class,
            })
            .clone();
        let latency = self
            .latency
            .get_or_create(&TenantLabels {
                tenant: tenant.clone(),
            })
            .clone();
        let backend = backend.map(|b| {
            let requests = self
                .backend_requests
                .get_or_create(&BackendStatusLabels {
                    backend: b.clone(),
                    status_class,
                })
                .clone();
            let latency = self
                .backend_latency
                .get_or_create(&BackendLabels { backend: b.clone() })
                .clone();
            (b, requests, latency)
        });
        Handles {
            tenant,
            cluster,
            status_class,
            requests,
            latency,
            backend,
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

    /// Refreshes the per-backend gauges (called before each scrape).
    pub fn set_backends(&self, backends: &[(Arc<str>, bool, u32)]) {
        self.backend_up.clear();
        self.backend_active.clear();
        for (addr, up, active) in backends {
            let labels = BackendLabels {
                backend: Name(addr.clone()),
            };
            self.backend_up.get_or_create(&labels).set(i64::from(*up));
            self.backend_active
                .get_or_create(&labels)
                .set(i64::from(*active));
        }
    }

    /// One TLS handshake's outcome (`version`/`protocol` empty when it failed).
    pub fn tls_handshake(
        &self,
        result: &'static str,
        version: &'static str,
        protocol: &'static str,
    ) {
        self.tls_handshakes
            .get_or_create(&HandshakeLabels {
                result,
                version,
                protocol,
            })
            .inc();
    }

    /// One PROXY protocol read: `v1`/`v2`-less `ok`, `absent` (optional mode) or the error.
    pub fn proxy_header(&self, result: &'static str) {
        self.proxy_headers
            .get_or_create(&ResultLabels { result })
            .inc();
    }

    pub fn retry(&self, kind: &'static str) {
        self.retries.get_or_create(&KindLabels { kind }).inc();
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
