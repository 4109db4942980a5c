//! Forge Remote: `POST /forge/invoke` with a Forge Invocation Token (FIT)
//! signed by a JWKS on loopback (the test kit's fixture keys), for tenants
//! installed through the real signed Connect `/installed` carrying their
//! `installationId`. Runs on SQLite and, with `SC_TEST_DB=postgres`, on
//! PostgreSQL.

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use testkit::keys;

use crate::helpers::*;

const INSTALL_ACME: &str = "ari:cloud:ecosystem::installation/5d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6";
const INSTALL_GLOBEX: &str =
    "ari:cloud:ecosystem::installation/9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const INSTALL_UNKNOWN: &str =
    "ari:cloud:ecosystem::installation/00000000-0000-4000-8000-000000000000";
const ACCOUNT: &str = "5b10ac8d82e05b22cc7d4ef5";

/// The app with Forge configured against the loopback JWKS.
async fn spawn_forge_app() -> TestApp {
    let jwks = start_forge_jwks().await;
    spawn_app_configured(Options::default(), move |c| {
        c.forge_app_id = Some(FORGE_APP_ID.into());
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
        "aud": FORGE_APP_ID,
        "iat": now, "nbf": now, "exp": now + 25,
        "jti": uuid::Uuid::new_v4().to_string(),
        "app": {
            "id": FORGE_APP_ID,
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
    header.kid = Some(FORGE_KID.into());
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

// ---- server functions through Forge Remote ---------------------------------

const PAGE: &str = "98305";
const SPACE: &str = "DEV";
const ADA: &str = "557058:ada";
const LEO: &str = "557058:leo";
const SECRET_ACME: &str = "secret-acme-0123456789abcdef";

/// The requests the fake saw for `path_end` (a suffix of the path).
fn seen(fake: &FakeConfluence, path_end: &str) -> Vec<testkit::confluence::SeenRequest> {
    fake.requests()
        .into_iter()
        .filter(|r| r.path.ends_with(path_end))
        .collect()
}

#[tokio::test]
async fn a_forge_caller_is_the_same_verified_caller_as_a_context_jwt_gives() {
    let fake = FakeConfluence::start().await;
    let app = spawn_forge_app_with_confluence(&fake).await;
    let site = ForgeSite::on(&fake, 1);
    app.install_on_with_installation(&fake, "acme", SECRET_ACME, &site.installation)
        .await;
    let tokens = site.tokens(&fake, "acme", ADA);

    let resp = app
        .forge_call_fn(
            "whoami",
            &format!("Bearer {}", site.fit(Some(ADA), PAGE, SPACE)),
            &tokens,
            ForgeBody::Form(&[]),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let who: Value = resp.json().await.unwrap();
    assert_eq!(
        who,
        json!({"account_id": ADA, "space_key": SPACE, "content_id": PAGE}),
        "account from principal, page and space from the FIT's context"
    );

    // The same caller through Connect sees the same identity.
    let connect = app
        .call_fn(
            "whoami",
            Some(&context_token("acme", SECRET_ACME, ADA, PAGE)),
            &[],
        )
        .await;
    assert_eq!(connect.json::<Value>().await.unwrap(), who);
}

#[tokio::test]
async fn a_forge_callers_permission_check_reaches_confluence_through_forge_with_its_tokens() {
    let fake = FakeConfluence::start().await;
    let app = spawn_forge_app_with_confluence(&fake).await;
    let site = ForgeSite::on(&fake, 2);
    app.install_on_with_installation(&fake, "acme", SECRET_ACME, &site.installation)
        .await;
    fake.allow_edit(ADA, PAGE);
    let ada_tokens = site.tokens(&fake, "acme", ADA);
    let course = "0191f3c2-7a55-7c1e-9d2a-3b4c5d6e7f80";

    // Act: a learner function (view permission first, then the course).
    let resp = app
        .forge_call_fn(
            "learning/course",
            &format!("Bearer {}", site.fit(Some(ADA), PAGE, SPACE)),
            &ada_tokens,
            ForgeBody::Form(&[("course_id", course)]),
        )
        .await;

    // Assert: allowed by Confluence, so the (unknown) course is a 404; the
    // check went to the FIT's apiBaseUrl with the system token, as the app.
    assert_eq!(resp.status(), 404, "{}", resp.text().await.unwrap());
    let checks = seen(&fake, &format!("/content/{PAGE}/permission/check"));
    assert_eq!(checks.len(), 1, "{checks:?}");
    assert_eq!(
        checks[0].path,
        format!(
            "/ex/confluence/{}/wiki/rest/api/content/{PAGE}/permission/check",
            site.cloud_id
        )
    );
    assert_eq!(
        checks[0].authorization.as_deref(),
        Some(format!("Bearer {}", ada_tokens.system.as_deref().unwrap()).as_str())
    );
    assert!(
        fake.requests().iter().all(|r| !r
            .authorization
            .as_deref()
            .unwrap_or("")
            .starts_with("JWT ")),
        "no Connect-signed call for a Forge caller"
    );
    assert_eq!(
        fake.token_requests(),
        0,
        "no ACT_AS_USER grant for a Forge caller"
    );

    // Leo may not view the page: Confluence says no, the function answers 403.
    let leo_tokens = site.tokens(&fake, "acme", LEO);
    let resp = app
        .forge_call_fn(
            "learning/course",
            &format!("Bearer {}", site.fit(Some(LEO), PAGE, SPACE)),
            &leo_tokens,
            ForgeBody::Form(&[("course_id", course)]),
        )
        .await;
    assert_eq!(resp.status(), 403);
    let leo_check = fake
        .checks()
        .into_iter()
        .filter(|c| c.account_id == LEO)
        .collect::<Vec<_>>();
    assert_eq!(leo_check.len(), 1);
    assert_eq!(leo_check[0].client_key.as_deref(), Some("acme"));

    // Tokens Confluence does not accept (another cloud's): it answers 401,
    // and the function fails closed (no access), never falling back to a
    // Connect JWT.
    let other = ForgeSite::on(&fake, 3);
    let foreign = other.tokens(&fake, "acme", ADA);
    fake.clear_log();
    let resp = app
        .forge_call_fn(
            "learning/course",
            &format!("Bearer {}", site.fit(Some("557058:eve"), PAGE, SPACE)),
            &foreign,
            ForgeBody::Form(&[("course_id", course)]),
        )
        .await;
    assert!(resp.status().is_server_error(), "{}", resp.status());
    assert_eq!(fake.refused(), 1);
    assert!(fake
        .requests()
        .iter()
        .all(|r| r.path.starts_with("/ex/confluence/")));

    // No system token with the request: nothing is sent at all.
    fake.clear_log();
    let resp = app
        .forge_call_fn(
            "learning/course",
            &format!("Bearer {}", site.fit(Some("557058:mia"), PAGE, SPACE)),
            &ForgeTokens::default(),
            ForgeBody::Form(&[("course_id", course)]),
        )
        .await;
    assert!(resp.status().is_server_error(), "{}", resp.status());
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}

#[tokio::test]
async fn a_forge_space_admin_is_checked_as_the_user_with_the_user_token() {
    let fake = FakeConfluence::start().await;
    let app = spawn_forge_app_with_confluence(&fake).await;
    let site = ForgeSite::on(&fake, 4);
    app.install_on_with_installation(&fake, "acme", SECRET_ACME, &site.installation)
        .await;
    fake.make_space_admin(ADA, SPACE);
    let tokens = site.tokens(&fake, "acme", ADA);

    let resp = app
        .forge_call_fn(
            "space-admin/overview",
            &format!("Bearer {}", site.fit(Some(ADA), PAGE, SPACE)),
            &tokens,
            ForgeBody::Form(&[("page", "0")]),
        )
        .await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let ops = seen(&fake, "/operations");
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert!(ops[0].path.starts_with(&format!(
        "/ex/confluence/{}/wiki/api/v2/spaces/",
        site.cloud_id
    )));
    assert_eq!(
        ops[0].authorization.as_deref(),
        Some(format!("Bearer {}", tokens.user.as_deref().unwrap()).as_str()),
        "the space-admin question is asked as the user"
    );

    // Leo is no space admin: 403, asked with Leo's own token.
    let leo = site.tokens(&fake, "acme", LEO);
    let resp = app
        .forge_call_fn(
            "space-admin/overview",
            &format!("Bearer {}", site.fit(Some(LEO), PAGE, SPACE)),
            &leo,
            ForgeBody::Form(&[("page", "0")]),
        )
        .await;
    assert_eq!(resp.status(), 403);
}

// ---- the Forge lifecycle ---------------------------------------------------

fn event(kind: &str) -> String {
    json!({"eventType": kind, "id": uuid::Uuid::new_v4().to_string(), "app": {"id": FORGE_APP_ID}})
        .to_string()
}

/// An app-only FIT (a trigger) of `site`.
fn trigger_fit(site: &ForgeSite) -> String {
    format!("Bearer {}", site.fit(None, PAGE, SPACE))
}

async fn whoami_status(app: &TestApp, fake: &FakeConfluence, site: &ForgeSite, key: &str) -> u16 {
    app.forge_call_fn(
        "whoami",
        &format!("Bearer {}", site.fit(Some(ADA), PAGE, SPACE)),
        &site.tokens(fake, key, ADA),
        ForgeBody::Form(&[("page", "0")]),
    )
    .await
    .status()
    .as_u16()
}

#[tokio::test]
async fn forge_lifecycle_creates_refreshes_and_retires_a_forge_only_tenant() {
    let fake = FakeConfluence::start().await;
    let app = spawn_forge_app_with_confluence(&fake).await;
    let site = ForgeSite::on(&fake, 5);
    let key = site.installation.as_str();
    assert_eq!(
        whoami_status(&app, &fake, &site, key).await,
        401,
        "not installed yet"
    );

    // Installed: a Forge-only tenant keyed by the installation.
    let resp = app
        .forge_lifecycle(
            "/forge/lifecycle",
            Some(&trigger_fit(&site)),
            &event("avi:forge:installed:app"),
        )
        .await;
    assert_eq!(resp.status(), 204, "{}", resp.text().await.unwrap());
    let t = app
        .state
        .db
        .tenant(key)
        .await
        .unwrap()
        .expect("tenant created");
    assert!(t.state.is_active());
    assert_eq!(t.installation_id.as_deref(), Some(key));
    assert_eq!(t.base_url, format!("{}/wiki", site.api_base_url));
    assert_eq!(whoami_status(&app, &fake, &site, key).await, 200);
    // No Connect token can ever verify for it: its secret is nobody's.
    let secret = app.stored_secret(key).await.unwrap();
    assert!(secret.len() >= 64, "a random secret");

    // Installed again and upgraded: the same tenant, refreshed (idempotent).
    for kind in ["avi:forge:installed:app", "avi:forge:upgraded:app"] {
        let resp = app
            .forge_lifecycle("/forge/lifecycle", Some(&trigger_fit(&site)), &event(kind))
            .await;
        assert_eq!(resp.status(), 204, "{kind}");
    }
    assert_eq!(
        app.state
            .db
            .tenant_by_installation_id(key)
            .await
            .unwrap()
            .as_deref(),
        Some(key)
    );

    // Uninstalled: retired like Connect's /uninstalled; again: still 204.
    for _ in 0..2 {
        let resp = app
            .forge_lifecycle(
                "/forge/lifecycle",
                Some(&trigger_fit(&site)),
                &event("avi:forge:uninstalled:app"),
            )
            .await;
        assert_eq!(resp.status(), 204);
    }
    let t = app.state.db.tenant(key).await.unwrap().unwrap();
    assert_eq!(t.state, connect::TenantState::Uninstalled);
    assert_eq!(whoami_status(&app, &fake, &site, key).await, 401, "retired");

    // An upgrade does not revive a retired tenant (401, nothing written)…
    let before = app.state.db.tenant(key).await.unwrap().unwrap();
    let resp = app
        .forge_lifecycle(
            "/forge/lifecycle",
            Some(&trigger_fit(&site)),
            &event("avi:forge:upgraded:app"),
        )
        .await;
    assert_eq!(resp.status(), 401);
    let after = app.state.db.tenant(key).await.unwrap().unwrap();
    assert_eq!(
        (after.state, after.updated_at),
        (before.state, before.updated_at)
    );
    // …an install does.
    let resp = app
        .forge_lifecycle(
            "/forge/lifecycle",
            Some(&trigger_fit(&site)),
            &event("avi:forge:installed:app"),
        )
        .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(whoami_status(&app, &fake, &site, key).await, 200);

    // preUninstall (its own path, any JSON object) retires it too.
    let resp = app
        .forge_lifecycle(
            "/forge/lifecycle/pre-uninstall",
            Some(&trigger_fit(&site)),
            "{}",
        )
        .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(whoami_status(&app, &fake, &site, key).await, 401);
}

#[tokio::test]
async fn forge_lifecycle_reuses_the_connect_tenant_of_the_installation() {
    let fake = FakeConfluence::start().await;
    let app = spawn_forge_app_with_confluence(&fake).await;
    let site = ForgeSite::on(&fake, 6);
    app.install_on_with_installation(&fake, "acme", SECRET_ACME, &site.installation)
        .await;
    app.uninstall("acme").await;

    let resp = app
        .forge_lifecycle(
            "/forge/lifecycle",
            Some(&trigger_fit(&site)),
            &event("avi:forge:installed:app"),
        )
        .await;
    assert_eq!(resp.status(), 204);

    // The Connect tenant is back, with its secret and site URL; no second tenant.
    let t = app.state.db.tenant("acme").await.unwrap().unwrap();
    assert!(t.state.is_active());
    assert_eq!(t.base_url, fake.base_url());
    assert_eq!(
        app.stored_secret("acme").await.as_deref(),
        Some(SECRET_ACME)
    );
    assert!(app
        .state
        .db
        .tenant(&site.installation)
        .await
        .unwrap()
        .is_none());
    // Both transports work for it again.
    assert_eq!(whoami_status(&app, &fake, &site, "acme").await, 200);
    let connect = app
        .call_fn(
            "whoami",
            Some(&context_token("acme", SECRET_ACME, ADA, PAGE)),
            &[],
        )
        .await;
    assert_eq!(connect.status(), 200);

    // Retired through Forge: Connect tokens stop too (same retirement).
    let resp = app
        .forge_lifecycle(
            "/forge/lifecycle/pre-uninstall",
            Some(&trigger_fit(&site)),
            "{}",
        )
        .await;
    assert_eq!(resp.status(), 204);
    let connect = app
        .call_fn(
            "whoami",
            Some(&context_token("acme", SECRET_ACME, ADA, PAGE)),
            &[],
        )
        .await;
    assert_eq!(connect.status(), 401);
}

#[tokio::test]
async fn bad_forge_lifecycle_bodies_are_400_with_a_message_and_write_nothing() {
    let fake = FakeConfluence::start().await;
    let app = spawn_forge_app_with_confluence(&fake).await;
    let site = ForgeSite::on(&fake, 7);
    for (body, message) in [
        ("", "not valid JSON"),
        ("{", "not valid JSON"),
        ("[]", "must be a JSON object"),
        ("\"avi:forge:installed:app\"", "must be a JSON object"),
        ("{}", "eventType is required"),
        (r#"{"eventType": 5}"#, "eventType must be a string"),
        (
            r#"{"eventType": "avi:forge:deleted:app"}"#,
            "eventType must be one of",
        ),
    ] {
        let resp = app
            .forge_lifecycle("/forge/lifecycle", Some(&trigger_fit(&site)), body)
            .await;
        assert_eq!(resp.status(), 400, "{body}");
        let text = resp.text().await.unwrap();
        assert!(text.contains(message), "{body}: {text}");
    }
    let resp = app
        .forge_lifecycle(
            "/forge/lifecycle/pre-uninstall",
            Some(&trigger_fit(&site)),
            "[1]",
        )
        .await;
    assert_eq!(resp.status(), 400);
    assert!(app
        .state
        .db
        .tenant(&site.installation)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        app.state
            .db
            .tenant_by_installation_id(&site.installation)
            .await
            .unwrap(),
        None
    );
}

// ---- the negative matrix ------------------------------------------------------

/// What a refused token looks like: the claims and how it is signed.
enum Forged {
    /// These claims, RS256 with fixture key A under the published kid.
    Claims(Value),
    /// A whole `Authorization` value.
    Raw(String),
}

/// The forged tokens every Forge route must refuse, from a valid FIT's
/// claims `good` (`site`'s), with the reason each must be counted under.
fn matrix(good: &Value, acme_secret: &str) -> Vec<(&'static str, &'static str, Forged)> {
    let now = now();
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = good.clone();
        f(&mut c);
        Forged::Claims(c)
    };
    let rs = |alg: Algorithm, kid: &str, pem: &str, claims: &Value| {
        let mut h = Header::new(alg);
        h.kid = Some(kid.into());
        Forged::Raw(format!(
            "Bearer {}",
            encode(
                &h,
                claims,
                &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap()
            )
            .unwrap()
        ))
    };
    let other_app = "ari:cloud:ecosystem::app/00000000-1111-4222-8333-444444444444";
    let public_pem = keys::FIXTURE_A.public_pem;
    let hs_public = {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some(FORGE_KID.into());
        encode(
            &h,
            good,
            &EncodingKey::from_secret(public_pem.as_bytes()).unwrap(),
        )
        .unwrap()
    };
    let unsigned = {
        use base64::Engine as _;
        let b64 = |v: &Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
        };
        format!(
            "{}.{}.",
            b64(&json!({"alg": "none", "kid": FORGE_KID})),
            b64(good)
        )
    };
    vec![
        (
            "wrong key",
            "forge_bad_signature",
            rs(
                Algorithm::RS256,
                FORGE_KID,
                keys::FIXTURE_B.private_pem,
                good,
            ),
        ),
        (
            "unknown kid",
            "forge_unknown_kid",
            rs(
                Algorithm::RS256,
                "forge-kid-nobody",
                keys::FIXTURE_A.private_pem,
                good,
            ),
        ),
        (
            "wrong audience",
            "forge_wrong_audience",
            with(&|c| c["aud"] = json!("ari:cloud:ecosystem::app/8db7a3f1")),
        ),
        (
            "bare uuid audience",
            "forge_wrong_audience",
            with(&|c| c["aud"] = json!("8db7a3f1-2c4d-4e5f-9a0b-1c2d3e4f5a6b")),
        ),
        (
            "wrong iss",
            "forge_wrong_issuer",
            with(&|c| c["iss"] = json!("forge/other-token")),
        ),
        (
            "no iss",
            "forge_missing_claim",
            with(&|c| {
                c.as_object_mut().unwrap().remove("iss");
            }),
        ),
        (
            "expired",
            "forge_expired",
            with(&|c| {
                c["iat"] = json!(now - 300);
                c["nbf"] = json!(now - 300);
                c["exp"] = json!(now - 120);
            }),
        ),
        (
            "nbf in the future",
            "forge_not_yet_valid",
            with(&|c| {
                c["nbf"] = json!(now + 120);
                c["exp"] = json!(now + 180);
            }),
        ),
        (
            "alg none",
            "forge_algorithm",
            Forged::Raw(format!("Bearer {unsigned}")),
        ),
        (
            "HS256 with the public key",
            "forge_algorithm",
            Forged::Raw(format!("Bearer {hs_public}")),
        ),
        (
            "RS512",
            "forge_algorithm",
            rs(
                Algorithm::RS512,
                FORGE_KID,
                keys::FIXTURE_A.private_pem,
                good,
            ),
        ),
        (
            "PS256",
            "forge_algorithm",
            rs(
                Algorithm::PS256,
                FORGE_KID,
                keys::FIXTURE_A.private_pem,
                good,
            ),
        ),
        (
            "another app's token",
            "forge_wrong_audience",
            with(&|c| {
                c["aud"] = json!(other_app);
                c["app"]["id"] = json!(other_app);
            }),
        ),
        (
            "app.id not the audience",
            "forge_wrong_app",
            with(&|c| c["app"]["id"] = json!(other_app)),
        ),
        (
            "apiBaseUrl elsewhere",
            "forge_bad_api_base_url",
            with(&|c| c["app"]["apiBaseUrl"] = json!("https://evil.example/ex/confluence/x")),
        ),
        (
            "unknown installation",
            "forge_unknown_installation",
            with(&|c| {
                c["app"]["installationId"] =
                    json!("ari:cloud:ecosystem::installation/00000000-0000-4000-8000-00000000dead")
            }),
        ),
        (
            "Connect JWT as bearer",
            "forge_algorithm",
            Forged::Raw(format!(
                "Bearer {}",
                context_token("acme", acme_secret, ADA, PAGE)
            )),
        ),
        (
            "FIT under the JWT scheme",
            "algorithm",
            Forged::Raw(format!("JWT {}", sign_fit(good))),
        ),
    ]
}

/// `auth_failures_total{reason}` now.
async fn failures(app: &TestApp, reason: &str) -> u64 {
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let needle = format!("auth_failures_total{{reason=\"{reason}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&needle))
        .map_or(0, |n| n.trim().parse().unwrap())
}

#[tokio::test]
async fn the_forge_trust_matrix_is_refused_with_401_on_server_functions_and_counted_by_reason() {
    let fake = FakeConfluence::start().await;
    let app = spawn_forge_app_with_confluence(&fake).await;
    let site = ForgeSite::on(&fake, 8);
    app.install_on_with_installation(&fake, "acme", SECRET_ACME, &site.installation)
        .await;
    fake.allow_edit(ADA, PAGE);
    let tokens = site.tokens(&fake, "acme", ADA);
    let good = site.claims(Some(ADA), PAGE, SPACE);
    let before = app.learning_records("acme").await;

    for (case, reason, forged) in matrix(&good, SECRET_ACME) {
        let authorization = match forged {
            Forged::Claims(c) => format!("Bearer {}", sign_fit(&c)),
            Forged::Raw(a) => a,
        };
        let counted = failures(&app, reason).await;
        fake.clear_log();
        for (name, body) in [
            ("whoami", vec![]),
            (
                "learning/enrol",
                vec![("course_id", "0191f3c2-7a55-7c1e-9d2a-3b4c5d6e7f80")],
            ),
        ] {
            let resp = app
                .forge_call_fn(name, &authorization, &tokens, ForgeBody::Form(&body))
                .await;
            assert_eq!(resp.status(), 401, "{case} on {name}");
        }
        assert!(fake.requests().is_empty(), "{case}: Confluence was called");
        assert!(
            failures(&app, reason).await >= counted + 2,
            "{case}: not counted as {reason}"
        );
    }

    // A retired tenant's installation.
    app.uninstall("acme").await;
    let counted = failures(&app, "forge_inactive_tenant").await;
    let resp = app
        .forge_call_fn(
            "whoami",
            &format!("Bearer {}", sign_fit(&good)),
            &tokens,
            ForgeBody::Form(&[("page", "0")]),
        )
        .await;
    assert_eq!(resp.status(), 401, "retired tenant");
    assert!(failures(&app, "forge_inactive_tenant").await > counted);
    assert_eq!(
        app.learning_records("acme").await,
        before,
        "nothing written"
    );
}

#[tokio::test]
async fn the_forge_trust_matrix_is_refused_with_401_on_the_lifecycle_and_writes_nothing() {
    let fake = FakeConfluence::start().await;
    let app = spawn_forge_app_with_confluence(&fake).await;
    let site = ForgeSite::on(&fake, 9);
    app.install_on_with_installation(&fake, "acme", SECRET_ACME, &site.installation)
        .await;
    let good = site.claims(None, PAGE, SPACE);
    let row = |t: connect::Tenant| (t.state, t.updated_at, t.installation_id, t.base_url);
    let before = row(app.state.db.tenant("acme").await.unwrap().unwrap());

    let mut cases = matrix(&good, SECRET_ACME);
    // Lifecycle only: a user invocation (with a principal) is not Forge's trigger.
    cases.push((
        "a user's FIT",
        "forge_not_app_only",
        Forged::Claims(site.claims(Some(ADA), PAGE, SPACE)),
    ));
    for (case, reason, forged) in cases {
        let authorization = match forged {
            Forged::Claims(c) => format!("Bearer {}", sign_fit(&c)),
            Forged::Raw(a) => a,
        };
        // The lifecycle has no Connect verifier: a `JWT` token is "missing".
        let reason = if case == "FIT under the JWT scheme" {
            "forge_missing"
        } else {
            reason
        };
        let counted = failures(&app, reason).await;
        for (path, body) in [
            ("/forge/lifecycle", event("avi:forge:uninstalled:app")),
            ("/forge/lifecycle/pre-uninstall", "{}".to_owned()),
        ] {
            // Under the lifecycle routes' per-address limit (5 a second).
            tokio::time::sleep(std::time::Duration::from_millis(210)).await;
            let resp = app.forge_lifecycle(path, Some(&authorization), &body).await;
            assert_eq!(resp.status(), 401, "{case} on {path} {body}");
            assert_eq!(
                resp.text().await.unwrap(),
                "Unauthorized",
                "{case}: bare 401"
            );
        }
        assert!(
            failures(&app, reason).await >= counted + 2,
            "{case}: not counted as {reason}"
        );
        assert_eq!(
            row(app.state.db.tenant("acme").await.unwrap().unwrap()),
            before,
            "{case}: written"
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(210)).await;
    assert_eq!(
        app.forge_lifecycle("/forge/lifecycle", None, &event("avi:forge:installed:app"))
            .await
            .status(),
        401
    );

    // The valid token does what the refused ones could not.
    tokio::time::sleep(std::time::Duration::from_millis(210)).await;
    let resp = app
        .forge_lifecycle(
            "/forge/lifecycle",
            Some(&format!("Bearer {}", sign_fit(&good))),
            &event("avi:forge:uninstalled:app"),
        )
        .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(
        app.state.db.tenant("acme").await.unwrap().unwrap().state,
        connect::TenantState::Uninstalled
    );
}

#[tokio::test]
async fn without_forge_app_id_a_fit_on_a_server_function_meets_the_connect_verifier_only() {
    let fake = FakeConfluence::start().await;
    let app = spawn_app_with_confluence(&fake).await;
    let site = ForgeSite::on(&fake, 0x10);
    app.install_on_with_installation(&fake, "acme", SECRET_ACME, &site.installation)
        .await;
    let resp = app
        .forge_call_fn(
            "whoami",
            &format!("Bearer {}", site.fit(Some(ADA), PAGE, SPACE)),
            &site.tokens(&fake, "acme", ADA),
            ForgeBody::Form(&[]),
        )
        .await;
    assert_eq!(resp.status(), 401);
    assert!(fake.requests().is_empty());
    // The site's context JWT still works: nothing else changed.
    let connect = app
        .call_fn(
            "whoami",
            Some(&context_token("acme", SECRET_ACME, ADA, PAGE)),
            &[],
        )
        .await;
    assert_eq!(connect.status(), 200);
}
