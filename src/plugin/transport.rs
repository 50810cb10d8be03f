//! Wiring: the unix socket, optional AutoMTLS, the gRPC services, the handshake or
//! reattach line, and a shutdown that finishes within go-plugin's two-second grace.

use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, Notify};
use tokio_rustls::server::TlsStream;
use tonic::transport::server::Connected;

use super::handshake::{self, HandshakeError};
use super::pb;
use super::provider::Provider;
use super::server::ProviderService;
use super::services::{Broker, Controller, Stdio};
use super::tls::{self, TlsError};

/// Terraform asks for schemas with a 64 MiB limit; allow the same as the Go SDK.
const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;
/// A client that has not finished its TLS handshake by then is dropped.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// go-plugin kills a plugin that has not exited two seconds after shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(1500);

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Started by hand with `--debug`: no cookie, no TLS, print the reattach value.
    pub debug: bool,
    /// The provider's source address, for the reattach value.
    pub address: String,
}

/// Why serving failed.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The go-plugin handshake failed.
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// AutoMTLS could not be set up.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The gRPC server failed.
    #[error("gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// Writing the handshake line failed.
    #[error("cannot write the handshake line: {0}")]
    Io(#[from] io::Error),
}

/// Serves `provider` until Terraform shuts it down.
pub async fn serve(provider: Arc<dyn Provider>, opts: ServeOptions) -> Result<(), ServeError> {
    if !opts.debug {
        handshake::check_cookie()?;
    }
    handshake::negotiate(std::env::var("PLUGIN_PROTOCOL_VERSIONS").ok().as_deref())?;
    let path = handshake::socket_path();
    let listener = UnixListener::bind(&path).map_err(|source| HandshakeError::Listen { path: path.clone(), source })?;
    let _cleanup = RemoveOnDrop(path.clone());

    let mtls = match std::env::var("PLUGIN_CLIENT_CERT") {
        Ok(pem) if !opts.debug && !pem.trim().is_empty() => Some(tls::auto_mtls(&pem)?),
        _ => None,
    };

    let shutdown = Arc::new(Notify::new());
    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter.set_service_status("plugin", tonic_health::ServingStatus::Serving).await;
    let provider = pb::tfplugin6::provider_server::ProviderServer::new(ProviderService::new(provider))
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let router = tonic::transport::Server::builder()
        .add_service(health)
        .add_service(pb::plugin::grpc_controller_server::GrpcControllerServer::new(Controller { shutdown: Arc::clone(&shutdown) }))
        .add_service(pb::plugin::grpc_stdio_server::GrpcStdioServer::new(Stdio))
        .add_service(pb::plugin::grpc_broker_server::GrpcBrokerServer::new(Broker))
        .add_service(provider);

    let incoming = accept_loop(listener, mtls.as_ref().map(|m| Arc::clone(&m.config)));

    if opts.debug {
        print_reattach(&opts.address, &path)?;
    } else {
        handshake::announce(&handshake::line(&path, mtls.as_ref().map(|m| m.server_cert_der.as_slice())))?;
        ignore_interrupts();
    }

    let stop = Arc::clone(&shutdown);
    let stop_signal = async move {
        if opts.debug {
            tokio::select! {
                () = stop.notified() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        } else {
            stop.notified().await;
        }
    };
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let serving = router.serve_with_incoming_shutdown(incoming, async move {
        stop_signal.await;
        let _ = stopping_tx.send(());
    });
    tokio::pin!(serving);
    tokio::select! {
        r = &mut serving => r?,
        _ = async { let _ = stopping_rx.await; tokio::time::sleep(SHUTDOWN_GRACE).await } => {
            tracing::debug!("connections still open after shutdown; exiting anyway");
        }
    }
    Ok(())
}

/// Terraform handles Ctrl-C itself and tells us through StopProvider; dying on the
/// SIGINT the terminal sends the whole process group would lose work in flight.
fn ignore_interrupts() {
    if let Ok(mut sig) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()) {
        tokio::spawn(async move { while sig.recv().await.is_some() {} });
    }
}

fn print_reattach(address: &str, path: &std::path::Path) -> io::Result<()> {
    let value = serde_json::json!({
        address: {
            "Protocol": "grpc",
            "ProtocolVersion": handshake::PROTOCOL_VERSION,
            "Pid": std::process::id(),
            "Test": true,
            "Addr": {"Network": "unix", "String": path.display().to_string()},
        }
    });
    let line = format!(
        "Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment variable with the following:\n\n\
         \tTF_REATTACH_PROVIDERS='{value}'\n"
    );
    handshake::announce(&line)
}

/// Accepts connections, finishing TLS handshakes off the accept path so one slow or
/// hostile client cannot hold up Terraform's.
fn accept_loop(
    listener: UnixListener,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> tokio_stream::wrappers::ReceiverStream<io::Result<Conn>> {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let stream = match listener.accept().await {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let tx = tx.clone();
            match &tls {
                None => {
                    if tx.send(Ok(Conn::Plain(stream))).await.is_err() {
                        return;
                    }
                }
                Some(config) => {
                    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(config));
                    tokio::spawn(async move {
                        match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                            Ok(Ok(tls)) => {
                                let _ = tx.send(Ok(Conn::Tls(Box::new(tls)))).await;
                            }
                            Ok(Err(e)) => tracing::warn!(error = %e, "refused a connection: TLS handshake failed"),
                            Err(_) => tracing::warn!("refused a connection: TLS handshake timed out"),
                        }
                    });
                }
            }
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// One accepted connection, plain (debug or TLS disabled) or TLS.
#[derive(Debug)]
enum Conn {
    Plain(UnixStream),
    Tls(Box<TlsStream<UnixStream>>),
}

impl Connected for Conn {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for Conn {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
    fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }
    fn is_write_vectored(&self) -> bool {
        match self {
            Conn::Plain(s) => s.is_write_vectored(),
            Conn::Tls(s) => s.is_write_vectored(),
        }
    }
}
