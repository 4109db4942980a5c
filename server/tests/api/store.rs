//! The store layer, run against SQLite and PostgreSQL alike.

use connect::{StateChange, TenantInstall, TenantState};
use store::Db;

use crate::helpers::fresh_database_url;

async fn db() -> Db {
    let key = store::secrets::Keyring::generate("test").unwrap();
    let db = Db::connect(&fresh_database_url().await)
        .await
        .unwrap()
        .with_keyring(store::secrets::Keyring::new(&key, None).unwrap());
    db.migrate().await.unwrap();
    db
}

fn install(key: &str, secret: &str) -> TenantInstall {
    TenantInstall {
        client_key: key.into(),
        shared_secret: secret.to_owned().into(),
        base_url: format!("https://{key}.atlassian.net/wiki"),
        display_url: None,
        product_type: Some("confluence".into()),
        oauth_client_id: Some("oauth".into()),
        installation_id: None,
    }
}

#[tokio::test]
async fn migrations_are_idempotent_and_the_database_answers() {
    let db = db().await;
    db.migrate().await.expect("second migrate is a no-op");
    db.ping().await.unwrap();
    let expected = if crate::helpers::test_backend_is_postgres() {
        store::Backend::Postgres
    } else {
        store::Backend::Sqlite
    };
    assert_eq!(db.backend(), expected);
}

#[tokio::test]
async fn tenants_upsert_read_and_change_state() {
    use secrecy::ExposeSecret;
    let db = db().await;
    assert!(db.tenant("t1").await.unwrap().is_none());
    db.upsert_tenant(&install("t1", "s1")).await.unwrap();
    db.upsert_tenant(&install("t2", "s2")).await.unwrap();
    let t1 = db.tenant("t1").await.unwrap().unwrap();
    assert_eq!(t1.shared_secret.expose_secret(), "s1");
    assert_eq!(t1.state, TenantState::Installed);
    // Reinstall replaces the secret of that tenant only.
    db.upsert_tenant(&install("t1", "s1-new")).await.unwrap();
    assert_eq!(
        db.tenant("t1")
            .await
            .unwrap()
            .unwrap()
            .shared_secret
            .expose_secret(),
        "s1-new"
    );
    assert_eq!(
        db.tenant("t2")
            .await
            .unwrap()
            .unwrap()
            .shared_secret
            .expose_secret(),
        "s2"
    );
    assert_eq!(
        db.set_tenant_state("t1", TenantState::Uninstalled)
            .await
            .unwrap(),
        StateChange::Changed
    );
    assert_eq!(
        db.tenant("t1").await.unwrap().unwrap().state,
        TenantState::Uninstalled
    );
    assert_eq!(
        db.tenant("t2").await.unwrap().unwrap().state,
        TenantState::Installed
    );
    assert_eq!(
        db.set_tenant_state("nope", TenantState::Disabled)
            .await
            .unwrap(),
        StateChange::Missing
    );
    // A signed reinstall brings it back.
    db.upsert_tenant(&install("t1", "s1-again")).await.unwrap();
    assert!(db.tenant("t1").await.unwrap().unwrap().state.is_active());
}

#[tokio::test]
async fn a_bad_database_url_is_a_clear_error() {
    let err = Db::connect("mysql://x").await.unwrap_err();
    assert!(
        err.to_string().contains("sqlite:// or postgres://"),
        "{err}"
    );
}

#[tokio::test]
async fn sqlite_files_and_folders_are_created_on_first_start() {
    let dir = std::env::temp_dir()
        .join("smart-courses-tests")
        .join(format!("new-{}", uuid::Uuid::new_v4().simple()));
    let url = format!("sqlite://{}/nested/app.db", dir.display());
    let db = Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    assert!(dir.join("nested/app.db").exists());
}
