//! Errors of the Datadog API, parsed from both error shapes the API uses: the spec's
//! `{"errors":["text"]}` and the JSON:API objects the live service actually sends.

use std::time::Duration;

use crate::clients::retry::{Cancelled, Classify, Retry};

/// A failed Datadog call.
#[derive(Debug, thiserror::Error)]
pub enum DatadogError {
    /// The object does not exist (HTTP 404).
    #[error("not found (HTTP 404): {message}")]
    NotFound {
        /// Datadog's message.
        message: String,
    },
    /// The API answered with an error status.
    #[error("HTTP {status}: {message}")]
    Http {
        /// The status code.
        status: u16,
        /// Datadog's message, or the body when it could not be parsed.
        message: String,
        /// `X-RateLimit-Reset` on a 429.
        retry_after: Option<Duration>,
    },
    /// No answer: connection refused, reset, timed out.
    #[error("cannot reach Datadog at {url}: {message}")]
    Connect {
        /// The base URL (never with credentials).
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The answer was not what the API documents.
    #[error("unexpected answer from Datadog: {0}")]
    Decode(String),
    /// Terraform asked us to stop.
    #[error("cancelled: Terraform asked the provider to stop")]
    Cancelled,
}

impl Classify for DatadogError {
    fn classify(&self) -> Retry {
        match self {
            DatadogError::Http { status: 429, retry_after: Some(d), .. } => Retry::After(*d),
            DatadogError::Http { status, .. } if *status == 429 || *status >= 500 => Retry::Backoff,
            DatadogError::Connect { .. } => Retry::Backoff,
            _ => Retry::Fatal,
        }
    }
}

impl Cancelled for DatadogError {
    fn cancelled() -> Self {
        DatadogError::Cancelled
    }
}

/// The human text of an error body, from either shape; the raw body when neither fits.
#[must_use]
pub fn error_message(body: &str) -> String {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(body) else {
        return body.chars().take(500).collect();
    };
    let Some(errors) = json.get("errors").and_then(|e| e.as_array()) else {
        return body.chars().take(500).collect();
    };
    let parts: Vec<String> = errors
        .iter()
        .map(|e| match e {
            serde_json::Value::String(s) => s.clone(),
            obj => {
                let title = obj.get("title").and_then(|t| t.as_str()).unwrap_or_default();
                let detail = obj.get("detail").and_then(|t| t.as_str()).unwrap_or_default();
                let meta = obj.get("meta").map(|m| format!(" {m}")).unwrap_or_default();
                match (title.is_empty(), detail.is_empty()) {
                    (false, false) => format!("{title}: {detail}{meta}"),
                    (true, false) => format!("{detail}{meta}"),
                    _ => format!("{title}{meta}"),
                }
            }
        })
        .collect();
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_error_shapes_read_as_text() {
        assert_eq!(error_message(r#"{"errors":["Forbidden"]}"#), "Forbidden");
        assert_eq!(
            error_message(r#"{"errors":[{"status":"404","title":"Account not found","detail":"AWS account with provided id is not integrated"}]}"#),
            "Account not found: AWS account with provided id is not integrated"
        );
        assert_eq!(error_message(r#"{"errors":[{"title":"Generic Error","detail":"cannot switch"}]}"#), "Generic Error: cannot switch");
        assert_eq!(error_message("<html>bad gateway</html>"), "<html>bad gateway</html>");
    }

    #[test]
    fn throttling_and_server_errors_retry_client_errors_do_not() {
        let e = |status| DatadogError::Http { status, message: String::new(), retry_after: None };
        assert_eq!(e(429).classify(), Retry::Backoff);
        assert_eq!(e(503).classify(), Retry::Backoff);
        assert_eq!(e(400).classify(), Retry::Fatal);
        assert_eq!(DatadogError::NotFound { message: String::new() }.classify(), Retry::Fatal);
        let throttled = DatadogError::Http { status: 429, message: String::new(), retry_after: Some(Duration::from_secs(3)) };
        assert_eq!(throttled.classify(), Retry::After(Duration::from_secs(3)));
    }
}
