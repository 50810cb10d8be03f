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
