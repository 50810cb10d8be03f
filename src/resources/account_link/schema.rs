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
            setting(Attribute::bool("enabled", "Collect CloudWatch metrics. The StackSet's `disable_metric_collection` registers it for \
                every account (`false` when that is `true`). Datadog's default `true`.")),
            setting(Attribute::bool("automute", "Mute monitors of hosts that AWS shut down or terminated on purpose. Datadog's default \
                `true`.")),
            setting(Attribute::bool("collect_cloudwatch_alarms", "Collect CloudWatch alarms as Datadog events. Datadog's default `false`.")),
            setting(Attribute::bool("collect_custom_metrics", "Collect custom CloudWatch metrics. Datadog's default `false`.")),
            setting(Attribute::nested(
                "namespace_filters",
                Nesting::Single,
                vec![
                    Attribute::string_set("include_only", "Collect only these namespaces, for example `AWS/EC2`.").optional(),
                    Attribute::string_set("exclude_only", "Collect every namespace but these. Datadog's API reference also lists `AWS/Usage` among \
                        its default exclusions; add it here if you want it excluded.").optional(),
                ],
                "Which CloudWatch namespaces to collect: set exactly one of the two (both, or neither, is refused at validate; \
                    Datadog keeps one kind of filter per account). Written, it is managed whole. Not written, \
                    Datadog's filter stays (for a new account: exclude `AWS/SQS` and `AWS/ElasticMapReduce`).",
            )),
            setting(Attribute::nested(
                "tag_filters",
                Nesting::Set,
                vec![
                    Attribute::string("namespace", "The namespace, for example `AWS/EC2`. One filter per namespace.").required(),
                    Attribute::string_set("tags", "`key:value` patterns (`*` allowed) that a resource must carry to be collected. Leaving it \
                        out and writing `[]` plan the same.").optional(),
                ],
                "Collect a namespace's resources only when they carry given tags. Written, the whole set is \
                    managed (`[]` removes every filter). Datadog's default: none.",
            )),
        ],
        "Metric collection. Each setting written inside is managed; the others are not. The Datadog defaults named \
        below are what Datadog gives an account when nothing else sets the value.",
    ));

    let resources = setting(Attribute::nested(
        "resources",
        Nesting::Single,
        vec![
            setting(Attribute::bool(
                "cloud_security_posture_management",
                "Collect resources for Cloud Security Posture Management (CSM Misconfigurations). The \
                    StackSet's `cloud_security_posture_management` registers it for every account. Datadog's \
                    default `false`. Needs resource collection: `true` together with `extended_collection = \
                    false` is refused at validate.",
            )),
            setting(Attribute::bool(
                "extended_collection",
                "Extended resource collection. The StackSet's `disable_resource_collection` registers it \
                    for every account (`false` when that is `true`). Datadog's default `true`.",
            )),
        ],
        "Resource collection. Each setting written inside is managed; the others are not.",
    ));

    let logs = setting(Attribute::nested(
        "logs",
        Nesting::Single,
        vec![setting(Attribute::nested(
            "lambda_forwarder",
            Nesting::Single,
            vec![
                setting(Attribute::string_set("lambdas", "ARNs of Datadog Forwarder Lambda functions, such as \
                    `arn:aws:lambda:us-east-1:123456789012:function:datadog-forwarder`. Each must be a Lambda \
                    ARN. Datadog's default: none.")),
                setting(Attribute::string_set("sources", "AWS services whose logs the forwarder collects automatically, such as `s3`, `elb` or \
                    `lambda` (the names Datadog's AWS logs services list uses). Datadog's default: none.")),
            ],
            "The Datadog Forwarder Lambda functions of the account.",
        ))],
        "Log forwarding; the StackSet does not set up logs.",
    ));

    let traces = setting(Attribute::nested(
        "traces",
        Nesting::Single,
        vec![setting(Attribute::string_set(
            "xray_services",
            "AWS X-Ray services to collect traces from. Reads as null when Datadog collects from every \
                service. Datadog's default: none.",
        ))],
        "AWS X-Ray trace collection.",
    ));

    let timeouts = Block::new(
        "How long each operation may take, as durations such as `20m`.",
        vec![
            Attribute::string("create", "Default `20m`. Includes `wait_for_registration`.").optional(),
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
            Attribute::string("id", "The Datadog account config's UUID.").computed().use_state_for_unknown(),
            Attribute::string("aws_account_id", "The AWS account ID, 12 digits. **Changing it replaces the link.**").required().requires_replace(),
            Attribute::string("aws_partition", "`aws`, `aws-cn` or `aws-us-gov`. Default `aws`. **Changing it replaces the link.**")
                .default(s("aws"))
                .requires_replace(),
            setting(Attribute::string(
                "role_name",
                "The IAM role Datadog assumes in the account: 1 to 64 letters, digits and `+=,.@_-`. Not \
                    written: the role Datadog holds is kept (for an account a StackSet registered, the \
                    StackSet's `iam_role_name`); a link that registers the account itself sends \
                    `DatadogIntegrationRole`, the name the template gives the role. Written on an account that \
                    Datadog integrates with access keys, it is refused: Datadog cannot switch a config from \
                    keys to a role in place.",
            )),
            setting(Attribute::string_set("account_tags", "`key:value` tags Datadog adds to everything it collects from the account. Written, it is \
                the account's whole tag set (`[]` removes every tag); the template registers \
                `aws_account:<id>`, so write that too to keep it. Not written: not managed.")),
            setting(Attribute::string_set(
                "aws_regions",
                "Collect only from these regions, such as `us-east-1`. Each must be an AWS region (checked \
                    at validate against the provider's list of regions, and against the partition when \
                    `aws_partition` is written); an empty set is refused. Reads as null when Datadog collects \
                    from every region. Conflicts with `all_aws_regions = true`.",
            )),
            setting(Attribute::bool(
                "all_aws_regions",
                "`true` collects from every region (Datadog's default for a new account), removing any \
                    restriction. Conflicts with `aws_regions`; `false` without `aws_regions` is refused (write \
                    the regions instead). Reads `true` when Datadog collects from every region, `false` when \
                    it collects from `aws_regions` only. Writing either `all_aws_regions = true` or \
                    `aws_regions` manages the account's regions.",
            )),
            metrics,
            resources,
            logs,
            traces,
            Attribute::bool(
                "adopt_existing",
                "When Datadog already has a config for this account (in this partition), adopt it instead \
                    of failing on a duplicate. Default `true`. The StackSet's stacks register every account \
                    they deploy to, so leave it `true` with a StackSet. With `false`, an account that Datadog \
                    already has is an error that suggests an import.",
            )
            .default(Value::Bool(true)),
            Attribute::string(
                "wait_for_registration",
                "How long create waits for the account to appear in Datadog (registered by its stack) \
                    before giving up, as a duration such as `10m`. Default `0s`: look once. Counts against \
                    `timeouts.create`. Useful when links do not depend on the StackSet, or when accounts join \
                    through auto-deployment while Terraform runs.",
            )
            .default(s("0s")),
            Attribute::string(
                "stack_set_revision",
                "Wire it to the account's entry of the StackSet's `account_revisions`: `each.value` when \
                    `for_each` iterates that map. It changes only when the account's stack rewrites its \
                    Datadog registration; the link then runs after the StackSet and sends its written settings \
                    again in the same apply. Unknown at plan means the stack may register the account anew: \
                    `id` and `external_id` are then known only after apply. Set, it also marks the account as \
                    one the StackSet registers: such a link never creates the account config itself. See \
                    [below](#stack_set_revision).",
            )
            .optional(),
            Attribute::string("external_id", "The external ID Datadog issued for this account. The IAM role's trust policy must require \
                it; with the StackSet, the template sets that up. Kept across adoption and updates.").computed().use_state_for_unknown(),
            Attribute::string("role_arn", "The ARN of the role Datadog assumes, \
                `arn:<aws_partition>:iam::<aws_account_id>:role/<role_name>`. Known at plan time when \
                `role_name` is written, or known from state; known after apply on create when `role_name` \
                is not written, and when the account's stack is about to rewrite a `role_name` the link \
                does not write.").computed(),
        ],
    )
    .with_block(NestedBlock::new("timeouts", Nesting::Single, timeouts));
    Schema::new(block)
}
