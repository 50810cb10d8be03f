//! A data source whose answers a test scripts, for the core's table tests.

use std::sync::Mutex;

use async_trait::async_trait;

use crate::plugin::data_source::DataSource;
use crate::plugin::diagnostics::Diagnostics;
use crate::plugin::resource::CallCtx;
use crate::plugin::schema::{Attribute, Block, Schema};
use crate::plugin::value::Value;

/// `filter` optional and computed, `id` computed.
#[derive(Debug)]
pub(super) struct ScriptedData {
    schema: Schema,
    answer: Option<Value>,
    fails: bool,
    calls: Mutex<Vec<&'static str>>,
}

impl ScriptedData {
    /// Reads `answer`, failing when `fails`.
    pub(super) fn new(answer: Option<Value>, fails: bool) -> Self {
        let schema = Schema::new(Block::new(
            "",
            vec![Attribute::string("filter", "").optional().computed(), Attribute::string("id", "").computed()],
        ));
        ScriptedData { schema, answer, fails, calls: Mutex::default() }
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

/// A configuration: `filter` as given, `id` null.
pub(super) fn config(filter: Value) -> Value {
    object(filter, Value::Null)
}

/// An object of the scripted schema.
pub(super) fn object(filter: Value, id: Value) -> Value {
    Value::object([("filter", filter), ("id", id)])
}

#[async_trait]
impl DataSource for ScriptedData {
    fn type_name(&self) -> &'static str {
        "scripted_data"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, _: &Value, diags: &mut Diagnostics) {
        self.answer("validate", diags);
    }

    async fn read(&self, _: &CallCtx, _: &Value, diags: &mut Diagnostics) -> Option<Value> {
        self.answer("read", diags)
    }
}
