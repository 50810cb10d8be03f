//! The StackSet as Terraform holds it, decoded once from a value and encoded once,
//! plus the mapping to and from the StackSets API.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use crate::clients::aws::{CallAs, OperationPreferences, Parameter, StackInstance, StackSet, StackSetInput, Template};
use crate::clients::secret::Secret;
use crate::plugin::typed::{self, boolean, map_value, opt_string, string, string_map, Planned, TypeMismatch};
use crate::plugin::Value;

pub(super) use crate::plugin::typed::string_set;

use super::schema::{DEFAULT_REGION_CONCURRENCY, DEFAULT_ROLE_NAME, DEFAULT_TEMPLATE_URL};
use super::parameters;

/// Accounts of the one region deployed at once when the configuration says nothing.
/// AWS's own default is one at a time, which makes a 1,000-account onboarding take a
/// day at a minute or two per stack; 50 at a time makes it 20 stack times. Each
/// stack's registration is one POST to Datadog in its first seconds: a burst of 50
/// stays far below the limit Datadog advertises (12,000 requests a minute). Should
/// a 429 fail some stacks anyway, the runner deploys just those again, later and at
/// lower concurrency (see `runner`).
pub(super) const DEFAULT_MAX_CONCURRENT_ACCOUNTS: i32 = 50;
/// With AWS's default tolerance (0), one failing account cancels every other one.
/// Tolerating all lets the others finish; each failure is still named, and the next
/// apply deploys the failed accounts again.
pub(super) const DEFAULT_FAILURE_TOLERANCE_PERCENTAGE: i32 = 100;
/// Concurrency is not limited by the failure tolerance.
pub(super) const DEFAULT_CONCURRENCY_MODE: &str = "SOFT_FAILURE_TOLERANCE";

/// A decoded `datadog_aws_org_stackset` value (configuration, plan or state).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Model {
    pub name: String,
    pub description: Option<String>,
    pub template_url: Option<String>,
    pub template_body: Option<String>,
    /// As configured: a dynamic value holding one region name.
    pub region: Value,
    pub organizational_unit_ids: BTreeSet<String>,
    pub datadog_site: Option<String>,
    pub iam_role_name: String,
    pub disable_metric_collection: bool,
    pub disable_resource_collection: bool,
    pub cspm: bool,
    pub extra_parameters: Option<BTreeMap<String, String>>,
    pub keys_revision: Option<String>,
    pub auto_deployment: bool,
    pub retain_stacks: bool,
    pub managed_execution: bool,
    /// Kept verbatim: AWS does not store them.
    pub operation_preferences: Value,
    pub call_as: CallAs,
    pub activate_trusted_access: bool,
    /// Also deploy the template as a plain stack in the management account.
    pub include_management_account: bool,
    pub tags: Option<BTreeMap<String, String>>,
    pub arn: Option<String>,
    pub stack_set_id: Option<String>,
    pub status: Option<String>,
    /// Kept as a value: a list of objects the model only passes through.
    pub instances: Value,
    pub account_ids: Planned<BTreeSet<String>>,
    pub template_sha256: Planned<String>,
    /// Regions that hold instances (one, normally).
    pub deployed_regions: Planned<BTreeSet<String>>,
    /// The hash of the template AWS runs, when someone changed it outside Terraform
    /// (read, never stored: private state keeps the hash this provider applied).
    pub template_drift: Option<String>,
    pub revision: Planned<String>,
    /// account id -> that account's registration revision (see `revision_of_account`).
    /// A value, not a typed map: a plan knows some accounts' revisions and not others.
    pub account_revisions: Value,
    /// Where the StackSet lives; `None` before it exists (and in old states).
    pub administration_region: Option<String>,
    pub timeouts: Value,
}

/// SHA-256 of a template body, hex.
pub(super) fn sha256_hex(body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn bool_param(b: bool) -> String {
    if b { "true" } else { "false" }.to_owned()
}

impl Model {
    /// Reads a configuration, plan or state.
    ///
    /// # Errors
    /// When an attribute holds another type than the schema gives it (a bug).
    pub(super) fn read(v: &Value) -> Result<Model, TypeMismatch> {
        let auto = v.get_attr("auto_deployment");
        Ok(Model {
            name: string(v.get_attr("name")).unwrap_or_default(),
            description: string(v.get_attr("description")),
            template_url: string(v.get_attr("template_url")),
            template_body: string(v.get_attr("template_body")),
            region: v.get_attr("region").cloned().unwrap_or(Value::Null),
            organizational_unit_ids: match v.get_attr("organizational_unit_ids") {
                Some(Value::Set(ids)) => ids.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
                _ => BTreeSet::new(),
            },
            datadog_site: string(v.get_attr("datadog_site")),
            iam_role_name: string(v.get_attr("iam_role_name")).unwrap_or_else(|| DEFAULT_ROLE_NAME.into()),
            disable_metric_collection: boolean(v.get_attr("disable_metric_collection"), false),
            disable_resource_collection: boolean(v.get_attr("disable_resource_collection"), false),
            cspm: boolean(v.get_attr("cloud_security_posture_management"), false),
            extra_parameters: string_map(v.get_attr("extra_parameters")),
            keys_revision: string(v.get_attr("keys_revision")),
            auto_deployment: boolean(auto.and_then(|a| a.get_attr("enabled")), true),
            retain_stacks: boolean(auto.and_then(|a| a.get_attr("retain_stacks_on_account_removal")), false),
            managed_execution: boolean(v.get_attr("managed_execution"), false),
            operation_preferences: v.get_attr("operation_preferences").cloned().unwrap_or_else(super::schema::default_operation_preferences),
            call_as: string(v.get_attr("call_as")).as_deref().and_then(CallAs::parse).unwrap_or(CallAs::SelfAccount),
            activate_trusted_access: boolean(v.get_attr("activate_trusted_access"), false),
            include_management_account: boolean(v.get_attr("include_management_account"), false),
            tags: string_map(v.get_attr("tags")),
            arn: string(v.get_attr("arn")),
            stack_set_id: string(v.get_attr("stack_set_id")),
            status: string(v.get_attr("status")),
            instances: v.get_attr("instances").cloned().unwrap_or(Value::Null),
            account_ids: typed::read(v, "account_ids")?,
            template_sha256: typed::read(v, "template_sha256")?,
            deployed_regions: typed::read(v, "deployed_regions")?,
            template_drift: None,
            revision: typed::read(v, "revision")?,
            account_revisions: v.get_attr("account_revisions").cloned().unwrap_or(Value::Null),
            administration_region: string(v.get_attr("administration_region")),
            timeouts: v.get_attr("timeouts").cloned().unwrap_or(Value::Null),
        })
    }

    /// [`Model::read`] for values Terraform decoded against this resource's schema,
    /// where a type mismatch cannot happen; one would read as an empty model and is
    /// logged as the bug it is.
    pub(super) fn from_value(v: &Value) -> Model {
        Model::read(v).unwrap_or_else(|e| {
            tracing::error!("datadog_aws_org_stackset: {e} (a bug: the model and the schema disagree)");
            Model::read(&Value::Null).unwrap_or_else(|_| unreachable!("null reads as an empty model"))
        })
    }

    pub(super) fn to_value(&self) -> Value {
        Value::object([
            ("id", Value::String(self.name.clone())),
            ("name", Value::String(self.name.clone())),
            ("description", opt_string(self.description.as_ref())),
            ("template_url", opt_string(self.template_url.as_ref())),
            ("template_body", opt_string(self.template_body.as_ref())),
            ("region", self.region.clone()),
            ("organizational_unit_ids", string_set(self.organizational_unit_ids.iter().cloned())),
            ("datadog_site", opt_string(self.datadog_site.as_ref())),
            ("iam_role_name", Value::String(self.iam_role_name.clone())),
            ("disable_metric_collection", Value::Bool(self.disable_metric_collection)),
            ("disable_resource_collection", Value::Bool(self.disable_resource_collection)),
            ("cloud_security_posture_management", Value::Bool(self.cspm)),
            ("extra_parameters", map_value(self.extra_parameters.as_ref())),
            ("datadog_api_key_wo", Value::Null),
            ("datadog_app_key_wo", Value::Null),
            ("keys_revision", opt_string(self.keys_revision.as_ref())),
            (
                "auto_deployment",
                Value::object([("enabled", Value::Bool(self.auto_deployment)), ("retain_stacks_on_account_removal", Value::Bool(self.retain_stacks))]),
            ),
            ("managed_execution", Value::Bool(self.managed_execution)),
            ("operation_preferences", self.operation_preferences.clone()),
            ("call_as", Value::String(self.call_as.as_str().to_owned())),
            ("activate_trusted_access", Value::Bool(self.activate_trusted_access)),
            ("include_management_account", Value::Bool(self.include_management_account)),
            ("tags", map_value(self.tags.as_ref())),
            ("arn", opt_string(self.arn.as_ref())),
            ("stack_set_id", opt_string(self.stack_set_id.as_ref())),
            ("status", opt_string(self.status.as_ref())),
            ("instances", self.instances.clone()),
            ("account_ids", self.account_ids.to_value()),
            ("template_sha256", self.template_sha256.to_value()),
            ("deployed_regions", self.deployed_regions.to_value()),
            ("revision", self.revision.to_value()),
            ("account_revisions", self.account_revisions.clone()),
            ("administration_region", opt_string(self.administration_region.as_ref())),
            ("timeouts", self.timeouts.clone()),
        ])
    }

    /// Where the StackSet lives: its recorded administration region, or for a state
    /// written before that was recorded, the region its ARN names.
    pub(super) fn home_region(&self) -> Option<String> {
        self.administration_region.clone().or_else(|| self.arn.as_deref().and_then(region_of_arn))
    }

    /// The one region, when known.
    pub(super) fn region_name(&self) -> Option<String> {
        self.region.unwrap_dynamic().as_str().map(str::to_owned)
    }

    pub(super) fn template(&self) -> Template {
        match &self.template_body {
            Some(b) => Template::Body(b.clone()),
            None => Template::Url(self.template_url.clone().unwrap_or_else(|| DEFAULT_TEMPLATE_URL.to_owned())),
        }
    }

    /// Template parameters. Keys are sent when `keys` is given; otherwise the
    /// StackSet keeps the ones it has (`UsePreviousValue`).
    pub(super) fn parameters(&self, site: &str, keys: Option<(&Secret, &Secret)>) -> Vec<Parameter> {
        let value = |k: &str, v: String| Parameter { key: k.to_owned(), value: Some(v), use_previous: false };
        let mut params = match keys {
            Some((api, app)) => vec![value(parameters::API_KEY, api.expose().to_owned()), value(parameters::APP_KEY, app.expose().to_owned())],
            None => parameters::KEYS
                .iter()
                .map(|k| Parameter { key: (*k).to_owned(), value: None, use_previous: true })
                .collect(),
        };
        params.push(value(parameters::SITE, self.datadog_site.clone().unwrap_or_else(|| site.to_owned())));
        params.push(value(parameters::ROLE_NAME, self.iam_role_name.clone()));
        params.push(value(parameters::DISABLE_METRICS, bool_param(self.disable_metric_collection)));
        params.push(value(parameters::DISABLE_RESOURCES, bool_param(self.disable_resource_collection)));
        params.push(value(parameters::CSPM, bool_param(self.cspm)));
        for (k, v) in self.extra_parameters.iter().flatten() {
            params.push(value(k, v.clone()));
        }
        params
    }

    pub(super) fn input(&self, site: &str, keys: Option<(&Secret, &Secret)>) -> StackSetInput {
        StackSetInput {
            name: self.name.clone(),
            description: self.description.clone(),
            template: self.template(),
            parameters: self.parameters(site, keys),
            capabilities: vec!["CAPABILITY_NAMED_IAM".to_owned()],
            tags: self.tags.clone().unwrap_or_default(),
            auto_deployment: self.auto_deployment,
            retain_stacks_on_account_removal: self.retain_stacks,
            managed_execution: self.managed_execution,
            call_as: self.call_as,
        }
    }

    /// The preferences sent with every operation: what the configuration writes, and
    /// for what it leaves out, defaults that scale (see `DEFAULT_MAX_CONCURRENT_ACCOUNTS`).
    /// A default gives way to its configured counterpart (a count to a percentage and
    /// back), as AWS takes only one of each pair.
    pub(super) fn preferences(&self) -> OperationPreferences {
        let p = &self.operation_preferences;
        let num = |n| p.get_attr(n).and_then(Value::as_number).and_then(|n| n.as_i64()).and_then(|n| i32::try_from(n).ok());
        let text = |n| p.get_attr(n).and_then(Value::as_str).map(str::to_owned);
        let (tolerance_count, tolerance_percentage) = (num("failure_tolerance_count"), num("failure_tolerance_percentage"));
        let (concurrent_count, concurrent_percentage) = (num("max_concurrent_count"), num("max_concurrent_percentage"));
        let tolerance_unset = tolerance_count.is_none() && tolerance_percentage.is_none();
        let concurrency_unset = concurrent_count.is_none() && concurrent_percentage.is_none();
        let mode = text("concurrency_mode").unwrap_or_else(|| DEFAULT_CONCURRENCY_MODE.to_owned());
        // Strict mode caps concurrency at the tolerance count plus one (AWS refuses more).
        let default_concurrency = match (mode.as_str(), tolerance_count) {
            ("STRICT_FAILURE_TOLERANCE", Some(t)) => DEFAULT_MAX_CONCURRENT_ACCOUNTS.min(t.saturating_add(1)),
            _ => DEFAULT_MAX_CONCURRENT_ACCOUNTS,
        };
        OperationPreferences {
            region_concurrency_type: text("region_concurrency_type").or_else(|| Some(DEFAULT_REGION_CONCURRENCY.to_owned())),
            failure_tolerance_count: tolerance_count,
            failure_tolerance_percentage: tolerance_percentage.or(tolerance_unset.then_some(DEFAULT_FAILURE_TOLERANCE_PERCENTAGE)),
            max_concurrent_count: concurrent_count.or(concurrency_unset.then_some(default_concurrency)),
            max_concurrent_percentage: concurrent_percentage,
            concurrency_mode: Some(mode),
        }
    }

    /// Whether the configuration chose the concurrency (then no retry changes it).
    pub(super) fn concurrency_written(&self) -> bool {
        ["max_concurrent_count", "max_concurrent_percentage"].iter().any(|n| self.operation_preferences.get_attr(n).is_some_and(|v| !v.is_null()))
    }

    /// Takes every remotely stored attribute from `remote`, keeping Terraform-only ones.
    pub(super) fn absorb_remote(&mut self, remote: &StackSet, instances: &[StackInstance]) {
        self.description = remote.description.clone().filter(|d| !d.is_empty());
        self.arn = Some(remote.arn.clone());
        if let Some(region) = region_of_arn(&remote.arn) {
            self.administration_region = Some(region);
        }
        self.stack_set_id = Some(remote.id.clone());
        self.status = Some(remote.status.to_string());
        let p = &remote.parameters;
        let flag = |k: &str, current: bool| p.get(k).map_or(current, |v| v == "true");
        self.datadog_site = p.get(parameters::SITE).cloned().or_else(|| self.datadog_site.clone());
        if let Some(r) = p.get(parameters::ROLE_NAME) {
            self.iam_role_name = r.clone();
        }
        self.disable_metric_collection = flag(parameters::DISABLE_METRICS, self.disable_metric_collection);
        self.disable_resource_collection = flag(parameters::DISABLE_RESOURCES, self.disable_resource_collection);
        self.cspm = flag(parameters::CSPM, self.cspm);
        let extra: BTreeMap<String, String> =
            p.iter().filter(|(k, _)| !parameters::TYPED.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
        // An empty map stays as configured (`{}` or unset) rather than flipping.
        self.extra_parameters = if extra.is_empty() {
            self.extra_parameters.take().filter(BTreeMap::is_empty)
        } else {
            Some(extra)
        };
        self.auto_deployment = remote.auto_deployment;
        self.retain_stacks = remote.retain_stacks_on_account_removal;
        self.managed_execution = remote.managed_execution;
        self.tags = if remote.tags.is_empty() && self.tags.is_none() { None } else { Some(remote.tags.clone()) };
        if !remote.organizational_unit_ids.is_empty() {
            self.organizational_unit_ids = remote.organizational_unit_ids.iter().cloned().collect();
        }
        let mut regions: BTreeSet<String> = remote.regions.iter().cloned().collect();
        regions.extend(instances.iter().map(|i| i.region.clone()));
        // All instances moved to one other region: that is where the StackSet deploys
        // now. Several regions stay visible in `deployed_regions`, which the plan
        // brings back to the one configured.
        if regions.len() == 1 && self.region_name().as_deref() != regions.first().map(String::as_str) {
            self.region = Value::String(regions.first().cloned().unwrap_or_default());
        }
        self.deployed_regions = Planned::Known(regions.clone());
        self.instances = Value::List(
            instances
                .iter()
                .map(|i| {
                    Value::object([
                        ("account_id", Value::String(i.account.clone())),
                        ("region", Value::String(i.region.clone())),
                        ("organizational_unit_id", Value::String(i.organizational_unit_id.clone())),
                        ("status", Value::String(i.status.to_string())),
                        ("detailed_status", Value::String(i.detailed_status.to_string())),
                        ("status_reason", Value::String(i.status_reason.clone())),
                    ])
                })
                .collect(),
        );
    }
}

/// A digest of everything the template's custom resource depends on when it writes
/// an account's registration to Datadog: the template, its parameters and the key
/// revision. Descriptions, tags and rollout settings leave it alone, so changing them
/// never makes links send again.
pub(super) fn registration_digest(m: &Model) -> String {
    let mut template = match &m.template_body {
        Some(body) => format!("body:{}", sha256_hex(body)),
        None => format!("url:{}", m.template_url.as_deref().unwrap_or(DEFAULT_TEMPLATE_URL)),
    };
    // A template changed outside Terraform re-ran every stack with other inputs.
    if let Some(running) = &m.template_drift {
        template.push_str(&format!("|running:{running}"));
    }
    let inputs = (template, &m.datadog_site, &m.iam_role_name, m.disable_metric_collection, m.disable_resource_collection, m.cspm, &m.extra_parameters, &m.keys_revision);
    sha256_hex(&format!("{inputs:?}"))[..12].to_owned()
}

/// One account's registration revision, `<stack>-<inputs>-<chain>`: a digest of its
/// stack's id (a new one each time the instance is created, and with it a new
/// Datadog registration), the registration digest its stack last ran with, and a
/// link to the revision before it, so that inputs changed and then put back never
/// return to a value a link has already seen. A link reads the first part to tell
/// an update of its stack (same registration) from a stack created anew.
pub(super) fn revision_of_account(stack_id: &str, digest: &str, prior: Option<&str>) -> String {
    next_revision(&sha256_hex(stack_id)[..12], digest, prior)
}

/// The same account's revision once its stack has run with `digest`.
pub(super) fn revision_after_update(prior: &str, digest: &str) -> Option<String> {
    let (stack, _) = prior.split_once('-')?;
    Some(next_revision(stack, digest, Some(prior)))
}

fn next_revision(stack: &str, digest: &str, prior: Option<&str>) -> String {
    let unchanged = prior.filter(|p| {
        let mut parts = p.split('-');
        parts.next() == Some(stack) && parts.next() == Some(digest)
    });
    match (unchanged, prior.filter(|p| !p.is_empty())) {
        (Some(same), _) => same.to_owned(),
        (None, Some(before)) => format!("{stack}-{digest}-{}", &sha256_hex(before)[..8]),
        (None, None) => format!("{stack}-{digest}-0"),
    }
}

/// The region named in a StackSet ARN (`arn:aws:cloudformation:<region>:…`).
pub(super) fn region_of_arn(arn: &str) -> Option<String> {
    arn.split(':').nth(3).filter(|r| !r.is_empty()).map(str::to_owned)
}

/// What the plan compares to decide whether `UpdateStackSet` runs: every setting
/// stored on the StackSet, plus the key revision.
pub(super) fn set_settings(m: &Model) -> impl PartialEq + std::fmt::Debug + '_ {
    (
        (&m.description, &m.template_url, &m.template_body, &m.datadog_site, &m.iam_role_name),
        (m.disable_metric_collection, m.disable_resource_collection, m.cspm, &m.extra_parameters, &m.keys_revision),
        (m.auto_deployment, m.retain_stacks, m.managed_execution, &m.tags),
    )
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::aws::StackSet;

    fn remote(params: &[(&str, &str)], regions: &[&str]) -> StackSet {
        StackSet {
            name: "dd".into(),
            id: "dd:1".into(),
            arn: "arn:aws:cloudformation:us-east-1:123456789012:stackset/dd:1".into(),
            status: "ACTIVE".into(),
            parameters: params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            organizational_unit_ids: vec!["r-abcd".into()],
            regions: regions.iter().map(|r| (*r).to_owned()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn hidden_keys_never_show_and_booleans_read_back_from_strings() {
        let mut m = Model::from_value(&Value::Null);
        m.region = Value::String("us-east-1".into());
        let r = remote(
            &[
                ("DatadogApiKey", "****"),
                ("DatadogAppKey", "****"),
                ("DatadogSite", "datadoghq.eu"),
                ("IAMRoleName", "DatadogIntegrationRole"),
                ("DisableMetricCollection", "true"),
                ("DisableResourceCollection", "false"),
                ("CloudSecurityPostureManagement", "false"),
            ],
            &["us-east-1"],
        );
        m.absorb_remote(&r, &[]);
        assert!(m.disable_metric_collection && !m.disable_resource_collection && !m.cspm);
        assert_eq!(m.datadog_site.as_deref(), Some("datadoghq.eu"));
        assert_eq!(m.extra_parameters, None, "the keys' **** must not surface as extra parameters");
        assert_eq!(m.to_value().get_attr("datadog_api_key_wo"), Some(&Value::Null));
    }

    #[test]
    fn a_second_region_shows_in_deployed_regions_and_region_keeps_what_was_written() {
        let mut m = Model::from_value(&Value::Null);
        m.region = Value::String("us-east-1".into());
        m.absorb_remote(&remote(&[], &["us-east-1", "eu-west-1"]), &[]);
        assert_eq!(m.region, Value::String("us-east-1".into()));
        assert_eq!(m.deployed_regions, Planned::Known(BTreeSet::from(["eu-west-1".to_owned(), "us-east-1".to_owned()])));
        let mut moved = Model::from_value(&Value::Null);
        moved.region = Value::String("us-east-1".into());
        moved.absorb_remote(&remote(&[], &["eu-west-1"]), &[]);
        assert_eq!(moved.region, Value::String("eu-west-1".into()), "all instances elsewhere: that is the region now");
        let mut same = Model::from_value(&Value::Null);
        same.region = Value::Dynamic { ty: crate::plugin::Type::String, value: Box::new(Value::String("us-east-1".into())) };
        same.absorb_remote(&remote(&[], &["us-east-1"]), &[]);
        assert_eq!(same.region_name().as_deref(), Some("us-east-1"), "an unchanged region keeps its configured form");
    }

    #[test]
    fn registration_revisions_follow_the_stack_and_the_template_inputs_only() {
        let mut m = Model::from_value(&Value::Null);
        let before = registration_digest(&m);
        m.description = Some("new words".into());
        m.tags = Some(BTreeMap::from([("team".into(), "platform".into())]));
        assert_eq!(registration_digest(&m), before, "descriptions and tags do not rewrite registrations");
        m.cspm = true;
        let after = registration_digest(&m);
        assert_ne!(after, before);
        let mut edited = m.clone();
        edited.template_drift = Some("a1b2".into());
        assert_ne!(registration_digest(&edited), after, "a template changed outside Terraform re-ran the stacks");
        let stack = "arn:aws:cloudformation:us-east-1:111111111111:stack/StackSet-dd-1/abc";
        let r = revision_of_account(stack, &before, None);
        assert_eq!(revision_of_account(stack, &before, Some(&r)), r, "nothing ran: the same revision");
        let updated = revision_after_update(&r, &after).unwrap_or_default();
        assert_eq!(updated[..12], r[..12], "same stack, new inputs");
        assert_ne!(updated, r);
        assert_eq!(revision_of_account(stack, &after, Some(&updated)), updated, "a refresh after the update agrees with the plan");
        let restored = revision_after_update(&updated, &before).unwrap_or_default();
        assert_ne!(restored, r, "inputs put back never return to a revision already seen");
        assert_ne!(revision_of_account("arn:…/other", &before, Some(&r))[..12], r[..12], "a stack created anew changes the first part");
        assert_eq!(region_of_arn("arn:aws:cloudformation:eu-west-1:123456789012:stackset/dd:1").as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn preferences_default_to_concurrent_accounts_and_give_way_to_what_is_written() {
        let mut m = Model::from_value(&Value::Null);
        let p = m.preferences();
        assert_eq!(p.region_concurrency_type.as_deref(), Some("SEQUENTIAL"), "regions stay one at a time");
        assert_eq!((p.max_concurrent_count, p.failure_tolerance_percentage), (Some(50), Some(100)));
        assert!(!m.concurrency_written());
        assert_eq!(p.concurrency_mode.as_deref(), Some("SOFT_FAILURE_TOLERANCE"));
        // The console's literal defaults, written out.
        m.operation_preferences = Value::object([
            ("region_concurrency_type", Value::String("SEQUENTIAL".into())),
            ("failure_tolerance_count", Value::from(0)),
            ("max_concurrent_percentage", Value::from(10)),
            ("concurrency_mode", Value::String("STRICT_FAILURE_TOLERANCE".into())),
        ]);
        let p = m.preferences();
        assert!(m.concurrency_written());
        assert_eq!((p.failure_tolerance_count, p.failure_tolerance_percentage), (Some(0), None));
        assert_eq!((p.max_concurrent_count, p.max_concurrent_percentage), (None, Some(10)));
        assert_eq!(p.concurrency_mode.as_deref(), Some("STRICT_FAILURE_TOLERANCE"));
        // Strict with a tolerance count: the default concurrency stays within AWS's rule.
        m.operation_preferences = Value::object([("failure_tolerance_count", Value::from(2)), ("concurrency_mode", Value::String("STRICT_FAILURE_TOLERANCE".into()))]);
        assert_eq!(m.preferences().max_concurrent_count, Some(3));
    }

    #[test]
    fn keys_are_kept_with_use_previous_value_unless_given() {
        let m = Model::from_value(&Value::Null);
        let kept = m.parameters("datadoghq.com", None);
        assert!(kept.iter().filter(|p| p.key.starts_with("DatadogApp") || p.key.starts_with("DatadogApi")).all(|p| p.use_previous && p.value.is_none()));
        let api = Secret::new("sandbox-api-key-for-this-test-000".into());
        let app = Secret::new("sandbox-app-key-for-this-test-000".into());
        let sent = m.parameters("datadoghq.com", Some((&api, &app)));
        assert!(sent.iter().any(|p| p.key == "DatadogApiKey" && p.value.as_deref() == Some(api.expose())));
        assert!(sent.iter().any(|p| p.key == "DisableMetricCollection" && p.value.as_deref() == Some("false")));
    }
}
