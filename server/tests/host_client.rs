//! Calls back to Confluence (`connect::host_client`) and the
//! authorization checks built on them (`connect::authz`), against the test
//! kit's fake Confluence on a real socket, which records every request.
//!
//! Run with `cargo test -p server --features dev-host --test host_client`.

use std::{collections::HashMap, time::Duration};

use app::{api::guards::require, error::AppError, state::AppState};
use clap::Parser;
use connect::{
    authz,
    host_client::{HostClient, HostError, Principal},
    jwt::{verify_hs256, Expect},
    qsh, TenantInstall, Verified,
};
use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{json, Value};
use server::Config;
use testkit::{FakeConfluence, Stub};

const APP_KEY: &str = "smart-courses-test";
const CLIENT_KEY: &str = "fake-confluence-site";
const DOWN_CLIENT_KEY: &str = "unreachable-site";
const SECRET: &str = "a-test-shared-secret-of-reasonable-length-0123456789";
const OAUTH_CLIENT: &str = "test-oauth-client";
const ADA: &str = "557058:ada-author-0001";
const LEO: &str = "557058:leo-learner-0002";
const SAM: &str = "557058:sam-spaceadmin-0003";
const PAGE: &str = "98305";
const HIDDEN_PAGE: &str = "98306";

/// The test kit's fake Confluence with this file's site: Leo, Ada and Sam
/// may view [`PAGE`], Ada and Sam edit it, nobody sees [`HIDDEN_PAGE`], Sam
/// administers `DEV` (space id 65537).
async fn spawn_fake() -> (FakeConfluence, String) {
    let fake = FakeConfluence::start_for(APP_KEY).await;
    fake.add_site_with_oauth(CLIENT_KEY, SECRET, OAUTH_CLIENT);
    for (account, name, edits) in [
        (ADA, "Ada Author", true),
        (LEO, "Leo Learner", false),
        (SAM, "Sam Spaceadmin", true),
    ] {
        fake.add_user(account, name);
        fake.grant(account, PAGE, "read", true);
        fake.grant(account, PAGE, "update", edits);
        fake.grant(account, HIDDEN_PAGE, "read", false);
        fake.grant(account, HIDDEN_PAGE, "update", false);
    }
    fake.make_space_admin(SAM, "DEV");
    fake.stub(
        reqwest::Method::GET,
        "/wiki/redirect-me",
        Stub::redirect("/wiki/somewhere-else"),
    );
    let origin = fake.origin().to_owned();
    (fake, origin)
}

/// A port nothing listens on.
async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

#[derive(Parser)]
struct Only {
    #[command(flatten)]
    config: Config,
}

struct Setup {
    state: AppState,
    fake: FakeConfluence,
    origin: String,
}

/// The real state (`server::build_state`) with its own database, the fake
/// as token endpoint, and two tenants: one at the fake, one unreachable.
async fn setup() -> Setup {
    let (fake, origin) = spawn_fake().await;
    let dir = std::env::temp_dir()
        .join("smart-courses-tests")
        .join(format!("host-client-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("manifest.json"),
        r#"{"bundles":{"learner":"learner-test","editor":"editor-test","admin":"admin-test"},"stylesheet":"/pkg/style.css"}"#,
    )
    .unwrap();
    let database_url = format!("sqlite://{}/db.sqlite", dir.display());
    let token_url = format!("{origin}/oauth2/token");
    let site_root = dir.display().to_string();
    let data_key = {
        use secrecy::ExposeSecret;
        store::secrets::Keyring::generate("test")
            .unwrap()
            .expose_secret()
            .to_owned()
    };
    let config = Only::try_parse_from([
        "test",
        "--base-url",
        "https://courses.example.test",
        "--app-key",
        APP_KEY,
        "--site-addr",
        "127.0.0.1:0",
        "--database-url",
        &database_url,
        "--site-root",
        &site_root,
        "--keys-cdn-url",
        "http://127.0.0.1:9/keys",
        "--oauth-token-url",
        &token_url,
        "--data-key",
        &data_key,
    ])
    .unwrap()
    .config;
    let state = server::build_state(&config).await.expect("state builds");
    for (client_key, base_url) in [
        (CLIENT_KEY, format!("{origin}/wiki")),
        (
            DOWN_CLIENT_KEY,
            format!("http://127.0.0.1:{}/wiki", closed_port().await),
        ),
    ] {
        state
            .db
            .upsert_tenant(&TenantInstall {
                client_key: client_key.into(),
                shared_secret: SecretString::from(SECRET),
                base_url,
                display_url: None,
                product_type: Some("confluence".into()),
                oauth_client_id: Some(OAUTH_CLIENT.into()),
                installation_id: None,
            })
            .await
            .unwrap();
    }
    Setup {
        state,
        fake,
        origin,
    }
}

/// What the app knows about a caller after verifying their context JWT (the
/// real verification path, with a token signed like Confluence signs it).
async fn caller(state: &AppState, client_key: &str, account_id: Option<&str>) -> Verified {
    let now = jsonwebtoken::get_current_timestamp();
    let mut claims =
        json!({"iss": client_key, "iat": now, "exp": now + 300, "qsh": qsh::CONTEXT_QSH});
    if let Some(a) = account_id {
        claims["sub"] = json!(a);
    }
    let token = encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
    )
    .unwrap();
    verify_hs256(
        &state.connect.tenants,
        &state.connect.settings,
        &token,
        Expect::Context,
    )
    .await
    .unwrap()
}

/// Verifies an HS256 token with the shared secret and returns its claims.
#[track_caller]
fn verified_claims(token: &str, audience: &str) -> Value {
    assert_eq!(decode_header(token).unwrap().alg, Algorithm::HS256);
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[audience]);
    validation.leeway = 0;
    decode::<Value>(
        token,
        &DecodingKey::from_secret(SECRET.as_bytes()).unwrap(),
        &validation,
    )
    .expect("signed with the tenant's shared secret")
    .claims
}

#[tokio::test]
async fn app_calls_carry_a_jwt_with_iss_aud_and_the_qsh_of_the_site_relative_request() {
    // Arrange
    let s = setup().await;
    let who = caller(&s.state, CLIENT_KEY, Some(ADA)).await;
    let client = HostClient::for_tenant(&s.state.connect, &who.tenant)
        .await
        .unwrap();

    // Act
    let resp = client
        .send(
            Principal::App,
            Method::GET,
            "/rest/api/content/98305?status=current&expand=version,space",
            None,
        )
        .await
        .unwrap();

    // Assert
    assert_eq!(resp.status(), 200);
    let seen = s.fake.requests();
    assert_eq!(seen.len(), 1);
    let req = &seen[0];
    assert_eq!(
        req.path, "/wiki/rest/api/content/98305",
        "context path kept in the URL"
    );
    assert_eq!(
        req.query.as_deref(),
        Some("status=current&expand=version,space")
    );
    let token = req
        .authorization
        .as_deref()
        .unwrap()
        .strip_prefix("JWT ")
        .expect("JWT scheme");
    let claims = verified_claims(token, CLIENT_KEY);
    assert_eq!(claims["iss"], APP_KEY);
    assert_eq!(claims["aud"], json!([CLIENT_KEY]));
    let expected_qsh = qsh::qsh("GET", "/rest/api/content/98305", req.query.as_deref(), "");
    assert_eq!(
        claims["qsh"],
        expected_qsh.as_str(),
        "qsh over the path without /wiki"
    );
    assert_eq!(
        expected_qsh,
        qsh::qsh("GET", &req.path, req.query.as_deref(), "/wiki"),
        "what the product computes from the URL it received"
    );
    assert_ne!(
        expected_qsh,
        qsh::qsh("GET", &req.path, req.query.as_deref(), "")
    );
    let (iat, exp) = (
        claims["iat"].as_u64().unwrap(),
        claims["exp"].as_u64().unwrap(),
    );
    assert_eq!(exp - iat, 180);
    assert!(claims.get("sub").is_none());
}

#[tokio::test]
async fn acting_as_a_user_uses_the_jwt_bearer_grant_with_the_documented_claims() {
    // Arrange
    let s = setup().await;
    let who = caller(&s.state, CLIENT_KEY, Some(LEO)).await;
    let client = HostClient::for_tenant(&s.state.connect, &who.tenant)
        .await
        .unwrap();

    // Act
    let resp = client
        .send(
            Principal::user(LEO),
            Method::GET,
            "/rest/api/user/current",
            None,
        )
        .await
        .unwrap();

    // Assert
    assert_eq!(resp.status(), 200);
    let seen = s.fake.requests();
    assert_eq!(seen.len(), 2, "{seen:#?}");
    let grant = &seen[0];
    assert_eq!(
        (grant.method.as_str(), grant.path.as_str()),
        ("POST", "/oauth2/token")
    );
    assert_eq!(
        grant.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert!(grant.authorization.is_none());
    let form: HashMap<String, String> = url::form_urlencoded::parse(grant.body.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(
        form["grant_type"],
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    );
    assert_eq!(form["scope"], "ACT_AS_USER READ");
    assert_eq!(form.len(), 3);
    let claims = verified_claims(&form["assertion"], &s.origin);
    assert_eq!(
        claims["iss"],
        format!("urn:atlassian:connect:clientid:{OAUTH_CLIENT}")
    );
    assert_eq!(
        claims["sub"],
        format!("urn:atlassian:connect:useraccountid:{LEO}")
    );
    assert_eq!(claims["tnt"], format!("{}/wiki", s.origin));
    assert_eq!(
        claims["aud"],
        s.origin.as_str(),
        "the token endpoint's origin"
    );
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        60
    );

    let call = &seen[1];
    assert_eq!(call.path, "/wiki/rest/api/user/current");
    assert_eq!(
        call.authorization,
        Some(format!("Bearer {}", s.fake.issued_tokens()[0]))
    );
}

#[tokio::test]
async fn access_tokens_are_reused_until_shortly_before_they_expire() {
    // Arrange: tokens valid 4 s, so cached for 1 s (3 s margin).
    let s = setup().await;
    s.fake.set_token_lifetime(Duration::from_secs(4));
    let who = caller(&s.state, CLIENT_KEY, Some(LEO)).await;
    let client = HostClient::for_tenant(&s.state.connect, &who.tenant)
        .await
        .unwrap();
    let call = |who| client.send(who, Method::GET, "/rest/api/user/current", None);

    // Act + Assert: two calls, one grant.
    call(Principal::user(LEO)).await.unwrap();
    call(Principal::user(LEO)).await.unwrap();
    assert_eq!(s.fake.token_requests(), 1);
    let auth: Vec<_> = s
        .fake
        .requests()
        .iter()
        .filter_map(|r| r.authorization.clone())
        .collect();
    let first = format!("Bearer {}", s.fake.issued_tokens()[0]);
    assert_eq!(auth, [first.clone(), first]);

    // Another user, or other scopes: their own token.
    call(Principal::user(ADA)).await.unwrap();
    call(Principal::User {
        account_id: LEO,
        scopes: &["read", "write", "act_as_user"],
    })
    .await
    .unwrap();
    assert_eq!(s.fake.token_requests(), 3);

    // After the cached lifetime: a new grant.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    call(Principal::user(LEO)).await.unwrap();
    assert_eq!(s.fake.token_requests(), 4);
    let last = s.fake.requests().last().unwrap().clone();
    assert_eq!(
        last.authorization,
        Some(format!("Bearer {}", s.fake.issued_tokens()[3]))
    );
}

#[tokio::test]
async fn page_permissions_follow_confluence_and_are_cached_briefly() {
    // Arrange
    let s = setup().await;
    let ada = caller(&s.state, CLIENT_KEY, Some(ADA)).await;
    let leo = caller(&s.state, CLIENT_KEY, Some(LEO)).await;

    // Act + Assert
    assert_eq!(require_view_page(&s.state, &leo, PAGE).await, Ok(()));
    assert_eq!(require_edit_page(&s.state, &ada, PAGE).await, Ok(()));
    assert_eq!(
        require_edit_page(&s.state, &leo, PAGE).await,
        Err(AppError::Forbidden)
    );
    assert_eq!(
        require_view_page(&s.state, &leo, HIDDEN_PAGE).await,
        Err(AppError::Forbidden)
    );
    assert_eq!(
        require_view_page(&s.state, &leo, "424242").await,
        Err(AppError::Forbidden),
        "404 from Confluence: no such page, denied"
    );

    let checks = s.fake.requests();
    assert_eq!(checks.len(), 5);
    let first = &checks[0];
    assert_eq!(
        (first.method.as_str(), first.path.as_str()),
        ("POST", "/wiki/rest/api/content/98305/permission/check")
    );
    assert!(
        first.authorization.as_deref().unwrap().starts_with("JWT "),
        "asked as the app"
    );
    assert_eq!(
        serde_json::from_str::<Value>(&first.body).unwrap(),
        json!({"subject": {"type": "user", "identifier": LEO}, "operation": "read"})
    );
    assert_eq!(
        serde_json::from_str::<Value>(&checks[2].body).unwrap()["operation"],
        "update"
    );

    // The same questions again: answered from the cache, allowed or not.
    assert_eq!(require_view_page(&s.state, &leo, PAGE).await, Ok(()));
    assert_eq!(
        require_edit_page(&s.state, &leo, PAGE).await,
        Err(AppError::Forbidden)
    );
    assert_eq!(s.fake.requests().len(), 5);
}

#[tokio::test]
async fn space_admin_is_decided_by_the_users_permitted_operations() {
    // Arrange
    let s = setup().await;
    let sam = caller(&s.state, CLIENT_KEY, Some(SAM)).await;
    let ada = caller(&s.state, CLIENT_KEY, Some(ADA)).await;

    // Act + Assert
    assert_eq!(require_space_admin(&s.state, &sam, "DEV").await, Ok(()));
    assert_eq!(
        require_space_admin(&s.state, &ada, "DEV").await,
        Err(AppError::Forbidden)
    );
    assert_eq!(
        require_space_admin(&s.state, &sam, "NOPE").await,
        Err(AppError::Forbidden),
        "a space the user cannot see"
    );

    let seen = s.fake.requests();
    let product: Vec<_> = seen.iter().filter(|r| r.path != "/oauth2/token").collect();
    assert_eq!(product[0].path, "/wiki/api/v2/spaces");
    assert_eq!(product[0].query.as_deref(), Some("keys=DEV&limit=1"));
    assert!(
        product[0]
            .authorization
            .as_deref()
            .unwrap()
            .starts_with("Bearer "),
        "asked as the user"
    );
    assert_eq!(product[1].path, "/wiki/api/v2/spaces/65537/operations");
    assert_eq!(s.fake.token_requests(), 2, "one grant per user");

    // Cached.
    let before = s.fake.requests().len();
    assert!(authz::is_space_admin(&s.state.connect, &sam, "DEV")
        .await
        .unwrap());
    assert_eq!(s.fake.requests().len(), before);
}

#[tokio::test]
async fn authorization_fails_closed_when_confluence_cannot_be_reached() {
    // Arrange
    let s = setup().await;
    let leo = caller(&s.state, DOWN_CLIENT_KEY, Some(LEO)).await;

    // Act + Assert
    assert_eq!(
        require_view_page(&s.state, &leo, PAGE).await,
        Err(AppError::Internal)
    );
    assert_eq!(
        require_space_admin(&s.state, &leo, "DEV").await,
        Err(AppError::Internal)
    );
    // Failures are not cached: the next call asks again (and fails again).
    assert!(matches!(
        authz::can_view_page(&s.state.connect, &leo, PAGE).await,
        Err(authz::AuthzError::Host(HostError::Transport(_)))
    ));
}

#[tokio::test]
async fn malformed_ids_and_anonymous_callers_are_refused_before_any_request() {
    // Arrange
    let s = setup().await;
    let leo = caller(&s.state, CLIENT_KEY, Some(LEO)).await;
    let anonymous = caller(&s.state, CLIENT_KEY, None).await;

    // Act + Assert
    for bad in [
        "",
        "abc",
        "98305/../1",
        "1?x=1",
        "../../admin",
        "98305 ",
        "%39",
    ] {
        assert!(
            matches!(
                require_view_page(&s.state, &leo, bad).await,
                Err(AppError::Invalid(_))
            ),
            "{bad:?}"
        );
        assert_eq!(
            authz::can_edit_page(&s.state.connect, &leo, bad).await,
            Err(authz::AuthzError::InvalidContentId)
        );
    }
    for bad in ["", "DEV&keys=X", "DEV/../x", "D E V", &"K".repeat(300)] {
        assert_eq!(
            authz::is_space_admin(&s.state.connect, &leo, bad).await,
            Err(authz::AuthzError::InvalidSpaceKey)
        );
    }
    assert_eq!(
        require_view_page(&s.state, &anonymous, PAGE).await,
        Err(AppError::Forbidden)
    );
    assert_eq!(
        require_space_admin(&s.state, &anonymous, "DEV").await,
        Err(AppError::Forbidden)
    );
    assert!(s.fake.requests().is_empty(), "{:#?}", s.fake.requests());
}

#[tokio::test]
async fn redirects_are_not_followed_and_errors_carry_no_secrets() {
    // Arrange
    let s = setup().await;
    let leo = caller(&s.state, CLIENT_KEY, Some(LEO)).await;
    let client = HostClient::for_tenant(&s.state.connect, &leo.tenant)
        .await
        .unwrap();

    // Act
    let redirected = client
        .get_json::<Value>(Principal::user(LEO), "/redirect-me")
        .await;
    let unsafe_path = client.get_json::<Value>(Principal::App, "/../admin").await;

    // Assert
    assert_eq!(redirected, Err(HostError::Status(302)));
    assert_eq!(unsafe_path, Err(HostError::UnsafePath));
    let paths: Vec<_> = s.fake.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/oauth2/token", "/wiki/redirect-me"]);
    for e in [redirected.unwrap_err(), unsafe_path.unwrap_err()] {
        let text = format!("{e} {e:?}");
        let token = &s.fake.issued_tokens()[0];
        assert!(
            !text.contains(SECRET) && !text.contains(token.as_str()),
            "{text}"
        );
    }
}

/// The guards' decision for a page view (what server functions enforce).
async fn require_view_page(state: &AppState, who: &Verified, page: &str) -> Result<(), AppError> {
    require(authz::can_view_page(&state.connect, who, page).await)
}

/// The guards' decision for a page edit.
async fn require_edit_page(state: &AppState, who: &Verified, page: &str) -> Result<(), AppError> {
    require(authz::can_edit_page(&state.connect, who, page).await)
}

/// The guards' decision for space administration.
async fn require_space_admin(
    state: &AppState,
    who: &Verified,
    space: &str,
) -> Result<(), AppError> {
    require(authz::is_space_admin(&state.connect, who, space).await)
}
