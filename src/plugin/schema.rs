//! Schema types: what a provider, resource or nested block accepts, and the object
//! type Terraform derives from it (every wire value is encoded against that type).
//!
//! Plan-time behaviour that belongs to a single attribute (a default, "replace on
//! change", "keep the prior value when nothing changed") is declared here so that
//! `plan.rs` can apply it once for every resource.

use std::collections::BTreeMap;

use super::value::{Type, Value};

/// Whether a description is plain text or markdown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DescriptionKind {
    /// Plain text.
    #[default]
    Plain,
    /// Markdown (rendered by the registry and language servers).
    Markdown,
}

/// How a nested block or nested attribute repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    /// At most one, an object or null.
    Single,
    /// Like single, but never null (Terraform fills an empty object).
    Group,
    /// An ordered list of objects.
    List,
    /// An unordered set of objects.
    Set,
    /// A map of objects keyed by label.
    Map,
}

/// A whole schema: a version (for state upgrades) and the root block.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    /// Bumped when stored state needs upgrading.
    pub version: i64,
    /// The root block.
    pub block: Block,
}

/// A block: attributes and nested blocks.
#[derive(Clone, Debug, Default)]
pub struct Block {
    /// Attributes, in declaration order.
    pub attributes: Vec<Attribute>,
    /// Nested blocks, in declaration order.
    pub blocks: Vec<NestedBlock>,
    /// What the block is for.
    pub description: String,
    /// Plain or markdown.
    pub description_kind: DescriptionKind,
    /// A deprecation message; empty when not deprecated.
    pub deprecation: String,
}

/// A nested block (`name { ... }` in configuration).
#[derive(Clone, Debug)]
pub struct NestedBlock {
    /// The block type name.
    pub name: String,
    /// Its content.
    pub block: Block,
    /// How it repeats.
    pub nesting: Nesting,
    /// Minimum count (lists and sets).
    pub min_items: i64,
    /// Maximum count (lists and sets); 0 is unlimited.
    pub max_items: i64,
}

/// What an attribute holds: a plain type, or nested attributes.
#[derive(Clone, Debug)]
pub enum AttrKind {
    /// A value of a cty type.
    Typed(Type),
    /// Nested attributes (`name = { ... }` in configuration).
    Nested {
        /// The nested attributes.
        attributes: Vec<Attribute>,
        /// How the nested object repeats.
        nesting: Nesting,
    },
}

/// One attribute.
#[derive(Clone, Debug)]
pub struct Attribute {
    /// Its name.
    pub name: String,
    /// Its type.
    pub kind: AttrKind,
    /// What it means; feeds the docs.
    pub description: String,
    /// Plain or markdown.
    pub description_kind: DescriptionKind,
    /// Must be set in configuration.
    pub required: bool,
    /// May be set in configuration.
    pub optional: bool,
    /// May be set by the provider.
    pub computed: bool,
    /// Hidden in plan output.
    pub sensitive: bool,
    /// Only in configuration: never in plan or state (Terraform 1.11+).
    pub write_only: bool,
    /// A deprecation message; empty when not deprecated.
    pub deprecation: String,
    /// The planned value when configuration leaves it null (needs optional + computed).
    pub default: Option<Value>,
    /// A change of this attribute replaces the resource.
    pub requires_replace: bool,
    /// A computed value that only the provider changes knowingly: when configuration
    /// leaves it null, plan the prior value instead of "known after apply".
    pub use_state_for_unknown: bool,
}

impl Attribute {
    fn new(name: &str, kind: AttrKind, description: &str) -> Self {
        Attribute {
            name: name.to_owned(),
            kind,
            description: description.to_owned(),
            description_kind: DescriptionKind::Markdown,
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            write_only: false,
            deprecation: String::new(),
            default: None,
            requires_replace: false,
            use_state_for_unknown: false,
        }
    }

    /// An attribute of a plain type.
    #[must_use]
    pub fn typed(name: &str, ty: Type, description: &str) -> Self {
        Self::new(name, AttrKind::Typed(ty), description)
    }

    /// A string attribute.
    #[must_use]
    pub fn string(name: &str, description: &str) -> Self {
        Self::typed(name, Type::String, description)
    }

    /// A bool attribute.
    #[must_use]
    pub fn bool(name: &str, description: &str) -> Self {
        Self::typed(name, Type::Bool, description)
    }

    /// A set-of-strings attribute.
    #[must_use]
    pub fn string_set(name: &str, description: &str) -> Self {
        Self::typed(name, Type::Set(Box::new(Type::String)), description)
    }

    /// Nested attributes.
    #[must_use]
    pub fn nested(name: &str, nesting: Nesting, attributes: Vec<Attribute>, description: &str) -> Self {
        Self::new(name, AttrKind::Nested { attributes, nesting }, description)
    }

    /// Must be configured.
    #[must_use]
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// May be configured.
    #[must_use]
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// Set by the provider (combine with `optional` for "defaulted").
    #[must_use]
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }

    /// Optional and computed, planned as `value` when not configured.
    #[must_use]
    pub fn default(mut self, value: Value) -> Self {
        self.optional = true;
        self.computed = true;
        self.default = Some(value);
        self
    }

    /// Optional and computed, planned as `value` only where nothing exists yet (on
    /// create, or for an object that had no value): once the remote object exists, an
    /// unconfigured value keeps what it holds, so a default never overwrites a choice
    /// made elsewhere (by hand, or before an import).
    #[must_use]
    pub fn default_on_create(self, value: Value) -> Self {
        self.default(value).use_state_for_unknown()
    }

    /// Hidden in plan output.
    #[must_use]
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Never stored: configuration only.
    #[must_use]
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }

    /// A change replaces the resource.
    #[must_use]
    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }

    /// Keep the prior value in plans when not configured.
    #[must_use]
    pub fn use_state_for_unknown(mut self) -> Self {
        self.use_state_for_unknown = true;
        self
    }

    /// Deprecated, with a message saying what to use instead.
    #[must_use]
    pub fn deprecated(mut self, message: &str) -> Self {
        self.deprecation = message.to_owned();
        self
    }

    /// The cty type of this attribute's value.
    #[must_use]
    pub fn value_type(&self) -> Type {
        match &self.kind {
            AttrKind::Typed(t) => t.clone(),
            AttrKind::Nested { attributes, nesting } => {
                let obj = object_type(attributes.iter().map(|a| (a.name.as_str(), a.value_type())));
                wrap(obj, *nesting)
            }
        }
    }

    /// The nested attributes, when this attribute has them.
    #[must_use]
    pub fn nested_attributes(&self) -> Option<(&[Attribute], Nesting)> {
        match &self.kind {
            AttrKind::Nested { attributes, nesting } => Some((attributes, *nesting)),
            AttrKind::Typed(_) => None,
        }
    }
}

impl NestedBlock {
    /// A nested block.
    #[must_use]
    pub fn new(name: &str, nesting: Nesting, block: Block) -> Self {
        NestedBlock { name: name.to_owned(), block, nesting, min_items: 0, max_items: 0 }
    }
}

impl Block {
    /// A block with these attributes and a description.
    #[must_use]
    pub fn new(description: &str, attributes: Vec<Attribute>) -> Self {
        Block {
            attributes,
            blocks: Vec::new(),
            description: description.to_owned(),
            description_kind: DescriptionKind::Markdown,
            deprecation: String::new(),
        }
    }

    /// Adds a nested block.
    #[must_use]
    pub fn with_block(mut self, block: NestedBlock) -> Self {
        self.blocks.push(block);
        self
    }

    /// The object type values of this block are encoded against.
    #[must_use]
    pub fn value_type(&self) -> Type {
        let attrs = self.attributes.iter().map(|a| (a.name.clone(), a.value_type()));
        let blocks = self.blocks.iter().map(|b| (b.name.clone(), wrap(b.block.value_type(), b.nesting)));
        Type::Object { attrs: attrs.chain(blocks).collect(), optional: Default::default() }
    }

    /// The attribute called `name`.
    #[must_use]
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

impl Schema {
    /// A schema of version 0.
    #[must_use]
    pub fn new(block: Block) -> Self {
        Schema { version: 0, block }
    }

    /// The object type of the whole schema.
    #[must_use]
    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }
}

fn object_type<'a>(attrs: impl Iterator<Item = (&'a str, Type)>) -> Type {
    let attrs: BTreeMap<String, Type> = attrs.map(|(n, t)| (n.to_owned(), t)).collect();
    Type::Object { attrs, optional: Default::default() }
}

fn wrap(obj: Type, nesting: Nesting) -> Type {
    match nesting {
        Nesting::Single | Nesting::Group => obj,
        Nesting::List => Type::List(Box::new(obj)),
        Nesting::Set => Type::Set(Box::new(obj)),
        Nesting::Map => Type::Map(Box::new(obj)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implied_type_covers_attributes_nested_attributes_and_blocks() {
        let block = Block::new(
            "",
            vec![
                Attribute::string("id", "").computed(),
                Attribute::nested(
                    "metrics",
                    Nesting::Single,
                    vec![Attribute::bool("enabled", "").optional()],
                    "",
                ),
            ],
        )
        .with_block(NestedBlock::new("timeouts", Nesting::Single, Block::new("", vec![Attribute::string("create", "").optional()])));
        let json = block.value_type().to_json();
        assert_eq!(
            json,
            serde_json::json!(["object", {
                "id": "string",
                "metrics": ["object", {"enabled": "bool"}],
                "timeouts": ["object", {"create": "string"}]
            }])
        );
    }
}
