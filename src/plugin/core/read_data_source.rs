//! `ReadDataSource`: the object a data source reads, or, while its configuration is
//! not wholly known, the object planned for it.
//!
//! Terraform itself defers the read of a configuration holding unknown values to
//! apply and plans it from the schema (every computed attribute unknown); a client
//! that asks anyway gets that same planned object, and the data source is not
//! called with values it could not read by.

use crate::plugin::data_source::DataSource;
use crate::plugin::diagnostics::Diagnostics;
use crate::plugin::resource::CallCtx;
use crate::plugin::schema::Block;
use crate::plugin::value::Value;

/// The object read (null when the read failed) and what was said.
#[derive(Debug)]
pub(crate) struct ReadDataSourceResponse {
    pub(crate) state: Value,
    pub(crate) diagnostics: Diagnostics,
}

/// Reads one data source for `config`.
pub(crate) async fn read_data_source(ds: &dyn DataSource, ctx: &CallCtx, config: Value) -> ReadDataSourceResponse {
    let mut diagnostics = Diagnostics::new();
    let block = &ds.schema().block;
    if !config.is_wholly_known() {
        return ReadDataSourceResponse { state: planned(block, &config), diagnostics };
    }
    let state = match ds.read(ctx, &config, &mut diagnostics).await {
        _ if diagnostics.has_errors() => Value::Null,
        Some(read) => as_configured(block, &config, read),
        None => {
            diagnostics.bug("The data source returned nothing", format!("{} read no object and said no error", ds.type_name()));
            Value::Null
        }
    };
    ReadDataSourceResponse { state, diagnostics }
}

/// The object planned for a configuration not wholly known: what it sets, and every
/// computed attribute it leaves null unknown.
fn planned(block: &Block, config: &Value) -> Value {
    let attrs = block.attributes.iter().map(|a| {
        let given = config.get_attr(&a.name).cloned().unwrap_or(Value::Null);
        let value = if a.computed && given.is_null() { Value::Unknown } else { given };
        (a.name.clone(), value)
    });
    let blocks = block.blocks.iter().map(|b| (b.name.clone(), config.get_attr(&b.name).cloned().unwrap_or(Value::Null)));
    Value::object(attrs.chain(blocks))
}

/// `read` with every argument the configuration sets as it sets it: Terraform
/// refuses a data source that changes its own configuration.
fn as_configured(block: &Block, config: &Value, mut read: Value) -> Value {
    for a in &block.attributes {
        let given = config.get_attr(&a.name).cloned().unwrap_or(Value::Null);
        if a.computed && given.is_null() {
            continue;
        }
        if let Some(slot) = read.get_attr_mut(&a.name) {
            *slot = given;
        }
    }
    read
}

#[cfg(test)]
mod tests {
    use super::super::scripted::ctx;
    use super::super::scripted_data::{config, object, ScriptedData};
    use super::*;

    /// One case: the configuration, whether the read fails, the object wanted and the
    /// calls the data source sees.
    type Case = (&'static str, Value, bool, Value, Vec<&'static str>);

    #[tokio::test]
    async fn a_read_answers_the_object_its_configuration_asked_for() {
        let read = object(Value::string("changed by the read"), Value::string("org-1"));
        let cases: Vec<Case> = vec![
            ("known: read, arguments as configured", config(Value::string("x")), false, object(Value::string("x"), Value::string("org-1")), vec!["read"]),
            ("null argument: the read's value of an optional+computed one", config(Value::Null), false, read.clone(), vec!["read"]),
            ("unknown: planned, not read", config(Value::Unknown), false, object(Value::Unknown, Value::Unknown), vec![]),
            ("failed: no object", config(Value::string("x")), true, Value::Null, vec!["read"]),
        ];
        for (name, given, fails, want, calls) in cases {
            let ds = ScriptedData::new(Some(read.clone()), fails);
            let out = read_data_source(&ds, &ctx(), given).await;
            assert_eq!(out.state, want, "case {name}");
            assert_eq!(out.diagnostics.has_errors(), fails, "case {name}");
            assert_eq!(ds.calls(), calls, "case {name}");
        }
    }

    #[tokio::test]
    async fn nothing_read_and_nothing_said_is_a_bug_not_a_null_object() {
        let ds = ScriptedData::new(None, false);
        let out = read_data_source(&ds, &ctx(), config(Value::string("x"))).await;
        assert_eq!(out.state, Value::Null);
        assert!(out.diagnostics.has_errors());
    }
}
