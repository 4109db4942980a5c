//! TLS termination (README "Operations" → "TLS"): the real server with a
//! certificate made at test time speaks TLS 1.3 and 1.2 and nothing older,
//! sends HSTS, and refuses to start half-configured or with an https base
//! URL it cannot serve.

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use rustls::{
    crypto::ring,
    pki_types::{CertificateDer, ServerName},
    ClientConfig, ProtocolVersion, RootCertStore, SupportedProtocolVersion,
};
use server::{tls::Transport, Application, Config};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tokio_rustls::{client::TlsStream, TlsConnector};

use crate::helpers::*;

/// A self-signed certificate for `localhost` (ECDSA P-256), written as PEM
/// files the way an operator would provide them.
struct TestCert {
    der: CertificateDer<'static>,
    cert_path: PathBuf,
    key_path: PathBuf,
}

fn test_cert() -> TestCert {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = std::env::temp_dir()
        .join("smart-courses-tests")
        .join(format!("tls-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    std::fs::write(&cert_path, made.cert.pem()).unwrap();
    std::fs::write(&key_path, made.signing_key.serialize_pem()).unwrap();
    TestCert {
        der: made.cert.der().clone(),
        cert_path,
        key_path,
    }
}

/// The app serving https with `cert` (and its https base URL, no proxy).
async fn spawn_tls_app(cert: &TestCert) -> TestApp {
    let (cert_path, key_path) = (cert.cert_path.clone(), cert.key_path.clone());
    spawn_app_configured(Options::default(), move |c| {
        c.behind_tls_proxy = false;
        c.tls_cert_path = Some(cert_path);
        c.tls_key_path = Some(key_path);
    })
    .await
}

/// A TLS client that trusts `cert` and speaks only `version`, offering `alpn`.
async fn connect(
    addr: SocketAddr,
    cert: &TestCert,
    version: &'static SupportedProtocolVersion,
    alpn: &[&[u8]],
) -> std::io::Result<TlsStream<TcpStream>> {
    let mut roots = RootCertStore::empty();
    roots.add(cert.der.clone()).unwrap();
    let mut config = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let tcp = TcpStream::connect(addr).await?;
    TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
}

/// `GET /health` over HTTP/1.1 on `stream`: the status line and the headers
/// (lower-cased names).
async fn get_health(mut stream: TlsStream<TcpStream>) -> (String, Vec<(String, String)>) {
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut raw = Vec::new();
    // The server closes after the response; a close without `close_notify`
    // would only matter if the head were incomplete (checked below).
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw)).await;
    let text = String::from_utf8_lossy(&raw);
    let (head, _) = text
        .split_once("\r\n\r\n")
        .expect("a complete response head");
    let mut lines = head.lines();
    let status = lines.next().unwrap().to_owned();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn a_tls_1_3_client_gets_health_with_hsts() {
    // Arrange
    let cert = test_cert();
    let app = spawn_tls_app(&cert).await;

    // Act
    let stream = connect(app.addr, &cert, &rustls::version::TLS13, &[b"http/1.1"])
        .await
        .expect("TLS 1.3 handshake");
    let negotiated = stream.get_ref().1.protocol_version();
    let (status, headers) = get_health(stream).await;

    // Assert
    assert_eq!(negotiated, Some(ProtocolVersion::TLSv1_3));
    assert_eq!(status, "HTTP/1.1 200 OK");
    let hsts = header(&headers, "strict-transport-security").expect("HSTS header");
    assert_eq!(hsts, "max-age=31536000; includeSubDomains");
    let max_age: u64 = hsts
        .strip_prefix("max-age=")
        .and_then(|v| v.split(';').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(max_age >= 365 * 24 * 3600);
    // The other hardening headers are still there.
    assert_eq!(header(&headers, "x-content-type-options"), Some("nosniff"));
}

#[tokio::test]
async fn a_tls_1_2_client_is_served_too() {
    let cert = test_cert();
    let app = spawn_tls_app(&cert).await;

    let stream = connect(app.addr, &cert, &rustls::version::TLS12, &[b"http/1.1"])
        .await
        .expect("TLS 1.2 handshake");
    let (_, conn) = stream.get_ref();
    assert_eq!(conn.protocol_version(), Some(ProtocolVersion::TLSv1_2));
    // An AEAD suite with ECDHE (the certificate is ECDSA).
    let suite = format!("{:?}", conn.negotiated_cipher_suite().unwrap().suite());
    assert!(suite.starts_with("TLS_ECDHE_ECDSA_WITH_"), "{suite}");
    let (status, headers) = get_health(stream).await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(header(&headers, "strict-transport-security").is_some());
}

#[tokio::test]
async fn alpn_offers_http2_first_and_http1() {
    let cert = test_cert();
    let app = spawn_tls_app(&cert).await;

    let h2 = connect(
        app.addr,
        &cert,
        &rustls::version::TLS13,
        &[b"h2", b"http/1.1"],
    )
    .await
    .unwrap();
    assert_eq!(h2.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let h1 = connect(app.addr, &cert, &rustls::version::TLS13, &[b"http/1.1"])
        .await
        .unwrap();
    assert_eq!(h1.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
}

// --- Old protocol versions: raw ClientHellos (rustls clients cannot speak them).

/// TLS_ECDHE_{ECDSA,RSA}_WITH_AES_128_CBC_SHA, …_AES_256_CBC_SHA,
/// TLS_RSA_WITH_AES_{128,256}_CBC_SHA, TLS_RSA_WITH_3DES_EDE_CBC_SHA: what a
/// TLS 1.0/1.1 client offers.
const CLASSIC_SUITES: [u16; 7] = [0xc009, 0xc013, 0xc00a, 0xc014, 0x002f, 0x0035, 0x000a];

/// TLS_ECDHE_{ECDSA,RSA}_WITH_AES_128_GCM_SHA256: suites the server has.
const MODERN_SUITES: [u16; 2] = [0xc02b, 0xc02f];

/// A minimal ClientHello record for `version` (record and client_version
/// alike) offering `suites`, with SNI `localhost`, the x25519 and P-256
/// groups, uncompressed points and (TLS 1.2's) signature algorithms.
fn client_hello(version: [u8; 2], suites: &[u16]) -> Vec<u8> {
    fn u16_len(n: usize) -> [u8; 2] {
        u16::try_from(n).unwrap().to_be_bytes()
    }
    let mut extensions = Vec::new();
    let name = b"localhost";
    extensions.extend([0x00, 0x00]); // server_name
    extensions.extend(u16_len(name.len() + 5));
    extensions.extend(u16_len(name.len() + 3));
    extensions.push(0); // host_name
    extensions.extend(u16_len(name.len()));
    extensions.extend(name);
    // supported_groups: x25519, secp256r1
    extensions.extend([0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17]);
    // ec_point_formats: uncompressed
    extensions.extend([0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]);
    // signature_algorithms: ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256
    extensions.extend([
        0x00, 0x0d, 0x00, 0x08, 0x00, 0x06, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01,
    ]);

    let mut body = Vec::new();
    body.extend(version); // client_version
    body.extend([0x5a; 32]); // random
    body.push(0); // no session id
    body.extend(u16_len(suites.len() * 2));
    for suite in suites {
        body.extend(suite.to_be_bytes());
    }
    body.extend([1, 0]); // compression methods: null
    body.extend(u16_len(extensions.len()));
    body.extend(extensions);

    let mut handshake = vec![0x01]; // client_hello
    handshake.extend(&u32::try_from(body.len()).unwrap().to_be_bytes()[1..]);
    handshake.extend(body);
    let mut record = vec![0x16]; // handshake
    record.extend(version);
    record.extend(u16_len(handshake.len()));
    record.extend(handshake);
    record
}

/// What the server answered a raw ClientHello with.
#[derive(Debug, PartialEq)]
enum Answer {
    /// A ServerHello, with its server_version.
    ServerHello([u8; 2]),
    /// A fatal alert with this description.
    FatalAlert(u8),
    /// The connection closed without a record.
    Closed,
}

async fn answer_to(addr: SocketAddr, hello: &[u8]) -> Answer {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(hello).await.unwrap();
    let mut head = [0u8; 5];
    let read = tokio::time::timeout(Duration::from_secs(10), tcp.read_exact(&mut head))
        .await
        .expect("the server answers within 10 s");
    if read.is_err() {
        return Answer::Closed;
    }
    let mut payload = vec![0u8; usize::from(u16::from_be_bytes([head[3], head[4]]))];
    tcp.read_exact(&mut payload).await.unwrap();
    match head[0] {
        0x15 => {
            assert_eq!(payload[0], 2, "alert level: fatal");
            Answer::FatalAlert(payload[1])
        }
        0x16 if payload[0] == 0x02 => Answer::ServerHello([payload[4], payload[5]]),
        other => panic!("unexpected record type {other}: {payload:?}"),
    }
}

/// A refusal as the brief allows it: protocol_version (70) or
/// handshake_failure (40) alert, or a closed connection.
#[track_caller]
fn assert_refused(answer: &Answer, what: &str) {
    assert!(
        matches!(answer, Answer::FatalAlert(70 | 40) | Answer::Closed),
        "{what}: {answer:?}"
    );
}

#[tokio::test]
async fn tls_1_1_and_1_0_clients_are_refused_and_the_same_hello_as_1_2_is_served() {
    // Arrange
    let cert = test_cert();
    let app = spawn_tls_app(&cert).await;

    // Act
    let tls11_classic = answer_to(app.addr, &client_hello([3, 2], &CLASSIC_SUITES)).await;
    let tls11_modern = answer_to(app.addr, &client_hello([3, 2], &MODERN_SUITES)).await;
    let tls10 = answer_to(app.addr, &client_hello([3, 1], &CLASSIC_SUITES)).await;
    // The control: byte for byte the same hello, but TLS 1.2.
    let tls12 = answer_to(app.addr, &client_hello([3, 3], &MODERN_SUITES)).await;

    // Assert
    assert_refused(&tls11_classic, "TLS 1.1 with CBC suites");
    assert_refused(&tls11_modern, "TLS 1.1 with the server's own suites");
    assert_refused(&tls10, "TLS 1.0");
    assert_eq!(tls12, Answer::ServerHello([3, 3]));
    // And the refusals cost nothing else: the server still serves.
    let stream = connect(app.addr, &cert, &rustls::version::TLS13, &[b"http/1.1"])
        .await
        .unwrap();
    assert_eq!(get_health(stream).await.0, "HTTP/1.1 200 OK");
}

// --- HSTS without TLS here, and the start-up rules.

#[tokio::test]
async fn behind_a_tls_proxy_with_an_https_base_url_responses_carry_hsts() {
    // The test app's base URL is https, behind a TLS-terminating proxy.
    let app = spawn_app().await;
    let resp = app.http.get(app.url("/health")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
}

#[tokio::test]
async fn a_plain_http_base_url_gets_no_hsts() {
    let app = spawn_app_configured(Options::default(), |c| {
        c.base_url = "http://127.0.0.1:3000".parse().unwrap();
        c.behind_tls_proxy = false;
    })
    .await;
    let resp = app.http.get(app.url("/health")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("strict-transport-security").is_none());
}

/// A production configuration: https base URL, no TLS, no proxy flag.
fn https_config() -> Config {
    let mut config = Config::from_env_and_defaults();
    config.base_url = BASE_URL.parse().unwrap();
    config.site_addr = "127.0.0.1:0".parse().unwrap();
    config.tls_cert_path = None;
    config.tls_key_path = None;
    config.behind_tls_proxy = false;
    config
}

#[tokio::test]
async fn an_https_base_url_without_tls_or_proxy_flag_refuses_to_start() {
    let config = https_config();

    let error = Application::build(&config).await.unwrap_err();

    let message = format!("{error:#}");
    assert!(message.contains("--behind-tls-proxy"), "{message}");
    assert!(message.contains("TLS_CERT_PATH"), "{message}");
}

#[test]
fn the_proxy_flag_or_a_certificate_lets_an_https_base_url_start() {
    let mut behind_proxy = https_config();
    behind_proxy.behind_tls_proxy = true;
    let transport = Transport::from_config(&behind_proxy).unwrap();
    assert!(!transport.is_tls());
    assert!(transport.sends_hsts());

    let cert = test_cert();
    let mut with_tls = https_config();
    with_tls.tls_cert_path = Some(cert.cert_path);
    with_tls.tls_key_path = Some(cert.key_path);
    let transport = Transport::from_config(&with_tls).unwrap();
    assert!(transport.is_tls());
    assert!(transport.sends_hsts());

    // Development: plain http, no rule, no HSTS.
    let mut plain = https_config();
    plain.base_url = "http://127.0.0.1:3000".parse().unwrap();
    let transport = Transport::from_config(&plain).unwrap();
    assert!(!transport.is_tls() && !transport.sends_hsts());
}

#[test]
fn half_a_tls_configuration_is_refused_naming_the_missing_half() {
    let cert = test_cert();

    let mut only_cert = https_config();
    only_cert.tls_cert_path = Some(cert.cert_path.clone());
    let message = format!("{:#}", Transport::from_config(&only_cert).unwrap_err());
    assert!(message.contains("TLS_KEY_PATH is not"), "{message}");

    let mut only_key = https_config();
    only_key.tls_key_path = Some(cert.key_path.clone());
    let message = format!("{:#}", Transport::from_config(&only_key).unwrap_err());
    assert!(message.contains("TLS_CERT_PATH is not"), "{message}");
}

#[test]
fn missing_unreadable_or_mismatched_certificate_files_are_clear_errors() {
    let cert = test_cert();
    let other = test_cert();
    let missing = cert.cert_path.with_file_name("nowhere.pem");
    let with = |cert_path: &PathBuf, key_path: &PathBuf| {
        let mut config = https_config();
        config.tls_cert_path = Some(cert_path.clone());
        config.tls_key_path = Some(key_path.clone());
        format!("{:#}", Transport::from_config(&config).unwrap_err())
    };

    let no_cert = with(&missing, &cert.key_path);
    assert!(no_cert.contains("TLS_CERT_PATH") && no_cert.contains("nowhere.pem"));

    let no_key = with(&cert.cert_path, &missing);
    assert!(no_key.contains("TLS_KEY_PATH") && no_key.contains("nowhere.pem"));

    // A key file given as the certificate: no certificate in it.
    let swapped = with(&cert.key_path, &cert.key_path);
    assert!(swapped.contains("no certificate"), "{swapped}");

    // Another certificate's key.
    let mismatched = with(&cert.cert_path, &other.key_path);
    assert!(mismatched.contains("does not fit"), "{mismatched}");
    // The error never shows the key.
    let key_pem = std::fs::read_to_string(&other.key_path).unwrap();
    let key_body = key_pem.lines().nth(1).unwrap();
    assert!(!mismatched.contains(key_body));
}
