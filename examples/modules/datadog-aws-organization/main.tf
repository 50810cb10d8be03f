resource "datadog_aws_org_stackset" "this" {
  name                    = var.name
  region                  = var.region
  organizational_unit_ids = var.organizational_unit_ids
  call_as                 = var.call_as

  cloud_security_posture_management = var.cloud_security_posture_management
  disable_metric_collection         = var.disable_metric_collection
  disable_resource_collection       = var.disable_resource_collection
  tags                              = length(var.tags) > 0 ? var.tags : null

  auto_deployment = {
    enabled                          = var.auto_deployment
    retain_stacks_on_account_removal = false
  }
}

locals {
  o = var.account_overrides
}

# One link per covered account, re-sending its settings only when that account's
# stack rewrites its registration. Every value below may be null: a null setting
# is not managed, and Datadog keeps what the account's stack registered (the
# StackSet's parameters above) or what was set by hand.
resource "datadog_aws_account_link" "account" {
  for_each = datadog_aws_org_stackset.this.account_revisions

  aws_account_id     = each.key
  stack_set_revision = each.value

  # The account's override when it sets one, else the module-wide value. try():
  # an account without an override, or with neither value set.
  account_tags = try(coalesce(local.o[each.key].account_tags, var.account_tags), var.account_tags)
  aws_regions  = try(local.o[each.key].aws_regions, null)

  # metrics.enabled is written only by an override: the StackSet's
  # disable_metric_collection already sets it for every account.
  metrics = {
    enabled                   = try(local.o[each.key].metrics.enabled, null)
    automute                  = try(local.o[each.key].metrics.automute, null)
    collect_cloudwatch_alarms = try(local.o[each.key].metrics.collect_cloudwatch_alarms, null)
    collect_custom_metrics    = try(coalesce(local.o[each.key].metrics.collect_custom_metrics, var.collect_custom_metrics), var.collect_custom_metrics)
  }
}
