//! `datadog_aws_account_link`: one AWS account's integration in Datadog.
//!
//! Owns one Datadog AWS account config (v2 API). Its id is the config UUID. Import by
//! AWS account id (`123456789012`) or by config UUID. The StackSet template's own
//! stack registers each account it deploys to, so create adopts an existing config for
//! the same AWS account instead of failing on a duplicate.
//!
//! Only the settings the configuration writes are managed (`wanted.rs`); the state
//! is what Datadog holds (`model.rs`); the plan rules are in `plan.rs`; state of the
//! official provider's `datadog_integration_aws_account` moves in by `moved.rs`;
//! `terraform query` lists configs as imported links (`list.rs`).

mod list;
mod model;
mod moved;
mod plan;
mod schema;
mod validate;
mod wanted;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::clients::datadog::{AccountConfig, DatadogApi, DatadogError};
use crate::poll::{Polled, Unfinished};
use crate::plugin::{IdentitySchema, ApplyRequest, CallCtx, Diagnostics, MoveSource, PlanChange, Private, Resource, Schema, Value};
use crate::provider::{Clients, ProviderData};

pub use list::AccountLinkList;
pub use model::Link;
use wanted::Wanted;

/// The resource type.
#[derive(Debug)]
pub struct AccountLink {
    schema: Schema,
    identity: IdentitySchema,
    data: Arc<ProviderData>,
}

impl AccountLink {
    /// A link type using the provider's clients.
    #[must_use]
    pub fn new(data: Arc<ProviderData>) -> Self {
        AccountLink { schema: schema::schema(), identity: schema::identity(), data }
    }
}

/// Why an operation failed, said once in a diagnostic.
#[derive(Debug, thiserror::Error)]
enum LinkError {
    #[error("Datadog answered: {0}")]
    Datadog(#[from] DatadogError),
    #[error("timed out after {0:?}; raise timeouts.{1} if Datadog is slow")]
    Timeout(Duration, &'static str),
    #[error("{0}")]
    Conflict(String),
}

fn timeout(link: &Link, op: &'static str, default: Duration) -> Duration {
    link.timeouts
        .get_attr(op)
        .and_then(Value::as_str)
        .and_then(|t| crate::duration::parse(t).ok())
        .unwrap_or(default)
}

async fn bounded<T>(limit: Duration, op: &'static str, f: impl std::future::Future<Output = Result<T, LinkError>>) -> Result<T, LinkError> {
    tokio::time::timeout(limit, f).await.unwrap_or(Err(LinkError::Timeout(limit, op)))
}

/// The one config of `account` in `partition`, if Datadog has it.
async fn find_by_account(dd: &dyn DatadogApi, link: &Link, ctx: &CallCtx) -> Result<Option<AccountConfig>, LinkError> {
    let found = dd.list_accounts(Some(&link.aws_account_id), &ctx.cancel).await?;
    let mut matching: Vec<AccountConfig> = found
        .into_iter()
        .filter(|a| a.attributes.aws_account_id == link.aws_account_id && a.attributes.aws_partition == link.aws_partition)
        .collect();
    match matching.len() {
        0 => Ok(None),
        1 => Ok(matching.pop()),
        n => Err(LinkError::Conflict(format!(
            "Datadog has {n} configs for AWS account {}; remove the extra ones in Datadog, then import the one to keep",
            link.aws_account_id
        ))),
    }
}

/// Polls for the account the StackSet's stack registers (the guide's "Done" step).
async fn wait_for_registration(dd: &dyn DatadogApi, link: &Link, wait: Duration, ctx: &CallCtx) -> Result<Option<AccountConfig>, LinkError> {
    let deadline = tokio::time::Instant::now() + wait;
    let interval = crate::env::poll_interval(Duration::from_secs(10));
    tracing::info!(account = %link.aws_account_id, wait_s = wait.as_secs(), "waiting for the account to be registered in Datadog");
    match crate::poll::until(interval, deadline, &ctx.cancel, || find_by_account(dd, link, ctx)).await {
        Polled::Ready(found) => Ok(Some(found)),
        Polled::Failed(e) => Err(e),
        Polled::Unfinished(Unfinished::TimedOut) => Ok(None),
        Polled::Unfinished(Unfinished::Cancelled) => Err(DatadogError::Cancelled.into()),
    }
}

/// Takes over an existing config: the written settings are laid over what it holds
/// (nothing is sent when they already match), its external id stays.
async fn adopt(dd: &dyn DatadogApi, link: &Link, wanted: &Wanted, found: AccountConfig, ctx: &CallCtx) -> Result<AccountConfig, LinkError> {
    tracing::info!(account = %link.aws_account_id, id = %found.id, "adopting the account Datadog already has");
    if found.attributes.auth_config.as_ref().is_some_and(|a| a.access_key_id.is_some()) && wanted.role_name.is_some() {
        return Err(LinkError::Conflict(format!(
            "AWS account {} is integrated in Datadog with access keys, not a role; Datadog cannot switch it to role \
             auth in place. Remove it in Datadog first, or leave role_name unset to adopt it as it is",
            link.aws_account_id
        )));
    }
    write_wanted(dd, wanted, found, ctx).await
}

/// Brings `current` to the written settings, with one PATCH of the sections that
/// differ, or none.
async fn write_wanted(dd: &dyn DatadogApi, wanted: &Wanted, current: AccountConfig, ctx: &CallCtx) -> Result<AccountConfig, LinkError> {
    match wanted.patch_for(&current.attributes) {
        Some(patch) => Ok(dd.update_account(&current.id, &patch, &ctx.cancel).await?),
        None => Ok(current),
    }
}

async fn create_link(dd: &dyn DatadogApi, link: &Link, wanted: &Wanted, ctx: &CallCtx) -> Result<AccountConfig, LinkError> {
    if link.adopt_existing {
        let mut found = find_by_account(dd, link, ctx).await?;
        let wait = crate::duration::parse(&link.wait_for_registration).unwrap_or_default();
        if found.is_none() && !wait.is_zero() {
            found = wait_for_registration(dd, link, wait, ctx).await?;
        }
        if let Some(found) = found {
            return adopt(dd, link, wanted, found, ctx).await;
        }
    }
    if link.stack_set_revision.is_some() {
        // Wired to a StackSet: its stack registers the account, and a config we
        // created ourselves would make that registration fail with a conflict.
        return Err(LinkError::Conflict(format!(
            "AWS account {} is not registered in Datadog yet. The StackSet's stack registers it when the account's \
             stack instance succeeds; see the datadog_aws_org_stackset warnings for why it did not. The next apply \
             retries the instance, then links the account",
            link.aws_account_id
        )));
    }
    // Datadog issues the external id; we never invent one.
    match dd.create_account(&wanted.create_body(&link.aws_account_id, &link.aws_partition), &ctx.cancel).await {
        Ok(created) => Ok(created),
        Err(DatadogError::Http { status: 409, message, .. }) => {
            if !link.adopt_existing {
                return Err(LinkError::Conflict(format!(
                    "AWS account {} is already integrated in Datadog ({message}). Set adopt_existing = true to take it over, \
                     or import it: terraform import <address> {}",
                    link.aws_account_id, link.aws_account_id
                )));
            }
            // Registered by someone else between our lookup and our POST (or our own
            // POST that timed out and was retried): adopt it.
            match find_by_account(dd, link, ctx).await? {
                Some(found) => adopt(dd, link, wanted, found, ctx).await,
                None => Err(LinkError::Conflict(format!("Datadog said AWS account {} exists ({message}) but does not list it", link.aws_account_id))),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Brings an existing link's config to the written settings, reading what Datadog
/// holds now (the StackSet's stack may have just rewritten it in this apply).
async fn update_link(dd: &dyn DatadogApi, link: &Link, wanted: &Wanted, id: &str, ctx: &CallCtx) -> Result<AccountConfig, LinkError> {
    match dd.get_account(id, &ctx.cancel).await {
        Ok(current) => write_wanted(dd, wanted, current, ctx).await,
        // Re-registered under a new config id (e.g. its stack was re-created): find
        // it by account and take it over.
        Err(DatadogError::NotFound { .. }) if link.adopt_existing || link.stack_set_revision.is_some() => create_link(dd, link, wanted, ctx).await,
        Err(e) => Err(e.into()),
    }
}

/// The state after a write or read: what Datadog holds, in our shape, with tag
/// filters shaped as `shape` (the plan, or the prior state) has them.
fn new_state(remote: &AccountConfig, local: &Link, shape: &Value) -> Value {
    let mut link = Link::flatten(remote, local);
    link.align_tag_filters(shape);
    link.to_value()
}

/// The state an import of `remote` gives: nothing managed, every setting read back.
fn imported(remote: &AccountConfig) -> Value {
    new_state(remote, &model::import_defaults(), &Value::Null)
}

/// The state after an import and the read Terraform makes right after it, from the
/// same answer: what a `terraform query` result must be for the configuration
/// generated from it to plan no change.
fn imported_then_read(remote: &AccountConfig) -> Value {
    let state = imported(remote);
    new_state(remote, &Link::from_value(&state), &state)
}

impl AccountLink {
    /// Runs one write against Datadog within its timeout; the run's shared listing
    /// is stale afterwards whatever the outcome.
    async fn write<T>(&self, clients: &Clients, limit: Duration, op: &'static str, f: impl std::future::Future<Output = Result<T, LinkError>>) -> Result<T, LinkError> {
        let result = bounded(limit, op, f).await;
        clients.accounts.invalidate();
        result
    }
}

#[async_trait]
impl Resource for AccountLink {
    fn type_name(&self) -> &'static str {
        "datadog_aws_account_link"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn identity_schema(&self) -> Option<&IdentitySchema> {
        Some(&self.identity)
    }

    fn identity(&self, state: &Value) -> Option<Value> {
        let text = |n: &str| state.get_attr(n).and_then(Value::as_str).map(str::to_owned);
        self.identity.value(&[("aws_account_id", text("aws_account_id")), ("aws_partition", text("aws_partition"))])
    }

    /// Import by account id (the partition is the config's own).
    fn import_id(&self, identity: &Value) -> Option<String> {
        identity.get_attr("aws_account_id").and_then(Value::as_str).map(str::to_owned)
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        validate::validate(config, diags);
    }

    /// The official provider's `datadog_integration_aws_account` (`moved.rs`).
    fn move_sources(&self) -> &[MoveSource] {
        &[moved::OFFICIAL]
    }

    fn move_state(&self, _from: &MoveSource, state: serde_json::Value, diags: &mut Diagnostics) -> Option<Value> {
        moved::from_official(&state, diags)
    }

    async fn modify_plan(&self, _ctx: &CallCtx, change: &mut PlanChange<'_>, _diags: &mut Diagnostics) {
        plan::modify(change);
    }

    async fn create(&self, ctx: &CallCtx, req: ApplyRequest<'_>, diags: &mut Diagnostics) -> Option<Value> {
        let clients = self.data.clients(diags)?;
        let link = Link::from_value(req.planned);
        let wanted = Wanted::from_config(req.config);
        let limit = timeout(&link, "create", Duration::from_secs(20 * 60));
        match self.write(&clients, limit, "create", create_link(clients.datadog.as_ref(), &link, &wanted, ctx)).await {
            Ok(remote) => Some(new_state(&remote, &link, req.planned)),
            Err(e) => {
                diags.error(format!("creating Datadog AWS account link (account {})", link.aws_account_id), e.to_string());
                None
            }
        }
    }

    async fn read(&self, ctx: &CallCtx, state: Value, _private: &mut Private, diags: &mut Diagnostics) -> Option<Value> {
        let Ok(found) = self.data.clients_if_known(diags) else { return None };
        let Some(clients) = found else { return Some(state) };
        let local = Link::from_value(&state);
        let Some(id) = local.id.clone() else { return Some(state) };
        let limit = timeout(&local, "read", Duration::from_secs(5 * 60));
        let got = bounded(limit, "read", async { Ok(clients.accounts.read(clients.datadog.as_ref(), &id, &ctx.cancel).await?) }).await;
        match got {
            // Tag filters keep the shape the state had (null tags stay null).
            Ok(remote) => Some(new_state(&remote, &local, &state)),
            Err(LinkError::Datadog(DatadogError::NotFound { .. })) => {
                diags.warning(
                    format!("Datadog AWS account link for account {} is gone", local.aws_account_id),
                    format!("Datadog no longer has account config {id}; it was removed outside Terraform and will be created again."),
                );
                None
            }
            Err(e) => {
                diags.error(format!("reading Datadog AWS account link (account {}, id {id})", local.aws_account_id), e.to_string());
                None
            }
        }
    }

    async fn update(&self, ctx: &CallCtx, req: ApplyRequest<'_>, diags: &mut Diagnostics) -> Option<Value> {
        let clients = self.data.clients(diags)?;
        let prior = Link::from_value(req.prior);
        let mut link = Link::from_value(req.planned);
        link.id = prior.id.clone();
        link.external_id = prior.external_id.clone();
        let Some(id) = link.id.clone() else {
            diags.bug("updating Datadog AWS account link", "the prior state has no id");
            return None;
        };
        let wanted = Wanted::from_config(req.config);
        let limit = timeout(&link, "update", Duration::from_secs(10 * 60));
        match self.write(&clients, limit, "update", update_link(clients.datadog.as_ref(), &link, &wanted, &id, ctx)).await {
            Ok(remote) => Some(new_state(&remote, &link, req.planned)),
            Err(e) => {
                diags.error(format!("updating Datadog AWS account link (account {}, id {id})", link.aws_account_id), e.to_string());
                None
            }
        }
    }

    async fn delete(&self, ctx: &CallCtx, prior: &Value, _private: &Private, diags: &mut Diagnostics) {
        let Some(clients) = self.data.clients(diags) else { return };
        let link = Link::from_value(prior);
        let Some(id) = link.id.clone() else { return };
        let limit = timeout(&link, "delete", Duration::from_secs(10 * 60));
        match self.write(&clients, limit, "delete", async { Ok(clients.datadog.delete_account(&id, &ctx.cancel).await?) }).await {
            Ok(()) | Err(LinkError::Datadog(DatadogError::NotFound { .. })) => {}
            Err(e) => diags.error(format!("deleting Datadog AWS account link (account {}, id {id})", link.aws_account_id), e.to_string()),
        }
    }

    async fn import(&self, ctx: &CallCtx, id: &str, diags: &mut Diagnostics) -> Option<Value> {
        let clients = self.data.clients(diags)?;
        let dd = clients.datadog.as_ref();
        let found = if validate::is_account_id(id) {
            // The partition is not part of an account-id import: take the only config.
            match dd.list_accounts(Some(id), &ctx.cancel).await {
                Ok(mut list) if list.len() == 1 => list.pop(),
                Ok(list) if list.is_empty() => {
                    diags.error(format!("importing Datadog AWS account link (account {id})"), "Datadog has no AWS account config for this account.");
                    return None;
                }
                Ok(list) => {
                    let ids: Vec<String> = list.iter().map(|a| format!("{} ({})", a.id, a.attributes.aws_partition)).collect();
                    diags.error(
                        format!("importing Datadog AWS account link (account {id})"),
                        format!("Datadog has several configs for this account: {}. Import one by its UUID.", ids.join(", ")),
                    );
                    return None;
                }
                Err(e) => {
                    diags.error(format!("importing Datadog AWS account link (account {id})"), format!("Datadog answered: {e}"));
                    return None;
                }
            }
        } else if uuid::Uuid::parse_str(id).is_ok() {
            match dd.get_account(id, &ctx.cancel).await {
                Ok(a) => Some(a),
                Err(e) => {
                    diags.error(format!("importing Datadog AWS account link (config {id})"), format!("Datadog answered: {e}"));
                    return None;
                }
            }
        } else {
            diags.error(
                "Invalid import ID",
                format!(
                    "{id:?} is neither an AWS account ID nor a Datadog account config UUID. Accepted forms:\n\
                     - the 12-digit AWS account ID, e.g. 123456789012\n\
                     - the Datadog account config UUID, e.g. 7d7c4a07-2c8f-4c4f-9b38-2f3b1f0c2f5e"
                ),
            );
            return None;
        };
        found.as_ref().map(imported)
    }
}

#[cfg(test)]
mod tests;
