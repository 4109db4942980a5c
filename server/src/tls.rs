//! How browsers reach us over https (issue #12): either this server
//! terminates TLS itself (`TLS_CERT_PATH` + `TLS_KEY_PATH`: rustls on its
//! *ring* provider, served by axum-server), or a proxy in front does
//! (`--behind-tls-proxy`). Either way, when the public base URL is https
//! every response says so for a year (HSTS). README "Operations" → "TLS".

use std::{future::Future, net::SocketAddr, path::Path, sync::Arc, time::Duration};

use anyhow::Context;
use axum::{
    extract::connect_info::IntoMakeServiceWithConnectInfo,
    http::{header, HeaderValue},
    Router,
};
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use rustls::{
    crypto::{ring, CryptoProvider},
    pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer},
    ServerConfig, SupportedCipherSuite, SupportedProtocolVersion,
};
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::Config;

/// The `Strict-Transport-Security` value: one year (the minimum browsers'
/// preload lists accept), for the app's host and its subdomains.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// TLS 1.3 and 1.2, nothing else. rustls has never implemented SSL 3,
/// TLS 1.0 or 1.1 (a client offering only those is refused with a fatal
/// alert, `protocol_version` or `handshake_failure`); naming both versions
/// here keeps any future default of rustls from changing what we accept.
pub static PROTOCOL_VERSIONS: &[&SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// The cipher suites, spelled out rather than inherited: today exactly
/// rustls's *ring* defaults, all AEAD (AES-GCM, ChaCha20-Poly1305), and in
/// TLS 1.2 only with an ephemeral ECDH key exchange (forward secrecy). No
/// CBC, RC4, 3DES, static-RSA key exchange or SHA-1 MAC: rustls implements
/// none of them, so there is nothing weaker to trim.
pub static CIPHER_SUITES: &[SupportedCipherSuite] = &[
    ring::cipher_suite::TLS13_AES_256_GCM_SHA384,
    ring::cipher_suite::TLS13_AES_128_GCM_SHA256,
    ring::cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
    ring::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ring::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ring::cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ring::cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ring::cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    ring::cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
];

/// Protocols offered by ALPN, preferred first (hyper speaks both).
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// How long a client may take to finish the TLS handshake before the
/// connection is dropped (a slow or silent client holds a socket, not a
/// worker: each handshake runs in its own task).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the server speaks to clients and whether it sends HSTS, decided
/// once at start-up from the configuration ([`Transport::from_config`]).
#[derive(Clone, Debug)]
pub struct Transport {
    /// `Some`: https, terminated here; `None`: plain http.
    tls: Option<Arc<ServerConfig>>,
    /// Browsers see this app over https (served here or through the proxy).
    hsts: bool,
}

impl Transport {
    /// Reads `TLS_CERT_PATH`/`TLS_KEY_PATH` (both or neither) and applies
    /// the start-up rule: an https `APP_BASE_URL` needs TLS here or
    /// `--behind-tls-proxy`; the server refuses to start otherwise, rather
    /// than serve plain http to a world told to expect https. (A simulator
    /// build is plain http on loopback, which the rule lets through.)
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let tls = match (&config.tls_cert_path, &config.tls_key_path) {
            (Some(cert), Some(key)) => {
                let tls = server_config(cert, key)?;
                tracing::info!(certificate = %cert.display(), "serving https (TLS 1.3 and 1.2)");
                Some(tls)
            }
            (None, None) => None,
            (Some(_), None) => anyhow::bail!(
                "TLS_CERT_PATH is set but TLS_KEY_PATH is not: set both to serve https here, \
                 or neither when a proxy in front terminates TLS (--behind-tls-proxy)"
            ),
            (None, Some(_)) => anyhow::bail!(
                "TLS_KEY_PATH is set but TLS_CERT_PATH is not: set both to serve https here, \
                 or neither when a proxy in front terminates TLS (--behind-tls-proxy)"
            ),
        };
        let public_https = config.base_url.scheme() == "https";
        anyhow::ensure!(
            !public_https || tls.is_some() || config.behind_tls_proxy,
            "APP_BASE_URL ({}) is https but this server has no TLS certificate: set \
             TLS_CERT_PATH and TLS_KEY_PATH to terminate TLS here, or start with \
             --behind-tls-proxy (BEHIND_TLS_PROXY=true) when a proxy in front of it \
             terminates TLS",
            config.base_url
        );
        Ok(Self {
            hsts: public_https || tls.is_some(),
            tls,
        })
    }

    /// Whether this server terminates TLS itself.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Whether responses carry `Strict-Transport-Security`: whenever the
    /// browser reaches us over https — served here, or behind a proxy when
    /// `APP_BASE_URL` is https (the browser only ever sees the proxy's https;
    /// browsers ignore the header on a plain-http response anyway).
    pub fn sends_hsts(&self) -> bool {
        self.hsts
    }

    /// `router` with the HSTS header on every response, when
    /// [`sends_hsts`](Self::sends_hsts); unchanged otherwise.
    pub fn with_hsts(&self, router: Router) -> Router {
        if !self.hsts {
            return router;
        }
        router.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        ))
    }

    /// The rustls configuration, when TLS is terminated here.
    pub fn server_config(&self) -> Option<Arc<ServerConfig>> {
        self.tls.clone()
    }
}

/// The rustls server configuration: our certificate and key, TLS 1.3/1.2,
/// [`CIPHER_SUITES`], ALPN h2 and http/1.1, no client certificates.
fn server_config(cert_path: &Path, key_path: &Path) -> anyhow::Result<Arc<ServerConfig>> {
    let certs = CertificateDer::pem_file_iter(cert_path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| {
            format!(
                "TLS_CERT_PATH {}: could not read a PEM certificate chain from it",
                cert_path.display()
            )
        })?;
    anyhow::ensure!(
        !certs.is_empty(),
        "TLS_CERT_PATH {}: no certificate in it (expected PEM `BEGIN CERTIFICATE` blocks, \
         the server's own first)",
        cert_path.display()
    );
    // The error names the file, never anything read from it.
    let key = PrivateKeyDer::from_pem_file(key_path).with_context(|| {
        format!(
            "TLS_KEY_PATH {}: could not read a PEM private key (PKCS#8, PKCS#1 or SEC1) from it",
            key_path.display()
        )
    })?;
    let provider = CryptoProvider {
        cipher_suites: CIPHER_SUITES.to_vec(),
        ..ring::default_provider()
    };
    let mut config = ServerConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(PROTOCOL_VERSIONS)
        .context("rustls refused the TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .with_context(|| {
            format!(
                "TLS_KEY_PATH {} does not fit the certificate in TLS_CERT_PATH {} \
                 (or is of a kind rustls cannot use)",
                key_path.display(),
                cert_path.display()
            )
        })?;
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// Serves `service` over TLS on `listener` until `shutdown` resolves, then
/// stops accepting and lets open connections finish (as `axum::serve` does
/// for plain http). Each handshake runs in its own task, bounded by
/// [`HANDSHAKE_TIMEOUT`]; a failed one (an old protocol, no common suite, a
/// port scanner) is logged at debug and affects no other connection.
pub async fn serve(
    listener: TcpListener,
    service: IntoMakeServiceWithConnectInfo<Router, SocketAddr>,
    tls: Arc<ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let handle = axum_server::Handle::<SocketAddr>::new();
    let on_shutdown = handle.clone();
    let watcher = tokio::spawn(async move {
        shutdown.await;
        on_shutdown.graceful_shutdown(None);
    });
    let acceptor =
        RustlsAcceptor::new(RustlsConfig::from_config(tls)).handshake_timeout(HANDSHAKE_TIMEOUT);
    let served = axum_server::Server::<SocketAddr>::from_listener(listener)
        .acceptor(acceptor)
        .handle(handle)
        .accept_error_handler(|peer, error| {
            tracing::debug!(?peer, %error, "TLS connection refused or failed");
        })
        .serve(service)
        .await
        .context("server error");
    watcher.abort();
    served
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every suite we offer is AEAD, and in TLS 1.2 forward-secret.
    #[test]
    fn only_aead_suites_with_ephemeral_key_exchange_are_offered() {
        for suite in CIPHER_SUITES {
            let name = format!("{:?}", suite.suite());
            assert!(
                name.contains("_GCM_") || name.contains("CHACHA20_POLY1305"),
                "{name} is not AEAD"
            );
            assert!(
                name.starts_with("TLS13_") || name.starts_with("TLS_ECDHE_"),
                "{name} has no ephemeral key exchange"
            );
        }
        assert_eq!(
            PROTOCOL_VERSIONS
                .iter()
                .map(|v| v.version)
                .collect::<Vec<_>>(),
            [
                rustls::ProtocolVersion::TLSv1_3,
                rustls::ProtocolVersion::TLSv1_2
            ]
        );
    }
}
