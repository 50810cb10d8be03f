//! `moved { from = datadog_integration_aws_account.x  to = datadog_aws_account_link.x }`
//! (MoveResourceState) driven by the pinned Terraform, and the pinned OpenTofu,
//! against the Datadog fake.
//!
//! The official `DataDog/datadog` provider cannot be run here: the Go module proxy
//! refuses it (`go list -m -versions github.com/DataDog/terraform-provider-datadog`
//! answers 403 Forbidden, "This module version is not available", and so does its
//! `go.mod` path `github.com/terraform-providers/terraform-provider-datadog`), and no
//! provider registry is reachable. So the state it would have written is built here,
//! in the layout its `datadog_integration_aws_account` (schema version 0) stores,
//! from the account config the fake holds, exactly as that resource's read fills it.
//!
//! What the CLI needs of the source provider, found by running it: Terraform's
//! `init` installs the provider the prior state names (from the registry, even when
//! a dev override names it) and `plan` refuses to start without it ("This state
//! requires provider registry.terraform.io/datadog/datadog, but that provider isn't
//! available"); it is then started once per command, after the plan is made, only
//! to read its schema for showing the plan (OpenTofu reads its identity schemas
//! too). It is never asked to move, read or plan anything: the move is the target
//! provider's alone. So the test's CLI configuration installs, at that address, a
//! stand-in (a script that records each launch and runs this provider's binary,
//! which answers the schema requests): for Terraform from a filesystem mirror that
//! `terraform init` installs it from, as a user's init installs the real one from
//! the registry; for OpenTofu as a dev override (see [`Install`]). The CLI's trace
//! log proves the stand-in was asked for nothing but schemas. Once the move is
//! applied, the state no longer names the source provider and the stand-in is not
//! started again.

use std::path::PathBuf;

use serde_json::{json, Value};
use testkit::{bin_dir, planned_changes, Sandbox, Terraform, TestDir, REQUIRED_PROVIDERS};

const ACCOUNT: &str = "123456789012";
const OFFICIAL: &str = "registry.terraform.io/datadog/datadog";
/// The same provider as OpenTofu names it (its default registry).
const OFFICIAL_OPENTOFU: &str = "registry.opentofu.org/datadog/datadog";

/// The Datadog account config the old resource managed, as its configuration would
/// have written it.
fn account_body() -> Value {
    json!({"data": {"type": "account", "attributes": {
        "aws_account_id": ACCOUNT,
        "aws_partition": "aws",
        "account_tags": ["env:prod", "team:platform"],
        "auth_config": {"role_name": "DatadogIntegrationRole"},
        "aws_regions": {"include_only": ["us-east-1", "eu-west-1"]},
        "logs_config": {"lambda_forwarder": {"lambdas": [format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:forwarder")], "sources": ["s3"]}},
        "metrics_config": {
            "enabled": true, "automute_enabled": true, "collect_cloudwatch_alarms": true, "collect_custom_metrics": false,
            "namespace_filters": {"exclude_only": ["AWS/SQS", "AWS/ElasticMapReduce", "AWS/Usage"]},
            "tag_filters": [{"namespace": "AWS/EC2", "tags": ["env:prod"]}]
        },
        "resources_config": {"cloud_security_posture_management_collection": true, "extended_collection": true},
        "traces_config": {"xray_services": {"include_only": []}}
    }}})
}

/// The attributes `datadog_integration_aws_account` stores for `account` (a config
/// as Datadog returns it): every section filled from Datadog's answer, the auth
/// variants as nested blocks, the variant not in use null.
fn official_attributes(account: &Value) -> Value {
    let a = &account["attributes"];
    let or_null = |v: &Value| if v.is_null() { Value::Null } else { v.clone() };
    let forwarder = &a["logs_config"]["lambda_forwarder"];
    let metrics = &a["metrics_config"];
    json!({
        "id": account["id"],
        "aws_account_id": a["aws_account_id"],
        "aws_partition": a["aws_partition"],
        "account_tags": a["account_tags"],
        "auth_config": {
            "aws_auth_config_keys": null,
            "aws_auth_config_role": {"external_id": a["auth_config"]["external_id"], "role_name": a["auth_config"]["role_name"]}
        },
        "aws_regions": {"include_all": or_null(&a["aws_regions"]["include_all"]), "include_only": or_null(&a["aws_regions"]["include_only"])},
        // Empty log source tag filters are left out unless configured.
        "logs_config": {"lambda_forwarder": {"lambdas": forwarder["lambdas"], "sources": forwarder["sources"], "log_source_config": null}},
        "metrics_config": {
            "automute_enabled": metrics["automute_enabled"],
            "collect_cloudwatch_alarms": metrics["collect_cloudwatch_alarms"],
            "collect_custom_metrics": metrics["collect_custom_metrics"],
            "enabled": metrics["enabled"],
            "metric_name_filters": [],
            "namespace_filters": {
                "exclude_only": or_null(&metrics["namespace_filters"]["exclude_only"]),
                "include_only": or_null(&metrics["namespace_filters"]["include_only"])
            },
            "tag_filters": metrics["tag_filters"]
        },
        "resources_config": a["resources_config"],
        "traces_config": {"xray_services": {
            "include_all": or_null(&a["traces_config"]["xray_services"]["include_all"]),
            "include_only": or_null(&a["traces_config"]["xray_services"]["include_only"])
        }}
    })
}

/// A version 4 state file holding one resource of `provider`.
fn state_file(provider: &str, type_name: &str, schema_version: u64, attributes: &Value) -> String {
    let state = json!({
        "version": 4,
        "terraform_version": "1.9.8",
        "serial": 7,
        "lineage": "0b6c1b9e-6f5e-4a43-9d4e-3a1f2c7d8e90",
        "outputs": {},
        "resources": [{
            "mode": "managed",
            "type": type_name,
            "name": "x",
            "provider": format!("provider[\"{provider}\"]"),
            "instances": [{"schema_version": schema_version, "attributes": attributes, "sensitive_attributes": []}]
        }],
        "check_results": null
    });
    serde_json::to_string_pretty(&state).unwrap_or_default()
}

/// The version the stand-in claims (Terraform takes 0.0.0 for "no version").
const STAND_IN_VERSION: &str = "0.0.1";

/// The stand-in for source providers: for each of `providers`, a script that
/// records its launches and runs this provider's binary, and a CLI configuration
/// that adds it to the sandbox's own (which overrides this provider to the build).
struct StandIn {
    dir: TestDir,
    /// A part of the path Terraform starts the stand-in from.
    started_as: String,
}

/// How the CLI gets the stand-in.
#[derive(Clone, Copy, PartialEq)]
enum Install {
    /// From a filesystem mirror, as version [`STAND_IN_VERSION`]: `terraform init`
    /// installs it as it would install the real one from a registry.
    ByInit,
    /// As a dev override, with no init: OpenTofu's `init` resolves even overridden
    /// providers from the registry (and says to skip init when overrides are in
    /// effect), so OpenTofu runs here without init, like the sandbox's other tests.
    DevOverride,
}

impl StandIn {
    fn install(sb: &Sandbox, providers: &[&str], how: Install) -> anyhow::Result<StandIn> {
        let dir = TestDir::new("moved-source-provider")?;
        let launches = dir.path().join("launches");
        let script = format!(
            "#!/bin/sh\n# Stand-in for the source provider of a moved block: see tests/e2e_moved.rs.\necho launched >> '{}'\nexec '{}' \"$@\"\n",
            launches.display(),
            bin_dir().join("terraform-provider-datadog").display()
        );
        let sandbox_rc = std::fs::read_to_string(sb.dir().join("terraform.rc"))?;
        let quoted: Vec<String> = providers.iter().map(|p| format!("\"{p}\"")).collect();
        let (rc, started_as) = match how {
            Install::ByInit => {
                let platform = format!("linux_{}", if std::env::consts::ARCH == "aarch64" { "arm64" } else { "amd64" });
                for provider in providers {
                    let name = provider.rsplit('/').next().unwrap_or_default();
                    let relative = format!("mirror/{provider}/{STAND_IN_VERSION}/{platform}/terraform-provider-{name}_v{STAND_IN_VERSION}");
                    executable(&dir.write_file(&relative, &script)?)?;
                }
                let installation = format!(
                    "filesystem_mirror {{\n    path    = \"{}\"\n    include = [{}]\n  }}\n  direct {{\n    exclude = [{}]\n  }}",
                    dir.path().join("mirror").display(),
                    quoted.join(", "),
                    quoted.join(", ")
                );
                anyhow::ensure!(sandbox_rc.contains("direct {}"), "the sandbox's CLI configuration changed: {sandbox_rc}");
                (sandbox_rc.replacen("direct {}", &installation, 1), format!("/{STAND_IN_VERSION}/"))
            }
            Install::DevOverride => {
                executable(&dir.write_file("bin/terraform-provider-datadog", &script)?)?;
                let bin = dir.path().join("bin");
                let overrides: String = quoted.iter().map(|p| format!("\n    {p} = \"{}\"", bin.display())).collect();
                anyhow::ensure!(sandbox_rc.contains("dev_overrides {"), "the sandbox's CLI configuration changed: {sandbox_rc}");
                (sandbox_rc.replacen("dev_overrides {", &format!("dev_overrides {{{overrides}"), 1), bin.display().to_string())
            }
        };
        dir.write_file("terraform.rc", &rc)?;
        Ok(StandIn { dir, started_as })
    }

    fn rc(&self) -> PathBuf {
        self.dir.path().join("terraform.rc")
    }

    fn launches(&self) -> usize {
        std::fs::read_to_string(self.dir.path().join("launches")).map(|s| s.lines().count()).unwrap_or(0)
    }
}

fn executable(path: &std::path::Path) -> anyhow::Result<()> {
    Ok(std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755))?)
}

/// The RPCs Terraform's trace log shows it sending to the plugin whose path holds
/// `bin`, one list per start of that plugin (from its start to its exit).
fn rpcs_to(trace: &str, bin: &str) -> Vec<Vec<String>> {
    let mut runs: Vec<Vec<String>> = Vec::new();
    let mut open = false;
    for line in trace.lines() {
        if line.contains("starting plugin:") && line.contains(bin) {
            runs.push(Vec::new());
            open = true;
        } else if line.contains("plugin process exited:") && line.contains(bin) {
            open = false;
        } else if let (true, Some(rpc)) = (open, line.split("GRPCProvider.v6: ").nth(1)) {
            if let Some(run) = runs.last_mut() {
                run.push(rpc.trim().to_owned());
            }
        }
    }
    runs
}

fn config(from: &str) -> String {
    format!(
        r#"{REQUIRED_PROVIDERS}
provider "datadog" {{}}

moved {{
  from = {from}.x
  to   = datadog_aws_account_link.x
}}

# The settings the old resource's configuration wrote, now written here: managed.
# Everything else keeps what Datadog holds and is never sent.
resource "datadog_aws_account_link" "x" {{
  aws_account_id = "{ACCOUNT}"
  account_tags   = ["env:prod", "team:platform"]
  aws_regions    = ["us-east-1", "eu-west-1"]
  metrics        = {{ collect_cloudwatch_alarms = true }}
  resources      = {{ cloud_security_posture_management = true }}
}}
"#
    )
}

/// The official resource's state, moved: the plan shows the move and nothing else,
/// the apply sends Datadog nothing, the link's state is the account's, and the
/// next plan is empty.
#[test]
fn e2e_moved_from_the_official_resource_changes_nothing() -> anyhow::Result<()> {
    let sb = Sandbox::datadog_only()?;
    let tf = Terraform::pinned(&sb)?;
    moved_from_the_official_resource(&sb, tf, OFFICIAL, Install::ByInit)
}

/// The same with the pinned OpenTofu, whose state names the official provider under
/// its own registry.
#[test]
fn e2e_moved_from_the_official_resource_with_opentofu() -> anyhow::Result<()> {
    let sb = Sandbox::datadog_only()?;
    let tf = Terraform::tofu(&sb)?;
    moved_from_the_official_resource(&sb, tf, OFFICIAL_OPENTOFU, Install::DevOverride)
}

fn moved_from_the_official_resource(sb: &Sandbox, tf: Terraform, official: &str, how: Install) -> anyhow::Result<()> {
    let dd = sb.datadog();
    let created = dd.api("POST", "/api/v2/integration/aws/accounts", Some(&account_body()))?.ensure_success()?.json()?;
    let account = created["data"].clone();
    let id = account["id"].as_str().unwrap_or_default().to_owned();
    let external_id = account["attributes"]["auth_config"]["external_id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(external_id.len(), 32, "{account}");
    // The fake's own store: listed in stored order, unlike the shuffled API.
    let before = dd.admin_get("accounts")?;

    let stand_in = StandIn::install(sb, &[official], how)?;
    let trace = stand_in.dir.path().join("trace.log");
    let tf = tf
        .with_env("TF_CLI_CONFIG_FILE", &stand_in.rc().display().to_string())
        .with_env("TF_LOG", "trace")
        .with_env("TF_LOG_PATH", &trace.display().to_string());
    tf.write_file("terraform.tfstate", &state_file(official, "datadog_integration_aws_account", 0, &official_attributes(&account)))?;
    tf.write_main_tf(&config("datadog_integration_aws_account"))?;
    if how == Install::ByInit {
        tf.init()?;
    }

    // The move alone (no refresh): no request reaches Datadog's account API, and the
    // moved state is what a refresh of the account gives (checked after the apply).
    dd.admin_delete("requests")?;
    tf.run_ok(&["plan", "-refresh=false", "-input=false", "-no-color", "-out=moved.tfplan"])?;
    let unrefreshed = tf.run_ok(&["show", "-json", "-no-color", "moved.tfplan"])?.json()?;
    let moved = unrefreshed.pointer("/prior_state/values/root_module/resources/0/values").cloned().unwrap_or_default();
    assert_eq!(moved["id"], id.as_str(), "{unrefreshed}");
    let requests = dd.admin_get("requests")?["requests"].as_array().cloned().unwrap_or_default();
    let account_calls: Vec<&Value> = requests.iter().filter(|r| r["path"].as_str().is_some_and(|p| p.starts_with("/api/v2/integration/aws"))).collect();
    assert!(account_calls.is_empty(), "the move called Datadog: {account_calls:?}");

    let plan = tf.plan_json()?;
    assert!(planned_changes(&plan).is_empty(), "the move must change nothing: {:?}", planned_changes(&plan));
    let changes = plan["resource_changes"].as_array().cloned().unwrap_or_default();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["address"], "datadog_aws_account_link.x");
    assert_eq!(changes[0]["previous_address"], "datadog_integration_aws_account.x", "the plan shows the move");
    assert_eq!(changes[0]["change"]["actions"], json!(["no-op"]));

    let applied = tf.apply()?;
    assert!(applied.stdout.contains("has moved to datadog_aws_account_link.x"), "{}", applied.stdout);
    assert!(applied.stdout.contains("Resources: 0 added, 0 changed, 0 destroyed."), "{}", applied.stdout);

    let state: Value = serde_json::from_str(&tf.test_dir().read_file("terraform.tfstate")?)?;
    let resources = state["resources"].as_array().cloned().unwrap_or_default();
    assert_eq!(resources.len(), 1, "only the link is left: {resources:?}");
    assert_eq!(resources[0]["type"], "datadog_aws_account_link");
    assert_eq!(resources[0]["provider"], format!("provider[\"{}\"]", tf.provider_address()));
    let instance = &resources[0]["instances"][0];
    let values = &instance["attributes"];
    assert_eq!(values["id"], id.as_str());
    assert_eq!(values["external_id"], external_id.as_str());
    assert_eq!(values["role_arn"], format!("arn:aws:iam::{ACCOUNT}:role/DatadogIntegrationRole"));
    // Unwritten settings hold what Datadog holds, unmanaged.
    assert_eq!(values["logs"]["lambda_forwarder"]["sources"], json!(["s3"]));
    assert_eq!(values["metrics"]["tag_filters"], json!([{"namespace": "AWS/EC2", "tags": ["env:prod"]}]));
    assert_eq!(instance["identity"], json!({"aws_account_id": ACCOUNT, "aws_partition": "aws"}));
    let refreshed = tf.state_json()?.pointer("/values/root_module/resources/0/values").cloned().unwrap_or_default();
    assert_eq!(moved, refreshed, "the moved state differs from what a refresh of the account gives");

    let requests = dd.admin_get("requests")?["requests"].as_array().cloned().unwrap_or_default();
    assert!(requests.iter().any(|r| r["method"] == "GET"), "no refresh reached Datadog");
    let writes: Vec<&Value> = requests.iter().filter(|r| r["method"] != "GET").collect();
    assert!(writes.is_empty(), "the move wrote to Datadog: {writes:?}");
    assert_eq!(dd.admin_get("accounts")?, before, "Datadog changed");

    // The CLI asked the source provider for its schemas (OpenTofu: its identity
    // schemas too) and nothing else.
    let runs = rpcs_to(&std::fs::read_to_string(&trace)?, &stand_in.started_as);
    assert!(!runs.is_empty(), "Terraform never started the source provider; the comment above is out of date");
    for run in &runs {
        let schema_only = |rpc: &String| ["getproviderschema", "getresourceidentityschemas", "close"].contains(&rpc.to_ascii_lowercase().as_str());
        assert!(run.iter().all(schema_only), "the source provider was asked {run:?}");
    }

    let launches = stand_in.launches();
    assert!(tf.plan_is_empty()?, "the plan after the move is not empty");
    assert_eq!(stand_in.launches(), launches, "the state still needs the source provider after the move");
    let log = std::fs::read_to_string(&trace)?;
    assert!(!log.contains(sb.api_key()) && !log.contains(sb.app_key()), "a key is in the trace log");
    Ok(())
}

/// A move from anything but the official resource at a version it reads is refused,
/// naming what was given and what is taken; the state is left as it was.
#[test]
fn e2e_a_move_from_an_unsupported_source_says_what_is_taken() -> anyhow::Result<()> {
    let sb = Sandbox::datadog_only()?;
    let aws = "registry.terraform.io/hashicorp/aws";
    let stand_in = StandIn::install(&sb, &[OFFICIAL, aws], Install::ByInit)?;
    let tf = Terraform::pinned(&sb)?.with_env("TF_CLI_CONFIG_FILE", &stand_in.rc().display().to_string());
    let attributes = json!({"id": "7d7c4a07-2c8f-4c4f-9b38-2f3b1f0c2f5e", "aws_account_id": ACCOUNT});
    let taken = "datadog_aws_account_link takes the state of: datadog_integration_aws_account of the provider datadog/datadog (schema version 0)";
    let cases = [
        // The v1 resource the official provider removed in 4.0.0.
        (OFFICIAL, "datadog_integration_aws", 0, "Unsupported move source", format!("brings datadog_integration_aws of the provider {OFFICIAL}")),
        (aws, "aws_iam_role", 0, "Unsupported move source", format!("brings aws_iam_role of the provider {aws}")),
        (OFFICIAL, "datadog_integration_aws_account", 1, "Unsupported source schema version", "written with schema version 1; datadog_aws_account_link reads schema version 0".to_owned()),
    ];
    for (provider, type_name, version, summary, given) in cases {
        let state = state_file(provider, type_name, version, &attributes);
        tf.write_file("terraform.tfstate", &state)?;
        tf.write_main_tf(&config(type_name))?;
        tf.init()?;
        let out = tf.run(&["plan", "-input=false", "-no-color"])?;
        assert_eq!(out.code(), Some(1), "{type_name} v{version}: {}", out.describe());
        // Terraform wraps long lines; compare words.
        let said = out.stderr.split_whitespace().collect::<Vec<_>>().join(" ");
        for want in [format!("Error: {summary}"), given.clone()] {
            assert!(said.contains(&want), "{type_name} v{version}: no {want:?} in {said}");
        }
        if summary == "Unsupported move source" {
            assert!(said.contains(taken), "{type_name}: no {taken:?} in {said}");
        }
        assert_eq!(tf.test_dir().read_file("terraform.tfstate")?, state, "{type_name} v{version}: the state changed");
    }
    Ok(())
}
