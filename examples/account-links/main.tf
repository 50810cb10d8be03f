# Two AWS accounts linked to Datadog directly, without the StackSet.
# Keys come from DD_API_KEY / DD_APP_KEY; DD_HOST points at the sandbox's fake.

terraform {
  required_providers {
    datadog = {
      source  = "orgsync/datadog"
      version = "~> 0.1"
    }
  }
}

provider "datadog" {}

variable "accounts" {
  description = "AWS account IDs to link, with their team tag."
  type        = map(string)
  default = {
    "111111111111" = "payments"
    "222222222222" = "search"
  }
}

# Nobody registered these accounts, so each link creates the account's config:
# it sends the settings written here, role_name DatadogIntegrationRole (not
# written), and Datadog fills in its defaults for the rest. Only the written
# settings are managed.
resource "datadog_aws_account_link" "this" {
  for_each = var.accounts

  aws_account_id = each.key
  account_tags   = ["team:${each.value}", "managed-by:terraform"]
  aws_regions    = ["us-east-1", "eu-west-1"]

  metrics = {
    namespace_filters = {
      exclude_only = ["AWS/SQS", "AWS/ElasticMapReduce", "AWS/Usage"]
    }
  }
}

output "external_ids" {
  description = "The external IDs Datadog issued, for the IAM roles' trust policies."
  value       = { for k, v in datadog_aws_account_link.this : k => v.external_id }
}
