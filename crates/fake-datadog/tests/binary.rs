//! The `fake-datadog` binary over a real loopback socket: the CLI contract
//! (one stdout line, loopback only), dropped connections, and graceful
//! shutdown on SIGTERM with exit code 0.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_fake-datadog");
const API_KEY: &str = "bin-test-api-key-9f8e";
const APP_KEY: &str = "bin-test-app-key-7d6c";

/// A running fake; killed on drop if a test failed midway.
struct Running {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(extra: &[&str]) -> Running {
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0"])
        .args(extra)
        .env("FAKE_DD_API_KEY", API_KEY)
        .env("FAKE_DD_APP_KEY", APP_KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {BIN}: {e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap_or_else(|e| panic!("reading the listening line: {e}"));
    let addr = line
        .trim_end()
        .strip_prefix("listening on http://")
        .and_then(|a| a.parse::<SocketAddr>().ok())
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");
    Running { child, addr }
}

/// Sends one HTTP/1.1 request and reads until the server closes.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
    with_keys: bool,
) -> std::io::Result<String> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let keys = if with_keys {
        format!("DD-API-KEY: {API_KEY}\r\nDD-APPLICATION-KEY: {APP_KEY}\r\n")
    } else {
        String::new()
    };
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: fake\r\nConnection: close\r\n{keys}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap_or_else(|e| panic!("running kill: {e}"));
    assert!(status.success());
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "fake-datadog did not exit in {within:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A drop fault closes the connection with no bytes answered; the next
/// connection is served normally.
#[test]
fn drop_fault_closes_the_connection_unanswered() {
    let fake = start(&[]);
    let fault = r#"{"kind":"drop","path":"/api/v1/validate"}"#;
    let added = http(fake.addr, "POST", "/_fake/faults", fault, false).unwrap_or_default();
    assert!(added.starts_with("HTTP/1.1 201"), "{added}");

    match http(fake.addr, "GET", "/api/v1/validate", "", true) {
        Ok(answer) => assert!(answer.is_empty(), "expected no answer, got {answer:?}"),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
    }
    let ok = http(fake.addr, "GET", "/api/v1/validate", "", true).unwrap_or_default();
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(
        ok.to_ascii_lowercase().contains("x-ratelimit-limit:"),
        "{ok}"
    );
    assert!(ok.ends_with(r#"{"valid":true}"#), "{ok}");
}

/// SIGTERM lets an in-flight (slowed) request finish, then exits 0; stderr
/// never shows a key.
#[test]
fn sigterm_shuts_down_gracefully() {
    let mut fake = start(&["--verbose"]);
    let slow = r#"{"kind":"latency","ms":400}"#;
    let added = http(fake.addr, "POST", "/_fake/faults", slow, false).unwrap_or_default();
    assert!(added.starts_with("HTTP/1.1 201"), "{added}");
    let addr = fake.addr;
    let in_flight =
        std::thread::spawn(move || http(addr, "GET", "/api/v2/integration/aws/accounts", "", true));
    std::thread::sleep(Duration::from_millis(150));
    sigterm(&fake.child);
    let answer = in_flight
        .join()
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "in-flight request: {answer:?}"
    );
    assert!(answer.contains("application/vnd.api+json"), "{answer}");
    let status = wait_exit(&mut fake.child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0));
    let mut stderr = String::new();
    if let Some(mut e) = fake.child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    assert!(
        stderr.contains("GET /api/v2/integration/aws/accounts -> 200"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(API_KEY) && !stderr.contains(APP_KEY),
        "{stderr}"
    );
}

/// Binding anything but loopback is refused before any socket is opened.
#[test]
fn refuses_non_loopback_addresses() {
    let out = Command::new(BIN)
        .args(["--listen", "0.0.0.0:0", "--api-key", "a", "--app-key", "b"])
        .output()
        .unwrap_or_else(|e| panic!("running {BIN}: {e}"));
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("non-loopback"));
}

/// Sends one request on an open keep-alive connection and reads its answer
/// (headers, then `Content-Length` bytes of body).
fn exchange(s: &mut TcpStream, method: &str, path: &str, body: &str) -> std::io::Result<String> {
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: fake\r\nDD-API-KEY: {API_KEY}\r\nDD-APPLICATION-KEY: {APP_KEY}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut reader = BufReader::new(s.try_clone()?);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, format!("closed after {head:?}")));
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let length = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0)))
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(head + &String::from_utf8_lossy(&body))
}

/// A request refused before its body is read (here by the enforced rate limit)
/// leaves the keep-alive connection usable: the client's next request on it is
/// answered, not reset, as with Datadog's front end.
#[test]
fn a_request_refused_unread_keeps_the_connection_usable() {
    let fake = start(&[]);
    let limit = r#"{"limit":1,"period_seconds":3600}"#;
    let set = http(fake.addr, "POST", "/_fake/rate-limit", limit, false).unwrap_or_default();
    assert!(set.starts_with("HTTP/1.1 2"), "{set}");

    let mut s = TcpStream::connect(fake.addr).unwrap_or_else(|e| panic!("connecting: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap_or_else(|e| panic!("{e}"));
    let first = exchange(&mut s, "GET", "/api/v1/validate", "").unwrap_or_else(|e| panic!("first request: {e}"));
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    // A body of some size, so that it cannot have been read along with the head.
    let body = format!(r#"{{"data":{{"type":"account","attributes":{{"aws_account_id":"123456789012","pad":"{}"}}}}}}"#, "x".repeat(64 * 1024));
    let refused = exchange(&mut s, "POST", "/api/v2/integration/aws/accounts", &body).unwrap_or_else(|e| panic!("refused request: {e}"));
    assert!(refused.starts_with("HTTP/1.1 429"), "{refused}");
    let next = exchange(&mut s, "GET", "/api/v1/validate", "").unwrap_or_else(|e| panic!("the connection was not kept usable after a 429: {e}"));
    assert!(next.starts_with("HTTP/1.1 429"), "{next}");
}
