//! Replays the fuzz corpora (`fuzz/corpus/<target>/*`) and every kept crash
//! (`fuzz/regressions/<target>/*`) through the same checks the libFuzzer
//! targets run, so they stay regression tests without libFuzzer or nightly.
//!
//! The checks live here, in [`checks`], and the fuzz targets include this
//! file (`#[path]`), so there is one definition of "what must hold". Passes
//! (and says so) when the directories are empty or missing.
//!
//! `cargo test --test fuzz_corpus -- --ignored write_seed_corpus` rewrites
//! the seed inputs (`fuzz/corpus/<target>/seed-*`) from the type table.

#![allow(dead_code, unreachable_pub)]

pub mod checks {
    use std::sync::OnceLock;

    use terraform_provider_datadog::plugin::value::{Number, Type, Value};
    use terraform_provider_datadog::plugin::Provider;
    use terraform_provider_datadog::provider::DatadogProvider;

    /// The fuzz targets, by name (also the corpus directory names).
    pub const TARGETS: &[&str] = &["decode_msgpack", "decode_json", "type_json"];

    /// Schema-like types the value targets decode against: the provider's
    /// own resource (and provider) schema types, then hand-made ones that
    /// reach the rest of the type system. An input's first byte picks one.
    pub fn type_table() -> &'static [Type] {
        static TABLE: OnceLock<Vec<Type>> = OnceLock::new();
        TABLE.get_or_init(|| {
            let provider = DatadogProvider::new();
            let mut table: Vec<Type> = provider
                .resources()
                .iter()
                .map(|r| r.schema().value_type())
                .collect();
            table.push(provider.schema().value_type());
            let obj = Type::object([
                ("a", Type::String),
                ("b", Type::set(Type::Number)),
                ("c", Type::Dynamic),
                ("d", Type::map(Type::Bool)),
            ]);
            table.extend([
                Type::Dynamic,
                Type::String,
                Type::Number,
                Type::Bool,
                Type::list(Type::Dynamic),
                Type::set(Type::String),
                Type::map(Type::Number),
                Type::tuple([Type::String, Type::Number, Type::Bool, Type::Dynamic]),
                Type::tuple([]),
                Type::list(obj.clone()),
                Type::set(obj.clone()),
                Type::map(Type::list(Type::Dynamic)),
                Type::list(Type::list(Type::list(Type::String))),
                Type::set(Type::set(Type::Dynamic)),
                Type::object_with_optional(
                    [
                        ("req", Type::String),
                        ("opt", Type::list(Type::Number)),
                        ("dyn", Type::Dynamic),
                    ],
                    ["opt"],
                ),
                Type::object([
                    ("nested", obj),
                    ("tuple", Type::tuple([Type::map(Type::Dynamic)])),
                ]),
            ]);
            table
        })
    }

    /// The type the first byte picks, and the payload after it.
    pub fn split(data: &[u8]) -> Option<(&'static Type, &[u8])> {
        let (&first, payload) = data.split_first()?;
        let table = type_table();
        Some((&table[usize::from(first) % table.len()], payload))
    }

    /// `decode_msgpack`: decoding never panics; a decoded value encodes,
    /// decodes back to a semantically equal value, and re-encodes to the
    /// same bytes.
    pub fn msgpack(data: &[u8]) {
        let Some((ty, payload)) = split(data) else {
            return;
        };
        let Ok(value) = Value::decode_msgpack(payload, ty) else {
            return;
        };
        let encoded = value
            .encode_msgpack(ty)
            .unwrap_or_else(|e| panic!("decoded {value:?} as {ty:?} but cannot encode it: {e}"));
        let again = Value::decode_msgpack(&encoded, ty).unwrap_or_else(|e| {
            panic!("cannot decode our own encoding {encoded:02x?} of {value:?}: {e}")
        });
        assert!(
            value.semantically_equal(&again),
            "msgpack round trip changed {value:?} into {again:?}"
        );
        let reencoded = again
            .encode_msgpack(ty)
            .unwrap_or_else(|e| panic!("cannot re-encode {again:?}: {e}"));
        assert_eq!(
            encoded, reencoded,
            "msgpack encoding of {again:?} is not stable"
        );
    }

    /// `decode_json`: strict and lenient decoding never panic; whatever
    /// strict accepts, lenient accepts as the same value; a decoded value
    /// round-trips through JSON (strictly, even a lenient one, whose unknown
    /// keys are gone) and through msgpack, as `UpgradeResourceState` does.
    pub fn json(data: &[u8]) {
        let Some((ty, payload)) = split(data) else {
            return;
        };
        let strict = Value::decode_json(payload, ty);
        let lenient = Value::decode_json_lenient(payload, ty);
        if let Ok(s) = &strict {
            match &lenient {
                Ok(l) => assert!(s.semantically_equal(l), "strict {s:?} but lenient {l:?}"),
                Err(e) => panic!("strict decode gave {s:?} but lenient failed: {e}"),
            }
        }
        let Ok(value) = lenient else { return };
        let encoded = value.encode_json(ty).unwrap_or_else(|e| {
            panic!("decoded {value:?} as {ty:?} but cannot encode it as JSON: {e}")
        });
        let again = Value::decode_json(&encoded, ty).unwrap_or_else(|e| {
            panic!(
                "cannot decode our own JSON {} of {value:?}: {e}",
                String::from_utf8_lossy(&encoded)
            )
        });
        assert!(
            value.semantically_equal(&again),
            "JSON round trip changed {value:?} into {again:?}"
        );
        let reencoded = again
            .encode_json(ty)
            .unwrap_or_else(|e| panic!("cannot re-encode {again:?}: {e}"));
        assert_eq!(
            String::from_utf8_lossy(&encoded),
            String::from_utf8_lossy(&reencoded),
            "JSON encoding of {again:?} is not stable"
        );
        let packed = value.encode_msgpack(ty).unwrap_or_else(|e| {
            panic!("decoded {value:?} from JSON but cannot encode it as msgpack: {e}")
        });
        let unpacked = Value::decode_msgpack(&packed, ty).unwrap_or_else(|e| {
            panic!("cannot decode our own msgpack {packed:02x?} of {value:?}: {e}")
        });
        assert!(
            value.semantically_equal(&unpacked),
            "JSON→msgpack changed {value:?} into {unpacked:?}"
        );
    }

    /// `type_json`: parsing never panics; a parsed type prints, parses back
    /// to the same type, and prints the same bytes again.
    pub fn type_json(data: &[u8]) {
        let Ok(ty) = Type::from_json_bytes(data) else {
            return;
        };
        let printed = ty.to_json_bytes();
        let again = Type::from_json_bytes(&printed).unwrap_or_else(|e| {
            panic!(
                "cannot parse our own type JSON {} of {ty:?}: {e}",
                String::from_utf8_lossy(&printed)
            )
        });
        assert_eq!(ty, again, "type JSON round trip");
        assert_eq!(
            printed,
            again.to_json_bytes(),
            "type JSON printing is not stable"
        );
    }

    /// Runs the check for `target` (a name from [`TARGETS`]).
    pub fn run(target: &str, data: &[u8]) {
        match target {
            "decode_msgpack" => msgpack(data),
            "decode_json" => json(data),
            "type_json" => type_json(data),
            other => panic!("no fuzz target {other}"),
        }
    }

    /// A value of `ty` for seeding: nulls where `fill` is false at a level,
    /// otherwise small known values (and an unknown where `unknowns`).
    pub fn sample(ty: &Type, variant: u32, depth: usize) -> Value {
        if depth > 6 {
            return Value::Null;
        }
        match ty {
            Type::String => Value::string(["", "x", "ünïcode", "12", "true"][variant as usize % 5]),
            Type::Number => match variant % 4 {
                0 => Value::number(0),
                1 => Value::number(-42),
                2 => Value::number(Number::from_f64(0.5).unwrap_or_default()),
                _ => Value::number(
                    Number::parse("123456789012345678901234567890.25").unwrap_or_default(),
                ),
            },
            Type::Bool => Value::Bool(variant.is_multiple_of(2)),
            Type::Dynamic => match variant % 3 {
                0 => Value::Dynamic {
                    ty: Type::String,
                    value: Box::new(Value::string("dyn")),
                },
                1 => Value::Dynamic {
                    ty: Type::list(Type::Number),
                    value: Box::new(Value::list([Value::number(1), Value::number(2)])),
                },
                _ => Value::Dynamic {
                    ty: Type::object([("k", Type::Bool)]),
                    value: Box::new(Value::object([("k", Value::Bool(true))])),
                },
            },
            Type::List(e) => {
                Value::list((0..variant % 3).map(|i| sample(e, variant + i, depth + 1)))
            }
            Type::Set(e) => {
                Value::set((0..(variant % 2)).map(|i| sample(e, variant + i, depth + 1)))
            }
            Type::Map(e) => Value::map(
                (0..variant % 3).map(|i| (format!("k{i}"), sample(e, variant + i, depth + 1))),
            ),
            Type::Tuple(ts) => Value::tuple(ts.iter().map(|t| sample(t, variant, depth + 1))),
            Type::Object { attrs, .. } => {
                Value::object(attrs.iter().enumerate().map(|(i, (k, t))| {
                    let v = if (i as u32 + variant).is_multiple_of(3) {
                        Value::Null
                    } else {
                        sample(t, variant, depth + 1)
                    };
                    (k.clone(), v)
                }))
            }
        }
    }
}

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// Files in `dir` (not dotfiles such as `.gitkeep`), sorted; none when it
/// does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

#[test]
fn replay_fuzz_corpus_and_regressions() {
    let mut total = 0;
    for kind in ["corpus", "regressions"] {
        for target in checks::TARGETS {
            let inputs = files(&fuzz_dir().join(kind).join(target));
            for path in &inputs {
                let data =
                    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let outcome = std::panic::catch_unwind(|| checks::run(target, &data));
                if outcome.is_err() {
                    panic!(
                        "{target} fails on {} (replay with: cargo fuzz run {target} {})",
                        path.display(),
                        path.display()
                    );
                }
            }
            println!("fuzz_corpus: {kind}/{target}: {} inputs", inputs.len());
            total += inputs.len();
        }
    }
    println!("fuzz_corpus: replayed {total} inputs");
}

/// Writes seed inputs: for every type in the table, a few sample values in
/// both encodings (prefixed with the type's index byte), and every table
/// type's JSON for `type_json`.
#[test]
#[ignore = "writes fuzz/corpus/*/seed-*; run on purpose"]
fn write_seed_corpus() {
    use terraform_provider_datadog::plugin::value::Value;
    let table = checks::type_table();
    assert!(
        table.len() <= 256,
        "the type table must be indexable by one byte"
    );
    let dir = |t: &str| {
        let d = fuzz_dir().join("corpus").join(t);
        std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        d
    };
    let write = |target: &str, name: String, bytes: &[u8]| {
        let path = dir(target).join(name);
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        checks::run(target, bytes);
    };
    for (i, ty) in table.iter().enumerate() {
        let prefix = u8::try_from(i).unwrap_or(u8::MAX);
        write("type_json", format!("seed-{i:02}"), &ty.to_json_bytes());
        let mut values = vec![Value::Null];
        values.extend((0..3).map(|v| checks::sample(ty, v, 0)));
        for (v, value) in values.iter().enumerate() {
            let msgpack = value
                .encode_msgpack(ty)
                .unwrap_or_else(|e| panic!("seed {i}/{v}: {e}"));
            write(
                "decode_msgpack",
                format!("seed-{i:02}-{v}"),
                &[&[prefix][..], &msgpack].concat(),
            );
            let json = value
                .encode_json(ty)
                .unwrap_or_else(|e| panic!("seed {i}/{v}: {e}"));
            write(
                "decode_json",
                format!("seed-{i:02}-{v}"),
                &[&[prefix][..], &json].concat(),
            );
        }
        let unknown = Value::Unknown
            .encode_msgpack(ty)
            .unwrap_or_else(|e| panic!("seed {i}/unknown: {e}"));
        write(
            "decode_msgpack",
            format!("seed-{i:02}-unknown"),
            &[&[prefix][..], &unknown].concat(),
        );
    }
}
