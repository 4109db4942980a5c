//! `connect::directory` (the space admin's people and groups) against the
//! test kit's fake Confluence on a real socket, with a trust core whose one
//! site is installed at the fake (`testkit::tenants`).
//!
//! Run with `cargo test -p testkit --test directory`.

use std::collections::BTreeSet;

use connect::{
    directory::{self, DirectoryError, DirectoryUser},
    ConnectState, TenantKey,
};
use reqwest::Method;
use serde_json::json;
use testkit::{tenants::connect_state_at, FakeConfluence, SeenRequest, Stub, User};

const SITE: &str = "directory-test-site";
const SECRET: &str = "directory-test-shared-secret-0123456789";

struct Setup {
    fake: FakeConfluence,
    state: ConnectState,
    tenant: TenantKey,
}

async fn setup() -> Setup {
    let fake = FakeConfluence::start().await;
    let (state, tenant) = connect_state_at(&fake, SITE, SECRET).await;
    Setup {
        fake,
        state,
        tenant,
    }
}

/// The requests the fake received for `path` (under `/wiki`).
fn requests_to(fake: &FakeConfluence, path: &str) -> Vec<SeenRequest> {
    let full = format!("/wiki{path}");
    fake.requests()
        .into_iter()
        .filter(|r| r.path == full)
        .collect()
}

fn ids(users: &[DirectoryUser]) -> BTreeSet<&str> {
    users.iter().map(|u| u.account_id.as_str()).collect()
}

#[tokio::test]
async fn search_finds_people_by_part_of_their_name_in_any_case_with_addresses_only_where_shared() {
    // Arrange
    let s = setup().await;
    s.fake
        .add_user_with(User::new("acc-ada", "Ada Lovelace").with_email("ada@example.com"));
    s.fake.add_user("acc-adam", "Adam Smith");
    s.fake
        .add_user_with(User::new("acc-grace", "Grace Hopper").with_email("grace@example.com"));

    // Act
    let found = directory::search_users(&s.state, &s.tenant, "  aDA ", 10)
        .await
        .unwrap();

    // Assert
    let by_id = |id: &str| found.iter().find(|u| u.account_id == id).unwrap();
    assert_eq!(ids(&found), BTreeSet::from(["acc-ada", "acc-adam"]));
    assert_eq!(by_id("acc-ada").display_name, "Ada Lovelace");
    assert_eq!(by_id("acc-ada").email.as_deref(), Some("ada@example.com"));
    assert_eq!(by_id("acc-adam").email, None, "Adam has no shared address");
    let search = requests_to(&s.fake, "/rest/api/search/user");
    assert_eq!(search.len(), 1);
    let cql = url::form_urlencoded::parse(search[0].query.as_deref().unwrap().as_bytes())
        .find(|(k, _)| k == "cql")
        .unwrap()
        .1
        .into_owned();
    assert_eq!(cql, r#"user.fullname~"aDA""#, "trimmed, quoted");
}

#[tokio::test]
async fn search_returns_at_most_the_limit() {
    let s = setup().await;
    for i in 0..8 {
        s.fake.add_user(&format!("acc-{i}"), &format!("Sam {i}"));
    }
    let found = directory::search_users(&s.state, &s.tenant, "sam", 3)
        .await
        .unwrap();
    assert_eq!(found.len(), 3);
}

#[tokio::test]
async fn a_quote_in_the_query_stays_inside_the_cql_string() {
    // Arrange: a name with quotes, and many people an injected
    // `OR user.fullname~"a"` would return.
    let s = setup().await;
    s.fake.add_user("acc-dara", r#"Dara "DJ" Okafor"#);
    s.fake.add_user("acc-ada", "Ada Lovelace");
    s.fake.add_user("acc-sam", "Sam Carter");
    s.fake.add_user("acc-back", r"Back\slash Person");

    // Act
    let quoted = directory::search_users(&s.state, &s.tenant, r#""DJ""#, 10).await;
    let injected =
        directory::search_users(&s.state, &s.tenant, r#"x" OR user.fullname~"a"#, 10).await;
    let trailing_backslash = directory::search_users(&s.state, &s.tenant, r"back\", 10).await;

    // Assert: the fake answers 400 to CQL it cannot parse, so an unescaped
    // quote would be an error here (or, parsed loosely, everyone).
    assert_eq!(ids(&quoted.unwrap()), BTreeSet::from(["acc-dara"]));
    assert_eq!(injected.unwrap(), Vec::new(), "no one is named like that");
    assert_eq!(
        ids(&trailing_backslash.unwrap()),
        BTreeSet::from(["acc-back"])
    );
}

#[tokio::test]
async fn bad_search_text_is_refused_before_asking_confluence() {
    let s = setup().await;
    for bad in ["", "   ", &"x".repeat(101), "a\u{0}b"] {
        let got = directory::search_users(&s.state, &s.tenant, bad, 10).await;
        assert!(
            matches!(got, Err(DirectoryError::Invalid(_))),
            "{bad:?}: {got:?}"
        );
        let got = directory::search_groups(&s.state, &s.tenant, bad, 10).await;
        assert!(
            matches!(got, Err(DirectoryError::Invalid(_))),
            "{bad:?}: {got:?}"
        );
    }
    assert!(
        directory::search_users(&s.state, &s.tenant, &"x".repeat(100), 10)
            .await
            .is_ok()
    );
    assert_eq!(s.fake.requests().len(), 1, "only the valid search was sent");
}

#[tokio::test]
async fn group_search_finds_names_by_part_in_any_case() {
    let s = setup().await;
    for g in ["new-starters", "New-Managers", "engineering"] {
        s.fake.add_group(g);
    }
    let found = directory::search_groups(&s.state, &s.tenant, "NEW", 10)
        .await
        .unwrap();
    assert_eq!(
        found.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        BTreeSet::from(["new-starters", "New-Managers"])
    );
    let one = directory::search_groups(&s.state, &s.tenant, "new", 1)
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
}

#[tokio::test]
async fn group_members_are_collected_across_every_page() {
    // Arrange: 10 members, 3 to a page; another group's people stay out.
    let s = setup().await;
    s.fake.set_page_limit(3);
    for i in 0..10 {
        s.fake
            .add_user(&format!("acc-{i:02}"), &format!("Starter {i}"));
        s.fake.add_to_group("new-starters", &format!("acc-{i:02}"));
    }
    s.fake.add_user("acc-eng", "Engineer");
    s.fake.add_to_group("engineering", "acc-eng");
    // Another group whose name contains this one's: found by exact name.
    s.fake.add_to_group("new-starters-2024", "acc-eng");

    // Act
    let members = directory::group_members(&s.state, &s.tenant, "new-starters")
        .await
        .unwrap();

    // Assert
    let expected: BTreeSet<String> = (0..10).map(|i| format!("acc-{i:02}")).collect();
    assert_eq!(
        ids(&members),
        expected.iter().map(String::as_str).collect::<BTreeSet<_>>()
    );
    assert_eq!(members.len(), 10, "nobody twice");
    let id = s.fake.group_id("new-starters").unwrap();
    let pages = requests_to(&s.fake, &format!("/rest/api/group/{id}/membersByGroupId"));
    assert_eq!(pages.len(), 4, "pages of 3, 3, 3 and 1");
    assert!(members.iter().any(|m| m.display_name == "Starter 7"));
}

#[tokio::test]
async fn an_unknown_group_is_an_error_but_an_empty_group_is_empty() {
    let s = setup().await;
    s.fake.add_group("empty-group");
    s.fake.add_to_group("gone-soon", "acc-1");
    s.fake.remove_group("gone-soon");

    assert_eq!(
        directory::group_members(&s.state, &s.tenant, "no-such-group").await,
        Err(DirectoryError::NoSuchGroup)
    );
    assert_eq!(
        directory::group_members(&s.state, &s.tenant, "gone-soon").await,
        Err(DirectoryError::NoSuchGroup)
    );
    assert_eq!(
        directory::group_members(&s.state, &s.tenant, "empty-group").await,
        Ok(Vec::new())
    );
    assert!(matches!(
        directory::group_members(&s.state, &s.tenant, " ").await,
        Err(DirectoryError::Invalid(_))
    ));
}

#[tokio::test]
async fn member_pages_that_do_not_advance_are_an_error_not_a_loop() {
    // Arrange: Confluence keeps answering the same page with a "next".
    let s = setup().await;
    s.fake.add_to_group("stuck", "acc-1");
    let id = s.fake.group_id("stuck").unwrap();
    s.fake.stub(
        Method::GET,
        &format!("/wiki/rest/api/group/{id}/membersByGroupId"),
        Stub::json(
            200,
            json!({"results": [{"type": "known", "accountId": "acc-1", "displayName": "One"}],
                   "start": 0, "limit": 200, "size": 1,
                   "_links": {"next": format!("/rest/api/group/{id}/membersByGroupId?start=1")}}),
        ),
    );

    // Act
    let got = directory::group_members(&s.state, &s.tenant, "stuck").await;

    // Assert
    assert_eq!(got, Err(DirectoryError::BadAnswer));
    let pages = requests_to(&s.fake, &format!("/rest/api/group/{id}/membersByGroupId"));
    assert_eq!(
        pages.len(),
        2,
        "stopped at the first page that added no one"
    );
}

#[tokio::test]
async fn emails_for_many_accounts_are_asked_in_bulk_as_the_app_and_cached() {
    // Arrange: 150 people, every other one with a shared address.
    let s = setup().await;
    let mut accounts = Vec::new();
    for i in 0..150 {
        let id = format!("557058:person-{i:03}");
        let user = User::new(&id, &format!("Person {i}"));
        s.fake.add_user_with(if i % 2 == 0 {
            user.with_email(&format!("person{i}@example.com"))
        } else {
            user
        });
        accounts.push(id);
    }
    accounts.push("557058:not-a-user".into());
    accounts.push(accounts[0].clone());

    // Act
    let found = directory::emails(&s.state, &s.tenant, &accounts)
        .await
        .unwrap();

    // Assert
    assert_eq!(found.len(), 75);
    assert_eq!(
        found.get("557058:person-004").map(String::as_str),
        Some("person4@example.com")
    );
    assert!(!found.contains_key("557058:person-005"));
    assert!(!found.contains_key("557058:not-a-user"));
    let bulk = requests_to(&s.fake, "/rest/api/user/email/bulk");
    assert!(
        (2..=8).contains(&bulk.len()),
        "in chunks, not one request per person: {}",
        bulk.len()
    );
    assert!(requests_to(&s.fake, "/rest/api/user/email").is_empty());
    for r in &bulk {
        let auth = r.authorization.as_deref().unwrap_or("");
        assert!(auth.starts_with("JWT "), "as the app: {auth:.10}");
    }

    // Asked again (also for those without an address): from memory.
    let again = directory::emails(&s.state, &s.tenant, &accounts)
        .await
        .unwrap();
    assert_eq!(again, found);
    assert_eq!(
        requests_to(&s.fake, "/rest/api/user/email/bulk").len(),
        bulk.len()
    );
}

#[tokio::test]
async fn email_addresses_are_only_given_to_the_app() {
    // The fake's side of the contract `emails` relies on: acting as a user
    // (ACT_AS_USER) gets no addresses.
    let s = setup().await;
    s.fake
        .add_user_with(User::new("acc-ada", "Ada").with_email("ada@example.com"));
    let client = connect::host_client::HostClient::for_tenant(&s.state, &s.tenant)
        .await
        .unwrap();
    let as_user = client
        .send(
            connect::host_client::Principal::user("acc-ada"),
            Method::GET,
            "/rest/api/user/email/bulk?accountId=acc-ada",
            None,
        )
        .await
        .unwrap();
    assert_eq!(as_user.status(), 403);
    let as_app: serde_json::Value = client
        .get_json(
            connect::host_client::Principal::App,
            "/rest/api/user/email?accountId=acc-ada",
        )
        .await
        .unwrap();
    assert_eq!(as_app["email"], "ada@example.com");
}

#[tokio::test]
async fn without_email_access_search_still_works_and_emails_says_why() {
    let s = setup().await;
    s.fake
        .add_user_with(User::new("acc-ada", "Ada Lovelace").with_email("ada@example.com"));
    s.fake.refuse_emails(true);

    let found = directory::search_users(&s.state, &s.tenant, "ada", 10)
        .await
        .unwrap();
    assert_eq!(ids(&found), BTreeSet::from(["acc-ada"]));
    assert_eq!(found[0].email, None);
    assert_eq!(
        directory::emails(&s.state, &s.tenant, &["acc-ada".to_owned()]).await,
        Err(DirectoryError::EmailsNotShared)
    );
}

#[tokio::test]
async fn when_confluence_is_down_every_lookup_is_an_error() {
    // Arrange
    let s = setup().await;
    s.fake.add_to_group("new-starters", "acc-1");
    s.fake.set_outage(true);

    // Act + Assert: errors, never an empty answer (a sync would read an
    // empty membership as "remove everyone").
    assert_eq!(
        directory::group_members(&s.state, &s.tenant, "new-starters").await,
        Err(DirectoryError::Unreachable)
    );
    assert_eq!(
        directory::search_users(&s.state, &s.tenant, "ada", 10).await,
        Err(DirectoryError::Unreachable)
    );
    assert_eq!(
        directory::search_groups(&s.state, &s.tenant, "new", 10).await,
        Err(DirectoryError::Unreachable)
    );
    assert_eq!(
        directory::emails(&s.state, &s.tenant, &["acc-1".to_owned()]).await,
        Err(DirectoryError::Unreachable)
    );
}

#[tokio::test]
async fn an_outage_part_way_through_the_pages_is_an_error_not_a_shorter_list() {
    // Arrange: 5 members, 2 to a page; Confluence answers the picker and
    // the first page, then goes down.
    let s = setup().await;
    s.fake.set_page_limit(2);
    for i in 0..5 {
        s.fake.add_to_group("big", &format!("acc-{i}"));
    }
    s.fake.set_outage_after(2);

    // Act
    let got = directory::group_members(&s.state, &s.tenant, "big").await;

    // Assert
    assert_eq!(got, Err(DirectoryError::Unreachable));
    let id = s.fake.group_id("big").unwrap();
    assert_eq!(
        requests_to(&s.fake, &format!("/rest/api/group/{id}/membersByGroupId")).len(),
        2,
        "the first page was answered, the second was not"
    );
}
