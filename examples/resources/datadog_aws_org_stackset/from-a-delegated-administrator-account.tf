resource "datadog_aws_org_stackset" "org" {
  name                    = "DatadogIntegration"
  region                  = "us-east-1"
  organizational_unit_ids = ["r-abcd"]
  call_as                 = "DELEGATED_ADMIN"
}
