//! The contract between the protocol layer and a managed resource type.
//!
//! The protocol core (`core/`, one RPC a file) turns each RPC into calls here with
//! decoded values, and owns the protocol rules so that resources don't:
//! create/update/delete dispatch, defaults and "known after apply" marking (`plan.rs`),
//! write-only attributes never reaching state, state kept when a read or delete fails,
//! and replace paths for `requires_replace` attributes.

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::diagnostics::Diagnostics;
use super::identity::IdentitySchema;
use super::schema::Schema;
use super::value::{AttrPath, Value};

/// Provider-private data kept by Terraform beside a resource's state, never shown.
pub type Private = serde_json::Map<String, serde_json::Value>;

/// What every call gets besides its values.
#[derive(Clone, Debug)]
pub struct CallCtx {
    /// Cancelled when Terraform asks the provider to stop (Ctrl-C): long waits must
    /// give up promptly and report what they were waiting for.
    pub cancel: CancellationToken,
}

/// A plan being made, handed to [`Resource::modify_plan`] after the schema's defaults
/// and unknown-marking have been applied.
#[derive(Debug)]
pub struct PlanChange<'a> {
    /// The prior state; null when the plan creates the resource.
    pub prior: &'a Value,
    /// The configuration (may hold unknown values).
    pub config: &'a Value,
    /// The planned state, to adjust.
    pub planned: Value,
    /// Paths whose change replaces the resource, beyond those the schema declares.
    pub requires_replace: Vec<AttrPath>,
    /// Private data to carry to apply.
    pub private: Private,
}

impl PlanChange<'_> {
    /// Whether this plan creates the resource.
    #[must_use]
    pub fn is_create(&self) -> bool {
        self.prior.is_null()
    }
}

/// The values of an apply (create or update).
#[derive(Debug)]
pub struct ApplyRequest<'a> {
    /// The prior state; null on create.
    pub prior: &'a Value,
    /// The planned state, every value known except those marked unknown in the plan.
    pub planned: &'a Value,
    /// The configuration, the only place write-only values can be read.
    pub config: &'a Value,
    /// Private data from the plan; what the call leaves here is stored with the state.
    pub private: &'a mut Private,
}

/// A resource type whose state a `moved` block may bring into another type
/// (`MoveResourceState`, Terraform 1.8+, OpenTofu 1.10+).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MoveSource {
    /// The source provider as `namespace/type`, e.g. `datadog/datadog`: matched on
    /// any registry host, since Terraform and OpenTofu name the same provider under
    /// their own (`registry.terraform.io/…`, `registry.opentofu.org/…`).
    pub provider: &'static str,
    /// The source resource type, e.g. `datadog_integration_aws_account`.
    pub type_name: &'static str,
    /// The newest schema version of the source type this one reads (every version
    /// from 0 up to it).
    pub max_schema_version: i64,
}

/// A managed resource type.
#[async_trait]
pub trait Resource: Send + Sync + 'static {
    /// The Terraform type name, e.g. `datadog_aws_account_link`.
    fn type_name(&self) -> &'static str;

    /// The schema; the same value on every call.
    fn schema(&self) -> &Schema;

    /// Called on `terraform validate` and before every plan, without the provider being
    /// configured: check configuration only, no remote calls. `config` may hold
    /// unknown values, which must be accepted.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Called on every plan that does not destroy the resource, after defaults. May read
    /// remote systems (the provider is configured), adjust `change.planned` and add
    /// replace paths.
    async fn modify_plan(&self, _ctx: &CallCtx, _change: &mut PlanChange<'_>, _diags: &mut Diagnostics) {}

    /// Creates the remote object. Returns the new state, or `None` when nothing was
    /// created. A state returned with errors is kept, so the next plan can repair it.
    async fn create(&self, ctx: &CallCtx, req: ApplyRequest<'_>, diags: &mut Diagnostics) -> Option<Value>;

    /// Refreshes state from the remote object. `None` means it is gone: Terraform
    /// drops it from state and the next plan creates it again.
    async fn read(&self, ctx: &CallCtx, state: Value, private: &mut Private, diags: &mut Diagnostics) -> Option<Value>;

    /// Updates the remote object in place and returns the new state.
    async fn update(&self, ctx: &CallCtx, req: ApplyRequest<'_>, diags: &mut Diagnostics) -> Option<Value>;

    /// Deletes the remote object; already gone counts as success.
    async fn delete(&self, ctx: &CallCtx, prior: &Value, private: &Private, diags: &mut Diagnostics);

    /// Turns an import id into a state that `read` then completes. The error for a
    /// malformed id lists every accepted form.
    async fn import(&self, ctx: &CallCtx, id: &str, diags: &mut Diagnostics) -> Option<Value>;

    /// The identity schema (Terraform 1.12+); `None`: the type has no identity.
    fn identity_schema(&self) -> Option<&IdentitySchema> {
        None
    }

    /// The identity of the object `state` describes; `None` while it is not known.
    fn identity(&self, _state: &Value) -> Option<Value> {
        None
    }

    /// The import id an `import { identity = { … } }` stands for.
    fn import_id(&self, _identity: &Value) -> Option<String> {
        None
    }

    /// The other resource types whose state a `moved` block may bring into this one;
    /// none by default.
    fn move_sources(&self) -> &[MoveSource] {
        &[]
    }

    /// Reads the stored JSON state of `from` (one of [`Resource::move_sources`],
    /// provider, type and version already checked) into this type's state. No remote
    /// call: the refresh that follows the move completes the state. `None` with an
    /// error when the state cannot be read.
    fn move_state(&self, _from: &MoveSource, _state: serde_json::Value, _diags: &mut Diagnostics) -> Option<Value> {
        None
    }

    /// Upgrades stored JSON state written at schema `version` to the current schema.
    /// The default accepts the current version and refuses newer ones.
    fn upgrade_state(
        &self,
        version: i64,
        state: serde_json::Value,
        diags: &mut Diagnostics,
    ) -> Option<serde_json::Value> {
        let current = self.schema().version;
        if version > current {
            diags.error(
                "State written by a newer provider",
                format!(
                    "The state of this {} was written with schema version {version}, but this provider \
                     only knows version {current}. Upgrade the provider.",
                    self.type_name()
                ),
            );
            return None;
        }
        Some(state)
    }
}
