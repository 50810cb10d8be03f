//! `datadog_aws_account_link` driven by real Terraform (the pinned 1.15 build, and the
//! oldest supported, 1.6.6, for the lifecycle) against the Datadog fake, which
//! returns every list in shuffled order.

use serde_json::{json, Value};
use testkit::{planned_changes, Sandbox, Terraform, TestDir, REQUIRED_PROVIDERS};

const ACCOUNT_A: &str = "111111111111";
const ACCOUNT_B: &str = "222222222222";

fn two_links() -> String {
    format!(
        r#"{REQUIRED_PROVIDERS}
provider "datadog" {{}}

resource "datadog_aws_account_link" "a" {{
  aws_account_id = "{ACCOUNT_A}"
  account_tags   = ["team:payments", "env:prod", "managed-by:terraform"]
  aws_regions    = ["us-east-1", "eu-west-1", "ap-northeast-1"]
  metrics = {{
    collect_custom_metrics = true
    namespace_filters = {{
      include_only = ["AWS/EC2", "AWS/Lambda", "AWS/RDS", "AWS/S3"]
    }}
    tag_filters = [{{ namespace = "AWS/EC2", tags = ["env:prod", "team:*"] }}]
  }}
  traces = {{ xray_services = ["lambda", "apigateway"] }}
}}

resource "datadog_aws_account_link" "b" {{
  aws_account_id = "{ACCOUNT_B}"
}}
"#
    )
}

fn lifecycle(tf: &Terraform, sb: &Sandbox) -> anyhow::Result<()> {
    tf.write_main_tf(&two_links())?;
    tf.apply()?;
    assert!(tf.plan_is_empty()?, "second plan after apply is not empty ({})", tf.version());
    assert_eq!(sb.datadog().accounts()?.len(), 2);

    // The external id is Datadog's, kept in state; the role ARN follows from the inputs.
    let state = tf.state_json()?;
    let resources = state.pointer("/values/root_module/resources").and_then(Value::as_array).cloned().unwrap_or_default();
    let a = resources.iter().find(|r| r["name"] == "a").expect("resource a in state");
    let external_id = a["values"]["external_id"].as_str().unwrap_or_default();
    assert_eq!(external_id.len(), 32, "external id {external_id:?}");
    assert_eq!(a["values"]["role_arn"], format!("arn:aws:iam::{ACCOUNT_A}:role/DatadogIntegrationRole"));

    tf.destroy()?;
    assert!(sb.datadog().accounts()?.is_empty(), "destroy left accounts in Datadog");
    Ok(())
}

/// Create, an empty second plan, and destroy, with the pinned Terraform.
#[test]
fn e2e_create_then_plan_is_empty_then_destroy_leaves_nothing() -> anyhow::Result<()> {
    let sb = Sandbox::datadog_only()?;
    lifecycle(&Terraform::pinned(&sb)?, &sb)
}

/// The same lifecycle with the oldest supported Terraform (1.6.6).
#[test]
fn e2e_lifecycle_with_the_oldest_supported_terraform() -> anyhow::Result<()> {
    let sb = Sandbox::datadog_only()?;
    lifecycle(&Terraform::oldest(&sb)?, &sb)
}

/// Changes made in Datadog to written settings show as an in-place update, and
/// apply restores them; an unwritten setting changed there is left alone.
#[test]
fn e2e_drift_made_in_datadog_is_planned_and_repaired() -> anyhow::Result<()> {
    let sb = Sandbox::datadog_only()?;
    let tf = Terraform::pinned(&sb)?;
    tf.write_main_tf(&two_links())?;
    tf.apply()?;
    let id = sb.datadog().config_id(ACCOUNT_A)?;
    testkit::fixtures::drift_in_datadog(&sb, &id, ACCOUNT_A)?;

    let plan = tf.plan_json()?;
    assert_eq!(planned_changes(&plan), vec![("datadog_aws_account_link.a".to_owned(), vec!["update".to_owned()])]);
    tf.apply()?;
    assert!(tf.plan_is_empty()?);
    let account = sb.datadog().api("GET", &format!("/api/v2/integration/aws/accounts/{id}"), None)?.json()?;
    let attrs = &account["data"]["attributes"];
    // Written settings are put back; `metrics.enabled` is not written, so it stays
    // as it was changed in Datadog.
    assert_eq!(attrs["metrics_config"]["enabled"], false, "{attrs}");
    assert_eq!(attrs["metrics_config"]["namespace_filters"]["include_only"].as_array().map(Vec::len), Some(4), "{attrs}");
    assert_eq!(attrs["aws_regions"]["include_only"].as_array().map(Vec::len), Some(3), "{attrs}");
    let mut tags: Vec<String> = serde_json::from_value(account["data"]["attributes"]["account_tags"].clone())?;
    tags.sort();
    assert_eq!(tags, ["env:prod", "managed-by:terraform", "team:payments"]);
    Ok(())
}

/// A config deleted in Datadog leaves state, and the next apply creates it again.
#[test]
fn e2e_deleted_in_datadog_is_recreated() -> anyhow::Result<()> {
    let sb = Sandbox::datadog_only()?;
    let tf = Terraform::pinned(&sb)?;
    tf.write_main_tf(&two_links())?;
    tf.apply()?;
    let id = sb.datadog().config_id(ACCOUNT_B)?;
    sb.datadog().api("DELETE", &format!("/api/v2/integration/aws/accounts/{id}"), None)?.ensure_success()?;
    let plan = tf.plan_json()?;
    assert_eq!(planned_changes(&plan), vec![("datadog_aws_account_link.b".to_owned(), vec!["create".to_owned()])]);
    tf.apply()?;
    assert!(tf.plan_is_empty()?);
    assert_eq!(sb.datadog().accounts()?.len(), 2);
    Ok(())
}

/// An account the StackSet's stack already registered is adopted, not duplicated,
/// and keeps the external id its IAM role trusts.
#[test]
fn e2e_pre_registered_account_is_adopted_without_duplicate() -> anyhow::Result<()> {
    let sb = Sandbox::datadog_only()?;
    let registered = json!({"data": {"type": "account", "attributes": {
        "aws_account_id": ACCOUNT_B, "aws_partition": "aws",
        "account_tags": [format!("aws_account:{ACCOUNT_B}")],
        "auth_config": {"role_name": "DatadogIntegrationRole"}
    }}});
    let created = sb.datadog().api("POST", "/api/v2/integration/aws/accounts", Some(&registered))?.ensure_success()?.json()?;
    let external_id = created["data"]["attributes"]["auth_config"]["external_id"].clone();
    let tf = Terraform::pinned(&sb)?;
    tf.write_main_tf(&two_links())?;
    tf.apply()?;
    assert!(tf.plan_is_empty()?);
    let accounts = sb.datadog().accounts()?;
    assert_eq!(accounts.len(), 2, "adoption must not duplicate the account");
    let b = accounts.iter().find(|a| a["attributes"]["aws_account_id"] == ACCOUNT_B).expect("b");
    assert_eq!(b["id"], created["data"]["id"]);
    assert_eq!(b["attributes"]["auth_config"]["external_id"], external_id);
    // Tags left unset in configuration stay as the template set them.
    assert_eq!(b["attributes"]["account_tags"], json!([format!("aws_account:{ACCOUNT_B}")]));
    Ok(())
}

/// Import by AWS account id (CLI) and by UUID (`import` block with generated config);
/// the next plan is empty both ways.
#[test]
fn e2e_import_by_account_id_and_by_uuid_then_plan_is_empty() -> anyhow::Result<()> {
    let sb = Sandbox::datadog_only()?;
    let owner = Terraform::pinned(&sb)?;
    owner.write_main_tf(&two_links())?;
    owner.apply()?;
    let id_b = sb.datadog().config_id(ACCOUNT_B)?;

    // CLI import by AWS account id into a matching configuration.
    let cli = Terraform::pinned(&sb)?.in_dir(TestDir::new("e2e_import_cli")?);
    cli.write_main_tf(&two_links())?;
    cli.import("datadog_aws_account_link.a", ACCOUNT_A)?;
    cli.import("datadog_aws_account_link.b", &id_b)?;
    assert!(cli.plan_is_empty()?, "plan after CLI import is not empty");

    // Import blocks with -generate-config-out, then apply: nothing to change after.
    let gen = Terraform::pinned(&sb)?.in_dir(TestDir::new("e2e_import_generate")?);
    gen.write_main_tf(&format!(
        "{REQUIRED_PROVIDERS}\nimport {{\n  to = datadog_aws_account_link.a\n  id = \"{ACCOUNT_A}\"\n}}\nimport {{\n  to = datadog_aws_account_link.b\n  id = \"{id_b}\"\n}}\n"
    ))?;
    gen.run_ok(&["plan", "-input=false", "-no-color", "-generate-config-out=generated.tf"])?;
    gen.apply()?;
    assert!(gen.plan_is_empty()?, "plan after importing with generated configuration is not empty");
    assert_eq!(sb.datadog().accounts()?.len(), 2);
    Ok(())
}

/// Bursts of 429 and 5xx answers (and a dropped connection) are retried; apply
/// converges with no duplicate account.
#[test]
fn e2e_throttling_and_server_errors_converge() -> anyhow::Result<()> {
    let sb = Sandbox::datadog_only()?;
    let dd = sb.datadog();
    dd.admin_post(
        "faults",
        &json!([
            {"method": "POST", "path": "/api/v2/integration/aws/accounts", "kind": "status", "status": 429, "count": 2, "reset_seconds": 1},
            {"method": "GET", "path": "/api/v2/integration/aws/accounts", "kind": "status", "status": 503, "count": 2},
            {"method": "PATCH", "path": "/api/v2/integration/aws/accounts/*", "kind": "status", "status": 500, "count": 1},
            {"method": "GET", "path": "/api/v2/integration/aws/accounts", "kind": "drop", "count": 1}
        ]),
    )?;
    let tf = Terraform::pinned(&sb)?;
    tf.write_main_tf(&two_links())?;
    tf.apply()?;
    assert!(tf.plan_is_empty()?);
    assert_eq!(sb.datadog().accounts()?.len(), 2);
    let log = dd.admin_get("requests")?;
    let faulted = log["requests"].as_array().map(|l| l.iter().filter(|r| !r["fault"].is_null()).count()).unwrap_or(0);
    assert!(faulted >= 5, "the injected faults were not all hit: {faulted}");
    Ok(())
}

/// Wrong keys: one clear error naming the problem, at configure time.
#[test]
fn e2e_wrong_api_key_is_a_clear_error() -> anyhow::Result<()> {
    let sb = Sandbox::datadog_only()?;
    let tf = Terraform::pinned(&sb)?.with_env("DD_API_KEY", "wrong-key-0000000000000000000000000000");
    tf.write_main_tf(&two_links())?;
    let out = tf.run(&["plan", "-input=false", "-no-color"])?;
    assert!(!out.success());
    assert!(out.stderr.contains("Invalid Datadog API key"), "{}", out.describe());
    let tf = Terraform::pinned(&sb)?.with_env("DD_APP_KEY", "").in_dir(TestDir::new("e2e_missing_app_key")?);
    tf.write_main_tf(&two_links())?;
    let out = tf.run(&["plan", "-input=false", "-no-color"])?;
    assert!(!out.success());
    assert!(out.stderr.contains("Missing Datadog credentials") && out.stderr.contains("DD_APP_KEY"), "{}", out.describe());
    Ok(())
}

/// Bad input is refused by `terraform validate`, with the attribute's line.
#[test]
fn e2e_validate_refuses_bad_input_with_attribute_paths() -> anyhow::Result<()> {
    let sb = Sandbox::datadog_only()?;
    let tf = Terraform::pinned(&sb)?;
    tf.write_main_tf(&format!(
        r#"{REQUIRED_PROVIDERS}
resource "datadog_aws_account_link" "bad_id" {{
  aws_account_id = "12345"
}}

resource "datadog_aws_account_link" "bad_partition" {{
  aws_account_id = "{ACCOUNT_A}"
  aws_partition  = "aws-mars"
}}

resource "datadog_aws_account_link" "both_filters" {{
  aws_account_id = "{ACCOUNT_B}"
  metrics = {{
    namespace_filters = {{
      include_only = ["AWS/EC2"]
      exclude_only = ["AWS/SQS"]
    }}
  }}
}}
"#
    ))?;
    let out = tf.run(&["validate", "-json", "-no-color"])?;
    let report = out.json()?;
    assert_eq!(report["valid"], false);
    let diags = report["diagnostics"].as_array().cloned().unwrap_or_default();
    let find = |summary: &str| diags.iter().find(|d| d["summary"] == summary).cloned();
    for (summary, line_text) in [
        ("Invalid AWS account ID", "aws_account_id = \"12345\""),
        ("Invalid AWS partition", "aws_partition  = \"aws-mars\""),
        ("Conflicting namespace filters", "namespace_filters = {"),
    ] {
        let d = find(summary).unwrap_or_else(|| panic!("no {summary:?} in {diags:#?}"));
        let code = d["snippet"]["code"].as_str().unwrap_or_default();
        assert!(code.contains(line_text), "{summary}: the diagnostic points at {code:?}, not at the attribute");
    }
    assert!(sb.datadog().admin_get("requests")?["requests"].as_array().is_some_and(Vec::is_empty), "validate must not call Datadog");
    Ok(())
}

/// `terraform providers schema -json` shows the resource with descriptions, and keys
/// are marked sensitive.
#[test]
fn e2e_schema_is_served_to_terraform() -> anyhow::Result<()> {
    let sb = Sandbox::datadog_only()?;
    let tf = Terraform::pinned(&sb)?;
    tf.write_main_tf(&format!("{REQUIRED_PROVIDERS}\nprovider \"datadog\" {{}}\n"))?;
    let schema = tf.run_ok(&["providers", "schema", "-json"])?.json()?;
    let provider = &schema["provider_schemas"]["registry.terraform.io/orgsync/datadog"];
    assert_eq!(provider["provider"]["block"]["attributes"]["api_key"]["sensitive"], true);
    let link = &provider["resource_schemas"]["datadog_aws_account_link"]["block"];
    assert_eq!(link["attributes"]["aws_account_id"]["required"], true);
    assert_eq!(link["attributes"]["external_id"]["computed"], true);
    assert!(link["attributes"]["metrics"]["nested_type"]["attributes"]["namespace_filters"].is_object());
    assert!(link["attributes"].as_object().is_some_and(|a| a.values().all(|v| v["description"].as_str().is_some_and(|d| !d.is_empty()))));
    Ok(())
}

/// Keys never reach state, plan JSON, show JSON or provider logs at TRACE.
#[test]
fn e2e_secrets_never_appear_in_state_plans_or_trace_logs() -> anyhow::Result<()> {
    let sb = Sandbox::datadog_only()?;
    let tf = Terraform::pinned(&sb)?.with_env("TF_LOG", "TRACE");
    tf.write_main_tf(&two_links())?;
    let artefacts = tf.apply_and_collect_outputs()?;
    assert!(artefacts.contains("provider.terraform-provider-datadog"), "TRACE output must contain our provider's log lines");
    for secret in [sb.api_key(), sb.app_key()] {
        assert!(!artefacts.contains(secret), "a Datadog key leaked");
    }
    Ok(())
}

/// A provider argument known only after apply (here the API URL, from another
/// resource): the plan goes through, and apply configures the provider for real.
#[test]
fn e2e_provider_configuration_unknown_at_plan_is_deferred_to_apply() -> anyhow::Result<()> {
    let sb = Sandbox::datadog_only()?;
    let tf = Terraform::pinned(&sb)?;
    tf.write_main_tf(&format!(
        r#"{REQUIRED_PROVIDERS}
resource "terraform_data" "url" {{
  input = "{}"
}}

provider "datadog" {{
  api_url = terraform_data.url.output
}}

resource "datadog_aws_account_link" "a" {{
  aws_account_id = "{ACCOUNT_A}"
}}
"#,
        sb.datadog_url()
    ))?;
    let plan = tf.plan_json()?;
    assert_eq!(planned_changes(&plan).len(), 2);
    tf.apply()?;
    assert!(tf.plan_is_empty()?);
    assert_eq!(sb.datadog().accounts()?.len(), 1);
    Ok(())
}

/// An account set up by hand in Datadog, imported into a block that names only the
/// account: the plan is "1 to import, 0 to change", the apply writes nothing, and
/// every hand-made setting is still there.
#[test]
fn e2e_importing_a_hand_made_account_into_a_minimal_block_changes_nothing() -> anyhow::Result<()> {
    let sb = Sandbox::datadog_only()?;
    let dd = sb.datadog();
    let hand_made = json!({"data": {"type": "account", "attributes": {
        "aws_account_id": ACCOUNT_A,
        "aws_partition": "aws",
        "account_tags": ["team:data", "cost-center:42"],
        "auth_config": {"role_name": "HandMadeRole"},
        "aws_regions": {"include_only": ["eu-west-1", "eu-central-1"]},
        "metrics_config": {"automute_enabled": false, "collect_cloudwatch_alarms": true, "collect_custom_metrics": true,
                           "namespace_filters": {"include_only": ["AWS/EC2", "AWS/RDS"]}},
        "resources_config": {"cloud_security_posture_management_collection": true, "extended_collection": true}
    }}});
    dd.api("POST", "/api/v2/integration/aws/accounts", Some(&hand_made))?.ensure_success()?;
    let before = sb.datadog().accounts()?;
    dd.admin_delete("requests")?;

    let tf = Terraform::pinned(&sb)?;
    tf.write_main_tf(&format!(
        "{REQUIRED_PROVIDERS}\nprovider \"datadog\" {{}}\n\nimport {{\n  to = datadog_aws_account_link.a\n  id = \"{ACCOUNT_A}\"\n}}\n\nresource \"datadog_aws_account_link\" \"a\" {{\n  aws_account_id = \"{ACCOUNT_A}\"\n}}\n"
    ))?;
    let plan = tf.plan_json()?;
    assert!(planned_changes(&plan).is_empty(), "an import of a hand-made account must change nothing: {:?}", planned_changes(&plan));
    let importing = plan["resource_changes"].as_array().into_iter().flatten().filter(|c| !c["change"]["importing"].is_null()).count();
    assert_eq!(importing, 1, "one import");
    tf.apply()?;
    assert!(tf.plan_is_empty()?);
    let writes: Vec<Value> = dd.admin_get("requests")?["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["method"] != "GET")
        .cloned()
        .collect();
    assert!(writes.is_empty(), "the import wrote to Datadog: {writes:?}");
    let state = tf.test_dir().read_file("terraform.tfstate")?;
    assert!(!state.contains(sb.api_key()) && !state.contains(sb.app_key()), "a key is in the state");
    let strip = |accounts: Vec<Value>| -> Vec<Value> { accounts.into_iter().map(|mut a| { a["attributes"]["modified_at"] = Value::Null; a }).collect() };
    assert_eq!(strip(sb.datadog().accounts()?), strip(before), "hand-made settings changed");

    // Writing one setting manages that setting only.
    tf.write_main_tf(&format!(
        "{REQUIRED_PROVIDERS}\nprovider \"datadog\" {{}}\n\nresource \"datadog_aws_account_link\" \"a\" {{\n  aws_account_id = \"{ACCOUNT_A}\"\n  metrics = {{ automute = true }}\n}}\n"
    ))?;
    tf.apply()?;
    assert!(tf.plan_is_empty()?);
    let after = sb.datadog().accounts()?.into_iter().next().unwrap_or_default();
    let attrs = &after["attributes"];
    assert_eq!(attrs["metrics_config"]["automute_enabled"], true);
    assert_eq!(attrs["metrics_config"]["collect_cloudwatch_alarms"], true, "an unwritten setting was overwritten: {attrs}");
    assert_eq!(attrs["resources_config"]["cloud_security_posture_management_collection"], true, "{attrs}");
    assert_eq!(attrs["auth_config"]["role_name"], "HandMadeRole", "{attrs}");
    let mut regions: Vec<String> = serde_json::from_value(attrs["aws_regions"]["include_only"].clone())?;
    regions.sort();
    assert_eq!(regions, ["eu-central-1", "eu-west-1"]);
    Ok(())
}

/// One refresh of many links costs a constant number of Datadog requests: one
/// listing shared by every read, whatever the number of links.
#[test]
fn e2e_a_refresh_of_many_links_lists_the_accounts_once() -> anyhow::Result<()> {
    let sb = Sandbox::datadog_only()?;
    let dd = sb.datadog();
    let ids: Vec<String> = (0..40).map(|i| format!("{:012}", 300_000_000_000u64 + i)).collect();
    let quoted: Vec<String> = ids.iter().map(|i| format!("\"{i}\"")).collect();
    let tf = Terraform::pinned(&sb)?;
    tf.write_main_tf(&format!(
        "{REQUIRED_PROVIDERS}\nprovider \"datadog\" {{}}\n\nresource \"datadog_aws_account_link\" \"many\" {{\n  for_each       = toset([{}])\n  aws_account_id = each.key\n}}\n",
        quoted.join(", ")
    ))?;
    tf.apply()?;
    dd.admin_delete("requests")?;
    assert!(tf.plan_is_empty()?);
    let requests = dd.admin_get("requests")?["requests"].as_array().cloned().unwrap_or_default();
    assert!(requests.len() <= 5, "a refresh of {} links made {} Datadog requests: {requests:?}", ids.len(), requests.len());
    assert!(requests.iter().any(|r| r["method"] == "GET" && r["path"] == "/api/v2/integration/aws/accounts"), "{requests:?}");

    // A config deleted in Datadog is still noticed (confirmed, then planned again).
    let gone = sb.datadog().config_id(&ids[0])?;
    dd.api("DELETE", &format!("/api/v2/integration/aws/accounts/{gone}"), None)?.ensure_success()?;
    let plan = tf.plan_json()?;
    assert_eq!(planned_changes(&plan), vec![(format!("datadog_aws_account_link.many[\"{}\"]", ids[0]), vec!["create".to_owned()])]);
    Ok(())
}

/// Resource identity (Terraform 1.12+): a created link records its identity (the
/// account and partition) in state, and `import { identity = { … } }` adopts a
/// hand-made account with an empty plan after.
#[test]
fn e2e_identity_is_recorded_and_import_by_identity_changes_nothing() -> anyhow::Result<()> {
    let sb = Sandbox::datadog_only()?;
    let dd = sb.datadog();
    let hand_made = json!({"data": {"type": "account", "attributes": {
        "aws_account_id": ACCOUNT_B, "aws_partition": "aws", "account_tags": ["team:data"], "auth_config": {"role_name": "HandMadeRole"}
    }}});
    dd.api("POST", "/api/v2/integration/aws/accounts", Some(&hand_made))?.ensure_success()?;

    let tf = Terraform::pinned(&sb)?;
    tf.write_main_tf(&format!(
        "{REQUIRED_PROVIDERS}\nprovider \"datadog\" {{}}\n\nresource \"datadog_aws_account_link\" \"a\" {{\n  aws_account_id = \"{ACCOUNT_A}\"\n}}\n\n\
         import {{\n  to       = datadog_aws_account_link.b\n  identity = {{ aws_account_id = \"{ACCOUNT_B}\" }}\n}}\n\n\
         resource \"datadog_aws_account_link\" \"b\" {{\n  aws_account_id = \"{ACCOUNT_B}\"\n}}\n"
    ))?;
    let plan = tf.plan_json()?;
    let importing: Vec<&str> = plan["resource_changes"].as_array().into_iter().flatten().filter(|c| !c["change"]["importing"].is_null()).filter_map(|c| c["address"].as_str()).collect();
    assert_eq!(importing, vec!["datadog_aws_account_link.b"], "import by identity");
    assert_eq!(planned_changes(&plan), vec![("datadog_aws_account_link.a".to_owned(), vec!["create".to_owned()])]);
    tf.apply()?;
    assert!(tf.plan_is_empty()?);

    let state: Value = serde_json::from_str(&tf.test_dir().read_file("terraform.tfstate")?)?;
    for (name, account) in [("a", ACCOUNT_A), ("b", ACCOUNT_B)] {
        let instance = state["resources"].as_array().into_iter().flatten().find(|r| r["name"] == name).map(|r| r["instances"][0].clone()).unwrap_or_default();
        assert_eq!(instance["identity"], json!({"aws_account_id": account, "aws_partition": "aws"}), "{instance}");
        assert_eq!(instance["identity_schema_version"], 0);
    }
    let tags = sb.datadog().accounts()?.into_iter().find(|a| a["attributes"]["aws_account_id"] == ACCOUNT_B).map(|a| a["attributes"]["account_tags"].clone());
    assert_eq!(tags, Some(json!(["team:data"])), "the import must change nothing in Datadog");
    Ok(())
}
