//! `moved { from = datadog_integration_aws_account.x  to = datadog_aws_account_link.x }`:
//! the state the official `DataDog/datadog` provider wrote for an AWS account (its
//! AWS integration v2 resource, schema version 0), read into a link without any
//! call to Datadog.
//!
//! That resource stores what Datadog answered, section by section under Datadog's
//! own names, with the two auth variants as nested blocks. Read back into Datadog's
//! shape, it becomes a link's state through the same `flatten` every read uses, so a
//! moved link holds exactly what a refresh would have given it.
//!
//! What the old resource enforced is not carried over as managed: it sent every
//! section on every update (its defaults included), whereas a link manages only
//! what its own configuration writes. The state only records what Datadog held;
//! which settings are managed from now on is the link block's choice, and a setting
//! it leaves out keeps what Datadog holds and is never sent.

use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use crate::clients::datadog::model::AuthConfig;
use crate::clients::datadog::{AccountAttributes, AccountConfig};
use crate::plugin::{Diagnostics, MoveSource, Value};

use super::model::{import_defaults, Link};

/// The official provider's AWS account resource, the one source a link takes.
pub(super) const OFFICIAL: MoveSource =
    MoveSource { provider: "datadog/datadog", type_name: "datadog_integration_aws_account", max_schema_version: 0 };

/// Settings of the official resource that a link does not have: never sent, and
/// said so when the moved state holds any.
const NOT_CARRIED: &[&[&str]] = &[
    &["metrics_config", "metric_name_filters"],
    &["logs_config", "lambda_forwarder", "log_source_config", "tag_filters"],
];

/// The link state for the official resource's stored `state`.
pub(super) fn from_official(state: &Json, diags: &mut Diagnostics) -> Option<Value> {
    let what = format!("{} (AWS account {})", OFFICIAL.type_name, text(state, "aws_account_id").unwrap_or("unknown"));
    let remote = match account_config(state) {
        Ok(remote) => remote,
        Err(reason) => {
            diags.error(format!("Cannot move {what}"), format!("Its stored state cannot be read: {reason}."));
            return None;
        }
    };
    let kept: Vec<String> = NOT_CARRIED.iter().filter(|path| holds_any(state, path)).map(|path| path.join(".")).collect();
    if !kept.is_empty() {
        diags.warning(
            format!("Settings of {what} that datadog_aws_account_link does not manage"),
            format!(
                "The moved state holds {}. The link has no such settings and never sends them, so Terraform stops \
                 managing them. Datadog keeps them as they are; after a change the link makes to the section that \
                 holds them, check them in Datadog.",
                kept.join(" and ")
            ),
        );
    }
    Some(Link::flatten(&remote, &import_defaults()).to_value())
}

/// The account config the state describes, in Datadog's shape.
fn account_config(state: &Json) -> Result<AccountConfig, String> {
    let id = text(state, "id").ok_or("it has no id (the Datadog account config UUID)")?;
    let account = text(state, "aws_account_id").ok_or("it has no aws_account_id")?;
    let auth = state.get("auth_config");
    let role = auth.and_then(|a| a.get("aws_auth_config_role")).filter(|r| !r.is_null());
    let keys = auth.and_then(|a| a.get("aws_auth_config_keys")).filter(|k| !k.is_null());
    // The key variant's secret is never read: it is the old resource's, and no part
    // of a link.
    let auth_config = (role.is_some() || keys.is_some()).then(|| AuthConfig {
        role_name: role.and_then(|r| text(r, "role_name")).map(str::to_owned),
        external_id: role.and_then(|r| text(r, "external_id")).map(str::to_owned),
        access_key_id: keys.and_then(|k| text(k, "access_key_id")).map(str::to_owned),
    });
    Ok(AccountConfig {
        id: id.to_owned(),
        attributes: AccountAttributes {
            aws_account_id: account.to_owned(),
            aws_partition: text(state, "aws_partition").unwrap_or("aws").to_owned(),
            account_tags: section(state, "account_tags")?,
            auth_config,
            aws_regions: section(state, "aws_regions")?,
            logs_config: section(state, "logs_config")?,
            metrics_config: section(state, "metrics_config")?,
            resources_config: section(state, "resources_config")?,
            traces_config: section(state, "traces_config")?,
        },
    })
}

fn text<'a>(v: &'a Json, name: &str) -> Option<&'a str> {
    v.get(name).and_then(Json::as_str).filter(|s| !s.is_empty())
}

/// One section, absent or null as `None`; its keys a link has no use for are ignored.
fn section<T: DeserializeOwned>(state: &Json, name: &str) -> Result<Option<T>, String> {
    let v = state.get(name).cloned().unwrap_or(Json::Null);
    serde_json::from_value(v).map_err(|e| format!("{name}: {e}"))
}

/// Whether the list at `path` has an element.
fn holds_any(state: &Json, path: &[&str]) -> bool {
    path.iter().try_fold(state, |v, name| v.get(name)).and_then(Json::as_array).is_some_and(|items| !items.is_empty())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The state the official provider writes for a role-based account (its
    /// Read fills every section from Datadog's answer).
    fn official() -> Json {
        json!({
            "id": "7d7c4a07-2c8f-4c4f-9b38-2f3b1f0c2f5e",
            "aws_account_id": "123456789012",
            "aws_partition": "aws",
            "account_tags": ["env:prod", "team:a"],
            "auth_config": {
                "aws_auth_config_keys": null,
                "aws_auth_config_role": {"external_id": "0123456789abcdef0123456789abcdef", "role_name": "DatadogIntegrationRole"}
            },
            "aws_regions": {"include_all": null, "include_only": ["us-east-1", "eu-west-1"]},
            "logs_config": {"lambda_forwarder": {"lambdas": ["arn:aws:lambda:us-east-1:123456789012:function:fwd"], "sources": ["s3"], "log_source_config": null}},
            "metrics_config": {
                "automute_enabled": true, "collect_cloudwatch_alarms": true, "collect_custom_metrics": false, "enabled": true,
                "metric_name_filters": [],
                "namespace_filters": {"exclude_only": ["AWS/SQS", "AWS/ElasticMapReduce", "AWS/Usage"], "include_only": null},
                "tag_filters": [{"namespace": "AWS/EC2", "tags": ["env:prod"]}]
            },
            "resources_config": {"cloud_security_posture_management_collection": true, "extended_collection": true},
            "traces_config": {"xray_services": {"include_all": null, "include_only": []}}
        })
    }

    fn at<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
        path.iter().try_fold(v, |v, n| v.get_attr(n)).unwrap_or(&Value::Null)
    }

    fn strings(items: &[&str]) -> Value {
        Value::Set(items.iter().map(|s| Value::string(*s)).collect())
    }

    #[test]
    fn every_section_lands_where_a_read_of_the_same_account_puts_it() {
        let mut diags = Diagnostics::new();
        let link = from_official(&official(), &mut diags).expect("moved");
        assert!(diags.is_empty(), "{diags:?}");
        let cases: Vec<(&[&str], Value)> = vec![
            (&["id"], Value::string("7d7c4a07-2c8f-4c4f-9b38-2f3b1f0c2f5e")),
            (&["aws_account_id"], Value::string("123456789012")),
            (&["aws_partition"], Value::string("aws")),
            (&["role_name"], Value::string("DatadogIntegrationRole")),
            (&["external_id"], Value::string("0123456789abcdef0123456789abcdef")),
            (&["role_arn"], Value::string("arn:aws:iam::123456789012:role/DatadogIntegrationRole")),
            (&["account_tags"], strings(&["env:prod", "team:a"])),
            (&["aws_regions"], strings(&["eu-west-1", "us-east-1"])),
            (&["all_aws_regions"], Value::Bool(false)),
            (&["metrics", "enabled"], Value::Bool(true)),
            (&["metrics", "automute"], Value::Bool(true)),
            (&["metrics", "collect_cloudwatch_alarms"], Value::Bool(true)),
            (&["metrics", "collect_custom_metrics"], Value::Bool(false)),
            (&["metrics", "namespace_filters", "exclude_only"], strings(&["AWS/ElasticMapReduce", "AWS/SQS", "AWS/Usage"])),
            (&["metrics", "namespace_filters", "include_only"], Value::Null),
            (&["resources", "cloud_security_posture_management"], Value::Bool(true)),
            (&["resources", "extended_collection"], Value::Bool(true)),
            (&["logs", "lambda_forwarder", "lambdas"], strings(&["arn:aws:lambda:us-east-1:123456789012:function:fwd"])),
            (&["logs", "lambda_forwarder", "sources"], strings(&["s3"])),
            (&["traces", "xray_services"], strings(&[])),
            // Terraform-only settings start at the schema's defaults, as on import.
            (&["adopt_existing"], Value::Bool(true)),
            (&["wait_for_registration"], Value::string("0s")),
            (&["stack_set_revision"], Value::Null),
        ];
        for (path, want) in cases {
            assert!(at(&link, path).semantically_equal(&want), "{path:?}: {:?}, want {want:?}", at(&link, path));
        }
        let filters = Link::from_value(&link).metrics.tag_filters;
        assert_eq!(filters.get("AWS/EC2"), Some(&Some(["env:prod".to_owned()].into_iter().collect())));
    }

    #[test]
    fn the_other_variants_read_as_a_read_would_give_them() {
        let mut state = official();
        state["aws_regions"] = json!({"include_all": true, "include_only": null});
        state["traces_config"] = json!({"xray_services": {"include_all": true, "include_only": null}});
        state["metrics_config"]["namespace_filters"] = json!({"exclude_only": null, "include_only": ["AWS/EC2"]});
        state["auth_config"] = json!({
            "aws_auth_config_keys": {"access_key_id": "AKIAEXAMPLEEXAMPLE12", "secret_access_key": "never-copied-secret"},
            "aws_auth_config_role": null
        });
        let mut diags = Diagnostics::new();
        let link = from_official(&state, &mut diags).expect("moved");
        assert!((at(&link, &["aws_regions"]).is_null()) && at(&link, &["all_aws_regions"]) == &Value::Bool(true));
        assert!(at(&link, &["traces", "xray_services"]).is_null(), "every service reads as null");
        assert!(at(&link, &["metrics", "namespace_filters", "include_only"]).semantically_equal(&strings(&["AWS/EC2"])));
        assert!(at(&link, &["role_name"]).is_null() && at(&link, &["role_arn"]).is_null() && at(&link, &["external_id"]).is_null());
        assert!(!format!("{link:?}{diags:?}").contains("never-copied-secret"), "the old resource's secret reached the link");
    }

    #[test]
    fn settings_a_link_lacks_are_named_in_a_warning_and_a_state_without_ids_is_refused() {
        let mut state = official();
        state["metrics_config"]["metric_name_filters"] = json!([{"namespace": "AWS/EC2", "include_only": ["CPU*"], "exclude_only": null}]);
        let mut diags = Diagnostics::new();
        assert!(from_official(&state, &mut diags).is_some());
        assert!(!diags.has_errors() && diags.0.len() == 1, "{diags:?}");
        assert!(diags.0[0].detail.contains("metrics_config.metric_name_filters"), "{diags:?}");

        let known = "Cannot move datadog_integration_aws_account (AWS account 123456789012)";
        let cases = [
            ("id", json!(null), known),
            ("aws_account_id", json!(""), "Cannot move datadog_integration_aws_account (AWS account unknown)"),
            ("metrics_config", json!({"enabled": "yes"}), known),
        ];
        for (name, broken, summary) in cases {
            let mut state = official();
            state[name] = broken;
            let mut diags = Diagnostics::new();
            assert_eq!(from_official(&state, &mut diags), None, "{name}");
            assert_eq!(diags.0.iter().map(|d| d.summary.as_str()).collect::<Vec<_>>(), vec![summary], "{name}");
            assert!(diags.0[0].detail.contains(name), "{name}: {diags:?}");
        }
    }
}
