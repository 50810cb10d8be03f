//! `ApplyResourceChange`: create, update or delete, decided by the plan, and a new
//! state that never loses track of a remote object.

use super::write_only::strip_write_only;
use crate::plugin::diagnostics::Diagnostics;
use crate::plugin::resource::{ApplyRequest, CallCtx, Private, Resource};
use crate::plugin::value::Value;

/// A planned change: the prior state (null: create), the planned state (null:
/// delete), the configuration (the only place write-only values are) and the
/// private data the plan left.
#[derive(Debug)]
pub(crate) struct ApplyResourceChangeRequest {
    pub(crate) prior: Value,
    pub(crate) planned: Value,
    pub(crate) config: Value,
    pub(crate) planned_private: Private,
}

/// The state after the change, and private data to store with it.
#[derive(Debug)]
pub(crate) struct ApplyResourceChangeResponse {
    pub(crate) new_state: Value,
    pub(crate) private: Private,
    pub(crate) diagnostics: Diagnostics,
}

/// Applies one planned change. A failed delete keeps the prior state, so the object
/// is not forgotten; a create that returns nothing leaves no state, an update that
/// returns nothing keeps the prior one; whatever state comes back loses its
/// write-only values.
pub(crate) async fn apply_resource_change(
    r: &dyn Resource,
    ctx: &CallCtx,
    req: ApplyResourceChangeRequest,
) -> ApplyResourceChangeResponse {
    let ApplyResourceChangeRequest { prior, planned, config, planned_private: mut private } = req;
    let mut diagnostics = Diagnostics::new();
    let new_state = if planned.is_null() {
        r.delete(ctx, &prior, &private, &mut diagnostics).await;
        if diagnostics.has_errors() { prior } else { Value::Null }
    } else {
        let created = prior.is_null();
        let apply = ApplyRequest { prior: &prior, planned: &planned, config: &config, private: &mut private };
        let result =
            if created { r.create(ctx, apply, &mut diagnostics).await } else { r.update(ctx, apply, &mut diagnostics).await };
        match result {
            Some(s) => strip_write_only(&r.schema().block, s),
            None if created => Value::Null,
            None => prior,
        }
    };
    ApplyResourceChangeResponse { new_state, private, diagnostics }
}

#[cfg(test)]
mod tests {
    use super::super::scripted::{ctx, private, state, Scripted};
    use super::*;

    #[tokio::test]
    async fn the_plan_picks_the_call_and_the_outcome_picks_the_state() {
        let prior = state(Value::string("id-1"), "n", Value::Null);
        let planned = state(Value::string("id-1"), "m", Value::Null);
        let remote = state(Value::string("id-1"), "m", Value::string("leaked"));
        let stripped = state(Value::string("id-1"), "m", Value::Null);
        type Case = (&'static str, Value, Value, Option<Value>, bool, &'static str, Value);
        let cases: Vec<Case> = vec![
            ("create", Value::Null, planned.clone(), Some(remote.clone()), false, "create", stripped.clone()),
            ("create that made nothing", Value::Null, planned.clone(), None, true, "create", Value::Null),
            ("create kept despite errors", Value::Null, planned.clone(), Some(remote.clone()), true, "create", stripped.clone()),
            ("update", prior.clone(), planned.clone(), Some(remote.clone()), false, "update", stripped.clone()),
            ("update that returned nothing", prior.clone(), planned.clone(), None, true, "update", prior.clone()),
            ("delete", prior.clone(), Value::Null, None, false, "delete", Value::Null),
            ("failed delete keeps the object", prior.clone(), Value::Null, None, true, "delete", prior.clone()),
        ];
        for (name, prior, planned, answer, fails, call, want) in cases {
            let r = Scripted::new(answer, fails);
            let config = state(Value::Null, "m", Value::string("s"));
            let req = ApplyResourceChangeRequest { prior, planned, config, planned_private: private("m") };
            let out = apply_resource_change(&r, &ctx(), req).await;
            assert_eq!(r.calls(), vec![call], "case {name}");
            assert_eq!(out.new_state, want, "case {name}");
            assert_eq!(out.diagnostics.has_errors(), fails, "case {name}");
            assert!(out.private.contains_key("marker"), "case {name}: the plan's private carried");
        }
    }

    #[tokio::test]
    async fn private_data_the_resource_writes_is_stored() {
        let r = Scripted::new(Some(state(Value::string("id-1"), "m", Value::Null)), false);
        let req = ApplyResourceChangeRequest {
            prior: Value::Null,
            planned: state(Value::Unknown, "m", Value::Null),
            config: state(Value::Null, "m", Value::Null),
            planned_private: Private::new(),
        };
        let out = apply_resource_change(&r, &ctx(), req).await;
        assert_eq!(out.private.get("created"), Some(&serde_json::Value::Bool(true)));
    }
}
