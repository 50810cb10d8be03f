variable "organizational_unit_ids" {
  description = "The OUs to cover (ou-...), e.g. Production and Development. Each includes its child OUs."
  type        = list(string)

  validation {
    condition     = length(var.organizational_unit_ids) > 0 && alltrue([for id in var.organizational_unit_ids : can(regex("^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$", id))])
    error_message = "organizational_unit_ids must list OU ids such as ou-ab12-cd34ef56."
  }
}

variable "region" {
  description = "The one region the stack instances are deployed to."
  type        = string
  default     = "us-east-1"
}

variable "stack_set_name" {
  description = "Name of the StackSet."
  type        = string
  default     = "DatadogSecurity"
}
