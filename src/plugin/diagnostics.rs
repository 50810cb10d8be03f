//! Diagnostics and attribute paths, in our own types.
//!
//! Resources report every user-facing problem here, never as a gRPC error: Terraform
//! shows a diagnostic next to the configuration line its path points at, while a gRPC
//! error only says "the plugin failed".

use std::fmt;

/// One step of an attribute path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathStep {
    /// An object attribute or a nested block name.
    Attr(String),
    /// A map key.
    Key(String),
    /// A list or tuple index.
    Index(i64),
}

/// A path from the resource's root to one attribute.
///
/// There is no step for set elements: Terraform cannot point into a set, so a path is
/// cut at the set itself (as terraform-plugin-go does).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttrPath(pub Vec<PathStep>);

impl AttrPath {
    /// The path of a top-level attribute.
    #[must_use]
    pub fn root(name: &str) -> Self {
        AttrPath(vec![PathStep::Attr(name.to_owned())])
    }

    /// This path extended by an attribute name.
    #[must_use]
    pub fn attr(mut self, name: &str) -> Self {
        self.0.push(PathStep::Attr(name.to_owned()));
        self
    }

    /// This path extended by a map key.
    #[must_use]
    pub fn key(mut self, key: &str) -> Self {
        self.0.push(PathStep::Key(key.to_owned()));
        self
    }

    /// This path extended by a list index.
    #[must_use]
    pub fn index(mut self, i: i64) -> Self {
        self.0.push(PathStep::Index(i));
        self
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attr(a) if i == 0 => write!(f, "{a}")?,
                PathStep::Attr(a) => write!(f, ".{a}")?,
                PathStep::Key(k) => write!(f, "[{k:?}]")?,
                PathStep::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

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
        self.error(
            summary,
            format!("{detail}\n\nThis is a bug in the provider; please report it."),
        );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_display_reads_like_terraform_references() {
        let p = AttrPath::root("metrics").attr("namespace_filters").index(2).key("k");
        assert_eq!(p.to_string(), "metrics.namespace_filters[2][\"k\"]");
    }

    #[test]
    fn warnings_alone_are_not_errors() {
        let mut d = Diagnostics::new();
        d.warning("w", "");
        assert!(!d.has_errors());
        d.error_at(AttrPath::root("a"), "e", "");
        assert!(d.has_errors());
    }
}
