//! A Terraform provider that puts a whole AWS Organization under Datadog monitoring.
//!
//! Layers, bottom to top: [`plugin`] speaks the Terraform plugin protocol and knows
//! nothing of Datadog or AWS; [`clients`] wraps the remote APIs behind traits;
//! [`resources`] maps Terraform's lifecycle onto those APIs, [`data_sources`] reads
//! them; [`provider`] configures the clients and lists both.

pub mod clients;
pub mod data_sources;
pub mod duration;
pub mod env;
pub mod plugin;
pub mod poll;
pub mod provider;
pub mod regions;
pub mod resources;

/// The provider's source address, used in the debug reattach value and the docs.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/orgsync/datadog";
