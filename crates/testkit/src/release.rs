//! [`Release`]: the provider's release (`scripts/release`) built into a
//! temporary `dist/`, for the tests of what a registry would publish.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{ensure, Context as _};

use crate::paths::{bin_dir, repo_root};
use crate::process::{run_with_timeout, scrub_env, Output};
use crate::terraform::TestDir;

/// Bound on one `scripts/release`. `make test` compiles the release first
/// (`scripts/release --build-only`), so in a test run cargo finds everything up
/// to date and only the packaging runs (seconds); a test started by hand may
/// have to compile both platforms first.
const RELEASE_TIMEOUT: Duration = Duration::from_secs(3600);

/// The platforms `scripts/release` builds by default.
pub const RELEASE_PLATFORMS: [&str; 2] = ["linux_amd64", "linux_arm64"];

/// A release made by `scripts/release --skip-unavailable --dist <new test
/// dir>/dist`. The script compiles into its own per-machine target directory
/// ([`release_target_dir`], outside the checkout), so the compiled release is
/// shared by every test, by `make release` and by other clones. The directory
/// is removed on drop.
#[derive(Debug)]
pub struct Release {
    dir: TestDir,
    dist: PathBuf,
    version: String,
    built: Vec<String>,
    skipped: Vec<(String, String)>,
    output: Output,
}

impl Release {
    /// Builds the release of this checkout (every default platform this machine
    /// can build; the others are [`Release::skipped`] with the script's reason).
    pub fn build() -> anyhow::Result<Release> {
        Release::build_from(&repo_root(), None, &[])
    }

    /// Builds the release of the checkout at `repo` (e.g. a copy of this one at
    /// another path) with `platforms` (comma-separated, `None` for the default)
    /// and extra environment (e.g. `SOURCE_DATE_EPOCH`, required where `repo`
    /// is not a git checkout); a copy with the same `Cargo.lock` shares the
    /// release target directory, so only the provider's crate is compiled again.
    pub fn build_from(repo: &Path, platforms: Option<&str>, env: &[(&str, &str)]) -> anyhow::Result<Release> {
        let dir = TestDir::new("release")?;
        let dist = dir.path().join("dist");
        let mut cmd = Command::new("bash");
        cmd.arg(repo.join("scripts").join("release"))
            .arg("--skip-unavailable")
            .arg("--dist")
            .arg(&dist)
            .current_dir(repo);
        if let Some(platforms) = platforms {
            cmd.arg("--platforms").arg(platforms);
        }
        scrub_env(&mut cmd);
        cmd.env_remove("RELEASE_GPG_KEY")
            .env_remove("RELEASE_PLATFORMS")
            .env_remove("DIST_DIR");
        for (key, value) in env {
            cmd.env(key, value);
        }
        let shown = format!("{}/scripts/release --skip-unavailable --dist {}", repo.display(), dist.display());
        let output = run_with_timeout(cmd, &shown, RELEASE_TIMEOUT)?.ensure_success()?;
        let version = env!("CARGO_PKG_VERSION").to_owned();
        let wanted: Vec<&str> = match platforms {
            Some(p) => p.split(',').collect(),
            None => RELEASE_PLATFORMS.to_vec(),
        };
        let mut built = Vec::new();
        let mut skipped = Vec::new();
        for platform in wanted {
            let zip = dist.join(format!("terraform-provider-datadog_{version}_{platform}.zip"));
            if zip.is_file() {
                built.push(platform.to_owned());
            } else {
                let prefix = format!("release: skipping {platform}: ");
                let why = output
                    .stderr
                    .lines()
                    .find_map(|l| l.strip_prefix(&prefix))
                    .with_context(|| format!("{} is missing and the script gave no reason\n{}", zip.display(), output.describe()))?;
                skipped.push((platform.to_owned(), why.to_owned()));
            }
        }
        ensure!(!built.is_empty(), "no platform was built\n{}", output.describe());
        Ok(Release { dir, dist, version, built, skipped, output })
    }

    /// The output directory.
    pub fn dist(&self) -> &Path {
        &self.dist
    }

    /// The directory the release was made in (holds [`Release::dist`]; free for the test's own files).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The provider version (`CARGO_PKG_VERSION`).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// `dist/terraform-provider-datadog_<version>_<suffix>`, e.g. `SHA256SUMS`.
    pub fn file(&self, suffix: &str) -> PathBuf {
        self.dist.join(format!("terraform-provider-datadog_{}_{suffix}", self.version))
    }

    /// The zip of a platform (`linux_amd64`), whether or not it was built.
    pub fn zip(&self, platform: &str) -> PathBuf {
        self.file(&format!("{platform}.zip"))
    }

    /// The platforms built, e.g. `["linux_amd64", "linux_arm64"]`.
    pub fn platforms(&self) -> &[String] {
        &self.built
    }

    /// Why a platform was not built (`None` when it was, or was not asked for).
    pub fn skipped(&self, platform: &str) -> Option<&str> {
        self.skipped.iter().find(|(p, _)| p == platform).map(|(_, why)| why.as_str())
    }

    /// The static network mirror (`dist/mirror`).
    pub fn mirror(&self) -> PathBuf {
        self.dist.join("mirror")
    }

    /// What `scripts/release` printed.
    pub fn output(&self) -> &Output {
        &self.output
    }
}

/// The target directory of the running test build (`<target>/debug/deps/<test>`),
/// or `${CARGO_TARGET_DIR:-<repo>/target}`.
pub fn target_dir() -> PathBuf {
    let debug = bin_dir();
    match debug.parent() {
        Some(target) if debug.file_name().is_some_and(|n| n == "debug") => target.to_path_buf(),
        _ => std::env::var_os("CARGO_TARGET_DIR")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .map(|d| if d.is_absolute() { d } else { repo_root().join(d) })
            .unwrap_or_else(|| repo_root().join("target")),
    }
}

/// Where `scripts/release` compiles (`scripts/release --print-target-dir`:
/// `RELEASE_TARGET_DIR`, or a directory under `~/.cache/orgsync-datadog` keyed
/// by the toolchain and the dependencies `Cargo.lock` pins).
pub fn release_target_dir() -> anyhow::Result<PathBuf> {
    let mut cmd = Command::new("bash");
    cmd.arg(repo_root().join("scripts").join("release")).arg("--print-target-dir").current_dir(repo_root());
    let out = run_with_timeout(cmd, "scripts/release --print-target-dir", Duration::from_secs(60))?.ensure_success()?;
    let dir = PathBuf::from(out.stdout.trim());
    ensure!(dir.is_absolute(), "scripts/release --print-target-dir printed {:?}", out.stdout);
    Ok(dir)
}

/// Runs `cmd` with stdin closed, stdout and stderr captured, for at most
/// `timeout` (then SIGTERM, SIGKILL), with the kit's readable failures; `shown`
/// names it in messages. The exit code is the caller's to check
/// ([`Output::ensure_success`]).
pub fn run_command(cmd: Command, shown: &str, timeout: Duration) -> anyhow::Result<Output> {
    run_with_timeout(cmd, shown, timeout)
}
