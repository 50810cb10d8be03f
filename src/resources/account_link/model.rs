//! The link's state as a typed struct: `flatten` (what Datadog holds → state),
//! decoded once from Terraform's value and encoded once. What a link sends is not
//! derived from here but from the configuration (`wanted.rs`).
//!
//! Lists Datadog may return in any order are sets here, so order never makes a diff.

use std::collections::{BTreeMap, BTreeSet};

use crate::clients::datadog::model::{Regions, XrayServices};
use crate::clients::datadog::AccountConfig;
use crate::plugin::typed::{boolean, opt_string as opt_string_value, string, string_items, string_set};
use crate::plugin::Value;

type Set = BTreeSet<String>;

/// Metric collection settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    pub enabled: bool,
    pub automute: bool,
    pub collect_cloudwatch_alarms: bool,
    pub collect_custom_metrics: bool,
    pub include_only: Option<Set>,
    pub exclude_only: Option<Set>,
    /// namespace → tags.
    pub tag_filters: BTreeMap<String, Option<Set>>,
}

/// A `datadog_aws_account_link` as Terraform holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub id: Option<String>,
    pub aws_account_id: String,
    pub aws_partition: String,
    pub role_name: String,
    pub account_tags: Option<Set>,
    /// `None` when Datadog collects from every region.
    pub aws_regions: Option<Set>,
    pub metrics: Metrics,
    pub cspm: bool,
    pub extended_collection: bool,
    pub lambdas: Set,
    pub log_sources: Set,
    pub xray_services: Option<Set>,
    pub adopt_existing: bool,
    pub wait_for_registration: String,
    pub stack_set_revision: Option<String>,
    pub external_id: Option<String>,
    /// Kept verbatim: Terraform's, not Datadog's.
    pub timeouts: Value,
}

/// A known set of strings (unknown elements left out); `None` unless a set.
fn set(v: Option<&Value>) -> Option<Set> {
    let v = v?;
    matches!(v, Value::Set(_) | Value::List(_)).then(|| string_items(v))
}

fn opt_set_value(s: Option<&Set>) -> Value {
    s.map_or(Value::Null, |s| string_set(s.iter().cloned()))
}

impl Link {
    /// Decodes a planned or stored value. Unknown computed values read as `None`.
    #[must_use]
    pub fn from_value(v: &Value) -> Link {
        let metrics = v.get_attr("metrics");
        let m = |name| metrics.and_then(|m| m.get_attr(name));
        let ns = m("namespace_filters");
        let tag_filters = match m("tag_filters") {
            Some(Value::Set(items) | Value::List(items)) => items
                .iter()
                .filter_map(|f| Some((string(f.get_attr("namespace"))?, set(f.get_attr("tags")))))
                .collect(),
            _ => BTreeMap::new(),
        };
        let resources = v.get_attr("resources");
        let forwarder = v.get_attr("logs").and_then(|l| l.get_attr("lambda_forwarder"));
        Link {
            id: string(v.get_attr("id")),
            aws_account_id: string(v.get_attr("aws_account_id")).unwrap_or_default(),
            aws_partition: string(v.get_attr("aws_partition")).unwrap_or_else(|| "aws".into()),
            role_name: string(v.get_attr("role_name")).unwrap_or_default(),
            account_tags: set(v.get_attr("account_tags")),
            aws_regions: set(v.get_attr("aws_regions")),
            metrics: Metrics {
                enabled: boolean(m("enabled"), true),
                automute: boolean(m("automute"), true),
                collect_cloudwatch_alarms: boolean(m("collect_cloudwatch_alarms"), false),
                collect_custom_metrics: boolean(m("collect_custom_metrics"), false),
                include_only: set(ns.and_then(|n| n.get_attr("include_only"))),
                exclude_only: set(ns.and_then(|n| n.get_attr("exclude_only"))),
                tag_filters,
            },
            cspm: boolean(resources.and_then(|r| r.get_attr("cloud_security_posture_management")), false),
            extended_collection: boolean(resources.and_then(|r| r.get_attr("extended_collection")), true),
            lambdas: set(forwarder.and_then(|f| f.get_attr("lambdas"))).unwrap_or_default(),
            log_sources: set(forwarder.and_then(|f| f.get_attr("sources"))).unwrap_or_default(),
            xray_services: set(v.get_attr("traces").and_then(|t| t.get_attr("xray_services"))),
            adopt_existing: boolean(v.get_attr("adopt_existing"), true),
            wait_for_registration: string(v.get_attr("wait_for_registration")).unwrap_or_else(|| "0s".into()),
            stack_set_revision: string(v.get_attr("stack_set_revision")),
            external_id: string(v.get_attr("external_id")),
            timeouts: v.get_attr("timeouts").cloned().unwrap_or(Value::Null),
        }
    }

    /// The ARN of the role Datadog assumes.
    #[must_use]
    pub fn role_arn(&self) -> String {
        role_arn(&self.aws_partition, &self.aws_account_id, &self.role_name)
    }

    /// Encodes the whole state object.
    #[must_use]
    pub fn to_value(&self) -> Value {
        let m = &self.metrics;
        let tag_filters = Value::Set(
            m.tag_filters
                .iter()
                .map(|(ns, tags)| Value::object([("namespace", Value::String(ns.clone())), ("tags", opt_set_value(tags.as_ref()))]))
                .collect(),
        );
        Value::object([
            ("id", opt_string_value(self.id.as_ref())),
            ("aws_account_id", Value::String(self.aws_account_id.clone())),
            ("aws_partition", Value::String(self.aws_partition.clone())),
            // An account integrated with access keys has no role (and so no role ARN).
            ("role_name", if self.role_name.is_empty() { Value::Null } else { Value::String(self.role_name.clone()) }),
            ("account_tags", opt_set_value(self.account_tags.as_ref())),
            ("aws_regions", opt_set_value(self.aws_regions.as_ref())),
            ("all_aws_regions", Value::Bool(self.aws_regions.is_none())),
            (
                "metrics",
                Value::object([
                    ("enabled", Value::Bool(m.enabled)),
                    ("automute", Value::Bool(m.automute)),
                    ("collect_cloudwatch_alarms", Value::Bool(m.collect_cloudwatch_alarms)),
                    ("collect_custom_metrics", Value::Bool(m.collect_custom_metrics)),
                    (
                        "namespace_filters",
                        Value::object([
                            ("include_only", opt_set_value(m.include_only.as_ref())),
                            ("exclude_only", opt_set_value(m.exclude_only.as_ref())),
                        ]),
                    ),
                    ("tag_filters", tag_filters),
                ]),
            ),
            (
                "resources",
                Value::object([
                    ("cloud_security_posture_management", Value::Bool(self.cspm)),
                    ("extended_collection", Value::Bool(self.extended_collection)),
                ]),
            ),
            (
                "logs",
                Value::object([(
                    "lambda_forwarder",
                    Value::object([("lambdas", string_set(self.lambdas.iter().cloned())), ("sources", string_set(self.log_sources.iter().cloned()))]),
                )]),
            ),
            ("traces", Value::object([("xray_services", opt_set_value(self.xray_services.as_ref()))])),
            ("adopt_existing", Value::Bool(self.adopt_existing)),
            ("wait_for_registration", Value::String(self.wait_for_registration.clone())),
            ("stack_set_revision", opt_string_value(self.stack_set_revision.as_ref())),
            ("external_id", opt_string_value(self.external_id.as_ref())),
            ("role_arn", if self.role_name.is_empty() { Value::Null } else { Value::String(self.role_arn()) }),
            ("timeouts", self.timeouts.clone()),
        ])
    }

    /// What Datadog holds, with Terraform-only settings taken from `local`.
    #[must_use]
    pub fn flatten(remote: &AccountConfig, local: &Link) -> Link {
        let a = &remote.attributes;
        let metrics = a.metrics_config.clone().unwrap_or_default();
        let ns = metrics.namespace_filters.clone().unwrap_or_default();
        let resources = a.resources_config.clone().unwrap_or_default();
        let forwarder = a.logs_config.as_ref().and_then(|l| l.lambda_forwarder.clone()).unwrap_or_default();
        let auth = a.auth_config.clone().unwrap_or_default();
        let to_set = |v: Option<Vec<String>>| v.map(|v| v.into_iter().collect::<Set>());
        let (include_only, exclude_only) = match (to_set(ns.include_only), to_set(ns.exclude_only)) {
            (Some(inc), _) => (Some(inc), None),
            (None, exc) => (None, exc),
        };
        Link {
            id: Some(remote.id.clone()),
            aws_account_id: a.aws_account_id.clone(),
            aws_partition: a.aws_partition.clone(),
            role_name: auth.role_name.unwrap_or_default(),
            account_tags: Some(to_set(a.account_tags.clone()).unwrap_or_default()),
            aws_regions: match &a.aws_regions {
                Some(Regions { include_only: Some(r), include_all }) if include_all != &Some(true) => Some(r.iter().cloned().collect()),
                _ => None,
            },
            metrics: Metrics {
                enabled: metrics.enabled.unwrap_or(true),
                automute: metrics.automute_enabled.unwrap_or(true),
                collect_cloudwatch_alarms: metrics.collect_cloudwatch_alarms.unwrap_or(false),
                collect_custom_metrics: metrics.collect_custom_metrics.unwrap_or(false),
                include_only,
                exclude_only,
                tag_filters: metrics
                    .tag_filters
                    .unwrap_or_default()
                    .into_iter()
                    .map(|f| (f.namespace, Some(to_set(f.tags).unwrap_or_default())))
                    .collect(),
            },
            cspm: resources.cloud_security_posture_management_collection.unwrap_or(false),
            extended_collection: resources.extended_collection.unwrap_or(true),
            lambdas: to_set(forwarder.lambdas).unwrap_or_default(),
            log_sources: to_set(forwarder.sources).unwrap_or_default(),
            xray_services: match a.traces_config.as_ref().and_then(|t| t.xray_services.clone()) {
                Some(XrayServices { include_all: Some(true), .. }) => None,
                Some(x) => Some(to_set(x.include_only).unwrap_or_default()),
                None => Some(Set::new()),
            },
            adopt_existing: local.adopt_existing,
            wait_for_registration: local.wait_for_registration.clone(),
            stack_set_revision: local.stack_set_revision.clone(),
            external_id: auth.external_id.or_else(|| local.external_id.clone()),
            timeouts: local.timeouts.clone(),
        }
    }

    /// Keeps a tag filter's null `tags` null (as `shape` has it) when Datadog stored
    /// it as empty, so writing `tags` or leaving it out plans the same.
    pub fn align_tag_filters(&mut self, shape: &Value) {
        let written = Link::from_value(shape).metrics.tag_filters;
        for (ns, tags) in &mut self.metrics.tag_filters {
            if let (Some(t), Some(None)) = (tags.as_ref(), written.get(ns)) {
                if t.is_empty() {
                    *tags = None;
                }
            }
        }
    }
}

/// `arn:<partition>:iam::<account>:role/<name>`.
#[must_use]
pub(super) fn role_arn(partition: &str, account: &str, role: &str) -> String {
    format!("arn:{partition}:iam::{account}:role/{role}")
}

/// Terraform-only settings of an imported link: the schema's defaults.
#[must_use]
pub(super) fn import_defaults() -> Link {
    Link::from_value(&Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::datadog::model::{AuthConfig, MetricsConfig, ResourcesConfig};
    use crate::clients::datadog::AccountAttributes;

    #[test]
    fn state_is_what_datadog_holds_and_round_trips() {
        let remote = AccountConfig {
            id: "u".into(),
            attributes: AccountAttributes {
                aws_account_id: "123456789012".into(),
                aws_partition: "aws".into(),
                auth_config: Some(AuthConfig { role_name: Some("Custom".into()), external_id: Some("x".into()), access_key_id: None }),
                aws_regions: Some(Regions { include_all: None, include_only: Some(vec!["eu-west-1".into()]) }),
                metrics_config: Some(MetricsConfig { enabled: Some(false), ..Default::default() }),
                resources_config: Some(ResourcesConfig { cloud_security_posture_management_collection: Some(true), extended_collection: Some(true) }),
                ..Default::default()
            },
        };
        let link = Link::flatten(&remote, &import_defaults());
        let v = link.to_value();
        assert_eq!(v.get_attr("all_aws_regions"), Some(&Value::Bool(false)));
        assert_eq!(v.get_attr("role_arn").and_then(Value::as_str), Some("arn:aws:iam::123456789012:role/Custom"));
        assert_eq!(v.get_attr("metrics").and_then(|m| m.get_attr("enabled")), Some(&Value::Bool(false)));
        assert_eq!(Link::from_value(&v), link);
    }
}
