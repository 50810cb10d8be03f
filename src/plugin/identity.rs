//! Resource identity (protocol 6.9, Terraform 1.12+): a small object that names the
//! remote object a resource instance manages, stored by Terraform beside the state
//! and accepted by `import { identity = { … } }`. Clients without identity never
//! ask for it, so a resource type with an identity works with them unchanged.

use super::value::{Type, Value};

/// One attribute of an identity.
#[derive(Debug, Clone)]
pub struct IdentityAttribute {
    /// Its name.
    pub name: &'static str,
    /// Its type.
    pub ty: Type,
    /// An `import { identity }` must give it.
    pub required_for_import: bool,
    /// Plain-text description.
    pub description: &'static str,
}

/// A resource type's identity: its attributes and their version.
#[derive(Debug, Clone)]
pub struct IdentitySchema {
    /// Bumped when the attributes change (then `UpgradeResourceIdentity` must map
    /// older identities).
    pub version: i64,
    /// The attributes.
    pub attributes: Vec<IdentityAttribute>,
}

impl IdentitySchema {
    /// The object type identity values have on the wire.
    #[must_use]
    pub fn object_type(&self) -> Type {
        Type::object(self.attributes.iter().map(|a| (a.name, a.ty.clone())))
    }

    /// An identity value from its attributes' strings.
    #[must_use]
    pub fn value(&self, values: &[(&str, Option<String>)]) -> Option<Value> {
        let attrs: Option<Vec<(&str, Value)>> = self
            .attributes
            .iter()
            .map(|a| {
                let v = values.iter().find(|(n, _)| *n == a.name).and_then(|(_, v)| v.clone());
                match v {
                    Some(s) => Some((a.name, Value::String(s))),
                    None if a.required_for_import => None,
                    None => Some((a.name, Value::Null)),
                }
            })
            .collect();
        attrs.map(Value::object)
    }
}
