//! Self-test of the harness against the real sandbox: the Datadog fake from
//! `target/debug` and the pinned and oldest Terraform (`scripts/terraform`), using only
//! Terraform's built-in `terraform_data` resource (no provider needed).

use serde_json::json;
use testkit::{fake_datadog_admin, planned_changes, Sandbox, Terraform, TestDir};

const CONFIG: &str = r#"
resource "terraform_data" "a" {
  input = "hello"
}

output "a" {
  value = terraform_data.a.output
}
"#;

#[test]
fn e2e_sandbox_env_and_fake_datadog_client() -> anyhow::Result<()> {
    let sandbox = Sandbox::start()?;
    for key in [
        "DD_HOST",
        "DD_API_KEY",
        "DD_APP_KEY",
        "TF_CLI_CONFIG_FILE",
        "CHECKPOINT_DISABLE",
        "SANDBOX_DATADOG_ADMIN_URL",
        "SANDBOX_DIR",
    ] {
        assert!(
            sandbox.var(key).is_some(),
            "{key} missing from {:?}",
            sandbox.env()
        );
    }
    assert!(sandbox.datadog_url().starts_with("http://127.0.0.1:"));
    assert_eq!(
        sandbox.admin_url(),
        format!("{}/_fake", sandbox.datadog_url())
    );
    assert!(sandbox.api_key().starts_with("sandbox-api-") && sandbox.api_key().len() >= 32);
    assert!(sandbox.app_key().starts_with("sandbox-app-") && sandbox.app_key().len() >= 32);
    let rc = std::fs::read_to_string(sandbox.dir().join("terraform.rc"))?;
    assert!(rc.contains("registry.terraform.io/orgsync/datadog"), "{rc}");

    let dd = fake_datadog_admin(&sandbox);
    dd.health()?;
    // Raw API call with the sandbox keys...
    let accounts = dd
        .api("GET", "/api/v2/integration/aws/accounts", None)?
        .ensure_success()?;
    assert_eq!(accounts.json()?["data"], json!([]));
    // ...and without them.
    let denied = dd.request("GET", "/api/v2/integration/aws/accounts", &[], None)?;
    assert!(
        !denied.is_success(),
        "no keys must be rejected, got {}",
        denied.status
    );

    let dir = sandbox.dir().to_path_buf();
    sandbox.stop()?;
    assert!(!dir.join("env").exists(), "down removes the env file");
    Ok(())
}

#[test]
fn e2e_pinned_terraform_roundtrip() -> anyhow::Result<()> {
    let sandbox = Sandbox::start()?;
    let tf = Terraform::pinned(&sandbox)?;
    assert!(tf.is_pinned());
    assert!(
        tf.version().starts_with("1.15."),
        "pinned version {}",
        tf.version()
    );
    assert_eq!(
        tf.env().get("TF_IN_AUTOMATION").map(String::as_str),
        Some("1")
    );
    assert_eq!(
        tf.env().get("DD_HOST").map(String::as_str),
        Some(sandbox.datadog_url())
    );

    tf.write_main_tf(CONFIG)?;
    assert!(!tf.plan_is_empty()?, "a fresh config has changes");
    let plan = tf.plan_json()?;
    assert_eq!(
        planned_changes(&plan),
        vec![("terraform_data.a".to_owned(), vec!["create".to_owned()])]
    );
    tf.apply()?;
    assert!(tf.plan_is_empty()?, "second plan must be empty");
    assert!(planned_changes(&tf.plan_json()?).is_empty());
    let state = tf.state_json()?;
    assert_eq!(
        state.pointer("/values/outputs/a/value"),
        Some(&json!("hello"))
    );

    // The environment reaches Terraform (and so the processes it starts).
    let out = tf.run_ok(&["output", "-raw", "a"])?;
    assert_eq!(out.stdout, "hello");

    tf.destroy()?;
    let state = tf.state_json()?;
    assert!(
        state.pointer("/values/root_module/resources").is_none(),
        "{state}"
    );
    Ok(())
}

#[test]
fn e2e_failures_are_readable() -> anyhow::Result<()> {
    let sandbox = Sandbox::start()?;
    let tf = Terraform::pinned(&sandbox)?.in_dir(TestDir::new(testkit::function_name!())?);
    tf.write_main_tf("resource \"terraform_data\" \"x\" {\n  bogus = 1\n}\n")?;
    let err = tf
        .apply()
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(
        err.contains("scripts/terraform apply -auto-approve"),
        "{err}"
    );
    assert!(err.contains("exit code 1"), "{err}");
    assert!(err.contains("--- stderr"), "{err}");
    assert!(err.contains("Unsupported argument"), "{err}");
    assert!(
        err.contains("fake-datadog.log"),
        "server logs are attached: {err}"
    );
    Ok(())
}

#[test]
fn e2e_oldest_terraform_roundtrip() -> anyhow::Result<()> {
    let sandbox = Sandbox::start()?;
    let pinned = Terraform::pinned(&sandbox)?;
    let tf = Terraform::oldest(&sandbox)?;
    assert!(!tf.is_pinned());
    assert_eq!(tf.version(), "1.6.6");
    assert_ne!(tf.version(), pinned.version());
    tf.write_main_tf(CONFIG)?;
    tf.apply()?;
    assert!(tf.plan_is_empty()?);
    tf.destroy()?;
    Ok(())
}
