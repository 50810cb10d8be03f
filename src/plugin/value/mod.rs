//! Terraform values and types, and their two wire encodings.
//!
//! Owns the in-memory model of what crosses the plugin protocol inside a
//! `DynamicValue` (and `RawState.json`): [`Type`] (cty type constraints and
//! their JSON form), [`Number`] (exact decimals), [`Value`] (null, unknown,
//! known values, and values that sat in a `dynamic` slot), plus the msgpack
//! and JSON codecs that read and write them against a schema type. It knows
//! nothing about gRPC, protobuf messages, schemas or resources: callers hand
//! it bytes and the schema-implied [`Type`].
//!
//! Codec entry points (all on [`Value`]):
//! * [`Value::decode_msgpack`] / [`Value::encode_msgpack`]: what Terraform
//!   sends and what providers must answer with.
//! * [`Value::decode_json`] / [`Value::encode_json`]: the JSON fallback of
//!   `DynamicValue`. JSON cannot carry unknown values.
//! * [`Value::decode_json_lenient`]: for `UpgradeResourceState`'s
//!   `RawState.json`, which was written with an older schema: object keys the
//!   type does not know are dropped instead of rejected.
//!
//! [`AttrPath`] names a place inside a value: where a codec error happened, and
//! (re-exported as `plugin::AttrPath`) where a diagnostic or a replace path points.
//!
//! Null and unknown are untyped here: a schema always supplies the type
//! when encoding, so a typed null would only be redundant. The one place a
//! value carries its own type is [`Value::Dynamic`].

mod json;
mod msgpack;
mod number;
mod path;
mod ty;
mod walk;

use std::collections::BTreeMap;

pub use number::Number;
pub use path::{AttrPath, PathStep};
pub use ty::Type;

/// Deepest nesting the codecs accept (values and type JSON); JSON input is
/// further capped at 128 levels by serde_json's own recursion limit.
/// Terraform schemas are nowhere near either; the limit keeps hostile or
/// corrupt input from exhausting the stack.
pub const MAX_DEPTH: usize = 256;

/// A Terraform value.
///
/// Derived `PartialEq` is structural (set element order matters, a
/// `Dynamic` wrapper differs from its bare content); use
/// [`Value::semantically_equal`] to compare the way Terraform does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A known null, of whatever type the slot has.
    Null,
    /// A value that will only be known after apply. Any refinements Terraform
    /// attached (prefix, bounds, not-null) are dropped on decode, which the
    /// protocol allows; encoding always writes the unrefined form.
    Unknown,
    /// A known `bool`.
    Bool(bool),
    /// A known `number`.
    Number(Number),
    /// A known `string`.
    String(String),
    /// A known `list(T)`.
    List(Vec<Value>),
    /// A known `set(T)`. Kept in wire order; neither deduplicated nor sorted
    /// (Terraform never sends duplicates).
    Set(Vec<Value>),
    /// A known `map(T)`.
    Map(BTreeMap<String, Value>),
    /// A known `object({...})`: attribute name to value.
    Object(BTreeMap<String, Value>),
    /// A known `tuple([...])`.
    Tuple(Vec<Value>),
    /// A known, non-null value that sat in a `dynamic` slot, with the
    /// concrete type that travelled with it. Decoders never wrap null or
    /// unknown (they come back as plain [`Value::Null`] / [`Value::Unknown`]).
    Dynamic {
        /// The concrete type the value was encoded with.
        ty: Type,
        /// The value itself.
        value: Box<Value>,
    },
}

/// Why a value could not be decoded or encoded, and where.
///
/// Every variant carries the [`AttrPath`] of the offending value; messages
/// read `at .foo[2]["k"]: expected string, got msgpack int`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// The msgpack item has the wrong kind for the type.
    #[error("at {path}: expected {expected}, got msgpack {got}")]
    MsgpackKind {
        /// Where.
        path: AttrPath,
        /// What the type required (a type, or a description).
        expected: String,
        /// The msgpack kind found.
        got: &'static str,
    },
    /// The JSON item has the wrong kind for the type.
    #[error("at {path}: expected {expected}, got JSON {got}")]
    JsonKind {
        /// Where.
        path: AttrPath,
        /// What the type required.
        expected: String,
        /// The JSON kind found.
        got: &'static str,
    },
    /// Encoding: the value does not fit the type it is encoded as.
    #[error("at {path}: cannot encode {got} as {expected}")]
    ValueKind {
        /// Where.
        path: AttrPath,
        /// The type of the slot.
        expected: String,
        /// The kind of value given.
        got: String,
    },
    /// An object key that is not an attribute of the object type.
    #[error("at {path}: unsupported attribute {name:?}")]
    UnsupportedAttribute {
        /// The object's path.
        path: AttrPath,
        /// The offending key.
        name: String,
    },
    /// An attribute of the object type is absent (msgpack objects, and
    /// values being encoded, must carry every non-optional attribute).
    #[error("at {path}: missing attribute {name:?}; an object must carry every attribute of its type")]
    MissingAttribute {
        /// The object's path.
        path: AttrPath,
        /// The absent attribute.
        name: String,
    },
    /// The same key twice in one msgpack map.
    #[error("at {path}: duplicate key {key:?}")]
    DuplicateKey {
        /// The map's path.
        path: AttrPath,
        /// The repeated key.
        key: String,
    },
    /// A tuple with the wrong number of elements.
    #[error("at {path}: a tuple of {expected} elements is required, got {got}")]
    TupleLength {
        /// The tuple's path.
        path: AttrPath,
        /// Elements the type has.
        expected: usize,
        /// Elements found.
        got: usize,
    },
    /// Text or float that is not a finite decimal number.
    #[error("at {path}: invalid number {text:?}: {reason}")]
    InvalidNumber {
        /// Where.
        path: AttrPath,
        /// The offending text (shortened if huge).
        text: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// Type JSON (a schema type or the type half of a dynamic value) that is
    /// not a valid cty type.
    #[error("at {path}: invalid type: {reason}")]
    InvalidType {
        /// Where the type was read.
        path: AttrPath,
        /// What is wrong with it.
        reason: String,
    },
    /// Bytes that are not well-formed msgpack (truncated, bad UTF-8, …).
    #[error("at {path}: malformed msgpack: {reason}")]
    MalformedMsgpack {
        /// Where.
        path: AttrPath,
        /// What is wrong.
        reason: String,
    },
    /// Bytes that are not well-formed JSON, or a malformed dynamic wrapper.
    #[error("at {path}: malformed JSON: {reason}")]
    MalformedJson {
        /// Where.
        path: AttrPath,
        /// What is wrong.
        reason: String,
    },
    /// Nesting beyond [`MAX_DEPTH`].
    #[error("at {path}: values nest deeper than {limit} levels")]
    TooDeep {
        /// Where the limit was hit.
        path: AttrPath,
        /// The limit.
        limit: usize,
    },
    /// JSON has no representation for unknown values.
    #[error("at {path}: an unknown value cannot be encoded as JSON")]
    UnknownInJson {
        /// Where the unknown value is.
        path: AttrPath,
    },
    /// A value that fits its type but still cannot be written (a set whose
    /// elements have different types in a dynamic slot, a length beyond
    /// msgpack's 2^32 limit).
    #[error("at {path}: {reason}")]
    Unencodable {
        /// Where.
        path: AttrPath,
        /// Why.
        reason: String,
    },
}

/// The `path` of any [`ValueError`], shared or mutable alike.
macro_rules! path_of {
    ($error:expr) => {
        match $error {
            ValueError::MsgpackKind { path, .. }
            | ValueError::JsonKind { path, .. }
            | ValueError::ValueKind { path, .. }
            | ValueError::UnsupportedAttribute { path, .. }
            | ValueError::MissingAttribute { path, .. }
            | ValueError::DuplicateKey { path, .. }
            | ValueError::TupleLength { path, .. }
            | ValueError::InvalidNumber { path, .. }
            | ValueError::InvalidType { path, .. }
            | ValueError::MalformedMsgpack { path, .. }
            | ValueError::MalformedJson { path, .. }
            | ValueError::TooDeep { path, .. }
            | ValueError::UnknownInJson { path }
            | ValueError::Unencodable { path, .. } => path,
        }
    };
}

impl ValueError {
    /// Where in the value the problem is.
    pub fn path(&self) -> &AttrPath {
        path_of!(self)
    }

    fn path_mut(&mut self) -> &mut AttrPath {
        path_of!(self)
    }

    /// Re-roots an error raised by a helper that only sees a piece of the
    /// value (number text, type JSON) at the path of that piece.
    fn under(mut self, outer: &[PathStep]) -> Self {
        let path = self.path_mut();
        let inner = std::mem::take(path);
        *path = inner.prefixed(&AttrPath(outer.to_vec()));
        self
    }
}

impl Value {
    /// A known string.
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// A known number.
    pub fn number(n: impl Into<Number>) -> Value {
        Value::Number(n.into())
    }

    /// A known list.
    pub fn list(elements: impl IntoIterator<Item = Value>) -> Value {
        Value::List(elements.into_iter().collect())
    }

    /// A known set.
    pub fn set(elements: impl IntoIterator<Item = Value>) -> Value {
        Value::Set(elements.into_iter().collect())
    }

    /// A known tuple.
    pub fn tuple(elements: impl IntoIterator<Item = Value>) -> Value {
        Value::Tuple(elements.into_iter().collect())
    }

    /// A known map.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A known object.
    pub fn object<K: Into<String>>(attrs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A short name of the value's kind, for messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Unknown => "unknown value",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Map(_) => "map",
            Value::Object(_) => "object",
            Value::Tuple(_) => "tuple",
            Value::Dynamic { .. } => "dynamic value",
        }
    }

    /// The value with any `Dynamic` wrappers removed.
    pub fn unwrap_dynamic(&self) -> &Value {
        let mut v = self;
        while let Value::Dynamic { value, .. } = v {
            v = value;
        }
        v
    }

    /// True for a known null (looking through a `Dynamic` wrapper).
    pub fn is_null(&self) -> bool {
        matches!(self.unwrap_dynamic(), Value::Null)
    }

    /// True for an unknown value (looking through a `Dynamic` wrapper).
    /// A known collection *containing* unknowns is not unknown; see
    /// [`Value::is_wholly_known`].
    pub fn is_unknown(&self) -> bool {
        matches!(self.unwrap_dynamic(), Value::Unknown)
    }

    /// True unless the value itself is unknown.
    pub fn is_known(&self) -> bool {
        !self.is_unknown()
    }

    /// True when no unknown value occurs anywhere inside.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => true,
            Value::List(vs) | Value::Set(vs) | Value::Tuple(vs) => {
                vs.iter().all(Value::is_wholly_known)
            }
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            Value::Dynamic { value, .. } => value.is_wholly_known(),
        }
    }

    /// An object attribute (looking through a `Dynamic` wrapper). `None` if
    /// this is not an object or has no such attribute.
    pub fn get_attr(&self, name: &str) -> Option<&Value> {
        match self.unwrap_dynamic() {
            Value::Object(attrs) => attrs.get(name),
            _ => None,
        }
    }

    /// Mutable access to an object attribute.
    pub fn get_attr_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self {
            Value::Object(attrs) => attrs.get_mut(name),
            Value::Dynamic { value, .. } => value.get_attr_mut(name),
            _ => None,
        }
    }

    /// The string, if this is a known string.
    pub fn as_str(&self) -> Option<&str> {
        match self.unwrap_dynamic() {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The bool, if this is a known bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self.unwrap_dynamic() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, if this is a known number.
    pub fn as_number(&self) -> Option<&Number> {
        match self.unwrap_dynamic() {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The number as `i64`, if this is a known integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(Number::as_i64)
    }

    /// The elements, if this is a known list.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self.unwrap_dynamic() {
            Value::List(vs) => Some(vs),
            _ => None,
        }
    }

    /// The elements, if this is a known set.
    pub fn as_set(&self) -> Option<&[Value]> {
        match self.unwrap_dynamic() {
            Value::Set(vs) => Some(vs),
            _ => None,
        }
    }

    /// The elements, if this is a known tuple.
    pub fn as_tuple(&self) -> Option<&[Value]> {
        match self.unwrap_dynamic() {
            Value::Tuple(vs) => Some(vs),
            _ => None,
        }
    }

    /// The elements of a known list, set or tuple.
    pub fn elements(&self) -> Option<&[Value]> {
        match self.unwrap_dynamic() {
            Value::List(vs) | Value::Set(vs) | Value::Tuple(vs) => Some(vs),
            _ => None,
        }
    }

    /// The entries, if this is a known map.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self.unwrap_dynamic() {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The attributes, if this is a known object.
    pub fn as_object(&self) -> Option<&BTreeMap<String, Value>> {
        match self.unwrap_dynamic() {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// Visits this value and everything nested in it, parents before
    /// children.
    pub fn walk<F: FnMut(&Value)>(&self, f: &mut F) {
        f(self);
        match self {
            Value::List(vs) | Value::Set(vs) | Value::Tuple(vs) => {
                vs.iter().for_each(|v| v.walk(f));
            }
            Value::Map(m) | Value::Object(m) => m.values().for_each(|v| v.walk(f)),
            Value::Dynamic { value, .. } => value.walk(f),
            _ => {}
        }
    }

    /// Visits this value and everything nested in it, parents before
    /// children, allowing in-place replacement. Children are visited after
    /// `f` ran on their parent, so `f` sees the children of whatever it put
    /// there (and must not keep growing the tree).
    pub fn walk_mut<F: FnMut(&mut Value)>(&mut self, f: &mut F) {
        f(self);
        match self {
            Value::List(vs) | Value::Set(vs) | Value::Tuple(vs) => {
                vs.iter_mut().for_each(|v| v.walk_mut(f));
            }
            Value::Map(m) | Value::Object(m) => m.values_mut().for_each(|v| v.walk_mut(f)),
            Value::Dynamic { value, .. } => value.walk_mut(f),
            _ => {}
        }
    }

    /// Replaces every unknown, at any depth, with null. For turning a plan
    /// into "what we know" or making a value JSON-encodable.
    pub fn unknown_to_null(&mut self) {
        self.walk_mut(&mut |v| {
            if matches!(v, Value::Unknown) {
                *v = Value::Null;
            }
        });
    }

    /// Equality as Terraform means it: sets compare as multisets (order
    /// ignored) at every depth; a `Dynamic` wrapper compares equal to its
    /// bare content, and two wrappers must agree on the type too. Unknown
    /// equals unknown here (this is "same plan value", not cty's `Equals`).
    pub fn semantically_equal(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Dynamic { ty: ta, value: a }, Value::Dynamic { ty: tb, value: b }) => {
                ta == tb && a.semantically_equal(b)
            }
            (Value::Dynamic { value, .. }, bare) | (bare, Value::Dynamic { value, .. }) => {
                value.semantically_equal(bare)
            }
            (Value::Null, Value::Null) | (Value::Unknown, Value::Unknown) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::List(a), Value::List(b)) | (Value::Tuple(a), Value::Tuple(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.semantically_equal(y))
            }
            (Value::Map(a), Value::Map(b)) | (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len()
                    && a
                        .iter()
                        .zip(b)
                        .all(|((ka, va), (kb, vb))| ka == kb && va.semantically_equal(vb))
            }
            (Value::Set(a), Value::Set(b)) => {
                if a.len() != b.len() {
                    return false;
                }
                // Greedy multiset matching; quadratic, but sets in resource
                // schemas are small.
                let mut used = vec![false; b.len()];
                a.iter().all(|x| {
                    let found = b
                        .iter()
                        .enumerate()
                        .find(|(i, y)| !used[*i] && x.semantically_equal(y))
                        .map(|(i, _)| i);
                    match found {
                        Some(i) => {
                            used[i] = true;
                            true
                        }
                        None => false,
                    }
                })
            }
            _ => false,
        }
    }

    /// The type a value would be given in a `dynamic` slot: objects infer
    /// `object`, lists whose elements agree infer `list(T)` (else `tuple`),
    /// maps whose elements agree infer `map(T)` (else `object`), sets must
    /// agree. Null and unknown, alone or as elements, infer `dynamic` (which
    /// unifies with anything), so `[null]` is `list(dynamic)`. A set whose
    /// elements disagree is an error: cty has no heterogeneous sets.
    pub fn infer_type(&self) -> Result<Type, ValueError> {
        self.infer(&mut Vec::new(), 0).map(|(ty, _)| ty)
    }

    /// Infers the type (as [`Value::infer_type`]) and reshapes the value to
    /// match it: a list inferred as a tuple becomes a `Tuple`, a map
    /// inferred as an object becomes an `Object`, so the encoders can write
    /// it against that type.
    fn infer(
        &self,
        path: &mut Vec<PathStep>,
        depth: usize,
    ) -> Result<(Type, Value), ValueError> {
        if depth > MAX_DEPTH {
            return Err(too_deep(path));
        }
        // Recursion goes through `infer_items`/`infer_entries`; combinators
        // instead of `?` and the `finish_*` helpers keep temporaries out of
        // this recursive frame.
        match self {
            Value::List(vs) => infer_items(vs, path, depth, PathStep::Index).map(finish_list),
            Value::Set(vs) => infer_items(vs, path, depth, PathStep::SetElement)
                .and_then(|items| finish_set(items, path)),
            Value::Tuple(vs) => infer_items(vs, path, depth, PathStep::Index).map(finish_tuple),
            Value::Map(m) => infer_entries(m, path, depth, PathStep::Key).map(finish_map),
            Value::Object(m) => infer_entries(m, path, depth, PathStep::Attr).map(finish_object),
            leaf => Ok(infer_leaf(leaf)),
        }
    }
}

#[cold]
#[inline(never)]
fn too_deep(path: &[PathStep]) -> ValueError {
    ValueError::TooDeep {
        path: AttrPath(path.to_vec()),
        limit: MAX_DEPTH,
    }
}

#[inline(never)]
fn infer_leaf(v: &Value) -> (Type, Value) {
    let ty = match v {
        Value::Bool(_) => Type::Bool,
        Value::Number(_) => Type::Number,
        Value::String(_) => Type::String,
        Value::Dynamic { ty, .. } => ty.clone(),
        _ => Type::Dynamic,
    };
    (ty, v.clone())
}

#[inline(never)]
fn infer_items(
    vs: &[Value],
    path: &mut Vec<PathStep>,
    depth: usize,
    step: fn(usize) -> PathStep,
) -> Result<Vec<(Type, Value)>, ValueError> {
    let mut out = Vec::with_capacity(vs.len());
    for (i, v) in vs.iter().enumerate() {
        path.push(step(i));
        out.push(v.infer(path, depth + 1)?);
        path.pop();
    }
    Ok(out)
}

#[inline(never)]
fn infer_entries(
    m: &BTreeMap<String, Value>,
    path: &mut Vec<PathStep>,
    depth: usize,
    step: fn(String) -> PathStep,
) -> Result<Vec<(String, Type, Value)>, ValueError> {
    let mut out = Vec::with_capacity(m.len());
    for (k, v) in m {
        path.push(step(k.clone()));
        let (t, v) = v.infer(path, depth + 1)?;
        path.pop();
        out.push((k.clone(), t, v));
    }
    Ok(out)
}

#[inline(never)]
fn finish_list(items: Vec<(Type, Value)>) -> (Type, Value) {
    match unify_all(items.iter().map(|(t, _)| t)) {
        Some(elem) => (
            Type::list(elem),
            Value::List(items.into_iter().map(|(_, v)| v).collect()),
        ),
        None => finish_tuple(items),
    }
}

#[inline(never)]
fn finish_tuple(items: Vec<(Type, Value)>) -> (Type, Value) {
    let (types, values): (Vec<_>, Vec<_>) = items.into_iter().unzip();
    (Type::Tuple(types), Value::Tuple(values))
}

#[inline(never)]
fn finish_set(items: Vec<(Type, Value)>, path: &[PathStep]) -> Result<(Type, Value), ValueError> {
    match unify_all(items.iter().map(|(t, _)| t)) {
        Some(elem) => Ok((
            Type::set(elem),
            Value::Set(items.into_iter().map(|(_, v)| v).collect()),
        )),
        None => Err(ValueError::Unencodable {
            path: AttrPath(path.to_vec()),
            reason: "set elements have different types, so the set has no type to give a \
                     dynamic slot"
                .to_owned(),
        }),
    }
}

#[inline(never)]
fn finish_map(items: Vec<(String, Type, Value)>) -> (Type, Value) {
    match unify_all(items.iter().map(|(_, t, _)| t)) {
        Some(elem) => (
            Type::map(elem),
            Value::Map(items.into_iter().map(|(k, _, v)| (k, v)).collect()),
        ),
        None => finish_object(items),
    }
}

#[inline(never)]
fn finish_object(items: Vec<(String, Type, Value)>) -> (Type, Value) {
    let mut attrs = BTreeMap::new();
    let mut values = BTreeMap::new();
    for (k, t, v) in items {
        attrs.insert(k.clone(), t);
        values.insert(k, v);
    }
    (
        Type::Object {
            attrs,
            optional: Default::default(),
        },
        Value::Object(values),
    )
}

/// Unifies element types; an empty collection is `dynamic` (cty's empty
/// list of unknown element type).
fn unify_all<'a>(mut types: impl Iterator<Item = &'a Type>) -> Option<Type> {
    types.try_fold(Type::Dynamic, |acc, t| acc.unify(t))
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Self {
        Value::Number(n)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(Number::from_i64(n))
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    /// `None` is null.
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    use super::ty::tests::arb_type;

    fn num(s: &str) -> Number {
        Number::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    /// Arbitrary numbers: machine ints, doubles, and long/huge decimals.
    pub(crate) fn arb_number() -> impl Strategy<Value = Number> {
        prop_oneof![
            any::<i64>().prop_map(Number::from_i64),
            any::<u64>().prop_map(Number::from_u64),
            (proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO)
                .prop_map(|f| Number::from_f64(f).unwrap_or_default()),
            ("-?[0-9]{1,30}(\\.[0-9]{1,30})?", -450i64..450).prop_map(|(m, e)| {
                Number::parse(&format!("{m}e{e}")).unwrap_or_default()
            }),
            Just(num("0.1")),
            Just(num("123456789012345678901234567890")),
            Just(num("1e400")),
        ]
    }

    /// A value conforming to `ty`. With `unknowns`, unknown values may appear
    /// at any depth; null may appear at any depth either way. Values in
    /// `dynamic` slots pick their own concrete type and come back wrapped.
    pub(crate) fn arb_value(ty: Type, unknowns: bool) -> BoxedStrategy<Value> {
        let known = arb_known(ty, unknowns);
        if unknowns {
            prop_oneof![1 => Just(Value::Null), 1 => Just(Value::Unknown), 8 => known].boxed()
        } else {
            prop_oneof![1 => Just(Value::Null), 8 => known].boxed()
        }
    }

    fn arb_known(ty: Type, unknowns: bool) -> BoxedStrategy<Value> {
        match ty {
            Type::String => ".{0,12}".prop_map(Value::String).boxed(),
            Type::Number => arb_number().prop_map(Value::Number).boxed(),
            Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
            Type::List(e) => proptest::collection::vec(arb_value(*e, unknowns), 0..4)
                .prop_map(Value::List)
                .boxed(),
            Type::Set(e) => proptest::collection::vec(arb_value(*e, unknowns), 0..4)
                .prop_map(Value::Set)
                .boxed(),
            Type::Map(e) => {
                proptest::collection::btree_map(".{0,6}", arb_value(*e, unknowns), 0..4)
                    .prop_map(Value::Map)
                    .boxed()
            }
            Type::Tuple(ts) => ts
                .into_iter()
                .map(|t| arb_value(t, unknowns))
                .collect::<Vec<_>>()
                .prop_map(Value::Tuple)
                .boxed(),
            Type::Object { attrs, .. } => attrs
                .into_iter()
                .map(|(k, t)| arb_value(t, unknowns).prop_map(move |v| (k.clone(), v)))
                .collect::<Vec<_>>()
                .prop_map(|kvs| Value::Object(kvs.into_iter().collect()))
                .boxed(),
            Type::Dynamic => arb_type()
                .prop_filter("a dynamic slot needs a concrete type", |t| t != &Type::Dynamic)
                .prop_flat_map(move |t| {
                    arb_known(t.clone(), unknowns).prop_map(move |v| Value::Dynamic {
                        ty: t.clone(),
                        value: Box::new(v),
                    })
                })
                .boxed(),
        }
    }

    /// A type together with a conforming value.
    pub(crate) fn arb_typed_value(unknowns: bool) -> impl Strategy<Value = (Type, Value)> {
        arb_type().prop_flat_map(move |t| (Just(t.clone()), arb_value(t, unknowns)))
    }

    #[test]
    fn accessors_look_through_dynamic_wrappers() {
        let v = Value::Dynamic {
            ty: Type::object([("a", Type::String)]),
            value: Box::new(Value::object([("a", Value::string("x"))])),
        };
        assert_eq!(v.get_attr("a").and_then(Value::as_str), Some("x"));
        assert!(v.as_object().is_some());
        assert!(!v.is_null());
        let null = Value::Dynamic {
            ty: Type::String,
            value: Box::new(Value::Null),
        };
        assert!(null.is_null());
    }

    #[test]
    fn wholly_known_checks_every_depth() {
        let cases = [
            ("null", Value::Null, true),
            ("unknown", Value::Unknown, false),
            ("nested unknown", Value::list([Value::object([("a", Value::Unknown)])]), false),
            ("nested null", Value::list([Value::object([("a", Value::Null)])]), true),
            (
                "unknown in dynamic",
                Value::Dynamic {
                    ty: Type::list(Type::String),
                    value: Box::new(Value::list([Value::Unknown])),
                },
                false,
            ),
        ];
        for (name, v, want) in cases {
            assert_eq!(v.is_wholly_known(), want, "case {name}");
            assert_eq!(v.is_known(), name != "unknown", "case {name}");
        }
    }

    #[test]
    fn unknown_to_null_replaces_at_every_depth() {
        let mut v = Value::object([
            ("a", Value::Unknown),
            ("b", Value::set([Value::Unknown, Value::string("x")])),
        ]);
        v.unknown_to_null();
        assert_eq!(
            v,
            Value::object([
                ("a", Value::Null),
                ("b", Value::set([Value::Null, Value::string("x")])),
            ])
        );
    }

    #[test]
    fn semantic_equality_ignores_set_order_and_number_spelling() {
        let s = |items: &[&str]| Value::set(items.iter().map(|s| Value::string(*s)));
        let cases = [
            ("set order", s(&["a", "b"]), s(&["b", "a"]), true),
            ("set size", s(&["a"]), s(&["a", "a"]), false),
            ("set multiset", s(&["a", "a", "b"]), s(&["a", "b", "b"]), false),
            (
                "nested set order",
                Value::list([Value::set([Value::number(1), Value::number(2)])]),
                Value::list([Value::set([Value::number(num("2.0")), Value::number(1)])]),
                true,
            ),
            ("list order matters", Value::list([1.into(), 2.into()]), Value::list([2.into(), 1.into()]), false),
            (
                "dynamic vs bare",
                Value::Dynamic { ty: Type::String, value: Box::new("x".into()) },
                Value::string("x"),
                true,
            ),
            (
                "dynamic types differ",
                Value::Dynamic { ty: Type::list(Type::String), value: Box::new(Value::list([])) },
                Value::Dynamic { ty: Type::set(Type::String), value: Box::new(Value::list([])) },
                false,
            ),
            ("null vs unknown", Value::Null, Value::Unknown, false),
            (
                "object attrs",
                Value::object([("a", Value::Null)]),
                Value::object([("b", Value::Null)]),
                false,
            ),
        ];
        for (name, a, b, want) in cases {
            assert_eq!(a.semantically_equal(&b), want, "case {name}");
            assert_eq!(b.semantically_equal(&a), want, "case {name} (swapped)");
        }
    }

    #[test]
    fn inference_follows_cty_rules() {
        let cases: Vec<(&str, Value, Result<Type, ()>)> = vec![
            ("string", "x".into(), Ok(Type::String)),
            ("null", Value::Null, Ok(Type::Dynamic)),
            ("empty list", Value::list([]), Ok(Type::list(Type::Dynamic))),
            ("uniform list", Value::list(["a".into(), Value::Null]), Ok(Type::list(Type::String))),
            (
                "mixed list is a tuple",
                Value::list(["a".into(), 1.into()]),
                Ok(Type::tuple([Type::String, Type::Number])),
            ),
            (
                "mixed map is an object",
                Value::map([("a", Value::from("x")), ("b", Value::from(true))]),
                Ok(Type::object([("a", Type::String), ("b", Type::Bool)])),
            ),
            ("uniform map", Value::map([("a", Value::from(1))]), Ok(Type::map(Type::Number))),
            (
                "objects unify through nulls",
                Value::list([
                    Value::object([("a", Value::from("x")), ("b", Value::Null)]),
                    Value::object([("a", Value::Null), ("b", Value::from(2))]),
                ]),
                Ok(Type::list(Type::object([("a", Type::String), ("b", Type::Number)]))),
            ),
            ("mixed set is an error", Value::set(["a".into(), 1.into()]), Err(())),
        ];
        for (name, v, want) in cases {
            assert_eq!(v.infer_type().map_err(|_| ()), want, "case {name}");
        }
    }

    #[test]
    fn error_messages_say_where_and_what() {
        let err = ValueError::MsgpackKind {
            path: AttrPath::empty().attr("foo").index(2).key("k"),
            expected: "string".to_owned(),
            got: "int",
        };
        assert_eq!(err.to_string(), "at .foo[2][\"k\"]: expected string, got msgpack int");
        let nested = Number::parse("x").err().map(|e| e.under(&[PathStep::Attr("n".into())]));
        assert_eq!(nested.map(|e| e.path().clone()), Some(AttrPath::empty().attr("n")));
    }

    /// Values nested right up to the limit still work, on an ordinary 2 MiB
    /// test thread, through every recursive path (decode, encode, type
    /// inference for a dynamic slot, type JSON).
    #[test]
    fn values_nested_up_to_the_limit_work_on_a_normal_stack() {
        let depth = MAX_DEPTH - 2;
        let mut ty = Type::String;
        let mut value = Value::string("leaf");
        for _ in 0..depth {
            ty = Type::object([("a", ty), ("b", Type::Bool)]);
            value = Value::object([("a", value), ("b", Value::Null)]);
        }
        let bytes = value.encode_msgpack(&ty).expect("encode");
        assert_eq!(Value::decode_msgpack(&bytes, &ty).as_ref(), Ok(&value));

        // Inferring the type for a dynamic slot walks the whole value too.
        // Reading it back needs the type JSON parsed, and serde_json stops at
        // 128 levels of JSON (two per object type), so that fails cleanly.
        let dynamic = value.encode_msgpack(&Type::Dynamic).expect("encode dynamic");
        assert!(matches!(
            Value::decode_msgpack(&dynamic, &Type::Dynamic),
            Err(ValueError::InvalidType { .. })
        ));

        let json = value.encode_json(&ty).expect("encode json");
        // serde_json refuses JSON nested deeper than 128 levels, so JSON
        // decoding has a lower ceiling than msgpack; it must fail cleanly.
        assert!(Value::decode_json(&json, &ty).is_err());
        assert_eq!(Type::from_json(&ty.to_json()).as_ref(), Ok(&ty));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Every generated value is semantically equal to itself with its
        /// sets reversed.
        #[test]
        fn semantic_equality_is_order_insensitive_for_sets((_, v) in arb_typed_value(true)) {
            let mut reversed = v.clone();
            reversed.walk_mut(&mut |x| if let Value::Set(items) = x { items.reverse() });
            prop_assert!(v.semantically_equal(&reversed));
        }
    }
}
