//! The `datadog_aws_organization` schema: three optional arguments (which StackSet to
//! report on, as whom, where it lives) and the organization, every account computed.

use crate::plugin::{Attribute, Block, Nesting, Schema};

pub(super) fn schema() -> Schema {
    let stack_instance = Attribute::nested(
        "stack_instance",
        Nesting::Single,
        vec![
            Attribute::string("status", "`CURRENT`, `OUTDATED` or `INOPERABLE`.").computed(),
            Attribute::string(
                "detailed_status",
                "`SUCCEEDED`, `PENDING`, `RUNNING`, `FAILED`, `CANCELLED`, `INOPERABLE`, `SKIPPED_SUSPENDED_ACCOUNT` or `FAILED_IMPORT`.",
            )
            .computed(),
            Attribute::string("status_reason", "AWS's reason, when the instance is not healthy.").computed(),
            Attribute::string("last_operation_id", "The StackSet operation that last acted on the instance.").computed(),
            Attribute::string("region", "The instance's region.").computed(),
        ],
        "The account's stack instance of `stackset_name`; null when no StackSet is named or none covers the account. \
         When the StackSet deploys to several regions, the least healthy instance (then the first region).",
    )
    .computed();
    let datadog = Attribute::nested(
        "datadog",
        Nesting::Single,
        vec![
            Attribute::string("config_id", "The AWS account configuration's id (UUID) in Datadog.").computed(),
            Attribute::bool("metrics_enabled", "Whether Datadog collects the account's metrics.").computed(),
            Attribute::bool("cloud_security_posture_management", "Whether resources are collected for CSM Misconfigurations.").computed(),
            Attribute::bool("extended_collection", "Whether extended resource collection is on.").computed(),
            Attribute::string("role_name", "The IAM role Datadog assumes in the account (null with key authentication).").computed(),
        ],
        "The account's configuration in Datadog's AWS integration; null when Datadog has none for \
            it in the organization's partition.",
    )
    .computed();
    let account = vec![
        Attribute::string("id", "The 12-digit account id.").computed(),
        Attribute::string("name", "The account's name.").computed(),
        Attribute::string("email", "The email address of the account's root user.").computed(),
        Attribute::string("status", "`ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`, … as Organizations reports it.").computed(),
        Attribute::bool(
            "management",
            "Whether this is the management account (service-managed StackSets never deploy to it).",
        )
        .computed(),
        Attribute::string("ou_id", "The root (`r-…`) or OU (`ou-…`) the account sits in directly.").computed(),
        Attribute::string("ou_path", "The names from the root down to that OU, e.g. `Root/Workloads/Prod`.").computed(),
        stack_instance,
        datadog,
    ];
    Schema::new(Block::new(
        "Every account of the AWS Organization in one read: its OU, the stack instance a StackSet has in it, and whether \
         Datadog's AWS integration has it. Costs a few AWS calls per page of each listing (never one per account) and a \
         single Datadog request.",
        vec![
            Attribute::string(
                "stackset_name",
                "A StackSet whose stack instances to report (e.g. the `name` of a \
                    `datadog_aws_org_stackset`). Left out, every `stack_instance` is null and no StackSet call \
                    is made. A StackSet that does not exist gives a warning and null instances, not an error.",
            )
            .optional(),
            Attribute::string(
                "call_as",
                "`SELF` (default: the management account) or `DELEGATED_ADMIN` (a registered delegated \
                    administrator), for the StackSet calls. Any other value is refused at validate and plan, \
                    before any call.",
            )
            .optional()
            .computed(),
            Attribute::string(
                "region",
                "The StackSet's administration region (where it was created). Default: the provider's AWS region. Null \
                 without `stackset_name`.",
            )
            .optional()
            .computed(),
            Attribute::string("id", "The organization id (`o-…`).").computed(),
            Attribute::string("partition", "The organization's AWS partition: `aws`, `aws-cn` or `aws-us-gov`. Datadog configurations \
                are matched in this partition.").computed(),
            Attribute::string("management_account_id", "The management account's id.").computed(),
            Attribute::nested("accounts", Nesting::List, account, "Every account of the organization (the management account and suspended ones included), \
                sorted by id.").computed(),
        ],
    ))
}
