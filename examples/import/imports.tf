# Adopt what exists instead of creating it. Run
#
#   terraform plan -generate-config-out=generated.tf
#
# Terraform writes the StackSet's configuration, as read from AWS, to generated.tf;
# review it, then `terraform apply` imports everything and the next plan is empty.

# The StackSet, by name ("NAME,DELEGATED_ADMIN" when it was created by a delegated
# administrator; "NAME,SELF,REGION" or "NAME,DELEGATED_ADMIN,REGION" when it lives
# in another region than this run's AWS region). Its resource block is generated.
import {
  to = datadog_aws_org_stackset.org
  id = var.stack_set_name
}

# Each account's Datadog link, by AWS account id (a Datadog account config UUID
# works too). Terraform does not generate configuration for `for_each` imports,
# so the resource block is written below.
import {
  for_each = var.account_ids

  to = datadog_aws_account_link.account[each.key]
  id = each.key
}

# It writes no setting, so the links manage none: each keeps the settings
# Datadog holds, and importing changes nothing in Datadog.
resource "datadog_aws_account_link" "account" {
  for_each = var.account_ids

  aws_account_id = each.key
  # Once generated.tf is in place you may wire the links to the StackSet:
  #   for_each           = datadog_aws_org_stackset.org.account_revisions
  #   stack_set_revision = each.value
}
