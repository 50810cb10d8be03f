//! Terraform (cty) types and their JSON form.
//!
//! The JSON form is what the protocol carries in `Schema.Attribute.type`,
//! function parameter types and inside every `dynamic` value:
//! `"string"`, `"number"`, `"bool"`, `"dynamic"`, `["list",T]`, `["set",T]`,
//! `["map",T]`, `["object",{"a":T,...}]` (optionally with a third element
//! listing optional attribute names) and `["tuple",[T,...]]`. This file owns
//! the `Type` tree, that JSON mapping, and type unification for inferring
//! the type of a value placed in a `dynamic` slot.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value as Json;

use super::{AttrPath, ValueError, MAX_DEPTH};

/// A Terraform type constraint.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    /// `string`
    String,
    /// `number`
    Number,
    /// `bool`
    Bool,
    /// `dynamic` (cty's `DynamicPseudoType`): the concrete type travels with
    /// the value.
    Dynamic,
    /// `list(T)`
    List(Box<Type>),
    /// `set(T)`
    Set(Box<Type>),
    /// `map(T)`
    Map(Box<Type>),
    /// `object({...})`. `optional` names attributes that may be left out
    /// when *building* a value (a type-constraint feature); on the wire every
    /// attribute, optional or not, is still present.
    Object {
        /// Attribute types by name.
        attrs: BTreeMap<String, Type>,
        /// Names of optional attributes; always a subset of `attrs`' keys.
        optional: BTreeSet<String>,
    },
    /// `tuple([...])`
    Tuple(Vec<Type>),
}

impl Type {
    /// `list(element)`.
    pub fn list(element: Type) -> Type {
        Type::List(Box::new(element))
    }

    /// `set(element)`.
    pub fn set(element: Type) -> Type {
        Type::Set(Box::new(element))
    }

    /// `map(element)`.
    pub fn map(element: Type) -> Type {
        Type::Map(Box::new(element))
    }

    /// `tuple([...])`.
    pub fn tuple(elements: impl IntoIterator<Item = Type>) -> Type {
        Type::Tuple(elements.into_iter().collect())
    }

    /// An object type with no optional attributes.
    pub fn object<K: Into<String>>(attrs: impl IntoIterator<Item = (K, Type)>) -> Type {
        Type::Object {
            attrs: attrs.into_iter().map(|(k, t)| (k.into(), t)).collect(),
            optional: BTreeSet::new(),
        }
    }

    /// An object type whose `optional` attributes may be omitted when
    /// encoding (they are written as null). Names in `optional` that are not
    /// attributes are ignored.
    pub fn object_with_optional<K: Into<String>, O: Into<String>>(
        attrs: impl IntoIterator<Item = (K, Type)>,
        optional: impl IntoIterator<Item = O>,
    ) -> Type {
        let attrs: BTreeMap<String, Type> =
            attrs.into_iter().map(|(k, t)| (k.into(), t)).collect();
        let optional = optional
            .into_iter()
            .map(Into::into)
            .filter(|name| attrs.contains_key(name))
            .collect();
        Type::Object { attrs, optional }
    }

    /// True for `string`, `number` and `bool`.
    pub fn is_primitive(&self) -> bool {
        matches!(self, Type::String | Type::Number | Type::Bool)
    }

    /// True for list, set and map types.
    pub fn is_collection(&self) -> bool {
        matches!(self, Type::List(_) | Type::Set(_) | Type::Map(_))
    }

    /// The element type of a list, set or map.
    pub fn element_type(&self) -> Option<&Type> {
        match self {
            Type::List(t) | Type::Set(t) | Type::Map(t) => Some(t),
            _ => None,
        }
    }

    /// The type of an object attribute.
    pub fn attribute_type(&self, name: &str) -> Option<&Type> {
        match self {
            Type::Object { attrs, .. } => attrs.get(name),
            _ => None,
        }
    }

    /// True if `dynamic` occurs anywhere in this type.
    pub fn has_dynamic(&self) -> bool {
        match self {
            Type::Dynamic => true,
            Type::String | Type::Number | Type::Bool => false,
            Type::List(t) | Type::Set(t) | Type::Map(t) => t.has_dynamic(),
            Type::Object { attrs, .. } => attrs.values().any(Type::has_dynamic),
            Type::Tuple(ts) => ts.iter().any(Type::has_dynamic),
        }
    }

    /// The cty type JSON, e.g. `["list","string"]`. Object attributes come
    /// out sorted by name, optional names (if any) as a sorted third element,
    /// matching go-cty's `Type.MarshalJSON`.
    pub fn to_json(&self) -> Json {
        match self {
            Type::String => Json::from("string"),
            Type::Number => Json::from("number"),
            Type::Bool => Json::from("bool"),
            Type::Dynamic => Json::from("dynamic"),
            Type::List(t) => pair_json("list", t),
            Type::Set(t) => pair_json("set", t),
            Type::Map(t) => pair_json("map", t),
            Type::Object { attrs, optional } => object_json(attrs, optional),
            Type::Tuple(ts) => Json::Array(vec![
                Json::from("tuple"),
                Json::Array(ts.iter().map(Type::to_json).collect()),
            ]),
        }
    }

    /// Compact type JSON bytes, ready for `Schema.Attribute.type`.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        // `Display` for serde_json values is infallible and compact.
        self.to_json().to_string().into_bytes()
    }

    /// Parses cty type JSON. Rejects unknown kinds, extra elements, optional
    /// names that are not attributes, and nesting deeper than 256 levels.
    pub fn from_json(json: &Json) -> Result<Type, ValueError> {
        from_json_at(json, 0)
    }

    /// Parses cty type JSON from bytes.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Type, ValueError> {
        let json: Json = serde_json::from_slice(bytes).map_err(|e| ValueError::InvalidType {
            path: AttrPath::empty(),
            reason: format!("not JSON: {e}"),
        })?;
        Type::from_json(&json)
    }

    /// The most specific type that both `self` and `other` describe, treating
    /// `dynamic` as "not yet known" (it is what a null or unknown value
    /// infers to). `None` when the two cannot be reconciled, e.g. `string`
    /// and `number`, or objects with different attribute names.
    pub(super) fn unify(&self, other: &Type) -> Option<Type> {
        match (self, other) {
            (Type::Dynamic, t) | (t, Type::Dynamic) => Some(t.clone()),
            (Type::String, Type::String) => Some(Type::String),
            (Type::Number, Type::Number) => Some(Type::Number),
            (Type::Bool, Type::Bool) => Some(Type::Bool),
            (Type::List(a), Type::List(b)) => a.unify(b).map(Type::list),
            (Type::Set(a), Type::Set(b)) => a.unify(b).map(Type::set),
            (Type::Map(a), Type::Map(b)) => a.unify(b).map(Type::map),
            (
                Type::Object { attrs: a, optional: oa },
                Type::Object { attrs: b, optional: ob },
            ) => unify_objects(a, oa, b, ob),
            (Type::Tuple(a), Type::Tuple(b)) if a.len() == b.len() => a
                .iter()
                .zip(b)
                .map(|(x, y)| x.unify(y))
                .collect::<Option<Vec<_>>>()
                .map(Type::Tuple),
            _ => None,
        }
    }
}

/// Objects unify attribute by attribute when they have the same names.
#[inline(never)]
fn unify_objects(
    a: &BTreeMap<String, Type>,
    oa: &BTreeSet<String>,
    b: &BTreeMap<String, Type>,
    ob: &BTreeSet<String>,
) -> Option<Type> {
    if a.len() != b.len() {
        return None;
    }
    let mut attrs = BTreeMap::new();
    for ((ka, ta), (kb, tb)) in a.iter().zip(b.iter()) {
        if ka != kb {
            return None;
        }
        attrs.insert(ka.clone(), ta.unify(tb)?);
    }
    let optional = oa.intersection(ob).cloned().collect();
    Some(Type::Object { attrs, optional })
}

/// JSON of an object type (see [`Type::to_json`]).
#[inline(never)]
fn object_json(attrs: &BTreeMap<String, Type>, optional: &BTreeSet<String>) -> Json {
    let attrs_json: serde_json::Map<String, Json> =
        attrs.iter().map(|(k, t)| (k.clone(), t.to_json())).collect();
    let mut parts = vec![Json::from("object"), Json::Object(attrs_json)];
    if !optional.is_empty() {
        parts.push(Json::Array(
            optional.iter().map(|n| Json::from(n.as_str())).collect(),
        ));
    }
    Json::Array(parts)
}

/// `[kind, element]` JSON.
#[inline(never)]
fn pair_json(kind: &str, elem: &Type) -> Json {
    Json::Array(vec![Json::from(kind), elem.to_json()])
}

fn invalid_type(reason: impl Into<String>) -> ValueError {
    ValueError::InvalidType {
        path: AttrPath::empty(),
        reason: reason.into(),
    }
}

fn json_kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

// The parser recurses once per nesting level, so the recursive functions
// below only dispatch; message formatting lives in small non-inlined
// helpers to keep the recursive frames small in debug builds.

fn from_json_at(json: &Json, depth: usize) -> Result<Type, ValueError> {
    if depth > MAX_DEPTH {
        return Err(invalid_type(format!(
            "type nested deeper than {MAX_DEPTH} levels"
        )));
    }
    match json {
        Json::String(name) => primitive_type(name),
        Json::Array(parts) => complex_type(parts, depth),
        other => Err(not_a_type(other)),
    }
}

fn primitive_type(name: &str) -> Result<Type, ValueError> {
    match name {
        "string" => Ok(Type::String),
        "number" => Ok(Type::Number),
        "bool" => Ok(Type::Bool),
        "dynamic" => Ok(Type::Dynamic),
        other => Err(invalid_type(format!("invalid primitive type name {other:?}"))),
    }
}

#[inline(never)]
fn not_a_type(json: &Json) -> ValueError {
    invalid_type(format!(
        "expected a type name or [kind, argument] array, got {}",
        json_kind(json)
    ))
}

/// The kinds of `[kind, argument, ...]` type JSON.
#[derive(Clone, Copy)]
enum Kind {
    List,
    Set,
    Map,
    Object,
    Tuple,
}

/// Checks the shape of `[kind, argument]` / `["object", attrs, optional]`.
#[inline(never)]
fn complex_kind(parts: &[Json]) -> Result<Kind, ValueError> {
    let name = match parts.first() {
        Some(Json::String(name)) => name.as_str(),
        _ => return Err(invalid_type("complex type must start with its kind name")),
    };
    let kind = match name {
        "list" => Kind::List,
        "set" => Kind::Set,
        "map" => Kind::Map,
        "object" => Kind::Object,
        "tuple" => Kind::Tuple,
        other => return Err(invalid_type(format!("invalid complex type kind {other:?}"))),
    };
    let arity_ok = match kind {
        Kind::Object => parts.len() == 2 || parts.len() == 3,
        _ => parts.len() == 2,
    };
    if !arity_ok {
        return Err(invalid_type(format!(
            "{name:?} type has {} elements",
            parts.len()
        )));
    }
    Ok(kind)
}

#[inline(never)]
fn complex_type(parts: &[Json], depth: usize) -> Result<Type, ValueError> {
    let kind = complex_kind(parts)?;
    let arg = &parts[1];
    match kind {
        Kind::List => Ok(Type::list(from_json_at(arg, depth + 1)?)),
        Kind::Set => Ok(Type::set(from_json_at(arg, depth + 1)?)),
        Kind::Map => Ok(Type::map(from_json_at(arg, depth + 1)?)),
        Kind::Tuple => tuple_type(arg, depth),
        Kind::Object => object_type(arg, parts.get(2), depth),
    }
}

#[inline(never)]
fn tuple_type(arg: &Json, depth: usize) -> Result<Type, ValueError> {
    let Json::Array(elems) = arg else {
        return Err(wrong_argument("tuple element types must be an array", arg));
    };
    let mut types = Vec::with_capacity(elems.len());
    for e in elems {
        types.push(from_json_at(e, depth + 1)?);
    }
    Ok(Type::Tuple(types))
}

#[inline(never)]
fn object_type(arg: &Json, optional: Option<&Json>, depth: usize) -> Result<Type, ValueError> {
    let Json::Object(attr_json) = arg else {
        return Err(wrong_argument("object attribute types must be a JSON object", arg));
    };
    let mut attrs = BTreeMap::new();
    for (name, t) in attr_json {
        attrs.insert(name.clone(), from_json_at(t, depth + 1)?);
    }
    let optional = match optional {
        Some(names) => optional_names(names, &attrs)?,
        None => BTreeSet::new(),
    };
    Ok(Type::Object { attrs, optional })
}

#[inline(never)]
fn optional_names(
    names: &Json,
    attrs: &BTreeMap<String, Type>,
) -> Result<BTreeSet<String>, ValueError> {
    let Json::Array(names) = names else {
        return Err(invalid_type("optional attribute list must be an array"));
    };
    let mut optional = BTreeSet::new();
    for name in names {
        let Json::String(name) = name else {
            return Err(invalid_type("optional attribute names must be strings"));
        };
        if !attrs.contains_key(name) {
            return Err(invalid_type(format!(
                "optional attribute {name:?} is not an attribute"
            )));
        }
        optional.insert(name.clone());
    }
    Ok(optional)
}

#[inline(never)]
fn wrong_argument(what: &str, got: &Json) -> ValueError {
    invalid_type(format!("{what}, got {}", json_kind(got)))
}

impl fmt::Display for Type {
    /// Terraform's type-constraint syntax: `list(string)`,
    /// `object({a=string, b=optional(number)})`, `tuple([bool, number])`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::String => f.write_str("string"),
            Type::Number => f.write_str("number"),
            Type::Bool => f.write_str("bool"),
            Type::Dynamic => f.write_str("dynamic"),
            Type::List(t) => write!(f, "list({t})"),
            Type::Set(t) => write!(f, "set({t})"),
            Type::Map(t) => write!(f, "map({t})"),
            Type::Object { attrs, optional } => {
                f.write_str("object({")?;
                for (i, (name, t)) in attrs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if optional.contains(name) {
                        write!(f, "{name}=optional({t})")?;
                    } else {
                        write!(f, "{name}={t}")?;
                    }
                }
                f.write_str("})")
            }
            Type::Tuple(ts) => {
                f.write_str("tuple([")?;
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str("])")
            }
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Arbitrary types up to a few levels deep, `dynamic` included.
    pub(crate) fn arb_type() -> impl Strategy<Value = Type> {
        let leaf = prop_oneof![
            Just(Type::String),
            Just(Type::Number),
            Just(Type::Bool),
            Just(Type::Dynamic),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                inner.clone().prop_map(Type::list),
                inner.clone().prop_map(Type::set),
                inner.clone().prop_map(Type::map),
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Type::Tuple),
                (
                    proptest::collection::btree_map("[a-z_]{1,6}", inner, 0..4),
                    any::<u8>()
                )
                    .prop_map(|(attrs, mask)| {
                        // Mark some attributes optional, chosen by the mask.
                        let optional = attrs
                            .keys()
                            .enumerate()
                            .filter(|(i, _)| mask & (1 << (i % 8)) != 0)
                            .map(|(_, k)| k.clone())
                            .collect();
                        Type::Object { attrs, optional }
                    }),
            ]
        })
    }

    #[test]
    fn type_json_matches_cty_spelling() {
        let cases: Vec<(&str, Type, &str)> = vec![
            ("string", Type::String, r#""string""#),
            ("number", Type::Number, r#""number""#),
            ("bool", Type::Bool, r#""bool""#),
            ("dynamic", Type::Dynamic, r#""dynamic""#),
            ("list", Type::list(Type::String), r#"["list","string"]"#),
            ("set", Type::set(Type::Number), r#"["set","number"]"#),
            ("map", Type::map(Type::Bool), r#"["map","bool"]"#),
            (
                "object sorted",
                Type::object([("port", Type::Number), ("id", Type::String)]),
                r#"["object",{"id":"string","port":"number"}]"#,
            ),
            (
                "object with optional",
                Type::object_with_optional([("a", Type::String), ("b", Type::Number)], ["b"]),
                r#"["object",{"a":"string","b":"number"},["b"]]"#,
            ),
            (
                "tuple",
                Type::tuple([Type::String, Type::list(Type::Dynamic)]),
                r#"["tuple",["string",["list","dynamic"]]]"#,
            ),
            ("empty tuple", Type::tuple([]), r#"["tuple",[]]"#),
            (
                "set of objects",
                Type::set(Type::object([("id", Type::String), ("port", Type::Number)])),
                r#"["set",["object",{"id":"string","port":"number"}]]"#,
            ),
        ];
        for (name, ty, want) in cases {
            assert_eq!(String::from_utf8_lossy(&ty.to_json_bytes()), want, "case {name}");
            assert_eq!(Type::from_json_bytes(want.as_bytes()).ok(), Some(ty), "case {name} parse");
        }
    }

    #[test]
    fn invalid_type_json_is_rejected() {
        let cases = [
            ("unknown primitive", r#""int""#),
            ("number literal", "1"),
            ("null", "null"),
            ("empty array", "[]"),
            ("unknown kind", r#"["vector","string"]"#),
            ("list without element", r#"["list"]"#),
            ("list with extra", r#"["list","string","x"]"#),
            ("object attrs not object", r#"["object",["string"]]"#),
            ("optional not listed attr", r#"["object",{"a":"string"},["b"]]"#),
            ("optional not strings", r#"["object",{"a":"string"},[1]]"#),
            ("object too many parts", r#"["object",{},[],[]]"#),
            ("tuple not array", r#"["tuple","string"]"#),
            ("not json", "[list"),
        ];
        for (name, input) in cases {
            assert!(Type::from_json_bytes(input.as_bytes()).is_err(), "case {name}");
        }
    }

    #[test]
    fn deeply_nested_type_json_is_an_error_not_a_crash() {
        let mut json = Json::from("string");
        for _ in 0..(MAX_DEPTH + 10) {
            json = Json::Array(vec![Json::from("list"), json]);
        }
        assert!(Type::from_json(&json).is_err());
    }

    #[test]
    fn display_uses_terraform_syntax() {
        let t = Type::object_with_optional(
            [("a", Type::list(Type::String)), ("b", Type::tuple([Type::Bool, Type::Number]))],
            ["b"],
        );
        assert_eq!(t.to_string(), "object({a=list(string), b=optional(tuple([bool, number]))})");
    }

    #[test]
    fn unify_treats_dynamic_as_not_yet_known() {
        let obj = |t: Type| Type::object([("a", t)]);
        let cases: Vec<(&str, Type, Type, Option<Type>)> = vec![
            ("same", Type::String, Type::String, Some(Type::String)),
            ("dynamic left", Type::Dynamic, Type::Number, Some(Type::Number)),
            ("clash", Type::String, Type::Number, None),
            (
                "nested dynamic",
                Type::list(obj(Type::Dynamic)),
                Type::list(obj(Type::Bool)),
                Some(Type::list(obj(Type::Bool))),
            ),
            ("different attrs", obj(Type::String), Type::object([("b", Type::String)]), None),
            ("list vs set", Type::list(Type::String), Type::set(Type::String), None),
            ("tuple arity", Type::tuple([Type::String]), Type::tuple([]), None),
        ];
        for (name, a, b, want) in cases {
            assert_eq!(a.unify(&b), want, "case {name}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn type_json_round_trips(ty in arb_type()) {
            prop_assert_eq!(Type::from_json_bytes(&ty.to_json_bytes()).ok(), Some(ty));
        }
    }
}
