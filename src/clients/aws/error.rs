//! AWS errors, read from the SDK's error metadata (code, message, request id), never
//! from its terse `Display`.

use std::time::Duration;

use crate::clients::retry::{Cancelled, Classify, Retry};

/// A failed AWS call.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// The StackSet (or operation) does not exist.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// AWS answered with an error.
    #[error("{operation}: {code}: {message}{}", request_id.as_ref().map(|r| format!(" (request id {r})")).unwrap_or_default())]
    Service {
        /// The API operation, e.g. `CreateStackInstances`.
        operation: &'static str,
        /// AWS's error code, e.g. `OperationInProgressException`.
        code: String,
        /// AWS's message.
        message: String,
        /// For support cases.
        request_id: Option<String>,
    },
    /// No answer: connection, timeout, credentials.
    #[error("{operation}: {message}")]
    Transport {
        /// The API operation.
        operation: &'static str,
        /// The whole cause chain.
        message: String,
    },
    /// Terraform asked us to stop.
    #[error("cancelled: Terraform asked the provider to stop")]
    Cancelled,
}

impl AwsError {
    /// AWS's error code, when AWS answered.
    #[must_use]
    pub fn code(&self) -> Option<&str> {
        match self {
            AwsError::Service { code, .. } => Some(code),
            _ => None,
        }
    }
}

const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "ServiceUnavailable",
    "InternalFailure",
    "InternalError",
    "ConcurrentModificationException",
];

impl Classify for AwsError {
    fn classify(&self) -> Retry {
        match self {
            AwsError::Service { code, .. } if code == "OperationInProgressException" => {
                // Another operation (auto-deployment, another caller) holds the
                // StackSet: wait a while rather than hammering it.
                Retry::After(Duration::from_millis(crate::env::poll_interval(Duration::from_secs(10)).as_millis() as u64))
            }
            AwsError::Service { code, .. } if THROTTLING.contains(&code.as_str()) => Retry::Backoff,
            AwsError::Transport { .. } => Retry::Backoff,
            _ => Retry::Fatal,
        }
    }
}

impl Cancelled for AwsError {
    fn cancelled() -> Self {
        AwsError::Cancelled
    }
}
