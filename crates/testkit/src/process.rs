//! Running child processes with a bounded time and readable failures.

use std::ffi::OsString;
use std::fmt;
use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

/// How many trailing lines of stdout/stderr go into error messages.
const TAIL_LINES: usize = 60;
/// Upper bound on the characters of one tail in an error message.
const TAIL_CHARS: usize = 8_000;
/// Time between SIGTERM and SIGKILL when a command times out.
const KILL_GRACE: Duration = Duration::from_secs(10);
/// How long to wait for stdout/stderr to close after the process exited
/// (a stray grandchild may hold the pipes open).
const DRAIN_WAIT: Duration = Duration::from_secs(5);

/// The result of a finished command.
#[derive(Debug, Clone)]
pub struct Output {
    /// The command line as shown in messages (program and arguments).
    pub command: String,
    /// How the process ended.
    pub status: ExitStatus,
    /// Everything it wrote to stdout (lossy UTF-8).
    pub stdout: String,
    /// Everything it wrote to stderr (lossy UTF-8).
    pub stderr: String,
}

impl Output {
    /// The exit code, or `None` when the process was killed by a signal.
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Whether the exit code was 0.
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// `Ok(self)` when the exit code was 0, else an error with [`Output::describe`].
    pub fn ensure_success(self) -> anyhow::Result<Self> {
        self.ensure_code(0)
    }

    /// `Ok(self)` when the exit code was `expected`, else an error with
    /// [`Output::describe`].
    pub fn ensure_code(self, expected: i32) -> anyhow::Result<Self> {
        if self.code() == Some(expected) {
            Ok(self)
        } else {
            bail!("command did not exit with {expected}\n{}", self.describe())
        }
    }

    /// Parses stdout as one JSON document.
    pub fn json(&self) -> anyhow::Result<serde_json::Value> {
        serde_json::from_str(&self.stdout)
            .with_context(|| format!("stdout is not JSON\n{}", self.describe()))
    }

    /// A multi-line summary for error messages: the command, its exit status
    /// and the tails of stdout and stderr.
    pub fn describe(&self) -> String {
        let status = match self.code() {
            Some(code) => format!("exit code {code}"),
            None => format!("terminated ({})", self.status),
        };
        format!(
            "command: {}\nstatus: {status}\n{}{}",
            self.command,
            section("stdout", &self.stdout),
            section("stderr", &self.stderr),
        )
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// `--- NAME (last N lines) ---` followed by the tail of `text`.
pub(crate) fn section(name: &str, text: &str) -> String {
    let (tail, omitted) = tail(text, TAIL_LINES, TAIL_CHARS);
    if tail.is_empty() {
        return format!("--- {name}: (empty) ---\n");
    }
    let header = if omitted {
        format!("--- {name} (last {TAIL_LINES} lines) ---")
    } else {
        format!("--- {name} ---")
    };
    format!("{header}\n{tail}\n")
}

/// The last `max_lines` lines of `text`, at most `max_chars` characters;
/// the flag says whether anything was cut.
pub(crate) fn tail(text: &str, max_lines: usize, max_chars: usize) -> (String, bool) {
    let text = text.trim_end();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(max_lines);
    let mut out = lines[start..].join("\n");
    let mut omitted = start > 0;
    let chars = out.chars().count();
    if chars > max_chars {
        out = out.chars().skip(chars - max_chars).collect();
        omitted = true;
    }
    (out, omitted)
}

/// Whether an inherited variable must not leak into the commands we run:
/// anything that could point Terraform or the provider at real services or
/// change Terraform's (or OpenTofu's, `TOFU_*`) behaviour behind the test's back. `TF_LOG*` stays, so
/// tests can be debugged with `TF_LOG=debug cargo nextest run ...`.
pub(crate) fn is_scrubbed(key: &str) -> bool {
    (key.starts_with("TF_") && !key.starts_with("TF_LOG"))
        || key.starts_with("TOFU_")
        || key.starts_with("DD_")
        || key.starts_with("DATADOG_")
        || key.starts_with("AWS_")
        || key == "CHECKPOINT_DISABLE"
}

/// Removes the [`is_scrubbed`] variables of our own environment from `cmd`.
pub(crate) fn scrub_env(cmd: &mut Command) {
    let keys: Vec<OsString> = std::env::vars_os()
        .map(|(k, _)| k)
        .filter(|k| k.to_str().is_some_and(is_scrubbed))
        .collect();
    for key in keys {
        cmd.env_remove(key);
    }
}

/// Runs `cmd` (stdin = /dev/null, stdout/stderr captured) for at most `timeout`.
/// On time-out it sends SIGTERM, then SIGKILL after a grace period, and fails
/// with what was captured so far. `shown` is the command line for messages.
pub(crate) fn run_with_timeout(
    mut cmd: Command,
    shown: &str,
    timeout: Duration,
) -> anyhow::Result<Output> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("could not start: {shown}"))?;
    let stdout = Capture::start(child.stdout.take());
    let stderr = Capture::start(child.stderr.take());

    let deadline = Instant::now() + timeout;
    let status = match wait_until(&mut child, deadline)? {
        Some(status) => status,
        None => {
            terminate(&mut child)?;
            bail!(
                "timed out after {}s, killed\ncommand: {shown}\n{}{}",
                timeout.as_secs_f32(),
                section("stdout so far", &stdout.finish(Duration::from_secs(1))),
                section("stderr so far", &stderr.finish(Duration::from_secs(1))),
            );
        }
    };
    Ok(Output {
        command: shown.to_owned(),
        status,
        stdout: stdout.finish(DRAIN_WAIT),
        stderr: stderr.finish(DRAIN_WAIT),
    })
}

/// Polls `child` until it exits (`Some`) or `deadline` passes (`None`).
fn wait_until(child: &mut Child, deadline: Instant) -> anyhow::Result<Option<ExitStatus>> {
    let mut pause = Duration::from_millis(5);
    loop {
        if let Some(status) = child.try_wait().context("waiting for a child process")? {
            return Ok(Some(status));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// SIGTERM (lets Terraform stop its providers), then SIGKILL after a grace period.
fn terminate(child: &mut Child) -> anyhow::Result<()> {
    let _ = crate::signal::terminate(child.id());
    if wait_until(child, Instant::now() + KILL_GRACE)?.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    Ok(())
}

/// A background reader collecting one pipe.
struct Capture {
    buf: Arc<Mutex<Vec<u8>>>,
    done: mpsc::Receiver<()>,
}

impl Capture {
    fn start<R: Read + Send + 'static>(pipe: Option<R>) -> Capture {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let (tx, done) = mpsc::channel();
        let sink = Arc::clone(&buf);
        thread::spawn(move || {
            if let Some(mut pipe) = pipe {
                let mut chunk = [0u8; 16 * 1024];
                loop {
                    match pipe.read(&mut chunk) {
                        Ok(0) => break,
                        Ok(n) => match sink.lock() {
                            Ok(mut b) => b.extend_from_slice(&chunk[..n]),
                            Err(_) => break,
                        },
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(_) => break,
                    }
                }
            }
            let _ = tx.send(());
        });
        Capture { buf, done }
    }

    /// Waits (at most `wait`) for EOF and returns what was read.
    fn finish(&self, wait: Duration) -> String {
        let _ = self.done.recv_timeout(wait);
        match self.buf.lock() {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(poisoned) => String::from_utf8_lossy(&poisoned.into_inner()).into_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        cmd
    }

    #[test]
    fn captures_output_and_code() -> anyhow::Result<()> {
        let out = run_with_timeout(
            sh("echo out; echo err >&2; exit 3"),
            "sh",
            Duration::from_secs(30),
        )?;
        assert_eq!(out.code(), Some(3));
        assert_eq!(out.stdout, "out\n");
        assert_eq!(out.stderr, "err\n");
        let err = out
            .clone()
            .ensure_success()
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(err.contains("exit code 3"), "{err}");
        assert!(err.contains("--- stdout ---\nout"), "{err}");
        assert!(err.contains("--- stderr ---\nerr"), "{err}");
        assert!(out.ensure_code(3).is_ok());
        Ok(())
    }

    #[test]
    fn times_out_and_kills() {
        let start = Instant::now();
        let res = run_with_timeout(
            sh("echo started; exec sleep 30"),
            "sleepy",
            Duration::from_millis(500),
        );
        let msg = res.err().map(|e| format!("{e:#}")).unwrap_or_default();
        assert!(msg.contains("timed out"), "{msg}");
        assert!(msg.contains("started"), "{msg}");
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "SIGTERM should end `sh`"
        );
    }

    #[test]
    fn tail_keeps_the_end() {
        let text: String = (1..=100).map(|i| format!("line {i}\n")).collect();
        let (t, cut) = tail(&text, 3, 1000);
        assert!(cut);
        assert_eq!(t, "line 98\nline 99\nline 100");
        let (t, cut) = tail("short", 3, 1000);
        assert!(!cut);
        assert_eq!(t, "short");
    }

    #[test]
    fn scrubbed_variables() {
        assert!(is_scrubbed("DD_API_KEY"));
        assert!(is_scrubbed("TF_CLI_CONFIG_FILE"));
        assert!(is_scrubbed("AWS_PROFILE"));
        assert!(is_scrubbed("TOFU_CPU_PROFILE"));
        assert!(!is_scrubbed("TF_LOG"));
        assert!(!is_scrubbed("PATH"));
    }
}
