//! How the provider finds AWS: the SDK's standard chain (environment, shared config and
//! credentials files, SSO, web identity, container and instance metadata), with the
//! provider block's region, profile and role on top. Endpoints come from
//! `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_CLOUDFORMATION` / `AWS_ENDPOINT_URL_ORGANIZATIONS`
//! (read by the SDK itself) or from the provider block (applied per service in `sdk.rs`).
//! Knows nothing of StackSets; never logs or prints credentials.

use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};

use crate::clients::retry::RetryPolicy;
use crate::clients::secret::Secret;

/// The role session name used when the configuration names none.
pub(crate) const DEFAULT_SESSION_NAME: &str = "terraform-provider-datadog";

/// AWS calls: StackSet APIs throttle hard and answer `OperationInProgress` for
/// minutes, so many patient attempts.
pub const DEFAULT_RETRY: RetryPolicy = RetryPolicy { max_attempts: 30, base: std::time::Duration::from_secs(1), max_backoff: std::time::Duration::from_secs(20) };

/// Where and as whom the provider calls AWS. Every field is optional: unset means
/// "whatever the SDK's standard chain finds".
#[derive(Debug, Clone)]
pub struct AwsSettings {
    /// Overrides `AWS_REGION` / the profile's region.
    pub region: Option<String>,
    /// A named profile of the shared config files (`AWS_PROFILE` otherwise).
    pub profile: Option<String>,
    /// A role to assume with the credentials found.
    pub assume_role: Option<AssumeRole>,
    /// CloudFormation endpoint; wins over `AWS_ENDPOINT_URL_CLOUDFORMATION`.
    pub endpoint_cloudformation: Option<String>,
    /// Organizations endpoint; wins over `AWS_ENDPOINT_URL_ORGANIZATIONS`.
    pub endpoint_organizations: Option<String>,
    /// Our one retry policy for AWS calls (the SDK's own retries are off).
    pub retry: RetryPolicy,
}

impl Default for AwsSettings {
    fn default() -> Self {
        AwsSettings {
            region: None,
            profile: None,
            assume_role: None,
            endpoint_cloudformation: None,
            endpoint_organizations: None,
            retry: DEFAULT_RETRY,
        }
    }
}

/// `sts:AssumeRole` on top of the credentials the chain found.
#[derive(Debug, Clone)]
pub struct AssumeRole {
    /// The role's ARN.
    pub role_arn: String,
    /// `RoleSessionName`; `terraform-provider-datadog` when unset.
    pub session_name: Option<String>,
    /// `ExternalId`, when the role's trust policy asks for one.
    pub external_id: Option<Secret>,
}

/// Loads the SDK configuration once per ConfigureProvider. Credentials are resolved
/// lazily, on the first call that needs them, and cached (refreshed before expiry).
pub async fn load_sdk_config(settings: &AwsSettings) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    let base = loader.load().await;
    let Some(role) = &settings.assume_role else {
        return base;
    };
    // The role is assumed with the credentials, region and STS endpoint the chain found.
    let mut builder = AssumeRoleProvider::builder(role.role_arn.clone())
        .session_name(role.session_name.as_deref().unwrap_or(DEFAULT_SESSION_NAME))
        .configure(&base);
    if let Some(external_id) = &role.external_id {
        builder = builder.external_id(external_id.expose());
    }
    let provider = AssumedRole { role_arn: role.role_arn.clone(), inner: builder.build().await };
    tracing::debug!(role_arn = %role.role_arn, "AWS credentials: assuming a role");
    base.into_builder().credentials_provider(SharedCredentialsProvider::new(provider)).build()
}

/// The SDK's `AssumeRoleProvider` derives `Debug` down to its STS request, external id
/// included, and `SdkConfig`/clients print their credentials provider in `Debug`: this
/// wrapper prints the role only.
struct AssumedRole {
    role_arn: String,
    inner: AssumeRoleProvider,
}

impl std::fmt::Debug for AssumedRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssumeRole").field("role_arn", &self.role_arn).finish_non_exhaustive()
    }
}

impl ProvideCredentials for AssumedRole {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        self.inner.provide_credentials()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The external id (like every other credential) never shows in Debug output.
    #[test]
    fn settings_debug_hides_the_external_id() {
        let s = AwsSettings {
            assume_role: Some(AssumeRole {
                role_arn: "arn:aws:iam::123456789012:role/dd".into(),
                session_name: None,
                external_id: Some(Secret::new("ext-id-0f3c9a7e55d1".into())),
            }),
            ..AwsSettings::default()
        };
        let text = format!("{s:?}");
        assert!(text.contains("arn:aws:iam::123456789012:role/dd"));
        assert!(!text.contains("ext-id-0f3c9a7e55d1"), "{text}");
    }

    /// Region from the provider block wins over the environment; an assumed role
    /// replaces the chain's credentials provider (nothing is resolved yet), and neither
    /// the SdkConfig's nor a client's Debug output shows the external id.
    #[tokio::test]
    async fn region_override_and_assume_role_are_applied_without_leaking() {
        let s = AwsSettings {
            region: Some("eu-west-3".into()),
            assume_role: Some(AssumeRole {
                role_arn: "arn:aws:iam::123456789012:role/dd".into(),
                session_name: Some("custom".into()),
                external_id: Some(Secret::new("ext-id-77aa0c1d9e3b".into())),
            }),
            ..AwsSettings::default()
        };
        let conf = load_sdk_config(&s).await;
        assert_eq!(conf.region().map(|r| r.as_ref()), Some("eu-west-3"));
        let provider = conf.credentials_provider().map(|p| format!("{p:?}")).unwrap_or_default();
        assert!(provider.contains("arn:aws:iam::123456789012:role/dd"), "{provider}");
        let client = aws_sdk_cloudformation::Client::new(&conf);
        let text = format!("{conf:?} {client:?}");
        assert!(!text.contains("ext-id-77aa0c1d9e3b"), "external id leaked into Debug output");
    }
}
