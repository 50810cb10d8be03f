//! Fuzz target `decode_msgpack`: first byte picks a type from the table (provider schemas + nested types), the rest is msgpack.
//! The checks are shared with `tests/fuzz_corpus.rs`, which replays the corpus.
#![no_main]

#[path = "../../tests/fuzz_corpus.rs"]
mod fuzz_corpus;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_corpus::checks::msgpack(data));
