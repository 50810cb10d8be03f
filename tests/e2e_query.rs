//! `terraform query` (Terraform 1.14+) with the list resources, driven by the pinned
//! Terraform 1.15.5 against an organization set up by hand: a StackSet from
//! Datadog's template made through the AWS API (as the console would), its stacks
//! registering the accounts in the Datadog fake, one account with settings changed
//! by hand in Datadog, and one registered by hand outside the StackSet.
//! `-generate-config-out` writes resource and import blocks; the plan after imports
//! only, and the apply changes nothing in Datadog or AWS. OpenTofu, which has no
//! `query`, answers with its own message, and so does Terraform 1.6.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use testkit::{cloudformation, planned_changes, settle, Sandbox, Terraform, REQUIRED_PROVIDERS};

const SET: &str = "DatadogIntegration";
/// Registered by hand in Datadog, in no OU the StackSet covers.
const OUTSIDE: &str = "999988887777";

/// The StackSet over the Production OU, made through the AWS API as the console
/// does it (Datadog's template, CSPM on), waited for until its instances settle.
fn stack_set_by_hand(sb: &Sandbox) -> anyhow::Result<()> {
    use aws_sdk_cloudformation::types::{AutoDeployment, Capability, DeploymentTargets, Parameter, PermissionModels};
    let cfn = cloudformation(sb);
    let production = sb.var("SANDBOX_OU_PRODUCTION").unwrap_or_default().to_owned();
    let param = |k: &str, v: &str| Parameter::builder().parameter_key(k).parameter_value(v).build();
    tokio::runtime::Runtime::new()?.block_on(async {
        cfn.create_stack_set()
            .stack_set_name(SET)
            .template_url(sb.var("SANDBOX_AWS_TEMPLATE_URL").unwrap_or_default())
            .parameters(param("DatadogApiKey", sb.api_key()))
            .parameters(param("DatadogAppKey", sb.app_key()))
            .parameters(param("CloudSecurityPostureManagement", "true"))
            .capabilities(Capability::CapabilityNamedIam)
            .permission_model(PermissionModels::ServiceManaged)
            .auto_deployment(AutoDeployment::builder().enabled(true).retain_stacks_on_account_removal(false).build())
            .send()
            .await?;
        cfn.create_stack_instances()
            .stack_set_name(SET)
            .deployment_targets(DeploymentTargets::builder().organizational_unit_ids(&production).build())
            .regions("us-east-1")
            .send()
            .await?;
        settle(&cfn, SET).await
    })
}

/// Everything Datadog holds, without the timestamps a read-only run leaves alone
/// anyway, for before/after comparison.
fn datadog_accounts(sb: &Sandbox) -> anyhow::Result<Vec<Value>> {
    let mut accounts: Vec<Value> = sb.datadog().accounts()?.into_iter().map(|mut a| { a["attributes"]["modified_at"] = Value::Null; a }).collect();
    accounts.sort_by_key(|a| a["id"].to_string());
    Ok(accounts)
}

/// The AWS calls that change something, from the emulator's call log.
fn aws_writes(sb: &Sandbox) -> anyhow::Result<Vec<String>> {
    let read_only = ["Describe", "List", "Get", "AssumeRole"];
    Ok(sb.emulator()?.call_log()?.iter().filter_map(|c| c["action"].as_str()).filter(|a| !read_only.iter().any(|r| a.starts_with(r))).map(str::to_owned).collect())
}

fn datadog_writes(sb: &Sandbox) -> anyhow::Result<Vec<Value>> {
    Ok(sb.datadog().admin_get("requests")?["requests"].as_array().into_iter().flatten().filter(|r| r["method"] != "GET").cloned().collect())
}

const QUERY: &str = r#"
list "datadog_aws_org_stackset" "org" {
  provider = datadog
}

list "datadog_aws_account_link" "account" {
  provider = datadog
  config {
    stackset_name = "DatadogIntegration"
  }
}

list "datadog_aws_account_link" "outside" {
  provider = datadog
  config {
    aws_account_ids = ["999988887777"]
  }
}
"#;

/// The organization made by hand, adopted with `terraform query
/// -generate-config-out`: one StackSet and one link per account listed, the next
/// plan imports only, the apply writes nothing to Datadog or AWS, and then the plan
/// is empty.
#[test]
fn e2e_query_generates_imports_that_change_nothing() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    stack_set_by_hand(&sb)?;
    let dd = sb.datadog();
    let production: BTreeSet<String> = sb.emulator()?.active_accounts_in(&["Production"])?;
    anyhow::ensure!(dd.aws_account_ids()?.iter().cloned().collect::<BTreeSet<_>>() == production, "the StackSet's stacks registered {:?}", dd.aws_account_ids()?);
    // One account changed by hand in Datadog, one registered by hand outside the StackSet.
    let first = production.iter().next().cloned().unwrap_or_default();
    testkit::fixtures::drift_in_datadog(&sb, &dd.config_id(&first)?, &first)?;
    let outside = json!({"data": {"type": "account", "attributes": {
        "aws_account_id": OUTSIDE, "aws_partition": "aws", "auth_config": {"role_name": "HandMadeRole"},
        "logs_config": {"lambda_forwarder": {"lambdas": [format!("arn:aws:lambda:us-east-1:{OUTSIDE}:function:forwarder")], "sources": ["s3"]}}
    }}});
    dd.api("POST", "/api/v2/integration/aws/accounts", Some(&outside))?.ensure_success()?;

    let before = datadog_accounts(&sb)?;
    let aws_before = aws_writes(&sb)?;
    dd.admin_delete("requests")?;

    let tf = Terraform::pinned(&sb)?.polling_fast();
    tf.write_main_tf(&format!("{REQUIRED_PROVIDERS}\nprovider \"datadog\" {{}}\n"))?;
    tf.write_file("adopt.tfquery.hcl", QUERY)?;
    let out = tf.run_ok(&["query", "-no-color", "-generate-config-out=generated.tf"])?;
    for account in production.iter().chain([&OUTSIDE.to_owned()]) {
        assert!(out.stdout.contains(&format!("AWS account {account} (aws)")), "{account} not listed:\n{}", out.stdout);
    }
    assert!(out.stdout.contains(&format!("StackSet {SET} (SELF)")), "StackSet not listed:\n{}", out.stdout);
    let generated = tf.test_dir().read_file("generated.tf")?;
    assert_eq!(generated.matches("import {").count(), 1 + production.len() + 1, "{generated}");
    assert!(generated.contains("aws_account_id = \"") && generated.contains("identity = {"), "{generated}");
    assert!(generated.contains("team:someone-else"), "the hand-made tags must be written:\n{generated}");
    assert!(generated.contains("HandMadeRole"), "the hand-made role must be written:\n{generated}");
    if std::env::var_os("E2E_QUERY_SHOW").is_some() {
        eprintln!("{generated}");
    }
    // Nothing of the keys in what the query writes or logs, even at TRACE.
    let traced = tf.command(&["query", "-no-color"]).env("TF_LOG", "TRACE").output()?;
    assert!(traced.status.success());
    let logged = format!("{}{}", String::from_utf8_lossy(&traced.stdout), String::from_utf8_lossy(&traced.stderr));
    assert!(logged.contains("ListResource"), "no TRACE log of the list calls");
    for secret in [sb.api_key(), sb.app_key()] {
        assert!(!generated.contains(secret) && !out.stdout.contains(secret) && !out.stderr.contains(secret), "a key was written");
        assert!(!logged.contains(secret), "a key is in the TRACE log");
    }

    let plan = tf.run_ok(&["plan", "-input=false", "-no-color"])?;
    let imports = 1 + production.len() + 1;
    assert!(
        plan.stdout.contains(&format!("Plan: {imports} to import, 0 to add, 0 to change, 0 to destroy.")),
        "the plan must import only:\n{}",
        plan.stdout
    );
    let plan_json = tf.plan_json()?;
    assert!(planned_changes(&plan_json).is_empty(), "{:?}", planned_changes(&plan_json));
    tf.apply()?;
    assert!(tf.plan_is_empty()?, "the plan after adopting is not empty");

    assert_eq!(datadog_writes(&sb)?, Vec::<Value>::new(), "adopting wrote to Datadog");
    assert_eq!(datadog_accounts(&sb)?, before, "Datadog changed");
    assert_eq!(aws_writes(&sb)?, aws_before, "adopting changed AWS");
    let state = tf.test_dir().read_file("terraform.tfstate")?;
    assert!(!state.contains(sb.api_key()) && !state.contains(sb.app_key()), "a key is in the state");
    Ok(())
}

/// Filters and limits: `limit` caps what is listed, a bad filter is refused at
/// its attribute before any call, and OpenTofu and Terraform 1.6 (no `query`) say so
/// in their own words and plan as if the query file were not there.
#[test]
fn e2e_query_filters_limits_and_other_clis() -> anyhow::Result<()> {
    let sb = Sandbox::datadog_only()?;
    let dd = sb.datadog();
    for account in ["111111111111", "222222222222", "333333333333"] {
        let body = json!({"data": {"type": "account", "attributes": {"aws_account_id": account, "aws_partition": "aws", "auth_config": {"role_name": "DatadogIntegrationRole"}}}});
        dd.api("POST", "/api/v2/integration/aws/accounts", Some(&body))?.ensure_success()?;
    }
    let main = format!("{REQUIRED_PROVIDERS}\nprovider \"datadog\" {{}}\n");
    let tf = Terraform::pinned(&sb)?;
    tf.write_main_tf(&main)?;
    tf.write_file(
        "q.tfquery.hcl",
        "list \"datadog_aws_account_link\" \"two\" {\n  provider = datadog\n  limit    = 2\n}\n\nlist \"datadog_aws_account_link\" \"one\" {\n  provider = datadog\n  config {\n    aws_account_ids = [\"333333333333\"]\n    aws_partition   = \"aws\"\n  }\n}\n",
    )?;
    let out = tf.run_ok(&["query", "-no-color", "-json"])?;
    let listed: Vec<Value> = out.stdout.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).filter(|m| m["type"] == "list_resource_found").collect();
    let names = |address: &str| -> Vec<String> {
        listed.iter().filter(|m| m["list_resource_found"]["address"] == address).filter_map(|m| m["list_resource_found"]["display_name"].as_str().map(str::to_owned)).collect()
    };
    assert_eq!(names("list.datadog_aws_account_link.two"), vec!["AWS account 111111111111 (aws)", "AWS account 222222222222 (aws)"], "{}", out.stdout);
    assert_eq!(names("list.datadog_aws_account_link.one"), vec!["AWS account 333333333333 (aws)"], "{}", out.stdout);

    dd.admin_delete("requests")?;
    tf.write_file("q.tfquery.hcl", "list \"datadog_aws_account_link\" \"bad\" {\n  provider = datadog\n  config {\n    aws_account_ids = [\"12\"]\n  }\n}\n")?;
    let bad = tf.run(&["query", "-no-color"])?;
    assert!(!bad.success());
    assert!(bad.stderr.contains("Invalid AWS account ID") && bad.stderr.contains("aws_account_ids"), "{}", bad.describe());
    assert!(dd.admin_get("requests")?["requests"].as_array().is_some_and(Vec::is_empty), "a refused filter must call nothing");

    // OpenTofu has no `query` command: its own message, and the provider untouched.
    let tofu = Terraform::tofu(&sb)?;
    tofu.write_main_tf(&main)?;
    tofu.write_file("q.tfquery.hcl", QUERY)?;
    let out = tofu.run(&["query", "-no-color"])?;
    assert!(!out.success(), "{}", out.describe());
    let said = format!("{}{}", out.stdout, out.stderr);
    assert!(said.contains("OpenTofu has no command named \"query\""), "{said}");
    assert!(!said.contains("panic") && !said.contains("plugin crashed") && !said.contains("orgsync/datadog"), "{said}");
    // And a plan with the query file beside it is the same as without.
    assert!(tofu.plan_is_empty()?);

    // Terraform before 1.14 has no `query` either, and ignores the file.
    let oldest = Terraform::oldest(&sb)?;
    oldest.write_main_tf(&main)?;
    oldest.write_file("q.tfquery.hcl", QUERY)?;
    assert!(!oldest.run(&["query", "-no-color"])?.success());
    assert!(oldest.plan_is_empty()?);
    Ok(())
}
