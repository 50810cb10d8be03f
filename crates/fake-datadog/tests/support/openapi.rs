//! A small validator for the subset of OpenAPI 3.0 / JSON Schema that the
//! Datadog spec excerpts use: `$ref`, `type`, `properties`, `required`,
//! `items`, `oneOf`, `enum`, `nullable`, `format` (uuid, date-time),
//! `additionalProperties`, `minLength`/`maxLength`, `readOnly`/`writeOnly`.
//!
//! Any other keyword makes validation fail, so a newer spec using more of
//! JSON Schema is noticed instead of being half-checked.

use std::path::Path;

use serde_json::{Map, Value};

const CHECKED: &[&str] = &[
    "$ref",
    "type",
    "properties",
    "required",
    "items",
    "oneOf",
    "enum",
    "nullable",
    "format",
    "additionalProperties",
    "minLength",
    "maxLength",
    "readOnly",
    "writeOnly",
];
const ANNOTATIONS: &[&str] = &["description", "example", "examples", "default", "title"];

/// Which side of the wire an instance is on: responses must not carry
/// `writeOnly` properties (secrets), requests must not carry `readOnly` ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Request,
    Response,
}

#[derive(Debug)]
pub(crate) struct Spec {
    root: Value,
}

impl Spec {
    /// Loads a YAML spec; `Ok(None)` when the file does not exist.
    pub(crate) fn load(path: &Path) -> Result<Option<Self>, String> {
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let root: Value =
            serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Some(Self { root }))
    }

    fn resolve<'a>(&'a self, v: &'a Value) -> Result<&'a Value, String> {
        match v.get("$ref").and_then(Value::as_str) {
            None => Ok(v),
            Some(r) => {
                let pointer = r
                    .strip_prefix('#')
                    .ok_or_else(|| format!("only local $ref supported: {r}"))?;
                let target = self
                    .root
                    .pointer(pointer)
                    .ok_or_else(|| format!("dangling $ref {r}"))?;
                self.resolve(target)
            }
        }
    }

    /// `components/schemas/<name>`.
    pub(crate) fn schema(&self, name: &str) -> Result<&Value, String> {
        self.root
            .pointer(&format!("/components/schemas/{name}"))
            .ok_or_else(|| format!("no schema {name}"))
    }

    fn operation(&self, path: &str, method: &str) -> Result<&Value, String> {
        self.root
            .get("paths")
            .and_then(|p| p.get(path))
            .and_then(|p| p.get(method.to_ascii_lowercase()))
            .ok_or_else(|| format!("spec has no {method} {path}"))
    }

    /// The documented status codes of an operation.
    pub(crate) fn statuses(&self, path: &str, method: &str) -> Result<Vec<String>, String> {
        let op = self.operation(path, method)?;
        Ok(op
            .get("responses")
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default())
    }

    /// The JSON schema of a documented response; `Ok(None)` when the spec
    /// documents that status with no body (e.g. 204).
    pub(crate) fn response_schema(
        &self,
        path: &str,
        method: &str,
        status: u16,
    ) -> Result<Option<&Value>, String> {
        let op = self.operation(path, method)?;
        let resp = op
            .pointer(&format!("/responses/{status}"))
            .ok_or_else(|| format!("spec does not document {status} for {method} {path}"))?;
        let resp = self.resolve(resp)?;
        Ok(resp.pointer("/content/application~1json/schema"))
    }

    /// The JSON schema of an operation's request body.
    pub(crate) fn request_schema(&self, path: &str, method: &str) -> Result<&Value, String> {
        let op = self.operation(path, method)?;
        op.pointer("/requestBody/content/application~1json/schema")
            .ok_or_else(|| format!("{method} {path} has no JSON request body"))
    }

    /// Every violation of `schema` by `instance`, with JSON paths.
    pub(crate) fn validate(&self, schema: &Value, instance: &Value, dir: Direction) -> Vec<String> {
        let mut errs = Vec::new();
        self.check(schema, instance, "$", dir, &mut errs);
        errs
    }

    fn check(&self, schema: &Value, v: &Value, at: &str, dir: Direction, errs: &mut Vec<String>) {
        let Some(s) = schema.as_object() else {
            // `additionalProperties: {}` style empty schemas are objects;
            // `true`/`false` schemas are handled by the caller.
            errs.push(format!("{at}: schema is not an object: {schema}"));
            return;
        };
        for k in s.keys() {
            if !CHECKED.contains(&k.as_str())
                && !ANNOTATIONS.contains(&k.as_str())
                && !k.starts_with("x-")
            {
                errs.push(format!("{at}: validator does not support keyword `{k}`"));
            }
        }
        if s.contains_key("$ref") {
            // OpenAPI 3.0: siblings of $ref are ignored.
            match self.resolve(schema) {
                Ok(target) => self.check(target, v, at, dir, errs),
                Err(e) => errs.push(format!("{at}: {e}")),
            }
            return;
        }
        if v.is_null() {
            let nullable = s.get("nullable").and_then(Value::as_bool) == Some(true);
            if !nullable && (s.contains_key("type") || s.contains_key("oneOf")) {
                errs.push(format!("{at}: null is not allowed"));
            }
            return;
        }
        if let Some(variants) = s.get("oneOf").and_then(Value::as_array) {
            let passing = variants
                .iter()
                .filter(|variant| {
                    let mut e = Vec::new();
                    self.check(variant, v, at, dir, &mut e);
                    e.is_empty()
                })
                .count();
            if passing != 1 {
                errs.push(format!(
                    "{at}: matches {passing} of {} oneOf variants (need exactly 1): {v}",
                    variants.len()
                ));
            }
        }
        if let Some(t) = s.get("type").and_then(Value::as_str) {
            let ok = match t {
                "object" => v.is_object(),
                "array" => v.is_array(),
                "string" => v.is_string(),
                "boolean" => v.is_boolean(),
                "integer" => v.is_i64() || v.is_u64(),
                "number" => v.is_number(),
                other => {
                    errs.push(format!("{at}: unknown type `{other}`"));
                    true
                }
            };
            if !ok {
                errs.push(format!("{at}: expected {t}, got {v}"));
                return;
            }
        }
        if let Some(allowed) = s.get("enum").and_then(Value::as_array) {
            if !allowed.contains(v) {
                errs.push(format!("{at}: {v} is not one of {allowed:?}"));
            }
        }
        if let Some(text) = v.as_str() {
            check_string(s, text, at, errs);
        }
        if let Some(obj) = v.as_object() {
            self.check_object(s, obj, at, dir, errs);
        }
        if let (Some(items), Some(arr)) = (s.get("items"), v.as_array()) {
            for (i, item) in arr.iter().enumerate() {
                self.check(items, item, &format!("{at}[{i}]"), dir, errs);
            }
        }
    }

    fn check_object(
        &self,
        s: &Map<String, Value>,
        obj: &Map<String, Value>,
        at: &str,
        dir: Direction,
        errs: &mut Vec<String>,
    ) {
        let empty = Map::new();
        let props = s
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        if let Some(req) = s.get("required").and_then(Value::as_array) {
            for name in req.iter().filter_map(Value::as_str) {
                if !obj.contains_key(name) {
                    errs.push(format!("{at}: missing required property `{name}`"));
                }
            }
        }
        for (k, val) in obj {
            let here = format!("{at}.{k}");
            if let Some(p) = props.get(k) {
                let flag = |name: &str| {
                    self.resolve(p)
                        .ok()
                        .and_then(|p| p.get(name))
                        .and_then(Value::as_bool)
                        == Some(true)
                };
                if dir == Direction::Response && flag("writeOnly") {
                    errs.push(format!("{here}: writeOnly property present in a response"));
                }
                if dir == Direction::Request && flag("readOnly") {
                    errs.push(format!("{here}: readOnly property present in a request"));
                }
                self.check(p, val, &here, dir, errs);
                continue;
            }
            match s.get("additionalProperties") {
                // OpenAPI 3.0 default: extra properties are allowed.
                None | Some(Value::Bool(true)) => {}
                Some(Value::Bool(false)) => errs.push(format!("{here}: unexpected property")),
                Some(extra) => self.check(extra, val, &here, dir, errs),
            }
        }
    }
}

fn check_string(s: &Map<String, Value>, text: &str, at: &str, errs: &mut Vec<String>) {
    let len = text.chars().count() as u64;
    if let Some(min) = s.get("minLength").and_then(Value::as_u64) {
        if len < min {
            errs.push(format!("{at}: shorter than {min}"));
        }
    }
    if let Some(max) = s.get("maxLength").and_then(Value::as_u64) {
        if len > max {
            errs.push(format!("{at}: longer than {max}"));
        }
    }
    match s.get("format").and_then(Value::as_str) {
        None => {}
        Some("uuid") if !is_uuid(text) => errs.push(format!("{at}: not a uuid: {text:?}")),
        Some("date-time") if !is_date_time(text) => {
            errs.push(format!("{at}: not an RFC 3339 date-time: {text:?}"))
        }
        Some("uuid" | "date-time") => {}
        Some(other) => errs.push(format!("{at}: validator does not support format `{other}`")),
    }
}

/// `8-4-4-4-12` hex digits.
pub(crate) fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// RFC 3339 `date-time`: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
pub(crate) fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let fixed = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !fixed {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    match rest.as_bytes() {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit()),
        _ => false,
    }
}
