# Datadog's multi-account guide, as written: one service-managed StackSet over the
# whole organization, then one Datadog account link per member account.

resource "datadog_aws_org_stackset" "org" {
  name                    = var.stack_set_name
  region                  = var.region
  organizational_unit_ids = [var.root_id] # the root: every account of the organization

  # Beyond the guide: StackSets never reach the management account; this deploys
  # the same template there as an ordinary stack, so a link covers it too.
  include_management_account = var.include_management_account

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

# One link per covered account. The keys of account_revisions (the account ids)
# are known at plan time, so a first apply from an empty state creates every link
# at once. Each value changes only when that account's stack rewrites its Datadog
# registration, so an account joining later plans one new link and nothing else.
#
# The links write no setting: each adopts the registration its stack made and
# changes nothing in Datadog (the StackSet's parameters decide). Write a setting
# here (account_tags, metrics, logs, ...) to manage it on every account.
resource "datadog_aws_account_link" "account" {
  for_each = datadog_aws_org_stackset.org.account_revisions

  aws_account_id     = each.key
  stack_set_revision = each.value
}

# The organization at a glance: every account with its OU, its stack instance and
# whether Datadog has it, in one read (a few AWS calls per page of each listing and
# one Datadog request, however many accounts). It references the StackSet and waits
# for the links, so it is read after they are applied; on a plan with no change to
# them, during the plan.
data "datadog_aws_organization" "org" {
  stackset_name = datadog_aws_org_stackset.org.name
  region        = datadog_aws_org_stackset.org.administration_region

  depends_on = [datadog_aws_account_link.account]
}
