//! `list "datadog_aws_org_stackset"` (`terraform query`, Terraform 1.14+): the
//! service-managed StackSets built from Datadog's template that a caller sees in one
//! region, each read as an import reads it, so `-generate-config-out` writes a block
//! that plans no change.
//!
//! AWS does not keep the URL a StackSet was created from, so "built from Datadog's
//! template" is told by its parameters: it takes Datadog's API and application keys.

use std::sync::Arc;

use async_trait::async_trait;

use super::model::Model;
use super::parameters::KEYS;
use super::schema::DEFAULT_TEMPLATE_URL;
use super::OrgStackSet;
use crate::clients::aws::{CallAs, StackSet};
use crate::plugin::{Attribute, AttrPath, Block, CallCtx, Diagnostics, ListOut, ListRequest, ListResource, Listed, Private, Schema, Type, Value};
use crate::provider::ProviderData;

/// The list resource type.
#[derive(Debug)]
pub struct OrgStackSetList {
    schema: Schema,
    data: Arc<ProviderData>,
    /// Reads each StackSet exactly as the resource's import does.
    resource: OrgStackSet,
}

impl OrgStackSetList {
    /// A list using the provider's clients.
    #[must_use]
    pub fn new(data: Arc<ProviderData>) -> Self {
        OrgStackSetList { schema: schema(), resource: OrgStackSet::new(Arc::clone(&data)), data }
    }
}

fn schema() -> Schema {
    Schema::new(Block::new(
        "Filters; every one left out lists more. Results are sorted by name.",
        vec![
            Attribute::string("call_as", "`SELF` (default: the management account) or `DELEGATED_ADMIN`.").optional(),
            Attribute::string("region", "The region to list in (StackSets live in one); default: the provider's AWS region.").optional(),
            Attribute::string("name_prefix", "Only StackSets whose name starts with this.").optional(),
            Attribute::typed(
                "datadog_template_only",
                Type::Bool,
                "Only StackSets of Datadog's template, told by its parameters (`DatadogApiKey`, `DatadogAppKey`): AWS keeps no \
                 template URL. Default `true`.",
            )
            .optional(),
        ],
    ))
}

fn text<'a>(config: &'a Value, name: &str) -> Option<&'a str> {
    config.get_attr(name).and_then(Value::as_str)
}

fn validate(config: &Value, diags: &mut Diagnostics) {
    if let Some(c) = text(config, "call_as").filter(|c| CallAs::parse(c).is_none()) {
        diags.error_at(AttrPath::root("call_as"), "Invalid call_as", format!("{c:?}: use SELF or DELEGATED_ADMIN."));
    }
    if let Some(reason) = text(config, "region").and_then(|r| crate::regions::check(r, None)) {
        diags.error_at(AttrPath::root("region"), "Invalid region", reason);
    }
}

/// Whether a StackSet takes Datadog's template's keys.
fn is_datadog_template(set: &StackSet) -> bool {
    KEYS.iter().all(|k| set.parameters.contains_key(*k))
}

#[async_trait]
impl ListResource for OrgStackSetList {
    fn type_name(&self) -> &'static str {
        "datadog_aws_org_stackset"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        validate(config, diags);
    }

    async fn list(&self, ctx: &CallCtx, req: ListRequest<'_>, out: &ListOut, diags: &mut Diagnostics) {
        let Some(clients) = self.data.clients(diags) else { return };
        let call_as = text(req.config, "call_as").and_then(CallAs::parse).unwrap_or(CallAs::SelfAccount);
        let region = text(req.config, "region").map(str::to_owned);
        let prefix = text(req.config, "name_prefix").unwrap_or_default();
        let template_only = req.config.get_attr("datadog_template_only").and_then(Value::as_bool).unwrap_or(true);
        let sets = clients.aws_in(region.as_deref()).await.stack_sets;
        let where_ = || format!("call_as {}, region {}", call_as.as_str(), region.as_deref().unwrap_or("of the provider's AWS configuration"));
        let mut names = match sets.list_stack_sets(call_as, &ctx.cancel).await {
            Ok(n) => n,
            Err(e) => {
                diags.error("Listing StackSets", format!("{} ({}): {e}", "ListStackSets", where_()));
                return;
            }
        };
        names.retain(|n| n.starts_with(prefix));
        names.sort();
        for name in names {
            if template_only {
                match sets.describe_stack_set(&name, call_as, &ctx.cancel).await {
                    Ok(set) if is_datadog_template(&set) => {}
                    Ok(_) => continue,
                    Err(e) => {
                        let mut w = Diagnostics::new();
                        w.warning(format!("StackSet {name} skipped"), format!("Reading it ({}) failed: {e}", where_()));
                        out.diagnostics(w).await;
                        continue;
                    }
                }
            }
            // What an import by `NAME,CALL_AS,REGION` starts from, then its read.
            let mut skeleton = Model::from_value(&Value::Null);
            skeleton.name.clone_from(&name);
            skeleton.call_as = call_as;
            skeleton.administration_region.clone_from(&region);
            skeleton.template_url = Some(DEFAULT_TEMPLATE_URL.to_owned());
            let state = match self.resource.refresh(&clients, skeleton, &mut Private::new(), ctx).await {
                Ok(Some(m)) => m.to_value(),
                // Deleted between the listing and the read.
                Ok(None) => continue,
                Err(e) => {
                    diags.error(format!("Reading StackSet {name}"), format!("{} ({}): {e}", name, where_()));
                    return;
                }
            };
            if !out.found(Listed { display_name: format!("StackSet {name} ({})", call_as.as_str()), state }).await {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_checked_at_their_path() {
        let config = |call_as: &str, region: &str| {
            Value::object([("call_as", Value::string(call_as)), ("region", Value::string(region)), ("name_prefix", Value::Null), ("datadog_template_only", Value::Null)])
        };
        let cases = [
            ("good", config("DELEGATED_ADMIN", "eu-west-1"), vec![]),
            ("call_as", config("ME", "eu-west-1"), vec!["call_as"]),
            ("region", config("SELF", "eu-west-9"), vec!["region"]),
        ];
        for (name, config, paths) in cases {
            let mut diags = Diagnostics::new();
            validate(&config, &mut diags);
            let got: Vec<String> = diags.0.iter().filter_map(|d| d.path.as_ref().map(|p| p.reference())).collect();
            assert_eq!(got, paths, "case {name}");
        }
    }

    #[test]
    fn datadog_s_template_is_told_by_its_key_parameters() {
        let set = |keys: &[&str]| StackSet { parameters: keys.iter().map(|k| ((*k).to_owned(), "****".to_owned())).collect(), ..StackSet::default() };
        assert!(is_datadog_template(&set(&["DatadogApiKey", "DatadogAppKey", "DatadogSite"])));
        assert!(!is_datadog_template(&set(&["DatadogApiKey"])));
        assert!(!is_datadog_template(&set(&["BucketName"])));
    }
}
