//! CloudFormation StackSets and Organizations, behind [`StackSets`] and
//! [`Organization`], in our own types. Only `sdk.rs` names AWS SDK types.

mod config;
mod error;
mod sdk;
mod status;
mod types;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

pub use config::{load_sdk_config, AssumeRole, AwsSettings, DEFAULT_RETRY};
pub use error::AwsError;
pub use sdk::SdkAws;
pub use status::*;
pub use types::*;

/// The StackSet calls of the org StackSet resource. Every call carries `call_as`,
/// retries throttling and `OperationInProgressException` itself (bounded), and gives
/// up when `cancel` fires.
#[async_trait]
pub trait StackSets: Send + Sync + std::fmt::Debug {
    /// `DescribeOrganizationsAccess`: is trusted access with Organizations on?
    async fn organizations_access(&self, call_as: CallAs, cancel: &CancellationToken) -> Result<TrustedAccess, AwsError>;
    /// `ActivateOrganizationsAccess` (management account only).
    async fn activate_organizations_access(&self, call_as: CallAs, cancel: &CancellationToken) -> Result<(), AwsError>;
    /// Every page of `ListStackSets`: the names of the ACTIVE service-managed
    /// StackSets this caller sees in the client's region.
    async fn list_stack_sets(&self, call_as: CallAs, cancel: &CancellationToken) -> Result<Vec<String>, AwsError>;
    /// `DescribeStackSet`; [`AwsError::NotFound`] when there is none.
    async fn describe_stack_set(&self, name: &str, call_as: CallAs, cancel: &CancellationToken) -> Result<StackSet, AwsError>;
    /// `CreateStackSet` (service-managed); returns the StackSet id.
    async fn create_stack_set(&self, input: &StackSetInput, client_token: &str, cancel: &CancellationToken) -> Result<String, AwsError>;
    /// `UpdateStackSet` for every instance; returns the operation id.
    async fn update_stack_set(&self, input: &StackSetInput, op: &OperationRequest, cancel: &CancellationToken) -> Result<String, AwsError>;
    /// `DeleteStackSet`; [`AwsError::NotFound`] when already gone.
    async fn delete_stack_set(&self, name: &str, call_as: CallAs, cancel: &CancellationToken) -> Result<(), AwsError>;
    /// `CreateStackInstances` for OU targets and regions; returns the operation id.
    async fn create_stack_instances(&self, targets: &InstanceTargets, op: &OperationRequest, cancel: &CancellationToken) -> Result<String, AwsError>;
    /// `DeleteStackInstances` for OU targets and regions (never retaining stacks).
    async fn delete_stack_instances(&self, targets: &InstanceTargets, op: &OperationRequest, cancel: &CancellationToken) -> Result<String, AwsError>;
    /// Every page of `ListStackInstances`.
    async fn list_stack_instances(&self, name: &str, call_as: CallAs, cancel: &CancellationToken) -> Result<Vec<StackInstance>, AwsError>;
    /// `DescribeStackSetOperation`.
    async fn describe_operation(&self, name: &str, call_as: CallAs, operation_id: &str, cancel: &CancellationToken) -> Result<Operation, AwsError>;
    /// Every page of `ListStackSetOperations`, newest first.
    async fn list_operations(&self, name: &str, call_as: CallAs, cancel: &CancellationToken) -> Result<Vec<Operation>, AwsError>;
    /// Every page of `ListStackSetOperationResults`.
    async fn list_operation_results(&self, name: &str, call_as: CallAs, operation_id: &str, cancel: &CancellationToken) -> Result<Vec<OperationResult>, AwsError>;
}

/// Plain CloudFormation stacks, for the management account's own stack of Datadog's
/// template (a service-managed StackSet never deploys there). Retries as [`StackSets`].
#[async_trait]
pub trait Stacks: Send + Sync + std::fmt::Debug {
    /// `DescribeStacks` by name; `None` when no stack of that name exists (deleted
    /// ones are not found by name).
    async fn describe_stack(&self, name: &str, cancel: &CancellationToken) -> Result<Option<Stack>, AwsError>;
    /// `GetTemplate`: the body the stack runs.
    async fn stack_template(&self, name: &str, cancel: &CancellationToken) -> Result<String, AwsError>;
    /// `CreateStack`; returns the stack id.
    async fn create_stack(&self, input: &StackInput, cancel: &CancellationToken) -> Result<String, AwsError>;
    /// `UpdateStack`; `false` when CloudFormation had nothing to update.
    async fn update_stack(&self, input: &StackInput, cancel: &CancellationToken) -> Result<bool, AwsError>;
    /// `DeleteStack` (by name or id; succeeds when already gone).
    async fn delete_stack(&self, name_or_id: &str, cancel: &CancellationToken) -> Result<(), AwsError>;
    /// The first page of `DescribeStackEvents`, newest first.
    async fn stack_events(&self, name_or_id: &str, cancel: &CancellationToken) -> Result<Vec<StackEvent>, AwsError>;
}

/// The Organizations reads the resource needs.
#[async_trait]
pub trait Organization: Send + Sync + std::fmt::Debug {
    /// The organization's management account id (`DescribeOrganization`).
    async fn management_account_id(&self, cancel: &CancellationToken) -> Result<String, AwsError>;
    /// Whether a root (`r-…`) or OU (`ou-…`) id exists.
    async fn target_exists(&self, id: &str, cancel: &CancellationToken) -> Result<bool, AwsError>;
    /// Every account in the root or OU `id` and all OUs below it, every page.
    async fn accounts_under(&self, id: &str, cancel: &CancellationToken) -> Result<Vec<Account>, AwsError>;
    /// `DescribeOrganization`: its id, ARN and management account.
    async fn describe(&self, cancel: &CancellationToken) -> Result<OrganizationInfo, AwsError>;
    /// Every root, OU and account with their names: `ListRoots`, then per root and OU
    /// every page of its accounts and child OUs; nothing per account.
    async fn tree(&self, cancel: &CancellationToken) -> Result<OrganizationTree, AwsError>;
}
