//! `MoveResourceState`: a `moved` block whose source is another resource type
//! (Terraform 1.8+, OpenTofu 1.10+), possibly of another provider.
//!
//! Terraform sends the source's stored JSON as it is, with its provider's address,
//! type and schema version, and never asks the source provider anything: the target
//! type alone must understand it. So the source is checked against what the target
//! declares it reads ([`Resource::move_sources`]) before the resource sees it, and
//! anything else is refused with what was given and what is taken. The result, like
//! any state, holds no write-only value and nothing unknown.

use crate::plugin::diagnostics::Diagnostics;
use crate::plugin::resource::{MoveSource, Resource};
use crate::plugin::value::Value;

use super::write_only::strip_write_only;

/// The source of a move, as Terraform sends it.
#[derive(Debug)]
pub(crate) struct MoveResourceStateRequest<'a> {
    /// E.g. `registry.terraform.io/datadog/datadog`.
    pub(crate) source_provider_address: &'a str,
    pub(crate) source_type_name: &'a str,
    pub(crate) source_schema_version: i64,
    /// The source's stored JSON state.
    pub(crate) source_state: &'a [u8],
}

/// The state of the target type, when the source could be read.
#[derive(Debug)]
pub(crate) struct MoveResourceStateResponse {
    pub(crate) state: Option<Value>,
    pub(crate) diagnostics: Diagnostics,
}

/// Moves the source's state into `r`'s type, or says why not.
pub(crate) fn move_resource_state(r: &dyn Resource, req: &MoveResourceStateRequest<'_>) -> MoveResourceStateResponse {
    let mut diagnostics = Diagnostics::new();
    let state = moved(r, req, &mut diagnostics);
    MoveResourceStateResponse { state, diagnostics }
}

fn moved(r: &dyn Resource, req: &MoveResourceStateRequest<'_>, diags: &mut Diagnostics) -> Option<Value> {
    let target = r.type_name();
    let given = format!("{} of the provider {}", req.source_type_name, req.source_provider_address);
    let from = r
        .move_sources()
        .iter()
        .find(|s| s.type_name == req.source_type_name && same_provider(s.provider, req.source_provider_address));
    let Some(from) = from else {
        let taken = match r.move_sources() {
            [] => format!("{target} takes no state from other resource types."),
            sources => format!("{target} takes the state of: {}.", sources.iter().map(describe).collect::<Vec<_>>().join("; ")),
        };
        diags.error("Unsupported move source", format!("The moved block brings {given} into {target}. {taken} {}", import_instead(target)));
        return None;
    };
    if !(0..=from.max_schema_version).contains(&req.source_schema_version) {
        diags.error(
            "Unsupported source schema version",
            format!(
                "The state of {given} was written with schema version {}; {target} reads {}. {}",
                req.source_schema_version,
                versions(from),
                import_instead(target)
            ),
        );
        return None;
    }
    if req.source_state.is_empty() {
        diags.error("Nothing to move", format!("Terraform sent no state for {given}."));
        return None;
    }
    // The message of a JSON error names a position, never the content (which may
    // hold a secret of the source type).
    let json: serde_json::Value = match serde_json::from_slice(req.source_state) {
        Ok(j) => j,
        Err(e) => {
            diags.error("Cannot read the state to move", format!("The stored state of {given} is not JSON: {e}."));
            return None;
        }
    };
    let state = r.move_state(from, json, diags)?;
    if diags.has_errors() {
        return None;
    }
    if !state.is_wholly_known() {
        diags.bug(format!("Moving {} into {target}", req.source_type_name), "the moved state holds unknown values");
        return None;
    }
    Some(strip_write_only(&r.schema().block, state))
}

/// Whether `address` (`host/namespace/type`, or `namespace/type`) names the provider
/// `namespace/type`; provider addresses are case-insensitive.
fn same_provider(namespace_type: &str, address: &str) -> bool {
    let address = address.to_ascii_lowercase();
    let want = namespace_type.to_ascii_lowercase();
    address == want || address.ends_with(&format!("/{want}")) && address.matches('/').count() == 2
}

/// The way to a managed object that no move reaches.
fn import_instead(target: &str) -> String {
    format!(
        "To manage the object with {target} anyway, drop the old resource from state without destroying it (a removed \
         block with destroy = false) and import the object into {target}."
    )
}

fn versions(s: &MoveSource) -> String {
    match s.max_schema_version {
        0 => "schema version 0".to_owned(),
        n => format!("schema versions 0 to {n}"),
    }
}

fn describe(s: &MoveSource) -> String {
    format!("{} of the provider {} ({})", s.type_name, s.provider, versions(s))
}

#[cfg(test)]
mod tests {
    use super::super::scripted::{state, Scripted};
    use super::*;

    fn request<'a>(provider: &'a str, type_name: &'a str, version: i64, json: &'a str) -> MoveResourceStateRequest<'a> {
        MoveResourceStateRequest { source_provider_address: provider, source_type_name: type_name, source_schema_version: version, source_state: json.as_bytes() }
    }

    #[test]
    fn only_a_declared_source_reaches_the_resource_and_anything_else_says_what_is_taken() {
        let moved = state(Value::string("id-1"), "n", Value::Null);
        let json = r#"{"old_id":"id-1"}"#;
        type Case = (&'static str, &'static str, &'static str, i64, &'static str, Option<&'static str>, &'static [&'static str]);
        let cases: Vec<Case> = vec![
            ("declared source", "registry.terraform.io/example/old", "old_thing", 1, json, None, &["move_state"]),
            ("other registry host, other case", "registry.opentofu.org/Example/Old", "old_thing", 0, json, None, &["move_state"]),
            ("other type", "registry.terraform.io/example/old", "other_thing", 0, json, Some("Unsupported move source"), &[]),
            ("other provider", "registry.terraform.io/elsewhere/old", "old_thing", 0, json, Some("Unsupported move source"), &[]),
            ("a longer namespace", "registry.terraform.io/x/example/old", "old_thing", 0, json, Some("Unsupported move source"), &[]),
            ("newer schema", "registry.terraform.io/example/old", "old_thing", 2, json, Some("Unsupported source schema version"), &[]),
            ("no state", "registry.terraform.io/example/old", "old_thing", 0, "", Some("Nothing to move"), &[]),
            ("not JSON", "registry.terraform.io/example/old", "old_thing", 0, "{", Some("Cannot read the state to move"), &[]),
        ];
        for (name, provider, type_name, version, json, error, calls) in cases {
            let r = Scripted::new(Some(moved.clone()), false);
            let out = move_resource_state(&r, &request(provider, type_name, version, json));
            let summaries: Vec<_> = out.diagnostics.0.iter().map(|d| d.summary.as_str()).collect();
            assert_eq!(summaries, error.into_iter().collect::<Vec<_>>(), "case {name}");
            assert_eq!(out.state.is_some(), error.is_none(), "case {name}");
            assert_eq!(r.calls(), calls.to_vec(), "case {name}");
        }
    }

    #[test]
    fn a_refusal_names_what_was_given_and_what_is_taken() {
        let r = Scripted::new(None, false);
        let out = move_resource_state(&r, &request("registry.terraform.io/hashicorp/aws", "aws_iam_role", 0, "{}"));
        let detail = &out.diagnostics.0[0].detail;
        assert!(detail.contains("aws_iam_role of the provider registry.terraform.io/hashicorp/aws"), "{detail}");
        assert!(detail.contains("scripted takes the state of: old_thing of the provider example/old (schema versions 0 to 1)"), "{detail}");
        let out = move_resource_state(&r, &request("registry.terraform.io/example/old", "old_thing", 7, "{}"));
        let detail = &out.diagnostics.0[0].detail;
        assert!(detail.contains("schema version 7; scripted reads schema versions 0 to 1"), "{detail}");
    }

    #[test]
    fn the_moved_state_holds_no_write_only_value_and_nothing_unknown() {
        let leaky = state(Value::string("id-1"), "n", Value::string("secret"));
        let r = Scripted::new(Some(leaky), false);
        let out = move_resource_state(&r, &request("registry.terraform.io/example/old", "old_thing", 0, "{}"));
        assert_eq!(out.state, Some(state(Value::string("id-1"), "n", Value::Null)));

        let unknown = state(Value::Unknown, "n", Value::Null);
        let r = Scripted::new(Some(unknown), false);
        let out = move_resource_state(&r, &request("registry.terraform.io/example/old", "old_thing", 0, "{}"));
        assert_eq!(out.state, None);
        assert!(out.diagnostics.has_errors());

        let r = Scripted::new(Some(state(Value::string("id-1"), "n", Value::Null)), true);
        let out = move_resource_state(&r, &request("registry.terraform.io/example/old", "old_thing", 0, "{}"));
        assert_eq!(out.state, None, "a state answered with errors is not moved");
    }
}
