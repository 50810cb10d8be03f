# Two OUs only, for Cloud Security Posture Management without metrics: the
# template registers each account with CSPM on and metric collection off, and
# the links keep Datadog that way.

resource "datadog_aws_org_stackset" "security" {
  name                    = var.stack_set_name
  region                  = var.region
  organizational_unit_ids = var.organizational_unit_ids

  cloud_security_posture_management = true # needs resource collection (left on)
  disable_metric_collection         = true

  tags = {
    purpose = "datadog-cspm"
  }
}

resource "datadog_aws_account_link" "account" {
  for_each = datadog_aws_org_stackset.security.account_ids

  aws_account_id     = each.key
  stack_set_revision = datadog_aws_org_stackset.security.revision
  account_tags       = ["datadog-use:cspm"]

  # The same choices as the StackSet's parameters, so the link does not undo them.
  metrics = {
    enabled = false
  }
  resources = {
    cloud_security_posture_management = true
    extended_collection               = true
  }
}
