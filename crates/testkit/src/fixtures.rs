//! Configurations and Datadog changes several end-to-end suites share, so each
//! lives once (the Terraform, OpenTofu and soak suites drive the same scenarios).

use serde_json::{json, Value};

use crate::{fake_datadog_admin, Sandbox, REQUIRED_PROVIDERS};

/// A StackSet named `name` over `ous` (sandbox variable names such as
/// `SANDBOX_ROOT_ID`, or literal ids) and one link per covered account, wired the
/// documented way (`for_each` over `account_revisions`). `head` goes before the
/// StackSet (variables), `extra` into its body, `link` into each link's body.
pub fn org_with_links(sb: &Sandbox, name: &str, ous: &[&str], head: &str, extra: &str, link: &str) -> String {
    let ous: Vec<String> = ous.iter().map(|o| format!("\"{}\"", sb.var(o).unwrap_or(o))).collect();
    format!(
        r#"{REQUIRED_PROVIDERS}
provider "datadog" {{}}
{head}
resource "datadog_aws_org_stackset" "org" {{
  name                    = "{name}"
  region                  = "us-east-1"
  organizational_unit_ids = [{}]
{extra}
}}

resource "datadog_aws_account_link" "account" {{
  for_each           = datadog_aws_org_stackset.org.account_revisions
  aws_account_id     = each.key
  stack_set_revision = each.value
{link}}}
"#,
        ous.join(", ")
    )
}

/// Changes made by hand in Datadog to account config `id` of `account`: tags,
/// regions (back to all), metrics off, a namespace filter. For drift tests.
pub fn drift_in_datadog(sb: &Sandbox, id: &str, account: &str) -> anyhow::Result<Value> {
    let drift = json!({"data": {"type": "account", "attributes": {
        "aws_account_id": account,
        "account_tags": ["team:someone-else"],
        "aws_regions": {"include_all": true},
        "metrics_config": {"enabled": false, "namespace_filters": {"exclude_only": ["AWS/EC2"]}}
    }}});
    fake_datadog_admin(sb).api("PATCH", &format!("/api/v2/integration/aws/accounts/{id}"), Some(&drift))?.ensure_success()?.json()
}
