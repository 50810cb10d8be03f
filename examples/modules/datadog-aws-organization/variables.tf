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
  description = "CSM Misconfigurations (needs resource collection)."
  type        = bool
  default     = false
}

variable "disable_metric_collection" {
  description = "Turn CloudWatch metric collection off (e.g. for CSPM-only use). Links follow unless overridden per account."
  type        = bool
  default     = false
}

variable "disable_resource_collection" {
  description = "Turn resource collection off."
  type        = bool
  default     = false
}

variable "tags" {
  description = "StackSet tags, propagated to the stacks."
  type        = map(string)
  default     = {}
}

variable "account_tags" {
  description = "Datadog tags for every linked account (null: keep whatever Datadog has)."
  type        = list(string)
  default     = null
}

variable "collect_custom_metrics" {
  description = "Collect custom CloudWatch metrics in every account, unless overridden."
  type        = bool
  default     = false
}

variable "account_overrides" {
  description = "Per-account settings of the Datadog link, by AWS account id. Unset fields take the module-wide values."
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
