//! The msgpack encoding of values, as go-cty (`cty/msgpack`) reads and
//! writes it: the form Terraform sends in `DynamicValue.msgpack` and the
//! form providers must answer with.
//!
//! Reading is lenient where cty is (strings and dynamic type JSON may be
//! `str` or `bin`; numbers may be any int, a float or a decimal string;
//! *every* extension type is an unknown value) and strict where being
//! lenient would hide bugs (objects must carry exactly the type's
//! attributes, duplicate keys and trailing bytes are errors). Input is
//! untrusted: nothing here panics, preallocation is bounded by the bytes
//! actually left, and nesting is bounded by [`MAX_DEPTH`].
//!
//! Writing follows cty's choices so Terraform sees what it would produce
//! itself: compact ints, float64 only for non-integers a double holds
//! exactly, decimal strings otherwise, unknown as `d4 00 00`, dynamic as
//! `[type JSON as bin, value]`, object attributes sorted by name.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use rmp::Marker;

use super::walk;
use super::{AttrPath, Number, PathStep, Type, Value, ValueError, MAX_DEPTH};

/// go-cty's unrefined unknown: fixext1, extension type 0, one zero byte.
const UNKNOWN_BYTES: [u8; 3] = [0xd4, 0x00, 0x00];

/// Extension type whose payload is a refinement map (cty `unknownWithRefinementsExt`).
const REFINED_UNKNOWN_EXT: i8 = 12;

impl Value {
    /// Decodes msgpack bytes holding a value of type `ty` (for a resource,
    /// the schema block's implied object type).
    ///
    /// Unknown values (any msgpack extension) become [`Value::Unknown`],
    /// refinements dropped. Values in `dynamic` slots become
    /// [`Value::Dynamic`] unless null or unknown. The whole input must be
    /// one value.
    pub fn decode_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
        let mut dec = Decoder {
            input: bytes,
            pos: 0,
            path: Vec::new(),
        };
        let value = dec.value(ty, 0)?;
        if dec.pos != bytes.len() {
            return Err(dec.malformed(format!(
                "{} unexpected bytes after the value",
                bytes.len() - dec.pos
            )));
        }
        Ok(value)
    }

    /// Encodes this value as msgpack against type `ty`.
    ///
    /// The value must fit the type: objects need every non-optional
    /// attribute (absent optional ones are written as null) and no others;
    /// tuples need the type's arity. A value that is not a
    /// [`Value::Dynamic`] placed in a `dynamic` slot gets its type inferred
    /// (see [`Value::infer_type`]). Null and unknown are written as nil and
    /// `d4 00 00` in every slot, dynamic ones included.
    pub fn encode_msgpack(&self, ty: &Type) -> Result<Vec<u8>, ValueError> {
        let mut enc = Encoder {
            out: Vec::new(),
            path: Vec::new(),
        };
        enc.value(self, ty, 0)?;
        Ok(enc.out)
    }
}

/// A msgpack item's kind, for "got msgpack X" messages.
fn marker_name(m: Marker) -> &'static str {
    match m {
        Marker::Null => "nil",
        Marker::True | Marker::False => "bool",
        Marker::FixPos(_)
        | Marker::FixNeg(_)
        | Marker::U8
        | Marker::U16
        | Marker::U32
        | Marker::U64
        | Marker::I8
        | Marker::I16
        | Marker::I32
        | Marker::I64 => "int",
        Marker::F32 => "float32",
        Marker::F64 => "float64",
        Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => "str",
        Marker::Bin8 | Marker::Bin16 | Marker::Bin32 => "bin",
        Marker::FixArray(_) | Marker::Array16 | Marker::Array32 => "array",
        Marker::FixMap(_) | Marker::Map16 | Marker::Map32 => "map",
        Marker::FixExt1
        | Marker::FixExt2
        | Marker::FixExt4
        | Marker::FixExt8
        | Marker::FixExt16
        | Marker::Ext8
        | Marker::Ext16
        | Marker::Ext32 => "ext",
        Marker::Reserved => "reserved byte 0xc1",
    }
}

fn is_ext(m: Marker) -> bool {
    matches!(
        m,
        Marker::FixExt1
            | Marker::FixExt2
            | Marker::FixExt4
            | Marker::FixExt8
            | Marker::FixExt16
            | Marker::Ext8
            | Marker::Ext16
            | Marker::Ext32
    )
}

/// A cursor over untrusted input that tracks the path for error messages.
struct Decoder<'a> {
    input: &'a [u8],
    pos: usize,
    path: Vec<PathStep>,
}

impl<'a> Decoder<'a> {
    fn here(&self) -> AttrPath {
        AttrPath(self.path.clone())
    }

    fn malformed(&self, reason: impl Into<String>) -> ValueError {
        ValueError::MalformedMsgpack {
            path: self.here(),
            reason: reason.into(),
        }
    }

    fn kind_error(&self, expected: &dyn std::fmt::Display, got: Marker) -> ValueError {
        ValueError::MsgpackKind {
            path: self.here(),
            expected: expected.to_string(),
            got: marker_name(got),
        }
    }

    fn too_deep(&self) -> ValueError {
        ValueError::TooDeep {
            path: self.here(),
            limit: MAX_DEPTH,
        }
    }

    fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }

    fn peek_marker(&self) -> Result<Marker, ValueError> {
        self.input
            .get(self.pos)
            .map(|b| Marker::from_u8(*b))
            .ok_or_else(|| self.malformed("unexpected end of input"))
    }

    fn read_marker(&mut self) -> Result<Marker, ValueError> {
        let m = self.peek_marker()?;
        self.pos += 1;
        Ok(m)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ValueError> {
        if n > self.remaining() {
            return Err(self.malformed(format!(
                "unexpected end of input: {n} bytes announced, {} left",
                self.remaining()
            )));
        }
        let slice = &self.input[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    fn take_array<const N: usize>(&mut self) -> Result<[u8; N], ValueError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn read_u8(&mut self) -> Result<u8, ValueError> {
        Ok(self.take_array::<1>()?[0])
    }

    fn read_u16(&mut self) -> Result<u16, ValueError> {
        Ok(u16::from_be_bytes(self.take_array()?))
    }

    fn read_u32(&mut self) -> Result<u32, ValueError> {
        Ok(u32::from_be_bytes(self.take_array()?))
    }

    fn read_u64(&mut self) -> Result<u64, ValueError> {
        Ok(u64::from_be_bytes(self.take_array()?))
    }

    /// Length announced by a str/bin marker, if `m` is one.
    fn bytes_len(&mut self, m: Marker) -> Result<Option<usize>, ValueError> {
        Ok(Some(match m {
            Marker::FixStr(n) => usize::from(n),
            Marker::Str8 | Marker::Bin8 => usize::from(self.read_u8()?),
            Marker::Str16 | Marker::Bin16 => usize::from(self.read_u16()?),
            Marker::Str32 | Marker::Bin32 => self.read_u32()? as usize,
            _ => return Ok(None),
        }))
    }

    /// A str, or a bin (cty's decoder reads both as strings), as UTF-8.
    fn string(&mut self, expected: &str) -> Result<String, ValueError> {
        let m = self.read_marker()?;
        let Some(len) = self.bytes_len(m)? else {
            return Err(self.kind_error(&expected, m));
        };
        let bytes = self.take(len)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(e) => Err(self.malformed(format!("string is not valid UTF-8: {e}"))),
        }
    }

    fn array_len(&mut self, expected: &Type) -> Result<usize, ValueError> {
        let m = self.read_marker()?;
        Ok(match m {
            Marker::FixArray(n) => usize::from(n),
            Marker::Array16 => usize::from(self.read_u16()?),
            Marker::Array32 => self.read_u32()? as usize,
            other => return Err(self.kind_error(&expected, other)),
        })
    }

    fn map_len(&mut self, expected: &Type) -> Result<usize, ValueError> {
        let m = self.read_marker()?;
        Ok(match m {
            Marker::FixMap(n) => usize::from(n),
            Marker::Map16 => usize::from(self.read_u16()?),
            Marker::Map32 => self.read_u32()? as usize,
            other => return Err(self.kind_error(&expected, other)),
        })
    }

    /// Capacity to reserve for `announced` items: never more than the input
    /// could possibly hold (every item takes at least `min_item_bytes`).
    fn capacity(&self, announced: usize, min_item_bytes: usize) -> usize {
        announced.min(self.remaining() / min_item_bytes)
    }

    /// Decodes one value of type `ty`. Kept small, with one helper per
    /// kind, because it recurses: in debug builds every temporary of every
    /// arm gets its own stack slot, and a fat frame times [`MAX_DEPTH`]
    /// levels would overflow a 2 MiB thread stack.
    fn value(&mut self, ty: &Type, depth: usize) -> Result<Value, ValueError> {
        if depth > MAX_DEPTH {
            return Err(self.too_deep());
        }
        let marker = self.peek_marker()?;
        // Unknown overrides every type, dynamic included (cty checks for an
        // extension before anything else).
        if is_ext(marker) {
            self.unknown(depth)?;
            return Ok(Value::Unknown);
        }
        if marker == Marker::Null {
            self.pos += 1;
            return Ok(Value::Null);
        }
        match ty {
            Type::Dynamic => self.dynamic(depth),
            Type::String => self.string("string").map(Value::String),
            Type::Number => self.number().map(Value::Number),
            Type::Bool => self.bool(),
            Type::List(elem) => self.list(ty, elem, depth).map(Value::List),
            Type::Set(elem) => self.list(ty, elem, depth).map(Value::Set),
            Type::Tuple(elems) => self.tuple(ty, elems, depth),
            Type::Map(elem) => self.map(ty, elem, depth),
            Type::Object { attrs, optional } => self.object(ty, attrs, optional, depth),
        }
    }

    #[inline(never)]
    fn bool(&mut self) -> Result<Value, ValueError> {
        match self.read_marker()? {
            Marker::True => Ok(Value::Bool(true)),
            Marker::False => Ok(Value::Bool(false)),
            other => Err(self.kind_error(&"bool", other)),
        }
    }

    /// Elements of a list or set (`ty` says which, for paths and messages).
    #[inline(never)]
    fn list(&mut self, ty: &Type, elem: &Type, depth: usize) -> Result<Vec<Value>, ValueError> {
        let set = matches!(ty, Type::Set(_));
        let len = self.array_len(ty)?;
        let mut items = Vec::with_capacity(self.capacity(len, 1));
        for i in 0..len {
            self.path.push(if set {
                PathStep::SetElement(i)
            } else {
                PathStep::Index(i)
            });
            items.push(self.value(elem, depth + 1)?);
            self.path.pop();
        }
        Ok(items)
    }

    #[inline(never)]
    fn tuple(&mut self, ty: &Type, elems: &[Type], depth: usize) -> Result<Value, ValueError> {
        let len = self.array_len(ty)?;
        if len != elems.len() {
            return Err(ValueError::TupleLength {
                path: self.here(),
                expected: elems.len(),
                got: len,
            });
        }
        let mut items = Vec::with_capacity(elems.len());
        for (i, elem) in elems.iter().enumerate() {
            self.path.push(PathStep::Index(i));
            items.push(self.value(elem, depth + 1)?);
            self.path.pop();
        }
        Ok(Value::Tuple(items))
    }

    #[inline(never)]
    fn map(&mut self, ty: &Type, elem: &Type, depth: usize) -> Result<Value, ValueError> {
        let len = self.map_len(ty)?;
        let mut entries = BTreeMap::new();
        for _ in 0..len {
            let key = self.string("string map key")?;
            self.path.push(PathStep::Key(key.clone()));
            let v = self.value(elem, depth + 1)?;
            self.path.pop();
            if entries.contains_key(&key) {
                return Err(self.duplicate(key));
            }
            entries.insert(key, v);
        }
        Ok(Value::Map(entries))
    }

    #[inline(never)]
    fn object(
        &mut self,
        ty: &Type,
        attrs: &BTreeMap<String, Type>,
        optional: &BTreeSet<String>,
        depth: usize,
    ) -> Result<Value, ValueError> {
        let len = self.map_len(ty)?;
        let mut values = BTreeMap::new();
        for _ in 0..len {
            let key = self.string("string attribute name")?;
            let Some(attr_ty) = attrs.get(&key) else {
                return Err(self.unsupported(key));
            };
            self.path.push(PathStep::Attr(key.clone()));
            let v = self.value(attr_ty, depth + 1)?;
            self.path.pop();
            if values.contains_key(&key) {
                return Err(self.duplicate(key));
            }
            values.insert(key, v);
        }
        if values.len() != attrs.len() {
            self.fill_optional(&mut values, attrs, optional)?;
        }
        Ok(Value::Object(values))
    }

    /// cty requires every attribute on the wire; an absent optional one can
    /// only mean null, so accept that, but nothing else.
    #[inline(never)]
    fn fill_optional(
        &self,
        values: &mut BTreeMap<String, Value>,
        attrs: &BTreeMap<String, Type>,
        optional: &BTreeSet<String>,
    ) -> Result<(), ValueError> {
        for name in attrs.keys() {
            if values.contains_key(name) {
                continue;
            }
            if !optional.contains(name) {
                return Err(ValueError::MissingAttribute {
                    path: self.here(),
                    name: name.clone(),
                });
            }
            values.insert(name.clone(), Value::Null);
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn unsupported(&self, name: String) -> ValueError {
        ValueError::UnsupportedAttribute {
            path: self.here(),
            name,
        }
    }

    #[cold]
    #[inline(never)]
    fn duplicate(&self, key: String) -> ValueError {
        ValueError::DuplicateKey {
            path: self.here(),
            key,
        }
    }

    #[inline(never)]
    fn number(&mut self) -> Result<Number, ValueError> {
        let m = self.read_marker()?;
        let float = |this: &Self, v: f64| {
            Number::from_f64(v).ok_or_else(|| ValueError::InvalidNumber {
                path: this.here(),
                text: v.to_string(),
                reason: "not finite",
            })
        };
        match m {
            Marker::FixPos(v) => Ok(Number::from_u64(u64::from(v))),
            Marker::FixNeg(v) => Ok(Number::from_i64(i64::from(v))),
            Marker::U8 => Ok(Number::from_u64(u64::from(self.read_u8()?))),
            Marker::U16 => Ok(Number::from_u64(u64::from(self.read_u16()?))),
            Marker::U32 => Ok(Number::from_u64(u64::from(self.read_u32()?))),
            Marker::U64 => Ok(Number::from_u64(self.read_u64()?)),
            Marker::I8 => Ok(Number::from_i64(i64::from(i8::from_be_bytes(self.take_array()?)))),
            Marker::I16 => Ok(Number::from_i64(i64::from(i16::from_be_bytes(self.take_array()?)))),
            Marker::I32 => Ok(Number::from_i64(i64::from(i32::from_be_bytes(self.take_array()?)))),
            Marker::I64 => Ok(Number::from_i64(i64::from_be_bytes(self.take_array()?))),
            // Widened like cty's decoder does; Terraform never writes float32.
            Marker::F32 => {
                let v = f64::from(f32::from_bits(self.read_u32()?));
                float(self, v)
            }
            Marker::F64 => {
                let v = f64::from_bits(self.read_u64()?);
                float(self, v)
            }
            other => {
                let Some(len) = self.bytes_len(other)? else {
                    return Err(self.kind_error(&"number", other));
                };
                let bytes = self.take(len)?;
                let text = std::str::from_utf8(bytes)
                    .map_err(|_| self.malformed("number string is not valid UTF-8"))?;
                Number::parse(text).map_err(|e| e.under(&self.path))
            }
        }
    }

    /// `[type JSON, value]`, cty's `unmarshalDynamic`. Nil and unknown were
    /// handled by the caller.
    #[inline(never)]
    fn dynamic(&mut self, depth: usize) -> Result<Value, ValueError> {
        // The header is read in its own function so its temporaries stay out
        // of this recursive frame.
        let ty = self.dynamic_header()?;
        let value = self.value(&ty, depth + 1)?;
        Ok(match value {
            Value::Null | Value::Unknown => value,
            known => Value::Dynamic {
                ty,
                value: Box::new(known),
            },
        })
    }

    /// The array header and type half of a dynamic value.
    #[inline(never)]
    fn dynamic_header(&mut self) -> Result<Type, ValueError> {
        let m = self.read_marker()?;
        let len = match m {
            Marker::FixArray(n) => usize::from(n),
            Marker::Array16 => usize::from(self.read_u16()?),
            Marker::Array32 => self.read_u32()? as usize,
            other => {
                return Err(self.kind_error(&"a [type, value] array for a dynamic value", other))
            }
        };
        if len != 2 {
            return Err(self.malformed(format!(
                "a dynamic value must be a [type, value] array of 2 elements, got {len}"
            )));
        }
        // cty writes the type JSON as bin but its reader takes str too.
        let m = self.read_marker()?;
        let Some(type_len) = self.bytes_len(m)? else {
            return Err(self.kind_error(&"type JSON (bin) for a dynamic value", m));
        };
        let type_json = self.take(type_len)?;
        Type::from_json_bytes(type_json).map_err(|e| e.under(&self.path))
    }

    /// Consumes an extension item. Any extension is an unknown value; only
    /// type 12 carries a payload we look into, and only to check it is the
    /// refinement map it claims to be (the refinements themselves are
    /// dropped, which the protocol allows).
    #[inline(never)]
    fn unknown(&mut self, depth: usize) -> Result<(), ValueError> {
        let len = match self.read_marker()? {
            Marker::FixExt1 => 1,
            Marker::FixExt2 => 2,
            Marker::FixExt4 => 4,
            Marker::FixExt8 => 8,
            Marker::FixExt16 => 16,
            Marker::Ext8 => usize::from(self.read_u8()?),
            Marker::Ext16 => usize::from(self.read_u16()?),
            Marker::Ext32 => self.read_u32()? as usize,
            other => return Err(self.kind_error(&"an extension", other)),
        };
        let ext_type = i8::from_be_bytes(self.take_array()?);
        let payload = self.take(len)?;
        // A zero- or one-byte payload is "no refinements" whatever the type
        // (cty writes d4 00 00 and reads any such payload that way).
        if ext_type == REFINED_UNKNOWN_EXT && len > 1 {
            let mut refinements = Decoder {
                input: payload,
                pos: 0,
                path: self.path.clone(),
            };
            refinements.refinement_map(depth)?;
            // Bytes after the map are ignored on purpose, as cty does, to
            // leave room for future additions.
        }
        Ok(())
    }

    fn refinement_map(&mut self, depth: usize) -> Result<(), ValueError> {
        let m = self.read_marker()?;
        let len = match m {
            Marker::FixMap(n) => usize::from(n),
            Marker::Map16 => usize::from(self.read_u16()?),
            Marker::Map32 => self.read_u32()? as usize,
            other => {
                return Err(self.malformed(format!(
                    "refined unknown payload must be a map, got {}",
                    marker_name(other)
                )))
            }
        };
        for _ in 0..len {
            let key = self.read_marker()?;
            match key {
                Marker::FixPos(_) | Marker::FixNeg(_) => {}
                Marker::U8 | Marker::I8 => self.pos_skip(1)?,
                Marker::U16 | Marker::I16 => self.pos_skip(2)?,
                Marker::U32 | Marker::I32 => self.pos_skip(4)?,
                Marker::U64 | Marker::I64 => self.pos_skip(8)?,
                other => {
                    return Err(self.malformed(format!(
                        "refinement keys must be integers, got {}",
                        marker_name(other)
                    )))
                }
            }
            // Values are not interpreted (unknown keys must be tolerated
            // anyway), only checked to be well-formed.
            self.skip_value(depth + 1)?;
        }
        Ok(())
    }

    fn pos_skip(&mut self, n: usize) -> Result<(), ValueError> {
        self.take(n).map(|_| ())
    }

    /// Skips one well-formed msgpack item of any kind.
    fn skip_value(&mut self, depth: usize) -> Result<(), ValueError> {
        if depth > MAX_DEPTH {
            return Err(self.too_deep());
        }
        let items = self.skip_header()?;
        // Each nested item is at least one byte, so a bogus count runs out
        // of input quickly instead of looping for long.
        for _ in 0..items {
            self.skip_value(depth + 1)?;
        }
        Ok(())
    }

    /// Consumes one item's marker and any payload bytes; returns how many
    /// nested items (array elements, map keys and values) follow.
    #[inline(never)]
    fn skip_header(&mut self) -> Result<usize, ValueError> {
        let m = self.read_marker()?;
        let (items, bytes) = match m {
            Marker::Null
            | Marker::True
            | Marker::False
            | Marker::FixPos(_)
            | Marker::FixNeg(_) => (0, 0),
            Marker::U8 | Marker::I8 => (0, 1),
            Marker::U16 | Marker::I16 => (0, 2),
            Marker::U32 | Marker::I32 | Marker::F32 => (0, 4),
            Marker::U64 | Marker::I64 | Marker::F64 => (0, 8),
            Marker::FixStr(_)
            | Marker::Str8
            | Marker::Str16
            | Marker::Str32
            | Marker::Bin8
            | Marker::Bin16
            | Marker::Bin32 => (0, self.bytes_len(m)?.unwrap_or(0)),
            Marker::FixArray(n) => (usize::from(n), 0),
            Marker::Array16 => (usize::from(self.read_u16()?), 0),
            Marker::Array32 => (self.read_u32()? as usize, 0),
            Marker::FixMap(n) => (2 * usize::from(n), 0),
            Marker::Map16 => (2 * usize::from(self.read_u16()?), 0),
            Marker::Map32 => ((self.read_u32()? as usize).saturating_mul(2), 0),
            Marker::FixExt1 => (0, 2),
            Marker::FixExt2 => (0, 3),
            Marker::FixExt4 => (0, 5),
            Marker::FixExt8 => (0, 9),
            Marker::FixExt16 => (0, 17),
            Marker::Ext8 => (0, usize::from(self.read_u8()?) + 1),
            Marker::Ext16 => (0, usize::from(self.read_u16()?) + 1),
            Marker::Ext32 => (0, (self.read_u32()? as usize).saturating_add(1)),
            Marker::Reserved => return Err(self.malformed("reserved byte 0xc1")),
        };
        self.pos_skip(bytes)?;
        Ok(items)
    }
}

/// Writes msgpack into a buffer, tracking the path for error messages.
struct Encoder {
    out: Vec<u8>,
    path: Vec<PathStep>,
}

impl Encoder {
    fn here(&self) -> AttrPath {
        AttrPath(self.path.clone())
    }

    /// rmp's writers return errors only when the sink fails; a `Vec` never
    /// does, but we still refuse to `unwrap`.
    fn io<T, E: std::fmt::Display>(&self, r: Result<T, E>) -> Result<(), ValueError> {
        r.map(|_| ()).map_err(|e| ValueError::Unencodable {
            path: self.here(),
            reason: format!("msgpack write failed: {e}"),
        })
    }

    fn len32(&self, len: usize) -> Result<u32, ValueError> {
        u32::try_from(len).map_err(|_| ValueError::Unencodable {
            path: self.here(),
            reason: format!("{len} items or bytes exceed msgpack's 2^32-1 limit"),
        })
    }

    fn str(&mut self, s: &str) -> Result<(), ValueError> {
        // rmp's write_str would silently truncate the length to 32 bits.
        self.len32(s.len())?;
        let r = rmp::encode::write_str(&mut self.out, s);
        self.io(r)
    }

    /// Encodes `v` as type `ty` (the walk is shared with JSON: [`walk::encode`]).
    fn value(&mut self, v: &Value, ty: &Type, depth: usize) -> Result<(), ValueError> {
        walk::encode(self, v, ty, depth)
    }

    #[inline(never)]
    fn seq(&mut self, items: &[Value], elem: &Type, set: bool, depth: usize) -> Result<(), ValueError> {
        let len = self.len32(items.len())?;
        let r = rmp::encode::write_array_len(&mut self.out, len);
        self.io(r)?;
        for (i, item) in items.iter().enumerate() {
            self.path.push(if set {
                PathStep::SetElement(i)
            } else {
                PathStep::Index(i)
            });
            self.value(item, elem, depth + 1)?;
            self.path.pop();
        }
        Ok(())
    }

    #[inline(never)]
    fn tuple(&mut self, items: &[Value], elems: &[Type], depth: usize) -> Result<(), ValueError> {
        if elems.len() != items.len() {
            return Err(ValueError::TupleLength {
                path: self.here(),
                expected: elems.len(),
                got: items.len(),
            });
        }
        let len = self.len32(items.len())?;
        let r = rmp::encode::write_array_len(&mut self.out, len);
        self.io(r)?;
        for (i, (item, elem)) in items.iter().zip(elems).enumerate() {
            self.path.push(PathStep::Index(i));
            self.value(item, elem, depth + 1)?;
            self.path.pop();
        }
        Ok(())
    }

    #[inline(never)]
    fn map(
        &mut self,
        entries: &BTreeMap<String, Value>,
        elem: &Type,
        depth: usize,
    ) -> Result<(), ValueError> {
        let len = self.len32(entries.len())?;
        let r = rmp::encode::write_map_len(&mut self.out, len);
        self.io(r)?;
        for (k, item) in entries {
            self.str(k)?;
            self.path.push(PathStep::Key(k.clone()));
            self.value(item, elem, depth + 1)?;
            self.path.pop();
        }
        Ok(())
    }

    #[inline(never)]
    fn object(
        &mut self,
        values: &BTreeMap<String, Value>,
        attrs: &BTreeMap<String, Type>,
        optional: &BTreeSet<String>,
        depth: usize,
    ) -> Result<(), ValueError> {
        if let Some(extra) = values.keys().find(|k| !attrs.contains_key(*k)) {
            return Err(ValueError::UnsupportedAttribute {
                path: self.here(),
                name: extra.clone(),
            });
        }
        let len = self.len32(attrs.len())?;
        let r = rmp::encode::write_map_len(&mut self.out, len);
        self.io(r)?;
        // BTreeMap order = sorted by name, as cty writes them.
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
            self.str(name)?;
            self.path.push(PathStep::Attr(name.clone()));
            self.value(item, attr_ty, depth + 1)?;
            self.path.pop();
        }
        Ok(())
    }

    /// cty's number rule: an int when it is an integer that fits 64 bits, a
    /// float64 when a double holds it exactly (and reads back as the same
    /// decimal), else the decimal text as a str, which cty parses exactly.
    #[inline(never)]
    fn number(&mut self, n: &Number) -> Result<(), ValueError> {
        if let Some(i) = n.as_i64() {
            let r = rmp::encode::write_sint(&mut self.out, i);
            return self.io(r);
        }
        if let Some(u) = n.as_u64() {
            let r = rmp::encode::write_uint(&mut self.out, u);
            return self.io(r);
        }
        if let Some(f) = n.exact_f64() {
            let r = rmp::encode::write_f64(&mut self.out, f);
            return self.io(r);
        }
        self.str(n.as_str())
    }

    /// A value in a `dynamic` slot: `[type JSON as bin, value]`, except null
    /// and unknown, which are written bare (as cty does for values of
    /// dynamic type, and as every reader accepts).
    #[inline(never)]
    fn dynamic(&mut self, v: &Value, depth: usize) -> Result<(), ValueError> {
        match self.dynamic_header(v, depth)? {
            Some((ty, value)) => self.value(&value, &ty, depth + 1),
            None => Ok(()),
        }
    }

    /// Writes a dynamic slot's bare null/unknown (returning `None`: done) or
    /// its `[type, ` prefix (returning the type and the value to write
    /// next). Separate from [`Encoder::dynamic`] to keep inference
    /// temporaries out of the recursive frame.
    #[inline(never)]
    fn dynamic_header<'v>(
        &mut self,
        v: &'v Value,
        depth: usize,
    ) -> Result<Option<(Type, Cow<'v, Value>)>, ValueError> {
        let (ty, value) = match v {
            Value::Dynamic { ty, value } if value.is_known() && !value.is_null() => {
                (ty.clone(), Cow::Borrowed(&**value))
            }
            other if other.is_null() => {
                let r = rmp::encode::write_nil(&mut self.out);
                self.io(r)?;
                return Ok(None);
            }
            other if other.is_unknown() => {
                self.out.extend_from_slice(&UNKNOWN_BYTES);
                return Ok(None);
            }
            other => {
                let (ty, reshaped) = other.infer(&mut self.path, depth)?;
                (ty, Cow::Owned(reshaped))
            }
        };
        let r = rmp::encode::write_array_len(&mut self.out, 2);
        self.io(r)?;
        let type_json = ty.to_json_bytes();
        let len = self.len32(type_json.len())?;
        let r = rmp::encode::write_bin_len(&mut self.out, len);
        self.io(r)?;
        self.out.extend_from_slice(&type_json);
        Ok(Some((ty, value)))
    }
}

impl walk::Encode for Encoder {
    type Out = ();
    fn here(&self) -> AttrPath {
        Encoder::here(self)
    }
    fn null(&mut self) -> Result<(), ValueError> {
        let r = rmp::encode::write_nil(&mut self.out);
        self.io(r)
    }
    fn unknown(&mut self) -> Result<(), ValueError> {
        self.out.extend_from_slice(&UNKNOWN_BYTES);
        Ok(())
    }
    fn string(&mut self, s: &str) -> Result<(), ValueError> {
        self.str(s)
    }
    fn boolean(&mut self, b: bool) -> Result<(), ValueError> {
        let r = rmp::encode::write_bool(&mut self.out, b);
        self.io(r)
    }
    fn number(&mut self, n: &Number) -> Result<(), ValueError> {
        Encoder::number(self, n)
    }
    fn seq(&mut self, items: &[Value], elem: &Type, set: bool, depth: usize) -> Result<(), ValueError> {
        Encoder::seq(self, items, elem, set, depth)
    }
    fn tuple(&mut self, items: &[Value], elems: &[Type], depth: usize) -> Result<(), ValueError> {
        Encoder::tuple(self, items, elems, depth)
    }
    fn map(&mut self, entries: &BTreeMap<String, Value>, elem: &Type, depth: usize) -> Result<(), ValueError> {
        Encoder::map(self, entries, elem, depth)
    }
    fn object(&mut self, values: &BTreeMap<String, Value>, attrs: &BTreeMap<String, Type>, optional: &BTreeSet<String>, depth: usize) -> Result<(), ValueError> {
        Encoder::object(self, values, attrs, optional, depth)
    }
    fn dynamic(&mut self, v: &Value, depth: usize) -> Result<(), ValueError> {
        Encoder::dynamic(self, v, depth)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{arb_typed_value, arb_value};
    use super::super::ty::tests::arb_type;
    use super::*;
    use proptest::prelude::*;

    fn num(s: &str) -> Value {
        Value::Number(Number::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")))
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
    }

    fn unhex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap_or_else(|e| panic!("{b}: {e}")))
            .collect()
    }

    /// msgpack str header + bytes, for building expectations.
    fn mp_str(s: &str) -> String {
        let mut out = Vec::new();
        rmp::encode::write_str(&mut out, s).expect("vec write");
        hex(&out)
    }

    fn obj_type() -> Type {
        Type::object([("id", Type::String), ("port", Type::Number)])
    }

    /// (name, type, value, exact bytes): encoding must produce the bytes and
    /// decoding the bytes must give back the value.
    fn golden_cases() -> Vec<(&'static str, Type, Value, String)> {
        vec![
            ("unknown is d4 00 00", Type::String, Value::Unknown, "d4 00 00".into()),
            ("null is nil", Type::String, Value::Null, "c0".into()),
            ("null object is nil", obj_type(), Value::Null, "c0".into()),
            ("true", Type::Bool, Value::Bool(true), "c3".into()),
            ("string", Type::String, "hi".into(), "a2 68 69".into()),
            ("small int", Type::Number, num("5"), "05".into()),
            ("negative fixint", Type::Number, num("-3"), "fd".into()),
            ("uint8", Type::Number, num("200"), "cc c8".into()),
            ("int16", Type::Number, num("-200"), "d1 ff 38".into()),
            ("1.0 is an int", Type::Number, num("1.0"), "01".into()),
            ("i64 min", Type::Number, Value::from(i64::MIN), "d3 80 00 00 00 00 00 00 00".into()),
            ("u64 max", Type::Number, Value::number(u64::MAX), "cf ff ff ff ff ff ff ff ff".into()),
            ("exact float", Type::Number, num("0.5"), "cb 3f e0 00 00 00 00 00 00".into()),
            ("0.1 is a string", Type::Number, num("0.1"), mp_str("0.1")),
            (
                "big integer is a string",
                Type::Number,
                num("123456789012345678901234567890"),
                mp_str("123456789012345678901234567890"),
            ),
            ("1e400 is a string", Type::Number, num("1e400"), mp_str("1e400")),
            ("tiny is a string", Type::Number, num("-2.5e-400"), mp_str("-2.5e-400")),
            (
                "object attributes sorted",
                obj_type(),
                Value::object([("port", num("443")), ("id", Value::Unknown)]),
                format!("82 {} d4 00 00 {} cd 01 bb", mp_str("id"), mp_str("port")),
            ),
            (
                "set of strings",
                Type::set(Type::String),
                Value::set(["a".into(), "b".into()]),
                "92 a1 61 a1 62".into(),
            ),
            (
                "map",
                Type::map(Type::Bool),
                Value::map([("k", Value::Bool(false))]),
                "81 a1 6b c2".into(),
            ),
            (
                "tuple",
                Type::tuple([Type::String, Type::Bool]),
                Value::tuple(["x".into(), Value::Null]),
                "92 a1 78 c0".into(),
            ),
            (
                "dynamic slot carries type as bin",
                Type::Dynamic,
                Value::Dynamic {
                    ty: Type::list(Type::String),
                    value: Box::new(Value::list(["a".into()])),
                },
                format!("92 c4 11 {} 91 a1 61", hex(br#"["list","string"]"#)),
            ),
            ("unknown in dynamic slot is bare", Type::Dynamic, Value::Unknown, "d4 00 00".into()),
            ("null in dynamic slot is bare", Type::Dynamic, Value::Null, "c0".into()),
            (
                "object with dynamic attribute",
                Type::object([("d", Type::Dynamic)]),
                Value::object([(
                    "d",
                    Value::Dynamic { ty: Type::Number, value: Box::new(num("7")) },
                )]),
                format!("81 a1 64 92 c4 08 {} 07", hex(br#""number""#)),
            ),
        ]
    }

    #[test]
    fn golden_bytes_encode_and_decode() {
        for (name, ty, value, want) in golden_cases() {
            let want = unhex(&want);
            let got = value
                .encode_msgpack(&ty)
                .unwrap_or_else(|e| panic!("case {name}: encode: {e}"));
            assert_eq!(hex(&got), hex(&want), "case {name}: encode");
            let back = Value::decode_msgpack(&want, &ty)
                .unwrap_or_else(|e| panic!("case {name}: decode: {e}"));
            assert_eq!(back, value, "case {name}: decode");
        }
    }

    /// Forms Terraform (or another encoder) may send that we never write.
    #[test]
    fn decode_accepts_every_form_cty_accepts() {
        let cases: Vec<(&str, Type, String, Value)> = vec![
            (
                "refined unknown ext 12 with payload",
                Type::String,
                // ext8, len 7, type 12, {1: false, 2: "ab"}
                format!("c7 07 0c 82 01 c2 02 {}", mp_str("ab")),
                Value::Unknown,
            ),
            (
                "refined unknown number bounds",
                Type::Number,
                // ext8 len 10, type 12, {3: [0, true], 4: [10, false]} + 1 pad byte
                "c7 0a 0c 82 03 92 00 c3 04 92 0a c2 00".into(),
                Value::Unknown,
            ),
            ("ext type 0 with 4 bytes", Type::Bool, "d6 00 01 02 03 04".into(), Value::Unknown),
            ("any other ext type", Type::Number, "d5 07 aa bb".into(), Value::Unknown),
            ("zero-length ext8", Type::String, "c7 00 00".into(), Value::Unknown),
            ("unknown where a dynamic goes", Type::Dynamic, "d4 00 00".into(), Value::Unknown),
            (
                "unknown object",
                obj_type(),
                "d4 00 00".into(),
                Value::Unknown,
            ),
            ("string as bin", Type::String, "c4 02 68 69".into(), "hi".into()),
            ("string as str8", Type::String, "d9 02 68 69".into(), "hi".into()),
            ("uint64 small", Type::Number, "cf 00 00 00 00 00 00 00 05".into(), num("5")),
            ("int8 positive", Type::Number, "d0 05".into(), num("5")),
            ("int32", Type::Number, "d2 ff ff ff fe".into(), num("-2")),
            ("float32", Type::Number, "ca 3f c0 00 00".into(), num("1.5")),
            ("float64 0.1", Type::Number, "cb 3f b9 99 99 99 99 99 9a".into(), num("0.1")),
            ("float64 integral", Type::Number, "cb 40 59 00 00 00 00 00 00".into(), num("100")),
            ("number as decimal string", Type::Number, mp_str("1.50"), num("1.5")),
            ("number as bin", Type::Number, "c4 01 37".into(), num("7")),
            ("number with exponent", Type::Number, mp_str("1E+3"), num("1000")),
            ("array16 list", Type::list(Type::Bool), "dc 00 01 c3".into(), Value::list([true.into()])),
            ("map16", Type::map(Type::Bool), "de 00 01 a1 6b c3".into(), Value::map([("k", true.into())])),
            (
                "dynamic type as str",
                Type::Dynamic,
                format!("92 {} a1 78", mp_str("\"string\"")),
                Value::Dynamic { ty: Type::String, value: Box::new("x".into()) },
            ),
            (
                "dynamic with null value collapses",
                Type::Dynamic,
                format!("92 c4 08 {} c0", hex(br#""number""#)),
                Value::Null,
            ),
            (
                "dynamic with unknown value collapses",
                Type::Dynamic,
                format!("92 c4 08 {} d4 00 00", hex(br#""number""#)),
                Value::Unknown,
            ),
            (
                "absent optional attribute is null",
                Type::object_with_optional([("a", Type::String), ("b", Type::String)], ["b"]),
                format!("81 {} a1 78", mp_str("a")),
                Value::object([("a", "x".into()), ("b", Value::Null)]),
            ),
            (
                "nested unknown in list",
                Type::list(Type::String),
                "92 d4 00 00 c0".into(),
                Value::list([Value::Unknown, Value::Null]),
            ),
        ];
        for (name, ty, bytes, want) in cases {
            let got = Value::decode_msgpack(&unhex(&bytes), &ty)
                .unwrap_or_else(|e| panic!("case {name}: {e}"));
            assert_eq!(got, want, "case {name}");
        }
    }

    #[test]
    fn decode_rejects_malformed_input_with_located_messages() {
        let cases: Vec<(&str, Type, String, &str)> = vec![
            ("empty input", Type::String, String::new(), "at (root): malformed msgpack: unexpected end of input"),
            ("int for string", Type::String, "05".into(), "at (root): expected string, got msgpack int"),
            (
                "string for number in list",
                Type::list(Type::Number),
                "91 c3".into(),
                "at [0]: expected number, got msgpack bool",
            ),
            (
                "unsupported attribute",
                obj_type(),
                format!("83 {} a1 78 {} 01 {} c0", mp_str("id"), mp_str("port"), mp_str("zzz")),
                "at (root): unsupported attribute \"zzz\"",
            ),
            (
                "missing attribute",
                obj_type(),
                format!("81 {} a1 78", mp_str("id")),
                "at (root): missing attribute \"port\"; an object must carry every attribute of its type",
            ),
            (
                "empty map for object",
                obj_type(),
                "80".into(),
                "at (root): missing attribute \"id\"; an object must carry every attribute of its type",
            ),
            (
                "duplicate attribute",
                obj_type(),
                format!("82 {} a1 78 {} a1 79", mp_str("id"), mp_str("id")),
                "at (root): duplicate key \"id\"",
            ),
            (
                "tuple arity",
                Type::tuple([Type::String, Type::String]),
                "91 a1 78".into(),
                "at (root): a tuple of 2 elements is required, got 1",
            ),
            (
                "nested path in message",
                Type::object([("foo", Type::list(Type::map(Type::String)))]),
                format!("81 {} 93 80 80 81 a1 6b 05", mp_str("foo")),
                "at .foo[2][\"k\"]: expected string, got msgpack int",
            ),
            (
                "trailing bytes",
                Type::Bool,
                "c3 c3".into(),
                "at (root): malformed msgpack: 1 unexpected bytes after the value",
            ),
            (
                "truncated string",
                Type::String,
                "a5 61".into(),
                "at (root): malformed msgpack: unexpected end of input: 5 bytes announced, 1 left",
            ),
            (
                "invalid utf-8",
                Type::String,
                "a1 ff".into(),
                "at (root): malformed msgpack: string is not valid UTF-8: invalid utf-8 sequence of 1 bytes from index 0",
            ),
            (
                "bad number text",
                Type::map(Type::Number),
                format!("81 a1 6e {}", mp_str("12abc")),
                "at [\"n\"]: invalid number \"12abc\": unexpected character",
            ),
            (
                "NaN float",
                Type::Number,
                "cb 7f f8 00 00 00 00 00 00".into(),
                "at (root): invalid number \"NaN\": not finite",
            ),
            (
                "dynamic needs two elements",
                Type::Dynamic,
                "91 c0".into(),
                "at (root): malformed msgpack: a dynamic value must be a [type, value] array of 2 elements, got 1",
            ),
            (
                "dynamic bare string",
                Type::Dynamic,
                "a1 78".into(),
                "at (root): expected a [type, value] array for a dynamic value, got msgpack str",
            ),
            (
                "dynamic bad type json",
                Type::object([("d", Type::Dynamic)]),
                format!("81 a1 64 92 {} c0", mp_str("\"int\"")),
                "at .d: invalid type: invalid primitive type name \"int\"",
            ),
            (
                "refinement payload not a map",
                Type::String,
                "d5 0c 01 02".into(),
                "at (root): malformed msgpack: refined unknown payload must be a map, got int",
            ),
            (
                "refinement payload truncated",
                Type::String,
                "d5 0c 81 01".into(),
                "at (root): malformed msgpack: unexpected end of input",
            ),
            (
                "refinement key not int",
                Type::String,
                "d6 0c 81 a1 61 c3".into(),
                "at (root): malformed msgpack: refinement keys must be integers, got str",
            ),
            ("reserved byte", Type::String, "c1".into(), "at (root): expected string, got msgpack reserved byte 0xc1"),
        ];
        for (name, ty, bytes, want) in cases {
            let err = Value::decode_msgpack(&unhex(&bytes), &ty)
                .err()
                .unwrap_or_else(|| panic!("case {name}: decoded"));
            assert_eq!(err.to_string(), want, "case {name}");
        }
    }

    #[test]
    fn encode_rejects_values_that_do_not_fit_the_type() {
        let cases: Vec<(&str, Type, Value, &str)> = vec![
            ("string for number", Type::Number, "x".into(), "at (root): cannot encode string as number"),
            (
                "extra attribute",
                obj_type(),
                Value::object([("id", Value::Null), ("port", Value::Null), ("x", Value::Null)]),
                "at (root): unsupported attribute \"x\"",
            ),
            (
                "missing attribute",
                Type::object([("a", Type::list(obj_type()))]),
                Value::object([("a", Value::list([Value::object([("id", Value::Null)])]))]),
                "at .a[0]: missing attribute \"port\"; an object must carry every attribute of its type",
            ),
            (
                "tuple arity",
                Type::tuple([Type::String]),
                Value::tuple([]),
                "at (root): a tuple of 1 elements is required, got 0",
            ),
            (
                "list for set",
                Type::set(Type::String),
                Value::list([]),
                "at (root): cannot encode list as set(string)",
            ),
            (
                "dynamic of another type",
                Type::String,
                Value::Dynamic { ty: Type::Number, value: Box::new(num("1")) },
                "at (root): cannot encode dynamic value of type number as string",
            ),
            (
                "mixed set in dynamic slot",
                Type::object([("d", Type::Dynamic)]),
                Value::object([("d", Value::set(["a".into(), true.into()]))]),
                "at .d: set elements have different types, so the set has no type to give a dynamic slot",
            ),
        ];
        for (name, ty, value, want) in cases {
            let err = value
                .encode_msgpack(&ty)
                .err()
                .unwrap_or_else(|| panic!("case {name}: encoded"));
            assert_eq!(err.to_string(), want, "case {name}");
        }
    }

    #[test]
    fn absent_optional_attribute_encodes_as_null() {
        let ty = Type::object_with_optional([("a", Type::String), ("b", Type::Number)], ["b"]);
        let bytes = Value::object([("a", "x".into())]).encode_msgpack(&ty).expect("encodes");
        assert_eq!(hex(&bytes), format!("82 {} a1 78 {} c0", mp_str("a"), mp_str("b")));
    }

    #[test]
    fn values_in_dynamic_slots_get_an_inferred_type() {
        let cases: Vec<(&str, Value, Value)> = vec![
            ("string", "x".into(), Value::Dynamic { ty: Type::String, value: Box::new("x".into()) }),
            (
                "mixed list becomes tuple",
                Value::list(["x".into(), true.into()]),
                Value::Dynamic {
                    ty: Type::tuple([Type::String, Type::Bool]),
                    value: Box::new(Value::tuple(["x".into(), true.into()])),
                },
            ),
            (
                "object",
                Value::object([("a", Value::from(1)), ("b", Value::Null)]),
                Value::Dynamic {
                    ty: Type::object([("a", Type::Number), ("b", Type::Dynamic)]),
                    value: Box::new(Value::object([("a", Value::from(1)), ("b", Value::Null)])),
                },
            ),
            (
                "mixed map becomes object",
                Value::map([("a", Value::from(1)), ("b", Value::from("s"))]),
                Value::Dynamic {
                    ty: Type::object([("a", Type::Number), ("b", Type::String)]),
                    value: Box::new(Value::object([("a", Value::from(1)), ("b", Value::from("s"))])),
                },
            ),
            (
                "empty list",
                Value::list([]),
                Value::Dynamic { ty: Type::list(Type::Dynamic), value: Box::new(Value::list([])) },
            ),
        ];
        for (name, value, want) in cases {
            let bytes = value.encode_msgpack(&Type::Dynamic).unwrap_or_else(|e| panic!("case {name}: {e}"));
            let back = Value::decode_msgpack(&bytes, &Type::Dynamic).unwrap_or_else(|e| panic!("case {name}: {e}"));
            assert_eq!(back, want, "case {name}");
            assert!(back.semantically_equal(&want), "case {name}");
        }
    }

    #[test]
    fn absurd_lengths_fail_fast_without_allocating() {
        let cases: Vec<(&str, Type, &str)> = vec![
            ("array32 of 4G elements", Type::list(Type::Bool), "dd ff ff ff ff c3"),
            ("map32 of 4G entries", Type::map(Type::Bool), "df ff ff ff ff"),
            ("str32 of 4GB", Type::String, "db ff ff ff ff 61"),
            ("ext32 of 4GB", Type::String, "c9 ff ff ff ff 0c"),
            ("refinement map32 of 4G entries", Type::String, "c7 05 0c df ff ff ff ff"),
            ("refinement nested array32", Type::String, "c7 07 0c 81 01 dd ff ff ff ff"),
        ];
        for (name, ty, bytes) in cases {
            assert!(Value::decode_msgpack(&unhex(bytes), &ty).is_err(), "case {name}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        // list(list(...)) far past the limit, with matching nested arrays.
        let mut ty = Type::Bool;
        for _ in 0..(MAX_DEPTH + 5) {
            ty = Type::list(ty);
        }
        let mut bytes = vec![0x91; MAX_DEPTH + 5];
        bytes.push(0xc3);
        let err = Value::decode_msgpack(&bytes, &ty).err();
        assert!(matches!(err, Some(ValueError::TooDeep { .. })), "{err:?}");

        // Dynamic slots nested in dynamic slots: the type JSON is "dynamic".
        let mut bytes = Vec::new();
        for _ in 0..(MAX_DEPTH + 5) {
            bytes.extend_from_slice(&unhex("92 c4 09"));
            bytes.extend_from_slice(br#""dynamic""#);
        }
        bytes.push(0xc3);
        let err = Value::decode_msgpack(&bytes, &Type::Dynamic).err();
        assert!(matches!(err, Some(ValueError::TooDeep { .. })), "{err:?}");

        // Deep arrays inside a refinement payload.
        let mut payload = unhex("81 01");
        payload.extend(std::iter::repeat_n(0x91, MAX_DEPTH + 5));
        payload.push(0xc0);
        let mut bytes = vec![0xc9];
        bytes.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        bytes.push(0x0c);
        bytes.extend_from_slice(&payload);
        let err = Value::decode_msgpack(&bytes, &Type::String).err();
        assert!(matches!(err, Some(ValueError::TooDeep { .. })), "{err:?}");
    }

    #[test]
    fn number_precision_survives_a_round_trip() {
        for text in [
            "123456789012345678901234567890",
            "-123456789012345678901234567890.123456789",
            "0.1",
            "0.30000000000000004",
            "1e400",
            "1e-400",
            "3.141592653589793238462643383279502884197",
            "9007199254740993",
            "18446744073709551616",
            "-9223372036854775809",
        ] {
            let v = num(text);
            let bytes = v.encode_msgpack(&Type::Number).expect("encodes");
            assert_eq!(Value::decode_msgpack(&bytes, &Type::Number).ok(), Some(v), "{text}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn msgpack_round_trips_any_typed_value((ty, value) in arb_typed_value(true)) {
            let bytes = value.encode_msgpack(&ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let back = Value::decode_msgpack(&bytes, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(back, value);
        }

        #[test]
        fn decode_never_panics_on_arbitrary_bytes(
            bytes in proptest::collection::vec(any::<u8>(), 0..64),
            ty in arb_type(),
        ) {
            let _ = Value::decode_msgpack(&bytes, &ty);
        }

        #[test]
        fn decode_never_panics_on_corrupted_encodings(
            (ty, value) in arb_typed_value(true),
            flips in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 1..4),
            cut in any::<proptest::sample::Index>(),
        ) {
            let Ok(mut bytes) = value.encode_msgpack(&ty) else { return Ok(()) };
            for (at, byte) in flips {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
            let _ = Value::decode_msgpack(&bytes, &ty);
            let keep = cut.index(bytes.len() + 1);
            let _ = Value::decode_msgpack(&bytes[..keep], &ty);
        }

        #[test]
        fn encoding_a_value_under_another_type_never_panics(
            (_, value) in arb_typed_value(true),
            ty in arb_type(),
        ) {
            let _ = value.encode_msgpack(&ty);
        }

        #[test]
        fn msgpack_and_json_agree_on_known_values((ty, value) in arb_typed_value(false)) {
            let via_json = Value::decode_json(&value.encode_json(&ty).map_err(|e| TestCaseError::fail(e.to_string()))?, &ty)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let via_msgpack = Value::decode_msgpack(&value.encode_msgpack(&ty).map_err(|e| TestCaseError::fail(e.to_string()))?, &ty)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(via_json, via_msgpack);
        }

        #[test]
        fn values_of_one_type_stay_decodable_after_dynamic_wrapping(
            ty in arb_type().prop_filter("concrete", |t| *t != Type::Dynamic),
        ) {
            // Any value of a concrete type, explicitly wrapped, round-trips
            // through a dynamic slot.
            let strategy = arb_value(ty.clone(), true);
            let mut runner = proptest::test_runner::TestRunner::deterministic();
            let tree = strategy.new_tree(&mut runner).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let value = proptest::strategy::ValueTree::current(&tree);
            let wrapped = match value {
                Value::Null | Value::Unknown => value,
                known => Value::Dynamic { ty: ty.clone(), value: Box::new(known) },
            };
            let bytes = wrapped.encode_msgpack(&Type::Dynamic).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(Value::decode_msgpack(&bytes, &Type::Dynamic).ok(), Some(wrapped));
        }
    }
}
