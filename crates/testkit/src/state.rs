//! Reading what Terraform prints as JSON (`show -json` of a state or a plan,
//! `output -json`): resources, planned changes and lists of strings, the way
//! every suite looks at them.

use std::collections::BTreeSet;

use serde_json::Value;

/// The address every suite's configuration gives the StackSet
/// ([`crate::fixtures::org_with_links`] and the examples).
const STACK_SET: &str = "datadog_aws_org_stackset.org";

/// The resource at `address` in the root module of a state JSON
/// ([`crate::Terraform::state_json`]).
pub fn state_resource<'a>(state: &'a Value, address: &str) -> Option<&'a Value> {
    state
        .pointer("/values/root_module/resources")?
        .as_array()?
        .iter()
        .find(|r| r["address"] == address)
}

/// The accounts the StackSet `datadog_aws_org_stackset.org` covers in a state
/// JSON (its `account_ids`); empty when it is not in the state.
pub fn stack_set_account_ids(state: &Value) -> BTreeSet<String> {
    state_resource(state, STACK_SET)
        .map(|r| string_set(&r["values"]["account_ids"]))
        .unwrap_or_default()
}

/// The resource changes of a plan JSON ([`crate::Terraform::plan_json`]) that are not
/// no-ops, as `(address, actions)`, e.g. `("datadog_aws_account_link.a", ["update"])`.
/// Empty means the plan changes no resource.
pub fn planned_changes(plan: &Value) -> Vec<(String, Vec<String>)> {
    let changes = plan.get("resource_changes").and_then(Value::as_array);
    changes
        .into_iter()
        .flatten()
        .map(|c| {
            let addr = c
                .get("address")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let actions: Vec<String> = c
                .pointer("/change/actions")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            (addr, actions)
        })
        .filter(|(_, actions)| actions.iter().any(|a| a != "no-op"))
        .collect()
}

/// The [`planned_changes`] of the resources whose address starts with `prefix`,
/// e.g. `"datadog_aws_account_link."` for the links.
pub fn changes_of(plan: &Value, prefix: &str) -> Vec<(String, Vec<String>)> {
    planned_changes(plan)
        .into_iter()
        .filter(|(address, _)| address.starts_with(prefix))
        .collect()
}

/// The strings of a JSON array (an output, a list attribute) as a set; empty
/// when `v` is not an array.
pub fn string_set(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn planned_changes_skips_noops() {
        let plan = json!({"resource_changes": [
            {"address": "a.x", "change": {"actions": ["no-op"]}},
            {"address": "a.y", "change": {"actions": ["delete", "create"]}},
        ]});
        assert_eq!(
            planned_changes(&plan),
            vec![(
                "a.y".to_owned(),
                vec!["delete".to_owned(), "create".to_owned()]
            )]
        );
        assert!(planned_changes(&json!({})).is_empty());
    }

    #[test]
    fn resources_and_account_ids_are_found_by_address() {
        let state = json!({"values": {"root_module": {"resources": [
            {"address": "datadog_aws_account_link.a", "values": {}},
            {"address": STACK_SET, "values": {"account_ids": ["2", "1", 3]}},
        ]}}});
        assert!(state_resource(&state, "datadog_aws_account_link.a").is_some());
        assert!(state_resource(&state, "datadog_aws_account_link.b").is_none());
        assert_eq!(
            stack_set_account_ids(&state),
            BTreeSet::from(["1".to_owned(), "2".to_owned()])
        );
        assert!(stack_set_account_ids(&json!({})).is_empty());
    }
}
