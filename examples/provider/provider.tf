terraform {
  required_version = ">= 1.6"
  required_providers {
    datadog = {
      source  = "orgsync/datadog"
      version = "~> 0.1"
    }
  }
}

provider "datadog" {}

resource "datadog_aws_org_stackset" "org" {
  name                    = "DatadogIntegration"
  region                  = "us-east-1"
  organizational_unit_ids = ["r-abcd"] # the root: the whole organization
}

resource "datadog_aws_account_link" "account" {
  for_each           = datadog_aws_org_stackset.org.account_revisions # keys known at plan time
  aws_account_id     = each.key
  stack_set_revision = each.value
}
