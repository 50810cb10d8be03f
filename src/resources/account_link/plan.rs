//! The link's own plan rules, after the schema's (defaults, "known after apply").
//!
//! An unwritten setting plans its prior value, so it never shows a diff, except when
//! the account's stack is about to rewrite it in this same apply: a changed
//! `stack_set_revision` says the StackSet's stack runs again for this account, and
//! the settings the template writes become "known after apply" (the plan cannot
//! know what Datadog will hold, and promising the prior value would be false). An
//! unknown revision, or one that names another stack, says the stack may register
//! the account anew: a new config id, a new external id and Datadog's defaults for
//! everything unwritten.

use crate::plugin::{PlanChange, Value};

use super::model::role_arn;

/// Settings the template's custom resource writes on every stack run.
const TEMPLATE_WRITTEN: &[&[&str]] = &[
    &["role_name"],
    &["account_tags"],
    &["metrics", "enabled"],
    &["resources", "cloud_security_posture_management"],
    &["resources", "extended_collection"],
];

/// Every Datadog setting at the top level.
const SETTINGS: &[&str] = &["role_name", "account_tags", "aws_regions", "all_aws_regions", "metrics", "resources", "logs", "traces"];

/// Objects whose unwritten parts are themselves unmanaged settings (so a partly
/// written object keeps its written parts). `namespace_filters` is not one: written,
/// it is managed whole.
const OPEN_OBJECTS: &[&str] = &["metrics", "resources", "logs", "lambda_forwarder", "traces"];

/// Adjusts the planned link.
pub(super) fn modify(change: &mut PlanChange<'_>) {
    let config = change.config;
    let revision = |v: &Value| v.get_attr("stack_set_revision").cloned().unwrap_or(Value::Null);
    let (before, after) = (revision(change.prior), revision(&change.planned));
    let rerun = !change.prior.is_null() && !before.is_null() && !after.semantically_equal(&before);
    let planned = &mut change.planned;
    if rerun && !same_stack(&before, &after) {
        for id in ["id", "external_id"] {
            set(planned, &[id], Value::Unknown);
        }
        for name in SETTINGS {
            forget_unwritten(planned, config, name);
        }
    } else if rerun {
        for path in TEMPLATE_WRITTEN {
            if at(config, path).is_null() {
                set(planned, path, Value::Unknown);
            }
        }
    }
    // Written regions decide the other way of saying them.
    match (config.get_attr("aws_regions"), config.get_attr("all_aws_regions").and_then(Value::as_bool)) {
        (Some(Value::Unknown), _) if at(config, &["all_aws_regions"]).is_null() => set(planned, &["all_aws_regions"], Value::Unknown),
        (Some(r), _) if !r.is_null() && !r.is_unknown() => set(planned, &["all_aws_regions"], Value::Bool(false)),
        (_, Some(true)) => set(planned, &["aws_regions"], Value::Null),
        _ => {}
    }
    // The role ARN follows from three planned values; say it when they are known.
    let part = |n: &str| planned.get_attr(n).and_then(Value::as_str).map(str::to_owned);
    let arn = match (part("aws_partition"), part("aws_account_id"), part("role_name")) {
        (Some(partition), Some(account), Some(role)) => Value::String(role_arn(&partition, &account, &role)),
        // Integrated with access keys: no role, so no role ARN.
        _ if planned.get_attr("role_name").is_some_and(Value::is_null) => Value::Null,
        _ => Value::Unknown,
    };
    set(planned, &["role_arn"], arn);
}

/// Whether two revisions name the same stack (the StackSet's `account_revisions`
/// are `<stack>-<inputs>-<chain>`): its registration then stays, only updated. Any
/// other revision (unknown, or wired to something else) may mean a new one.
fn same_stack(before: &Value, after: &Value) -> bool {
    let stack = |v: &Value| v.as_str().and_then(|s| s.split_once('-')).map(|(stack, _)| stack.to_owned());
    stack(before).is_some_and(|b| Some(b) == stack(after))
}

/// Marks the unwritten parts of setting `name` unknown.
fn forget_unwritten(planned: &mut Value, config: &Value, name: &str) {
    let written = config.get_attr(name).unwrap_or(&Value::Null);
    let Some(slot) = planned.get_attr_mut(name) else { return };
    if written.is_null() {
        *slot = Value::Unknown;
    } else if OPEN_OBJECTS.contains(&name) {
        let inner: Vec<String> = slot.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
        for n in inner {
            forget_unwritten(slot, written, &n);
        }
    }
}

fn at<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().try_fold(v, |v, n| v.get_attr(n)).unwrap_or(&Value::Null)
}

/// Sets the value at `path` when its parent object is there (an unknown or null
/// parent already says all there is to say).
fn set(v: &mut Value, path: &[&str], to: Value) {
    let Some((last, parents)) = path.split_last() else { return };
    let parent = parents.iter().try_fold(v, |v, n| v.get_attr_mut(n));
    if let Some(Value::Object(attrs)) = parent {
        attrs.insert((*last).to_owned(), to);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
        use crate::plugin::Private;

    fn s(v: &str) -> Value {
        Value::String(v.to_owned())
    }

    fn state(revision: &str) -> Value {
        Value::object([
            ("id", s("u-1")),
            ("external_id", s("e")),
            ("aws_account_id", s("123456789012")),
            ("aws_partition", s("aws")),
            ("role_name", s("DatadogIntegrationRole")),
            ("account_tags", Value::Set(vec![])),
            ("aws_regions", Value::Null),
            ("all_aws_regions", Value::Bool(true)),
            ("metrics", Value::object([("enabled", Value::Bool(false)), ("automute", Value::Bool(true))])),
            ("resources", Value::object([("cloud_security_posture_management", Value::Bool(true)), ("extended_collection", Value::Bool(true))])),
            ("stack_set_revision", s(revision)),
            ("role_arn", s("arn:aws:iam::123456789012:role/DatadogIntegrationRole")),
        ])
    }

    fn config(revision: Value, metrics: Value) -> Value {
        Value::object([("aws_account_id", s("123456789012")), ("stack_set_revision", revision), ("metrics", metrics)])
    }

    fn plan(prior: &Value, config: &Value, revision: Value) -> Value {
        let mut planned = prior.clone();
        set(&mut planned, &["stack_set_revision"], revision);
        let mut change = PlanChange { prior, config, planned, requires_replace: vec![], private: Private::new() };
        modify(&mut change);
        change.planned
    }

    #[test]
    fn same_revision_keeps_everything() {
        let prior = state("s1-a-0");
        let planned = plan(&prior, &config(s("s1-a-0"), Value::Null), s("s1-a-0"));
        assert!(planned.semantically_equal(&prior), "{planned:?}");
    }

    #[test]
    fn a_rerun_forgets_only_unwritten_template_settings_and_keeps_ids() {
        let prior = state("s1-a-0");
        let cfg = config(s("s1-b-1"), Value::object([("enabled", Value::Bool(false)), ("automute", Value::Null)]));
        let planned = plan(&prior, &cfg, s("s1-b-1"));
        assert_eq!(at(&planned, &["id"]), &s("u-1"));
        assert_eq!(at(&planned, &["external_id"]), &s("e"));
        assert_eq!(at(&planned, &["metrics", "enabled"]), &Value::Bool(false), "written: stays as written");
        assert_eq!(at(&planned, &["metrics", "automute"]), &Value::Bool(true), "not the template's: stays");
        assert!(at(&planned, &["resources", "cloud_security_posture_management"]).is_unknown());
        assert!(at(&planned, &["role_name"]).is_unknown() && at(&planned, &["role_arn"]).is_unknown());
        assert!(!at(&planned, &["all_aws_regions"]).is_unknown());
    }

    #[test]
    fn an_unknown_revision_may_register_anew() {
        let prior = state("s1-a-0");
        let cfg = config(Value::Unknown, Value::object([("enabled", Value::Bool(false))]));
        let planned = plan(&prior, &cfg, Value::Unknown);
        assert!(at(&planned, &["id"]).is_unknown() && at(&planned, &["external_id"]).is_unknown());
        // At apply, the same change arrives with the new stack's known revision.
        let cfg = config(s("s2-a-0"), Value::object([("enabled", Value::Bool(false))]));
        let planned = plan(&prior, &cfg, s("s2-a-0"));
        assert!(at(&planned, &["id"]).is_unknown(), "a stack created anew registers anew");
        assert_eq!(at(&planned, &["metrics", "enabled"]), &Value::Bool(false));
        assert!(at(&planned, &["metrics", "automute"]).is_unknown());
        assert!(at(&planned, &["all_aws_regions"]).is_unknown());
    }

    #[test]
    fn written_regions_settle_the_other_attribute() {
        let prior = state("s1-a-0");
        let mut cfg = config(s("s1-a-0"), Value::Null);
        set(&mut cfg, &["aws_regions"], Value::Set(vec![s("us-east-1")]));
        let planned = plan(&prior, &cfg, s("s1-a-0"));
        assert_eq!(at(&planned, &["all_aws_regions"]), &Value::Bool(false));
    }
}
