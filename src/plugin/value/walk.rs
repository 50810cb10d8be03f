//! The type-directed walk both encoders share: which part of a value goes with which
//! part of its type. The JSON and msgpack encoders differ only in what they write
//! for each kind, so each implements [`Encode`] and the dispatch lives here once.

use std::collections::BTreeMap;

use super::{AttrPath, Number, Type, Value, ValueError, MAX_DEPTH};

/// What an encoder writes for each kind of value; the walk decides which applies.
pub(super) trait Encode {
    /// What one encoded value is (`()` when the encoder writes into a buffer).
    type Out;
    /// Where the walk is, for errors.
    fn here(&self) -> AttrPath;
    fn null(&mut self) -> Result<Self::Out, ValueError>;
    fn unknown(&mut self) -> Result<Self::Out, ValueError>;
    fn string(&mut self, s: &str) -> Result<Self::Out, ValueError>;
    fn boolean(&mut self, b: bool) -> Result<Self::Out, ValueError>;
    fn number(&mut self, n: &Number) -> Result<Self::Out, ValueError>;
    fn seq(&mut self, items: &[Value], elem: &Type, set: bool, depth: usize) -> Result<Self::Out, ValueError>;
    fn tuple(&mut self, items: &[Value], elems: &[Type], depth: usize) -> Result<Self::Out, ValueError>;
    fn map(&mut self, entries: &BTreeMap<String, Value>, elem: &Type, depth: usize) -> Result<Self::Out, ValueError>;
    fn object(
        &mut self,
        values: &BTreeMap<String, Value>,
        attrs: &BTreeMap<String, Type>,
        optional: &std::collections::BTreeSet<String>,
        depth: usize,
    ) -> Result<Self::Out, ValueError>;
    /// A value in a slot of type `dynamic`: written with its own type.
    fn dynamic(&mut self, v: &Value, depth: usize) -> Result<Self::Out, ValueError>;
}

/// Encodes `v` as type `ty`. A small dispatcher over the encoder's per-kind
/// methods (kept out of line), so deep values do not grow big stack frames.
pub(super) fn encode<E: Encode>(e: &mut E, v: &Value, ty: &Type, depth: usize) -> Result<E::Out, ValueError> {
    if depth > MAX_DEPTH {
        return Err(ValueError::TooDeep { path: e.here(), limit: MAX_DEPTH });
    }
    if *ty == Type::Dynamic {
        return e.dynamic(v, depth);
    }
    match (ty, v) {
        (_, Value::Null) => e.null(),
        (_, Value::Unknown) => e.unknown(),
        // A value decoded from a dynamic slot may be reused in a slot of its own
        // concrete type.
        (_, Value::Dynamic { ty: inner, value }) if inner == ty => encode(e, value, ty, depth + 1),
        (Type::String, Value::String(s)) => e.string(s),
        (Type::Bool, Value::Bool(b)) => e.boolean(*b),
        (Type::Number, Value::Number(n)) => e.number(n),
        (Type::List(elem), Value::List(items)) => e.seq(items, elem, false, depth),
        (Type::Set(elem), Value::Set(items)) => e.seq(items, elem, true, depth),
        (Type::Tuple(elems), Value::Tuple(items)) => e.tuple(items, elems, depth),
        (Type::Map(elem), Value::Map(entries)) => e.map(entries, elem, depth),
        (Type::Object { attrs, optional }, Value::Object(values)) => e.object(values, attrs, optional, depth),
        (ty, other) => Err(mismatch(e.here(), ty, other)),
    }
}

/// A value that does not fit its type.
pub(super) fn mismatch(path: AttrPath, ty: &Type, got: &Value) -> ValueError {
    ValueError::ValueKind {
        path,
        expected: ty.to_string(),
        got: match got {
            Value::Dynamic { ty, .. } => format!("dynamic value of type {ty}"),
            other => other.kind_name().to_owned(),
        },
    }
}
