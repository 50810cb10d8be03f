//! Reading create/PATCH request documents: the JSON:API envelope, the
//! attribute patch (every field optional, `null` meaning "omitted"), the
//! oneOf objects told apart by their keys, and the merge of a patch onto
//! stored attributes.
//!
//! Merge rules (live PATCH, 2024-10 cassette): a supplied field replaces the
//! stored one, arrays replace whole, omitted fields keep their value, nested
//! objects merge field by field, and a oneOf object (`aws_regions`,
//! `namespace_filters`, `xray_services`) replaces whole because its variant is
//! its key. `auth_config` is merged by `state.rs`, which knows issued IDs.

use serde::de::{self, Deserializer};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::errors::ApiError;
use crate::model::{
    Attributes, IncludeSet, ListFilter, LogSourceTagFilter, MetricNameFilter, NamespaceTagFilter,
    Partition, ACCOUNT_TYPE,
};

/// Spec bounds of `auth_config.role_name`.
const ROLE_NAME_MAX: usize = 576;

/// The attributes of a create or PATCH request.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AttributesPatch {
    #[serde(default)]
    pub(crate) aws_account_id: Option<String>,
    #[serde(default)]
    aws_partition: Option<String>,
    #[serde(default)]
    account_tags: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) auth_config: Option<AuthPatch>,
    #[serde(default)]
    aws_regions: Option<IncludeSet>,
    #[serde(default)]
    logs_config: Option<LogsPatch>,
    #[serde(default)]
    metrics_config: Option<MetricsPatch>,
    #[serde(default)]
    resources_config: Option<ResourcesPatch>,
    #[serde(default)]
    traces_config: Option<TracesPatch>,
}

/// `auth_config` as sent: which variant, and the fields present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AuthPatch {
    Role {
        role_name: String,
        external_id: Option<String>,
    },
    Keys {
        access_key_id: String,
        secret_access_key: Option<String>,
    },
}

#[derive(Debug, Default, Deserialize)]
struct LogsPatch {
    #[serde(default)]
    lambda_forwarder: Option<LambdaPatch>,
}

#[derive(Debug, Default, Deserialize)]
struct LambdaPatch {
    #[serde(default)]
    lambdas: Option<Vec<String>>,
    #[serde(default)]
    sources: Option<Vec<String>>,
    #[serde(default)]
    log_source_config: Option<LogSourcePatch>,
}

#[derive(Debug, Default, Deserialize)]
struct LogSourcePatch {
    #[serde(default)]
    tag_filters: Option<Vec<LogSourceTagFilter>>,
}

#[derive(Debug, Default, Deserialize)]
struct MetricsPatch {
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    automute_enabled: Option<bool>,
    #[serde(default)]
    collect_custom_metrics: Option<bool>,
    #[serde(default)]
    collect_cloudwatch_alarms: Option<bool>,
    #[serde(default)]
    tag_filters: Option<Vec<NamespaceTagFilter>>,
    #[serde(default)]
    namespace_filters: Option<ListFilter>,
    #[serde(default)]
    metric_name_filters: Option<Vec<MetricNameFilter>>,
}

#[derive(Debug, Default, Deserialize)]
struct ResourcesPatch {
    #[serde(default)]
    cloud_security_posture_management_collection: Option<bool>,
    #[serde(default)]
    extended_collection: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
struct TracesPatch {
    #[serde(default)]
    xray_services: Option<IncludeSet>,
}

/// Parses `{"data":{"type":"account","attributes":{…}}}`; `data.id` is
/// ignored, as live ignores it on create.
pub(crate) fn parse_account_request(body: &[u8]) -> Result<AttributesPatch, ApiError> {
    let doc: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadBody(format!("request body is not valid JSON: {e}")))?;
    let data = doc
        .get("data")
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::BadBody("request body needs a `data` object".into()))?;
    match data.get("type") {
        Some(Value::String(t)) if t == ACCOUNT_TYPE => {}
        Some(other) => {
            return Err(ApiError::invalid(
                "type",
                format!("invalid type: {other}; expected \"{ACCOUNT_TYPE}\""),
            ))
        }
        None => return Err(ApiError::invalid("type", "required")),
    }
    let attributes = data
        .get("attributes")
        .filter(|v| v.is_object())
        .ok_or_else(|| ApiError::BadBody("request body needs `data.attributes`".into()))?;
    let patch: AttributesPatch = serde_path_to_error::deserialize(attributes)
        .map_err(|e| ApiError::invalid(e.path().to_string(), e.inner().to_string()))?;
    if let Some(id) = &patch.aws_account_id {
        check_account_id(id)?;
    }
    patch.partition()?;
    Ok(patch)
}

/// 12 digits, as AWS account IDs are (the official provider enforces the
/// same client-side; the server check is inferred).
fn check_account_id(id: &str) -> Result<(), ApiError> {
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "aws_account_id",
            format!("invalid AWS account ID: {id:?}; expected 12 digits"),
        ))
    }
}

impl AttributesPatch {
    /// The requested partition, if any, with the live error for bad values.
    pub(crate) fn partition(&self) -> Result<Option<Partition>, ApiError> {
        match &self.aws_partition {
            None => Ok(None),
            Some(p) => Partition::parse(p).map(Some).ok_or_else(|| {
                ApiError::invalid("aws_partition", format!("invalid partition: {p}"))
            }),
        }
    }

    /// Overlays every supplied field except `auth_config` (merged by the
    /// store, which knows which external IDs it issued).
    pub(crate) fn apply_to(self, a: &mut Attributes) -> Result<(), ApiError> {
        if let Some(p) = self.partition()? {
            a.aws_partition = p;
        }
        if let Some(id) = self.aws_account_id {
            a.aws_account_id = id;
        }
        set(&mut a.account_tags, self.account_tags.map(Some));
        set(&mut a.aws_regions, self.aws_regions);
        if let Some(fwd) = self.logs_config.and_then(|l| l.lambda_forwarder) {
            let dst = &mut a.logs_config.lambda_forwarder;
            set(&mut dst.lambdas, fwd.lambdas);
            set(&mut dst.sources, fwd.sources);
            if let Some(lsc) = fwd.log_source_config {
                set(&mut dst.log_source_config.tag_filters, lsc.tag_filters);
            }
        }
        if let Some(m) = self.metrics_config {
            let dst = &mut a.metrics_config;
            set(&mut dst.enabled, m.enabled);
            set(&mut dst.automute_enabled, m.automute_enabled);
            set(&mut dst.collect_custom_metrics, m.collect_custom_metrics);
            set(
                &mut dst.collect_cloudwatch_alarms,
                m.collect_cloudwatch_alarms,
            );
            set(&mut dst.tag_filters, m.tag_filters);
            set(&mut dst.namespace_filters, m.namespace_filters);
            set(
                &mut dst.metric_name_filters,
                m.metric_name_filters.map(Some),
            );
        }
        if let Some(r) = self.resources_config {
            let dst = &mut a.resources_config;
            set(
                &mut dst.cloud_security_posture_management_collection,
                r.cloud_security_posture_management_collection,
            );
            set(&mut dst.extended_collection, r.extended_collection);
        }
        if let Some(t) = self.traces_config {
            set(&mut a.traces_config.xray_services, t.xray_services);
        }
        Ok(())
    }
}

fn set<T>(dst: &mut T, src: Option<T>) {
    if let Some(v) = src {
        *dst = v;
    }
}

fn strings<E: de::Error>(v: &Value, key: &str) -> Result<Vec<String>, E> {
    Vec::<String>::deserialize(v).map_err(|e| E::custom(format!("{key}: {e}")))
}

/// A oneOf object's single key, or why there is not exactly one. Keys with
/// a `null` value count as absent.
fn only_key<'m, E: de::Error>(
    map: &'m Map<String, Value>,
    keys: [&'static str; 2],
) -> Result<(&'static str, &'m Value), E> {
    let present: Vec<_> = keys
        .iter()
        .filter_map(|k| map.get(*k).filter(|v| !v.is_null()).map(|v| (*k, v)))
        .collect();
    match present.as_slice() {
        [one] => Ok(*one),
        [] => Err(E::custom(format!(
            "expected one of `{}` or `{}`",
            keys[0], keys[1]
        ))),
        _ => Err(E::custom(format!(
            "set either `{}` or `{}`, not both",
            keys[0], keys[1]
        ))),
    }
}

impl<'de> Deserialize<'de> for IncludeSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = Map::deserialize(d)?;
        match only_key(&map, ["include_all", "include_only"])? {
            ("include_all", v) => v
                .as_bool()
                .map(IncludeSet::All)
                .ok_or_else(|| de::Error::custom("include_all: expected a boolean")),
            (k, v) => strings(v, k).map(IncludeSet::Only),
        }
    }
}

impl<'de> Deserialize<'de> for ListFilter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = Map::deserialize(d)?;
        list_filter(&map)
    }
}

fn list_filter<E: de::Error>(map: &Map<String, Value>) -> Result<ListFilter, E> {
    match only_key(map, ["exclude_only", "include_only"])? {
        ("exclude_only", v) => strings(v, "exclude_only").map(ListFilter::ExcludeOnly),
        (k, v) => strings(v, k).map(ListFilter::IncludeOnly),
    }
}

impl<'de> Deserialize<'de> for MetricNameFilter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = Map::deserialize(d)?;
        let namespace = match map.get("namespace") {
            Some(Value::String(s)) => s.clone(),
            _ => return Err(de::Error::custom("namespace: expected a string")),
        };
        Ok(Self {
            namespace,
            filter: list_filter(&map)?,
        })
    }
}

impl<'de> Deserialize<'de> for AuthPatch {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = Map::deserialize(d)?;
        let text = |k: &str| -> Result<Option<String>, D::Error> {
            match map.get(k) {
                None | Some(Value::Null) => Ok(None),
                // Go servers cannot tell "" from absent; treat it as absent.
                Some(Value::String(s)) if s.is_empty() => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(de::Error::custom(format!("{k}: expected a string"))),
            }
        };
        let role_name = text("role_name")?;
        let external_id = text("external_id")?;
        let access_key_id = text("access_key_id")?;
        let secret_access_key = text("secret_access_key")?;
        let is_role = role_name.is_some() || external_id.is_some();
        let is_keys = access_key_id.is_some() || secret_access_key.is_some();
        match (is_role, is_keys) {
            (true, true) => Err(de::Error::custom(
                "set either role_name/external_id or access_key_id/secret_access_key, not both",
            )),
            (false, false) => Err(de::Error::custom("expected role_name or access_key_id")),
            (true, false) => {
                let role_name =
                    role_name.ok_or_else(|| de::Error::custom("role_name: required"))?;
                let len = role_name.chars().count();
                if len > ROLE_NAME_MAX {
                    return Err(de::Error::custom(format!(
                        "role_name: must be 1 to {ROLE_NAME_MAX} characters, got {len}"
                    )));
                }
                Ok(Self::Role {
                    role_name,
                    external_id,
                })
            }
            (false, true) => Ok(Self::Keys {
                access_key_id: access_key_id
                    .ok_or_else(|| de::Error::custom("access_key_id: required"))?,
                secret_access_key,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AuthConfig;

    fn parse(attrs: &str) -> Result<AttributesPatch, ApiError> {
        parse_account_request(
            format!(r#"{{"data":{{"type":"account","attributes":{attrs}}}}}"#).as_bytes(),
        )
    }

    fn base() -> Attributes {
        Attributes::with_defaults(
            "123456789012".into(),
            Partition::Aws,
            AuthConfig::Role {
                role_name: "R".into(),
                external_id: "e".into(),
            },
        )
    }

    #[test]
    fn omitted_fields_keep_stored_values_and_arrays_replace() {
        let mut a = base();
        let first = parse(
            r#"{"account_tags":["a:1","b:2"],"aws_regions":{"include_only":["us-east-1"]},
                "metrics_config":{"namespace_filters":{"include_only":["AWS/EC2"]}},
                "traces_config":{"xray_services":{"include_only":["AWS/AppSync"]}}}"#,
        );
        assert!(first.and_then(|p| p.apply_to(&mut a)).is_ok());
        let second = parse(
            r#"{"account_tags":["c:3"],"metrics_config":{"collect_custom_metrics":true},
                "traces_config":{},"logs_config":{}}"#,
        );
        assert!(second.and_then(|p| p.apply_to(&mut a)).is_ok());
        assert_eq!(a.account_tags, Some(vec!["c:3".to_owned()]));
        assert_eq!(a.aws_regions, IncludeSet::Only(vec!["us-east-1".into()]));
        assert_eq!(
            a.metrics_config.namespace_filters,
            ListFilter::IncludeOnly(vec!["AWS/EC2".into()])
        );
        assert!(a.metrics_config.collect_custom_metrics);
        assert!(
            a.metrics_config.enabled,
            "untouched sibling keeps its value"
        );
        assert_eq!(
            a.traces_config.xray_services,
            IncludeSet::Only(vec!["AWS/AppSync".into()])
        );
    }

    #[test]
    fn one_of_objects_replace_whole() {
        let mut a = base();
        let p = parse(r#"{"aws_regions":{"include_only":["eu-west-1"]}}"#);
        assert!(p.and_then(|p| p.apply_to(&mut a)).is_ok());
        let p = parse(r#"{"aws_regions":{"include_all":false}}"#);
        assert!(p.and_then(|p| p.apply_to(&mut a)).is_ok());
        assert_eq!(a.aws_regions, IncludeSet::All(false));
    }

    #[test]
    fn rejects_bad_shapes_with_field_paths() {
        let cases = [
            (
                "both-region-keys",
                r#"{"aws_regions":{"include_all":true,"include_only":[]}}"#,
                "aws_regions",
            ),
            (
                "empty-region-object",
                r#"{"aws_regions":{}}"#,
                "aws_regions",
            ),
            (
                "bool-as-string",
                r#"{"metrics_config":{"enabled":"yes"}}"#,
                "metrics_config.enabled",
            ),
            (
                "role-and-keys",
                r#"{"auth_config":{"role_name":"r","access_key_id":"AKIA"}}"#,
                "auth_config",
            ),
            (
                "bad-partition",
                r#"{"aws_partition":"aws-invalid"}"#,
                "aws_partition",
            ),
            (
                "short-account-id",
                r#"{"aws_account_id":"1234"}"#,
                "aws_account_id",
            ),
        ];
        for (name, attrs, field) in cases {
            match parse(attrs) {
                Err(ApiError::InvalidValue { field: f, .. }) => assert_eq!(f, field, "{name}"),
                other => panic!("{name}: expected InvalidValue, got {other:?}"),
            }
        }
    }

    #[test]
    fn role_name_length_is_bounded() {
        let long = "r".repeat(ROLE_NAME_MAX + 1);
        let r = parse(&format!(r#"{{"auth_config":{{"role_name":"{long}"}}}}"#));
        assert!(matches!(r, Err(ApiError::InvalidValue { .. })));
        let ok = "r".repeat(ROLE_NAME_MAX);
        assert!(parse(&format!(r#"{{"auth_config":{{"role_name":"{ok}"}}}}"#)).is_ok());
    }

    #[test]
    fn envelope_needs_account_type() {
        let r = parse_account_request(br#"{"data":{"type":"other","attributes":{}}}"#);
        assert!(matches!(r, Err(ApiError::InvalidValue { ref field, .. }) if field == "type"));
        let r = parse_account_request(b"not json");
        assert!(matches!(r, Err(ApiError::BadBody(_))));
    }
}
