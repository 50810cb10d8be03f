//! The `datadog_aws_account_link` schema.
//!
//! Every Datadog setting is optional and computed, with no default: a setting the
//! configuration leaves out is not managed. It reads back as whatever Datadog holds
//! (the StackSet template's values, Datadog's own defaults, or settings made by hand)
//! and is never sent, so it can never show a diff or overwrite the organization's
//! choice. A setting the configuration writes is managed fully: sent, checked for
//! drift at plan, repaired at apply.

use crate::plugin::{Attribute, Block, IdentityAttribute, IdentitySchema, NestedBlock, Nesting, Schema, Type, Value};

/// The IAM role name Datadog's template creates: what a link that registers the
/// account itself (nobody registered it before) sends when `role_name` is not set.
pub(super) const DEFAULT_ROLE_NAME: &str = "DatadogIntegrationRole";

fn s(v: &str) -> Value {
    Value::String(v.to_owned())
}

/// An unmanaged-unless-written setting: optional, computed, kept from state when
/// another setting changes (only what is written is sent).
fn setting(a: Attribute) -> Attribute {
    a.optional().computed().use_state_for_unknown()
}

/// The resource schema.
/// The link's identity: the AWS account it integrates (and its partition).
pub(super) fn identity() -> IdentitySchema {
    IdentitySchema {
        version: 0,
        attributes: vec![
            IdentityAttribute { name: "aws_account_id", ty: Type::String, required_for_import: true, description: "The 12-digit AWS account id." },
            IdentityAttribute { name: "aws_partition", ty: Type::String, required_for_import: false, description: "`aws`, `aws-cn` or `aws-us-gov`." },
        ],
    }
}

pub(super) fn schema() -> Schema {
    let metrics = setting(Attribute::nested(
        "metrics",
        Nesting::Single,
        vec![
            setting(Attribute::bool("enabled", "Collect CloudWatch metrics. The StackSet's `disable_metric_collection` sets it for every account.")),
            setting(Attribute::bool("automute", "Mute monitors of hosts that AWS stopped on purpose.")),
            setting(Attribute::bool("collect_cloudwatch_alarms", "Collect CloudWatch alarms as Datadog events.")),
            setting(Attribute::bool("collect_custom_metrics", "Collect custom CloudWatch metrics.")),
            setting(Attribute::nested(
                "namespace_filters",
                Nesting::Single,
                vec![
                    Attribute::string_set("include_only", "Collect only these namespaces, e.g. `AWS/EC2`. Conflicts with `exclude_only`.").optional(),
                    Attribute::string_set("exclude_only", "Collect every namespace but these. Conflicts with `include_only`.").optional(),
                ],
                "Which CloudWatch namespaces to collect: exactly one of `include_only` or `exclude_only`. Left out, Datadog's \
                 filter stays (by default it excludes `AWS/SQS` and `AWS/ElasticMapReduce`).",
            )),
            setting(Attribute::nested(
                "tag_filters",
                Nesting::Set,
                vec![
                    Attribute::string("namespace", "The namespace, e.g. `AWS/EC2`.").required(),
                    Attribute::string_set("tags", "`key:value` patterns a resource must carry to be collected.").optional(),
                ],
                "Collect a namespace's resources only when they carry these tags. Written, the whole set is managed.",
            )),
        ],
        "Metric collection. Only the settings written here are managed.",
    ));

    let resources = setting(Attribute::nested(
        "resources",
        Nesting::Single,
        vec![
            setting(Attribute::bool(
                "cloud_security_posture_management",
                "Collect resources for Cloud Security Posture Management (CSM Misconfigurations). Needs `extended_collection`. \
                 The StackSet's `cloud_security_posture_management` sets it for every account.",
            )),
            setting(Attribute::bool(
                "extended_collection",
                "Collect resources (extended resource collection). The StackSet's `disable_resource_collection` sets it for every account.",
            )),
        ],
        "Resource collection. Only the settings written here are managed.",
    ));

    let logs = setting(Attribute::nested(
        "logs",
        Nesting::Single,
        vec![setting(Attribute::nested(
            "lambda_forwarder",
            Nesting::Single,
            vec![
                setting(Attribute::string_set("lambdas", "ARNs of Datadog Forwarder Lambda functions.")),
                setting(Attribute::string_set("sources", "AWS services whose logs the forwarder collects, e.g. `s3`, `elb`.")),
            ],
            "The Datadog Forwarder Lambda.",
        ))],
        "Log forwarding. The StackSet does not set up logs; configure a forwarder here.",
    ));

    let traces = setting(Attribute::nested(
        "traces",
        Nesting::Single,
        vec![setting(Attribute::string_set(
            "xray_services",
            "AWS X-Ray services to collect traces of. Reads as null when Datadog collects from every service.",
        ))],
        "X-Ray trace collection.",
    ));

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
         (for example by the Datadog StackSet's own stack, or by hand), it is adopted rather than duplicated. Only the \
         settings the configuration writes are managed: the others keep what Datadog holds and never show a diff.",
        vec![
            Attribute::string("id", "The Datadog account config UUID.").computed().use_state_for_unknown(),
            Attribute::string("aws_account_id", "The 12-digit AWS account ID. Changing it replaces the link.").required().requires_replace(),
            Attribute::string("aws_partition", "`aws`, `aws-cn` or `aws-us-gov`. Default `aws`. Changing it replaces the link.")
                .default(s("aws"))
                .requires_replace(),
            setting(Attribute::string(
                "role_name",
                "The IAM role Datadog assumes in the account. Left out, the role Datadog holds is kept (the StackSet's \
                 `iam_role_name`); a link that registers the account itself sends `DatadogIntegrationRole`.",
            )),
            setting(Attribute::string_set("account_tags", "`key:value` tags added to every metric of the account (the template sets `aws_account:<id>`).")),
            setting(Attribute::string_set(
                "aws_regions",
                "Collect only from these regions. Reads as null when Datadog collects from every region (see `all_aws_regions`).",
            )),
            setting(Attribute::bool(
                "all_aws_regions",
                "`true` collects from every region (Datadog's default). Conflicts with `aws_regions`, which restricts collection.",
            )),
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
                "Wire to the account's entry of `datadog_aws_org_stackset.<name>.account_revisions` (`each.value` when \
                 `for_each` iterates that map). It changes only when the account's stack rewrites its Datadog settings; the \
                 link then sends its managed settings again in the same apply. Unknown at plan means the stack may register \
                 the account anew, so `id` and `external_id` are known only after apply.",
            )
            .optional(),
            Attribute::string("external_id", "The external ID Datadog issued for this account; the IAM role's trust policy must require it.").computed().use_state_for_unknown(),
            Attribute::string("role_arn", "ARN of the IAM role Datadog assumes.").computed(),
        ],
    )
    .with_block(NestedBlock::new("timeouts", Nesting::Single, timeouts));
    Schema::new(block)
}
