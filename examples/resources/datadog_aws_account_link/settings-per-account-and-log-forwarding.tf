resource "datadog_aws_org_stackset" "org" {
  name                    = "DatadogIntegration"
  region                  = "us-east-1"
  organizational_unit_ids = ["r-abcd"]
}

locals {
  teams = {
    "111111111111" = "payments"
    "222222222222" = "search"
  }
}

resource "datadog_aws_account_link" "account" {
  for_each           = datadog_aws_org_stackset.org.account_revisions
  aws_account_id     = each.key
  stack_set_revision = each.value

  # The whole tag set: the template's aws_account tag is kept by writing it.
  account_tags = [
    "aws_account:${each.key}",
    "team:${lookup(local.teams, each.key, "shared")}",
    "managed-by:terraform",
  ]
  aws_regions = ["us-east-1", "eu-west-1"]

  metrics = {
    collect_custom_metrics    = true
    collect_cloudwatch_alarms = true
    namespace_filters = {
      include_only = ["AWS/EC2", "AWS/Lambda", "AWS/RDS", "AWS/S3"]
    }
    tag_filters = [
      { namespace = "AWS/EC2", tags = ["env:prod", "team:*"] },
    ]
  }

  logs = {
    lambda_forwarder = {
      lambdas = ["arn:aws:lambda:us-east-1:${each.key}:function:datadog-forwarder"]
      sources = ["s3", "elb", "lambda"]
    }
  }

  traces = {
    xray_services = ["lambda", "apigateway"]
  }

  timeouts {
    create = "30m"
  }
}
