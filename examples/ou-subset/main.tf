# Two OUs only, for Cloud Security Posture Management without metrics: the
# template registers each account with CSPM on and metric collection off.

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
  for_each = datadog_aws_org_stackset.security.account_revisions

  aws_account_id     = each.key
  stack_set_revision = each.value

  # No metrics or resources here: a link manages only the settings it writes, and
  # the StackSet's parameters above already registered every account with metrics
  # off and CSPM on. Repeating them would only be a second place to change them.
  #
  # Written tags replace the account's whole tag set, so the template's own
  # aws_account tag is written too.
  account_tags = ["aws_account:${each.key}", "datadog-use:cspm"]
}
