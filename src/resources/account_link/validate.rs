//! Configuration checks made at `validate`, before any API call. Unknown values pass.

use crate::plugin::{AttrPath, Diagnostics, Value};

fn known_str<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.get_attr(name).and_then(Value::as_str)
}

/// Every rule of the link's configuration.
pub(super) fn validate(config: &Value, diags: &mut Diagnostics) {
    if let Some(id) = known_str(config, "aws_account_id") {
        if !is_account_id(id) {
            diags.error_at(
                AttrPath::root("aws_account_id"),
                "Invalid AWS account ID",
                format!("{id:?} is not an AWS account ID: use the 12 digits, e.g. \"123456789012\"."),
            );
        }
    }
    if let Some(p) = known_str(config, "aws_partition") {
        if !crate::regions::is_partition(p) {
            diags.error_at(
                AttrPath::root("aws_partition"),
                "Invalid AWS partition",
                format!("{p:?} is not an AWS partition: use one of {}.", crate::regions::partition_names().collect::<Vec<_>>().join(", ")),
            );
        }
    }
    if let Some(r) = known_str(config, "role_name") {
        let ok = (1..=64).contains(&r.len()) && r.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
        if !ok {
            diags.error_at(
                AttrPath::root("role_name"),
                "Invalid IAM role name",
                format!("{r:?} is not an IAM role name: 1 to 64 letters, digits and +=,.@_- characters."),
            );
        }
    }
    if let Some(Value::Set(regions)) = config.get_attr("aws_regions") {
        if regions.is_empty() {
            diags.error_at(
                AttrPath::root("aws_regions"),
                "No regions",
                "An empty aws_regions would collect nothing. Leave it unset to collect from every region.",
            );
        }
        // Left out, the partition is its default, `aws`; unknown, any partition may do.
        let partition = match config.get_attr("aws_partition") {
            None | Some(Value::Null) => Some("aws"),
            Some(p) => p.as_str().filter(|p| crate::regions::is_partition(p)),
        };
        for r in regions.iter().filter_map(Value::as_str) {
            if let Some(why) = crate::regions::check(r, partition) {
                diags.error_at(AttrPath::root("aws_regions"), "Invalid AWS region", why);
            }
        }
    }
    match (config.get_attr("aws_regions").filter(|r| !r.is_null()), config.get_attr("all_aws_regions").and_then(Value::as_bool)) {
        (Some(_), Some(true)) => diags.error_at(
            AttrPath::root("all_aws_regions"),
            "Conflicting region settings",
            "all_aws_regions = true collects from every region, while aws_regions restricts collection: set one of them.",
        ),
        (None, Some(false)) => diags.error_at(
            AttrPath::root("all_aws_regions"),
            "Regions to restrict to are missing",
            "all_aws_regions = false needs aws_regions, the regions to collect from. Leave both unset to keep what Datadog has.",
        ),
        _ => {}
    }
    if let Some(ns) = config.get_attr("metrics").and_then(|m| m.get_attr("namespace_filters")) {
        if ns.is_known() && !ns.is_null() {
            let inc = ns.get_attr("include_only").unwrap_or(&Value::Null);
            let exc = ns.get_attr("exclude_only").unwrap_or(&Value::Null);
            let path = AttrPath::root("metrics").attr("namespace_filters");
            match (inc.is_null(), exc.is_null()) {
                (false, false) => diags.error_at(
                    path,
                    "Conflicting namespace filters",
                    "Set either include_only or exclude_only, not both: Datadog keeps one kind of filter per account.",
                ),
                (true, true) => diags.error_at(
                    path,
                    "Empty namespace filters",
                    "Set include_only or exclude_only, or remove namespace_filters to keep the filter Datadog has.",
                ),
                _ => {}
            }
        }
    }
    if let Some(res) = config.get_attr("resources") {
        let cspm = res.get_attr("cloud_security_posture_management").and_then(Value::as_bool);
        let extended = res.get_attr("extended_collection").and_then(Value::as_bool);
        if cspm == Some(true) && extended == Some(false) {
            diags.error_at(
                AttrPath::root("resources").attr("cloud_security_posture_management"),
                "CSPM needs resource collection",
                "Cloud Security Posture Management reads the collected resources: set extended_collection = true, or turn CSPM off.",
            );
        }
    }
    if let Some(Value::Set(items)) = config.get_attr("logs").and_then(|l| l.get_attr("lambda_forwarder")).and_then(|f| f.get_attr("lambdas")) {
        for arn in items.iter().filter_map(Value::as_str) {
            if !(arn.starts_with("arn:") && arn.contains(":lambda:")) {
                diags.error_at(
                    AttrPath::root("logs").attr("lambda_forwarder").attr("lambdas"),
                    "Invalid Lambda ARN",
                    format!("{arn:?} is not a Lambda function ARN such as \"arn:aws:lambda:us-east-1:123456789012:function:datadog-forwarder\"."),
                );
            }
        }
    }
    check_duration(config.get_attr("wait_for_registration"), AttrPath::root("wait_for_registration"), diags);
    if let Some(t) = config.get_attr("timeouts") {
        for op in ["create", "update", "delete", "read"] {
            check_duration(t.get_attr(op), AttrPath::root("timeouts").attr(op), diags);
        }
    }
}

fn check_duration(v: Option<&Value>, path: AttrPath, diags: &mut Diagnostics) {
    if let Some(text) = v.and_then(Value::as_str) {
        if let Err(e) = crate::duration::parse(text) {
            diags.error_at(path, "Invalid duration", e);
        }
    }
}

/// 12 digits.
#[must_use]
pub(super) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids() {
        assert!(is_account_id("123456789012"));
        for bad in ["12345678901", "1234567890123", "12345678901a", ""] {
            assert!(!is_account_id(bad), "{bad}");
        }
    }
}
