//! Fuzz target `type_json`: the whole input is cty type JSON for Type::from_json_bytes.
//! The checks are shared with `tests/fuzz_corpus.rs`, which replays the corpus.
#![no_main]

#[path = "../../tests/fuzz_corpus.rs"]
mod fuzz_corpus;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_corpus::checks::type_json(data));
