//! Watching every API call: the `X-RateLimit-*` headers (a plain counter per
//! calendar-aligned period, not enforced unless a test sets an enforced limit
//! through `/_fake/rate-limit`: then each API key gets that many requests per
//! period and a 429 like Datadog's past it) and the request log served by
//! `GET /_fake/requests`.
//!
//! The log holds method, path, query, status and the injected fault; never a
//! header value or a body, so keys and AWS secrets cannot leak through it.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::app::AppState;
use crate::faults::{AppliedFault, DropConnection};
use crate::state::lock;

/// Requests per period we advertise (an observed live value).
const RATE_LIMIT: u64 = 12_000;
/// Period length in seconds (live periods are calendar-aligned).
const RATE_PERIOD: u64 = 60;
/// Bucket name we advertise.
const RATE_NAME: &str = "aws_integration";
/// Oldest entries are dropped past this, so a long sandbox run stays small.
const LOG_CAPACITY: usize = 10_000;

/// What the rate-limit headers of one answer say.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RateLimitSnapshot {
    pub(crate) remaining: u64,
    pub(crate) reset_seconds: u64,
}

/// The five headers for a snapshot.
pub(crate) fn rate_limit_headers(s: &RateLimitSnapshot) -> [(HeaderName, String); 5] {
    [
        (
            HeaderName::from_static("x-ratelimit-limit"),
            RATE_LIMIT.to_string(),
        ),
        (
            HeaderName::from_static("x-ratelimit-period"),
            RATE_PERIOD.to_string(),
        ),
        (
            HeaderName::from_static("x-ratelimit-remaining"),
            s.remaining.to_string(),
        ),
        (
            HeaderName::from_static("x-ratelimit-reset"),
            s.reset_seconds.to_string(),
        ),
        (
            HeaderName::from_static("x-ratelimit-name"),
            RATE_NAME.to_owned(),
        ),
    ]
}

/// An enforced limit: at most `limit` requests per API key in each calendar-aligned
/// period of `period_seconds`, as Datadog's rate limiter counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EnforcedLimit {
    pub(crate) limit: u64,
    pub(crate) period_seconds: u64,
}

#[derive(Debug, Default)]
pub(crate) struct RateCounter {
    inner: Mutex<(u64, u64)>,
    enforced: Mutex<Option<EnforcedLimit>>,
    /// API key -> (period index, requests in it), while a limit is enforced.
    per_key: Mutex<std::collections::HashMap<String, (u64, u64)>>,
}

/// What an enforced limit says of one request.
struct Verdict {
    limit: EnforcedLimit,
    snapshot: RateLimitSnapshot,
    over: bool,
}

impl RateCounter {
    /// The enforced limit, if any.
    pub(crate) fn enforced(&self) -> Option<EnforcedLimit> {
        *lock(&self.enforced)
    }

    /// Enforces `limit` from now on (`None`: advertise only, as by default).
    pub(crate) fn enforce(&self, limit: Option<EnforcedLimit>) {
        *lock(&self.enforced) = limit;
        lock(&self.per_key).clear();
    }

    /// Counts one request of `key` against the enforced limit, if there is one.
    fn check(&self, key: &str) -> Option<Verdict> {
        let limit = self.enforced()?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let period = limit.period_seconds.max(1);
        let window = now / period;
        let mut keys = lock(&self.per_key);
        let slot = keys.entry(key.to_owned()).or_insert((window, 0));
        if slot.0 != window {
            *slot = (window, 0);
        }
        slot.1 += 1;
        Some(Verdict {
            limit,
            snapshot: RateLimitSnapshot { remaining: limit.limit.saturating_sub(slot.1), reset_seconds: (window + 1) * period - now },
            over: slot.1 > limit.limit,
        })
    }

    /// Counts one request in the current period.
    fn hit(&self) -> RateLimitSnapshot {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let window = now / RATE_PERIOD;
        let mut g = lock(&self.inner);
        if g.0 != window {
            *g = (window, 0);
        }
        g.1 += 1;
        RateLimitSnapshot {
            remaining: RATE_LIMIT.saturating_sub(g.1),
            reset_seconds: (window + 1) * RATE_PERIOD - now,
        }
    }
}

/// One logged API call.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LogEntry {
    seq: u64,
    method: String,
    /// As sent, still percent-encoded (so `%22<uuid>%22` stays visible).
    path: String,
    query: Option<String>,
    /// `None` when the connection was dropped by a fault.
    status: Option<u16>,
    fault: Option<String>,
    fault_id: Option<u64>,
}

#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    inner: Mutex<LogInner>,
}

#[derive(Debug, Default)]
struct LogInner {
    entries: VecDeque<LogEntry>,
    next_seq: u64,
    dropped: u64,
}

/// `GET /_fake/requests` body.
#[derive(Debug, Serialize)]
pub(crate) struct LogDump {
    requests: Vec<LogEntry>,
    /// Entries discarded because the log was full.
    discarded: u64,
}

impl RequestLog {
    fn record(&self, mut e: LogEntry) {
        let mut g = lock(&self.inner);
        g.next_seq += 1;
        e.seq = g.next_seq;
        if g.entries.len() == LOG_CAPACITY {
            g.entries.pop_front();
            g.dropped += 1;
        }
        g.entries.push_back(e);
    }

    pub(crate) fn dump(&self) -> LogDump {
        let g = lock(&self.inner);
        LogDump {
            requests: g.entries.iter().cloned().collect(),
            discarded: g.dropped,
        }
    }

    pub(crate) fn clear(&self) {
        *lock(&self.inner) = LogInner::default();
    }
}

/// Middleware around every API route: counts, stamps headers, logs.
pub(crate) async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let snapshot = state.rate.hit();
    let key = req.headers().get("dd-api-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let verdict = state.rate.check(&key);
    let mut resp = match &verdict {
        // Over the enforced limit: Datadog's 429, before anything else happens.
        Some(v) if v.over => too_many_requests(v),
        _ => next.run(req).await,
    };
    let (advertised, limits) = match &verdict {
        Some(v) => (v.snapshot, Some(v.limit)),
        None => (snapshot, None),
    };
    // An injected 429 set its own Remaining/Reset; keep those.
    for (name, value) in rate_limit_headers(&advertised) {
        let value = match (name.as_str(), limits) {
            ("x-ratelimit-limit", Some(l)) => l.limit.to_string(),
            ("x-ratelimit-period", Some(l)) => l.period_seconds.to_string(),
            _ => value,
        };
        if !resp.headers().contains_key(&name) {
            if let Ok(v) = HeaderValue::from_str(&value) {
                resp.headers_mut().insert(name, v);
            }
        }
    }
    let limited = verdict.as_ref().is_some_and(|v| v.over);
    let fault = resp.extensions().get::<AppliedFault>().cloned();
    let dropped = resp.extensions().get::<DropConnection>().is_some();
    let status = (!dropped).then(|| resp.status().as_u16());
    if state.config.verbose {
        let shown = status.map_or_else(|| "dropped".to_owned(), |s| s.to_string());
        eprintln!("fake-datadog: {method} {path} -> {shown}");
    }
    state.log.record(LogEntry {
        seq: 0,
        method,
        path,
        query,
        status,
        fault_id: fault.as_ref().map(|f| f.id),
        fault: fault.map(|f| f.label).or_else(|| limited.then(|| "rate limit".to_owned())),
    });
    resp
}

/// Datadog's answer past the limit: 429, `{"errors":["Too many requests"]}`, and
/// the rate-limit headers saying when the period resets.
fn too_many_requests(v: &Verdict) -> Response {
    let mut resp = (axum::http::StatusCode::TOO_MANY_REQUESTS, axum::Json(serde_json::json!({"errors": ["Too many requests"]})))
        .into_response();
    for (name, value) in [
        ("x-ratelimit-limit", v.limit.limit.to_string()),
        ("x-ratelimit-period", v.limit.period_seconds.to_string()),
        ("x-ratelimit-remaining", "0".to_owned()),
        ("x-ratelimit-reset", v.snapshot.reset_seconds.max(1).to_string()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            resp.headers_mut().insert(HeaderName::from_static(name), value);
        }
    }
    resp
}
