//! Plan rules every resource gets from its schema, applied before the resource's own
//! `modify_plan`:
//! - an attribute left out of configuration plans its default, if it has one (a
//!   default "on create" only where it has no prior value);
//! - a computed attribute left out plans "known after apply" on create, and on an update
//!   that changes something (unless it keeps its prior value by declaration);
//! - write-only attributes never appear in a plan (`core::write_only` nulls them again,
//!   at every depth, after the resource's `modify_plan`);
//! - a change to a `requires_replace` attribute replaces the resource.


use super::schema::{AttrKind, Attribute, Block, Nesting};
use super::value::{AttrPath, Value};

/// Applies defaults and write-only rules, then marks computed attributes unknown
/// where the plan cannot know them. `prior` is null on create.
#[must_use]
pub fn plan_from_schema(block: &Block, prior: &Value, proposed: Value, config: &Value) -> Value {
    let mut planned = apply_defaults(block, prior, proposed, config);
    let changing = prior.is_null() || !planned.semantically_equal(prior);
    if changing {
        mark_unknown(block, prior, &mut planned, config);
    }
    planned
}

/// Paths of `requires_replace` attributes whose planned value differs from the prior.
#[must_use]
pub fn replace_paths(block: &Block, prior: &Value, planned: &Value) -> Vec<AttrPath> {
    if prior.is_null() {
        return Vec::new();
    }
    block
        .attributes
        .iter()
        .filter(|a| a.requires_replace)
        .filter(|a| {
            let before = prior.get_attr(&a.name).unwrap_or(&Value::Null);
            let after = planned.get_attr(&a.name).unwrap_or(&Value::Null);
            after.is_unknown() || !after.semantically_equal(before)
        })
        .map(|a| AttrPath::root(&a.name))
        .collect()
}

fn apply_defaults(block: &Block, prior: &Value, proposed: Value, config: &Value) -> Value {
    let Value::Object(mut out) = proposed else { return proposed };
    for a in &block.attributes {
        let cfg = config.get_attr(&a.name).unwrap_or(&Value::Null);
        let pri = prior.get_attr(&a.name).unwrap_or(&Value::Null);
        let current = out.remove(&a.name).unwrap_or(Value::Null);
        out.insert(a.name.clone(), plan_attribute(a, pri, current, cfg));
    }
    for b in &block.blocks {
        if matches!(b.nesting, Nesting::Single | Nesting::Group) {
            let cfg = config.get_attr(&b.name).unwrap_or(&Value::Null);
            let pri = prior.get_attr(&b.name).unwrap_or(&Value::Null);
            if let Some(v) = out.remove(&b.name) {
                let v = if v.is_null() { v } else { apply_defaults(&b.block, pri, v, cfg) };
                out.insert(b.name.clone(), v);
            }
        }
    }
    Value::Object(out)
}

fn plan_attribute(a: &Attribute, prior: &Value, proposed: Value, config: &Value) -> Value {
    if a.write_only {
        return Value::Null;
    }
    let value = if config.is_null() {
        match &a.default {
            // A default that applies only where nothing exists yet.
            Some(_) if a.use_state_for_unknown && !prior.is_null() => prior.clone(),
            Some(d) => d.clone(),
            // Terraform proposes null for a computed nested attribute left out of
            // configuration when its prior value holds non-computed parts (it infers
            // the attribute was written before and has just been removed). A value
            // declared to keep its state stays as it was: left out means unmanaged.
            None if a.computed && a.use_state_for_unknown && proposed.is_null() && !prior.is_null() => prior.clone(),
            None => proposed,
        }
    } else {
        proposed
    };
    // Nested single objects get their inner defaults too, whether the object came
    // from configuration or from the attribute's own default.
    match (&a.kind, value) {
        (AttrKind::Nested { attributes, nesting: Nesting::Single | Nesting::Group }, v @ Value::Object(_)) => {
            let inner = Block::new("", attributes.clone());
            apply_defaults(&inner, prior, v, config)
        }
        (_, v) => v,
    }
}

fn mark_unknown(block: &Block, prior: &Value, planned: &mut Value, config: &Value) {
    let Value::Object(out) = planned else { return };
    for a in &block.attributes {
        let cfg = config.get_attr(&a.name).unwrap_or(&Value::Null);
        let Some(slot) = out.get_mut(&a.name) else { continue };
        if cfg.is_null() && a.computed && a.default.is_none() && (!a.use_state_for_unknown || prior.is_null()) {
            *slot = Value::Unknown;
            continue;
        }
        if let (Some((inner, Nesting::Single | Nesting::Group)), Value::Object(_)) = (a.nested_attributes(), &*slot) {
            let pri = prior.get_attr(&a.name).unwrap_or(&Value::Null);
            mark_unknown(&Block::new("", inner.to_vec()), pri, slot, cfg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::schema::Attribute;

    fn s(v: &str) -> Value {
        Value::String(v.to_owned())
    }

    fn block() -> Block {
        Block::new(
            "",
            vec![
                Attribute::string("id", "").computed().use_state_for_unknown(),
                Attribute::string("name", "").required().requires_replace(),
                Attribute::string("role", "").default(s("DatadogIntegrationRole")),
                Attribute::string("external_id", "").computed(),
                Attribute::string("secret_wo", "").optional().write_only(),
                Attribute::nested(
                    "metrics",
                    Nesting::Single,
                    vec![Attribute::bool("enabled", "").default(Value::Bool(true)), Attribute::bool("automute", "").default(Value::Bool(true))],
                    "",
                )
                .optional()
                .computed(),
            ],
        )
    }

    fn config(name: &str, metrics: Value) -> Value {
        Value::object([
            ("id", Value::Null),
            ("name", s(name)),
            ("role", Value::Null),
            ("external_id", Value::Null),
            ("secret_wo", s("hunter2")),
            ("metrics", metrics),
        ])
    }

    #[test]
    fn create_plans_defaults_and_unknown_computed_and_no_write_only() {
        let cfg = config("a", Value::object([("enabled", Value::Bool(false)), ("automute", Value::Null)]));
        let planned = plan_from_schema(&block(), &Value::Null, cfg.clone(), &cfg);
        assert_eq!(planned.get_attr("id"), Some(&Value::Unknown));
        assert_eq!(planned.get_attr("role"), Some(&s("DatadogIntegrationRole")));
        assert_eq!(planned.get_attr("secret_wo"), Some(&Value::Null));
        let m = planned.get_attr("metrics").cloned().unwrap_or(Value::Null);
        assert_eq!(m.get_attr("enabled"), Some(&Value::Bool(false)));
        assert_eq!(m.get_attr("automute"), Some(&Value::Bool(true)));
    }

    #[test]
    fn unchanged_update_keeps_every_computed_value() {
        let cfg = config("a", Value::Null);
        let prior = Value::object([
            ("id", s("u-1")),
            ("name", s("a")),
            ("role", s("DatadogIntegrationRole")),
            ("external_id", s("e")),
            ("secret_wo", Value::Null),
            ("metrics", Value::object([("enabled", Value::Bool(true)), ("automute", Value::Bool(true))])),
        ]);
        // Terraform proposes prior values for computed attributes left out of config.
        let mut proposed = cfg.clone();
        if let Value::Object(m) = &mut proposed {
            m.insert("id".into(), s("u-1"));
            m.insert("external_id".into(), s("e"));
            m.insert("role".into(), s("DatadogIntegrationRole"));
            m.insert("metrics".into(), prior.get_attr("metrics").cloned().unwrap_or(Value::Null));
        }
        let planned = plan_from_schema(&block(), &prior, proposed, &cfg);
        assert!(planned.semantically_equal(&prior), "{planned:?}");
        assert!(replace_paths(&block(), &prior, &planned).is_empty());
    }

    #[test]
    fn a_default_on_create_never_overwrites_an_existing_value() {
        let block = Block::new("", vec![Attribute::bool("cspm", "").default_on_create(Value::Bool(false))]);
        let config = Value::object([("cspm", Value::Null)]);
        let created = plan_from_schema(&block, &Value::Null, config.clone(), &config);
        assert_eq!(created.get_attr("cspm"), Some(&Value::Bool(false)));
        let prior = Value::object([("cspm", Value::Bool(true))]);
        let kept = plan_from_schema(&block, &prior, Value::object([("cspm", Value::Bool(true))]), &config);
        assert_eq!(kept.get_attr("cspm"), Some(&Value::Bool(true)), "an imported choice stays");
    }

    #[test]
    fn a_kept_nested_value_left_out_stays_when_terraform_proposes_null() {
        let block = Block::new(
            "",
            vec![Attribute::nested("filters", Nesting::Single, vec![Attribute::string_set("only", "").optional()], "")
                .optional()
                .computed()
                .use_state_for_unknown()],
        );
        let prior = Value::object([("filters", Value::object([("only", Value::Set(vec![s("AWS/EC2")]))]))]);
        let config = Value::object([("filters", Value::Null)]);
        let planned = plan_from_schema(&block, &prior, config.clone(), &config);
        assert!(planned.semantically_equal(&prior), "{planned:?}");
    }

    #[test]
    fn changed_update_marks_plain_computed_unknown_but_keeps_declared_ones() {
        let cfg = config("b", Value::Null);
        let prior = Value::object([
            ("id", s("u-1")),
            ("name", s("a")),
            ("role", s("DatadogIntegrationRole")),
            ("external_id", s("e")),
            ("secret_wo", Value::Null),
            ("metrics", Value::Null),
        ]);
        let mut proposed = cfg.clone();
        if let Value::Object(m) = &mut proposed {
            m.insert("id".into(), s("u-1"));
            m.insert("external_id".into(), s("e"));
        }
        let planned = plan_from_schema(&block(), &prior, proposed, &cfg);
        assert_eq!(planned.get_attr("id"), Some(&s("u-1")));
        assert_eq!(planned.get_attr("external_id"), Some(&Value::Unknown));
        assert_eq!(replace_paths(&block(), &prior, &planned), vec![AttrPath::root("name")]);
    }
}
