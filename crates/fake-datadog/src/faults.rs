//! Fault injection: a queue of one-shot (or N-shot) faults registered via
//! `POST /_fake/faults`, matched against each API request in registration
//! order, and the middleware that applies the first match: an error status,
//! added latency, or a dropped connection.
//!
//! A drop cannot be expressed as an HTTP response, so the middleware answers
//! with a placeholder carrying [`DropConnection`]; `server.rs` turns that into
//! a service error, which makes hyper close the connection unanswered.

use std::sync::Mutex;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::app::AppState;
use crate::errors::{json_response, JSON, JSON_API};
use crate::observe::{rate_limit_headers, RateLimitSnapshot};
use crate::state::lock;

/// Response extension telling the connection layer to close the connection
/// without answering. Route tests see it on the response; a real socket
/// sees the connection reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DropConnection;

/// Response extension naming the fault that shaped a response, for the
/// request log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AppliedFault {
    pub(crate) id: u64,
    pub(crate) label: String,
}

/// A fault as registered by a test.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub(crate) struct FaultSpec {
    /// HTTP method to match (any when absent), case-insensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    method: Option<String>,
    /// Path pattern; `*` matches exactly one segment (any when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(flatten)]
    kind: FaultKind,
    /// How many matching requests it affects before it is used up.
    #[serde(default = "one")]
    count: u32,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum FaultKind {
    /// Answer this status instead of calling the handler.
    Status {
        status: u16,
        /// `X-RateLimit-Reset` of an injected 429, in seconds.
        #[serde(default = "one_u64")]
        reset_seconds: u64,
        /// Body to send instead of the default error document.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<Value>,
    },
    /// Wait, then handle the request normally.
    Latency { ms: u64 },
    /// Close the connection without an answer.
    Drop,
}

fn one_u64() -> u64 {
    1
}

/// A registered fault and how many uses it has left.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Fault {
    id: u64,
    #[serde(flatten)]
    spec: FaultSpec,
    remaining: u32,
}

#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    inner: Mutex<Queue>,
}

#[derive(Debug, Default)]
struct Queue {
    faults: Vec<Fault>,
    next_id: u64,
}

impl FaultSpec {
    /// Checks what serde cannot: sensible numbers and a parseable method.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.count == 0 {
            return Err("count must be at least 1".into());
        }
        if let Some(m) = &self.method {
            Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                .map_err(|_| format!("invalid method {m:?}"))?;
        }
        if let Some(p) = &self.path {
            if !p.starts_with('/') {
                return Err(format!("path must start with '/': {p:?}"));
            }
        }
        if let FaultKind::Status { status, .. } = self.kind {
            if !(400..=599).contains(&status) {
                return Err(format!("status must be 400..=599, got {status}"));
            }
        }
        Ok(())
    }

    fn matches(&self, method: &Method, path: &str) -> bool {
        let method_ok = self
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()));
        method_ok && self.path.as_deref().is_none_or(|p| path_matches(p, path))
    }
}

/// Segment-wise match where `*` stands for exactly one segment.
fn path_matches(pattern: &str, path: &str) -> bool {
    let mut pat = pattern.split('/');
    let mut got = path.split('/');
    loop {
        match (pat.next(), got.next()) {
            (None, None) => return true,
            (Some(p), Some(g)) if p == "*" || p == g => {}
            _ => return false,
        }
    }
}

impl FaultQueue {
    pub(crate) fn add(&self, spec: FaultSpec) -> Fault {
        let mut q = lock(&self.inner);
        q.next_id += 1;
        let fault = Fault {
            id: q.next_id,
            remaining: spec.count,
            spec,
        };
        q.faults.push(fault.clone());
        fault
    }

    pub(crate) fn pending(&self) -> Vec<Fault> {
        lock(&self.inner).faults.clone()
    }

    pub(crate) fn clear(&self) {
        lock(&self.inner).faults.clear();
    }

    /// Uses up one shot of the first matching fault, if any.
    fn take(&self, method: &Method, path: &str) -> Option<Fault> {
        let mut q = lock(&self.inner);
        let idx = q.faults.iter().position(|f| f.spec.matches(method, path))?;
        let f = &mut q.faults[idx];
        f.remaining -= 1;
        let taken = f.clone();
        if taken.remaining == 0 {
            q.faults.remove(idx);
        }
        Some(taken)
    }
}

/// Middleware: applies the first matching fault to an API request.
pub(crate) async fn inject(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(fault) = state.faults.take(req.method(), req.uri().path()) else {
        return next.run(req).await;
    };
    let label = match &fault.spec.kind {
        FaultKind::Latency { ms } => format!("latency:{ms}ms"),
        FaultKind::Drop => "drop".to_owned(),
        FaultKind::Status { status, .. } => format!("status:{status}"),
    };
    let mut resp = match &fault.spec.kind {
        FaultKind::Latency { ms } => {
            tokio::time::sleep(Duration::from_millis(*ms)).await;
            next.run(req).await
        }
        FaultKind::Drop => {
            let mut r = StatusCode::INTERNAL_SERVER_ERROR.into_response();
            r.extensions_mut().insert(DropConnection);
            r
        }
        FaultKind::Status {
            status,
            reset_seconds,
            body,
        } => injected_status(*status, *reset_seconds, body.as_ref()),
    };
    resp.extensions_mut().insert(AppliedFault {
        id: fault.id,
        label,
    });
    resp
}

fn injected_status(status: u16, reset_seconds: u64, body: Option<&Value>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if code == StatusCode::TOO_MANY_REQUESTS {
        // The spec's APIErrorResponse (the live 429 body is unverified).
        let default = json!({"errors": ["Too many requests"]});
        let mut r = json_response(code, body.unwrap_or(&default), JSON);
        let snap = RateLimitSnapshot {
            remaining: 0,
            reset_seconds,
        };
        for (name, value) in rate_limit_headers(&snap) {
            if let Ok(v) = HeaderValue::from_str(&value) {
                r.headers_mut().insert(name, v);
            }
        }
        return r;
    }
    let default = json!({"errors": [{
        "status": code.as_str(),
        "title": code.canonical_reason().unwrap_or("Error"),
        "detail": "fault injected by fake-datadog",
    }]});
    json_response(code, body.unwrap_or(&default), JSON_API)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> FaultSpec {
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"))
    }

    #[test]
    fn star_matches_exactly_one_segment() {
        let cases = [
            ("same", "/a/b", "/a/b", true),
            ("star", "/a/*", "/a/x", true),
            ("star-quoted-id", "/a/*", "/a/%22x%22", true),
            ("star-not-two", "/a/*", "/a/x/y", false),
            ("star-not-zero", "/a/*", "/a", false),
            ("prefix-only", "/a", "/a/b", false),
        ];
        for (name, pat, path, want) in cases {
            assert_eq!(path_matches(pat, path), want, "{name}");
        }
    }

    #[test]
    fn first_match_is_used_up_in_order() {
        let q = FaultQueue::default();
        q.add(spec(r#"{"kind":"status","status":429,"count":2}"#));
        q.add(spec(r#"{"kind":"drop","method":"delete"}"#));
        let get = Method::GET;
        let del = Method::DELETE;
        let ids: Vec<_> = [&get, &get, &del, &get, &del]
            .into_iter()
            .map(|m| q.take(m, "/x").map(|f| f.id))
            .collect();
        assert_eq!(ids, vec![Some(1), Some(1), Some(2), None, None]);
    }

    #[test]
    fn rejects_nonsense() {
        let bad = [
            r#"{"kind":"status","status":200}"#,
            r#"{"kind":"status","status":503,"count":0}"#,
            r#"{"kind":"drop","path":"no-slash"}"#,
            r#"{"kind":"drop","method":"GE T"}"#,
        ];
        for b in bad {
            assert!(spec(b).validate().is_err(), "{b}");
        }
        assert!(serde_json::from_str::<FaultSpec>(r#"{"kind":"explode"}"#).is_err());
        assert!(serde_json::from_str::<FaultSpec>(r#"{"kind":"latency"}"#).is_err());
    }
}
