//! The Terraform plugin protocol (tfplugin6 over gRPC, started by go-plugin), and
//! nothing else: this module knows no Datadog and no AWS. A provider plugs in through
//! the [`Provider`], [`Resource`], [`DataSource`] and [`ListResource`] traits and is served by [`serve`].
//!
//! Inside, bottom to top: `value` (values, types, their codecs and the one
//! [`AttrPath`]), `schema`, `diagnostics` and `typed` (typed reads for models); `plan` (the schema's plan rules); `core`
//! (each RPC's rules, in our types); `server` (the gRPC adapter: decode, call `core`,
//! encode, with `convert` for the generated types); `transport`, `handshake`, `tls`,
//! `services` and `logging` (serving the plugin to go-plugin).

pub mod convert;
pub(crate) mod core;
pub mod data_source;
pub mod diagnostics;
pub mod handshake;
pub mod identity;
pub mod list;
pub mod logging;
pub mod pb;
pub mod plan;
pub mod provider;
pub mod resource;
pub mod schema;
pub mod typed;
mod server;
mod services;
pub mod tls;
mod transport;
pub mod value;

pub use data_source::DataSource;
pub use diagnostics::{Diagnostic, Diagnostics, Severity};
pub use provider::Provider;
pub use identity::{IdentityAttribute, IdentitySchema};
pub use list::{ListOut, ListRequest, ListResource, Listed};
pub use resource::{ApplyRequest, CallCtx, MoveSource, PlanChange, Private, Resource};
pub use schema::{Attribute, Block, NestedBlock, Nesting, Schema};
pub use value::{AttrPath, PathStep, Type, Value};

pub use transport::{serve, ServeError, ServeOptions};
