//! Attribute paths: the one way the provider names a place inside a value.
//!
//! Diagnostics point at configuration with an [`AttrPath`] (`AttrPath::root("metrics")
//! .attr("namespace_filters")`), replace paths name attributes with one, and codec
//! errors carry one so a message can say *where* a value was malformed
//! (`.tags["env"]`, `.rules[2].port`). The steps keep the container kind apart (a set
//! element is not a list index) because Terraform has no step for set elements:
//! whoever turns an `AttrPath` into a protocol `AttributePath` keeps only the part
//! before the first [`PathStep::SetElement`] ([`AttrPath::up_to_first_set`]), as
//! terraform-plugin-go does.

use std::fmt;

/// One step from a container value to one of its children.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    /// An object attribute (or nested block) by name: `.name`.
    Attr(String),
    /// A list or tuple element by position: `[3]`.
    Index(usize),
    /// A map element by key: `["key"]`.
    Key(String),
    /// A set element, by its position in the encoded array. Sets are unordered,
    /// so the position only helps a human find the element in the payload.
    SetElement(usize),
}

/// A path from the root of a value to one of its nested values.
///
/// Displays like Terraform's own paths (`.foo[2]["k"]`); the root path
/// displays as `(root)` so messages never start with an empty location.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttrPath(pub Vec<PathStep>);

impl AttrPath {
    /// The empty path, pointing at the whole value.
    #[must_use]
    pub fn empty() -> Self {
        Self(Vec::new())
    }

    /// The path of a top-level attribute: where most diagnostics point.
    #[must_use]
    pub fn root(name: impl Into<String>) -> Self {
        Self::empty().attr(name)
    }

    /// True for the empty path.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The steps from the root, outermost first.
    #[must_use]
    pub fn steps(&self) -> &[PathStep] {
        &self.0
    }

    /// Appends a step (builder style).
    #[must_use]
    pub fn join(mut self, step: PathStep) -> Self {
        self.0.push(step);
        self
    }

    /// Appends an attribute step (builder style).
    #[must_use]
    pub fn attr(self, name: impl Into<String>) -> Self {
        self.join(PathStep::Attr(name.into()))
    }

    /// Appends a list/tuple index step (builder style).
    #[must_use]
    pub fn index(self, index: usize) -> Self {
        self.join(PathStep::Index(index))
    }

    /// Appends a map key step (builder style).
    #[must_use]
    pub fn key(self, key: impl Into<String>) -> Self {
        self.join(PathStep::Key(key.into()))
    }

    /// The longest prefix that contains no set element step: the part of the
    /// path a Terraform `AttributePath` can express.
    #[must_use]
    pub fn up_to_first_set(&self) -> AttrPath {
        let end = self
            .0
            .iter()
            .position(|s| matches!(s, PathStep::SetElement(_)))
            .unwrap_or(self.0.len());
        AttrPath(self.0[..end].to_vec())
    }

    /// Prefixes `outer` to this path; used when an error raised while decoding
    /// a nested piece (a number, a type) is reported from its container.
    pub(super) fn prefixed(self, outer: &AttrPath) -> AttrPath {
        let mut steps = outer.0.clone();
        steps.extend(self.0);
        AttrPath(steps)
    }
}

impl AttrPath {
    /// The path as a configuration reference names it (`metrics.namespace_filters[2]`):
    /// the display form without its leading dot, for messages that name an argument.
    #[must_use]
    pub fn reference(&self) -> String {
        let shown = self.to_string();
        match shown.strip_prefix('.') {
            Some(rest) => rest.to_owned(),
            None => shown,
        }
    }
}

impl From<Vec<PathStep>> for AttrPath {
    fn from(steps: Vec<PathStep>) -> Self {
        Self(steps)
    }
}

impl fmt::Display for PathStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathStep::Attr(name) => write!(f, ".{name}"),
            PathStep::Index(i) | PathStep::SetElement(i) => write!(f, "[{i}]"),
            // Debug-quoting escapes quotes and control characters, so an odd
            // key cannot make the path ambiguous.
            PathStep::Key(key) => write!(f, "[{key:?}]"),
        }
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(root)");
        }
        for step in &self.0 {
            write!(f, "{step}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_display_like_terraform_addresses() {
        let cases: Vec<(&str, AttrPath, &str)> = vec![
            ("root", AttrPath::empty(), "(root)"),
            ("attr", AttrPath::empty().attr("foo"), ".foo"),
            (
                "attr index key",
                AttrPath::empty().attr("foo").index(2).key("k"),
                ".foo[2][\"k\"]",
            ),
            (
                "key with quote is escaped",
                AttrPath::empty().key("a\"b"),
                "[\"a\\\"b\"]",
            ),
            (
                "set element shows position",
                AttrPath::empty().attr("s").join(PathStep::SetElement(1)).attr("x"),
                ".s[1].x",
            ),
        ];
        for (name, path, want) in cases {
            assert_eq!(path.to_string(), want, "case {name}");
        }
    }

    #[test]
    fn up_to_first_set_truncates_at_the_set_step() {
        let p = AttrPath::empty()
            .attr("rules")
            .join(PathStep::SetElement(0))
            .attr("port");
        assert_eq!(p.up_to_first_set(), AttrPath::root("rules"));
        let q = AttrPath::empty().attr("a").index(1);
        assert_eq!(q.up_to_first_set(), q);
    }

    #[test]
    fn a_root_attribute_is_one_step_from_the_empty_path() {
        assert_eq!(AttrPath::root("a"), AttrPath::empty().attr("a"));
        assert!(AttrPath::empty().is_empty() && !AttrPath::root("a").is_empty());
    }

    #[test]
    fn references_read_like_configuration() {
        let cases: Vec<(&str, AttrPath, &str)> = vec![
            ("top-level", AttrPath::root("site"), "site"),
            (
                "nested",
                AttrPath::root("metrics").attr("namespace_filters").index(2).key("k"),
                "metrics.namespace_filters[2][\"k\"]",
            ),
            ("key first", AttrPath::empty().key("k"), "[\"k\"]"),
            ("empty", AttrPath::empty(), "(root)"),
        ];
        for (name, path, want) in cases {
            assert_eq!(path.reference(), want, "case {name}");
        }
    }
}
