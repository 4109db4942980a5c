//! The simulated site's **product REST API**: the few Confluence endpoints the
//! app calls back (`app::connect::host_client`, `app::connect::authz`), plus
//! the OAuth 2.0 token endpoint of the ACT_AS_USER grant.
//!
//! Every call is authenticated the way Confluence does it, and anything else
//! gets a 401:
//! - `Authorization: JWT …` — an app JWT: HS256 with the site's shared
//!   secret, `iss` = the app key, `aud` containing the site's client key, and
//!   a `qsh` over this request relative to the site base (`/wiki` dropped);
//! - `Authorization: Bearer …` — an access token this simulator issued at
//!   `POST /oauth2/token` (the user it was issued for is the caller);
//! - no `Authorization` but `X-Sim-User: <accountId>` — the host page's
//!   `AP.request` (assets/host.js), i.e. the logged-in user's browser
//!   session. Only the host page's own origin can send that header (a custom
//!   header needs a CORS preflight, which the simulator never grants).
//!
//! The site's permission model (page 98305 in space DEV):
//!
//! | user | role | view page | edit page | DEV space admin |
//! |---|---|---|---|---|
//! | Ada Author | author | yes | yes | no |
//! | Leo Learner | learner | yes | no | no |
//! | Sam Spaceadmin | space-admin | yes | yes | yes |
//! | Rita Reader | viewer | yes | no | no |
//!
//! Groups: `confluence-users` (everyone), `space-admins` (Sam).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    extract::{FromRequestParts, Path, Query, State},
    http::{header, request::Parts, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Form, Json, Router,
};
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use rand::RngCore;
use serde::Deserialize;
use serde_json::{json, Value};

use connect::qsh;

use super::sim::{SimUser, CLIENT_KEY, PAGE_ID, SPACE_KEY, USERS};

/// The OAuth client id the simulator sends on install (`oauthClientId`).
pub(super) const OAUTH_CLIENT_ID: &str = "dev-host-oauth-client";
/// The site's context path: the product base URL is `<origin>/wiki`.
const SITE_PATH: &str = "/wiki";
const SPACE_ID: &str = "65537";
const SPACE_NAME: &str = "Developer Space";
/// Lifetime of issued access tokens (Atlassian's are 15 minutes too).
const ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(900);
/// The longest assertion lifetime accepted (clients use 60 s).
const MAX_ASSERTION_LIFETIME_SECS: u64 = 300;
/// Clock skew allowed on incoming JWTs.
const LEEWAY_SECS: u64 = 30;
const ASSERTION_ISS_PREFIX: &str = "urn:atlassian:connect:clientid:";
const ASSERTION_SUB_PREFIX: &str = "urn:atlassian:connect:useraccountid:";

/// What the product side needs: who it is and the secret it shares with the
/// app, plus the access tokens it has issued (in memory, like the rest).
pub(super) struct Product {
    origin: String,
    app_key: String,
    shared_secret: String,
    tokens: Mutex<HashMap<String, (&'static SimUser, Instant)>>,
}

impl Product {
    pub(super) fn new(origin: &str, app_key: &str, shared_secret: &str) -> Arc<Self> {
        Arc::new(Self {
            origin: origin.to_string(),
            app_key: app_key.to_string(),
            shared_secret: shared_secret.to_string(),
            tokens: Mutex::new(HashMap::new()),
        })
    }

    fn site_base(&self) -> String {
        format!("{}{SITE_PATH}", self.origin)
    }

    fn key(&self) -> Result<DecodingKey, String> {
        DecodingKey::from_secret(self.shared_secret.as_bytes()).map_err(|e| e.to_string())
    }

    /// Verifies an app JWT for the request in `parts`.
    fn verify_app_jwt(&self, token: &str, parts: &Parts) -> Result<(), String> {
        #[derive(Deserialize)]
        struct Claims {
            iss: String,
            qsh: Option<String>,
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECS;
        validation.set_audience(&[CLIENT_KEY]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
        let claims = decode::<Claims>(token, &self.key()?, &validation)
            .map_err(|e| format!("app JWT: {e}"))?
            .claims;
        if claims.iss != self.app_key {
            return Err("app JWT: iss is not the app key".into());
        }
        let expected = qsh::qsh(
            parts.method.as_str(),
            parts.uri.path(),
            parts.uri.query(),
            SITE_PATH,
        );
        if claims.qsh.as_deref() != Some(expected.as_str()) {
            return Err("app JWT: qsh does not match the request".into());
        }
        Ok(())
    }

    /// The user an issued, unexpired access token belongs to.
    fn bearer_user(&self, token: &str) -> Result<&'static SimUser, String> {
        let mut tokens = self.tokens.lock().expect("lock");
        let now = Instant::now();
        tokens.retain(|_, (_, until)| now < *until);
        tokens
            .get(token)
            .map(|(u, _)| *u)
            .ok_or_else(|| "unknown or expired access token".to_string())
    }

    fn issue_token(&self, user: &'static SimUser) -> String {
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        self.tokens.lock().expect("lock").insert(
            token.clone(),
            (user, Instant::now() + ACCESS_TOKEN_LIFETIME),
        );
        token
    }
}

/// The product routes, to be merged into the simulator's router.
pub(super) fn router(product: Arc<Product>) -> Router {
    Router::new()
        .route("/oauth2/token", post(token))
        .route("/wiki/rest/api/user/current", get(current_user))
        .route("/wiki/rest/api/user", get(user_by_account_id))
        .route(
            "/wiki/rest/api/content/{id}/permission/check",
            post(permission_check),
        )
        .route("/wiki/api/v2/spaces", get(spaces))
        .route("/wiki/api/v2/spaces/{id}/operations", get(space_operations))
        .route(
            "/wiki/rest/api/group/{group_name}/member",
            get(group_members),
        )
        .with_state(product)
}

fn find_user(account_id: &str) -> Option<&'static SimUser> {
    USERS.iter().find(|u| u.account_id == account_id)
}

fn can_view_page(u: &SimUser) -> bool {
    matches!(u.role, "author" | "learner" | "space-admin" | "viewer")
}

fn can_edit_page(u: &SimUser) -> bool {
    matches!(u.role, "author" | "space-admin")
}

fn is_space_admin(u: &SimUser) -> bool {
    u.role == "space-admin"
}

fn group_members_of(group: &str) -> Option<Vec<&'static SimUser>> {
    match group {
        "confluence-users" => Some(USERS.iter().collect()),
        "space-admins" => Some(USERS.iter().filter(|u| is_space_admin(u)).collect()),
        _ => None,
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"statusCode": status.as_u16(), "message": message})),
    )
        .into_response()
}

/// Who is calling, as Confluence would establish it.
enum Caller {
    App,
    User(&'static SimUser),
}

impl FromRequestParts<Arc<Product>> for Caller {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        product: &Arc<Product>,
    ) -> Result<Self, Self::Rejection> {
        let refused = |reason: String| {
            tracing::debug!(%reason, path = %parts.uri.path(), "simulator: product call refused");
            error(StatusCode::UNAUTHORIZED, "Unauthorized")
        };
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let value = value
                .to_str()
                .map_err(|_| refused("unreadable Authorization".into()))?;
            if let Some(token) = value.strip_prefix("JWT ") {
                return product
                    .verify_app_jwt(token.trim(), parts)
                    .map(|()| Caller::App)
                    .map_err(refused);
            }
            if let Some(token) = value.strip_prefix("Bearer ") {
                return product
                    .bearer_user(token.trim())
                    .map(Caller::User)
                    .map_err(refused);
            }
            return Err(refused("unsupported Authorization scheme".into()));
        }
        // AP.request from the host page: the logged-in user's session.
        let sim_user = parts
            .headers
            .get("x-sim-user")
            .and_then(|v| v.to_str().ok());
        match sim_user.and_then(find_user) {
            Some(u) => Ok(Caller::User(u)),
            None => Err(refused("no credentials".into())),
        }
    }
}

/// A user as Confluence's REST API shows it. The email address only goes to
/// the app itself (the `ACCESS_EMAIL_ADDRESSES` scope); Connect apps get no
/// private personal data through ACT_AS_USER or `AP.request`.
fn user_json(u: &SimUser, with_email: bool) -> Value {
    let mut v = json!({
        "type": "known",
        "accountId": u.account_id,
        "accountType": "atlassian",
        "displayName": u.display_name,
        "publicName": u.display_name,
    });
    if with_email {
        v["email"] = json!(u.email);
    }
    v
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountQuery {
    account_id: Option<String>,
}

/// `GET /wiki/rest/api/user/current`: the calling user; as the app, the user
/// named by `?accountId=`.
async fn current_user(caller: Caller, Query(q): Query<AccountQuery>) -> Response {
    match caller {
        Caller::User(u) => Json(user_json(u, false)).into_response(),
        Caller::App => match q.account_id.as_deref().map(find_user) {
            Some(Some(u)) => Json(user_json(u, true)).into_response(),
            Some(None) => error(StatusCode::NOT_FOUND, "No user with this accountId"),
            None => error(
                StatusCode::BAD_REQUEST,
                "accountId is required when calling as the app",
            ),
        },
    }
}

/// `GET /wiki/rest/api/user?accountId=`: one user, by account id.
async fn user_by_account_id(caller: Caller, Query(q): Query<AccountQuery>) -> Response {
    let Some(id) = q.account_id else {
        return error(StatusCode::BAD_REQUEST, "accountId is required");
    };
    match find_user(&id) {
        Some(u) => Json(user_json(u, matches!(caller, Caller::App))).into_response(),
        None => error(StatusCode::NOT_FOUND, "No user with this accountId"),
    }
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    assertion: String,
    #[serde(default)]
    scope: Option<String>,
}

#[derive(Deserialize)]
struct AssertionClaims {
    iss: String,
    sub: String,
    #[serde(default)]
    tnt: Option<String>,
    iat: u64,
    exp: u64,
}

fn oauth_error(code: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": code}))).into_response()
}

/// `POST /oauth2/token`: the JWT-bearer grant (RFC 7523). Errors are the
/// RFC 6749 §5.2 shape (400 with `error`).
async fn token(State(product): State<Arc<Product>>, Form(form): Form<TokenForm>) -> Response {
    if form.grant_type != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
        return oauth_error("unsupported_grant_type");
    }
    let user = match verify_assertion(&product, &form.assertion) {
        Ok(u) => u,
        Err(reason) => {
            tracing::debug!(%reason, "simulator: JWT-bearer grant refused");
            return oauth_error("invalid_grant");
        }
    };
    if let Some(scope) = &form.scope {
        if !scope
            .split(' ')
            .all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'))
        {
            return oauth_error("invalid_scope");
        }
    }
    Json(json!({
        "access_token": product.issue_token(user),
        "expires_in": ACCESS_TOKEN_LIFETIME.as_secs(),
        "token_type": "Bearer",
    }))
    .into_response()
}

fn verify_assertion(product: &Product, assertion: &str) -> Result<&'static SimUser, String> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = LEEWAY_SECS;
    validation.set_audience(&[product.origin.as_str()]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "sub", "aud"]);
    let claims = decode::<AssertionClaims>(assertion, &product.key()?, &validation)
        .map_err(|e| format!("assertion: {e}"))?
        .claims;
    if claims.iss != format!("{ASSERTION_ISS_PREFIX}{OAUTH_CLIENT_ID}") {
        return Err("assertion: iss is not this site's OAuth client".into());
    }
    if claims.tnt.as_deref().map(|t| t.trim_end_matches('/')) != Some(product.site_base().as_str())
    {
        return Err("assertion: tnt is not this site".into());
    }
    if claims.exp.saturating_sub(claims.iat) > MAX_ASSERTION_LIFETIME_SECS {
        return Err("assertion: lifetime too long".into());
    }
    let account_id = claims
        .sub
        .strip_prefix(ASSERTION_SUB_PREFIX)
        .ok_or("assertion: sub is not a user account URN")?;
    find_user(account_id).ok_or_else(|| "assertion: unknown user".to_string())
}

#[derive(Deserialize)]
struct PermissionCheckBody {
    subject: Subject,
    operation: String,
}

#[derive(Deserialize)]
struct Subject {
    #[serde(rename = "type")]
    kind: String,
    identifier: String,
}

/// `POST /wiki/rest/api/content/{id}/permission/check`.
async fn permission_check(
    _caller: Caller,
    Path(id): Path<String>,
    body: Option<Json<PermissionCheckBody>>,
) -> Response {
    let Some(Json(body)) = body else {
        return error(
            StatusCode::BAD_REQUEST,
            "subject and operation are required",
        );
    };
    if id != PAGE_ID {
        return error(StatusCode::NOT_FOUND, "No content with this id");
    }
    if body.subject.kind != "user" {
        return error(
            StatusCode::BAD_REQUEST,
            "the simulator checks user subjects only",
        );
    }
    let Some(u) = find_user(&body.subject.identifier) else {
        return Json(
            json!({"hasPermission": false, "errors": [{"message": {"key": "user.not.found"}}]}),
        )
        .into_response();
    };
    let allowed = match body.operation.as_str() {
        "read" => can_view_page(u),
        "update" | "delete" => can_edit_page(u),
        _ => false,
    };
    Json(json!({"hasPermission": allowed, "errors": []})).into_response()
}

#[derive(Deserialize)]
struct SpacesQuery {
    keys: Option<String>,
}

/// `GET /wiki/api/v2/spaces?keys=`: the spaces the caller may view (DEV).
async fn spaces(caller: Caller, Query(q): Query<SpacesQuery>) -> Response {
    let visible = match caller {
        Caller::App => true,
        Caller::User(u) => can_view_page(u),
    };
    let wanted = q
        .keys
        .as_deref()
        .map(|k| k.split(',').any(|k| k == SPACE_KEY))
        .unwrap_or(true);
    let results: Vec<Value> = if visible && wanted {
        vec![
            json!({"id": SPACE_ID, "key": SPACE_KEY, "name": SPACE_NAME, "type": "global", "status": "current"}),
        ]
    } else {
        Vec::new()
    };
    Json(json!({"results": results, "_links": {}})).into_response()
}

/// `GET /wiki/api/v2/spaces/{id}/operations`: what the caller may do in it.
async fn space_operations(caller: Caller, Path(id): Path<String>) -> Response {
    if id != SPACE_ID {
        return error(StatusCode::NOT_FOUND, "No space with this id");
    }
    let op = |operation: &str, target: &str| json!({"operation": operation, "targetType": target});
    let operations = match caller {
        Caller::App => vec![op("read", "space"), op("create", "page")],
        Caller::User(u) => {
            let mut ops = vec![op("read", "space")];
            if can_edit_page(u) {
                ops.push(op("create", "page"));
            }
            if is_space_admin(u) {
                ops.push(op("administer", "space"));
            }
            ops
        }
    };
    Json(json!({"operations": operations})).into_response()
}

#[derive(Deserialize)]
struct PageQuery {
    start: Option<usize>,
    limit: Option<usize>,
}

/// `GET /wiki/rest/api/group/{groupName}/member`: paged members.
async fn group_members(
    State(product): State<Arc<Product>>,
    _caller: Caller,
    Path(group): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let Some(members) = group_members_of(&group) else {
        return error(StatusCode::NOT_FOUND, "No group with this name");
    };
    let start = q.start.unwrap_or(0);
    let limit = q.limit.unwrap_or(200).clamp(1, 200);
    let page: Vec<Value> = members
        .iter()
        .skip(start)
        .take(limit)
        .map(|u| user_json(u, false))
        .collect();
    let mut links = json!({"base": product.site_base(), "context": SITE_PATH});
    if start + page.len() < members.len() {
        links["next"] = json!(format!(
            "/rest/api/group/{group}/member?start={}&limit={limit}",
            start + page.len()
        ));
    }
    Json(json!({
        "results": page,
        "start": start,
        "limit": limit,
        "size": page.len(),
        "_links": links,
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use app::state::AppState;
    use axum::{body::Body, http::Request};
    use clap::Parser;
    use connect::{
        authz,
        host_client::{HostClient, Principal},
        jwt::{verify_hs256, Expect},
        TenantInstall, Verified,
    };
    use jsonwebtoken::{encode, EncodingKey, Header};
    use tower::ServiceExt;

    use super::*;

    const SECRET: &str = "simulator-test-secret-0123456789abcdef";
    const APP_KEY: &str = "smart-courses";
    const ORIGIN: &str = "http://sim.test";

    fn sign(claims: &Value) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
        )
        .unwrap()
    }

    fn app_jwt(method: &str, relative_path: &str, query: Option<&str>) -> String {
        let now = jsonwebtoken::get_current_timestamp();
        sign(&json!({
            "iss": APP_KEY, "iat": now, "exp": now + 180, "aud": [CLIENT_KEY],
            "qsh": qsh::qsh(method, relative_path, query, ""),
        }))
    }

    async fn call(router: &Router, req: Request<Body>) -> (StatusCode, Value) {
        let resp = router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    fn get(uri: &str, auth: Option<String>, sim_user: Option<&str>) -> Request<Body> {
        let mut req = Request::get(uri);
        if let Some(a) = auth {
            req = req.header(header::AUTHORIZATION, a);
        }
        if let Some(u) = sim_user {
            req = req.header("x-sim-user", u);
        }
        req.body(Body::empty()).unwrap()
    }

    #[tokio::test]
    async fn product_calls_need_an_app_jwt_for_this_request_a_token_it_issued_or_a_host_session() {
        let router = router(Product::new(ORIGIN, APP_KEY, SECRET));
        let path = "/wiki/rest/api/user/current";
        let query = "accountId=557058%3Aleo-learner-0002";
        let uri = format!("{path}?{query}");

        // As the app, with the qsh of the site-relative request: email included.
        let jwt = app_jwt("GET", "/rest/api/user/current", Some(query));
        let (status, body) = call(&router, get(&uri, Some(format!("JWT {jwt}")), None)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["accountId"], "557058:leo-learner-0002");
        assert_eq!(body["email"], "leo.learner@example.com");

        // A JWT for another URL, with the context path hashed, from another
        // issuer, or not for this site: refused.
        let now = jsonwebtoken::get_current_timestamp();
        for bad in [
            app_jwt("GET", "/rest/api/user/current", None),
            app_jwt("GET", path, Some(query)),
            sign(
                &json!({"iss": "other-app", "iat": now, "exp": now + 60, "aud": [CLIENT_KEY],
                "qsh": qsh::qsh("GET", "/rest/api/user/current", Some(query), "")}),
            ),
            sign(
                &json!({"iss": APP_KEY, "iat": now, "exp": now + 60, "aud": ["other-site"],
                "qsh": qsh::qsh("GET", "/rest/api/user/current", Some(query), "")}),
            ),
        ] {
            let (status, _) = call(&router, get(&uri, Some(format!("JWT {bad}")), None)).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
        // No credentials, an unknown bearer token, an unknown session user.
        assert_eq!(
            call(&router, get(path, None, None)).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            call(&router, get(path, Some("Bearer made-up".into()), None))
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            call(&router, get(path, None, Some("557058:nobody")))
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );

        // AP.request from the host page: the session's user, no email.
        let (status, body) = call(&router, get(path, None, Some("557058:rita-reader-0004"))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["displayName"], "Rita Reader");
        assert!(body.get("email").is_none());
    }

    #[tokio::test]
    async fn the_token_endpoint_checks_the_assertion_and_its_tokens_act_as_the_user() {
        let router = router(Product::new(ORIGIN, APP_KEY, SECRET));
        let now = jsonwebtoken::get_current_timestamp();
        let assertion = |iss: &str, aud: &str| {
            sign(&json!({
                "iss": iss, "sub": "urn:atlassian:connect:useraccountid:557058:sam-spaceadmin-0003",
                "tnt": format!("{ORIGIN}/wiki"), "aud": aud, "iat": now, "exp": now + 60,
            }))
        };
        let grant = |grant_type: &str, assertion: String| {
            let body = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("grant_type", grant_type)
                .append_pair("assertion", &assertion)
                .append_pair("scope", "ACT_AS_USER READ")
                .finish();
            Request::post("/oauth2/token")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap()
        };
        let good_iss = format!("{ASSERTION_ISS_PREFIX}{OAUTH_CLIENT_ID}");
        let jwt_bearer = "urn:ietf:params:oauth:grant-type:jwt-bearer";
        for (grant_type, a, error) in [
            (
                "client_credentials",
                assertion(&good_iss, ORIGIN),
                "unsupported_grant_type",
            ),
            (
                jwt_bearer,
                assertion("urn:atlassian:connect:clientid:other", ORIGIN),
                "invalid_grant",
            ),
            (
                jwt_bearer,
                assertion(&good_iss, "https://elsewhere.test"),
                "invalid_grant",
            ),
        ] {
            let (status, body) = call(&router, grant(grant_type, a)).await;
            assert_eq!(
                (status, body["error"].as_str()),
                (StatusCode::BAD_REQUEST, Some(error))
            );
        }
        let (status, body) = call(&router, grant(jwt_bearer, assertion(&good_iss, ORIGIN))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["expires_in"], 900);
        let token = body["access_token"].as_str().unwrap().to_string();

        let bearer = Some(format!("Bearer {token}"));
        let (status, body) = call(
            &router,
            get("/wiki/rest/api/user/current", bearer.clone(), None),
        )
        .await;
        assert_eq!(
            (status, body["displayName"].as_str()),
            (StatusCode::OK, Some("Sam Spaceadmin"))
        );
        let (_, ops) = call(
            &router,
            get("/wiki/api/v2/spaces/65537/operations", bearer, None),
        )
        .await;
        assert!(ops["operations"]
            .as_array()
            .unwrap()
            .contains(&json!({"operation": "administer", "targetType": "space"})));
    }

    #[tokio::test]
    async fn group_members_are_paged() {
        let router = router(Product::new(ORIGIN, APP_KEY, SECRET));
        let sam = || Some("557058:sam-spaceadmin-0003");
        let uri = "/wiki/rest/api/group/confluence-users/member?start=1&limit=2";
        let (status, body) = call(&router, get(uri, None, sam())).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            (body["start"].as_u64(), body["size"].as_u64()),
            (Some(1), Some(2))
        );
        assert_eq!(body["results"][0]["accountId"], "557058:leo-learner-0002");
        assert!(body["_links"]["next"].is_string());
        let (_, admins) = call(
            &router,
            get("/wiki/rest/api/group/space-admins/member", None, sam()),
        )
        .await;
        assert_eq!(admins["size"], 1);
        assert_eq!(
            call(
                &router,
                get("/wiki/rest/api/group/nope/member", None, sam())
            )
            .await
            .0,
            StatusCode::NOT_FOUND
        );
    }

    #[derive(Parser)]
    struct Only {
        #[command(flatten)]
        config: crate::Config,
    }

    /// The app's real client and authorization checks against the real
    /// simulator routes: they agree on every token and on the model.
    #[tokio::test]
    async fn the_apps_authorization_checks_agree_with_the_simulated_site() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let sim = router(Product::new(&origin, APP_KEY, SECRET));
        tokio::spawn(async move { axum::serve(listener, sim).await.unwrap() });
        let dir = std::env::temp_dir()
            .join("smart-courses-tests")
            .join(format!("sim-product-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("manifest.json"),
            r#"{"output_name":"frontend-test","stylesheet":"/pkg/style.css"}"#,
        )
        .unwrap();
        let db = format!("sqlite://{}/db.sqlite", dir.display());
        let site_root = dir.display().to_string();
        let token_url = format!("{origin}/oauth2/token");
        let config = Only::try_parse_from([
            "test",
            "--app-key",
            APP_KEY,
            "--site-addr",
            "127.0.0.1:0",
            "--database-url",
            &db,
            "--site-root",
            &site_root,
            "--oauth-token-url",
            &token_url,
        ])
        .unwrap()
        .config;
        let state: AppState = crate::build_state(&config).await.unwrap();
        state
            .connect
            .tenants
            .install(&TenantInstall {
                client_key: CLIENT_KEY.into(),
                shared_secret: secrecy::SecretString::from(SECRET),
                base_url: format!("{origin}/wiki"),
                display_url: None,
                product_type: Some("confluence".into()),
                oauth_client_id: Some(OAUTH_CLIENT_ID.into()),
                installation_id: None,
            })
            .await
            .unwrap();
        let as_user = |account_id: &'static str| {
            let state = state.clone();
            async move {
                let now = jsonwebtoken::get_current_timestamp();
                let token = sign(
                    &json!({"iss": CLIENT_KEY, "sub": account_id, "iat": now, "exp": now + 60,
                    "qsh": qsh::CONTEXT_QSH}),
                );
                verify_hs256(
                    &state.connect.tenants,
                    &state.connect.settings,
                    &token,
                    Expect::Context,
                )
                .await
                .unwrap()
            }
        };
        let (ada, leo, sam, rita): (Verified, Verified, Verified, Verified) = (
            as_user("557058:ada-author-0001").await,
            as_user("557058:leo-learner-0002").await,
            as_user("557058:sam-spaceadmin-0003").await,
            as_user("557058:rita-reader-0004").await,
        );
        for (who, view, edit, admin) in [
            (&ada, true, true, false),
            (&leo, true, false, false),
            (&sam, true, true, true),
            (&rita, true, false, false),
        ] {
            let name = who.account_id.clone().unwrap();
            assert_eq!(
                authz::can_view_page(&state.connect, who, PAGE_ID).await,
                Ok(view),
                "{name} view"
            );
            assert_eq!(
                authz::can_edit_page(&state.connect, who, PAGE_ID).await,
                Ok(edit),
                "{name} edit"
            );
            assert_eq!(
                authz::is_space_admin(&state.connect, who, SPACE_KEY).await,
                Ok(admin),
                "{name} admin"
            );
        }
        let client = HostClient::for_tenant(&state.connect, &leo.tenant)
            .await
            .unwrap();
        let me: Value = client
            .get_json(
                Principal::user("557058:leo-learner-0002"),
                "/rest/api/user/current",
            )
            .await
            .unwrap();
        assert_eq!(me["displayName"], "Leo Learner");
    }

    #[test]
    fn permission_model_matches_the_documented_table() {
        let by_name = |name: &str| USERS.iter().find(|u| u.display_name == name).unwrap();
        let (ada, leo, sam, rita) = (
            by_name("Ada Author"),
            by_name("Leo Learner"),
            by_name("Sam Spaceadmin"),
            by_name("Rita Reader"),
        );
        for u in [ada, leo, sam, rita] {
            assert!(can_view_page(u), "{}", u.display_name);
        }
        assert!(can_edit_page(ada) && can_edit_page(sam));
        assert!(!can_edit_page(leo) && !can_edit_page(rita));
        assert!(is_space_admin(sam));
        assert!(!is_space_admin(ada) && !is_space_admin(leo) && !is_space_admin(rita));
        assert_eq!(
            group_members_of("confluence-users").unwrap().len(),
            USERS.len()
        );
        let admins: Vec<&str> = group_members_of("space-admins")
            .unwrap()
            .iter()
            .map(|u| u.account_id)
            .collect();
        assert_eq!(admins, [sam.account_id]);
        assert!(group_members_of("jira-users").is_none());
    }
}
