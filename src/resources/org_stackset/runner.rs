//! Running StackSet operations: one operation started (or joined) and waited for;
//! instance operations split into batches of at most 50 OUs; and, within a batch,
//! the accounts that failed for a transient reason deployed again.
//!
//! The default rollout deploys many accounts at once with soft failure tolerance,
//! so a burst of registrations can meet Datadog's rate limit: the template's custom
//! resource then fails those stacks with a 429 while the operation itself succeeds.
//! Such accounts, and only they, are tried again in a follow-up operation narrowed
//! to them (AWS's `INTERSECTION` filter), after a pause that grows towards
//! Datadog's rate-limit period, and with half the concurrency when the
//! configuration left concurrency to the provider. Accounts that failed for any
//! other reason are named in the error and repaired by the next apply.

use std::collections::BTreeSet;
use std::time::Duration;

use tokio::time::Instant;

use super::model::Model;
use super::parameters;
use super::operations::{self, is_transient, plan_start, wait, Budget, OperationError, Start};
use crate::clients::aws::{InstanceTargets, OperationPreferences, OperationRequest, OperationResult, ResultStatus, StackSetInput, StackSets};
use crate::plugin::CallCtx;

/// One kind of operation, with its input.
pub(super) enum OpKind<'a> {
    UpdateSet(&'a StackSetInput),
    CreateInstances(&'a InstanceTargets),
    DeleteInstances(&'a InstanceTargets),
}

impl OpKind<'_> {
    fn action(&self) -> &'static str {
        match self {
            OpKind::UpdateSet(_) => "update-stack-set",
            OpKind::CreateInstances(_) => "create-instances",
            OpKind::DeleteInstances(_) => "delete-instances",
        }
    }

    /// Hashed into the operation id; parameter values are left out (they hold keys),
    /// the rest of the input is what makes two requests the same.
    fn digest(&self) -> String {
        match self {
            OpKind::UpdateSet(input) => {
                let params: Vec<(&str, bool)> = input.parameters.iter().map(|p| (p.key.as_str(), p.use_previous)).collect();
                let values: Vec<Option<&String>> = input
                    .parameters
                    .iter()
                    .filter(|p| !parameters::is_key(&p.key))
                    .map(|p| p.value.as_ref())
                    .collect();
                operations::digest(&(&input.template, params, values, &input.tags, input.auto_deployment, input.managed_execution, &input.description))
            }
            OpKind::CreateInstances(t) | OpKind::DeleteInstances(t) => operations::digest(t),
        }
    }
}

/// Which instance operation.
#[derive(Clone, Copy)]
pub(super) enum Instances {
    Create,
    Delete,
}

impl Instances {
    fn over<'a>(self, targets: &'a InstanceTargets) -> OpKind<'a> {
        match self {
            Instances::Create => OpKind::CreateInstances(targets),
            Instances::Delete => OpKind::DeleteInstances(targets),
        }
    }
}

/// AWS takes at most this many OUs in one CreateStackInstances or DeleteStackInstances.
const MAX_OUS_PER_OPERATION: usize = 50;

/// Operations one batch may take: the first and its follow-ups for transiently
/// failed accounts. Each follow-up covers fewer accounts at lower concurrency.
const MAX_TRIES: u32 = 10;

/// Follow-ups in a row that may leave as many accounts failing as before: one that
/// starts while Datadog's period is still spent cures nothing, and the pauses
/// grow, so a few in a row are expected before the limit resets. The batch gives
/// up on them only once a whole period has also passed without progress (see
/// [`Progress`]): until then the next try may still be the first in a fresh one.
const MAX_STALLED_TRIES: u32 = 3;

/// Datadog counts requests in calendar-aligned periods of this length: a pause
/// this long always reaches a fresh period.
const LONGEST_PAUSE: Duration = Duration::from_secs(60);

/// Starts (or joins) a StackSet update and waits for it.
pub(super) async fn run(aws: &dyn StackSets, m: &Model, kind: OpKind<'_>, what: &str, budget: Budget, ctx: &CallCtx) -> Result<(), OperationError> {
    run_once(aws, m, &kind, &m.preferences(), what, budget, ctx).await
}

/// Creates or deletes instances over any number of OUs: one operation per batch of
/// at most 50 OUs, one after the other. Each batch has its own deterministic id, so
/// a re-run joins an interrupted batch like any other operation.
pub(super) async fn run_instances(
    aws: &dyn StackSets,
    m: &Model,
    kind: Instances,
    targets: &InstanceTargets,
    what: &str,
    budget: Budget,
    ctx: &CallCtx,
) -> Result<(), OperationError> {
    let batches: Vec<InstanceTargets> = targets
        .organizational_unit_ids
        .chunks(MAX_OUS_PER_OPERATION)
        .map(|ous| InstanceTargets { organizational_unit_ids: ous.to_vec(), ..targets.clone() })
        .collect();
    let count = batches.len();
    for (n, batch) in batches.into_iter().enumerate() {
        let what = if count > 1 { format!("{what} (OU batch {} of {count})", n + 1) } else { what.to_owned() };
        run_batch(aws, m, kind, batch, &what, budget, ctx).await?;
    }
    Ok(())
}

/// One batch, then follow-ups for its transiently failed accounts while they shrink.
async fn run_batch(
    aws: &dyn StackSets,
    m: &Model,
    kind: Instances,
    mut targets: InstanceTargets,
    what: &str,
    budget: Budget,
    ctx: &CallCtx,
) -> Result<(), OperationError> {
    let mut preferences = m.preferences();
    let ease = !m.concurrency_written();
    // Failures no follow-up will cure, reported once the batch is done.
    let mut lasting: Vec<String> = Vec::new();
    let mut progress = Progress::new(Instant::now());
    for tries in 1..=MAX_TRIES {
        let outcome = run_once(aws, m, &kind.over(&targets), &preferences, what, budget, ctx).await;
        let Err(OperationError::Failed { id, what: described, status, reason, failures, results }) = outcome else {
            return match outcome {
                Ok(()) if !lasting.is_empty() => Err(OperationError::Failed {
                    id: "(several)".to_owned(),
                    what: described_with_retries(what),
                    status: "with failures".to_owned(),
                    reason: String::new(),
                    failures: lasting.join("\n"),
                    results: Vec::new(),
                }),
                other => other,
            };
        };
        let next = Followup::of(&results);
        let now = Instant::now();
        progress.record(next.accounts.len(), now);
        let pause = pause_before(tries + 1);
        let give_up = next.accounts.is_empty() || tries == MAX_TRIES || progress.stuck(now) || now + pause >= budget.deadline;
        if give_up {
            lasting.push(failures);
            return Err(OperationError::Failed { id, what: described, status, reason, failures: lasting.join("\n"), results });
        }
        lasting.extend(next.lasting);
        tracing::warn!(
            stack_set = %m.name,
            operation_id = %id,
            "{what}: {} accounts failed for a transient reason (Datadog or AWS throttling, a server error); deploying them again in {pause:?}, try {} of at most {MAX_TRIES}",
            next.accounts.len(),
            tries + 1,
        );
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = ctx.cancel.cancelled() => return Err(OperationError::Cancelled { id, what: described }),
        }
        targets.only_accounts = next.accounts;
        if ease {
            preferences = eased(&preferences);
        }
    }
    unreachable!("the last try returns")
}

fn described_with_retries(what: &str) -> String {
    format!("{what}, with follow-ups for transient failures")
}

/// What a failed operation leaves for a follow-up.
#[derive(Debug, Default, PartialEq, Eq)]
struct Followup {
    /// Accounts to deploy again: those that failed for a transient reason, and those
    /// cancelled after a failure (they never ran).
    accounts: Vec<String>,
    /// Failure lines of accounts that a second try would not cure.
    lasting: Vec<String>,
}

impl Followup {
    fn of(results: &[OperationResult]) -> Followup {
        let transient = |r: &&OperationResult| r.status == ResultStatus::Failed && is_transient(&r.status_reason);
        if !results.iter().any(|r| transient(&r)) {
            return Followup::default();
        }
        let again = |r: &&OperationResult| transient(r) || r.status == ResultStatus::Cancelled;
        let accounts: BTreeSet<String> = results.iter().filter(again).map(|r| r.account.clone()).collect();
        let lasting = operations::failure_lines(&results.iter().filter(|r| r.status == ResultStatus::Failed && !again(r)).cloned().collect::<Vec<_>>());
        Followup { accounts: accounts.into_iter().collect(), lasting }
    }
}

/// Whether follow-ups still cure something: how many tries in a row left as many
/// accounts to deploy again as the one before, and since when none has done better.
#[derive(Debug)]
struct Progress {
    left: usize,
    stalled: u32,
    since: Instant,
}

impl Progress {
    fn new(now: Instant) -> Progress {
        Progress { left: usize::MAX, stalled: 0, since: now }
    }

    /// One try ended leaving `left` accounts to deploy again.
    fn record(&mut self, left: usize, now: Instant) {
        if left >= self.left {
            self.stalled += 1;
        } else {
            self.stalled = 0;
            self.since = now;
        }
        self.left = left;
    }

    /// Several tries in a row cured nothing, and a whole rate-limit period has passed
    /// since the last that did: what fails them is not a spent period.
    fn stuck(&self, now: Instant) -> bool {
        self.stalled >= MAX_STALLED_TRIES && now.duration_since(self.since) >= LONGEST_PAUSE
    }
}

/// The pause before a try: the poll interval, doubled for each try after the
/// second, at most Datadog's rate-limit period.
fn pause_before(tries: u32) -> Duration {
    let base = crate::env::poll_interval(Duration::from_secs(5));
    base.saturating_mul(1 << tries.saturating_sub(2).min(16)).min(LONGEST_PAUSE)
}

/// Half the concurrency, at least one account at a time.
fn eased(p: &OperationPreferences) -> OperationPreferences {
    OperationPreferences { max_concurrent_count: p.max_concurrent_count.map(|c| (c / 2).max(1)), ..p.clone() }
}

/// Starts (or joins) one operation and waits for it.
async fn run_once(
    aws: &dyn StackSets,
    m: &Model,
    kind: &OpKind<'_>,
    preferences: &OperationPreferences,
    what: &str,
    budget: Budget,
    ctx: &CallCtx,
) -> Result<(), OperationError> {
    let history = aws.list_operations(&m.name, m.call_as, &ctx.cancel).await?;
    let id = match plan_start(&m.name, kind.action(), &kind.digest(), &history) {
        Start::Join(id) => {
            tracing::info!(stack_set = %m.name, operation_id = %id, "joining {what}, left running by an interrupted run");
            id
        }
        Start::New(id) => {
            let req = OperationRequest { stack_set: m.name.clone(), call_as: m.call_as, operation_id: id.clone(), preferences: preferences.clone() };
            let started = match kind {
                OpKind::UpdateSet(input) => aws.update_stack_set(input, &req, &ctx.cancel).await,
                OpKind::CreateInstances(t) => aws.create_stack_instances(t, &req, &ctx.cancel).await,
                OpKind::DeleteInstances(t) => aws.delete_stack_instances(t, &req, &ctx.cancel).await,
            };
            match started {
                Ok(id) => id,
                Err(e) if e.code() == Some("OperationIdAlreadyExistsException") => id,
                Err(e) => return Err(e.into()),
            }
        }
    };
    wait(aws, &m.name, m.call_as, &id, what, budget, ctx).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(account: &str, status: &str, reason: &str) -> OperationResult {
        OperationResult { account: account.into(), region: "us-east-1".into(), status: status.into(), status_reason: reason.into() }
    }

    const THROTTLED: &str = "Datadog API returned error: {'errors': ['Too many requests']}";
    const EXISTS: &str = "DatadogIntegrationRole already exists";

    #[test]
    fn throttled_and_cancelled_accounts_are_deployed_again_and_lasting_failures_named() {
        let results = [
            result("111111111111", "SUCCEEDED", ""),
            result("222222222222", "FAILED", THROTTLED),
            result("333333333333", "FAILED", EXISTS),
            result("444444444444", "CANCELLED", "Cancelled since failure tolerance has exceeded"),
        ];
        let f = Followup::of(&results);
        assert_eq!(f.accounts, vec!["222222222222", "444444444444"]);
        assert_eq!(f.lasting, vec![format!("account 333333333333, us-east-1: FAILED: {EXISTS}")]);
    }

    #[test]
    fn without_a_transient_failure_nothing_is_tried_again() {
        let results = [result("333333333333", "FAILED", EXISTS), result("444444444444", "CANCELLED", "Cancelled")];
        assert_eq!(Followup::of(&results), Followup::default());
        assert_eq!(Followup::of(&[]), Followup::default());
    }

    #[test]
    fn stalled_tries_give_up_only_after_a_whole_period_without_progress() {
        let start = Instant::now();
        let mut p = Progress::new(start);
        p.record(30, start);
        assert!(!p.stuck(start), "the first try is progress");
        // Three tries in a row within the period cure nothing: not yet stuck,
        // the limit may not have reset.
        for s in [1, 3, 7] {
            p.record(30, start + Duration::from_secs(s));
        }
        assert_eq!(p.stalled, 3);
        assert!(!p.stuck(start + Duration::from_secs(7)));
        // A fourth, a whole period after the last progress, still cures nothing.
        p.record(30, start + LONGEST_PAUSE);
        assert!(p.stuck(start + LONGEST_PAUSE));
        // Fewer accounts left is progress: the count and the clock start again.
        p.record(29, start + LONGEST_PAUSE);
        assert_eq!(p.stalled, 0);
        assert!(!p.stuck(start + LONGEST_PAUSE * 2));
    }

    #[test]
    fn pauses_grow_to_the_rate_limit_period_and_concurrency_halves_to_one() {
        // TF_DATADOG_POLL_INTERVAL_MS is not set by unit tests: the 5 s default.
        let pauses: Vec<u64> = (2..=9).map(|n| pause_before(n).as_secs()).collect();
        assert_eq!(pauses, vec![5, 10, 20, 40, 60, 60, 60, 60]);
        let mut p = OperationPreferences { max_concurrent_count: Some(50), ..Default::default() };
        let mut seen = Vec::new();
        for _ in 0..7 {
            p = eased(&p);
            seen.push(p.max_concurrent_count.unwrap_or_default());
        }
        assert_eq!(seen, vec![25, 12, 6, 3, 1, 1, 1]);
        let percentage = OperationPreferences { max_concurrent_percentage: Some(50), ..Default::default() };
        assert_eq!(eased(&percentage), percentage, "a written percentage is never changed");
    }
}
