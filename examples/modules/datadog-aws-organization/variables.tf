variable "name" {
  description = "Name of the StackSet."
  type        = string
  default     = "DatadogIntegration"
}

variable "organizational_unit_ids" {
  description = "Targets: the root id (r-...) for the whole organization, or OU ids (ou-...), which include their child OUs."
  type        = list(string)
}

variable "region" {
  description = "The one region the stack instances are deployed to."
  type        = string
  default     = "us-east-1"
}

variable "call_as" {
  description = "SELF (management account) or DELEGATED_ADMIN."
  type        = string
  default     = "SELF"
}

variable "auto_deployment" {
  description = "Deploy to accounts that join a targeted OU later."
  type        = bool
  default     = true
}

variable "cloud_security_posture_management" {
  description = "Template parameter: CSM Misconfigurations (needs resource collection). Every account's stack registers it; the links leave it alone."
  type        = bool
  default     = false
}

variable "disable_metric_collection" {
  description = "Template parameter: turn CloudWatch metric collection off (e.g. for CSPM-only use). Every account's stack registers it; a link writes metrics.enabled only when account_overrides sets it."
  type        = bool
  default     = false
}

variable "disable_resource_collection" {
  description = "Template parameter: turn resource collection off. Every account's stack registers it; the links leave it alone."
  type        = bool
  default     = false
}

variable "tags" {
  description = "StackSet tags, propagated to the stacks."
  type        = map(string)
  default     = {}
}

variable "account_tags" {
  description = "Datadog tags for every linked account, replacing the account's whole tag set (the template's is aws_account:<id>). Null: not managed, Datadog keeps what it has."
  type        = list(string)
  default     = null
}

variable "collect_custom_metrics" {
  description = "Collect custom CloudWatch metrics in every account, unless overridden. Null: not managed, Datadog keeps what it has."
  type        = bool
  default     = null
}

variable "account_overrides" {
  description = "Per-account settings of the Datadog link, by AWS account id. Unset fields take the module-wide values; a setting null in both is not managed."
  type = map(object({
    account_tags = optional(list(string))
    aws_regions  = optional(list(string))
    metrics = optional(object({
      enabled                   = optional(bool)
      automute                  = optional(bool)
      collect_cloudwatch_alarms = optional(bool)
      collect_custom_metrics    = optional(bool)
    }))
  }))
  default = {}
}
