//! The provider binary as go-plugin starts it, without Terraform: the handshake,
//! AutoMTLS (a client without the expected certificate is refused), the health
//! service, the schema RPC, MoveResourceState, and a graceful shutdown.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use terraform_provider_datadog::data_sources::aws_organization::AwsOrganization;
use terraform_provider_datadog::plugin::pb::{plugin as goplugin, tfplugin6 as pb};
use terraform_provider_datadog::plugin::{DataSource, Type, Value};
use terraform_provider_datadog::provider::ProviderData;
use tonic::transport::{Channel, Endpoint};

const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_terraform-provider-datadog"))
}

/// A client certificate made the way go-plugin makes Terraform's: P-521, self-signed CA.
fn client_identity() -> (String, Vec<u8>, Vec<u8>) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).expect("key");
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth, rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.self_signed(&key).expect("cert");
    let b64 = base64::engine::general_purpose::STANDARD.encode(cert.der());
    let body: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).expect("ascii")).collect();
    let pem = format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", body.join("\n"));
    (pem, cert.der().to_vec(), key.serialize_der())
}

struct Plugin {
    child: Child,
    socket: String,
    server_cert: Vec<u8>,
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(client_pem: Option<&str>) -> Plugin {
    let mut cmd = binary();
    cmd.env("TF_PLUGIN_MAGIC_COOKIE", COOKIE).env("PLUGIN_PROTOCOL_VERSIONS", "6,5").stdout(Stdio::piped()).stderr(Stdio::null());
    match client_pem {
        Some(pem) => cmd.env("PLUGIN_CLIENT_CERT", pem),
        None => cmd.env_remove("PLUGIN_CLIENT_CERT"),
    };
    let mut child = cmd.spawn().expect("spawn provider");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("handshake line");
    let parts: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(&parts[..3], &["1", "6", "unix"], "handshake line: {line}");
    assert_eq!(parts[4], "grpc");
    let server_cert = if parts[5].is_empty() {
        Vec::new()
    } else {
        base64::engine::general_purpose::STANDARD_NO_PAD.decode(parts[5]).expect("unpadded base64 certificate")
    };
    Plugin { child, socket: parts[3].to_owned(), server_cert }
}

/// Trusts exactly the certificate from the handshake line, as go-plugin does.
#[derive(Debug)]
struct PinnedServer(Vec<u8>, Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(&self, ee: &CertificateDer<'_>, _: &[CertificateDer<'_>], _: &ServerName<'_>, _: &[u8], _: UnixTime) -> Result<ServerCertVerified, rustls::Error> {
        if ee.as_ref() == self.0.as_slice() { Ok(ServerCertVerified::assertion()) } else { Err(rustls::Error::General("unexpected server certificate".into())) }
    }
    fn verify_tls12_signature(&self, m: &[u8], c: &CertificateDer<'_>, d: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.1.signature_verification_algorithms)
    }
    fn verify_tls13_signature(&self, m: &[u8], c: &CertificateDer<'_>, d: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.1.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.1.signature_verification_algorithms.supported_schemes()
    }
}

async fn connect(p: &Plugin, identity: Option<(Vec<u8>, Vec<u8>)>) -> Result<Channel, tonic::transport::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedServer(p.server_cert.clone(), provider)));
    let mut config = match identity {
        Some((cert, key)) => builder
            .with_client_auth_cert(vec![CertificateDer::from(cert)], PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)))
            .expect("client auth"),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    let config = Arc::new(config);
    let path = p.socket.clone();
    let tls = !p.server_cert.is_empty();
    Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_| {
            let (path, config) = (path.clone(), Arc::clone(&config));
            async move {
                let unix = tokio::net::UnixStream::connect(path).await?;
                if !tls {
                    return Ok::<_, std::io::Error>(TokioIo::new(Box::new(unix) as Box<dyn IoStream>));
                }
                let name = ServerName::try_from("localhost").expect("name");
                let stream = tokio_rustls::TlsConnector::from(config).connect(name, unix).await?;
                Ok(TokioIo::new(Box::new(stream) as Box<dyn IoStream>))
            }
        }))
        .await
}

trait IoStream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin> IoStream for T {}

/// Proves the whole AutoMTLS path: Terraform's kind of certificate gets in, serves
/// the schema and health, and Shutdown ends the process within go-plugin's grace.
#[tokio::test]
async fn automtls_client_with_the_expected_certificate_is_served_and_shutdown_exits() {
    let (pem, cert, key) = client_identity();
    let mut p = start(Some(&pem));
    assert!(!p.server_cert.is_empty(), "a server certificate must be in the handshake line when PLUGIN_CLIENT_CERT is set");
    let channel = connect(&p, Some((cert, key))).await.expect("connect with the expected client certificate");

    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let status = health
        .check(tonic_health::pb::HealthCheckRequest { service: "plugin".into() })
        .await
        .expect("health check")
        .into_inner()
        .status;
    assert_eq!(status, tonic_health::pb::health_check_response::ServingStatus::Serving as i32);

    let mut provider = pb::provider_client::ProviderClient::new(channel.clone()).max_decoding_message_size(64 << 20);
    let schema = provider.get_provider_schema(pb::get_provider_schema::Request {}).await.expect("schema").into_inner();
    assert!(schema.diagnostics.is_empty(), "{:?}", schema.diagnostics);
    assert!(schema.resource_schemas.contains_key("datadog_aws_account_link"));
    read_data_source_over_the_wire(&mut provider, &schema).await;
    let functions = provider.get_functions(pb::get_functions::Request {}).await.expect("functions").into_inner();
    assert!(functions.functions.is_empty());
    let ids = provider.get_resource_identity_schemas(pb::get_resource_identity_schemas::Request {}).await.expect("identities");
    assert!(ids.into_inner().diagnostics.is_empty());
    provider.stop_provider(pb::stop_provider::Request {}).await.expect("stop provider");

    let mut controller = goplugin::grpc_controller_client::GrpcControllerClient::new(channel);
    controller.shutdown(goplugin::Empty {}).await.expect("shutdown");
    let started = Instant::now();
    loop {
        if let Some(status) = p.child.try_wait().expect("wait") {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(2), "the provider did not exit within 2s of Shutdown");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A local process without Terraform's certificate gets no gRPC service at all.
#[tokio::test]
async fn automtls_refuses_a_client_without_the_expected_certificate() {
    let (pem, _, _) = client_identity();
    let p = start(Some(&pem));
    let (_, other_cert, other_key) = client_identity();
    for identity in [None, Some((other_cert, other_key))] {
        let outcome = match connect(&p, identity).await {
            Err(_) => Err(()),
            Ok(channel) => {
                let mut provider = pb::provider_client::ProviderClient::new(channel);
                provider.get_provider_schema(pb::get_provider_schema::Request {}).await.map(|_| ()).map_err(|_| ())
            }
        };
        assert!(outcome.is_err(), "a client without the expected certificate was served");
    }
}

/// Without PLUGIN_CLIENT_CERT (TF_DISABLE_PLUGIN_TLS) the server speaks plaintext.
#[tokio::test]
async fn plaintext_when_terraform_disables_tls() {
    let p = start(None);
    assert!(p.server_cert.is_empty());
    let channel = connect(&p, None).await.expect("connect");
    let mut provider = pb::provider_client::ProviderClient::new(channel);
    let meta = provider.get_metadata(pb::get_metadata::Request {}).await.expect("metadata").into_inner();
    let types: Vec<&str> = meta.resources.iter().map(|r| r.type_name.as_str()).collect();
    assert!(types.contains(&"datadog_aws_account_link") && types.contains(&"datadog_aws_org_stackset"), "{types:?}");
}

/// Run by hand, the binary explains itself on stderr and exits 1.
#[test]
fn run_by_hand_prints_a_friendly_message_and_exits_1() {
    let out = binary().env_remove("TF_PLUGIN_MAGIC_COOKIE").output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("This binary is a plugin"), "{stderr}");
    assert!(out.stdout.is_empty());
}

/// A Terraform that only speaks protocol 5 gets a clear refusal, not a hang.
#[test]
fn protocol_five_only_is_refused() {
    let out = binary().env("TF_PLUGIN_MAGIC_COOKIE", COOKIE).env("PLUGIN_PROTOCOL_VERSIONS", "5").output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("speaks only version 6"));
}

/// `--debug` serves plaintext and prints the TF_REATTACH_PROVIDERS value to export.
#[tokio::test]
async fn debug_mode_prints_a_reattach_value_that_connects() {
    let mut child = binary().arg("--debug").stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("spawn");
    let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
    let mut json = None;
    for _ in 0..5 {
        let mut line = String::new();
        reader.read_line(&mut line).expect("line");
        if let Some(rest) = line.trim().strip_prefix("TF_REATTACH_PROVIDERS='") {
            json = Some(rest.trim_end_matches('\'').to_owned());
            break;
        }
    }
    let json: serde_json::Value = serde_json::from_str(&json.expect("reattach line")).expect("json");
    let entry = &json["registry.terraform.io/orgsync/datadog"];
    assert_eq!(entry["ProtocolVersion"], 6);
    assert_eq!(entry["Addr"]["Network"], "unix");
    let p = Plugin { child, socket: entry["Addr"]["String"].as_str().expect("path").to_owned(), server_cert: Vec::new() };
    let channel = connect(&p, None).await.expect("connect to the debug server");
    let mut provider = pb::provider_client::ProviderClient::new(channel);
    provider.get_provider_schema(pb::get_provider_schema::Request {}).await.expect("schema");
}

/// MoveResourceState over the wire, as Terraform sends it for a `moved` block from
/// the official provider's resource: the capability Terraform checks first is
/// advertised, the official state comes back as a link with its identity, and a
/// source the link does not take is refused with a diagnostic, not a gRPC error.
#[tokio::test]
async fn move_resource_state_takes_the_official_resource_and_refuses_others() {
    use terraform_provider_datadog::plugin::{Type, Value};

    let p = start(None);
    let channel = connect(&p, None).await.expect("connect");
    let mut provider = pb::provider_client::ProviderClient::new(channel).max_decoding_message_size(64 << 20);
    let schema = provider.get_provider_schema(pb::get_provider_schema::Request {}).await.expect("schema").into_inner();
    assert!(schema.server_capabilities.is_some_and(|c| c.move_resource_state), "Terraform refuses cross-type moves without the capability");

    let official = br#"{"id":"7d7c4a07-2c8f-4c4f-9b38-2f3b1f0c2f5e","aws_account_id":"123456789012","aws_partition":"aws",
        "account_tags":["env:prod"],"auth_config":{"aws_auth_config_keys":null,"aws_auth_config_role":{"external_id":"0123456789abcdef0123456789abcdef","role_name":"DatadogIntegrationRole"}},
        "aws_regions":{"include_all":true,"include_only":null},"logs_config":{"lambda_forwarder":{"lambdas":[],"sources":[],"log_source_config":null}},
        "metrics_config":{"automute_enabled":true,"collect_cloudwatch_alarms":false,"collect_custom_metrics":false,"enabled":true,"metric_name_filters":[],
        "namespace_filters":{"exclude_only":["AWS/SQS"],"include_only":null},"tag_filters":[]},
        "resources_config":{"cloud_security_posture_management_collection":false,"extended_collection":true},
        "traces_config":{"xray_services":{"include_all":null,"include_only":[]}}}"#;
    let request = |type_name: &str, version: i64| pb::move_resource_state::Request {
        source_provider_address: "registry.terraform.io/datadog/datadog".into(),
        source_type_name: type_name.into(),
        source_schema_version: version,
        source_state: Some(pb::RawState { json: official.to_vec(), flatmap: Default::default() }),
        target_type_name: "datadog_aws_account_link".into(),
        ..Default::default()
    };

    let moved = provider.move_resource_state(request("datadog_integration_aws_account", 0)).await.expect("move").into_inner();
    assert!(moved.diagnostics.is_empty(), "{:?}", moved.diagnostics);
    assert!(moved.target_state.is_some_and(|s| !s.msgpack.is_empty()), "no moved state");
    let identity = moved.target_identity.and_then(|i| i.identity_data).expect("target identity");
    let ty = Type::object([("aws_account_id", Type::String), ("aws_partition", Type::String)]);
    let identity = Value::decode_msgpack(&identity.msgpack, &ty).expect("identity msgpack");
    assert_eq!(identity.get_attr("aws_account_id").and_then(Value::as_str), Some("123456789012"));

    for (type_name, version, summary) in [
        ("datadog_integration_aws", 0, "Unsupported move source"),
        ("datadog_integration_aws_account", 1, "Unsupported source schema version"),
    ] {
        let refused = provider.move_resource_state(request(type_name, version)).await.expect("an answer, not a gRPC error").into_inner();
        assert!(refused.target_state.is_none(), "{type_name} v{version}");
        let summaries: Vec<&str> = refused.diagnostics.iter().map(|d| d.summary.as_str()).collect();
        assert_eq!(summaries, vec![summary], "{type_name} v{version}");
    }
}

/// The data source over the wire, before any ConfigureProvider: advertised in the
/// schema and the metadata; a configuration holding an unknown value is answered with
/// the planned object (computed attributes unknown) without any remote call; an
/// unknown type is a diagnostic, not a gRPC error.
async fn read_data_source_over_the_wire(provider: &mut pb::provider_client::ProviderClient<Channel>, schema: &pb::get_provider_schema::Response) {
    const TYPE: &str = "datadog_aws_organization";
    assert!(schema.data_source_schemas.contains_key(TYPE), "{:?}", schema.data_source_schemas.keys());
    let meta = provider.get_metadata(pb::get_metadata::Request {}).await.expect("metadata").into_inner();
    assert_eq!(meta.data_sources.iter().map(|d| d.type_name.as_str()).collect::<Vec<_>>(), vec![TYPE]);

    let ty = AwsOrganization::new(std::sync::Arc::new(ProviderData::default())).schema().value_type();
    let Type::Object { attrs, .. } = &ty else { panic!("{ty:?}") };
    let config = Value::object(attrs.keys().map(|k| (k.clone(), if k == "stackset_name" { Value::Unknown } else { Value::Null })));
    let wire = pb::DynamicValue { msgpack: config.encode_msgpack(&ty).expect("encode"), json: Vec::new() };
    let read = |type_name: &str| pb::read_data_source::Request {
        type_name: type_name.to_owned(),
        config: Some(wire.clone()),
        provider_meta: None,
        client_capabilities: None,
    };
    let answer = provider.read_data_source(read(TYPE)).await.expect("read").into_inner();
    assert!(answer.diagnostics.is_empty(), "{:?}", answer.diagnostics);
    let state = Value::decode_msgpack(&answer.state.expect("a planned object").msgpack, &ty).expect("decode");
    for name in ["stackset_name", "id", "accounts", "call_as", "management_account_id"] {
        assert_eq!(state.get_attr(name), Some(&Value::Unknown), "{name}: {state:?}");
    }

    let answer = provider.read_data_source(read("datadog_nothing")).await.expect("read").into_inner();
    assert!(answer.diagnostics.iter().any(|d| d.summary == "Unknown data source"), "{:?}", answer.diagnostics);
}
