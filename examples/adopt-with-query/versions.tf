terraform {
  required_version = ">= 1.14" # terraform query and .tfquery.hcl files

  required_providers {
    datadog = {
      source  = "orgsync/datadog"
      version = "~> 0.1"
    }
  }
}

provider "datadog" {}
