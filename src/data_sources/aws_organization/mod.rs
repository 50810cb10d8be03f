//! `datadog_aws_organization`: every account of the organization in one read, with
//! its OU path, the stack instance a StackSet has in it and its configuration in
//! Datadog's AWS integration.
//!
//! Cost, whatever the size of the organization: `DescribeOrganization`, `ListRoots`,
//! then per root and OU every page of `ListAccountsForParent` and
//! `ListOrganizationalUnitsForParent` (the walk the StackSet resource does, with
//! names), every page of `ListStackInstances` when a StackSet is named, and one
//! Datadog listing (shared with the link reads of the run). The four run at once;
//! nothing is called per account: the join is in memory (`view.rs`).

mod schema;
mod validate;
mod view;

use std::sync::Arc;

use async_trait::async_trait;

use crate::clients::aws::{AwsError, CallAs};
use crate::plugin::{AttrPath, CallCtx, DataSource, Diagnostics, Schema, Value};
use crate::provider::ProviderData;

use view::Found;

/// The data source.
#[derive(Debug)]
pub struct AwsOrganization {
    data: Arc<ProviderData>,
    schema: Schema,
}

impl AwsOrganization {
    /// The data source, reading through the provider's configured clients.
    #[must_use]
    pub fn new(data: Arc<ProviderData>) -> Self {
        AwsOrganization { data, schema: schema::schema() }
    }
}

#[async_trait]
impl DataSource for AwsOrganization {
    fn type_name(&self) -> &'static str {
        "datadog_aws_organization"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        validate::validate(config, diags);
    }

    async fn read(&self, ctx: &CallCtx, config: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let clients = self.data.clients(diags)?;
        let text = |name: &str| config.get_attr(name).and_then(Value::as_str).map(str::to_owned);
        let stack_set = text("stackset_name");
        let call_as = text("call_as").as_deref().and_then(CallAs::parse).unwrap_or(CallAs::SelfAccount);
        let region = match (&stack_set, text("region")) {
            (None, _) => None,
            (Some(_), Some(r)) => Some(r),
            (Some(_), None) => clients.aws_base().await.region(),
        };
        let home = clients.aws().await.clone();
        let cancel = &ctx.cancel;
        let (organization, tree, instances, datadog) = tokio::join!(
            home.organization.describe(cancel),
            home.organization.tree(cancel),
            async {
                let Some(name) = &stack_set else { return Ok(None) };
                let there = clients.aws_in(region.as_deref()).await;
                there.stack_sets.list_stack_instances(name, call_as, cancel).await.map(Some)
            },
            clients.accounts.all(clients.datadog.as_ref(), cancel),
        );
        let org_error = |e: AwsError, diags: &mut Diagnostics| {
            diags.error("Cannot read the AWS Organization", format!("{e}. The caller needs organizations:DescribeOrganization, ListRoots, ListAccountsForParent and ListOrganizationalUnitsForParent."));
        };
        let organization = organization.map_err(|e| org_error(e, diags)).ok();
        let tree = tree.map_err(|e| org_error(e, diags)).ok();
        let where_ = || format!("in {} (call_as {})", region.as_deref().unwrap_or("the provider's region"), call_as.as_str());
        let instances = match instances {
            Ok(found) => found,
            Err(AwsError::NotFound { .. }) => {
                let name = stack_set.as_deref().unwrap_or_default();
                diags.warning_at(
                    AttrPath::root("stackset_name"),
                    "StackSet not found",
                    format!("There is no StackSet {name:?} {}: every account's stack_instance is null.", where_()),
                );
                None
            }
            Err(e) => {
                let name = stack_set.as_deref().unwrap_or_default();
                diags.error("Cannot list the stack instances", format!("StackSet {name:?} {}: {e}", where_()));
                None
            }
        };
        let datadog = datadog
            .map_err(|e| diags.error("Cannot list Datadog's AWS account configurations", e.to_string()))
            .ok();
        let (organization, tree, datadog) = (organization?, tree?, datadog?);
        if diags.has_errors() {
            return None;
        }
        let found = Found { organization, tree, instances, datadog };
        Some(Value::object([
            ("stackset_name", stack_set.clone().map_or(Value::Null, Value::string)),
            ("call_as", Value::string(call_as.as_str())),
            ("region", region.clone().map_or(Value::Null, Value::string)),
            ("id", Value::string(&found.organization.id)),
            ("partition", Value::string(view::partition_of_arn(&found.organization.arn))),
            ("management_account_id", Value::string(&found.organization.management_account_id)),
            ("accounts", view::accounts(&found)),
        ]))
    }
}
