//! [`Emulator`]: a handle on the sandbox's AWS emulator and its admin API under
//! `/_emulator/` (no credentials), through which the suites change the
//! organization, inject faults and read what the provider called.

use std::collections::BTreeSet;

use anyhow::anyhow;
use serde_json::{json, Value};

use crate::http;
use crate::sandbox::Sandbox;

/// The AWS emulator of a sandbox started with AWS (not [`Sandbox::datadog_only`]).
///
/// Every call requires a 2xx answer and returns its JSON body (`null` when
/// empty), so a refused admin call fails the test with the emulator's reason.
#[derive(Debug, Clone)]
pub struct Emulator {
    base_url: String,
}

impl Emulator {
    /// The emulator `sandbox` started, at its `AWS_ENDPOINT_URL`.
    pub fn new(sandbox: &Sandbox) -> anyhow::Result<Emulator> {
        let url = sandbox.var("AWS_ENDPOINT_URL").ok_or_else(|| {
            anyhow!("the sandbox exports no AWS_ENDPOINT_URL: it runs without the AWS emulator")
        })?;
        Ok(Emulator {
            base_url: http::base_url(url)?,
        })
    }

    /// `METHOD /_emulator/<path>` (may have a query) with an optional JSON body.
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        let path = format!("/_emulator/{}", path.trim_start_matches('/'));
        http::json_request(&self.base_url, method, &path, &[], body)?
            .ensure_success()?
            .json_or_null()
    }

    /// `GET /_emulator/<path>`.
    pub fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.call("GET", path, None)
    }

    /// `POST /_emulator/<path>` with a JSON body.
    pub fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.call("POST", path, Some(body))
    }

    /// The organization as the emulator holds it now: OUs and accounts, with
    /// each account's `status`, `ou_path` and whether it is the `management` one.
    pub fn organization(&self) -> anyhow::Result<Value> {
        self.get("organization")
    }

    /// The active member accounts now (those added since start included; the
    /// management account never counts).
    pub fn active_accounts(&self) -> anyhow::Result<BTreeSet<String>> {
        self.active_accounts_where(|_| true)
    }

    /// The active member accounts whose OU path (e.g. `Development/Sandbox`)
    /// is one of `ou_paths`.
    pub fn active_accounts_in(&self, ou_paths: &[&str]) -> anyhow::Result<BTreeSet<String>> {
        self.active_accounts_where(|a| a["ou_path"].as_str().is_some_and(|p| ou_paths.contains(&p)))
    }

    fn active_accounts_where(
        &self,
        keep: impl Fn(&Value) -> bool,
    ) -> anyhow::Result<BTreeSet<String>> {
        let org = self.organization()?;
        Ok(org["accounts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["status"] == "ACTIVE" && a["management"] != true)
            .filter(|a| keep(a))
            .filter_map(|a| a["id"].as_str().map(str::to_owned))
            .collect())
    }

    /// Adds accounts: `spec` names them (`name`) and their OU (`ou_path` or
    /// `ou_id`), with an optional `count`. Returns what the emulator made
    /// (`id` of the first account, among others).
    pub fn add_accounts(&self, spec: &Value) -> anyhow::Result<Value> {
        self.post("accounts", spec)
    }

    /// Adds an OU called `name` under the root; returns its `id`, `path` and `env`.
    pub fn add_ou(&self, name: &str) -> anyhow::Result<Value> {
        self.post("ous", &json!({"name": name}))
    }

    /// Deletes the stack instance of `account` in `region` behind the provider's
    /// back (drift), as if someone had removed it by hand.
    pub fn remove_instance(
        &self,
        stack_set: &str,
        account: &str,
        region: &str,
    ) -> anyhow::Result<Value> {
        self.call(
            "DELETE",
            &format!("stacksets/{stack_set}/instances/{account}/{region}"),
            None,
        )
    }

    /// The next `count` calls of `action` (e.g. `CreateStackInstances`) are
    /// throttled, as AWS does under load.
    pub fn throttle(&self, action: &str, count: u64) -> anyhow::Result<Value> {
        self.post(
            "faults/throttle",
            &json!({"action": action, "count": count}),
        )
    }

    /// The next `count` operations asked of `stack_set` are refused with
    /// `OperationInProgressException`.
    pub fn operation_in_progress(&self, stack_set: &str, count: u64) -> anyhow::Result<Value> {
        self.post(
            "faults/operation-in-progress",
            &json!({"stack_set": stack_set, "count": count}),
        )
    }

    /// The stack instances of `accounts` fail, with `reason` as their status reason.
    pub fn fail_instances(&self, accounts: &[&str], reason: &str) -> anyhow::Result<Value> {
        self.post(
            "faults/instance-failures",
            &json!({"accounts": accounts, "reason": reason}),
        )
    }

    /// The StackSets the emulator holds, each with its instance counts.
    pub fn stack_sets(&self) -> anyhow::Result<Vec<Value>> {
        Ok(self.get("stacksets")?["stack_sets"]
            .as_array()
            .cloned()
            .unwrap_or_default())
    }

    /// The calls of one AWS action (e.g. `CreateStackSet`) in the call log, oldest first.
    pub fn calls(&self, action: &str) -> anyhow::Result<Vec<Value>> {
        self.logged(&format!("calls?action={action}"))
    }

    /// Every call in the log, oldest first: its `service`, `action`, `status`, `call_as`…
    pub fn call_log(&self) -> anyhow::Result<Vec<Value>> {
        self.logged("calls")
    }

    fn logged(&self, path: &str) -> anyhow::Result<Vec<Value>> {
        Ok(self.get(path)?["calls"]
            .as_array()
            .cloned()
            .unwrap_or_default())
    }
}
