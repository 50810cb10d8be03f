//! `StopProvider`: Terraform's Ctrl-C, cancelling the calls in flight and no later one.

use std::sync::{Mutex, MutexGuard};

use tokio_util::sync::CancellationToken;

use crate::plugin::resource::CallCtx;

/// Hands every call a token that a stop cancels. After a stop the next calls get a
/// fresh token: Terraform may go on calling (to save state) once it asked to stop.
#[derive(Debug, Default)]
pub(crate) struct StopSignal(Mutex<CancellationToken>);

impl StopSignal {
    /// The context of one call, cancelled by the next stop.
    pub(crate) fn call_ctx(&self) -> CallCtx {
        CallCtx { cancel: self.current().child_token() }
    }

    /// Cancels every call started so far.
    pub(crate) fn stop(&self) {
        let mut current = self.current();
        current.cancel();
        *current = CancellationToken::new();
    }

    fn current(&self) -> MutexGuard<'_, CancellationToken> {
        // A panic elsewhere while holding the lock leaves a token that is still valid.
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_cancels_the_calls_before_it_and_none_after() {
        let signal = StopSignal::default();
        let before = signal.call_ctx();
        let also_before = signal.call_ctx();
        signal.stop();
        let after = signal.call_ctx();
        let cases = [("before", &before, true), ("also before", &also_before, true), ("after", &after, false)];
        for (name, ctx, cancelled) in cases {
            assert_eq!(ctx.cancel.is_cancelled(), cancelled, "case {name}");
        }
    }
}
