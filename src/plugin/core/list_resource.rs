//! `ListResource`: a list's results streamed to Terraform, each with the identity
//! of the object it found and, when asked, its full state.
//!
//! The core owns what every list shares: no more than `limit` results, the list
//! stopped (and its remote calls cancelled) as soon as the limit is reached, Terraform
//! stops reading or asks the provider to stop, the identity derived from the state by
//! the managed resource, and the state sent only when Terraform wants it.

use tokio::sync::mpsc;

use crate::plugin::diagnostics::Diagnostics;
use crate::plugin::list::{ListItem, ListOut, ListRequest, ListResource};
use crate::plugin::resource::{CallCtx, Resource};
use crate::plugin::value::Value;

/// What Terraform sent.
#[derive(Debug)]
pub(crate) struct ListResourceRequest {
    pub(crate) config: Value,
    pub(crate) include_resource_object: bool,
    /// The most results Terraform reads; it stops reading there.
    pub(crate) limit: i64,
}

/// One event of the stream.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ListEvent {
    pub(crate) display_name: String,
    /// The managed resource's identity of the object; `None` only on an event that
    /// carries nothing but diagnostics.
    pub(crate) identity: Option<Value>,
    /// The state, when Terraform asked for it.
    pub(crate) object: Option<Value>,
    pub(crate) diagnostics: Diagnostics,
}

impl ListEvent {
    fn diagnostics(diagnostics: Diagnostics) -> Self {
        ListEvent { diagnostics, ..Default::default() }
    }
}

/// Runs `list` and sends its events to `out` until it is done, `limit` results were
/// sent, `out` is closed or `ctx` is cancelled.
pub(crate) async fn list_resource(
    list: &dyn ListResource,
    managed: &dyn Resource,
    ctx: &CallCtx,
    req: ListResourceRequest,
    out: mpsc::Sender<ListEvent>,
) {
    if req.limit <= 0 {
        return;
    }
    // Small: a slow reader holds the list back instead of it reading everything ahead.
    let (tx, mut rx) = mpsc::channel(8);
    let sink = ListOut::new(tx);
    // Sees Terraform leave, or the limit reached, even while the list waits on a
    // remote call.
    let gone = out.clone();
    let enough = tokio_util::sync::CancellationToken::new();
    let run = async {
        let mut diags = Diagnostics::new();
        let request = ListRequest { config: &req.config, include_resource_object: req.include_resource_object };
        tokio::select! {
            () = list.list(ctx, request, &sink, &mut diags) => {}
            () = ctx.cancel.cancelled() => diags.error("Listing stopped", "Terraform asked the provider to stop."),
            () = gone.closed() => {}
            () = enough.cancelled() => {}
        }
        drop(gone);
        // The forwarder's last item: what ended the list, if anything did.
        let _ = sink.diagnostics(diags).await;
        drop(sink);
    };
    let forward = async {
        let mut sent = 0_i64;
        while let Some(item) = rx.recv().await {
            let event = match item {
                ListItem::Diagnostics(d) => ListEvent::diagnostics(d),
                ListItem::Found(found) => match managed.identity(&found.state).filter(Value::is_wholly_known) {
                    Some(identity) => ListEvent {
                        display_name: found.display_name,
                        identity: Some(identity),
                        object: req.include_resource_object.then_some(found.state),
                        diagnostics: Diagnostics::new(),
                    },
                    None => {
                        let mut d = Diagnostics::new();
                        d.bug(format!("Listing {}", managed.type_name()), format!("{:?} was found without an identity", found.display_name));
                        ListEvent::diagnostics(d)
                    }
                },
            };
            let is_result = event.identity.is_some();
            let ends = event.diagnostics.has_errors();
            if out.send(event).await.is_err() || ends {
                break;
            }
            sent += i64::from(is_result);
            if sent >= req.limit {
                break;
            }
        }
        // Whatever the list is still doing is no longer wanted.
        drop(rx);
        enough.cancel();
    };
    tokio::join!(run, forward);
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_trait::async_trait;

    use super::super::scripted::{ctx, state, Scripted};
    use super::*;
    use crate::plugin::list::Listed;
    use crate::plugin::schema::Schema;

    /// Lists `count` objects (`id-0`, `id-1`, …), then optionally fails; counts what it sent.
    #[derive(Default)]
    struct Numbers {
        schema: Schema,
        count: usize,
        fail_at_end: bool,
        warn_first: bool,
        no_identity: bool,
        hang: bool,
        sent: AtomicUsize,
    }

    #[async_trait]
    impl ListResource for Numbers {
        fn type_name(&self) -> &'static str {
            "scripted"
        }
        fn schema(&self) -> &Schema {
            &self.schema
        }
        async fn list(&self, _ctx: &CallCtx, req: ListRequest<'_>, out: &ListOut, diags: &mut Diagnostics) {
            assert!(req.config.is_null() || req.config.is_known());
            if self.warn_first {
                let mut w = Diagnostics::new();
                w.warning("one object skipped", "scripted");
                out.diagnostics(w).await;
            }
            for i in 0..self.count {
                let id = if self.no_identity { Value::Null } else { Value::string(format!("id-{i}")) };
                if !out.found(Listed { display_name: format!("object {i}"), state: state(id, "n", Value::Null) }).await {
                    return;
                }
                self.sent.fetch_add(1, Ordering::SeqCst);
            }
            if self.hang {
                std::future::pending::<()>().await;
            }
            if self.fail_at_end {
                diags.error("listing failed", "scripted");
            }
        }
    }

    async fn run(list: &Numbers, include: bool, limit: i64, call: &CallCtx) -> Vec<ListEvent> {
        let (tx, mut rx) = mpsc::channel(1000);
        let managed = Scripted::new(None, false);
        list_resource(list, &managed, call, ListResourceRequest { config: Value::Null, include_resource_object: include, limit }, tx).await;
        let mut events = Vec::new();
        while let Ok(e) = rx.try_recv() {
            events.push(e);
        }
        events
    }

    fn summaries(events: &[ListEvent]) -> Vec<String> {
        events
            .iter()
            .map(|e| match (&e.identity, e.diagnostics.0.first()) {
                (Some(_), _) => e.display_name.clone(),
                (None, Some(d)) => format!("{:?}: {}", d.severity, d.summary),
                (None, None) => "empty".into(),
            })
            .collect()
    }

    #[tokio::test]
    async fn results_stop_at_the_limit_and_the_list_stops_with_them() {
        // (case, objects, limit, events, at most sent by the list)
        let cases = [
            ("under the limit", 3, 10, vec!["object 0", "object 1", "object 2"], 3),
            ("at the limit", 5, 2, vec!["object 0", "object 1"], 2 + 8 + 1),
            ("at the limit, the rest still to come", 2, 2, vec!["object 0", "object 1"], 2),
            ("no limit means nothing wanted", 3, 0, vec![], 0),
        ];
        for (name, count, limit, want, at_most) in cases {
            // A list that would wait for more after its objects ends at the limit too.
            let list = Numbers { count, hang: i64::try_from(count) == Ok(limit), ..Default::default() };
            let events = tokio::time::timeout(std::time::Duration::from_secs(5), run(&list, false, limit, &ctx())).await.expect("the list ended");
            assert_eq!(summaries(&events), want, "case {name}");
            assert!(list.sent.load(Ordering::SeqCst) <= at_most, "case {name}: the list went on");
        }
    }

    #[tokio::test]
    async fn the_identity_comes_from_the_managed_resource_and_the_state_only_on_request() {
        for include in [false, true] {
            let list = Numbers { count: 1, ..Default::default() };
            let events = run(&list, include, 10, &ctx()).await;
            assert_eq!(events.len(), 1);
            assert_eq!(events[0].identity, Some(Value::object([("id", Value::string("id-0"))])), "include {include}");
            assert_eq!(events[0].object.is_some(), include, "include {include}");
        }
    }

    #[tokio::test]
    async fn problems_travel_as_events() {
        let cases = [
            ("warning, then results", Numbers { count: 1, warn_first: true, ..Default::default() }, vec!["Warning: one object skipped", "object 0"]),
            ("results, then the error", Numbers { count: 1, fail_at_end: true, ..Default::default() }, vec!["object 0", "Error: listing failed"]),
            (
                "a result without identity ends the list",
                Numbers { count: 2, no_identity: true, ..Default::default() },
                vec!["Error: Listing scripted"],
            ),
        ];
        for (name, list, want) in cases {
            assert_eq!(summaries(&run(&list, false, 10, &ctx()).await), want, "case {name}");
        }
    }

    #[tokio::test]
    async fn a_reader_that_goes_away_ends_the_list() {
        // Terraform dropping the stream (Ctrl-C, or its own limit) closes `out`.
        for hang in [false, true] {
            reader_leaves(Numbers { count: if hang { 1 } else { 1000 }, hang, ..Default::default() }).await;
        }
    }

    /// The reader takes the first event and leaves; the list must end, even one
    /// waiting on a remote call.
    async fn reader_leaves(list: Numbers) {
        let (tx, mut rx) = mpsc::channel(1);
        let managed = Scripted::new(None, false);
        let reader = async move {
            let first = rx.recv().await;
            drop(rx);
            first
        };
        let request = ListResourceRequest { config: Value::Null, include_resource_object: false, limit: 1000 };
        let call = ctx();
        let both = async { tokio::join!(list_resource(&list, &managed, &call, request, tx), reader) };
        let ((), first) = tokio::time::timeout(std::time::Duration::from_secs(5), both).await.expect("the list ended");
        assert_eq!(first.map(|e| e.display_name), Some("object 0".to_owned()));
        assert!(list.sent.load(Ordering::SeqCst) < 20, "the list went on after its reader left");
    }

    #[tokio::test]
    async fn a_stop_ends_a_list_that_waits() {
        let list = Numbers { count: 1, hang: true, ..Default::default() };
        let call = ctx();
        let cancel = call.cancel.clone();
        let stopper = async {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            cancel.cancel();
        };
        let (events, ()) = tokio::join!(run(&list, false, 10, &call), stopper);
        assert_eq!(summaries(&events), vec!["object 0", "Error: Listing stopped"]);
    }
}
