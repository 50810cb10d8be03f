//! The management account's own stack (`include_management_account`).
//!
//! A service-managed StackSet never deploys to the organization's management account,
//! so the guide leaves the most sensitive account unmonitored. With the opt-in, the
//! same template with the same parameters is deployed there as an ordinary
//! CloudFormation stack, in the StackSet's one deployment region, under a name derived
//! from the StackSet's. Its custom resource registers the management account in
//! Datadog like any instance does, so the account joins `account_ids` (and a link can
//! cover it) once the stack is deployed and runs what the StackSet runs: a stack
//! deleted, failed, or with parameters or a template changed by hand is left out,
//! which the plan shows as drift and the next apply repairs.
//!
//! Only the management account can create a stack in itself: a delegated
//! administrator is refused at validate (see `validate`).

use sha2::{Digest, Sha256};

use super::model::{sha256_hex, Model};
use super::operations::Budget;
use super::parameters;
use crate::clients::aws::{AwsError, Stack, StackEvent, StackInput, Stacks};
use crate::clients::secret::Secret;
use crate::plugin::{CallCtx, Diagnostics, Private};
use crate::poll::{self, Polled, Unfinished};
use crate::provider::Clients;

use super::OrgStackSet;

/// Appended to the StackSet name for the management account's stack.
const SUFFIX: &str = "-management-account";
/// CloudFormation's limit on stack names.
const MAX_STACK_NAME: usize = 128;

/// The stack's name: the StackSet's plus a suffix, so one StackSet has one stack and
/// an interrupted apply finds it again. A StackSet name too long for the suffix is
/// cut and keeps a short hash of the whole, so two long names stay apart.
pub(super) fn stack_name(stack_set: &str) -> String {
    if stack_set.len() + SUFFIX.len() <= MAX_STACK_NAME {
        return format!("{stack_set}{SUFFIX}");
    }
    let hash: String = Sha256::digest(stack_set.as_bytes()).iter().take(4).map(|b| format!("{b:02x}")).collect();
    let keep = MAX_STACK_NAME - SUFFIX.len() - hash.len() - 1;
    // StackSet names are ASCII, so any byte index is a char boundary.
    format!("{}-{hash}{SUFFIX}", &stack_set[..keep])
}

/// The account a stack lives in, from its id (`arn:aws:cloudformation:REGION:ACCOUNT:stack/…`).
pub(super) fn account_of(stack_id: &str) -> Option<String> {
    stack_id.split(':').nth(4).filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())).map(str::to_owned)
}

/// The management account's stack as read back.
#[derive(Debug, Clone)]
pub(super) struct Remote {
    pub stack: Stack,
    /// SHA-256 of the template the stack runs.
    pub template_sha256: String,
}

/// The stack of `m`'s StackSet in `region`, with its template's hash; `None` when
/// there is none.
pub(super) async fn read(stacks: &dyn Stacks, m: &Model, ctx: &CallCtx) -> Result<Option<Remote>, AwsError> {
    let name = stack_name(&m.name);
    let Some(stack) = stacks.describe_stack(&name, &ctx.cancel).await? else { return Ok(None) };
    let template_sha256 = match stacks.stack_template(&name, &ctx.cancel).await {
        Ok(body) => sha256_hex(&body),
        // Gone between the two calls.
        Err(e) if e.code() == Some("ValidationError") => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(Some(Remote { stack, template_sha256 }))
}

/// Whether the stack is deployed and runs what the StackSet runs: its template (by
/// hash) and every parameter but the keys, which AWS never shows.
pub(super) fn in_sync(remote: &Remote, m: &Model, site: &str, stack_set_template_sha256: Option<&str>) -> bool {
    if !remote.stack.status.is_deployed() {
        return false;
    }
    if stack_set_template_sha256.is_some_and(|sha| sha != remote.template_sha256) {
        return false;
    }
    m.parameters(site, None)
        .iter()
        .filter(|p| !parameters::is_key(&p.key))
        .all(|p| remote.stack.parameters.get(&p.key) == p.value.as_ref())
}

/// The stack's input: the StackSet's template and parameters, keys sent when given.
fn input(m: &Model, site: &str, keys: Option<(&Secret, &Secret)>) -> StackInput {
    StackInput {
        name: stack_name(&m.name),
        template: m.template(),
        parameters: m.parameters(site, keys),
        capabilities: vec!["CAPABILITY_NAMED_IAM".to_owned()],
        tags: m.tags.clone().unwrap_or_default(),
    }
}

/// Where the stack is: named in every error, with CloudFormation's reason.
struct Place<'a> {
    account: &'a str,
    region: &'a str,
    name: String,
}

impl Place<'_> {
    fn error(&self, what: &str, detail: impl std::fmt::Display) -> String {
        format!("management account {}, {}: stack {} {what}: {detail}", self.account, self.region, self.name)
    }
}

/// Creates the stack, or brings an existing one to `m`; waits for it. `keys` are the
/// Datadog keys: always sent on create; on update only when `rotate` (otherwise the
/// stack keeps its own). A stack left by an interrupted apply is joined (still in
/// progress) or adopted (deployed); one whose create rolled back can only be deleted,
/// so it is deleted and created again, with a warning.
#[allow(clippy::too_many_arguments)]
pub(super) async fn converge(
    stacks: &dyn Stacks,
    m: &Model,
    account: &str,
    region: &str,
    site: &str,
    keys: (&Secret, &Secret),
    rotate: bool,
    budget: Budget,
    ctx: &CallCtx,
    diags: &mut Diagnostics,
) -> Result<(), String> {
    let place = Place { account, region, name: stack_name(&m.name) };
    let aws = |e: AwsError| place.error("failed", e);
    let mut current = wait_settled(stacks, &place, budget, ctx).await?;
    if let Some(stack) = current.as_ref().filter(|s| !s.status.is_updatable()) {
        // ROLLBACK_COMPLETE (a failed create), DELETE_FAILED, …: CloudFormation takes
        // no update in these states, only a delete.
        diags.warning(
            format!("Recreating the management account's stack {}", place.name),
            format!(
                "The stack in management account {account}, {region} is {} ({}); it cannot be updated, so this apply \
                 deletes it and creates it again.",
                stack.status,
                if stack.status_reason.is_empty() { "no reason given" } else { &stack.status_reason }
            ),
        );
        stacks.delete_stack(&stack.id, &ctx.cancel).await.map_err(aws)?;
        if let Some(left) = wait_settled(stacks, &place, budget, ctx).await? {
            return Err(place.error(&format!("could not be deleted ({})", left.status), failure_reason(stacks, &left, ctx).await));
        }
        current = None;
    }
    let started = match current {
        None => {
            let created = stacks.create_stack(&input(m, site, Some(keys)), &ctx.cancel).await;
            match created {
                Ok(_) => true,
                // Created meanwhile (another run): wait for it and bring it in line next time.
                Err(e) if e.code() == Some("AlreadyExistsException") => true,
                Err(e) => return Err(aws(e)),
            }
        }
        Some(_) => stacks.update_stack(&input(m, site, rotate.then_some(keys)), &ctx.cancel).await.map_err(aws)?,
    };
    if !started {
        return Ok(());
    }
    match wait_settled(stacks, &place, budget, ctx).await? {
        Some(s) if s.status.is_deployed() => Ok(()),
        Some(s) => Err(place.error(&format!("ended {}", s.status), failure_reason(stacks, &s, ctx).await)),
        None => Err(place.error("failed", "the stack disappeared while it was being deployed")),
    }
}

/// Deletes the stack (nothing to do when there is none) and waits until it is gone.
pub(super) async fn remove(stacks: &dyn Stacks, m: &Model, account: &str, region: &str, budget: Budget, ctx: &CallCtx) -> Result<(), String> {
    let place = Place { account, region, name: stack_name(&m.name) };
    let Some(stack) = wait_settled(stacks, &place, budget, ctx).await? else { return Ok(()) };
    stacks.delete_stack(&stack.id, &ctx.cancel).await.map_err(|e| place.error("could not be deleted", e))?;
    match wait_settled(stacks, &place, budget, ctx).await? {
        None => Ok(()),
        Some(s) => Err(place.error(&format!("could not be deleted ({})", s.status), failure_reason(stacks, &s, ctx).await)),
    }
}

/// Polls the stack until no operation runs on it; `None` once it is gone.
async fn wait_settled(stacks: &dyn Stacks, place: &Place<'_>, budget: Budget, ctx: &CallCtx) -> Result<Option<Stack>, String> {
    let interval = crate::env::poll_interval(std::time::Duration::from_secs(5));
    let name = place.name.as_str();
    let ended = poll::until(interval, budget.deadline, &ctx.cancel, || async move {
        match stacks.describe_stack(name, &ctx.cancel).await {
            Ok(Some(s)) if s.status.is_in_progress() => Ok(None),
            Ok(found) => Ok(Some(found)),
            Err(e) => Err(e),
        }
    })
    .await;
    match ended {
        Polled::Ready(found) => Ok(found),
        Polled::Failed(e) => Err(place.error("could not be read", e)),
        Polled::Unfinished(Unfinished::TimedOut) => {
            Err(place.error("is still in progress", format!("timed out after {:?}; the next apply waits for it", budget.limit)))
        }
        Polled::Unfinished(Unfinished::Cancelled) => Err(place.error("is still in progress", "Terraform asked the provider to stop; the next apply waits for it")),
    }
}

/// CloudFormation's reason: the newest resource failure among the stack's events
/// (the custom resource's answer from Datadog), else the stack's own reason.
async fn failure_reason(stacks: &dyn Stacks, stack: &Stack, ctx: &CallCtx) -> String {
    let events = stacks.stack_events(&stack.id, &ctx.cancel).await.unwrap_or_default();
    first_failure(&events, &stack.name).unwrap_or_else(|| {
        if stack.status_reason.is_empty() { format!("{} (no reason given)", stack.status) } else { stack.status_reason.clone() }
    })
}

fn first_failure(events: &[StackEvent], stack_name: &str) -> Option<String> {
    events
        .iter()
        .find(|e| e.status.ends_with("_FAILED") && !e.reason.is_empty() && e.logical_id != stack_name)
        .map(|e| format!("{} {}: {}", e.logical_id, e.status, e.reason))
}

impl OrgStackSet {
    /// The management account's id (the organization's, as `DescribeOrganization` says).
    async fn management_account(clients: &Clients, ctx: &CallCtx) -> Result<String, String> {
        let organization = clients.aws().await.organization.clone();
        organization.management_account_id(&ctx.cancel).await.map_err(|e| format!("reading the organization's management account: {e}"))
    }

    /// Deploys (or repairs) the management account's stack of `m` in its region.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn converge_management(
        &self,
        clients: &Clients,
        m: &Model,
        keys: (&Secret, &Secret),
        rotate: bool,
        budget: Budget,
        ctx: &CallCtx,
        diags: &mut Diagnostics,
    ) -> Result<(), String> {
        let Some(region) = m.region_name() else { return Ok(()) };
        let account = Self::management_account(clients, ctx).await?;
        let stacks = clients.aws_in(Some(&region)).await.stacks;
        let site = m.datadog_site.clone().unwrap_or_else(|| clients.site.clone());
        converge(stacks.as_ref(), m, &account, &region, &site, keys, rotate, budget, ctx, diags).await
    }

    /// Deletes the management account's stack of `m` in `region`, if there is one.
    pub(super) async fn remove_management(&self, clients: &Clients, m: &Model, region: Option<&str>, budget: Budget, ctx: &CallCtx) -> Result<(), String> {
        let Some(region) = region else { return Ok(()) };
        let account = Self::management_account(clients, ctx).await?;
        let stacks = clients.aws_in(Some(region)).await.stacks;
        remove(stacks.as_ref(), m, &account, region, budget, ctx).await
    }

    /// An update: the stack follows the StackSet (a new region moves it: deleted in
    /// the old one first, as the template's IAM role is global to the account), or
    /// goes when the flag is turned off.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn update_management(
        &self,
        clients: &Clients,
        prior: &Model,
        m: &Model,
        config: &crate::plugin::Value,
        budget: Budget,
        ctx: &CallCtx,
        diags: &mut Diagnostics,
    ) -> Result<(), String> {
        let moved = prior.region_name() != m.region_name();
        if prior.include_management_account && (!m.include_management_account || moved) {
            self.remove_management(clients, prior, prior.region_name().as_deref(), budget, ctx).await?;
        }
        if !m.include_management_account {
            return Ok(());
        }
        let (api, app) = super::template_keys(config, clients);
        self.converge_management(clients, m, (&api, &app), prior.keys_revision != m.keys_revision, budget, ctx, diags).await
    }

    /// An import takes the management account's stack too when it exists.
    pub(super) async fn import_management(&self, clients: &Clients, mut m: Model, private: &mut Private, ctx: &CallCtx, diags: &mut Diagnostics) -> Option<Model> {
        let region = m.region_name()?;
        let name = stack_name(&m.name);
        let stacks = clients.aws_in(Some(&region)).await.stacks;
        match stacks.describe_stack(&name, &ctx.cancel).await {
            Ok(None) => Some(m),
            Ok(Some(_)) => {
                m.include_management_account = true;
                match self.refresh(clients, m, private, ctx).await {
                    Ok(found) => found,
                    Err(e) => {
                        diags.error(format!("importing the management account's stack {name}"), e.to_string());
                        None
                    }
                }
            }
            Err(e) => {
                diags.error(format!("importing the management account's stack {name}"), format!("{region}: {e}"));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_derived_within_cloudformation_limits() {
        assert_eq!(stack_name("DatadogIntegration"), "DatadogIntegration-management-account");
        let long = "a".repeat(128);
        let other = format!("{}b", "a".repeat(127));
        let (n1, n2) = (stack_name(&long), stack_name(&other));
        assert!(n1.len() <= 128 && n2.len() <= 128);
        assert_ne!(n1, n2, "two long names keep apart");
        assert!(n1.ends_with(SUFFIX) && n1.starts_with('a'));
    }

    #[test]
    fn the_account_comes_from_the_stack_id() {
        assert_eq!(account_of("arn:aws:cloudformation:us-east-1:123456789012:stack/dd-management-account/abc").as_deref(), Some("123456789012"));
        assert_eq!(account_of("not-an-arn"), None);
    }

    #[test]
    fn the_failure_named_is_the_newest_resource_failure() {
        let ev = |id: &str, status: &str, reason: &str| StackEvent { logical_id: id.into(), status: status.into(), reason: reason.into() };
        let events = vec![
            ev("dd-management-account", "ROLLBACK_COMPLETE", ""),
            ev("dd-management-account", "ROLLBACK_IN_PROGRESS", "The following resource(s) failed to create"),
            ev("DatadogAWSAccountIntegration", "CREATE_FAILED", "Received response status [FAILED] from custom resource. 409"),
        ];
        assert_eq!(
            first_failure(&events, "dd-management-account").as_deref(),
            Some("DatadogAWSAccountIntegration CREATE_FAILED: Received response status [FAILED] from custom resource. 409")
        );
        assert_eq!(first_failure(&events[..2], "dd-management-account"), None);
    }

    #[test]
    fn in_sync_means_deployed_with_the_stack_sets_template_and_parameters() {
        let m = Model::from_value(&crate::plugin::Value::Null);
        let parameters = m
            .parameters("datadoghq.com", None)
            .into_iter()
            .map(|p| (p.key, p.value.unwrap_or_else(|| "****".to_owned())))
            .collect();
        let stack = Stack { id: "arn:aws:cloudformation:us-east-1:123456789012:stack/x/1".into(), status: "CREATE_COMPLETE".into(), parameters, ..Stack::default() };
        let remote = Remote { stack, template_sha256: "abc".into() };
        assert!(in_sync(&remote, &m, "datadoghq.com", Some("abc")));
        assert!(!in_sync(&remote, &m, "datadoghq.eu", Some("abc")), "a parameter differs");
        assert!(!in_sync(&remote, &m, "datadoghq.com", Some("def")), "the template differs");
        let mut rolled_back = remote.clone();
        rolled_back.stack.status = "UPDATE_ROLLBACK_COMPLETE".into();
        assert!(!in_sync(&rolled_back, &m, "datadoghq.com", Some("abc")), "a failed update runs the previous definition");
        let mut by_hand = remote;
        by_hand.stack.parameters.insert(parameters::DISABLE_METRICS.to_owned(), "true".to_owned());
        assert!(!in_sync(&by_hand, &m, "datadoghq.com", Some("abc")), "a parameter changed by hand");
    }
}
