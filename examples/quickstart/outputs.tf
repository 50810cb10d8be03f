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

output "organization" {
  description = "Every account of the organization: name, status, OU path, stack instance status and Datadog config id (null: not there)."
  value = {
    for a in data.datadog_aws_organization.org.accounts : a.id => {
      name              = a.name
      status            = a.status
      management        = a.management
      ou_path           = a.ou_path
      stack_instance    = a.stack_instance == null ? null : a.stack_instance.status
      detailed_status   = a.stack_instance == null ? null : a.stack_instance.detailed_status
      datadog_config_id = a.datadog == null ? null : a.datadog.config_id
    }
  }
}

output "accounts_not_covered" {
  description = "Active member accounts without a healthy stack instance (the management account never gets one)."
  value = [
    for a in data.datadog_aws_organization.org.accounts : a.id
    if a.status == "ACTIVE" && !a.management && (a.stack_instance == null ? "" : a.stack_instance.detailed_status) != "SUCCEEDED"
  ]
}

output "accounts_not_in_datadog" {
  description = "Active accounts Datadog's AWS integration does not have yet (the management account until it is linked)."
  value       = [for a in data.datadog_aws_organization.org.accounts : a.id if a.status == "ACTIVE" && a.datadog == null]
}
