//! The `datadog_aws_account_link` schema, with Datadog's own defaults as plan defaults
//! so an account created elsewhere (e.g. by the StackSet template) plans no diff.

use crate::plugin::plan::object;
use crate::plugin::{Attribute, Block, NestedBlock, Nesting, Schema, Value};

/// The IAM role name Datadog's template creates.
pub(super) const DEFAULT_ROLE_NAME: &str = "DatadogIntegrationRole";
/// The namespaces Datadog excludes when nothing else is said, as the API fills them in.
pub(super) const DEFAULT_EXCLUDED_NAMESPACES: &[&str] = &["AWS/SQS", "AWS/ElasticMapReduce"];

fn s(v: &str) -> Value {
    Value::String(v.to_owned())
}

fn set_of(items: &[&str]) -> Value {
    Value::Set(items.iter().map(|i| s(i)).collect())
}

fn empty_set() -> Value {
    Value::Set(Vec::new())
}

pub(super) fn default_namespace_filters() -> Value {
    object([("exclude_only", set_of(DEFAULT_EXCLUDED_NAMESPACES)), ("include_only", Value::Null)])
}

pub(super) fn default_metrics() -> Value {
    object([
        ("enabled", Value::Bool(true)),
        ("automute", Value::Bool(true)),
        ("collect_cloudwatch_alarms", Value::Bool(false)),
        ("collect_custom_metrics", Value::Bool(false)),
        ("namespace_filters", default_namespace_filters()),
        ("tag_filters", empty_set()),
    ])
}

pub(super) fn default_resources() -> Value {
    object([("cloud_security_posture_management", Value::Bool(false)), ("extended_collection", Value::Bool(true))])
}

pub(super) fn default_lambda_forwarder() -> Value {
    object([("lambdas", empty_set()), ("sources", empty_set())])
}

pub(super) fn default_logs() -> Value {
    object([("lambda_forwarder", default_lambda_forwarder())])
}

pub(super) fn default_traces() -> Value {
    object([("xray_services", empty_set())])
}

/// The resource schema.
pub(super) fn schema() -> Schema {
    let metrics = Attribute::nested(
        "metrics",
        Nesting::Single,
        vec![
            Attribute::bool("enabled", "Collect CloudWatch metrics. Default `true`.").default(Value::Bool(true)),
            Attribute::bool("automute", "Mute monitors of hosts that AWS stopped on purpose. Default `true`.").default(Value::Bool(true)),
            Attribute::bool("collect_cloudwatch_alarms", "Collect CloudWatch alarms as Datadog events. Default `false`.").default(Value::Bool(false)),
            Attribute::bool("collect_custom_metrics", "Collect custom CloudWatch metrics. Default `false`.").default(Value::Bool(false)),
            Attribute::nested(
                "namespace_filters",
                Nesting::Single,
                vec![
                    Attribute::string_set("include_only", "Collect only these namespaces, e.g. `AWS/EC2`. Conflicts with `exclude_only`.").optional(),
                    Attribute::string_set("exclude_only", "Collect every namespace but these. Conflicts with `include_only`.").optional(),
                ],
                "Which CloudWatch namespaces to collect: exactly one of `include_only` or `exclude_only`. \
                 Default: exclude `AWS/SQS` and `AWS/ElasticMapReduce`, as Datadog does.",
            )
            .default(default_namespace_filters()),
            Attribute::nested(
                "tag_filters",
                Nesting::Set,
                vec![
                    Attribute::string("namespace", "The namespace, e.g. `AWS/EC2`.").required(),
                    Attribute::string_set("tags", "`key:value` patterns a resource must carry to be collected.").optional(),
                ],
                "Collect a namespace's resources only when they carry these tags.",
            )
            .default(empty_set()),
        ],
        "Metric collection. Defaults to Datadog's own defaults.",
    )
    .default(default_metrics());

    let resources = Attribute::nested(
        "resources",
        Nesting::Single,
        vec![
            Attribute::bool("cloud_security_posture_management", "Collect resources for Cloud Security Posture Management (CSM Misconfigurations). Needs `extended_collection`. Default `false`.")
                .default(Value::Bool(false)),
            Attribute::bool("extended_collection", "Collect resources (extended resource collection). Default `true`.").default(Value::Bool(true)),
        ],
        "Resource collection.",
    )
    .default(default_resources());

    let logs = Attribute::nested(
        "logs",
        Nesting::Single,
        vec![Attribute::nested(
            "lambda_forwarder",
            Nesting::Single,
            vec![
                Attribute::string_set("lambdas", "ARNs of Datadog Forwarder Lambda functions.").default(empty_set()),
                Attribute::string_set("sources", "AWS services whose logs the forwarder collects, e.g. `s3`, `elb`.").default(empty_set()),
            ],
            "The Datadog Forwarder Lambda.",
        )
        .default(default_lambda_forwarder())],
        "Log forwarding. The StackSet does not set up logs; configure a forwarder here.",
    )
    .default(default_logs());

    let traces = Attribute::nested(
        "traces",
        Nesting::Single,
        vec![Attribute::string_set("xray_services", "AWS X-Ray services to collect traces of. Default none.").default(empty_set())],
        "X-Ray trace collection.",
    )
    .default(default_traces());

    let timeouts = Block::new(
        "How long each operation may take, as durations such as `20m`.",
        vec![
            Attribute::string("create", "Default `20m` (includes `wait_for_registration`).").optional(),
            Attribute::string("update", "Default `10m`.").optional(),
            Attribute::string("delete", "Default `10m`.").optional(),
            Attribute::string("read", "Default `5m`.").optional(),
        ],
    );

    let block = Block::new(
        "One AWS account's integration in Datadog (AWS integration v2). When the account was already registered \
         (for example by the Datadog StackSet's own stack), it is adopted rather than duplicated.",
        vec![
            Attribute::string("id", "The Datadog account config UUID.").computed().use_state_for_unknown(),
            Attribute::string("aws_account_id", "The 12-digit AWS account ID. Changing it replaces the link.").required().requires_replace(),
            Attribute::string("aws_partition", "`aws`, `aws-cn` or `aws-us-gov`. Default `aws`. Changing it replaces the link.")
                .default(s("aws"))
                .requires_replace(),
            Attribute::string("role_name", "The IAM role Datadog assumes in the account. Default `DatadogIntegrationRole`, the StackSet template's.")
                .default(s(DEFAULT_ROLE_NAME)),
            Attribute::string_set("account_tags", "`key:value` tags added to every metric of the account. Left unset, the tags in Datadog are kept as they are.")
                .optional()
                .computed()
                .use_state_for_unknown(),
            Attribute::string_set("aws_regions", "Regions to collect from. Unset means all regions.").optional(),
            metrics,
            resources,
            logs,
            traces,
            Attribute::bool(
                "adopt_existing",
                "Adopt the account when Datadog already has it (the StackSet template registers each account it deploys to), \
                 instead of failing on a duplicate. Default `true`.",
            )
            .default(Value::Bool(true)),
            Attribute::string(
                "wait_for_registration",
                "How long to wait for the account to appear in Datadog (registered by the StackSet's stack) before creating it, \
                 e.g. `10m`. Default `0s`: create at once when absent.",
            )
            .default(s("0s")),
            Attribute::string(
                "stack_set_revision",
                "Wire to `datadog_aws_org_stackset.<name>.revision`: every StackSet update re-applies the template's settings to \
                 each account in Datadog, and a new revision makes this link send its full settings again in the same apply.",
            )
            .optional(),
            Attribute::string("external_id", "The external ID Datadog issued for this account; the IAM role's trust policy must require it.").computed().use_state_for_unknown(),
            Attribute::string("role_arn", "ARN of the IAM role Datadog assumes.").computed(),
        ],
    )
    .with_block(NestedBlock::new("timeouts", Nesting::Single, timeouts));
    Schema::new(block)
}
