//! The simulated Confluence site: who is on it and what each may do, as the
//! tables of the test kit's [`FakeConfluence`], which answers the product
//! REST calls the app makes back (permission checks, spaces, users, groups,
//! the ACT_AS_USER token endpoint) exactly as it does for the tests.
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
//! Beside them, people who are only in the directory (they never sign in to
//! the simulator), for the space admin's user search and group enrolments:
//! Mia and Omar (new starters), Eve and Noor (engineers; Noor shares no
//! e-mail address).
//!
//! Groups: `confluence-users` (everyone), `space-admins` (Sam),
//! `new-starters` (Leo, Rita, Mia, Omar), `engineering` (Ada, Sam, Eve, Noor).

use testkit::{FakeConfluence, User};

use super::sim::{SimUser, CLIENT_KEY, PAGE_ID, SPACE_KEY, USERS};

/// The OAuth client id the simulator sends on install (`oauthClientId`).
pub(super) const OAUTH_CLIENT_ID: &str = "dev-host-oauth-client";
const SPACE_NAME: &str = "Developer Space";
const PAGE_TITLE: &str = "Onboarding course";

/// The directory-only people: (account id, name, e-mail address).
const DIRECTORY: [(&str, &str, Option<&str>); 4] = [
    (
        "557058:mia-newstarter-0101",
        "Mia Newstarter",
        Some("mia.newstarter@example.com"),
    ),
    (
        "557058:omar-newstarter-0102",
        "Omar Newstarter",
        Some("omar.newstarter@example.com"),
    ),
    (
        "557058:eve-engineer-0103",
        "Eve Engineer",
        Some("eve.engineer@example.com"),
    ),
    ("557058:noor-engineer-0104", "Noor Engineer", None),
];

/// Groups to enrol: (name, members).
const GROUPS: [(&str, &[&str]); 2] = [
    (
        "new-starters",
        &[
            "557058:leo-learner-0002",
            "557058:rita-reader-0004",
            "557058:mia-newstarter-0101",
            "557058:omar-newstarter-0102",
        ],
    ),
    (
        "engineering",
        &[
            "557058:ada-author-0001",
            "557058:sam-spaceadmin-0003",
            "557058:eve-engineer-0103",
            "557058:noor-engineer-0104",
        ],
    ),
];

fn can_edit(u: &SimUser) -> bool {
    matches!(u.role, "author" | "space-admin")
}

fn is_space_admin(u: &SimUser) -> bool {
    u.role == "space-admin"
}

/// The simulated site's product API at `origin`, for the app `app_key`
/// whose install carries `shared_secret`. The host page's `AP.request`
/// calls it as the logged-in user (`X-Sim-User`).
pub(super) fn simulated_site(origin: &str, app_key: &str, shared_secret: &str) -> FakeConfluence {
    let fake = FakeConfluence::at(origin, app_key);
    fake.add_site_with_oauth(CLIENT_KEY, shared_secret, OAUTH_CLIENT_ID);
    fake.accept_session_header();
    fake.name_space(SPACE_KEY, SPACE_NAME);
    fake.add_page(PAGE_ID, SPACE_KEY, PAGE_TITLE);
    for u in &USERS {
        fake.add_user_with(User {
            account_id: u.account_id.into(),
            display_name: u.display_name.into(),
            email: Some(u.email.into()),
        });
        fake.grant(u.account_id, PAGE_ID, "read", true);
        fake.grant(u.account_id, PAGE_ID, "update", can_edit(u));
        fake.grant(u.account_id, PAGE_ID, "delete", can_edit(u));
        fake.add_to_group("confluence-users", u.account_id);
        if is_space_admin(u) {
            fake.make_space_admin(u.account_id, SPACE_KEY);
            fake.add_to_group("space-admins", u.account_id);
        }
    }
    for (account_id, name, email) in DIRECTORY {
        let user = User::new(account_id, name);
        fake.add_user_with(match email {
            Some(e) => user.with_email(e),
            None => user,
        });
        fake.add_to_group("confluence-users", account_id);
    }
    for (group, members) in GROUPS {
        for account_id in members {
            fake.add_to_group(group, account_id);
        }
    }
    fake
}

#[cfg(test)]
mod tests {
    use app::{api::guards::require, state::AppState};
    use clap::Parser;
    use connect::{
        authz,
        host_client::{HostClient, Principal},
        jwt::{verify_hs256, Expect},
        qsh, TenantInstall, Verified,
    };
    use reqwest::Method;
    use serde_json::{json, Value};

    use super::*;

    const SECRET: &str = "simulator-test-secret-0123456789abcdef";
    const APP_KEY: &str = "smart-courses";

    #[derive(Parser)]
    struct Only {
        #[command(flatten)]
        config: crate::Config,
    }

    /// The app's real client and authorization checks against the simulated
    /// site: they agree on every token and on the documented model.
    #[tokio::test]
    async fn the_apps_authorization_checks_agree_with_the_simulated_site() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let site = simulated_site(&origin, APP_KEY, SECRET);
        let router = site.router();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        let dir = std::env::temp_dir()
            .join("smart-courses-tests")
            .join(format!("sim-site-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("manifest.json"),
            r#"{"bundles":{"learner":"learner-test","editor":"editor-test","admin":"admin-test"},"stylesheet":"/pkg/style.css"}"#,
        )
        .unwrap();
        let db = format!("sqlite://{}/db.sqlite", dir.display());
        let site_root = dir.display().to_string();
        let token_url = site.token_url();
        let data_key = {
            use secrecy::ExposeSecret;
            store::secrets::Keyring::generate("test")
                .unwrap()
                .expose_secret()
                .to_owned()
        };
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
            "--data-key",
            &data_key,
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
                base_url: site.base_url(),
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
                let token = testkit::tokens::hs_token(
                    jsonwebtoken::Algorithm::HS256,
                    SECRET,
                    &json!({"iss": CLIENT_KEY, "sub": account_id, "iat": testkit::tokens::now(),
                            "exp": testkit::tokens::now() + 60, "qsh": qsh::CONTEXT_QSH}),
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
        let mut users: Vec<Verified> = Vec::new();
        for u in &USERS {
            users.push(as_user(u.account_id).await);
        }
        for (who, u) in users.iter().zip(USERS.iter()) {
            let name = u.display_name;
            let connect = &state.connect;
            assert_eq!(
                authz::can_view_page(connect, who, PAGE_ID).await,
                Ok(true),
                "{name} view"
            );
            assert_eq!(
                authz::can_edit_page(connect, who, PAGE_ID).await,
                Ok(can_edit(u)),
                "{name} edit"
            );
            assert_eq!(
                require(authz::is_space_admin(connect, who, SPACE_KEY).await).is_ok(),
                is_space_admin(u),
                "{name} admin"
            );
        }
        let leo = &users[1];
        let client = HostClient::for_tenant(&state.connect, &leo.tenant)
            .await
            .unwrap();
        let me: Value = client
            .get_json(
                Principal::user(USERS[1].account_id),
                "/rest/api/user/current",
            )
            .await
            .unwrap();
        assert_eq!(me["displayName"], "Leo Learner");
        let page = client
            .send(
                Principal::App,
                Method::GET,
                &format!("/rest/api/content/{PAGE_ID}"),
                None,
            )
            .await
            .unwrap();
        assert_eq!(page.json::<Value>().unwrap()["title"], PAGE_TITLE);
    }

    #[tokio::test]
    async fn the_host_pages_session_acts_as_the_user_without_private_data() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let site = simulated_site(&origin, APP_KEY, SECRET);
        let router = site.router();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        let http = reqwest::Client::new();
        let me = |user: &str| {
            http.get(format!("{}/rest/api/user/current", site.base_url()))
                .header("x-sim-user", user)
                .send()
        };
        let rita: Value = me("557058:rita-reader-0004")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(rita["displayName"], "Rita Reader");
        assert!(rita.get("email").is_none());
        assert_eq!(me("557058:nobody").await.unwrap().status(), 401);
        let admins: Value = http
            .get(format!(
                "{}/rest/api/group/space-admins/member",
                site.base_url()
            ))
            .header("x-sim-user", "557058:sam-spaceadmin-0003")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(admins["size"], 1);
    }
}
