output "account_ids" {
  description = "Accounts covered: those of the chosen OUs and their child OUs."
  value       = datadog_aws_org_stackset.security.account_ids
}

output "instances" {
  description = "Stack instance status and OU by account."
  value = {
    for i in datadog_aws_org_stackset.security.instances : i.account_id => {
      status                 = i.status
      organizational_unit_id = i.organizational_unit_id
    }
  }
}

output "link_ids" {
  description = "Datadog account config id by AWS account id."
  value       = { for id, link in datadog_aws_account_link.account : id => link.id }
}
