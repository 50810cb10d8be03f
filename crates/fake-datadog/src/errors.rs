//! Every error answer the fake gives, in the exact shapes recorded from the
//! live API: JSON:API error objects (`{"errors":[{"status","title",…}]}`)
//! for AWS v2 errors, and the spec's string list (`{"errors":["…"]}`) for
//! authentication failures and rate limiting.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

/// `Content-Type` of every v2 answer, as observed live (errors included).
pub(crate) const JSON_API: &str = "application/vnd.api+json";
/// `Content-Type` of v1 answers and of the string-list error bodies.
pub(crate) const JSON: &str = "application/json";

/// A failed API call, carrying what its body needs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ApiError {
    /// Wrong or missing `DD-API-KEY` / `DD-APPLICATION-KEY`.
    Forbidden,
    /// v1 validate without any `DD-API-KEY` header (live text).
    ApiKeyRequired,
    /// Path id that is not a UUID.
    InvalidConfigId,
    /// Unknown config id.
    AccountNotFound,
    /// A second config for the same `aws_account_id`.
    AccountExists,
    /// A field failed validation; `meta` maps the field to why, like the
    /// live `{"aws_partition":"invalid partition: aws-invalid"}`.
    InvalidValue { field: String, message: String },
    /// The body is not the JSON:API document the operation expects.
    BadBody(String),
    /// An `external_id` this fake never issued.
    InvalidExternalId,
    /// PATCH changing role-based auth to keys or back.
    AuthSwitch,
    /// No such route.
    RouteNotFound,
}

impl ApiError {
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidValue {
            field: field.into(),
            message: message.into(),
        }
    }

    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Self::Forbidden | Self::ApiKeyRequired => StatusCode::FORBIDDEN,
            Self::AccountNotFound | Self::RouteNotFound => StatusCode::NOT_FOUND,
            Self::AccountExists => StatusCode::CONFLICT,
            Self::InvalidConfigId
            | Self::InvalidValue { .. }
            | Self::BadBody(_)
            | Self::InvalidExternalId
            | Self::AuthSwitch => StatusCode::BAD_REQUEST,
        }
    }

    fn body(&self) -> (Value, &'static str) {
        let item = |title: &str, detail: &str| json!({"status": self.status().as_str(), "title": title, "detail": detail});
        let one = |v: Value| json!({ "errors": [v] });
        match self {
            Self::Forbidden => (json!({"errors": ["Forbidden"]}), JSON),
            Self::ApiKeyRequired => (json!({"errors": ["API key required"]}), JSON),
            Self::InvalidConfigId => (
                one(item(
                    "Invalid Parameter",
                    "invalid parameter \"aws_account_config_id\" in \"path\"; expected type \"uuid\"",
                )),
                JSON_API,
            ),
            Self::AccountNotFound => (
                one(item(
                    "Account not found",
                    "AWS account with provided id is not integrated",
                )),
                JSON_API,
            ),
            Self::AccountExists => (
                one(item(
                    "Account already exists",
                    "AWS account with provided id already exists",
                )),
                JSON_API,
            ),
            Self::InvalidValue { field, message } => {
                let mut v = item("Bad Request", "invalid value");
                let mut meta = Map::new();
                meta.insert(field.clone(), Value::String(message.clone()));
                v["meta"] = Value::Object(meta);
                (one(v), JSON_API)
            }
            Self::BadBody(why) => (one(item("Bad Request", why)), JSON_API),
            Self::InvalidExternalId => (one(item("Bad Request", "invalid External ID")), JSON_API),
            // Live sends this one without a `status` member.
            Self::AuthSwitch => (
                one(json!({
                    "title": "Generic Error",
                    "detail": "cannot switch between role and key based auth",
                })),
                JSON_API,
            ),
            Self::RouteNotFound => (one(item("Not Found", "no such route")), JSON_API),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (body, content_type) = self.body();
        json_response(self.status(), &body, content_type)
    }
}

/// A JSON answer with an explicit content type (axum's `Json` would force
/// `application/json`, but v2 answers `application/vnd.api+json`).
pub(crate) fn json_response<T: serde::Serialize>(
    status: StatusCode,
    body: &T,
    content_type: &'static str,
) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut resp = (status, bytes).into_response();
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            resp
        }
        // Our own types always serialize; if one ever does not, say so
        // instead of answering a half-written document.
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("fake-datadog bug: cannot serialize response: {e}"),
        )
            .into_response(),
    }
}
