# The StackSet sets up metrics and resource collection only: it does not set up
# logs. Log forwarding is configured per account on the Datadog link, pointing at
# the Datadog Forwarder Lambda function that runs in that account.

resource "datadog_aws_org_stackset" "org" {
  name                    = "DatadogIntegration"
  region                  = var.region
  organizational_unit_ids = var.organizational_unit_ids
}

locals {
  # The forwarder in each account, in the StackSet's region.
  forwarder_arn = { for id in datadog_aws_org_stackset.org.account_ids : id => "arn:aws:lambda:${var.region}:${id}:function:${var.forwarder_function_name}" }
}

resource "datadog_aws_account_link" "account" {
  for_each = datadog_aws_org_stackset.org.account_ids

  aws_account_id     = each.key
  stack_set_revision = datadog_aws_org_stackset.org.revision

  logs = {
    lambda_forwarder = {
      lambdas = [local.forwarder_arn[each.key]]
      sources = var.log_sources
    }
  }
}
