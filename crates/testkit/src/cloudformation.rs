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

/// Waits until no operation of the StackSet `name` is queued, running or stopping,
/// as someone working by hand would before the next step (at most a minute).
pub async fn settle(cfn: &aws_sdk_cloudformation::Client, name: &str) -> anyhow::Result<()> {
    const POLL: std::time::Duration = std::time::Duration::from_millis(200);
    for _ in 0..300 {
        let ops = cfn.list_stack_set_operations().stack_set_name(name).send().await?;
        let busy = ops.summaries().iter().any(|o| matches!(o.status().map(|s| s.as_str()), Some("RUNNING" | "QUEUED" | "STOPPING")));
        if !busy {
            return Ok(());
        }
        tokio::time::sleep(POLL).await;
    }
    anyhow::bail!("the operations of StackSet {name} did not finish within a minute")
}
