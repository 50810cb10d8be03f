//! A CloudFormation client on the sandbox's AWS emulator, for tests that change
//! StackSets or stacks the way someone would outside Terraform (the console, a script).

use crate::Sandbox;

/// The SDK's client with the sandbox's credentials and endpoint, in `us-east-1`
/// (where the sandbox's StackSets are administered).
pub fn cloudformation(sb: &Sandbox) -> aws_sdk_cloudformation::Client {
    use aws_sdk_cloudformation::config::{BehaviorVersion, Credentials, Region};
    let creds = Credentials::new(
        sb.var("AWS_ACCESS_KEY_ID").unwrap_or_default(),
        sb.var("AWS_SECRET_ACCESS_KEY").unwrap_or_default(),
        None,
        None,
        "sandbox",
    );
    let config = aws_sdk_cloudformation::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(creds)
        .endpoint_url(sb.var("AWS_ENDPOINT_URL").unwrap_or_default())
        .build();
    aws_sdk_cloudformation::Client::from_conf(config)
}
