//! The real Datadog client: reqwest over rustls, one connection pool per configured
//! provider, keys in headers only, never in URLs or logs.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use super::error::{error_message, DatadogError};
use super::model::{AccountAttributes, AccountConfig, AccountRequest, Envelope};
use super::pace::{Pacer, RateLimit};
use super::DatadogApi;
use crate::clients::retry::{with_retry, RetryPolicy};
use crate::clients::secret::Secret;

/// Datadog sites and their API hosts' suffix (`https://api.<site>`).
pub const SITES: &[&str] = &[
    "datadoghq.com",
    "us3.datadoghq.com",
    "us5.datadoghq.com",
    "datadoghq.eu",
    "ap1.datadoghq.com",
    "ap2.datadoghq.com",
    "uk1.datadoghq.com",
    "ddog-gov.com",
    "us2.ddog-gov.com",
];

/// The API base URL of a site.
#[must_use]
pub fn site_url(site: &str) -> String {
    format!("https://api.{site}")
}

const ACCOUNTS: &str = "/api/v2/integration/aws/accounts";

/// A Datadog API client.
#[derive(Debug, Clone)]
pub struct HttpDatadog {
    http: reqwest::Client,
    base: String,
    api_key: Secret,
    app_key: Secret,
    retry: RetryPolicy,
    pacer: std::sync::Arc<Pacer>,
}

impl HttpDatadog {
    /// A client for `base` (e.g. `https://api.datadoghq.com`).
    pub fn new(base: &str, api_key: Secret, app_key: Secret, retry: RetryPolicy) -> Result<Self, DatadogError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("terraform-provider-datadog-orgs/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| DatadogError::Connect { url: base.to_owned(), message: e.to_string() })?;
        Ok(HttpDatadog { http, base: base.trim_end_matches('/').to_owned(), api_key, app_key, retry, pacer: Default::default() })
    }

    async fn send(&self, method: Method, path: &str, query: &[(&str, &str)], body: Option<Vec<u8>>) -> Result<(StatusCode, Vec<u8>), DatadogError> {
        let url = format!("{}{path}", self.base);
        let mut req = self
            .http
            .request(method.clone(), &url)
            .query(query)
            .header("DD-API-KEY", self.api_key.expose())
            .header("DD-APPLICATION-KEY", self.app_key.expose())
            .header("Accept", "application/json");
        if let Some(body) = body {
            req = req.header("Content-Type", "application/json").body(body);
        }
        let slot = self.pacer.admit().await;
        let resp = req.send().await.map_err(|e| DatadogError::Connect { url: self.base.clone(), message: crate::clients::cause::chain(&e) })?;
        let status = resp.status();
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
        let limit = RateLimit { remaining: header("x-ratelimit-remaining"), reset: header("x-ratelimit-reset").map(Duration::from_secs) };
        self.pacer.observe(status.as_u16(), limit);
        let retry_after = limit.reset;
        let bytes = resp.bytes().await.map_err(|e| DatadogError::Connect { url: self.base.clone(), message: crate::clients::cause::chain(&e) })?;
        drop(slot);
        tracing::debug!(method = %method, path, status = status.as_u16(), "datadog call");
        if status.is_success() {
            return Ok((status, bytes.to_vec()));
        }
        let message = error_message(&String::from_utf8_lossy(&bytes));
        if status == StatusCode::NOT_FOUND {
            return Err(DatadogError::NotFound { message });
        }
        Err(DatadogError::Http { status: status.as_u16(), message, retry_after })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        what: &str,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Vec<u8>>,
        cancel: &CancellationToken,
    ) -> Result<T, DatadogError> {
        let (_, bytes) = with_retry(&self.retry, what, cancel, || self.send(method.clone(), path, query, body.clone())).await?;
        serde_json::from_slice(&bytes).map_err(|e| DatadogError::Decode(format!("{what}: {e}")))
    }
}

fn account_body(attrs: &AccountAttributes) -> Result<Vec<u8>, DatadogError> {
    serde_json::to_vec(&Envelope { data: AccountRequest { kind: "account", attributes: attrs } })
        .map_err(|e| DatadogError::Decode(e.to_string()))
}

#[async_trait]
impl DatadogApi for HttpDatadog {
    async fn validate_api_key(&self, cancel: &CancellationToken) -> Result<(), DatadogError> {
        let _: serde_json::Value = self.call("validate API key", Method::GET, "/api/v1/validate", &[], None, cancel).await?;
        Ok(())
    }

    async fn list_accounts(&self, aws_account_id: Option<&str>, cancel: &CancellationToken) -> Result<Vec<AccountConfig>, DatadogError> {
        let query: Vec<(&str, &str)> = aws_account_id.map(|id| ("aws_account_id", id)).into_iter().collect();
        let env: Envelope<Vec<AccountConfig>> = self.call("list AWS accounts", Method::GET, ACCOUNTS, &query, None, cancel).await?;
        Ok(env.data)
    }

    async fn get_account(&self, id: &str, cancel: &CancellationToken) -> Result<AccountConfig, DatadogError> {
        let path = format!("{ACCOUNTS}/{id}");
        let env: Envelope<AccountConfig> = self.call("get AWS account", Method::GET, &path, &[], None, cancel).await?;
        Ok(env.data)
    }

    async fn create_account(&self, attrs: &AccountAttributes, cancel: &CancellationToken) -> Result<AccountConfig, DatadogError> {
        let env: Envelope<AccountConfig> =
            self.call("create AWS account", Method::POST, ACCOUNTS, &[], Some(account_body(attrs)?), cancel).await?;
        Ok(env.data)
    }

    async fn update_account(&self, id: &str, attrs: &AccountAttributes, cancel: &CancellationToken) -> Result<AccountConfig, DatadogError> {
        let path = format!("{ACCOUNTS}/{id}");
        let env: Envelope<AccountConfig> =
            self.call("update AWS account", Method::PATCH, &path, &[], Some(account_body(attrs)?), cancel).await?;
        Ok(env.data)
    }

    async fn delete_account(&self, id: &str, cancel: &CancellationToken) -> Result<(), DatadogError> {
        let path = format!("{ACCOUNTS}/{id}");
        with_retry(&self.retry, "delete AWS account", cancel, || self.send(Method::DELETE, &path, &[], None)).await?;
        Ok(())
    }
}
