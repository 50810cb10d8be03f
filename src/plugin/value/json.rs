//! The JSON encoding of values, as go-cty (`cty/json`) reads and writes it:
//! the fallback form of `DynamicValue.json` and the form of
//! `UpgradeResourceState`'s `RawState.json`.
//!
//! Same shapes as msgpack, with `{"value":…,"type":…}` for dynamic slots,
//! exact numbers (serde_json's `arbitrary_precision` keeps the digits), and
//! no way to write an unknown value. Like cty, absent object attributes read
//! as null and primitives are converted the way cty converts them (a JSON
//! string holding a number is a number, a number or bool is a string, the
//! strings "true"/"false" are bools). Depth is bounded by serde_json's
//! recursion limit (128) and by [`MAX_DEPTH`].

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use serde_json::Value as Json;

use super::walk;
use super::{AttrPath, Number, PathStep, Type, Value, ValueError, MAX_DEPTH};

impl Value {
    /// Decodes `DynamicValue.json` against `ty`, strictly: an object key that
    /// is not an attribute of the type is an error. Absent attributes read as
    /// null (as in cty).
    pub fn decode_json(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
        decode(bytes, ty, false)
    }

    /// Decodes `RawState.json` against the *current* schema type: object
    /// keys the type does not know (attributes removed from the schema since
    /// the state was written) are dropped, at every depth, instead of being
    /// errors; absent attributes read as null. Everything else is as strict
    /// as [`Value::decode_json`].
    pub fn decode_json_lenient(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
        decode(bytes, ty, true)
    }

    /// Encodes as JSON against `ty` (same fit rules as
    /// [`Value::encode_msgpack`]). Fails on any unknown value, because JSON
    /// has no representation for one; see [`Value::unknown_to_null`].
    pub fn encode_json(&self, ty: &Type) -> Result<Vec<u8>, ValueError> {
        let mut enc = Encoder { path: Vec::new() };
        let json = enc.value(self, ty, 0)?;
        // Display of a serde_json value is compact JSON and cannot fail.
        Ok(json.to_string().into_bytes())
    }
}

fn decode(bytes: &[u8], ty: &Type, lenient: bool) -> Result<Value, ValueError> {
    let json: Json = serde_json::from_slice(bytes).map_err(|e| ValueError::MalformedJson {
        path: AttrPath::empty(),
        reason: e.to_string(),
    })?;
    let mut dec = Decoder {
        path: Vec::new(),
        lenient,
    };
    dec.value(&json, ty, 0)
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

struct Decoder {
    path: Vec<PathStep>,
    lenient: bool,
}

impl Decoder {
    fn here(&self) -> AttrPath {
        AttrPath(self.path.clone())
    }

    fn kind_error(&self, expected: impl ToString, got: &Json) -> ValueError {
        ValueError::JsonKind {
            path: self.here(),
            expected: expected.to_string(),
            got: json_kind(got),
        }
    }

    fn malformed(&self, reason: impl Into<String>) -> ValueError {
        ValueError::MalformedJson {
            path: self.here(),
            reason: reason.into(),
        }
    }

    /// Decodes one JSON value as `ty`. A small dispatcher over per-kind
    /// helpers so the recursive frame stays small in debug builds.
    fn value(&mut self, json: &Json, ty: &Type, depth: usize) -> Result<Value, ValueError> {
        if depth > MAX_DEPTH {
            return Err(ValueError::TooDeep {
                path: self.here(),
                limit: MAX_DEPTH,
            });
        }
        if json.is_null() {
            return Ok(Value::Null);
        }
        match ty {
            Type::Dynamic => self.dynamic(json, depth),
            Type::String | Type::Number | Type::Bool => self.primitive(json, ty),
            Type::List(elem) => self.seq(json, ty, elem, depth).map(Value::List),
            Type::Set(elem) => self.seq(json, ty, elem, depth).map(Value::Set),
            Type::Tuple(elems) => self.tuple(json, ty, elems, depth),
            Type::Map(elem) => self.map(json, ty, elem, depth),
            Type::Object { attrs, .. } => self.object(json, ty, attrs, depth),
        }
    }

    #[inline(never)]
    fn primitive(&self, json: &Json, ty: &Type) -> Result<Value, ValueError> {
        match (ty, json) {
            (Type::String, Json::String(s)) => Ok(Value::String(s.clone())),
            // cty keeps the number's text as written.
            (Type::String, Json::Number(n)) => Ok(Value::String(n.as_str().to_owned())),
            (Type::String, Json::Bool(b)) => Ok(Value::String(b.to_string())),
            (Type::Number, Json::Number(n)) => self.number(n.as_str()),
            (Type::Number, Json::String(s)) => self.number(s),
            (Type::Bool, Json::Bool(b)) => Ok(Value::Bool(*b)),
            (Type::Bool, Json::String(s)) if s == "true" => Ok(Value::Bool(true)),
            (Type::Bool, Json::String(s)) if s == "false" => Ok(Value::Bool(false)),
            (ty, other) => Err(self.kind_error(ty, other)),
        }
    }

    /// Elements of a list or set (`ty` says which).
    #[inline(never)]
    fn seq(
        &mut self,
        json: &Json,
        ty: &Type,
        elem: &Type,
        depth: usize,
    ) -> Result<Vec<Value>, ValueError> {
        let Json::Array(items) = json else {
            return Err(self.kind_error(ty, json));
        };
        let set = matches!(ty, Type::Set(_));
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            self.path.push(if set {
                PathStep::SetElement(i)
            } else {
                PathStep::Index(i)
            });
            out.push(self.value(item, elem, depth + 1)?);
            self.path.pop();
        }
        Ok(out)
    }

    #[inline(never)]
    fn tuple(
        &mut self,
        json: &Json,
        ty: &Type,
        elems: &[Type],
        depth: usize,
    ) -> Result<Value, ValueError> {
        let Json::Array(items) = json else {
            return Err(self.kind_error(ty, json));
        };
        if items.len() != elems.len() {
            return Err(ValueError::TupleLength {
                path: self.here(),
                expected: elems.len(),
                got: items.len(),
            });
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, (item, elem)) in items.iter().zip(elems).enumerate() {
            self.path.push(PathStep::Index(i));
            out.push(self.value(item, elem, depth + 1)?);
            self.path.pop();
        }
        Ok(Value::Tuple(out))
    }

    #[inline(never)]
    fn map(&mut self, json: &Json, ty: &Type, elem: &Type, depth: usize) -> Result<Value, ValueError> {
        let Json::Object(entries) = json else {
            return Err(self.kind_error(ty, json));
        };
        let mut out = BTreeMap::new();
        for (k, item) in entries {
            self.path.push(PathStep::Key(k.clone()));
            out.insert(k.clone(), self.value(item, elem, depth + 1)?);
            self.path.pop();
        }
        Ok(Value::Map(out))
    }

    #[inline(never)]
    fn object(
        &mut self,
        json: &Json,
        ty: &Type,
        attrs: &BTreeMap<String, Type>,
        depth: usize,
    ) -> Result<Value, ValueError> {
        let Json::Object(entries) = json else {
            return Err(self.kind_error(ty, json));
        };
        let mut out = BTreeMap::new();
        for (k, item) in entries {
            let Some(attr_ty) = attrs.get(k) else {
                if self.lenient {
                    // An attribute the current schema dropped.
                    continue;
                }
                return Err(ValueError::UnsupportedAttribute {
                    path: self.here(),
                    name: k.clone(),
                });
            };
            self.path.push(PathStep::Attr(k.clone()));
            out.insert(k.clone(), self.value(item, attr_ty, depth + 1)?);
            self.path.pop();
        }
        for name in attrs.keys() {
            if !out.contains_key(name) {
                out.insert(name.clone(), Value::Null);
            }
        }
        Ok(Value::Object(out))
    }

    fn number(&self, text: &str) -> Result<Value, ValueError> {
        Number::parse(text)
            .map(Value::Number)
            .map_err(|e| e.under(&self.path))
    }

    /// `{"type": T, "value": V}`, both required, nothing else (cty's
    /// `unmarshalDynamic`). JSON null was handled by the caller.
    #[inline(never)]
    fn dynamic(&mut self, json: &Json, depth: usize) -> Result<Value, ValueError> {
        let (ty, value_json) = self.dynamic_header(json)?;
        let value = self.value(value_json, &ty, depth + 1)?;
        Ok(match value {
            Value::Null | Value::Unknown => value,
            known => Value::Dynamic {
                ty,
                value: Box::new(known),
            },
        })
    }

    /// Checks the wrapper and parses the type; kept out of the recursive
    /// frame.
    #[inline(never)]
    fn dynamic_header<'j>(&self, json: &'j Json) -> Result<(Type, &'j Json), ValueError> {
        let Json::Object(entries) = json else {
            return Err(self.kind_error(
                r#"a {"type":…,"value":…} object for a dynamic value"#,
                json,
            ));
        };
        if let Some(extra) = entries.keys().find(|k| *k != "type" && *k != "value") {
            return Err(self.malformed(format!(
                "invalid key {extra:?} in dynamically-typed value"
            )));
        }
        let (Some(type_json), Some(value_json)) = (entries.get("type"), entries.get("value"))
        else {
            return Err(
                self.malformed("a dynamically-typed value needs both \"type\" and \"value\"")
            );
        };
        let ty = Type::from_json(type_json).map_err(|e| e.under(&self.path))?;
        Ok((ty, value_json))
    }
}

struct Encoder {
    path: Vec<PathStep>,
}

impl Encoder {
    fn here(&self) -> AttrPath {
        AttrPath(self.path.clone())
    }

    /// Encodes `v` as `ty` (the walk is shared with msgpack: [`walk::encode`]).
    fn value(&mut self, v: &Value, ty: &Type, depth: usize) -> Result<Json, ValueError> {
        walk::encode(self, v, ty, depth)
    }

    #[inline(never)]
    fn number(&self, n: &Number) -> Result<Json, ValueError> {
        serde_json::Number::from_str(n.as_str())
            .map(Json::Number)
            .map_err(|e| ValueError::Unencodable {
                path: self.here(),
                reason: format!("number {n} is not valid JSON: {e}"),
            })
    }

    #[inline(never)]
    fn seq(&mut self, items: &[Value], elem: &Type, set: bool, depth: usize) -> Result<Json, ValueError> {
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            self.path.push(if set {
                PathStep::SetElement(i)
            } else {
                PathStep::Index(i)
            });
            out.push(self.value(item, elem, depth + 1)?);
            self.path.pop();
        }
        Ok(Json::Array(out))
    }

    #[inline(never)]
    fn tuple(&mut self, items: &[Value], elems: &[Type], depth: usize) -> Result<Json, ValueError> {
        if elems.len() != items.len() {
            return Err(ValueError::TupleLength {
                path: self.here(),
                expected: elems.len(),
                got: items.len(),
            });
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, (item, elem)) in items.iter().zip(elems).enumerate() {
            self.path.push(PathStep::Index(i));
            out.push(self.value(item, elem, depth + 1)?);
            self.path.pop();
        }
        Ok(Json::Array(out))
    }

    #[inline(never)]
    fn map(
        &mut self,
        entries: &BTreeMap<String, Value>,
        elem: &Type,
        depth: usize,
    ) -> Result<Json, ValueError> {
        let mut out = serde_json::Map::new();
        for (k, item) in entries {
            self.path.push(PathStep::Key(k.clone()));
            out.insert(k.clone(), self.value(item, elem, depth + 1)?);
            self.path.pop();
        }
        Ok(Json::Object(out))
    }

    #[inline(never)]
    fn object(
        &mut self,
        values: &BTreeMap<String, Value>,
        attrs: &BTreeMap<String, Type>,
        optional: &BTreeSet<String>,
        depth: usize,
    ) -> Result<Json, ValueError> {
        if let Some(extra) = values.keys().find(|k| !attrs.contains_key(*k)) {
            return Err(ValueError::UnsupportedAttribute {
                path: self.here(),
                name: extra.clone(),
            });
        }
        let mut out = serde_json::Map::new();
        for (name, attr_ty) in attrs {
            let item = match values.get(name) {
                Some(item) => item,
                None if optional.contains(name) => &Value::Null,
                None => {
                    return Err(ValueError::MissingAttribute {
                        path: self.here(),
                        name: name.clone(),
                    })
                }
            };
            self.path.push(PathStep::Attr(name.clone()));
            out.insert(name.clone(), self.value(item, attr_ty, depth + 1)?);
            self.path.pop();
        }
        Ok(Json::Object(out))
    }

    /// `{"value":…,"type":…}` (cty's key order); null stays bare `null`.
    #[inline(never)]
    fn dynamic(&mut self, v: &Value, depth: usize) -> Result<Json, ValueError> {
        match self.dynamic_header(v, depth)? {
            Ok((ty, value)) => {
                let inner = self.value(&value, &ty, depth + 1)?;
                Ok(wrap_dynamic(inner, &ty))
            }
            Err(bare) => Ok(bare),
        }
    }

    /// The type and value to wrap, or (as `Err`) the bare JSON to write
    /// instead. Kept out of the recursive frame.
    #[inline(never)]
    fn dynamic_header<'v>(
        &mut self,
        v: &'v Value,
        depth: usize,
    ) -> Result<Result<(Type, Cow<'v, Value>), Json>, ValueError> {
        Ok(Ok(match v {
            Value::Dynamic { ty, value } if value.is_known() && !value.is_null() => {
                (ty.clone(), Cow::Borrowed(&**value))
            }
            other if other.is_null() => return Ok(Err(Json::Null)),
            other if other.is_unknown() => {
                return Err(ValueError::UnknownInJson { path: self.here() })
            }
            other => {
                let (ty, reshaped) = other.infer(&mut self.path, depth)?;
                (ty, Cow::Owned(reshaped))
            }
        }))
    }
}

impl walk::Encode for Encoder {
    type Out = Json;
    fn here(&self) -> AttrPath {
        Encoder::here(self)
    }
    fn null(&mut self) -> Result<Json, ValueError> {
        Ok(Json::Null)
    }
    fn unknown(&mut self) -> Result<Json, ValueError> {
        Err(ValueError::UnknownInJson { path: self.here() })
    }
    fn string(&mut self, s: &str) -> Result<Json, ValueError> {
        Ok(Json::String(s.to_owned()))
    }
    fn boolean(&mut self, b: bool) -> Result<Json, ValueError> {
        Ok(Json::Bool(b))
    }
    fn number(&mut self, n: &Number) -> Result<Json, ValueError> {
        Encoder::number(self, n)
    }
    fn seq(&mut self, items: &[Value], elem: &Type, set: bool, depth: usize) -> Result<Json, ValueError> {
        Encoder::seq(self, items, elem, set, depth)
    }
    fn tuple(&mut self, items: &[Value], elems: &[Type], depth: usize) -> Result<Json, ValueError> {
        Encoder::tuple(self, items, elems, depth)
    }
    fn map(&mut self, entries: &BTreeMap<String, Value>, elem: &Type, depth: usize) -> Result<Json, ValueError> {
        Encoder::map(self, entries, elem, depth)
    }
    fn object(&mut self, values: &BTreeMap<String, Value>, attrs: &BTreeMap<String, Type>, optional: &BTreeSet<String>, depth: usize) -> Result<Json, ValueError> {
        Encoder::object(self, values, attrs, optional, depth)
    }
    fn dynamic(&mut self, v: &Value, depth: usize) -> Result<Json, ValueError> {
        Encoder::dynamic(self, v, depth)
    }
}

#[inline(never)]
fn wrap_dynamic(inner: Json, ty: &Type) -> Json {
    let mut out = serde_json::Map::new();
    out.insert("value".to_owned(), inner);
    out.insert("type".to_owned(), ty.to_json());
    Json::Object(out)
}

#[cfg(test)]
mod tests {
    use super::super::tests::arb_typed_value;
    use super::super::ty::tests::arb_type;
    use super::*;
    use proptest::prelude::*;

    fn num(s: &str) -> Value {
        Value::Number(Number::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")))
    }

    fn obj_type() -> Type {
        Type::object([("id", Type::String), ("port", Type::Number)])
    }

    fn text(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }

    /// (name, type, value, exact JSON): encoding gives the text and decoding
    /// the text gives back the value.
    #[test]
    fn golden_json_encode_and_decode() {
        let cases: Vec<(&str, Type, Value, &str)> = vec![
            ("null", Type::String, Value::Null, "null"),
            ("string", Type::String, "a\"b".into(), r#""a\"b""#),
            ("int", Type::Number, num("42"), "42"),
            ("big integer exact", Type::Number, num("123456789012345678901234567890"), "123456789012345678901234567890"),
            ("decimal exact", Type::Number, num("0.1"), "0.1"),
            // serde_json spells exponents with an explicit sign.
            ("huge exponent", Type::Number, num("1e400"), "1e+400"),
            ("bool", Type::Bool, false.into(), "false"),
            (
                "object sorted, nulls kept",
                obj_type(),
                Value::object([("port", num("443")), ("id", Value::Null)]),
                r#"{"id":null,"port":443}"#,
            ),
            ("set", Type::set(Type::String), Value::set(["b".into(), "a".into()]), r#"["b","a"]"#),
            ("tuple", Type::tuple([Type::Bool, Type::Number]), Value::tuple([true.into(), num("1.5")]), "[true,1.5]"),
            ("map", Type::map(Type::Number), Value::map([("k", num("-1"))]), r#"{"k":-1}"#),
            (
                "dynamic",
                Type::Dynamic,
                Value::Dynamic { ty: Type::list(Type::String), value: Box::new(Value::list(["x".into()])) },
                r#"{"value":["x"],"type":["list","string"]}"#,
            ),
            ("null dynamic", Type::Dynamic, Value::Null, "null"),
        ];
        for (name, ty, value, want) in cases {
            let got = value.encode_json(&ty).unwrap_or_else(|e| panic!("case {name}: {e}"));
            assert_eq!(text(&got), want, "case {name}: encode");
            let back = Value::decode_json(want.as_bytes(), &ty).unwrap_or_else(|e| panic!("case {name}: {e}"));
            assert_eq!(back, value, "case {name}: decode");
        }
    }

    #[test]
    fn decode_converts_primitives_like_cty() {
        let cases: Vec<(&str, Type, &str, Value)> = vec![
            ("number from string", Type::Number, r#""12.50""#, num("12.5")),
            ("number with exponent", Type::Number, "1E+2", num("100")),
            ("string from number keeps text", Type::String, "1.50", "1.50".into()),
            ("string from bool", Type::String, "true", "true".into()),
            ("bool from string", Type::Bool, r#""false""#, false.into()),
            (
                "absent attribute is null",
                obj_type(),
                r#"{"id":"x"}"#,
                Value::object([("id", "x".into()), ("port", Value::Null)]),
            ),
            (
                "dynamic keys in any order",
                Type::Dynamic,
                r#"{"type":"number","value":7}"#,
                Value::Dynamic { ty: Type::Number, value: Box::new(num("7")) },
            ),
            ("dynamic with null value", Type::Dynamic, r#"{"type":"number","value":null}"#, Value::Null),
        ];
        for (name, ty, input, want) in cases {
            let got = Value::decode_json(input.as_bytes(), &ty).unwrap_or_else(|e| panic!("case {name}: {e}"));
            assert_eq!(got, want, "case {name}");
        }
    }

    #[test]
    fn decode_rejects_bad_input_with_located_messages() {
        let cases: Vec<(&str, Type, &str, &str)> = vec![
            ("not json", Type::String, "{", "at (root): malformed JSON: EOF while parsing an object at line 1 column 1"),
            ("number for bool", Type::list(Type::Bool), "[1]", "at [0]: expected bool, got JSON number"),
            ("unsupported attribute", obj_type(), r#"{"id":"x","old":1}"#, "at (root): unsupported attribute \"old\""),
            (
                "nested path",
                Type::object([("foo", Type::list(Type::map(Type::String)))]),
                r#"{"foo":[{},{},{"k":[]}]}"#,
                "at .foo[2][\"k\"]: expected string, got JSON array",
            ),
            ("tuple arity", Type::tuple([Type::String]), "[]", "at (root): a tuple of 1 elements is required, got 0"),
            ("bad number string", Type::Number, r#""abc""#, "at (root): invalid number \"abc\": no digits"),
            ("dynamic without type", Type::Dynamic, r#"{"value":1}"#, "at (root): malformed JSON: a dynamically-typed value needs both \"type\" and \"value\""),
            ("dynamic with extra key", Type::Dynamic, r#"{"value":1,"type":"number","x":1}"#, "at (root): malformed JSON: invalid key \"x\" in dynamically-typed value"),
            ("dynamic bad type", Type::Dynamic, r#"{"value":1,"type":"int"}"#, "at (root): invalid type: invalid primitive type name \"int\""),
            ("dynamic bare value", Type::Dynamic, "1", "at (root): expected a {\"type\":…,\"value\":…} object for a dynamic value, got JSON number"),
            ("trailing garbage", Type::Bool, "true x", "at (root): malformed JSON: trailing characters at line 1 column 6"),
        ];
        for (name, ty, input, want) in cases {
            let err = Value::decode_json(input.as_bytes(), &ty).err().unwrap_or_else(|| panic!("case {name}: decoded"));
            assert_eq!(err.to_string(), want, "case {name}");
        }
    }

    #[test]
    fn lenient_decode_drops_removed_attributes_at_every_depth() {
        let ty = Type::object([
            ("id", Type::String),
            ("rules", Type::list(Type::object([("port", Type::Number)]))),
            ("added", Type::Bool),
        ]);
        let raw = br#"{"id":"x","legacy":"gone","rules":[{"port":1,"proto":"tcp"}]}"#;
        let got = Value::decode_json_lenient(raw, &ty).expect("lenient decode");
        assert_eq!(
            got,
            Value::object([
                ("id", "x".into()),
                ("rules", Value::list([Value::object([("port", num("1"))])])),
                ("added", Value::Null),
            ])
        );
        assert!(matches!(
            Value::decode_json(raw, &ty),
            Err(ValueError::UnsupportedAttribute { .. })
        ));
        // Lenient is not lax about kinds.
        assert!(Value::decode_json_lenient(br#"{"id":1.5,"rules":{}}"#, &ty).is_err());
    }

    #[test]
    fn encode_refuses_unknown_values() {
        let ty = Type::object([("a", Type::list(Type::String))]);
        let v = Value::object([("a", Value::list(["x".into(), Value::Unknown]))]);
        let err = v.encode_json(&ty).err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("at .a[1]: an unknown value cannot be encoded as JSON"));
        assert!(Value::Unknown.encode_json(&Type::Dynamic).is_err());
    }

    #[test]
    fn deep_json_is_an_error_not_a_crash() {
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        let mut ty = Type::Bool;
        for _ in 0..300 {
            ty = Type::list(ty);
        }
        assert!(Value::decode_json(deep.as_bytes(), &ty).is_err());
        assert!(Value::decode_json(deep.as_bytes(), &Type::Dynamic).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn json_round_trips_any_known_typed_value((ty, value) in arb_typed_value(false)) {
            let bytes = value.encode_json(&ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let back = Value::decode_json(&bytes, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&back, &value);
            let lenient = Value::decode_json_lenient(&bytes, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(lenient, value);
        }

        #[test]
        fn json_decode_never_panics_on_arbitrary_bytes(
            bytes in proptest::collection::vec(any::<u8>(), 0..64),
            ty in arb_type(),
        ) {
            let _ = Value::decode_json(&bytes, &ty);
            let _ = Value::decode_json_lenient(&bytes, &ty);
        }

        #[test]
        fn json_decode_never_panics_on_corrupted_encodings(
            (ty, value) in arb_typed_value(false),
            flips in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 1..4),
        ) {
            let Ok(mut bytes) = value.encode_json(&ty) else { return Ok(()) };
            for (at, byte) in flips {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
            let _ = Value::decode_json(&bytes, &ty);
        }

        #[test]
        fn json_decode_of_arbitrary_json_text_never_panics(
            text in r#"[\[\]{}",:0-9a-z.eE+\- ]{0,48}"#,
            ty in arb_type(),
        ) {
            let _ = Value::decode_json(text.as_bytes(), &ty);
        }
    }
}
