//! [`Sandbox`]: the local fakes, started by `scripts/sandbox` in a temp dir.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use tempfile::TempDir;

use crate::datadog::{fake_datadog_admin, FakeDatadog};
use crate::emulator::Emulator;
use crate::paths::{bin_dir, keep_dirs, repo_root, temp_root};
use crate::process::{run_with_timeout, scrub_env, section, tail};

/// Bound on `scripts/sandbox up` (the script bounds each server's start-up itself).
const UP_TIMEOUT: Duration = Duration::from_secs(120);
/// Bound on `scripts/sandbox down` (SIGTERM, 10 s grace, SIGKILL per server).
const DOWN_TIMEOUT: Duration = Duration::from_secs(60);

/// A running sandbox: the Datadog fake and (unless [`Sandbox::datadog_only`])
/// the AWS emulator, started by `scripts/sandbox up --dir <temp dir>`, owned by
/// this test process.
///
/// Dropping it runs `scripts/sandbox down --dir`; a watchdog started with
/// `--owner-pid` also stops the servers if the test process dies without
/// dropping it. Logs are in [`Sandbox::dir`]`/*.log`.
pub struct Sandbox {
    /// Deletes the directory on drop (`None` when kept with `TESTKIT_KEEP=1`).
    _tempdir: Option<TempDir>,
    path: PathBuf,
    env: BTreeMap<String, String>,
    datadog_url: String,
    admin_url: String,
    api_key: String,
    app_key: String,
    stopped: bool,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("dir", &self.path)
            .field("datadog_url", &self.datadog_url)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Starts a sandbox in a fresh directory under [`crate::temp_root`]:
    /// runs `scripts/sandbox up --dir DIR --owner-pid <this process>` with
    /// `SANDBOX_NO_BUILD=1` (build first!) and `SANDBOX_BIN_DIR` = [`crate::bin_dir`],
    /// then reads `DIR/env`. Starts everything: the Datadog fake and the AWS emulator.
    pub fn start() -> anyhow::Result<Sandbox> {
        Sandbox::start_with(&[])
    }

    /// Only the Datadog fake (`SANDBOX_AWS=0`): for tests that touch no AWS API.
    pub fn datadog_only() -> anyhow::Result<Sandbox> {
        Sandbox::start_with(&[("SANDBOX_AWS", "0")])
    }

    /// Like [`Sandbox::start`], with stack instances that take 0.2 s
    /// (`SANDBOX_INSTANCE_SECONDS`) instead of the emulator's 1 s: for the
    /// suites that deploy StackSets again and again.
    pub fn start_fast() -> anyhow::Result<Sandbox> {
        Sandbox::start_with(&[("SANDBOX_INSTANCE_SECONDS", "0.2")])
    }

    /// Like [`Sandbox::start`], with extra settings for `scripts/sandbox`
    /// (e.g. `SANDBOX_TRUSTED_ACCESS=disabled`, `SANDBOX_INSTANCE_SECONDS=0.2`).
    pub fn start_with(settings: &[(&str, &str)]) -> anyhow::Result<Sandbox> {
        let dir = tempfile::Builder::new()
            .prefix("sandbox-")
            .tempdir_in(temp_root()?)
            .context("creating the sandbox directory")?;
        let path = dir.path().to_path_buf();
        let script = repo_root().join("scripts").join("sandbox");

        let mut cmd = Command::new("bash");
        cmd.arg(&script)
            .arg("up")
            .arg("--dir")
            .arg(&path)
            .arg("--owner-pid")
            .arg(std::process::id().to_string())
            .current_dir(repo_root());
        scrub_env(&mut cmd);
        cmd.env("SANDBOX_NO_BUILD", "1")
            .env("SANDBOX_BIN_DIR", bin_dir());
        for (k, v) in settings {
            cmd.env(k, v);
        }
        let shown = format!("scripts/sandbox up --dir {}", path.display());
        let out = run_with_timeout(cmd, &shown, UP_TIMEOUT)?;
        if !out.success() {
            // Stop whatever may have started before reporting.
            let _ = sandbox_down(&path);
            bail!(
                "the sandbox did not start (are the binaries built? `cargo build --workspace --bins`; \
                 looked in {})\n{}",
                bin_dir().display(),
                out.describe()
            );
        }

        let env_path = path.join("env");
        let text = std::fs::read_to_string(&env_path)
            .with_context(|| format!("reading {}", env_path.display()));
        let env = match text.and_then(|t| parse_env_file(&t)) {
            Ok(env) => env,
            Err(e) => {
                let _ = sandbox_down(&path);
                return Err(e);
            }
        };
        let get = |key: &str| -> anyhow::Result<String> {
            env.get(key)
                .cloned()
                .ok_or_else(|| anyhow!("{} does not set {key}", env_path.display()))
        };
        let fields = (|| {
            Ok::<_, anyhow::Error>((
                get("DD_HOST")?,
                get("SANDBOX_DATADOG_ADMIN_URL")?,
                get("DD_API_KEY")?,
                get("DD_APP_KEY")?,
            ))
        })();
        let (datadog_url, admin_url, api_key, app_key) = match fields {
            Ok(f) => f,
            Err(e) => {
                let _ = sandbox_down(&path);
                return Err(e);
            }
        };
        let mut dir = Some(dir);
        if keep_dirs() {
            if let Some(d) = dir.take() {
                eprintln!("testkit: keeping sandbox directory {}", d.keep().display());
            }
        }
        Ok(Sandbox {
            _tempdir: dir,
            path,
            env,
            datadog_url,
            admin_url,
            api_key,
            app_key,
            stopped: false,
        })
    }

    /// The sandbox directory (holds `env`, `terraform.rc` and the servers' `*.log`).
    pub fn dir(&self) -> &Path {
        &self.path
    }

    /// Every variable exported by `DIR/env` (`DD_HOST`, `DD_API_KEY`,
    /// `DD_APP_KEY`, `TF_CLI_CONFIG_FILE`, `CHECKPOINT_DISABLE`,
    /// `SANDBOX_DATADOG_ADMIN_URL`, `SANDBOX_DIR`, ...).
    pub fn env(&self) -> &BTreeMap<String, String> {
        &self.env
    }

    /// One variable of [`Sandbox::env`].
    pub fn var(&self, key: &str) -> Option<&str> {
        self.env.get(key).map(String::as_str)
    }

    /// The active member accounts of the organization as seeded at start
    /// (`SANDBOX_ACCOUNT_IDS`; the management account is not one); accounts
    /// added later are in [`Emulator::active_accounts`].
    pub fn member_accounts(&self) -> BTreeSet<String> {
        self.var("SANDBOX_ACCOUNT_IDS")
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The Datadog fake's base URL (`DD_HOST`), e.g. `http://127.0.0.1:41234`.
    pub fn datadog_url(&self) -> &str {
        &self.datadog_url
    }

    /// The fake's control API (`SANDBOX_DATADOG_ADMIN_URL` = `DD_HOST/_fake`).
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// The sandbox's random Datadog API key (`DD_API_KEY`).
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The sandbox's random Datadog application key (`DD_APP_KEY`).
    pub fn app_key(&self) -> &str {
        &self.app_key
    }

    /// A client for the Datadog fake; same as [`crate::fake_datadog_admin`].
    pub fn datadog(&self) -> FakeDatadog {
        fake_datadog_admin(self)
    }

    /// A handle on the AWS emulator; an error for [`Sandbox::datadog_only`].
    pub fn emulator(&self) -> anyhow::Result<Emulator> {
        Emulator::new(self)
    }

    /// The contents of `DIR/<name>.log` (e.g. `fake-datadog`), or "" if absent.
    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.path.join(format!("{name}.log"))).unwrap_or_default()
    }

    /// The last lines of every `DIR/*.log`, for failure messages.
    pub fn log_tails(&self) -> String {
        log_tails(&self.path)
    }

    /// Stops the sandbox now (instead of on drop), reporting failures.
    pub fn stop(mut self) -> anyhow::Result<()> {
        self.stopped = true;
        sandbox_down(&self.path)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if !self.stopped {
            if let Err(e) = sandbox_down(&self.path) {
                eprintln!("testkit: stopping the sandbox failed: {e:#}");
            }
        }
        // `self._tempdir` (unless kept) is removed right after this.
    }
}

/// Runs `scripts/sandbox down --dir DIR` (bounded).
fn sandbox_down(dir: &Path) -> anyhow::Result<()> {
    let mut cmd = Command::new("bash");
    cmd.arg(repo_root().join("scripts").join("sandbox"))
        .arg("down")
        .arg("--dir")
        .arg(dir)
        .current_dir(repo_root());
    scrub_env(&mut cmd);
    let shown = format!("scripts/sandbox down --dir {}", dir.display());
    run_with_timeout(cmd, &shown, DOWN_TIMEOUT)?.ensure_success()?;
    Ok(())
}

/// The tails of the `*.log` files in `dir`, one section each.
pub(crate) fn log_tails(dir: &Path) -> String {
    let mut names: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .collect(),
        Err(_) => return String::new(),
    };
    names.sort();
    names
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            let (t, _) = tail(&text, 30, 4_000);
            section(&format!("sandbox log {}", p.display()), &t)
        })
        .collect()
}

/// Parses a sourceable env file as written by `scripts/sandbox`: lines
/// `export KEY=VALUE` or `KEY=VALUE`, where VALUE may be bare or use POSIX
/// single quotes (including `'\''`) or double quotes (no expansion);
/// blank lines and `#` comments are skipped.
pub fn parse_env_file(text: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let mut env = BTreeMap::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line
            .strip_prefix("export ")
            .map(str::trim_start)
            .unwrap_or(line);
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| anyhow!("env file line {}: expected KEY=VALUE: {raw}", n + 1))?;
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            bail!("env file line {}: bad variable name {key:?}", n + 1);
        }
        let value = unquote(value).with_context(|| format!("env file line {}: {raw}", n + 1))?;
        env.insert(key.to_owned(), value);
    }
    Ok(env)
}

/// Shell-style unquoting without expansion: concatenated bare, '...' and "..." parts.
fn unquote(s: &str) -> anyhow::Result<String> {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => loop {
                match chars.next() {
                    Some('\'') => break,
                    Some(c) => out.push(c),
                    None => bail!("unterminated single quote"),
                }
            },
            '"' => loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some(c @ ('"' | '\\' | '$' | '`')) => out.push(c),
                        Some(c) => {
                            out.push('\\');
                            out.push(c);
                        }
                        None => bail!("unterminated double quote"),
                    },
                    Some(c) => out.push(c),
                    None => bail!("unterminated double quote"),
                }
            },
            '\\' => match chars.next() {
                Some(c) => out.push(c),
                None => bail!("trailing backslash"),
            },
            c if c.is_whitespace() => bail!("unquoted whitespace in value"),
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sandbox_env_files() -> anyhow::Result<()> {
        let env = parse_env_file(
            "# comment\n\nexport DD_HOST='http://127.0.0.1:1234'\nexport A='it'\\''s'\nB=\"x \\\"y\\\"\"\nC=plain\n",
        )?;
        assert_eq!(
            env.get("DD_HOST").map(String::as_str),
            Some("http://127.0.0.1:1234")
        );
        assert_eq!(env.get("A").map(String::as_str), Some("it's"));
        assert_eq!(env.get("B").map(String::as_str), Some("x \"y\""));
        assert_eq!(env.get("C").map(String::as_str), Some("plain"));
        assert_eq!(env.len(), 4);
        Ok(())
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_env_file("export NOVALUE\n").is_err());
        assert!(parse_env_file("export A='open\n").is_err());
        assert!(parse_env_file("BAD-NAME=1\n").is_err());
    }
}
