//! The configurations under `examples/`, used as a user would use them:
//!
//! * `terraform fmt -check -recursive examples/` passes;
//! * every example initialises and validates **offline** with the provider
//!   installed by `scripts/install` into a filesystem mirror (no `dev_overrides`,
//!   proxies pointed at a closed port so any registry access fails), with the
//!   pinned Terraform and with the oldest supported one (1.6.6), except the
//!   examples in [`NEEDS_NEWER`], which the oldest must refuse at `init` because
//!   of their `required_version`;
//! * the examples apply in the sandbox (AWS emulator + Datadog fake), plan empty
//!   and destroy cleanly: quickstart (through `terraform init` from the mirror,
//!   with the pinned and the oldest Terraform), ou-subset, logs,
//!   module-composition (our provider's part), import and adopt-with-query (of
//!   what the quickstart created elsewhere) and delegated-admin.
//!
//! `module-composition/official.tf` uses the official `DataDog/datadog` provider,
//! which cannot be downloaded here: the copies these tests use leave that file
//! out and drop its line from `versions.tf` ([`copy_examples`]), and
//! [`e2e_examples_init_and_validate_offline_from_a_filesystem_mirror`] checks that
//! the full configuration gets through `init` up to fetching that provider.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, bail, ensure, Context as _};
use serde_json::Value;
use testkit::{planned_changes, repo_root, string_set, Mirror, Output, Sandbox, Terraform, TestDir};

/// Every example directory (with `.tf` files) under `examples/`.
const EXAMPLES: &[&str] = &[
    "account-links",
    "adopt-with-query",
    "delegated-admin",
    "import",
    "logs",
    "module-composition",
    "modules/datadog-aws-organization",
    "ou-subset",
    "quickstart",
];

/// Examples that need a newer Terraform than the oldest supported one, and why.
/// Each says so with `required_version` in its `terraform` block, and the oldest
/// Terraform must refuse it at `init` ("Unsupported Terraform Core version").
const NEEDS_NEWER: &[(&str, &str)] = &[
    ("adopt-with-query", "`terraform query` needs Terraform 1.14"),
    ("import", "`for_each` in `import` blocks needs Terraform 1.7"),
];

/// Why module-composition applies here without its `official.tf` (the official
/// provider's own `datadog_integration_aws_account` beside our organization).
const OFFICIAL_PROVIDER_UNAVAILABLE: &str = "skipping the official DataDog/datadog provider's part of module-composition: \
    it cannot be built here. The Go module proxy answers 403 \"This module version is not available\" for every version of \
    github.com/terraform-providers/terraform-provider-datadog (tags, +incompatible, pseudo-versions of the v4.19.0 release \
    commit) except v1.9.0 from 2019, which predates datadog_integration_aws_account, and no other source is reachable. \
    Our provider's part applies below.";

/// The line of `module-composition/versions.tf` that requires the official provider.
const OFFICIAL_SOURCE: &str = "\"DataDog/datadog\"";

const SET: &str = "DatadogIntegration";

// ------------------------------------------------------------------ helpers

fn var(sb: &Sandbox, key: &str) -> anyhow::Result<String> {
    sb.var(key).map(str::to_owned).ok_or_else(|| anyhow!("the sandbox does not export {key}"))
}

/// An HCL list of strings, for `-var 'name=[...]'`.
fn hcl_list<S: AsRef<str>>(items: &[S]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("\"{}\"", s.as_ref())).collect();
    format!("[{}]", quoted.join(","))
}

fn datadog_account<'a>(accounts: &'a [Value], id: &str) -> anyhow::Result<&'a Value> {
    accounts
        .iter()
        .find(|a| a["attributes"]["aws_account_id"] == id)
        .map(|a| &a["attributes"])
        .ok_or_else(|| anyhow!("AWS account {id} is not in Datadog"))
}

fn set_of(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Copies `examples/` to `<dest>/examples` (without `.terraform`, lock files,
/// state, plans or generated configuration) and returns that copy. With
/// `ours_only`, module-composition loses `official.tf` and its requirement of
/// `DataDog/datadog`, which cannot be downloaded here.
fn copy_examples(dest: &Path, ours_only: bool) -> anyhow::Result<PathBuf> {
    let root = dest.join("examples");
    copy_tree(&repo_root().join("examples"), &root)?;
    if ours_only {
        let mc = root.join("module-composition");
        std::fs::remove_file(mc.join("official.tf")).context("module-composition/official.tf")?;
        let versions = std::fs::read_to_string(mc.join("versions.tf"))?;
        ensure!(versions.contains(OFFICIAL_SOURCE), "module-composition/versions.tf no longer requires {OFFICIAL_SOURCE}: update this test");
        let kept: String = versions.lines().filter(|l| !l.contains(OFFICIAL_SOURCE)).map(|l| format!("{l}\n")).collect();
        std::fs::write(mc.join("versions.tf"), kept)?;
    }
    Ok(root)
}

fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let skip = name.starts_with('.') || name.starts_with("terraform.tfstate") || name.ends_with(".tfplan") || name == "generated.tf";
        if skip {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type()?.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).with_context(|| format!("copying {}", src.display()))?;
        }
    }
    Ok(())
}

/// Folders of `examples/` that are not examples to apply but the snippets
/// tfplugindocs renders into the registry pages (its `examples/<kind>/<type>/`
/// layout); tests/docs_schema.rs validates them where they land, in docs/.
const DOC_SNIPPETS: &[&str] = &["provider", "resources", "data-sources", "list-resources"];

/// Directories under `examples/` that hold `.tf` files, relative, sorted
/// (without [`DOC_SNIPPETS`]).
fn example_dirs() -> anyhow::Result<Vec<String>> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) -> anyhow::Result<()> {
        let mut has_tf = false;
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            if entry.file_type()?.is_dir() {
                if dir == base && DOC_SNIPPETS.contains(&name.as_str()) {
                    continue;
                }
                walk(base, &entry.path(), out)?;
            } else if name.ends_with(".tf") {
                has_tf = true;
            }
        }
        if has_tf {
            out.push(dir.strip_prefix(base)?.to_string_lossy().into_owned());
        }
        Ok(())
    }
    let base = repo_root().join("examples");
    let mut out = Vec::new();
    walk(&base, &base, &mut out)?;
    out.sort();
    Ok(out)
}

/// A filesystem mirror made by `scripts/install` from the test build, checked the
/// way a team would use it: the configuration pins `orgsync/datadog` to the mirror,
/// with an absolute path, and never falls back to a registry for it.
fn mirror() -> anyhow::Result<Mirror> {
    let mirror = Mirror::install()?;
    let written = mirror.config();
    for needed in ["filesystem_mirror", "include = [\"orgsync/datadog\"]", "exclude = [\"orgsync/*\"]", "direct"] {
        ensure!(written.contains(needed), "the CLI configuration lacks {needed:?}:\n{written}");
    }
    ensure!(written.contains(&format!("path    = \"{}\"", mirror.path().display())), "the mirror path must be absolute:\n{written}");
    ensure!(!written.contains("dev_overrides"));
    Ok(mirror)
}

/// One example directory driven by a [`Terraform`], with its `-var`s.
struct Example<'a> {
    tf: &'a Terraform,
    dir: PathBuf,
    vars: Vec<String>,
}

impl<'a> Example<'a> {
    fn new(tf: &'a Terraform, dir: PathBuf, vars: &[(&str, String)]) -> Example<'a> {
        let vars = vars.iter().map(|(k, v)| format!("{k}={v}")).collect();
        Example { tf, dir, vars }
    }

    /// `terraform -chdir=<dir> <args> [-var ...]`.
    fn run(&self, args: &[&str], with_vars: bool) -> anyhow::Result<Output> {
        let chdir = format!("-chdir={}", self.dir.display());
        let mut all: Vec<&str> = vec![chdir.as_str()];
        all.extend_from_slice(args);
        if with_vars {
            for v in &self.vars {
                all.push("-var");
                all.push(v.as_str());
            }
        }
        self.tf.run(&all)
    }

    fn ok(&self, args: &[&str], with_vars: bool) -> anyhow::Result<Output> {
        let out = self.run(args, with_vars)?;
        ensure!(out.success(), "terraform failed in {}\n{}", self.dir.display(), out.describe());
        Ok(out)
    }

    fn init(&self) -> anyhow::Result<Output> {
        self.ok(&["init", "-input=false", "-no-color"], false)
    }

    fn apply(&self) -> anyhow::Result<Output> {
        self.ok(&["apply", "-auto-approve", "-input=false", "-no-color"], true)
    }

    fn destroy(&self) -> anyhow::Result<Output> {
        self.ok(&["destroy", "-auto-approve", "-input=false", "-no-color"], true)
    }

    /// `plan -detailed-exitcode`: true for no changes.
    fn plan_is_empty(&self) -> anyhow::Result<bool> {
        let out = self.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"], true)?;
        match out.code() {
            Some(0) => Ok(true),
            Some(2) => {
                eprintln!("unexpected changes in {}:\n{}", self.dir.display(), out.stdout);
                Ok(false)
            }
            _ => bail!("terraform plan failed\n{}", out.describe()),
        }
    }

    fn plan_json(&self) -> anyhow::Result<Value> {
        self.ok(&["plan", "-input=false", "-no-color", "-out=e2e.tfplan"], true)?;
        self.ok(&["show", "-json", "-no-color", "e2e.tfplan"], false)?.json()
    }

    fn outputs(&self) -> anyhow::Result<Value> {
        self.ok(&["output", "-json", "-no-color"], false)?.json()
    }

    /// Addresses in the state.
    fn state_list(&self) -> anyhow::Result<Vec<String>> {
        let out = self.ok(&["state", "list"], false)?;
        Ok(out.stdout.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect())
    }
}

/// Object keys of an output map.
fn output_keys(outputs: &Value, name: &str) -> BTreeSet<String> {
    outputs[name]["value"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
}

/// After destroy: empty state, no StackSet in the emulator, no account in Datadog.
fn assert_nothing_left(sb: &Sandbox, ex: &Example<'_>) -> anyhow::Result<()> {
    let left = ex.state_list()?;
    ensure!(left.is_empty(), "resources left in state: {left:?}");
    let sets = sb.emulator()?.stack_sets()?;
    ensure!(sets.is_empty(), "StackSets left in the emulator: {sets:?}");
    let dd = sb.datadog().accounts()?;
    ensure!(dd.is_empty(), "accounts left in Datadog: {dd:?}");
    Ok(())
}

// ------------------------------------------------------------------ (a) fmt

#[test]
fn e2e_examples_are_terraform_fmt_clean() -> anyhow::Result<()> {
    let out = Command::new("bash")
        .arg(repo_root().join("scripts").join("terraform"))
        .args(["fmt", "-check", "-recursive", "-diff", "-no-color", "examples"])
        .current_dir(repo_root())
        .env_remove("TF_CLI_CONFIG_FILE")
        .output()
        .context("running scripts/terraform fmt")?;
    ensure!(
        out.status.success(),
        "terraform fmt -check -recursive examples/ failed ({}); run `scripts/terraform fmt -recursive examples`:\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Each example explains itself.
    for ex in EXAMPLES {
        ensure!(repo_root().join("examples").join(ex).join("README.md").is_file(), "examples/{ex}/README.md is missing");
    }
    Ok(())
}

// ------------------------------------------------------------------ (b) offline init + validate

#[test]
fn e2e_examples_init_and_validate_offline_from_a_filesystem_mirror() -> anyhow::Result<()> {
    let found = example_dirs()?;
    ensure!(found == EXAMPLES, "examples/ has {found:?}; list every example in EXAMPLES (and test it)");

    // The kit binds Terraform to a sandbox's environment; nothing here talks to it.
    let sb = Sandbox::datadog_only()?;
    let mirror = mirror()?;
    let versions = [Terraform::pinned(&sb)?, Terraform::oldest(&sb)?];
    let version = env!("CARGO_PKG_VERSION");
    for tf in versions {
        let tf = mirror.offline(tf);
        let shown = format!("terraform {}", tf.version());
        let root = copy_examples(tf.dir(), true)?;
        let mut checked = 0;
        for ex in EXAMPLES {
            let example = Example::new(&tf, root.join(ex), &[]);
            if let Some((_, why)) = NEEDS_NEWER.iter().find(|(name, _)| name == ex).filter(|_| !tf.is_pinned()) {
                let init = example.run(&["init", "-backend=false", "-input=false", "-no-color"], false)?;
                ensure!(
                    !init.success() && init.stderr.contains("Unsupported Terraform Core version"),
                    "{ex}: {shown} must refuse it for its required_version ({why}):\n{}",
                    init.describe()
                );
                eprintln!("skipping {ex} with {shown}: {why} (its required_version says so, and init refuses it)");
                continue;
            }
            checked += 1;
            let init = example.ok(&["init", "-backend=false", "-input=false", "-no-color"], false).with_context(|| format!("{ex}: init with {shown}"))?;
            ensure!(
                init.stdout.contains(&format!("Installed orgsync/datadog v{version}")),
                "{ex}: {shown} did not install orgsync/datadog {version} from the mirror:\n{}",
                init.describe()
            );
            let lock = std::fs::read_to_string(root.join(ex).join(".terraform.lock.hcl")).with_context(|| format!("{ex}: lock file"))?;
            ensure!(lock.contains("registry.terraform.io/orgsync/datadog") && lock.contains(&format!("\"{version}\"")), "{ex}: lock file:\n{lock}");
            let report = example.run(&["validate", "-json", "-no-color"], false)?.json()?;
            ensure!(report["valid"] == true, "{ex} is not valid with {shown}: {report:#}");
            ensure!(report["warning_count"] == 0, "{ex} has warnings with {shown}: {report:#}");
        }
        eprintln!("init + validate offline with {shown}: {checked} of {} examples", EXAMPLES.len());

        // The full module-composition (with the official provider): everything
        // checks out up to fetching DataDog/datadog, which needs the registry.
        let full = TestDir::new("e2e_examples-full")?;
        let full_root = copy_examples(full.path(), false)?;
        let example = Example::new(&tf, full_root.join("module-composition"), &[]);
        let out = example.run(&["init", "-backend=false", "-input=false", "-no-color"], false)?;
        let text = format!("{}\n{}", out.stdout, out.stderr);
        ensure!(!out.success(), "init of the full module-composition cannot succeed offline:\n{text}");
        ensure!(!text.contains("Provider type mismatch"), "module-composition: {text}");
        ensure!(text.matches("Error: ").count() == 1, "module-composition: only fetching DataDog/datadog may fail:\n{text}");
        ensure!(
            text.contains("Failed to query available provider packages") && text.contains("datadog/datadog"),
            "module-composition: expected only the official provider to be missing:\n{text}"
        );
    }
    ensure!(mirror.package("registry.terraform.io", env!("CARGO_PKG_VERSION")).is_file());
    Ok(())
}

// ------------------------------------------------------------------ (c) in the sandbox

/// The guide as written, installed as a user would (`terraform init` from the
/// filesystem mirror): one apply from an empty state, an empty second plan,
/// outputs for every account, a clean destroy.
#[test]
fn e2e_example_quickstart_applies_plans_empty_and_destroys() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    quickstart_lifecycle(&sb, Terraform::pinned(&sb)?.polling_fast())
}

/// The same with the oldest supported Terraform (1.6.6).
#[test]
fn e2e_example_quickstart_with_the_oldest_supported_terraform() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    quickstart_lifecycle(&sb, Terraform::oldest(&sb)?.polling_fast())
}

/// The quickstart tests' body: init from the mirror, plan, apply, an empty
/// second plan, outputs, destroy.
fn quickstart_lifecycle(sb: &Sandbox, tf: Terraform) -> anyhow::Result<()> {
    let mirror = mirror()?;
    let tf = tf.with_env("TF_CLI_CONFIG_FILE", &mirror.rc().display().to_string());
    let root = copy_examples(tf.dir(), true)?;
    let ex = Example::new(&tf, root.join("quickstart"), &[("root_id", var(sb, "SANDBOX_ROOT_ID")?)]);
    let init = ex.init()?;
    ensure!(init.stdout.contains("Installed orgsync/datadog"), "{}", init.describe());
    let members = sb.member_accounts();

    let plan = ex.plan_json()?;
    let creates: Vec<String> = planned_changes(&plan).into_iter().filter(|(_, a)| a == &vec!["create".to_owned()]).map(|(addr, _)| addr).collect();
    ensure!(creates.len() == 1 + members.len(), "the first plan must hold the StackSet and one link per account: {creates:?}");
    ex.apply()?;
    ensure!(ex.plan_is_empty()?, "the second plan is not empty");

    let outputs = ex.outputs()?;
    ensure!(string_set(&outputs["account_ids"]["value"]) == members, "account_ids: {}", outputs["account_ids"]);
    ensure!(output_keys(&outputs, "link_ids") == members, "link_ids: {}", outputs["link_ids"]);
    let statuses = outputs["instance_status"]["value"].as_object().cloned().unwrap_or_default();
    ensure!(statuses.len() == members.len() && statuses.values().all(|s| s == "CURRENT"), "instance_status: {statuses:?}");
    ensure!(outputs["stack_set_id"]["value"].as_str().is_some_and(|s| s.starts_with(SET)));
    ensure!(sb.datadog().accounts()?.len() == members.len(), "one Datadog account per member account");
    // The organization at a glance, from the data source: every account, all covered
    // and in Datadog but the management account.
    let management = var(sb, "SANDBOX_MANAGEMENT_ACCOUNT_ID")?;
    let organization = outputs["organization"]["value"].as_object().cloned().unwrap_or_default();
    let every = sb.emulator()?.organization()?["accounts"].as_array().map_or(0, Vec::len);
    ensure!(organization.len() == every, "organization: {} accounts, the emulator has {every}", organization.len());
    for id in &members {
        let a = &organization[id.as_str()];
        ensure!(a["detailed_status"] == "SUCCEEDED" && a["datadog_config_id"].is_string(), "{id}: {a}");
    }
    ensure!(outputs["accounts_not_covered"]["value"] == serde_json::json!([]), "{}", outputs["accounts_not_covered"]);
    ensure!(outputs["accounts_not_in_datadog"]["value"] == serde_json::json!([management]), "{}", outputs["accounts_not_in_datadog"]);
    let sets = sb.emulator()?.stack_sets()?;
    ensure!(sets.len() == 1 && sets[0]["auto_deployment"]["Enabled"] == true && sets[0]["managed_execution"] == false, "{sets:?}");

    ex.destroy()?;
    assert_nothing_left(sb, &ex)
}

/// Two OUs (Production and Development/Sandbox): their accounts only, registered
/// with CSPM on and metrics off, and the links keep it so.
#[test]
fn e2e_example_ou_subset_covers_two_ous_with_cspm_and_no_metrics() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    let tf = Terraform::pinned(&sb)?.polling_fast();
    let root = copy_examples(tf.dir(), true)?;
    let ous = [var(&sb, "SANDBOX_OU_PRODUCTION")?, var(&sb, "SANDBOX_OU_DEVELOPMENT_SANDBOX")?];
    let ex = Example::new(&tf, root.join("ou-subset"), &[("organizational_unit_ids", hcl_list(&ous))]);
    ex.apply()?;
    ensure!(ex.plan_is_empty()?, "the second plan is not empty");

    let expected = sb.emulator()?.active_accounts_in(&["Production", "Development/Sandbox"])?;
    ensure!(expected.len() == 4 && expected.len() < sb.member_accounts().len());
    let outputs = ex.outputs()?;
    ensure!(string_set(&outputs["account_ids"]["value"]) == expected, "account_ids: {}", outputs["account_ids"]);
    let dd = sb.datadog().accounts()?;
    ensure!(dd.len() == expected.len(), "Datadog has accounts outside the two OUs: {dd:?}");
    for id in &expected {
        let a = datadog_account(&dd, id)?;
        ensure!(a["metrics_config"]["enabled"] == false, "{id}: metrics must be off: {a}");
        ensure!(a["resources_config"]["cloud_security_posture_management_collection"] == true, "{id}: CSPM must be on: {a}");
        ensure!(string_set(&a["account_tags"]).contains("datadog-use:cspm"), "{id}: {a}");
    }
    ex.destroy()?;
    assert_nothing_left(&sb, &ex)
}

/// Every link gets the account's forwarder Lambda and the log sources.
#[test]
fn e2e_example_logs_configures_the_forwarder_on_every_link() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    let tf = Terraform::pinned(&sb)?.polling_fast();
    let root = copy_examples(tf.dir(), true)?;
    let ex = Example::new(&tf, root.join("logs"), &[("organizational_unit_ids", hcl_list(&[var(&sb, "SANDBOX_ROOT_ID")?]))]);
    ex.apply()?;
    ensure!(ex.plan_is_empty()?, "the second plan is not empty");
    let dd = sb.datadog().accounts()?;
    let members = sb.member_accounts();
    ensure!(dd.len() == members.len());
    for id in &members {
        let fwd = &datadog_account(&dd, id)?["logs_config"]["lambda_forwarder"];
        let arn = format!("arn:aws:lambda:us-east-1:{id}:function:DatadogForwarder");
        ensure!(string_set(&fwd["lambdas"]) == set_of(&[arn.as_str()]), "{id}: {fwd}");
        ensure!(string_set(&fwd["sources"]) == set_of(&["cloudfront", "elb", "elbv2", "lambda", "s3"]), "{id}: {fwd}");
    }
    ex.destroy()?;
    assert_nothing_left(&sb, &ex)
}

/// The module through module-composition (our provider's part): per-account
/// overrides, module-wide tags, a standalone link with `provider = ddorg`.
#[test]
fn e2e_example_module_composition_applies_the_module_with_overrides() -> anyhow::Result<()> {
    eprintln!("{OFFICIAL_PROVIDER_UNAVAILABLE}");
    let sb = Sandbox::start_fast()?;
    module_composition_lifecycle(&sb, &Terraform::pinned(&sb)?.polling_fast())
}

/// The same module example under the pinned OpenTofu (scripts/tofu). Its `init`
/// (needed for the local module) resolves even dev-overridden providers from a
/// registry, so the provider comes from the filesystem mirror.
#[test]
fn e2e_example_module_composition_with_opentofu() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    let mirror = Mirror::install()?;
    let tofu = mirror.installs(Terraform::tofu(&sb)?.polling_fast());
    module_composition_lifecycle(&sb, &tofu)
}

/// Applies module-composition (our provider's part), checks every account's
/// settings and the outputs, then destroys it.
fn module_composition_lifecycle(sb: &Sandbox, tf: &Terraform) -> anyhow::Result<()> {
    let root = copy_examples(tf.dir(), true)?;
    let aws = sb.emulator()?;
    let production = aws.active_accounts_in(&["Production"])?;
    let covered = aws.active_accounts_in(&["Production", "Development", "Development/Sandbox"])?;
    let payments = production.iter().next().cloned().ok_or_else(|| anyhow!("no Production account"))?;
    let standalone = "111111111111";
    let ex = Example::new(
        tf,
        root.join("module-composition"),
        &[
            ("production_ou_id", var(sb, "SANDBOX_OU_PRODUCTION")?),
            ("development_ou_id", var(sb, "SANDBOX_OU_DEVELOPMENT")?),
            ("payments_account_id", payments.clone()),
            ("standalone_account_ids", hcl_list(&[standalone])),
        ],
    );
    ex.init()?; // installs the local module
    ex.apply()?;
    ensure!(ex.plan_is_empty()?, "the second plan is not empty");

    let outputs = ex.outputs()?;
    ensure!(string_set(&outputs["account_ids"]["value"]) == covered, "account_ids: {}", outputs["account_ids"]);
    let mut linked = covered.clone();
    linked.insert(standalone.to_owned());
    ensure!(output_keys(&outputs, "link_ids") == linked, "link_ids: {}", outputs["link_ids"]);
    let state = ex.state_list()?;
    ensure!(state.iter().any(|a| a == "module.datadog_org.datadog_aws_org_stackset.this"), "{state:?}");

    let dd = sb.datadog().accounts()?;
    ensure!(dd.len() == linked.len(), "{dd:?}");
    for id in &covered {
        let a = datadog_account(&dd, id)?;
        let (tags, custom) = if *id == payments {
            (set_of(&["managed-by:terraform", "team:payments"]), true)
        } else {
            (set_of(&["managed-by:terraform"]), false)
        };
        ensure!(string_set(&a["account_tags"]) == tags, "{id}: {a}");
        ensure!(a["metrics_config"]["collect_custom_metrics"] == custom, "{id}: {a}");
    }
    let a = datadog_account(&dd, standalone)?;
    ensure!(string_set(&a["account_tags"]) == set_of(&["managed-by:terraform", "standalone"]), "{a}");

    ex.destroy()?;
    assert_nothing_left(sb, &ex)
}

/// What the quickstart created in one directory is adopted in another:
/// configuration generated for the StackSet, links imported by account id,
/// nothing created, then an empty plan.
#[test]
fn e2e_example_import_adopts_the_stack_set_and_links_with_generated_config() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    let owner_tf = Terraform::pinned(&sb)?.polling_fast();
    let owner_root = copy_examples(owner_tf.dir(), true)?;
    let owner = Example::new(&owner_tf, owner_root.join("quickstart"), &[("root_id", var(&sb, "SANDBOX_ROOT_ID")?)]);
    owner.apply()?;

    let members: Vec<String> = sb.member_accounts().into_iter().collect();
    let tf = Terraform::pinned(&sb)?.polling_fast().in_dir(TestDir::new("e2e_example_import-adopter")?);
    let root = copy_examples(tf.dir(), true)?;
    let ex = Example::new(&tf, root.join("import"), &[("account_ids", hcl_list(&members))]);
    let out = ex.ok(&["plan", "-input=false", "-no-color", "-generate-config-out=generated.tf"], true)?;
    let expected = format!("Plan: {} to import, 0 to add, 0 to change, 0 to destroy.", 1 + members.len());
    ensure!(out.stdout.contains(&expected), "expected {expected:?}:\n{}", out.stdout);
    let generated = std::fs::read_to_string(root.join("import").join("generated.tf"))?;
    ensure!(generated.contains("resource \"datadog_aws_org_stackset\" \"org\"") && generated.contains(&format!("\"{SET}\"")), "generated.tf:\n{generated}");

    ex.apply()?;
    ensure!(ex.plan_is_empty()?, "the plan after import is not empty");
    let state = ex.state_list()?;
    ensure!(state.len() == 1 + members.len(), "{state:?}");
    ensure!(sb.emulator()?.calls("CreateStackSet")?.len() == 1, "the StackSet must not be created again");
    ensure!(sb.datadog().accounts()?.len() == members.len(), "no duplicate Datadog account");
    let outputs = ex.outputs()?;
    ensure!(output_keys(&outputs, "link_ids") == sb.member_accounts());
    Ok(())
}

/// What the quickstart created in one directory is adopted in another with
/// `terraform query -generate-config-out`: imports only, nothing created or sent,
/// then an empty plan.
#[test]
fn e2e_example_adopt_with_query_imports_what_the_query_finds() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    let owner_tf = Terraform::pinned(&sb)?.polling_fast();
    let owner_root = copy_examples(owner_tf.dir(), true)?;
    let owner = Example::new(&owner_tf, owner_root.join("quickstart"), &[("root_id", var(&sb, "SANDBOX_ROOT_ID")?)]);
    owner.apply()?;
    let before = sb.datadog().accounts()?;

    let members = sb.member_accounts();
    let tf = Terraform::pinned(&sb)?.polling_fast().in_dir(TestDir::new("e2e_example_adopt_with_query-adopter")?);
    let root = copy_examples(tf.dir(), true)?;
    let ex = Example::new(&tf, root.join("adopt-with-query"), &[]);
    let out = ex.ok(&["query", "-no-color", "-generate-config-out=generated.tf"], false)?;
    ensure!(members.iter().all(|m| out.stdout.contains(&format!("AWS account {m} (aws)"))), "not every account listed:\n{}", out.stdout);
    let generated = std::fs::read_to_string(root.join("adopt-with-query").join("generated.tf"))?;
    ensure!(generated.matches("import {").count() == 1 + members.len(), "generated.tf:\n{generated}");
    let plan = ex.ok(&["plan", "-input=false", "-no-color"], false)?;
    let expected = format!("Plan: {} to import, 0 to add, 0 to change, 0 to destroy.", 1 + members.len());
    ensure!(plan.stdout.contains(&expected), "expected {expected:?}:\n{}", plan.stdout);

    ex.apply()?;
    ensure!(ex.plan_is_empty()?, "the plan after adopting is not empty");
    ensure!(ex.state_list()?.len() == 1 + members.len());
    ensure!(sb.emulator()?.calls("CreateStackSet")?.len() == 1 && sb.emulator()?.calls("UpdateStackSet")?.is_empty(), "AWS was changed");
    let strip = |accounts: Vec<Value>| -> Vec<Value> {
        let mut a: Vec<Value> = accounts.into_iter().map(|mut a| { a["attributes"]["modified_at"] = Value::Null; a }).collect();
        a.sort_by_key(|a| a["id"].to_string());
        a
    };
    ensure!(strip(sb.datadog().accounts()?) == strip(before), "Datadog was changed");
    Ok(())
}

/// DELEGATED_ADMIN with an assumed role: the provider calls STS AssumeRole and
/// sends CallAs=DELEGATED_ADMIN on every StackSet call. (The emulator does not
/// check delegated-admin registration or the role's trust policy.)
#[test]
fn e2e_example_delegated_admin_assumes_the_role_and_calls_as_delegated_admin() -> anyhow::Result<()> {
    let sb = Sandbox::start_fast()?;
    let tf = Terraform::pinned(&sb)?.polling_fast();
    let root = copy_examples(tf.dir(), true)?;
    let admin_account = sb.member_accounts().into_iter().next().ok_or_else(|| anyhow!("no member account"))?;
    let ex = Example::new(
        &tf,
        root.join("delegated-admin"),
        &[
            ("role_arn", format!("arn:aws:iam::{admin_account}:role/StackSetsAdmin")),
            ("organizational_unit_ids", hcl_list(&[var(&sb, "SANDBOX_ROOT_ID")?])),
        ],
    );
    ex.apply()?;
    ensure!(ex.plan_is_empty()?, "the second plan is not empty");

    let assumed = sb.emulator()?.calls("AssumeRole")?;
    ensure!(!assumed.is_empty() && assumed.iter().all(|c| c["service"] == "sts" && c["status"] == 200), "AssumeRole: {assumed:?}");
    let sets = sb.emulator()?.stack_sets()?;
    ensure!(sets.len() == 1 && sets[0]["call_as"] == "DELEGATED_ADMIN", "{sets:?}");
    let log = sb.emulator()?.call_log()?;
    let stack_set_calls: Vec<&Value> = log.iter().filter(|c| c["service"] == "cloudformation" && !c["call_as"].is_null()).collect();
    ensure!(!stack_set_calls.is_empty());
    let wrong: Vec<&&Value> = stack_set_calls.iter().filter(|c| c["call_as"] != "DELEGATED_ADMIN").collect();
    ensure!(wrong.is_empty(), "StackSet calls without CallAs=DELEGATED_ADMIN: {wrong:?}");
    ensure!(sb.datadog().accounts()?.len() == sb.member_accounts().len());

    ex.destroy()?;
    ensure!(sb.emulator()?.calls("DeleteStackSet")?.iter().any(|c| c["call_as"] == "DELEGATED_ADMIN"));
    assert_nothing_left(&sb, &ex)
}
