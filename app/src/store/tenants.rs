//! The `tenants` table: one row per installed Confluence site.

use secrecy::SecretString;
use sqlx::Row;

use super::{now_epoch, Db, StoreResult};

/// Lifecycle state of a tenant, as the last lifecycle callback left it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TenantState {
    Installed,
    Enabled,
    Disabled,
    Uninstalled,
}

impl TenantState {
    fn as_str(self) -> &'static str {
        match self {
            TenantState::Installed => "installed",
            TenantState::Enabled => "enabled",
            TenantState::Disabled => "disabled",
            TenantState::Uninstalled => "uninstalled",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "installed" => TenantState::Installed,
            "enabled" => TenantState::Enabled,
            "disabled" => TenantState::Disabled,
            // Unknown values fail closed.
            _ => TenantState::Uninstalled,
        }
    }

    /// Whether tokens signed for this tenant may be accepted. A disabled or
    /// uninstalled app must stop answering at once.
    pub fn is_active(self) -> bool {
        matches!(self, TenantState::Installed | TenantState::Enabled)
    }
}

/// A stored tenant. The shared secret is wrapped so it never reaches a log.
#[derive(Clone, Debug)]
pub struct Tenant {
    pub client_key: String,
    pub shared_secret: SecretString,
    pub base_url: String,
    pub display_url: Option<String>,
    pub product_type: Option<String>,
    pub oauth_client_id: Option<String>,
    pub installation_id: Option<String>,
    pub state: TenantState,
    pub installed_at: i64,
    pub updated_at: i64,
}

/// What a verified install writes.
#[derive(Clone, Debug)]
pub struct TenantInstall {
    pub client_key: String,
    pub shared_secret: SecretString,
    pub base_url: String,
    pub display_url: Option<String>,
    pub product_type: Option<String>,
    pub oauth_client_id: Option<String>,
    pub installation_id: Option<String>,
}

impl Db {
    /// Inserts or replaces a tenant after a **verified signed install**
    /// (the only caller is the `/installed` handler, after
    /// `connect::install::verify`). One statement, so a failure writes nothing.
    pub async fn upsert_tenant(&self, t: &TenantInstall) -> StoreResult<()> {
        use secrecy::ExposeSecret;
        let now = now_epoch();
        let _gate = self.sqlite_write_gate().await;
        sqlx::query(
            "INSERT INTO tenants (client_key, shared_secret, base_url, display_url, product_type, \
                                  oauth_client_id, installation_id, state, installed_at, updated_at, \
                                  uninstalled_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'installed', $8, $8, NULL) \
             ON CONFLICT (client_key) DO UPDATE SET \
                shared_secret = excluded.shared_secret, base_url = excluded.base_url, \
                display_url = excluded.display_url, product_type = excluded.product_type, \
                oauth_client_id = excluded.oauth_client_id, \
                installation_id = excluded.installation_id, state = 'installed', \
                updated_at = excluded.updated_at, uninstalled_at = NULL",
        )
        .bind(&t.client_key)
        .bind(t.shared_secret.expose_secret())
        .bind(&t.base_url)
        .bind(&t.display_url)
        .bind(&t.product_type)
        .bind(&t.oauth_client_id)
        .bind(&t.installation_id)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Looks a tenant up by client key (the `iss` of a token, before the
    /// signature is checked with that tenant's secret).
    pub async fn tenant(&self, client_key: &str) -> StoreResult<Option<Tenant>> {
        let row = sqlx::query(
            "SELECT client_key, shared_secret, base_url, display_url, product_type, \
                    oauth_client_id, installation_id, state, installed_at, updated_at \
             FROM tenants WHERE client_key = $1",
        )
        .bind(client_key)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Tenant {
            client_key: row.try_get("client_key")?,
            shared_secret: SecretString::from(row.try_get::<String, _>("shared_secret")?),
            base_url: row.try_get("base_url")?,
            display_url: row.try_get("display_url")?,
            product_type: row.try_get("product_type")?,
            oauth_client_id: row.try_get("oauth_client_id")?,
            installation_id: row.try_get("installation_id")?,
            state: TenantState::parse(&row.try_get::<String, _>("state")?),
            installed_at: row.try_get("installed_at")?,
            updated_at: row.try_get("updated_at")?,
        }))
    }

    /// Records a lifecycle state change. Returns false when no such tenant exists.
    pub async fn set_tenant_state(
        &self,
        client_key: &str,
        state: TenantState,
    ) -> StoreResult<bool> {
        let now = now_epoch();
        let uninstalled_at = (state == TenantState::Uninstalled).then_some(now);
        let _gate = self.sqlite_write_gate().await;
        let done = sqlx::query(
            "UPDATE tenants SET state = $1, updated_at = $2, \
                    uninstalled_at = COALESCE($3, uninstalled_at) \
             WHERE client_key = $4",
        )
        .bind(state.as_str())
        .bind(now)
        .bind(uninstalled_at)
        .bind(client_key)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
