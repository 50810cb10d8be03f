output "stack_set_id" {
  description = "The StackSet id."
  value       = module.datadog_org.stack_set_id
}

output "account_ids" {
  description = "Accounts covered by the StackSet."
  value       = module.datadog_org.account_ids
}

output "link_ids" {
  description = "Datadog account config id by AWS account id (organization and standalone accounts)."
  value = merge(
    module.datadog_org.link_ids,
    { for id, link in datadog_aws_account_link.standalone : id => link.id },
  )
}
