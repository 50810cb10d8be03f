//! Generates the gRPC bindings for `proto/tfplugin6.proto` and
//! `proto/plugin.proto` into `OUT_DIR`.
//!
//! The protos are parsed by the pure-Rust `protox` compiler (which bundles the
//! `google/protobuf/*.proto` well-known types), so no system `protoc` is needed.
//! The resulting descriptor set is handed to `tonic-prost-build`.

use std::error::Error;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn Error>> {
    let proto_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("proto");
    println!("cargo:rerun-if-changed=proto");

    let files = [
        proto_dir.join("tfplugin6.proto"),
        proto_dir.join("plugin.proto"),
    ];
    let fds = protox::compile(files, [&proto_dir])?;

    tonic_prost_build::configure()
        .build_server(true)
        // The client side is only used by our own tests.
        .build_client(true)
        .compile_fds(fds)?;

    Ok(())
}
