//! The test-control API under `/_fake/` (no keys, not logged, no faults):
//! health, fault registration, the request log, state reset, a raw store
//! dump and the shuffle switch. Documented with curl examples in README.md.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::faults::FaultSpec;

pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route(
            "/faults",
            get(list_faults).post(add_faults).delete(clear_faults),
        )
        .route("/requests", get(requests).delete(clear_requests))
        .route("/reset", post(reset))
        .route("/accounts", get(accounts))
        .route("/shuffle", get(shuffle_state).post(set_shuffle))
        .route("/rate-limit", get(get_rate_limit).post(set_rate_limit).delete(clear_rate_limit))
        .with_state(state)
}

fn bad_request(why: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": why }))).into_response()
}

async fn health(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "status": "ok",
        "shuffle_lists": state.shuffler.enabled(),
        "seed": state.shuffler.seed(),
    }))
}

/// `{"limit": N, "period_seconds": S}`: from now on each API key gets N requests
/// per S-second period, then 429s.
async fn set_rate_limit(State(state): State<AppState>, body: Bytes) -> Response {
    let limit: crate::observe::EnforcedLimit = match serde_json::from_slice(&body) {
        Ok(l) => l,
        Err(e) => return bad_request(format!("body is not {{\"limit\": N, \"period_seconds\": S}}: {e}")),
    };
    if limit.limit == 0 || limit.period_seconds == 0 {
        return bad_request("limit and period_seconds must be at least 1".to_owned());
    }
    state.rate.enforce(Some(limit));
    Json(json!({ "enforced": limit })).into_response()
}

async fn get_rate_limit(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "enforced": state.rate.enforced() }))
}

async fn clear_rate_limit(State(state): State<AppState>) -> StatusCode {
    state.rate.enforce(None);
    StatusCode::NO_CONTENT
}

/// Body is one fault object or an array of them (registered in order).
/// Content-Type is not required, so plain `curl -d` works.
async fn add_faults(State(state): State<AppState>, body: Bytes) -> Response {
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(format!("body is not JSON: {e}")),
    };
    let items = match value {
        Value::Array(items) => items,
        one => vec![one],
    };
    let mut specs = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let spec: FaultSpec = match serde_json::from_value(item) {
            Ok(s) => s,
            Err(e) => return bad_request(format!("fault {i}: {e}")),
        };
        if let Err(e) = spec.validate() {
            return bad_request(format!("fault {i}: {e}"));
        }
        specs.push(spec);
    }
    // All checked before any is added, so a bad batch adds nothing.
    let added: Vec<_> = specs.into_iter().map(|s| state.faults.add(s)).collect();
    (StatusCode::CREATED, Json(json!({ "faults": added }))).into_response()
}

async fn list_faults(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "faults": state.faults.pending() }))
}

async fn clear_faults(State(state): State<AppState>) -> StatusCode {
    state.faults.clear();
    StatusCode::NO_CONTENT
}

async fn requests(State(state): State<AppState>) -> Response {
    Json(state.log.dump()).into_response()
}

async fn clear_requests(State(state): State<AppState>) -> StatusCode {
    state.log.clear();
    StatusCode::NO_CONTENT
}

/// Forgets accounts, issued external IDs, faults and the log, and restarts
/// the shuffle RNG from its seed. The shuffle switch keeps its position.
async fn reset(State(state): State<AppState>) -> StatusCode {
    state.store.reset();
    state.faults.clear();
    state.log.clear();
    state.rate.enforce(None);
    state.shuffler.reseed();
    StatusCode::NO_CONTENT
}

async fn accounts(State(state): State<AppState>) -> Response {
    Json(state.store.dump()).into_response()
}

#[derive(Debug, Deserialize)]
struct ShuffleSwitch {
    enabled: bool,
}

async fn shuffle_state(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "enabled": state.shuffler.enabled() }))
}

async fn set_shuffle(State(state): State<AppState>, body: Bytes) -> Response {
    match serde_json::from_slice::<ShuffleSwitch>(&body) {
        Ok(s) => {
            state.shuffler.set_enabled(s.enabled);
            Json(json!({ "enabled": s.enabled })).into_response()
        }
        Err(e) => bad_request(format!("expected {{\"enabled\": bool}}: {e}")),
    }
}
