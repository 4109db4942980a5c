//! Descriptor, health, static assets, and what a production build does not serve.

use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn descriptor_is_json_with_the_configured_base_url_and_six_scopes() {
    let app = spawn_app().await;
    let resp = app
        .http
        .get(app.url("/atlassian-connect.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["baseUrl"], BASE_URL);
    assert_eq!(v["authentication"]["type"], "jwt");
    assert_eq!(v["apiMigrations"]["signed-install"], true);
    assert_eq!(v["apiMigrations"]["context-qsh"], true);
    let mut scopes: Vec<String> = v["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().into())
        .collect();
    scopes.sort();
    assert_eq!(
        scopes,
        [
            "ACCESS_EMAIL_ADDRESSES",
            "ACT_AS_USER",
            "DELETE",
            "READ",
            "SPACE_ADMIN",
            "WRITE"
        ]
    );
    for ev in ["installed", "uninstalled", "enabled", "disabled"] {
        assert_eq!(v["lifecycle"][ev], format!("/{ev}"));
    }
    let mac = &v["modules"]["dynamicContentMacros"][0];
    assert!(mac["editor"]["url"]
        .as_str()
        .unwrap()
        .starts_with("/macro/editor"));
    assert!(v["modules"]["spaceToolsTabs"][0]["url"]
        .as_str()
        .unwrap()
        .starts_with("/space/admin"));
}

#[tokio::test]
async fn health_says_alive_and_ready_says_whether_the_database_answers() {
    let app = spawn_app().await;
    let health = app.http.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.json::<Value>().await.unwrap()["status"], "ok");
    let ready = app.http.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 200);

    // The database goes away: not ready, but still alive.
    app.state.db.close().await;
    let ready = app.http.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let health = app.http.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn every_response_carries_a_fresh_request_id_never_the_callers() {
    let app = spawn_app().await;
    let get = || async {
        app.http
            .get(app.url("/health"))
            .header("x-request-id", "chosen-by-the-caller")
            .send()
            .await
            .unwrap()
            .headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned()
    };
    let (a, b) = (get().await, get().await);
    assert_ne!(a, "chosen-by-the-caller");
    assert_ne!(a, b);
    assert!(uuid::Uuid::parse_str(&a).is_ok(), "{a}");
}

#[tokio::test]
async fn metrics_count_requests_per_route_and_auth_failures_by_reason() {
    // Arrange: an unauthenticated server-function call and a page load.
    let app = spawn_app().await;
    let refused = app.call_fn("whoami", None, &[]).await;
    assert_eq!(refused.status(), 401);
    app.http.get(app.url("/health")).send().await.unwrap();
    // Names and methods a caller made up are counted, not used as labels.
    app.http
        .post(app.url("/api/no-such-fn-chosen-by-caller"))
        .send()
        .await
        .unwrap();
    app.http
        .request(
            reqwest::Method::from_bytes(b"BREWCALLERMETHOD").unwrap(),
            app.url("/health"),
        )
        .send()
        .await
        .unwrap();

    // Act
    let resp = app.http.get(app.url("/metrics")).send().await.unwrap();

    // Assert
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = resp.text().await.unwrap();
    for needle in [
        "http_requests_total{route=\"/api/whoami\",method=\"POST\",status=\"401\"}",
        "http_requests_total{route=\"/health\",method=\"GET\",status=\"200\"}",
        "auth_failures_total{reason=\"missing\"}",
        "http_request_duration_seconds_bucket{route=\"/health\"",
        "db_pool_connections{state=\"open\"}",
        "http_requests_total{route=\"/api/(unknown)\",method=\"POST\"",
        "http_requests_total{route=\"/health\",method=\"OTHER\"",
    ] {
        assert!(text.contains(needle), "{needle} missing in:\n{text}");
    }
    // Labels are route templates and function names, never ids or queries.
    assert!(!text.contains("jwt="), "{text}");
    assert!(!text.contains("chosen-by-caller"), "{text}");
    assert!(!text.contains("BREWCALLERMETHOD"), "{text}");
}

#[tokio::test]
async fn hashed_assets_are_served_compressed_with_long_cache_lifetimes() {
    let app = spawn_app().await;
    let resp = app
        .http
        .get(app.url("/pkg/style-test.css"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    assert!(resp.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    let plain = app
        .http
        .get(app.url("/pkg/style-test.css"))
        .send()
        .await
        .unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    assert!(plain.text().await.unwrap().starts_with("body{color:red}"));
}

#[tokio::test]
async fn unknown_routes_and_methods_are_refused() {
    let app = spawn_app().await;
    assert_eq!(
        app.http
            .get(app.url("/nope"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        app.http
            .get(app.url("/installed"))
            .send()
            .await
            .unwrap()
            .status(),
        405
    );
    assert_eq!(
        app.http
            .get(app.url("/api/whoami"))
            .send()
            .await
            .unwrap()
            .status(),
        405
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = spawn_app().await;
    let big = "x".repeat(server::MAX_BODY_BYTES + 10);
    let resp = app
        .http
        .post(app.url("/installed"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    // Refused before anything is read: unauthenticated (401) or too large (413).
    assert!(
        matches!(resp.status().as_u16(), 401 | 413),
        "{}",
        resp.status()
    );
}

/// The app serves none of the simulator's routes and points its pages at
/// Atlassian's AP library: in a release build always, and in a simulator
/// (`dev-host`) build too unless the simulator runs and prepares it — the
/// feature only adds the simulator.
#[tokio::test]
async fn simulator_routes_exist_only_when_the_simulator_runs() {
    let app = spawn_app().await;
    for path in [
        "/atlassian-connect/all.js",
        "/sim/config",
        "/sim/state",
        "/keys/dev-host-install-key-1",
    ] {
        assert_eq!(
            app.http.get(app.url(path)).send().await.unwrap().status(),
            404,
            "{path}"
        );
    }
    let settings = &app.state.settings;
    assert_eq!(
        settings.ap_script_url,
        "https://connect-cdn.atl-paas.net/all.js"
    );
    assert!(settings.extra_frame_ancestors.is_empty());
}

/// RFC 9116: public (no token), plain text, a contact, and an `Expires`
/// in the future but at most a year ahead (computed per request, so it
/// never goes stale). The policy it points to is served too.
#[tokio::test]
async fn security_txt_is_public_with_a_contact_and_a_fresh_expiry() {
    use std::time::{Duration, SystemTime};
    use time::{format_description::well_known::Rfc3339, OffsetDateTime};

    // RFC 3339 in UTC with whole seconds: string order is time order.
    let stamp = |t: SystemTime| {
        OffsetDateTime::from(t)
            .replace_nanosecond(0)
            .unwrap()
            .format(&Rfc3339)
            .unwrap()
    };
    let app = spawn_app().await;
    let before = SystemTime::now();
    let resp = app
        .http
        .get(app.url("/.well-known/security.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "text/plain; charset=utf-8"
    );
    let text = resp.text().await.unwrap();
    let field = |name: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
            .map(str::to_owned)
            .collect()
    };
    let contact = field("Contact");
    assert_eq!(contact.len(), 1, "{text}");
    assert!(contact[0].starts_with("mailto:"), "{text}");
    let expires = field("Expires");
    assert_eq!(expires.len(), 1, "exactly one Expires: {text}");
    let expires = &expires[0];
    assert!(expires.len() == 20 && expires.ends_with('Z'), "{expires}");
    assert!(
        *expires > stamp(before),
        "Expires {expires} is not in the future"
    );
    let a_year = stamp(SystemTime::now() + Duration::from_secs(365 * 24 * 60 * 60));
    assert!(
        *expires <= a_year,
        "Expires {expires} is more than a year ahead"
    );
    assert_eq!(
        field("Canonical"),
        [format!("{BASE_URL}/.well-known/security.txt")]
    );
    let policy = field("Policy");
    assert_eq!(policy, [format!("{BASE_URL}/security-policy")]);

    let policy = app
        .http
        .get(app.url("/security-policy"))
        .send()
        .await
        .unwrap();
    assert_eq!(policy.status(), 200);
    let policy = policy.text().await.unwrap();
    assert!(policy.starts_with("# Security policy"), "{policy}");
    assert!(policy.contains(contact[0].trim_start_matches("mailto:")));
}
