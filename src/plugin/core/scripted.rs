//! A resource whose answers a test scripts, for the core's table tests: it records
//! every call and answers with what the case says, so a test sees exactly what the
//! core does around the resource.

use std::sync::Mutex;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::plugin::diagnostics::Diagnostics;
use crate::plugin::resource::{ApplyRequest, CallCtx, MoveSource, PlanChange, Private, Resource};
use crate::plugin::schema::{Attribute, Block, Nesting, Schema};
use crate::plugin::value::{AttrPath, Value};

/// What the scripted resource answers.
#[derive(Debug, Default)]
pub(super) struct Scripted {
    schema: Schema,
    /// What read, create, update and import return.
    answer: Option<Value>,
    /// Whether every call also reports an error.
    fails: bool,
    /// A replace path `modify_plan` adds.
    replace: Option<AttrPath>,
    /// The calls made, in order.
    calls: Mutex<Vec<&'static str>>,
}

impl Scripted {
    /// Answers `answer`, failing when `fails`.
    pub(super) fn new(answer: Option<Value>, fails: bool) -> Self {
        Scripted { schema: schema(), answer, fails, ..Default::default() }
    }

    /// Also adds `path` to the replace paths of every plan.
    pub(super) fn replacing(mut self, path: Option<AttrPath>) -> Self {
        self.replace = path;
        self
    }

    pub(super) fn calls(&self) -> Vec<&'static str> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    fn answer(&self, call: &'static str, diags: &mut Diagnostics) -> Option<Value> {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(call);
        }
        if self.fails {
            diags.error(format!("{call} failed"), "scripted");
        }
        self.answer.clone()
    }
}

/// `id` computed, `name` replaces on change, `token_wo` and `auth.key_wo` write-only.
fn schema() -> Schema {
    Schema::new(Block::new(
        "",
        vec![
            Attribute::string("id", "").computed().use_state_for_unknown(),
            Attribute::string("name", "").required().requires_replace(),
            Attribute::string("token_wo", "").optional().write_only(),
            Attribute::nested("auth", Nesting::Single, vec![Attribute::string("key_wo", "").optional().write_only()], "")
                .optional(),
        ],
    ))
}

/// A value of the scripted schema.
pub(super) fn state(id: Value, name: &str, token: Value) -> Value {
    Value::object([
        ("id", id),
        ("name", Value::string(name)),
        ("token_wo", token.clone()),
        ("auth", Value::object([("key_wo", token)])),
    ])
}

pub(super) fn ctx() -> CallCtx {
    CallCtx { cancel: CancellationToken::new() }
}

/// A private map with one entry, to see it carried.
pub(super) fn private(marker: &str) -> Private {
    let mut p = Private::new();
    p.insert("marker".into(), serde_json::Value::String(marker.into()));
    p
}

#[async_trait]
impl Resource for Scripted {
    fn type_name(&self) -> &'static str {
        "scripted"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, _: &Value, diags: &mut Diagnostics) {
        self.answer("validate", diags);
    }

    async fn modify_plan(&self, _: &CallCtx, change: &mut PlanChange<'_>, diags: &mut Diagnostics) {
        self.answer("modify_plan", diags);
        // A resource that copies a secret into its plan must still not leak it.
        if let Some(slot) = change.planned.get_attr_mut("token_wo") {
            *slot = Value::string("copied");
        }
        change.requires_replace.extend(self.replace.clone());
        change.private.insert("planned".into(), serde_json::Value::Bool(true));
    }

    async fn create(&self, _: &CallCtx, req: ApplyRequest<'_>, diags: &mut Diagnostics) -> Option<Value> {
        req.private.insert("created".into(), serde_json::Value::Bool(true));
        self.answer("create", diags)
    }

    async fn read(&self, _: &CallCtx, _: Value, private: &mut Private, diags: &mut Diagnostics) -> Option<Value> {
        private.insert("read".into(), serde_json::Value::Bool(true));
        self.answer("read", diags)
    }

    async fn update(&self, _: &CallCtx, _: ApplyRequest<'_>, diags: &mut Diagnostics) -> Option<Value> {
        self.answer("update", diags)
    }

    async fn delete(&self, _: &CallCtx, _: &Value, _: &Private, diags: &mut Diagnostics) {
        self.answer("delete", diags);
    }

    async fn import(&self, _: &CallCtx, _: &str, diags: &mut Diagnostics) -> Option<Value> {
        self.answer("import", diags)
    }

    fn move_sources(&self) -> &[MoveSource] {
        &[MoveSource { provider: "example/old", type_name: "old_thing", max_schema_version: 1 }]
    }

    fn move_state(&self, _: &MoveSource, _: serde_json::Value, diags: &mut Diagnostics) -> Option<Value> {
        self.answer("move_state", diags)
    }

    /// `{ id }`, known once the id is.
    fn identity(&self, state: &Value) -> Option<Value> {
        let id = state.get_attr("id").filter(|v| !v.is_null())?;
        Some(Value::object([("id", id.clone())]))
    }
}
