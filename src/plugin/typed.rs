//! Typed reads of a resource's value, for models. A plan can hold "known after
//! apply", so a model field that Terraform may plan unknown is a [`Planned`]: null,
//! unknown or a known value, never a raw [`Value`]. Reads are fallible: a value of
//! another type than the model expects is an error at its attribute path (which
//! only a bug between schema and model can cause; the codec already checked the
//! schema's types). The small conversions every model needs live here once.

use std::collections::{BTreeMap, BTreeSet};

use super::{AttrPath, Value};

/// A value as a plan can hold it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Planned<T> {
    /// Not set.
    #[default]
    Null,
    /// Known after apply.
    Unknown,
    /// Known now.
    Known(T),
}

impl<T> Planned<T> {
    /// The known value.
    #[must_use]
    pub fn known(&self) -> Option<&T> {
        match self {
            Planned::Known(v) => Some(v),
            _ => None,
        }
    }

    /// Whether the plan knows it (null counts as known).
    #[must_use]
    pub fn is_known(&self) -> bool {
        !matches!(self, Planned::Unknown)
    }
}

impl<T: IntoValue> Planned<T> {
    /// The value for Terraform.
    #[must_use]
    pub fn to_value(&self) -> Value {
        match self {
            Planned::Null => Value::Null,
            Planned::Unknown => Value::Unknown,
            Planned::Known(v) => v.to_value(),
        }
    }
}

/// A model field's type: how it reads from a value.
pub trait FromValue: Sized {
    /// What Terraform calls the type, for the error.
    const TYPE: &'static str;
    /// The typed value, or `None` when `v` is of another type.
    fn from_value(v: &Value) -> Option<Self>;
}

/// A model field's type: how it is written back.
pub trait IntoValue {
    /// The value for Terraform.
    fn to_value(&self) -> Value;
}

impl FromValue for String {
    const TYPE: &'static str = "string";
    fn from_value(v: &Value) -> Option<Self> {
        v.as_str().map(str::to_owned)
    }
}

impl IntoValue for String {
    fn to_value(&self) -> Value {
        Value::String(self.clone())
    }
}

impl FromValue for bool {
    const TYPE: &'static str = "bool";
    fn from_value(v: &Value) -> Option<Self> {
        v.as_bool()
    }
}

impl IntoValue for bool {
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
}

impl FromValue for BTreeSet<String> {
    const TYPE: &'static str = "set of string";
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Set(items) | Value::List(items) => items.iter().map(|i| i.as_str().map(str::to_owned)).collect(),
            _ => None,
        }
    }
}

impl IntoValue for BTreeSet<String> {
    fn to_value(&self) -> Value {
        string_set(self.iter().cloned())
    }
}

impl FromValue for BTreeMap<String, String> {
    const TYPE: &'static str = "map of string";
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Map(m) => m.iter().map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect(),
            _ => None,
        }
    }
}

impl IntoValue for BTreeMap<String, String> {
    fn to_value(&self) -> Value {
        Value::Map(self.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
    }
}

/// A value of another type than the model expects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} holds {found}, where the provider reads a {expected}", path.reference())]
pub struct TypeMismatch {
    /// Where.
    pub path: AttrPath,
    /// What the model reads.
    pub expected: &'static str,
    /// What was there, briefly.
    pub found: String,
}

/// Attribute `name` of an object value: null when absent.
///
/// # Errors
/// When the attribute holds a value of another type.
pub fn read<T: FromValue>(object: &Value, name: &str) -> Result<Planned<T>, TypeMismatch> {
    match object.get_attr(name) {
        None | Some(Value::Null) => Ok(Planned::Null),
        Some(Value::Unknown) => Ok(Planned::Unknown),
        Some(v) => T::from_value(v).map(Planned::Known).ok_or_else(|| TypeMismatch {
            path: AttrPath::root(name),
            expected: T::TYPE,
            found: format!("{v:?}").chars().take(60).collect(),
        }),
    }
}

/// A string attribute, `None` unless known.
#[must_use]
pub fn string(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_owned)
}

/// A bool attribute, `default` unless known.
#[must_use]
pub fn boolean(v: Option<&Value>, default: bool) -> bool {
    v.and_then(Value::as_bool).unwrap_or(default)
}

/// A map of strings, `None` unless known (unknown elements are left out).
#[must_use]
pub fn string_map(v: Option<&Value>) -> Option<BTreeMap<String, String>> {
    match v? {
        Value::Map(m) => Some(m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect()),
        _ => None,
    }
}

/// The known strings of a set or list.
#[must_use]
pub fn string_items(v: &Value) -> BTreeSet<String> {
    v.elements().unwrap_or_default().iter().filter_map(Value::as_str).map(str::to_owned).collect()
}

/// `Some(s)` as a string value, `None` as null.
#[must_use]
pub fn opt_string(s: Option<&String>) -> Value {
    s.map_or(Value::Null, |s| Value::String(s.clone()))
}

/// `Some(map)` as a map value, `None` as null.
#[must_use]
pub fn map_value(m: Option<&BTreeMap<String, String>>) -> Value {
    m.map_or(Value::Null, IntoValue::to_value)
}

/// A set of strings.
#[must_use]
pub fn string_set(items: impl IntoIterator<Item = String>) -> Value {
    Value::Set(items.into_iter().map(Value::String).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    
    #[test]
    fn reads_null_unknown_known_and_refuses_another_type_at_its_path() {
        let v = Value::object([
            ("ids", string_set(["b".to_owned(), "a".to_owned()])),
            ("later", Value::Unknown),
            ("wrong", Value::Bool(true)),
        ]);
        assert_eq!(read::<BTreeSet<String>>(&v, "ids"), Ok(Planned::Known(BTreeSet::from(["a".to_owned(), "b".to_owned()]))));
        assert_eq!(read::<String>(&v, "later"), Ok(Planned::Unknown));
        assert_eq!(read::<String>(&v, "absent"), Ok(Planned::Null));
        let err = read::<String>(&v, "wrong").expect_err("a bool is not a string");
        assert_eq!(err.path, AttrPath::root("wrong"));
        assert!(err.to_string().starts_with("wrong holds"), "{err}");
    }

    #[test]
    fn planned_values_go_back_as_they_came() {
        let ids: Planned<BTreeSet<String>> = Planned::Known(BTreeSet::from(["1".to_owned()]));
        assert_eq!(ids.to_value(), string_set(["1".to_owned()]));
        assert_eq!(Planned::<String>::Unknown.to_value(), Value::Unknown);
        assert_eq!(Planned::<String>::Null.to_value(), Value::Null);
        assert!(Planned::<String>::Null.is_known() && !Planned::<String>::Unknown.is_known());
    }
}
