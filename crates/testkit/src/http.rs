//! [`FakeDatadog`]: a minimal blocking HTTP/1.1 client (std only) for the
//! Datadog fake's control API and for raw API calls with the sandbox keys.

use std::fmt;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use serde_json::Value;

use crate::sandbox::Sandbox;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// A client for the sandbox's Datadog fake (plain HTTP on 127.0.0.1).
///
/// * `admin_*` methods call the fake's control API under `/_fake/` (no keys),
///   e.g. `admin_get("accounts")`, `admin_post("faults", &json)`.
/// * [`FakeDatadog::api`] calls the Datadog API itself with the sandbox's
///   `DD-API-KEY`/`DD-APPLICATION-KEY`, e.g. to change an account link behind
///   Terraform's back (drift).
#[derive(Clone)]
pub struct FakeDatadog {
    base_url: String,
    host_port: String,
    api_key: String,
    app_key: String,
}

impl fmt::Debug for FakeDatadog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeDatadog")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// A client for `sandbox`'s Datadog fake (its URL and keys).
pub fn fake_datadog_admin(sandbox: &Sandbox) -> FakeDatadog {
    FakeDatadog::from_parts(sandbox.datadog_url(), sandbox.api_key(), sandbox.app_key())
}

impl FakeDatadog {
    /// A client for the fake at `base_url` (`http://HOST:PORT`, no path).
    pub fn new(base_url: &str, api_key: &str, app_key: &str) -> anyhow::Result<FakeDatadog> {
        let rest = base_url
            .strip_prefix("http://")
            .ok_or_else(|| anyhow!("only http:// URLs are supported: {base_url}"))?;
        let host_port = rest.trim_end_matches('/');
        if host_port.is_empty() || host_port.contains('/') {
            bail!("expected http://HOST:PORT without a path: {base_url}");
        }
        Ok(FakeDatadog::from_parts(base_url, api_key, app_key))
    }

    fn from_parts(base_url: &str, api_key: &str, app_key: &str) -> FakeDatadog {
        let base_url = base_url.trim_end_matches('/').to_owned();
        let host_port = base_url
            .strip_prefix("http://")
            .unwrap_or(&base_url)
            .to_owned();
        FakeDatadog {
            base_url,
            host_port,
            api_key: api_key.to_owned(),
            app_key: app_key.to_owned(),
        }
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
        self.json_request(method, &path, false, body)
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
        self.json_request(method, path, true, body)
    }

    fn json_request(
        &self,
        method: &str,
        path: &str,
        with_keys: bool,
        body: Option<&Value>,
    ) -> anyhow::Result<HttpResponse> {
        let bytes = body.map(serde_json::to_vec).transpose()?;
        let mut headers = vec![("Accept", "application/json")];
        if bytes.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        if with_keys {
            headers.push(("DD-API-KEY", &self.api_key));
            headers.push(("DD-APPLICATION-KEY", &self.app_key));
        }
        self.request(method, path, &headers, bytes.as_deref())
    }

    /// A raw request: `METHOD path` (path starts with `/`, may have a query)
    /// with the given headers and body. Sends `Connection: close` and reads the
    /// whole response (Content-Length, chunked, or until EOF).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> anyhow::Result<HttpResponse> {
        let what = format!("{method} {}{path}", self.base_url);
        let addr = self
            .host_port
            .to_socket_addrs()
            .with_context(|| format!("{what}: bad address"))?
            .next()
            .ok_or_else(|| anyhow!("{what}: address did not resolve"))?;
        let mut stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)
            .with_context(|| format!("{what}: connect"))?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;

        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nUser-Agent: testkit\r\n",
            self.host_port
        );
        for (name, value) in headers {
            req.push_str(&format!("{name}: {value}\r\n"));
        }
        let body = body.unwrap_or_default();
        if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        stream
            .write_all(&bytes)
            .with_context(|| format!("{what}: send"))?;

        let mut raw = Vec::new();
        stream
            .read_to_end(&mut raw)
            .with_context(|| format!("{what}: read"))?;
        let mut resp =
            HttpResponse::parse(&raw).with_context(|| format!("{what}: bad response"))?;
        resp.request = what;
        Ok(resp)
    }
}

/// An HTTP response from [`FakeDatadog`].
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// `METHOD URL` of the request, for messages.
    pub request: String,
    /// The status code.
    pub status: u16,
    /// Header names (lower-cased) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The (de-chunked) body.
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

    /// Parses a complete raw HTTP/1.1 response.
    fn parse(raw: &[u8]) -> anyhow::Result<HttpResponse> {
        let end = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| anyhow!("no end of headers in {} bytes", raw.len()))?;
        let head = std::str::from_utf8(&raw[..end]).context("headers are not UTF-8")?;
        let rest = &raw[end + 4..];
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or_default();
        if !version.starts_with("HTTP/1.") {
            bail!("bad status line {status_line:?}");
        }
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| anyhow!("bad status line {status_line:?}"))?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let mut resp = HttpResponse {
            request: String::new(),
            status,
            headers,
            body: Vec::new(),
        };
        let chunked = resp
            .header("transfer-encoding")
            .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
        resp.body = if chunked {
            dechunk(rest)?
        } else if let Some(len) = resp.header("content-length") {
            let len: usize = len
                .parse()
                .with_context(|| format!("bad Content-Length {len:?}"))?;
            if rest.len() < len {
                bail!("body truncated: {} of {len} bytes", rest.len());
            }
            rest[..len].to_vec()
        } else {
            rest.to_vec()
        };
        Ok(resp)
    }
}

/// Decodes a chunked transfer-encoded body.
fn dechunk(mut data: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| anyhow!("chunk size line missing"))?;
        let size_text = std::str::from_utf8(&data[..line_end])?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .with_context(|| format!("bad chunk size {size_text:?}"))?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size + 2 {
            bail!("chunk truncated");
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_content_length() -> anyhow::Result<()> {
        let r = HttpResponse::parse(
            b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":true}\nEXTRA",
        )?;
        assert_eq!(r.status, 201);
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.json()?, serde_json::json!({"a": true}));
        Ok(())
    }

    #[test]
    fn parses_chunked_and_empty() -> anyhow::Result<()> {
        let r = HttpResponse::parse(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n5;x=y\r\n:[1]}\r\n0\r\n\r\n",
        )?;
        assert_eq!(r.json()?, serde_json::json!({"a": [1]}));
        let r = HttpResponse::parse(b"HTTP/1.1 204 No Content\r\n\r\n")?;
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

    #[test]
    fn round_trip_against_a_local_listener() -> anyhow::Result<()> {
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
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")?;
            Ok(String::from_utf8_lossy(&req).into_owned())
        });
        let dd = FakeDatadog::new(&format!("http://{addr}"), "k1", "k2")?;
        let resp = dd.api("POST", "/api/v2/thing", Some(&serde_json::json!({})))?;
        assert_eq!(resp.text(), "ok");
        let req = server
            .join()
            .map_err(|_| anyhow!("server thread panicked"))??;
        assert!(req.starts_with("POST /api/v2/thing HTTP/1.1\r\n"), "{req}");
        assert!(
            req.contains("DD-API-KEY: k1\r\n") && req.contains("DD-APPLICATION-KEY: k2\r\n"),
            "{req}"
        );
        assert!(req.contains("Content-Length: 2\r\n"), "{req}");
        Ok(())
    }
}
