variable "role_arn" {
  description = "Role to assume in the delegated administrator account (registered with `aws organizations register-delegated-administrator --service-principal member.org.stacksets.cloudformation.amazonaws.com`)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.role_arn))
    error_message = "role_arn must be an IAM role ARN such as arn:aws:iam::111122223333:role/StackSetsAdmin."
  }
}

variable "organizational_unit_ids" {
  description = "Targets: the root id (r-...) for the whole organization, or OU ids (ou-...)."
  type        = list(string)
}

variable "region" {
  description = "Region of the StackSet calls and of the stack instances."
  type        = string
  default     = "us-east-1"
}

variable "stack_set_name" {
  description = "Name of the StackSet."
  type        = string
  default     = "DatadogIntegration"
}
