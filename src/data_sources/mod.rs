//! Data source types, one module each, all written against [`crate::plugin::DataSource`].

pub mod aws_organization;

use std::sync::Arc;

use crate::plugin::DataSource;
use crate::provider::ProviderData;

/// Every data source type of the provider, sharing the provider's configured clients.
#[must_use]
pub fn all(data: &Arc<ProviderData>) -> Vec<Arc<dyn DataSource>> {
    vec![Arc::new(aws_organization::AwsOrganization::new(Arc::clone(data)))]
}
