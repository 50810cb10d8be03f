variable "organizational_unit_ids" {
  description = "Targets: the root id (r-...) or OU ids (ou-...)."
  type        = list(string)
}

variable "region" {
  description = "The one region the stack instances are deployed to, and where the forwarders run."
  type        = string
  default     = "us-east-1"
}

variable "forwarder_function_name" {
  description = "Name of the Datadog Forwarder Lambda function deployed in every account (for example by its own StackSet)."
  type        = string
  default     = "DatadogForwarder"
}

variable "log_sources" {
  description = "AWS services whose logs the forwarder collects automatically."
  type        = set(string)
  default     = ["s3", "elb", "elbv2", "cloudfront", "lambda"]
}
