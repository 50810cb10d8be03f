//! The `tfplugin6.Provider` gRPC service: a thin adapter. Each RPC decodes the request
//! into our types, calls its function in `core` (or the provider), and encodes the
//! answer; the protocol's rules live in `core`, one RPC a file, with their tests.
//!
//! Problems a user can act on travel as diagnostics in the response; a gRPC error is
//! reserved for requests that could not be understood at all.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;

use tonic::{Request, Response, Status};
use tracing::Instrument;

use super::convert::{attr_path, decode, diagnostics, encode, private_bytes, private_from, schema};
use super::core;
use super::data_source::DataSource;
use super::diagnostics::Diagnostics;
use super::identity::IdentitySchema;
use super::list::ListResource;
use super::pb::tfplugin6 as pb;
use super::provider::Provider;
use super::resource::Resource;
use super::value::{Type, Value};

type Stream<T> = Pin<Box<dyn futures::Stream<Item = Result<T, Status>> + Send + 'static>>;

/// Serves one provider over the protocol.
pub(crate) struct ProviderService {
    provider: Arc<dyn Provider>,
    resources: HashMap<&'static str, (Arc<dyn Resource>, Type)>,
    /// List resources by type name, with their `config` block's type.
    lists: HashMap<&'static str, (Arc<dyn ListResource>, Type)>,
    data_sources: HashMap<&'static str, (Arc<dyn DataSource>, Type)>,
    provider_type: Type,
    stop: core::StopSignal,
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
        let lists = provider
            .list_resources()
            .iter()
            .map(|l| (l.type_name(), (Arc::clone(l), l.schema().value_type())))
            .collect();
        let data_sources = provider
            .data_sources()
            .iter()
            .map(|d| (d.type_name(), (Arc::clone(d), d.schema().value_type())))
            .collect();
        let provider_type = provider.schema().value_type();
        ProviderService { provider, resources, data_sources, lists, provider_type, stop: core::StopSignal::default() }
    }

    fn data_source(&self, type_name: &str, diags: &mut Diagnostics) -> Option<(Arc<dyn DataSource>, Type)> {
        let found = self.data_sources.get(type_name).map(|(d, t)| (Arc::clone(d), t.clone()));
        if found.is_none() {
            diags.error("Unknown data source", format!("This provider has no data source {type_name:?}."));
        }
        found
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

    /// The list resource `type_name`, its config type, and the managed resource it lists.
    fn list(&self, type_name: &str, diags: &mut Diagnostics) -> Option<Listing> {
        let Some((list, ty)) = self.lists.get(type_name) else {
            diags.error("Unknown list resource type", format!("This provider has no list resource type {type_name:?}."));
            return None;
        };
        let (managed, _) = self.resource(type_name, diags)?;
        Some(Listing { list: Arc::clone(list), config_type: ty.clone(), managed })
    }
}

/// A list resource with what serving it needs.
struct Listing {
    list: Arc<dyn ListResource>,
    config_type: Type,
    managed: Arc<dyn Resource>,
}

/// One list event for the wire: the identity in the managed type's identity schema,
/// the state in its schema.
fn list_event(managed: &dyn Resource, state_type: &Type, event: core::ListEvent) -> pb::list_resource::Event {
    let mut diags = event.diagnostics;
    let identity = match (event.identity, managed.identity_schema()) {
        (Some(identity), Some(schema)) => identity_data(schema, &identity),
        _ => None,
    };
    let resource_object = event.object.and_then(|o| encode_or_diag(&o, state_type, "resource object", &mut diags));
    pb::list_resource::Event { identity, display_name: event.display_name, resource_object, diagnostic: diagnostics(diags) }
}

/// The identity of the object `state` describes, for the wire; `None` when the type
/// has none or it is not known yet.
fn identity_of(r: &dyn Resource, state: &Value) -> Option<pb::ResourceIdentityData> {
    let schema = r.identity_schema()?;
    if state.is_null() {
        return None;
    }
    identity_data(schema, &r.identity(state)?)
}

fn identity_data(schema: &IdentitySchema, identity: &Value) -> Option<pb::ResourceIdentityData> {
    if !identity.is_wholly_known() {
        return None;
    }
    let data = encode(identity, &schema.object_type()).ok()?;
    Some(pb::ResourceIdentityData { identity_data: Some(data) })
}

fn identity_schema(s: &IdentitySchema) -> pb::ResourceIdentitySchema {
    pb::ResourceIdentitySchema {
        version: s.version,
        identity_attributes: s
            .attributes
            .iter()
            .map(|a| pb::resource_identity_schema::IdentityAttribute {
                name: a.name.to_owned(),
                r#type: a.ty.to_json_bytes(),
                required_for_import: a.required_for_import,
                optional_for_import: !a.required_for_import,
                description: a.description.to_owned(),
            })
            .collect(),
    }
}

fn span(rpc: &'static str, type_name: &str) -> tracing::Span {
    tracing::debug_span!("rpc", tf_rpc = rpc, tf_resource_type = type_name, tf_req_id = %uuid::Uuid::new_v4())
}

/// Decodes one value of a request; a codec error becomes a diagnostic at its path.
fn decode_or_diag(dv: Option<&pb::DynamicValue>, ty: &Type, what: &str, diags: &mut Diagnostics) -> Option<Value> {
    match decode(dv, ty) {
        Ok(v) => Some(v),
        Err(e) => {
            diags.bug_at(e.path().clone(), format!("Cannot decode the {what}"), e);
            None
        }
    }
}

/// Decodes several values of one request; every one that fails is reported, and the
/// values come back only when all decoded.
fn decode_all<const N: usize>(
    values: [(Option<&pb::DynamicValue>, &str); N],
    ty: &Type,
    diags: &mut Diagnostics,
) -> Option<[Value; N]> {
    let decoded: Vec<Option<Value>> = values.into_iter().map(|(dv, what)| decode_or_diag(dv, ty, what, diags)).collect();
    decoded.into_iter().collect::<Option<Vec<Value>>>()?.try_into().ok()
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
            list_resources: self.lists.keys().map(|t| pb::get_metadata::ListResourceMetadata { type_name: (*t).to_owned() }).collect(),
            data_sources: self
                .data_sources
                .keys()
                .map(|t| pb::get_metadata::DataSourceMetadata { type_name: (*t).to_owned() })
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
            list_resource_schemas: self.lists.iter().map(|(name, (l, _))| ((*name).to_owned(), schema(l.schema()))).collect(),
            data_source_schemas: self.data_sources.iter().map(|(name, (d, _))| ((*name).to_owned(), schema(d.schema()))).collect(),
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
            diags.extend(core::validate_resource_config(&*r, &config, write_only_allowed));
        }
        .instrument(span("ValidateResourceConfig", &req.type_name))
        .await;
        Ok(Response::new(pb::validate_resource_config::Response { diagnostics: diagnostics(diags) }))
    }

    async fn validate_data_resource_config(
        &self,
        req: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        async {
            let Some((d, ty)) = self.data_source(&req.type_name, &mut diags) else { return };
            let Some(config) = decode_or_diag(req.config.as_ref(), &ty, "data source configuration", &mut diags) else { return };
            diags.extend(core::validate_data_resource_config(&*d, &config));
        }
        .instrument(span("ValidateDataResourceConfig", &req.type_name))
        .await;
        Ok(Response::new(pb::validate_data_resource_config::Response { diagnostics: diagnostics(diags) }))
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
            let stored = core::UpgradeResourceStateRequest { version: req.version, json: &raw.json, flatmap: !raw.flatmap.is_empty() };
            let core::UpgradeResourceStateResponse { state, diagnostics } = core::upgrade_resource_state(&*r, &stored);
            diags.extend(diagnostics);
            upgraded_state = state.and_then(|v| encode_or_diag(&v, &ty, "upgraded state", &mut diags));
        }
        .instrument(span("UpgradeResourceState", &req.type_name))
        .await;
        Ok(Response::new(pb::upgrade_resource_state::Response { upgraded_state, diagnostics: diagnostics(diags) }))
    }

    async fn get_resource_identity_schemas(
        &self,
        _: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        let identity_schemas = self
            .resources
            .iter()
            .filter_map(|(name, (r, _))| r.identity_schema().map(|s| ((*name).to_owned(), identity_schema(s))))
            .collect();
        Ok(Response::new(pb::get_resource_identity_schemas::Response { identity_schemas, diagnostics: Vec::new() }))
    }

    async fn upgrade_resource_identity(
        &self,
        req: Request<pb::upgrade_resource_identity::Request>,
    ) -> Result<Response<pb::upgrade_resource_identity::Response>, Status> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        let mut upgraded_identity = None;
        if let Some((r, _)) = self.resource(&req.type_name, &mut diags) {
            match r.identity_schema() {
                // Version 0 is the only one so far: read it as it is.
                Some(schema) if req.version <= schema.version => {
                    let json = req.raw_identity.as_ref().map(|raw| raw.json.as_slice()).unwrap_or_default();
                    match Value::decode_json_lenient(json, &schema.object_type()) {
                        Ok(v) => upgraded_identity = identity_data(schema, &v),
                        Err(e) => diags.error_at(e.path().clone(), "Cannot read the stored resource identity", e.to_string()),
                    }
                }
                Some(_) => diags.error(
                    "Identity written by a newer provider",
                    format!("The identity of this {} was written with version {}; upgrade the provider.", req.type_name, req.version),
                ),
                None => diags.extend(unsupported("resource identities for this type")),
            }
        }
        Ok(Response::new(pb::upgrade_resource_identity::Response { upgraded_identity, diagnostics: diagnostics(diags) }))
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
            let read = core::ReadResourceRequest { state, private: private_from(&req.private) };
            let core::ReadResourceResponse { new_state, private, diagnostics } =
                core::read_resource(&*r, &self.stop.call_ctx(), read).await;
            diags.extend(diagnostics);
            out.new_identity = identity_of(&*r, &new_state);
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
            let wire = [
                (req.prior_state.as_ref(), "prior state"),
                (req.proposed_new_state.as_ref(), "proposed state"),
                (req.config.as_ref(), "configuration"),
            ];
            let Some([prior, proposed, config]) = decode_all(wire, &ty, &mut diags) else { return };
            // An update keeps the prior identity; taken now, before the prior moves.
            let prior_identity = identity_of(&*r, &prior);
            let plan = core::PlanResourceChangeRequest { prior, proposed, config, prior_private: private_from(&req.prior_private) };
            let core::PlanResourceChangeResponse { planned, requires_replace, private, diagnostics } =
                core::plan_resource_change(&*r, &self.stop.call_ctx(), plan).await;
            diags.extend(diagnostics);
            out.requires_replace = requires_replace.iter().filter_map(attr_path).collect();
            // Known at plan for most creates; otherwise the prior's.
            out.planned_identity = identity_of(&*r, &planned).or(prior_identity);
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
            let wire = [
                (req.prior_state.as_ref(), "prior state"),
                (req.planned_state.as_ref(), "planned state"),
                (req.config.as_ref(), "configuration"),
            ];
            let Some([prior, planned, config]) = decode_all(wire, &ty, &mut diags) else { return };
            let apply = core::ApplyResourceChangeRequest { prior, planned, config, planned_private: private_from(&req.planned_private) };
            let core::ApplyResourceChangeResponse { new_state, private, diagnostics } =
                core::apply_resource_change(&*r, &self.stop.call_ctx(), apply).await;
            diags.extend(diagnostics);
            out.new_identity = identity_of(&*r, &new_state);
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
            // `import { identity = { … } }` sends no id: the resource says which it means.
            let id = match (req.id.is_empty(), req.identity.as_ref(), r.identity_schema()) {
                (true, Some(given), Some(schema)) => {
                    let Some(identity) = decode_or_diag(given.identity_data.as_ref(), &schema.object_type(), "identity", &mut diags) else { return };
                    match r.import_id(&identity) {
                        Some(id) => id,
                        None => {
                            diags.error("Incomplete identity", "The identity to import lacks an attribute it requires; see the resource's Import section.");
                            return;
                        }
                    }
                }
                _ => req.id.clone(),
            };
            let core::ImportResourceStateResponse { state, diagnostics } = core::import_resource_state(&*r, &self.stop.call_ctx(), &id).await;
            diags.extend(diagnostics);
            let identity = state.as_ref().and_then(|s| identity_of(&*r, s)).or_else(|| req.identity.clone());
            if let Some(state) = state.and_then(|v| encode_or_diag(&v, &ty, "imported state", &mut diags)) {
                out.imported_resources.push(pb::import_resource_state::ImportedResource {
                    type_name: req.type_name.clone(),
                    state: Some(state),
                    private: Vec::new(),
                    identity,
                });
            }
        }
        .instrument(span("ImportResourceState", &req.type_name))
        .await;
        out.diagnostics = diagnostics(diags);
        Ok(Response::new(out))
    }

    async fn move_resource_state(
        &self,
        req: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        let mut out = pb::move_resource_state::Response::default();
        async {
            let Some((r, ty)) = self.resource(&req.target_type_name, &mut diags) else { return };
            // The source's private data and identity are its own provider's: nothing
            // in them is ours to carry over.
            let json = req.source_state.as_ref().map(|raw| raw.json.as_slice()).unwrap_or_default();
            let source = core::MoveResourceStateRequest {
                source_provider_address: &req.source_provider_address,
                source_type_name: &req.source_type_name,
                source_schema_version: req.source_schema_version,
                source_state: json,
            };
            let core::MoveResourceStateResponse { state, diagnostics } = core::move_resource_state(&*r, &source);
            diags.extend(diagnostics);
            let Some(state) = state else { return };
            out.target_identity = identity_of(&*r, &state);
            out.target_state = encode_or_diag(&state, &ty, "moved state", &mut diags);
        }
        .instrument(span("MoveResourceState", &req.target_type_name))
        .await;
        out.diagnostics = diagnostics(diags);
        Ok(Response::new(out))
    }

    async fn read_data_source(&self, req: Request<pb::read_data_source::Request>) -> Result<Response<pb::read_data_source::Response>, Status> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        let mut out = pb::read_data_source::Response::default();
        async {
            let Some((d, ty)) = self.data_source(&req.type_name, &mut diags) else { return };
            let Some(config) = decode_or_diag(req.config.as_ref(), &ty, "data source configuration", &mut diags) else { return };
            let core::ReadDataSourceResponse { state, diagnostics } = core::read_data_source(&*d, &self.stop.call_ctx(), config).await;
            diags.extend(diagnostics);
            out.state = encode_or_diag(&state, &ty, "data source object", &mut diags);
        }
        .instrument(span("ReadDataSource", &req.type_name))
        .await;
        out.diagnostics = diagnostics(diags);
        Ok(Response::new(out))
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

    async fn list_resource(&self, req: Request<pb::list_resource::Request>) -> Result<Response<Self::ListResourceStream>, Status> {
        let req = req.into_inner();
        let span = span("ListResource", &req.type_name);
        let mut diags = Diagnostics::new();
        let found = self.list(&req.type_name, &mut diags);
        let config = found.as_ref().and_then(|l| decode_or_diag(req.config.as_ref(), &l.config_type, "list configuration", &mut diags));
        let (Some(Listing { list, managed, .. }), Some(config)) = (found, config) else {
            let event = pb::list_resource::Event { diagnostic: diagnostics(diags), ..Default::default() };
            return Ok(Response::new(Box::pin(futures::stream::iter([Ok(event)]))));
        };
        let state_type = managed.schema().value_type();
        let ctx = self.stop.call_ctx();
        let (tx, rx) = tokio::sync::mpsc::channel(8);
        let request = core::ListResourceRequest { config, include_resource_object: req.include_resource_object, limit: req.limit };
        let runner = Arc::clone(&managed);
        // Runs beside the stream: it ends when the list does, or when Terraform drops
        // the stream (the limit reached, or Ctrl-C) and its sends start failing.
        tokio::spawn(async move { core::list_resource(&*list, &*runner, &ctx, request, tx).await }.instrument(span));
        let events = tokio_stream::wrappers::ReceiverStream::new(rx);
        let stream = futures::StreamExt::map(events, move |e| Ok(list_event(&*managed, &state_type, e)));
        Ok(Response::new(Box::pin(stream)))
    }

    async fn validate_list_resource_config(
        &self,
        req: Request<pb::validate_list_resource_config::Request>,
    ) -> Result<Response<pb::validate_list_resource_config::Response>, Status> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        async {
            let Some(Listing { list, config_type, .. }) = self.list(&req.type_name, &mut diags) else { return };
            let Some(config) = decode_or_diag(req.config.as_ref(), &config_type, "list configuration", &mut diags) else { return };
            diags.extend(core::validate_list_resource_config(&*list, &config));
        }
        .instrument(span("ValidateListResourceConfig", &req.type_name))
        .await;
        Ok(Response::new(pb::validate_list_resource_config::Response { diagnostics: diagnostics(diags) }))
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
        self.stop.stop();
        Ok(Response::new(pb::stop_provider::Response { error: String::new() }))
    }
}

fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: false,
        get_provider_schema_optional: false,
        // Terraform asks before any cross-type `moved`; types that take no other
        // type's state refuse it themselves, naming what they take.
        move_resource_state: true,
        generate_resource_config: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::value::AttrPath;

    #[test]
    fn every_value_that_fails_to_decode_is_reported_and_none_is_returned() {
        // 0xc1 is the one byte msgpack never uses.
        let bad = pb::DynamicValue { msgpack: vec![0xc1], json: Vec::new() };
        let mut diags = Diagnostics::new();
        let decoded = decode_all([(Some(&bad), "prior state"), (None, "plan"), (Some(&bad), "configuration")], &Type::String, &mut diags);
        assert_eq!(decoded, None);
        let summaries: Vec<_> = diags.0.iter().map(|d| d.summary.as_str()).collect();
        assert_eq!(summaries, vec!["Cannot decode the prior state", "Cannot decode the configuration"]);

        let mut diags = Diagnostics::new();
        assert_eq!(decode_all([(None, "a"), (None, "b")], &Type::String, &mut diags), Some([Value::Null, Value::Null]));
        assert!(diags.is_empty());
    }

    #[test]
    fn a_decode_error_points_at_the_attribute_it_is_in() {
        // {"a": true} where "a" is a string.
        let wire = pb::DynamicValue { msgpack: vec![0x81, 0xa1, b'a', 0xc3], json: Vec::new() };
        let mut diags = Diagnostics::new();
        let decoded = decode_or_diag(Some(&wire), &Type::object([("a", Type::String)]), "configuration", &mut diags);
        assert_eq!(decoded, None);
        let paths: Vec<_> = diags.0.iter().map(|d| d.path.clone()).collect();
        assert_eq!(paths, vec![Some(AttrPath::root("a"))]);
    }
}
