//! The contract between the protocol layer and the provider as a whole.

use std::sync::Arc;

use async_trait::async_trait;

use super::data_source::DataSource;
use super::diagnostics::Diagnostics;
use super::list::ListResource;
use super::resource::Resource;
use super::schema::Schema;
use super::value::Value;

/// A provider: its configuration schema, its resource and data source types.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The `provider "…" {}` block's schema.
    fn schema(&self) -> &Schema;

    /// Every managed resource type.
    fn resources(&self) -> &[Arc<dyn Resource>];

    /// Every list resource type (`terraform query`); each lists a managed type above.
    fn list_resources(&self) -> &[Arc<dyn ListResource>] {
        &[]
    }

    /// Every data source type.
    fn data_sources(&self) -> &[Arc<dyn DataSource>] {
        &[]
    }

    /// Checks the provider configuration without remote calls; it may hold unknowns.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Called once per Terraform run before any resource call that needs remote
    /// access. The configuration may still hold unknown values during a plan: such a
    /// provider must not fail now, but report the problem on first real use.
    async fn configure(&self, config: &Value, terraform_version: &str, diags: &mut Diagnostics);
}
