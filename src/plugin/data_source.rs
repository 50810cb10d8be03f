//! The contract between the protocol layer and a data source type.
//!
//! The protocol core (`core/read_data_source.rs`, `core/validate_data_resource_config.rs`)
//! owns the rules around it, so data sources don't: a configuration still holding
//! unknown values is answered with the planned object (every computed attribute
//! unknown) without calling the data source, configured arguments come back as
//! written, and a failed read answers no object.

use async_trait::async_trait;

use super::diagnostics::Diagnostics;
use super::resource::CallCtx;
use super::schema::Schema;
use super::value::Value;

/// A data source type (`data "…" "…" {}`).
#[async_trait]
pub trait DataSource: Send + Sync + 'static {
    /// The Terraform type name, e.g. `datadog_aws_organization`.
    fn type_name(&self) -> &'static str;

    /// The schema; the same value on every call.
    fn schema(&self) -> &Schema;

    /// Called on `terraform validate` and before every read, without the provider
    /// being configured: check configuration only, no remote calls. `config` may hold
    /// unknown values, which must be accepted.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Reads the remote systems for a wholly known `config` and returns the whole
    /// object (arguments and computed attributes); `None` only with an error.
    async fn read(&self, ctx: &CallCtx, config: &Value, diags: &mut Diagnostics) -> Option<Value>;
}
