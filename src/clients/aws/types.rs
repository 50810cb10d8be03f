//! Our view of StackSets and Organizations, independent of the SDK's types.

use super::status::{AccountStatus, InstanceDetail, InstanceStatus, OperationStatus, ResultStatus, StackSetStatus, StackStatus};
use std::collections::BTreeMap;

/// Whose permissions a StackSet call uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallAs {
    /// The organization's management account.
    SelfAccount,
    /// A registered delegated administrator.
    DelegatedAdmin,
}

impl CallAs {
    /// The API's spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            CallAs::SelfAccount => "SELF",
            CallAs::DelegatedAdmin => "DELEGATED_ADMIN",
        }
    }

    /// Parses the API's spelling.
    #[must_use]
    pub fn parse(s: &str) -> Option<CallAs> {
        match s {
            "SELF" => Some(CallAs::SelfAccount),
            "DELEGATED_ADMIN" => Some(CallAs::DelegatedAdmin),
            _ => None,
        }
    }
}

/// Trusted access between StackSets and Organizations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustedAccess {
    /// On.
    Enabled,
    /// Off; can be activated.
    Disabled,
    /// Off for good in this organization.
    DisabledPermanently,
}

/// One template parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    /// `ParameterKey`.
    pub key: String,
    /// The value; `None` with `use_previous` keeps the stored one.
    pub value: Option<String>,
    /// `UsePreviousValue`.
    pub use_previous: bool,
}

/// What a StackSet is made or updated with.
#[derive(Debug, Clone, PartialEq)]
pub struct StackSetInput {
    /// `StackSetName`.
    pub name: String,
    /// `Description`.
    pub description: Option<String>,
    /// `TemplateURL` or `TemplateBody`.
    pub template: Template,
    /// Every parameter.
    pub parameters: Vec<Parameter>,
    /// `Capabilities`.
    pub capabilities: Vec<String>,
    /// `Tags`.
    pub tags: BTreeMap<String, String>,
    /// `AutoDeployment.Enabled`.
    pub auto_deployment: bool,
    /// `AutoDeployment.RetainStacksOnAccountRemoval`.
    pub retain_stacks_on_account_removal: bool,
    /// `ManagedExecution.Active`.
    pub managed_execution: bool,
    /// `CallAs`.
    pub call_as: CallAs,
}

/// Where the template comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Template {
    /// An S3 URL.
    Url(String),
    /// The body itself.
    Body(String),
}

/// `OperationPreferences`, sent with every operation (AWS does not store them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OperationPreferences {
    /// `RegionConcurrencyType`: SEQUENTIAL or PARALLEL.
    pub region_concurrency_type: Option<String>,
    /// `FailureToleranceCount`.
    pub failure_tolerance_count: Option<i32>,
    /// `FailureTolerancePercentage`.
    pub failure_tolerance_percentage: Option<i32>,
    /// `MaxConcurrentCount`.
    pub max_concurrent_count: Option<i32>,
    /// `MaxConcurrentPercentage`.
    pub max_concurrent_percentage: Option<i32>,
    /// `ConcurrencyMode`: STRICT_FAILURE_TOLERANCE or SOFT_FAILURE_TOLERANCE.
    pub concurrency_mode: Option<String>,
}

/// The parts every operation call shares.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationRequest {
    /// The StackSet.
    pub stack_set: String,
    /// `CallAs`.
    pub call_as: CallAs,
    /// `OperationId`: our idempotency token.
    pub operation_id: String,
    /// `OperationPreferences`.
    pub preferences: OperationPreferences,
}

/// OU targets and regions of an instance operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceTargets {
    /// Root or OU ids.
    pub organizational_unit_ids: Vec<String>,
    /// Regions.
    pub regions: Vec<String>,
    /// Only these accounts of the OUs (AWS's `INTERSECTION` account filter): a repair
    /// that deploys the missing accounts leaves every other stack alone. Empty: all.
    pub only_accounts: Vec<String>,
}

/// A StackSet as described.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StackSet {
    /// Name.
    pub name: String,
    /// `StackSetId`.
    pub id: String,
    /// `StackSetARN`.
    pub arn: String,
    /// ACTIVE or DELETED.
    pub status: StackSetStatus,
    /// Description.
    pub description: Option<String>,
    /// The template body.
    pub template_body: String,
    /// Parameters; NoEcho values come back as `****`.
    pub parameters: BTreeMap<String, String>,
    /// Capabilities.
    pub capabilities: Vec<String>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// `AutoDeployment.Enabled`.
    pub auto_deployment: bool,
    /// `AutoDeployment.RetainStacksOnAccountRemoval`.
    pub retain_stacks_on_account_removal: bool,
    /// `ManagedExecution.Active`.
    pub managed_execution: bool,
    /// Targeted root/OU ids.
    pub organizational_unit_ids: Vec<String>,
    /// Regions with instances.
    pub regions: Vec<String>,
    /// SERVICE_MANAGED or SELF_MANAGED.
    pub permission_model: String,
}

/// One stack instance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StackInstance {
    /// Account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// The OU it was deployed through.
    pub organizational_unit_id: String,
    /// CURRENT, OUTDATED or INOPERABLE.
    pub status: InstanceStatus,
    /// PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED, INOPERABLE, SKIPPED_SUSPENDED_ACCOUNT, FAILED_IMPORT.
    pub detailed_status: InstanceDetail,
    /// Why, when not healthy.
    pub status_reason: String,
    /// The stack's id in the member account: a new one each time the instance is
    /// created anew (and so its Datadog registration too).
    pub stack_id: String,
    /// The operation that last acted on it.
    pub last_operation_id: String,
}

impl StackInstance {
    /// Deployed and up to date.
    #[must_use]
    pub fn is_healthy(&self) -> bool {
        // No detailed status at all counts as succeeded: older answers leave it out.
        self.status == InstanceStatus::Current && (self.detailed_status == InstanceDetail::Succeeded || self.detailed_status.as_str().is_empty())
    }
}

/// One StackSet operation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Operation {
    /// `OperationId`.
    pub id: String,
    /// CREATE, UPDATE, DELETE, DETECT_DRIFT.
    pub action: String,
    /// QUEUED, RUNNING, SUCCEEDED, FAILED, STOPPING, STOPPED.
    pub status: OperationStatus,
    /// Why it ended as it did.
    pub status_reason: String,
    /// RFC 3339, for ordering.
    pub created: String,
}

impl Operation {
    /// Finished one way or another.
    #[must_use]
    pub fn is_done(&self) -> bool {
        matches!(self.status, OperationStatus::Succeeded | OperationStatus::Failed | OperationStatus::Stopped)
    }
}

/// One account/region result of an operation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperationResult {
    /// Account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED.
    pub status: ResultStatus,
    /// AWS's reason.
    pub status_reason: String,
}

/// An account of the organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// 12 digits.
    pub id: String,
    /// ACTIVE, SUSPENDED, PENDING_CLOSURE.
    pub status: AccountStatus,
    /// The root or OU it sits in directly.
    pub parent: String,
    /// Its name.
    pub name: String,
    /// Its root user's email address.
    pub email: String,
}

/// A root (`r-…`, no parent) or an OU (`ou-…`) of the organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationalUnit {
    /// `r-…` or `ou-…`.
    pub id: String,
    /// Its name (`Root` for the root).
    pub name: String,
    /// The root or OU it sits in directly; empty for a root.
    pub parent: String,
}

/// `DescribeOrganization`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganizationInfo {
    /// `o-…`.
    pub id: String,
    /// The organization's ARN (its partition is the second field).
    pub arn: String,
    /// The management account's id.
    pub management_account_id: String,
}

/// The whole organization, as one walk found it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganizationTree {
    /// The roots (one in practice) and every OU below them.
    pub units: Vec<OrganizationalUnit>,
    /// Every account, sorted by id.
    pub accounts: Vec<Account>,
}

/// What a plain stack (the management account's) is made or updated with.
#[derive(Debug, Clone, PartialEq)]
pub struct StackInput {
    /// `StackName`.
    pub name: String,
    /// `TemplateURL` or `TemplateBody`.
    pub template: Template,
    /// Every parameter.
    pub parameters: Vec<Parameter>,
    /// `Capabilities`.
    pub capabilities: Vec<String>,
    /// `Tags`.
    pub tags: BTreeMap<String, String>,
}

/// A plain stack as described.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stack {
    /// `StackId` (an ARN naming account and region).
    pub id: String,
    /// `StackName`.
    pub name: String,
    /// `StackStatus`.
    pub status: StackStatus,
    /// `StackStatusReason`.
    pub status_reason: String,
    /// Parameters; NoEcho values come back as `****`.
    pub parameters: BTreeMap<String, String>,
}

/// One stack event, for the reason a stack failed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StackEvent {
    /// `LogicalResourceId`.
    pub logical_id: String,
    /// `ResourceStatus`, e.g. `CREATE_FAILED`.
    pub status: String,
    /// `ResourceStatusReason`.
    pub reason: String,
}
