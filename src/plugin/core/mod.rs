//! The protocol's rules, one RPC a file, in our own types.
//!
//! Each function takes decoded values ([`Value`](crate::plugin::Value), private data,
//! flags) and returns values and [`Diagnostics`](crate::plugin::Diagnostics): the
//! gRPC adapter (`server.rs`) only decodes a request, calls one of them and encodes the
//! answer, and resource tests drive a resource through the very same rules Terraform
//! does. What they own, so resources don't: the create/update/delete dispatch, the
//! schema's plan rules around `modify_plan`, write-only values refused for an old
//! client and never stored, state kept on a failed read or delete, replace paths,
//! stored state upgrades, state moved in from other resource types, cancellation
//! on stop, and a list's limit, identities and early stop; for data sources, the
//! planned object of a configuration not yet known and arguments kept as configured.
//!
//! The provider-level RPCs (`ValidateProviderConfig`, `ConfigureProvider`) are a
//! decode and one call of the [`Provider`](crate::plugin::Provider): no rule of the
//! protocol's sits between, so they have no function here.

mod apply_resource_change;
mod import_resource_state;
mod list_resource;
mod move_resource_state;
mod plan_resource_change;
mod read_data_source;
mod read_resource;
#[cfg(test)]
mod scripted;
#[cfg(test)]
mod scripted_data;
mod stop;
mod upgrade_resource_state;
mod validate_data_resource_config;
mod validate_list_resource_config;
mod validate_resource_config;
mod write_only;

pub(crate) use apply_resource_change::{apply_resource_change, ApplyResourceChangeRequest, ApplyResourceChangeResponse};
pub(crate) use import_resource_state::{import_resource_state, ImportResourceStateResponse};
pub(crate) use list_resource::{list_resource, ListEvent, ListResourceRequest};
pub(crate) use move_resource_state::{move_resource_state, MoveResourceStateRequest, MoveResourceStateResponse};
pub(crate) use plan_resource_change::{plan_resource_change, PlanResourceChangeRequest, PlanResourceChangeResponse};
pub(crate) use read_data_source::{read_data_source, ReadDataSourceResponse};
pub(crate) use read_resource::{read_resource, ReadResourceRequest, ReadResourceResponse};
pub(crate) use stop::StopSignal;
pub(crate) use upgrade_resource_state::{upgrade_resource_state, UpgradeResourceStateRequest, UpgradeResourceStateResponse};
pub(crate) use validate_list_resource_config::validate_list_resource_config;
pub(crate) use validate_data_resource_config::validate_data_resource_config;
pub(crate) use validate_resource_config::validate_resource_config;
