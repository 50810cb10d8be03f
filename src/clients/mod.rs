//! Remote APIs behind narrow async traits, so resources can be tested without a
//! network and production code compiles against the same types as tests.

pub mod aws;
mod cause;
pub mod datadog;
pub mod retry;
pub mod secret;
