//! The caches of one running server share one memory budget
//! (`cache::PROCESS_BUDGET_BYTES`, README "Measured": the 64 MiB RSS
//! target). Each cache is bounded by bytes; this test fails when the
//! budgets of all caches a server makes add up to more than the process
//! may give them — a cache added or grown without shrinking another.
//!
//! Its own test binary on purpose: the register of live caches is
//! process-wide, and the API tests run many servers in one process.
//!
//! Run with `cargo test -p server --test memory_budget`.

use clap::Parser;
use server::{Application, Config};

#[derive(Parser)]
struct Only {
    #[command(flatten)]
    config: Config,
}

#[tokio::test]
async fn the_caches_of_a_server_fit_in_the_process_budget() {
    let dir = std::env::temp_dir()
        .join("smart-courses-tests")
        .join(format!("memory-budget-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("manifest.json"),
        r#"{"bundles":{"learner":"learner-test","editor":"editor-test","admin":"admin-test"},"stylesheet":"/pkg/style.css"}"#,
    )
    .unwrap();
    let database_url = format!("sqlite://{}/db.sqlite", dir.display());
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
        "smart-courses-test",
        "--site-addr",
        "127.0.0.1:0",
        "--database-url",
        &database_url,
        "--site-root",
        &site_root,
        "--data-key",
        &data_key,
        "--behind-tls-proxy",
        // The Forge routes bring their own key caches: count them too.
        "--forge-app-id",
        "ari:cloud:ecosystem::app/00000000-0000-4000-8000-000000000000",
    ])
    .unwrap()
    .config;
    let before = cache::live_budgets();
    assert!(before.is_empty(), "no cache before the server: {before:?}");

    let app = Application::build(&config)
        .await
        .expect("the server builds");

    let caches = cache::live_budgets();
    let names: Vec<&str> = caches.iter().map(|(name, _)| *name).collect();
    // The register sees the server's caches (else the sum below means nothing).
    for expected in [
        "tenants",
        "authz",
        "names",
        "course-rows",
        "learner-records",
        "published-versions",
        "report-summaries",
        "analytics",
        "forge-keys",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} not registered: {names:?}"
        );
    }
    let total = cache::live_budget_bytes();
    // One line per name (the learner records are 64 shards).
    let mut by_name = std::collections::BTreeMap::<&str, u64>::new();
    for (name, bytes) in &caches {
        *by_name.entry(name).or_default() += bytes;
    }
    eprintln!(
        "{} caches, {total} bytes together: {by_name:?}",
        caches.len()
    );
    assert!(
        total <= cache::PROCESS_BUDGET_BYTES,
        "the caches may hold {} MiB together, the process budget is {} MiB: {by_name:?}",
        total >> 20,
        cache::PROCESS_BUDGET_BYTES >> 20,
    );
    drop(app);
    let _ = std::fs::remove_dir_all(&dir);
}
