//! Write-only attributes, at every depth: where configuration sets one, and nulling
//! every one before a value reaches a plan or state.
//!
//! One walk serves both rules, so the refusal (a client that would store the value)
//! and the stripping (a value that must never be stored) can never disagree about
//! where write-only attributes are: top-level, in nested attributes of any nesting, or
//! in nested blocks.

use crate::plugin::schema::{Attribute, Block, NestedBlock, Nesting};
use crate::plugin::value::{AttrPath, PathStep, Value};

/// The paths of every write-only attribute `value` sets (not null), outermost first.
pub(crate) fn write_only_paths(block: &Block, value: &Value) -> Vec<AttrPath> {
    let mut found = Vec::new();
    // The walk is the one stripping writes through; a copy of one configuration is
    // cheap next to an RPC, and keeps a single walk for both rules.
    let mut copy = value.clone();
    visit(&block.attributes, &block.blocks, &mut copy, &AttrPath::empty(), &mut |path, slot| {
        if !slot.is_null() {
            found.push(path);
        }
    });
    found
}

/// `value` with every write-only attribute nulled, so no secret reaches a plan or state.
pub(crate) fn strip_write_only(block: &Block, mut value: Value) -> Value {
    visit(&block.attributes, &block.blocks, &mut value, &AttrPath::empty(), &mut |_, slot| *slot = Value::Null);
    value
}

/// Calls `write_only` with the path and slot of every write-only attribute present in
/// the object `value`, descending through nested attributes and nested blocks.
fn visit(
    attributes: &[Attribute],
    blocks: &[NestedBlock],
    value: &mut Value,
    path: &AttrPath,
    write_only: &mut dyn FnMut(AttrPath, &mut Value),
) {
    let Value::Object(fields) = value else { return };
    for a in attributes {
        let Some(slot) = fields.get_mut(&a.name) else { continue };
        let here = path.clone().attr(a.name.as_str());
        if a.write_only {
            write_only(here, slot);
        } else if let Some((inner, nesting)) = a.nested_attributes() {
            for (at, element) in elements(nesting, slot, &here) {
                visit(inner, &[], element, &at, write_only);
            }
        }
    }
    for b in blocks {
        let Some(slot) = fields.get_mut(&b.name) else { continue };
        let here = path.clone().attr(b.name.as_str());
        for (at, element) in elements(b.nesting, slot, &here) {
            visit(&b.block.attributes, &b.block.blocks, element, &at, write_only);
        }
    }
}

/// The objects a nested attribute or block holds, each with its path.
fn elements<'v>(nesting: Nesting, value: &'v mut Value, path: &AttrPath) -> Vec<(AttrPath, &'v mut Value)> {
    match (nesting, value) {
        (Nesting::Single | Nesting::Group, v) => vec![(path.clone(), v)],
        (Nesting::List, Value::List(items)) => {
            items.iter_mut().enumerate().map(|(i, v)| (path.clone().index(i), v)).collect()
        }
        (Nesting::Set, Value::Set(items)) => {
            items.iter_mut().enumerate().map(|(i, v)| (path.clone().join(PathStep::SetElement(i)), v)).collect()
        }
        (Nesting::Map, Value::Map(items) | Value::Object(items)) => {
            items.iter_mut().map(|(k, v)| (path.clone().key(k.as_str()), v)).collect()
        }
        // Null, unknown, or a shape the nesting does not hold: nothing inside.
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::schema::Attribute;

    fn s(v: &str) -> Value {
        Value::string(v)
    }

    /// Write-only attributes at the top, in nested attributes of every nesting, and in
    /// a nested block.
    fn block() -> Block {
        let inner = || vec![Attribute::string("key_wo", "").optional().write_only(), Attribute::string("user", "").optional()];
        Block::new(
            "",
            vec![
                Attribute::string("name", "").required(),
                Attribute::string("token_wo", "").optional().write_only(),
                Attribute::nested("auth", Nesting::Single, inner(), "").optional(),
                Attribute::nested("rules", Nesting::List, inner(), "").optional(),
                Attribute::nested("keys", Nesting::Set, inner(), "").optional(),
                Attribute::nested("named", Nesting::Map, inner(), "").optional(),
            ],
        )
        .with_block(NestedBlock::new("extra", Nesting::List, Block::new("", inner())))
    }

    fn inner(key: Value) -> Value {
        Value::object([("key_wo", key), ("user", s("u"))])
    }

    fn config(fields: &[(&str, Value)]) -> Value {
        let mut v = Value::object([
            ("name", s("n")),
            ("token_wo", Value::Null),
            ("auth", Value::Null),
            ("rules", Value::Null),
            ("keys", Value::Null),
            ("named", Value::Null),
            ("extra", Value::list([])),
        ]);
        for (k, val) in fields {
            if let Some(slot) = v.get_attr_mut(k) {
                *slot = val.clone();
            }
        }
        v
    }

    fn cases() -> Vec<(&'static str, Value, Vec<AttrPath>)> {
        vec![
            ("nothing set", config(&[]), vec![]),
            ("top-level", config(&[("token_wo", s("x"))]), vec![AttrPath::root("token_wo")]),
            ("unknown counts as set", config(&[("token_wo", Value::Unknown)]), vec![AttrPath::root("token_wo")]),
            (
                "single nested",
                config(&[("auth", inner(s("x")))]),
                vec![AttrPath::root("auth").attr("key_wo")],
            ),
            ("single nested, null key", config(&[("auth", inner(Value::Null))]), vec![]),
            (
                "list nested, second element",
                config(&[("rules", Value::list([inner(Value::Null), inner(s("x"))]))]),
                vec![AttrPath::root("rules").index(1).attr("key_wo")],
            ),
            (
                "set nested",
                config(&[("keys", Value::set([inner(s("x"))]))]),
                vec![AttrPath::root("keys").join(PathStep::SetElement(0)).attr("key_wo")],
            ),
            (
                "map nested",
                config(&[("named", Value::map([("a", inner(s("x")))]))]),
                vec![AttrPath::root("named").key("a").attr("key_wo")],
            ),
            (
                "nested block",
                config(&[("extra", Value::list([inner(s("x"))]))]),
                vec![AttrPath::root("extra").index(0).attr("key_wo")],
            ),
            ("unknown nested object", config(&[("rules", Value::Unknown)]), vec![]),
        ]
    }

    #[test]
    fn every_set_write_only_value_is_found_at_any_depth() {
        for (name, value, want) in cases() {
            assert_eq!(write_only_paths(&block(), &value), want, "case {name}");
        }
    }

    #[test]
    fn stripping_leaves_no_write_only_value_and_touches_nothing_else() {
        // Every other value is a string "n" or "u": count them before and after.
        let others = |v: &Value| {
            let mut n = 0;
            v.walk(&mut |x| n += usize::from(matches!(x.as_str(), Some("n" | "u"))));
            n
        };
        for (name, value, _) in cases() {
            let kept = others(&value);
            let value = strip_write_only(&block(), value);
            assert_eq!(write_only_paths(&block(), &value), vec![], "case {name}");
            assert_eq!(others(&value), kept, "case {name}");
        }
    }
}
