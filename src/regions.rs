//! AWS partitions and their regions: the one list both resources check names against.
//!
//! The AWS SDK for Rust keeps its partition metadata private to each service crate,
//! so the names are written here, from AWS's published partition metadata (the
//! `endpoints.json` that botocore ships; `tests/regions.rs` compares this table with
//! the copy in the project's venv, which the AWS emulator uses too). Only the
//! partitions Datadog integrates (`aws`, `aws-cn`, `aws-us-gov`) are listed.

/// `(partition, regions)`.
pub const PARTITIONS: &[(&str, &[&str])] = &[
    (
        "aws",
        &[
            "af-south-1",
            "ap-east-1",
            "ap-east-2",
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ap-south-1",
            "ap-south-2",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-southeast-3",
            "ap-southeast-4",
            "ap-southeast-5",
            "ap-southeast-6",
            "ap-southeast-7",
            "ca-central-1",
            "ca-west-1",
            "eu-central-1",
            "eu-central-2",
            "eu-north-1",
            "eu-south-1",
            "eu-south-2",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
            "il-central-1",
            "me-central-1",
            "me-south-1",
            "mx-central-1",
            "sa-east-1",
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
        ],
    ),
    ("aws-cn", &["cn-north-1", "cn-northwest-1"]),
    ("aws-us-gov", &["us-gov-east-1", "us-gov-west-1"]),
];

/// The partition names, e.g. for a diagnostic.
pub fn partition_names() -> impl Iterator<Item = &'static str> {
    PARTITIONS.iter().map(|(p, _)| *p)
}

/// Whether `name` is a partition Datadog integrates.
#[must_use]
pub fn is_partition(name: &str) -> bool {
    partition_names().any(|p| p == name)
}

/// The partition of a region, if it is a known region.
#[must_use]
pub fn partition_of(region: &str) -> Option<&'static str> {
    PARTITIONS.iter().find(|(_, regions)| regions.contains(&region)).map(|(p, _)| *p)
}

/// Why `region` is refused, or `None` when it is a region of `partition` (of any
/// listed partition when `partition` is `None`).
#[must_use]
pub fn check(region: &str, partition: Option<&str>) -> Option<String> {
    match (partition_of(region), partition) {
        (Some(found), Some(wanted)) if found != wanted => {
            Some(format!("{region:?} is a region of the {found} partition, not of {wanted}."))
        }
        (Some(_), _) => None,
        (None, _) => Some(format!(
            "{region:?} is not an AWS region. Regions look like \"us-east-1\" or \"eu-west-1\"{}.",
            closest(region).map(|c| format!("; did you mean {c:?}?")).unwrap_or_default()
        )),
    }
}

/// A known region one edit away (a typo), if there is exactly one.
fn closest(region: &str) -> Option<&'static str> {
    let near: Vec<&str> = PARTITIONS.iter().flat_map(|(_, r)| r.iter().copied()).filter(|r| one_edit_apart(r, region)).collect();
    match near.as_slice() {
        [one] => Some(one),
        _ => None,
    }
}

fn one_edit_apart(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let (short, long) = if a.len() <= b.len() { (&a, &b) } else { (&b, &a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let prefix = short.iter().zip(long.iter()).take_while(|(x, y)| x == y).count();
    if short.len() == long.len() {
        short[prefix + 1..] == long[prefix + 1..] || prefix == short.len()
    } else {
        short[prefix..] == long[prefix + 1..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_regions_pass_and_others_are_refused_with_a_reason() {
        for ok in ["us-east-1", "eu-west-1", "ap-southeast-7", "cn-north-1", "us-gov-west-1"] {
            assert_eq!(check(ok, None), None, "{ok}");
        }
        assert_eq!(check("us-gov-west-1", Some("aws-us-gov")), None);
        let wrong_partition = check("us-east-1", Some("aws-cn")).unwrap_or_default();
        assert!(wrong_partition.contains("aws partition"), "{wrong_partition}");
        let typo = check("us-east-99", None).unwrap_or_default();
        assert!(typo.contains("not an AWS region"), "{typo}");
        assert!(check("eu-wset-1", None).is_some());
        assert!(check("us-esat-1", None).unwrap_or_default().contains("not an AWS region"));
        assert!(check("us-east-11", None).unwrap_or_default().contains("did you mean \"us-east-1\""));
    }

    #[test]
    fn partitions() {
        assert!(is_partition("aws") && is_partition("aws-cn") && is_partition("aws-us-gov"));
        assert!(!is_partition("aws-invalid"));
        assert_eq!(partition_of("cn-northwest-1"), Some("aws-cn"));
    }
}
