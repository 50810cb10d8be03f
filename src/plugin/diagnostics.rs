//! Diagnostics, in our own types.
//!
//! Resources report every user-facing problem here, never as a gRPC error: Terraform
//! shows a diagnostic next to the configuration line its path points at, while a gRPC
//! error only says "the plugin failed". The path is the one [`AttrPath`] of
//! `value::path`; `convert.rs` cuts it where Terraform cannot follow (a set element).

use std::fmt;

use super::value::AttrPath;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// Stops the operation.
    Error,
    /// Shown, but the operation goes on.
    Warning,
}

/// One message for the user: a short summary, a detail saying why and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A short title.
    pub summary: String,
    /// Why it happened and what to do.
    pub detail: String,
    /// The configuration attribute it is about, if any.
    pub path: Option<AttrPath>,
}

/// An ordered collection of diagnostics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// An empty collection.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an error not tied to an attribute.
    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Error, summary, detail, None);
    }

    /// Adds an error about one attribute.
    pub fn error_at(&mut self, path: AttrPath, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Error, summary, detail, Some(path));
    }

    /// Adds a warning not tied to an attribute.
    pub fn warning(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Warning, summary, detail, None);
    }

    /// Adds a warning about one attribute.
    pub fn warning_at(&mut self, path: AttrPath, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Warning, summary, detail, Some(path));
    }

    /// Adds an error for a bug of ours, asking the user to report it.
    pub fn bug(&mut self, summary: impl Into<String>, detail: impl fmt::Display) {
        self.push(Severity::Error, summary, bug_detail(detail), None);
    }

    /// Adds an error for a bug of ours found at one place in a value (a codec error),
    /// so Terraform can point at the attribute; the empty path points nowhere.
    pub fn bug_at(&mut self, path: AttrPath, summary: impl Into<String>, detail: impl fmt::Display) {
        let path = (!path.is_empty()).then_some(path);
        self.push(Severity::Error, summary, bug_detail(detail), path);
    }

    fn push(
        &mut self,
        severity: Severity,
        summary: impl Into<String>,
        detail: impl Into<String>,
        path: Option<AttrPath>,
    ) {
        self.0.push(Diagnostic { severity, summary: summary.into(), detail: detail.into(), path });
    }

    /// Whether any diagnostic is an error.
    #[must_use]
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    /// Moves every diagnostic of `other` into this one.
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn bug_detail(detail: impl fmt::Display) -> String {
    format!("{detail}\n\nThis is a bug in the provider; please report it.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_alone_are_not_errors() {
        let mut d = Diagnostics::new();
        d.warning("w", "");
        assert!(!d.has_errors());
        d.error_at(AttrPath::root("a"), "e", "");
        assert!(d.has_errors());
    }

    #[test]
    fn a_bug_points_at_its_place_unless_that_is_the_whole_value() {
        let mut d = Diagnostics::new();
        d.bug_at(AttrPath::root("tags").key("env"), "Cannot decode the state", "at .tags[\"env\"]: bad");
        d.bug_at(AttrPath::empty(), "Cannot decode the state", "at (root): bad");
        let paths: Vec<_> = d.0.iter().map(|d| d.path.clone()).collect();
        assert_eq!(paths, vec![Some(AttrPath::root("tags").key("env")), None]);
        assert!(d.0.iter().all(|d| d.detail.ends_with("please report it.")));
    }
}
