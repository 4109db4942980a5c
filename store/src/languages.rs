//! The language each person last used the app in (migration
//! `0012_learner_languages.sql`), for what the app says to them outside any
//! request: the reminder job's mail (server/src/reminders.rs).
//!
//! Every verified call with an account and an `Accept-Language` header
//! (the page's `loc`) passes through [`Db::keep_language`]; a small cache
//! of what this process last wrote makes the usual call (same language as
//! before) cost no write. The cache expires entries so that a change made
//! through another server process is written again within [`SEEN_TTL`].

use std::{collections::HashMap, time::Duration};

use cache::Cache;
use connect::TenantKey;
use sqlx::Row;

use super::{Db, StoreResult};

/// How long this process trusts that the row holds what it last wrote.
pub const SEEN_TTL: Duration = Duration::from_secs(600);
/// Bytes for the languages this process last wrote (about 2 000 people).
const SEEN_BYTES: usize = 256 << 10;
/// Longest language tag stored (`Lang::tag` is two letters).
const MAX_TAG: usize = 16;

/// What this process last wrote, by (tenant, account).
#[derive(Clone, Debug)]
pub(crate) struct SeenLanguages(Cache<(String, String), String>);

impl SeenLanguages {
    pub(crate) fn new() -> Self {
        Self(Cache::new("learner-languages", SEEN_BYTES, SEEN_TTL))
    }

    /// Forgets everything (a tenant purged, an account erased).
    pub(crate) fn clear(&self) {
        self.0.clear();
    }
}

impl Db {
    /// Records that `account` uses the app in `lang` (a tag such as `de`),
    /// unless that is what this process last recorded. Returns whether a row
    /// was written. Tags longer than a language tag are not stored.
    pub async fn keep_language(
        &self,
        tenant: &TenantKey,
        account: &str,
        lang: &str,
        now_ms: i64,
    ) -> StoreResult<bool> {
        if account.is_empty() || lang.is_empty() || lang.len() > MAX_TAG {
            return Ok(false);
        }
        let key = (tenant.as_str().to_owned(), account.to_owned());
        if self.seen_languages.0.get(&key).as_deref() == Some(lang) {
            return Ok(false);
        }
        let seen = self.seen_languages.0.generation();
        let _gate = self.sqlite_write_gate().await;
        sqlx::query(
            "INSERT INTO learner_languages (client_key, account_id, lang, updated_at_ms) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (client_key, account_id) DO UPDATE \
             SET lang = excluded.lang, updated_at_ms = excluded.updated_at_ms \
             WHERE learner_languages.lang <> excluded.lang",
        )
        .bind(tenant.as_str())
        .bind(account)
        .bind(lang)
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        // Not if an erasure or a purge cleared the cache meanwhile.
        self.seen_languages
            .0
            .insert_if_current(key, lang.to_owned(), seen);
        Ok(true)
    }

    /// The languages recorded for `accounts` (those with none are absent).
    pub async fn languages(
        &self,
        tenant: &TenantKey,
        accounts: &[String],
    ) -> StoreResult<HashMap<String, String>> {
        let mut out = HashMap::with_capacity(accounts.len());
        // Bound parameters stay well under both backends' limits.
        for chunk in accounts.chunks(500) {
            if chunk.is_empty() {
                continue;
            }
            let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT account_id, lang FROM learner_languages \
                 WHERE client_key = $1 AND account_id IN ({})",
                marks.join(", ")
            );
            // Only numbered placeholders are formatted in; values are bound.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant.as_str());
            for a in chunk {
                q = q.bind(a.as_str());
            }
            for row in q.fetch_all(self.pool()).await? {
                out.insert(row.try_get("account_id")?, row.try_get("lang")?);
            }
        }
        Ok(out)
    }
}
