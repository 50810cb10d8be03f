//! Where things are: the repository, the built binaries, temporary roots.

use std::env;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// The repository root: the nearest ancestor of this crate's
/// `CARGO_MANIFEST_DIR` (`<repo>/crates/testkit`) that contains
/// `scripts/sandbox`. Falls back to `CARGO_MANIFEST_DIR/../..`.
pub fn repo_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    repo_root_from(manifest_dir).unwrap_or_else(|| manifest_dir.join("..").join(".."))
}

/// The nearest ancestor of `start` (itself included) that contains
/// `scripts/sandbox`, e.g. `repo_root_from(Path::new(env!("CARGO_MANIFEST_DIR")))`
/// from any crate of the workspace.
pub fn repo_root_from(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join("scripts").join("sandbox").is_file())
        .map(Path::to_path_buf)
}

/// The directory holding the workspace's built binaries (`fake-datadog`,
/// `terraform-provider-datadog`): `$SANDBOX_BIN_DIR` if set; else the profile
/// directory of the running test executable (`target/debug` when it runs from
/// `target/debug/deps`); else `${CARGO_TARGET_DIR:-<repo>/target}/debug`.
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = env::var_os("SANDBOX_BIN_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Ok(exe) = env::current_exe() {
        if let Some(deps) = exe.parent() {
            if deps.file_name().is_some_and(|n| n == "deps") {
                if let Some(profile_dir) = deps.parent() {
                    return profile_dir.to_path_buf();
                }
            }
        }
    }
    let target = env::var_os("CARGO_TARGET_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    let target = if target.is_absolute() {
        target
    } else {
        repo_root().join(target)
    };
    target.join("debug")
}

/// The root for the kit's temporary directories: `$TESTKIT_TMPDIR` or
/// `<system temp>/testkit`; created if missing.
pub fn temp_root() -> anyhow::Result<PathBuf> {
    let root = env::var_os("TESTKIT_TMPDIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| env::temp_dir().join("testkit"));
    std::fs::create_dir_all(&root)
        .with_context(|| format!("creating temporary root {}", root.display()))?;
    Ok(root)
}

/// Whether `TESTKIT_KEEP=1` asks to keep temporary directories.
pub(crate) fn keep_dirs() -> bool {
    env::var("TESTKIT_KEEP").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// A file-name-safe version of `name` (test paths contain `::`), at most 60 chars.
pub(crate) fn sanitize(name: &str) -> String {
    let mut out: String = name
        .replace("::", "-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.len() > 60 {
        // Keep the end: the test's own name is the informative part.
        out = out[out.len() - 60..].to_owned();
    }
    if out.is_empty() {
        out.push_str("test");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_root_has_scripts() {
        assert!(repo_root().join("scripts").join("sandbox").is_file());
        assert!(repo_root().join("Cargo.toml").is_file());
    }

    #[test]
    fn sanitize_test_paths() {
        assert_eq!(sanitize("e2e::links::create one"), "e2e-links-create_one");
        assert_eq!(sanitize(""), "test");
        assert_eq!(sanitize(&"a".repeat(100)).len(), 60);
    }
}
