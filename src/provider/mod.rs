//! The provider: its configuration, and the clients it hands to every resource.

mod config;
mod schema;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::clients::aws::{load_sdk_config, AwsSettings, Organization, SdkAws, StackSets, Stacks};
use crate::clients::datadog::{site_url, AccountSnapshot, DatadogApi, DatadogError, HttpDatadog};
use crate::clients::secret::Secret;
use crate::env;
use crate::plugin::{DataSource, Diagnostics, ListResource, Provider, Resource, Schema, Value};

use config::{check_api_url, check_site, secret, ProviderConfig};
pub use schema::provider_schema;

/// What a configured provider gives its resources.
#[derive(Debug)]
pub struct Clients {
    /// The Datadog API.
    pub datadog: Arc<dyn DatadogApi>,
    /// The account configs as listed once for this run's link reads.
    pub accounts: AccountSnapshot,
    /// The Datadog site, e.g. `datadoghq.com` (the StackSet template needs it).
    pub site: String,
    /// Datadog keys, for the StackSet template's parameters.
    pub api_key: Secret,
    /// See `api_key`.
    pub app_key: Secret,
    /// How to reach AWS.
    pub aws_settings: AwsSettings,
    /// Built on first use: plans of configurations without a StackSet never load AWS
    /// credentials.
    pub aws: tokio::sync::OnceCell<AwsBase>,
}

/// The SDK configuration of this provider and its clients in the configured region.
#[derive(Debug)]
pub struct AwsBase {
    config: aws_config::SdkConfig,
    home: AwsClients,
    /// Clients for other regions, made when a StackSet lives elsewhere.
    elsewhere: std::sync::Mutex<std::collections::HashMap<String, AwsClients>>,
}

/// The AWS clients of the StackSet resource.
#[derive(Debug, Clone)]
pub struct AwsClients {
    /// CloudFormation StackSets.
    pub stack_sets: Arc<dyn StackSets>,
    /// Organizations.
    pub organization: Arc<dyn Organization>,
    /// Plain stacks (the management account's own stack), in this region.
    pub stacks: Arc<dyn Stacks>,
}

impl AwsBase {
    /// Clients for `config` as it is.
    #[must_use]
    pub fn new(config: aws_config::SdkConfig, settings: &AwsSettings) -> Self {
        let home = Self::clients(&config, settings);
        AwsBase { config, home, elsewhere: std::sync::Mutex::default() }
    }

    fn clients(config: &aws_config::SdkConfig, settings: &AwsSettings) -> AwsClients {
        let sdk = Arc::new(SdkAws::new(config, settings, settings.retry));
        AwsClients { stack_sets: sdk.clone(), stacks: sdk.clone(), organization: sdk }
    }

    /// The region the SDK chain (or the provider's `aws { region }`) chose.
    #[must_use]
    pub fn region(&self) -> Option<String> {
        self.config.region().map(|r| r.as_ref().to_owned())
    }

    /// The clients for the configured region.
    #[must_use]
    pub fn home(&self) -> &AwsClients {
        &self.home
    }

    /// The clients for `region`: a StackSet answers only in its administration region.
    #[must_use]
    pub fn in_region(&self, region: Option<&str>, settings: &AwsSettings) -> AwsClients {
        let Some(region) = region.filter(|r| Some(*r) != self.config.region().map(|h| h.as_ref())) else {
            return self.home.clone();
        };
        let mut others = self.elsewhere.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        others
            .entry(region.to_owned())
            .or_insert_with(|| {
                let config = self.config.clone().into_builder().region(aws_config::Region::new(region.to_owned())).build();
                Self::clients(&config, settings)
            })
            .clone()
    }
}

impl Clients {
    /// The AWS configuration and clients, loading the SDK configuration the first time.
    pub async fn aws_base(&self) -> &AwsBase {
        self.aws.get_or_init(|| async { AwsBase::new(load_sdk_config(&self.aws_settings).await, &self.aws_settings) }).await
    }

    /// The AWS clients of the configured region.
    pub async fn aws(&self) -> &AwsClients {
        self.aws_base().await.home()
    }

    /// The AWS clients of `region` (the configured one when `None`).
    pub async fn aws_in(&self, region: Option<&str>) -> AwsClients {
        self.aws_base().await.in_region(region, &self.aws_settings)
    }
}

/// The provider could not be configured; a diagnostic says why.
#[derive(Debug, Clone, Copy)]
pub struct NotConfigured;

/// Shared between the provider and its resources: set by ConfigureProvider.
#[derive(Debug, Default)]
pub struct ProviderData {
    state: RwLock<Option<Configured>>,
}

#[derive(Debug, Clone)]
enum Configured {
    Ready(Arc<Clients>),
    /// The configuration held values unknown at plan time; Terraform configures again
    /// with known values before apply.
    Deferred(String),
    Failed(String),
}

impl ProviderData {
    fn get(&self) -> Option<Configured> {
        match self.state.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// The configured clients, or an error diagnostic saying why there are none.
    pub fn clients(&self, diags: &mut Diagnostics) -> Option<Arc<Clients>> {
        match self.get() {
            Some(Configured::Ready(c)) => Some(c),
            Some(Configured::Deferred(why) | Configured::Failed(why)) => {
                diags.error("Provider not configured", why);
                None
            }
            None => {
                diags.bug("Provider not configured", "a resource was used before ConfigureProvider");
                None
            }
        }
    }

    /// For plans and refreshes: `Ok(None)` when the provider configuration is not
    /// known yet, so the caller plans "known after apply" instead of failing.
    pub fn clients_if_known(&self, diags: &mut Diagnostics) -> Result<Option<Arc<Clients>>, NotConfigured> {
        match self.get() {
            Some(Configured::Deferred(_)) => Ok(None),
            _ => self.clients(diags).map(Some).ok_or(NotConfigured),
        }
    }

    /// Installs clients (ConfigureProvider, or a test).
    pub fn set(&self, clients: Result<Arc<Clients>, String>) {
        self.put(match clients {
            Ok(c) => Configured::Ready(c),
            Err(why) => Configured::Failed(why),
        });
    }

    fn put(&self, c: Configured) {
        let mut guard = match self.state.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        *guard = Some(c);
    }
}

/// The `datadog` provider.
pub struct DatadogProvider {
    schema: Schema,
    data: Arc<ProviderData>,
    resources: Vec<Arc<dyn Resource>>,
    lists: Vec<Arc<dyn ListResource>>,
    data_sources: Vec<Arc<dyn DataSource>>,
}

impl std::fmt::Debug for DatadogProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let types: Vec<&str> = self.resources.iter().map(|r| r.type_name()).collect();
        f.debug_struct("DatadogProvider").field("resources", &types).finish()
    }
}

impl Default for DatadogProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl DatadogProvider {
    /// The provider with every resource and data source type.
    #[must_use]
    pub fn new() -> Self {
        let data = Arc::new(ProviderData::default());
        let resources = crate::resources::all(&data);
        let lists = crate::resources::lists(&data);
        let data_sources = crate::data_sources::all(&data);
        DatadogProvider { schema: provider_schema(), data, resources, lists, data_sources }
    }
}


#[async_trait]
impl Provider for DatadogProvider {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn resources(&self) -> &[Arc<dyn Resource>] {
        &self.resources
    }

    fn list_resources(&self) -> &[Arc<dyn ListResource>] {
        &self.lists
    }

    fn data_sources(&self) -> &[Arc<dyn DataSource>] {
        &self.data_sources
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let _ = ProviderConfig::read(config, diags);
    }

    async fn configure(&self, config: &Value, _terraform_version: &str, diags: &mut Diagnostics) {
        if !config.is_wholly_known() {
            // Terraform configures again with known values before apply.
            self.data.put(Configured::Deferred(
                "The provider configuration depends on values that are not known until apply. \
                 Set the provider's arguments from values known at plan time."
                    .into(),
            ));
            return;
        }
        match build_clients(config, diags).await {
            Some(c) => self.data.set(Ok(c)),
            None => self.data.set(Err("The provider configuration is invalid; see the errors above.".into())),
        }
    }
}

async fn build_clients(config: &Value, diags: &mut Diagnostics) -> Option<Arc<Clients>> {
    let read = ProviderConfig::read(config, diags)?;
    let api_key = read.api_key.clone().or_else(|| env::first(env::API_KEY));
    let app_key = read.app_key.clone().or_else(|| env::first(env::APP_KEY));
    let (api_key, app_key) = match (api_key, app_key) {
        (Some(a), Some(b)) => (secret(a), secret(b)),
        (a, b) => {
            let missing: Vec<&str> = [(a.is_none(), "API key (api_key, or DD_API_KEY / DATADOG_API_KEY)"), (b.is_none(), "application key (app_key, or DD_APP_KEY / DATADOG_APP_KEY)")]
                .into_iter()
                .filter_map(|(m, what)| m.then_some(what))
                .collect();
            diags.error(
                "Missing Datadog credentials",
                format!(
                    "The provider needs a Datadog {}. Set them in the provider block or export DD_API_KEY and DD_APP_KEY.",
                    missing.join(" and an ")
                ),
            );
            return None;
        }
    };
    // Values from the environment are checked here; the block's were checked by `read`.
    let site = match read.site.clone() {
        Some(s) => s,
        None => match env::first(env::SITE) {
            Some(s) if !check_site(&s, None, diags) => return None,
            Some(s) => s,
            None => "datadoghq.com".into(),
        },
    };
    let base = match read.api_url.clone() {
        Some(u) => u,
        None => match env::first(env::API_URL) {
            Some(u) if !check_api_url(&u, None, diags) => return None,
            Some(u) => u,
            None => site_url(&site),
        },
    };
    let client = match HttpDatadog::new(&base, api_key.clone(), app_key.clone(), read.datadog_retry) {
        Ok(c) => c,
        Err(e) => {
            diags.error("Cannot create the Datadog client", e.to_string());
            return None;
        }
    };
    if read.validate {
        let cancel = CancellationToken::new();
        let checked = tokio::time::timeout(Duration::from_secs(120), client.validate_api_key(&cancel)).await;
        match checked {
            Ok(Ok(())) => {}
            Ok(Err(e @ DatadogError::Http { status: 403, .. })) => {
                diags.error(
                    "Invalid Datadog API key",
                    format!(
                        "Datadog at {base} refused the API key ({e}). Check api_key (or DD_API_KEY) and the site, \
                         or set validate = false to skip this check."
                    ),
                );
                return None;
            }
            Ok(Err(e)) => {
                diags.error(
                    "Cannot validate the Datadog API key",
                    format!("Checking the API key at {base} failed: {e}. Set validate = false to skip this check."),
                );
                return None;
            }
            Err(_) => {
                diags.error("Cannot validate the Datadog API key", format!("Datadog at {base} did not answer within 120s."));
                return None;
            }
        }
    }
    Some(Arc::new(Clients { datadog: Arc::new(client), accounts: AccountSnapshot::default(), site, api_key, app_key, aws_settings: read.aws, aws: tokio::sync::OnceCell::new() }))
}

