//! The provider's table of AWS regions (`src/regions.rs`) against AWS's published
//! partition metadata, as botocore ships it in the project's venv (the AWS emulator
//! refuses unknown regions from the same data). Skips, saying why, without a venv.

use std::collections::BTreeSet;
use std::path::PathBuf;

fn endpoints_json() -> Option<PathBuf> {
    let lib = testkit::repo_root().join(".venv").join("lib");
    std::fs::read_dir(lib).ok()?.flatten().map(|python| python.path().join("site-packages/botocore/data/endpoints.json")).find(|p| p.is_file())
}

#[test]
fn the_region_table_matches_aws_partition_metadata() -> anyhow::Result<()> {
    let Some(path) = endpoints_json() else {
        eprintln!("skipping: no botocore endpoints.json in .venv (run scripts/venv)");
        return Ok(());
    };
    let data: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    for (partition, ours) in terraform_provider_datadog::regions::PARTITIONS {
        let theirs: BTreeSet<String> = data["partitions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["partition"] == *partition)
            .and_then(|p| p["regions"].as_object())
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default();
        let ours: BTreeSet<String> = ours.iter().map(|r| (*r).to_owned()).collect();
        assert_eq!(ours, theirs, "regions of {partition} differ from {}", path.display());
    }
    Ok(())
}
