//! The `datadog_aws_org_stackset` schema.

use crate::plugin::{Attribute, Block, IdentityAttribute, IdentitySchema, NestedBlock, Nesting, Schema, Type, Value};

/// Datadog's organizations template, pinned to the release this provider was tested with.
pub(super) const DEFAULT_TEMPLATE_URL: &str =
    "https://datadog-cloudformation-template.s3.amazonaws.com/aws/v4.3.0/main_organizations.yaml";

/// The role each account's stack creates, unless `iam_role_name` says otherwise.
pub(super) const DEFAULT_ROLE_NAME: &str = "DatadogIntegrationRole";
/// Regions one at a time: the guide's "sequential".
pub(super) const DEFAULT_REGION_CONCURRENCY: &str = "SEQUENTIAL";

/// The StackSet's identity: its name, who administers it, and where it lives.
pub(super) fn identity() -> IdentitySchema {
    IdentitySchema {
        version: 0,
        attributes: vec![
            IdentityAttribute { name: "name", ty: Type::String, required_for_import: true, description: "The StackSet name." },
            IdentityAttribute { name: "call_as", ty: Type::String, required_for_import: false, description: "`SELF` (default) or `DELEGATED_ADMIN`." },
            IdentityAttribute {
                name: "administration_region",
                ty: Type::String,
                required_for_import: false,
                description: "The region the StackSet lives in; default: the run's AWS region.",
            },
        ],
    }
}

fn s(v: &str) -> Value {
    Value::String(v.to_owned())
}

pub(super) fn default_auto_deployment() -> Value {
    Value::object([("enabled", Value::Bool(true)), ("retain_stacks_on_account_removal", Value::Bool(false))])
}

pub(super) fn default_operation_preferences() -> Value {
    Value::object([
        ("region_concurrency_type", s(DEFAULT_REGION_CONCURRENCY)),
        ("failure_tolerance_count", Value::Null),
        ("failure_tolerance_percentage", Value::Null),
        ("max_concurrent_count", Value::Null),
        ("max_concurrent_percentage", Value::Null),
        ("concurrency_mode", Value::Null),
    ])
}

fn instance_type() -> Type {
    Type::object([
        ("account_id", Type::String),
        ("region", Type::String),
        ("organizational_unit_id", Type::String),
        ("status", Type::String),
        ("detailed_status", Type::String),
        ("status_reason", Type::String),
    ])
}

/// The resource schema.
pub(super) fn schema() -> Schema {
    let auto_deployment = Attribute::nested(
        "auto_deployment",
        Nesting::Single,
        vec![
            Attribute::bool("enabled", "Deploy to accounts that join a targeted OU later. Default `true` on create, as the guide says.")
                .default_on_create(Value::Bool(true)),
            Attribute::bool("retain_stacks_on_account_removal", "Keep an account's stack when it leaves the targeted OUs. Default `false` on create.")
                .default_on_create(Value::Bool(false)),
        ],
        "Automatic deployment to new accounts. Changes in place.",
    )
    .default_on_create(default_auto_deployment());

    let preferences = Attribute::nested(
        "operation_preferences",
        Nesting::Single,
        vec![
            Attribute::string("region_concurrency_type", "`SEQUENTIAL` (the guide's choice) or `PARALLEL`.").default(s(DEFAULT_REGION_CONCURRENCY)),
            Attribute::typed("failure_tolerance_count", Type::Number, "Accounts that may fail per region before the operation stops. Conflicts with `failure_tolerance_percentage`. When neither is set, every account may fail without stopping the others (100 %); each failure is named and the next apply retries it.").optional(),
            Attribute::typed("failure_tolerance_percentage", Type::Number, "Percentage of accounts that may fail per region. Conflicts with `failure_tolerance_count`. Sent as 100 when neither is set.").optional(),
            Attribute::typed("max_concurrent_count", Type::Number, "Accounts deployed at once. Conflicts with `max_concurrent_percentage`. Sent as 50 when neither is set (AWS's own default is 1: one account at a time).").optional(),
            Attribute::typed("max_concurrent_percentage", Type::Number, "Percentage of accounts deployed at once. Conflicts with `max_concurrent_count`.").optional(),
            Attribute::string("concurrency_mode", "`STRICT_FAILURE_TOLERANCE` or `SOFT_FAILURE_TOLERANCE`. Sent as `SOFT_FAILURE_TOLERANCE` when not set (concurrency not bound by the failure tolerance).").optional(),
        ],
        "How StackSet operations roll out. AWS does not store these: they are sent with every operation and kept from configuration, so they never show as drift.",
    )
    .default(default_operation_preferences());

    let timeouts = Block::new(
        "How long each operation may take, as durations such as `2h`.",
        vec![
            Attribute::string("create", "Default `2h`.").optional(),
            Attribute::string("update", "Default `2h`.").optional(),
            Attribute::string("delete", "Default `2h`.").optional(),
        ],
    );

    let block = Block::new(
        "Datadog's service-managed CloudFormation StackSet over an AWS Organization or some of its OUs, with one \
         stack instance per member account in exactly one region, as Datadog's multi-account guide sets it up.",
        vec![
            Attribute::string("id", "The StackSet name.").computed().use_state_for_unknown(),
            Attribute::string("name", "StackSet name: letters, digits and hyphens, starting with a letter, at most 128. Changing it replaces the StackSet.")
                .required()
                .requires_replace(),
            Attribute::string("description", "StackSet description. Left out, an existing description is kept.").optional().computed().use_state_for_unknown(),
            Attribute::string("template_url", "S3 URL of the template. Defaults to Datadog's organizations template v4.3.0 when `template_body` is not set.")
                .optional()
                .computed(),
            Attribute::string("template_body", "The template itself, instead of `template_url`.").optional(),
            Attribute::typed(
                "region",
                Type::Dynamic,
                "The one region every stack instance is deployed to, e.g. `\"us-east-1\"`. The template creates global IAM \
                 resources, so a second region would fail: a list is refused.",
            )
            .required(),
            Attribute::string_set(
                "organizational_unit_ids",
                "Deployment targets: the root id (`r-…`) for the whole organization, or OU ids (`ou-…`), which include their child OUs.",
            )
            .required(),
            Attribute::string("datadog_site", "Template parameter `DatadogSite`. Defaults to the provider's site on create; left out later, the StackSet's is kept.")
                .optional()
                .computed()
                .use_state_for_unknown(),
            Attribute::string("iam_role_name", "Template parameter `IAMRoleName`. Default `DatadogIntegrationRole` on create.")
                .default_on_create(s(DEFAULT_ROLE_NAME)),
            Attribute::bool("disable_metric_collection", "Template parameter `DisableMetricCollection` (for CCM or CSM-only use). Default `false` on create.")
                .default_on_create(Value::Bool(false)),
            Attribute::bool("disable_resource_collection", "Template parameter `DisableResourceCollection`. Default `false` on create.")
                .default_on_create(Value::Bool(false)),
            Attribute::bool(
                "cloud_security_posture_management",
                "Template parameter `CloudSecurityPostureManagement` (CSM Misconfigurations). Needs resource collection. Default `false` on create.",
            )
            .default_on_create(Value::Bool(false)),
            Attribute::typed("extra_parameters", Type::Map(Box::new(Type::String)), "Parameters a newer template adds, by name. May not repeat a typed parameter.")
                .optional(),
            Attribute::string(
                "datadog_api_key_wo",
                "Datadog API key for the template, write-only (Terraform 1.11+): never stored. Defaults to the provider's `api_key`.",
            )
            .optional()
            .sensitive()
            .write_only(),
            Attribute::string(
                "datadog_app_key_wo",
                "Datadog application key for the template, write-only (Terraform 1.11+): never stored. Defaults to the provider's `app_key`.",
            )
            .optional()
            .sensitive()
            .write_only(),
            Attribute::string(
                "keys_revision",
                "Change this to send the Datadog keys again (key rotation). Otherwise updates keep the keys the StackSet has.",
            )
            .optional(),
            auto_deployment,
            Attribute::bool("managed_execution", "Managed execution. Default `false` on create (the guide's \"Inactive\": one operation at a time).")
                .default_on_create(Value::Bool(false)),
            preferences,
            Attribute::string("call_as", "`SELF` (management account) or `DELEGATED_ADMIN`. Default `SELF`. Changing it replaces the StackSet.")
                .default(s("SELF"))
                .requires_replace(),
            Attribute::bool(
                "activate_trusted_access",
                "Activate trusted access between StackSets and Organizations on create when it is off. Default `false`: a plan with trusted access off fails and says what to do.",
            )
            .default(Value::Bool(false)),
            Attribute::bool(
                "include_management_account",
                "Also deploy the template, with the same parameters, as an ordinary CloudFormation stack in the \
                 organization's management account (which a service-managed StackSet never reaches), in `region`, named \
                 `<name>-management-account`. The management account then joins `account_ids` once its stack is deployed. \
                 Setting it back to `false` deletes that stack (and so the account's Datadog registration). Needs \
                 `call_as = \"SELF\"`: only the management account can create a stack in itself. Default `false`.",
            )
            .default(Value::Bool(false)),
            Attribute::typed("tags", Type::Map(Box::new(Type::String)), "StackSet tags, propagated to the stacks. Left out, existing tags are kept.")
                .optional()
                .computed()
                .use_state_for_unknown(),
            Attribute::string("arn", "The StackSet ARN.").computed().use_state_for_unknown(),
            Attribute::string("stack_set_id", "The StackSet id.").computed().use_state_for_unknown(),
            Attribute::string("status", "ACTIVE or DELETED.").computed().use_state_for_unknown(),
            Attribute::typed("instances", Type::List(Box::new(instance_type())), "Every stack instance with its status.").computed(),
            Attribute::string_set(
                "account_ids",
                "Accounts covered: known at plan time (active member accounts under the targeted OUs), and after apply the accounts \
                 with a healthy instance. Made for `for_each` into `datadog_aws_account_link`.",
            )
            .computed(),
            Attribute::string(
                "template_sha256",
                "SHA-256 of the template body the StackSet runs. When someone changes the template outside Terraform, the \
                 plan shows this value changing (to the configured body's hash, or known after apply for a URL): the update \
                 that puts the configured template back.",
            )
            .computed(),
            Attribute::string_set(
                "deployed_regions",
                "Regions that hold stack instances: just `region` when all is well. Instances added in another region \
                 outside Terraform show here, and the plan removes them.",
            )
            .computed(),
            Attribute::string(
                "revision",
                "Changes whenever any operation touches the stack instances.",
            )
            .computed()
            .deprecated(
                "revision changes for every account whenever any stack runs, so links wired to it all plan an update when one \
                 account joins. Wire links to account_revisions instead: for_each = datadog_aws_org_stackset.<name>.account_revisions \
                 and stack_set_revision = each.value.",
            ),
            Attribute::typed(
                "account_revisions",
                Type::Map(Box::new(Type::String)),
                "For each covered account (the keys are `account_ids`), a value that changes only when that account's stack \
                 rewrites its Datadog registration: a changed template, template parameter or `keys_revision`, or a stack \
                 created anew. Known at plan when the stack is only updated; unknown when it will be created, which may \
                 register the account under a new config id. Empty for an account whose instance failed. Made for \
                 `for_each` into `datadog_aws_account_link`, with `stack_set_revision = each.value`.",
            )
            .computed(),
            Attribute::string(
                "administration_region",
                "The region the StackSet lives in, from its ARN: the AWS region of the run that created it. Every call about \
                 the StackSet goes there, whatever region a later run's AWS configuration names. An explicit provider \
                 `aws { region }` that differs replaces the StackSet (moves it).",
            )
            .computed()
            .use_state_for_unknown(),
        ],
    )
    .with_block(NestedBlock::new("timeouts", Nesting::Single, timeouts));
    Schema::new(block)
}
