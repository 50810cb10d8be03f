//! The AWS account config object of Datadog's AWS integration v2 API, as sent and
//! received. `oneOf` shapes without a discriminator (regions, namespace filters, X-Ray
//! services, auth) are flattened into structs of optional fields: the variant is
//! whichever key is present. Fields we do not manage are simply absent from requests,
//! and the API keeps their stored values (PATCH merges).

use serde::{Deserialize, Serialize};

/// `{"data": T}`, the JSON:API envelope.
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope<T> {
    /// The payload.
    pub data: T,
}

/// One account config as returned.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccountConfig {
    /// The config UUID.
    pub id: String,
    /// Its attributes.
    pub attributes: AccountAttributes,
}

/// The request body's `data`.
#[derive(Debug, Serialize)]
pub struct AccountRequest<'a> {
    /// Always `account`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// What to store.
    pub attributes: &'a AccountAttributes,
}

/// The account's settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AccountAttributes {
    /// 12 digits.
    pub aws_account_id: String,
    /// `aws`, `aws-cn` or `aws-us-gov`.
    pub aws_partition: String,
    /// `key:value` tags on every metric of the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_tags: Option<Vec<String>>,
    /// How Datadog gets in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_config: Option<AuthConfig>,
    /// Which regions are collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_regions: Option<Regions>,
    /// Log forwarding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logs_config: Option<LogsConfig>,
    /// Metric collection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_config: Option<MetricsConfig>,
    /// Resource collection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources_config: Option<ResourcesConfig>,
    /// X-Ray traces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traces_config: Option<TracesConfig>,
}

/// Role auth (`role_name`, `external_id`) or key auth (`access_key_id`; the secret is
/// never returned).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AuthConfig {
    /// The IAM role Datadog assumes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_name: Option<String>,
    /// Issued by Datadog; the role's trust policy requires it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Key auth, which we never send but may read on an account made elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
}

/// `{"include_all": true}` or `{"include_only": [...]}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Regions {
    /// Every region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_all: Option<bool>,
    /// Only these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_only: Option<Vec<String>>,
}

/// Metric collection settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MetricsConfig {
    /// Collect metrics at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Mute monitors of stopped instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automute_enabled: Option<bool>,
    /// Collect CloudWatch alarms as events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collect_cloudwatch_alarms: Option<bool>,
    /// Collect custom metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collect_custom_metrics: Option<bool>,
    /// Which namespaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_filters: Option<NamespaceFilters>,
    /// Tag filters per namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_filters: Option<Vec<TagFilter>>,
}

/// `{"exclude_only": [...]}` or `{"include_only": [...]}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NamespaceFilters {
    /// Everything but these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_only: Option<Vec<String>>,
    /// Only these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_only: Option<Vec<String>>,
}

/// Resources of one namespace are collected only when they carry these tags.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TagFilter {
    /// e.g. `AWS/EC2`.
    pub namespace: String,
    /// `key:value` patterns.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

/// Resource collection settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ResourcesConfig {
    /// CSPM resource collection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_security_posture_management_collection: Option<bool>,
    /// Extended resource collection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_collection: Option<bool>,
}

/// Log forwarding settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LogsConfig {
    /// The Datadog Forwarder Lambda.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lambda_forwarder: Option<LambdaForwarder>,
}

/// Lambda forwarder settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LambdaForwarder {
    /// Forwarder ARNs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lambdas: Option<Vec<String>>,
    /// Services whose logs are forwarded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<String>>,
}

/// Trace settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TracesConfig {
    /// X-Ray services.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xray_services: Option<XrayServices>,
}

/// `{"include_all": true}` or `{"include_only": [...]}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct XrayServices {
    /// Every service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_all: Option<bool>,
    /// Only these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_only: Option<Vec<String>>,
}
