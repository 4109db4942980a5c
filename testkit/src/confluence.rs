//! A table-driven fake of the Confluence Cloud endpoints the app calls back,
//! and of Atlassian's OAuth 2.0 token endpoint (ACT_AS_USER).
//!
//! One fake serves any number of sites (tenants): each is registered with
//! its client key, shared secret and OAuth client id, and every call is
//! authenticated the way Confluence does it — anything else gets a 401:
//!
//! - `Authorization: JWT …` — an app JWT: HS256 with the site's shared
//!   secret (the site is named by `aud`), `iss` = the app key, and a `qsh`
//!   over this request relative to the site base (`/wiki` dropped);
//! - `Authorization: Bearer …` — an access token this fake issued at
//!   `POST /oauth2/token` for a JWT-bearer assertion it verified (`iss` =
//!   the site's OAuth client, `sub` = the user, `tnt` = the site base URL,
//!   `aud` = this fake's origin, signed with the site's secret);
//! - `Authorization: Bearer …` under `/ex/confluence/<cloudId>/wiki/…`
//!   (Forge's API gateway, [`FakeConfluence::forge_api_base_url`]) — a
//!   Forge OAuth token this fake handed out for that cloud id
//!   ([`FakeConfluence::issue_forge_system_token`] acts as the app of a
//!   site, [`FakeConfluence::issue_forge_user_token`] as a user). Nothing
//!   else is accepted there, and these tokens are refused under `/wiki`;
//! - with [`FakeConfluence::accept_session_header`] only (the host
//!   simulator): no `Authorization` but `X-Sim-User: <accountId>` — the
//!   host page's `AP.request`, i.e. the logged-in user's browser session.
//!
//! What the site answers comes from tables the test (or the simulator)
//! fills: users (name, e-mail, groups), page permissions per (user, page,
//! operation), pages (space, title), spaces (id, administrators), groups
//! (name, id, members). Unknown pages and groups answer 404 as Confluence
//! does; an unknown permission is "no". Every request is logged
//! ([`FakeConfluence::requests`]), and an outage switch answers 503 to
//! everything.
//!
//! Lists are paged as Confluence pages them (`start`, `limit`, `size` and a
//! `_links.next` while more remain), with a fixed system page limit that
//! caps whatever `limit` a client asks for: [`DEFAULT_PAGE_LIMIT`] unless
//! [`FakeConfluence::set_page_limit`] says otherwise. It is small on
//! purpose, so clients that ask for 200 at a time still meet several pages.
//!
//! E-mail addresses go to the app only (the `ACCESS_EMAIL_ADDRESSES` scope
//! is the app's): the e-mail resources answer 403 to anyone acting as a
//! user, and 400 ("the calling app is not approved to use this API") to
//! everyone after [`FakeConfluence::refuse_emails`].
//!
//! Endpoints (under the site's context path `/wiki`):
//!
//! | method | path | as |
//! |---|---|---|
//! | POST | `/oauth2/token` (no context path) | the JWT-bearer grant |
//! | POST | `/rest/api/content/{id}/permission/check` | app or user |
//! | GET | `/rest/api/content/{id}` | app or user (pages the user may view) |
//! | GET | `/api/v2/spaces?keys=` | app or user |
//! | GET | `/api/v2/spaces/{id}/operations` | app or user |
//! | GET | `/rest/api/user?accountId=`, `/rest/api/user/current` | app or user (e-mail to the app only) |
//! | GET | `/rest/api/search/user?cql=user.fullname~"…"&start=&limit=` | app or user, paged; no e-mail |
//! | GET | `/rest/api/group/picker?query=&start=&limit=` | app or user, paged |
//! | GET | `/rest/api/group/{groupId}/membersByGroupId?start=&limit=` | app or user, paged |
//! | GET | `/rest/api/group/{name}/member`, `/rest/api/group/member?name=` (deprecated by-name forms) | app or user, paged |
//! | GET | `/rest/api/user/email?accountId=` | the app only |
//! | GET | `/rest/api/user/email/bulk?accountId=a,b` (or repeated `accountId`) | the app only |
//! | POST | `/rest/atlassian-connect/latest/report-accounts` (personal-data reporting: 1–90 accounts; 200 with the closed/updated ones, 204 if none) | the app only |
//!
//! plus any [`Stub`] a test adds for a path of its own.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use axum::{
    body::{to_bytes, Body},
    extract::{Request, State},
    http::{header, HeaderMap, Method, StatusCode},
    response::{IntoResponse, Response},
    Json, Router,
};
use connect::qsh;
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use rand::RngCore;
use serde::Deserialize;
use serde_json::{json, Value};

/// The sites' context path: a product base URL is `<origin>/wiki`.
pub const SITE_PATH: &str = "/wiki";
/// Where Forge's API gateway serves Confluence: `<origin>/ex/confluence/<cloudId>/wiki/…`.
pub const FORGE_API_PATH: &str = "/ex/confluence/";
/// The app key the fake expects as `iss` of app JWTs unless told otherwise.
pub const DEFAULT_APP_KEY: &str = "smart-courses";
/// The first space id handed out (Confluence ids are large integers).
const FIRST_SPACE_ID: u64 = 65537;
/// Clock skew allowed on incoming JWTs.
const LEEWAY_SECS: u64 = 30;
/// The longest assertion lifetime accepted (clients use 60 s).
const MAX_ASSERTION_LIFETIME_SECS: u64 = 300;
const ASSERTION_ISS_PREFIX: &str = "urn:atlassian:connect:clientid:";
const ASSERTION_SUB_PREFIX: &str = "urn:atlassian:connect:useraccountid:";
const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Largest request body read.
const MAX_BODY: usize = 1 << 20;
/// The system page limit of every list unless a test sets its own: small,
/// so paging is exercised by clients that ask for Confluence's 200.
pub const DEFAULT_PAGE_LIMIT: usize = 25;
/// The first group id handed out is `…0001`, the next `…0002`, … (UUIDs
/// like Confluence's).
const GROUP_ID_PREFIX: &str = "7f3c9a10-0000-4000-8000-";
/// The account of [`FakeConfluence::grant_everyone`].
const EVERYONE: &str = "*";

/// A Confluence user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct User {
    pub account_id: String,
    pub display_name: String,
    /// Shared with the app only (the `ACCESS_EMAIL_ADDRESSES` scope).
    pub email: Option<String>,
}

impl User {
    /// A user without an e-mail address.
    pub fn new(account_id: &str, display_name: &str) -> Self {
        Self {
            account_id: account_id.into(),
            display_name: display_name.into(),
            email: None,
        }
    }

    /// The same user with an e-mail address.
    pub fn with_email(mut self, email: &str) -> Self {
        self.email = Some(email.into());
        self
    }
}

/// One request as the fake received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: String,
}

/// One permission check as the fake answered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenCheck {
    pub client_key: Option<String>,
    pub account_id: String,
    pub content_id: String,
    pub operation: String,
}

/// A canned answer for a path of a test's own (e.g. a redirect).
#[derive(Clone, Debug)]
pub struct Stub {
    pub status: StatusCode,
    pub headers: Vec<(header::HeaderName, String)>,
    pub body: Value,
}

impl Stub {
    /// `status` with a JSON body.
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status: StatusCode::from_u16(status).expect("a status code"),
            headers: Vec::new(),
            body,
        }
    }

    /// A `302 Found` to `location`.
    pub fn redirect(location: &str) -> Self {
        Self {
            status: StatusCode::FOUND,
            headers: vec![(header::LOCATION, location.to_owned())],
            body: Value::Null,
        }
    }
}

#[derive(Clone, Debug)]
struct Site {
    secret: String,
    oauth_client_id: String,
}

#[derive(Clone, Debug)]
struct Page {
    space_key: String,
    title: String,
    version: u32,
}

#[derive(Clone, Debug)]
struct Space {
    id: u64,
    name: String,
    admins: BTreeSet<String>,
}

#[derive(Clone, Debug)]
struct IssuedToken {
    account_id: String,
    until: Instant,
}

/// A Forge OAuth token: whom it acts as, on which cloud id.
#[derive(Clone, Debug)]
struct ForgeGrant {
    cloud_id: String,
    caller: Caller,
}

#[derive(Debug, Default)]
struct Table {
    forge_tokens: HashMap<String, ForgeGrant>,
    sites: HashMap<String, Site>,
    users: BTreeMap<String, User>,
    /// (account id, content id, operation) → allowed.
    grants: HashMap<(String, String, String), bool>,
    pages: HashMap<String, Page>,
    spaces: BTreeMap<String, Space>,
    groups: BTreeMap<String, BTreeSet<String>>,
    /// Group name → id.
    group_ids: BTreeMap<String, String>,
    page_limit: Option<usize>,
    emails_refused: bool,
    stubs: HashMap<(Method, String), Stub>,
    tokens: HashMap<String, IssuedToken>,
    issued: Vec<String>,
    token_lifetime: Option<Duration>,
    outage: bool,
    /// Accounts the personal-data reporting API answers `closed` / `updated` for.
    closed_accounts: BTreeSet<String>,
    updated_accounts: BTreeSet<String>,
    /// Requests still answered before the outage switch turns itself on.
    outage_in: Option<usize>,
    session_header: bool,
    log: Vec<SeenRequest>,
    checks: Vec<SeenCheck>,
    refused: usize,
    user_lookups: usize,
}

#[derive(Debug)]
struct Inner {
    origin: String,
    app_key: String,
    table: Mutex<Table>,
}

/// The fake. Cheap to clone (shared); see the module documentation.
#[derive(Clone, Debug)]
pub struct FakeConfluence {
    inner: Arc<Inner>,
}

/// Who is calling, as Confluence establishes it.
#[derive(Clone, Debug)]
enum Caller {
    /// The app itself (an app JWT of this site).
    App { client_key: String },
    /// A user (an access token, or the simulator's browser session).
    User { account_id: String },
}

impl FakeConfluence {
    /// A fake whose routes will be served at `origin` (the simulator mounts
    /// [`FakeConfluence::router`] into its own server).
    pub fn at(origin: &str, app_key: &str) -> Self {
        Self {
            inner: Arc::new(Inner {
                origin: origin.trim_end_matches('/').to_owned(),
                app_key: app_key.to_owned(),
                table: Mutex::new(Table::default()),
            }),
        }
    }

    /// A fake on `127.0.0.1:0` expecting app JWTs from [`DEFAULT_APP_KEY`].
    pub async fn start() -> Self {
        Self::start_for(DEFAULT_APP_KEY).await
    }

    /// A fake on `127.0.0.1:0` expecting app JWTs from `app_key`.
    pub async fn start_for(app_key: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake Confluence");
        let origin = format!("http://{}", listener.local_addr().expect("bound"));
        let fake = Self::at(&origin, app_key);
        let router = fake.router();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        fake
    }

    /// Every route of the fake (the product API and the token endpoint).
    pub fn router(&self) -> Router {
        Router::new().fallback(handle).with_state(self.clone())
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        self.inner.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ---- where it is -------------------------------------------------------

    /// `http://127.0.0.1:<port>` (or the origin given to [`FakeConfluence::at`]).
    pub fn origin(&self) -> &str {
        &self.inner.origin
    }

    /// The product base URL a site installs with (`<origin>/wiki`).
    pub fn base_url(&self) -> String {
        format!("{}{SITE_PATH}", self.inner.origin)
    }

    /// What a Forge Invocation Token's `app.apiBaseUrl` starts with when it
    /// points here (the app's `FORGE_API_BASE_URL` in tests).
    pub fn forge_api_prefix(&self) -> String {
        format!("{}{FORGE_API_PATH}", self.inner.origin)
    }

    /// `app.apiBaseUrl` of `cloud_id` on this fake.
    pub fn forge_api_base_url(&self, cloud_id: &str) -> String {
        format!("{}{cloud_id}", self.forge_api_prefix())
    }

    /// A Forge system token (`x-forge-oauth-system`): acts as the app of
    /// the site `client_key`, on `cloud_id` only.
    pub fn issue_forge_system_token(&self, client_key: &str, cloud_id: &str) -> String {
        self.issue_forge_token(
            cloud_id,
            Caller::App {
                client_key: client_key.into(),
            },
        )
    }

    /// A Forge user token (`x-forge-oauth-user`): acts as `account_id`, on
    /// `cloud_id` only.
    pub fn issue_forge_user_token(&self, account_id: &str, cloud_id: &str) -> String {
        self.issue_forge_token(
            cloud_id,
            Caller::User {
                account_id: account_id.into(),
            },
        )
    }

    fn issue_forge_token(&self, cloud_id: &str, caller: Caller) -> String {
        let mut bytes = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let token = format!("forge-{token}");
        self.table().forge_tokens.insert(
            token.clone(),
            ForgeGrant {
                cloud_id: cloud_id.into(),
                caller,
            },
        );
        token
    }

    /// The ACT_AS_USER token endpoint.
    pub fn token_url(&self) -> String {
        format!("{}/oauth2/token", self.inner.origin)
    }

    // ---- the tables ----------------------------------------------------------

    /// A site the app is installed on: its shared secret (to verify app
    /// JWTs and assertions) and OAuth client id (`oauth-<client_key>`, as
    /// [`crate::tokens::install_body`] sends).
    pub fn add_site(&self, client_key: &str, secret: &str) {
        self.add_site_with_oauth(
            client_key,
            secret,
            &crate::tokens::oauth_client_id(client_key),
        );
    }

    /// [`FakeConfluence::add_site`] with an OAuth client id of its own.
    pub fn add_site_with_oauth(&self, client_key: &str, secret: &str, oauth_client_id: &str) {
        self.table().sites.insert(
            client_key.into(),
            Site {
                secret: secret.into(),
                oauth_client_id: oauth_client_id.into(),
            },
        );
    }

    /// A user Confluence knows (name, optional e-mail).
    pub fn add_user(&self, account_id: &str, display_name: &str) {
        self.add_user_with(User {
            account_id: account_id.into(),
            display_name: display_name.into(),
            email: None,
        });
    }

    /// A user with every field given.
    pub fn add_user_with(&self, user: User) {
        self.table().users.insert(user.account_id.clone(), user);
    }

    /// A page in a space (known pages answer permission checks; others 404).
    pub fn add_page(&self, content_id: &str, space_key: &str, title: &str) {
        self.ensure_space(space_key);
        self.table().pages.insert(
            content_id.into(),
            Page {
                space_key: space_key.into(),
                title: title.into(),
                version: 1,
            },
        );
    }

    /// Sets the answer for (account, page, `read`/`update`/…). The page
    /// becomes known (in space `DEV` unless [`FakeConfluence::add_page`]
    /// said otherwise).
    pub fn grant(&self, account: &str, content_id: &str, operation: &str, allowed: bool) {
        let known = self.table().pages.contains_key(content_id);
        if !known {
            self.add_page(
                content_id,
                crate::tokens::SPACE_KEY,
                &format!("Page {content_id}"),
            );
        }
        self.table().grants.insert(
            (account.into(), content_id.into(), operation.into()),
            allowed,
        );
    }

    /// Sets the answer for (anyone, page, operation): what every user not
    /// granted or refused on their own gets (benchmarks with thousands of
    /// learners).
    pub fn grant_everyone(&self, content_id: &str, operation: &str, allowed: bool) {
        self.grant(EVERYONE, content_id, operation, allowed);
    }

    /// `account` may view and edit the page.
    pub fn allow_edit(&self, account: &str, content_id: &str) {
        self.grant(account, content_id, "read", true);
        self.grant(account, content_id, "update", true);
    }

    /// `account` may view the page but not edit it.
    pub fn allow_read_only(&self, account: &str, content_id: &str) {
        self.grant(account, content_id, "read", true);
        self.grant(account, content_id, "update", false);
    }

    fn ensure_space(&self, space_key: &str) -> u64 {
        let mut t = self.table();
        let next = FIRST_SPACE_ID + t.spaces.len() as u64;
        t.spaces
            .entry(space_key.into())
            .or_insert_with(|| Space {
                id: next,
                name: format!("{space_key} space"),
                admins: BTreeSet::new(),
            })
            .id
    }

    /// Names a space (it is created if new).
    pub fn name_space(&self, space_key: &str, name: &str) {
        self.ensure_space(space_key);
        if let Some(s) = self.table().spaces.get_mut(space_key) {
            s.name = name.into();
        }
    }

    /// `account` administers the space `space_key` (created if new; the
    /// first space gets id 65537, the next 65538, …).
    pub fn make_space_admin(&self, account: &str, space_key: &str) {
        self.ensure_space(space_key);
        if let Some(s) = self.table().spaces.get_mut(space_key) {
            s.admins.insert(account.into());
        }
    }

    /// The id of a space (created if new).
    pub fn space_id(&self, space_key: &str) -> u64 {
        self.ensure_space(space_key)
    }

    /// `account` is a member of `group` (created if new).
    pub fn add_to_group(&self, group: &str, account: &str) {
        self.add_group(group);
        if let Some(g) = self.table().groups.get_mut(group) {
            g.insert(account.into());
        }
    }

    /// A group (without members unless it has some already); its id is
    /// handed out now.
    pub fn add_group(&self, group: &str) {
        let mut t = self.table();
        let next = t.group_ids.len() + 1;
        t.group_ids
            .entry(group.into())
            .or_insert_with(|| format!("{GROUP_ID_PREFIX}{next:012}"));
        t.groups.entry(group.into()).or_default();
    }

    /// The id of `group`, if it exists.
    pub fn group_id(&self, group: &str) -> Option<String> {
        self.table().group_ids.get(group).cloned()
    }

    /// Deletes `group` (its id then answers 404).
    pub fn remove_group(&self, group: &str) {
        let mut t = self.table();
        t.groups.remove(group);
        t.group_ids.remove(group);
    }

    /// `account` leaves `group`.
    pub fn remove_from_group(&self, group: &str, account: &str) {
        if let Some(g) = self.table().groups.get_mut(group) {
            g.remove(account);
        }
    }

    /// Answers `method path` (path under the origin, e.g. `/wiki/x`) with `stub`.
    pub fn stub(&self, method: Method, path: &str, stub: Stub) {
        self.table().stubs.insert((method, path.into()), stub);
    }

    /// Lifetime of the access tokens issued from now on (900 s by default,
    /// as Atlassian's).
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.table().token_lifetime = Some(lifetime);
    }

    /// The system page limit of every list from now on (at least 1; see
    /// the module documentation).
    pub fn set_page_limit(&self, limit: usize) {
        self.table().page_limit = Some(limit.max(1));
    }

    /// The app is not approved for the e-mail API (or approved again): the
    /// e-mail resources answer 400, as Confluence does.
    pub fn refuse_emails(&self, refused: bool) {
        self.table().emails_refused = refused;
    }

    /// Confluence is down: 503 to everything (or back up).
    pub fn set_outage(&self, down: bool) {
        let mut t = self.table();
        t.outage = down;
        t.outage_in = None;
    }

    /// Confluence answers the next `requests` requests, then goes down
    /// (an outage in the middle of a paged walk).
    pub fn set_outage_after(&self, requests: usize) {
        self.table().outage_in = Some(requests);
    }

    /// Accept the simulator host page's `X-Sim-User` session header (only
    /// the simulator turns this on; its host page is the only origin that
    /// can send a custom header without a CORS preflight being refused).
    pub fn accept_session_header(&self) {
        self.table().session_header = true;
    }

    /// The personal-data reporting API answers `closed` for `account_id`
    /// (its owner closed their Atlassian account).
    pub fn close_account(&self, account_id: &str) {
        self.table().closed_accounts.insert(account_id.into());
    }

    /// The personal-data reporting API answers `updated` for `account_id`.
    pub fn mark_account_updated(&self, account_id: &str) {
        self.table().updated_accounts.insert(account_id.into());
    }

    // ---- what happened ------------------------------------------------------

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.table().log.clone()
    }

    /// Every permission check answered so far.
    pub fn checks(&self) -> Vec<SeenCheck> {
        self.table().checks.clone()
    }

    /// Requests refused because their credentials did not verify.
    pub fn refused(&self) -> usize {
        self.table().refused
    }

    /// User lookups (`/rest/api/user`) answered.
    pub fn user_lookups(&self) -> usize {
        self.table().user_lookups
    }

    /// Requests to the token endpoint.
    pub fn token_requests(&self) -> usize {
        self.table()
            .log
            .iter()
            .filter(|r| r.path == "/oauth2/token")
            .count()
    }

    /// The access tokens issued so far, oldest first.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.table().issued.clone()
    }

    /// Forgets the request log, checks and counters (not the tables).
    pub fn clear_log(&self) {
        let mut t = self.table();
        t.log.clear();
        t.checks.clear();
        t.refused = 0;
        t.user_lookups = 0;
    }

    // ---- authentication -------------------------------------------------------

    fn authenticate(
        &self,
        method: &str,
        path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
    ) -> Result<Caller, String> {
        if let Some(value) = headers.get(header::AUTHORIZATION) {
            let value = value
                .to_str()
                .map_err(|_| "unreadable Authorization".to_owned())?;
            if let Some(token) = value.strip_prefix("JWT ") {
                return self.verify_app_jwt(token.trim(), method, path, query);
            }
            if let Some(token) = value.strip_prefix("Bearer ") {
                let t = self.table();
                return match t.tokens.get(token.trim()) {
                    Some(issued) if Instant::now() < issued.until => Ok(Caller::User {
                        account_id: issued.account_id.clone(),
                    }),
                    _ => Err("unknown or expired access token".into()),
                };
            }
            return Err("unsupported Authorization scheme".into());
        }
        let t = self.table();
        if t.session_header {
            if let Some(account) = headers.get("x-sim-user").and_then(|v| v.to_str().ok()) {
                if t.users.contains_key(account) {
                    return Ok(Caller::User {
                        account_id: account.to_owned(),
                    });
                }
            }
        }
        Err("no credentials".into())
    }

    /// Forge's API gateway: a Forge token of this cloud id, nothing else.
    fn authenticate_forge(&self, cloud_id: &str, headers: &HeaderMap) -> Result<Caller, String> {
        let value = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| "no credentials".to_owned())?;
        let token = value
            .strip_prefix("Bearer ")
            .ok_or_else(|| "the gateway takes Bearer tokens only".to_owned())?;
        match self.table().forge_tokens.get(token.trim()) {
            Some(grant) if grant.cloud_id == cloud_id => Ok(grant.caller.clone()),
            Some(_) => Err("a Forge token of another cloud".into()),
            None => Err("unknown Forge token".into()),
        }
    }

    fn verify_app_jwt(
        &self,
        token: &str,
        method: &str,
        path: &str,
        query: Option<&str>,
    ) -> Result<Caller, String> {
        #[derive(Deserialize)]
        struct Claims {
            iss: String,
            #[serde(default)]
            qsh: Option<String>,
        }
        let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
        if header.alg != Algorithm::HS256 {
            return Err("app JWT: not HS256".into());
        }
        let unverified: Value =
            jsonwebtoken::dangerous::insecure_decode_claims(token).map_err(|e| e.to_string())?;
        let client_key = match &unverified["aud"] {
            Value::Array(a) => a.first().and_then(Value::as_str).map(str::to_owned),
            Value::String(s) => Some(s.clone()),
            _ => None,
        }
        .ok_or("app JWT: no aud")?;
        let secret = self
            .table()
            .sites
            .get(&client_key)
            .map(|s| s.secret.clone())
            .ok_or("app JWT: unknown site")?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECS;
        validation.set_audience(&[client_key.as_str()]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
        let claims = decode::<Claims>(
            token,
            &DecodingKey::from_secret(secret.as_bytes()).map_err(|e| e.to_string())?,
            &validation,
        )
        .map_err(|e| format!("app JWT: {e}"))?
        .claims;
        if claims.iss != self.inner.app_key {
            return Err("app JWT: iss is not the app key".into());
        }
        let expected = qsh::qsh(method, path, query, SITE_PATH);
        if claims.qsh.as_deref() != Some(expected.as_str()) {
            return Err("app JWT: qsh does not match the request".into());
        }
        Ok(Caller::App { client_key })
    }

    /// `POST /oauth2/token`: verifies the JWT-bearer assertion (RFC 7523)
    /// and issues an access token for its user.
    fn grant_token(&self, body: &str) -> Response {
        let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect();
        if form.get("grant_type").map(String::as_str) != Some(JWT_BEARER_GRANT) {
            return oauth_error("unsupported_grant_type");
        }
        if let Some(scope) = form.get("scope") {
            let ok = scope
                .split(' ')
                .all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'));
            if !ok {
                return oauth_error("invalid_scope");
            }
        }
        let Some(assertion) = form.get("assertion") else {
            return oauth_error("invalid_request");
        };
        let account = match self.verify_assertion(assertion) {
            Ok(a) => a,
            Err(reason) => {
                tracing::debug!(%reason, "fake Confluence: JWT-bearer grant refused");
                return oauth_error("invalid_grant");
            }
        };
        let mut bytes = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut t = self.table();
        let lifetime = t.token_lifetime.unwrap_or(Duration::from_secs(900));
        t.tokens.insert(
            token.clone(),
            IssuedToken {
                account_id: account,
                until: Instant::now() + lifetime,
            },
        );
        t.issued.push(token.clone());
        Json(json!({
            "access_token": token,
            "expires_in": lifetime.as_secs(),
            "token_type": "Bearer",
        }))
        .into_response()
    }

    fn verify_assertion(&self, assertion: &str) -> Result<String, String> {
        #[derive(Deserialize)]
        struct Claims {
            iss: String,
            sub: String,
            #[serde(default)]
            tnt: Option<String>,
            iat: u64,
            exp: u64,
        }
        let unverified: Value = jsonwebtoken::dangerous::insecure_decode_claims(assertion)
            .map_err(|e| e.to_string())?;
        let client_id = unverified["iss"]
            .as_str()
            .and_then(|i| i.strip_prefix(ASSERTION_ISS_PREFIX))
            .ok_or("assertion: iss is not an OAuth client URN")?;
        let secret = self
            .table()
            .sites
            .values()
            .find(|s| s.oauth_client_id == client_id)
            .map(|s| s.secret.clone())
            .ok_or("assertion: unknown OAuth client")?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECS;
        validation.set_audience(&[self.inner.origin.as_str()]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "sub", "aud"]);
        let claims = decode::<Claims>(
            assertion,
            &DecodingKey::from_secret(secret.as_bytes()).map_err(|e| e.to_string())?,
            &validation,
        )
        .map_err(|e| format!("assertion: {e}"))?
        .claims;
        debug_assert!(claims.iss.ends_with(client_id));
        if claims.tnt.as_deref().map(|t| t.trim_end_matches('/')) != Some(self.base_url().as_str())
        {
            return Err("assertion: tnt is not this site".into());
        }
        if claims.exp.saturating_sub(claims.iat) > MAX_ASSERTION_LIFETIME_SECS {
            return Err("assertion: lifetime too long".into());
        }
        let account = claims
            .sub
            .strip_prefix(ASSERTION_SUB_PREFIX)
            .ok_or("assertion: sub is not a user account URN")?;
        Ok(account.to_owned())
    }

    // ---- the product API -----------------------------------------------------

    fn product(
        &self,
        caller: &Caller,
        method: &Method,
        rest: &str,
        query: Option<&str>,
        body: &str,
    ) -> Response {
        let segments: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
        match (method, segments.as_slice()) {
            (&Method::POST, ["rest", "api", "content", id, "permission", "check"]) => {
                self.permission_check(caller, id, body)
            }
            (&Method::GET, ["rest", "api", "content", id]) => self.content(caller, id),
            (&Method::GET, ["api", "v2", "spaces"]) => self.spaces(query),
            (&Method::GET, ["api", "v2", "spaces", id, "operations"]) => {
                self.operations(caller, id)
            }
            (&Method::GET, ["rest", "api", "user"]) => self.user(caller, param(query, "accountId")),
            (&Method::GET, ["rest", "api", "user", "current"]) => match caller {
                Caller::User { account_id } => self.user(caller, Some(account_id.clone())),
                Caller::App { .. } => match param(query, "accountId") {
                    Some(a) => self.user(caller, Some(a)),
                    None => error(
                        StatusCode::BAD_REQUEST,
                        "accountId is required when calling as the app",
                    ),
                },
            },
            (&Method::GET, ["rest", "api", "user", "email"]) => {
                self.email(caller, param(query, "accountId"))
            }
            (&Method::GET, ["rest", "api", "user", "email", "bulk"]) => {
                self.emails_bulk(caller, query)
            }
            (&Method::GET, ["rest", "api", "search", "user"]) => self.search_users(query),
            (&Method::GET, ["rest", "api", "group", "picker"]) => self.group_picker(query),
            (&Method::GET, ["rest", "api", "group", "member"]) => match param(query, "name") {
                Some(name) => self.group_members_by_name(&name, query),
                None => error(StatusCode::BAD_REQUEST, "name is required"),
            },
            (&Method::GET, ["rest", "api", "group", id, "membersByGroupId"]) => {
                self.group_members_by_id(id, query)
            }
            (&Method::GET, ["rest", "api", "group", name, "member"]) => {
                let name = percent_decode(name);
                self.group_members_by_name(&name, query)
            }
            (&Method::POST, ["rest", "atlassian-connect", "latest", "report-accounts"]) => {
                self.report_accounts(caller, body)
            }
            _ => error(StatusCode::NOT_FOUND, "No such resource"),
        }
    }

    /// The personal-data reporting API (Connect): the app only, 1 to 90
    /// accounts each with an `accountId` and an `updatedAt`.
    fn report_accounts(&self, caller: &Caller, body: &str) -> Response {
        if !matches!(caller, Caller::App { .. }) {
            return error(StatusCode::FORBIDDEN, "Only the app may report accounts");
        }
        let Ok(body) = serde_json::from_str::<Value>(body) else {
            return error(StatusCode::BAD_REQUEST, "Malformed body");
        };
        let Some(accounts) = body.get("accounts").and_then(Value::as_array) else {
            return error(StatusCode::BAD_REQUEST, "accounts is required");
        };
        if accounts.is_empty() || accounts.len() > 90 {
            return error(StatusCode::BAD_REQUEST, "1 to 90 accounts per request");
        }
        let t = self.table();
        let mut answer = Vec::new();
        for a in accounts {
            let (Some(id), Some(_)) = (
                a.get("accountId").and_then(Value::as_str),
                a.get("updatedAt").and_then(Value::as_str),
            ) else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "accountId and updatedAt are required",
                );
            };
            if t.closed_accounts.contains(id) {
                answer.push(json!({"accountId": id, "status": "closed"}));
            } else if t.updated_accounts.contains(id) {
                answer.push(json!({"accountId": id, "status": "updated"}));
            }
        }
        if answer.is_empty() {
            return StatusCode::NO_CONTENT.into_response();
        }
        Json(json!({"accounts": answer})).into_response()
    }

    fn permission_check(&self, caller: &Caller, content_id: &str, body: &str) -> Response {
        let Ok(req) = serde_json::from_str::<Value>(body) else {
            return error(
                StatusCode::BAD_REQUEST,
                "subject and operation are required",
            );
        };
        let (Some(kind), Some(account), Some(operation)) = (
            req["subject"]["type"].as_str(),
            req["subject"]["identifier"].as_str(),
            req["operation"].as_str(),
        ) else {
            return error(
                StatusCode::BAD_REQUEST,
                "subject and operation are required",
            );
        };
        if kind != "user" {
            return error(
                StatusCode::BAD_REQUEST,
                "the fake checks user subjects only",
            );
        }
        let mut t = self.table();
        t.checks.push(SeenCheck {
            client_key: match caller {
                Caller::App { client_key } => Some(client_key.clone()),
                Caller::User { .. } => None,
            },
            account_id: account.into(),
            content_id: content_id.into(),
            operation: operation.into(),
        });
        if !t.pages.contains_key(content_id) {
            return error(StatusCode::NOT_FOUND, "No content with this id");
        }
        let allowed = Self::granted(&t, account, content_id, operation);
        Json(json!({"hasPermission": allowed, "errors": []})).into_response()
    }

    /// The table's answer for (account, page, operation): the user's own
    /// entry, else everyone's, else no.
    fn granted(t: &Table, account: &str, content_id: &str, operation: &str) -> bool {
        let key = |a: &str| (a.to_owned(), content_id.to_owned(), operation.to_owned());
        t.grants
            .get(&key(account))
            .or_else(|| t.grants.get(&key(EVERYONE)))
            .copied()
            .unwrap_or(false)
    }

    fn may_view(t: &Table, caller: &Caller, content_id: &str) -> bool {
        match caller {
            Caller::App { .. } => true,
            Caller::User { account_id } => Self::granted(t, account_id, content_id, "read"),
        }
    }

    fn content(&self, caller: &Caller, content_id: &str) -> Response {
        let t = self.table();
        match t.pages.get(content_id) {
            Some(p) if Self::may_view(&t, caller, content_id) => Json(json!({
                "id": content_id,
                "type": "page",
                "status": "current",
                "title": p.title,
                "space": {"key": p.space_key},
                "version": {"number": p.version},
                "_links": {"webui": format!("/spaces/{}/pages/{content_id}", p.space_key)},
            }))
            .into_response(),
            _ => error(StatusCode::NOT_FOUND, "No content with this id"),
        }
    }

    fn spaces(&self, query: Option<&str>) -> Response {
        let keys: Vec<String> = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .filter(|(k, _)| k == "keys")
            .flat_map(|(_, v)| v.split(',').map(str::to_owned).collect::<Vec<_>>())
            .collect();
        let t = self.table();
        let results: Vec<Value> = t
            .spaces
            .iter()
            .filter(|(k, _)| keys.is_empty() || keys.contains(k))
            .map(|(k, s)| json!({"id": s.id.to_string(), "key": k, "name": s.name, "type": "global", "status": "current"}))
            .collect();
        Json(json!({"results": results, "_links": {}})).into_response()
    }

    fn operations(&self, caller: &Caller, space_id: &str) -> Response {
        let t = self.table();
        let Some((key, space)) = t.spaces.iter().find(|(_, s)| s.id.to_string() == space_id) else {
            return error(StatusCode::NOT_FOUND, "No space with this id");
        };
        let op =
            |operation: &str, target: &str| json!({"operation": operation, "targetType": target});
        let mut ops = vec![op("read", "space")];
        match caller {
            Caller::App { .. } => ops.push(op("create", "page")),
            Caller::User { account_id } => {
                let edits_here = t.grants.iter().any(|((a, page, o), allowed)| {
                    *allowed
                        && a == account_id
                        && o == "update"
                        && t.pages.get(page).is_some_and(|p| &p.space_key == key)
                });
                if edits_here {
                    ops.push(op("create", "page"));
                }
                if space.admins.contains(account_id) {
                    ops.push(op("administer", "space"));
                }
            }
        }
        Json(json!({"operations": ops})).into_response()
    }

    fn user(&self, caller: &Caller, account: Option<String>) -> Response {
        let Some(account) = account else {
            return error(StatusCode::BAD_REQUEST, "accountId is required");
        };
        let mut t = self.table();
        t.user_lookups += 1;
        match t.users.get(&account) {
            Some(u) => Json(user_json(u, matches!(caller, Caller::App { .. }))).into_response(),
            None => error(StatusCode::NOT_FOUND, "No user with this accountId"),
        }
    }

    /// `start` and the effective `limit` of a list request: the client's
    /// `limit`, capped by the system page limit.
    fn paging(&self, query: Option<&str>) -> (usize, usize) {
        let cap = self.table().page_limit.unwrap_or(DEFAULT_PAGE_LIMIT);
        let start = param(query, "start")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let limit = param(query, "limit")
            .and_then(|s| s.parse().ok())
            .unwrap_or(cap)
            .clamp(1, cap);
        (start, limit)
    }

    /// One page of `items` as Confluence lists them; `next` is the path of
    /// the next page's request without its paging parameters.
    fn page(&self, items: Vec<Value>, start: usize, limit: usize, next: &str) -> Value {
        let total = items.len();
        let results: Vec<Value> = items.into_iter().skip(start).take(limit).collect();
        let mut links = json!({"base": self.base_url(), "context": SITE_PATH});
        if start + results.len() < total {
            let sep = if next.contains('?') { '&' } else { '?' };
            links["next"] = json!(format!(
                "{next}{sep}start={}&limit={limit}",
                start + results.len()
            ));
        }
        json!({
            "results": results,
            "start": start,
            "limit": limit,
            "size": results.len(),
            "_links": links,
        })
    }

    fn members_json(t: &Table, members: &BTreeSet<String>) -> Vec<Value> {
        members
            .iter()
            .map(|a| match t.users.get(a) {
                Some(u) => user_json(u, false),
                None => json!({"type": "known", "accountId": a, "accountType": "atlassian"}),
            })
            .collect()
    }

    fn group_members_by_name(&self, group: &str, query: Option<&str>) -> Response {
        let (start, limit) = self.paging(query);
        let items = {
            let t = self.table();
            let Some(members) = t.groups.get(group) else {
                return error(StatusCode::NOT_FOUND, "No group with this name");
            };
            Self::members_json(&t, members)
        };
        let encoded: String = url::form_urlencoded::byte_serialize(group.as_bytes()).collect();
        Json(self.page(
            items,
            start,
            limit,
            &format!("/rest/api/group/{encoded}/member"),
        ))
        .into_response()
    }

    fn group_members_by_id(&self, id: &str, query: Option<&str>) -> Response {
        let (start, limit) = self.paging(query);
        let items = {
            let t = self.table();
            let members = t
                .group_ids
                .iter()
                .find(|(_, gid)| gid.as_str() == id)
                .and_then(|(name, _)| t.groups.get(name));
            let Some(members) = members else {
                return error(StatusCode::NOT_FOUND, "No group with this id");
            };
            Self::members_json(&t, members)
        };
        Json(self.page(
            items,
            start,
            limit,
            &format!("/rest/api/group/{id}/membersByGroupId"),
        ))
        .into_response()
    }

    /// `GET /rest/api/group/picker`: groups whose name contains `query`
    /// (case-insensitively), by name.
    fn group_picker(&self, query: Option<&str>) -> Response {
        let Some(q) = param(query, "query") else {
            return error(StatusCode::BAD_REQUEST, "query is required");
        };
        let (start, limit) = self.paging(query);
        let needle = q.to_lowercase();
        let items: Vec<Value> = {
            let t = self.table();
            t.group_ids
                .iter()
                .filter(|(name, _)| name.to_lowercase().contains(&needle))
                .map(|(name, id)| json!({"type": "group", "name": name, "id": id}))
                .collect()
        };
        let encoded: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
        Json(self.page(
            items,
            start,
            limit,
            &format!("/rest/api/group/picker?query={encoded}"),
        ))
        .into_response()
    }

    /// `GET /rest/api/search/user`: users whose display name contains the
    /// text of `user.fullname~"…"` (case-insensitively). Any other CQL is a
    /// 400, as Confluence answers CQL it cannot parse. Profiles are private
    /// here: results carry no e-mail address (the app asks the e-mail
    /// resources for those).
    fn search_users(&self, query: Option<&str>) -> Response {
        let Some(cql) = param(query, "cql") else {
            return error(StatusCode::BAD_REQUEST, "cql is required");
        };
        let text = match parse_fullname_cql(&cql) {
            Ok(t) => t.to_lowercase(),
            Err(why) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    &format!("Could not parse cql: {why}"),
                )
            }
        };
        let (start, limit) = self.paging(query);
        let items: Vec<Value> = {
            let t = self.table();
            t.users
                .values()
                .filter(|u| u.display_name.to_lowercase().contains(&text))
                .map(|u| {
                    json!({
                        "user": user_json(u, false),
                        "title": u.display_name,
                        "excerpt": "",
                        "url": format!("/people/{}", u.account_id),
                        "entityType": "user",
                    })
                })
                .collect()
        };
        let encoded: String = url::form_urlencoded::byte_serialize(cql.as_bytes()).collect();
        let mut page = self.page(
            items,
            start,
            limit,
            &format!("/rest/api/search/user?cql={encoded}"),
        );
        page["cqlQuery"] = json!(cql);
        Json(page).into_response()
    }

    /// Whether an e-mail resource may answer `caller`: the app only, and
    /// only while it is "approved".
    fn email_refusal(&self, caller: &Caller) -> Option<Response> {
        if matches!(caller, Caller::User { .. }) {
            return Some(error(
                StatusCode::FORBIDDEN,
                "E-mail addresses are only given to the app itself",
            ));
        }
        self.table().emails_refused.then(|| {
            error(
                StatusCode::BAD_REQUEST,
                "The calling app is not approved to use this API",
            )
        })
    }

    /// `GET /rest/api/user/email`: `{accountId, email}`; a user without an
    /// address gets no `email`.
    fn email(&self, caller: &Caller, account: Option<String>) -> Response {
        if let Some(refused) = self.email_refusal(caller) {
            return refused;
        }
        let Some(account) = account else {
            return error(StatusCode::BAD_REQUEST, "accountId is required");
        };
        let t = self.table();
        match t.users.get(&account) {
            Some(u) => {
                let mut v = json!({"accountId": u.account_id});
                if let Some(e) = &u.email {
                    v["email"] = json!(e);
                }
                Json(v).into_response()
            }
            None => error(StatusCode::NOT_FOUND, "No user with this accountId"),
        }
    }

    /// `GET /rest/api/user/email/bulk`: `[{accountId, email}]` for the
    /// accounts that have an address ("Any accounts which are not available
    /// will not be included in the result"). `accountId` may be one
    /// comma-separated value (the documented form) or repeated.
    fn emails_bulk(&self, caller: &Caller, query: Option<&str>) -> Response {
        if let Some(refused) = self.email_refusal(caller) {
            return refused;
        }
        let accounts: Vec<String> = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .filter(|(k, _)| k == "accountId")
            .flat_map(|(_, v)| {
                v.split(',')
                    .filter(|a| !a.is_empty())
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect();
        if accounts.is_empty() {
            return error(StatusCode::BAD_REQUEST, "accountId is required");
        }
        let t = self.table();
        let records: Vec<Value> = accounts
            .iter()
            .filter_map(|a| t.users.get(a))
            .filter_map(|u| {
                u.email
                    .as_ref()
                    .map(|e| json!({"accountId": u.account_id, "email": e}))
            })
            .collect();
        Json(records).into_response()
    }
}

/// The text of a CQL user search `user.fullname ~ "…"` (spaces around `~`
/// allowed; inside the quotes `\"` and `\\` are the only escapes), or why
/// the fake cannot read it. Strict on purpose: a client that forgets to
/// escape a quote in a name gets a 400 instead of a search for something else.
fn parse_fullname_cql(cql: &str) -> Result<String, &'static str> {
    let rest = cql
        .trim()
        .strip_prefix("user.fullname")
        .ok_or("only user.fullname searches are supported")?
        .trim_start()
        .strip_prefix('~')
        .ok_or("expected ~")?
        .trim_start()
        .strip_prefix('"')
        .ok_or("expected a quoted string")?;
    let mut text = String::new();
    let mut chars = rest.chars();
    loop {
        match chars.next() {
            None => return Err("unterminated string"),
            Some('\\') => match chars.next() {
                Some(c @ ('"' | '\\')) => text.push(c),
                _ => return Err("bad escape"),
            },
            Some('"') => break,
            Some(c) => text.push(c),
        }
    }
    if !chars.as_str().trim().is_empty() {
        return Err("unexpected text after the search string");
    }
    Ok(text)
}

/// A path segment's text (lossy, like the product's servlet container).
fn percent_decode(segment: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", segment.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A user as Confluence's REST API shows it. The e-mail address only goes
/// to the app itself (the `ACCESS_EMAIL_ADDRESSES` scope); acting as a user
/// or through `AP.request` gives no private personal data.
fn user_json(u: &User, with_email: bool) -> Value {
    let mut v = json!({
        "type": "known",
        "accountId": u.account_id,
        "accountType": "atlassian",
        "displayName": u.display_name,
        "publicName": u.display_name,
    });
    if with_email {
        if let Some(e) = &u.email {
            v["email"] = json!(e);
        }
    }
    v
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"statusCode": status.as_u16(), "message": message})),
    )
        .into_response()
}

/// RFC 6749 §5.2: 400 with `error`.
fn oauth_error(code: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": code}))).into_response()
}

async fn handle(State(fake): State<FakeConfluence>, req: Request<Body>) -> Response {
    let (parts, body) = req.into_parts();
    let body = match to_bytes(body, MAX_BODY).await {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(_) => return error(StatusCode::PAYLOAD_TOO_LARGE, "Request too large"),
    };
    let header_text = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().map(str::to_owned);
    let stub = {
        let mut t = fake.table();
        t.log.push(SeenRequest {
            method: parts.method.to_string(),
            path: path.clone(),
            query: query.clone(),
            authorization: header_text(header::AUTHORIZATION),
            content_type: header_text(header::CONTENT_TYPE),
            body: body.clone(),
        });
        match t.outage_in {
            Some(0) => {
                t.outage = true;
                t.outage_in = None;
            }
            Some(left) => t.outage_in = Some(left - 1),
            None => {}
        }
        if t.outage {
            return error(StatusCode::SERVICE_UNAVAILABLE, "Confluence is unavailable");
        }
        t.stubs.get(&(parts.method.clone(), path.clone())).cloned()
    };
    if parts.method == Method::POST && path == "/oauth2/token" {
        return fake.grant_token(&body);
    }
    // Forge's API gateway: `/ex/confluence/<cloudId>/wiki/…`.
    let forge = path.strip_prefix(FORGE_API_PATH).and_then(|rest| {
        let (cloud, after) = rest.split_once('/')?;
        let after = after.strip_prefix("wiki")?;
        (!cloud.is_empty() && after.starts_with('/')).then(|| (cloud.to_owned(), after.to_owned()))
    });
    let authenticated = match &forge {
        Some((cloud, _)) => fake.authenticate_forge(cloud, &parts.headers),
        None => fake.authenticate(
            parts.method.as_str(),
            &path,
            query.as_deref(),
            &parts.headers,
        ),
    };
    let caller = match authenticated {
        Ok(c) => c,
        Err(reason) => {
            tracing::debug!(%reason, %path, "fake Confluence: call refused");
            fake.table().refused += 1;
            return error(StatusCode::UNAUTHORIZED, "Unauthorized");
        }
    };
    if let Some(stub) = stub {
        let mut resp = (stub.status, Json(stub.body)).into_response();
        for (name, value) in stub.headers {
            if let Ok(v) = header::HeaderValue::from_str(&value) {
                resp.headers_mut().insert(name, v);
            }
        }
        return resp;
    }
    let rest = match &forge {
        Some((_, rest)) => rest.as_str(),
        None => match path.strip_prefix(SITE_PATH) {
            Some(rest) => rest,
            None => return error(StatusCode::NOT_FOUND, "No such resource"),
        },
    };
    fake.product(&caller, &parts.method, rest, query.as_deref(), &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};

    const SITE: &str = "site-a";
    const SECRET: &str = "site-a-shared-secret-0123456789";

    fn app_jwt(method: &str, relative: &str, query: Option<&str>) -> String {
        let now = jsonwebtoken::get_current_timestamp();
        encode(
            &Header::new(Algorithm::HS256),
            &json!({"iss": DEFAULT_APP_KEY, "aud": [SITE], "iat": now, "exp": now + 60,
                    "qsh": qsh::qsh(method, relative, query, "")}),
            &EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
        )
        .unwrap()
    }

    fn assertion(fake: &FakeConfluence, account: &str) -> String {
        let now = jsonwebtoken::get_current_timestamp();
        encode(
            &Header::new(Algorithm::HS256),
            &json!({"iss": format!("{ASSERTION_ISS_PREFIX}oauth-{SITE}"),
                    "sub": format!("{ASSERTION_SUB_PREFIX}{account}"),
                    "tnt": fake.base_url(), "aud": fake.origin(), "iat": now, "exp": now + 60}),
            &EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn permission_checks_need_an_app_jwt_for_this_request_and_follow_the_table() {
        let fake = FakeConfluence::start().await;
        fake.add_site(SITE, SECRET);
        fake.allow_read_only("u1", "100");
        let http = reqwest::Client::new();
        let check = |token: Option<String>, page: &str| {
            let mut req = http
                .post(format!("{}/rest/api/content/{page}/permission/check", fake.base_url()))
                .json(&json!({"subject": {"type": "user", "identifier": "u1"}, "operation": "update"}));
            if let Some(t) = token {
                req = req.header("Authorization", format!("JWT {t}"));
            }
            req.send()
        };
        let ok = check(
            Some(app_jwt(
                "POST",
                "/rest/api/content/100/permission/check",
                None,
            )),
            "100",
        )
        .await
        .unwrap();
        assert_eq!(ok.status(), 200);
        assert_eq!(ok.json::<Value>().await.unwrap()["hasPermission"], false);
        let wrong_qsh = check(
            Some(app_jwt(
                "POST",
                "/rest/api/content/999/permission/check",
                None,
            )),
            "100",
        )
        .await
        .unwrap();
        assert_eq!(wrong_qsh.status(), 401);
        assert_eq!(check(None, "100").await.unwrap().status(), 401);
        let unknown = check(
            Some(app_jwt(
                "POST",
                "/rest/api/content/7/permission/check",
                None,
            )),
            "7",
        )
        .await
        .unwrap();
        assert_eq!(unknown.status(), 404);
        assert_eq!(fake.refused(), 2);
        assert_eq!(fake.checks().len(), 2);
        assert_eq!(fake.requests().len(), 4);
    }

    #[tokio::test]
    async fn the_token_endpoint_checks_the_assertion_and_its_tokens_act_as_the_user() {
        let fake = FakeConfluence::start().await;
        fake.add_site(SITE, SECRET);
        fake.add_user_with(User {
            account_id: "u1".into(),
            display_name: "Una".into(),
            email: Some("una@example.com".into()),
        });
        fake.make_space_admin("u1", "DEV");
        let http = reqwest::Client::new();
        let grant = |assertion: String| {
            http.post(fake.token_url())
                .form(&[
                    ("grant_type", JWT_BEARER_GRANT),
                    ("assertion", &assertion),
                    ("scope", "READ ACT_AS_USER"),
                ])
                .send()
        };
        let resp: Value = grant(assertion(&fake, "u1"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = resp["access_token"].as_str().unwrap().to_owned();
        assert_eq!(fake.issued_tokens(), vec![token.clone()]);
        let forged = grant(assertion(&fake, "u1").replace('.', ".x"))
            .await
            .unwrap();
        assert_eq!(forged.status(), 400);
        let me: Value = http
            .get(format!("{}/rest/api/user/current", fake.base_url()))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["displayName"], "Una");
        assert!(
            me.get("email").is_none(),
            "no e-mail when acting as the user"
        );
        let ops: Value = http
            .get(format!(
                "{}/api/v2/spaces/65537/operations",
                fake.base_url()
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(ops["operations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["operation"] == "administer"));
        fake.set_outage(true);
        let down = http
            .get(format!("{}/rest/api/user/current", fake.base_url()))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(down.status(), 503);
    }

    #[tokio::test]
    async fn the_forge_gateway_takes_its_own_tokens_for_their_cloud_only() {
        let fake = FakeConfluence::start().await;
        fake.add_site(SITE, SECRET);
        fake.add_user("u1", "Una");
        fake.add_page("98305", "DEV", "Welcome");
        fake.allow_read_only("u1", "98305");
        let system = fake.issue_forge_system_token(SITE, "cloud-a");
        let user = fake.issue_forge_user_token("u1", "cloud-a");
        let http = reqwest::Client::new();
        let at = |base: &str, path: &str, token: &str| {
            http.get(format!("{base}{path}"))
                .header("Authorization", token.to_owned())
                .send()
        };
        let gateway = format!("{}/wiki", fake.forge_api_base_url("cloud-a"));
        // The user token acts as the user; the system token as the app.
        let me: Value = at(
            &gateway,
            "/rest/api/user/current",
            &format!("Bearer {user}"),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assert_eq!(me["displayName"], "Una");
        let page = at(
            &gateway,
            "/rest/api/content/98305",
            &format!("Bearer {system}"),
        )
        .await
        .unwrap();
        assert_eq!(page.status(), 200);
        // Another cloud's gateway, the site's own path, or an app JWT at
        // the gateway: 401.
        let other = format!("{}/wiki", fake.forge_api_base_url("cloud-b"));
        let refused = [
            (other.clone(), format!("Bearer {system}")),
            (fake.base_url(), format!("Bearer {system}")),
            (
                gateway.clone(),
                format!("JWT {}", app_jwt("GET", "/rest/api/content/98305", None)),
            ),
        ];
        for (base, auth) in refused {
            let resp = at(&base, "/rest/api/content/98305", &auth).await.unwrap();
            assert_eq!(resp.status(), 401, "{base} {}", &auth[..4]);
        }
        assert_eq!(fake.refused(), 3);
    }

    #[test]
    fn user_search_cql_is_read_strictly() {
        assert_eq!(parse_fullname_cql(r#"user.fullname~"Ada""#).unwrap(), "Ada");
        assert_eq!(
            parse_fullname_cql(r#" user.fullname ~ "Dara \"DJ\" O\\K" "#).unwrap(),
            r#"Dara "DJ" O\K"#
        );
        for bad in [
            r#"user.fullname~"x" OR user.fullname~"a""#,
            r#"user.fullname~"unterminated"#,
            r#"user.fullname~"bad \n escape""#,
            r#"user.accountid="x""#,
            "user.fullname~Ada",
        ] {
            assert!(parse_fullname_cql(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn group_members_are_paged() {
        let fake = FakeConfluence::start().await;
        fake.add_site(SITE, SECRET);
        for i in 0..5 {
            fake.add_user(&format!("u{i}"), &format!("User {i}"));
            fake.add_to_group("staff", &format!("u{i}"));
        }
        let http = reqwest::Client::new();
        let page: Value = http
            .get(format!(
                "{}/rest/api/group/staff/member?start=2&limit=2",
                fake.base_url()
            ))
            .header(
                "Authorization",
                format!(
                    "JWT {}",
                    app_jwt(
                        "GET",
                        "/rest/api/group/staff/member",
                        Some("start=2&limit=2")
                    )
                ),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ids: Vec<&str> = page["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["accountId"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["u2", "u3"]);
        assert_eq!(
            page["_links"]["next"],
            "/rest/api/group/staff/member?start=4&limit=2"
        );
    }
}
