//! Plain-HTTP requests to the sandbox's servers (the Datadog fake and the AWS
//! emulator, both on 127.0.0.1), through one blocking `reqwest` client, and
//! [`HttpResponse`], what they answer.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use reqwest::blocking::Client;
use reqwest::Method;
use serde_json::Value;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Bound on a whole request, answer included: the servers are local, so a
/// request that takes longer has hung.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The one client every handle shares. A blocking client runs a runtime thread
/// of its own, so it is built once (on first use, which must not be inside an
/// async runtime) and never dropped.
fn client() -> anyhow::Result<&'static Client> {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client);
    }
    let built = Client::builder()
        // The servers are local: a proxy from the environment must not see them.
        .no_proxy()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        // One connection per request, as before: the emulator's werkzeug
        // server closes each connection after its answer, and reusing a pooled
        // one it has just closed can fail the next request.
        .pool_max_idle_per_host(0)
        .user_agent("testkit")
        .use_preconfigured_tls(tls_config()?)
        .build()
        .context("building the HTTP client")?;
    Ok(CLIENT.get_or_init(|| built))
}

/// A TLS configuration with the provider's crypto (aws-lc-rs) and no roots:
/// nothing here speaks https, but reqwest wants one, and without it would
/// look for a process-wide default provider, which a test process has not
/// installed (the provider's `main` does), and panic.
fn tls_config() -> anyhow::Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS versions for the HTTP client")?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth())
}

/// `url` without a trailing `/`, checked to be `http://HOST:PORT` (no path):
/// request paths are appended to it.
pub(crate) fn base_url(url: &str) -> anyhow::Result<String> {
    let host_port = url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow!("only http:// URLs are supported: {url:?}"))?
        .trim_end_matches('/');
    if host_port.is_empty() || host_port.contains('/') {
        bail!("expected http://HOST:PORT without a path: {url:?}");
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// `METHOD <base_url><path>` (path starts with `/`, may have a query) with the
/// given headers and body; the response whatever its status.
pub(crate) fn request(
    base_url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> anyhow::Result<HttpResponse> {
    let what = format!("{method} {base_url}{path}");
    let verb =
        Method::from_bytes(method.as_bytes()).with_context(|| format!("{what}: bad method"))?;
    let mut req = client()?.request(verb, format!("{base_url}{path}"));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    // A body-carrying method without a body still says `Content-Length: 0`.
    if body.is_some() || matches!(method, "POST" | "PUT" | "PATCH") {
        req = req.body(body.unwrap_or_default().to_vec());
    }
    let resp = req.send().with_context(|| format!("{what}: no response"))?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = resp
        .bytes()
        .with_context(|| format!("{what}: reading the body"))?
        .to_vec();
    Ok(HttpResponse {
        request: what,
        status,
        headers,
        body,
    })
}

/// A request with a JSON body (when given) that accepts JSON, plus `headers`.
pub(crate) fn json_request(
    base_url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> anyhow::Result<HttpResponse> {
    let bytes = body.map(serde_json::to_vec).transpose()?;
    let mut all = vec![("Accept", "application/json")];
    if bytes.is_some() {
        all.push(("Content-Type", "application/json"));
    }
    all.extend_from_slice(headers);
    request(base_url, method, path, &all, bytes.as_deref())
}

/// An HTTP response from one of the sandbox's servers.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// `METHOD URL` of the request, for messages.
    pub request: String,
    /// The status code.
    pub status: u16,
    /// Header names (lower-cased) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as (lossy) UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> anyhow::Result<Value> {
        serde_json::from_slice(&self.body).with_context(|| {
            format!(
                "{} -> {}: body is not JSON: {}",
                self.request,
                self.status,
                self.text()
            )
        })
    }

    /// The body parsed as JSON, or `null` when it is empty (e.g. 204).
    pub fn json_or_null(&self) -> anyhow::Result<Value> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            Ok(Value::Null)
        } else {
            self.json()
        }
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `Ok(self)` for 2xx, else an error with the request, status and body.
    pub fn ensure_success(self) -> anyhow::Result<Self> {
        if self.is_success() {
            Ok(self)
        } else {
            bail!("{} -> HTTP {}: {}", self.request, self.status, self.text())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_http_host_port_only() -> anyhow::Result<()> {
        assert_eq!(base_url("http://127.0.0.1:1234/")?, "http://127.0.0.1:1234");
        assert!(base_url("https://127.0.0.1:1234").is_err());
        assert!(base_url("http://127.0.0.1:1234/api").is_err());
        assert!(base_url("").is_err());
        Ok(())
    }

    #[test]
    fn empty_bodies_read_as_null() -> anyhow::Result<()> {
        let r = HttpResponse {
            request: "DELETE http://x/y".into(),
            status: 204,
            headers: vec![],
            body: vec![],
        };
        assert_eq!(r.json_or_null()?, Value::Null);
        assert!(r.is_success());
        Ok(())
    }

    #[test]
    fn error_mentions_status_and_body() {
        let r = HttpResponse {
            request: "GET http://x/y".into(),
            status: 403,
            headers: vec![],
            body: b"{\"errors\":[\"Forbidden\"]}".to_vec(),
        };
        let msg = r
            .ensure_success()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(msg.contains("403") && msg.contains("Forbidden"), "{msg}");
    }
}
