//! The names of Datadog's template parameters (v4.3.0), spelled once. The typed
//! attributes map onto these; `extra_parameters` may name any other.

pub(super) const API_KEY: &str = "DatadogApiKey";
pub(super) const APP_KEY: &str = "DatadogAppKey";
pub(super) const SITE: &str = "DatadogSite";
pub(super) const ROLE_NAME: &str = "IAMRoleName";
pub(super) const DISABLE_METRICS: &str = "DisableMetricCollection";
pub(super) const DISABLE_RESOURCES: &str = "DisableResourceCollection";
pub(super) const CSPM: &str = "CloudSecurityPostureManagement";

/// The two that hold Datadog keys: never logged, hashed or stored.
pub(super) const KEYS: [&str; 2] = [API_KEY, APP_KEY];

/// Template parameters that have their own attribute (not settable through
/// `extra_parameters`).
pub(super) const TYPED: &[&str] = &[API_KEY, APP_KEY, SITE, ROLE_NAME, DISABLE_METRICS, DISABLE_RESOURCES, CSPM];

/// Whether a parameter holds a Datadog key.
pub(super) fn is_key(name: &str) -> bool {
    KEYS.contains(&name)
}
