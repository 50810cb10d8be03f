//! `ValidateResourceConfig`: the write-only refusal, then the resource's own checks.

use super::write_only::write_only_paths;
use crate::plugin::diagnostics::Diagnostics;
use crate::plugin::resource::Resource;
use crate::plugin::value::Value;

/// Checks a resource configuration. A client that cannot take write-only attributes
/// (Terraform and OpenTofu before 1.11) would keep their values in state, so each one
/// the configuration sets, at any depth, is refused at its path instead.
pub(crate) fn validate_resource_config(r: &dyn Resource, config: &Value, write_only_allowed: bool) -> Diagnostics {
    let mut diags = Diagnostics::new();
    if !write_only_allowed {
        for path in write_only_paths(&r.schema().block, config) {
            let name = path.reference();
            diags.error_at(
                path,
                "Write-only attribute needs Terraform or OpenTofu 1.11 or later",
                format!(
                    "{name} is write-only: this version of the CLI does not support write-only attributes and would \
                     keep the value in state. Upgrade to Terraform 1.11 or OpenTofu 1.11 or later, or leave it \
                     unset."
                ),
            );
        }
    }
    r.validate(config, &mut diags);
    diags
}

#[cfg(test)]
mod tests {
    use super::super::scripted::{state, Scripted};
    use super::*;
    use crate::plugin::value::AttrPath;

    #[test]
    fn write_only_values_are_refused_only_for_a_client_that_would_store_them() {
        let secret = state(Value::Null, "n", Value::string("s"));
        let unset = state(Value::Null, "n", Value::Null);
        let refused = || vec![Some(AttrPath::root("token_wo")), Some(AttrPath::root("auth").attr("key_wo"))];
        let cases: Vec<(&str, &Value, bool, Vec<Option<AttrPath>>)> = vec![
            ("old client, set at every depth", &secret, false, refused()),
            ("new client", &secret, true, vec![]),
            ("old client, nothing set", &unset, false, vec![]),
        ];
        for (name, config, allowed, want) in cases {
            let r = Scripted::new(None, false);
            let diags = validate_resource_config(&r, config, allowed);
            let paths: Vec<_> = diags.0.iter().map(|d| d.path.clone()).collect();
            assert_eq!(paths, want, "case {name}");
            assert_eq!(r.calls(), vec!["validate"], "case {name}: the resource still validates");
        }
    }

    #[test]
    fn the_refusal_names_the_attribute_as_configuration_does() {
        let r = Scripted::new(None, false);
        let diags = validate_resource_config(&r, &state(Value::Null, "n", Value::string("s")), false);
        let details: Vec<_> = diags.0.iter().map(|d| d.detail.split(':').next().unwrap_or_default()).collect();
        assert_eq!(details, vec!["token_wo is write-only", "auth.key_wo is write-only"]);
    }

    #[test]
    fn the_resource_s_own_diagnostics_follow() {
        let r = Scripted::new(None, true);
        let diags = validate_resource_config(&r, &state(Value::Null, "n", Value::Null), false);
        assert_eq!(diags.0.iter().map(|d| d.summary.as_str()).collect::<Vec<_>>(), vec!["validate failed"]);
    }
}
