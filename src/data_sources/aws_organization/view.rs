//! The organization as the data source shows it, built from what the three listings
//! returned (the organization walk, the StackSet's instances, Datadog's account
//! configurations): joined in memory by account id, so the cost never depends on
//! the number of accounts.

use std::collections::HashMap;

use crate::clients::aws::{OrganizationInfo, OrganizationTree, OrganizationalUnit, StackInstance};
use crate::clients::datadog::AccountConfig;
use crate::plugin::typed::opt_string;
use crate::plugin::Value;

/// What one read found.
#[derive(Debug, Default)]
pub(super) struct Found {
    pub(super) organization: OrganizationInfo,
    pub(super) tree: OrganizationTree,
    /// `None`: no StackSet asked for (or it does not exist).
    pub(super) instances: Option<Vec<StackInstance>>,
    pub(super) datadog: Vec<AccountConfig>,
}

/// The partition an ARN names (`arn:PARTITION:…`); `aws` when it names none.
pub(super) fn partition_of_arn(arn: &str) -> &str {
    arn.split(':').nth(1).filter(|p| !p.is_empty()).unwrap_or("aws")
}

/// The names from the root down to `unit`, joined with `/`.
fn path(units: &HashMap<&str, &OrganizationalUnit>, unit: &str) -> String {
    let mut names = Vec::new();
    let mut at = units.get(unit);
    // Bounded: Organizations nests at most five levels below the root; a cycle in a
    // broken answer must not hang the read.
    while let Some(u) = at.filter(|_| names.len() < 16) {
        names.push(u.name.as_str());
        at = (!u.parent.is_empty()).then(|| units.get(u.parent.as_str())).flatten();
    }
    names.reverse();
    names.join("/")
}

/// The instance an account shows: the least healthy, then the first region.
fn shown(instances: &[&StackInstance]) -> Option<Value> {
    let i = instances.iter().min_by(|a, b| (a.is_healthy(), &a.region).cmp(&(b.is_healthy(), &b.region)))?;
    let text = |s: &str| if s.is_empty() { Value::Null } else { Value::string(s) };
    Some(Value::object([
        ("status", text(i.status.as_str())),
        ("detailed_status", text(i.detailed_status.as_str())),
        ("status_reason", text(&i.status_reason)),
        ("last_operation_id", text(&i.last_operation_id)),
        ("region", text(&i.region)),
    ]))
}

fn datadog(config: &AccountConfig) -> Value {
    let a = &config.attributes;
    let flag = |b: Option<bool>| b.map_or(Value::Null, Value::Bool);
    let resources = a.resources_config.as_ref();
    Value::object([
        ("config_id", Value::string(&config.id)),
        ("metrics_enabled", flag(a.metrics_config.as_ref().and_then(|m| m.enabled))),
        ("cloud_security_posture_management", flag(resources.and_then(|r| r.cloud_security_posture_management_collection))),
        ("extended_collection", flag(resources.and_then(|r| r.extended_collection))),
        ("role_name", opt_string(a.auth_config.as_ref().and_then(|c| c.role_name.as_ref()))),
    ])
}

/// Every account, sorted by id, with its OU path, stack instance and Datadog config.
pub(super) fn accounts(found: &Found) -> Value {
    let partition = partition_of_arn(&found.organization.arn);
    let units: HashMap<&str, &OrganizationalUnit> = found.tree.units.iter().map(|u| (u.id.as_str(), u)).collect();
    let mut instances: HashMap<&str, Vec<&StackInstance>> = HashMap::new();
    for i in found.instances.iter().flatten() {
        instances.entry(i.account.as_str()).or_default().push(i);
    }
    let configs: HashMap<&str, &AccountConfig> = found
        .datadog
        .iter()
        .filter(|c| {
            let p = c.attributes.aws_partition.as_str();
            p == partition || p.is_empty() && partition == "aws"
        })
        .map(|c| (c.attributes.aws_account_id.as_str(), c))
        .collect();
    let mut accounts: Vec<_> = found.tree.accounts.iter().collect();
    accounts.sort_by(|a, b| a.id.cmp(&b.id));
    Value::list(accounts.into_iter().map(|a| {
        let text = |s: &str| if s.is_empty() { Value::Null } else { Value::string(s) };
        Value::object([
            ("id", Value::string(&a.id)),
            ("name", text(&a.name)),
            ("email", text(&a.email)),
            ("status", text(a.status.as_str())),
            ("management", Value::Bool(a.id == found.organization.management_account_id)),
            ("ou_id", Value::string(&a.parent)),
            ("ou_path", Value::string(path(&units, &a.parent))),
            ("stack_instance", instances.get(a.id.as_str()).and_then(|i| shown(i)).unwrap_or(Value::Null)),
            ("datadog", configs.get(a.id.as_str()).map_or(Value::Null, |c| datadog(c))),
        ])
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::aws::Account;
    use crate::clients::datadog::model::{AuthConfig, MetricsConfig};
    use crate::clients::datadog::AccountAttributes;

    fn unit(id: &str, name: &str, parent: &str) -> OrganizationalUnit {
        OrganizationalUnit { id: id.into(), name: name.into(), parent: parent.into() }
    }

    fn account(id: &str, parent: &str) -> Account {
        Account { id: id.into(), status: "ACTIVE".into(), parent: parent.into(), name: format!("n{id}"), email: String::new() }
    }

    fn instance(account: &str, region: &str, status: &str, detail: &str) -> StackInstance {
        StackInstance {
            account: account.into(),
            region: region.into(),
            status: status.into(),
            detailed_status: detail.into(),
            last_operation_id: "op-1".into(),
            ..Default::default()
        }
    }

    fn config(account: &str, partition: &str) -> AccountConfig {
        AccountConfig {
            id: format!("uuid-{account}-{partition}"),
            attributes: AccountAttributes {
                aws_account_id: account.into(),
                aws_partition: partition.into(),
                metrics_config: Some(MetricsConfig { enabled: Some(true), ..Default::default() }),
                auth_config: Some(AuthConfig { role_name: Some("DatadogIntegrationRole".into()), ..Default::default() }),
                ..Default::default()
            },
        }
    }

    fn found() -> Found {
        Found {
            organization: OrganizationInfo { id: "o-1".into(), arn: "arn:aws:organizations::111111111111:organization/o-1".into(), management_account_id: "111111111111".into() },
            tree: OrganizationTree {
                units: vec![unit("r-1", "Root", ""), unit("ou-w", "Workloads", "r-1"), unit("ou-p", "Prod", "ou-w")],
                accounts: vec![account("333333333333", "ou-p"), account("111111111111", "r-1"), account("222222222222", "ou-w")],
            },
            instances: Some(vec![
                instance("333333333333", "us-east-1", "CURRENT", "SUCCEEDED"),
                instance("222222222222", "us-east-1", "CURRENT", "SUCCEEDED"),
                instance("222222222222", "eu-west-1", "OUTDATED", "FAILED"),
            ]),
            datadog: vec![config("333333333333", "aws"), config("222222222222", "aws-cn")],
        }
    }

    fn column(v: &Value, f: impl Fn(&Value) -> Value) -> Vec<Value> {
        v.as_list().unwrap_or_default().iter().map(f).collect()
    }

    #[test]
    fn accounts_come_sorted_with_their_ou_path_and_management_flag() {
        let got = accounts(&found());
        let s = Value::string;
        assert_eq!(column(&got, |a| a.get_attr("id").cloned().unwrap_or(Value::Null)), vec![s("111111111111"), s("222222222222"), s("333333333333")]);
        assert_eq!(column(&got, |a| a.get_attr("ou_path").cloned().unwrap_or(Value::Null)), vec![s("Root"), s("Root/Workloads"), s("Root/Workloads/Prod")]);
        assert_eq!(column(&got, |a| a.get_attr("management").cloned().unwrap_or(Value::Null)), vec![Value::Bool(true), Value::Bool(false), Value::Bool(false)]);
    }

    #[test]
    fn each_account_shows_its_least_healthy_instance_and_its_config_in_the_organization_s_partition() {
        let got = accounts(&found());
        let attr = |a: &Value, x: &str, y: &str| a.get_attr(x).and_then(|v| v.get_attr(y)).cloned().unwrap_or(Value::Null);
        let s = Value::string;
        // The management account: no instance, no config.
        // 222…: two instances, the failed one shows; its only config is in aws-cn.
        // 333…: healthy instance and a config.
        assert_eq!(column(&got, |a| a.get_attr("stack_instance").cloned().unwrap_or(Value::Null)).first(), Some(&Value::Null));
        assert_eq!(column(&got, |a| attr(a, "stack_instance", "detailed_status")), vec![Value::Null, s("FAILED"), s("SUCCEEDED")]);
        assert_eq!(column(&got, |a| attr(a, "stack_instance", "region")), vec![Value::Null, s("eu-west-1"), s("us-east-1")]);
        assert_eq!(column(&got, |a| attr(a, "datadog", "config_id")), vec![Value::Null, Value::Null, s("uuid-333333333333-aws")]);
        assert_eq!(column(&got, |a| attr(a, "datadog", "metrics_enabled")), vec![Value::Null, Value::Null, Value::Bool(true)]);
        assert_eq!(column(&got, |a| attr(a, "datadog", "cloud_security_posture_management")), vec![Value::Null; 3]);
    }

    #[test]
    fn no_stack_set_means_no_instance_anywhere() {
        let got = accounts(&Found { instances: None, ..found() });
        assert!(column(&got, |a| a.get_attr("stack_instance").cloned().unwrap_or(Value::Null)).iter().all(Value::is_null));
    }

    #[test]
    fn the_partition_is_the_arn_s_second_field() {
        assert_eq!(partition_of_arn("arn:aws-us-gov:organizations::1:organization/o-1"), "aws-us-gov");
        assert_eq!(partition_of_arn(""), "aws");
    }
}
