//! Attribute paths: where inside a value something happened.
//!
//! Codec errors carry an [`AttrPath`] so a message can say *where* a value was
//! malformed (`.tags["env"]`, `.rules[2].port`). The steps keep the container
//! kind apart (a set element is not a list index) because Terraform diagnostics
//! have no step for set elements: whoever turns an `AttrPath` into a protocol
//! `AttributePath` must truncate at the first [`PathStep::SetElement`].

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
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// True for the empty path.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The steps from the root, outermost first.
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
            ("root", AttrPath::root(), "(root)"),
            ("attr", AttrPath::root().attr("foo"), ".foo"),
            (
                "attr index key",
                AttrPath::root().attr("foo").index(2).key("k"),
                ".foo[2][\"k\"]",
            ),
            (
                "key with quote is escaped",
                AttrPath::root().key("a\"b"),
                "[\"a\\\"b\"]",
            ),
            (
                "set element shows position",
                AttrPath::root().attr("s").join(PathStep::SetElement(1)).attr("x"),
                ".s[1].x",
            ),
        ];
        for (name, path, want) in cases {
            assert_eq!(path.to_string(), want, "case {name}");
        }
    }

    #[test]
    fn up_to_first_set_truncates_at_the_set_step() {
        let p = AttrPath::root()
            .attr("rules")
            .join(PathStep::SetElement(0))
            .attr("port");
        assert_eq!(p.up_to_first_set(), AttrPath::root().attr("rules"));
        let q = AttrPath::root().attr("a").index(1);
        assert_eq!(q.up_to_first_set(), q);
    }
}
