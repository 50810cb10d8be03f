//! Generated protobuf/gRPC code is quarantined here; nothing outside `src/plugin` names these types.
//!
//! `tfplugin6` is Terraform's plugin protocol 6.11 (`proto/tfplugin6.proto`); `plugin` holds
//! go-plugin's GRPCController, GRPCStdio and GRPCBroker services (`proto/plugin.proto`).
//! Both are produced by `build.rs` into `OUT_DIR`.

#![allow(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    unused_qualifications,
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    clippy::unwrap_used,
    rustdoc::all
)]

pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

pub mod plugin {
    tonic::include_proto!("plugin");
}
