//! `ImportResourceState`: an import id turned into a state that a read then completes.

use crate::plugin::diagnostics::Diagnostics;
use crate::plugin::resource::{CallCtx, Resource};
use crate::plugin::value::Value;

/// The imported state, if the id named an object.
#[derive(Debug)]
pub(crate) struct ImportResourceStateResponse {
    pub(crate) state: Option<Value>,
    pub(crate) diagnostics: Diagnostics,
}

/// Imports one object by the id the user gave. Nothing is imported when the resource
/// finds nothing; its diagnostics say why (a malformed id lists the accepted forms).
pub(crate) async fn import_resource_state(r: &dyn Resource, ctx: &CallCtx, id: &str) -> ImportResourceStateResponse {
    let mut diagnostics = Diagnostics::new();
    let state = r.import(ctx, id, &mut diagnostics).await;
    ImportResourceStateResponse { state, diagnostics }
}

#[cfg(test)]
mod tests {
    use super::super::scripted::{ctx, state, Scripted};
    use super::*;

    #[tokio::test]
    async fn the_resource_s_answer_is_the_import() {
        let found = state(Value::string("id-1"), "n", Value::Null);
        let cases: Vec<(&str, Option<Value>, bool)> =
            vec![("found", Some(found), false), ("not found", None, true)];
        for (name, answer, fails) in cases {
            let r = Scripted::new(answer.clone(), fails);
            let out = import_resource_state(&r, &ctx(), "id-1").await;
            assert_eq!(out.state, answer, "case {name}");
            assert_eq!(out.diagnostics.has_errors(), fails, "case {name}");
            assert_eq!(r.calls(), vec!["import"], "case {name}");
        }
    }
}
