terraform {
  required_version = ">= 1.6"

  required_providers {
    datadog = {
      source  = "orgsync/datadog"
      version = "~> 0.1"
    }
  }
}

# Run from anywhere with credentials that may assume var.role_arn, a role in the
# delegated administrator account for CloudFormation StackSets.
provider "datadog" {
  aws {
    region = var.region

    assume_role {
      role_arn     = var.role_arn
      session_name = "terraform-datadog-org"
    }
  }
}
