//! Conversions between the generated protocol types and ours. The only place besides
//! `server.rs` that names a generated type.

use super::diagnostics::{Diagnostic, Diagnostics, Severity};
use super::pb::tfplugin6 as pb;
use super::resource::Private;
use super::schema::{AttrKind, Attribute, Block, DescriptionKind, NestedBlock, Nesting, Schema};
use super::value::{AttrPath, PathStep, Type, Value, ValueError};

pub(crate) fn schema(s: &Schema) -> pb::Schema {
    pb::Schema { version: s.version, block: Some(block(&s.block, s.version)) }
}

fn kind(k: DescriptionKind) -> i32 {
    match k {
        DescriptionKind::Plain => pb::StringKind::Plain as i32,
        DescriptionKind::Markdown => pb::StringKind::Markdown as i32,
    }
}

fn block(b: &Block, version: i64) -> pb::schema::Block {
    pb::schema::Block {
        version,
        attributes: b.attributes.iter().map(attribute).collect(),
        block_types: b.blocks.iter().map(nested_block).collect(),
        description: b.description.clone(),
        description_kind: kind(b.description_kind),
        deprecated: !b.deprecation.is_empty(),
        deprecation_message: b.deprecation.clone(),
        computed: false,
    }
}

fn nested_block(n: &NestedBlock) -> pb::schema::NestedBlock {
    use pb::schema::nested_block::NestingMode as M;
    let nesting = match n.nesting {
        Nesting::Single => M::Single,
        Nesting::Group => M::Group,
        Nesting::List => M::List,
        Nesting::Set => M::Set,
        Nesting::Map => M::Map,
    };
    pb::schema::NestedBlock {
        type_name: n.name.clone(),
        block: Some(block(&n.block, 0)),
        nesting: nesting as i32,
        min_items: n.min_items,
        max_items: n.max_items,
    }
}

fn attribute(a: &Attribute) -> pb::schema::Attribute {
    use pb::schema::object::NestingMode as M;
    let (ty, nested_type) = match &a.kind {
        AttrKind::Typed(t) => (t.to_json_bytes(), None),
        AttrKind::Nested { attributes, nesting } => {
            let nesting = match nesting {
                Nesting::Single | Nesting::Group => M::Single,
                Nesting::List => M::List,
                Nesting::Set => M::Set,
                Nesting::Map => M::Map,
            };
            #[allow(deprecated)]
            let obj = pb::schema::Object {
                attributes: attributes.iter().map(attribute).collect(),
                nesting: nesting as i32,
                min_items: 0,
                max_items: 0,
            };
            (Vec::new(), Some(obj))
        }
    };
    pb::schema::Attribute {
        name: a.name.clone(),
        r#type: ty,
        nested_type,
        description: a.description.clone(),
        required: a.required,
        optional: a.optional,
        computed: a.computed,
        sensitive: a.sensitive,
        description_kind: kind(a.description_kind),
        deprecated: !a.deprecation.is_empty(),
        write_only: a.write_only,
        deprecation_message: a.deprecation.clone(),
    }
}

pub(crate) fn diagnostics(d: Diagnostics) -> Vec<pb::Diagnostic> {
    d.0.into_iter().map(diagnostic).collect()
}

fn diagnostic(d: Diagnostic) -> pb::Diagnostic {
    let severity = match d.severity {
        Severity::Error => pb::diagnostic::Severity::Error,
        Severity::Warning => pb::diagnostic::Severity::Warning,
    };
    pb::Diagnostic {
        severity: severity as i32,
        summary: d.summary,
        detail: d.detail,
        attribute: d.path.as_ref().and_then(attr_path),
    }
}

/// The protocol form of a path. Terraform has no step for a set element, so the path
/// stops at the set (terraform-plugin-go keeps the same prefix); `None` when nothing is
/// left to point at.
pub(crate) fn attr_path(p: &AttrPath) -> Option<pb::AttributePath> {
    use pb::attribute_path::step::Selector;
    let addressable = p.up_to_first_set();
    let steps: Vec<_> = addressable
        .steps()
        .iter()
        .filter_map(|s| {
            let selector = match s {
                PathStep::Attr(a) => Selector::AttributeName(a.clone()),
                PathStep::Key(k) => Selector::ElementKeyString(k.clone()),
                PathStep::Index(i) => Selector::ElementKeyInt(i64::try_from(*i).unwrap_or(i64::MAX)),
                PathStep::SetElement(_) => return None,
            };
            Some(pb::attribute_path::Step { selector: Some(selector) })
        })
        .collect();
    (!steps.is_empty()).then_some(pb::AttributePath { steps })
}

/// Decodes a DynamicValue; an absent one is null. Terraform sends msgpack, but JSON is
/// accepted when msgpack is empty.
pub(crate) fn decode(dv: Option<&pb::DynamicValue>, ty: &Type) -> Result<Value, ValueError> {
    match dv {
        None => Ok(Value::Null),
        Some(d) if !d.msgpack.is_empty() => Value::decode_msgpack(&d.msgpack, ty),
        Some(d) if !d.json.is_empty() => Value::decode_json(&d.json, ty),
        Some(_) => Ok(Value::Null),
    }
}

/// Reads the private data Terraform kept beside a state; bytes this provider did not
/// write (none, or another provider's) read as empty.
pub(crate) fn private_from(bytes: &[u8]) -> Private {
    serde_json::from_slice(bytes).unwrap_or_default()
}

/// The bytes Terraform keeps for private data; nothing at all when there is none.
pub(crate) fn private_bytes(p: &Private) -> Vec<u8> {
    if p.is_empty() {
        Vec::new()
    } else {
        serde_json::to_vec(p).unwrap_or_default()
    }
}

/// Encodes a value as msgpack, the only form Terraform reads back reliably.
pub(crate) fn encode(v: &Value, ty: &Type) -> Result<pb::DynamicValue, ValueError> {
    Ok(pb::DynamicValue { msgpack: v.encode_msgpack(ty)?, json: Vec::new() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pb::attribute_path::step::Selector;

    fn selectors(p: &AttrPath) -> Option<Vec<Selector>> {
        attr_path(p).map(|a| a.steps.into_iter().filter_map(|s| s.selector).collect())
    }

    #[test]
    fn paths_stop_where_terraform_cannot_follow() {
        let name = |s: &str| Selector::AttributeName(s.to_owned());
        let cases: Vec<(&str, AttrPath, Option<Vec<Selector>>)> = vec![
            ("top-level", AttrPath::root("site"), Some(vec![name("site")])),
            (
                "list and map",
                AttrPath::root("rules").index(2).key("k"),
                Some(vec![name("rules"), Selector::ElementKeyInt(2), Selector::ElementKeyString("k".into())]),
            ),
            (
                "cut at a set element",
                AttrPath::root("keys").join(PathStep::SetElement(1)).attr("secret"),
                Some(vec![name("keys")]),
            ),
            ("a set at the root leaves nothing", AttrPath::empty().join(PathStep::SetElement(0)), None),
            ("the whole value", AttrPath::empty(), None),
        ];
        for (case, path, want) in cases {
            assert_eq!(selectors(&path), want, "case {case}");
        }
    }
}
