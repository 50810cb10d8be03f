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
  # Per-account values: the account's override when it sets one, else the module-wide value.
  o = var.account_overrides
}

resource "datadog_aws_account_link" "account" {
  for_each = datadog_aws_org_stackset.this.account_ids

  aws_account_id     = each.key
  stack_set_revision = datadog_aws_org_stackset.this.revision

  # try(): an account without an override, or with neither value set.
  account_tags = try(coalesce(local.o[each.key].account_tags, var.account_tags), var.account_tags)
  aws_regions  = try(local.o[each.key].aws_regions, null)

  metrics = {
    enabled                   = coalesce(try(local.o[each.key].metrics.enabled, null), !var.disable_metric_collection)
    automute                  = coalesce(try(local.o[each.key].metrics.automute, null), true)
    collect_cloudwatch_alarms = coalesce(try(local.o[each.key].metrics.collect_cloudwatch_alarms, null), false)
    collect_custom_metrics    = coalesce(try(local.o[each.key].metrics.collect_custom_metrics, null), var.collect_custom_metrics)
  }

  resources = {
    cloud_security_posture_management = var.cloud_security_posture_management
    extended_collection               = !var.disable_resource_collection
  }
}
