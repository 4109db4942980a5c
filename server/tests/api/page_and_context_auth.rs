//! Page JWTs (`?jwt=` on page loads) and context JWTs (server functions):
//! what is accepted, and every way of being refused with a bare 401.

use app::{api::WhoAmI, error::AppError};
use jsonwebtoken::Algorithm;
use serde_json::{json, Value};

use crate::helpers::{
    calls::{typed, Refused, Reply},
    *,
};

const SECRET: &str = "tenant-a-shared-secret";
const PAGE_PATH: &str = "/macro/course";
const PAGE_QUERY: &str = "course=&page.id=98305&space.key=DEV&xdm_e=https%3A%2F%2Fsite-a.atlassian.net&cp=%2Fwiki&lic=none";

async fn app_with_tenant() -> TestApp {
    let app = spawn_app().await;
    app.install("site-a", SECRET).await;
    app
}

/// A server function's refusal of a caller it could not verify.
const UNAUTHORIZED: Refused = Refused {
    status: 401,
    error: AppError::Unauthorized,
};

/// `whoami`, with a context token or none.
async fn whoami(app: &TestApp, token: Option<&str>) -> Reply<WhoAmI> {
    typed(app.call_fn("whoami", token, &[]).await).await
}

async fn load_page(app: &TestApp, token: &str) -> reqwest::Response {
    app.http
        .get(app.url(&format!("{PAGE_PATH}?{PAGE_QUERY}&jwt={token}")))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_valid_page_jwt_renders_the_page_with_hardened_headers() {
    let app = app_with_tenant().await;
    let token = hs_token(
        Algorithm::HS256,
        SECRET,
        &page_claims("site-a", "acc-1", PAGE_PATH, PAGE_QUERY),
    );
    let resp = load_page(&app, &token).await;
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors https://site-a.atlassian.net"),
        "{csp}"
    );
    assert!(!csp.contains("*"), "{csp}");
    let html = resp.text().await.unwrap();
    assert!(html.contains("sc-hydrated"), "page did not render");
    assert!(
        html.contains("/pkg/style-test.css"),
        "hashed stylesheet not linked"
    );
}

/// Each Connect module's page loads its own hydrate bundle and no other
/// (the fixture manifest names them `<module>-test`).
#[tokio::test]
async fn each_module_page_links_only_its_own_bundle() {
    let app = app_with_tenant().await;
    let modules = ["learner", "editor", "admin"];
    for (path, own) in [
        ("/macro/course", "learner"),
        ("/macro/editor", "editor"),
        ("/space/admin", "admin"),
    ] {
        let token = hs_token(
            Algorithm::HS256,
            SECRET,
            &page_claims("site-a", "acc-1", path, PAGE_QUERY),
        );
        let resp = app
            .http
            .get(app.url(&format!("{path}?{PAGE_QUERY}&jwt={token}")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let html = resp.text().await.unwrap();
        assert!(html.contains("sc-hydrated"), "{path} did not render");
        for (needle, what) in [
            (format!("/pkg/{own}-test.js"), "JS glue"),
            (format!("/pkg/{own}-test_bg.wasm"), "WASM"),
            (
                format!(r#"rel="modulepreload" href="/pkg/{own}-test.js""#),
                "modulepreload",
            ),
        ] {
            assert!(
                html.contains(&needle),
                "{path}: its {what} {needle} is not linked"
            );
        }
        for other in modules.iter().filter(|m| **m != own) {
            assert!(
                !html.contains(&format!("{other}-test")),
                "{path} links the {other} bundle"
            );
        }
    }
}

#[tokio::test]
async fn a_valid_context_jwt_reaches_a_server_function_with_the_verified_identity() {
    let app = app_with_tenant().await;
    let token = hs_token(
        Algorithm::HS256,
        SECRET,
        &context_claims("site-a", "acc-42"),
    );
    let who = whoami(&app, Some(&token)).await;
    assert_eq!(
        who,
        Ok(WhoAmI {
            account_id: Some("acc-42".into()),
            space_key: Some("DEV".into()),
            content_id: Some("98305".into()),
        })
    );
}

/// The ways a token can be bad, each built from a valid one.
fn bad_tokens(valid: &Value, kind: &str) -> Vec<(String, String)> {
    let sign = |c: &Value| hs_token(Algorithm::HS256, SECRET, c);
    let with = |k: &str, v: Value| {
        let mut c = valid.clone();
        c[k] = v;
        c
    };
    let without = |k: &str| {
        let mut c = valid.clone();
        c.as_object_mut().unwrap().remove(k);
        c
    };
    let mut cases = vec![
        ("expired".to_owned(), sign(&with("exp", json!(now() - 120)))),
        (
            "nbf in the future beyond leeway".into(),
            sign(&with("nbf", json!(now() + 600))),
        ),
        (
            "iat in the future beyond leeway".into(),
            sign(&with("iat", json!(now() + 600))),
        ),
        ("missing qsh".into(), sign(&without("qsh"))),
        ("alg none".into(), unsigned_token(valid)),
        ("HS512".into(), hs_token(Algorithm::HS512, SECRET, valid)),
        ("RS256".into(), rs_token(valid)),
        (
            "wrong secret".into(),
            hs_token(Algorithm::HS256, "not-the-secret", valid),
        ),
        (
            "tampered payload".into(),
            tampered(&sign(valid), &with("sub", json!("someone-else"))),
        ),
        ("missing iss".into(), sign(&without("iss"))),
        (
            "unknown clientKey".into(),
            sign(&with("iss", json!("site-unknown"))),
        ),
        ("missing exp".into(), sign(&without("exp"))),
        ("missing iat".into(), sign(&without("iat"))),
        ("garbage".into(), "not.a.jwt".into()),
        (
            "exp as text".into(),
            sign(&with("exp", json!("9999999999"))),
        ),
        ("nbf as text".into(), sign(&with("nbf", json!("0")))),
        ("four parts".into(), format!("{}.x", sign(valid))),
        ("another token's signature".into(), {
            let other = sign(&with("sub", json!("someone-else")));
            let (message, _) = sign(valid)
                .rsplit_once('.')
                .map(|(m, s)| (m.to_owned(), s.to_owned()))
                .unwrap();
            format!("{message}.{}", other.rsplit_once('.').unwrap().1)
        }),
    ];
    if kind == "page" {
        cases.push((
            "context-qsh on a page route".into(),
            sign(&with("qsh", json!("context-qsh"))),
        ));
        let other_route = connect::qsh::qsh("GET", "/macro/editor", Some(PAGE_QUERY), "");
        cases.push(("wrong qsh".into(), sign(&with("qsh", json!(other_route)))));
    } else {
        cases.push((
            "page token (computed qsh) on a server function".into(),
            sign(&with(
                "qsh",
                json!(connect::qsh::qsh("POST", "/api/whoami", None, "")),
            )),
        ));
    }
    cases
}

#[tokio::test]
async fn bad_page_jwts_are_refused_with_401() {
    let app = app_with_tenant().await;
    let valid = page_claims("site-a", "acc-1", PAGE_PATH, PAGE_QUERY);
    for (name, token) in bad_tokens(&valid, "page") {
        let resp = load_page(&app, &token).await;
        assert_eq!(resp.status(), 401, "page: case '{name}' was not refused");
        assert_eq!(
            resp.text().await.unwrap(),
            "Unauthorized",
            "page: case '{name}'"
        );
    }
    // No token at all.
    let resp = app
        .http
        .get(app.url(&format!("{PAGE_PATH}?{PAGE_QUERY}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // A valid token for the page, but the query was changed after signing.
    let token = hs_token(Algorithm::HS256, SECRET, &valid);
    let resp = app
        .http
        .get(app.url(&format!(
            "{PAGE_PATH}?{}&jwt={token}",
            PAGE_QUERY.replace("98305", "11111")
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        401,
        "a query changed after signing must fail the qsh"
    );
}

#[tokio::test]
async fn bad_context_jwts_are_refused_with_401() {
    let app = app_with_tenant().await;
    let valid = context_claims("site-a", "acc-1");
    for (name, token) in bad_tokens(&valid, "context") {
        assert_eq!(
            whoami(&app, Some(&token)).await,
            Err(UNAUTHORIZED),
            "context: case '{name}' was not refused"
        );
    }
    assert_eq!(whoami(&app, None).await, Err(UNAUTHORIZED), "no token");
    // A context token in the query string is not accepted by server functions.
    let token = hs_token(Algorithm::HS256, SECRET, &valid);
    let resp = app
        .http
        .post(app.url(&format!("/api/whoami?jwt={token}")))
        .form(&[("", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(typed::<WhoAmI>(resp).await, Err(UNAUTHORIZED));
}

#[tokio::test]
async fn a_context_jwt_does_not_open_a_page() {
    let app = app_with_tenant().await;
    let token = hs_token(Algorithm::HS256, SECRET, &context_claims("site-a", "acc-1"));
    assert_eq!(load_page(&app, &token).await.status(), 401);
}

#[tokio::test]
async fn small_clock_skew_within_the_leeway_is_accepted() {
    let app = app_with_tenant().await;
    let mut claims = context_claims("site-a", "acc-1");
    claims["iat"] = json!(now() + 10);
    claims["nbf"] = json!(now() + 10);
    let token = hs_token(Algorithm::HS256, SECRET, &claims);
    let who = whoami(&app, Some(&token)).await;
    assert_eq!(who.map(|w| w.account_id), Ok(Some("acc-1".into())));
}

#[tokio::test]
async fn tenants_cannot_use_each_others_tokens() {
    let app = app_with_tenant().await;
    app.install("site-b", "tenant-b-secret").await;
    // B's token claiming to be A (signed with B's secret) fails A's signature check.
    let forged = hs_token(
        Algorithm::HS256,
        "tenant-b-secret",
        &context_claims("site-a", "acc-b"),
    );
    assert_eq!(whoami(&app, Some(&forged)).await, Err(UNAUTHORIZED));
    let own = hs_token(
        Algorithm::HS256,
        "tenant-b-secret",
        &context_claims("site-b", "acc-b"),
    );
    let who = whoami(&app, Some(&own)).await;
    assert_eq!(who.map(|w| w.account_id), Ok(Some("acc-b".into())));
}
