//! Reading a StackSet back: AWS's stored settings, its healthy instances in the one
//! region (and the management account's stack, when included), the accounts they
//! cover and each account's registration revision, and a template changed outside
//! Terraform (by hash, against the one this provider applied).

use super::management;
use super::model::{registration_digest, revision_of_account, sha256_hex, Model};
use super::{revision_of, stack_sets_of, OrgStackSet, APPLIED_TEMPLATE};
use crate::clients::aws::{AwsError, StackInstance, StackSetStatus};
use crate::plugin::typed::Planned;
use crate::plugin::{CallCtx, Private, Value};
use crate::provider::Clients;

impl OrgStackSet {
    /// Reads the StackSet into `m`; `None` when it is gone (from its administration
    /// region: AWS answers "not found" from every other one).
    pub(super) async fn refresh(&self, clients: &Clients, mut m: Model, private: &mut Private, ctx: &CallCtx) -> Result<Option<Model>, AwsError> {
        let sets = stack_sets_of(clients, &m).await;
        let remote = match sets.describe_stack_set(&m.name, m.call_as, &ctx.cancel).await {
            Ok(s) if s.status == StackSetStatus::Deleted => return Ok(None),
            Ok(s) => s,
            Err(AwsError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let instances = sets.list_stack_instances(&m.name, m.call_as, &ctx.cancel).await?;
        m.absorb_remote(&remote, &instances);
        let sha = sha256_hex(&remote.template_body);
        // The hash this provider applied stays in private state: the plan compares it
        // with what AWS runs to tell a template changed outside Terraform.
        if private.get(APPLIED_TEMPLATE).is_none() {
            private.insert(APPLIED_TEMPLATE.into(), serde_json::Value::String(sha.clone()));
        }
        m.template_drift = private.get(APPLIED_TEMPLATE).and_then(|v| v.as_str()).filter(|applied| *applied != sha).map(|_| sha.clone());
        m.template_sha256 = Planned::Known(sha);
        let organization = clients.aws().await.organization.clone();
        let expected = self.accounts.expected(organization.as_ref(), &m.organizational_unit_ids, ctx).await?;
        let region = m.region_name();
        let covered: Vec<&StackInstance> =
            instances.iter().filter(|i| i.is_healthy() && region.as_deref().is_none_or(|r| i.region == r) && expected.contains(&i.account)).collect();
        // (account, the id of the stack that registered it)
        let mut stacks: Vec<(String, String)> = covered.iter().map(|i| (i.account.clone(), i.stack_id.clone())).collect();
        if let (true, Some(region)) = (m.include_management_account, region.as_deref()) {
            let plain = clients.aws_in(Some(region)).await.stacks;
            if let Some(remote) = management::read(plain.as_ref(), &m, ctx).await? {
                let site = m.datadog_site.clone().unwrap_or_else(|| clients.site.clone());
                // Counted like a healthy instance only when it runs what the StackSet
                // runs: otherwise the plan shows the account as drift and repairs it.
                if management::in_sync(&remote, &m, &site, m.template_sha256.known().map(String::as_str)) {
                    if let Some(account) = management::account_of(&remote.stack.id) {
                        stacks.push((account, remote.stack.id));
                    }
                }
            }
        }
        m.account_ids = Planned::Known(stacks.iter().map(|(a, _)| a.clone()).collect());
        let digest = registration_digest(&m);
        let before = m.account_revisions.as_map().cloned().unwrap_or_default();
        let revision = |account: &str, stack_id: &str| revision_of_account(stack_id, &digest, before.get(account).and_then(Value::as_str));
        m.account_revisions = Value::Map(stacks.iter().map(|(a, id)| (a.clone(), Value::String(revision(a, id)))).collect());
        let history = sets.list_operations(&m.name, m.call_as, &ctx.cancel).await?;
        m.revision = Planned::Known(revision_of(&history));
        Ok(Some(m))
    }
}
