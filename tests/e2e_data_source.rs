//! `data "datadog_aws_organization"` driven by real Terraform against the AWS emulator
//! and the Datadog fake. Seed: root (the management account and `at-root`);
//! Production (3 active accounts and a suspended one); Development (2) with child
//! Sandbox (1). A StackSet covers Production only (its stacks register those
//! accounts in Datadog); one Development account is registered in Datadog by hand.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use testkit::{Sandbox, Terraform, TestDir, REQUIRED_PROVIDERS};

const SET: &str = "DatadogIntegration";

/// The StackSet over Production and the data source reading it, with its outputs.
fn config(sb: &Sandbox) -> String {
    let production = sb.var("SANDBOX_OU_PRODUCTION").unwrap_or_default();
    format!(
        r#"{REQUIRED_PROVIDERS}
provider "datadog" {{}}

resource "datadog_aws_org_stackset" "org" {{
  name                    = "{SET}"
  region                  = "us-east-1"
  organizational_unit_ids = ["{production}"]
}}

data "datadog_aws_organization" "org" {{
  stackset_name = datadog_aws_org_stackset.org.name
  region        = datadog_aws_org_stackset.org.administration_region
}}

output "organization_id" {{
  value = data.datadog_aws_organization.org.id
}}

output "management_account_id" {{
  value = data.datadog_aws_organization.org.management_account_id
}}

output "accounts" {{
  value = {{ for a in data.datadog_aws_organization.org.accounts : a.id => a }}
}}
"#
    )
}

/// Only the data source, naming the StackSet: what one read costs.
fn reader(stack_set: &str) -> String {
    format!(
        r#"{REQUIRED_PROVIDERS}
provider "datadog" {{}}

data "datadog_aws_organization" "org" {{
  stackset_name = "{stack_set}"
  region        = "us-east-1"
}}

output "count" {{
  value = length(data.datadog_aws_organization.org.accounts)
}}
"#
    )
}

fn outputs(tf: &Terraform) -> anyhow::Result<Value> {
    Ok(serde_json::from_str(&tf.run_ok(&["output", "-json"])?.stdout)?)
}

/// Registers `account` in Datadog by hand, as the console does; returns its config id.
fn register_by_hand(sb: &Sandbox, account: &str) -> anyhow::Result<String> {
    let body = json!({"data": {"type": "account", "attributes": {
        "aws_account_id": account, "aws_partition": "aws",
        "auth_config": {"role_name": "HandMadeRole"},
        "metrics_config": {"enabled": false}
    }}});
    let created = sb.datadog().api("POST", "/api/v2/integration/aws/accounts", Some(&body))?.ensure_success()?.json()?;
    Ok(created["data"]["id"].as_str().unwrap_or_default().to_owned())
}

/// Each account's OU path, stack instance and Datadog presence as AWS and Datadog
/// hold them; the plan after apply is empty; no secret in state or output.
#[test]
fn e2e_organization_shows_every_account_s_ou_instance_and_datadog_presence() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    let org = sb.emulator()?.organization()?;
    let accounts = org["accounts"].as_array().cloned().unwrap_or_default();
    let by_path = |path: &str, status: &str| -> Vec<String> {
        accounts
            .iter()
            .filter(|a| a["ou_path"].as_str() == Some(path) && a["status"] == status)
            .filter_map(|a| a["id"].as_str().map(str::to_owned))
            .collect()
    };
    let dev = by_path("Development", "ACTIVE");
    assert_eq!(dev.len(), 2, "the seed's Development OU: {org}");
    let by_hand = register_by_hand(&sb, &dev[0])?;

    let tf = Terraform::pinned(&sb)?.polling_fast();
    tf.write_main_tf(&config(&sb))?;
    let out = tf.apply_and_collect_outputs()?;
    assert!(tf.plan_is_empty()?, "the plan after apply is not empty");
    for secret in [sb.api_key(), sb.app_key(), sb.var("AWS_SECRET_ACCESS_KEY").unwrap_or("unset")] {
        assert!(!out.contains(secret), "a secret is in the output, plan or state");
    }

    let got = outputs(&tf)?;
    let shown: BTreeMap<String, Value> = serde_json::from_value(got["accounts"]["value"].clone())?;
    let management = sb.var("SANDBOX_MANAGEMENT_ACCOUNT_ID").unwrap_or_default();
    assert_eq!(got["management_account_id"]["value"], management);
    assert!(got["organization_id"]["value"].as_str().is_some_and(|id| id.starts_with("o-")), "{got}");
    assert_eq!(shown.len(), accounts.len(), "every account of the organization, the management one included");

    let registered: BTreeMap<String, String> = sb
        .datadog()
        .accounts()?
        .iter()
        .map(|a| (a["attributes"]["aws_account_id"].as_str().unwrap_or_default().to_owned(), a["id"].as_str().unwrap_or_default().to_owned()))
        .collect();
    let covered = by_path("Production", "ACTIVE");
    assert_eq!(covered.len(), 3);
    for a in &accounts {
        let id = a["id"].as_str().unwrap_or_default();
        let s = &shown[id];
        let ou_path = a["ou_path"].as_str().filter(|p| !p.is_empty()).map_or("Root".to_owned(), |p| format!("Root/{p}"));
        assert_eq!(s["ou_path"], ou_path, "{id}: {s}");
        assert_eq!(s["name"], a["name"], "{id}");
        assert_eq!(s["status"], a["status"], "{id}");
        assert_eq!(s["management"], json!(id == management), "{id}");
        if covered.iter().any(|c| c == id) {
            assert_eq!(s["stack_instance"]["status"], "CURRENT", "{id}: {s}");
            assert_eq!(s["stack_instance"]["detailed_status"], "SUCCEEDED", "{id}: {s}");
            assert_eq!(s["stack_instance"]["region"], "us-east-1", "{id}: {s}");
            assert!(s["stack_instance"]["last_operation_id"].as_str().is_some_and(|o| !o.is_empty()), "{id}: {s}");
            // The stack registered the account: Datadog has it with the template's role.
            assert_eq!(s["datadog"]["config_id"].as_str(), registered.get(id).map(String::as_str), "{id}: {s}");
            assert_eq!(s["datadog"]["role_name"], "DatadogIntegrationRole", "{id}: {s}");
        } else if id == dev[0] {
            assert!(s["stack_instance"].is_null(), "{id}: not covered by the StackSet: {s}");
            assert_eq!(s["datadog"]["config_id"], by_hand, "{id}: registered by hand: {s}");
            assert_eq!(s["datadog"]["role_name"], "HandMadeRole", "{id}: {s}");
            assert_eq!(s["datadog"]["metrics_enabled"], false, "{id}: {s}");
        } else {
            assert!(s["stack_instance"].is_null(), "{id}: not covered: {s}");
            assert!(s["datadog"].is_null(), "{id}: not in Datadog: {s}");
        }
    }

    // One read on its own: AWS calls per listing page, one Datadog request.
    let emulator = sb.emulator()?;
    let alone = Terraform::pinned(&sb)?.in_dir(TestDir::new("e2e_data_source_cost")?);
    alone.write_main_tf(&reader(SET))?;
    emulator.call("DELETE", "calls", None)?;
    sb.datadog().admin_delete("requests")?;
    alone.run_ok(&["plan", "-input=false", "-no-color", "-refresh=false"])?;
    let mut per_action: BTreeMap<String, usize> = BTreeMap::new();
    for c in emulator.call_log()? {
        *per_action.entry(c["action"].as_str().unwrap_or_default().to_owned()).or_default() += 1;
    }
    // Root, Production, Development, Development/Sandbox: one page each of accounts
    // and of child OUs; nothing per account.
    let units = 4;
    let want: BTreeMap<String, usize> = [
        ("DescribeOrganization", 1),
        ("ListRoots", 1),
        ("ListAccountsForParent", units),
        ("ListOrganizationalUnitsForParent", units),
        ("ListStackInstances", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(per_action, want, "AWS calls of one read");
    let log = sb.datadog().admin_get("requests")?;
    let account_requests: Vec<&Value> = log["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.starts_with("/api/v2/integration/aws")))
        .collect();
    assert_eq!(account_requests.len(), 1, "Datadog requests of one read: {account_requests:?}");
    assert_eq!(account_requests[0]["method"], "GET");
    Ok(())
}

/// A bad `call_as` is refused at validate and at plan, at its path, before any
/// AWS or Datadog call; an unknown StackSet is a warning and no instance, not a failure.
#[test]
fn e2e_bad_call_as_is_refused_before_any_api_call() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    let emulator = sb.emulator()?;
    let tf = Terraform::pinned(&sb)?;
    tf.write_main_tf(&format!(
        "{REQUIRED_PROVIDERS}\nprovider \"datadog\" {{}}\n\ndata \"datadog_aws_organization\" \"org\" {{\n  stackset_name = \"{SET}\"\n  call_as       = \"ADMIN\"\n}}\n"
    ))?;
    emulator.call("DELETE", "calls", None)?;
    sb.datadog().admin_delete("requests")?;
    for command in [&["validate", "-no-color"][..], &["plan", "-input=false", "-no-color"][..]] {
        let out = tf.run(command)?;
        assert!(!out.success(), "{command:?} accepted call_as = \"ADMIN\"");
        let text = out.describe();
        assert!(text.contains("Invalid call_as") && text.contains("call_as"), "{command:?}: {text}");
    }
    assert!(emulator.call_log()?.is_empty(), "AWS was called before the configuration was checked");
    let log = sb.datadog().admin_get("requests")?;
    let api: Vec<&Value> = log["requests"].as_array().into_iter().flatten().filter(|r| r["path"].as_str().is_some_and(|p| p.contains("integration/aws"))).collect();
    assert!(api.is_empty(), "Datadog was called before the configuration was checked: {api:?}");

    // A StackSet that does not exist: a warning, and the organization without instances.
    tf.write_main_tf(&reader("NoSuchStackSet"))?;
    let out = tf.run_ok(&["apply", "-auto-approve", "-input=false", "-no-color"])?;
    assert!(out.describe().contains("StackSet not found"), "{}", out.describe());
    assert_eq!(outputs(&tf)?["count"]["value"], json!(sb.emulator()?.organization()?["accounts"].as_array().map_or(0, Vec::len)));
    Ok(())
}
