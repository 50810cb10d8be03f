//! `include_management_account` on `datadog_aws_org_stackset`, driven by real
//! Terraform against the AWS emulator and the Datadog fake: the management account,
//! which a service-managed StackSet never reaches, gets its own stack of the template,
//! is registered in Datadog, joins `account_ids` (so a link covers it), shows its drift
//! at plan like an instance, and goes last on destroy. A delegated administrator is
//! refused at validate, before any API call.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use testkit::{planned_changes, stack_set_account_ids, Sandbox, Terraform, TestDir, REQUIRED_PROVIDERS};

const SET: &str = "DatadogIntegration";
const STACK: &str = "DatadogIntegration-management-account";
const LINKS: &str = "org_stackset.org";

fn config(sb: &Sandbox, extra: &str) -> String {
    testkit::fixtures::org_with_links(sb, SET, &["SANDBOX_OU_DEVELOPMENT"], "", extra, "")
}

fn management(sb: &Sandbox) -> String {
    sb.var("SANDBOX_MANAGEMENT_ACCOUNT_ID").unwrap_or_default().to_owned()
}

/// The StackSet alone over Development, without links.
fn org_only(sb: &Sandbox, extra: &str) -> String {
    format!(
        "{REQUIRED_PROVIDERS}\nprovider \"datadog\" {{}}\nresource \"datadog_aws_org_stackset\" \"org\" {{\n  name = \"{SET}\"\n  region = \"us-east-1\"\n  organizational_unit_ids = [\"{}\"]\n{extra}\n}}\n",
        sb.var("SANDBOX_OU_DEVELOPMENT").unwrap_or_default()
    )
}

/// The management account's stack as the emulator holds it, once no operation runs on it.
fn settled_stack(sb: &Sandbox) -> anyhow::Result<Option<Value>> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let stacks = sb.emulator()?.get("stacks")?;
        let stack = stacks["stacks"].as_array().into_iter().flatten().find(|s| s["name"] == STACK).cloned();
        let busy = stack.as_ref().is_some_and(|s| s["status"].as_str().is_some_and(|st| st.ends_with("_IN_PROGRESS")));
        if !busy {
            return Ok(stack);
        }
        anyhow::ensure!(Instant::now() < deadline, "stack {STACK} still in progress: {stacks}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The management account's registration in Datadog, if any.
fn registration(sb: &Sandbox) -> anyhow::Result<Option<Value>> {
    let id = management(sb);
    Ok(sb.datadog().accounts()?.into_iter().find(|a| a["attributes"]["aws_account_id"] == json!(id)))
}

/// The stack's template changed by hand through the CloudFormation API (a comment
/// appended; every parameter kept), as someone editing it in the console would.
fn change_template_by_hand(sb: &Sandbox) -> anyhow::Result<()> {
    use aws_sdk_cloudformation::types::{Capability, Parameter};
    let cfn = testkit::cloudformation(sb);
    tokio::runtime::Runtime::new()?.block_on(async {
        let body = cfn.get_template().stack_name(STACK).send().await?.template_body().unwrap_or_default().to_owned();
        let mut update = cfn.update_stack().stack_name(STACK).template_body(format!("{body}\n# changed by hand\n")).capabilities(Capability::CapabilityNamedIam);
        for k in ["DatadogApiKey", "DatadogAppKey", "DatadogSite", "IAMRoleName", "DisableMetricCollection", "DisableResourceCollection", "CloudSecurityPostureManagement"] {
            update = update.parameters(Parameter::builder().parameter_key(k).use_previous_value(true).build());
        }
        update.send().await?;
        anyhow::Ok(())
    })?;
    settled_stack(sb)?;
    Ok(())
}

fn seq_of(calls: &[Value]) -> Vec<u64> {
    calls.iter().filter(|c| c["status"] == json!(200)).filter_map(|c| c["seq"].as_u64()).collect()
}

/// The whole life: apply with the flag registers the management account and covers
/// it with a link, the plan after is empty; a parameter changed by hand on its stack
/// and the stack deleted by hand each plan an update that the next apply repairs;
/// destroy deletes the instances, the StackSet, then the stack, leaving nothing in
/// Datadog. No secret in state, plans or TRACE logs.
#[test]
fn e2e_management_account_is_covered_repaired_and_destroyed_last() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    let tf = Terraform::pinned(&sb)?.polling_fast().with_env("TF_LOG", "TRACE");
    let mgmt = management(&sb);
    let link = format!("datadog_aws_account_link.account[\"{mgmt}\"]");
    tf.write_main_tf(&config(&sb, "  include_management_account = true"))?;
    let plan = tf.plan_json()?;
    let planned = planned_changes(&plan);
    assert!(planned.contains(&(link.clone(), vec!["create".to_owned()])), "the first plan must already know the management account: {planned:?}");
    let mut artefacts = tf.apply_and_collect_outputs()?;
    assert!(tf.plan_is_empty()?, "second plan is not empty");

    let state = tf.state_json()?;
    let covered = stack_set_account_ids(&state);
    assert!(covered.contains(&mgmt), "account_ids must include the management account: {covered:?}");
    assert_eq!(covered.len(), 4, "Development's 3 accounts and the management account: {covered:?}");
    let stack = settled_stack(&sb)?.ok_or_else(|| anyhow::anyhow!("no management account stack"))?;
    assert_eq!(stack["status"], "CREATE_COMPLETE", "{stack}");
    assert_eq!(stack["region"], "us-east-1", "the StackSet's deployment region: {stack}");
    assert!(stack["id"].as_str().unwrap_or_default().contains(&format!(":{mgmt}:stack/{STACK}/")), "{stack}");
    assert_eq!(stack["parameters"]["DatadogApiKey"], "****");
    let registered = registration(&sb)?.ok_or_else(|| anyhow::anyhow!("the management account is not registered in Datadog"))?;
    assert_eq!(registered["attributes"]["metrics_config"]["enabled"], json!(true));
    assert_eq!(sb.datadog().accounts()?.len(), 4, "no duplicate registration");

    // A parameter changed by hand on the stack (the console's "update stack").
    sb.emulator()?.post(&format!("stacks/{STACK}/parameters"), &json!({"parameters": {"DisableMetricCollection": "true"}}))?;
    settled_stack(&sb)?;
    assert_eq!(registration(&sb)?.map(|r| r["attributes"]["metrics_config"]["enabled"].clone()), Some(json!(false)));
    let plan = tf.plan_json()?;
    let changes = planned_changes(&plan);
    assert!(changes.contains(&(format!("datadog_aws_{LINKS}"), vec!["update".to_owned()])), "{changes:?}");
    let text = tf.run_ok(&["plan", "-no-color", "-input=false"])?.describe();
    assert!(text.contains("management account's stack"), "the plan says why: {text}");
    artefacts += &tf.apply_and_collect_outputs()?;
    assert!(tf.plan_is_empty()?, "apply did not repair the management account's stack");
    let stack = settled_stack(&sb)?.unwrap_or_default();
    assert_eq!(stack["parameters"]["DisableMetricCollection"], "false", "{stack}");
    assert_eq!(registration(&sb)?.map(|r| r["attributes"]["metrics_config"]["enabled"].clone()), Some(json!(true)));

    // The stack deleted by hand (its custom resource unregisters the account).
    sb.emulator()?.call("DELETE", &format!("stacks/{STACK}"), None)?;
    assert!(registration(&sb)?.is_none());
    let plan = tf.plan_json()?;
    let changes = planned_changes(&plan);
    assert!(changes.contains(&(format!("datadog_aws_{LINKS}"), vec!["update".to_owned()])), "{changes:?}");
    assert!(changes.contains(&(link.clone(), vec!["create".to_owned()])), "the link comes back with the registration: {changes:?}");
    assert_eq!(changes.len(), 2, "no other link may change: {changes:?}");
    artefacts += &tf.apply_and_collect_outputs()?;
    assert!(tf.plan_is_empty()?, "apply did not recreate the management account's stack");
    assert!(registration(&sb)?.is_some());

    sb.emulator()?.call("DELETE", "calls", None)?;
    artefacts += &tf.run_ok(&["destroy", "-auto-approve", "-input=false", "-no-color"])?.describe();
    assert!(settled_stack(&sb)?.is_none(), "the management account's stack is left");
    assert!(sb.datadog().accounts()?.is_empty(), "Datadog accounts are left after destroy");
    let emulator = sb.emulator()?;
    let (instances, set, stack) = (seq_of(&emulator.calls("DeleteStackInstances")?), seq_of(&emulator.calls("DeleteStackSet")?), seq_of(&emulator.calls("DeleteStack")?));
    assert!(!instances.is_empty() && !set.is_empty() && !stack.is_empty(), "instances, StackSet and stack must all be deleted");
    assert!(instances.iter().max() < set.iter().min() && set.iter().max() < stack.iter().min(), "order: instances, StackSet, then the stack");

    assert!(artefacts.contains("provider.terraform-provider-datadog"), "TRACE logs were collected");
    let state = tf.test_dir().read_file("terraform.tfstate")?;
    for secret in [sb.api_key(), sb.app_key(), sb.var("AWS_SECRET_ACCESS_KEY").unwrap_or("unset")] {
        assert!(!artefacts.contains(secret), "a secret leaked into an output or log");
        assert!(!state.contains(secret), "a secret is in the state");
    }
    Ok(())
}

/// Turning the flag off deletes the stack and its registration; an import of the
/// StackSet picks the stack up when it exists, and the plan after is empty.
#[test]
fn e2e_management_account_stack_is_removed_when_turned_off_and_imported_when_present() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    let tf = Terraform::pinned(&sb)?.polling_fast();
    let org_only = |extra: &str| org_only(&sb, extra);
    tf.write_main_tf(&org_only("  include_management_account = true"))?;
    tf.apply()?;
    assert!(registration(&sb)?.is_some());

    // The stack's template changed by hand: drift at plan, put back by apply.
    change_template_by_hand(&sb)?;
    let plan = tf.plan_json()?;
    assert_eq!(planned_changes(&plan), vec![("datadog_aws_org_stackset.org".to_owned(), vec!["update".to_owned()])]);
    tf.apply()?;
    assert!(tf.plan_is_empty()?, "apply did not put the template back");

    // A StackSet parameter changes the management account's stack in the same apply.
    tf.write_main_tf(&org_only("  include_management_account = true\n  disable_metric_collection = true"))?;
    tf.apply()?;
    assert!(tf.plan_is_empty()?);
    assert_eq!(settled_stack(&sb)?.unwrap_or_default()["parameters"]["DisableMetricCollection"], "true");
    assert_eq!(registration(&sb)?.map(|r| r["attributes"]["metrics_config"]["enabled"].clone()), Some(json!(false)));
    tf.write_main_tf(&org_only("  include_management_account = true"))?;
    tf.apply()?;

    // Import into another directory: the stack is found and the flag comes with it.
    let other = Terraform::pinned(&sb)?.polling_fast().in_dir(TestDir::new("e2e_management_account_import")?);
    other.write_main_tf(&format!("{}\nimport {{\n  to = datadog_aws_org_stackset.org\n  id = \"{SET}\"\n}}\n", org_only("  include_management_account = true")))?;
    let plan = other.plan_json()?;
    assert!(planned_changes(&plan).is_empty(), "import only: {:?}", planned_changes(&plan));
    let imported = plan["resource_changes"].as_array().into_iter().flatten().find(|c| !c["change"]["importing"].is_null()).cloned().unwrap_or_default();
    assert_eq!(imported["change"]["after"]["include_management_account"], json!(true), "{plan}");

    tf.write_main_tf(&org_only(""))?;
    let plan = tf.plan_json()?;
    let changes = planned_changes(&plan);
    assert_eq!(changes, vec![("datadog_aws_org_stackset.org".to_owned(), vec!["update".to_owned()])], "{changes:?}");
    tf.apply()?;
    assert!(tf.plan_is_empty()?);
    assert!(settled_stack(&sb)?.is_none(), "turning the flag off deletes the stack");
    assert!(registration(&sb)?.is_none(), "and its Datadog registration");
    assert!(!stack_set_account_ids(&tf.state_json()?).contains(&management(&sb)));
    Ok(())
}

/// A delegated administrator cannot create a stack in the management account: the
/// flag with `call_as = "DELEGATED_ADMIN"` is a validate error on the attribute, and
/// a plan stops there, before any AWS call.
#[test]
fn e2e_delegated_admin_with_the_management_account_is_refused_at_validate() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    let tf = Terraform::pinned(&sb)?.polling_fast();
    tf.write_main_tf(&format!(
        r#"{REQUIRED_PROVIDERS}
provider "datadog" {{}}
resource "datadog_aws_org_stackset" "org" {{
  name                       = "{SET}"
  region                     = "us-east-1"
  organizational_unit_ids    = ["r-abcd"]
  call_as                    = "DELEGATED_ADMIN"
  include_management_account = true
}}
"#
    ))?;
    let report = tf.run(&["validate", "-json", "-no-color"])?.json()?;
    let diag = report["diagnostics"].as_array().into_iter().flatten().find(|d| d["severity"] == "error").cloned().unwrap_or_default();
    assert_eq!(diag["summary"], "The management account's stack needs the management account", "{report}");
    assert!(diag["detail"].as_str().unwrap_or_default().contains("only the management account can create a stack in itself"), "{diag}");
    assert!(diag["snippet"]["code"].as_str().unwrap_or_default().contains("include_management_account"), "the error points at the attribute: {diag}");
    let plan = tf.run(&["plan", "-no-color", "-input=false"])?;
    assert!(!plan.success(), "the plan must stop at the error");
    let cloudformation: Vec<Value> = sb.emulator()?.call_log()?.into_iter().filter(|c| c["service"] == "cloudformation").collect();
    assert!(cloudformation.is_empty(), "no CloudFormation call may happen: {cloudformation:?}");
    Ok(())
}

/// A stack whose create failed is named with account, region and CloudFormation's
/// reason, stays out of `account_ids`, and is deleted and created again by the next
/// apply (with a warning); a state that lost the resource adopts the existing
/// StackSet and stack instead of creating them twice.
#[test]
fn e2e_a_failed_management_stack_is_recreated_and_an_existing_one_adopted() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    let tf = Terraform::pinned(&sb)?.polling_fast();
    let mgmt = management(&sb);
    tf.write_main_tf(&org_only(&sb, "  include_management_account = true"))?;
    sb.emulator()?.fail_instances(&[&mgmt], "Injected: role creation failed")?;
    let out = tf.apply()?.describe();
    for part in [mgmt.as_str(), "us-east-1", STACK, "ROLLBACK_COMPLETE", "Injected: role creation failed"] {
        assert!(out.contains(part), "the failure must name {part:?}: {out}");
    }
    assert_eq!(settled_stack(&sb)?.unwrap_or_default()["status"], "ROLLBACK_COMPLETE");
    assert!(registration(&sb)?.is_none());
    let plan = tf.plan_json()?;
    assert_eq!(planned_changes(&plan), vec![("datadog_aws_org_stackset.org".to_owned(), vec!["update".to_owned()])]);

    let out = tf.apply()?.describe();
    assert!(out.contains("Recreating the management account's stack"), "a clear warning: {out}");
    assert!(tf.plan_is_empty()?, "the next apply finishes the failed one");
    assert_eq!(settled_stack(&sb)?.unwrap_or_default()["status"], "CREATE_COMPLETE");
    assert!(registration(&sb)?.is_some());
    assert!(stack_set_account_ids(&tf.state_json()?).contains(&mgmt));

    tf.run_ok(&["state", "rm", "datadog_aws_org_stackset.org"])?;
    tf.apply()?;
    assert!(tf.plan_is_empty()?);
    assert_eq!(seq_of(&sb.emulator()?.calls("CreateStack")?).len(), 2, "the failed create and its retry; the existing stack is adopted");
    assert_eq!(sb.datadog().accounts()?.len(), 4, "no duplicate registration");
    Ok(())
}
