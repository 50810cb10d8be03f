//! Configuration checks, before any remote call.

use crate::plugin::{AttrPath, Diagnostics, Value};

/// The StackSet name rule AWS applies.
fn valid_stack_set_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-')
        && name.len() <= 128
}

pub(super) fn validate(config: &Value, diags: &mut Diagnostics) {
    let known = |name: &str| config.get_attr(name).and_then(Value::as_str);
    if let Some(call_as) = known("call_as") {
        if !matches!(call_as, "SELF" | "DELEGATED_ADMIN") {
            diags.error_at(AttrPath::root("call_as"), "Invalid call_as", format!("{call_as:?}: use SELF or DELEGATED_ADMIN."));
        }
    }
    if let Some(name) = known("stackset_name") {
        if !valid_stack_set_name(name) {
            diags.error_at(
                AttrPath::root("stackset_name"),
                "Invalid StackSet name",
                format!("{name:?}: a StackSet name starts with a letter and has only letters, digits and hyphens (at most 128)."),
            );
        }
    }
    if let Some(region) = known("region") {
        if let Some(why) = crate::regions::check(region, None) {
            diags.error_at(AttrPath::root("region"), "Invalid AWS region", why);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(stackset: Value, call_as: Value, region: Value) -> Value {
        Value::object([("stackset_name", stackset), ("call_as", call_as), ("region", region)])
    }

    #[test]
    fn each_bad_argument_is_refused_at_its_path_and_unknowns_pass() {
        let s = Value::string;
        let cases: Vec<(&str, Value, Vec<AttrPath>)> = vec![
            ("all unset", config(Value::Null, Value::Null, Value::Null), vec![]),
            ("all good", config(s("DatadogIntegration"), s("DELEGATED_ADMIN"), s("eu-west-1")), vec![]),
            ("unknowns", config(Value::Unknown, Value::Unknown, Value::Unknown), vec![]),
            ("bad call_as", config(Value::Null, s("ADMIN"), Value::Null), vec![AttrPath::root("call_as")]),
            ("lower-case call_as", config(Value::Null, s("self"), Value::Null), vec![AttrPath::root("call_as")]),
            ("bad name", config(s("1-datadog"), Value::Null, Value::Null), vec![AttrPath::root("stackset_name")]),
            ("bad region", config(Value::Null, Value::Null, s("mars-1")), vec![AttrPath::root("region")]),
        ];
        for (name, config, want) in cases {
            let mut diags = Diagnostics::new();
            validate(&config, &mut diags);
            let paths: Vec<_> = diags.0.iter().filter_map(|d| d.path.clone()).collect();
            assert_eq!(paths, want, "case {name}");
        }
    }
}
