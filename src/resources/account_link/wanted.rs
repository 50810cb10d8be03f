//! What the configuration writes, and nothing else: the settings a link manages.
//!
//! [`Wanted`] is read from the configuration (never from the plan, where unmanaged
//! settings hold prior or unknown values). It is laid over what Datadog holds now,
//! section by section, so a write carries only the sections the configuration
//! touches, each completed from Datadog's current values: nothing unmanaged is ever
//! sent over what the organization chose, and a link that manages nothing sends
//! nothing at all.

use std::collections::BTreeSet;

use crate::clients::datadog::model::{
    AuthConfig, LambdaForwarder, MetricsConfig, NamespaceFilters, Regions, ResourcesConfig, TagFilter, TracesConfig,
    XrayServices,
};
use crate::clients::datadog::AccountAttributes;
use crate::plugin::Value;

use super::schema::DEFAULT_ROLE_NAME;

/// The managed settings: `None` everywhere the configuration says nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Wanted {
    pub role_name: Option<String>,
    pub account_tags: Option<Vec<String>>,
    pub regions: Option<Regions>,
    pub metrics: MetricsConfig,
    pub resources: ResourcesConfig,
    pub forwarder: LambdaForwarder,
    pub xray: Option<Vec<String>>,
}

fn attr<'a>(v: Option<&'a Value>, name: &str) -> Option<&'a Value> {
    v.and_then(|v| v.get_attr(name)).filter(|v| !v.is_null())
}

fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    let items: BTreeSet<String> = v?.elements()?.iter().filter_map(Value::as_str).map(str::to_owned).collect();
    Some(items.into_iter().collect())
}

impl Wanted {
    /// The settings `config` writes. Unknown values (known only at apply) count as
    /// unwritten here; at apply every configured value is known.
    pub(super) fn from_config(config: &Value) -> Wanted {
        let c = Some(config);
        let metrics = attr(c, "metrics");
        let filters = attr(metrics, "namespace_filters");
        let resources = attr(c, "resources");
        let forwarder = attr(attr(c, "logs"), "lambda_forwarder");
        let regions = match (strings(attr(c, "aws_regions")), attr(c, "all_aws_regions").and_then(Value::as_bool)) {
            (Some(only), _) => Some(Regions { include_all: None, include_only: Some(only) }),
            (None, Some(true)) => Some(Regions { include_all: Some(true), include_only: None }),
            _ => None,
        };
        Wanted {
            role_name: attr(c, "role_name").and_then(Value::as_str).map(str::to_owned),
            account_tags: strings(attr(c, "account_tags")),
            regions,
            metrics: MetricsConfig {
                enabled: attr(metrics, "enabled").and_then(Value::as_bool),
                automute_enabled: attr(metrics, "automute").and_then(Value::as_bool),
                collect_cloudwatch_alarms: attr(metrics, "collect_cloudwatch_alarms").and_then(Value::as_bool),
                collect_custom_metrics: attr(metrics, "collect_custom_metrics").and_then(Value::as_bool),
                namespace_filters: filters.map(|f| NamespaceFilters {
                    include_only: strings(attr(Some(f), "include_only")),
                    exclude_only: strings(attr(Some(f), "exclude_only")),
                }),
                tag_filters: attr(metrics, "tag_filters").and_then(Value::elements).map(|items| {
                    let mut filters: Vec<TagFilter> = items
                        .iter()
                        .filter_map(|f| {
                            let namespace = f.get_attr("namespace")?.as_str()?.to_owned();
                            Some(TagFilter { namespace, tags: Some(strings(attr(Some(f), "tags")).unwrap_or_default()) })
                        })
                        .collect();
                    filters.sort_by(|a, b| a.namespace.cmp(&b.namespace));
                    filters
                }),
            },
            resources: ResourcesConfig {
                cloud_security_posture_management_collection: attr(resources, "cloud_security_posture_management").and_then(Value::as_bool),
                extended_collection: attr(resources, "extended_collection").and_then(Value::as_bool),
            },
            forwarder: LambdaForwarder { lambdas: strings(attr(forwarder, "lambdas")), sources: strings(attr(forwarder, "sources")) },
            xray: strings(attr(attr(c, "traces"), "xray_services")),
        }
    }

    /// The body of a POST for an account nobody registered: the written settings,
    /// plus what Datadog requires (a role). Datadog fills in the rest with its defaults.
    pub(super) fn create_body(&self, account: &str, partition: &str) -> AccountAttributes {
        let mut body = self.overlay(&AccountAttributes::default()).unwrap_or_default();
        body.aws_account_id = account.to_owned();
        body.aws_partition = partition.to_owned();
        body.auth_config = Some(AuthConfig {
            role_name: Some(self.role_name.clone().unwrap_or_else(|| DEFAULT_ROLE_NAME.to_owned())),
            external_id: None,
            access_key_id: None,
        });
        body
    }

    /// The PATCH that brings `current` to the written settings: only the sections
    /// that differ, each completed from `current`. `None` when nothing differs.
    pub(super) fn patch_for(&self, current: &AccountAttributes) -> Option<AccountAttributes> {
        let merged = self.overlay(current)?;
        let same = |a: &AccountAttributes, b: &AccountAttributes| normalized(a.clone()) == normalized(b.clone());
        let mut patch = AccountAttributes {
            aws_account_id: current.aws_account_id.clone(),
            aws_partition: current.aws_partition.clone(),
            ..Default::default()
        };
        let mut changed = false;
        macro_rules! take_if_changed {
            ($($field:ident),*) => {$(
                let only = |a: &AccountAttributes| AccountAttributes { $field: a.$field.clone(), ..Default::default() };
                if !same(&only(&merged), &only(current)) {
                    patch.$field = merged.$field.clone();
                    changed = true;
                }
            )*};
        }
        take_if_changed!(account_tags, auth_config, aws_regions, metrics_config, resources_config, logs_config, traces_config);
        changed.then_some(patch)
    }

    /// `current` with every written setting laid over it; `None` when nothing is written.
    fn overlay(&self, current: &AccountAttributes) -> Option<AccountAttributes> {
        if *self == Wanted::default() {
            return None;
        }
        let mut out = current.clone();
        if let Some(role) = &self.role_name {
            let mut auth = out.auth_config.unwrap_or_default();
            auth.role_name = Some(role.clone());
            out.auth_config = Some(auth);
        }
        if let Some(tags) = &self.account_tags {
            out.account_tags = Some(tags.clone());
        }
        if let Some(regions) = &self.regions {
            out.aws_regions = Some(regions.clone());
        }
        if self.metrics != MetricsConfig::default() {
            let m = &self.metrics;
            let mut to = out.metrics_config.unwrap_or_default();
            over(&mut to.enabled, &m.enabled);
            over(&mut to.automute_enabled, &m.automute_enabled);
            over(&mut to.collect_cloudwatch_alarms, &m.collect_cloudwatch_alarms);
            over(&mut to.collect_custom_metrics, &m.collect_custom_metrics);
            over(&mut to.namespace_filters, &m.namespace_filters);
            over(&mut to.tag_filters, &m.tag_filters);
            out.metrics_config = Some(to);
        }
        if self.resources != ResourcesConfig::default() {
            let r = &self.resources;
            let mut to = out.resources_config.unwrap_or_default();
            over(&mut to.cloud_security_posture_management_collection, &r.cloud_security_posture_management_collection);
            over(&mut to.extended_collection, &r.extended_collection);
            out.resources_config = Some(to);
        }
        if self.forwarder != LambdaForwarder::default() {
            let mut logs = out.logs_config.unwrap_or_default();
            let mut to = logs.lambda_forwarder.unwrap_or_default();
            over(&mut to.lambdas, &self.forwarder.lambdas);
            over(&mut to.sources, &self.forwarder.sources);
            logs.lambda_forwarder = Some(to);
            out.logs_config = Some(logs);
        }
        if let Some(xray) = &self.xray {
            out.traces_config = Some(TracesConfig { xray_services: Some(XrayServices { include_all: None, include_only: Some(xray.clone()) }) });
        }
        Some(out)
    }
}

fn over<T: Clone>(to: &mut Option<T>, from: &Option<T>) {
    if from.is_some() {
        to.clone_from(from);
    }
}

/// Lists Datadog may return in any order, sorted, so comparisons ignore order.
fn normalized(mut a: AccountAttributes) -> AccountAttributes {
    let sort = |v: &mut Option<Vec<String>>| {
        if let Some(v) = v {
            v.sort();
        }
    };
    sort(&mut a.account_tags);
    if let Some(r) = a.aws_regions.as_mut() {
        sort(&mut r.include_only);
    }
    if let Some(m) = a.metrics_config.as_mut() {
        if let Some(f) = m.namespace_filters.as_mut() {
            sort(&mut f.include_only);
            sort(&mut f.exclude_only);
        }
        if let Some(filters) = m.tag_filters.as_mut() {
            for f in filters.iter_mut() {
                sort(&mut f.tags);
                // Stored empty and sent as null mean the same: no tags.
                if f.tags.as_ref().is_some_and(Vec::is_empty) {
                    f.tags = None;
                }
            }
            filters.sort_by(|a, b| a.namespace.cmp(&b.namespace));
        }
    }
    if let Some(f) = a.logs_config.as_mut().and_then(|l| l.lambda_forwarder.as_mut()) {
        sort(&mut f.lambdas);
        sort(&mut f.sources);
    }
    if let Some(x) = a.traces_config.as_mut().and_then(|t| t.xray_services.as_mut()) {
        sort(&mut x.include_only);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    
    fn strs(items: &[&str]) -> Value {
        Value::Set(items.iter().map(|s| Value::String((*s).to_owned())).collect())
    }

    /// What the template registers: tags, role, metrics off, CSPM on.
    fn registered() -> AccountAttributes {
        AccountAttributes {
            aws_account_id: "123456789012".into(),
            aws_partition: "aws".into(),
            account_tags: Some(vec!["team:b".into(), "aws_account:123456789012".into()]),
            auth_config: Some(AuthConfig { role_name: Some("DatadogIntegrationRole".into()), external_id: Some("e".repeat(32)), access_key_id: None }),
            aws_regions: Some(Regions { include_all: Some(true), include_only: None }),
            metrics_config: Some(MetricsConfig {
                enabled: Some(false),
                automute_enabled: Some(true),
                collect_cloudwatch_alarms: Some(false),
                collect_custom_metrics: Some(false),
                namespace_filters: Some(NamespaceFilters { exclude_only: Some(vec!["AWS/SQS".into()]), include_only: None }),
                tag_filters: Some(vec![]),
            }),
            resources_config: Some(ResourcesConfig { cloud_security_posture_management_collection: Some(true), extended_collection: Some(true) }),
            ..Default::default()
        }
    }

    #[test]
    fn nothing_written_sends_nothing() {
        let w = Wanted::from_config(&Value::object([("aws_account_id", Value::String("123456789012".into()))]));
        assert_eq!(w, Wanted::default());
        assert_eq!(w.patch_for(&registered()), None);
    }

    #[test]
    fn one_written_setting_sends_its_section_completed_from_datadog() {
        let cfg = Value::object([("metrics", Value::object([("automute", Value::Bool(false)), ("enabled", Value::Null)]))]);
        let patch = Wanted::from_config(&cfg).patch_for(&registered()).expect("a change");
        let m = patch.metrics_config.expect("metrics section");
        assert_eq!((m.enabled, m.automute_enabled), (Some(false), Some(false)), "metrics stay off, automute turns off");
        assert_eq!(m.namespace_filters, registered().metrics_config.and_then(|m| m.namespace_filters));
        assert!(patch.resources_config.is_none() && patch.account_tags.is_none() && patch.aws_regions.is_none());
    }

    #[test]
    fn sets_compare_without_order_and_equal_values_send_nothing() {
        let cfg = Value::object([("account_tags", strs(&["aws_account:123456789012", "team:b"]))]);
        assert_eq!(Wanted::from_config(&cfg).patch_for(&registered()), None);
        let cfg = Value::object([("account_tags", strs(&["team:c"]))]);
        assert_eq!(Wanted::from_config(&cfg).patch_for(&registered()).and_then(|p| p.account_tags), Some(vec!["team:c".to_owned()]));
    }

    #[test]
    fn regions_written_either_way() {
        let only = Wanted::from_config(&Value::object([("aws_regions", strs(&["us-east-1"]))]));
        assert_eq!(only.patch_for(&registered()).and_then(|p| p.aws_regions), Some(Regions { include_all: None, include_only: Some(vec!["us-east-1".into()]) }));
        let all = Wanted::from_config(&Value::object([("all_aws_regions", Value::Bool(true))]));
        assert_eq!(all.patch_for(&registered()), None, "already all regions");
    }

    #[test]
    fn a_registration_of_our_own_needs_a_role_and_nothing_else() {
        let body = Wanted::default().create_body("123456789012", "aws");
        assert_eq!(body.auth_config.and_then(|a| a.role_name).as_deref(), Some(DEFAULT_ROLE_NAME));
        assert!(body.metrics_config.is_none() && body.resources_config.is_none() && body.aws_regions.is_none());
        let cfg = Value::object([("role_name", Value::String("Custom".into())), ("resources", Value::object([("extended_collection", Value::Bool(false))]))]);
        let body = Wanted::from_config(&cfg).create_body("123456789012", "aws");
        assert_eq!(body.auth_config.and_then(|a| a.role_name).as_deref(), Some("Custom"));
        assert_eq!(body.resources_config.and_then(|r| r.extended_collection), Some(false));
    }

    #[test]
    fn a_written_role_keeps_the_issued_external_id() {
        let patch = Wanted::from_config(&Value::object([("role_name", Value::String("Other".into()))])).patch_for(&registered()).expect("change");
        let auth = patch.auth_config.expect("auth section");
        assert_eq!((auth.role_name.as_deref(), auth.external_id.map(|e| e.len())), (Some("Other"), Some(32)));
    }
}
