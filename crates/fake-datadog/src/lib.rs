//! A stateful, in-memory fake of Datadog's AWS integration v2 API (plus
//! `GET /api/v1/validate`), with fault injection and list shuffling, for the
//! provider's end-to-end tests and the sandbox demo.
//!
//! The crate knows the Datadog wire format as recorded from the live service
//! (see README.md); it must not know anything about the provider or Terraform.
//! Embed it in-process with [`router`] + [`serve`], or run the `fake-datadog`
//! binary.

mod admin;
mod api;
mod app;
mod auth;
mod clock;
mod errors;
mod faults;
mod input;
mod model;
mod observe;
mod server;
mod shuffle;
mod state;

pub use app::{router, Config};
pub use faults::DropConnection;
pub use server::serve;
