//! Datadog's AWS integration v2 API (and the v1 key check), behind [`DatadogApi`].

mod error;
mod http;
mod pace;
mod snapshot;
pub mod model;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

pub use error::{error_message, DatadogError};
pub use http::{site_url, HttpDatadog, SITES};
pub use model::{AccountAttributes, AccountConfig};
pub use snapshot::AccountSnapshot;

/// The calls the resources make. Each call retries transient failures itself and
/// gives up when `cancel` fires.
#[async_trait]
pub trait DatadogApi: Send + Sync + std::fmt::Debug {
    /// `GET /api/v1/validate`: whether the API key is valid.
    async fn validate_api_key(&self, cancel: &CancellationToken) -> Result<(), DatadogError>;
    /// Every account config, or those of one AWS account id.
    async fn list_accounts(&self, aws_account_id: Option<&str>, cancel: &CancellationToken) -> Result<Vec<AccountConfig>, DatadogError>;
    /// One account config by UUID; [`DatadogError::NotFound`] when gone.
    async fn get_account(&self, id: &str, cancel: &CancellationToken) -> Result<AccountConfig, DatadogError>;
    /// Creates an account config.
    async fn create_account(&self, attrs: &AccountAttributes, cancel: &CancellationToken) -> Result<AccountConfig, DatadogError>;
    /// Updates an account config (the API merges omitted fields).
    async fn update_account(&self, id: &str, attrs: &AccountAttributes, cancel: &CancellationToken) -> Result<AccountConfig, DatadogError>;
    /// Deletes an account config; [`DatadogError::NotFound`] when already gone.
    async fn delete_account(&self, id: &str, cancel: &CancellationToken) -> Result<(), DatadogError>;
}
