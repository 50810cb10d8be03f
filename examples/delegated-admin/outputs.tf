output "stack_set_arn" {
  description = "The StackSet ARN (in the delegated administrator's namespace)."
  value       = datadog_aws_org_stackset.org.arn
}

output "account_ids" {
  description = "Accounts covered."
  value       = datadog_aws_org_stackset.org.account_ids
}

output "link_ids" {
  description = "Datadog account config id by AWS account id."
  value       = { for id, link in datadog_aws_account_link.account : id => link.id }
}
