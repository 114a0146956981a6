//! Answers statistics queries: merges the stored records of a time range (HDR histograms
//! merge exactly) into counts, rates, error ratios and latency percentiles.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::store::StatsRow;

/// Merged statistics of one group of records.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatsSummary {
    pub requests: u64,
    /// Requests per second over the queried range.
    pub rate: f64,
    /// Share of requests answered 5xx or not answered at all.
    pub error_ratio: f64,
    pub request_bytes: u64,
    pub response_bytes: u64,
    pub by_status_class: BTreeMap<String, u64>,
    pub errors: BTreeMap<String, u64>,
    /// Latency percentiles in milliseconds (none without requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_ms: Option<f64>,
}

/// The whole answer: a total and the same per tenant/cluster/backend.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatsReport {
    pub from_ms: i64,
    pub to_ms: i64,
    pub total: StatsSummary,
    /// Keyed by `tenant/cluster/backend` (empty parts are `-`).
    pub groups: BTreeMap<String, StatsSummary>,
}

#[derive(Default)]
struct Acc {
    summary: StatsSummary,
    hist: Option<Histogram<u64>>,
}

impl Acc {
    fn add(&mut self, r: &StatsRow, decoded: Option<&Histogram<u64>>) {
        let n = u64::try_from(r.requests).unwrap_or(0);
        let s = &mut self.summary;
        s.requests += n;
        s.request_bytes += u64::try_from(r.request_bytes).unwrap_or(0);
        s.response_bytes += u64::try_from(r.response_bytes).unwrap_or(0);
        *s.by_status_class.entry(r.status_class.clone()).or_default() += n;
        if let Ok(errors) = serde_json::from_str::<BTreeMap<String, u64>>(&r.errors) {
            for (code, count) in errors {
                *s.errors.entry(code).or_default() += count;
            }
        }
        if let Some(h) = decoded {
            match &mut self.hist {
                Some(acc) => {
                    let _ = acc.add(h);
                }
                None => self.hist = Some(h.clone()),
            }
        }
    }

    fn finish(mut self, seconds: f64) -> StatsSummary {
        let s = &mut self.summary;
        if s.requests > 0 {
            let failed = s.by_status_class.get("5xx").copied().unwrap_or(0)
                + s.by_status_class.get("none").copied().unwrap_or(0);
            s.error_ratio = failed as f64 / s.requests as f64;
        }
        s.rate = if seconds > 0.0 {
            s.requests as f64 / seconds
        } else {
            0.0
        };
        if let Some(h) = self.hist.filter(|h| !h.is_empty()) {
            let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
            s.p50_ms = Some(ms(0.50));
            s.p95_ms = Some(ms(0.95));
            s.p99_ms = Some(ms(0.99));
        }
        self.summary
    }
}

/// Merges `rows` from the range [from, to).
pub fn summarize(rows: &[StatsRow], from_ms: i64, to_ms: i64) -> StatsReport {
    let mut total = Acc::default();
    let mut groups: BTreeMap<String, Acc> = BTreeMap::new();
    let mut de = Deserializer::new();
    for r in rows {
        let decoded = decode_hex(&r.latency_hdr)
            .and_then(|bytes| de.deserialize::<u64, _>(&mut &bytes[..]).ok());
        total.add(r, decoded.as_ref());
        let dash = |s: &str| {
            if s.is_empty() {
                "-".to_owned()
            } else {
                s.to_owned()
            }
        };
        let key = format!(
            "{}/{}/{}",
            dash(&r.tenant),
            dash(&r.cluster),
            dash(&r.backend)
        );
        groups.entry(key).or_default().add(r, decoded.as_ref());
    }
    let seconds = (to_ms - from_ms).max(1) as f64 / 1000.0;
    StatsReport {
        from_ms,
        to_ms,
        total: total.finish(seconds),
        groups: groups
            .into_iter()
            .map(|(k, a)| (k, a.finish(seconds)))
            .collect(),
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}
