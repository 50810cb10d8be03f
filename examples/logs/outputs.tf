output "forwarders" {
  description = "The forwarder Lambda ARN Datadog uses for each account."
  value       = { for id, link in datadog_aws_account_link.account : id => one(link.logs.lambda_forwarder.lambdas) }
}

output "link_ids" {
  description = "Datadog account config id by AWS account id."
  value       = { for id, link in datadog_aws_account_link.account : id => link.id }
}
