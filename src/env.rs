//! Every environment variable the provider reads, in one place.

/// Datadog API key.
pub const API_KEY: &[&str] = &["DD_API_KEY", "DATADOG_API_KEY"];
/// Datadog application key.
pub const APP_KEY: &[&str] = &["DD_APP_KEY", "DATADOG_APP_KEY"];
/// Datadog site, e.g. `datadoghq.eu`.
pub const SITE: &[&str] = &["DD_SITE"];
/// Datadog API base URL, overriding the site's.
pub const API_URL: &[&str] = &["DD_HOST", "DATADOG_HOST"];
/// Test knob: seconds between polls of a wait (the real default suits real APIs).
pub const POLL_INTERVAL_MS: &str = "TF_DATADOG_POLL_INTERVAL_MS";

/// The first non-empty variable of `names`.
#[must_use]
pub fn first(names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
}

/// The poll interval for waits, honouring the test knob.
#[must_use]
pub fn poll_interval(default: std::time::Duration) -> std::time::Duration {
    std::env::var(POLL_INTERVAL_MS)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(std::time::Duration::from_millis)
        .unwrap_or(default)
}
