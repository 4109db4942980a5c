//! The Forge trust matrix: a JWKS on loopback, FITs minted here with the
//! test kit's fixture keys, every refusal checked by its reason.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
};

use axum::{extract::State, routing::get, Json, Router};
use base64::Engine as _;
use jsonwebtoken::{encode, jwk::Jwk, EncodingKey, Header};
use secrecy::SecretString;
use serde_json::{json, Value};

use super::*;
use crate::{StateChange, Tenant, TenantInstall, TenantState, TenantStore};

const KEY_A: &str = include_str!("../../../testkit/keys/install-key-a.pem");
const KEY_A_PUB: &str = include_str!("../../../testkit/keys/install-key-a.pub.pem");
const KEY_B: &str = include_str!("../../../testkit/keys/install-key-b.pem");
const KID_A: &str = "forge-kid-a";
const KID_B: &str = "forge-kid-b";

const APP: &str = "ari:cloud:ecosystem::app/8db7a3f1-2c4d-4e5f-9a0b-1c2d3e4f5a6b";
const OTHER_APP: &str = "ari:cloud:ecosystem::app/00000000-1111-4222-8333-444444444444";
const INSTALLATION: &str = "ari:cloud:ecosystem::installation/5d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6";
const CLIENT_KEY: &str = "client-key-acme";

/// Forge's JWKS: the keys published now, and how often it was asked.
#[derive(Clone, Default)]
struct Jwks {
    keys: Arc<Mutex<Vec<Value>>>,
    requests: Arc<AtomicUsize>,
}

impl Jwks {
    fn publish(&self, pem: &str, kid: &str) {
        let key = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).unwrap();
        jwk.common.key_id = Some(kid.into());
        self.keys
            .lock()
            .unwrap()
            .push(serde_json::to_value(jwk).unwrap());
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    async fn start(&self) -> Url {
        async fn serve(State(j): State<Jwks>) -> Json<Value> {
            j.requests.fetch_add(1, Ordering::SeqCst);
            Json(json!({ "keys": *j.keys.lock().unwrap() }))
        }
        let router = Router::new()
            .route("/.well-known/jwks.json", get(serve))
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Url::parse(&format!("http://{addr}/.well-known/jwks.json")).unwrap()
    }
}

/// Tenants in memory.
#[derive(Default)]
struct Rows(Mutex<HashMap<String, Tenant>>);

impl TenantStore for Rows {
    fn tenant<'a>(
        &'a self,
        client_key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Tenant>, TenantStoreError>> {
        Box::pin(async move { Ok(self.0.lock().unwrap().get(client_key).cloned()) })
    }
    fn upsert_tenant<'a>(
        &'a self,
        _install: &'a TenantInstall,
    ) -> BoxFuture<'a, Result<(), TenantStoreError>> {
        Box::pin(async { Ok(()) })
    }
    fn remember_lifecycle_token<'a>(
        &'a self,
        _token_sha256: &'a str,
        _expires_at: i64,
    ) -> BoxFuture<'a, Result<bool, TenantStoreError>> {
        Box::pin(async { Ok(true) })
    }
    fn forget_lifecycle_token<'a>(
        &'a self,
        _token_sha256: &'a str,
    ) -> BoxFuture<'a, Result<(), TenantStoreError>> {
        Box::pin(async { Ok(()) })
    }
    fn set_tenant_state<'a>(
        &'a self,
        client_key: &'a str,
        state: TenantState,
    ) -> BoxFuture<'a, Result<StateChange, TenantStoreError>> {
        Box::pin(async move {
            match self.0.lock().unwrap().get_mut(client_key) {
                Some(t) => {
                    t.state = state;
                    Ok(StateChange::Changed)
                }
                None => Ok(StateChange::Missing),
            }
        })
    }
    fn active_client_keys(&self) -> BoxFuture<'_, Result<Vec<String>, TenantStoreError>> {
        Box::pin(async { Ok(vec![]) })
    }
}

/// Installation → client key, as a verified install would have written it.
struct Map(HashMap<String, String>);

impl ForgeInstallations for Map {
    fn client_key<'a>(
        &'a self,
        installation_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, TenantStoreError>> {
        Box::pin(async move { Ok(self.0.get(installation_id).cloned()) })
    }
}

struct Fixture {
    jwks: Jwks,
    verifier: ForgeVerifier,
    map: Map,
    tenants: Tenants,
}

impl Fixture {
    async fn new() -> Self {
        Self::with(|_| {}).await
    }

    async fn with(tune: impl FnOnce(&mut ForgeSettings)) -> Self {
        let jwks = Jwks::default();
        jwks.publish(KEY_A, KID_A);
        let mut settings = ForgeSettings::new(APP, jwks.start().await);
        tune(&mut settings);
        let rows = Rows::default();
        rows.0.lock().unwrap().insert(
            CLIENT_KEY.into(),
            Tenant {
                client_key: CLIENT_KEY.into(),
                shared_secret: SecretString::from("s"),
                base_url: "https://acme.atlassian.net/wiki".into(),
                display_url: None,
                product_type: None,
                oauth_client_id: None,
                installation_id: Some(INSTALLATION.into()),
                state: TenantState::Installed,
                installed_at: 0,
                updated_at: 0,
            },
        );
        Self {
            jwks,
            verifier: ForgeVerifier::new(settings, reqwest::Client::new()),
            map: Map([(INSTALLATION.to_owned(), CLIENT_KEY.to_owned())].into()),
            tenants: Tenants::new(Arc::new(rows)),
        }
    }

    async fn verify(&self, token: &str) -> Result<ForgeVerified, ForgeAuthError> {
        self.verifier.verify(token, &self.map, &self.tenants).await
    }
}

fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

/// The claims of a UI invocation from the macro, as the docs' example.
fn ui_claims() -> Value {
    let now = now();
    json!({
        "iss": FORGE_ISSUER,
        "aud": APP,
        "iat": now, "nbf": now, "exp": now + 25,
        "jti": "jti-1",
        "app": {
            "id": APP,
            "appVersion": "2.1.0",
            "installationId": INSTALLATION,
            "apiBaseUrl": "https://api.atlassian.com/ex/confluence/3f1c6e2a-cloud",
            "environment": {"type": "DEVELOPMENT", "id": "env-1"},
            "module": {"type": "xen:macro", "key": "course-lesson"},
        },
        "context": {
            "cloudId": "3f1c6e2a-cloud",
            "siteUrl": "https://acme.atlassian.net",
            "moduleKey": "course-lesson",
            "localId": "local-1",
            "extension": {
                "type": "macro",
                "content": {"id": 98305},
                "space": {"key": "ENG", "id": "65538"},
                "isEditing": false,
            },
        },
        "principal": "5b10ac8d82e05b22cc7d4ef5",
    })
}

fn sign_with(alg: Algorithm, pem: &str, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.into());
    encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

fn sign(claims: &Value) -> String {
    sign_with(Algorithm::RS256, KEY_A, KID_A, claims)
}

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

fn edit(f: impl FnOnce(&mut Value)) -> Value {
    let mut c = ui_claims();
    f(&mut c);
    c
}

#[tokio::test]
async fn a_valid_ui_invocation_is_accepted_with_its_context_and_principal() {
    let fx = Fixture::new().await;
    let v = fx.verify(&sign(&ui_claims())).await.expect("accepted");
    assert_eq!(v.tenant.as_str(), CLIENT_KEY);
    assert_eq!(v.tenant_base_url, "https://acme.atlassian.net/wiki");
    assert_eq!(v.installation_id, INSTALLATION);
    assert_eq!(v.principal.as_deref(), Some("5b10ac8d82e05b22cc7d4ef5"));
    assert_eq!(v.app_version.as_deref(), Some("2.1.0"));
    assert_eq!(
        v.module.as_ref().and_then(|m| m.kind.as_deref()),
        Some("xen:macro")
    );
    let ctx = v.context.expect("context");
    assert_eq!(ctx.cloud_id.as_deref(), Some("3f1c6e2a-cloud"));
    let ext = ctx.extension.expect("extension");
    assert_eq!(ext.content.and_then(|c| c.id).as_deref(), Some("98305"));
    assert_eq!(ext.space.and_then(|s| s.key).as_deref(), Some("ENG"));
    assert_eq!(ext.is_editing, Some(false));
    assert_eq!(fx.jwks.requests(), 1);
}

#[tokio::test]
async fn a_trigger_without_principal_or_context_is_accepted() {
    let fx = Fixture::new().await;
    let claims = edit(|c| {
        let o = c.as_object_mut().unwrap();
        o.remove("principal");
        o.remove("context");
        c["app"]["module"] = json!({"type": "core:endpoint", "key": "remote"});
    });
    let v = fx.verify(&sign(&claims)).await.expect("accepted");
    assert_eq!(v.principal, None);
    assert_eq!(v.context, None);
    assert_eq!(v.tenant.as_str(), CLIENT_KEY);
}

#[tokio::test]
async fn an_exp_just_inside_the_leeway_is_accepted() {
    let fx = Fixture::new().await;
    let claims = edit(|c| c["exp"] = json!(now() - 5));
    assert!(fx.verify(&sign(&claims)).await.is_ok());
}

/// The negative matrix: each token refused, with its reason.
#[tokio::test]
async fn the_negative_matrix_is_refused_by_reason() {
    use ForgeAuthError as E;
    let fx = Fixture::new().await;
    let valid = ui_claims();
    let header_none = b64(&json!({"alg": "none", "typ": "JWT", "kid": KID_A}));
    let hs256_with_public_key = {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some(KID_A.into());
        encode(
            &h,
            &valid,
            &EncodingKey::from_secret(KEY_A_PUB.as_bytes()).unwrap(),
        )
        .unwrap()
    };
    let edited_payload = {
        let t = sign(&valid);
        let parts: Vec<&str> = t.split('.').collect();
        let forged = edit(|c| c["principal"] = json!("someone-else"));
        format!("{}.{}.{}", parts[0], b64(&forged), parts[2])
    };
    let cases: Vec<(&str, String, E)> = vec![
        (
            "wrong key (attacker's key, published kid)",
            sign_with(Algorithm::RS256, KEY_B, KID_A, &valid),
            E::BadSignature,
        ),
        ("payload edited", edited_payload, E::BadSignature),
        (
            "wrong audience (another app's token)",
            sign(&edit(|c| {
                c["aud"] = json!(OTHER_APP);
                c["app"]["id"] = json!(OTHER_APP);
            })),
            E::WrongAudience,
        ),
        (
            "bare uuid audience",
            sign(&edit(|c| {
                c["aud"] = json!("8db7a3f1-2c4d-4e5f-9a0b-1c2d3e4f5a6b")
            })),
            E::WrongAudience,
        ),
        (
            "missing audience",
            sign(&edit(|c| {
                c.as_object_mut().unwrap().remove("aud");
            })),
            E::MissingClaim("aud".into()),
        ),
        (
            "app.id is another app's",
            sign(&edit(|c| c["app"]["id"] = json!(OTHER_APP))),
            E::WrongApp,
        ),
        (
            "wrong issuer",
            sign(&edit(|c| c["iss"] = json!("forge/other"))),
            E::WrongIssuer,
        ),
        (
            "missing issuer",
            sign(&edit(|c| {
                c.as_object_mut().unwrap().remove("iss");
            })),
            E::MissingClaim("iss".into()),
        ),
        (
            "expired past the leeway",
            sign(&edit(|c| c["exp"] = json!(now() - 60))),
            E::Expired,
        ),
        (
            "missing exp",
            sign(&edit(|c| {
                c.as_object_mut().unwrap().remove("exp");
            })),
            E::MissingClaim("exp".into()),
        ),
        (
            "not yet valid",
            sign(&edit(|c| c["nbf"] = json!(now() + 120))),
            E::NotYetValid,
        ),
        (
            "alg none",
            format!("{header_none}.{}.", b64(&valid)),
            E::Algorithm("none".into()),
        ),
        (
            "HS256 signed with the public key",
            hs256_with_public_key,
            E::Algorithm("HS256".into()),
        ),
        (
            "RS512",
            sign_with(Algorithm::RS512, KEY_A, KID_A, &valid),
            E::Algorithm("RS512".into()),
        ),
        (
            "PS256",
            sign_with(Algorithm::PS256, KEY_A, KID_A, &valid),
            E::Algorithm("PS256".into()),
        ),
        (
            "kid with ../",
            sign_with(Algorithm::RS256, KEY_A, "../keys", &valid),
            E::Malformed("missing or unsafe kid".into()),
        ),
        (
            "missing installationId",
            sign(&edit(|c| {
                c["app"].as_object_mut().unwrap().remove("installationId");
            })),
            E::MissingClaim("app.installationId".into()),
        ),
        (
            "installationId not an installation ARI",
            sign(&edit(|c| c["app"]["installationId"] = json!("../x"))),
            E::BadInstallation,
        ),
        (
            "unknown installation",
            sign(&edit(|c| {
                c["app"]["installationId"] =
                    json!("ari:cloud:ecosystem::installation/99999999-0000-4000-8000-000000000000")
            })),
            E::UnknownInstallation,
        ),
        (
            "staging apiBaseUrl on prod config",
            sign(&edit(|c| {
                c["app"]["apiBaseUrl"] = json!("https://api.stg.atlassian.com/ex/confluence/x")
            })),
            E::BadApiBaseUrl,
        ),
        (
            "icLabel without Isolated Cloud",
            sign(&edit(|c| c["icLabel"] = json!("../evil"))),
            E::IsolatedCloud,
        ),
        ("not a JWT", "abc".into(), E::Malformed("not a JWS".into())),
    ];
    for (name, token, want) in cases {
        let got = fx.verify(&token).await.err();
        assert_eq!(got.as_ref(), Some(&want), "{name}");
        // The reason never carries the token.
        assert!(!format!("{want} {want:?}").contains(&token), "{name}");
    }
    // One JWKS fetch served every case that reached the key step.
    assert_eq!(fx.jwks.requests(), 1);
}

#[tokio::test]
async fn an_inactive_tenant_is_refused() {
    let fx = Fixture::new().await;
    fx.tenants
        .set_state(CLIENT_KEY, TenantState::Uninstalled)
        .await
        .unwrap();
    assert_eq!(
        fx.verify(&sign(&ui_claims())).await.err(),
        Some(ForgeAuthError::InactiveTenant)
    );
}

#[tokio::test]
async fn a_rotated_kid_is_fetched_once_and_an_unknown_kid_is_not_refetched_in_a_loop() {
    let fx = Fixture::with(|s| s.jwks_refetch_cooldown = Duration::ZERO).await;
    assert!(fx.verify(&sign(&ui_claims())).await.is_ok());
    assert_eq!(fx.jwks.requests(), 1);

    // Forge rotates: a new kid appears in the JWKS.
    fx.jwks.publish(KEY_B, KID_B);
    let rotated = sign_with(Algorithm::RS256, KEY_B, KID_B, &ui_claims());
    assert!(fx.verify(&rotated).await.is_ok());
    assert_eq!(fx.jwks.requests(), 2, "the new kid costs one fetch");
    assert!(fx.verify(&rotated).await.is_ok());
    assert!(fx.verify(&sign(&ui_claims())).await.is_ok());
    assert_eq!(fx.jwks.requests(), 2, "both kids now cached");

    // A kid nobody publishes: one refetch, then remembered.
    let unknown = sign_with(Algorithm::RS256, KEY_A, "forge-kid-unknown", &ui_claims());
    for _ in 0..20 {
        assert_eq!(
            fx.verify(&unknown).await.err(),
            Some(ForgeAuthError::UnknownKid)
        );
    }
    assert_eq!(fx.jwks.requests(), 3);
}

#[tokio::test]
async fn distinct_unknown_kids_within_the_cooldown_cost_no_fetch() {
    let fx = Fixture::new().await; // 30 s cooldown
    assert!(fx.verify(&sign(&ui_claims())).await.is_ok());
    for i in 0..20 {
        let t = sign_with(Algorithm::RS256, KEY_A, &format!("kid-{i}"), &ui_claims());
        assert_eq!(fx.verify(&t).await.err(), Some(ForgeAuthError::UnknownKid));
    }
    assert_eq!(fx.jwks.requests(), 1);
}

#[tokio::test]
async fn concurrent_unknown_kids_share_one_fetch() {
    let fx = Arc::new(Fixture::with(|s| s.jwks_refetch_cooldown = Duration::ZERO).await);
    let token = sign_with(Algorithm::RS256, KEY_A, "kid-storm", &ui_claims());
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let fx = fx.clone();
            let token = token.clone();
            tokio::spawn(async move { fx.verify(&token).await.err() })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), Some(ForgeAuthError::UnknownKid));
    }
    assert_eq!(fx.jwks.requests(), 1);
}

#[tokio::test]
async fn an_unreachable_jwks_fails_closed() {
    let fx = Fixture::with(|s| {
        s.jwks_url = Url::parse("http://127.0.0.1:9/.well-known/jwks.json").unwrap()
    })
    .await;
    assert!(matches!(
        fx.verify(&sign(&ui_claims())).await.err(),
        Some(ForgeAuthError::KeyUnavailable(_))
    ));
}

#[test]
fn a_bare_app_uuid_is_configured_as_an_ari() {
    let s = ForgeSettings::new(
        "8db7a3f1-2c4d-4e5f-9a0b-1c2d3e4f5a6b",
        Url::parse(PROD_JWKS_URL).unwrap(),
    );
    assert_eq!(s.app_id, APP);
}

#[test]
fn refusals_are_a_bare_401() {
    let r = ForgeRejection(ForgeAuthError::WrongApp).into_response();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

// ---- the request: scheme, Forge tokens, the caller server functions see ----

fn parts(headers: &[(&str, &str)]) -> Parts {
    let mut req = axum::http::Request::builder().uri("/api/whoami");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.body(()).unwrap().into_parts().0
}

#[test]
fn the_scheme_alone_decides_which_verifier_runs() {
    assert!(is_bearer(&parts(&[("authorization", "Bearer abc")])));
    assert!(is_bearer(&parts(&[("authorization", "bearer abc")])));
    assert!(!is_bearer(&parts(&[("authorization", "JWT abc")])));
    assert!(!is_bearer(&parts(&[("authorization", "Bearerabc")])));
    assert!(!is_bearer(&parts(&[])));
}

#[test]
fn forge_tokens_are_read_once_each_and_never_shown() {
    let t = tokens_from_parts(&parts(&[
        (SYSTEM_TOKEN_HEADER, "sys.tok-1"),
        (USER_TOKEN_HEADER, "usr.tok-2"),
    ]))
    .unwrap();
    use secrecy::ExposeSecret;
    assert_eq!(t.system.as_ref().unwrap().expose_secret(), "sys.tok-1");
    assert_eq!(t.user.as_ref().unwrap().expose_secret(), "usr.tok-2");
    let shown = format!("{t:?}");
    assert!(
        !shown.contains("tok-1") && !shown.contains("tok-2"),
        "{shown}"
    );

    let none = tokens_from_parts(&parts(&[])).unwrap();
    assert!(none.system.is_none() && none.user.is_none());

    for bad in [
        vec![(SYSTEM_TOKEN_HEADER, "a"), (SYSTEM_TOKEN_HEADER, "b")],
        vec![(USER_TOKEN_HEADER, "")],
        vec![(USER_TOKEN_HEADER, "two words")],
    ] {
        assert!(
            matches!(
                tokens_from_parts(&parts(&bad)),
                Err(ForgeAuthError::Malformed(_))
            ),
            "{bad:?}"
        );
    }
}

#[tokio::test]
async fn a_verified_fit_becomes_the_same_verified_caller_a_context_jwt_gives() {
    let fx = Fixture::new().await;
    let token = sign(&ui_claims());
    let req = parts(&[
        ("authorization", &format!("Bearer {token}")),
        (SYSTEM_TOKEN_HEADER, "sys-token"),
        (USER_TOKEN_HEADER, "user-token"),
    ]);
    let who = fx
        .verifier
        .verify_request(&req, &fx.map, &fx.tenants)
        .await
        .expect("accepted");
    assert_eq!(who.tenant.as_str(), CLIENT_KEY);
    assert_eq!(who.account_id.as_deref(), Some("5b10ac8d82e05b22cc7d4ef5"));
    assert_eq!(who.content_id.as_deref(), Some("98305"));
    assert_eq!(who.space_key.as_deref(), Some("ENG"));
    let call = who.forge.as_ref().expect("a Forge caller");
    assert_eq!(
        call.api_base_url,
        "https://api.atlassian.com/ex/confluence/3f1c6e2a-cloud"
    );
    assert_eq!(call.principal.as_deref(), Some("5b10ac8d82e05b22cc7d4ef5"));
    assert!(!format!("{who:?}").contains("sys-token"));

    // A malformed token header refuses the whole request.
    let req = parts(&[
        ("authorization", &format!("Bearer {token}")),
        (USER_TOKEN_HEADER, "a b"),
    ]);
    assert!(matches!(
        fx.verifier.verify_request(&req, &fx.map, &fx.tenants).await,
        Err(ForgeAuthError::Malformed(_))
    ));
}
