//! The go-plugin handshake: Terraform starts us with a magic cookie and the protocol
//! versions it speaks, and reads one line on stdout saying where to connect.

use std::io::Write;
use std::path::PathBuf;

use base64::Engine;

/// The cookie every go-plugin client for Terraform providers sets.
const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
const MAGIC_COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// The only application protocol we speak.
pub(crate) const PROTOCOL_VERSION: u32 = 6;

/// Why the process cannot serve.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// Run by hand rather than by Terraform.
    #[error(
        "This binary is a plugin. These are not meant to be executed directly.\n\
         Terraform runs it for you: configure the provider in a Terraform file and run `terraform init`.\n\
         To debug it, run it with --debug and export the TF_REATTACH_PROVIDERS value it prints."
    )]
    NotLaunchedByTerraform,
    /// Terraform speaks no protocol version we do.
    #[error("Terraform offered plugin protocol versions {offered:?}, but this provider speaks only version {PROTOCOL_VERSION}; use Terraform 1.0 or later")]
    NoCommonVersion {
        /// What `PLUGIN_PROTOCOL_VERSIONS` said.
        offered: String,
    },
    /// The listening socket could not be made.
    #[error("cannot listen on {path}: {source}")]
    Listen {
        /// The socket path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Checks the cookie Terraform sets when it launches a provider.
pub(crate) fn check_cookie() -> Result<(), HandshakeError> {
    match std::env::var(MAGIC_COOKIE_KEY) {
        Ok(v) if v == MAGIC_COOKIE_VALUE => Ok(()),
        _ => Err(HandshakeError::NotLaunchedByTerraform),
    }
}

/// Picks protocol 6 from `PLUGIN_PROTOCOL_VERSIONS` (a set, in any order; absent means
/// the client takes ours).
pub(crate) fn negotiate(offered: Option<&str>) -> Result<u32, HandshakeError> {
    let Some(offered) = offered.filter(|s| !s.trim().is_empty()) else { return Ok(PROTOCOL_VERSION) };
    let speaks_ours = offered.split(',').any(|v| v.trim().parse::<u32>() == Ok(PROTOCOL_VERSION));
    if speaks_ours {
        Ok(PROTOCOL_VERSION)
    } else {
        Err(HandshakeError::NoCommonVersion { offered: offered.to_owned() })
    }
}

/// A fresh socket path in `PLUGIN_UNIX_SOCKET_DIR` or the temp dir.
pub(crate) fn socket_path() -> PathBuf {
    let dir = std::env::var_os("PLUGIN_UNIX_SOCKET_DIR").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    dir.join(format!("plugin-datadog-{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()))
}

/// The handshake line: `1|6|unix|<path>|grpc|<server cert, DER, base64 without padding>`.
pub(crate) fn line(path: &std::path::Path, server_cert_der: Option<&[u8]>) -> String {
    let cert = server_cert_der
        .map(|der| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der))
        .unwrap_or_default();
    format!("1|{PROTOCOL_VERSION}|unix|{}|grpc|{cert}", path.display())
}

/// Prints the line and flushes: Terraform waits for it before anything else.
pub(crate) fn announce(line: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_accepts_any_order_and_refuses_without_six() {
        for (offered, ok) in [(Some("5,6"), true), (Some("6,5"), true), (Some("6"), true), (None, true), (Some("5"), false), (Some("4,5"), false)] {
            assert_eq!(negotiate(offered).is_ok(), ok, "{offered:?}");
        }
    }

    #[test]
    fn line_carries_unpadded_base64_certificate() {
        let l = line(std::path::Path::new("/tmp/s"), Some(&[1, 2, 3, 4]));
        assert_eq!(l, "1|6|unix|/tmp/s|grpc|AQIDBA");
        assert_eq!(line(std::path::Path::new("/tmp/s"), None), "1|6|unix|/tmp/s|grpc|");
    }
}
