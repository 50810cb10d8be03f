terraform {
  required_version = ">= 1.6"

  required_providers {
    datadog = {
      source  = "orgsync/datadog"
      version = "~> 0.1"
    }
  }
}

# Datadog: DD_API_KEY, DD_APP_KEY, DD_SITE (or DD_HOST). AWS: the SDK's standard
# chain, as the management account (AWS_PROFILE, AWS_REGION, SSO, ...).
provider "datadog" {}
