//! Pacing of Datadog requests within one provider process.
//!
//! Terraform runs many resources at once (`-parallelism`, 10 by default, often 50),
//! and Datadog's limits are per organization and per period. Two rules keep a large
//! apply from turning into a storm of 429s:
//! - at most [`MAX_IN_FLIGHT`] requests at a time, whatever the parallelism;
//! - once Datadog says the period's budget is spent (a 429, or
//!   `X-RateLimit-Remaining: 0`), every request waits for the reset it announced,
//!   instead of each one finding out with a 429 of its own.

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

/// Requests in flight at once per provider process.
pub(crate) const MAX_IN_FLIGHT: usize = 16;

/// The longest pause one answer can impose (Datadog periods are at most a minute or so).
const MAX_PAUSE: Duration = Duration::from_secs(120);

/// The shared gate every request passes.
#[derive(Debug)]
pub(crate) struct Pacer {
    slots: Semaphore,
    paused_until: Mutex<Option<Instant>>,
}

/// What an answer said about the rate limit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RateLimit {
    /// `X-RateLimit-Remaining`.
    pub(crate) remaining: Option<u64>,
    /// `X-RateLimit-Reset`, in seconds.
    pub(crate) reset: Option<Duration>,
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer { slots: Semaphore::new(MAX_IN_FLIGHT), paused_until: Mutex::new(None) }
    }
}

impl Pacer {
    /// Waits for a slot and for any announced reset; the slot is held until the
    /// returned permit is dropped (when the answer has been read). The semaphore
    /// is never closed, so the permit is always there in practice.
    pub(crate) async fn admit(&self) -> Option<SemaphorePermit<'_>> {
        let permit = self.slots.acquire().await.ok();
        loop {
            let until = self.paused_until.lock().map(|g| *g).unwrap_or(None);
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t).await,
                _ => return permit,
            }
        }
    }

    /// Records what an answer said: a 429, or a spent budget, pauses everyone
    /// until the reset.
    pub(crate) fn observe(&self, status: u16, limit: RateLimit) {
        let spent = status == 429 || limit.remaining == Some(0);
        if !spent {
            return;
        }
        let pause = limit.reset.unwrap_or(Duration::from_secs(1)).min(MAX_PAUSE);
        let until = Instant::now() + pause;
        if let Ok(mut g) = self.paused_until.lock() {
            if g.is_none_or(|t| t < until) {
                *g = Some(until);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test(start_paused = true)]
    async fn a_429_pauses_every_later_request_until_the_reset() {
        let pacer = Pacer::default();
        pacer.observe(429, RateLimit { remaining: None, reset: Some(Duration::from_secs(7)) });
        let t0 = Instant::now();
        drop(pacer.admit().await);
        assert!(t0.elapsed() >= Duration::from_secs(7), "waited {:?}", t0.elapsed());
        let t1 = Instant::now();
        drop(pacer.admit().await);
        assert!(t1.elapsed() < Duration::from_millis(1), "the pause is over");
    }

    #[tokio::test(start_paused = true)]
    async fn a_spent_budget_pauses_but_a_healthy_answer_does_not() {
        let pacer = Pacer::default();
        pacer.observe(200, RateLimit { remaining: Some(5), reset: Some(Duration::from_secs(30)) });
        let t0 = Instant::now();
        drop(pacer.admit().await);
        assert!(t0.elapsed() < Duration::from_millis(1));
        pacer.observe(200, RateLimit { remaining: Some(0), reset: Some(Duration::from_secs(3)) });
        drop(pacer.admit().await);
        assert!(t0.elapsed() >= Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn pauses_are_capped_and_never_shortened() {
        let pacer = Pacer::default();
        pacer.observe(429, RateLimit { remaining: None, reset: Some(Duration::from_secs(3600)) });
        pacer.observe(429, RateLimit { remaining: None, reset: Some(Duration::from_secs(1)) });
        let t0 = Instant::now();
        drop(pacer.admit().await);
        assert_eq!(t0.elapsed(), MAX_PAUSE);
    }

    #[tokio::test(start_paused = true)]
    async fn no_more_than_the_cap_are_in_flight() {
        let pacer = Arc::new(Pacer::default());
        let in_flight = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let peak = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (pacer, in_flight, peak) = (pacer.clone(), in_flight.clone(), peak.clone());
            tasks.push(tokio::spawn(async move {
                let _slot = pacer.admit().await;
                let now = in_flight.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                peak.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(10)).await;
                in_flight.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        assert_eq!(peak.load(std::sync::atomic::Ordering::SeqCst), MAX_IN_FLIGHT);
    }
}
