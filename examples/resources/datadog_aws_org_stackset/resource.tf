resource "datadog_aws_org_stackset" "org" {
  name                    = "DatadogIntegration"
  region                  = "us-east-1"
  organizational_unit_ids = ["r-abcd"] # the root id: the whole organization
}

resource "datadog_aws_account_link" "account" {
  for_each           = datadog_aws_org_stackset.org.account_revisions # keys known at plan time
  aws_account_id     = each.key
  stack_set_revision = each.value
}

output "covered_accounts" {
  value = datadog_aws_org_stackset.org.account_ids
}
