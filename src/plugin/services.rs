//! The go-plugin side services: controller (shutdown), stdio and broker.
//!
//! We write logs straight to stderr, which go-plugin reads line by line, so the stdio
//! stream never carries data; it stays open so the client sees a healthy plugin.

use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::Notify;
use tonic::{Request, Response, Status};

use super::pb::plugin as pb;

type Stream<T> = Pin<Box<dyn futures::Stream<Item = Result<T, Status>> + Send + 'static>>;

/// `plugin.GRPCController`: Terraform's "we are done with you".
#[derive(Debug)]
pub(crate) struct Controller {
    pub(crate) shutdown: Arc<Notify>,
}

#[tonic::async_trait]
impl pb::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(&self, _: Request<pb::Empty>) -> Result<Response<pb::Empty>, Status> {
        tracing::debug!("shutdown requested by Terraform");
        self.shutdown.notify_one();
        Ok(Response::new(pb::Empty {}))
    }
}

/// `plugin.GRPCStdio`: an open stream with nothing on it (see the module doc).
#[derive(Debug)]
pub(crate) struct Stdio;

#[tonic::async_trait]
impl pb::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = Stream<pb::StdioData>;

    async fn stream_stdio(&self, _: Request<()>) -> Result<Response<Self::StreamStdioStream>, Status> {
        Ok(Response::new(Box::pin(futures::stream::pending())))
    }
}

/// `plugin.GRPCBroker`: providers open no side channels; the stream stays idle.
#[derive(Debug)]
pub(crate) struct Broker;

#[tonic::async_trait]
impl pb::grpc_broker_server::GrpcBroker for Broker {
    type StartStreamStream = Stream<pb::ConnInfo>;

    async fn start_stream(
        &self,
        _: Request<tonic::Streaming<pb::ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        Ok(Response::new(Box::pin(futures::stream::pending())))
    }
}
