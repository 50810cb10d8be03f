//! Key checks: every v2 route needs both `DD-API-KEY` and
//! `DD-APPLICATION-KEY` equal to the configured keys; `GET /api/v1/validate`
//! checks only the API key, as live does. Key values are compared, never
//! logged or echoed.

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::errors::ApiError;

pub(crate) const API_KEY_HEADER: &str = "dd-api-key";
pub(crate) const APP_KEY_HEADER: &str = "dd-application-key";

/// Whether `name` is present and equal to `want`.
pub(crate) fn header_is(headers: &HeaderMap, name: &str, want: &str) -> bool {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == want)
}

/// Middleware for v2 routes: 403 `{"errors":["Forbidden"]}` unless both keys
/// match (the live v2 auth-failure body is unverified; this is the spec's).
pub(crate) async fn require_keys(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let h = req.headers();
    if header_is(h, API_KEY_HEADER, &state.config.api_key)
        && header_is(h, APP_KEY_HEADER, &state.config.app_key)
    {
        next.run(req).await
    } else {
        ApiError::Forbidden.into_response()
    }
}
