//! The registry documentation in `docs/`: rendered by the pinned tfplugindocs
//! (`scripts/docs`) from `templates/`, `examples/provider`, `examples/resources/`
//! and the schema Terraform reads from the provider, so every attribute is
//! documented, with the schema's own description, by construction.
//!
//! These tests check that the committed pages are exactly what the generator
//! renders now (a schema or template change without `scripts/docs` fails), that
//! they pass HashiCorp's `tfplugindocs validate`, that the resource pages keep the
//! sections a reader looks for, that every ```` ```terraform ```` block (the
//! examples/ files included, as rendered) passes `terraform validate` (partial
//! snippets use ```` ```hcl ```` and are not validated), and that relative links
//! resolve.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;
use testkit::{repo_root, Sandbox, Terraform, TestDir, PROVIDER_ADDRESS, REQUIRED_PROVIDERS};

fn docs_dir() -> PathBuf {
    testkit::repo_root().join("docs")
}

/// Every `.md` file under `dir`.
fn markdown_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(read) = std::fs::read_dir(dir) else { return out };
    for entry in read.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(markdown_files(&path));
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The ```` ```terraform ```` blocks of a page, with the line each starts on.
fn terraform_blocks(text: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    let mut in_other = false;
    for (i, line) in text.lines().enumerate() {
        let fence = line.trim_start();
        match (&mut current, fence.starts_with("```")) {
            (Some(_), true) => blocks.extend(current.take()),
            (Some((_, body)), false) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, true) if in_other => in_other = false,
            (None, true) if fence.trim_end() == "```terraform" => current = Some((i + 1, String::new())),
            (None, true) => in_other = true,
            (None, false) => {}
        }
    }
    blocks
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))
}

fn page_name(path: &Path) -> String {
    path.strip_prefix(testkit::repo_root()).unwrap_or(path).display().to_string()
}

/// `docs/` is what `scripts/docs` renders from the templates, the examples and the
/// provider's schema today (the test build's provider binary).
#[test]
fn e2e_docs_are_what_tfplugindocs_renders() -> anyhow::Result<()> {
    let out = std::process::Command::new(repo_root().join("scripts/docs"))
        .arg("--check")
        .env("PROVIDER_DIR", testkit::bin_dir())
        .stdin(std::process::Stdio::null())
        .output()?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    eprintln!("{text}");
    anyhow::ensure!(out.status.success(), "docs/ is stale; run scripts/docs:\n{text}");
    Ok(())
}

/// Each resource page keeps what a reader looks for beyond the generated schema:
/// an example, import instructions (the `import` block before the CLI form), and
/// the timeouts explained.
#[test]
fn resource_pages_have_examples_import_and_timeouts() -> anyhow::Result<()> {
    let mut problems = Vec::new();
    for page in markdown_files(&docs_dir().join("resources")) {
        let text = read(&page)?;
        for section in ["## Example Usage", "## Schema", "## Import", "## Timeouts"] {
            if !text.lines().any(|l| l.trim_end() == section) {
                problems.push(format!("{}: no `{section}` section", page_name(&page)));
            }
        }
        let import = text.split("## Import").nth(1).unwrap_or_default();
        match (import.find("import {"), import.find("terraform import ")) {
            (Some(block), Some(cli)) if block < cli => {}
            _ => problems.push(format!("{}: the Import section must show an `import` block, then the CLI form", page_name(&page))),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

/// Every ```` ```terraform ```` block of the documentation is a configuration that
/// `terraform validate` accepts (the provider's required_providers block is added to
/// blocks that have none).
#[test]
fn e2e_docs_terraform_examples_validate() -> anyhow::Result<()> {
    let sb = Sandbox::datadog_only()?;
    let mut failures = Vec::new();
    let mut count = 0;
    for page in markdown_files(&docs_dir()) {
        let text = read(&page)?;
        for (line, block) in terraform_blocks(&text) {
            count += 1;
            let name = format!("{}-{line}", page_name(&page));
            let tf = Terraform::pinned(&sb)?.in_dir(TestDir::new(&name)?);
            let config = if block.contains("required_providers") { block.clone() } else { format!("{REQUIRED_PROVIDERS}\n{block}") };
            tf.write_main_tf(&config)?;
            let out = tf.run(&["validate", "-json", "-no-color"])?;
            let report = out.json()?;
            if report["valid"] != Value::Bool(true) {
                let diags: Vec<String> = report["diagnostics"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|d| format!("  {}: {} {}", d["severity"].as_str().unwrap_or(""), d["summary"].as_str().unwrap_or(""), d["detail"].as_str().unwrap_or("")))
                    .collect();
                failures.push(format!("{}:{line}: the example does not validate:\n{}", page_name(&page), diags.join("\n")));
            }
        }
    }
    eprintln!("validated {count} ```terraform examples");
    assert!(count >= 5, "expected the pages' ```terraform examples, found {count}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim_start_matches('#')
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a page: its headings' and its `<a id="…">` ones.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            out.insert(slug(line));
        } else if let Some(rest) = line.trim().strip_prefix("<a id=\"") {
            out.extend(rest.split('"').next().map(str::to_owned));
        }
    }
    out
}

/// Every relative link of the documentation (`[text](page.md#anchor)`, `[text](#anchor)`)
/// points at a page that exists and an anchor it has.
#[test]
fn docs_links_resolve() -> anyhow::Result<()> {
    let mut broken = Vec::new();
    for page in markdown_files(&docs_dir()) {
        let text = read(&page)?;
        let mut in_code = false;
        for (i, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
            }
            if in_code {
                continue;
            }
            for part in line.split("](").skip(1) {
                let Some(target) = part.split(')').next() else { continue };
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                let (file, anchor) = target.split_once('#').map_or((target, None), |(f, a)| (f, Some(a)));
                let dest = if file.is_empty() { page.clone() } else { page.parent().map(|d| d.join(file)).unwrap_or_default() };
                let Ok(dest_text) = std::fs::read_to_string(&dest) else {
                    broken.push(format!("{}:{}: {target}: no such page", page_name(&page), i + 1));
                    continue;
                };
                if let Some(a) = anchor {
                    if !anchors(&dest_text).contains(a) {
                        broken.push(format!("{}:{}: {target}: no such anchor", page_name(&page), i + 1));
                    }
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert_eq!(slug("### Keys, UsePreviousValue and keys_revision"), "keys-usepreviousvalue-and-keys_revision");
    Ok(())
}

/// The pages pass HashiCorp's own check of registry documentation (`tfplugindocs
/// validate`, pinned and built by `scripts/tfplugindocs`), given the schema
/// Terraform reads from this provider.
#[test]
fn e2e_docs_pass_tfplugindocs_validate() -> anyhow::Result<()> {
    let sb = Sandbox::datadog_only()?;
    let tf = Terraform::pinned(&sb)?;
    tf.write_main_tf(&format!("{REQUIRED_PROVIDERS}\nprovider \"datadog\" {{}}\n"))?;
    let mut schemas = tf.run_ok(&["providers", "schema", "-json"])?.json()?;
    // tfplugindocs finds a provider by its short name (or under hashicorp/): file
    // ours under "datadog".
    let ours = schemas["provider_schemas"][PROVIDER_ADDRESS].take();
    anyhow::ensure!(ours.is_object(), "no schema for {PROVIDER_ADDRESS}");
    schemas["provider_schemas"] = serde_json::json!({ "datadog": ours });
    let schema_file = tf.test_dir().write_file("schema.json", &schemas.to_string())?;
    let repo = docs_dir().parent().map(Path::to_path_buf).unwrap_or_default();
    let out = std::process::Command::new(repo.join("scripts/tfplugindocs"))
        .args(["validate", "--provider-name", "datadog", "--provider-dir"])
        .arg(&repo)
        .arg("--providers-schema")
        .arg(&schema_file)
        .stdin(std::process::Stdio::null())
        .output()?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    eprintln!("{text}");
    anyhow::ensure!(out.status.success(), "tfplugindocs validate failed:\n{text}");
    Ok(())
}
