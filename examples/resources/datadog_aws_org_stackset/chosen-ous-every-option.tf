variable "template_api_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "template_app_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "datadog_aws_org_stackset" "production" {
  name                    = "DatadogIntegration-production"
  description             = "Datadog AWS integration, production OUs"
  region                  = "eu-west-1"
  organizational_unit_ids = ["ou-abcd-11111111", "ou-abcd-22222222"] # child OUs are included

  datadog_site                      = "datadoghq.eu"
  iam_role_name                     = "DatadogIntegrationRole"
  cloud_security_posture_management = true  # CSM Misconfigurations
  disable_metric_collection         = false # true for CCM- or CSM-only use
  disable_resource_collection       = false

  # Keys for the template, never stored. Bump keys_revision to send new ones.
  datadog_api_key_wo = var.template_api_key
  datadog_app_key_wo = var.template_app_key
  keys_revision      = "2025-06"

  auto_deployment = {
    enabled                          = true
    retain_stacks_on_account_removal = false
  }
  managed_execution = false # "Inactive" in the guide: one operation at a time

  operation_preferences = {
    region_concurrency_type = "SEQUENTIAL"
    failure_tolerance_count = 2
    max_concurrent_count    = 3
  }

  tags = {
    team = "observability"
  }

  timeouts {
    create = "3h"
    update = "3h"
    delete = "1h"
  }
}
