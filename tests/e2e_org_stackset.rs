//! `datadog_aws_org_stackset` with account links, driven by real Terraform against the
//! AWS emulator (moto behind our launcher, which runs the template's Datadog
//! registration) and the Datadog fake. Seed: root; Production (3 active accounts and
//! a suspended one); Development (2) with child Sandbox (1).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use testkit::{cloudformation, changes_of, planned_changes, settle, stack_set_account_ids, state_resource, Sandbox, Terraform, TestDir, REQUIRED_PROVIDERS};

const SET: &str = "DatadogIntegration";

fn config(sb: &Sandbox, targets: &[&str], extra: &str) -> String {
    config_links(sb, targets, extra, "  account_tags       = [\"team:platform\"]\n  metrics = {\n    collect_custom_metrics = true\n  }\n")
}

/// The StackSet and one link per account, wired the documented way; `link` is the
/// rest of the link's body.
fn config_links(sb: &Sandbox, targets: &[&str], extra: &str, link: &str) -> String {
    testkit::fixtures::org_with_links(sb, SET, targets, "", extra, link)
}

/// The quickstart's links: nothing but the account and the wiring.
fn quickstart(sb: &Sandbox, targets: &[&str], extra: &str) -> String {
    config_links(sb, targets, extra, "")
}

/// The state holds no Datadog key and no AWS secret.
fn assert_no_secret_in_state(sb: &Sandbox, tf: &Terraform) -> anyhow::Result<()> {
    let state = tf.test_dir().read_file("terraform.tfstate")?;
    for secret in [sb.api_key(), sb.app_key(), sb.var("AWS_SECRET_ACCESS_KEY").unwrap_or("unset")] {
        assert!(!state.contains(secret), "a secret is in the state");
    }
    Ok(())
}

/// Attributes a planned change leaves unknown ("known after apply").
fn unknown_after(plan: &Value, address: &str) -> BTreeSet<String> {
    let changes = plan["resource_changes"].as_array().cloned().unwrap_or_default();
    let change = changes.iter().find(|c| c["address"] == address).cloned().unwrap_or_default();
    change["change"]["after_unknown"].as_object().map(|o| o.iter().filter(|(_, v)| **v == json!(true)).map(|(k, _)| k.clone()).collect()).unwrap_or_default()
}

fn only_updates(plan: &Value) -> bool {
    let changes = planned_changes(plan);
    !changes.is_empty() && changes.iter().all(|(_, actions)| actions == &vec!["update".to_owned()])
}

/// The guide in one apply from an empty state: the StackSet over the whole
/// organization and one link per account (for_each over plan-time account_ids),
/// then an empty plan, then destroy in the guide's order leaving nothing behind.
#[test]
fn e2e_whole_organization_in_one_apply_then_empty_plan_then_destroy() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    let tf = Terraform::pinned(&sb)?.polling_fast();
    tf.write_main_tf(&config(&sb, &["SANDBOX_ROOT_ID"], ""))?;
    let plan = tf.plan_json()?;
    let creates = planned_changes(&plan).iter().filter(|(_, a)| a == &vec!["create".to_owned()]).count();
    assert_eq!(creates, 1 + sb.member_accounts().len(), "the first plan must already know every account");
    tf.apply()?;
    assert!(tf.plan_is_empty()?, "second plan is not empty");

    let state = tf.state_json()?;
    assert_eq!(stack_set_account_ids(&state), sb.member_accounts());
    let management = sb.var("SANDBOX_MANAGEMENT_ACCOUNT_ID").unwrap_or_default();
    assert!(!stack_set_account_ids(&state).contains(management), "the management account never gets an instance");
    let dd = sb.datadog().accounts()?;
    assert_eq!(dd.len(), sb.member_accounts().len(), "one Datadog account per member account, no duplicates");
    for a in &dd {
        assert_eq!(a["attributes"]["account_tags"], json!(["team:platform"]), "the link's settings win");
    }

    tf.destroy()?;
    let sets = sb.emulator()?.get("stacksets")?;
    assert!(sets.to_string().matches(SET).count() == 0 || sets["stack_sets"].as_array().is_some_and(|s| s.is_empty()), "a StackSet is left: {sets}");
    assert!(sb.datadog().accounts()?.is_empty(), "Datadog accounts are left after destroy");
    let deletes = sb.emulator()?.calls("DeleteStackInstances")?;
    let set_deletes = sb.emulator()?.calls("DeleteStackSet")?;
    assert!(!deletes.is_empty() && !set_deletes.is_empty(), "instances, then the StackSet, must be deleted");
    Ok(())
}

/// An OU subset covers the OU's accounts and its child OUs', nothing else.
#[test]
fn e2e_ou_subset_covers_child_ous_only() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    let tf = Terraform::pinned(&sb)?.polling_fast();
    tf.write_main_tf(&config(&sb, &["SANDBOX_OU_DEVELOPMENT"], "  cloud_security_posture_management = true\n  disable_metric_collection = true"))?;
    tf.apply()?;
    assert!(tf.plan_is_empty()?);
    let ids = stack_set_account_ids(&tf.state_json()?);
    assert_eq!(ids.len(), 3, "Development has 2 accounts and its Sandbox child 1: {ids:?}");
    Ok(())
}

/// Drift made outside Terraform shows as an in-place update and apply repairs it:
/// an instance deleted, an account added while auto-deployment is off.
#[test]
fn e2e_drift_is_planned_in_place_and_repaired() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    let tf = Terraform::pinned(&sb)?.polling_fast();
    tf.write_main_tf(&config(&sb, &["SANDBOX_ROOT_ID"], "  auto_deployment = { enabled = false }"))?;
    tf.apply()?;
    let victim = sb.member_accounts().into_iter().next().unwrap_or_default();

    sb.emulator()?.remove_instance(SET, &victim, "us-east-1")?;
    // The stack's deletion also removed the account from Datadog: the link is re-created.
    let plan = tf.plan_json()?;
    let changes = planned_changes(&plan);
    assert!(changes.contains(&("datadog_aws_org_stackset.org".to_owned(), vec!["update".to_owned()])), "{changes:?}");
    assert!(changes.contains(&(format!("datadog_aws_account_link.account[\"{victim}\"]"), vec!["create".to_owned()])), "{changes:?}");
    assert_eq!(changes.len(), 2, "no other link may change: {changes:?}");
    tf.apply()?;
    assert!(tf.plan_is_empty()?, "apply did not repair the deleted instance");

    let added = sb.emulator()?.add_accounts(&json!({"name": "late-joiner", "ou_path": "Production"}))?;
    let new_id = added["id"].as_str().unwrap_or_default().to_owned();
    let plan = tf.plan_json()?;
    let changes = planned_changes(&plan);
    assert!(changes.contains(&("datadog_aws_org_stackset.org".to_owned(), vec!["update".to_owned()])), "{changes:?}");
    assert!(changes.contains(&(format!("datadog_aws_account_link.account[\"{new_id}\"]"), vec!["create".to_owned()])), "{changes:?}");
    assert_eq!(changes.len(), 2, "a repair deploys the new account only, so no other link may change: {changes:?}");
    tf.apply()?;
    assert!(tf.plan_is_empty()?);
    assert!(stack_set_account_ids(&tf.state_json()?).contains(&new_id));
    Ok(())
}

/// A parameter change updates the StackSet; the template's custom resource resets
/// every account in Datadog, and the links wired to `revision` put their settings
/// back in the same apply. The next plan is empty.
#[test]
fn e2e_parameter_change_with_links_wired_to_revision_leaves_an_empty_plan() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    let tf = Terraform::pinned(&sb)?.polling_fast();
    tf.write_main_tf(&config(&sb, &["SANDBOX_OU_PRODUCTION"], ""))?;
    tf.apply()?;
    let before = state_resource(&tf.state_json()?, "datadog_aws_org_stackset.org").map(|r| r["values"]["revision"].clone());
    tf.write_main_tf(&config(&sb, &["SANDBOX_OU_PRODUCTION"], "  disable_resource_collection = true"))?;
    let plan = tf.plan_json()?;
    assert!(only_updates(&plan), "{:?}", planned_changes(&plan));
    let links = changes_of(&plan, "datadog_aws_account_link.");
    assert_eq!(links.len(), 3, "every stack re-runs, so every link re-sends: {links:?}");
    for (address, _) in &links {
        let unknown = unknown_after(&plan, address);
        assert!(!unknown.contains("id") && !unknown.contains("external_id"), "an updated stack keeps the registration: {address} {unknown:?}");
    }
    tf.apply()?;
    assert!(tf.plan_is_empty()?, "links did not restore their settings after the StackSet update");
    let after = state_resource(&tf.state_json()?, "datadog_aws_org_stackset.org").map(|r| r["values"]["revision"].clone());
    assert_ne!(before, after, "an UpdateStackSet must change the revision");
    for a in sb.datadog().accounts()? {
        assert_eq!(a["attributes"]["account_tags"], json!(["team:platform"]));
        assert_eq!(a["attributes"]["metrics_config"]["collect_custom_metrics"], true);
    }
    assert!(!sb.emulator()?.calls("UpdateStackSet")?.is_empty());
    Ok(())
}

/// One account fails on create: the account is named, the StackSet stays in state,
/// and the next apply repairs in place, never replacing the StackSet.
#[test]
fn e2e_failed_account_is_named_and_repaired_without_replacement() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    let victim = sb.member_accounts().into_iter().next_back().unwrap_or_default();
    sb.emulator()?.fail_instances(&[victim.as_str()], "Injected: role creation failed")?;
    let tf = Terraform::pinned(&sb)?.polling_fast();
    tf.write_main_tf(&config(&sb, &["SANDBOX_ROOT_ID"], ""))?;
    let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"])?;
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(!out.success(), "the account that failed cannot be linked, so the apply must fail");
    assert!(text.contains(&victim) && text.contains("Injected: role creation failed"), "the failure must name the account and AWS's reason:\n{text}");
    let plan = tf.plan_json()?;
    let set_change = planned_changes(&plan).into_iter().find(|(a, _)| a == "datadog_aws_org_stackset.org");
    assert_eq!(set_change.map(|(_, a)| a), Some(vec!["update".to_owned()]), "the StackSet must be repaired in place");
    tf.apply()?;
    assert!(tf.plan_is_empty()?);
    assert_eq!(sb.emulator()?.calls("CreateStackSet")?.len(), 1, "the StackSet must never be re-created");
    Ok(())
}

/// Several regions, bad OU ids and CSPM without resource collection are refused at
/// validate, before any AWS call.
#[test]
fn e2e_validate_refuses_regions_ou_ids_and_cspm_without_resources() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    let tf = Terraform::pinned(&sb)?.polling_fast();
    tf.write_main_tf(&format!(
        r#"{REQUIRED_PROVIDERS}
resource "datadog_aws_org_stackset" "regions" {{
  name                    = "a"
  region                  = ["us-east-1", "eu-west-1"]
  organizational_unit_ids = ["r-abcd"]
}}
resource "datadog_aws_org_stackset" "ous" {{
  name                    = "b"
  region                  = "us-east-1"
  organizational_unit_ids = ["123456789012"]
}}
resource "datadog_aws_org_stackset" "nowhere" {{
  name                    = "d"
  region                  = "us-east-99"
  organizational_unit_ids = ["r-abcd"]
}}
resource "datadog_aws_org_stackset" "cspm" {{
  name                              = "c"
  region                            = "us-east-1"
  organizational_unit_ids           = ["r-abcd"]
  cloud_security_posture_management = true
  disable_resource_collection       = true
}}
"#
    ))?;
    let report = tf.run(&["validate", "-json", "-no-color"])?.json()?;
    let summaries: Vec<String> = report["diagnostics"].as_array().into_iter().flatten().filter_map(|d| d["summary"].as_str().map(str::to_owned)).collect();
    for expected in ["Exactly one region", "Invalid organizational unit id", "CSPM needs resource collection", "Invalid AWS region"] {
        assert!(summaries.iter().any(|s| s == expected), "missing {expected:?} in {summaries:?}");
    }
    let detail = report["diagnostics"].to_string();
    assert!(detail.contains("global IAM"), "the region error must give the guide's reason");
    let nowhere = report["diagnostics"].as_array().into_iter().flatten().find(|d| d["summary"] == "Invalid AWS region").cloned().unwrap_or_default();
    assert!(nowhere["detail"].as_str().unwrap_or_default().contains("us-east-99"), "{nowhere}");
    assert_eq!(nowhere["address"], "datadog_aws_org_stackset.nowhere", "{nowhere}");
    assert!(sb.emulator()?.calls("CreateStackSet")?.is_empty());
    Ok(())
}

/// A missing OU and trusted access off are refused at plan, with what to do.
#[test]
fn e2e_plan_refuses_a_missing_ou_and_trusted_access_off() -> anyhow::Result<()> {
    let sb = Sandbox::start_with(&[("SANDBOX_TRUSTED_ACCESS", "disabled")])?;
    let tf = Terraform::pinned(&sb)?.polling_fast();
    tf.write_main_tf(&config(&sb, &["ou-abcd-abcdefgh"], ""))?;
    let out = tf.run(&["plan", "-input=false", "-no-color"])?;
    assert!(!out.success());
    assert!(out.stderr.contains("Trusted access with AWS Organizations is off"), "{}", out.describe());
    assert!(out.stderr.contains("ou-abcd-abcdefgh") && out.stderr.contains("not the root or an OU"), "{}", out.describe());
    // Asking the resource to activate it makes the plan go through.
    tf.write_main_tf(&config(&sb, &["SANDBOX_ROOT_ID"], "  activate_trusted_access = true"))?;
    tf.apply()?;
    assert!(tf.plan_is_empty()?);
    Ok(())
}

/// Throttling and OperationInProgressException (another operation holding the set)
/// are waited out; the apply converges.
#[test]
fn e2e_throttling_and_operation_in_progress_converge() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    sb.emulator()?.throttle("CreateStackInstances", 2)?;
    sb.emulator()?.operation_in_progress(SET, 2)?;
    sb.emulator()?.throttle("ListStackInstances", 2)?;
    let tf = Terraform::pinned(&sb)?.polling_fast();
    tf.write_main_tf(&config(&sb, &["SANDBOX_ROOT_ID"], ""))?;
    tf.apply()?;
    assert!(tf.plan_is_empty()?);
    assert_eq!(stack_set_account_ids(&tf.state_json()?), sb.member_accounts());
    Ok(())
}

/// A StackSet applied from one directory, then imported with `import_block` into a
/// second directory with the same configuration; returns the second, applied. The
/// links there are adopted (they exist in Datadog); the plan after is empty and no
/// second StackSet is ever created.
fn import_into_another_directory(sb: &Sandbox, dir: &str, import_block: &str) -> anyhow::Result<Terraform> {
    let owner = Terraform::pinned(sb)?.polling_fast();
    owner.write_main_tf(&config(sb, &["SANDBOX_OU_PRODUCTION"], ""))?;
    owner.apply()?;
    let other = Terraform::pinned(sb)?.polling_fast().in_dir(TestDir::new(dir)?);
    other.write_main_tf(&format!("{}\n{import_block}", config(sb, &["SANDBOX_OU_PRODUCTION"], "")))?;
    other.apply()?;
    assert!(other.plan_is_empty()?, "plan after import is not empty");
    assert_eq!(sb.emulator()?.calls("CreateStackSet")?.len(), 1);
    Ok(other)
}

/// Import by name with matching configuration: the next plan is empty.
#[test]
fn e2e_import_by_name_then_plan_is_empty() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    import_into_another_directory(&sb, "e2e_stackset_import", &format!("import {{\n  to = datadog_aws_org_stackset.org\n  id = \"{SET}\"\n}}\n"))?;
    Ok(())
}

/// Import by identity (Terraform 1.12+): `identity = { name, administration_region }`
/// imports the StackSet like `NAME,SELF,REGION` would; state records the identity.
#[test]
fn e2e_import_by_identity_then_plan_is_empty() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    let block = format!("import {{\n  to       = datadog_aws_org_stackset.org\n  identity = {{\n    name                  = \"{SET}\"\n    administration_region = \"us-east-1\"\n  }}\n}}\n");
    let other = import_into_another_directory(&sb, "e2e_stackset_import_identity", &block)?;
    let state: Value = serde_json::from_str(&other.test_dir().read_file("terraform.tfstate")?)?;
    let set = state["resources"].as_array().into_iter().flatten().find(|r| r["type"] == "datadog_aws_org_stackset").map(|r| r["instances"][0].clone()).unwrap_or_default();
    assert_eq!(set["identity"], json!({"name": SET, "call_as": "SELF", "administration_region": "us-east-1"}), "{set}");
    Ok(())
}

/// Terraform killed (SIGKILL) while it waits for the instances: the next apply
/// joins or finishes the interrupted operation, without a duplicate.
#[test]
fn e2e_killed_apply_converges_without_duplicate_operation() -> anyhow::Result<()> {
    let sb = Sandbox::start_with(&[("SANDBOX_INSTANCE_SECONDS", "1")])?;
    let tf = Terraform::pinned(&sb)?.polling_fast();
    tf.write_main_tf(&config(&sb, &["SANDBOX_ROOT_ID"], ""))?;
    let mut cmd = tf.command(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn()?;
    let started = Instant::now();
    loop {
        anyhow::ensure!(started.elapsed() < Duration::from_secs(120), "no instance operation started");
        if !sb.emulator()?.calls("CreateStackInstances")?.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_millis(1500));
    // SIGKILL to Terraform and the provider it started: nothing gets to clean up.
    testkit::signal::kill_group(child.id())?;
    let _ = child.wait();
    tf.apply()?;
    assert!(tf.plan_is_empty()?);
    assert_eq!(stack_set_account_ids(&tf.state_json()?), sb.member_accounts());
    let ops: BTreeSet<String> = sb.emulator()?.calls("CreateStackInstances")?.iter().filter_map(|c| c["operation_id"].as_str().map(str::to_owned)).collect();
    assert_eq!(ops.len(), 1, "the interrupted CreateStackInstances operation must be joined, not repeated: {ops:?}");
    assert_eq!(sb.datadog().accounts()?.len(), sb.member_accounts().len());
    Ok(())
}

/// Datadog keys and the AWS secret key never reach state, plans or TRACE logs.
#[test]
fn e2e_stackset_secrets_never_appear_in_state_plans_or_trace_logs() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    let tf = Terraform::pinned(&sb)?.polling_fast().with_env("TF_LOG", "TRACE");
    tf.write_main_tf(&config(&sb, &["SANDBOX_OU_DEVELOPMENT"], ""))?;
    let mut artefacts = tf.apply_and_collect_outputs()?;
    artefacts += &tf.run_ok(&["destroy", "-auto-approve", "-input=false", "-no-color"])?.describe();
    assert!(artefacts.contains("provider.terraform-provider-datadog"));
    let aws_secret = sb.var("AWS_SECRET_ACCESS_KEY").unwrap_or_default();
    assert!(aws_secret.len() >= 32);
    for secret in [sb.api_key(), sb.app_key(), aws_secret] {
        assert!(!artefacts.contains(secret), "a secret leaked");
    }
    Ok(())
}

/// At INFO, the progress lines of an apply carry the request's correlation fields,
/// so one operation's lines can be told apart in a busy log.
#[test]
fn e2e_info_log_lines_carry_the_request_fields() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    let tf = Terraform::pinned(&sb)?.polling_fast().with_env("TF_LOG", "INFO");
    tf.write_main_tf(&format!(
        "{REQUIRED_PROVIDERS}\nprovider \"datadog\" {{}}\n\nresource \"datadog_aws_org_stackset\" \"org\" {{\n  name                    = \"{SET}\"\n  region                  = \"us-east-1\"\n  organizational_unit_ids = [\"{}\"]\n}}\n",
        sb.var("SANDBOX_OU_DEVELOPMENT").unwrap_or_default()
    ))?;
    let log = tf.apply_and_collect_outputs()?;
    let progress: Vec<&str> = log.lines().filter(|l| l.contains("provider.terraform-provider-datadog") && l.contains("waiting for")).collect();
    assert!(!progress.is_empty(), "no INFO progress line from the provider:\n{log}");
    for line in progress {
        for field in ["tf_req_id=", "tf_rpc=ApplyResourceChange", "tf_resource_type=datadog_aws_org_stackset"] {
            assert!(line.contains(field), "{field} missing from: {line}");
        }
    }
    Ok(())
}

/// Updates the StackSet the way a person would through the AWS API: every template
/// parameter kept except those in `changed`, and the template kept unless a new
/// body is given. Waits until it settles.
async fn update_stack_set_by_hand(cfn: &aws_sdk_cloudformation::Client, body: Option<String>, changed: &[(&str, &str)]) -> anyhow::Result<()> {
    use aws_sdk_cloudformation::types::{Capability, Parameter};
    let mut update = cfn.update_stack_set().stack_set_name(SET).capabilities(Capability::CapabilityNamedIam);
    update = match body {
        Some(b) => update.template_body(b),
        None => update.use_previous_template(true),
    };
    for k in ["DatadogApiKey", "DatadogAppKey", "DatadogSite", "IAMRoleName", "DisableMetricCollection", "DisableResourceCollection", "CloudSecurityPostureManagement"] {
        let p = match changed.iter().find(|(name, _)| *name == k) {
            Some((_, v)) => Parameter::builder().parameter_key(k).parameter_value(*v).build(),
            None => Parameter::builder().parameter_key(k).use_previous_value(true).build(),
        };
        update = update.parameters(p);
    }
    update.send().await?;
    settle(cfn, SET).await
}

/// The StackSet's entry in a plan's `resource_changes`.
fn stack_set_change(plan: &Value) -> Value {
    plan["resource_changes"].as_array().and_then(|c| c.iter().find(|r| r["address"] == "datadog_aws_org_stackset.org")).cloned().unwrap_or_default()
}

/// One attribute of the StackSet in a state.
fn stack_set_attribute(state: &Value, name: &str) -> Value {
    state_resource(state, "datadog_aws_org_stackset.org").map(|r| r["values"][name].clone()).unwrap_or_default()
}

/// A written template parameter changed and an OU's instances deleted through the
/// AWS API: both show as in-place updates and apply puts them back.
#[test]
fn e2e_parameter_and_ou_changed_through_the_aws_api_are_repaired() -> anyhow::Result<()> {
    use aws_sdk_cloudformation::types::DeploymentTargets;
    let sb = Sandbox::start_fast()?;
    let tf = Terraform::pinned(&sb)?.polling_fast();
    let targets = ["SANDBOX_OU_PRODUCTION", "SANDBOX_OU_DEVELOPMENT"];
    // Written, so managed: a change made outside Terraform is drift to repair.
    tf.write_main_tf(&config(&sb, &targets, "  disable_metric_collection = false"))?;
    tf.apply()?;
    let cfn = cloudformation(&sb);
    let rt = tokio::runtime::Runtime::new()?;

    rt.block_on(update_stack_set_by_hand(&cfn, None, &[("DisableMetricCollection", "true")]))?;
    let plan = tf.plan_json()?;
    let set = stack_set_change(&plan);
    assert_eq!(set["change"]["actions"], json!(["update"]));
    assert_eq!(set["change"]["before"]["disable_metric_collection"], true, "the refresh must read the parameter back");
    tf.apply()?;
    assert!(tf.plan_is_empty()?, "apply did not restore the parameter");

    let development = sb.var("SANDBOX_OU_DEVELOPMENT").unwrap_or_default().to_owned();
    rt.block_on(async {
        cfn.delete_stack_instances()
            .stack_set_name(SET)
            .deployment_targets(DeploymentTargets::builder().organizational_unit_ids(&development).build())
            .regions("us-east-1")
            .retain_stacks(false)
            .send()
            .await?;
        settle(&cfn, SET).await
    })?;
    let plan = tf.plan_json()?;
    let changes = planned_changes(&plan);
    assert!(changes.contains(&("datadog_aws_org_stackset.org".to_owned(), vec!["update".to_owned()])), "{changes:?}");
    tf.apply()?;
    assert!(tf.plan_is_empty()?, "apply did not redeploy the OU");
    assert_eq!(stack_set_account_ids(&tf.state_json()?), sb.member_accounts());
    Ok(())
}

/// A template edited and instances added in a second region through the AWS API:
/// the plan shows both on computed attributes (`template_sha256`,
/// `deployed_regions`), never by rewriting what the configuration says, and apply
/// puts the configured template and the one region back.
#[test]
fn e2e_template_and_region_drift_show_on_computed_attributes_and_are_repaired() -> anyhow::Result<()> {
    use aws_sdk_cloudformation::types::DeploymentTargets;
    let sb = Sandbox::start_fast()?;
    let tf = Terraform::pinned(&sb)?.polling_fast();
    tf.write_main_tf(&config(&sb, &["SANDBOX_OU_PRODUCTION"], ""))?;
    tf.apply()?;
    let applied = stack_set_attribute(&tf.state_json()?, "template_sha256");
    let cfn = cloudformation(&sb);
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let set = cfn.describe_stack_set().stack_set_name(SET).send().await?;
        let body = set.stack_set().and_then(|s| s.template_body()).unwrap_or_default().to_owned();
        update_stack_set_by_hand(&cfn, Some(format!("{body}\n# edited by hand\n")), &[]).await
    })?;
    let plan = tf.plan_json()?;
    let set = stack_set_change(&plan);
    assert_eq!(set["change"]["actions"], json!(["update"]), "{set}");
    assert_eq!(set["change"]["before"]["template_url"], set["change"]["after"]["template_url"], "the configured URL must be left as written");
    assert_ne!(set["change"]["before"]["template_sha256"], applied, "the refresh must read the edited template's hash");
    assert_eq!(set["change"]["after_unknown"]["template_sha256"], true, "{set}");
    tf.apply()?;
    assert!(tf.plan_is_empty()?, "apply did not put the template back");
    let now = stack_set_attribute(&tf.state_json()?, "template_sha256");
    assert_eq!(now, applied);

    let production = sb.var("SANDBOX_OU_PRODUCTION").unwrap_or_default().to_owned();
    rt.block_on(async {
        cfn.create_stack_instances()
            .stack_set_name(SET)
            .deployment_targets(DeploymentTargets::builder().organizational_unit_ids(&production).build())
            .regions("eu-west-1")
            .send()
            .await?;
        settle(&cfn, SET).await
    })?;
    let plan = tf.plan_json()?;
    let set = stack_set_change(&plan);
    assert_eq!(set["change"]["actions"], json!(["update"]), "{set}");
    assert_eq!(set["change"]["before"]["region"], "us-east-1", "region keeps what the configuration says");
    assert_eq!(set["change"]["before"]["deployed_regions"], json!(["eu-west-1", "us-east-1"]));
    assert_eq!(set["change"]["after"]["deployed_regions"], json!(["us-east-1"]));
    tf.apply()?;
    assert!(tf.plan_is_empty()?, "apply did not remove the second region");
    let state = tf.state_json()?;
    let instances = stack_set_attribute(&state, "instances");
    let regions: BTreeSet<&str> = instances.as_array().into_iter().flatten().filter_map(|i| i["region"].as_str()).collect();
    assert_eq!(regions, BTreeSet::from(["us-east-1"]));
    Ok(())
}

/// Moving to another region deletes the old region's instances first, in place.
#[test]
fn e2e_region_change_moves_instances_in_place() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    let tf = Terraform::pinned(&sb)?.polling_fast();
    tf.write_main_tf(&config(&sb, &["SANDBOX_OU_DEVELOPMENT"], ""))?;
    tf.apply()?;
    tf.write_main_tf(&config(&sb, &["SANDBOX_OU_DEVELOPMENT"], "").replace("\"us-east-1\"", "\"eu-west-1\""))?;
    let plan = tf.plan_json()?;
    let set_change = planned_changes(&plan).into_iter().find(|(a, _)| a == "datadog_aws_org_stackset.org");
    assert_eq!(set_change.map(|(_, a)| a), Some(vec!["update".to_owned()]));
    tf.apply()?;
    assert!(tf.plan_is_empty()?);
    let state = tf.state_json()?;
    let instances = stack_set_attribute(&state, "instances");
    let regions: BTreeSet<&str> = instances.as_array().into_iter().flatten().filter_map(|i| i["region"].as_str()).collect();
    assert_eq!(regions, BTreeSet::from(["eu-west-1"]));
    Ok(())
}

/// The guide's two optional steps, set on the StackSet, survive quickstart links
/// (which write no setting): every account keeps metrics off and CSPM on, after the
/// first apply and after a later StackSet update that re-runs every stack.
#[test]
fn e2e_stack_set_choices_survive_links_that_write_nothing() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    let tf = Terraform::pinned(&sb)?.polling_fast();
    let choices = "  cloud_security_posture_management = true\n  disable_metric_collection = true";
    tf.write_main_tf(&quickstart(&sb, &["SANDBOX_OU_PRODUCTION"], choices))?;
    tf.apply()?;
    assert!(tf.plan_is_empty()?, "the plan after the first apply is not empty");
    let check = |when: &str| -> anyhow::Result<()> {
        let accounts = sb.datadog().accounts()?;
        assert_eq!(accounts.len(), 3, "{when}");
        for a in accounts {
            let attrs = &a["attributes"];
            assert_eq!(attrs["metrics_config"]["enabled"], false, "{when}: metrics came back on: {attrs}");
            assert_eq!(attrs["resources_config"]["cloud_security_posture_management_collection"], true, "{when}: CSPM went off: {attrs}");
        }
        Ok(())
    };
    check("after the first apply")?;

    // A key rotation re-runs every stack (the keys are the custom resource's input).
    tf.write_main_tf(&quickstart(&sb, &["SANDBOX_OU_PRODUCTION"], &format!("{choices}\n  keys_revision = \"2\"")))?;
    let plan = tf.plan_json()?;
    assert_eq!(changes_of(&plan, "datadog_aws_account_link.").len(), 3, "each link re-sends after its stack runs");
    tf.apply()?;
    assert!(tf.plan_is_empty()?, "the plan after the StackSet update is not empty");
    check("after a StackSet update")?;
    Ok(())
}

/// An account joining a targeted OU plans its own new link and changes no other
/// link, whether auto-deployment has already reached it or the StackSet repairs it.
#[test]
fn e2e_an_account_joining_plans_one_new_link_and_no_other_link_change() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    let tf = Terraform::pinned(&sb)?.polling_fast();
    tf.write_main_tf(&quickstart(&sb, &["SANDBOX_ROOT_ID"], ""))?;
    tf.apply()?;
    let added = sb.emulator()?.add_accounts(&json!({"name": "newcomer", "ou_path": "Production"}))?;
    let new_id = added["id"].as_str().unwrap_or_default().to_owned();
    let plan = tf.plan_json()?;
    let links = changes_of(&plan, "datadog_aws_account_link.");
    assert_eq!(links, vec![(format!("datadog_aws_account_link.account[\"{new_id}\"]"), vec!["create".to_owned()])]);
    let others: Vec<_> = planned_changes(&plan).into_iter().filter(|(a, _)| !a.starts_with("datadog_aws_account_link.")).collect();
    assert!(others.iter().all(|(a, actions)| a == "datadog_aws_org_stackset.org" && actions == &vec!["update".to_owned()]), "{others:?}");
    tf.apply()?;
    assert!(tf.plan_is_empty()?);
    assert_eq!(sb.datadog().accounts()?.len(), sb.member_accounts().len() + 1);
    Ok(())
}

/// A StackSet lives in its administration region. A run whose AWS region is another
/// one reads it there: the plan is empty and says where it looked. Import takes the
/// region too. An explicit provider region that differs moves it by replacement.
#[test]
fn e2e_a_run_in_another_region_neither_forgets_nor_duplicates_the_stack_set() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    let tf = Terraform::pinned(&sb)?.polling_fast();
    let body = quickstart(&sb, &["SANDBOX_OU_DEVELOPMENT"], "");
    tf.write_main_tf(&body)?;
    tf.apply()?;
    let state = tf.state_json()?;
    let set = state_resource(&state, "datadog_aws_org_stackset.org").map(|r| r["values"].clone()).unwrap_or_default();
    assert_eq!(set["administration_region"], "us-east-1");
    assert!(set["arn"].as_str().unwrap_or_default().contains(":us-east-1:"), "{}", set["arn"]);

    let elsewhere = tf.with_env("AWS_REGION", "eu-west-1").with_env("AWS_DEFAULT_REGION", "eu-west-1");
    let out = elsewhere.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"])?;
    assert_eq!(out.code(), Some(0), "a run from eu-west-1 must plan nothing:\n{}", out.describe());
    assert!(out.stdout.contains("is managed in us-east-1"), "the plan must say which region it talked to:\n{}", out.stdout);

    // Import from eu-west-1, naming the StackSet's region.
    elsewhere.run_ok(&["state", "rm", "datadog_aws_org_stackset.org"])?;
    elsewhere.run_ok(&["import", "-input=false", "-no-color", "datadog_aws_org_stackset.org", &format!("{SET},SELF,us-east-1")])?;
    let out = elsewhere.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"])?;
    assert_eq!(out.code(), Some(0), "after the import:\n{}", out.describe());
    assert_eq!(sb.emulator()?.calls("CreateStackSet")?.len(), 1, "never a second StackSet");

    // An explicit provider region that differs means "move it": a replacement.
    elsewhere.write_main_tf(&body.replace("provider \"datadog\" {}", "provider \"datadog\" {\n  aws {\n    region = \"eu-west-1\"\n  }\n}"))?;
    let plan = elsewhere.plan_json()?;
    let set_change = planned_changes(&plan).into_iter().find(|(a, _)| a == "datadog_aws_org_stackset.org").map(|(_, a)| a);
    assert_eq!(set_change, Some(vec!["delete".to_owned(), "create".to_owned()]));
    let replace_paths = plan["resource_changes"].as_array().into_iter().flatten().find(|c| c["address"] == "datadog_aws_org_stackset.org").map(|c| c["change"]["replace_paths"].clone());
    assert_eq!(replace_paths, Some(json!([["administration_region"]])));
    elsewhere.apply()?;
    let state = elsewhere.state_json()?;
    let set = state_resource(&state, "datadog_aws_org_stackset.org").map(|r| r["values"].clone()).unwrap_or_default();
    assert_eq!(set["administration_region"], "eu-west-1");
    assert!(elsewhere.plan_is_empty()?);
    assert_no_secret_in_state(&sb, &elsewhere)?;
    assert_eq!(sb.datadog().accounts()?.len(), 3, "the moved StackSet registers every account once");
    elsewhere.destroy()?;
    assert!(sb.datadog().accounts()?.is_empty());
    Ok(())
}

/// A StackSet set up by hand (the console's way: Datadog's template, CSPM on,
/// metrics off, its own description, tags and retention), imported into a block that
/// writes only what identifies it: the plan imports it and changes nothing, the apply
/// sends no UpdateStackSet, and the hand-made choices stay. A configuration that
/// creates a StackSet of that name instead plans to adopt it with its own values.
#[test]
fn e2e_a_hand_made_stack_set_is_imported_or_adopted_without_overwriting_its_choices() -> anyhow::Result<()> {
    use aws_sdk_cloudformation::types::{AutoDeployment, Capability, DeploymentTargets, Parameter, PermissionModels, Tag};
    let sb = Sandbox::start_fast()?;
    let cfn = cloudformation(&sb);
    let production = sb.var("SANDBOX_OU_PRODUCTION").unwrap_or_default().to_owned();
    let param = |k: &str, v: &str| Parameter::builder().parameter_key(k).parameter_value(v).build();
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        cfn.create_stack_set()
            .stack_set_name(SET)
            .description("made by hand")
            .template_url(sb.var("SANDBOX_AWS_TEMPLATE_URL").unwrap_or_default())
            .parameters(param("DatadogApiKey", sb.api_key()))
            .parameters(param("DatadogAppKey", sb.app_key()))
            .parameters(param("CloudSecurityPostureManagement", "true"))
            .parameters(param("DisableMetricCollection", "true"))
            .capabilities(Capability::CapabilityNamedIam)
            .permission_model(PermissionModels::ServiceManaged)
            .auto_deployment(AutoDeployment::builder().enabled(true).retain_stacks_on_account_removal(true).build())
            .tags(Tag::builder().key("owner").value("platform").build())
            .send()
            .await?;
        cfn.create_stack_instances()
            .stack_set_name(SET)
            .deployment_targets(DeploymentTargets::builder().organizational_unit_ids(&production).build())
            .regions("us-east-1")
            .send()
            .await?;
        settle(&cfn, SET).await
    })?;
    let before = sb.emulator()?.calls("UpdateStackSet")?.len();

    let tf = Terraform::pinned(&sb)?.polling_fast();
    let body = quickstart(&sb, &["SANDBOX_OU_PRODUCTION"], "");
    tf.write_main_tf(&format!("{body}\nimport {{\n  to = datadog_aws_org_stackset.org\n  id = \"{SET}\"\n}}\n"))?;
    let plan = tf.plan_json()?;
    let set = plan["resource_changes"].as_array().into_iter().flatten().find(|c| c["address"] == "datadog_aws_org_stackset.org").cloned().unwrap_or_default();
    assert_eq!(set["change"]["actions"], json!(["no-op"]), "the import must change nothing: {}", set["change"]);
    assert!(!set["change"]["importing"].is_null());
    tf.apply()?;
    assert!(tf.plan_is_empty()?);
    assert_eq!(sb.emulator()?.calls("UpdateStackSet")?.len(), before, "importing must not update the StackSet");
    let state = tf.state_json()?;
    let values = state_resource(&state, "datadog_aws_org_stackset.org").map(|r| r["values"].clone()).unwrap_or_default();
    assert_eq!(values["cloud_security_posture_management"], true);
    assert_eq!(values["disable_metric_collection"], true);
    assert_eq!(values["description"], "made by hand");
    assert_eq!(values["tags"], json!({"owner": "platform"}));
    assert_eq!(values["auto_deployment"]["retain_stacks_on_account_removal"], true);
    assert_no_secret_in_state(&sb, &tf)?;
    for a in sb.datadog().accounts()? {
        assert_eq!(a["attributes"]["metrics_config"]["enabled"], false, "{}", a["attributes"]);
        assert_eq!(a["attributes"]["resources_config"]["cloud_security_posture_management_collection"], true);
    }

    // Elsewhere, a configuration that would create it plans to adopt it as it is.
    let fresh = Terraform::pinned(&sb)?.polling_fast().in_dir(TestDir::new("e2e_stackset_adopt")?);
    fresh.write_main_tf(&body)?;
    let out = fresh.run_ok(&["plan", "-input=false", "-no-color", "-out=adopt.tfplan"])?;
    assert!(out.stdout.contains("already exists and will be adopted"), "{}", out.stdout);
    let plan = fresh.run_ok(&["show", "-json", "adopt.tfplan"])?.json()?;
    let after = plan["resource_changes"].as_array().into_iter().flatten().find(|c| c["address"] == "datadog_aws_org_stackset.org").map(|c| c["change"]["after"].clone()).unwrap_or_default();
    assert_eq!(after["cloud_security_posture_management"], true, "{after}");
    assert_eq!(after["tags"], json!({"owner": "platform"}), "{after}");
    Ok(())
}

/// A StackSet over 60 OUs, more than AWS takes in one instance operation: create,
/// drift repaired, 15 OUs removed, destroy, each in batches of at most 50 OUs that
/// the emulator (which refuses more, as AWS does) accepts.
#[test]
fn e2e_sixty_ous_are_deployed_repaired_removed_and_destroyed_in_batches() -> anyhow::Result<()> {
    let sb = Sandbox::start_with(&[("SANDBOX_INSTANCE_SECONDS", "0.05")])?;
    let mut ous = Vec::new();
    let mut accounts = Vec::new();
    for i in 0..60 {
        let ou = sb.emulator()?.add_ou(&format!("team-{i:02}"))?;
        let ou_id = ou["id"].as_str().unwrap_or_default().to_owned();
        let added = sb.emulator()?.add_accounts(&json!({"name": format!("team-{i:02}-prod"), "ou_id": ou_id}))?;
        accounts.push(added["id"].as_str().unwrap_or_default().to_owned());
        ous.push(ou_id);
    }
    let set_only = |ous: &[String]| {
        let quoted: Vec<String> = ous.iter().map(|o| format!("\"{o}\"")).collect();
        format!(
            "{REQUIRED_PROVIDERS}\nprovider \"datadog\" {{}}\n\nresource \"datadog_aws_org_stackset\" \"org\" {{\n  name                    = \"{SET}\"\n  region                  = \"us-east-1\"\n  organizational_unit_ids = [{}]\n}}\n",
            quoted.join(", ")
        )
    };
    let tf = Terraform::pinned(&sb)?.polling_fast();
    tf.write_main_tf(&set_only(&ous))?;
    tf.apply()?;
    assert!(tf.plan_is_empty()?);
    let covered = stack_set_account_ids(&tf.state_json()?);
    assert!(accounts.iter().all(|a| covered.contains(a)), "every OU's account is covered");

    let victim = &accounts[55];
    sb.emulator()?.remove_instance(SET, victim, "us-east-1")?;
    assert_eq!(planned_changes(&tf.plan_json()?), vec![("datadog_aws_org_stackset.org".to_owned(), vec!["update".to_owned()])]);
    tf.apply()?;
    assert!(tf.plan_is_empty()?, "the repair over 60 OUs did not converge");

    tf.write_main_tf(&set_only(&ous[..45]))?;
    tf.apply()?;
    assert!(tf.plan_is_empty()?);
    let covered = stack_set_account_ids(&tf.state_json()?);
    assert!(accounts[45..].iter().all(|a| !covered.contains(a)), "the removed OUs' accounts are no longer covered");
    tf.destroy()?;
    assert!(sb.datadog().accounts()?.is_empty());

    let creates = sb.emulator()?.calls("CreateStackInstances")?;
    let deletes = sb.emulator()?.calls("DeleteStackInstances")?;
    assert!(creates.len() >= 3, "create and repair each need two batches: {creates:?}");
    for call in creates.iter().chain(&deletes) {
        assert!(call["error"].is_null(), "an instance operation was refused: {call}");
    }
    Ok(())
}

/// The default rollout deploys the accounts of the one region concurrently (regions
/// stay sequential), and one failing account neither cancels the others nor goes
/// unnamed; the next apply repairs it.
#[test]
fn e2e_default_rollout_is_concurrent_and_one_failure_cancels_nothing() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    sb.emulator()?.add_accounts(&json!({"name": "bulk", "ou_path": "Production", "count": 20}))?;
    let victim = sb.member_accounts().into_iter().next().unwrap_or_default();
    sb.emulator()?.fail_instances(&[victim.as_str()], "Injected: role creation failed")?;
    let tf = Terraform::pinned(&sb)?.polling_fast();
    tf.write_main_tf(&format!(
        "{REQUIRED_PROVIDERS}\nprovider \"datadog\" {{}}\n\nresource \"datadog_aws_org_stackset\" \"org\" {{\n  name                    = \"{SET}\"\n  region                  = \"us-east-1\"\n  organizational_unit_ids = [\"{}\"]\n}}\n",
        sb.var("SANDBOX_ROOT_ID").unwrap_or_default()
    ))?;
    let out = tf.run_ok(&["apply", "-auto-approve", "-input=false", "-no-color"])?;
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(text.contains(&victim) && text.contains("Injected: role creation failed"), "the failed account must be named:\n{text}");

    let cfn = cloudformation(&sb);
    let rt = tokio::runtime::Runtime::new()?;
    let (prefs, results) = rt.block_on(async {
        let ops = cfn.list_stack_set_operations().stack_set_name(SET).send().await?;
        let first = ops.summaries().iter().rfind(|o| o.action().map(|a| a.as_str()) == Some("CREATE")).and_then(|o| o.operation_id()).unwrap_or_default().to_owned();
        let op = cfn.describe_stack_set_operation().stack_set_name(SET).operation_id(&first).send().await?;
        let results = cfn.list_stack_set_operation_results().stack_set_name(SET).operation_id(&first).send().await?;
        anyhow::Ok((op.stack_set_operation().and_then(|o| o.operation_preferences()).cloned(), results.summaries().to_vec()))
    })?;
    let prefs = prefs.unwrap_or_else(|| aws_sdk_cloudformation::types::StackSetOperationPreferences::builder().build());
    assert_eq!(prefs.max_concurrent_count(), Some(50), "{prefs:?}");
    assert_eq!(prefs.failure_tolerance_percentage(), Some(100), "{prefs:?}");
    assert_eq!(prefs.concurrency_mode().map(|m| m.as_str()), Some("SOFT_FAILURE_TOLERANCE"));
    assert_eq!(prefs.region_concurrency_type().map(|m| m.as_str()), Some("SEQUENTIAL"));
    let failed: Vec<&str> = results.iter().filter(|r| r.status().map(|s| s.as_str()) != Some("SUCCEEDED")).filter_map(|r| r.account()).collect();
    assert_eq!(failed, vec![victim.as_str()], "only the failing account may fail; none is cancelled");

    assert_eq!(planned_changes(&tf.plan_json()?), vec![("datadog_aws_org_stackset.org".to_owned(), vec!["update".to_owned()])]);
    tf.apply()?;
    assert!(tf.plan_is_empty()?);
    Ok(())
}

/// A burst that meets Datadog's rate limit: the template fails the throttled stacks
/// with a 429 while the operation succeeds; the provider deploys those accounts,
/// and only those, again at lower concurrency until every one is registered, all
/// within the one apply, and the next plan is empty.
#[test]
fn e2e_a_burst_throttled_by_datadog_is_finished_within_the_apply() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    sb.emulator()?.add_accounts(&json!({"name": "bulk", "ou_path": "Production", "count": 40}))?;
    let dd = sb.datadog();
    dd.admin_post("rate-limit", &json!({"limit": 12, "period_seconds": 1}))?;
    let tf = Terraform::pinned(&sb)?.polling_fast();
    tf.write_main_tf(&format!(
        "{REQUIRED_PROVIDERS}\nprovider \"datadog\" {{}}\n\nresource \"datadog_aws_org_stackset\" \"org\" {{\n  name                    = \"{SET}\"\n  region                  = \"us-east-1\"\n  organizational_unit_ids = [\"{}\"]\n}}\n",
        sb.var("SANDBOX_ROOT_ID").unwrap_or_default()
    ))?;
    let out = tf.run_ok(&["apply", "-auto-approve", "-input=false", "-no-color"])?;
    let text = format!("{}{}", out.stdout, out.stderr);
    let log = dd.admin_get("requests")?;
    eprintln!("Datadog answers in order: {}", log["requests"].as_array().into_iter().flatten().map(|r| format!("{}{}", r["method"].as_str().unwrap_or("?").chars().next().unwrap_or('?'), r["status"])).collect::<Vec<_>>().join(" "));
    // The plan of 46 accounts would push the reason out of a CI log's excerpt:
    // the output after it, where Terraform prints diagnostics, comes first.
    let after_plan = text.rfind("Plan: ").map_or(text.as_str(), |at| &text[at..]);
    assert!(
        !text.contains("FAILED") && !text.contains("no healthy stack instance"),
        "every account must be deployed within the apply:\n{after_plan}\n\nthe whole output:\n{text}\n\n{}",
        sb.log_tails()
    );
    let throttled = log["requests"].as_array().map_or(0, |r| r.iter().filter(|r| r["status"] == 429).count());
    assert!(throttled > 0, "the burst must have met the limit, or this test proves nothing");
    dd.admin_delete("rate-limit")?;

    let expected = stack_set_account_ids(&tf.state_json()?);
    assert!(expected.len() > 40, "{expected:?}");
    let registered: BTreeSet<String> = sb.datadog().aws_account_ids()?.into_iter().collect();
    assert_eq!(registered, expected, "every account registered once, none missing");

    // The first operation covers the OU at 50 at a time; each follow-up only the
    // accounts that were throttled, at half the concurrency of the one before.
    let cfn = cloudformation(&sb);
    let rt = tokio::runtime::Runtime::new()?;
    let operations = rt.block_on(async {
        let ops = cfn.list_stack_set_operations().stack_set_name(SET).send().await?;
        let mut creates = Vec::new();
        for o in ops.summaries().iter().filter(|o| o.action().map(|a| a.as_str()) == Some("CREATE")) {
            let id = o.operation_id().unwrap_or_default();
            let op = cfn.describe_stack_set_operation().stack_set_name(SET).operation_id(id).send().await?;
            let op = op.stack_set_operation().cloned().unwrap_or_else(|| aws_sdk_cloudformation::types::StackSetOperation::builder().build());
            let results = cfn.list_stack_set_operation_results().stack_set_name(SET).operation_id(id).send().await?;
            let concurrency = op.operation_preferences().and_then(|p| p.max_concurrent_count()).unwrap_or_default();
            let filtered = op.deployment_targets().and_then(|t| t.account_filter_type()).map(|f| f.as_str().to_owned()).unwrap_or_default();
            creates.push((op.creation_timestamp().map(|t| t.as_nanos()).unwrap_or_default(), concurrency, filtered, results.summaries().len()));
        }
        creates.sort_by_key(|c| c.0);
        anyhow::Ok(creates)
    })?;
    eprintln!("operations (created ns, concurrency, account filter, results): {operations:?}");
    assert!(operations.len() >= 2, "throttled accounts need a follow-up: {operations:?}");
    assert_eq!((operations[0].1, operations[0].3), (50, expected.len()), "{operations:?}");
    for pair in operations.windows(2) {
        let (before, after) = (&pair[0], &pair[1]);
        assert_eq!(after.2, "INTERSECTION", "a follow-up is narrowed to its accounts: {operations:?}");
        // A follow-up that starts while the limit's period is still spent cures
        // nothing (and covers as many accounts as the one before); none covers more.
        assert!(after.3 <= before.3 && after.1 == (before.1 / 2).max(1), "no more accounts, half the concurrency: {operations:?}");
    }
    assert!(tf.plan_is_empty()?);
    Ok(())
}

/// Terraform before 1.11 would store a write-only value in state: with the oldest
/// supported Terraform, a write-only key is refused at validate, with its path,
/// and the key appears nowhere in the output.
#[test]
fn e2e_write_only_keys_are_refused_by_a_terraform_that_would_store_them() -> anyhow::Result<()> {
    let sb = Sandbox::datadog_only()?;
    let tf = Terraform::oldest(&sb)?.with_env("TF_VAR_api_key", sb.api_key());
    tf.write_main_tf(&format!(
        "{REQUIRED_PROVIDERS}\nvariable \"api_key\" {{\n  type      = string\n  sensitive = true\n}}\n\nresource \"datadog_aws_org_stackset\" \"org\" {{\n  name                    = \"{SET}\"\n  region                  = \"us-east-1\"\n  organizational_unit_ids = [\"r-abcd\"]\n  datadog_api_key_wo      = var.api_key\n}}\n"
    ))?;
    // dev_overrides: no init (it would look the provider up in a registry).
    let out = tf.run(&["validate", "-json", "-no-color"])?;
    let report = out.json()?;
    let refused = report["diagnostics"].as_array().into_iter().flatten().find(|d| d["summary"] == "Write-only attribute needs Terraform or OpenTofu 1.11 or later").cloned();
    let refused = refused.ok_or_else(|| anyhow::anyhow!("no refusal in {report}"))?;
    assert_eq!(refused["severity"], "error");
    assert!(refused["detail"].as_str().unwrap_or_default().contains("datadog_api_key_wo"), "{refused}");
    assert!(!out.stdout.contains(sb.api_key()) && !out.stderr.contains(sb.api_key()), "the key was printed");
    Ok(())
}
