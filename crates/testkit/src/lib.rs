//! Test harness for the provider's end-to-end tests.
//!
//! * [`Sandbox`] starts the local fakes with `scripts/sandbox up` in a fresh
//!   temporary directory (and stops them on drop).
//! * [`Terraform`] runs Terraform through `scripts/terraform` — the project's
//!   pinned build ([`Terraform::pinned`], 1.15.5) or the oldest version the
//!   provider supports ([`Terraform::oldest`], 1.6.6), both installed from the
//!   repository's files, never taken from `PATH` — or OpenTofu through
//!   `scripts/tofu` ([`Terraform::tofu`], built from source on first use), in a
//!   per-test working directory ([`TestDir`]) with the sandbox's environment.
//! * [`Mirror`] runs `scripts/install` into a temporary filesystem mirror
//!   (laid out for both registries) for tests of `terraform init` / `tofu init`.
//! * [`Release`] runs `scripts/release` into a temporary `dist/` (zips,
//!   SHA256SUMS and signature, manifest, network mirror) for the release tests.
//! * [`FakeDatadog`] ([`Sandbox::datadog`]) is a handle on the Datadog fake:
//!   its `/_fake/*` control API, raw Datadog API calls with the sandbox keys
//!   (to make drift) and the AWS accounts Datadog holds; [`Emulator`]
//!   ([`Sandbox::emulator`]) one on the AWS emulator's `/_emulator/*` admin
//!   API: organization changes, faults, StackSets and the log of AWS calls.
//!   Both speak plain HTTP through one blocking `reqwest` client.
//! * [`planned_changes`], [`state_resource`] and their siblings read the JSON
//!   Terraform prints of plans and states; [`fixtures`] holds configurations
//!   several suites share.
//!
//! The test command must build the workspace binaries first (`make test` does:
//! `cargo build --workspace --bins --tests`); the sandbox is started with
//! `SANDBOX_NO_BUILD=1`.
//!
//! ```no_run
//! use testkit::{Sandbox, Terraform, REQUIRED_PROVIDERS};
//!
//! # fn main() -> anyhow::Result<()> {
//! let sandbox = Sandbox::start()?;
//! let tf = Terraform::pinned(&sandbox)?;
//! tf.write_main_tf(&format!(
//!     "{REQUIRED_PROVIDERS}\nresource \"datadog_aws_account_link\" \"a\" {{\n  aws_account_id = \"111111111111\"\n}}\n"
//! ))?;
//! tf.apply()?;
//! assert!(tf.plan_is_empty()?, "second plan should be empty");
//! let accounts = testkit::fake_datadog_admin(&sandbox).admin_get("accounts")?;
//! println!("{accounts}");
//! tf.destroy()?;
//! # Ok(())
//! # }
//! ```
//!
//! Environment knobs: `TESTKIT_KEEP=1` keeps sandbox and working directories
//! (their paths are printed); `TESTKIT_TMPDIR` sets the temporary root;
//! `TESTKIT_TF_TIMEOUT_SECS` changes the per-command Terraform timeout
//! (default 300); `SANDBOX_BIN_DIR` overrides where the built binaries are;
//! `TESTKIT_CLI=tofu` makes [`Terraform::pinned`] run OpenTofu (`make soak TOFU=1`).

#![warn(missing_docs)]

mod cloudformation;
mod datadog;
mod emulator;
pub mod fixtures;
mod http;
mod mirror;
mod paths;
mod process;
mod release;
mod sandbox;
pub mod signal;
mod state;
mod terraform;

pub use cloudformation::{cloudformation, settle};
pub use datadog::{fake_datadog_admin, FakeDatadog};
pub use emulator::Emulator;
pub use http::HttpResponse;
pub use mirror::Mirror;
pub use paths::{bin_dir, repo_root, repo_root_from, temp_root};
pub use process::Output;
pub use release::{release_target_dir, run_command, target_dir, Release, RELEASE_PLATFORMS};
pub use sandbox::{parse_env_file, Sandbox};
pub use state::{changes_of, planned_changes, stack_set_account_ids, state_resource, string_set};
pub use terraform::{Terraform, TestDir, REQUIRED_PROVIDERS};

/// The fully qualified provider address Terraform uses (and `dev_overrides` names).
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/orgsync/datadog";

/// The fully qualified provider address OpenTofu uses for the same `source`
/// (its default registry is `registry.opentofu.org`); the sandbox's
/// `dev_overrides` and `scripts/install`'s mirror name it too.
pub const OPENTOFU_PROVIDER_ADDRESS: &str = "registry.opentofu.org/orgsync/datadog";

/// Expands to the path of the enclosing function, e.g.
/// `e2e::account_link_roundtrip` — handy as a [`TestDir`] name when the test
/// thread is not named after the test.
#[macro_export]
macro_rules! function_name {
    () => {{
        fn __testkit_marker() {}
        fn __testkit_type_name<T>(_: T) -> &'static str {
            ::std::any::type_name::<T>()
        }
        let name = __testkit_type_name(__testkit_marker);
        name.strip_suffix("::__testkit_marker").unwrap_or(name)
    }};
}
