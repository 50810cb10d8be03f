variable "root_id" {
  description = "The organization's root id (r-...): the StackSet then covers every member account. Find it with `aws organizations list-roots`."
  type        = string

  validation {
    condition     = can(regex("^r-[0-9a-z]{4,32}$", var.root_id))
    error_message = "root_id must be an AWS Organizations root id such as r-ab12."
  }
}

variable "region" {
  description = "The one region the stack instances are deployed to (the template creates global IAM resources)."
  type        = string
  default     = "us-east-1"
}

variable "stack_set_name" {
  description = "Name of the StackSet."
  type        = string
  default     = "DatadogIntegration"
}

variable "include_management_account" {
  description = "Also monitor the management account, which the StackSet never deploys to, with its own stack of the template (needs the management account's credentials)."
  type        = bool
  default     = false
}
