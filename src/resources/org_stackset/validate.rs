//! Configuration checks made at `validate`, before any API call. Unknown values pass.

use crate::clients::datadog::SITES;
use crate::plugin::{AttrPath, Diagnostics, Value};

use super::parameters;

pub(super) const ONE_REGION: &str = "Datadog's template creates global IAM resources (the integration role), so the StackSet \
    must deploy to exactly one region per account: a second region's stacks would fail on the existing role. Pick the one \
    region, e.g. region = \"us-east-1\".";

fn str_attr<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.get_attr(name).map(Value::unwrap_dynamic).and_then(Value::as_str)
}

/// StackSet names: a letter, then letters, digits and hyphens; at most 128.
pub(super) fn is_stack_set_name(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// `NAME`, `NAME,CALL_AS` or `NAME,CALL_AS,REGION`.
pub(super) fn parse_import_id(id: &str) -> Option<(&str, crate::clients::aws::CallAs, Option<String>)> {
    use crate::clients::aws::CallAs;
    let mut parts = id.split(',');
    let name = parts.next().filter(|n| is_stack_set_name(n))?;
    let call_as = match parts.next() {
        None => CallAs::SelfAccount,
        Some(c) => CallAs::parse(c)?,
    };
    let region = match parts.next() {
        None => None,
        Some(r) if crate::regions::check(r, None).is_none() => Some(r.to_owned()),
        Some(_) => return None,
    };
    parts.next().is_none().then_some((name, call_as, region))
}

/// `r-` + 4–32 of [0-9a-z], or `ou-` + 4–32 of [0-9a-z] + `-` + 8–32 of [a-z0-9].
pub(super) fn is_target_id(s: &str) -> bool {
    let lower_alnum = |p: &str, min: usize, max: usize| (min..=max).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase());
    if let Some(rest) = s.strip_prefix("r-") {
        return lower_alnum(rest, 4, 32);
    }
    if let Some(rest) = s.strip_prefix("ou-") {
        return rest.split_once('-').is_some_and(|(a, b)| lower_alnum(a, 4, 32) && lower_alnum(b, 8, 32));
    }
    false
}

fn number(v: Option<&Value>) -> Option<i64> {
    v.and_then(Value::as_number).and_then(|n| n.as_i64())
}

/// Every rule of the StackSet's configuration.
pub(super) fn validate(config: &Value, diags: &mut Diagnostics) {
    if let Some(name) = str_attr(config, "name") {
        if !is_stack_set_name(name) {
            diags.error_at(
                AttrPath::root("name"),
                "Invalid StackSet name",
                format!("{name:?}: a StackSet name starts with a letter and has only letters, digits and hyphens, at most 128."),
            );
        }
    }
    check_region(config.get_attr("region"), diags);
    match config.get_attr("organizational_unit_ids") {
        Some(Value::Set(ids)) if ids.is_empty() => diags.error_at(
            AttrPath::root("organizational_unit_ids"),
            "No deployment targets",
            "Give the root id (r-…) for the whole organization, or at least one OU id (ou-…).",
        ),
        Some(Value::Set(ids)) => {
            for id in ids.iter().filter_map(Value::as_str) {
                if !is_target_id(id) {
                    diags.error_at(
                        AttrPath::root("organizational_unit_ids"),
                        "Invalid organizational unit id",
                        format!("{id:?} is neither a root id (r-xxxx) nor an OU id (ou-xxxx-xxxxxxxx)."),
                    );
                }
            }
        }
        _ => {}
    }
    let url = config.get_attr("template_url").unwrap_or(&Value::Null);
    let body = config.get_attr("template_body").unwrap_or(&Value::Null);
    if !url.is_null() && !body.is_null() {
        diags.error_at(AttrPath::root("template_body"), "Conflicting template arguments", "Set template_url or template_body, not both.");
    }
    if let Some(b) = body.as_str() {
        if b.len() > 51_200 {
            diags.error_at(AttrPath::root("template_body"), "Template too large", "CloudFormation takes at most 51,200 bytes in template_body; upload it to S3 and use template_url.");
        }
    }
    let flag = |n| config.get_attr(n).and_then(Value::as_bool);
    if flag("cloud_security_posture_management") == Some(true) && flag("disable_resource_collection") == Some(true) {
        diags.error_at(
            AttrPath::root("cloud_security_posture_management"),
            "CSPM needs resource collection",
            "The template's rule ResourceCollectionValidState refuses CloudSecurityPostureManagement = true with \
             DisableResourceCollection = true: CSM Misconfigurations reads the collected resources.",
        );
    }
    if let Some(site) = str_attr(config, "datadog_site") {
        if !SITES.contains(&site) {
            diags.error_at(AttrPath::root("datadog_site"), "Unknown Datadog site", format!("{site:?} is not a Datadog site. Use one of: {}.", SITES.join(", ")));
        }
    }
    if let Some(Value::Map(extra)) = config.get_attr("extra_parameters") {
        for key in extra.keys() {
            if parameters::TYPED.contains(&key.as_str()) {
                diags.error_at(
                    AttrPath::root("extra_parameters").key(key),
                    "Parameter set twice",
                    format!("{key} has its own argument (or comes from the provider): set it there, not in extra_parameters."),
                );
            }
        }
    }
    if let Some(call_as) = str_attr(config, "call_as") {
        if !matches!(call_as, "SELF" | "DELEGATED_ADMIN") {
            diags.error_at(AttrPath::root("call_as"), "Invalid call_as", format!("{call_as:?}: use SELF or DELEGATED_ADMIN."));
        }
        if call_as == "DELEGATED_ADMIN" && flag("include_management_account") == Some(true) {
            diags.error_at(
                AttrPath::root("include_management_account"),
                "The management account's stack needs the management account",
                "include_management_account deploys the template as an ordinary stack in the organization's management \
                 account, and only the management account can create a stack in itself: a delegated administrator cannot. \
                 Run this configuration from the management account with call_as = \"SELF\", or manage the management \
                 account's stack from a separate configuration that does.",
            );
        }
    }
    if let Some(Value::Map(tags)) = config.get_attr("tags") {
        if tags.len() > 50 {
            diags.error_at(AttrPath::root("tags"), "Too many tags", "A StackSet takes at most 50 tags.");
        }
    }
    if let Some(prefs) = config.get_attr("operation_preferences").filter(|p| p.is_known() && !p.is_null()) {
        check_preferences(prefs, diags);
    }
    if let Some(t) = config.get_attr("timeouts") {
        for op in ["create", "update", "delete"] {
            if let Some(text) = t.get_attr(op).and_then(Value::as_str) {
                if let Err(e) = crate::duration::parse(text) {
                    diags.error_at(AttrPath::root("timeouts").attr(op), "Invalid duration", e);
                }
            }
        }
    }
}

fn check_region(region: Option<&Value>, diags: &mut Diagnostics) {
    let Some(region) = region.map(Value::unwrap_dynamic) else { return };
    let path = AttrPath::root("region");
    match region {
        Value::List(_) | Value::Tuple(_) | Value::Set(_) => diags.error_at(path, "Exactly one region", ONE_REGION),
        Value::String(r) if r.contains(',') || r.contains(char::is_whitespace) => diags.error_at(path, "Exactly one region", ONE_REGION),
        Value::String(r) => {
            if let Some(why) = crate::regions::check(r, None) {
                diags.error_at(path, "Invalid AWS region", why);
            }
        }
        Value::Null | Value::Unknown => {}
        _ => diags.error_at(path, "Invalid region", "region must be one region name, such as \"us-east-1\"."),
    }
}

fn check_preferences(p: &Value, diags: &mut Diagnostics) {
    let path = |n: &str| AttrPath::root("operation_preferences").attr(n);
    if let Some(t) = p.get_attr("region_concurrency_type").and_then(Value::as_str) {
        if !matches!(t, "SEQUENTIAL" | "PARALLEL") {
            diags.error_at(path("region_concurrency_type"), "Invalid region concurrency", format!("{t:?}: use SEQUENTIAL or PARALLEL."));
        }
    }
    let mode = p.get_attr("concurrency_mode").and_then(Value::as_str);
    if let Some(m) = mode {
        if !matches!(m, "STRICT_FAILURE_TOLERANCE" | "SOFT_FAILURE_TOLERANCE") {
            diags.error_at(path("concurrency_mode"), "Invalid concurrency mode", format!("{m:?}: use STRICT_FAILURE_TOLERANCE or SOFT_FAILURE_TOLERANCE."));
        }
    }
    let ftc = number(p.get_attr("failure_tolerance_count"));
    let ftp = number(p.get_attr("failure_tolerance_percentage"));
    let mcc = number(p.get_attr("max_concurrent_count"));
    let mcp = number(p.get_attr("max_concurrent_percentage"));
    if ftc.is_some() && ftp.is_some() {
        diags.error_at(path("failure_tolerance_percentage"), "Conflicting failure tolerance", "Set failure_tolerance_count or failure_tolerance_percentage, not both.");
    }
    if mcc.is_some() && mcp.is_some() {
        diags.error_at(path("max_concurrent_percentage"), "Conflicting concurrency", "Set max_concurrent_count or max_concurrent_percentage, not both.");
    }
    for (name, v, min, max) in [
        ("failure_tolerance_count", ftc, 0, i64::from(i32::MAX)),
        ("failure_tolerance_percentage", ftp, 0, 100),
        ("max_concurrent_count", mcc, 1, i64::from(i32::MAX)),
        ("max_concurrent_percentage", mcp, 1, 100),
    ] {
        if let Some(v) = v {
            if !(min..=max).contains(&v) {
                diags.error_at(path(name), "Out of range", format!("{name} must be between {min} and {max}."));
            }
        }
    }
    // In strict mode AWS refuses more parallel accounts than failures tolerated + 1.
    if let (Some(mcc), Some(ftc)) = (mcc, ftc) {
        if mode != Some("SOFT_FAILURE_TOLERANCE") && mcc > ftc + 1 {
            diags.error_at(
                path("max_concurrent_count"),
                "Concurrency above failure tolerance",
                format!("With STRICT_FAILURE_TOLERANCE, max_concurrent_count ({mcc}) may be at most failure_tolerance_count + 1 ({}).", ftc + 1),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_ids_and_names() {
        for ok in ["r-ab12", "ou-ab12-abcdefgh", "ou-0a1b-0123456789"] {
            assert!(is_target_id(ok), "{ok}");
        }
        for bad in ["r-AB12", "r-ab", "ou-ab12", "ou-ab12-abc", "123456789012", "ou_ab12_abcdefgh"] {
            assert!(!is_target_id(bad), "{bad}");
        }
        assert!(is_stack_set_name("DatadogIntegration-1"));
        for bad in ["1abc", "", "a_b", "a b"] {
            assert!(!is_stack_set_name(bad), "{bad}");
        }
    }

    #[test]
    fn several_regions_are_refused_with_the_guides_reason() {
        for bad in [
            Value::List(vec![Value::String("us-east-1".into())]),
            Value::Tuple(vec![Value::String("us-east-1".into()), Value::String("eu-west-1".into())]),
            Value::String("us-east-1,eu-west-1".into()),
        ] {
            let mut d = Diagnostics::new();
            check_region(Some(&bad), &mut d);
            assert!(d.0.iter().any(|x| x.detail.contains("global IAM")), "{bad:?}: {d:?}");
        }
        let mut d = Diagnostics::new();
        check_region(Some(&Value::String("eu-central-1".into())), &mut d);
        assert!(d.is_empty());
    }

    #[test]
    fn a_delegated_admin_cannot_include_the_management_account() {
        let config = |call_as: &str, include: bool| {
            Value::object([("call_as", Value::String(call_as.into())), ("include_management_account", Value::Bool(include))])
        };
        let mut d = Diagnostics::new();
        validate(&config("DELEGATED_ADMIN", true), &mut d);
        let refused: Vec<_> = d.0.iter().filter(|x| x.summary.starts_with("The management account's stack")).collect();
        assert_eq!(refused.len(), 1, "{d:?}");
        assert_eq!(refused[0].path, Some(AttrPath::root("include_management_account")));
        for (call_as, include) in [("SELF", true), ("DELEGATED_ADMIN", false)] {
            let mut d = Diagnostics::new();
            validate(&config(call_as, include), &mut d);
            assert!(!d.0.iter().any(|x| x.summary.starts_with("The management account's stack")), "{call_as} {include}: {d:?}");
        }
    }
}
