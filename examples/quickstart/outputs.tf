output "stack_set_id" {
  description = "The StackSet id."
  value       = datadog_aws_org_stackset.org.stack_set_id
}

output "stack_set_arn" {
  description = "The StackSet ARN."
  value       = datadog_aws_org_stackset.org.arn
}

output "administration_region" {
  description = "The region the StackSet lives in (every StackSet call goes there)."
  value       = datadog_aws_org_stackset.org.administration_region
}

output "account_ids" {
  description = "Member accounts with a healthy stack instance."
  value       = datadog_aws_org_stackset.org.account_ids
}

output "instance_status" {
  description = "Stack instance status by account."
  value       = { for i in datadog_aws_org_stackset.org.instances : i.account_id => i.status }
}

output "link_ids" {
  description = "Datadog account config id by AWS account id."
  value       = { for id, link in datadog_aws_account_link.account : id => link.id }
}

output "external_ids" {
  description = "External id Datadog issued, by AWS account id (the template's IAM role requires it)."
  value       = { for id, link in datadog_aws_account_link.account : id => link.external_id }
}
