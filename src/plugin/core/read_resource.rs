//! `ReadResource`: refresh, without ever turning a failed refresh into a deletion.

use super::write_only::strip_write_only;
use crate::plugin::diagnostics::Diagnostics;
use crate::plugin::resource::{CallCtx, Private, Resource};
use crate::plugin::value::Value;

/// A refresh: the state Terraform holds and its private data.
#[derive(Debug)]
pub(crate) struct ReadResourceRequest {
    pub(crate) state: Value,
    pub(crate) private: Private,
}

/// The refreshed state (null: the object is gone) and private data.
#[derive(Debug)]
pub(crate) struct ReadResourceResponse {
    pub(crate) new_state: Value,
    pub(crate) private: Private,
    pub(crate) diagnostics: Diagnostics,
}

/// Refreshes one resource. A read that fails keeps the state Terraform had (a null
/// would make Terraform forget the object and plan to create it again); a read that
/// finds nothing, without error, answers null.
pub(crate) async fn read_resource(r: &dyn Resource, ctx: &CallCtx, req: ReadResourceRequest) -> ReadResourceResponse {
    let ReadResourceRequest { state, mut private } = req;
    let mut diagnostics = Diagnostics::new();
    let new_state = match r.read(ctx, state.clone(), &mut private, &mut diagnostics).await {
        Some(s) => strip_write_only(&r.schema().block, s),
        None if diagnostics.has_errors() => state,
        None => Value::Null,
    };
    ReadResourceResponse { new_state, private, diagnostics }
}

#[cfg(test)]
mod tests {
    use super::super::scripted::{ctx, private, state, Scripted};
    use super::*;

    #[tokio::test]
    async fn a_failed_read_keeps_the_state_and_a_found_one_loses_its_secrets() {
        let held = state(Value::string("id-1"), "n", Value::Null);
        let remote = state(Value::string("id-1"), "renamed", Value::string("leaked"));
        let cases: Vec<(&str, Option<Value>, bool, Value)> = vec![
            ("found, secrets stripped", Some(remote), false, state(Value::string("id-1"), "renamed", Value::Null)),
            ("gone", None, false, Value::Null),
            ("failed: state kept", None, true, held.clone()),
        ];
        for (name, answer, fails, want) in cases {
            let r = Scripted::new(answer, fails);
            let out = read_resource(&r, &ctx(), ReadResourceRequest { state: held.clone(), private: private("m") }).await;
            assert_eq!(out.new_state, want, "case {name}");
            assert_eq!(out.diagnostics.has_errors(), fails, "case {name}");
            assert_eq!(out.private.get("marker"), private("m").get("marker"), "case {name}: private carried");
            assert!(out.private.contains_key("read"), "case {name}: the resource's private kept");
        }
    }
}
