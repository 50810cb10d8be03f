# The StackSet managed from a delegated administrator account instead of the
# management account: call_as = "DELEGATED_ADMIN" on every StackSet call, with
# the provider's credentials coming from an assumed role in that account.

resource "datadog_aws_org_stackset" "org" {
  name                    = var.stack_set_name
  region                  = var.region
  organizational_unit_ids = var.organizational_unit_ids
  call_as                 = "DELEGATED_ADMIN" # changing it later replaces the StackSet
}

# One link per covered account; each adopts the registration its stack made and,
# writing no setting, changes nothing in Datadog.
resource "datadog_aws_account_link" "account" {
  for_each = datadog_aws_org_stackset.org.account_revisions

  aws_account_id     = each.key
  stack_set_revision = each.value
}
