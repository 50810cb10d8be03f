//! The `fake-datadog` binary: parses the command line, binds a loopback
//! address, prints `listening on http://ADDR` as its only stdout line, and
//! serves until SIGTERM or SIGINT (then exits 0). Diagnostics go to stderr
//! and never include key values.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use fake_datadog::{router, serve, Config};

const USAGE: &str = "\
usage: fake-datadog [--listen ADDR] --api-key KEY --app-key KEY [--shuffle-lists] [--seed N] [--verbose]

  --listen ADDR     loopback address to bind (default 127.0.0.1:0 = any free port)
  --api-key KEY     expected DD-API-KEY (or env FAKE_DD_API_KEY)
  --app-key KEY     expected DD-APPLICATION-KEY (or env FAKE_DD_APP_KEY)
  --shuffle-lists   answer every list in a random order (switchable via /_fake/shuffle)
  --seed N          seed of the shuffling RNG (default: random, printed to stderr)
  --verbose         print one line per API request to stderr
";

const API_KEY_ENV: &str = "FAKE_DD_API_KEY";
const APP_KEY_ENV: &str = "FAKE_DD_APP_KEY";

#[derive(Debug, PartialEq)]
enum Command {
    Run(Options),
    Help,
    Version,
}

#[derive(PartialEq)]
struct Options {
    listen: SocketAddr,
    api_key: String,
    app_key: String,
    shuffle_lists: bool,
    seed: Option<u64>,
    verbose: bool,
}

// Hand-written so the keys never reach a log through `{:?}`.
impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("listen", &self.listen)
            .field("shuffle_lists", &self.shuffle_lists)
            .field("seed", &self.seed)
            .field("verbose", &self.verbose)
            .finish_non_exhaustive()
    }
}

/// Parses arguments (without the program name); `env` looks up variables.
fn parse_args(
    args: impl IntoIterator<Item = String>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Command, String> {
    let mut listen = None;
    let mut api_key = None;
    let mut app_key = None;
    let mut shuffle_lists = false;
    let mut seed = None;
    let mut verbose = false;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--listen" => {
                let v = value("--listen")?;
                let addr: SocketAddr = v
                    .parse()
                    .map_err(|_| format!("--listen: {v:?} is not an IP:PORT address"))?;
                if !addr.ip().is_loopback() {
                    return Err(format!(
                        "--listen: refusing non-loopback address {addr}; use 127.0.0.1 or [::1]"
                    ));
                }
                listen = Some(addr);
            }
            "--api-key" => api_key = Some(value("--api-key")?),
            "--app-key" => app_key = Some(value("--app-key")?),
            "--seed" => {
                let v = value("--seed")?;
                seed = Some(
                    v.parse()
                        .map_err(|_| format!("--seed: {v:?} is not an unsigned integer"))?,
                );
            }
            "--shuffle-lists" if inline.is_none() => shuffle_lists = true,
            "--verbose" | "-v" if inline.is_none() => verbose = true,
            _ => return Err(format!("unknown argument {arg:?}")),
        }
    }
    let api_key = api_key
        .or_else(|| env(API_KEY_ENV))
        .filter(|k| !k.is_empty())
        .ok_or_else(|| format!("an API key is required: --api-key or {API_KEY_ENV}"))?;
    let app_key = app_key
        .or_else(|| env(APP_KEY_ENV))
        .filter(|k| !k.is_empty())
        .ok_or_else(|| format!("an application key is required: --app-key or {APP_KEY_ENV}"))?;
    Ok(Command::Run(Options {
        listen: listen.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0))),
        api_key,
        app_key,
        shuffle_lists,
        seed,
        verbose,
    }))
}

fn main() -> ExitCode {
    let opts = match parse_args(std::env::args().skip(1), |k| std::env::var(k).ok()) {
        Ok(Command::Run(o)) => o,
        Ok(Command::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("fake-datadog {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("fake-datadog: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fake-datadog: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(opts)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fake-datadog: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(opts: Options) -> std::io::Result<()> {
    let seed = opts.seed.unwrap_or_else(rand::random);
    let mut config = Config::new(opts.api_key, opts.app_key)
        .shuffle_lists(opts.shuffle_lists)
        .seed(seed);
    config.verbose = opts.verbose;
    // Register signal handlers before announcing the port, so a SIGTERM sent
    // right after the line still shuts down cleanly.
    let shutdown = shutdown_signal()?;
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot bind {}: {e}", opts.listen)))?;
    let addr = listener.local_addr()?;
    eprintln!(
        "fake-datadog: shuffle seed {seed}, lists shuffled: {}",
        opts.shuffle_lists
    );
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{addr}")?;
        out.flush()?;
    }
    serve(listener, router(config), shutdown).await?;
    eprintln!("fake-datadog: stopped");
    Ok(())
}

/// A future that resolves on SIGTERM or SIGINT; handlers are installed now.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str], env: &[(&str, &str)]) -> Result<Command, String> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        parse_args(args.iter().map(|s| (*s).to_owned()), |k| {
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn full_command_line() {
        let got = parse(
            &[
                "--listen",
                "127.0.0.1:8126",
                "--api-key=a",
                "--app-key",
                "b",
                "--shuffle-lists",
                "--seed",
                "9",
            ],
            &[],
        );
        let Ok(Command::Run(o)) = got else {
            panic!("{got:?}")
        };
        assert_eq!(
            o.listen,
            "127.0.0.1:8126".parse().unwrap_or_else(|_| unreachable!())
        );
        assert_eq!((o.api_key.as_str(), o.app_key.as_str()), ("a", "b"));
        assert!(o.shuffle_lists);
        assert_eq!(o.seed, Some(9));
    }

    #[test]
    fn keys_from_env_and_default_listen() {
        let got = parse(&[], &[(API_KEY_ENV, "a"), (APP_KEY_ENV, "b")]);
        let Ok(Command::Run(o)) = got else {
            panic!("{got:?}")
        };
        assert_eq!(o.listen.to_string(), "127.0.0.1:0");
        assert!(!o.shuffle_lists);
    }

    #[test]
    fn rejects_bad_input() {
        let cases: [(&str, &[&str]); 6] = [
            (
                "non-loopback",
                &["--listen", "0.0.0.0:0", "--api-key", "a", "--app-key", "b"],
            ),
            (
                "hostname",
                &[
                    "--listen",
                    "localhost:0",
                    "--api-key",
                    "a",
                    "--app-key",
                    "b",
                ],
            ),
            ("missing-app-key", &["--api-key", "a"]),
            (
                "bad-seed",
                &["--seed", "x", "--api-key", "a", "--app-key", "b"],
            ),
            ("unknown-flag", &["--nope"]),
            ("dangling-value", &["--api-key"]),
        ];
        for (name, args) in cases {
            assert!(parse(args, &[]).is_err(), "{name}");
        }
    }

    #[test]
    fn errors_never_echo_keys() {
        let err = parse(&["--api-key", "sekrit", "--bogus"], &[])
            .err()
            .unwrap_or_default();
        assert!(!err.contains("sekrit"), "{err}");
    }
}
