//! Logs as go-plugin expects them: one JSON object per line on stderr with `@level`,
//! `@message`, `@module` and `@timestamp`, which Terraform re-emits under
//! `TF_LOG`/`TF_LOG_PROVIDER`. Fields of enclosing spans (`tf_rpc`, `tf_req_id`,
//! `tf_resource_type`, …) are added to each line.
//!
//! Secrets: nothing logs a key on purpose (they travel as `Secret`), and as a second
//! line of defence every registered secret is masked in each line before it is written.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::{OnceLock, RwLock};

use serde_json::{Map, Value as Json};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::prelude::*;

const REDACTED: &str = "** redacted **";

fn secrets() -> &'static RwLock<Vec<String>> {
    static SECRETS: OnceLock<RwLock<Vec<String>>> = OnceLock::new();
    SECRETS.get_or_init(|| RwLock::new(Vec::new()))
}

/// Masks `secret` in every log line from now on. Short values are ignored: masking
/// "true" everywhere would hide more than it protects.
pub fn register_secret(secret: &str) {
    if secret.len() < 8 {
        return;
    }
    if let Ok(mut s) = secrets().write() {
        if !s.iter().any(|x| x == secret) {
            s.push(secret.to_owned());
        }
    }
}

/// Masks every registered secret in `text`.
#[must_use]
pub fn redact(text: &str) -> String {
    let mut out = text.to_owned();
    if let Ok(s) = secrets().read() {
        for secret in s.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
    }
    out
}

/// The level Terraform asked for: `TF_LOG_PROVIDER`, else `TF_LOG`; none means off.
fn level_from_env() -> Option<Level> {
    let raw = std::env::var("TF_LOG_PROVIDER").ok().filter(|s| !s.is_empty()).or_else(|| std::env::var("TF_LOG").ok())?;
    match raw.trim().to_ascii_uppercase().as_str() {
        "TRACE" | "JSON" => Some(Level::TRACE),
        "DEBUG" => Some(Level::DEBUG),
        "INFO" => Some(Level::INFO),
        "WARN" => Some(Level::WARN),
        "ERROR" => Some(Level::ERROR),
        _ => None,
    }
}

/// Installs the stderr JSON logger at the level Terraform asked for.
pub fn init() {
    let Some(level) = level_from_env() else { return };
    let events = tracing_subscriber::filter::Targets::new()
        .with_target("terraform_provider_datadog", level)
        .with_default(Level::WARN.min(level));
    // Our spans are always on, whatever the level: they carry the correlation fields
    // (`tf_req_id`, `tf_rpc`, `tf_resource_type`) that every line at INFO and WARN
    // needs as much as one at DEBUG. A span writes no line of its own.
    let filter = tracing_subscriber::filter::filter_fn(move |meta| {
        (meta.is_span() && meta.target().starts_with("terraform_provider_datadog")) || events.would_enable(meta.target(), meta.level())
    });
    let _ = tracing_subscriber::registry().with(HclogLayer.with_filter(filter)).try_init();
}

/// Writes events in hclog's JSON line format.
#[derive(Debug)]
struct HclogLayer;

#[derive(Default)]
struct Fields(Map<String, Json>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), Json::String(value.to_owned()));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), Json::Bool(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), Json::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), Json::from(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut s = String::new();
        let _ = write!(s, "{value:?}");
        self.0.insert(field.name().to_owned(), Json::String(s));
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for HclogLayer {
    fn on_new_span(&self, attrs: &tracing::span::Attributes<'_>, id: &tracing::span::Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut line = Map::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(f) = span.extensions().get::<Fields>() {
                    line.extend(f.0.clone());
                }
            }
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let message = fields.0.remove("message").unwrap_or(Json::String(String::new()));
        line.extend(fields.0);
        let level = match *event.metadata().level() {
            Level::TRACE => "trace",
            Level::DEBUG => "debug",
            Level::INFO => "info",
            Level::WARN => "warn",
            Level::ERROR => "error",
        };
        line.insert("@level".into(), Json::String(level.into()));
        line.insert("@message".into(), message);
        line.insert("@module".into(), Json::String("provider".into()));
        line.insert("@timestamp".into(), Json::String(timestamp()));
        let text = redact(&Json::Object(line).to_string());
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }
}

/// hclog's timestamp format: `2006-01-02T15:04:05.000000Z07:00`.
fn timestamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    now.format(&fmt).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_are_masked_and_short_ones_ignored() {
        register_secret("sandbox-api-0123456789abcdef");
        register_secret("true");
        let out = redact(r#"{"k":"sandbox-api-0123456789abcdef","b":"true"}"#);
        assert!(!out.contains("sandbox-api-0123456789abcdef"));
        assert!(out.contains(REDACTED));
        assert!(out.contains("\"true\""));
    }

    #[test]
    fn timestamp_has_microseconds_and_zulu() {
        let t = timestamp();
        assert_eq!(t.len(), "2006-01-02T15:04:05.000000Z".len(), "{t}");
        assert!(t.ends_with('Z'));
    }
}
