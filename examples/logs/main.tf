# The StackSet sets up metrics and resource collection only: it does not set up
# logs. Log forwarding is configured per account on the Datadog link, pointing at
# the Datadog Forwarder Lambda function that runs in that account.

resource "datadog_aws_org_stackset" "org" {
  name                    = "DatadogIntegration"
  region                  = var.region
  organizational_unit_ids = var.organizational_unit_ids
}

# Each link writes only the forwarder: the rest of each account's settings stay
# as its stack registered them (the StackSet's parameters).
resource "datadog_aws_account_link" "account" {
  for_each = datadog_aws_org_stackset.org.account_revisions

  aws_account_id     = each.key
  stack_set_revision = each.value

  logs = {
    lambda_forwarder = {
      # The forwarder in each account, in the StackSet's region.
      lambdas = ["arn:aws:lambda:${var.region}:${each.key}:function:${var.forwarder_function_name}"]
      sources = var.log_sources
    }
  }
}
