//! Fuzz target `decode_json`: first byte picks a type, the rest is JSON for decode_json and decode_json_lenient.
//! The checks are shared with `tests/fuzz_corpus.rs`, which replays the corpus.
#![no_main]

#[path = "../../tests/fuzz_corpus.rs"]
mod fuzz_corpus;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_corpus::checks::json(data));
