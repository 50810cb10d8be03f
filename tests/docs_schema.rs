//! The documentation in `docs/` checked against the schema Terraform gets from the
//! provider (`terraform providers schema -json`, pinned Terraform, Datadog fake only).
//!
//! # The convention the schema lists follow
//!
//! Pages: the provider in `docs/index.md`; resource `datadog_<x>` in
//! `docs/resources/<x>.md`; data source `datadog_<x>` in `docs/data-sources/<x>.md`.
//!
//! Inside a page, a *schema list* is the part under one of these headings (any level),
//! up to the next heading:
//!
//! | heading | attributes listed |
//! |---|---|
//! | `Argument Reference`, `Attributes Reference` | top-level ones |
//! | `Timeouts` | those of the `timeouts` block |
//! | ``Nested Schema for `a.b` `` | those of the nested attribute or block `a.b` |
//!
//! An entry is a line, at column 0, of the form
//! ``- `name` (Type, Flag, Flag) description``. Its full path is the heading's path
//! plus `name`, e.g. `metrics.namespace_filters.include_only` or `aws.assume_role.role_arn`.
//! `Type` is `String`, `Number`, `Boolean`, `Dynamic`, `Set of String`, `Map of String`,
//! `List of Object`, … for plain types; `Attributes`, `Attributes Set`, `Attributes List`,
//! `Attributes Map` for nested attributes; `Block`, `Block List`, `Block Set`, `Block Map`
//! for blocks. Flags: exactly one of `Required`, `Optional` (also for defaulted, i.e.
//! optional and computed, attributes) or `Read-Only` (computed only); plus `Sensitive`,
//! `Write-only` and `Deprecated` when the schema says so (a deprecated attribute must
//! say it is, and only a deprecated one may). The fields of an object type (e.g. the
//! elements of `instances`, a `List of Object`) are documented like nested attributes,
//! with the class of their parent. Lines in fenced code blocks are never entries.
//!
//! The check fails when an attribute of the schema has no entry in its page, when an
//! entry names an attribute the schema lacks, or when an entry's type or flags differ.
//! Front matter, file names and folders are checked by HashiCorp's `tfplugindocs validate`
//! (pinned, `scripts/tfplugindocs`). A further test runs `terraform validate` on every code block fenced as ```` ```terraform ````
//! (partial snippets use ```` ```hcl ```` and are not validated).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use testkit::{Sandbox, Terraform, TestDir, PROVIDER_ADDRESS, REQUIRED_PROVIDERS};

/// What the schema says about one attribute or block.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Expected {
    ty: String,
    /// `Required`, `Optional` or `Read-Only`.
    class: &'static str,
    sensitive: bool,
    /// `None` when this Terraform does not report write-only attributes.
    write_only: Option<bool>,
    deprecated: bool,
}

/// One documented attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    path: String,
    ty: String,
    flags: Vec<String>,
    line: usize,
}

fn docs_dir() -> PathBuf {
    testkit::repo_root().join("docs")
}

// ---- the documentation side -------------------------------------------------------

/// The schema-list context a heading opens: `Some("")` for the top level, `Some(path)`
/// for a nested schema, `None` for prose.
fn heading_context(heading: &str) -> Option<String> {
    let text = heading.trim_start_matches('#').trim();
    if let Some(rest) = text.strip_prefix("Nested Schema for `") {
        return rest.split('`').next().map(str::to_owned);
    }
    match text {
        "Argument Reference" | "Attributes Reference" => Some(String::new()),
        "Timeouts" => Some("timeouts".to_owned()),
        _ => None,
    }
}

/// ``- `name` (Type, Flags) …`` → (name, type, flags).
fn parse_entry(line: &str) -> Option<(String, String, Vec<String>)> {
    let rest = line.strip_prefix("- `")?;
    let (name, rest) = rest.split_once('`')?;
    let rest = rest.strip_prefix(" (")?;
    let (inside, _) = rest.split_once(')')?;
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        return None;
    }
    let mut parts = inside.split(',').map(str::trim);
    let ty = parts.next()?.to_owned();
    Some((name.to_owned(), ty, parts.map(str::to_owned).collect()))
}

/// Every schema-list entry of a page.
fn parse_entries(text: &str) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut context: Option<String> = None;
    let mut in_code = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        if line.starts_with('#') {
            context = heading_context(line);
            continue;
        }
        let (Some(prefix), Some((name, ty, flags))) = (&context, parse_entry(line)) else { continue };
        let path = if prefix.is_empty() { name } else { format!("{prefix}.{name}") };
        entries.push(Entry { path, ty, flags, line: i + 1 });
    }
    entries
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

// ---- the schema side ---------------------------------------------------------------

fn type_name(ty: &Value) -> String {
    match ty {
        Value::String(s) => match s.as_str() {
            "string" => "String".into(),
            "number" => "Number".into(),
            "bool" => "Boolean".into(),
            "dynamic" => "Dynamic".into(),
            other => other.to_owned(),
        },
        Value::Array(parts) => match (parts.first().and_then(Value::as_str), parts.get(1)) {
            (Some("list"), Some(e)) => format!("List of {}", type_name(e)),
            (Some("set"), Some(e)) => format!("Set of {}", type_name(e)),
            (Some("map"), Some(e)) => format!("Map of {}", type_name(e)),
            (Some("object"), _) => "Object".into(),
            (Some("tuple"), _) => "Tuple".into(),
            _ => ty.to_string(),
        },
        _ => ty.to_string(),
    }
}

/// The attribute types of the object inside `ty` (itself, or a collection's element).
fn object_fields(ty: &Value) -> Option<&serde_json::Map<String, Value>> {
    let parts = ty.as_array()?;
    match parts.first().and_then(Value::as_str)? {
        "object" => parts.get(1)?.as_object(),
        "list" | "set" | "map" => object_fields(parts.get(1)?),
        _ => None,
    }
}

fn class_of(attr: &Value) -> &'static str {
    let flag = |k: &str| attr[k].as_bool().unwrap_or(false);
    if flag("required") {
        "Required"
    } else if flag("optional") {
        "Optional"
    } else {
        "Read-Only"
    }
}

fn nesting_suffix(mode: &str) -> &'static str {
    match mode {
        "list" => " List",
        "set" => " Set",
        "map" => " Map",
        _ => "",
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

fn flatten_object(fields: &serde_json::Map<String, Value>, prefix: &str, class: &'static str, out: &mut BTreeMap<String, Expected>) {
    for (name, ty) in fields {
        let path = join(prefix, name);
        out.insert(path.clone(), Expected { ty: type_name(ty), class, sensitive: false, write_only: None, deprecated: false });
        if let Some(inner) = object_fields(ty) {
            flatten_object(inner, &path, class, out);
        }
    }
}

fn flatten_attributes(attrs: &Value, prefix: &str, out: &mut BTreeMap<String, Expected>) {
    for (name, attr) in attrs.as_object().into_iter().flatten() {
        let path = join(prefix, name);
        let class = class_of(attr);
        let write_only = attr.get("write_only").map(|w| w.as_bool().unwrap_or(false));
        let sensitive = attr["sensitive"].as_bool().unwrap_or(false);
        let deprecated = attr["deprecated"].as_bool().unwrap_or(false);
        if let Some(nested) = attr.get("nested_type") {
            let mode = nested["nesting_mode"].as_str().unwrap_or("single");
            out.insert(path.clone(), Expected { ty: format!("Attributes{}", nesting_suffix(mode)), class, sensitive, write_only, deprecated });
            flatten_attributes(&nested["attributes"], &path, out);
        } else {
            out.insert(path.clone(), Expected { ty: type_name(&attr["type"]), class, sensitive, write_only, deprecated });
            if let Some(fields) = object_fields(&attr["type"]) {
                flatten_object(fields, &path, class, out);
            }
        }
    }
}

/// Every attribute and block of `block`, by full dotted path.
fn flatten_block(block: &Value, prefix: &str, out: &mut BTreeMap<String, Expected>) {
    flatten_attributes(&block["attributes"], prefix, out);
    for (name, nested) in block["block_types"].as_object().into_iter().flatten() {
        let path = join(prefix, name);
        let mode = nested["nesting_mode"].as_str().unwrap_or("single");
        let class = if nested["min_items"].as_u64().unwrap_or(0) > 0 { "Required" } else { "Optional" };
        let deprecated = nested["block"]["deprecated"].as_bool().unwrap_or(false);
        out.insert(path.clone(), Expected { ty: format!("Block{}", nesting_suffix(mode)), class, sensitive: false, write_only: None, deprecated });
        flatten_block(&nested["block"], &path, out);
    }
}

// ---- the comparison ----------------------------------------------------------------

fn entry_hint(path: &str, e: &Expected) -> String {
    let (parent, name) = path.rsplit_once('.').unwrap_or(("", path));
    let heading = match parent {
        "" => "`## Argument Reference` or `## Attributes Reference`".to_owned(),
        "timeouts" => "`## Timeouts`".to_owned(),
        p => format!("``### Nested Schema for `{p}` ``"),
    };
    let mut flags = vec![e.class.to_owned()];
    if e.sensitive {
        flags.push("Sensitive".into());
    }
    if e.write_only == Some(true) {
        flags.push("Write-only".into());
    }
    if e.deprecated {
        flags.push("Deprecated".into());
    }
    format!("under {heading}: - `{name}` ({}, {}) …", e.ty, flags.join(", "))
}

/// Everything wrong between one page and one schema block.
fn compare(page: &str, text: &str, schema: &BTreeMap<String, Expected>) -> Vec<String> {
    let mut problems = Vec::new();
    let entries = parse_entries(text);
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &entries {
        if let Some(first) = seen.insert(&e.path, e.line) {
            problems.push(format!("{page}:{}: `{}` is documented twice (also line {first})", e.line, e.path));
        }
        let Some(want) = schema.get(&e.path) else {
            problems.push(format!("{page}:{}: `{}` is documented but is not in the schema", e.line, e.path));
            continue;
        };
        if e.ty != want.ty {
            problems.push(format!("{page}:{}: `{}` is documented as {} but the schema has {}", e.line, e.path, e.ty, want.ty));
        }
        let has = |f: &str| e.flags.iter().any(|x| x == f);
        let classes: Vec<&str> = ["Required", "Optional", "Read-Only"].into_iter().filter(|c| has(c)).collect();
        if classes != [want.class] {
            problems.push(format!("{page}:{}: `{}` is documented as {classes:?} but the schema says {}", e.line, e.path, want.class));
        }
        if has("Sensitive") != want.sensitive {
            problems.push(format!("{page}:{}: `{}`: Sensitive is {} in the docs, {} in the schema", e.line, e.path, has("Sensitive"), want.sensitive));
        }
        if has("Deprecated") != want.deprecated {
            problems.push(format!("{page}:{}: `{}`: Deprecated is {} in the docs, {} in the schema", e.line, e.path, has("Deprecated"), want.deprecated));
        }
        if let Some(w) = want.write_only {
            if has("Write-only") != w {
                problems.push(format!("{page}:{}: `{}`: Write-only is {} in the docs, {w} in the schema", e.line, e.path, has("Write-only")));
            }
        }
        for f in &e.flags {
            if !["Required", "Optional", "Read-Only", "Sensitive", "Write-only", "Deprecated"].contains(&f.as_str()) {
                problems.push(format!("{page}:{}: `{}`: unknown flag {f:?}", e.line, e.path));
            }
        }
    }
    for (path, want) in schema {
        if !seen.contains_key(path.as_str()) {
            problems.push(format!("{page}: `{path}` is in the schema but not documented; add {}", entry_hint(path, want)));
        }
    }
    problems
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))
}

fn page_name(path: &Path) -> String {
    path.strip_prefix(testkit::repo_root()).unwrap_or(path).display().to_string()
}

/// The schema of the provider and of every resource is documented, attribute by
/// attribute (nested ones by full path), and the documentation names nothing else.
#[test]
fn e2e_docs_document_every_attribute_of_the_schema_and_nothing_else() -> anyhow::Result<()> {
    let sb = Sandbox::datadog_only()?;
    let tf = Terraform::pinned(&sb)?;
    tf.write_main_tf(&format!("{REQUIRED_PROVIDERS}\nprovider \"datadog\" {{}}\n"))?;
    let schemas = tf.run_ok(&["providers", "schema", "-json"])?.json()?;
    let provider = &schemas["provider_schemas"][PROVIDER_ADDRESS];
    anyhow::ensure!(provider.is_object(), "no schema for {PROVIDER_ADDRESS} in {schemas}");

    let docs = docs_dir();
    let mut problems = Vec::new();
    let mut pages: Vec<(PathBuf, BTreeMap<String, Expected>, &'static [&'static str])> = Vec::new();

    let mut flat = BTreeMap::new();
    flatten_block(&provider["provider"]["block"], "", &mut flat);
    pages.push((docs.join("index.md"), flat, &["## Example Usage", "## Argument Reference"]));

    for (kind, dir, sections) in [
        ("resource_schemas", "resources", &["## Example Usage", "## Argument Reference", "## Attributes Reference", "## Import"][..]),
        ("data_source_schemas", "data-sources", &["## Example Usage", "## Argument Reference", "## Attributes Reference"][..]),
    ] {
        let types = provider[kind].as_object().cloned().unwrap_or_default();
        for (type_name, schema) in &types {
            let short = type_name.strip_prefix("datadog_").unwrap_or(type_name);
            let mut flat = BTreeMap::new();
            flatten_block(&schema["block"], "", &mut flat);
            pages.push((docs.join(dir).join(format!("{short}.md")), flat, sections));
        }
        // A page for a type the provider does not have is stale.
        for page in markdown_files(&docs.join(dir)) {
            let stem = page.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
            if !types.contains_key(&format!("datadog_{stem}")) {
                problems.push(format!("{}: the provider has no {} datadog_{stem}", page_name(&page), &dir[..dir.len() - 1]));
            }
        }
    }

    // Both kinds of page are checked: a provider that lost its data sources (or a
    // schema read that missed them) must not pass unnoticed.
    for dir in ["resources", "data-sources"] {
        anyhow::ensure!(pages.iter().any(|(p, _, _)| p.starts_with(docs.join(dir))), "no {dir} in the provider's schema: {provider}");
    }
    for (page, flat, _) in &pages {
        let write_only: Vec<&String> = flat.iter().filter(|(_, e)| e.write_only == Some(true)).map(|(p, _)| p).collect();
        eprintln!("{}: {} attributes and blocks in the schema; write-only: {write_only:?}", page_name(page), flat.len());
    }
    for (page, flat, sections) in &pages {
        let Ok(text) = read(page) else {
            problems.push(format!("{} is missing", page_name(page)));
            continue;
        };
        for section in sections.iter().copied().chain(flat.contains_key("timeouts").then_some("## Timeouts")) {
            if !text.lines().any(|l| l.trim_end() == section) {
                problems.push(format!("{}: no `{section}` section", page_name(page)));
            }
        }
        problems.extend(compare(&page_name(page), &text, flat));
    }

    // Front matter, file names and folders are tfplugindocs's to check (see
    // e2e_docs_pass_tfplugindocs_validate).

    assert!(
        problems.is_empty(),
        "the documentation does not match the provider's schema ({} problems; convention: tests/docs_schema.rs):\n{}",
        problems.len(),
        problems.join("\n")
    );
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

/// The parser reads the convention, and only the convention.
#[test]
fn schema_lists_are_parsed_by_heading_and_entry() {
    let page = "\
# Title
- `not_an_entry` (String, Optional) prose before any schema list.
## Argument Reference
- `name` (String, Required) The name.
  - `indented` (String, Optional) not an entry.
- `aws` (Block, Optional) See below.
```hcl
- `in_code` (String, Optional)
```
### Nested Schema for `aws.assume_role`
- `role_arn` (String, Required) ARN.
- `external_id` (String, Optional, Sensitive) The id.
- `old` (String, Read-Only, Deprecated) Use `name`.
## Timeouts
- `create` (String, Optional) Default `2h`.
## Import
- `after` (String, Optional) prose again.
";
    let got: Vec<(String, String, Vec<String>)> = parse_entries(page).into_iter().map(|e| (e.path, e.ty, e.flags)).collect();
    let want = vec![
        ("name".to_owned(), "String".to_owned(), vec!["Required".to_owned()]),
        ("aws".to_owned(), "Block".to_owned(), vec!["Optional".to_owned()]),
        ("aws.assume_role.role_arn".to_owned(), "String".to_owned(), vec!["Required".to_owned()]),
        ("aws.assume_role.external_id".to_owned(), "String".to_owned(), vec!["Optional".to_owned(), "Sensitive".to_owned()]),
        ("aws.assume_role.old".to_owned(), "String".to_owned(), vec!["Read-Only".to_owned(), "Deprecated".to_owned()]),
        ("timeouts.create".to_owned(), "String".to_owned(), vec!["Optional".to_owned()]),
    ];
    assert_eq!(got, want);
    let blocks = terraform_blocks("```hcl\na\n```\n```terraform\nb\n```\n");
    assert_eq!(blocks, vec![(4, "b\n".to_owned())]);
}

/// A deprecated attribute's entry says `Deprecated`, and no other entry does.
#[test]
fn deprecation_is_documented_both_ways() {
    let schema: BTreeMap<String, Expected> = [
        ("revision", true),
        ("account_revisions", false),
    ]
    .into_iter()
    .map(|(n, deprecated)| (n.to_owned(), Expected { ty: "String".into(), class: "Read-Only", sensitive: false, write_only: None, deprecated }))
    .collect();
    let good = "## Attributes Reference\n- `revision` (String, Read-Only, Deprecated) Old.\n- `account_revisions` (String, Read-Only) New.\n";
    assert_eq!(compare("p", good, &schema), Vec::<String>::new());
    let bad = "## Attributes Reference\n- `revision` (String, Read-Only) Old.\n- `account_revisions` (String, Read-Only, Deprecated) New.\n";
    let problems = compare("p", bad, &schema);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems.iter().all(|p| p.contains("Deprecated is")), "{problems:?}");
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
