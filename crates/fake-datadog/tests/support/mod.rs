//! Test helpers: drive the fake's router in-process with `oneshot` (no
//! socket) and read answers as JSON.

#![allow(dead_code)] // each test file uses a different subset

pub(crate) mod openapi;

use axum::body::{to_bytes, Body};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use fake_datadog::{router, Config, DropConnection};
use serde_json::{json, Value};
use tower::ServiceExt;

pub(crate) const API_KEY: &str = "test-api-key-0123";
pub(crate) const APP_KEY: &str = "test-app-key-4567";
pub(crate) const ACCOUNTS: &str = "/api/v2/integration/aws/accounts";

/// Which key headers a request carries.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Keys {
    Both,
    ApiOnly,
    None,
    WrongApp,
}

/// One answer, decoded.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) raw: String,
    /// `Value::Null` for an empty body.
    pub(crate) json: Value,
    /// The fault layer asked for the connection to be dropped.
    pub(crate) dropped: bool,
}

impl Reply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn id(&self) -> String {
        self.json["data"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub(crate) fn attrs(&self) -> &Value {
        &self.json["data"]["attributes"]
    }
}

/// A fake under test.
#[derive(Debug, Clone)]
pub(crate) struct Fake {
    app: Router,
}

impl Fake {
    pub(crate) fn new() -> Self {
        Self::with(Config::new(API_KEY, APP_KEY))
    }

    pub(crate) fn with(config: Config) -> Self {
        Self {
            app: router(config),
        }
    }

    pub(crate) async fn send(
        &self,
        method: &str,
        uri: &str,
        body: Option<&Value>,
        keys: Keys,
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(uri);
        match keys {
            Keys::Both => {
                req = req
                    .header("DD-API-KEY", API_KEY)
                    .header("DD-APPLICATION-KEY", APP_KEY)
            }
            Keys::ApiOnly => req = req.header("DD-API-KEY", API_KEY),
            Keys::WrongApp => {
                req = req
                    .header("DD-API-KEY", API_KEY)
                    .header("DD-APPLICATION-KEY", "nope")
            }
            Keys::None => {}
        }
        let body = match body {
            Some(v) => {
                req = req.header("Content-Type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let req = req
            .body(body)
            .unwrap_or_else(|e| panic!("bad test request: {e}"));
        let resp = match self.app.clone().oneshot(req).await {
            Ok(r) => r,
            Err(never) => match never {},
        };
        let status = resp.status();
        let headers = resp.headers().clone();
        let dropped = resp.extensions().get::<DropConnection>().is_some();
        let bytes = to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap_or_else(|e| panic!("reading body: {e}"));
        let raw = String::from_utf8_lossy(&bytes).into_owned();
        let json = if raw.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&raw).unwrap_or_else(|e| panic!("not JSON ({e}): {raw}"))
        };
        Reply {
            status,
            headers,
            raw,
            json,
            dropped,
        }
    }

    /// An API call with both keys.
    pub(crate) async fn api(&self, method: &str, uri: &str, body: Option<&Value>) -> Reply {
        self.send(method, uri, body, Keys::Both).await
    }

    /// An admin call (no keys needed).
    pub(crate) async fn admin(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        self.send(method, &format!("/_fake{path}"), body, Keys::None)
            .await
    }

    /// Creates an account and returns its config id; panics unless 200.
    pub(crate) async fn create(&self, attributes: Value) -> Reply {
        let r = self.api("POST", ACCOUNTS, Some(&doc(attributes))).await;
        assert_eq!(r.status, StatusCode::OK, "create failed: {}", r.raw);
        r
    }
}

/// `{"data":{"type":"account","attributes":…}}`
pub(crate) fn doc(attributes: Value) -> Value {
    json!({"data": {"type": "account", "attributes": attributes}})
}

/// The minimal role-based create body (what the StackSet Lambda omits, the
/// server fills in).
pub(crate) fn role_account(aws_account_id: &str) -> Value {
    json!({
        "aws_account_id": aws_account_id,
        "aws_partition": "aws",
        "auth_config": {"role_name": "DatadogIntegrationRole"},
    })
}

pub(crate) fn is_lower_hex32(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
