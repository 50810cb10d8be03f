//! The `provider "datadog" {}` block.

use crate::plugin::{Attribute, Block, NestedBlock, Nesting, Schema, Type};

/// The provider configuration schema.
#[must_use]
pub fn provider_schema() -> Schema {
    let assume_role = Block::new(
        "An IAM role to assume for the CloudFormation and Organizations calls, e.g. in the management account.",
        vec![
            Attribute::string("role_arn", "ARN of the role to assume.").required(),
            Attribute::string("session_name", "Session name to use when assuming the role.").optional(),
            Attribute::string("external_id", "External ID the role's trust policy requires.").optional().sensitive(),
        ],
    );
    let endpoints = Block::new(
        "Custom service endpoints, e.g. for a local emulator. `AWS_ENDPOINT_URL_CLOUDFORMATION`, \
         `AWS_ENDPOINT_URL_ORGANIZATIONS` and `AWS_ENDPOINT_URL` are honoured too.",
        vec![
            Attribute::string("cloudformation", "CloudFormation endpoint URL.").optional(),
            Attribute::string("organizations", "Organizations endpoint URL.").optional(),
        ],
    );
    let aws = Block::new(
        "How to reach AWS for `datadog_aws_org_stackset`. Credentials follow the AWS SDK's standard chain \
         (environment, shared config and credentials files, SSO, web identity, instance metadata).",
        vec![
            Attribute::string("region", "Region of the CloudFormation StackSets API calls. Defaults to the SDK chain (`AWS_REGION`, profile).").optional(),
            Attribute::string("profile", "Named profile of the shared AWS config files.").optional(),
            Attribute::typed(
                "retry_max_attempts",
                Type::Number,
                "Attempts per AWS call on throttling, `OperationInProgressException` and server or connection errors, the first included. 1 to 100; default `30`.",
            )
            .optional(),
            Attribute::string("retry_max_backoff", "Longest wait between two attempts of an AWS call, as a duration such as `20s`. Default `20s`.").optional(),
        ],
    )
    .with_block(NestedBlock::new("assume_role", Nesting::Single, assume_role))
    .with_block(NestedBlock::new("endpoints", Nesting::Single, endpoints));

    Schema::new(
        Block::new(
            "Onboards AWS accounts and whole AWS Organizations into Datadog.",
            vec![
                Attribute::string("api_key", "Datadog API key. Defaults to `DD_API_KEY` (or `DATADOG_API_KEY`).")
                    .optional()
                    .sensitive(),
                Attribute::string("app_key", "Datadog application key. Defaults to `DD_APP_KEY` (or `DATADOG_APP_KEY`).")
                    .optional()
                    .sensitive(),
                Attribute::string(
                    "site",
                    "Datadog site, e.g. `datadoghq.com`, `datadoghq.eu`, `us3.datadoghq.com`. Defaults to `DD_SITE`, then `datadoghq.com`.",
                )
                .optional(),
                Attribute::string(
                    "api_url",
                    "Datadog API base URL, overriding the site's (`https://api.<site>`). Defaults to `DD_HOST` (or `DATADOG_HOST`).",
                )
                .optional(),
                Attribute::bool("validate", "Check the API key once when the provider is configured. Default `true`.").optional(),
                Attribute::typed("retry_max_attempts", Type::Number, "Attempts per Datadog call on throttling (429), server errors (5xx) and connection failures, the first included. 1 to 20; default `5`.")
                    .optional(),
                Attribute::string("retry_max_backoff", "Longest wait between two attempts, as a duration such as `30s`. Default `30s`.").optional(),
            ],
        )
        .with_block(NestedBlock::new("aws", Nesting::Single, aws)),
    )
}
