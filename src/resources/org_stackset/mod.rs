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

mod model;
mod operations;
mod runner;
mod schema;
mod validate;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::clients::aws::{AwsError, InstanceTargets, Organization, StackInstance, StackSets, TrustedAccess};
use crate::clients::secret::Secret;
use crate::plugin::{ApplyRequest, AttrPath, CallCtx, Diagnostics, PlanChange, Private, Resource, Schema, Value};
use crate::provider::{Clients, ProviderData};

use model::{registration_digest, revision_after_update, revision_of_account, sha256_hex, string_set, Model, TEMPLATE_CHANGED};
use operations::{Budget, OperationError};
use runner::{run, run_instances, Instances, OpKind};
use schema::DEFAULT_TEMPLATE_URL;

/// Private-state key: the template hash this provider last applied.
const APPLIED_TEMPLATE: &str = "applied_template_sha256";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2 * 60 * 60);

/// The resource type.
#[derive(Debug)]
pub struct OrgStackSet {
    schema: Schema,
    data: Arc<ProviderData>,
    accounts: AccountCache,
}

impl OrgStackSet {
    /// A StackSet type using the provider's clients.
    #[must_use]
    pub fn new(data: Arc<ProviderData>) -> Self {
        OrgStackSet { schema: schema::schema(), data, accounts: AccountCache::default() }
    }
}

/// How long a walk of the organization is reused: a refresh and the plan that follows
/// it in the same run ask the same question seconds apart; a later run asks afresh.
const ORGANIZATION_TTL: Duration = Duration::from_secs(30);

/// Targeted OU ids -> (when walked, active member accounts under them).
type AccountsByTargets = std::collections::HashMap<BTreeSet<String>, (std::time::Instant, BTreeSet<String>)>;

/// Active member accounts under the targets, remembered briefly per target set.
#[derive(Debug, Default)]
struct AccountCache(std::sync::Mutex<AccountsByTargets>);

impl AccountCache {
    async fn expected(&self, org: &dyn Organization, targets: &BTreeSet<String>, ctx: &CallCtx) -> Result<BTreeSet<String>, AwsError> {
        let fresh = |at: &std::time::Instant| at.elapsed() < ORGANIZATION_TTL;
        if let Ok(map) = self.0.lock() {
            if let Some((_, accounts)) = map.get(targets).filter(|(at, _)| fresh(at)) {
                return Ok(accounts.clone());
            }
        }
        let accounts = expected_accounts(org, targets, ctx).await?;
        if let Ok(mut map) = self.0.lock() {
            map.retain(|_, (at, _)| fresh(at));
            map.insert(targets.clone(), (std::time::Instant::now(), accounts.clone()));
        }
        Ok(accounts)
    }
}

/// Active member accounts under the targets: who should have an instance.
async fn expected_accounts(org: &dyn Organization, targets: &BTreeSet<String>, ctx: &CallCtx) -> Result<BTreeSet<String>, AwsError> {
    let management = org.management_account_id(&ctx.cancel).await?;
    let mut accounts = BTreeSet::new();
    for target in targets {
        for a in org.accounts_under(target, &ctx.cancel).await? {
            if a.status == "ACTIVE" && a.id != management {
                accounts.insert(a.id);
            }
        }
    }
    Ok(accounts)
}

fn healthy_accounts(instances: &[StackInstance], region: Option<&str>) -> BTreeSet<String> {
    instances
        .iter()
        .filter(|i| i.is_healthy() && region.is_none_or(|r| i.region == r))
        .map(|i| i.account.clone())
        .collect()
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
    let wo = |n: &str| config.get_attr(n).and_then(Value::as_str).filter(|s| !s.is_empty()).map(|s| Secret::new(s.to_owned()));
    (
        wo("datadog_api_key_wo").unwrap_or_else(|| clients.api_key.clone()),
        wo("datadog_app_key_wo").unwrap_or_else(|| clients.app_key.clone()),
    )
}

fn summary(action: &str, m: &Model) -> String {
    format!("{action} StackSet ({})", m.name)
}

impl OrgStackSet {
    /// Reads the StackSet into `m`; `None` when it is gone (from its administration
    /// region: AWS answers "not found" from every other one).
    async fn refresh(&self, clients: &Clients, mut m: Model, private: &mut Private, ctx: &CallCtx) -> Result<Option<Model>, AwsError> {
        let sets = stack_sets_of(clients, &m).await;
        let remote = match sets.describe_stack_set(&m.name, m.call_as, &ctx.cancel).await {
            Ok(s) if s.status == "DELETED" => return Ok(None),
            Ok(s) => s,
            Err(AwsError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let instances = sets.list_stack_instances(&m.name, m.call_as, &ctx.cancel).await?;
        m.absorb_remote(&remote, &instances);
        let sha = sha256_hex(&remote.template_body);
        match private.get(APPLIED_TEMPLATE).and_then(|v| v.as_str()) {
            Some(applied) if applied != sha => {
                // Someone changed the template: show it on the argument that chose it.
                if m.template_body.is_some() {
                    m.template_body = Some(remote.template_body.clone());
                } else {
                    m.template_url = Some(TEMPLATE_CHANGED.to_owned());
                }
            }
            Some(_) => {}
            None => {
                private.insert(APPLIED_TEMPLATE.into(), serde_json::Value::String(sha.clone()));
            }
        }
        m.template_sha256 = Value::String(sha);
        let organization = clients.aws().await.organization.clone();
        let expected = self.accounts.expected(organization.as_ref(), &m.organizational_unit_ids, ctx).await?;
        let region = m.region_name();
        let covered: Vec<&StackInstance> =
            instances.iter().filter(|i| i.is_healthy() && region.as_deref().is_none_or(|r| i.region == r) && expected.contains(&i.account)).collect();
        m.account_ids = string_set(covered.iter().map(|i| i.account.clone()));
        let digest = registration_digest(&m);
        let before = m.account_revisions.as_map().cloned().unwrap_or_default();
        let revision = |i: &StackInstance| revision_of_account(&i.stack_id, &digest, before.get(&i.account).and_then(Value::as_str));
        m.account_revisions = Value::Map(covered.iter().map(|i| (i.account.clone(), Value::String(revision(i)))).collect());
        let history = sets.list_operations(&m.name, m.call_as, &ctx.cancel).await?;
        m.revision = Value::String(revision_of(&history));
        Ok(Some(m))
    }

    /// Brings instances in line with `m`: region move, OU changes, then repairs of the
    /// accounts still missing, deploying to those accounts only (every other stack
    /// stays as it is, and so does its Datadog registration).
    async fn converge_instances(&self, clients: &Clients, prior: Option<&Model>, m: &Model, budget: Budget, ctx: &CallCtx) -> Result<(), OperationError> {
        let stack_sets = stack_sets_of(clients, m).await;
        let sets = stack_sets.as_ref();
        let Some(region) = m.region_name() else { return Ok(()) };
        let targets = |ous: &BTreeSet<String>, only_accounts: Vec<String>| InstanceTargets {
            organizational_unit_ids: ous.iter().cloned().collect(),
            regions: vec![region.clone()],
            only_accounts,
        };
        let mut added = m.organizational_unit_ids.clone();
        if let Some(p) = prior {
            let instances = sets.list_stack_instances(&m.name, m.call_as, &ctx.cancel).await?;
            let stale_regions: BTreeSet<String> = instances.iter().map(|i| i.region.clone()).filter(|r| *r != region).collect();
            if !stale_regions.is_empty() {
                let mut ous = p.organizational_unit_ids.clone();
                ous.extend(instances.iter().map(|i| i.organizational_unit_id.clone()));
                let t = InstanceTargets { organizational_unit_ids: ous.into_iter().collect(), regions: stale_regions.into_iter().collect(), only_accounts: vec![] };
                run_instances(sets, m, Instances::Delete, &t, "deleting stack instances in other regions", budget, ctx).await?;
            }
            let removed: BTreeSet<String> = p.organizational_unit_ids.difference(&m.organizational_unit_ids).cloned().collect();
            if !removed.is_empty() {
                let t = targets(&removed, vec![]);
                run_instances(sets, m, Instances::Delete, &t, "deleting stack instances of removed OUs", budget, ctx).await?;
            }
            added.retain(|ou| !p.organizational_unit_ids.contains(ou));
        }
        // New targets are deployed whole, so AWS records them for auto-deployment.
        if !added.is_empty() {
            let t = targets(&added, vec![]);
            run_instances(sets, m, Instances::Create, &t, "creating stack instances", budget, ctx).await?;
        }
        let instances = sets.list_stack_instances(&m.name, m.call_as, &ctx.cancel).await?;
        let healthy = healthy_accounts(&instances, Some(&region));
        let organization = clients.aws().await.organization.clone();
        // Walked once after the operations; the read-back that follows reuses it.
        let expected = self.accounts.expected(organization.as_ref(), &m.organizational_unit_ids, ctx).await?;
        let missing: Vec<String> = expected.difference(&healthy).cloned().collect();
        if !missing.is_empty() {
            tracing::info!(stack_set = %m.name, "{} of {} accounts need a stack instance", missing.len(), expected.len());
            let t = targets(&m.organizational_unit_ids, missing);
            run_instances(sets, m, Instances::Create, &t, "deploying stack instances to the accounts that lack one", budget, ctx).await?;
        }
        Ok(())
    }

    /// The state after an apply: what AWS has, with plan-known values kept, and the
    /// differences between the plan and the outcome said as warnings.
    async fn applied_state(&self, clients: &Clients, planned: &Model, private: &mut Private, ctx: &CallCtx, diags: &mut Diagnostics) -> Option<Value> {
        // What the StackSet now runs is what this apply applied: let the refresh
        // record its hash instead of comparing against the previous one.
        private.remove(APPLIED_TEMPLATE);
        let mut state = match self.refresh(clients, planned.clone(), private, ctx).await {
            Ok(Some(s)) => s,
            Ok(None) => {
                diags.error(summary("reading back", planned), "The StackSet is gone right after it was written.");
                return None;
            }
            Err(e) => {
                diags.error(summary("reading back", planned), e.to_string());
                return None;
            }
        };
        // Values the plan already promised stay as promised; the next refresh tells
        // the truth, and shows anything that fell short as drift to repair.
        if planned.account_ids.is_wholly_known() && !planned.account_ids.semantically_equal(&state.account_ids) {
            let short: Vec<String> = set_items(&planned.account_ids).difference(&set_items(&state.account_ids)).cloned().collect();
            if !short.is_empty() {
                diags.warning(
                    format!("{} of the planned accounts have no healthy stack instance yet", short.len()),
                    format!("Accounts: {}. The next plan shows them as drift and the next apply deploys them again.", short.join(", ")),
                );
            }
            state.account_ids = planned.account_ids.clone();
        }
        state.account_revisions = promised_revisions(&planned.account_revisions, &state.account_revisions);
        for (kept, field) in [(&planned.revision, &mut state.revision), (&planned.template_sha256, &mut state.template_sha256)] {
            if kept.is_wholly_known() {
                *field = kept.clone();
            }
        }
        state.template_url = planned.template_url.clone();
        state.template_body = planned.template_body.clone();
        state.region = planned.region.clone();
        state.organizational_unit_ids = planned.organizational_unit_ids.clone();
        state.datadog_site = planned.datadog_site.clone();
        Some(state.to_value())
    }
}

/// The StackSet calls for `m`, in its administration region (the configured region
/// while it does not exist yet).
async fn stack_sets_of(clients: &Clients, m: &Model) -> Arc<dyn StackSets> {
    clients.aws_in(m.home_region().as_deref()).await.stack_sets
}

/// After an apply, the revisions the plan promised: its keys, its known values, and
/// what AWS now says for the values the plan left unknown ("" for an account whose
/// instance failed; the next plan shows it as drift).
fn promised_revisions(planned: &Value, now: &Value) -> Value {
    let Some(planned) = planned.as_map() else { return now.clone() };
    let now = now.as_map();
    Value::Map(
        planned
            .iter()
            .map(|(account, v)| {
                let v = if v.is_wholly_known() { v.clone() } else { now.and_then(|n| n.get(account)).cloned().unwrap_or_else(|| Value::String(String::new())) };
                (account.clone(), v)
            })
            .collect(),
    )
}

/// The planned revision of each expected account: updated in place when its healthy
/// stack only gets new inputs, unknown when its stack will be created.
fn planned_revisions(prior: &Value, expected: &BTreeSet<String>, redeployed: impl Fn(&str) -> bool, digest: Option<&str>) -> Value {
    let prior = prior.as_map();
    Value::Map(
        expected
            .iter()
            .map(|account| {
                let before = prior.and_then(|p| p.get(account)).and_then(Value::as_str).filter(|r| !r.is_empty());
                let after = match (before, digest) {
                    (Some(rev), Some(digest)) if !redeployed(account) => revision_after_update(rev, digest).map(Value::String),
                    _ => None,
                };
                (account.clone(), after.unwrap_or(Value::Unknown))
            })
            .collect(),
    )
}

/// Settings AWS stores on the StackSet, which a configuration may leave out.
const STORED_SETTINGS: &[&str] = &[
    "description",
    "datadog_site",
    "iam_role_name",
    "disable_metric_collection",
    "disable_resource_collection",
    "cloud_security_posture_management",
    "auto_deployment",
    "managed_execution",
    "tags",
];

/// A create finds a Datadog StackSet of the same name (one made by hand, or by an
/// interrupted apply) and adopts it: the plan shows the settings it already has
/// wherever the configuration says nothing, so adopting never overwrites them.
async fn plan_adoption(sets: &dyn StackSets, change: &mut PlanChange<'_>, planned: &Model, ctx: &CallCtx, diags: &mut Diagnostics) {
    let existing = match sets.describe_stack_set(&planned.name, planned.call_as, &ctx.cancel).await {
        Ok(s) if s.status != "DELETED" && s.parameters.contains_key("DatadogApiKey") => s,
        // Not there (the usual case), or not Datadog's: create says what to do.
        _ => return,
    };
    let mut found = planned.clone();
    found.absorb_remote(&existing, &[]);
    let found = found.to_value();
    for name in STORED_SETTINGS {
        if change.config.get_attr(name).is_none_or(Value::is_null) {
            put(&mut change.planned, name, found.get_attr(name).cloned().unwrap_or(Value::Null));
        }
    }
    diags.warning(
        format!("StackSet {} already exists and will be adopted", planned.name),
        "A Datadog StackSet of this name exists (made by hand, or by an interrupted apply). This apply takes it over: \
         the settings the configuration writes are applied, and those it leaves out keep the StackSet's values. \
         `terraform import` gives the same result without an apply.",
    );
}

/// Whether every input of the registration digest is known in the plan.
fn registration_inputs_known(planned: &Value) -> bool {
    ["template_url", "template_body", "datadog_site", "iam_role_name", "disable_metric_collection", "disable_resource_collection", "cloud_security_posture_management", "extra_parameters", "keys_revision"]
        .iter()
        .all(|n| planned.get_attr(n).is_none_or(Value::is_wholly_known))
}

/// Sets one attribute of a planned object.
fn put(planned: &mut Value, name: &str, v: Value) {
    if let Value::Object(attrs) = planned {
        attrs.insert(name.to_owned(), v);
    }
}

fn set_items(v: &Value) -> BTreeSet<String> {
    v.elements().unwrap_or_default().iter().filter_map(Value::as_str).map(str::to_owned).collect()
}

impl OrgStackSet {
    /// Where an existing StackSet lives stays in the plan, with a warning when this
    /// run's AWS region is another one. Only an explicit provider `aws { region }`
    /// that differs moves it, by replacement.
    fn plan_administration_region(&self, clients: &Clients, prior: &Model, configured: Option<&str>, change: &mut PlanChange<'_>, diags: &mut Diagnostics) {
        let Some(home) = prior.home_region() else { return };
        put(&mut change.planned, "administration_region", Value::String(home.clone()));
        match clients.aws_settings.region.as_deref() {
            Some(wanted) if wanted != home => {
                put(&mut change.planned, "administration_region", Value::String(wanted.to_owned()));
                change.requires_replace.push(AttrPath::root("administration_region"));
                diags.warning(
                    format!("StackSet {} moves from {home} to {wanted}", prior.name),
                    format!(
                        "The provider's aws {{ region }} is {wanted}, but the StackSet lives in {home} (its administration \
                         region). A StackSet cannot move, so this plan replaces it: its instances and the StackSet are deleted \
                         in {home} (each account's stack unregisters it from Datadog), then created in {wanted}. To keep it \
                         where it is, set aws {{ region = \"{home}\" }} or remove the setting."
                    ),
                );
            }
            _ if configured != Some(home.as_str()) => diags.warning(
                format!("StackSet {} is managed in {home}", prior.name),
                format!(
                    "This run's AWS region is {}, but the StackSet lives in {home} (its administration region), so every \
                     StackSet call went to {home}. Nothing changes because of this. To move the StackSet, set the provider's \
                     aws {{ region }} explicitly.",
                    configured.unwrap_or("not set")
                ),
            ),
            _ => {}
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

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        validate::validate(config, diags);
    }

    async fn modify_plan(&self, ctx: &CallCtx, change: &mut PlanChange<'_>, diags: &mut Diagnostics) {
        // Only the attributes written below change: a round trip through `Model` would
        // turn "known after apply" into null.
        let config = Model::from_value(change.config);
        let creating = change.is_create();
        if creating {
            if let Some(name) = change.config.get_attr("name").filter(|n| n.is_known()) {
                put(&mut change.planned, "id", name.clone());
            }
        }
        // The pinned template, unless a body or another URL is configured.
        if change.config.get_attr("template_body").is_some_and(|b| !b.is_null()) {
            put(&mut change.planned, "template_url", Value::Null);
        } else if change.config.get_attr("template_url").is_none_or(Value::is_null) {
            put(&mut change.planned, "template_url", Value::String(DEFAULT_TEMPLATE_URL.to_owned()));
        }
        let Ok(clients) = self.data.clients_if_known(diags) else { return };
        let Some(clients) = clients else { return };
        if creating && config.datadog_site.is_none() && change.config.get_attr("datadog_site").is_some_and(Value::is_null) {
            put(&mut change.planned, "datadog_site", Value::String(clients.site.clone()));
        }
        let base = clients.aws_base().await;
        let configured = base.region();
        let prior = Model::from_value(change.prior);
        if creating {
            put(&mut change.planned, "administration_region", configured.clone().map_or(Value::Unknown, Value::String));
        } else {
            self.plan_administration_region(&clients, &prior, configured.as_deref(), change, diags);
        }
        let planned = Model::from_value(&change.planned);
        let sets = stack_sets_of(&clients, &planned).await;
        let organization = base.home().organization.clone();
        if creating {
            plan_adoption(sets.as_ref(), change, &planned, ctx, diags).await;
        }
        let planned = Model::from_value(&change.planned);

        match sets.organizations_access(planned.call_as, &ctx.cancel).await {
            Ok(TrustedAccess::Enabled) => {}
            Ok(_) if planned.activate_trusted_access && creating => {}
            Ok(status) => diags.error_at(
                AttrPath::root("activate_trusted_access"),
                "Trusted access with AWS Organizations is off",
                format!(
                    "CloudFormation StackSets cannot deploy to the organization: trusted access is {status:?}. Enable it \
                     (CloudFormation console > StackSets > Enable trusted access, or `aws cloudformation \
                     activate-organizations-access` from the management account), or set activate_trusted_access = true \
                     to have this resource do it on create."
                ),
            ),
            Err(e) => diags.error(summary("checking trusted access for", &planned), e.to_string()),
        }

        let ou_config = change.config.get_attr("organizational_unit_ids").cloned().unwrap_or(Value::Null);
        if !ou_config.is_wholly_known() {
            put(&mut change.planned, "account_ids", Value::Unknown);
            return;
        }
        for id in &planned.organizational_unit_ids {
            match organization.target_exists(id, &ctx.cancel).await {
                Ok(true) => {}
                Ok(false) => diags.error_at(
                    AttrPath::root("organizational_unit_ids"),
                    "Organizational unit not found",
                    format!(
                        "{id} is not the root or an OU of this organization. List them with `aws organizations list-roots` \
                         and `aws organizations list-organizational-units-for-parent`."
                    ),
                ),
                Err(e) => diags.error(summary("checking deployment targets of", &planned), e.to_string()),
            }
        }
        if diags.has_errors() {
            return;
        }
        let expected = match self.accounts.expected(organization.as_ref(), &planned.organizational_unit_ids, ctx).await {
            Ok(a) => a,
            Err(e) => {
                diags.error(summary("listing accounts for", &planned), e.to_string());
                return;
            }
        };
        put(&mut change.planned, "account_ids", string_set(expected.iter().cloned()));
        if creating {
            put(&mut change.planned, "account_revisions", planned_revisions(&Value::Null, &expected, |_| true, None));
            put(&mut change.planned, "instances", Value::Unknown);
            put(&mut change.planned, "revision", Value::Unknown);
            put(&mut change.planned, "template_sha256", planned.template_body.as_deref().map_or(Value::Unknown, |b| Value::String(sha256_hex(b))));
            return;
        }
        let mut desired = planned.clone();
        if let Some(url) = change.planned.get_attr("template_url").and_then(Value::as_str) {
            desired.template_url = Some(url.to_owned());
        }
        if let Some(site) = change.planned.get_attr("datadog_site").and_then(Value::as_str) {
            desired.datadog_site = Some(site.to_owned());
        }
        let settings_change = model::set_settings(&prior) != model::set_settings(&desired);
        let missing: Vec<String> = expected.difference(&set_items(&prior.account_ids)).cloned().collect();
        if !missing.is_empty() {
            diags.warning(
                format!("{} accounts have no healthy stack instance", missing.len()),
                format!(
                    "Accounts {} are under the targeted OUs but have no healthy stack instance (missing, failed or \
                     outdated); this plan deploys them.",
                    missing.join(", ")
                ),
            );
        }
        let instance_change = settings_change
            || !missing.is_empty()
            || prior.organizational_unit_ids != desired.organizational_unit_ids
            || !prior.region.semantically_equal(&desired.region);
        put(&mut change.planned, "revision", if instance_change { Value::Unknown } else { prior.revision.clone() });
        // Which stacks rewrite their registration in this apply, account by account.
        let region_moves = !prior.region.semantically_equal(&desired.region);
        let digest = registration_inputs_known(&change.planned).then(|| registration_digest(&desired));
        let revisions = planned_revisions(&prior.account_revisions, &expected, |a| region_moves || missing.iter().any(|m| m == a), digest.as_deref());
        put(&mut change.planned, "account_revisions", revisions);
        let template_change = prior.template_url != desired.template_url || prior.template_body != desired.template_body;
        put(&mut change.planned, 
            "template_sha256",
            match (&desired.template_body, template_change) {
                (Some(b), _) => Value::String(sha256_hex(b)),
                (None, true) => Value::Unknown,
                (None, false) => prior.template_sha256.clone(),
            },
        );
        put(&mut change.planned, "instances", if instance_change { Value::Unknown } else { prior.instances.clone() });
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
                    Ok(s) if s.parameters.contains_key("DatadogApiKey") => {
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
        // The stacks registered accounts in Datadog: this run's listing is stale.
        clients.accounts.invalidate();
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
        if model::set_settings(&prior) != model::set_settings(&m) {
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
            Ok(i) => i,
            Err(AwsError::NotFound { .. }) => return,
            Err(e) => return diags.error(summary("deleting", &m), e.to_string()),
        };
        if !instances.is_empty() {
            let mut ous = m.organizational_unit_ids.clone();
            ous.extend(instances.iter().map(|i| i.organizational_unit_id.clone()).filter(|o| !o.is_empty()));
            let regions: BTreeSet<String> = instances.iter().map(|i| i.region.clone()).collect();
            let t = InstanceTargets { organizational_unit_ids: ous.into_iter().collect(), regions: regions.into_iter().collect(), only_accounts: vec![] };
            if let Err(e) = run_instances(sets, &m, Instances::Delete, &t, "deleting every stack instance", budget, ctx).await {
                return diags.error(summary("deleting stack instances of", &m), e.to_string());
            }
        }
        match sets.delete_stack_set(&m.name, m.call_as, &ctx.cancel).await {
            Ok(()) | Err(AwsError::NotFound { .. }) => {}
            Err(e) => diags.error(summary("deleting", &m), e.to_string()),
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
            Ok(Some(m)) => Some(m.to_value()),
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
