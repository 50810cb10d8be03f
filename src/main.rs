//! `terraform-provider-datadog`: started by Terraform, or by hand with `--debug`.

use std::process::ExitCode;
use std::sync::Arc;

use terraform_provider_datadog::plugin::{self, ServeOptions};
use terraform_provider_datadog::provider::DatadogProvider;
use terraform_provider_datadog::PROVIDER_ADDRESS;

fn main() -> ExitCode {
    let mut debug = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--debug" | "-debug" => debug = true,
            "--version" | "-version" => {
                println!("terraform-provider-datadog {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument {other:?}; usage: terraform-provider-datadog [--debug | --version]");
                return ExitCode::from(2);
            }
        }
    }
    plugin::logging::init();
    // One crypto provider for every TLS user in the process (AutoMTLS, Datadog, AWS).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let provider = Arc::new(DatadogProvider::new());
    let opts = ServeOptions { debug, address: PROVIDER_ADDRESS.to_owned() };
    match runtime.block_on(plugin::serve(provider, opts)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
