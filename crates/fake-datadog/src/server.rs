//! Serving the router on a socket: one hyper HTTP/1.1 connection per task,
//! each request read whole before it is routed (see `read_whole`),
//! closing a connection unanswered when a drop fault asks for it, and a
//! graceful shutdown that lets in-flight requests finish.
//!
//! We serve connections by hand rather than with `axum::serve` because only
//! at this level can a request end the connection without any response.

use std::future::Future;
use std::time::Duration;

use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::faults::DropConnection;

/// How long in-flight requests may take to finish after shutdown begins.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Why a connection is closed without an answer (hyper closes it on this error).
#[derive(Debug)]
enum CloseUnanswered {
    /// A drop fault asked for it.
    DroppedByFault,
    /// The request body could not be read (the client went away, or it was
    /// larger than [`MAX_BODY_BYTES`]).
    UnreadableBody,
}

impl std::fmt::Display for CloseUnanswered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CloseUnanswered::DroppedByFault => "connection dropped by an injected fault",
            CloseUnanswered::UnreadableBody => "the request body could not be read",
        })
    }
}

impl std::error::Error for CloseUnanswered {}

/// Serves `app` on `listener` until `shutdown` resolves, then stops
/// accepting, lets open requests finish (up to 5 s) and returns.
pub async fn serve<F>(listener: TcpListener, app: Router, shutdown: F) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send,
{
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut conns = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    conns.spawn(serve_connection(stream, app.clone(), stop_rx.clone()));
                }
                // Usually fd exhaustion; back off instead of spinning.
                Err(e) => {
                    eprintln!("fake-datadog: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            // Reap finished connections so the set does not grow forever.
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    // Receivers only fail once every sender is gone, which cannot happen
    // while `stop_tx` lives here; ignoring the result is safe.
    let _ = stop_tx.send(true);
    let drain = async { while conns.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, drain).await.is_err() {
        conns.abort_all();
    }
    Ok(())
}

/// The largest request body the fake takes: far above any body of the API subset.
const MAX_BODY_BYTES: usize = 1 << 20;

/// The request with its body read to the end before any route or middleware sees
/// it. A 429, an injected fault or a refused key is answered before a handler
/// reads the body; hyper then closes the connection with the body still unread,
/// which the kernel turns into a reset, and a client that pooled the connection
/// fails its next request on it ("connection reset"). Datadog's front end keeps
/// such connections usable; so does the fake, by reading first.
async fn read_whole(req: Request<Incoming>) -> Result<Request<axum::body::Body>, CloseUnanswered> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(axum::body::Body::new(body), MAX_BODY_BYTES).await.map_err(|_| CloseUnanswered::UnreadableBody)?;
    Ok(Request::from_parts(parts, axum::body::Body::from(bytes)))
}

async fn serve_connection(stream: TcpStream, app: Router, mut stop: watch::Receiver<bool>) {
    // Small JSON answers: do not wait for Nagle.
    let _ = stream.set_nodelay(true);
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let app = app.clone();
        async move {
            let req = read_whole(req).await?;
            let resp = match app.oneshot(req).await {
                Ok(resp) => resp,
                Err(never) => match never {},
            };
            if resp.extensions().get::<DropConnection>().is_some() {
                return Err(CloseUnanswered::DroppedByFault);
            }
            Ok(resp)
        }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    // The borrow `wait_for` returns must not live across the await below.
    let stopping = async move {
        let _ = stop.wait_for(|stopping| *stopping).await;
    };
    tokio::select! {
        // Errors here are clients going away or our own drops: nothing to do.
        _ = conn.as_mut() => {}
        () = stopping => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}
