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
            Attribute::bool("enabled", "Deploy a stack to every account that joins a targeted OU later, without Terraform. Default \
                `true` on create, as the guide says. Those accounts then appear in `account_ids` and \
                `account_revisions` at the next plan, which plans one new link per new account (adopting \
                the registration the new stack made) and no change to the other links.")
                .default_on_create(Value::Bool(true)),
            Attribute::bool("retain_stacks_on_account_removal", "Keep an account's stack when the account leaves the targeted OUs. Default `false` on \
                create: the stack is deleted, and with it the account's registration in Datadog.")
                .default_on_create(Value::Bool(false)),
        ],
        "Automatic deployment to accounts that join a targeted OU later. Changes apply in place. Left out entirely, it \
        is `{ enabled = true, retain_stacks_on_account_removal = false }` on create, and what the StackSet has afterwards.",
    )
    .default_on_create(default_auto_deployment());

    let preferences = Attribute::nested(
        "operation_preferences",
        Nesting::Single,
        vec![
            Attribute::string("region_concurrency_type", "`SEQUENTIAL` (the guide's choice, and the default) or `PARALLEL`. With a single region the \
                two behave alike.").default(s(DEFAULT_REGION_CONCURRENCY)),
            Attribute::typed("failure_tolerance_count", Type::Number, "How many accounts may fail, per region, before the operation stops. 0 or more. Conflicts \
                with `failure_tolerance_percentage`.").optional(),
            Attribute::typed("failure_tolerance_percentage", Type::Number, "The same as a percentage of the accounts, 0 to 100. Conflicts with \
                `failure_tolerance_count`. Sent as 100 when neither is set.").optional(),
            Attribute::typed("max_concurrent_count", Type::Number, "How many accounts are deployed at once. 1 or more. Conflicts with \
                `max_concurrent_percentage`. Unless `concurrency_mode` is `SOFT_FAILURE_TOLERANCE`, it may \
                be at most `failure_tolerance_count` + 1 (AWS's rule, checked at validate). Sent as 50 \
                when neither is set (AWS's own default is 1: one account at a time).").optional(),
            Attribute::typed("max_concurrent_percentage", Type::Number, "The same as a percentage of the accounts, 1 to 100. Conflicts with `max_concurrent_count`.").optional(),
            Attribute::string("concurrency_mode", "`STRICT_FAILURE_TOLERANCE` or `SOFT_FAILURE_TOLERANCE`. Sent as `SOFT_FAILURE_TOLERANCE` \
                when not set.").optional(),
        ],
        "How StackSet operations roll out. AWS does not store these preferences: the provider sends them with every \
        operation it starts and keeps them from your configuration, so they never show as drift, and changing only them \
        starts no operation. See [Operation preferences](#operation-preferences) for the defaults and why.",
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
            Attribute::string("name", "StackSet name: a letter, then letters, digits and hyphens, at most 128 characters. Also \
                the resource's `id`. **Changing it replaces the StackSet** (every stack instance is \
                deleted and deployed again).")
                .required()
                .requires_replace(),
            Attribute::string("description", "StackSet description. Left out, the StackSet's own description is kept (see \
                [Defaults](#defaults-apply-on-create-only)).").optional().computed().use_state_for_unknown(),
            Attribute::string("template_url", "S3 URL of the template. When neither this nor `template_body` is set, it is Datadog's \
                organizations template v4.3.0, \
                `https://datadog-cloudformation-template.s3.amazonaws.com/aws/v4.3.0/main_organizations.yaml`, \
                the release this provider was tested with. Set it to move to another release \
                (`…/aws/<version>/main_organizations.yaml`), or to the GovCloud copy for the `aws-us-gov` \
                partition. When the StackSet's template is changed outside Terraform, this attribute keeps \
                what you wrote; `template_sha256` shows the change (see \
                [Drift](#drift-shows-as-an-in-place-update)).")
                .optional()
                .computed(),
            Attribute::string("template_body", "The template itself, instead of `template_url` (set one or the other, not both). At most \
                51,200 bytes, CloudFormation's limit; upload larger templates to S3.").optional(),
            Attribute::typed(
                "region",
                Type::Dynamic,
                "The one AWS region every account's stack is deployed to, written as a string such as \
                    `\"us-east-1\"`. The template creates global IAM resources (the integration role), so a \
                    second region's stacks would fail on the role that already exists: a list, a set, or a \
                    string with a comma or a space is refused at validate with `Exactly one region`. The name \
                    is checked at validate against the regions of the AWS partitions (`aws`, `aws-cn`, \
                    `aws-us-gov`) this provider version knows: any other string is refused with `Invalid AWS \
                    region`, which suggests the region one typo away when there is one. The attribute is \
                    dynamically typed only so that a list gets that clear error rather than a type error. \
                    Changing it moves the stacks in place: the old region's instances are deleted first, then \
                    the new region's are created.",
            )
            .required(),
            Attribute::string_set(
                "organizational_unit_ids",
                "Deployment targets: the root id (`r-` followed by 4 to 32 lowercase letters or digits) to \
                    cover the whole organization, or OU ids (`ou-xxxx-xxxxxxxx`), each of which includes its \
                    child OUs. At least one. Every id is checked at plan time (`Organizational unit not found` \
                    if the organization has no such root or OU). Adding an OU deploys to its accounts; \
                    removing one deletes its accounts' stacks; both in place.",
            )
            .required(),
            Attribute::string("datadog_site", "Template parameter `DatadogSite`: the Datadog site the stacks register the accounts with. \
                Defaults to the provider's `site` on create. Must be one of the [Datadog \
                sites](../index.md#datadog-sites).")
                .optional()
                .computed()
                .use_state_for_unknown(),
            Attribute::string("iam_role_name", "Template parameter `IAMRoleName`: the name of the role created in each account. Default \
                `DatadogIntegrationRole` on create. Links read the role Datadog holds, so they follow it.")
                .default_on_create(s(DEFAULT_ROLE_NAME)),
            Attribute::bool("disable_metric_collection", "Template parameter `DisableMetricCollection`. Default `false` on create. The guide \
                recommends `true` only for Cloud Cost Management or CSM Misconfigurations use without \
                infrastructure monitoring.")
                .default_on_create(Value::Bool(false)),
            Attribute::bool("disable_resource_collection", "Template parameter `DisableResourceCollection`. Default `false` on create.")
                .default_on_create(Value::Bool(false)),
            Attribute::bool(
                "cloud_security_posture_management",
                "Template parameter `CloudSecurityPostureManagement`, which turns on CSM Misconfigurations. \
                    Default `false` on create. It needs resource collection: `true` together with \
                    `disable_resource_collection = true` is refused at validate (`CSPM needs resource \
                    collection`), as the template's own rule would refuse it.",
            )
            .default_on_create(Value::Bool(false)),
            Attribute::typed("extra_parameters", Type::Map(Box::new(Type::String)), "More template parameters by name, for parameters a newer template adds. A parameter that \
                has its own argument (`DatadogApiKey`, `DatadogAppKey`, `DatadogSite`, `IAMRoleName`, \
                `DisableMetricCollection`, `DisableResourceCollection`, `CloudSecurityPostureManagement`) \
                is refused here.")
                .optional(),
            Attribute::string(
                "datadog_api_key_wo",
                "Template parameter `DatadogApiKey`: the API key each account's stack uses to register the \
                    account. Defaults to the provider's `api_key`. Write-only (Terraform 1.11 or later): never \
                    stored in state or plan, so it can come from an ephemeral value. It is sent when the \
                    StackSet is created and when `keys_revision` changes, never otherwise.",
            )
            .optional()
            .sensitive()
            .write_only(),
            Attribute::string(
                "datadog_app_key_wo",
                "Template parameter `DatadogAppKey`, like `datadog_api_key_wo`. Defaults to the provider's \
                    `app_key`.",
            )
            .optional()
            .sensitive()
            .write_only(),
            Attribute::string(
                "keys_revision",
                "Any string you change to send the Datadog keys to the StackSet again, for example after \
                    rotating them. Every other update keeps the keys the StackSet already has (see \
                    [Keys](#keys-usepreviousvalue-and-keys_revision)).",
            )
            .optional(),
            auto_deployment,
            Attribute::bool("managed_execution", "StackSet managed execution. Default `false` on create, the guide's \"Inactive\" execution \
                configuration: one operation at a time.")
                .default_on_create(Value::Bool(false)),
            preferences,
            Attribute::string("call_as", "`SELF` when the provider's AWS identity is the management account, or `DELEGATED_ADMIN` \
                when it is a registered delegated administrator. Default `SELF`. Every StackSet call \
                carries it. **Changing it replaces the StackSet.** An import ID can name it (see \
                [Import](#import)).")
                .default(s("SELF"))
                .requires_replace(),
            Attribute::bool(
                "activate_trusted_access",
                "When trusted access between StackSets and Organizations is off, turn it on during create. \
                    Default `false`: then a plan with trusted access off fails with `Trusted access with AWS \
                    Organizations is off` and says how to turn it on. Only the management account can activate \
                    it.",
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
            Attribute::typed("tags", Type::Map(Box::new(Type::String)), "StackSet tags, which CloudFormation also puts on the stacks. At most 50. Left out, the \
                StackSet's own tags are kept.")
                .optional()
                .computed()
                .use_state_for_unknown(),
            Attribute::string("arn", "The StackSet's ARN.").computed().use_state_for_unknown(),
            Attribute::string("stack_set_id", "The StackSet's id, as CloudFormation assigns it.").computed().use_state_for_unknown(),
            Attribute::string("status", "`ACTIVE`, or `DELETED`.").computed().use_state_for_unknown(),
            Attribute::typed("instances", Type::List(Box::new(instance_type())), "Every stack instance of the StackSet, with its status: `account_id`, `region`, \
                `organizational_unit_id` (the targeted root or OU the account was deployed through), `status` (`CURRENT`, \
                `OUTDATED` or `INOPERABLE`), `detailed_status` (for example `SUCCEEDED`, `FAILED`, `RUNNING`, `PENDING`, \
                `CANCELLED`, `INOPERABLE`, `SKIPPED_SUSPENDED_ACCOUNT`) and `status_reason` (AWS's reason, for example why \
                the account's stack failed).").computed(),
            Attribute::string_set(
                "account_ids",
                "The member accounts covered. At plan time: every `ACTIVE` account under the targeted root \
                    or OUs (child OUs included), except the management account, read from AWS Organizations; \
                    plus the management account with `include_management_account = true`. \
                    An apply keeps the planned set (and warns when some accounts fell short); every refresh \
                    then reads those of them whose stack instance in `region` is healthy (`CURRENT` and \
                    succeeded), so an account that is not healthy shows as drift. The same keys as \
                    `account_revisions`; see [Plan-time account_ids](#plan-time-account_ids).",
            )
            .computed(),
            Attribute::string(
                "template_sha256",
                "SHA-256 (hex) of the template body the StackSet runs. When the template was changed \
                    outside Terraform (the hash is not the one this provider applied), the plan changes it \
                    back: to the configured body's hash, or `(known after apply)` for a `template_url`.",
            )
            .computed(),
            Attribute::string_set(
                "deployed_regions",
                "Regions that hold stack instances: `[region]` when all is well; another region's \
                    instances, added outside Terraform, show here and the plan removes them.",
            )
            .computed(),
            Attribute::string(
                "revision",
                "The id of the newest StackSet operation (`0` before any): it changes whenever any \
                    operation touches any stack instance, auto-deployment to one new account included. Links \
                    wired to it all plan an update whenever one account joins. Use `account_revisions` \
                    instead; see [Migrating from revision](#migrating-from-revision).",
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
                "For each covered account (the keys are `account_ids`), a value that changes only when that \
                    account's stack rewrites its Datadog registration: a changed template, template parameter \
                    or `keys_revision`, or the account's stack created anew. Known at plan when the account's \
                    stack is only updated (or untouched); unknown when it will be created, which may register \
                    the account under a new config UUID. After an apply in which an account's instance failed, \
                    its value is empty (`\"\"`) until the instance is repaired. Made for `for_each` in \
                    `datadog_aws_account_link`, with `stack_set_revision = each.value`; see [Per-account \
                    revisions](#per-account-revisions).",
            )
            .computed(),
            Attribute::string(
                "administration_region",
                "The region the StackSet lives in, read from its ARN: the AWS region of the run that \
                    created it (the provider's `aws.region`, or the SDK chain's). Every call about the \
                    StackSet goes there, whatever region a later run's AWS configuration names; an explicit \
                    provider `aws { region }` that differs replaces (moves) the StackSet. Known at plan time \
                    when the StackSet is created with a region the provider can see. See [Administration \
                    region](#administration-region).",
            )
            .computed()
            .use_state_for_unknown(),
        ],
    )
    .with_block(NestedBlock::new("timeouts", Nesting::Single, timeouts));
    Schema::new(block)
}
