terraform {
  required_version = ">= 1.6"

  required_providers {
    # The caller may give this provider any local name and pass it in with
    # `providers = { datadog = <its name> }`.
    datadog = {
      source  = "orgsync/datadog"
      version = ">= 0.1.0"
    }
  }
}
