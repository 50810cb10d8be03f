//! Who should have a stack instance: the active member accounts under the targeted
//! OUs (never the management account, which service-managed StackSets skip), and
//! who has a healthy one. A walk is remembered briefly, so the refresh and the plan
//! of one run, or an apply's repair and its read-back, walk the organization once.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::clients::aws::{AccountStatus, AwsError, Organization, StackInstance};
use crate::plugin::CallCtx;

/// How long a walk of the organization is reused: a refresh and the plan that follows
/// it in the same run ask the same question seconds apart; a later run asks afresh.
const ORGANIZATION_TTL: Duration = Duration::from_secs(30);

/// Targeted OU ids -> (when walked, active member accounts under them).
type AccountsByTargets = std::collections::HashMap<BTreeSet<String>, (std::time::Instant, BTreeSet<String>)>;

/// Active member accounts under the targets, remembered briefly per target set.
#[derive(Debug, Default)]
pub(super) struct AccountCache(std::sync::Mutex<AccountsByTargets>);

impl AccountCache {
    pub(super) async fn expected(&self, org: &dyn Organization, targets: &BTreeSet<String>, ctx: &CallCtx) -> Result<BTreeSet<String>, AwsError> {
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
pub(super) async fn expected_accounts(org: &dyn Organization, targets: &BTreeSet<String>, ctx: &CallCtx) -> Result<BTreeSet<String>, AwsError> {
    let management = org.management_account_id(&ctx.cancel).await?;
    let mut accounts = BTreeSet::new();
    for target in targets {
        for a in org.accounts_under(target, &ctx.cancel).await? {
            if a.status == AccountStatus::Active && a.id != management {
                accounts.insert(a.id);
            }
        }
    }
    Ok(accounts)
}

pub(super) fn healthy_accounts(instances: &[StackInstance], region: Option<&str>) -> BTreeSet<String> {
    instances
        .iter()
        .filter(|i| i.is_healthy() && region.is_none_or(|r| i.region == r))
        .map(|i| i.account.clone())
        .collect()
}
