//! The provider block, read once. `validate` and `configure` both go through
//! [`ProviderConfig::read`], so a value one refuses the other cannot quietly
//! clamp or ignore. Unknown values (validate runs before they are known) read as
//! unset; environment fallbacks are applied by `configure` only.

#[cfg(test)]
use std::time::Duration;

use crate::clients::aws::{AssumeRole, AwsSettings, DEFAULT_RETRY};
use crate::clients::datadog::SITES;
use crate::clients::retry::RetryPolicy;
use crate::clients::secret::Secret;
use crate::plugin::{AttrPath, Diagnostics, Value};

/// Attempts a configuration may ask for: Datadog answers fast, while AWS's
/// StackSet APIs can keep answering `OperationInProgress` for minutes.
const MAX_DATADOG_ATTEMPTS: i64 = 20;
const MAX_AWS_ATTEMPTS: i64 = 100;

/// Everything the provider block says, typed.
#[derive(Debug, Clone)]
pub(super) struct ProviderConfig {
    pub api_key: Option<String>,
    pub app_key: Option<String>,
    pub site: Option<String>,
    pub api_url: Option<String>,
    /// Check the API key at configure.
    pub validate: bool,
    pub datadog_retry: RetryPolicy,
    pub aws: AwsSettings,
}

impl ProviderConfig {
    /// Reads and checks the block; every problem is an error at its attribute.
    pub(super) fn read(config: &Value, diags: &mut Diagnostics) -> Option<ProviderConfig> {
        let before = diags.has_errors();
        let site = text(config, "site");
        if let Some(s) = &site {
            check_site(s, Some(AttrPath::root("site")), diags);
        }
        let api_url = text(config, "api_url");
        if let Some(u) = &api_url {
            check_api_url(u, Some(AttrPath::root("api_url")), diags);
        }
        let datadog_retry = retry(config, |n| AttrPath::root(n), RetryPolicy::default(), MAX_DATADOG_ATTEMPTS, diags);
        let aws_block = config.get_attr("aws").filter(|b| !b.is_null()).unwrap_or(&Value::Null);
        let aws_retry = retry(aws_block, |n| AttrPath::root("aws").attr(n), DEFAULT_RETRY, MAX_AWS_ATTEMPTS, diags);
        let read = ProviderConfig {
            api_key: text(config, "api_key"),
            app_key: text(config, "app_key"),
            site,
            api_url,
            validate: config.get_attr("validate").and_then(Value::as_bool).unwrap_or(true),
            datadog_retry,
            aws: aws_settings(aws_block, aws_retry),
        };
        (diags.has_errors() == before).then_some(read)
    }
}

/// A secret read from the configuration or the environment, masked in every log
/// line from now on.
pub(super) fn secret(value: String) -> Secret {
    crate::plugin::logging::register_secret(&value);
    Secret::new(value)
}

fn text(v: &Value, name: &str) -> Option<String> {
    v.get_attr(name).and_then(Value::as_str).map(str::to_owned)
}

/// `retry_max_attempts` and `retry_max_backoff` of a block, over `defaults`.
fn retry(block: &Value, path: impl Fn(&str) -> AttrPath, defaults: RetryPolicy, max: i64, diags: &mut Diagnostics) -> RetryPolicy {
    let mut policy = defaults;
    if let Some(n) = block.get_attr("retry_max_attempts").and_then(Value::as_number) {
        match n.as_i64().filter(|n| (1..=max).contains(n)).and_then(|n| u32::try_from(n).ok()) {
            Some(n) => policy.max_attempts = n,
            None => diags.error_at(path("retry_max_attempts"), "Invalid retry_max_attempts", format!("Use a whole number from 1 to {max}.")),
        }
    }
    if let Some(d) = text(block, "retry_max_backoff") {
        match crate::duration::parse(&d) {
            Ok(d) => policy.max_backoff = d,
            Err(e) => diags.error_at(path("retry_max_backoff"), "Invalid retry_max_backoff", e),
        }
    }
    policy
}

/// The `aws` block; absent values fall back to the SDK's standard chain.
fn aws_settings(aws: &Value, retry: RetryPolicy) -> AwsSettings {
    let role = aws.get_attr("assume_role").filter(|r| !r.is_null());
    let endpoints = aws.get_attr("endpoints").filter(|e| !e.is_null()).unwrap_or(&Value::Null);
    AwsSettings {
        region: text(aws, "region"),
        profile: text(aws, "profile"),
        assume_role: role.and_then(|r| {
            Some(AssumeRole { role_arn: text(r, "role_arn")?, session_name: text(r, "session_name"), external_id: text(r, "external_id").map(secret) })
        }),
        endpoint_cloudformation: text(endpoints, "cloudformation"),
        endpoint_organizations: text(endpoints, "organizations"),
        retry,
    }
}

/// A known Datadog site; `path` is `None` when the value came from `DD_SITE`.
pub(super) fn check_site(site: &str, path: Option<AttrPath>, diags: &mut Diagnostics) -> bool {
    if SITES.contains(&site) {
        return true;
    }
    let detail = format!("{site:?} is not a Datadog site. Use one of: {}.", SITES.join(", "));
    match path {
        Some(p) => diags.error_at(p, "Unknown Datadog site", detail),
        None => diags.error("Unknown Datadog site (DD_SITE)", detail),
    }
    false
}

/// An http(s) base URL; `path` is `None` when the value came from `DD_HOST`.
pub(super) fn check_api_url(url: &str, path: Option<AttrPath>, diags: &mut Diagnostics) -> bool {
    let problem = match url::Url::parse(url) {
        Err(e) => Some(format!("{url:?} is not a URL: {e}.")),
        Ok(u) if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() => {
            Some(format!("{url:?} must be an http or https URL with a host, e.g. https://api.datadoghq.eu."))
        }
        Ok(u) if u.path().trim_end_matches('/').ends_with("/api") => {
            Some(format!("{url:?} must not end in /api: give the base URL, e.g. https://api.datadoghq.eu."))
        }
        Ok(_) => None,
    };
    let Some(detail) = problem else { return true };
    match path {
        Some(p) => diags.error_at(p, "Invalid Datadog API URL", detail),
        None => diags.error("Invalid Datadog API URL (DD_HOST)", detail),
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    
    fn read(attrs: Vec<(&str, Value)>) -> (Option<ProviderConfig>, Diagnostics) {
        let mut diags = Diagnostics::new();
        (ProviderConfig::read(&Value::object(attrs), &mut diags), diags)
    }

    #[test]
    fn a_value_validate_refuses_is_never_clamped_by_configure() {
        for bad in [Value::from(0), Value::from(1000), Value::Number("2.5".parse().unwrap_or_default())] {
            let (got, diags) = read(vec![("retry_max_attempts", bad)]);
            assert!(got.is_none() && diags.has_errors(), "{diags:?}");
        }
        let (got, diags) = read(vec![("retry_max_backoff", Value::String("soon".into()))]);
        assert!(got.is_none() && diags.has_errors());
    }

    #[test]
    fn defaults_and_written_values_for_both_apis() {
        let (got, _) = read(vec![]);
        let got = got.expect("an empty block is valid");
        assert_eq!((got.datadog_retry.max_attempts, got.aws.retry.max_attempts), (5, 30));
        assert!(got.validate);
        let aws = Value::object([("retry_max_attempts", Value::from(3)), ("retry_max_backoff", Value::String("5s".into()))]);
        let (got, diags) = read(vec![("retry_max_attempts", Value::from(7)), ("aws", aws)]);
        let got = got.unwrap_or_else(|| panic!("{diags:?}"));
        assert_eq!((got.datadog_retry.max_attempts, got.aws.retry.max_attempts, got.aws.retry.max_backoff), (7, 3, Duration::from_secs(5)));
    }

    #[test]
    fn unknown_values_read_as_unset() {
        let (got, diags) = read(vec![("site", Value::Unknown), ("retry_max_attempts", Value::Unknown)]);
        assert!(!diags.has_errors());
        assert!(got.is_some_and(|c| c.site.is_none()));
    }
}
