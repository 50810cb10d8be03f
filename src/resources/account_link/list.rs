//! `list "datadog_aws_account_link"` (`terraform query`, Terraform 1.14+): the AWS
//! account configs Datadog holds, each as the state importing it would give, so
//! `-generate-config-out` writes a link that plans no change.
//!
//! Filters: account ids, partition, and the accounts a StackSet has stack instances
//! in. There is no "not yet under Terraform" filter: Terraform sends a list only its
//! `config` block, never the state, so the provider cannot know what is managed.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;

use crate::clients::aws::CallAs;
use crate::clients::datadog::AccountConfig;
use crate::plugin::typed::string_items;
use crate::plugin::{Attribute, AttrPath, Block, CallCtx, Diagnostics, ListOut, ListRequest, ListResource, Listed, Schema, Value};
use crate::provider::{Clients, ProviderData};

use super::validate::is_account_id;

/// The list resource type.
#[derive(Debug)]
pub struct AccountLinkList {
    schema: Schema,
    data: Arc<ProviderData>,
}

impl AccountLinkList {
    /// A list using the provider's clients.
    #[must_use]
    pub fn new(data: Arc<ProviderData>) -> Self {
        AccountLinkList { schema: schema(), data }
    }
}

fn schema() -> Schema {
    Schema::new(Block::new(
        "Filters; every one left out lists more. Results are sorted by AWS account id.",
        vec![
            Attribute::string_set("aws_account_ids", "Only these 12-digit AWS account ids.").optional(),
            Attribute::string("aws_partition", "Only accounts of this partition: `aws`, `aws-cn` or `aws-us-gov`.").optional(),
            Attribute::string(
                "stackset_name",
                "Only accounts that this StackSet has a stack instance in (whatever the instance's status).",
            )
            .optional(),
            Attribute::string("call_as", "Whose permissions read `stackset_name`: `SELF` (default) or `DELEGATED_ADMIN`.").optional(),
            Attribute::string(
                "stackset_region",
                "The region `stackset_name` lives in (its administration region); default: the provider's AWS region.",
            )
            .optional(),
        ],
    ))
}

/// The filters of one `config` block.
#[derive(Debug, Default, PartialEq)]
struct Filters {
    account_ids: Option<BTreeSet<String>>,
    partition: Option<String>,
    stackset: Option<(String, CallAs, Option<String>)>,
}

fn text(config: &Value, name: &str) -> Option<String> {
    config.get_attr(name).and_then(Value::as_str).map(str::to_owned)
}

impl Filters {
    fn from_config(config: &Value) -> Filters {
        let call_as = text(config, "call_as").and_then(|c| CallAs::parse(&c)).unwrap_or(CallAs::SelfAccount);
        Filters {
            account_ids: config.get_attr("aws_account_ids").filter(|v| !v.is_null()).map(|v| string_items(v).into_iter().collect()),
            partition: text(config, "aws_partition"),
            stackset: text(config, "stackset_name").map(|n| (n, call_as, text(config, "stackset_region"))),
        }
    }

    fn keeps(&self, a: &AccountConfig, covered: Option<&BTreeSet<String>>) -> bool {
        let id = &a.attributes.aws_account_id;
        self.account_ids.as_ref().is_none_or(|ids| ids.contains(id))
            && self.partition.as_ref().is_none_or(|p| *p == a.attributes.aws_partition)
            && covered.is_none_or(|c| c.contains(id))
    }
}

fn validate(config: &Value, diags: &mut Diagnostics) {
    if let Some(items) = config.get_attr("aws_account_ids").and_then(Value::elements) {
        for id in items.iter().filter_map(Value::as_str).filter(|id| !is_account_id(id)) {
            diags.error_at(
                AttrPath::root("aws_account_ids"),
                "Invalid AWS account ID",
                format!("{id:?} is not an AWS account ID: use the 12 digits, e.g. \"123456789012\"."),
            );
        }
    }
    if let Some(p) = config.get_attr("aws_partition").and_then(Value::as_str).filter(|p| !crate::regions::is_partition(p)) {
        let names: Vec<_> = crate::regions::partition_names().collect();
        diags.error_at(AttrPath::root("aws_partition"), "Invalid AWS partition", format!("{p:?}: use one of {}.", names.join(", ")));
    }
    if let Some(c) = config.get_attr("call_as").and_then(Value::as_str).filter(|c| CallAs::parse(c).is_none()) {
        diags.error_at(AttrPath::root("call_as"), "Invalid call_as", format!("{c:?}: use SELF or DELEGATED_ADMIN."));
    }
    if let Some(reason) = config.get_attr("stackset_region").and_then(Value::as_str).and_then(|r| crate::regions::check(r, None)) {
        diags.error_at(AttrPath::root("stackset_region"), "Invalid region", reason);
    }
    let no_stackset = config.get_attr("stackset_name").is_none_or(Value::is_null);
    for name in ["call_as", "stackset_region"] {
        if no_stackset && config.get_attr(name).is_some_and(|v| !v.is_null()) {
            diags.error_at(AttrPath::root(name), format!("{name} without stackset_name"), format!("{name} says how to read stackset_name; set it too."));
        }
    }
}

/// The accounts the StackSet has an instance in.
async fn covered_by(clients: &Clients, (name, call_as, region): &(String, CallAs, Option<String>), ctx: &CallCtx) -> Result<BTreeSet<String>, String> {
    let sets = clients.aws_in(region.as_deref()).await.stack_sets;
    match sets.list_stack_instances(name, *call_as, &ctx.cancel).await {
        Ok(instances) => Ok(instances.into_iter().map(|i| i.account).collect()),
        Err(e) => Err(format!(
            "StackSet {name} (call_as {}, region {}): {e}",
            call_as.as_str(),
            region.as_deref().unwrap_or("of the provider's AWS configuration")
        )),
    }
}

#[async_trait]
impl ListResource for AccountLinkList {
    fn type_name(&self) -> &'static str {
        "datadog_aws_account_link"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        validate(config, diags);
    }

    async fn list(&self, ctx: &CallCtx, req: ListRequest<'_>, out: &ListOut, diags: &mut Diagnostics) {
        let Some(clients) = self.data.clients(diags) else { return };
        let filters = Filters::from_config(req.config);
        let covered = match &filters.stackset {
            Some(stackset) => match covered_by(&clients, stackset, ctx).await {
                Ok(c) => Some(c),
                Err(e) => {
                    diags.error("Listing the accounts of a StackSet", e);
                    return;
                }
            },
            None => None,
        };
        // One request for them all; the ids filter is applied here, since several
        // ids would each need their own request.
        let mut accounts = match clients.datadog.list_accounts(None, &ctx.cancel).await {
            Ok(a) => a,
            Err(e) => {
                diags.error("Listing Datadog AWS account configs", format!("Datadog answered: {e}"));
                return;
            }
        };
        accounts.retain(|a| filters.keeps(a, covered.as_ref()));
        accounts.sort_by(|a, b| (&a.attributes.aws_account_id, &a.attributes.aws_partition).cmp(&(&b.attributes.aws_account_id, &b.attributes.aws_partition)));
        for remote in accounts {
            let display_name = format!("AWS account {} ({})", remote.attributes.aws_account_id, remote.attributes.aws_partition);
            if !out.found(Listed { display_name, state: super::imported_then_read(&remote) }).await {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(attrs: &[(&str, Value)]) -> Value {
        let names = ["aws_account_ids", "aws_partition", "stackset_name", "call_as", "stackset_region"];
        Value::object(names.map(|n| (n, attrs.iter().find(|(a, _)| *a == n).map_or(Value::Null, |(_, v)| v.clone()))))
    }

    #[test]
    fn filters_are_checked_at_their_path_before_any_call() {
        let s = Value::string;
        let cases = [
            ("none", config(&[]), vec![]),
            ("good", config(&[("aws_account_ids", Value::set([s("111122223333")])), ("aws_partition", s("aws")), ("stackset_name", s("X")), ("call_as", s("DELEGATED_ADMIN")), ("stackset_region", s("eu-west-1"))]), vec![]),
            ("unknown", config(&[("aws_account_ids", Value::Unknown), ("stackset_name", Value::Unknown)]), vec![]),
            ("short id", config(&[("aws_account_ids", Value::set([s("1234")]))]), vec!["aws_account_ids"]),
            ("partition", config(&[("aws_partition", s("aws-moon"))]), vec!["aws_partition"]),
            ("call_as", config(&[("stackset_name", s("X")), ("call_as", s("ME"))]), vec!["call_as"]),
            ("region", config(&[("stackset_name", s("X")), ("stackset_region", s("us-east-9"))]), vec!["stackset_region"]),
            ("no stackset", config(&[("call_as", s("SELF")), ("stackset_region", s("us-east-1"))]), vec!["call_as", "stackset_region"]),
        ];
        for (name, config, paths) in cases {
            let mut diags = Diagnostics::new();
            validate(&config, &mut diags);
            let got: Vec<String> = diags.0.iter().filter_map(|d| d.path.as_ref().map(|p| p.reference())).collect();
            assert_eq!(got, paths, "case {name}");
        }
    }

    #[test]
    fn filters_keep_only_what_they_name() {
        let account = |id: &str, partition: &str| {
            let json = serde_json::json!({"id": "u", "attributes": {"aws_account_id": id, "aws_partition": partition}});
            serde_json::from_value::<AccountConfig>(json).expect("an account config")
        };
        let covered: BTreeSet<String> = ["111122223333".to_owned()].into();
        let ids = Value::set([Value::string("111122223333")]);
        let cases = [
            ("no filter", config(&[]), None, ("444455556666", "aws"), true),
            ("id kept", config(&[("aws_account_ids", ids.clone())]), None, ("111122223333", "aws"), true),
            ("id dropped", config(&[("aws_account_ids", ids)]), None, ("444455556666", "aws"), false),
            ("partition dropped", config(&[("aws_partition", Value::string("aws-cn"))]), None, ("111122223333", "aws"), false),
            ("covered", config(&[]), Some(&covered), ("111122223333", "aws"), true),
            ("not covered", config(&[]), Some(&covered), ("444455556666", "aws"), false),
        ];
        for (name, config, covered, (id, partition), kept) in cases {
            assert_eq!(Filters::from_config(&config).keeps(&account(id, partition), covered), kept, "case {name}");
        }
    }
}
