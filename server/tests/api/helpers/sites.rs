//! Tenants: installed and uninstalled through the real signed lifecycle
//! callbacks, and the install tokens of this test app's audience.

use serde_json::{json, Value};
use testkit::{keys, tokens, FakeConfluence, InstallKey};

use super::test_app::{TestApp, BASE_URL};

/// "Atlassian's" signing key (the one the test key server publishes).
pub(crate) const KEY_A: InstallKey = keys::FIXTURE_A;
/// An RSA private key nobody publishes.
pub(crate) const KEY_B: &str = keys::FIXTURE_B.private_pem;
/// A kid the key server does not know.
pub(crate) const KID_UNKNOWN: &str = keys::KID_UNKNOWN;

pub(crate) use testkit::tokens::InstallClaims;

/// Valid signed-install claims from `client_key` for `POST path` of the test
/// app (audience [`BASE_URL`]), signed with [`KEY_A`].
pub(crate) fn install_claims(client_key: &str, path: &str) -> InstallClaims {
    InstallClaims::valid(client_key, path, BASE_URL, KEY_A)
}

/// Signs install claims.
pub(crate) fn install_token(c: InstallClaims) -> String {
    c.sign()
}

/// An RS256 token signed with the unpublished key.
pub(crate) fn rs_token(claims: &Value) -> String {
    tokens::rs_token(keys::FIXTURE_B, claims)
}

/// The `/installed` body of `client_key` at `https://<client_key>.atlassian.net/wiki`.
pub(crate) fn install_body(client_key: &str, secret: &str) -> Value {
    tokens::install_body(
        client_key,
        secret,
        &format!("https://{client_key}.atlassian.net/wiki"),
    )
}

/// A base URL nothing listens on (Confluence down: connection refused).
/// Port 1 on loopback: unlike a freed ephemeral port, no concurrently
/// running test can bind it meanwhile.
pub(crate) fn closed_port_base_url() -> String {
    "http://127.0.0.1:1/wiki".to_owned()
}

impl TestApp {
    /// Installs `client_key` with `secret` through the real signed install.
    pub(crate) async fn install(&self, client_key: &str, secret: &str) {
        let token = install_token(install_claims(client_key, "/installed"));
        let resp = self
            .lifecycle("installed", Some(&token), &install_body(client_key, secret))
            .await;
        assert_eq!(
            resp.status(),
            204,
            "install of {client_key} refused: {}",
            resp.text().await.unwrap()
        );
    }

    /// Installs `client_key` (real signed install) with `baseUrl` = `base_url`.
    pub(crate) async fn install_at(&self, client_key: &str, secret: &str, base_url: &str) {
        let token = install_token(install_claims(client_key, "/installed"));
        let body = tokens::install_body(client_key, secret, base_url);
        let resp = self.lifecycle("installed", Some(&token), &body).await;
        assert_eq!(
            resp.status(),
            204,
            "install of {client_key} at {base_url} refused: {}",
            resp.text().await.unwrap()
        );
    }

    /// Installs `client_key` against the fake Confluence (which learns the
    /// site's secret and OAuth client).
    pub(crate) async fn install_on(&self, fake: &FakeConfluence, client_key: &str, secret: &str) {
        fake.add_site(client_key, secret);
        self.install_at(client_key, secret, &fake.base_url()).await;
    }

    /// Uninstalls `client_key` through the real signed `/uninstalled`.
    pub(crate) async fn uninstall(&self, client_key: &str) {
        let token = install_token(install_claims(client_key, "/uninstalled"));
        let mut body = install_body(client_key, "ignored");
        body["eventType"] = json!("uninstalled");
        let resp = self.lifecycle("uninstalled", Some(&token), &body).await;
        assert_eq!(resp.status(), 204, "uninstall of {client_key} refused");
    }

    /// The stored shared secret of a tenant (to prove what was or was not written).
    pub(crate) async fn stored_secret(&self, client_key: &str) -> Option<String> {
        use secrecy::ExposeSecret;
        self.state
            .db
            .tenant(client_key)
            .await
            .unwrap()
            .map(|t| t.shared_secret.expose_secret().to_owned())
    }
}
