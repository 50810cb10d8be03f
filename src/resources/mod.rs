//! Resource types, one module each, all written against [`crate::plugin::Resource`].

pub mod account_link;
pub mod org_stackset;

use std::sync::Arc;

use crate::plugin::{ListResource, Resource};
use crate::provider::ProviderData;

/// Every resource type of the provider, sharing the provider's configured clients.
#[must_use]
pub fn all(data: &Arc<ProviderData>) -> Vec<Arc<dyn Resource>> {
    vec![
        Arc::new(account_link::AccountLink::new(Arc::clone(data))),
        Arc::new(org_stackset::OrgStackSet::new(Arc::clone(data))),
    ]
}

/// Every list resource type (`terraform query`), one for each managed type.
#[must_use]
pub fn lists(data: &Arc<ProviderData>) -> Vec<Arc<dyn ListResource>> {
    vec![
        Arc::new(account_link::AccountLinkList::new(Arc::clone(data))),
        Arc::new(org_stackset::OrgStackSetList::new(Arc::clone(data))),
    ]
}
