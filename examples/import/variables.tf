variable "stack_set_name" {
  description = "Name of the existing StackSet (created from Datadog's guide in the console or with the AWS CLI)."
  type        = string
  default     = "DatadogIntegration"
}

variable "account_ids" {
  description = "AWS account ids already in Datadog's AWS integration (registered by the StackSet's stacks, or by hand)."
  type        = set(string)

  validation {
    condition     = alltrue([for id in var.account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "account_ids must be 12-digit AWS account ids."
  }
}
