//! `ValidateDataResourceConfig`: the data source's own checks, on a configuration
//! that may hold unknown values.

use crate::plugin::data_source::DataSource;
use crate::plugin::diagnostics::Diagnostics;
use crate::plugin::value::Value;

/// Checks a data source configuration; no remote call is made.
pub(crate) fn validate_data_resource_config(ds: &dyn DataSource, config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    ds.validate(config, &mut diags);
    diags
}

#[cfg(test)]
mod tests {
    use super::super::scripted_data::{config, ScriptedData};
    use super::*;

    #[test]
    fn the_data_source_s_checks_are_the_answer() {
        let cases: Vec<(&str, bool, Vec<&str>)> = vec![("accepted", false, vec![]), ("refused", true, vec!["validate failed"])];
        for (name, fails, want) in cases {
            let ds = ScriptedData::new(None, fails);
            let diags = validate_data_resource_config(&ds, &config(Value::Unknown));
            assert_eq!(diags.0.iter().map(|d| d.summary.as_str()).collect::<Vec<_>>(), want, "case {name}");
            assert_eq!(ds.calls(), vec!["validate"], "case {name}");
        }
    }
}
