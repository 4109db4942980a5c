//! Install-signing keys and the install-key server.
//!
//! Atlassian signs `/installed` and `/uninstalled` with RS256 and publishes
//! the public keys at `<CONNECT_KEYS_CDN_URL>/<kid>`. These key pairs are
//! published in this repository on purpose: they sign only for a key server
//! of this kit, which a release build never trusts (its key URL is
//! Atlassian's).

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use axum::{
    extract::{Path, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};

/// An RS256 key pair with its `kid`.
#[derive(Clone, Copy, Debug)]
pub struct InstallKey {
    pub kid: &'static str,
    pub private_pem: &'static str,
    pub public_pem: &'static str,
}

/// The key the tests' key server publishes ("Atlassian's" key).
pub const FIXTURE_A: InstallKey = InstallKey {
    kid: "0f9e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
    private_pem: include_str!("../keys/install-key-a.pem"),
    public_pem: include_str!("../keys/install-key-a.pub.pem"),
};

/// A key nobody publishes (an attacker's own RSA key).
pub const FIXTURE_B: InstallKey = InstallKey {
    kid: "7c2d9e4f-1a3b-4c5d-9e8f-6a7b8c9d0e1f",
    private_pem: include_str!("../keys/install-key-b.pem"),
    public_pem: include_str!("../keys/install-key-b.pub.pem"),
};

/// The host simulator's development key.
pub const DEV: InstallKey = InstallKey {
    kid: "dev-host-install-key-1",
    private_pem: include_str!("../keys/dev-install-key.pem"),
    public_pem: include_str!("../keys/dev-install-key.pub.pem"),
};

/// A `kid` no key server knows.
pub const KID_UNKNOWN: &str = "11111111-2222-4333-8444-555555555555";

/// Serves the public halves of some keys at `/{kid}` (404 for others), and
/// counts what it is asked.
#[derive(Clone, Debug)]
pub struct KeyServer {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    keys: HashMap<&'static str, &'static str>,
    delay: Duration,
    requests: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl KeyServer {
    /// A key server that publishes `keys`.
    pub fn new(keys: &[InstallKey]) -> Self {
        Self::with_delay(keys, Duration::ZERO)
    }

    /// A key server that takes `delay` to answer each request (to see how
    /// many requests a client keeps in flight).
    pub fn with_delay(keys: &[InstallKey], delay: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                keys: keys.iter().map(|k| (k.kid, k.public_pem)).collect(),
                delay,
                requests: AtomicUsize::new(0),
                in_flight: AtomicUsize::new(0),
                max_in_flight: AtomicUsize::new(0),
            }),
        }
    }

    /// Requests answered (or being answered) so far.
    pub fn requests(&self) -> usize {
        self.inner.requests.load(Ordering::SeqCst)
    }

    /// The most requests that were in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.inner.max_in_flight.load(Ordering::SeqCst)
    }

    /// `GET /{kid}` → PEM; mount it where `CONNECT_KEYS_CDN_URL` points.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/{kid}", get(public_key))
            .with_state(self.inner.clone())
    }

    /// Serves on `127.0.0.1:0`; returns its base URL.
    pub async fn start(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the key server");
        let addr = listener.local_addr().expect("bound");
        let router = self.router();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        format!("http://{addr}")
    }
}

async fn public_key(State(inner): State<Arc<Inner>>, Path(kid): Path<String>) -> Response {
    inner.requests.fetch_add(1, Ordering::SeqCst);
    let now = inner.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    inner.max_in_flight.fetch_max(now, Ordering::SeqCst);
    if !inner.delay.is_zero() {
        tokio::time::sleep(inner.delay).await;
    }
    inner.in_flight.fetch_sub(1, Ordering::SeqCst);
    match inner.keys.get(kid.as_str()) {
        Some(pem) => ([(header::CONTENT_TYPE, "application/x-pem-file")], *pem).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
