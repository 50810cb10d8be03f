//! AutoMTLS: Terraform hands us its own self-signed client certificate in
//! `PLUGIN_CLIENT_CERT`; we answer with a fresh self-signed server certificate in the
//! handshake line and accept only TLS connections that present exactly that client
//! certificate.
//!
//! Go's client certificate is a P-521 CA certificate used as a leaf. webpki's standard
//! verifier rejects such a leaf, and `ring` cannot check P-521 signatures, so we pin the
//! certificate by its bytes and verify handshake signatures with aws-lc-rs, which can.
//! (The `tf-provider` crate makes client auth optional instead, which lets any local
//! process in.)

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// `PLUGIN_CLIENT_CERT` held no certificate.
    #[error("PLUGIN_CLIENT_CERT holds no PEM certificate")]
    NoClientCert,
    /// Generating our certificate failed.
    #[error("cannot generate the server certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the configuration.
    #[error("cannot configure TLS: {0}")]
    Config(#[from] rustls::Error),
}

/// The server side of AutoMTLS.
#[derive(Debug)]
pub(crate) struct AutoMtls {
    /// Our certificate, DER, for the handshake line.
    pub(crate) server_cert_der: Vec<u8>,
    /// The rustls configuration to accept connections with.
    pub(crate) config: Arc<rustls::ServerConfig>,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Builds the TLS configuration that admits only `client_cert_pem`.
pub(crate) fn auto_mtls(client_cert_pem: &str) -> Result<AutoMtls, TlsError> {
    let client = parse_pem_cert(client_cert_pem).ok_or(TlsError::NoClientCert)?;
    let (cert_der, key_der) = server_certificate()?;
    let verifier = Arc::new(PinnedClientCert { expected: client, provider: provider() });
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![CertificateDer::from(cert_der.clone())], key_der)?;
    // grpc-go insists on ALPN h2.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(AutoMtls { server_cert_der: cert_der, config: Arc::new(config) })
}

/// A self-signed certificate for `localhost`, trusted by Terraform as its own root.
fn server_certificate() -> Result<(Vec<u8>, PrivateKeyDer<'static>), TlsError> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()])?;
    params.distinguished_name.push(rcgen::DnType::CommonName, "localhost");
    params.distinguished_name.push(rcgen::DnType::OrganizationName, "terraform-provider-datadog");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
        rcgen::KeyUsagePurpose::KeyAgreement,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages =
        vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth, rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::minutes(30);
    params.not_after = now + time::Duration::days(365);
    let cert = params.self_signed(&key)?;
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    Ok((cert.der().to_vec(), key_der))
}

/// The first certificate in a PEM text, as DER.
pub(crate) fn parse_pem_cert(pem: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let body = pem.split("-----BEGIN CERTIFICATE-----").nth(1)?.split("-----END CERTIFICATE-----").next()?;
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// Admits exactly one client certificate, compared byte for byte.
#[derive(Debug)]
struct PinnedClientCert {
    expected: Vec<u8>,
    provider: Arc<CryptoProvider>,
}

impl ClientCertVerifier for PinnedClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_slice() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::General("client certificate is not the one in PLUGIN_CLIENT_CERT".into()))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}
