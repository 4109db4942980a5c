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
async fn health_reports_ok_with_a_database_round_trip() {
    let app = spawn_app().await;
    let resp = app.http.get(app.url("/health")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["status"], "ok");
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

/// Built without the `dev-host` feature (what `cargo build --release` makes),
/// the app serves none of the simulator's routes; with it, it does.
#[tokio::test]
async fn simulator_routes_exist_only_with_the_dev_host_feature() {
    let app = spawn_app().await;
    let status = app
        .http
        .get(app.url("/atlassian-connect/all.js"))
        .send()
        .await
        .unwrap()
        .status();
    if cfg!(feature = "dev-host") {
        // The npm build of Atlassian's AP library (scripts/setup.sh installs it).
        assert_eq!(
            status, 200,
            "the simulator build serves the AP library copy"
        );
    } else {
        assert_eq!(
            status, 404,
            "a production build must not serve the simulator's AP copy"
        );
    }
    for path in ["/sim/config", "/sim/state", "/keys/dev-host-install-key-1"] {
        assert_eq!(
            app.http.get(app.url(path)).send().await.unwrap().status(),
            404,
            "{path}"
        );
    }
    let settings = &app.state.settings;
    if cfg!(feature = "dev-host") {
        assert_eq!(settings.ap_script_url, "/atlassian-connect/all.js");
    } else {
        assert_eq!(
            settings.ap_script_url,
            "https://connect-cdn.atl-paas.net/all.js"
        );
        assert!(settings.extra_frame_ancestors.is_empty());
    }
}
