//! `PlanResourceChange`: the schema's plan rules, then the resource's, then the rules
//! no resource may break (no write-only value planned, replace paths complete).

use super::write_only::strip_write_only;
use crate::plugin::diagnostics::Diagnostics;
use crate::plugin::plan::{plan_from_schema, replace_paths};
use crate::plugin::resource::{CallCtx, PlanChange, Private, Resource};
use crate::plugin::value::{AttrPath, Value};

/// A plan to make: the prior state (null on create), Terraform's proposal (null on
/// destroy), the configuration and the prior private data.
#[derive(Debug)]
pub(crate) struct PlanResourceChangeRequest {
    pub(crate) prior: Value,
    pub(crate) proposed: Value,
    pub(crate) config: Value,
    pub(crate) prior_private: Private,
}

/// The planned state, what replaces the resource, and private data for apply.
#[derive(Debug)]
pub(crate) struct PlanResourceChangeResponse {
    pub(crate) planned: Value,
    pub(crate) requires_replace: Vec<AttrPath>,
    pub(crate) private: Private,
    pub(crate) diagnostics: Diagnostics,
}

/// Plans one resource. A destroy plans null and asks the resource nothing. Otherwise
/// defaults and unknowns come from the schema (`plan.rs`), the resource adjusts the
/// plan, write-only values are nulled whatever the resource did, and the replace
/// paths are the schema's `requires_replace` changes plus the resource's own.
pub(crate) async fn plan_resource_change(
    r: &dyn Resource,
    ctx: &CallCtx,
    req: PlanResourceChangeRequest,
) -> PlanResourceChangeResponse {
    let PlanResourceChangeRequest { prior, proposed, config, prior_private } = req;
    let mut diagnostics = Diagnostics::new();
    if proposed.is_null() {
        return PlanResourceChangeResponse {
            planned: Value::Null,
            requires_replace: Vec::new(),
            private: Private::new(),
            diagnostics,
        };
    }
    let block = &r.schema().block;
    let planned = plan_from_schema(block, &prior, proposed, &config);
    let mut change = PlanChange { prior: &prior, config: &config, planned, requires_replace: Vec::new(), private: prior_private };
    r.modify_plan(ctx, &mut change, &mut diagnostics).await;
    let PlanChange { planned, requires_replace: from_resource, private, .. } = change;
    let planned = strip_write_only(block, planned);
    let mut requires_replace = replace_paths(block, &prior, &planned);
    requires_replace.extend(from_resource);
    PlanResourceChangeResponse { planned, requires_replace, private, diagnostics }
}

#[cfg(test)]
mod tests {
    use super::super::scripted::{ctx, private, state, Scripted};
    use super::*;

    fn request(prior: Value, proposed: Value) -> PlanResourceChangeRequest {
        let config = state(Value::Null, "n", Value::string("s"));
        PlanResourceChangeRequest { prior, proposed, config, prior_private: private("m") }
    }

    /// One plan: what Terraform sends, what the resource adds, what must come back.
    struct Case {
        name: &'static str,
        prior: Value,
        proposed: Value,
        resource_replaces: Option<AttrPath>,
        planned: Value,
        requires_replace: Vec<AttrPath>,
    }

    #[tokio::test]
    async fn plans_follow_the_schema_then_the_resource_then_the_write_only_rule() {
        let existing = state(Value::string("id-1"), "n", Value::Null);
        let renamed = state(Value::string("id-1"), "other", Value::string("s"));
        let cases = vec![
            Case {
                name: "create: id unknown, no secret",
                prior: Value::Null,
                proposed: state(Value::Null, "n", Value::string("s")),
                resource_replaces: None,
                planned: state(Value::Unknown, "n", Value::Null),
                requires_replace: vec![],
            },
            Case {
                name: "unchanged update",
                prior: existing.clone(),
                proposed: state(Value::string("id-1"), "n", Value::string("s")),
                resource_replaces: None,
                planned: existing.clone(),
                requires_replace: vec![],
            },
            Case {
                name: "a requires_replace change",
                prior: existing.clone(),
                proposed: renamed.clone(),
                resource_replaces: None,
                planned: state(Value::string("id-1"), "other", Value::Null),
                requires_replace: vec![AttrPath::root("name")],
            },
            Case {
                name: "the resource's replace paths come after the schema's",
                prior: existing.clone(),
                proposed: renamed,
                resource_replaces: Some(AttrPath::root("auth")),
                planned: state(Value::string("id-1"), "other", Value::Null),
                requires_replace: vec![AttrPath::root("name"), AttrPath::root("auth")],
            },
        ];
        for c in cases {
            let r = Scripted::new(None, false).replacing(c.resource_replaces);
            let out = plan_resource_change(&r, &ctx(), request(c.prior, c.proposed)).await;
            assert_eq!(out.planned, c.planned, "case {}", c.name);
            assert_eq!(out.requires_replace, c.requires_replace, "case {}", c.name);
            assert_eq!(r.calls(), vec!["modify_plan"], "case {}", c.name);
            assert!(out.private.contains_key("marker") && out.private.contains_key("planned"), "case {}", c.name);
        }
    }

    #[tokio::test]
    async fn a_destroy_plans_null_without_asking_the_resource() {
        let r = Scripted::new(None, false);
        let out = plan_resource_change(&r, &ctx(), request(state(Value::string("id-1"), "n", Value::Null), Value::Null)).await;
        assert_eq!(out.planned, Value::Null);
        assert!(out.requires_replace.is_empty() && out.private.is_empty() && out.diagnostics.is_empty());
        assert!(r.calls().is_empty());
    }

    #[tokio::test]
    async fn the_resource_s_errors_are_returned_with_the_plan() {
        let r = Scripted::new(None, true);
        let out = plan_resource_change(&r, &ctx(), request(Value::Null, state(Value::Null, "n", Value::Null))).await;
        assert!(out.diagnostics.has_errors());
        assert_eq!(out.planned, state(Value::Unknown, "n", Value::Null));
    }
}
