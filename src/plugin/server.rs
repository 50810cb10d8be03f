//! The `tfplugin6.Provider` gRPC service: one function per RPC, each decoding the
//! request into our types, calling the provider or resource, and encoding the answer.
//!
//! Problems a user can act on travel as diagnostics in the response; a gRPC error is
//! reserved for requests that could not be understood at all.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use tracing::Instrument;

use super::convert::{attr_path, decode, diagnostics, encode, schema};
use super::diagnostics::Diagnostics;
use super::pb::tfplugin6 as pb;
use super::plan::{plan_from_schema, replace_paths, strip_write_only};
use super::provider::Provider;
use super::resource::{ApplyRequest, CallCtx, PlanChange, Private, Resource};
use super::value::{Type, Value};

type Stream<T> = Pin<Box<dyn futures::Stream<Item = Result<T, Status>> + Send + 'static>>;

/// Serves one provider over the protocol.
pub(crate) struct ProviderService {
    provider: Arc<dyn Provider>,
    resources: HashMap<&'static str, (Arc<dyn Resource>, Type)>,
    provider_type: Type,
    stop: Mutex<CancellationToken>,
}

impl std::fmt::Debug for ProviderService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderService").field("resources", &self.resources.keys().collect::<Vec<_>>()).finish()
    }
}

impl ProviderService {
    pub(crate) fn new(provider: Arc<dyn Provider>) -> Self {
        let resources = provider
            .resources()
            .iter()
            .map(|r| (r.type_name(), (Arc::clone(r), r.schema().value_type())))
            .collect();
        let provider_type = provider.schema().value_type();
        ProviderService { provider, resources, provider_type, stop: Mutex::new(CancellationToken::new()) }
    }

    fn ctx(&self) -> CallCtx {
        let cancel = match self.stop.lock() {
            Ok(t) => t.child_token(),
            Err(poisoned) => poisoned.into_inner().child_token(),
        };
        CallCtx { cancel }
    }

    fn resource(&self, type_name: &str, diags: &mut Diagnostics) -> Option<(Arc<dyn Resource>, Type)> {
        let found = self.resources.get(type_name).map(|(r, t)| (Arc::clone(r), t.clone()));
        if found.is_none() {
            diags.error(
                "Unknown resource type",
                format!("This provider has no resource type {type_name:?}."),
            );
        }
        found
    }
}

fn span(rpc: &'static str, type_name: &str) -> tracing::Span {
    tracing::debug_span!("rpc", tf_rpc = rpc, tf_resource_type = type_name, tf_req_id = %uuid::Uuid::new_v4())
}

fn decode_or_diag(dv: Option<&pb::DynamicValue>, ty: &Type, what: &str, diags: &mut Diagnostics) -> Option<Value> {
    match decode(dv, ty) {
        Ok(v) => Some(v),
        Err(e) => {
            diags.bug_at(e.path().clone(), format!("Cannot decode the {what}"), e);
            None
        }
    }
}

fn encode_or_diag(v: &Value, ty: &Type, what: &str, diags: &mut Diagnostics) -> Option<pb::DynamicValue> {
    match encode(v, ty) {
        Ok(d) => Some(d),
        Err(e) => {
            diags.bug_at(e.path().clone(), format!("Cannot encode the {what}"), e);
            None
        }
    }
}

fn private_from(bytes: &[u8]) -> Private {
    serde_json::from_slice(bytes).unwrap_or_default()
}

fn private_bytes(p: &Private) -> Vec<u8> {
    if p.is_empty() {
        Vec::new()
    } else {
        serde_json::to_vec(p).unwrap_or_default()
    }
}

fn unsupported(what: &str) -> Diagnostics {
    let mut d = Diagnostics::new();
    d.error(format!("{what} are not supported"), format!("This provider declares no {what}."));
    d
}

#[tonic::async_trait]
impl pb::provider_server::Provider for ProviderService {
    async fn get_metadata(&self, _: Request<pb::get_metadata::Request>) -> Result<Response<pb::get_metadata::Response>, Status> {
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(capabilities()),
            resources: self
                .resources
                .keys()
                .map(|t| pb::get_metadata::ResourceMetadata { type_name: (*t).to_owned() })
                .collect(),
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        let resource_schemas =
            self.resources.iter().map(|(name, (r, _))| ((*name).to_owned(), schema(r.schema()))).collect();
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(schema(self.provider.schema())),
            resource_schemas,
            server_capabilities: Some(capabilities()),
            ..Default::default()
        }))
    }

    async fn validate_provider_config(
        &self,
        req: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        async {
            if let Some(config) = decode_or_diag(req.config.as_ref(), &self.provider_type, "provider configuration", &mut diags) {
                self.provider.validate(&config, &mut diags);
            }
        }
        .instrument(span("ValidateProviderConfig", ""))
        .await;
        Ok(Response::new(pb::validate_provider_config::Response { diagnostics: diagnostics(diags) }))
    }

    async fn validate_resource_config(
        &self,
        req: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        async {
            let Some((r, ty)) = self.resource(&req.type_name, &mut diags) else { return };
            let Some(config) = decode_or_diag(req.config.as_ref(), &ty, "resource configuration", &mut diags) else { return };
            let write_only_allowed = req.client_capabilities.as_ref().is_some_and(|c| c.write_only_attributes_allowed);
            if !write_only_allowed {
                refuse_write_only(r.schema(), &config, &mut diags);
            }
            r.validate(&config, &mut diags);
        }
        .instrument(span("ValidateResourceConfig", &req.type_name))
        .await;
        Ok(Response::new(pb::validate_resource_config::Response { diagnostics: diagnostics(diags) }))
    }

    async fn validate_data_resource_config(
        &self,
        _: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        Ok(Response::new(pb::validate_data_resource_config::Response { diagnostics: diagnostics(unsupported("data sources")) }))
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        let mut upgraded_state = None;
        async {
            let Some((r, ty)) = self.resource(&req.type_name, &mut diags) else { return };
            let raw = req.raw_state.unwrap_or_default();
            if raw.json.is_empty() {
                if !raw.flatmap.is_empty() {
                    diags.error(
                        "Unsupported legacy state",
                        "This state was written in the pre-0.12 flatmap format, which this provider never wrote.",
                    );
                }
                return;
            }
            let json: serde_json::Value = match serde_json::from_slice(&raw.json) {
                Ok(j) => j,
                Err(e) => return diags.bug("Stored state is not JSON", e),
            };
            let Some(json) = r.upgrade_state(req.version, json, &mut diags) else { return };
            let bytes = serde_json::to_vec(&json).unwrap_or_default();
            match Value::decode_json_lenient(&bytes, &ty) {
                Ok(v) => upgraded_state = encode_or_diag(&v, &ty, "upgraded state", &mut diags),
                Err(e) => diags.bug_at(e.path().clone(), "Cannot read stored state", e),
            }
        }
        .instrument(span("UpgradeResourceState", &req.type_name))
        .await;
        Ok(Response::new(pb::upgrade_resource_state::Response { upgraded_state, diagnostics: diagnostics(diags) }))
    }

    async fn get_resource_identity_schemas(
        &self,
        _: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        Ok(Response::new(pb::get_resource_identity_schemas::Response::default()))
    }

    async fn upgrade_resource_identity(
        &self,
        _: Request<pb::upgrade_resource_identity::Request>,
    ) -> Result<Response<pb::upgrade_resource_identity::Response>, Status> {
        Ok(Response::new(pb::upgrade_resource_identity::Response {
            upgraded_identity: None,
            diagnostics: diagnostics(unsupported("resource identities")),
        }))
    }

    async fn configure_provider(
        &self,
        req: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        async {
            if let Some(config) = decode_or_diag(req.config.as_ref(), &self.provider_type, "provider configuration", &mut diags) {
                self.provider.configure(&config, &req.terraform_version, &mut diags).await;
            }
        }
        .instrument(span("ConfigureProvider", ""))
        .await;
        Ok(Response::new(pb::configure_provider::Response { diagnostics: diagnostics(diags) }))
    }

    async fn read_resource(&self, req: Request<pb::read_resource::Request>) -> Result<Response<pb::read_resource::Response>, Status> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        let mut out = pb::read_resource::Response::default();
        async {
            let Some((r, ty)) = self.resource(&req.type_name, &mut diags) else { return };
            let Some(state) = decode_or_diag(req.current_state.as_ref(), &ty, "state", &mut diags) else { return };
            let mut private = private_from(&req.private);
            let new_state = r.read(&self.ctx(), state.clone(), &mut private, &mut diags).await;
            // A failed refresh must not look like a deletion: keep what we had.
            let new_state = match new_state {
                Some(mut s) => {
                    strip_write_only(&r.schema().block, &mut s);
                    s
                }
                None if diags.has_errors() => state,
                None => Value::Null,
            };
            out.new_state = encode_or_diag(&new_state, &ty, "state", &mut diags);
            out.private = private_bytes(&private);
        }
        .instrument(span("ReadResource", &req.type_name))
        .await;
        out.diagnostics = diagnostics(diags);
        Ok(Response::new(out))
    }

    async fn plan_resource_change(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        let mut out = pb::plan_resource_change::Response::default();
        async {
            let Some((r, ty)) = self.resource(&req.type_name, &mut diags) else { return };
            let prior = decode_or_diag(req.prior_state.as_ref(), &ty, "prior state", &mut diags);
            let proposed = decode_or_diag(req.proposed_new_state.as_ref(), &ty, "proposed state", &mut diags);
            let config = decode_or_diag(req.config.as_ref(), &ty, "configuration", &mut diags);
            let (Some(prior), Some(proposed), Some(config)) = (prior, proposed, config) else { return };
            if proposed.is_null() {
                // Destroy: nothing to plan.
                out.planned_state = encode_or_diag(&Value::Null, &ty, "plan", &mut diags);
                return;
            }
            let block = &r.schema().block;
            let planned = plan_from_schema(block, &prior, proposed, &config);
            let mut change = PlanChange {
                prior: &prior,
                config: &config,
                planned,
                requires_replace: Vec::new(),
                private: private_from(&req.prior_private),
            };
            r.modify_plan(&self.ctx(), &mut change, &mut diags).await;
            let PlanChange { mut planned, requires_replace, private, .. } = change;
            strip_write_only(block, &mut planned);
            let mut replace = replace_paths(block, &prior, &planned);
            replace.extend(requires_replace);
            out.requires_replace = replace.iter().filter_map(attr_path).collect();
            out.planned_state = encode_or_diag(&planned, &ty, "plan", &mut diags);
            out.planned_private = private_bytes(&private);
        }
        .instrument(span("PlanResourceChange", &req.type_name))
        .await;
        out.diagnostics = diagnostics(diags);
        Ok(Response::new(out))
    }

    async fn apply_resource_change(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        let mut out = pb::apply_resource_change::Response::default();
        async {
            let Some((r, ty)) = self.resource(&req.type_name, &mut diags) else { return };
            let prior = decode_or_diag(req.prior_state.as_ref(), &ty, "prior state", &mut diags);
            let planned = decode_or_diag(req.planned_state.as_ref(), &ty, "planned state", &mut diags);
            let config = decode_or_diag(req.config.as_ref(), &ty, "configuration", &mut diags);
            let (Some(prior), Some(planned), Some(config)) = (prior, planned, config) else { return };
            let mut private = private_from(&req.planned_private);
            let ctx = self.ctx();
            let new_state = if planned.is_null() {
                r.delete(&ctx, &prior, &private, &mut diags).await;
                // A failed delete keeps the resource in state, so nothing is forgotten.
                if diags.has_errors() { prior } else { Value::Null }
            } else {
                let apply = ApplyRequest { prior: &prior, planned: &planned, config: &config, private: &mut private };
                let created = prior.is_null();
                let result = if created { r.create(&ctx, apply, &mut diags).await } else { r.update(&ctx, apply, &mut diags).await };
                match result {
                    Some(mut s) => {
                        strip_write_only(&r.schema().block, &mut s);
                        s
                    }
                    None if created => Value::Null,
                    None => prior,
                }
            };
            out.new_state = encode_or_diag(&new_state, &ty, "new state", &mut diags);
            out.private = private_bytes(&private);
        }
        .instrument(span("ApplyResourceChange", &req.type_name))
        .await;
        out.diagnostics = diagnostics(diags);
        Ok(Response::new(out))
    }

    async fn import_resource_state(
        &self,
        req: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        let mut out = pb::import_resource_state::Response::default();
        async {
            let Some((r, ty)) = self.resource(&req.type_name, &mut diags) else { return };
            if let Some(state) = r.import(&self.ctx(), &req.id, &mut diags).await {
                if let Some(state) = encode_or_diag(&state, &ty, "imported state", &mut diags) {
                    out.imported_resources.push(pb::import_resource_state::ImportedResource {
                        type_name: req.type_name.clone(),
                        state: Some(state),
                        private: Vec::new(),
                        identity: None,
                    });
                }
            }
        }
        .instrument(span("ImportResourceState", &req.type_name))
        .await;
        out.diagnostics = diagnostics(diags);
        Ok(Response::new(out))
    }

    async fn move_resource_state(
        &self,
        _: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        Ok(Response::new(pb::move_resource_state::Response {
            diagnostics: diagnostics(unsupported("moves from other resource types")),
            ..Default::default()
        }))
    }

    async fn read_data_source(&self, _: Request<pb::read_data_source::Request>) -> Result<Response<pb::read_data_source::Response>, Status> {
        Ok(Response::new(pb::read_data_source::Response { diagnostics: diagnostics(unsupported("data sources")), ..Default::default() }))
    }

    async fn generate_resource_config(
        &self,
        _: Request<pb::generate_resource_config::Request>,
    ) -> Result<Response<pb::generate_resource_config::Response>, Status> {
        // Not advertised in the server capabilities, so Terraform generates import
        // configuration from the schema itself and never calls this.
        Ok(Response::new(pb::generate_resource_config::Response {
            config: None,
            diagnostics: diagnostics(unsupported("provider-generated configurations")),
        }))
    }

    async fn validate_ephemeral_resource_config(
        &self,
        _: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<pb::validate_ephemeral_resource_config::Response>, Status> {
        Ok(Response::new(pb::validate_ephemeral_resource_config::Response { diagnostics: diagnostics(unsupported("ephemeral resources")) }))
    }

    async fn open_ephemeral_resource(
        &self,
        _: Request<pb::open_ephemeral_resource::Request>,
    ) -> Result<Response<pb::open_ephemeral_resource::Response>, Status> {
        Ok(Response::new(pb::open_ephemeral_resource::Response {
            diagnostics: diagnostics(unsupported("ephemeral resources")),
            ..Default::default()
        }))
    }

    async fn renew_ephemeral_resource(
        &self,
        _: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Result<Response<pb::renew_ephemeral_resource::Response>, Status> {
        Ok(Response::new(pb::renew_ephemeral_resource::Response {
            diagnostics: diagnostics(unsupported("ephemeral resources")),
            ..Default::default()
        }))
    }

    async fn close_ephemeral_resource(
        &self,
        _: Request<pb::close_ephemeral_resource::Request>,
    ) -> Result<Response<pb::close_ephemeral_resource::Response>, Status> {
        Ok(Response::new(pb::close_ephemeral_resource::Response { diagnostics: diagnostics(unsupported("ephemeral resources")) }))
    }

    type ListResourceStream = Stream<pb::list_resource::Event>;

    async fn list_resource(&self, _: Request<pb::list_resource::Request>) -> Result<Response<Self::ListResourceStream>, Status> {
        let event = pb::list_resource::Event {
            diagnostic: diagnostics(unsupported("list resources")),
            ..Default::default()
        };
        Ok(Response::new(Box::pin(futures::stream::iter([Ok(event)]))))
    }

    async fn validate_list_resource_config(
        &self,
        _: Request<pb::validate_list_resource_config::Request>,
    ) -> Result<Response<pb::validate_list_resource_config::Response>, Status> {
        Ok(Response::new(pb::validate_list_resource_config::Response { diagnostics: diagnostics(unsupported("list resources")) }))
    }

    async fn get_functions(&self, _: Request<pb::get_functions::Request>) -> Result<Response<pb::get_functions::Response>, Status> {
        Ok(Response::new(pb::get_functions::Response::default()))
    }

    async fn call_function(&self, req: Request<pb::call_function::Request>) -> Result<Response<pb::call_function::Response>, Status> {
        Ok(Response::new(pb::call_function::Response {
            result: None,
            error: Some(pb::FunctionError {
                text: format!("This provider has no function {:?}.", req.into_inner().name),
                function_argument: None,
            }),
        }))
    }

    async fn validate_state_store_config(
        &self,
        _: Request<pb::validate_state_store::Request>,
    ) -> Result<Response<pb::validate_state_store::Response>, Status> {
        Ok(Response::new(pb::validate_state_store::Response { diagnostics: diagnostics(unsupported("state stores")) }))
    }

    async fn configure_state_store(
        &self,
        _: Request<pb::configure_state_store::Request>,
    ) -> Result<Response<pb::configure_state_store::Response>, Status> {
        Ok(Response::new(pb::configure_state_store::Response {
            diagnostics: diagnostics(unsupported("state stores")),
            capabilities: None,
        }))
    }

    type ReadStateBytesStream = Stream<pb::read_state_bytes::Response>;

    async fn read_state_bytes(&self, _: Request<pb::read_state_bytes::Request>) -> Result<Response<Self::ReadStateBytesStream>, Status> {
        let resp = pb::read_state_bytes::Response { diagnostics: diagnostics(unsupported("state stores")), ..Default::default() };
        Ok(Response::new(Box::pin(futures::stream::iter([Ok(resp)]))))
    }

    async fn write_state_bytes(
        &self,
        _: Request<tonic::Streaming<pb::write_state_bytes::RequestChunk>>,
    ) -> Result<Response<pb::write_state_bytes::Response>, Status> {
        Ok(Response::new(pb::write_state_bytes::Response { diagnostics: diagnostics(unsupported("state stores")) }))
    }

    async fn lock_state(&self, _: Request<pb::lock_state::Request>) -> Result<Response<pb::lock_state::Response>, Status> {
        Ok(Response::new(pb::lock_state::Response { lock_id: String::new(), diagnostics: diagnostics(unsupported("state stores")) }))
    }

    async fn unlock_state(&self, _: Request<pb::unlock_state::Request>) -> Result<Response<pb::unlock_state::Response>, Status> {
        Ok(Response::new(pb::unlock_state::Response { diagnostics: diagnostics(unsupported("state stores")) }))
    }

    async fn get_states(&self, _: Request<pb::get_states::Request>) -> Result<Response<pb::get_states::Response>, Status> {
        Ok(Response::new(pb::get_states::Response { state_id: Vec::new(), diagnostics: diagnostics(unsupported("state stores")) }))
    }

    async fn delete_state(&self, _: Request<pb::delete_state::Request>) -> Result<Response<pb::delete_state::Response>, Status> {
        Ok(Response::new(pb::delete_state::Response { diagnostics: diagnostics(unsupported("state stores")) }))
    }

    async fn plan_action(&self, _: Request<pb::plan_action::Request>) -> Result<Response<pb::plan_action::Response>, Status> {
        Ok(Response::new(pb::plan_action::Response { diagnostics: diagnostics(unsupported("actions")), deferred: None }))
    }

    type InvokeActionStream = Stream<pb::invoke_action::Event>;

    async fn invoke_action(&self, _: Request<pb::invoke_action::Request>) -> Result<Response<Self::InvokeActionStream>, Status> {
        let event = pb::invoke_action::Event {
            r#type: Some(pb::invoke_action::event::Type::Completed(pb::invoke_action::event::Completed {
                diagnostics: diagnostics(unsupported("actions")),
            })),
        };
        Ok(Response::new(Box::pin(futures::stream::iter([Ok(event)]))))
    }

    async fn validate_action_config(
        &self,
        _: Request<pb::validate_action_config::Request>,
    ) -> Result<Response<pb::validate_action_config::Response>, Status> {
        Ok(Response::new(pb::validate_action_config::Response { diagnostics: diagnostics(unsupported("actions")) }))
    }

    async fn stop_provider(&self, _: Request<pb::stop_provider::Request>) -> Result<Response<pb::stop_provider::Response>, Status> {
        tracing::info!(tf_rpc = "StopProvider", "stop requested: cancelling work in flight");
        let mut guard = match self.stop.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        guard.cancel();
        *guard = CancellationToken::new();
        Ok(Response::new(pb::stop_provider::Response { error: String::new() }))
    }
}

fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: false,
        get_provider_schema_optional: false,
        move_resource_state: false,
        generate_resource_config: false,
    }
}

/// Terraform before 1.11 does not know write-only attributes and would store them;
/// refuse instead of leaking a secret into state.
fn refuse_write_only(schema: &super::schema::Schema, config: &Value, diags: &mut Diagnostics) {
    for a in schema.block.attributes.iter().filter(|a| a.write_only) {
        if config.get_attr(&a.name).is_some_and(|v| !v.is_null()) {
            diags.error_at(
                super::value::AttrPath::root(a.name.as_str()),
                "Write-only attribute needs Terraform or OpenTofu 1.11 or later",
                format!(
                    "{} is write-only: this version of the CLI does not support write-only attributes and would \
                     keep the value in state. Upgrade to Terraform 1.11 or OpenTofu 1.11 or later, or leave it \
                     unset.",
                    a.name
                ),
            );
        }
    }
}
