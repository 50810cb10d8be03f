terraform {
  required_version = ">= 1.7" # for_each in import blocks

  required_providers {
    datadog = {
      source  = "orgsync/datadog"
      version = "~> 0.1"
    }
  }
}

provider "datadog" {}
