# The official DataDog/datadog provider next to ours: everything else in Datadog
# (monitors, dashboards, ...) stays with it. Its resources use the local name
# "datadog" and need no `provider` argument.
#
# Not exercised by the tests or the sandbox (the official provider is not
# available offline): tests/e2e_examples.rs leaves this file out and drops its
# line from versions.tf.

provider "datadog" {
  # Reads DD_API_KEY, DD_APP_KEY and DD_HOST like ours.
}

resource "datadog_monitor" "integration_errors" {
  name    = "AWS integration errors in the organization"
  type    = "event-v2 alert"
  message = "Datadog cannot collect from an AWS account of the organization. @slack-platform"
  query   = "events(\"source:amazon_web_services status:error\").rollup(\"count\").by(\"aws_account\").last(\"1h\") > 0"

  tags = ["managed-by:terraform", "stack-set:${module.datadog_org.stack_set_name}"]
}

resource "datadog_monitor" "cpu" {
  for_each = module.datadog_org.account_ids

  name    = "High EC2 CPU in AWS account ${each.key}"
  type    = "metric alert"
  message = "EC2 CPU above 90% in ${each.key}."
  query   = "avg(last_15m):avg:aws.ec2.cpuutilization{aws_account:${each.key}} by {host} > 90"

  monitor_thresholds {
    critical = 90
  }

  tags = ["managed-by:terraform", "aws_account:${each.key}"]
}
