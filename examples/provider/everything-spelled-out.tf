variable "datadog_api_key" {
  type      = string
  sensitive = true
}

variable "datadog_app_key" {
  type      = string
  sensitive = true
}

provider "datadog" {
  api_key            = var.datadog_api_key
  app_key            = var.datadog_app_key
  site               = "datadoghq.eu"
  validate           = true
  retry_max_attempts = 8
  retry_max_backoff  = "45s"

  aws {
    region  = "eu-west-1" # where the StackSet lives (its administration region)
    profile = "org-admin"

    assume_role {
      role_arn     = "arn:aws:iam::123456789012:role/DatadogStackSetAdmin"
      session_name = "terraform-datadog"
    }
  }
}
