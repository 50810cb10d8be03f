//! `ValidateListResourceConfig`: a `list` block's filters checked before any remote
//! call, at `terraform validate` and again before `terraform query` lists.

use crate::plugin::diagnostics::Diagnostics;
use crate::plugin::list::ListResource;
use crate::plugin::value::{AttrPath, PathStep, Value};

/// Checks the `config { … }` block of a `list` block. Terraform sends every
/// attribute (null when not written) even when the block is left out. It reads a
/// diagnostic's path from the `list` block, where the filters sit in `config`: the
/// list's paths (from the `config` block) get that step in front.
pub(crate) fn validate_list_resource_config(list: &dyn ListResource, config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    list.validate(config, &mut diags);
    for d in &mut diags.0 {
        if let Some(path) = d.path.take() {
            d.path = Some(AttrPath(std::iter::once(PathStep::Attr("config".into())).chain(path.0).collect()));
        }
    }
    diags
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;

    use super::*;
    use crate::plugin::list::{ListOut, ListRequest};
    use crate::plugin::resource::CallCtx;
    use crate::plugin::schema::Schema;

    /// Refuses a `prefix` longer than three characters.
    struct Short(Schema);

    #[async_trait]
    impl ListResource for Short {
        fn type_name(&self) -> &'static str {
            "short"
        }
        fn schema(&self) -> &Schema {
            &self.0
        }
        fn validate(&self, config: &Value, diags: &mut Diagnostics) {
            if config.get_attr("prefix").and_then(Value::as_str).is_some_and(|p| p.len() > 3) {
                diags.error_at(AttrPath::root("prefix"), "Prefix too long", "At most three characters.");
            }
        }
        async fn list(&self, _: &CallCtx, _: ListRequest<'_>, _: &ListOut, _: &mut Diagnostics) {
            unreachable!("validation makes no call");
        }
    }

    #[test]
    fn the_list_s_own_checks_are_the_answer_at_their_path_in_the_list_block() {
        let cases = [
            ("fine", Value::object([("prefix", Value::string("ab"))]), vec![]),
            ("unknown", Value::object([("prefix", Value::Unknown)]), vec![]),
            ("too long", Value::object([("prefix", Value::string("abcd"))]), vec![Some(AttrPath::root("config").attr("prefix"))]),
        ];
        for (name, config, paths) in cases {
            let diags = validate_list_resource_config(&Short(Schema::default()), &config);
            assert_eq!(diags.0.iter().map(|d| d.path.clone()).collect::<Vec<_>>(), paths, "case {name}");
        }
    }
}
