//! The `provider "datadog" {}` block.

use crate::plugin::{Attribute, Block, NestedBlock, Nesting, Schema, Type};

/// The provider configuration schema.
#[must_use]
pub fn provider_schema() -> Schema {
    let assume_role = Block::new(
        "A role to assume, with the credentials the chain found, before calling CloudFormation and \
            Organizations.",
        vec![
            Attribute::string("role_arn", "ARN of the IAM role to assume (`sts:AssumeRole`), for example a role in the management \
                account.").required(),
            Attribute::string("session_name", "Role session name, visible in CloudTrail. Default `terraform-provider-datadog`.").optional(),
            Attribute::string("external_id", "External ID that the role's trust policy requires, if any.").optional().sensitive(),
        ],
    );
    let endpoints = Block::new(
        "Custom service endpoints, for example for a local emulator. Each can also be set with the SDK's own environment \
        variables: `AWS_ENDPOINT_URL_CLOUDFORMATION`, `AWS_ENDPOINT_URL_ORGANIZATIONS`, or `AWS_ENDPOINT_URL` for every \
        service. A value in this block wins.",
        vec![
            Attribute::string("cloudformation", "CloudFormation endpoint URL.").optional(),
            Attribute::string("organizations", "AWS Organizations endpoint URL.").optional(),
        ],
    );
    let aws = Block::new(
        "How to reach AWS for `datadog_aws_org_stackset`. Credentials always come from the AWS SDK's standard chain \
        (see [AWS authentication](#aws-authentication)); this block only adjusts it.",
        vec![
            Attribute::string("region", "Region of the CloudFormation StackSets and Organizations API calls, and the region a new \
                StackSet is created in: its administration region, which is not necessarily the region its \
                stacks are deployed to (that is the resource's `region`). Falls back to `AWS_REGION` / \
                `AWS_DEFAULT_REGION` and the profile's region. A StackSet that exists is always called in \
                its own administration region (`administration_region`, read from its ARN): when the \
                region found in the environment or profile is another one, the plan changes nothing and \
                warns which region it used. Set here explicitly to another region than an existing \
                StackSet's, it replaces (moves) the StackSet; see [Administration \
                region](resources/aws_org_stackset.md#administration-region).").optional(),
            Attribute::string("profile", "Named profile of the shared AWS config and credentials files. Falls back to `AWS_PROFILE`, \
                then `default`.").optional(),
            Attribute::typed(
                "retry_max_attempts",
                Type::Number,
                "Attempts per AWS call, the first one included, when AWS throttles, answers \
                    `OperationInProgressException` (another StackSet operation is running), fails with a \
                    server error or the connection fails. A whole number from 1 to 100. Default `30`: StackSet \
                    APIs throttle hard, and an operation started by someone else can hold the StackSet for \
                    minutes. The SDK's own retries are off.",
            )
            .optional(),
            Attribute::string("retry_max_backoff", "The longest wait between two attempts of an AWS call, as a duration such as `20s`. Default \
                `20s`. Waits grow exponentially from one second, with jitter.").optional(),
        ],
    )
    .with_block(NestedBlock::new("assume_role", Nesting::Single, assume_role))
    .with_block(NestedBlock::new("endpoints", Nesting::Single, endpoints));

    Schema::new(
        Block::new(
            "Onboards AWS accounts and whole AWS Organizations into Datadog.",
            vec![
                Attribute::string("api_key", "Datadog API key. Falls back to `DD_API_KEY`, then `DATADOG_API_KEY` (the first non-empty \
                    one). Required in one of these forms.")
                    .optional()
                    .sensitive(),
                Attribute::string("app_key", "Datadog application key. Falls back to `DD_APP_KEY`, then `DATADOG_APP_KEY`. Required in \
                    one of these forms.")
                    .optional()
                    .sensitive(),
                Attribute::string(
                    "site",
                    "Datadog site, for example `datadoghq.eu`. Falls back to `DD_SITE`, then `datadoghq.com`. \
                        Must be one of the [Datadog sites](#datadog-sites) below. It chooses the API host \
                        (`https://api.<site>`) and is the default of the StackSet's `DatadogSite` template \
                        parameter.",
                )
                .optional(),
                Attribute::string(
                    "api_url",
                    "Datadog API base URL, replacing the one derived from `site` (for example a proxy). Falls \
                        back to `DD_HOST`, then `DATADOG_HOST`. Must be an `http` or `https` URL with a host and \
                        must not end in `/api`: give the base, for example `https://api.datadoghq.eu`. `site` \
                        still chooses the template's `DatadogSite`.",
                )
                .optional(),
                Attribute::bool("validate", "Check the API key once, when the provider is configured, with `GET /api/v1/validate` (this \
                    checks the API key only, not the application key). Default `true`. A refused key is an \
                    `Invalid Datadog API key` error; set `false` to skip the call.").optional(),
                Attribute::typed("retry_max_attempts", Type::Number, "Attempts per Datadog API call, the first one included, when Datadog throttles (HTTP 429), \
                    fails (HTTP 5xx) or the connection fails. A whole number from 1 to 20. Default `5`. Other \
                    errors are not retried.")
                    .optional(),
                Attribute::string("retry_max_backoff", "The longest wait between two attempts of a Datadog call, as a duration such as `30s` or \
                    `1m30s` (units `ms`, `s`, `m`, `h`). Default `30s`. Waits grow exponentially with random \
                    jitter from 0.5 seconds; on a 429 that carries `X-RateLimit-Reset`, the provider waits \
                    that many seconds instead (still capped by this value). Requests are also paced per \
                    provider process: at most 16 are in flight whatever Terraform's `-parallelism`, and once \
                    Datadog answers 429 or `X-RateLimit-Remaining: 0`, every request waits for the announced \
                    reset instead of each meeting its own 429.").optional(),
            ],
        )
        .with_block(NestedBlock::new("aws", Nesting::Single, aws)),
    )
}
