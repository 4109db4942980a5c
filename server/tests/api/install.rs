//! Signed install and the other lifecycle callbacks.

use app::{api::WhoAmI, error::AppError};
use jsonwebtoken::Algorithm;
use serde_json::json;

use crate::helpers::{
    calls::{typed, Refused, Reply},
    *,
};

/// A server function's refusal of a caller it could not verify.
const UNAUTHORIZED: Refused = Refused {
    status: 401,
    error: AppError::Unauthorized,
};

/// `whoami` with a context token: who the app verified, or its refusal.
async fn whoami(app: &TestApp, token: &str) -> Reply<WhoAmI> {
    typed(app.call_fn("whoami", Some(token), &[]).await).await
}

/// The account a successful `whoami` names.
fn account(reply: Reply<WhoAmI>) -> Reply<Option<String>> {
    reply.map(|w| w.account_id)
}

#[tokio::test]
async fn a_valid_signed_install_stores_the_tenant() {
    let app = spawn_app().await;
    app.install("site-a", "secret-a-0123456789").await;
    let t = app
        .state
        .db
        .tenant("site-a")
        .await
        .unwrap()
        .expect("tenant stored");
    assert_eq!(t.base_url, "https://site-a.atlassian.net/wiki");
    assert_eq!(t.oauth_client_id.as_deref(), Some("oauth-site-a"));
    assert!(t.state.is_active());
    assert_eq!(
        app.stored_secret("site-a").await.as_deref(),
        Some("secret-a-0123456789")
    );
}

/// Each case: a way of sending `/installed` that must be refused with 401 and
/// write nothing.
#[tokio::test]
async fn installs_that_are_not_validly_signed_are_refused_and_write_nothing() {
    let app = spawn_app().await;
    let body = install_body("site-x", "attacker-secret");
    let valid = || install_claims("site-x", "/installed");
    let mut cases: Vec<(&str, Option<String>)> = vec![("no token", None)];
    cases.push((
        "HS256 install",
        Some(hs_token(
            Algorithm::HS256,
            "attacker-secret",
            &valid().claims,
        )),
    ));
    cases.push((
        "context token",
        Some(hs_token(
            Algorithm::HS256,
            "attacker-secret",
            &context_claims("site-x", "u1"),
        )),
    ));
    cases.push(("unsigned (alg none)", Some(unsigned_token(&valid().claims))));
    let mut c = valid();
    c.claims["aud"] = json!(["https://evil.example"]);
    cases.push(("wrong aud", Some(install_token(c))));
    let mut c = valid();
    c.claims["iss"] = json!("site-other");
    cases.push(("iss differs from body clientKey", Some(install_token(c))));
    let mut c = valid();
    c.kid = Some(KID_UNKNOWN.into());
    cases.push(("unknown kid", Some(install_token(c))));
    let mut c = valid();
    c.kid = Some("../0f9e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b".into());
    cases.push(("kid with ..", Some(install_token(c))));
    let mut c = valid();
    c.kid = Some("keys/0f9e1a2b".into());
    cases.push(("kid with /", Some(install_token(c))));
    let mut c = valid();
    c.kid = None;
    cases.push(("no kid", Some(install_token(c))));
    let mut c = valid();
    c.claims["exp"] = json!(now() - 120);
    cases.push(("expired", Some(install_token(c))));
    let mut c = valid();
    c.claims["qsh"] = json!(connect::qsh::qsh("POST", "/uninstalled", None, ""));
    cases.push(("qsh of another route", Some(install_token(c))));
    let mut c = valid();
    c.claims.as_object_mut().unwrap().remove("qsh");
    cases.push(("missing qsh", Some(install_token(c))));
    let mut c = valid();
    c.key = KEY_B;
    cases.push((
        "signed by a key other than the kid's",
        Some(install_token(c)),
    ));
    for (name, token) in cases {
        let resp = app.lifecycle("installed", token.as_deref(), &body).await;
        assert_eq!(resp.status(), 401, "case '{name}' was not refused");
        assert_eq!(
            resp.text().await.unwrap(),
            "Unauthorized",
            "case '{name}' leaked detail"
        );
        assert!(
            app.state.db.tenant("site-x").await.unwrap().is_none(),
            "case '{name}' wrote a tenant"
        );
    }
}

#[tokio::test]
async fn install_fails_closed_when_the_key_server_is_down() {
    // Port 1 on loopback: connection refused.
    let app = spawn_app_with(Options {
        keys_cdn_url: Some("http://127.0.0.1:1".into()),
    })
    .await;
    let token = install_token(install_claims("site-k", "/installed"));
    let resp = app
        .lifecycle("installed", Some(&token), &install_body("site-k", "s"))
        .await;
    assert_eq!(resp.status(), 401);
    assert!(app.state.db.tenant("site-k").await.unwrap().is_none());
}

#[tokio::test]
async fn a_reinstall_cannot_replace_the_secret_without_a_valid_signature() {
    let app = spawn_app().await;
    app.install("site-r", "original-secret").await;
    // An attacker who knows the clientKey (and even the old secret) tries to
    // reinstall with a new secret using an HS256 token.
    let forged = hs_token(
        Algorithm::HS256,
        "original-secret",
        &install_claims("site-r", "/installed").claims,
    );
    let resp = app
        .lifecycle(
            "installed",
            Some(&forged),
            &install_body("site-r", "attacker-secret"),
        )
        .await;
    assert_eq!(resp.status(), 401);
    assert_eq!(
        app.stored_secret("site-r").await.as_deref(),
        Some("original-secret")
    );
    // A validly signed reinstall may rotate it (Atlassian does on every dev reinstall).
    app.install("site-r", "rotated-secret").await;
    assert_eq!(
        app.stored_secret("site-r").await.as_deref(),
        Some("rotated-secret")
    );
}

#[tokio::test]
async fn a_malformed_install_body_is_a_clear_400_and_writes_nothing() {
    let app = spawn_app().await;
    let token = install_token(install_claims("site-m", "/installed"));
    let mut body = install_body("site-m", "s");
    body["baseUrl"] = json!("javascript:alert(1)");
    let resp = app.lifecycle("installed", Some(&token), &body).await;
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("baseUrl"));
    let resp = app
        .lifecycle("installed", Some(&token), &json!({"clientKey": "site-m"}))
        .await;
    assert_eq!(resp.status(), 400);
    assert!(app.state.db.tenant("site-m").await.unwrap().is_none());
}

#[tokio::test]
async fn uninstall_stops_tokens_at_once_and_keeps_the_data() {
    let app = spawn_app().await;
    app.install("site-u", "secret-u").await;
    let ctx = hs_token(
        Algorithm::HS256,
        "secret-u",
        &context_claims("site-u", "acc-1"),
    );
    assert_eq!(
        account(whoami(&app, &ctx).await),
        Ok(Some("acc-1".to_owned()))
    );

    // Uninstall must be signed too: an HS256 token is refused.
    let hs = hs_token(
        Algorithm::HS256,
        "secret-u",
        &install_claims("site-u", "/uninstalled").claims,
    );
    let body = json!({"clientKey": "site-u", "key": "smart-courses", "eventType": "uninstalled"});
    assert_eq!(
        app.lifecycle("uninstalled", Some(&hs), &body)
            .await
            .status(),
        401
    );
    assert_eq!(
        account(whoami(&app, &ctx).await),
        Ok(Some("acc-1".to_owned()))
    );

    let token = install_token(install_claims("site-u", "/uninstalled"));
    assert_eq!(
        app.lifecycle("uninstalled", Some(&token), &body)
            .await
            .status(),
        204
    );
    assert_eq!(whoami(&app, &ctx).await, Err(UNAUTHORIZED));
    // Kept for the retention period.
    assert!(app.state.db.tenant("site-u").await.unwrap().is_some());
}

#[tokio::test]
async fn disabled_and_enabled_switch_the_tenant_off_and_on() {
    let app = spawn_app().await;
    app.install("site-e", "secret-e").await;
    let ctx = hs_token(
        Algorithm::HS256,
        "secret-e",
        &context_claims("site-e", "acc-1"),
    );
    let body = json!({"clientKey": "site-e", "key": "smart-courses"});
    // Connect signs enabled/disabled with the shared secret and a real qsh.
    let lifecycle_token = |path: &str| {
        let mut claims = install_claims("site-e", path).claims;
        claims.as_object_mut().unwrap().remove("aud");
        hs_token(Algorithm::HS256, "secret-e", &claims)
    };
    assert_eq!(
        app.lifecycle("disabled", Some(&lifecycle_token("/disabled")), &body)
            .await
            .status(),
        204
    );
    assert_eq!(whoami(&app, &ctx).await, Err(UNAUTHORIZED));
    // A context token is not a lifecycle token.
    assert_eq!(
        app.lifecycle("enabled", Some(&ctx), &body).await.status(),
        401
    );
    assert_eq!(
        app.lifecycle("enabled", Some(&lifecycle_token("/enabled")), &body)
            .await
            .status(),
        204
    );
    assert_eq!(
        account(whoami(&app, &ctx).await),
        Ok(Some("acc-1".to_owned()))
    );
}

/// Two server processes on one database (scale-out): a re-install handled by
/// one rotates the secret; the other, which has the old row cached, accepts
/// tokens signed with the new secret at once (a failed check with a cached
/// row is retried with a fresh read) — and refuses the old secret's once it
/// has read the new row.
#[tokio::test]
async fn a_secret_rotated_by_another_process_is_honoured_at_once() {
    // Arrange
    let a = spawn_app().await;
    let database_url = a.database_url.clone();
    let b = spawn_app_configured(Options::default(), |c| c.database_url = database_url).await;
    a.install("site-s", "secret-one").await;
    const SOMEONE: &str = "557058:someone";
    let signed_with =
        |secret: &str| hs_token(Algorithm::HS256, secret, &context_claims("site-s", SOMEONE));
    assert_eq!(
        account(whoami(&b, &signed_with("secret-one")).await),
        Ok(Some(SOMEONE.to_owned())),
        "b caches the row"
    );

    // Act: the re-install reaches process a.
    a.install("site-s", "secret-two").await;

    // Assert
    assert_eq!(
        account(whoami(&b, &signed_with("secret-two")).await),
        Ok(Some(SOMEONE.to_owned())),
        "new secret at once"
    );
    assert_eq!(
        whoami(&b, &signed_with("secret-one")).await,
        Err(UNAUTHORIZED),
        "old secret after the refresh"
    );
    assert_eq!(
        whoami(&a, &signed_with("secret-one")).await,
        Err(UNAUTHORIZED)
    );
}
