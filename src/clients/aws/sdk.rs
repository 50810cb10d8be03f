//! The real [`StackSets`] and [`Organization`] clients over the AWS SDK for Rust. The
//! only module that names SDK types: everything else sees `types.rs` and [`AwsError`].
//!
//! The SDK's own retries are off, so `clients::retry` is the one retry policy; every
//! request (every page of a listing too) goes through it. Errors are read from the SDK's
//! error metadata (code, message, request id), never from its terse `Display`. Logs
//! carry operation names and ids only, never parameter values (they hold Datadog keys).

use std::collections::{BTreeMap, VecDeque};
use std::error::Error as StdError;
use std::future::Future;

use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::SdkConfig;
use aws_sdk_cloudformation as cfn;
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudformation::operation::RequestId;
use aws_sdk_organizations as org;
use futures::stream::{FuturesUnordered, StreamExt};
use tokio_util::sync::CancellationToken;

use super::config::AwsSettings;
use super::error::AwsError;
use super::types::{
    Account, CallAs, InstanceTargets, Operation, OperationPreferences, OperationRequest, OperationResult, OrganizationInfo,
    OrganizationTree, OrganizationalUnit, Parameter, Stack, StackEvent, StackInput, StackInstance, StackSet, StackSetInput, Template,
    TrustedAccess,
};
use super::{Organization, StackSets, Stacks};
use crate::clients::retry::{with_retry, RetryPolicy};

/// CloudFormation's largest page (`MaxResults` 1–100).
const CFN_PAGE_SIZE: i32 = 100;
/// Organizations' largest page (`MaxResults` 1–20).
const ORG_PAGE_SIZE: i32 = 20;
/// OUs listed at once while walking the tree: fast on wide trees, gentle on
/// Organizations' low request rate.
const ORG_CONCURRENCY: usize = 4;

/// CloudFormation and Organizations clients of one provider configuration.
#[derive(Debug, Clone)]
pub struct SdkAws {
    cfn: cfn::Client,
    org: org::Client,
    retry: RetryPolicy,
}

impl SdkAws {
    /// Clients for `config` (see [`super::load_sdk_config`]), with the endpoint
    /// overrides of `settings` and `retry` as the only retry policy.
    #[must_use]
    pub fn new(config: &SdkConfig, settings: &AwsSettings, retry: RetryPolicy) -> Self {
        Self::from_builders(cfn::config::Builder::from(config), org::config::Builder::from(config), settings, retry)
    }

    /// The common tail of [`SdkAws::new`]; tests pass builders carrying mock interceptors.
    fn from_builders(cfn_conf: cfn::config::Builder, org_conf: org::config::Builder, settings: &AwsSettings, retry: RetryPolicy) -> Self {
        let mut cfn_conf = cfn_conf.retry_config(RetryConfig::disabled());
        if let Some(url) = &settings.endpoint_cloudformation {
            cfn_conf = cfn_conf.endpoint_url(url);
        }
        let mut org_conf = org_conf.retry_config(RetryConfig::disabled());
        if let Some(url) = &settings.endpoint_organizations {
            org_conf = org_conf.endpoint_url(url);
        }
        SdkAws { cfn: cfn::Client::from_conf(cfn_conf.build()), org: org::Client::from_conf(org_conf.build()), retry }
    }

    /// Sends one request (`send` builds it afresh for every attempt) under the retry
    /// policy, mapping the SDK's error.
    async fn send<T, E, F, Fut>(&self, call: Call<'_>, cancel: &CancellationToken, send: F) -> Result<T, AwsError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E>>>,
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        tracing::debug!(
            operation = call.operation,
            stack_set = call.stack_set,
            operation_id = call.operation_id,
            parent = call.parent,
            "AWS call"
        );
        with_retry(&self.retry, call.operation, cancel, || {
            let fut = send();
            async move { fut.await.map_err(|e| map_sdk_error(&call, e)) }
        })
        .await
    }

    /// Every page of a listing: `request(token)` sends one page, `take` moves its items
    /// into the output and returns the next token. Each page is retried on its own (the
    /// SDK's paginators end their stream at the first error, so they are not used).
    async fn pages<O, E, T, F, Fut>(
        &self,
        call: Call<'_>,
        cancel: &CancellationToken,
        request: F,
        mut take: impl FnMut(O, &mut Vec<T>) -> Option<String>,
    ) -> Result<Vec<T>, AwsError>
    where
        F: Fn(Option<String>) -> Fut,
        Fut: Future<Output = Result<O, SdkError<E>>>,
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self.send(call, cancel, || request(token.clone())).await?;
            match take(page, &mut items) {
                // A repeated token would loop forever (the SDK's paginators stop on it too).
                Some(next) if !next.is_empty() && token.as_deref() != Some(next.as_str()) => token = Some(next),
                _ => return Ok(items),
            }
        }
    }

    /// The accounts directly in `parent` and its direct child OUs, every page of both.
    async fn children(&self, parent: String, cancel: &CancellationToken) -> Result<(Vec<Account>, Vec<OrganizationalUnit>), AwsError> {
        let accounts = self.pages(
            Call::org("ListAccountsForParent", &parent),
            cancel,
            |token| self.org.list_accounts_for_parent().parent_id(&parent).max_results(ORG_PAGE_SIZE).set_next_token(token).send(),
            |page, out| {
                out.extend(page.accounts().iter().filter_map(|a| org_account(a, &parent)));
                page.next_token().map(str::to_owned)
            },
        );
        let ous = self.pages(
            Call::org("ListOrganizationalUnitsForParent", &parent),
            cancel,
            |token| self.org.list_organizational_units_for_parent().parent_id(&parent).max_results(ORG_PAGE_SIZE).set_next_token(token).send(),
            |page, out| {
                out.extend(page.organizational_units().iter().filter_map(|ou| {
                    Some(OrganizationalUnit { id: ou.id()?.to_owned(), name: ou.name().unwrap_or_default().to_owned(), parent: parent.clone() })
                }));
                page.next_token().map(str::to_owned)
            },
        );
        futures::try_join!(accounts, ous)
    }

    /// Every account and OU under `roots`, breadth-first, up to ORG_CONCURRENCY OUs
    /// listed at once. Calls: one per page of accounts and of child OUs, per OU;
    /// nothing per account.
    async fn walk(&self, roots: Vec<String>, cancel: &CancellationToken) -> Result<(Vec<Account>, Vec<OrganizationalUnit>), AwsError> {
        let mut pending = VecDeque::from(roots);
        let mut running = FuturesUnordered::new();
        let (mut accounts, mut units) = (Vec::new(), Vec::new());
        loop {
            while running.len() < ORG_CONCURRENCY {
                match pending.pop_front() {
                    Some(parent) => running.push(self.children(parent, cancel)),
                    None => break,
                }
            }
            match running.next().await {
                Some(listed) => {
                    let (found, ous) = listed?;
                    accounts.extend(found);
                    pending.extend(ous.iter().map(|ou| ou.id.clone()));
                    units.extend(ous);
                }
                None => break,
            }
        }
        accounts.sort_by(|a: &Account, b: &Account| a.id.cmp(&b.id));
        Ok((accounts, units))
    }
}

/// What a request is about, for logs and error messages.
#[derive(Debug, Clone, Copy)]
struct Call<'a> {
    operation: &'static str,
    stack_set: Option<&'a str>,
    operation_id: Option<&'a str>,
    parent: Option<&'a str>,
}

impl<'a> Call<'a> {
    fn new(operation: &'static str) -> Self {
        Call { operation, stack_set: None, operation_id: None, parent: None }
    }

    fn set(operation: &'static str, stack_set: &'a str) -> Self {
        Call { stack_set: Some(stack_set), ..Call::new(operation) }
    }

    fn op(operation: &'static str, stack_set: &'a str, operation_id: &'a str) -> Self {
        Call { stack_set: Some(stack_set), operation_id: Some(operation_id), ..Call::new(operation) }
    }

    fn org(operation: &'static str, parent: &'a str) -> Self {
        Call { parent: Some(parent), ..Call::new(operation) }
    }
}

/// The one SDK error mapping. AWS's answers become [`AwsError::Service`] with code,
/// message and request id (the two "not found" codes become [`AwsError::NotFound`]);
/// no answer (connection, timeout, credentials, unreadable response) becomes
/// [`AwsError::Transport`] with the whole cause chain, which the retry policy retries.
/// A request the SDK could not even build is our bug and not worth retrying: it is
/// reported as a `Service` error with code `ConstructionFailure`.
fn map_sdk_error<E>(call: &Call<'_>, err: SdkError<E>) -> AwsError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let operation = call.operation;
    match &err {
        SdkError::ServiceError(service) => {
            // The modeled error's metadata holds the request id; the raw response's
            // headers are the fallback (unmodeled errors).
            let request_id = err.meta().request_id().or_else(|| err.request_id()).map(str::to_owned);
            let status = service.raw().status().as_u16();
            match err.code() {
                Some("StackSetNotFoundException") => {
                    AwsError::NotFound { what: format!("StackSet {}", call.stack_set.unwrap_or_default()).trim_end().to_owned() }
                }
                Some("OperationNotFoundException") => AwsError::NotFound {
                    what: format!(
                        "StackSet operation {} of StackSet {}",
                        call.operation_id.unwrap_or_default(),
                        call.stack_set.unwrap_or_default()
                    ),
                },
                Some(code) => AwsError::Service {
                    operation,
                    code: code.to_owned(),
                    message: err.message().map_or_else(|| crate::clients::cause::chain(&err), str::to_owned),
                    request_id,
                },
                // No error code: a gateway or load balancer answered, not the service.
                None if status >= 500 || status == 429 => AwsError::Transport { operation, message: format!("HTTP {status}: {}", crate::clients::cause::chain(&err)) },
                None => AwsError::Service { operation, code: format!("HTTP {status}"), message: crate::clients::cause::chain(&err), request_id },
            }
        }
        SdkError::ConstructionFailure(_) => AwsError::Service {
            operation,
            code: "ConstructionFailure".to_owned(),
            message: crate::clients::cause::chain(&err),
            request_id: None,
        },
        _ => {
            let message = crate::clients::cause::chain(&err);
            // Missing credentials or region do not heal by waiting: say so at once.
            let lower = message.to_ascii_lowercase();
            if lower.contains("credential") || lower.contains("region") && lower.contains("not") {
                AwsError::Service { operation, code: "CredentialsOrRegion".to_owned(), message: format!("{message}. Configure AWS credentials and a region (environment, shared config, or the provider's aws block)."), request_id: None }
            } else {
                AwsError::Transport { operation, message }
            }
        }
    }
}

/// AWS answered without a field it always sends.
fn incomplete(operation: &'static str, what: &str) -> AwsError {
    AwsError::Service { operation, code: "IncompleteResponse".to_owned(), message: format!("the response has no {what}"), request_id: None }
}

fn cfn_call_as(call_as: CallAs) -> cfn::types::CallAs {
    match call_as {
        CallAs::SelfAccount => cfn::types::CallAs::SelfValue,
        CallAs::DelegatedAdmin => cfn::types::CallAs::DelegatedAdmin,
    }
}

/// `None` when nothing is set, so AWS applies its defaults.
fn cfn_preferences(p: &OperationPreferences) -> Option<cfn::types::StackSetOperationPreferences> {
    if *p == OperationPreferences::default() {
        return None;
    }
    Some(
        cfn::types::StackSetOperationPreferences::builder()
            .set_region_concurrency_type(p.region_concurrency_type.as_deref().map(cfn::types::RegionConcurrencyType::from))
            .set_failure_tolerance_count(p.failure_tolerance_count)
            .set_failure_tolerance_percentage(p.failure_tolerance_percentage)
            .set_max_concurrent_count(p.max_concurrent_count)
            .set_max_concurrent_percentage(p.max_concurrent_percentage)
            .set_concurrency_mode(p.concurrency_mode.as_deref().map(cfn::types::ConcurrencyMode::from))
            .build(),
    )
}

/// With `use_previous`, only the key and `UsePreviousValue=true` (AWS rejects a value
/// alongside it).
fn cfn_parameters(params: &[Parameter]) -> Vec<cfn::types::Parameter> {
    params
        .iter()
        .map(|p| {
            let b = cfn::types::Parameter::builder().parameter_key(&p.key);
            if p.use_previous { b.use_previous_value(true) } else { b.set_parameter_value(p.value.clone()) }.build()
        })
        .collect()
}

fn cfn_tags(tags: &BTreeMap<String, String>) -> Vec<cfn::types::Tag> {
    tags.iter().map(|(k, v)| cfn::types::Tag::builder().key(k).value(v).build()).collect()
}

fn cfn_capabilities(caps: &[String]) -> Vec<cfn::types::Capability> {
    caps.iter().map(|c| cfn::types::Capability::from(c.as_str())).collect()
}

/// `RetainStacksOnAccountRemoval` may only be given with `Enabled=true`.
fn cfn_auto_deployment(input: &StackSetInput) -> cfn::types::AutoDeployment {
    let b = cfn::types::AutoDeployment::builder().enabled(input.auto_deployment);
    if input.auto_deployment { b.retain_stacks_on_account_removal(input.retain_stacks_on_account_removal) } else { b }.build()
}

fn cfn_managed_execution(input: &StackSetInput) -> cfn::types::ManagedExecution {
    cfn::types::ManagedExecution::builder().active(input.managed_execution).build()
}

fn cfn_targets(targets: &InstanceTargets) -> cfn::types::DeploymentTargets {
    let ous = cfn::types::DeploymentTargets::builder().set_organizational_unit_ids(Some(targets.organizational_unit_ids.clone()));
    if targets.only_accounts.is_empty() {
        return ous.build();
    }
    ous.set_accounts(Some(targets.only_accounts.clone())).account_filter_type(cfn::types::AccountFilterType::Intersection).build()
}

fn stack_set_from(s: &cfn::types::StackSet) -> StackSet {
    let auto = s.auto_deployment();
    StackSet {
        name: s.stack_set_name().unwrap_or_default().to_owned(),
        id: s.stack_set_id().unwrap_or_default().to_owned(),
        arn: s.stack_set_arn().unwrap_or_default().to_owned(),
        status: s.status().map(|v| v.as_str().into()).unwrap_or_default(),
        description: s.description().map(str::to_owned),
        template_body: s.template_body().unwrap_or_default().to_owned(),
        parameters: s
            .parameters()
            .iter()
            .filter_map(|p| Some((p.parameter_key()?.to_owned(), p.parameter_value().unwrap_or_default().to_owned())))
            .collect(),
        capabilities: s.capabilities().iter().map(|c| c.as_str().to_owned()).collect(),
        tags: s.tags().iter().filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned()))).collect(),
        auto_deployment: auto.and_then(|a| a.enabled()).unwrap_or(false),
        retain_stacks_on_account_removal: auto.and_then(|a| a.retain_stacks_on_account_removal()).unwrap_or(false),
        managed_execution: s.managed_execution().and_then(|m| m.active()).unwrap_or(false),
        organizational_unit_ids: s.organizational_unit_ids().to_vec(),
        regions: s.regions().to_vec(),
        permission_model: s.permission_model().map(|v| v.as_str().to_owned()).unwrap_or_default(),
    }
}

fn stack_instance_from(s: &cfn::types::StackInstanceSummary) -> StackInstance {
    StackInstance {
        account: s.account().unwrap_or_default().to_owned(),
        region: s.region().unwrap_or_default().to_owned(),
        organizational_unit_id: s.organizational_unit_id().unwrap_or_default().to_owned(),
        status: s.status().map(|v| v.as_str().into()).unwrap_or_default(),
        detailed_status: s.stack_instance_status().and_then(|v| v.detailed_status()).map(|v| v.as_str().into()).unwrap_or_default(),
        status_reason: s.status_reason().unwrap_or_default().to_owned(),
        stack_id: s.stack_id().unwrap_or_default().to_owned(),
        last_operation_id: s.last_operation_id().unwrap_or_default().to_owned(),
    }
}

fn rfc3339(t: Option<&cfn::primitives::DateTime>) -> String {
    t.and_then(|t| t.fmt(cfn::primitives::DateTimeFormat::DateTime).ok()).unwrap_or_default()
}

fn org_account(a: &org::types::Account, parent: &str) -> Option<Account> {
    // `Status` is being retired in favour of `State` (which adds CLOSED and
    // PENDING_ACTIVATION); read the new field first.
    #[allow(deprecated)]
    let status = a.state().map(|s| s.as_str()).or_else(|| a.status().map(|s| s.as_str())).unwrap_or_default();
    Some(Account {
        id: a.id()?.to_owned(),
        status: status.into(),
        parent: parent.to_owned(),
        name: a.name().unwrap_or_default().to_owned(),
        email: a.email().unwrap_or_default().to_owned(),
    })
}

#[async_trait]
impl StackSets for SdkAws {
    async fn organizations_access(&self, call_as: CallAs, cancel: &CancellationToken) -> Result<TrustedAccess, AwsError> {
        const OP: &str = "DescribeOrganizationsAccess";
        let out = self.send(Call::new(OP), cancel, || self.cfn.describe_organizations_access().call_as(cfn_call_as(call_as)).send()).await?;
        match out.status().map(|s| s.as_str()) {
            Some("ENABLED") => Ok(TrustedAccess::Enabled),
            Some("DISABLED") => Ok(TrustedAccess::Disabled),
            Some("DISABLED_PERMANENTLY") => Ok(TrustedAccess::DisabledPermanently),
            Some(other) => Err(AwsError::Service {
                operation: OP,
                code: "UnexpectedResponse".to_owned(),
                message: format!("unknown status {other}"),
                request_id: None,
            }),
            None => Err(incomplete(OP, "Status")),
        }
    }

    async fn activate_organizations_access(&self, _call_as: CallAs, cancel: &CancellationToken) -> Result<(), AwsError> {
        // The API takes no CallAs: only the management account may activate.
        self.send(Call::new("ActivateOrganizationsAccess"), cancel, || self.cfn.activate_organizations_access().send()).await?;
        Ok(())
    }

    async fn list_stack_sets(&self, call_as: CallAs, cancel: &CancellationToken) -> Result<Vec<String>, AwsError> {
        self.pages(
            Call::new("ListStackSets"),
            cancel,
            |token| {
                self.cfn
                    .list_stack_sets()
                    .status(cfn::types::StackSetStatus::Active)
                    .call_as(cfn_call_as(call_as))
                    .max_results(CFN_PAGE_SIZE)
                    .set_next_token(token)
                    .send()
            },
            |page, out| {
                let service_managed = |s: &&cfn::types::StackSetSummary| s.permission_model() == Some(&cfn::types::PermissionModels::ServiceManaged);
                out.extend(page.summaries().iter().filter(service_managed).filter_map(|s| s.stack_set_name().map(str::to_owned)));
                page.next_token().map(str::to_owned)
            },
        )
        .await
    }

    async fn describe_stack_set(&self, name: &str, call_as: CallAs, cancel: &CancellationToken) -> Result<StackSet, AwsError> {
        let out = self
            .send(Call::set("DescribeStackSet", name), cancel, || {
                self.cfn.describe_stack_set().stack_set_name(name).call_as(cfn_call_as(call_as)).send()
            })
            .await?;
        // A DELETED StackSet is returned as it is: the resource decides what it means.
        out.stack_set().map(stack_set_from).ok_or_else(|| AwsError::NotFound { what: format!("StackSet {name}") })
    }

    async fn create_stack_set(&self, input: &StackSetInput, client_token: &str, cancel: &CancellationToken) -> Result<String, AwsError> {
        const OP: &str = "CreateStackSet";
        let mut req = self
            .cfn
            .create_stack_set()
            .stack_set_name(&input.name)
            .set_description(input.description.clone())
            .set_parameters(Some(cfn_parameters(&input.parameters)))
            .set_capabilities(Some(cfn_capabilities(&input.capabilities)))
            .set_tags(Some(cfn_tags(&input.tags)))
            .permission_model(cfn::types::PermissionModels::ServiceManaged)
            .auto_deployment(cfn_auto_deployment(input))
            .managed_execution(cfn_managed_execution(input))
            .call_as(cfn_call_as(input.call_as))
            .client_request_token(client_token);
        req = match &input.template {
            Template::Url(url) => req.template_url(url),
            Template::Body(body) => req.template_body(body),
        };
        let out = self.send(Call::set(OP, &input.name), cancel, || req.clone().send()).await?;
        out.stack_set_id().map(str::to_owned).ok_or_else(|| incomplete(OP, "StackSetId"))
    }

    async fn update_stack_set(&self, input: &StackSetInput, op: &OperationRequest, cancel: &CancellationToken) -> Result<String, AwsError> {
        // No DeploymentTargets/Regions: the update applies to every instance. Tags,
        // parameters and capabilities are always sent: an empty list clears them.
        let mut req = self
            .cfn
            .update_stack_set()
            .stack_set_name(&input.name)
            .set_description(input.description.clone())
            .set_parameters(Some(cfn_parameters(&input.parameters)))
            .set_capabilities(Some(cfn_capabilities(&input.capabilities)))
            .set_tags(Some(cfn_tags(&input.tags)))
            .permission_model(cfn::types::PermissionModels::ServiceManaged)
            .auto_deployment(cfn_auto_deployment(input))
            .managed_execution(cfn_managed_execution(input))
            .set_operation_preferences(cfn_preferences(&op.preferences))
            .operation_id(&op.operation_id)
            .call_as(cfn_call_as(input.call_as));
        req = match &input.template {
            Template::Url(url) => req.template_url(url),
            Template::Body(body) => req.template_body(body),
        };
        let out = self.send(Call::op("UpdateStackSet", &input.name, &op.operation_id), cancel, || req.clone().send()).await?;
        Ok(out.operation_id().unwrap_or(&op.operation_id).to_owned())
    }

    async fn delete_stack_set(&self, name: &str, call_as: CallAs, cancel: &CancellationToken) -> Result<(), AwsError> {
        self.send(Call::set("DeleteStackSet", name), cancel, || {
            self.cfn.delete_stack_set().stack_set_name(name).call_as(cfn_call_as(call_as)).send()
        })
        .await?;
        Ok(())
    }

    async fn create_stack_instances(&self, targets: &InstanceTargets, op: &OperationRequest, cancel: &CancellationToken) -> Result<String, AwsError> {
        let req = self
            .cfn
            .create_stack_instances()
            .stack_set_name(&op.stack_set)
            .deployment_targets(cfn_targets(targets))
            .set_regions(Some(targets.regions.clone()))
            .set_operation_preferences(cfn_preferences(&op.preferences))
            .operation_id(&op.operation_id)
            .call_as(cfn_call_as(op.call_as));
        let out = self.send(Call::op("CreateStackInstances", &op.stack_set, &op.operation_id), cancel, || req.clone().send()).await?;
        Ok(out.operation_id().unwrap_or(&op.operation_id).to_owned())
    }

    async fn delete_stack_instances(&self, targets: &InstanceTargets, op: &OperationRequest, cancel: &CancellationToken) -> Result<String, AwsError> {
        // Service-managed StackSets must be targeted by OU (account ids are rejected).
        let req = self
            .cfn
            .delete_stack_instances()
            .stack_set_name(&op.stack_set)
            .deployment_targets(cfn_targets(targets))
            .set_regions(Some(targets.regions.clone()))
            .set_operation_preferences(cfn_preferences(&op.preferences))
            .retain_stacks(false)
            .operation_id(&op.operation_id)
            .call_as(cfn_call_as(op.call_as));
        let out = self.send(Call::op("DeleteStackInstances", &op.stack_set, &op.operation_id), cancel, || req.clone().send()).await?;
        Ok(out.operation_id().unwrap_or(&op.operation_id).to_owned())
    }

    async fn list_stack_instances(&self, name: &str, call_as: CallAs, cancel: &CancellationToken) -> Result<Vec<StackInstance>, AwsError> {
        self.pages(
            Call::set("ListStackInstances", name),
            cancel,
            |token| {
                self.cfn
                    .list_stack_instances()
                    .stack_set_name(name)
                    .call_as(cfn_call_as(call_as))
                    .max_results(CFN_PAGE_SIZE)
                    .set_next_token(token)
                    .send()
            },
            |page, out| {
                out.extend(page.summaries().iter().map(stack_instance_from));
                page.next_token().map(str::to_owned)
            },
        )
        .await
    }

    async fn describe_operation(&self, name: &str, call_as: CallAs, operation_id: &str, cancel: &CancellationToken) -> Result<Operation, AwsError> {
        let out = self
            .send(Call::op("DescribeStackSetOperation", name, operation_id), cancel, || {
                self.cfn
                    .describe_stack_set_operation()
                    .stack_set_name(name)
                    .operation_id(operation_id)
                    .call_as(cfn_call_as(call_as))
                    .send()
            })
            .await?;
        let o = out
            .stack_set_operation()
            .ok_or_else(|| AwsError::NotFound { what: format!("StackSet operation {operation_id} of StackSet {name}") })?;
        Ok(Operation {
            id: o.operation_id().unwrap_or(operation_id).to_owned(),
            action: o.action().map(|v| v.as_str().to_owned()).unwrap_or_default(),
            status: o.status().map(|v| v.as_str().into()).unwrap_or_default(),
            status_reason: o.status_reason().unwrap_or_default().to_owned(),
            created: rfc3339(o.creation_timestamp()),
        })
    }

    async fn list_operations(&self, name: &str, call_as: CallAs, cancel: &CancellationToken) -> Result<Vec<Operation>, AwsError> {
        let mut ops = self
            .pages(
                Call::set("ListStackSetOperations", name),
                cancel,
                |token| {
                    self.cfn
                        .list_stack_set_operations()
                        .stack_set_name(name)
                        .call_as(cfn_call_as(call_as))
                        .max_results(CFN_PAGE_SIZE)
                        .set_next_token(token)
                        .send()
                },
                |page, out| {
                    out.extend(page.summaries().iter().map(|o| {
                        let created = o.creation_timestamp().copied();
                        let op = Operation {
                            id: o.operation_id().unwrap_or_default().to_owned(),
                            action: o.action().map(|v| v.as_str().to_owned()).unwrap_or_default(),
                            status: o.status().map(|v| v.as_str().into()).unwrap_or_default(),
                            status_reason: o.status_reason().unwrap_or_default().to_owned(),
                            created: rfc3339(created.as_ref()),
                        };
                        (created, op)
                    }));
                    page.next_token().map(str::to_owned)
                },
            )
            .await?;
        // Newest first, by the timestamp itself (the strings may differ in precision);
        // operations without one last.
        ops.sort_by_key(|(created, _)| std::cmp::Reverse(*created));
        Ok(ops.into_iter().map(|(_, op)| op).collect())
    }

    async fn list_operation_results(
        &self,
        name: &str,
        call_as: CallAs,
        operation_id: &str,
        cancel: &CancellationToken,
    ) -> Result<Vec<OperationResult>, AwsError> {
        self.pages(
            Call::op("ListStackSetOperationResults", name, operation_id),
            cancel,
            |token| {
                self.cfn
                    .list_stack_set_operation_results()
                    .stack_set_name(name)
                    .operation_id(operation_id)
                    .call_as(cfn_call_as(call_as))
                    .max_results(CFN_PAGE_SIZE)
                    .set_next_token(token)
                    .send()
            },
            |page, out| {
                out.extend(page.summaries().iter().map(|r| OperationResult {
                    account: r.account().unwrap_or_default().to_owned(),
                    region: r.region().unwrap_or_default().to_owned(),
                    status: r.status().map(|v| v.as_str().into()).unwrap_or_default(),
                    status_reason: r.status_reason().unwrap_or_default().to_owned(),
                }));
                page.next_token().map(str::to_owned)
            },
        )
        .await
    }
}

/// CloudFormation's answer to a stack name it does not know (a `ValidationError`).
fn is_missing_stack(e: &AwsError) -> bool {
    matches!(e, AwsError::Service { code, message, .. } if code == "ValidationError" && message.contains("does not exist"))
}

fn stack_from(s: &cfn::types::Stack) -> Stack {
    Stack {
        id: s.stack_id().unwrap_or_default().to_owned(),
        name: s.stack_name().unwrap_or_default().to_owned(),
        status: s.stack_status().map(|st| st.as_str()).unwrap_or_default().into(),
        status_reason: s.stack_status_reason().unwrap_or_default().to_owned(),
        parameters: s
            .parameters()
            .iter()
            .filter_map(|p| Some((p.parameter_key()?.to_owned(), p.parameter_value().unwrap_or_default().to_owned())))
            .collect(),
    }
}

#[async_trait]
impl Stacks for SdkAws {
    async fn describe_stack(&self, name: &str, cancel: &CancellationToken) -> Result<Option<Stack>, AwsError> {
        match self.send(Call::set("DescribeStacks", name), cancel, || self.cfn.describe_stacks().stack_name(name).send()).await {
            Ok(out) => Ok(out.stacks().first().map(stack_from)),
            Err(e) if is_missing_stack(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn stack_template(&self, name: &str, cancel: &CancellationToken) -> Result<String, AwsError> {
        let out = self.send(Call::set("GetTemplate", name), cancel, || self.cfn.get_template().stack_name(name).send()).await?;
        out.template_body().map(str::to_owned).ok_or_else(|| incomplete("GetTemplate", "TemplateBody"))
    }

    async fn create_stack(&self, input: &StackInput, cancel: &CancellationToken) -> Result<String, AwsError> {
        const OP: &str = "CreateStack";
        let mut req = self
            .cfn
            .create_stack()
            .stack_name(&input.name)
            .set_parameters(Some(cfn_parameters(&input.parameters)))
            .set_capabilities(Some(cfn_capabilities(&input.capabilities)))
            .set_tags(Some(cfn_tags(&input.tags)));
        req = match &input.template {
            Template::Url(url) => req.template_url(url),
            Template::Body(body) => req.template_body(body),
        };
        let out = self.send(Call::set(OP, &input.name), cancel, || req.clone().send()).await?;
        out.stack_id().map(str::to_owned).ok_or_else(|| incomplete(OP, "StackId"))
    }

    async fn update_stack(&self, input: &StackInput, cancel: &CancellationToken) -> Result<bool, AwsError> {
        let mut req = self
            .cfn
            .update_stack()
            .stack_name(&input.name)
            .set_parameters(Some(cfn_parameters(&input.parameters)))
            .set_capabilities(Some(cfn_capabilities(&input.capabilities)))
            .set_tags(Some(cfn_tags(&input.tags)));
        req = match &input.template {
            Template::Url(url) => req.template_url(url),
            Template::Body(body) => req.template_body(body),
        };
        match self.send(Call::set("UpdateStack", &input.name), cancel, || req.clone().send()).await {
            Ok(_) => Ok(true),
            // CloudFormation refuses an update that changes nothing; for us it is done.
            Err(AwsError::Service { code, message, .. }) if code == "ValidationError" && message.contains("No updates are to be performed") => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn delete_stack(&self, name_or_id: &str, cancel: &CancellationToken) -> Result<(), AwsError> {
        self.send(Call::set("DeleteStack", name_or_id), cancel, || self.cfn.delete_stack().stack_name(name_or_id).send()).await?;
        Ok(())
    }

    async fn stack_events(&self, name_or_id: &str, cancel: &CancellationToken) -> Result<Vec<StackEvent>, AwsError> {
        let out = self.send(Call::set("DescribeStackEvents", name_or_id), cancel, || self.cfn.describe_stack_events().stack_name(name_or_id).send()).await?;
        Ok(out
            .stack_events()
            .iter()
            .map(|e| StackEvent {
                logical_id: e.logical_resource_id().unwrap_or_default().to_owned(),
                status: e.resource_status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                reason: e.resource_status_reason().unwrap_or_default().to_owned(),
            })
            .collect())
    }
}

#[async_trait]
impl Organization for SdkAws {
    async fn management_account_id(&self, cancel: &CancellationToken) -> Result<String, AwsError> {
        const OP: &str = "DescribeOrganization";
        let out = self.send(Call::new(OP), cancel, || self.org.describe_organization().send()).await?;
        out.organization().and_then(|o| o.master_account_id()).map(str::to_owned).ok_or_else(|| incomplete(OP, "MasterAccountId"))
    }

    async fn target_exists(&self, id: &str, cancel: &CancellationToken) -> Result<bool, AwsError> {
        if id.starts_with("r-") {
            let roots = self
                .pages(
                    Call::new("ListRoots"),
                    cancel,
                    |token| self.org.list_roots().max_results(ORG_PAGE_SIZE).set_next_token(token).send(),
                    |page, out| {
                        out.extend(page.roots().iter().filter_map(|r| r.id().map(str::to_owned)));
                        page.next_token().map(str::to_owned)
                    },
                )
                .await?;
            Ok(roots.iter().any(|r| r == id))
        } else if id.starts_with("ou-") {
            let found = self
                .send(Call::org("DescribeOrganizationalUnit", id), cancel, || {
                    self.org.describe_organizational_unit().organizational_unit_id(id).send()
                })
                .await;
            match found {
                Ok(_) => Ok(true),
                Err(e) if e.code() == Some("OrganizationalUnitNotFoundException") => Ok(false),
                Err(e) => Err(e),
            }
        } else {
            Ok(false)
        }
    }

    async fn accounts_under(&self, id: &str, cancel: &CancellationToken) -> Result<Vec<Account>, AwsError> {
        Ok(self.walk(vec![id.to_owned()], cancel).await?.0)
    }

    async fn describe(&self, cancel: &CancellationToken) -> Result<OrganizationInfo, AwsError> {
        const OP: &str = "DescribeOrganization";
        let out = self.send(Call::new(OP), cancel, || self.org.describe_organization().send()).await?;
        let org = out.organization().ok_or_else(|| incomplete(OP, "Organization"))?;
        Ok(OrganizationInfo {
            id: org.id().ok_or_else(|| incomplete(OP, "Id"))?.to_owned(),
            arn: org.arn().unwrap_or_default().to_owned(),
            management_account_id: org.master_account_id().ok_or_else(|| incomplete(OP, "MasterAccountId"))?.to_owned(),
        })
    }

    async fn tree(&self, cancel: &CancellationToken) -> Result<OrganizationTree, AwsError> {
        let roots = self
            .pages(
                Call::new("ListRoots"),
                cancel,
                |token| self.org.list_roots().max_results(ORG_PAGE_SIZE).set_next_token(token).send(),
                |page, out| {
                    out.extend(page.roots().iter().filter_map(|r| {
                        Some(OrganizationalUnit { id: r.id()?.to_owned(), name: r.name().unwrap_or("Root").to_owned(), parent: String::new() })
                    }));
                    page.next_token().map(str::to_owned)
                },
            )
            .await?;
        let (accounts, ous) = self.walk(roots.iter().map(|r| r.id.clone()).collect(), cancel).await?;
        Ok(OrganizationTree { units: roots.into_iter().chain(ous).collect(), accounts })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::retry::{Classify, Retry};
    use aws_sdk_cloudformation::error::{ConnectorError, ErrorMetadata};
    use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
    use aws_smithy_mocks::{mock, MockResponseInterceptor, Rule, RuleMode};
    use aws_smithy_types::body::SdkBody;
    use std::time::Duration;

    fn fast_retry(max_attempts: u32) -> RetryPolicy {
        RetryPolicy { max_attempts, base: Duration::from_millis(1), max_backoff: Duration::from_millis(2) }
    }

    fn test_sdk_config(http: impl aws_sdk_cloudformation::config::HttpClient + 'static) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(cfn::config::SharedCredentialsProvider::new(cfn::config::Credentials::new(
                "AKIDTEST", "secret", None, None, "test",
            )))
            .http_client(http)
            .build()
    }

    /// An SdkAws whose calls are answered by `rules` (any order).
    fn mocked(rules: &[&Rule], retry: RetryPolicy) -> SdkAws {
        let conf = test_sdk_config(aws_smithy_mocks::create_mock_http_client());
        let mut cfn_interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
        let mut org_interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
        for rule in rules {
            cfn_interceptor = cfn_interceptor.with_rule(rule);
            org_interceptor = org_interceptor.with_rule(rule);
        }
        SdkAws::from_builders(
            cfn::config::Builder::from(&conf).interceptor(cfn_interceptor),
            org::config::Builder::from(&conf).interceptor(org_interceptor),
            &AwsSettings::default(),
            retry,
        )
    }

    fn meta(code: &str, message: &str) -> ErrorMetadata {
        ErrorMetadata::builder().code(code).message(message).custom("aws_request_id", "req-42").build()
    }

    /// A raw HTTP response; the type (the SDK's `HttpResponse`) is inferred from the use.
    fn raw<R>(status: u16) -> R
    where
        R: TryFrom<http::Response<SdkBody>>,
        R::Error: std::fmt::Debug,
    {
        http::Response::builder()
            .status(status)
            .header("x-amzn-requestid", "req-from-header")
            .body(SdkBody::empty())
            .expect("valid response")
            .try_into()
            .expect("convertible response")
    }

    fn op_request(operation_id: &str) -> OperationRequest {
        OperationRequest {
            stack_set: "datadog".into(),
            call_as: CallAs::SelfAccount,
            operation_id: operation_id.into(),
            preferences: OperationPreferences::default(),
        }
    }

    /// OperationInProgressException keeps its code, message and request id and is
    /// classified as "retry later"; StackSetNotFoundException becomes NotFound.
    #[test]
    fn service_errors_map_to_code_message_and_request_id() {
        let call = Call::op("CreateStackInstances", "datadog", "op-1");
        let err = cfn::operation::create_stack_instances::CreateStackInstancesError::OperationInProgressException(
            cfn::types::error::OperationInProgressException::builder()
                .message("Another Operation on StackSet datadog is in progress")
                .meta(meta("OperationInProgressException", "Another Operation on StackSet datadog is in progress"))
                .build(),
        );
        let mapped = map_sdk_error(&call, SdkError::service_error(err, raw(400)));
        match &mapped {
            AwsError::Service { operation, code, message, request_id } => {
                assert_eq!(*operation, "CreateStackInstances");
                assert_eq!(code, "OperationInProgressException");
                assert!(message.contains("is in progress"));
                assert_eq!(request_id.as_deref(), Some("req-42"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(mapped.classify(), Retry::After(_)), "{:?}", mapped.classify());

        let err = cfn::operation::describe_stack_set::DescribeStackSetError::StackSetNotFoundException(
            cfn::types::error::StackSetNotFoundException::builder().meta(meta("StackSetNotFoundException", "StackSet datadog not found")).build(),
        );
        let mapped = map_sdk_error(&Call::set("DescribeStackSet", "datadog"), SdkError::service_error(err, raw(400)));
        assert!(matches!(&mapped, AwsError::NotFound { what } if what == "StackSet datadog"), "{mapped:?}");
        assert_eq!(mapped.classify(), Retry::Fatal);
    }

    /// Unmodeled errors still carry the code and the header's request id; throttling backs off.
    #[test]
    fn unmodeled_errors_and_transport_failures() {
        let err = cfn::operation::describe_stack_set::DescribeStackSetError::generic(
            ErrorMetadata::builder().code("Throttling").message("Rate exceeded").build(),
        );
        let mapped = map_sdk_error(&Call::set("DescribeStackSet", "datadog"), SdkError::service_error(err, raw(400)));
        assert!(
            matches!(&mapped, AwsError::Service { code, request_id, .. } if code == "Throttling" && request_id.as_deref() == Some("req-from-header")),
            "{mapped:?}"
        );
        assert_eq!(mapped.classify(), Retry::Backoff);

        let err: SdkError<cfn::operation::describe_stack_set::DescribeStackSetError> =
            SdkError::dispatch_failure(ConnectorError::io("tcp connect error: Connection refused (os error 111)".into()));
        let mapped = map_sdk_error(&Call::set("DescribeStackSet", "datadog"), err);
        assert!(matches!(&mapped, AwsError::Transport { message, .. } if message.contains("Connection refused")), "{mapped:?}");
        assert_eq!(mapped.classify(), Retry::Backoff);
    }

    /// Two OperationInProgressException answers, then success: our policy retries, and
    /// the operation id we sent is the one returned.
    #[tokio::test]
    async fn operation_in_progress_is_retried_by_our_policy() {
        let rule = mock!(cfn::Client::create_stack_instances)
            .match_requests(|r| r.operation_id() == Some("op-7"))
            .sequence()
            .error(|| {
                cfn::operation::create_stack_instances::CreateStackInstancesError::OperationInProgressException(
                    cfn::types::error::OperationInProgressException::builder().meta(meta("OperationInProgressException", "busy")).build(),
                )
            })
            .times(2)
            .output(|| cfn::operation::create_stack_instances::CreateStackInstancesOutput::builder().operation_id("op-7").build())
            .build();
        let aws = mocked(&[&rule], fast_retry(5));
        let targets = InstanceTargets { organizational_unit_ids: vec!["r-abcd".into()], regions: vec!["us-east-1".into()], only_accounts: vec![] };
        let id = aws.create_stack_instances(&targets, &op_request("op-7"), &CancellationToken::new()).await.expect("created");
        assert_eq!(id, "op-7");
        assert_eq!(rule.num_calls(), 3);
    }

    /// Every field of DescribeStackSet lands in our type; NoEcho values stay `****`.
    #[tokio::test]
    async fn describe_stack_set_maps_every_field() {
        let rule = mock!(cfn::Client::describe_stack_set)
            .match_requests(|r| r.stack_set_name() == Some("datadog") && r.call_as() == Some(&cfn::types::CallAs::DelegatedAdmin))
            .then_output(|| {
                cfn::operation::describe_stack_set::DescribeStackSetOutput::builder()
                    .stack_set(
                        cfn::types::StackSet::builder()
                            .stack_set_name("datadog")
                            .stack_set_id("datadog:1111")
                            .stack_set_arn("arn:aws:cloudformation:us-east-1:123456789012:stackset/datadog:1111")
                            .status(cfn::types::StackSetStatus::Active)
                            .description("Datadog integration")
                            .template_body("{}")
                            .parameters(cfn::types::Parameter::builder().parameter_key("DdApiKey").parameter_value("****").build())
                            .parameters(cfn::types::Parameter::builder().parameter_key("DdSite").parameter_value("datadoghq.com").build())
                            .capabilities(cfn::types::Capability::CapabilityNamedIam)
                            .tags(cfn::types::Tag::builder().key("team").value("obs").build())
                            .auto_deployment(cfn::types::AutoDeployment::builder().enabled(true).retain_stacks_on_account_removal(true).build())
                            .managed_execution(cfn::types::ManagedExecution::builder().active(true).build())
                            .permission_model(cfn::types::PermissionModels::ServiceManaged)
                            .organizational_unit_ids("ou-ab12-cdef3456")
                            .regions("us-east-1")
                            .regions("eu-west-1")
                            .build(),
                    )
                    .build()
            });
        let aws = mocked(&[&rule], fast_retry(1));
        let s = aws.describe_stack_set("datadog", CallAs::DelegatedAdmin, &CancellationToken::new()).await.expect("described");
        let expected = StackSet {
            name: "datadog".into(),
            id: "datadog:1111".into(),
            arn: "arn:aws:cloudformation:us-east-1:123456789012:stackset/datadog:1111".into(),
            status: "ACTIVE".into(),
            description: Some("Datadog integration".into()),
            template_body: "{}".into(),
            parameters: BTreeMap::from([("DdApiKey".into(), "****".into()), ("DdSite".into(), "datadoghq.com".into())]),
            capabilities: vec!["CAPABILITY_NAMED_IAM".into()],
            tags: BTreeMap::from([("team".into(), "obs".into())]),
            auto_deployment: true,
            retain_stacks_on_account_removal: true,
            managed_execution: true,
            organizational_unit_ids: vec!["ou-ab12-cdef3456".into()],
            regions: vec!["us-east-1".into(), "eu-west-1".into()],
            permission_model: "SERVICE_MANAGED".into(),
        };
        assert_eq!(s, expected);
    }

    /// CreateStackSet sends the service-managed shape: UsePreviousValue without a value,
    /// retain only with auto-deployment on, our client token.
    #[tokio::test]
    async fn create_stack_set_sends_the_service_managed_shape() {
        let rule = mock!(cfn::Client::create_stack_set)
            .match_requests(|r| {
                let params = r.parameters();
                r.stack_set_name() == Some("datadog")
                    && r.permission_model() == Some(&cfn::types::PermissionModels::ServiceManaged)
                    && r.client_request_token() == Some("tok-1")
                    && r.template_url() == Some("https://s3.amazonaws.com/b/t.yaml")
                    && r.template_body().is_none()
                    && r.call_as() == Some(&cfn::types::CallAs::SelfValue)
                    && r.auto_deployment().and_then(|a| a.retain_stacks_on_account_removal()).is_none()
                    && r.auto_deployment().and_then(|a| a.enabled()) == Some(false)
                    && r.managed_execution().and_then(|m| m.active()) == Some(true)
                    && params.len() == 2
                    && params[0].use_previous_value() == Some(true)
                    && params[0].parameter_value().is_none()
                    && params[1].parameter_value() == Some("datadoghq.com")
                    && r.tags().len() == 1
                    && r.capabilities() == [cfn::types::Capability::CapabilityIam]
            })
            .then_output(|| cfn::operation::create_stack_set::CreateStackSetOutput::builder().stack_set_id("datadog:2222").build());
        let aws = mocked(&[&rule], fast_retry(1));
        let input = StackSetInput {
            name: "datadog".into(),
            description: None,
            template: Template::Url("https://s3.amazonaws.com/b/t.yaml".into()),
            parameters: vec![
                Parameter { key: "DdApiKey".into(), value: None, use_previous: true },
                Parameter { key: "DdSite".into(), value: Some("datadoghq.com".into()), use_previous: false },
            ],
            capabilities: vec!["CAPABILITY_IAM".into()],
            tags: BTreeMap::from([("team".into(), "obs".into())]),
            auto_deployment: false,
            retain_stacks_on_account_removal: true,
            managed_execution: true,
            call_as: CallAs::SelfAccount,
        };
        let id = aws.create_stack_set(&input, "tok-1", &CancellationToken::new()).await.expect("created");
        assert_eq!(id, "datadog:2222");
        assert_eq!(rule.num_calls(), 1);
    }

    /// ListStackSetOperations: every page read, newest first, RFC 3339 times.
    #[tokio::test]
    async fn list_operations_reads_every_page_newest_first() {
        let summary = |id: &str, secs: i64| {
            cfn::types::StackSetOperationSummary::builder()
                .operation_id(id)
                .status(cfn::types::StackSetOperationStatus::Succeeded)
                .action(cfn::types::StackSetOperationAction::Create)
                .creation_timestamp(cfn::primitives::DateTime::from_secs(secs))
                .build()
        };
        let page1 = mock!(cfn::Client::list_stack_set_operations).match_requests(|r| r.next_token().is_none()).then_output(move || {
            cfn::operation::list_stack_set_operations::ListStackSetOperationsOutput::builder()
                .summaries(summary("old", 1_700_000_000))
                .next_token("t2")
                .build()
        });
        let page2 = mock!(cfn::Client::list_stack_set_operations).match_requests(|r| r.next_token() == Some("t2")).then_output(move || {
            cfn::operation::list_stack_set_operations::ListStackSetOperationsOutput::builder().summaries(summary("new", 1_800_000_000)).build()
        });
        let aws = mocked(&[&page1, &page2], fast_retry(1));
        let ops = aws.list_operations("datadog", CallAs::SelfAccount, &CancellationToken::new()).await.expect("listed");
        assert_eq!(ops.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(), ["new", "old"]);
        assert_eq!(ops[1].created, "2023-11-14T22:13:20Z");
        assert_eq!((ops[0].status.as_str(), ops[0].action.as_str()), ("SUCCEEDED", "CREATE"));
    }

    fn org_account_out(id: &str, state: Option<org::types::AccountState>) -> org::types::Account {
        #[allow(deprecated)]
        org::types::Account::builder().id(id).status(org::types::AccountStatus::Active).set_state(state).build()
    }

    /// The whole tree: the root by ListRoots, OU names and parents, account names and
    /// emails, one call per listing page and nothing per account.
    #[tokio::test]
    async fn tree_names_every_root_ou_and_account() {
        use org::operation::list_accounts_for_parent::ListAccountsForParentOutput as Accounts;
        use org::operation::list_organizational_units_for_parent::ListOrganizationalUnitsForParentOutput as Ous;
        let roots = mock!(org::Client::list_roots).then_output(|| {
            org::operation::list_roots::ListRootsOutput::builder().roots(org::types::Root::builder().id("r-root").name("Root").build()).build()
        });
        let named = |id: &str, name: &str| {
            #[allow(deprecated)]
            org::types::Account::builder().id(id).name(name).email(format!("{name}@example.com")).status(org::types::AccountStatus::Active).build()
        };
        let root_accounts = mock!(org::Client::list_accounts_for_parent)
            .match_requests(|r| r.parent_id() == Some("r-root"))
            .then_output(move || Accounts::builder().accounts(named("111111111111", "management")).build());
        let root_ous = mock!(org::Client::list_organizational_units_for_parent)
            .match_requests(|r| r.parent_id() == Some("r-root"))
            .then_output(|| Ous::builder().organizational_units(org::types::OrganizationalUnit::builder().id("ou-root-aaaaaaaa").name("Workloads").build()).build());
        let a_accounts = mock!(org::Client::list_accounts_for_parent)
            .match_requests(|r| r.parent_id() == Some("ou-root-aaaaaaaa"))
            .then_output(move || Accounts::builder().accounts(named("222222222222", "prod")).build());
        let a_ous = mock!(org::Client::list_organizational_units_for_parent)
            .match_requests(|r| r.parent_id() == Some("ou-root-aaaaaaaa"))
            .then_output(|| Ous::builder().build());
        let rules = [&roots, &root_accounts, &root_ous, &a_accounts, &a_ous];
        let aws = mocked(&rules, fast_retry(1));
        let tree = aws.tree(&CancellationToken::new()).await.expect("walked");
        let units: Vec<(&str, &str, &str)> = tree.units.iter().map(|u| (u.id.as_str(), u.name.as_str(), u.parent.as_str())).collect();
        assert_eq!(units, [("r-root", "Root", ""), ("ou-root-aaaaaaaa", "Workloads", "r-root")]);
        let accounts: Vec<(&str, &str, &str, &str)> =
            tree.accounts.iter().map(|a| (a.id.as_str(), a.name.as_str(), a.email.as_str(), a.parent.as_str())).collect();
        assert_eq!(
            accounts,
            [("111111111111", "management", "management@example.com", "r-root"), ("222222222222", "prod", "prod@example.com", "ou-root-aaaaaaaa")]
        );
        for rule in rules {
            assert_eq!(rule.num_calls(), 1);
        }
    }

    /// The walk covers nested OUs and every page, with one call per page per OU, and
    /// reads `State` before the retiring `Status`.
    #[tokio::test]
    async fn accounts_under_walks_nested_ous_and_every_page() {
        use org::operation::list_accounts_for_parent::ListAccountsForParentOutput as Accounts;
        use org::operation::list_organizational_units_for_parent::ListOrganizationalUnitsForParentOutput as Ous;
        let root_accounts_1 = mock!(org::Client::list_accounts_for_parent)
            .match_requests(|r| r.parent_id() == Some("r-root") && r.next_token().is_none() && r.max_results() == Some(20))
            .then_output(|| Accounts::builder().accounts(org_account_out("111111111111", None)).next_token("p2").build());
        let root_accounts_2 = mock!(org::Client::list_accounts_for_parent)
            .match_requests(|r| r.parent_id() == Some("r-root") && r.next_token() == Some("p2"))
            .then_output(|| Accounts::builder().accounts(org_account_out("222222222222", None)).build());
        let root_ous = mock!(org::Client::list_organizational_units_for_parent)
            .match_requests(|r| r.parent_id() == Some("r-root"))
            .then_output(|| Ous::builder().organizational_units(org::types::OrganizationalUnit::builder().id("ou-root-aaaaaaaa").build()).build());
        let a_accounts = mock!(org::Client::list_accounts_for_parent)
            .match_requests(|r| r.parent_id() == Some("ou-root-aaaaaaaa"))
            .then_output(|| Accounts::builder().accounts(org_account_out("333333333333", Some(org::types::AccountState::Suspended))).build());
        let a_ous = mock!(org::Client::list_organizational_units_for_parent)
            .match_requests(|r| r.parent_id() == Some("ou-root-aaaaaaaa"))
            .then_output(|| Ous::builder().organizational_units(org::types::OrganizationalUnit::builder().id("ou-root-bbbbbbbb").build()).build());
        let b_accounts = mock!(org::Client::list_accounts_for_parent)
            .match_requests(|r| r.parent_id() == Some("ou-root-bbbbbbbb"))
            .then_output(|| Accounts::builder().accounts(org_account_out("444444444444", None)).build());
        let b_ous = mock!(org::Client::list_organizational_units_for_parent)
            .match_requests(|r| r.parent_id() == Some("ou-root-bbbbbbbb"))
            .then_output(|| Ous::builder().build());
        let rules = [&root_accounts_1, &root_accounts_2, &root_ous, &a_accounts, &a_ous, &b_accounts, &b_ous];
        let aws = mocked(&rules, fast_retry(1));
        let accounts = aws.accounts_under("r-root", &CancellationToken::new()).await.expect("walked");
        let got: Vec<(&str, &str, &str)> = accounts.iter().map(|a| (a.id.as_str(), a.status.as_str(), a.parent.as_str())).collect();
        assert_eq!(
            got,
            [
                ("111111111111", "ACTIVE", "r-root"),
                ("222222222222", "ACTIVE", "r-root"),
                ("333333333333", "SUSPENDED", "ou-root-aaaaaaaa"),
                ("444444444444", "ACTIVE", "ou-root-bbbbbbbb"),
            ]
        );
        for rule in rules {
            assert_eq!(rule.num_calls(), 1);
        }
    }

    /// Roots via ListRoots, OUs via DescribeOrganizationalUnit (not found → false),
    /// anything else false without a call.
    #[tokio::test]
    async fn target_exists_for_roots_ous_and_others() {
        let roots = mock!(org::Client::list_roots).then_output(|| {
            org::operation::list_roots::ListRootsOutput::builder().roots(org::types::Root::builder().id("r-root").build()).build()
        });
        let missing_ou = mock!(org::Client::describe_organizational_unit)
            .match_requests(|r| r.organizational_unit_id() == Some("ou-root-gone0000"))
            .then_error(|| {
                org::operation::describe_organizational_unit::DescribeOrganizationalUnitError::OrganizationalUnitNotFoundException(
                    org::types::error::OrganizationalUnitNotFoundException::builder()
                        .meta(meta("OrganizationalUnitNotFoundException", "not found"))
                        .build(),
                )
            });
        let ou = mock!(org::Client::describe_organizational_unit)
            .match_requests(|r| r.organizational_unit_id() == Some("ou-root-aaaaaaaa"))
            .then_output(|| org::operation::describe_organizational_unit::DescribeOrganizationalUnitOutput::builder().build());
        let aws = mocked(&[&roots, &missing_ou, &ou], fast_retry(1));
        let cancel = CancellationToken::new();
        assert!(aws.target_exists("r-root", &cancel).await.expect("roots"));
        assert!(!aws.target_exists("r-other", &cancel).await.expect("roots"));
        assert!(aws.target_exists("ou-root-aaaaaaaa", &cancel).await.expect("ou"));
        assert!(!aws.target_exists("ou-root-gone0000", &cancel).await.expect("ou"));
        assert!(!aws.target_exists("123456789012", &cancel).await.expect("other"));
        assert_eq!((roots.num_calls(), missing_ou.num_calls(), ou.num_calls()), (2, 1, 1));
    }

    const CFN_ENDPOINT: &str = "http://cloudformation.test";

    fn replayed(events: Vec<ReplayEvent>, retry: RetryPolicy) -> (SdkAws, StaticReplayClient) {
        let http = StaticReplayClient::new(events);
        let settings = AwsSettings { endpoint_cloudformation: Some(CFN_ENDPOINT.into()), ..AwsSettings::default() };
        (SdkAws::new(&test_sdk_config(http.clone()), &settings, retry), http)
    }

    fn form_request(body: &str) -> http::Request<SdkBody> {
        http::Request::builder()
            .method("POST")
            .uri(format!("{CFN_ENDPOINT}/"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(SdkBody::from(body.to_owned()))
            .expect("valid request")
    }

    fn xml_response(status: u16, body: &str) -> http::Response<SdkBody> {
        http::Response::builder()
            .status(status)
            .header("content-type", "text/xml")
            .header("x-amzn-requestid", "req-wire")
            .body(SdkBody::from(body.to_owned()))
            .expect("valid response")
    }

    fn instances_page(account: &str, next: Option<&str>) -> String {
        let next = next.map(|t| format!("<NextToken>{t}</NextToken>")).unwrap_or_default();
        format!(
            r#"<ListStackInstancesResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
  <ListStackInstancesResult>
    <Summaries>
      <member>
        <StackSetId>datadog:1111</StackSetId>
        <Region>us-east-1</Region>
        <Account>{account}</Account>
        <Status>CURRENT</Status>
        <StackInstanceStatus><DetailedStatus>SUCCEEDED</DetailedStatus></StackInstanceStatus>
        <OrganizationalUnitId>ou-ab12-cdef3456</OrganizationalUnitId>
        <StackId>arn:aws:cloudformation:us-east-1:{account}:stack/StackSet-datadog-1/0f00</StackId>
        <LastOperationId>op-{account}</LastOperationId>
      </member>
    </Summaries>
    {next}
  </ListStackInstancesResult>
  <ResponseMetadata><RequestId>req-wire</RequestId></ResponseMetadata>
</ListStackInstancesResponse>"#
        )
    }

    fn stack_sets_page(members: &[(&str, &str)], next: Option<&str>) -> String {
        let next = next.map(|t| format!("<NextToken>{t}</NextToken>")).unwrap_or_default();
        let members: String = members
            .iter()
            .map(|(name, model)| format!("<member><StackSetName>{name}</StackSetName><Status>ACTIVE</Status><PermissionModel>{model}</PermissionModel></member>"))
            .collect();
        format!(
            r#"<ListStackSetsResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
  <ListStackSetsResult><Summaries>{members}</Summaries>{next}</ListStackSetsResult>
  <ResponseMetadata><RequestId>req-wire</RequestId></ResponseMetadata>
</ListStackSetsResponse>"#
        )
    }

    /// ListStackSets asks for the ACTIVE ones as the caller, reads every page and keeps
    /// the service-managed ones.
    #[tokio::test]
    async fn list_stack_sets_reads_every_page_and_keeps_the_service_managed() {
        let (aws, http) = replayed(
            vec![
                ReplayEvent::new(
                    form_request("Action=ListStackSets&Version=2010-05-15&MaxResults=100&Status=ACTIVE&CallAs=DELEGATED_ADMIN"),
                    xml_response(200, &stack_sets_page(&[("DatadogIntegration", "SERVICE_MANAGED"), ("Mine", "SELF_MANAGED")], Some("t2"))),
                ),
                ReplayEvent::new(
                    form_request("Action=ListStackSets&Version=2010-05-15&NextToken=t2&MaxResults=100&Status=ACTIVE&CallAs=DELEGATED_ADMIN"),
                    xml_response(200, &stack_sets_page(&[("DatadogEU", "SERVICE_MANAGED")], None)),
                ),
            ],
            fast_retry(1),
        );
        let names = aws.list_stack_sets(CallAs::DelegatedAdmin, &CancellationToken::new()).await.expect("listed");
        http.assert_requests_match(&[]);
        assert_eq!(names, vec!["DatadogIntegration".to_owned(), "DatadogEU".to_owned()]);
    }

    /// Both pages of ListStackInstances are read, the second with the first's token, at
    /// the endpoint from the settings.
    #[tokio::test]
    async fn list_stack_instances_reads_both_pages() {
        let (aws, http) = replayed(
            vec![
                ReplayEvent::new(
                    form_request("Action=ListStackInstances&Version=2010-05-15&StackSetName=datadog&MaxResults=100&CallAs=SELF"),
                    xml_response(200, &instances_page("111111111111", Some("tok%2F2"))),
                ),
                ReplayEvent::new(
                    form_request(
                        "Action=ListStackInstances&Version=2010-05-15&StackSetName=datadog&NextToken=tok%252F2&MaxResults=100&CallAs=SELF",
                    ),
                    xml_response(200, &instances_page("222222222222", None)),
                ),
            ],
            fast_retry(1),
        );
        let instances = aws.list_stack_instances("datadog", CallAs::SelfAccount, &CancellationToken::new()).await.expect("listed");
        http.assert_requests_match(&[]);
        assert_eq!(instances.len(), 2);
        assert_eq!(
            instances[1],
            StackInstance {
                account: "222222222222".into(),
                region: "us-east-1".into(),
                organizational_unit_id: "ou-ab12-cdef3456".into(),
                status: "CURRENT".into(),
                detailed_status: "SUCCEEDED".into(),
                status_reason: String::new(),
                stack_id: "arn:aws:cloudformation:us-east-1:222222222222:stack/StackSet-datadog-1/0f00".into(),
                last_operation_id: "op-222222222222".into(),
            }
        );
        assert!(instances.iter().all(StackInstance::is_healthy));
    }

    /// Service-managed deletes target OUs and never retain stacks.
    #[tokio::test]
    async fn delete_stack_instances_targets_ous_and_does_not_retain_stacks() {
        let (aws, http) = replayed(
            vec![ReplayEvent::new(
                form_request(
                    "Action=DeleteStackInstances&Version=2010-05-15&StackSetName=datadog\
                     &DeploymentTargets.OrganizationalUnitIds.member.1=ou-ab12-cdef3456\
                     &DeploymentTargets.OrganizationalUnitIds.member.2=ou-ab12-99999999\
                     &Regions.member.1=us-east-1&Regions.member.2=eu-west-1\
                     &OperationPreferences.RegionConcurrencyType=PARALLEL&OperationPreferences.FailureToleranceCount=1\
                     &OperationPreferences.MaxConcurrentCount=2\
                     &RetainStacks=false&OperationId=op-del-1&CallAs=SELF",
                ),
                xml_response(
                    200,
                    r#"<DeleteStackInstancesResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
  <DeleteStackInstancesResult><OperationId>op-del-1</OperationId></DeleteStackInstancesResult>
  <ResponseMetadata><RequestId>req-wire</RequestId></ResponseMetadata>
</DeleteStackInstancesResponse>"#,
                ),
            )],
            fast_retry(1),
        );
        let targets = InstanceTargets {
            organizational_unit_ids: vec!["ou-ab12-cdef3456".into(), "ou-ab12-99999999".into()],
            regions: vec!["us-east-1".into(), "eu-west-1".into()],
            only_accounts: vec![],
        };
        let mut op = op_request("op-del-1");
        op.preferences = OperationPreferences {
            region_concurrency_type: Some("PARALLEL".into()),
            failure_tolerance_count: Some(1),
            max_concurrent_count: Some(2),
            ..OperationPreferences::default()
        };
        let id = aws.delete_stack_instances(&targets, &op, &CancellationToken::new()).await.expect("deleted");
        http.assert_requests_match(&[]);
        assert_eq!(id, "op-del-1");
    }

    /// With our policy at one attempt, a throttled request is sent once: the SDK's own
    /// retries are off. The wire error's code and request id come through.
    #[tokio::test]
    async fn sdk_retries_are_disabled() {
        let throttled = r#"<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
  <Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>
  <RequestId>req-wire</RequestId>
</ErrorResponse>"#;
        let describe = "Action=DescribeStackSet&Version=2010-05-15&StackSetName=datadog&CallAs=SELF";
        let (aws, http) = replayed(
            vec![
                ReplayEvent::new(form_request(describe), xml_response(400, throttled)),
                ReplayEvent::new(form_request(describe), xml_response(400, throttled)),
            ],
            fast_retry(1),
        );
        let err = aws.describe_stack_set("datadog", CallAs::SelfAccount, &CancellationToken::new()).await.expect_err("throttled");
        assert!(
            matches!(&err, AwsError::Service { code, message, request_id, .. }
                if code == "Throttling" && message == "Rate exceeded" && request_id.as_deref() == Some("req-wire")),
            "{err:?}"
        );
        assert_eq!(http.actual_requests().count(), 1);
        // The next call gets the second answer: nothing consumed it behind our back.
        let err = aws.describe_stack_set("datadog", CallAs::SelfAccount, &CancellationToken::new()).await.expect_err("throttled");
        assert_eq!(err.code(), Some("Throttling"));
        http.assert_requests_match(&[]);
    }
}
