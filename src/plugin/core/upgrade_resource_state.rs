//! `UpgradeResourceState`: stored JSON state, written by any earlier version of this
//! provider, read into the current schema.

use crate::plugin::diagnostics::Diagnostics;
use crate::plugin::resource::Resource;
use crate::plugin::value::Value;

/// Stored state as Terraform holds it: the schema version it was written at, its
/// JSON (empty when there is none), and whether it came in the pre-0.12 flatmap form.
#[derive(Debug)]
pub(crate) struct UpgradeResourceStateRequest<'a> {
    pub(crate) version: i64,
    pub(crate) json: &'a [u8],
    pub(crate) flatmap: bool,
}

/// The state in the current schema; `None` when there is nothing to upgrade or it
/// could not be.
#[derive(Debug)]
pub(crate) struct UpgradeResourceStateResponse {
    pub(crate) state: Option<Value>,
    pub(crate) diagnostics: Diagnostics,
}

/// Upgrades stored state: the resource rewrites the JSON of older versions, then it is
/// read leniently (attributes an older schema had and this one dropped are ignored).
pub(crate) fn upgrade_resource_state(r: &dyn Resource, req: &UpgradeResourceStateRequest<'_>) -> UpgradeResourceStateResponse {
    let mut diagnostics = Diagnostics::new();
    let state = upgrade(r, req, &mut diagnostics);
    UpgradeResourceStateResponse { state, diagnostics }
}

fn upgrade(r: &dyn Resource, req: &UpgradeResourceStateRequest<'_>, diags: &mut Diagnostics) -> Option<Value> {
    if req.json.is_empty() {
        if req.flatmap {
            diags.error(
                "Unsupported legacy state",
                "This state was written in the pre-0.12 flatmap format, which this provider never wrote.",
            );
        }
        return None;
    }
    let json: serde_json::Value = match serde_json::from_slice(req.json) {
        Ok(j) => j,
        Err(e) => {
            diags.bug("Stored state is not JSON", e);
            return None;
        }
    };
    let json = r.upgrade_state(req.version, json, diags)?;
    let bytes = serde_json::to_vec(&json).unwrap_or_default();
    match Value::decode_json_lenient(&bytes, &r.schema().value_type()) {
        Ok(v) => Some(v),
        Err(e) => {
            diags.bug_at(e.path().clone(), "Cannot read stored state", e);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::scripted::Scripted;
    use super::*;
    use crate::plugin::value::AttrPath;

    #[test]
    fn stored_state_is_read_into_the_current_schema_or_refused_with_a_reason() {
        let current = r#"{"id":"id-1","name":"n","token_wo":null,"auth":null,"dropped_since":1}"#;
        let want = Value::object([
            ("id", Value::string("id-1")),
            ("name", Value::string("n")),
            ("token_wo", Value::Null),
            ("auth", Value::Null),
        ]);
        type Case = (&'static str, i64, &'static str, bool, Option<Value>, Option<&'static str>);
        let cases: Vec<Case> = vec![
            ("current version, unknown key dropped", 0, current, false, Some(want), None),
            ("no state at all", 0, "", false, None, None),
            ("flatmap", 0, "", true, None, Some("Unsupported legacy state")),
            ("not JSON", 0, "{", false, None, Some("Stored state is not JSON")),
            ("newer provider", 1, current, false, None, Some("State written by a newer provider")),
            ("wrong kind", 0, r#"{"id":[7],"name":"n"}"#, false, None, Some("Cannot read stored state")),
        ];
        for (name, version, json, flatmap, want, error) in cases {
            let r = Scripted::new(None, false);
            let out = upgrade_resource_state(&r, &UpgradeResourceStateRequest { version, json: json.as_bytes(), flatmap });
            assert_eq!(out.state, want, "case {name}");
            let summaries: Vec<_> = out.diagnostics.0.iter().map(|d| d.summary.as_str()).collect();
            assert_eq!(summaries, error.into_iter().collect::<Vec<_>>(), "case {name}");
        }
    }

    #[test]
    fn a_value_of_the_wrong_kind_is_reported_at_its_path() {
        let r = Scripted::new(None, false);
        let json = br#"{"id":"i","name":"n","token_wo":null,"auth":{"key_wo":[7]}}"#;
        let out = upgrade_resource_state(&r, &UpgradeResourceStateRequest { version: 0, json, flatmap: false });
        let paths: Vec<_> = out.diagnostics.0.iter().map(|d| d.path.clone()).collect();
        assert_eq!(paths, vec![Some(AttrPath::root("auth").attr("key_wo"))]);
    }
}
