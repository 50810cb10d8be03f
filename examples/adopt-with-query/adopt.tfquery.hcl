# Read by `terraform query` only (Terraform 1.14+); plan and apply ignore this file.

# The StackSets made from Datadog's template, in the provider's AWS region.
list "datadog_aws_org_stackset" "org" {
  provider = datadog
}

# The accounts that StackSet has a stack instance in, as Datadog holds them.
list "datadog_aws_account_link" "account" {
  provider = datadog
  limit    = 5000 # Terraform reads at most 100 results unless told more

  config {
    stackset_name = "DatadogIntegration"
  }
}
