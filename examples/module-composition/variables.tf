variable "production_ou_id" {
  description = "The Production OU (ou-...)."
  type        = string
}

variable "development_ou_id" {
  description = "The Development OU (ou-...)."
  type        = string
}

variable "region" {
  description = "The one region the stack instances are deployed to."
  type        = string
  default     = "us-east-1"
}

variable "payments_account_id" {
  description = "An account that gets its own link settings (custom metrics, team tag). Null: none."
  type        = string
  default     = null
}

variable "standalone_account_ids" {
  description = "Accounts outside the organization, linked directly (no StackSet)."
  type        = set(string)
  default     = []
}
