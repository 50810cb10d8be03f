//! `datadog_aws_org_stackset`: Datadog's service-managed StackSet over an AWS
//! Organization, and its stack instances.
//!
//! Owns one StackSet (id = its name) and its instances in one region. The StackSet
//! lives in its administration region (recorded from its ARN): every call about it
//! goes there, whatever region a run's AWS configuration names. Import by `NAME`,
//! `NAME,CALL_AS` or `NAME,CALL_AS,REGION`. The plan reads Organizations to know,
//! before anything is created, which accounts will be covered (`account_ids`, and
//! `account_revisions`, whose value per account changes only when that account's
//! stack rewrites its Datadog registration), so account links can `for_each` over it
//! in the same apply and re-send only where a stack ran; refresh compares that with
//! the healthy instances, so a missing, failed or outdated instance shows as drift.
//! Instance operations run in batches of at most 50 OUs, AWS's cap.
//!
//! With `include_management_account`, the same template also runs as an ordinary
//! stack in the management account, which StackSets never reach (`management`).
//!
//! One file per job: `plan` (the plan), `apply` (instances converged and the state
//! recorded), `refresh` (reading back), `runner` (starting, joining and retrying
//! operations) over `operations` (ids and the wait), `organization` (who should
//! have an instance), `management` (the management account's stack), `parameters`
//! (the template's parameter names), `model`, `schema`, `validate`, and `list`
//! (`terraform query`). This file is the resource's trait implementation.

mod apply;
mod list;
mod management;
mod model;
mod operations;
mod organization;
mod parameters;
mod plan;
mod refresh;
mod runner;
mod schema;
mod validate;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::clients::aws::{AwsError, InstanceTargets, StackSets, TrustedAccess};
use crate::clients::secret::Secret;
use crate::plugin::{IdentitySchema, ApplyRequest, CallCtx, Diagnostics, PlanChange, Private, Resource, Schema, Value};
use crate::provider::{Clients, ProviderData};

use model::Model;
use operations::Budget;
use organization::AccountCache;
use runner::{run, run_instances, Instances, OpKind};
use schema::DEFAULT_TEMPLATE_URL;

pub use list::OrgStackSetList;

/// Private-state key: the template hash this provider last applied.
const APPLIED_TEMPLATE: &str = "applied_template_sha256";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2 * 60 * 60);

/// The resource type.
#[derive(Debug)]
pub struct OrgStackSet {
    schema: Schema,
    identity: IdentitySchema,
    data: Arc<ProviderData>,
    accounts: AccountCache,
}

impl OrgStackSet {
    /// A StackSet type using the provider's clients.
    #[must_use]
    pub fn new(data: Arc<ProviderData>) -> Self {
        OrgStackSet { schema: schema::schema(), identity: schema::identity(), data, accounts: AccountCache::default() }
    }
}

fn timeout(m: &Model, op: &str) -> Duration {
    m.timeouts.get_attr(op).and_then(Value::as_str).and_then(|t| crate::duration::parse(t).ok()).unwrap_or(DEFAULT_TIMEOUT)
}

/// The revision: the newest operation on the StackSet. Every operation that touches
/// stacks makes the template's custom resource write to Datadog (register, reset,
/// or delete accounts), so links wired to it must look again.
fn revision_of(history: &[crate::clients::aws::Operation]) -> String {
    history.first().map_or_else(|| "0".to_owned(), |o| o.id.clone())
}

/// The Datadog keys for the template: write-only arguments first, then the provider's.
fn template_keys(config: &Value, clients: &Clients) -> (Secret, Secret) {
    let wo = |n: &str| {
        let key = config.get_attr(n).and_then(Value::as_str).filter(|s| !s.is_empty())?;
        crate::plugin::logging::register_secret(key);
        Some(Secret::new(key.to_owned()))
    };
    (
        wo("datadog_api_key_wo").unwrap_or_else(|| clients.api_key.clone()),
        wo("datadog_app_key_wo").unwrap_or_else(|| clients.app_key.clone()),
    )
}

fn summary(action: &str, m: &Model) -> String {
    format!("{action} StackSet ({})", m.name)
}


/// The StackSet calls for `m`, in its administration region (the configured region
/// while it does not exist yet).
async fn stack_sets_of(clients: &Clients, m: &Model) -> Arc<dyn StackSets> {
    clients.aws_in(m.home_region().as_deref()).await.stack_sets
}

impl OrgStackSet {
    /// Every instance, then the StackSet itself.
    async fn delete_stack_set(sets: &dyn StackSets, m: &Model, instances: &[crate::clients::aws::StackInstance], budget: Budget, ctx: &CallCtx) -> Result<(), String> {
        if !instances.is_empty() {
            let mut ous = m.organizational_unit_ids.clone();
            ous.extend(instances.iter().map(|i| i.organizational_unit_id.clone()).filter(|o| !o.is_empty()));
            let regions: BTreeSet<String> = instances.iter().map(|i| i.region.clone()).collect();
            let t = InstanceTargets { organizational_unit_ids: ous.into_iter().collect(), regions: regions.into_iter().collect(), only_accounts: vec![] };
            run_instances(sets, m, Instances::Delete, &t, "deleting every stack instance", budget, ctx).await.map_err(|e| format!("deleting stack instances: {e}"))?;
        }
        match sets.delete_stack_set(&m.name, m.call_as, &ctx.cancel).await {
            Ok(()) | Err(AwsError::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }
}

#[async_trait]
impl Resource for OrgStackSet {
    fn type_name(&self) -> &'static str {
        "datadog_aws_org_stackset"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn identity_schema(&self) -> Option<&IdentitySchema> {
        Some(&self.identity)
    }

    fn identity(&self, state: &Value) -> Option<Value> {
        let m = Model::from_value(state);
        let name = (!m.name.is_empty()).then(|| m.name.clone());
        self.identity.value(&[("name", name), ("call_as", Some(m.call_as.as_str().to_owned())), ("administration_region", m.home_region())])
    }

    /// `NAME,CALL_AS,REGION`, the import id that names the same StackSet.
    fn import_id(&self, identity: &Value) -> Option<String> {
        let text = |n: &str| identity.get_attr(n).and_then(Value::as_str).filter(|s| !s.is_empty());
        let name = text("name")?;
        Some(match (text("call_as"), text("administration_region")) {
            (call_as, Some(region)) => format!("{name},{},{region}", call_as.unwrap_or("SELF")),
            (Some(call_as), None) => format!("{name},{call_as}"),
            (None, None) => name.to_owned(),
        })
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        validate::validate(config, diags);
    }

    async fn modify_plan(&self, ctx: &CallCtx, change: &mut PlanChange<'_>, diags: &mut Diagnostics) {
        self.plan(ctx, change, diags).await;
    }

    async fn create(&self, ctx: &CallCtx, req: ApplyRequest<'_>, diags: &mut Diagnostics) -> Option<Value> {
        let clients = self.data.clients(diags)?;
        let m = Model::from_value(req.planned);
        let stack_sets = stack_sets_of(&clients, &m).await;
        let sets = stack_sets.as_ref();
        let budget = Budget::starting_now(timeout(&m, "create"));
        if m.activate_trusted_access {
            match sets.organizations_access(m.call_as, &ctx.cancel).await {
                Ok(TrustedAccess::Enabled) => {}
                Ok(_) => {
                    if let Err(e) = sets.activate_organizations_access(m.call_as, &ctx.cancel).await {
                        diags.error(summary("activating trusted access for", &m), e.to_string());
                        return None;
                    }
                }
                Err(e) => {
                    diags.error(summary("checking trusted access for", &m), e.to_string());
                    return None;
                }
            }
        }
        let (api, app) = template_keys(req.config, &clients);
        let input = m.input(&clients.site, Some((&api, &app)));
        let token = operations::derive_id(&m.name, "create-stack-set", "", None);
        match sets.create_stack_set(&input, &token, &ctx.cancel).await {
            Ok(_) => {}
            Err(e) if e.code() == Some("NameAlreadyExistsException") => {
                // A StackSet of this name exists: ours from an interrupted apply, or a
                // Datadog StackSet made by hand. Adopt it only if it is Datadog's.
                match sets.describe_stack_set(&m.name, m.call_as, &ctx.cancel).await {
                    Ok(s) if s.parameters.contains_key(parameters::API_KEY) => {
                        tracing::info!(stack_set = %m.name, "adopting the existing Datadog StackSet of this name");
                        if let Err(e) = run(sets, &m, OpKind::UpdateSet(&input), "updating the existing StackSet", budget, ctx).await {
                            diags.error(summary("updating the existing", &m), e.to_string());
                            return None;
                        }
                    }
                    _ => {
                        diags.error(
                            summary("creating", &m),
                            format!("A StackSet named {} already exists and is not Datadog's. Choose another name, or import it.", m.name),
                        );
                        return None;
                    }
                }
            }
            Err(e) => {
                diags.error(summary("creating", &m), e.to_string());
                return None;
            }
        }
        let mut private = Private::new();
        let converged = self.converge_instances(&clients, None, &m, budget, ctx).await;
        let management = if m.include_management_account {
            self.converge_management(&clients, &m, (&api, &app), false, budget, ctx, diags).await
        } else {
            Ok(())
        };
        // The stacks registered accounts in Datadog: this run's listing is stale.
        clients.accounts.invalidate();
        if let Err(e) = management {
            diags.warning(
                summary("deploying the management account's stack of", &m),
                format!("{e}\n\nThe StackSet was created and stays in state; the next plan shows the management account as drift and the next apply retries it."),
            );
        }
        if let Err(e) = converged {
            // The StackSet exists: keep it in state so the next plan repairs in place.
            // A create that reports an error is tainted by Terraform and replaced as a
            // whole, so failed accounts are reported as a warning and as drift.
            diags.warning(
                summary("deploying stack instances of", &m),
                format!("{e}\n\nThe StackSet was created and stays in state; the next plan shows the accounts above as drift and the next apply retries them."),
            );
        }
        let state = self.applied_state(&clients, &m, &mut private, ctx, diags).await;
        *req.private = private;
        state
    }

    async fn read(&self, ctx: &CallCtx, state: Value, private: &mut Private, diags: &mut Diagnostics) -> Option<Value> {
        let Ok(found) = self.data.clients_if_known(diags) else { return None };
        let Some(clients) = found else { return Some(state) };
        let m = Model::from_value(&state);
        match self.refresh(&clients, m.clone(), private, ctx).await {
            Ok(Some(m)) => Some(m.to_value()),
            Ok(None) => {
                diags.warning(
                    format!("StackSet {} is gone", m.name),
                    "It was deleted outside Terraform; the next apply creates it again.",
                );
                None
            }
            Err(e) => {
                diags.error(summary("reading", &m), e.to_string());
                None
            }
        }
    }

    async fn update(&self, ctx: &CallCtx, req: ApplyRequest<'_>, diags: &mut Diagnostics) -> Option<Value> {
        let clients = self.data.clients(diags)?;
        let prior = Model::from_value(req.prior);
        let m = Model::from_value(req.planned);
        let stack_sets = stack_sets_of(&clients, &prior).await;
        let budget = Budget::starting_now(timeout(&m, "update"));
        // Whatever happens below, the stacks may have written to Datadog.
        clients.accounts.invalidate();
        // The plan leaves the template hash as it was unless the template changes,
        // including back from one changed outside Terraform.
        if model::set_settings(&prior) != model::set_settings(&m) || m.template_sha256 != prior.template_sha256 {
            let rotate = prior.keys_revision != m.keys_revision;
            let keys = template_keys(req.config, &clients);
            let input = m.input(&clients.site, rotate.then_some((&keys.0, &keys.1)));
            if let Err(e) = run(stack_sets.as_ref(), &m, OpKind::UpdateSet(&input), "updating the StackSet", budget, ctx).await {
                diags.error(summary("updating", &m), e.to_string());
                return self.applied_state(&clients, &prior, req.private, ctx, &mut Diagnostics::new()).await;
            }
        }
        if let Err(e) = self.converge_instances(&clients, Some(&prior), &m, budget, ctx).await {
            diags.error(summary("updating stack instances of", &m), e.to_string());
        }
        if let Err(e) = self.update_management(&clients, &prior, &m, req.config, budget, ctx, diags).await {
            diags.error(summary("updating the management account's stack of", &m), e);
        }
        let mut quiet = Diagnostics::new();
        let state = self.applied_state(&clients, &m, req.private, ctx, if diags.has_errors() { &mut quiet } else { diags }).await;
        state
    }

    async fn delete(&self, ctx: &CallCtx, prior: &Value, _private: &Private, diags: &mut Diagnostics) {
        let Some(clients) = self.data.clients(diags) else { return };
        let m = Model::from_value(prior);
        let stack_sets = stack_sets_of(&clients, &m).await;
        let budget = Budget::starting_now(timeout(&m, "delete"));
        let sets = stack_sets.as_ref();
        clients.accounts.invalidate();
        let instances = match sets.list_stack_instances(&m.name, m.call_as, &ctx.cancel).await {
            Ok(i) => Some(i),
            // The StackSet is gone already; the management account's stack may not be.
            Err(AwsError::NotFound { .. }) => None,
            Err(e) => return diags.error(summary("deleting", &m), e.to_string()),
        };
        if let Some(instances) = instances {
            if let Err(e) = Self::delete_stack_set(sets, &m, &instances, budget, ctx).await {
                return diags.error(summary("deleting", &m), e);
            }
        }
        // The management account's stack goes last. It is independent of the StackSet
        // (another account's stack, not an instance), so no order is forced by AWS or
        // Datadog; last means a destroy that fails on the organization's stacks leaves
        // the management account, the most sensitive one, monitored until the
        // StackSet is gone, and a re-run finds the stack still in state to delete.
        if m.include_management_account {
            if let Err(e) = self.remove_management(&clients, &m, m.region_name().as_deref(), budget, ctx).await {
                diags.error(summary("deleting the management account's stack of", &m), e);
            }
        }
    }

    async fn import(&self, ctx: &CallCtx, id: &str, diags: &mut Diagnostics) -> Option<Value> {
        let Some((name, call_as, region)) = validate::parse_import_id(id) else {
            diags.error(
                "Invalid import ID",
                format!(
                    "{id:?} is not a StackSet import ID. Accepted forms:\n- NAME, e.g. DatadogIntegration\n- NAME,DELEGATED_ADMIN \
                     (or NAME,SELF)\n- NAME,SELF,REGION, e.g. DatadogIntegration,SELF,eu-west-1, for a StackSet whose \
                     administration region is not this run's AWS region"
                ),
            );
            return None;
        };
        let clients = self.data.clients(diags)?;
        let mut skeleton = Model::from_value(&Value::Null);
        skeleton.name = name.to_owned();
        skeleton.call_as = call_as;
        skeleton.administration_region = region;
        skeleton.template_url = Some(DEFAULT_TEMPLATE_URL.to_owned());
        let mut private = Private::new();
        let skeleton_region = skeleton.administration_region.clone();
        match self.refresh(&clients, skeleton, &mut private, ctx).await {
            Ok(Some(m)) => self.import_management(&clients, m, &mut private, ctx, diags).await.map(|m| m.to_value()),
            Ok(None) => {
                diags.error(format!("importing StackSet ({name})"), format!(
                        "No StackSet named {name} is visible with call_as = {} in {}. A StackSet lives in one region: add it to \
                         the import ID (NAME,{},REGION) if it is another one.",
                        call_as.as_str(),
                        skeleton_region.as_deref().unwrap_or("this run's AWS region"),
                        call_as.as_str()
                    ));
                None
            }
            Err(e) => {
                diags.error(format!("importing StackSet ({name})"), e.to_string());
                None
            }
        }
    }
}
