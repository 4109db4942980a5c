//! Forge Remote as Atlassian's side plays it: a JWKS on loopback publishing
//! the fixture key, Forge Invocation Tokens (FITs) minted like Forge mints
//! them, the `x-forge-oauth-*` tokens handed out by the fake Confluence's
//! Forge gateway, and calls of server functions and the Forge lifecycle.

use axum::{routing::get, Json, Router};
use jsonwebtoken::{encode, jwk::Jwk, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use testkit::{keys, tokens, FakeConfluence};

use super::test_app::{spawn_app_configured, Options, TestApp, APP_KEY};

/// Our Forge app id (the only accepted `aud`).
pub(crate) const FORGE_APP_ID: &str =
    "ari:cloud:ecosystem::app/8db7a3f1-2c4d-4e5f-9a0b-1c2d3e4f5a6b";
/// The `kid` the loopback JWKS publishes fixture key A under.
pub(crate) const FORGE_KID: &str = "forge-kid-a";

/// Forge's JWKS on loopback, publishing fixture key A under [`FORGE_KID`].
pub(crate) async fn start_forge_jwks() -> String {
    let key = EncodingKey::from_rsa_pem(keys::FIXTURE_A.private_pem.as_bytes()).unwrap();
    let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).unwrap();
    jwk.common.key_id = Some(FORGE_KID.into());
    let set = json!({ "keys": [jwk] });
    let router = Router::new().route(
        "/.well-known/jwks.json",
        get(move || {
            let set = set.clone();
            async move { Json(set) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}/.well-known/jwks.json")
}

/// The app with Forge configured (loopback JWKS) and both transports
/// reaching `fake`: Connect at the sites' base URLs, Forge through the
/// fake's gateway (`FORGE_API_BASE_URL`).
pub(crate) async fn spawn_forge_app_with_confluence(fake: &FakeConfluence) -> TestApp {
    let jwks = start_forge_jwks().await;
    let token_url = fake.token_url();
    let api = fake.forge_api_prefix();
    spawn_app_configured(Options::default(), move |c| {
        c.app_key = APP_KEY.into();
        c.oauth_token_url = Some(token_url.parse().unwrap());
        c.forge_app_id = Some(FORGE_APP_ID.into());
        c.forge_jwks_url = Some(jwks.parse().unwrap());
        c.forge_api_base_url = Some(api.parse().unwrap());
    })
    .await
}

/// One Forge site as a test sees it: its installation, cloud id, and the
/// gateway URL FITs carry as `app.apiBaseUrl`.
#[derive(Clone, Debug)]
pub(crate) struct ForgeSite {
    pub installation: String,
    pub cloud_id: String,
    pub api_base_url: String,
}

impl ForgeSite {
    /// `n` tells sites apart (installation and cloud ids derive from it).
    pub(crate) fn on(fake: &FakeConfluence, n: u8) -> Self {
        let cloud_id = format!("0f0e0d0c-0000-4000-8000-0000000000{n:02x}");
        Self {
            installation: format!(
                "ari:cloud:ecosystem::installation/5d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5{n:02x}"
            ),
            api_base_url: fake.forge_api_base_url(&cloud_id),
            cloud_id,
        }
    }

    /// Claims of a UI invocation (`xen:macro`) by `principal` on `page` in
    /// `space`; `None` principal makes it app-only (a trigger).
    pub(crate) fn claims(&self, principal: Option<&str>, page: &str, space: &str) -> Value {
        let now = tokens::now();
        let mut claims = json!({
            "iss": "forge/invocation-token",
            "aud": FORGE_APP_ID,
            "iat": now, "nbf": now, "exp": now + 25,
            "jti": uuid::Uuid::new_v4().to_string(),
            "app": {
                "id": FORGE_APP_ID,
                "appVersion": "1.0.0",
                "installationId": self.installation,
                "apiBaseUrl": self.api_base_url,
                "environment": {"type": "DEVELOPMENT", "id": "env-1"},
                "module": {"type": "xen:macro", "key": "smart-course"},
            },
        });
        if let Some(p) = principal {
            claims["principal"] = json!(p);
            claims["context"] = json!({
                "cloudId": self.cloud_id,
                "moduleKey": "smart-course",
                "localId": "macro-1",
                "extension": {
                    "type": "macro",
                    "content": {"id": page, "type": "page"},
                    "space": {"key": space, "id": 65537},
                    "isEditing": false,
                },
            });
        } else {
            claims["app"]["module"] = json!({"type": "core:endpoint", "key": "remote-lifecycle"});
        }
        claims
    }

    /// A signed UI FIT (see [`ForgeSite::claims`]).
    pub(crate) fn fit(&self, principal: Option<&str>, page: &str, space: &str) -> String {
        sign_fit(&self.claims(principal, page, space))
    }

    /// The `x-forge-oauth-system` / `x-forge-oauth-user` tokens Forge would
    /// send with `principal`'s invocation on this site (`client_key`'s app).
    pub(crate) fn tokens(
        &self,
        fake: &FakeConfluence,
        client_key: &str,
        principal: &str,
    ) -> ForgeTokens {
        ForgeTokens {
            system: Some(fake.issue_forge_system_token(client_key, &self.cloud_id)),
            user: Some(fake.issue_forge_user_token(principal, &self.cloud_id)),
        }
    }
}

/// What travels with a FIT.
#[derive(Clone, Debug, Default)]
pub(crate) struct ForgeTokens {
    pub system: Option<String>,
    pub user: Option<String>,
}

/// `claims` signed RS256 with fixture key A under [`FORGE_KID`].
pub(crate) fn sign_fit(claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(FORGE_KID.into());
    encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(keys::FIXTURE_A.private_pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

impl TestApp {
    /// Installs `client_key` on `fake` through the real signed Connect
    /// `/installed`, naming its Forge installation (what Connect-on-Forge
    /// sends).
    pub(crate) async fn install_on_with_installation(
        &self,
        fake: &FakeConfluence,
        client_key: &str,
        secret: &str,
        installation: &str,
    ) {
        fake.add_site(client_key, secret);
        let token = super::install_token(super::install_claims(client_key, "/installed"));
        let mut body = tokens::install_body(client_key, secret, &fake.base_url());
        body["installationId"] = json!(installation);
        let resp = self.lifecycle("installed", Some(&token), &body).await;
        assert_eq!(resp.status(), 204, "install of {client_key} refused");
    }

    /// A server function through Forge Remote: `Authorization: Bearer
    /// <fit>` plus the tokens, with a form or JSON body.
    pub(crate) async fn forge_call_fn(
        &self,
        name: &str,
        authorization: &str,
        tokens: &ForgeTokens,
        body: ForgeBody<'_>,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .post(self.url(&format!("/api/{name}")))
            .header("Authorization", authorization);
        req = match body {
            ForgeBody::Form(pairs) => req.form(pairs),
            ForgeBody::Json(v) => req.json(v),
        };
        if let Some(t) = &tokens.system {
            req = req.header("x-forge-oauth-system", t);
        }
        if let Some(t) = &tokens.user {
            req = req.header("x-forge-oauth-user", t);
        }
        req.send().await.unwrap()
    }

    /// `POST path` (a Forge lifecycle route) with `Authorization` and a raw body.
    pub(crate) async fn forge_lifecycle(
        &self,
        path: &str,
        authorization: Option<&str>,
        body: &str,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .post(self.url(path))
            .header("Content-Type", "application/json")
            .body(body.to_owned());
        if let Some(a) = authorization {
            req = req.header("Authorization", a);
        }
        req.send().await.unwrap()
    }
}

/// A server function's arguments.
pub(crate) enum ForgeBody<'a> {
    Form(&'a [(&'a str, &'a str)]),
    Json(&'a Value),
}
