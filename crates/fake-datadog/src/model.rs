//! The AWS account config as the fake stores and renders it: typed
//! attributes, the server defaults observed live, the PATCH merge rules and
//! the JSON:API response documents.
//!
//! Field order in every `Serialize` type follows the live responses, so a
//! byte-level diff against a cassette stays readable. Parsing and validating
//! request bodies lives in `input.rs`; this module only sees checked values.

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use uuid::Uuid;

use crate::clock::{Precision, Timestamp};

/// The `type` of every account document.
pub(crate) const ACCOUNT_TYPE: &str = "account";

/// `aws_partition`; anything else is rejected with the live 400.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) enum Partition {
    #[serde(rename = "aws")]
    Aws,
    #[serde(rename = "aws-cn")]
    AwsCn,
    #[serde(rename = "aws-us-gov")]
    AwsUsGov,
}

impl Partition {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "aws" => Some(Self::Aws),
            "aws-cn" => Some(Self::AwsCn),
            "aws-us-gov" => Some(Self::AwsUsGov),
            _ => None,
        }
    }
}

/// `auth_config`: the spec's oneOf, told apart by which key is present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AuthConfig {
    Role {
        role_name: String,
        external_id: String,
    },
    Keys {
        access_key_id: String,
        /// Stored so a PATCH without it keeps it; never serialized into an
        /// API response (live answers `{"access_key_id":…}` only).
        secret_access_key: Option<String>,
    },
}

impl Serialize for AuthConfig {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        match self {
            Self::Role {
                role_name,
                external_id,
            } => {
                m.serialize_entry("role_name", role_name)?;
                m.serialize_entry("external_id", external_id)?;
            }
            Self::Keys { access_key_id, .. } => {
                m.serialize_entry("access_key_id", access_key_id)?;
            }
        }
        m.end()
    }
}

/// A oneOf of `{include_all: bool}` / `{include_only: [..]}`, shared by
/// `aws_regions` and `traces_config.xray_services`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IncludeSet {
    All(bool),
    Only(Vec<String>),
}

impl Serialize for IncludeSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        match self {
            Self::All(b) => m.serialize_entry("include_all", b)?,
            Self::Only(v) => m.serialize_entry("include_only", v)?,
        }
        m.end()
    }
}

/// A oneOf of `{exclude_only: [..]}` / `{include_only: [..]}`: namespace
/// filters, and (with a namespace) metric name filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ListFilter {
    ExcludeOnly(Vec<String>),
    IncludeOnly(Vec<String>),
}

impl ListFilter {
    pub(crate) fn items_mut(&mut self) -> &mut Vec<String> {
        match self {
            Self::ExcludeOnly(v) | Self::IncludeOnly(v) => v,
        }
    }

    fn entry(&self) -> (&'static str, &Vec<String>) {
        match self {
            Self::ExcludeOnly(v) => ("exclude_only", v),
            Self::IncludeOnly(v) => ("include_only", v),
        }
    }
}

impl Serialize for ListFilter {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        let (k, v) = self.entry();
        m.serialize_entry(k, v)?;
        m.end()
    }
}

/// `metrics_config.metric_name_filters[]` (added to the API in Jul 2026,
/// after the spec subset we hold); only rendered once a client set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MetricNameFilter {
    pub(crate) namespace: String,
    pub(crate) filter: ListFilter,
}

impl Serialize for MetricNameFilter {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("namespace", &self.namespace)?;
        let (k, v) = self.filter.entry();
        m.serialize_entry(k, v)?;
        m.end()
    }
}

/// `metrics_config.tag_filters[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub(crate) struct NamespaceTagFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) tags: Option<Vec<String>>,
}

/// `logs_config.lambda_forwarder.log_source_config.tag_filters[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub(crate) struct LogSourceTagFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) tags: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct LogSourceConfig {
    pub(crate) tag_filters: Vec<LogSourceTagFilter>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct LambdaForwarder {
    pub(crate) lambdas: Vec<String>,
    pub(crate) sources: Vec<String>,
    pub(crate) log_source_config: LogSourceConfig,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct LogsConfig {
    pub(crate) lambda_forwarder: LambdaForwarder,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct MetricsConfig {
    pub(crate) enabled: bool,
    pub(crate) automute_enabled: bool,
    pub(crate) collect_custom_metrics: bool,
    pub(crate) collect_cloudwatch_alarms: bool,
    pub(crate) tag_filters: Vec<NamespaceTagFilter>,
    pub(crate) namespace_filters: ListFilter,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) metric_name_filters: Option<Vec<MetricNameFilter>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ResourcesConfig {
    pub(crate) cloud_security_posture_management_collection: bool,
    pub(crate) extended_collection: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct TracesConfig {
    pub(crate) xray_services: IncludeSet,
}

/// Everything a client can set on an account config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attributes {
    /// Nullable in the spec; the fake only stores `None` if a client could
    /// send it, which it cannot (null means "omitted"), so it renders `[]`.
    pub(crate) account_tags: Option<Vec<String>>,
    pub(crate) auth_config: AuthConfig,
    pub(crate) aws_account_id: String,
    pub(crate) aws_partition: Partition,
    pub(crate) aws_regions: IncludeSet,
    pub(crate) logs_config: LogsConfig,
    pub(crate) metrics_config: MetricsConfig,
    pub(crate) resources_config: ResourcesConfig,
    pub(crate) traces_config: TracesConfig,
}

/// The namespaces excluded when a create omits `namespace_filters`.
/// The spec text says `[…, "AWS/Usage"]`, but the live server returned only
/// these two (Oct 2024, Aug 2025); the official provider adds `AWS/Usage`
/// client-side, which is why its cassettes show three.
pub(crate) const DEFAULT_EXCLUDED_NAMESPACES: [&str; 2] = ["AWS/SQS", "AWS/ElasticMapReduce"];

impl Attributes {
    /// A new config with every optional attribute at the live server
    /// default; `input::AttributesPatch::apply_to` then overlays the request.
    pub(crate) fn with_defaults(
        aws_account_id: String,
        aws_partition: Partition,
        auth_config: AuthConfig,
    ) -> Self {
        Self {
            account_tags: Some(Vec::new()),
            auth_config,
            aws_account_id,
            aws_partition,
            aws_regions: IncludeSet::All(true),
            logs_config: LogsConfig {
                lambda_forwarder: LambdaForwarder {
                    lambdas: Vec::new(),
                    sources: Vec::new(),
                    log_source_config: LogSourceConfig {
                        tag_filters: Vec::new(),
                    },
                },
            },
            metrics_config: MetricsConfig {
                enabled: true,
                automute_enabled: true,
                collect_custom_metrics: false,
                collect_cloudwatch_alarms: false,
                tag_filters: Vec::new(),
                namespace_filters: ListFilter::ExcludeOnly(
                    DEFAULT_EXCLUDED_NAMESPACES
                        .iter()
                        .map(|s| (*s).to_owned())
                        .collect(),
                ),
                metric_name_filters: None,
            },
            resources_config: ResourcesConfig {
                cloud_security_posture_management_collection: false,
                extended_collection: true,
            },
            traces_config: TracesConfig {
                xray_services: IncludeSet::Only(Vec::new()),
            },
        }
    }
}

/// One stored account config.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub(crate) id: Uuid,
    /// Insertion order; the list endpoint answers in it (unless shuffling).
    pub(crate) seq: u64,
    pub(crate) created_at: Timestamp,
    pub(crate) modified_at: Timestamp,
    pub(crate) attrs: Attributes,
}

/// Which write, if any, produced the document: decides timestamp precision
/// the way the live API does (fresh values in ns, stored ones in µs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Freshness {
    Created,
    Updated,
    Stored,
}

/// `data` of an account document.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct AccountData {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    pub(crate) attributes: AttributesView,
}

/// `data.attributes`, in live key order.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct AttributesView {
    pub(crate) account_tags: Option<Vec<String>>,
    pub(crate) auth_config: AuthConfig,
    pub(crate) aws_account_id: String,
    pub(crate) aws_partition: Partition,
    pub(crate) aws_regions: IncludeSet,
    pub(crate) created_at: String,
    pub(crate) logs_config: LogsConfig,
    pub(crate) metrics_config: MetricsConfig,
    pub(crate) modified_at: String,
    pub(crate) resources_config: ResourcesConfig,
    pub(crate) traces_config: TracesConfig,
}

impl AccountData {
    pub(crate) fn render(account: &Account, freshness: Freshness) -> Self {
        let (created, modified) = match freshness {
            Freshness::Created => (Precision::Nanos, Precision::Nanos),
            Freshness::Updated => (Precision::Micros, Precision::Nanos),
            Freshness::Stored => (Precision::Micros, Precision::Micros),
        };
        let a = account.attrs.clone();
        Self {
            id: account.id.to_string(),
            kind: ACCOUNT_TYPE,
            attributes: AttributesView {
                account_tags: a.account_tags,
                auth_config: a.auth_config,
                aws_account_id: a.aws_account_id,
                aws_partition: a.aws_partition,
                aws_regions: a.aws_regions,
                created_at: account.created_at.render(created),
                logs_config: a.logs_config,
                metrics_config: a.metrics_config,
                modified_at: account.modified_at.render(modified),
                resources_config: a.resources_config,
                traces_config: a.traces_config,
            },
        }
    }
}

/// `{"data": …}`, the envelope of every v2 document.
#[derive(Debug, Serialize)]
pub(crate) struct Document<T> {
    pub(crate) data: T,
}

/// `data` of the `generate_new_external_id` answer; live uses the new ID as
/// `id` too (the spec example says `"external_id"`).
#[derive(Debug, Serialize)]
pub(crate) struct ExternalIdData {
    pub(crate) id: String,
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) attributes: ExternalIdAttributes,
}

#[derive(Debug, Serialize)]
pub(crate) struct ExternalIdAttributes {
    pub(crate) external_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_render_as_observed_live() {
        let attrs = Attributes::with_defaults(
            "123456789012".into(),
            Partition::Aws,
            AuthConfig::Keys {
                access_key_id: "AKIAEXAMPLE".into(),
                secret_access_key: Some("s3cr3t".into()),
            },
        );
        let account = Account {
            id: Uuid::nil(),
            seq: 0,
            created_at: Timestamp::from_nanos(1_000_000_000),
            modified_at: Timestamp::from_nanos(1_000_000_000),
            attrs,
        };
        let got = serde_json::to_string(&AccountData::render(&account, Freshness::Stored))
            .unwrap_or_default();
        let want = concat!(
            r#"{"id":"00000000-0000-0000-0000-000000000000","type":"account","attributes":{"#,
            r#""account_tags":[],"auth_config":{"access_key_id":"AKIAEXAMPLE"},"#,
            r#""aws_account_id":"123456789012","aws_partition":"aws","#,
            r#""aws_regions":{"include_all":true},"created_at":"1970-01-01T00:00:01Z","#,
            r#""logs_config":{"lambda_forwarder":{"lambdas":[],"sources":[],"log_source_config":{"tag_filters":[]}}},"#,
            r#""metrics_config":{"enabled":true,"automute_enabled":true,"collect_custom_metrics":false,"#,
            r#""collect_cloudwatch_alarms":false,"tag_filters":[],"#,
            r#""namespace_filters":{"exclude_only":["AWS/SQS","AWS/ElasticMapReduce"]}},"#,
            r#""modified_at":"1970-01-01T00:00:01Z","#,
            r#""resources_config":{"cloud_security_posture_management_collection":false,"extended_collection":true},"#,
            r#""traces_config":{"xray_services":{"include_only":[]}}}}"#
        );
        assert_eq!(got, want);
        assert!(!got.contains("s3cr3t"), "secret must never be rendered");
    }
}
