terraform {
  required_version = ">= 1.6"

  required_providers {
    # The official Datadog provider keeps the local name "datadog" (its resources
    # are datadog_monitor, datadog_dashboard, ...): see official.tf.
    datadog = { source = "DataDog/datadog", version = "~> 3.0" }

    # This provider under another local name: resources of this module say
    # `provider = ddorg`; child modules that require "orgsync/datadog" inherit it.
    ddorg = { source = "orgsync/datadog", version = "~> 0.1" }
  }
}

# orgsync/datadog: DD_API_KEY, DD_APP_KEY, DD_SITE / DD_HOST; AWS from the SDK chain.
provider "ddorg" {}
