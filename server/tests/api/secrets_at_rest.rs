//! Secrets at rest: a tenant's shared secret is never in the database in
//! clear (a raw dump of every row on PostgreSQL, the database files
//! themselves on SQLite), the app still verifies the tenant's tokens, and
//! a key rotation re-encrypts every row.

use secrecy::ExposeSecret;
use store::secrets::Keyring;

use crate::helpers::*;

const SITE: &str = "site-secret";
/// Distinctive, so a dump cannot contain it by chance.
const SECRET: &str = "zq-shared-secret-7f3a9c1e5b2d8064";

/// Everything stored, as text: every row of every table (PostgreSQL) or the
/// database file and its write-ahead log (SQLite).
async fn dump(app: &TestApp) -> String {
    if test_backend_is_postgres() {
        let mut conn = app.db_connection().await;
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        assert!(tables.iter().any(|t| t == "tenants"), "{tables:?}");
        let mut out = String::new();
        for t in tables {
            let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT CAST(x AS TEXT) FROM \"{t}\" x"
            )))
            .fetch_all(&mut conn)
            .await
            .unwrap();
            out.push_str(&rows.join("\n"));
        }
        out
    } else {
        let path = app.database_url.trim_start_matches("sqlite://").to_owned();
        let path = path.split('?').next().unwrap().to_owned();
        let mut out = String::new();
        for file in [path.clone(), format!("{path}-wal")] {
            if let Ok(bytes) = std::fs::read(&file) {
                out.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
        assert!(out.len() > 4096, "the database file was read");
        out
    }
}

#[tokio::test]
async fn shared_secrets_are_encrypted_at_rest_and_still_verify_tokens() {
    // Arrange + Act: a site installs through the real signed /installed.
    let app = spawn_app().await;
    app.install(SITE, SECRET).await;

    // Assert
    let dump = dump(&app).await;
    assert!(dump.contains(SITE), "the dump holds the tenant row");
    assert!(
        !dump.contains(SECRET),
        "the shared secret is in the database in clear"
    );
    let stored: String = {
        let mut conn = app.db_connection().await;
        sqlx::query_scalar("SELECT shared_secret FROM tenants WHERE client_key = $1")
            .bind(SITE)
            .fetch_one(&mut conn)
            .await
            .unwrap()
    };
    assert!(stored.starts_with("sc1:test:"), "{stored}");
    // The app reads it back: a token signed with the secret is accepted.
    let who = app
        .whoami(&context_token(SITE, SECRET, "557058:ada", "98305"))
        .await;
    assert!(who.is_ok(), "{who:?}");
    let forged = app
        .whoami(&context_token(
            SITE,
            "another-secret-0123456789",
            "557058:ada",
            "98305",
        ))
        .await;
    assert!(forged.is_err());
}

#[tokio::test]
async fn rotating_the_key_re_encrypts_every_secret_and_old_rows_in_clear_are_sealed() {
    // Arrange: one row under the old key, one written in clear by an old version.
    let old = Keyring::generate("old").unwrap();
    let new = Keyring::generate("new").unwrap();
    let url = fresh_database_url().await;
    let db = store::Db::connect(&url)
        .await
        .unwrap()
        .with_keyring(Keyring::new(&old, None).unwrap());
    db.migrate().await.unwrap();
    db.upsert_tenant(&connect::TenantInstall {
        client_key: "a".into(),
        shared_secret: "secret-a-0123456789".to_owned().into(),
        base_url: "https://a.atlassian.net/wiki".into(),
        display_url: None,
        product_type: None,
        oauth_client_id: None,
        installation_id: None,
    })
    .await
    .unwrap();
    {
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO tenants (client_key, shared_secret, base_url, state, installed_at, updated_at) \
             VALUES ('b', 'legacy-clear-secret-b', 'https://b.atlassian.net/wiki', 'enabled', 0, 0)",
        )
        .execute(&mut conn)
        .await
        .unwrap();
    }

    // Act: `rotate-key` with DATA_KEY=new, DATA_KEY_PREVIOUS=old.
    let rotated = store::Db::connect(&url)
        .await
        .unwrap()
        .with_keyring(Keyring::new(&new, Some(&old)).unwrap());
    let done = rotated.seal_secrets().await.unwrap();

    // Assert
    assert_eq!((done.sealed, done.current), (2, 0));
    let again = rotated.seal_secrets().await.unwrap();
    assert_eq!((again.sealed, again.current), (0, 2), "idempotent");
    // Only the new key is needed now.
    let new_only = store::Db::connect(&url)
        .await
        .unwrap()
        .with_keyring(Keyring::new(&new, None).unwrap());
    let a = new_only.tenant("a").await.unwrap().unwrap();
    let b = new_only.tenant("b").await.unwrap().unwrap();
    assert_eq!(a.shared_secret.expose_secret(), "secret-a-0123456789");
    assert_eq!(b.shared_secret.expose_secret(), "legacy-clear-secret-b");
    // The old key alone reads nothing any more, and says why.
    let old_only = store::Db::connect(&url)
        .await
        .unwrap()
        .with_keyring(Keyring::new(&old, None).unwrap());
    let err = old_only.tenant("a").await.unwrap_err().to_string();
    assert!(err.contains("`new`"), "{err}");
    // Without any key nothing is stored in clear: installing is refused.
    let keyless = store::Db::connect(&url).await.unwrap();
    assert!(keyless.tenant("a").await.is_err());
}
