output "stack_set_id" {
  description = "The StackSet id."
  value       = datadog_aws_org_stackset.this.stack_set_id
}

output "stack_set_name" {
  description = "The StackSet name (its import id)."
  value       = datadog_aws_org_stackset.this.id
}

output "administration_region" {
  description = "The region the StackSet lives in (every StackSet call goes there)."
  value       = datadog_aws_org_stackset.this.administration_region
}

output "account_ids" {
  description = "Accounts covered by the StackSet."
  value       = datadog_aws_org_stackset.this.account_ids
}

output "link_ids" {
  description = "Datadog account config id by AWS account id."
  value       = { for id, link in datadog_aws_account_link.account : id => link.id }
}

output "external_ids" {
  description = "External id Datadog issued, by AWS account id."
  value       = { for id, link in datadog_aws_account_link.account : id => link.external_id }
}
