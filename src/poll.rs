//! The one wait loop: ask, and if the answer is not there yet, sleep and ask again,
//! until a deadline or until Terraform asks the provider to stop. Both resources
//! wait through it (a StackSet operation to end, an account to be registered).

use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How a wait ended, when it did not end with an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unfinished {
    /// The next ask would come after the deadline.
    TimedOut,
    /// Terraform asked the provider to stop.
    Cancelled,
}

/// How a wait ended.
#[derive(Debug)]
pub enum Polled<T, E> {
    /// `ask` answered.
    Ready(T),
    /// `ask` failed; the error is carried as it is.
    Failed(E),
    /// No answer in time, or stopped.
    Unfinished(Unfinished),
}

/// Calls `ask` until it returns `Some`, every `interval`, never sleeping past
/// `deadline`; the first ask is immediate.
// `ask` returns a plain future rather than being an async closure: the futures of
// `async_trait` methods must be `Send`, which async closures cannot yet promise.
pub async fn until<T, E, F>(interval: Duration, deadline: Instant, cancel: &CancellationToken, mut ask: impl FnMut() -> F) -> Polled<T, E>
where
    F: std::future::Future<Output = Result<Option<T>, E>>,
{
    loop {
        match ask().await {
            Ok(Some(answer)) => return Polled::Ready(answer),
            Ok(None) => {}
            Err(e) => return Polled::Failed(e),
        }
        if Instant::now() + interval > deadline {
            return Polled::Unfinished(Unfinished::TimedOut);
        }
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = cancel.cancelled() => return Polled::Unfinished(Unfinished::Cancelled),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_times_out_and_stops() {
        let cancel = CancellationToken::new();
        let mut asked = 0;
        let got: Polled<u32, ()> = until(Duration::from_millis(5), Instant::now() + Duration::from_millis(600), &cancel, || {
            asked += 1;
            let n = asked;
            async move { Ok((n == 3).then_some(7)) }
        })
        .await;
        assert!(matches!(got, Polled::Ready(7)));
        assert_eq!(asked, 3);

        let never: Polled<(), ()> = until(Duration::from_millis(5), Instant::now() + Duration::from_millis(12), &cancel, || async { Ok(None) }).await;
        assert!(matches!(never, Polled::Unfinished(Unfinished::TimedOut)));

        let failed: Polled<(), &str> = until(Duration::from_millis(5), Instant::now() + Duration::from_millis(12), &cancel, || async { Err("boom") }).await;
        assert!(matches!(failed, Polled::Failed("boom")));

        cancel.cancel();
        let stopped: Polled<(), ()> = until(Duration::from_millis(5), Instant::now() + Duration::from_millis(600), &cancel, || async { Ok(None) }).await;
        assert!(matches!(stopped, Polled::Unfinished(Unfinished::Cancelled)));
    }
}
