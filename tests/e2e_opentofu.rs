//! The provider driven by OpenTofu (the pinned build of `scripts/tofu`, made from the
//! Go module proxy on first use) against the sandbox, through the same kit as the
//! Terraform tests ([`Terraform::tofu`]):
//!
//! * the account-link lifecycle: create, an empty second plan, drift repaired, import
//!   by AWS account id and by UUID (CLI and `import` blocks), destroy;
//! * the quickstart example installed with `tofu init` from `scripts/install`'s
//!   mirror: the StackSet over the root and one link per account in one apply, an
//!   empty second plan, an account joining, destroy;
//! * the StackSet's write-only keys (`datadog_api_key_wo`, `datadog_app_key_wo`, from
//!   ephemeral variables) used but never stored, and sent again on `keys_revision`;
//! * no secret in state, plan JSON, outputs or TRACE logs;
//! * the mirror resolves offline for `tofu init` and `terraform init` alike, and the
//!   sandbox's CLI configuration overrides the provider under both registries.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{anyhow, ensure, Context as _};
use serde_json::{json, Value};
use testkit::{
    changes_of, planned_changes, state_resource, string_set, Mirror, Sandbox, Terraform, TestDir, OPENTOFU_PROVIDER_ADDRESS, PROVIDER_ADDRESS,
    REQUIRED_PROVIDERS,
};

/// The OpenTofu release `scripts/tofu` pins (README says which one is tested).
const OPENTOFU_VERSION: &str = "1.12.6";
const SET: &str = "DatadogIntegration";
const ACCOUNT_A: &str = "111111111111";
const ACCOUNT_B: &str = "222222222222";

// ------------------------------------------------------------------ helpers

fn tofu(sb: &Sandbox) -> anyhow::Result<Terraform> {
    let tf = Terraform::tofu(sb)?.polling_fast();
    ensure!(tf.is_tofu() && tf.version() == OPENTOFU_VERSION, "scripts/tofu runs {}, not OpenTofu {OPENTOFU_VERSION}", tf.describe());
    Ok(tf)
}

fn two_links() -> String {
    format!(
        r#"{REQUIRED_PROVIDERS}
provider "datadog" {{}}

resource "datadog_aws_account_link" "a" {{
  aws_account_id = "{ACCOUNT_A}"
  account_tags   = ["team:payments", "env:prod", "managed-by:opentofu"]
  aws_regions    = ["us-east-1", "eu-west-1"]
  metrics = {{
    collect_custom_metrics = true
    namespace_filters = {{
      include_only = ["AWS/EC2", "AWS/Lambda", "AWS/RDS"]
    }}
  }}
}}

resource "datadog_aws_account_link" "b" {{
  aws_account_id = "{ACCOUNT_B}"
}}
"#
    )
}

/// The StackSet over `ous` (sandbox variable names) and the documented links, with
/// `extra` in the StackSet's body and `head` before it (variables).
fn stack_set_config(sb: &Sandbox, ous: &[&str], head: &str, extra: &str) -> String {
    testkit::fixtures::org_with_links(sb, SET, ous, head, extra, "")
}

/// Write-only keys from ephemeral, sensitive variables (set with `TF_VAR_*`).
const KEY_VARIABLES: &str = r#"
variable "template_api_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "template_app_key" {
  type      = string
  sensitive = true
  ephemeral = true
}
"#;

fn write_only_keys(revision: &str) -> String {
    format!("  datadog_api_key_wo = var.template_api_key\n  datadog_app_key_wo = var.template_app_key\n  keys_revision      = \"{revision}\"")
}

/// `tf` with the sandbox's keys in the key variables.
fn with_key_variables(tf: Terraform, sb: &Sandbox) -> Terraform {
    tf.with_env("TF_VAR_template_api_key", sb.api_key()).with_env("TF_VAR_template_app_key", sb.app_key())
}

/// Copies the `.tf` files of `examples/<name>` into `dest` (no state, lock file or `.terraform`).
fn copy_example(name: &str, dest: &Path) -> anyhow::Result<()> {
    let src = testkit::repo_root().join("examples").join(name);
    let mut copied = 0;
    for entry in std::fs::read_dir(&src).with_context(|| format!("reading {}", src.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "tf") {
            let file = path.file_name().ok_or_else(|| anyhow!("{}", path.display()))?;
            std::fs::copy(&path, dest.join(file)).with_context(|| format!("copying {}", path.display()))?;
            copied += 1;
        }
    }
    ensure!(copied > 0, "no .tf file in {}", src.display());
    Ok(())
}

// ------------------------------------------------------------------ tests

/// Links with OpenTofu: the sandbox's dev_overrides reach the provider under
/// OpenTofu's registry, then create, an empty second plan, drift in Datadog planned
/// and repaired, import by AWS account id and by UUID (CLI and `import` blocks with
/// generated configuration) with empty plans after, and a destroy that leaves nothing.
#[test]
fn e2e_opentofu_account_link_lifecycle_create_drift_import_destroy() -> anyhow::Result<()> {
    let sb = Sandbox::datadog_only()?;
    let rc = std::fs::read_to_string(sb.dir().join("terraform.rc"))?;
    ensure!(rc.contains(&format!("\"{PROVIDER_ADDRESS}\"")) && rc.contains(&format!("\"{OPENTOFU_PROVIDER_ADDRESS}\"")), "{rc}");
    let tf = tofu(&sb)?;
    ensure!(tf.provider_address() == OPENTOFU_PROVIDER_ADDRESS);
    tf.write_main_tf(&two_links())?;

    // The schema, as OpenTofu sees it: our provider under its registry, keys sensitive,
    // the StackSet's keys write-only.
    let schema = tf.run_ok(&["providers", "schema", "-json"])?.json()?;
    let provider = &schema["provider_schemas"][OPENTOFU_PROVIDER_ADDRESS];
    ensure!(provider.is_object(), "no schema for {OPENTOFU_PROVIDER_ADDRESS}: {}", schema["provider_schemas"]);
    ensure!(provider["provider"]["block"]["attributes"]["api_key"]["sensitive"] == true);
    let stack_set = &provider["resource_schemas"]["datadog_aws_org_stackset"]["block"]["attributes"];
    for key in ["datadog_api_key_wo", "datadog_app_key_wo"] {
        ensure!(stack_set[key]["write_only"] == true && stack_set[key]["sensitive"] == true, "{key}: {}", stack_set[key]);
    }

    let out = tf.apply()?;
    ensure!(out.stdout.contains("2 added"), "{}", out.stdout);
    ensure!(tf.plan_is_empty()?, "second plan after apply is not empty ({})", tf.describe());
    ensure!(sb.datadog().accounts()?.len() == 2);
    let state = tf.state_json()?;
    let a = state_resource(&state, "datadog_aws_account_link.a").ok_or_else(|| anyhow!("a not in state: {state}"))?;
    ensure!(a["values"]["external_id"].as_str().is_some_and(|e| e.len() == 32), "{}", a["values"]);
    ensure!(a["values"]["role_arn"] == format!("arn:aws:iam::{ACCOUNT_A}:role/DatadogIntegrationRole"), "{}", a["values"]);
    let raw_state: Value = serde_json::from_str(&tf.test_dir().read_file("terraform.tfstate")?)?;
    let providers: BTreeSet<String> = raw_state["resources"].as_array().into_iter().flatten().filter_map(|r| r["provider"].as_str().map(str::to_owned)).collect();
    ensure!(providers == BTreeSet::from([format!("provider[\"{OPENTOFU_PROVIDER_ADDRESS}\"]")]), "{providers:?}");

    // Drift made in Datadog: an in-place update puts the written settings back.
    let id_a = sb.datadog().config_id(ACCOUNT_A)?;
    testkit::fixtures::drift_in_datadog(&sb, &id_a, ACCOUNT_A)?;
    let plan = tf.plan_json()?;
    ensure!(planned_changes(&plan) == vec![("datadog_aws_account_link.a".to_owned(), vec!["update".to_owned()])], "{:?}", planned_changes(&plan));
    tf.apply()?;
    ensure!(tf.plan_is_empty()?, "the plan after repairing drift is not empty");
    let account = sb.datadog().api("GET", &format!("/api/v2/integration/aws/accounts/{id_a}"), None)?.json()?;
    let attrs = &account["data"]["attributes"];
    ensure!(string_set(&attrs["account_tags"]) == BTreeSet::from(["env:prod".to_owned(), "managed-by:opentofu".to_owned(), "team:payments".to_owned()]), "{attrs}");
    ensure!(attrs["aws_regions"]["include_only"].as_array().map(Vec::len) == Some(2), "{attrs}");
    ensure!(attrs["metrics_config"]["namespace_filters"]["include_only"].as_array().map(Vec::len) == Some(3), "{attrs}");
    ensure!(attrs["metrics_config"]["enabled"] == false, "a setting the link does not write was overwritten: {attrs}");

    // CLI import by AWS account id and by UUID into a matching configuration.
    let id_b = sb.datadog().config_id(ACCOUNT_B)?;
    let cli = tofu(&sb)?.in_dir(TestDir::new("e2e_opentofu_import_cli")?);
    cli.write_main_tf(&two_links())?;
    cli.import("datadog_aws_account_link.a", ACCOUNT_A)?;
    cli.import("datadog_aws_account_link.b", &id_b)?;
    ensure!(cli.plan_is_empty()?, "plan after CLI import is not empty");
    let imported = cli.state_json()?;
    for (address, id) in [("datadog_aws_account_link.a", &id_a), ("datadog_aws_account_link.b", &id_b)] {
        let r = state_resource(&imported, address).ok_or_else(|| anyhow!("{address} not imported"))?;
        ensure!(r["values"]["id"] == id.as_str(), "{address}: {}", r["values"]);
    }

    // `import` blocks with generated configuration, then apply: nothing to change.
    let gen = tofu(&sb)?.in_dir(TestDir::new("e2e_opentofu_import_generate")?);
    gen.write_main_tf(&format!(
        "{REQUIRED_PROVIDERS}\nimport {{\n  to = datadog_aws_account_link.a\n  id = \"{ACCOUNT_A}\"\n}}\nimport {{\n  to = datadog_aws_account_link.b\n  id = \"{id_b}\"\n}}\n"
    ))?;
    let out = gen.run_ok(&["plan", "-input=false", "-no-color", "-generate-config-out=generated.tf"])?;
    ensure!(out.stdout.contains("2 to import, 0 to add, 0 to change, 0 to destroy"), "{}", out.stdout);
    gen.apply()?;
    ensure!(gen.plan_is_empty()?, "plan after importing with generated configuration is not empty");
    ensure!(sb.datadog().accounts()?.len() == 2, "import must not duplicate accounts");

    tf.destroy()?;
    ensure!(sb.datadog().accounts()?.is_empty(), "destroy left accounts in Datadog");
    Ok(())
}

/// `examples/quickstart` as a user of OpenTofu would run it, installed by `tofu init`
/// from `scripts/install`'s mirror: the StackSet over the root and one link per
/// account (`for_each` over `account_revisions`) in one apply, an empty second plan,
/// an account joining the organization (one new link, no other link changes), and a
/// destroy that leaves nothing.
#[test]
fn e2e_opentofu_quickstart_one_apply_account_joins_destroy() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    let mirror = Mirror::install()?;
    let tf = mirror.installs(tofu(&sb)?);
    copy_example("quickstart", tf.dir())?;
    tf.write_file("terraform.tfvars", &format!("root_id = \"{}\"\n", sb.var("SANDBOX_ROOT_ID").unwrap_or_default()))?;
    let version = env!("CARGO_PKG_VERSION");
    let init = tf.init()?;
    ensure!(init.stdout.contains(&format!("Installed orgsync/datadog v{version}")), "{}", init.describe());
    let lock = tf.test_dir().read_file(".terraform.lock.hcl")?;
    ensure!(lock.contains(&format!("\"{OPENTOFU_PROVIDER_ADDRESS}\"")), "{lock}");
    let members = sb.member_accounts();

    let plan = tf.plan_json()?;
    let creates = planned_changes(&plan).into_iter().filter(|(_, a)| a == &vec!["create".to_owned()]).count();
    ensure!(creates == 1 + members.len(), "the first plan must hold the StackSet and one link per account: {:?}", planned_changes(&plan));
    tf.apply()?;
    ensure!(tf.plan_is_empty()?, "the second plan is not empty");
    let outputs = tf.run_ok(&["output", "-json", "-no-color"])?.json()?;
    ensure!(string_set(&outputs["account_ids"]["value"]) == members, "account_ids: {}", outputs["account_ids"]);
    let links: BTreeSet<String> = outputs["link_ids"]["value"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
    ensure!(links == members, "link_ids: {}", outputs["link_ids"]);
    ensure!(sb.datadog().accounts()?.len() == members.len(), "one Datadog account per member account");

    // An account joins a targeted OU: its own new link, no other link changes.
    let added = sb.emulator()?.add_accounts(&json!({"name": "newcomer", "ou_path": "Production"}))?;
    let new_id = added["id"].as_str().unwrap_or_default().to_owned();
    ensure!(new_id.len() == 12, "{added}");
    let plan = tf.plan_json()?;
    let links = changes_of(&plan, "datadog_aws_account_link.");
    ensure!(links == vec![(format!("datadog_aws_account_link.account[\"{new_id}\"]"), vec!["create".to_owned()])], "{links:?}");
    // The quickstart's data source waits for the links, so it is read again at apply.
    let others: Vec<_> = planned_changes(&plan)
        .into_iter()
        .filter(|(a, _)| !a.starts_with("datadog_aws_account_link."))
        .filter(|(a, actions)| !(a == "data.datadog_aws_organization.org" && actions == &vec!["read".to_owned()]))
        .collect();
    ensure!(others.iter().all(|(a, actions)| a == "datadog_aws_org_stackset.org" && actions == &vec!["update".to_owned()]), "{others:?}");
    tf.apply()?;
    ensure!(tf.plan_is_empty()?, "the plan after the account joined is not empty");
    let members = sb.emulator()?.active_accounts()?;
    ensure!(members.contains(&new_id) && sb.datadog().accounts()?.len() == members.len());

    // examples/import adopts it all elsewhere: OpenTofu generates the StackSet's
    // configuration (from the imported state; it has no GenerateResourceConfig), the
    // links are imported by account id, nothing is created, the next plan is empty.
    let adopter = mirror.installs(tofu(&sb)?).in_dir(TestDir::new("e2e_opentofu_import_example")?);
    copy_example("import", adopter.dir())?;
    let ids: Vec<String> = members.iter().map(|id| format!("\"{id}\"")).collect();
    adopter.write_file("terraform.tfvars", &format!("account_ids = [{}]\n", ids.join(", ")))?;
    adopter.init()?;
    let out = adopter.run_ok(&["plan", "-input=false", "-no-color", "-generate-config-out=generated.tf"])?;
    let expected = format!("Plan: {} to import, 0 to add, 0 to change, 0 to destroy.", 1 + members.len());
    ensure!(out.stdout.contains(&expected), "expected {expected:?}:\n{}", out.describe());
    let generated = adopter.test_dir().read_file("generated.tf")?;
    ensure!(generated.contains("resource \"datadog_aws_org_stackset\" \"org\""), "generated.tf:\n{generated}");
    adopter.apply()?;
    ensure!(adopter.plan_is_empty()?, "the plan after importing with OpenTofu's generated configuration is not empty:\n{generated}");
    ensure!(sb.emulator()?.calls("CreateStackSet")?.len() == 1, "the StackSet must not be created again");
    ensure!(sb.datadog().accounts()?.len() == members.len(), "no duplicate Datadog account");

    tf.destroy()?;
    let left = tf.run_ok(&["state", "list"])?.stdout;
    ensure!(left.trim().is_empty(), "resources left in state: {left}");
    ensure!(sb.emulator()?.stack_sets()?.is_empty(), "a StackSet is left: {:?}", sb.emulator()?.stack_sets()?);
    ensure!(sb.datadog().accounts()?.is_empty(), "accounts left in Datadog");
    Ok(())
}

/// The StackSet's write-only keys with OpenTofu, from ephemeral variables: the stacks
/// register every account with them, they are in no plan and no state, the next plan
/// is empty, and a new `keys_revision` sends them again (every stack re-runs, every
/// link re-sends), after which the plan is empty again.
#[test]
fn e2e_opentofu_write_only_keys_are_used_never_stored_and_resent_on_keys_revision() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    let tf = with_key_variables(tofu(&sb)?, &sb);
    let ous = ["SANDBOX_OU_DEVELOPMENT"];
    tf.write_main_tf(&stack_set_config(&sb, &ous, KEY_VARIABLES, &write_only_keys("1")))?;
    let plan = tf.plan_json()?;
    let set = plan["resource_changes"].as_array().into_iter().flatten().find(|c| c["address"] == "datadog_aws_org_stackset.org").cloned().unwrap_or_default();
    ensure!(set["change"]["actions"] == json!(["create"]), "{}", set["change"]);
    for key in ["datadog_api_key_wo", "datadog_app_key_wo"] {
        ensure!(set["change"]["after"][key].is_null(), "{key} in the plan: {}", set["change"]["after"][key]);
    }
    tf.apply()?;
    ensure!(tf.plan_is_empty()?, "the second plan is not empty");
    ensure!(sb.datadog().accounts()?.len() == 3, "the stacks did not register the accounts with the write-only keys");

    let state = tf.state_json()?;
    let values = state_resource(&state, "datadog_aws_org_stackset.org").map(|r| r["values"].clone()).unwrap_or_default();
    ensure!(values["keys_revision"] == "1", "{values}");
    for key in ["datadog_api_key_wo", "datadog_app_key_wo"] {
        ensure!(values[key].is_null(), "{key} in state: {}", values[key]);
    }
    let raw = tf.test_dir().read_file("terraform.tfstate")?;
    for secret in [sb.api_key(), sb.app_key()] {
        ensure!(!raw.contains(secret) && !state.to_string().contains(secret), "a write-only key reached the state");
    }

    // Rotation: a new keys_revision re-sends the keys.
    let updates = sb.emulator()?.calls("UpdateStackSet")?.len();
    tf.write_main_tf(&stack_set_config(&sb, &ous, KEY_VARIABLES, &write_only_keys("2")))?;
    let plan = tf.plan_json()?;
    let set_change = planned_changes(&plan).into_iter().find(|(a, _)| a == "datadog_aws_org_stackset.org").map(|(_, a)| a);
    ensure!(set_change == Some(vec!["update".to_owned()]), "{:?}", planned_changes(&plan));
    ensure!(changes_of(&plan, "datadog_aws_account_link.").len() == 3, "each link re-sends after its stack runs: {:?}", planned_changes(&plan));
    ensure!(!plan.to_string().contains(sb.api_key()) && !plan.to_string().contains(sb.app_key()), "a write-only key reached the plan");
    tf.apply()?;
    ensure!(tf.plan_is_empty()?, "the plan after a key rotation is not empty");
    ensure!(sb.emulator()?.calls("UpdateStackSet")?.len() > updates, "keys_revision must update the StackSet");
    ensure!(sb.datadog().accounts()?.len() == 3);
    Ok(())
}

/// Datadog keys (the provider's, and the StackSet's write-only ones) and the AWS
/// secret key never reach OpenTofu's state, plans, outputs or TRACE logs, from apply
/// to destroy.
#[test]
fn e2e_opentofu_secrets_never_appear_in_state_plans_or_trace_logs() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    let tf = with_key_variables(tofu(&sb)?, &sb).with_env("TF_LOG", "TRACE");
    tf.write_main_tf(&stack_set_config(&sb, &["SANDBOX_OU_DEVELOPMENT"], KEY_VARIABLES, &write_only_keys("1")))?;
    let mut artefacts = tf.apply_and_collect_outputs()?;
    artefacts += &tf.run_ok(&["destroy", "-auto-approve", "-input=false", "-no-color"])?.describe();
    ensure!(artefacts.contains("provider.terraform-provider-datadog"), "TRACE output must contain our provider's log lines");
    ensure!(artefacts.contains("OpenTofu"), "these must be OpenTofu's logs");
    let aws_secret = sb.var("AWS_SECRET_ACCESS_KEY").unwrap_or_default();
    ensure!(aws_secret.len() >= 32);
    for (name, secret) in [("DD_API_KEY", sb.api_key()), ("DD_APP_KEY", sb.app_key()), ("AWS_SECRET_ACCESS_KEY", aws_secret)] {
        ensure!(!artefacts.contains(secret), "{name} leaked into OpenTofu's output, plan, state or TRACE log");
    }
    ensure!(sb.datadog().accounts()?.is_empty(), "destroy left accounts in Datadog");
    Ok(())
}

/// A provider argument known only after apply (the API URL, from another resource):
/// OpenTofu offers providers no deferral, and the plan still goes through; apply
/// configures the provider for real and the next plan is empty.
#[test]
fn e2e_opentofu_provider_configuration_unknown_at_plan() -> anyhow::Result<()> {
    let sb = Sandbox::datadog_only()?;
    let tf = tofu(&sb)?;
    tf.write_main_tf(&format!(
        "{REQUIRED_PROVIDERS}\nresource \"terraform_data\" \"url\" {{\n  input = \"{}\"\n}}\n\nprovider \"datadog\" {{\n  api_url = terraform_data.url.output\n}}\n\nresource \"datadog_aws_account_link\" \"a\" {{\n  aws_account_id = \"{ACCOUNT_A}\"\n}}\n",
        sb.datadog_url()
    ))?;
    let plan = tf.plan_json()?;
    ensure!(planned_changes(&plan).len() == 2, "{:?}", planned_changes(&plan));
    tf.apply()?;
    ensure!(tf.plan_is_empty()?, "the plan after apply is not empty");
    ensure!(sb.datadog().accounts()?.len() == 1);
    Ok(())
}

/// `scripts/install`'s mirror holds the provider under both registries' hostnames,
/// and one CLI configuration makes `tofu init` and `terraform init` resolve it
/// offline (every proxy pointed at a closed port), each writing its own registry's
/// address into the lock file; the quickstart then validates with both.
#[test]
fn e2e_opentofu_and_terraform_init_offline_from_the_same_mirror() -> anyhow::Result<()> {
    // The kit binds the CLIs to a sandbox's environment; nothing here talks to it.
    let sb = Sandbox::datadog_only()?;
    let mirror = Mirror::install()?;
    let version = env!("CARGO_PKG_VERSION");
    let tf_package = mirror.package("registry.terraform.io", version);
    let tofu_package = mirror.package("registry.opentofu.org", version);
    ensure!(tf_package.is_file() && tofu_package.is_file(), "the mirror lacks a hostname: {} {}", tf_package.display(), tofu_package.display());
    ensure!(std::fs::read(&tf_package)? == std::fs::read(&tofu_package)?, "the two packages differ");
    ensure!(mirror.config().contains("include = [\"orgsync/datadog\"]") && !mirror.config().contains("dev_overrides"), "{}", mirror.config());

    for tf in [tofu(&sb)?, Terraform::pinned(&sb)?] {
        let tf = mirror.offline(tf);
        let shown = tf.describe();
        copy_example("quickstart", tf.dir())?;
        let init = tf.run_ok(&["init", "-backend=false", "-input=false", "-no-color"]).with_context(|| format!("init with {shown}"))?;
        ensure!(init.stdout.contains(&format!("Installed orgsync/datadog v{version}")), "{shown} did not install from the mirror:\n{}", init.describe());
        let lock = tf.test_dir().read_file(".terraform.lock.hcl")?;
        ensure!(lock.contains(&format!("provider \"{}\"", tf.provider_address())) && lock.contains(&format!("\"{version}\"")), "{shown}: lock file:\n{lock}");
        let report = tf.run(&["validate", "-json", "-no-color"])?.json()?;
        ensure!(report["valid"] == true && report["warning_count"] == 0, "{shown}: {report:#}");
    }
    Ok(())
}
