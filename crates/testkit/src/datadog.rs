//! [`FakeDatadog`]: a handle on the sandbox's Datadog fake, for its control API
//! (`/_fake/*`) and for Datadog API calls with the sandbox keys, plus the reads
//! of the AWS integration's accounts that the suites check after each run.

use std::fmt;

use anyhow::ensure;
use serde_json::Value;

use crate::http::{self, HttpResponse};
use crate::sandbox::Sandbox;

/// The Datadog API's list of AWS account configurations.
const ACCOUNTS_PATH: &str = "/api/v2/integration/aws/accounts";

/// A client for the sandbox's Datadog fake (plain HTTP on 127.0.0.1).
///
/// * `admin_*` methods call the fake's control API under `/_fake/` (no keys),
///   e.g. `admin_get("accounts")`, `admin_post("faults", &json)`.
/// * [`FakeDatadog::api`] calls the Datadog API itself with the sandbox's
///   `DD-API-KEY`/`DD-APPLICATION-KEY`, e.g. to change an account link behind
///   Terraform's back (drift).
/// * [`FakeDatadog::accounts`] and its siblings read the AWS integration's
///   accounts through that API, as the provider sees them.
#[derive(Clone)]
pub struct FakeDatadog {
    base_url: String,
    api_key: String,
    app_key: String,
}

impl fmt::Debug for FakeDatadog {
    // Not derived: the keys stay out of test output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeDatadog")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// A client for `sandbox`'s Datadog fake (its URL and keys).
pub fn fake_datadog_admin(sandbox: &Sandbox) -> FakeDatadog {
    FakeDatadog {
        base_url: sandbox.datadog_url().trim_end_matches('/').to_owned(),
        api_key: sandbox.api_key().to_owned(),
        app_key: sandbox.app_key().to_owned(),
    }
}

impl FakeDatadog {
    /// A client for the fake at `base_url` (`http://HOST:PORT`, no path).
    pub fn new(base_url: &str, api_key: &str, app_key: &str) -> anyhow::Result<FakeDatadog> {
        Ok(FakeDatadog {
            base_url: http::base_url(base_url)?,
            api_key: api_key.to_owned(),
            app_key: app_key.to_owned(),
        })
    }

    /// The fake's base URL (`DD_HOST`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `GET /_fake/health`, which must answer 2xx.
    pub fn health(&self) -> anyhow::Result<Value> {
        self.admin_get("health")
    }

    /// A control-API call: `METHOD /_fake/<path>` with an optional JSON body.
    /// Returns the response whatever its status.
    pub fn admin(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<HttpResponse> {
        let path = format!("/_fake/{}", path.trim_start_matches('/'));
        http::json_request(&self.base_url, method, &path, &[], body)
    }

    /// `GET /_fake/<path>`: requires 2xx and returns the JSON body (`null` if empty).
    pub fn admin_get(&self, path: &str) -> anyhow::Result<Value> {
        self.admin("GET", path, None)?
            .ensure_success()?
            .json_or_null()
    }

    /// `POST /_fake/<path>` with a JSON body: requires 2xx, returns the JSON body.
    pub fn admin_post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.admin("POST", path, Some(body))?
            .ensure_success()?
            .json_or_null()
    }

    /// `DELETE /_fake/<path>`: requires 2xx, returns the JSON body.
    pub fn admin_delete(&self, path: &str) -> anyhow::Result<Value> {
        self.admin("DELETE", path, None)?
            .ensure_success()?
            .json_or_null()
    }

    /// A Datadog API call with the sandbox keys, e.g.
    /// `api("PATCH", "/api/v2/integration/aws/accounts/<id>", Some(&body))`.
    /// Returns the response whatever its status.
    pub fn api(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<HttpResponse> {
        let keys = [
            ("DD-API-KEY", self.api_key.as_str()),
            ("DD-APPLICATION-KEY", self.app_key.as_str()),
        ];
        http::json_request(&self.base_url, method, path, &keys, body)
    }

    /// A raw request: `METHOD path` (path starts with `/`, may have a query)
    /// with the given headers and body (no keys unless among the headers).
    /// Returns the response whatever its status.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> anyhow::Result<HttpResponse> {
        http::request(&self.base_url, method, path, headers, body)
    }

    /// The AWS account configurations Datadog holds (`data` of
    /// `GET /api/v2/integration/aws/accounts`), in the order the fake lists them.
    pub fn accounts(&self) -> anyhow::Result<Vec<Value>> {
        let list = self
            .api("GET", ACCOUNTS_PATH, None)?
            .ensure_success()?
            .json()?;
        Ok(list["data"].as_array().cloned().unwrap_or_default())
    }

    /// The AWS account id of every configuration, duplicates kept (a duplicate
    /// registration is what some suites look for).
    pub fn aws_account_ids(&self) -> anyhow::Result<Vec<String>> {
        Ok(self
            .accounts()?
            .iter()
            .filter_map(|a| {
                a["attributes"]["aws_account_id"]
                    .as_str()
                    .map(str::to_owned)
            })
            .collect())
    }

    /// The id (UUID) of the one configuration of AWS account `account`; an
    /// error when there is none or more than one.
    pub fn config_id(&self, account: &str) -> anyhow::Result<String> {
        let accounts = self.accounts()?;
        let found: Vec<&Value> = accounts
            .iter()
            .filter(|a| a["attributes"]["aws_account_id"] == account)
            .collect();
        ensure!(
            found.len() == 1,
            "expected one Datadog config for {account}, found {}",
            found.len()
        );
        Ok(found[0]["id"].as_str().unwrap_or_default().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use anyhow::anyhow;

    use super::*;

    #[test]
    fn api_calls_carry_the_keys_and_a_json_body() -> anyhow::Result<()> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let server = std::thread::spawn(move || -> anyhow::Result<String> {
            let (mut s, _) = listener.accept()?;
            let mut buf = [0u8; 4096];
            let mut req = Vec::new();
            while !req.windows(4).any(|w| w == b"\r\n\r\n") || !req.ends_with(b"{}") {
                let n = s.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                req.extend_from_slice(&buf[..n]);
            }
            s.write_all(b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":true}\n")?;
            // Header names travel lower-cased; HTTP says they are case-insensitive.
            Ok(String::from_utf8_lossy(&req).to_ascii_lowercase())
        });
        let dd = FakeDatadog::new(&format!("http://{addr}/"), "k1", "k2")?;
        let resp = dd.api("POST", "/api/v2/thing", Some(&serde_json::json!({})))?;
        assert_eq!(resp.status, 201);
        assert_eq!(resp.header("Content-Type"), Some("application/json"));
        assert_eq!(resp.json()?, serde_json::json!({"a": true}));
        let req = server
            .join()
            .map_err(|_| anyhow!("server thread panicked"))??;
        assert!(req.starts_with("post /api/v2/thing http/1.1\r\n"), "{req}");
        assert!(
            req.contains("dd-api-key: k1\r\n") && req.contains("dd-application-key: k2\r\n"),
            "{req}"
        );
        assert!(req.contains("content-type: application/json\r\n"), "{req}");
        assert!(req.contains("content-length: 2\r\n"), "{req}");
        Ok(())
    }
}
