data "datadog_aws_organization" "org" {}

output "accounts_by_ou" {
  value = { for a in data.datadog_aws_organization.org.accounts : a.ou_path => a.id... }
}
