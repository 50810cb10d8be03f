//! Create, adopt, read, update, delete and import against an in-memory Datadog, each
//! through the protocol core, so the link sees exactly the calls Terraform's RPCs make.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::clients::datadog::model::AuthConfig;
use crate::clients::datadog::AccountAttributes;
use crate::clients::secret::Secret;
use crate::plugin::core::{
    apply_resource_change, import_resource_state, plan_resource_change, read_resource, ApplyResourceChangeRequest,
    PlanResourceChangeRequest, ReadResourceRequest,
};
use crate::provider::Clients;

/// Keeps configs in a map; answers like Datadog for the calls the link makes.
#[derive(Debug, Default)]
struct MemoryDatadog {
    accounts: Mutex<BTreeMap<String, AccountAttributes>>,
    calls: Mutex<Vec<String>>,
}

impl MemoryDatadog {
    fn log(&self, call: String) {
        self.calls.lock().expect("lock").push(call);
    }
    fn insert(&self, id: &str, attrs: AccountAttributes) {
        self.accounts.lock().expect("lock").insert(id.to_owned(), attrs);
    }
}

#[async_trait]
impl DatadogApi for MemoryDatadog {
    async fn validate_api_key(&self, _: &CancellationToken) -> Result<(), DatadogError> {
        Ok(())
    }
    async fn list_accounts(&self, id: Option<&str>, _: &CancellationToken) -> Result<Vec<AccountConfig>, DatadogError> {
        self.log("list".into());
        Ok(self
            .accounts
            .lock()
            .expect("lock")
            .iter()
            .filter(|(_, a)| id.is_none_or(|id| a.aws_account_id == id))
            .map(|(k, a)| AccountConfig { id: k.clone(), attributes: a.clone() })
            .collect())
    }
    async fn get_account(&self, id: &str, _: &CancellationToken) -> Result<AccountConfig, DatadogError> {
        self.log(format!("get {id}"));
        self.accounts
            .lock()
            .expect("lock")
            .get(id)
            .map(|a| AccountConfig { id: id.to_owned(), attributes: a.clone() })
            .ok_or(DatadogError::NotFound { message: "Account not found".into() })
    }
    async fn create_account(&self, attrs: &AccountAttributes, _: &CancellationToken) -> Result<AccountConfig, DatadogError> {
        self.log("create".into());
        if self.accounts.lock().expect("lock").values().any(|a| a.aws_account_id == attrs.aws_account_id) {
            return Err(DatadogError::Http { status: 409, message: "Account already exists".into(), retry_after: None });
        }
        let mut stored = attrs.clone();
        stored.auth_config = Some(AuthConfig {
            role_name: attrs.auth_config.as_ref().and_then(|a| a.role_name.clone()),
            external_id: Some("0123456789abcdef0123456789abcdef".into()),
            access_key_id: None,
        });
        let id = uuid::Uuid::new_v4().to_string();
        self.insert(&id, stored.clone());
        Ok(AccountConfig { id, attributes: stored })
    }
    async fn update_account(&self, id: &str, attrs: &AccountAttributes, _: &CancellationToken) -> Result<AccountConfig, DatadogError> {
        self.log(format!("update {id}"));
        let mut map = self.accounts.lock().expect("lock");
        let Some(existing) = map.get_mut(id) else { return Err(DatadogError::NotFound { message: String::new() }) };
        // Datadog merges a PATCH: what is left out keeps its stored value.
        macro_rules! merge {
            ($($field:ident),*) => {$( if attrs.$field.is_some() { existing.$field = attrs.$field.clone(); } )*};
        }
        merge!(account_tags, aws_regions, metrics_config, resources_config, logs_config, traces_config);
        if let Some(auth) = &attrs.auth_config {
            let mut merged = existing.auth_config.clone().unwrap_or_default();
            merged.role_name = auth.role_name.clone().or(merged.role_name);
            existing.auth_config = Some(merged);
        }
        Ok(AccountConfig { id: id.to_owned(), attributes: existing.clone() })
    }
    async fn delete_account(&self, id: &str, _: &CancellationToken) -> Result<(), DatadogError> {
        self.log(format!("delete {id}"));
        self.accounts.lock().expect("lock").remove(id).map(|_| ()).ok_or(DatadogError::NotFound { message: String::new() })
    }
}

fn resource_with(dd: Arc<MemoryDatadog>) -> AccountLink {
    let data = Arc::new(ProviderData::default());
    data.set(Ok(Arc::new(Clients {
        datadog: dd,
        accounts: crate::clients::datadog::AccountSnapshot::default(),
        site: "datadoghq.com".into(),
        api_key: Secret::new("test-api-key-0000000000".into()),
        app_key: Secret::new("test-app-key-0000000000".into()),
        aws_settings: Default::default(),
        aws: tokio::sync::OnceCell::new(),
    })));
    AccountLink::new(data)
}

fn ctx() -> CallCtx {
    CallCtx { cancel: CancellationToken::new() }
}

/// A configuration with only `aws_account_id` set (and whatever `extra` adds).
fn config(account: &str, extra: &[(&str, Value)]) -> Value {
    let ty = schema::schema().value_type();
    let Type::Object { attrs, .. } = ty else { panic!("object") };
    let mut v: BTreeMap<String, Value> = attrs.keys().map(|k| (k.clone(), Value::Null)).collect();
    v.insert("aws_account_id".into(), Value::String(account.into()));
    for (k, val) in extra {
        v.insert((*k).to_owned(), val.clone());
    }
    Value::Object(v)
}

use crate::plugin::Type;

/// Plans and applies `cfg` over `prior` (null: create), as Terraform's plan and apply
/// RPCs do; `proposed` is what Terraform proposes.
async fn plan_and_apply(r: &AccountLink, prior: &Value, proposed: Value, cfg: &Value) -> (Value, Diagnostics) {
    let plan = PlanResourceChangeRequest { prior: prior.clone(), proposed, config: cfg.clone(), prior_private: Private::new() };
    let mut planned = plan_resource_change(r, &ctx(), plan).await;
    let apply = ApplyResourceChangeRequest {
        prior: prior.clone(),
        planned: planned.planned,
        config: cfg.clone(),
        planned_private: planned.private,
    };
    let applied = apply_resource_change(r, &ctx(), apply).await;
    planned.diagnostics.extend(applied.diagnostics);
    (applied.new_state, planned.diagnostics)
}

async fn plan_and_create(r: &AccountLink, cfg: &Value) -> (Value, Diagnostics) {
    plan_and_apply(r, &Value::Null, cfg.clone(), cfg).await
}

/// The state a refresh leaves, and its diagnostics.
async fn refresh(r: &AccountLink, state: Value) -> (Value, Diagnostics) {
    let read = read_resource(r, &ctx(), ReadResourceRequest { state, private: Private::new() }).await;
    (read.new_state, read.diagnostics)
}

/// The imported state (null when nothing was), with the diagnostics added to `d`.
async fn import(r: &AccountLink, id: &str, d: &mut Diagnostics) -> Value {
    let imported = import_resource_state(r, &ctx(), id).await;
    d.extend(imported.diagnostics);
    imported.state.unwrap_or(Value::Null)
}

#[tokio::test]
async fn create_posts_once_and_state_reads_back_equal() {
    let dd = Arc::new(MemoryDatadog::default());
    let r = resource_with(Arc::clone(&dd));
    let (state, diags) = plan_and_create(&r, &config("123456789012", &[])).await;
    assert!(!diags.has_errors(), "{diags:?}");
    assert_eq!(state.get_attr("external_id").and_then(Value::as_str), Some("0123456789abcdef0123456789abcdef"));
    assert_eq!(
        state.get_attr("role_arn").and_then(Value::as_str),
        Some("arn:aws:iam::123456789012:role/DatadogIntegrationRole")
    );
    let (read, _) = refresh(&r, state.clone()).await;
    assert!(read.semantically_equal(&state), "refresh changed the state:\n{read:?}\n{state:?}");
    assert_eq!(dd.calls.lock().expect("lock").iter().filter(|c| *c == "create").count(), 1);
}

#[tokio::test]
async fn create_adopts_a_registered_account_and_keeps_its_external_id() {
    let dd = Arc::new(MemoryDatadog::default());
    dd.insert(
        "11111111-1111-4111-8111-111111111111",
        AccountAttributes {
            aws_account_id: "123456789012".into(),
            aws_partition: "aws".into(),
            account_tags: Some(vec!["aws_account:123456789012".into()]),
            auth_config: Some(AuthConfig { role_name: Some("DatadogIntegrationRole".into()), external_id: Some("feedfeedfeedfeedfeedfeedfeedfeed".into()), access_key_id: None }),
            ..Default::default()
        },
    );
    let r = resource_with(Arc::clone(&dd));
    let (state, diags) = plan_and_create(&r, &config("123456789012", &[])).await;
    assert!(!diags.has_errors(), "{diags:?}");
    assert_eq!(state.get_attr("id").and_then(Value::as_str), Some("11111111-1111-4111-8111-111111111111"));
    assert_eq!(state.get_attr("external_id").and_then(Value::as_str), Some("feedfeedfeedfeedfeedfeedfeedfeed"));
    // Unmanaged tags are left as Datadog has them, and nothing is written.
    assert_eq!(state.get_attr("account_tags"), Some(&Value::Set(vec![Value::String("aws_account:123456789012".into())])));
    assert!(!dd.calls.lock().expect("lock").iter().any(|c| c == "create" || c.starts_with("update")));
}

#[tokio::test]
async fn without_adoption_a_duplicate_is_a_clear_error() {
    let dd = Arc::new(MemoryDatadog::default());
    let r = resource_with(Arc::clone(&dd));
    let _ = plan_and_create(&r, &config("123456789012", &[])).await;
    let (_, diags) = plan_and_create(&r, &config("123456789012", &[("adopt_existing", Value::Bool(false))])).await;
    assert!(diags.has_errors());
    let text = format!("{diags:?}");
    assert!(text.contains("123456789012") && text.contains("adopt_existing"), "{text}");
}

#[tokio::test]
async fn read_of_a_deleted_config_drops_it_from_state() {
    let dd = Arc::new(MemoryDatadog::default());
    let r = resource_with(Arc::clone(&dd));
    let (state, _) = plan_and_create(&r, &config("123456789012", &[])).await;
    let id = state.get_attr("id").and_then(Value::as_str).unwrap_or_default().to_owned();
    dd.accounts.lock().expect("lock").remove(&id);
    let (read, d) = refresh(&r, state).await;
    assert!(read.is_null(), "gone means null: {read:?}");
    assert!(!d.has_errors());
}

#[tokio::test]
async fn import_by_account_id_and_by_uuid_give_the_same_state() {
    let dd = Arc::new(MemoryDatadog::default());
    let r = resource_with(Arc::clone(&dd));
    let (state, _) = plan_and_create(&r, &config("123456789012", &[])).await;
    let id = state.get_attr("id").and_then(Value::as_str).unwrap_or_default().to_owned();
    let mut d = Diagnostics::new();
    let by_account = import(&r, "123456789012", &mut d).await;
    let by_uuid = import(&r, &id, &mut d).await;
    assert!(!d.has_errors(), "{d:?}");
    assert!(by_account.semantically_equal(&by_uuid));
    assert!(by_account.semantically_equal(&state), "{by_account:?}\n{state:?}");
    import(&r, "not-an-id", &mut d).await;
    assert!(format!("{d:?}").contains("Accepted forms"));
}

#[tokio::test]
async fn update_sends_only_what_is_written_and_keeps_the_external_id() {
    let dd = Arc::new(MemoryDatadog::default());
    let r = resource_with(Arc::clone(&dd));
    let cspm_on = ("resources", Value::object([("cloud_security_posture_management", Value::Bool(true)), ("extended_collection", Value::Null)]));
    let (prior, _) = plan_and_create(&r, &config("123456789012", &[cspm_on])).await;
    let cfg = config("123456789012", &[("account_tags", Value::Set(vec![Value::String("team:platform".into())]))]);
    let mut proposed = cfg.clone();
    if let (Value::Object(p), Value::Object(s)) = (&mut proposed, &prior) {
        for k in ["id", "external_id", "role_arn", "role_name", "metrics", "resources", "aws_regions", "all_aws_regions", "logs", "traces"] {
            p.insert(k.into(), s[k].clone());
        }
    }
    let (state, d) = plan_and_apply(&r, &prior, proposed, &cfg).await;
    assert!(!d.has_errors(), "{d:?}");
    assert_eq!(state.get_attr("external_id"), prior.get_attr("external_id"));
    assert_eq!(state.get_attr("account_tags"), Some(&Value::Set(vec![Value::String("team:platform".into())])));
    // CSPM is no longer written, so it is left as it is: still on.
    assert_eq!(state.get_attr("resources").and_then(|r| r.get_attr("cloud_security_posture_management")), Some(&Value::Bool(true)));
    let updates = dd.calls.lock().expect("lock").iter().filter(|c| c.starts_with("update")).count();
    assert_eq!(updates, 1, "one PATCH, of the tags only");
}
