//! Straight to the test's database: what was (and was not) written.

use serde_json::Value;
use sqlx::Connection;

use super::test_app::TestApp;

impl TestApp {
    /// A connection of its own to the test's database (not the app's pool).
    pub(crate) async fn db_connection(&self) -> sqlx::AnyConnection {
        sqlx::any::install_default_drivers();
        sqlx::AnyConnection::connect(&self.database_url)
            .await
            .expect("connect to the test database")
    }

    /// `SELECT COUNT(*) …` (or any single integer) against the test's database.
    pub(crate) async fn count(&self, sql: &str) -> i64 {
        let mut conn = self.db_connection().await;
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

/// A course row as stored, read straight from the database.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct StoredCourse {
    pub page_id: String,
    pub title: String,
    pub draft: Value,
    pub draft_revision: i64,
    pub latest_version: Option<i64>,
    pub copied_from: Option<String>,
}

impl TestApp {
    /// The course `id` of tenant `client_key`, straight from the database.
    pub(crate) async fn stored_course(&self, client_key: &str, id: &str) -> Option<StoredCourse> {
        use sqlx::Row;
        let mut conn = self.db_connection().await;
        let row = sqlx::query(
            "SELECT page_id, title, draft_json, draft_revision, latest_version, copied_from \
             FROM courses WHERE client_key = $1 AND id = $2",
        )
        .bind(client_key)
        .bind(id)
        .fetch_optional(&mut conn)
        .await
        .unwrap()?;
        Some(StoredCourse {
            page_id: row.get("page_id"),
            title: row.get("title"),
            draft: serde_json::from_str(&row.get::<String, _>("draft_json")).unwrap(),
            draft_revision: row.get("draft_revision"),
            latest_version: row.get("latest_version"),
            copied_from: row.get("copied_from"),
        })
    }

    /// The published versions of a course, oldest first: (version, content).
    pub(crate) async fn stored_versions(&self, client_key: &str, id: &str) -> Vec<(i64, Value)> {
        use sqlx::Row;
        let mut conn = self.db_connection().await;
        sqlx::query(
            "SELECT version, content_json FROM course_versions \
             WHERE client_key = $1 AND course_id = $2 ORDER BY version",
        )
        .bind(client_key)
        .bind(id)
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.get::<i64, _>("version"),
                serde_json::from_str(&r.get::<String, _>("content_json")).unwrap(),
            )
        })
        .collect()
    }

    /// How many courses and versions tenant `client_key` has.
    pub(crate) async fn course_and_version_counts(&self, client_key: &str) -> (i64, i64) {
        let k = client_key.replace('\'', "''");
        (
            self.count(&format!(
                "SELECT COUNT(*) FROM courses WHERE client_key = '{k}'"
            ))
            .await,
            self.count(&format!(
                "SELECT COUNT(*) FROM course_versions WHERE client_key = '{k}'"
            ))
            .await,
        )
    }
}

impl TestApp {
    /// Every learning record of tenant `client_key` — lesson views, attempts
    /// (every column), answers and completions — one line each, sorted: to
    /// prove that a call changed none of them.
    pub(crate) async fn learning_records(&self, client_key: &str) -> Vec<String> {
        const QUERIES: [&str; 4] = [
            "SELECT 'lesson_view ' || course_id || ' ' || account_id || ' ' || lesson_id \
                 || ' v' || CAST(version AS TEXT) || ' at ' || CAST(opened_at AS TEXT) \
             FROM lesson_views WHERE client_key = $1",
            "SELECT 'attempt ' || id || ' ' || course_id || ' ' || module_id || ' ' \
                 || account_id || ' token ' || client_token \
                 || ' v' || CAST(course_version AS TEXT) \
                 || ' page ' || COALESCE(CAST(page_version AS TEXT), '-') \
                 || ' cycle ' || CAST(cycle_version AS TEXT) \
                 || ' #' || CAST(number AS TEXT) || ' seed ' || seed \
                 || ' started ' || CAST(started_at_ms AS TEXT) \
                 || ' deadline ' || COALESCE(CAST(deadline_ms AS TEXT), '-') \
                 || ' active ' || CAST(last_activity_ms AS TEXT) \
                 || ' submitted ' || COALESCE(CAST(submitted_at_ms AS TEXT), '-') \
                 || ' score ' || COALESCE(CAST(score AS TEXT), '-') \
                 || '/' || COALESCE(CAST(max_score AS TEXT), '-') \
                 || ' ' || COALESCE(CAST(percent AS TEXT), '-') \
                 || '% passed ' || COALESCE(CAST(passed AS TEXT), '-') \
             FROM attempts WHERE client_key = $1",
            "SELECT 'answer ' || attempt_id || ' ' || question_id || ' ' || response_json \
                 || ' answered ' || CAST(answered_at_ms AS TEXT) \
                 || ' received ' || CAST(received_at_ms AS TEXT) \
             FROM attempt_answers WHERE client_key = $1",
            "SELECT 'completion ' || course_id || ' ' || account_id \
                 || ' v' || CAST(version AS TEXT) || ' at ' || CAST(completed_at AS TEXT) \
             FROM completions WHERE client_key = $1",
        ];
        let mut conn = self.db_connection().await;
        let mut out = Vec::new();
        for sql in QUERIES {
            let rows: Vec<String> = sqlx::query_scalar(sql)
                .bind(client_key)
                .fetch_all(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            out.extend(rows);
        }
        out.sort();
        out
    }
}
