# Datadog's multi-account guide, as written: one service-managed StackSet over the
# whole organization, then one Datadog account link per member account.

resource "datadog_aws_org_stackset" "org" {
  name                    = var.stack_set_name
  region                  = var.region
  organizational_unit_ids = [var.root_id] # the root: every account of the organization

  # The guide's deployment options.
  managed_execution = false # "Inactive": one operation at a time
  auto_deployment = {
    enabled                          = true # accounts that join the organization later get a stack too
    retain_stacks_on_account_removal = false
  }
  operation_preferences = {
    region_concurrency_type = "SEQUENTIAL"
  }
}

# account_ids is known at plan time (the active member accounts under the
# targets), so a first apply from an empty state creates every link at once.
resource "datadog_aws_account_link" "account" {
  for_each = datadog_aws_org_stackset.org.account_ids

  aws_account_id = each.key
  # A new revision (any StackSet update) makes each link send its settings again.
  stack_set_revision = datadog_aws_org_stackset.org.revision
}
