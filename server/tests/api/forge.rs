//! Forge Remote: `POST /forge/invoke` with a Forge Invocation Token (FIT)
//! signed by a JWKS on loopback (the test kit's fixture keys), for tenants
//! installed through the real signed Connect `/installed` carrying their
//! `installationId`. Runs on SQLite and, with `SC_TEST_DB=postgres`, on
//! PostgreSQL.

use axum::{routing::get, Json, Router};
use jsonwebtoken::{encode, jwk::Jwk, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use testkit::keys;

use crate::helpers::*;

const APP_ID: &str = "ari:cloud:ecosystem::app/8db7a3f1-2c4d-4e5f-9a0b-1c2d3e4f5a6b";
const KID: &str = "forge-kid-a";
const INSTALL_ACME: &str = "ari:cloud:ecosystem::installation/5d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6";
const INSTALL_GLOBEX: &str =
    "ari:cloud:ecosystem::installation/9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const INSTALL_UNKNOWN: &str =
    "ari:cloud:ecosystem::installation/00000000-0000-4000-8000-000000000000";
const ACCOUNT: &str = "5b10ac8d82e05b22cc7d4ef5";

/// Forge's JWKS on loopback, publishing fixture key A under [`KID`].
async fn start_jwks() -> String {
    let key = EncodingKey::from_rsa_pem(keys::FIXTURE_A.private_pem.as_bytes()).unwrap();
    let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).unwrap();
    jwk.common.key_id = Some(KID.into());
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

/// The app with Forge configured against the loopback JWKS.
async fn spawn_forge_app() -> TestApp {
    let jwks = start_jwks().await;
    spawn_app_configured(Options::default(), move |c| {
        c.forge_app_id = Some(APP_ID.into());
        c.forge_jwks_url = Some(jwks.parse().unwrap());
    })
    .await
}

/// Installs `client_key` through the signed Connect install, naming its
/// Forge installation.
async fn install_with_installation(app: &TestApp, client_key: &str, installation_id: &str) {
    let token = install_token(install_claims(client_key, "/installed"));
    let mut body = install_body(
        client_key,
        &format!("secret-of-{client_key}-0123456789abcdef"),
    );
    body["installationId"] = json!(installation_id);
    let resp = app.lifecycle("installed", Some(&token), &body).await;
    assert_eq!(resp.status(), 204, "install of {client_key} refused");
}

/// A UI invocation's FIT for `installation_id`, by `principal`.
fn fit(installation_id: &str, principal: Option<&str>) -> String {
    let now = now();
    let mut claims = json!({
        "iss": "forge/invocation-token",
        "aud": APP_ID,
        "iat": now, "nbf": now, "exp": now + 25,
        "jti": uuid::Uuid::new_v4().to_string(),
        "app": {
            "id": APP_ID,
            "appVersion": "1.0.0",
            "installationId": installation_id,
            "apiBaseUrl": "https://api.atlassian.com/ex/confluence/3f1c6e2a-cloud",
            "environment": {"type": "DEVELOPMENT", "id": "env-1"},
            "module": {"type": "xen:macro", "key": "smart-course"},
        },
    });
    if let Some(p) = principal {
        claims["principal"] = json!(p);
    }
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(KID.into());
    encode(
        &header,
        &claims,
        &EncodingKey::from_rsa_pem(keys::FIXTURE_A.private_pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

/// `POST /forge/invoke` with these `Authorization` header values.
async fn invoke(app: &TestApp, authorization: &[&str]) -> (u16, String) {
    let mut req = app
        .http
        .post(app.url("/forge/invoke"))
        .json(&json!({"call": {"functionKey": "whoami"}}));
    for value in authorization {
        req = req.header("Authorization", *value);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

fn assert_bare_401((status, body): (u16, String), case: &str) {
    assert_eq!(status, 401, "{case}: {body}");
    assert_eq!(body, "Unauthorized", "{case}: the 401 body is bare");
}

#[tokio::test]
async fn a_valid_fit_for_an_installed_tenant_answers_who_is_calling() {
    let app = spawn_forge_app().await;
    install_with_installation(&app, "acme", INSTALL_ACME).await;

    let (status, body) = invoke(
        &app,
        &[&format!("Bearer {}", fit(INSTALL_ACME, Some(ACCOUNT)))],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let who: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        who,
        json!({
            "installationId": INSTALL_ACME,
            "clientKey": "acme",
            "accountId": ACCOUNT,
            "tenantFound": true,
        })
    );
    // Nothing of the site's secret or URL comes back.
    assert!(!body.contains("secret-of-acme") && !body.contains("atlassian.net"));

    // An app-only invocation (a trigger): no principal.
    let (status, body) = invoke(&app, &[&format!("Bearer {}", fit(INSTALL_ACME, None))]).await;
    assert_eq!(status, 200, "{body}");
    let who: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(who["accountId"], Value::Null);
}

#[tokio::test]
async fn each_installation_speaks_for_its_own_tenant_only() {
    let app = spawn_forge_app().await;
    install_with_installation(&app, "acme", INSTALL_ACME).await;
    install_with_installation(&app, "globex", INSTALL_GLOBEX).await;

    for (installation, client_key) in [(INSTALL_ACME, "acme"), (INSTALL_GLOBEX, "globex")] {
        let (status, body) = invoke(
            &app,
            &[&format!("Bearer {}", fit(installation, Some(ACCOUNT)))],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let who: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(who["clientKey"], json!(client_key));
        assert_eq!(who["installationId"], json!(installation));
    }
    // The store lookup itself, on this backend.
    let db = &app.state.db;
    assert_eq!(
        db.tenant_by_installation_id(INSTALL_GLOBEX).await.unwrap(),
        Some("globex".to_owned())
    );
    assert_eq!(
        db.tenant_by_installation_id(INSTALL_UNKNOWN).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn an_unknown_or_uninstalled_installation_is_refused() {
    let app = spawn_forge_app().await;
    install_with_installation(&app, "acme", INSTALL_ACME).await;

    assert_bare_401(
        invoke(
            &app,
            &[&format!("Bearer {}", fit(INSTALL_UNKNOWN, Some(ACCOUNT)))],
        )
        .await,
        "unknown installation",
    );

    app.uninstall("acme").await;
    assert_bare_401(
        invoke(
            &app,
            &[&format!("Bearer {}", fit(INSTALL_ACME, Some(ACCOUNT)))],
        )
        .await,
        "uninstalled tenant",
    );
}

#[tokio::test]
async fn anything_but_exactly_one_bearer_fit_is_refused_with_a_bare_401() {
    let app = spawn_forge_app().await;
    let secret = "secret-of-acme-0123456789abcdef";
    let mut body = install_body("acme", secret);
    body["installationId"] = json!(INSTALL_ACME);
    let token = install_token(install_claims("acme", "/installed"));
    assert_eq!(
        app.lifecycle("installed", Some(&token), &body)
            .await
            .status(),
        204
    );
    let good = fit(INSTALL_ACME, Some(ACCOUNT));
    let connect = context_token("acme", secret, ACCOUNT, "98305");

    assert_bare_401(invoke(&app, &[]).await, "no header");
    assert_bare_401(invoke(&app, &["Bearer "]).await, "empty bearer");
    assert_bare_401(
        invoke(&app, &[&format!("JWT {good}")]).await,
        "FIT under the JWT scheme",
    );
    assert_bare_401(
        invoke(&app, &[&format!("JWT {connect}")]).await,
        "Connect context JWT",
    );
    assert_bare_401(
        invoke(&app, &[&format!("Bearer {connect}")]).await,
        "Connect context JWT as a bearer",
    );
    assert_bare_401(
        invoke(&app, &[&format!("Bearer {good} {good}")]).await,
        "two tokens in one header",
    );
    assert_bare_401(
        invoke(&app, &[&format!("Bearer {good}, Bearer {good}")]).await,
        "two credentials in one header",
    );
    assert_bare_401(
        invoke(
            &app,
            &[&format!("Bearer {good}"), &format!("Bearer {good}")],
        )
        .await,
        "two Authorization headers",
    );
    // A FIT altered after signing.
    let other = good.replace('a', "b");
    assert_bare_401(
        invoke(&app, &[&format!("Bearer {other}")]).await,
        "tampered FIT",
    );

    // The same FIT alone is accepted (the refusals were about the shape).
    let (status, _) = invoke(&app, &[&format!("Bearer {good}")]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn without_forge_app_id_the_forge_routes_are_not_mounted() {
    let app = spawn_app().await;
    let (status, _) = invoke(&app, &[&format!("Bearer {}", fit(INSTALL_ACME, None))]).await;
    assert_eq!(status, 404);
}
