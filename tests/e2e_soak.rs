//! Reliability campaign: randomized fault schedules and kills, each replayable by its
//! seed. Every run must converge within three applies to an empty plan, with Datadog
//! and the emulator matching the configuration (no duplicate account, no leaked
//! instance), and leave nothing behind after destroy; no secret may appear in any
//! artefact. `make test` runs 5 seeds; `make soak` runs more (`SEEDS=N`, `SEED=S`).

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};
use testkit::{fake_datadog_admin, FakeDatadog, Sandbox, Terraform, REQUIRED_PROVIDERS};

const SET: &str = "DatadogSoak";

/// xorshift64*: small, deterministic, enough to draw schedules from a seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn seeds() -> Vec<u64> {
    if let Some(seed) = std::env::var("SOAK_SEED").ok().and_then(|s| s.parse().ok()) {
        return vec![seed];
    }
    let count: u64 = std::env::var("SOAK_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    let base: u64 = std::env::var("SOAK_BASE").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    (base..base + count).collect()
}

fn config(targets: &[String]) -> String {
    let ous: Vec<String> = targets.iter().map(|t| format!("\"{t}\"")).collect();
    format!(
        r#"{REQUIRED_PROVIDERS}
provider "datadog" {{
  retry_max_backoff = "2s"
}}

resource "datadog_aws_org_stackset" "org" {{
  name                    = "{SET}"
  region                  = "us-east-1"
  organizational_unit_ids = [{}]
}}

resource "datadog_aws_account_link" "account" {{
  for_each           = datadog_aws_org_stackset.org.account_ids
  aws_account_id     = each.key
  account_tags       = ["soak:true"]
  stack_set_revision = datadog_aws_org_stackset.org.revision
}}
"#,
        ous.join(", ")
    )
}

fn emulator(sb: &Sandbox, method: &str, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
    let bytes = body.map(|b| b.to_string().into_bytes());
    FakeDatadog::new(sb.var("AWS_ENDPOINT_URL").unwrap_or_default(), "", "")?
        .request(method, &format!("/_emulator/{path}"), &[("Content-Type", "application/json")], bytes.as_deref())?
        .ensure_success()?
        .json_or_null()
}

/// Faults drawn for one run, injected before the first apply.
fn inject(sb: &Sandbox, rng: &mut Rng, accounts: &[String]) -> anyhow::Result<Vec<String>> {
    let mut said = Vec::new();
    let dd = fake_datadog_admin(sb);
    for _ in 0..rng.below(4) {
        let (method, path) = [
            ("POST", "/api/v2/integration/aws/accounts"),
            ("GET", "/api/v2/integration/aws/accounts"),
            ("GET", "/api/v2/integration/aws/accounts/*"),
            ("PATCH", "/api/v2/integration/aws/accounts/*"),
        ][rng.below(4) as usize];
        let fault = match rng.below(4) {
            0 => json!({"method": method, "path": path, "kind": "status", "status": 429, "count": 1 + rng.below(3), "reset_seconds": 1}),
            1 => {
                let status = [500, 502, 503][rng.below(3) as usize];
                json!({"method": method, "path": path, "kind": "status", "status": status, "count": 1 + rng.below(3)})
            }
            2 => json!({"method": method, "path": path, "kind": "latency", "ms": 100 + rng.below(400), "count": 1 + rng.below(3)}),
            _ => json!({"method": method, "path": path, "kind": "drop", "count": 1}),
        };
        said.push(format!("datadog {fault}"));
        dd.admin_post("faults", &fault)?;
    }
    if rng.chance(50) {
        let action = ["CreateStackInstances", "ListStackInstances", "DescribeStackSetOperation", "CreateStackSet"][rng.below(4) as usize];
        let count = 1 + rng.below(3);
        said.push(format!("aws throttle {action} x{count}"));
        emulator(sb, "POST", "faults/throttle", Some(json!({"action": action, "count": count})))?;
    }
    if rng.chance(40) {
        let count = 1 + rng.below(2);
        said.push(format!("aws OperationInProgress x{count}"));
        emulator(sb, "POST", "faults/operation-in-progress", Some(json!({"stack_set": SET, "count": count})))?;
    }
    if rng.chance(30) && !accounts.is_empty() {
        let victim = accounts[rng.below(accounts.len() as u64) as usize].clone();
        said.push(format!("aws instance failure {victim}"));
        emulator(sb, "POST", "faults/instance-failures", Some(json!({"accounts": [victim], "reason": "soak: injected failure"})))?;
    }
    Ok(said)
}

fn datadog_accounts(sb: &Sandbox) -> anyhow::Result<Vec<String>> {
    let list = fake_datadog_admin(sb).api("GET", "/api/v2/integration/aws/accounts", None)?.ensure_success()?.json()?;
    Ok(list["data"].as_array().into_iter().flatten().filter_map(|a| a["attributes"]["aws_account_id"].as_str().map(str::to_owned)).collect())
}

fn run_seed(seed: u64) -> anyhow::Result<()> {
    let mut rng = Rng::new(seed);
    let sb = Sandbox::start_with(&[("SANDBOX_INSTANCE_SECONDS", "0.1")])?;
    let tf = Terraform::pinned(&sb)?
        .with_env("TF_DATADOG_POLL_INTERVAL_MS", "100")
        .in_dir(testkit::TestDir::new(&format!("soak-{seed}"))?);
    let all_targets = ["SANDBOX_ROOT_ID", "SANDBOX_OU_PRODUCTION", "SANDBOX_OU_DEVELOPMENT"];
    let targets: Vec<String> = match rng.below(3) {
        0 => vec![sb.var(all_targets[0]).unwrap_or_default().to_owned()],
        1 => vec![sb.var(all_targets[1]).unwrap_or_default().to_owned()],
        _ => vec![sb.var(all_targets[1]).unwrap_or_default().to_owned(), sb.var(all_targets[2]).unwrap_or_default().to_owned()],
    };
    tf.write_main_tf(&config(&targets))?;
    let accounts: Vec<String> = sb.var("SANDBOX_ACCOUNT_IDS").unwrap_or_default().split(',').map(str::to_owned).collect();
    let schedule = inject(&sb, &mut rng, &accounts)?;
    // Every third seed (and a quarter of the others) kills Terraform mid-apply.
    let kill_after = (seed % 3 == 0 || rng.chance(25)).then(|| Duration::from_millis(500 + rng.below(3000)));
    eprintln!("soak seed {seed}: targets {targets:?}, faults {schedule:?}, kill {kill_after:?}");

    let mut artefacts = String::new();
    if let Some(after) = kill_after {
        let mut cmd = tf.command(&["apply", "-auto-approve", "-input=false", "-no-color"]);
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn()?;
        std::thread::sleep(after);
        testkit::signal::kill_group(child.id())?;
        let _ = child.wait();
    }
    let mut converged = false;
    for attempt in 1..=3 {
        let out = tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"])?;
        artefacts += &out.describe();
        if out.success() && tf.plan_is_empty()? {
            converged = true;
            break;
        }
        eprintln!("soak seed {seed}: apply {attempt} did not converge yet");
    }
    anyhow::ensure!(converged, "seed {seed}: no convergence within three applies (replay: make soak SEED={seed})");

    let state = tf.state_json()?;
    artefacts += &state.to_string();
    let covered: BTreeSet<String> = state
        .pointer("/values/root_module/resources")
        .and_then(Value::as_array)
        .and_then(|r| r.iter().find(|r| r["address"] == "datadog_aws_org_stackset.org"))
        .and_then(|r| r["values"]["account_ids"].as_array())
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let in_datadog = datadog_accounts(&sb)?;
    let unique: BTreeSet<String> = in_datadog.iter().cloned().collect();
    anyhow::ensure!(unique.len() == in_datadog.len(), "seed {seed}: duplicate Datadog accounts {in_datadog:?}");
    anyhow::ensure!(unique == covered, "seed {seed}: Datadog has {unique:?}, the StackSet covers {covered:?}");

    artefacts += &tf.run_ok(&["destroy", "-auto-approve", "-input=false", "-no-color"])?.describe();
    anyhow::ensure!(datadog_accounts(&sb)?.is_empty(), "seed {seed}: Datadog accounts left after destroy");
    let sets = emulator(&sb, "GET", "stacksets", None)?;
    anyhow::ensure!(sets["stack_sets"].as_array().is_none_or(|s| s.is_empty()), "seed {seed}: StackSet left after destroy: {sets}");
    artefacts += &tf.test_dir().read_file("terraform.tfstate").unwrap_or_default();
    for secret in [sb.api_key(), sb.app_key(), sb.var("AWS_SECRET_ACCESS_KEY").unwrap_or("unset-secret-placeholder")] {
        anyhow::ensure!(!artefacts.contains(secret), "seed {seed}: a secret leaked into an artefact");
    }
    Ok(())
}

/// Every seed converges, matches, cleans up and leaks nothing.
#[test]
fn e2e_soak_randomized_faults_and_kills_converge() -> anyhow::Result<()> {
    let seeds = seeds();
    eprintln!("soak: seeds {seeds:?}");
    for seed in seeds {
        run_seed(seed)?;
    }
    Ok(())
}
