//! [`Mirror`]: the provider installed by `scripts/install` into a temporary
//! filesystem mirror, for tests of `terraform init` and `tofu init`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{ensure, Context as _};

use crate::paths::{bin_dir, repo_root};
use crate::process::{run_with_timeout, scrub_env};
use crate::terraform::{Terraform, TestDir};

/// Bound on `scripts/install --bin-dir` (it only copies the built binary).
const INSTALL_TIMEOUT: Duration = Duration::from_secs(120);

/// A filesystem mirror made by `scripts/install --debug --bin-dir <built
/// binaries>` in a fresh [`TestDir`], with the CLI configuration the script
/// printed (and wrote to [`Mirror::rc`]). The directory is removed on drop.
#[derive(Debug)]
pub struct Mirror {
    dir: TestDir,
    mirror: PathBuf,
    rc: PathBuf,
    config: String,
}

impl Mirror {
    /// Runs `scripts/install` into `<new test dir>/mirror` (no build: the test
    /// command builds first) and checks that it printed the configuration it wrote.
    pub fn install() -> anyhow::Result<Mirror> {
        let dir = TestDir::new("mirror")?;
        let mirror = dir.path().join("mirror");
        let rc = dir.path().join("cli.tfrc");
        let mut cmd = Command::new("bash");
        cmd.arg(repo_root().join("scripts").join("install"))
            .arg("--debug")
            .arg("--bin-dir")
            .arg(bin_dir())
            .arg("--mirror")
            .arg(&mirror)
            .arg("--rc")
            .arg(&rc)
            .current_dir(repo_root());
        scrub_env(&mut cmd);
        let out = run_with_timeout(
            cmd,
            "scripts/install --debug --bin-dir ...",
            INSTALL_TIMEOUT,
        )?
        .ensure_success()?;
        let written =
            std::fs::read_to_string(&rc).with_context(|| format!("reading {}", rc.display()))?;
        ensure!(
            written.trim() == out.stdout.trim(),
            "the CLI configuration printed and the one written differ:\n{}\n---\n{written}",
            out.stdout
        );
        Ok(Mirror {
            dir,
            mirror,
            rc,
            config: written,
        })
    }

    /// The mirror directory (absolute).
    pub fn path(&self) -> &Path {
        &self.mirror
    }

    /// The CLI configuration file (for `TF_CLI_CONFIG_FILE`).
    pub fn rc(&self) -> &Path {
        &self.rc
    }

    /// The CLI configuration's text.
    pub fn config(&self) -> &str {
        &self.config
    }

    /// `tf` installing `orgsync/datadog` from this mirror (its CLI configuration
    /// instead of the sandbox's dev_overrides), the network left as it is (the
    /// provider itself must still reach the sandbox's servers).
    pub fn installs(&self, tf: Terraform) -> Terraform {
        tf.with_env("TF_CLI_CONFIG_FILE", &self.rc.display().to_string())
    }

    /// `tf` resolving providers from this mirror only (its CLI configuration
    /// instead of the sandbox's dev_overrides), with every proxy pointed at a closed
    /// port: nothing can be fetched from the network.
    pub fn offline(&self, tf: Terraform) -> Terraform {
        let nowhere = "http://127.0.0.1:9";
        self.installs(tf)
            .with_env("HTTPS_PROXY", nowhere)
            .with_env("https_proxy", nowhere)
            .with_env("HTTP_PROXY", nowhere)
            .with_env("http_proxy", nowhere)
            .with_env("NO_PROXY", "")
            .with_env("no_proxy", "")
    }

    /// The directory the mirror was made in.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Where the provider's executable is for one registry hostname, e.g.
    /// `registry.opentofu.org`: `<mirror>/<hostname>/orgsync/datadog/<version>/<os>_<arch>/terraform-provider-datadog_v<version>`
    /// with `version` the provider's (`CARGO_PKG_VERSION` of the caller).
    pub fn package(&self, hostname: &str, version: &str) -> PathBuf {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            other => other,
        };
        self.mirror
            .join(hostname)
            .join("orgsync")
            .join("datadog")
            .join(version)
            .join(format!("{}_{arch}", std::env::consts::OS))
            .join(format!("terraform-provider-datadog_v{version}"))
    }
}
