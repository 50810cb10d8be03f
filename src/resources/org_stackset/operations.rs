//! StackSet operations: deterministic ids, joining an interrupted operation, and the
//! one wait loop, which reports progress and names every failed account.
//!
//! An operation id is derived from the StackSet, the action, a digest of its input,
//! and the id of the operation before it. A re-run after a crash or a killed apply
//! derives the same id, finds it still running and waits for it instead of starting
//! a duplicate; a later request with the same input follows other operations, so it
//! gets a fresh id and AWS does not mistake it for a repeat.

use std::collections::BTreeMap;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::time::Instant;

use crate::clients::aws::{AwsError, CallAs, Operation, OperationResult, OperationStatus, ResultStatus, StackSets};
use crate::plugin::CallCtx;
use crate::poll::{self, Polled, Unfinished};

/// Why an operation did not succeed.
#[derive(Debug, thiserror::Error)]
pub(super) enum OperationError {
    #[error("{0}")]
    Aws(#[from] AwsError),
    #[error("operation {id} ({what}) ended {status}{reason}:\n{failures}")]
    Failed { id: String, what: String, status: String, reason: String, failures: String, results: Vec<OperationResult> },
    #[error("timed out after {limit:?} waiting for operation {id} ({what}); it keeps running in AWS and the next apply waits for it")]
    Timeout { id: String, what: String, limit: Duration },
    #[error("stopped waiting for operation {id} ({what}): Terraform asked the provider to stop; it keeps running in AWS and the next apply waits for it")]
    Cancelled { id: String, what: String },
}

/// `tf-` and 32 hex digits: within AWS's OperationId rules, and recognisably ours.
pub(super) fn derive_id(stack_set: &str, action: &str, digest: &str, predecessor: Option<&str>) -> String {
    let mut h = Sha256::new();
    for part in [stack_set, action, digest, predecessor.unwrap_or("-")] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let hex: String = h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("tf-{hex}")
}

/// A digest of an operation's input, for [`derive_id`].
pub(super) fn digest<T: std::fmt::Debug>(input: &T) -> String {
    let hex: String = Sha256::digest(format!("{input:?}").as_bytes()).iter().take(16).map(|b| format!("{b:02x}")).collect();
    hex
}

/// The id to start with, or an interrupted operation of ours to join.
pub(super) enum Start {
    Join(String),
    New(String),
}

/// Decides between joining and starting, from the StackSet's operation history.
pub(super) fn plan_start(stack_set: &str, action: &str, digest: &str, history: &[Operation]) -> Start {
    let latest = history.first();
    let before = history.get(1).map(|o| o.id.as_str());
    if let Some(l) = latest {
        if !l.is_done() && l.id == derive_id(stack_set, action, digest, before) {
            return Start::Join(l.id.clone());
        }
    }
    Start::New(derive_id(stack_set, action, digest, latest.map(|o| o.id.as_str())))
}

/// How long an apply step may still take: the configured timeout and when it ends.
#[derive(Debug, Clone, Copy)]
pub(super) struct Budget {
    pub limit: Duration,
    pub deadline: Instant,
}

impl Budget {
    pub(super) fn starting_now(limit: Duration) -> Budget {
        Budget { limit, deadline: Instant::now() + limit }
    }
}

/// Polls the operation until it ends, logging progress, within the budget.
pub(super) async fn wait(
    aws: &dyn StackSets,
    stack_set: &str,
    call_as: CallAs,
    id: &str,
    what: &str,
    budget: Budget,
    ctx: &CallCtx,
) -> Result<Operation, OperationError> {
    let Budget { limit, deadline } = budget;
    let interval = crate::env::poll_interval(Duration::from_secs(5));
    let last_progress = std::sync::Mutex::new(String::new());
    let last_progress = &last_progress;
    tracing::info!(stack_set, operation_id = id, "waiting for {what}");
    let ended = poll::until(interval, deadline, &ctx.cancel, || async move {
        let op = aws.describe_operation(stack_set, call_as, id, &ctx.cancel).await?;
        // While it runs, results only feed the progress line; once it ended they
        // say which accounts failed, so a failed listing is then an error.
        let results = match aws.list_operation_results(stack_set, call_as, id, &ctx.cancel).await {
            Ok(r) => r,
            Err(e) if !op.is_done() => {
                tracing::debug!(stack_set, operation_id = id, "listing the operation's results failed, will ask again: {e}");
                Vec::new()
            }
            Err(e) => return Err(e),
        };
        let progress = progress_line(&results);
        if let Ok(mut last) = last_progress.lock() {
            if *last != progress && !progress.is_empty() {
                tracing::info!(stack_set, operation_id = id, "{what}: {progress}");
                *last = progress;
            }
        }
        Ok(op.is_done().then_some((op, results)))
    })
    .await;
    let (op, results) = match ended {
        Polled::Ready(done) => done,
        Polled::Failed(e) => return Err(e.into()),
        Polled::Unfinished(Unfinished::TimedOut) => return Err(OperationError::Timeout { id: id.to_owned(), what: what.to_owned(), limit }),
        Polled::Unfinished(Unfinished::Cancelled) => return Err(OperationError::Cancelled { id: id.to_owned(), what: what.to_owned() }),
    };
    let failures = failure_lines(&results);
    if op.status == OperationStatus::Succeeded && failures.is_empty() {
        return Ok(op);
    }
    let reason = if op.status_reason.is_empty() { String::new() } else { format!(" ({})", op.status_reason) };
    let failures = if failures.is_empty() { "no account reported a failure".to_owned() } else { failures.join("\n") };
    Err(OperationError::Failed { id: id.to_owned(), what: what.to_owned(), status: op.status.to_string(), reason, failures, results })
}

/// "12/40 accounts succeeded, 3 running, 1 failed".
fn progress_line(results: &[OperationResult]) -> String {
    if results.is_empty() {
        return String::new();
    }
    let mut counts: BTreeMap<&ResultStatus, usize> = BTreeMap::new();
    for r in results {
        *counts.entry(&r.status).or_default() += 1;
    }
    let done = counts.get(&ResultStatus::Succeeded).copied().unwrap_or(0);
    let mut line = format!("{done}/{} accounts succeeded", results.len());
    for (status, label) in [(ResultStatus::Running, "running"), (ResultStatus::Pending, "pending"), (ResultStatus::Failed, "failed"), (ResultStatus::Cancelled, "cancelled")] {
        if let Some(n) = counts.get(&status) {
            line.push_str(&format!(", {n} {label}"));
        }
    }
    line
}

/// Whether an account's failure is one a second try can cure: Datadog or AWS
/// throttling, or a server error, met by the template's custom resource or by
/// CloudFormation.
pub(super) fn is_transient(reason: &str) -> bool {
    // Compared in lower case: Datadog says "Too many requests", AWS "Rate exceeded".
    const TRANSIENT: &[&str] = &[
        "'status': '429'",
        "'status': '500'",
        "'status': '502'",
        "'status': '503'",
        "'status': '504'",
        "too many requests",
        "rate exceeded",
        "throttl",
        "serviceunavailable",
        "service unavailable",
        "internalfailure",
        "internal server error",
        "bad gateway",
        "gateway timeout",
    ];
    let reason = reason.to_lowercase();
    TRANSIENT.iter().any(|t| reason.contains(t))
}

/// `account 111111111111, us-east-1: FAILED: <AWS's reason>` for every failure.
pub(super) fn failure_lines(results: &[OperationResult]) -> Vec<String> {
    results
        .iter()
        .filter(|r| matches!(r.status, ResultStatus::Failed | ResultStatus::Cancelled))
        .map(|r| format!("account {}, {}: {}: {}", r.account, r.region, r.status, if r.status_reason.is_empty() { "no reason given" } else { &r.status_reason }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(id: &str, status: &str) -> Operation {
        Operation { id: id.into(), action: "CREATE".into(), status: status.into(), ..Default::default() }
    }

    #[test]
    fn an_interrupted_operation_of_ours_is_joined_not_repeated() {
        let first = derive_id("dd", "create-instances", "d1", Some("older"));
        let history = vec![op(&first, "RUNNING"), op("older", "SUCCEEDED")];
        assert!(matches!(plan_start("dd", "create-instances", "d1", &history), Start::Join(id) if id == first));
    }

    #[test]
    fn the_same_request_after_it_finished_gets_a_fresh_id() {
        let first = derive_id("dd", "create-instances", "d1", Some("older"));
        let history = vec![op(&first, "SUCCEEDED"), op("older", "SUCCEEDED")];
        match plan_start("dd", "create-instances", "d1", &history) {
            Start::New(id) => assert_ne!(id, first),
            Start::Join(_) => panic!("a finished operation must not be joined"),
        }
    }

    #[test]
    fn someone_elses_running_operation_is_not_joined() {
        let history = vec![op("auto-deployment-1", "RUNNING")];
        assert!(matches!(plan_start("dd", "create-instances", "d1", &history), Start::New(_)));
    }

    #[test]
    fn ids_are_deterministic_and_within_aws_rules() {
        let a = derive_id("dd", "x", "d", None);
        assert_eq!(a, derive_id("dd", "x", "d", None));
        assert!(a.len() <= 128 && a.starts_with("tf-") && a[3..].bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn only_throttling_and_server_errors_count_as_transient() {
        let bad_gateway = "ResourceStatusReason:Received response status [FAILED] from custom resource. Message returned: {\"Message\": \"Datadog API returned error: {'errors': [{'status': '502', 'title': 'Bad Gateway'}]}\"}";
        let exists = "ResourceStatusReason:DatadogIntegrationRole already exists in stack arn:aws:cloudformation:us-east-1:111111111111:stack/other";
        assert!(is_transient(bad_gateway));
        assert!(is_transient("Rate exceeded (Service: Lambda)"));
        assert!(is_transient("Datadog API returned error: {'errors': ['Too many requests']}"));
        assert!(!is_transient(exists));
        assert!(!is_transient("Cancelled since failure tolerance has exceeded"));
    }

    #[test]
    fn progress_and_failures_read_like_the_guide() {
        let r = |a: &str, s: &str, why: &str| OperationResult { account: a.into(), region: "us-east-1".into(), status: s.into(), status_reason: why.into() };
        let results = vec![r("111111111111", "SUCCEEDED", ""), r("222222222222", "FAILED", "Datadog answered 409"), r("333333333333", "RUNNING", "")];
        assert_eq!(progress_line(&results), "1/3 accounts succeeded, 1 running, 1 failed");
        assert_eq!(failure_lines(&results), vec!["account 222222222222, us-east-1: FAILED: Datadog answered 409"]);
    }
}
