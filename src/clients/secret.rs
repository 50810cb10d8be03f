//! A string that must never be printed: API keys and credentials.

use std::fmt;

/// A secret value. Its `Debug` and `Display` print a placeholder. Whoever reads a
/// secret from Terraform or the environment also hands it to the log redactor
/// (`plugin::logging::register_secret`), so it cannot leak through a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    #[must_use]
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    /// The value, for the one place that sends it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("** redacted **")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("** redacted **")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let s = Secret::new("sandbox-app-abcdefabcdefabcdef".into());
        assert!(!format!("{s:?} {s}").contains("abcdef"));
        assert_eq!(s.expose(), "sandbox-app-abcdefabcdefabcdef");
    }
}
