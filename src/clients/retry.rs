//! The one place that decides whether and when a failed remote call is tried again:
//! capped exponential backoff with full jitter, or the server's own "retry after".

use std::future::Future;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

/// How a failure should be treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Final: report it.
    Fatal,
    /// Transient: back off and try again.
    Backoff,
    /// Transient, and the server said when: wait that long (capped).
    After(Duration),
}

/// Something that can say whether it is worth retrying.
pub trait Classify {
    /// How this failure should be treated.
    fn classify(&self) -> Retry;
}

/// Attempts and backoff bounds.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Total attempts, the first included.
    pub max_attempts: u32,
    /// The first backoff.
    pub base: Duration,
    /// No single wait is longer.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 5, base: Duration::from_millis(500), max_backoff: Duration::from_secs(30) }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` (attempt counts from 1).
    fn delay(&self, attempt: u32, retry: Retry) -> Duration {
        match retry {
            Retry::After(d) => d.min(self.max_backoff),
            _ => {
                let exp = self.base.saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
                let cap = exp.min(self.max_backoff);
                // Full jitter spreads retries of many parallel resources apart.
                let millis = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
                Duration::from_millis(rand::random_range(millis / 2..=millis.max(1)))
            }
        }
    }
}

/// The error of a call that was cancelled while waiting to retry.
pub trait Cancelled {
    /// The error to report when the wait was cancelled.
    fn cancelled() -> Self;
}

/// Runs `call` until it succeeds, fails fatally, runs out of attempts, or `cancel` fires.
pub async fn with_retry<T, E, F, Fut>(policy: &RetryPolicy, what: &str, cancel: &CancellationToken, mut call: F) -> Result<T, E>
where
    E: Classify + Cancelled + std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let started = Instant::now();
    let mut attempt = 1;
    loop {
        let err = match call().await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let class = err.classify();
        if class == Retry::Fatal || attempt >= policy.max_attempts {
            if attempt > 1 {
                tracing::debug!(what, attempt, elapsed_ms = started.elapsed().as_millis() as u64, "giving up: {err}");
            }
            return Err(err);
        }
        let wait = policy.delay(attempt, class);
        tracing::debug!(what, attempt, wait_ms = wait.as_millis() as u64, "retrying after: {err}");
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = cancel.cancelled() => return Err(E::cancelled()),
        }
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[derive(Debug)]
    struct E(Retry);
    impl Classify for E {
        fn classify(&self) -> Retry {
            self.0
        }
    }
    impl Cancelled for E {
        fn cancelled() -> Self {
            E(Retry::Fatal)
        }
    }
    impl std::fmt::Display for E {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{:?}", self.0)
        }
    }

    fn fast() -> RetryPolicy {
        RetryPolicy { max_attempts: 4, base: Duration::from_millis(1), max_backoff: Duration::from_millis(2) }
    }

    #[tokio::test]
    async fn transient_failures_are_retried_until_success() {
        let calls = AtomicU32::new(0);
        let r: Result<u32, E> = with_retry(&fast(), "t", &CancellationToken::new(), || async {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            if n < 2 { Err(E(Retry::Backoff)) } else { Ok(n) }
        })
        .await;
        assert_eq!(r.ok(), Some(2));
    }

    #[tokio::test]
    async fn fatal_failures_are_not_retried_and_attempts_are_bounded() {
        let calls = AtomicU32::new(0);
        let _: Result<(), E> = with_retry(&fast(), "t", &CancellationToken::new(), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(E(Retry::Fatal))
        })
        .await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let calls = AtomicU32::new(0);
        let _: Result<(), E> = with_retry(&fast(), "t", &CancellationToken::new(), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(E(Retry::After(Duration::from_millis(1))))
        })
        .await;
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn server_retry_after_is_capped_by_max_backoff() {
        let p = RetryPolicy { max_attempts: 3, base: Duration::from_secs(1), max_backoff: Duration::from_secs(5) };
        assert_eq!(p.delay(1, Retry::After(Duration::from_secs(60))), Duration::from_secs(5));
        assert!(p.delay(10, Retry::Backoff) <= Duration::from_secs(5));
    }
}
