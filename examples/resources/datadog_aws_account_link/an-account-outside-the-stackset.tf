resource "datadog_aws_account_link" "management" {
  aws_account_id  = "123456789012"
  role_name       = "DatadogIntegrationRole" # what an unwritten role_name sends on create, too
  account_tags    = ["aws_account:123456789012"]
  all_aws_regions = true
}

output "management_external_id" {
  value = datadog_aws_account_link.management.external_id
}

output "management_role_arn" {
  value = datadog_aws_account_link.management.role_arn
}
