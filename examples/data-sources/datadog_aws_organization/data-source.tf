resource "datadog_aws_org_stackset" "org" {
  name                    = "DatadogIntegration"
  region                  = "us-east-1"
  organizational_unit_ids = ["r-abcd"]
}

# Read after the StackSet is applied (it references it), so the instances are there.
data "datadog_aws_organization" "org" {
  stackset_name = datadog_aws_org_stackset.org.name
  region        = datadog_aws_org_stackset.org.administration_region
}

output "not_covered" {
  description = "Active member accounts without a healthy stack instance."
  value = [
    for a in data.datadog_aws_organization.org.accounts : a.id
    if a.status == "ACTIVE" && !a.management && try(a.stack_instance.detailed_status, "") != "SUCCEEDED"
  ]
}

output "not_in_datadog" {
  description = "Active accounts Datadog's AWS integration does not have."
  value       = [for a in data.datadog_aws_organization.org.accounts : a.id if a.status == "ACTIVE" && a.datadog == null]
}

output "ou_paths" {
  value = { for a in data.datadog_aws_organization.org.accounts : a.id => a.ou_path }
}
