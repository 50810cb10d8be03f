//! The plan of a StackSet: the template and site defaults, where it lives, trusted
//! access and the targeted OUs checked, the accounts the organization has under them
//! (`account_ids`, known before anything is created), and per account whether this
//! apply runs its stack (`account_revisions`). A create that finds a Datadog
//! StackSet of the same name plans its existing settings.

use std::collections::BTreeSet;

use super::parameters;
use super::model::{self, registration_digest, revision_after_update, sha256_hex, string_set, Model};
use super::schema::DEFAULT_TEMPLATE_URL;
use super::{stack_sets_of, summary, OrgStackSet, APPLIED_TEMPLATE};
use crate::clients::aws::{StackSetStatus, StackSets, TrustedAccess};
use crate::plugin::typed::Planned;
use crate::plugin::{AttrPath, CallCtx, Diagnostics, PlanChange, Value};
use crate::provider::Clients;

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
        Ok(s) if s.status != StackSetStatus::Deleted && s.parameters.contains_key(parameters::API_KEY) => s,
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

impl OrgStackSet {
    /// Where an existing StackSet lives stays in the plan, with a warning when this
    /// run's AWS region is another one. Only an explicit provider `aws { region }`
    /// that differs moves it, by replacement.
    pub(super) fn plan_administration_region(&self, clients: &Clients, prior: &Model, configured: Option<&str>, change: &mut PlanChange<'_>, diags: &mut Diagnostics) {
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

    /// The plan: defaults that depend on the provider, where the StackSet lives, the
    /// organization's accounts under the targets, and which stacks this apply runs.
    pub(super) async fn plan(&self, ctx: &CallCtx, change: &mut PlanChange<'_>, diags: &mut Diagnostics) {
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
        let mut expected = match self.accounts.expected(organization.as_ref(), &planned.organizational_unit_ids, ctx).await {
            Ok(a) => a,
            Err(e) => {
                diags.error(summary("listing accounts for", &planned), e.to_string());
                return;
            }
        };
        // The management account's own stack covers it too (see `management`).
        let include = change.planned.get_attr("include_management_account").cloned().unwrap_or(Value::Null);
        if !include.is_known() {
            put(&mut change.planned, "account_ids", Value::Unknown);
            return;
        }
        let management = if planned.include_management_account {
            match organization.management_account_id(&ctx.cancel).await {
                Ok(id) => {
                    expected.insert(id.clone());
                    Some(id)
                }
                Err(e) => {
                    diags.error(summary("reading the management account for", &planned), e.to_string());
                    return;
                }
            }
        } else {
            None
        };
        put(&mut change.planned, "account_ids", string_set(expected.iter().cloned()));
        if creating {
            put(&mut change.planned, "account_revisions", planned_revisions(&Value::Null, &expected, |_| true, None));
            put(&mut change.planned, "instances", Value::Unknown);
            put(&mut change.planned, "revision", Value::Unknown);
            put(&mut change.planned, "template_sha256", planned.template_body.as_deref().map_or(Value::Unknown, |b| Value::String(sha256_hex(b))));
            put(&mut change.planned, "deployed_regions", planned.region_name().map_or(Value::Unknown, |r| string_set([r])));
            return;
        }
        let mut desired = planned.clone();
        if let Some(url) = change.planned.get_attr("template_url").and_then(Value::as_str) {
            desired.template_url = Some(url.to_owned());
        }
        if let Some(site) = change.planned.get_attr("datadog_site").and_then(Value::as_str) {
            desired.datadog_site = Some(site.to_owned());
        }
        // The template AWS runs is not the one this provider applied: someone changed it.
        let template_drift = change.private.get(APPLIED_TEMPLATE).and_then(|v| v.as_str()).is_some_and(|applied| prior.template_sha256.known().map(String::as_str) != Some(applied));
        if template_drift {
            diags.warning(
                format!("The template of StackSet {} was changed outside Terraform", prior.name),
                "The template the StackSet runs is not the one this provider applied (see template_sha256); this plan puts \
                 the configured template back, and every stack runs again.",
            );
        }
        let settings_change = template_drift || model::set_settings(&prior) != model::set_settings(&desired);
        // A state written before `deployed_regions` existed, planned without a refresh,
        // keeps it null rather than showing a change that is not one.
        let wanted_regions = match &prior.deployed_regions {
            Planned::Null => Planned::Null,
            _ => desired.region_name().map_or(Planned::Unknown, |r| Planned::Known(BTreeSet::from([r]))),
        };
        let regions_drift = prior.deployed_regions != wanted_regions;
        put(&mut change.planned, "deployed_regions", wanted_regions.to_value());
        let missing: Vec<String> = expected.difference(&prior.account_ids.known().cloned().unwrap_or_default()).cloned().collect();
        let management_missing = management.as_ref().is_some_and(|id| missing.contains(id));
        if management_missing && prior.include_management_account {
            diags.warning(
                format!("The management account's stack of StackSet {} is missing or out of date", prior.name),
                "The stack that covers the organization's management account is gone, failed, or no longer runs the \
                 StackSet's template and parameters (changed outside Terraform); this plan deploys it again.",
            );
        }
        let instances_missing: Vec<String> = missing.iter().filter(|a| Some(*a) != management.as_ref()).cloned().collect();
        if !instances_missing.is_empty() {
            let missing = &instances_missing;
            diags.warning(
                format!("{} accounts have no healthy stack instance", missing.len()),
                format!(
                    "Accounts {} are under the targeted OUs but have no healthy stack instance (missing, failed or \
                     outdated); this plan deploys them.",
                    missing.join(", ")
                ),
            );
        }
        // The management account's stack is no instance: repairing it alone leaves
        // the instances and the StackSet's operations as they are.
        let instance_change = settings_change
            || regions_drift
            || !instances_missing.is_empty()
            || prior.organizational_unit_ids != desired.organizational_unit_ids
            || !prior.region.semantically_equal(&desired.region);
        put(&mut change.planned, "revision", if instance_change { Value::Unknown } else { prior.revision.to_value() });
        // Which stacks rewrite their registration in this apply, account by account.
        let region_moves = !prior.region.semantically_equal(&desired.region);
        let digest = registration_inputs_known(&change.planned).then(|| registration_digest(&desired));
        let revisions = planned_revisions(&prior.account_revisions, &expected, |a| region_moves || missing.iter().any(|m| m == a), digest.as_deref());
        put(&mut change.planned, "account_revisions", revisions);
        let template_change = template_drift || prior.template_url != desired.template_url || prior.template_body != desired.template_body;
        put(&mut change.planned, 
            "template_sha256",
            match (&desired.template_body, template_change) {
                (Some(b), _) => Value::String(sha256_hex(b)),
                (None, true) => Value::Unknown,
                (None, false) => prior.template_sha256.to_value(),
            },
        );
        put(&mut change.planned, "instances", if instance_change { Value::Unknown } else { prior.instances.clone() });
    }
}
