//! Access log (BFE mod_access) at HandleRequestFinish: one JSON object or one NCSA combined
//! line per request. Lines go through a bounded queue to a writer task, so a slow disk never
//! stalls a request; when the queue is full the line is dropped and counted.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use bfe_config::Snapshot;
use bfe_config::modules::{AccessLogFormat, AccessLogTarget};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use super::{ChainBuilder, Module};
use crate::pipeline::{RequestCtx, RequestFinishFilter};

const QUEUE: usize = 65_536;

#[derive(Default)]
pub struct AccessLogModule {
    sinks: Mutex<HashMap<AccessLogTarget, Arc<Sink>>>,
}

struct Sink {
    tx: mpsc::Sender<String>,
    dropped: AtomicU64,
}

struct AccessLogFilter {
    format: AccessLogFormat,
    sink: Arc<Sink>,
}

impl Module for AccessLogModule {
    fn name(&self) -> &'static str {
        "access_log"
    }

    fn register(&self, snapshot: &Snapshot, chains: &mut ChainBuilder<'_>) {
        let Some(conf) = &snapshot.modules.access_log else {
            return;
        };
        let sink = {
            let mut sinks = self.sinks.lock().unwrap_or_else(|p| p.into_inner());
            sinks
                .entry(conf.target.clone())
                .or_insert_with(|| Sink::spawn(conf.target.clone()))
                .clone()
        };
        chains.request_finish(Arc::new(AccessLogFilter {
            format: conf.format,
            sink,
        }));
    }
}

impl RequestFinishFilter for AccessLogFilter {
    fn on_request_finish(&self, ctx: &RequestCtx) {
        let line = match self.format {
            AccessLogFormat::Json => json_line(ctx),
            AccessLogFormat::Combined => combined_line(ctx),
        };
        if self.sink.tx.try_send(line).is_err() {
            self.sink.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

// === impl Sink ===

impl Sink {
    fn spawn(target: AccessLogTarget) -> Arc<Self> {
        let (tx, mut rx) = mpsc::channel::<String>(QUEUE);
        tokio::spawn(async move {
            let mut out: Box<dyn tokio::io::AsyncWrite + Send + Unpin> = match &target {
                AccessLogTarget::Stdout => Box::new(tokio::io::stdout()),
                AccessLogTarget::File(path) => {
                    match tokio::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .await
                    {
                        Ok(f) => Box::new(f),
                        Err(e) => {
                            tracing::error!(path = %path.display(), error = %e, "Cannot open the access log; lines are discarded.");
                            while rx.recv().await.is_some() {}
                            return;
                        }
                    }
                }
            };
            let mut buf = String::new();
            while let Some(line) = rx.recv().await {
                buf.push_str(&line);
                buf.push('\n');
                // Batch whatever else is queued into one write.
                while let Ok(more) = rx.try_recv() {
                    buf.push_str(&more);
                    buf.push('\n');
                    if buf.len() > 64 * 1024 {
                        break;
                    }
                }
                if let Err(e) = async {
                    out.write_all(buf.as_bytes()).await?;
                    out.flush().await
                }
                .await
                {
                    tracing::warn!(error = %e, "Access log write failed.");
                }
                buf.clear();
            }
        });
        Arc::new(Self {
            tx,
            dropped: AtomicU64::new(0),
        })
    }
}

fn json_line(ctx: &RequestCtx) -> String {
    let header = |v: &Option<http::HeaderValue>| {
        v.as_ref()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    serde_json::json!({
        "time": rfc3339_now(),
        "client_ip": ctx.client_ip.to_string(),
        "remote_addr": ctx.session.peer.to_string(),
        "session_id": ctx.session.id,
        "req_nth": ctx.session.request_count(),
        "method": ctx.method.as_str(),
        "uri": ctx.uri.to_string(),
        "proto": format!("{:?}", ctx.version),
        "host": ctx.host_str(),
        "status": ctx.status,
        "request_bytes": ctx.request_body_bytes,
        "response_bytes": ctx.response_body_bytes,
        "duration_ms": ctx.started.elapsed().as_secs_f64() * 1000.0,
        "tenant": ctx.tenant_name(),
        "cluster": ctx.cluster_name(),
        "sub_cluster": ctx.sub_cluster.as_deref(),
        "backend": ctx.backend.as_ref().map(|b| &*b.addr),
        "attempts": ctx.attempts,
        "tried": ctx.tried.iter().map(|b| &**b).collect::<Vec<&str>>(),
        "error": ctx.error.map(|e| e.code()),
        "user_agent": header(&ctx.user_agent),
        "referer": header(&ctx.referer),
    })
    .to_string()
}

/// NCSA combined: `ip - - [time] "METHOD uri PROTO" status bytes "referer" "ua"`.
fn combined_line(ctx: &RequestCtx) -> String {
    let quoted = |v: &Option<http::HeaderValue>| match v {
        Some(v) => String::from_utf8_lossy(v.as_bytes()).replace('"', "\\\""),
        None => "-".to_owned(),
    };
    let mut line = String::with_capacity(160);
    let _ = write!(
        line,
        "{} - - [{}] \"{} {} {:?}\" {} {} \"{}\" \"{}\"",
        ctx.client_ip,
        clf_now(),
        ctx.method,
        ctx.uri,
        ctx.version,
        ctx.status,
        ctx.response_body_bytes,
        quoted(&ctx.referer),
        quoted(&ctx.user_agent),
    );
    line
}

/// (year, month, day, hour, minute, second, millis) in UTC.
fn now_utc() -> (i64, u32, u32, u64, u64, u64, u32) {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs();
    let (y, m, day) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    (
        y,
        m,
        day,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis(),
    )
}

fn rfc3339_now() -> String {
    let (y, mo, d, h, mi, s, ms) = now_utc();
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
}

fn clf_now() -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, mo, d, h, mi, s, _) = now_utc();
    let month = MONTHS.get(mo as usize - 1).copied().unwrap_or("Jan");
    format!("{d:02}/{month}/{y:04}:{h:02}:{mi:02}:{s:02} +0000")
}

/// Days since 1970-01-01 → (year, month, day); Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
