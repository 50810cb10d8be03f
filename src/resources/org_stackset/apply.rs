//! What an apply does to the instances, and the state it records: a region move, OU
//! changes, then repairs of the accounts still missing (those accounts only), and
//! the read-back that keeps what the plan promised and warns where AWS fell short.

use std::collections::BTreeSet;

use super::model::Model;
use super::operations::{Budget, OperationError};
use super::organization::healthy_accounts;
use super::runner::{run_instances, Instances};
use super::{stack_sets_of, summary, OrgStackSet, APPLIED_TEMPLATE};
use crate::clients::aws::InstanceTargets;
use crate::plugin::typed::Planned;
use crate::plugin::{CallCtx, Diagnostics, Private, Value};
use crate::provider::Clients;

impl OrgStackSet {
    /// Brings instances in line with `m`: region move, OU changes, then repairs of the
    /// accounts still missing, deploying to those accounts only (every other stack
    /// stays as it is, and so does its Datadog registration).
    pub(super) async fn converge_instances(&self, clients: &Clients, prior: Option<&Model>, m: &Model, budget: Budget, ctx: &CallCtx) -> Result<(), OperationError> {
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
    pub(super) async fn applied_state(&self, clients: &Clients, planned: &Model, private: &mut Private, ctx: &CallCtx, diags: &mut Diagnostics) -> Option<Value> {
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
        if let Planned::Known(promised) = &planned.account_ids {
            let now = state.account_ids.known().cloned().unwrap_or_default();
            let short: Vec<String> = promised.difference(&now).cloned().collect();
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
            if kept.is_known() {
                *field = kept.clone();
            }
        }
        if planned.deployed_regions.is_known() {
            state.deployed_regions = planned.deployed_regions.clone();
        }
        state.template_url = planned.template_url.clone();
        state.template_body = planned.template_body.clone();
        state.region = planned.region.clone();
        state.organizational_unit_ids = planned.organizational_unit_ids.clone();
        state.datadog_site = planned.datadog_site.clone();
        Some(state.to_value())
    }
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
