//! Courses (editable drafts) and course versions (immutable snapshots).
//! Every function is scoped by the verified [`TenantKey`].

use sqlx::Row;

use super::{now_epoch, Db, StoreError, StoreResult};
use connect::TenantKey;

/// A course row (the draft and its bookkeeping).
#[derive(Clone, Debug)]
pub struct CourseRow {
    pub id: String,
    pub space_key: String,
    pub page_id: String,
    pub title: String,
    pub draft_json: String,
    pub draft_revision: i64,
    pub latest_version: Option<i64>,
    pub copied_from: Option<String>,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What a new course starts with.
#[derive(Clone, Debug)]
pub struct NewCourse<'a> {
    pub id: &'a str,
    pub space_key: &'a str,
    pub page_id: &'a str,
    pub title: &'a str,
    pub draft_json: &'a str,
    pub created_by: Option<&'a str>,
    pub copied_from: Option<&'a str>,
}

/// A published version's metadata (history list).
#[derive(Clone, Debug, PartialEq)]
pub struct VersionMeta {
    pub version: i64,
    pub title: String,
    pub material: bool,
    pub published_by: Option<String>,
    pub published_at: i64,
}

/// A published version with its content.
#[derive(Clone, Debug)]
pub struct VersionRow {
    pub meta: VersionMeta,
    pub content_json: String,
}

/// Outcome of a draft save.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DraftSave {
    /// Saved; the new revision.
    Saved(i64),
    /// Someone saved in between: the caller's revision is stale.
    Stale { current: i64 },
    /// No such course for this tenant.
    Missing,
}

fn course_from_row(row: &sqlx::any::AnyRow) -> Result<CourseRow, sqlx::Error> {
    Ok(CourseRow {
        id: row.try_get("id")?,
        space_key: row.try_get("space_key")?,
        page_id: row.try_get("page_id")?,
        title: row.try_get("title")?,
        draft_json: row.try_get("draft_json")?,
        draft_revision: row.try_get("draft_revision")?,
        latest_version: row.try_get("latest_version")?,
        copied_from: row.try_get("copied_from")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn meta_from_row(row: &sqlx::any::AnyRow) -> Result<VersionMeta, sqlx::Error> {
    Ok(VersionMeta {
        version: row.try_get("version")?,
        title: row.try_get("title")?,
        material: row.try_get::<i64, _>("material")? != 0,
        published_by: row.try_get("published_by")?,
        published_at: row.try_get("published_at")?,
    })
}

/// A course as the space-admin overview lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct SpaceCourse {
    pub id: String,
    pub title: String,
    pub page_id: String,
    pub latest_version: Option<i64>,
    pub updated_at: i64,
}

impl Db {
    /// The courses of one space of this tenant, by title.
    pub async fn courses_in_space(
        &self,
        tenant: &TenantKey,
        space_key: &str,
        offset: i64,
        limit: i64,
    ) -> StoreResult<Vec<SpaceCourse>> {
        let rows = sqlx::query(
            "SELECT id, title, page_id, latest_version, updated_at FROM courses \
             WHERE client_key = $1 AND space_key = $2 ORDER BY title, id LIMIT $3 OFFSET $4",
        )
        .bind(tenant.as_str())
        .bind(space_key)
        .bind(limit.clamp(1, 1000))
        .bind(offset.max(0))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SpaceCourse {
                    id: r.try_get("id")?,
                    title: r.try_get("title")?,
                    page_id: r.try_get("page_id")?,
                    latest_version: r.try_get("latest_version")?,
                    updated_at: r.try_get("updated_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// How many courses the space has.
    pub async fn count_courses_in_space(
        &self,
        tenant: &TenantKey,
        space_key: &str,
    ) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM courses WHERE client_key = $1 AND space_key = $2",
        )
        .bind(tenant.as_str())
        .bind(space_key)
        .fetch_one(self.pool())
        .await?)
    }

    /// Records that the course's page is now in `space_key` (pages move
    /// between spaces; the token of a request from the page says where it
    /// is). One conditional UPDATE; `true` if it changed.
    pub async fn set_course_space(
        &self,
        tenant: &TenantKey,
        id: &str,
        page_id: &str,
        space_key: &str,
    ) -> StoreResult<bool> {
        let _changed = self.courses_changed_on_exit();
        let _gate = self.sqlite_write_gate().await;
        let done = sqlx::query(
            "UPDATE courses SET space_key = $1 \
             WHERE client_key = $2 AND id = $3 AND page_id = $4 AND space_key <> $1",
        )
        .bind(space_key)
        .bind(tenant.as_str())
        .bind(id)
        .bind(page_id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// How many courses this tenant has.
    pub async fn count_courses(&self, tenant: &TenantKey) -> StoreResult<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM courses WHERE client_key = $1")
                .bind(tenant.as_str())
                .fetch_one(self.pool())
                .await?,
        )
    }

    /// How many versions a course of this tenant has.
    pub async fn count_versions(&self, tenant: &TenantKey, id: &str) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM course_versions WHERE client_key = $1 AND course_id = $2",
        )
        .bind(tenant.as_str())
        .bind(id)
        .fetch_one(self.pool())
        .await?)
    }

    /// Bytes of course content this tenant stores: every draft and every
    /// published version (their JSON).
    pub async fn stored_bytes(&self, tenant: &TenantKey) -> StoreResult<i64> {
        // Byte length, not characters: SQLite's length() of TEXT counts characters.
        let sql = match self.backend() {
            super::Backend::Sqlite => {
                "SELECT COALESCE((SELECT SUM(LENGTH(CAST(draft_json AS BLOB))) FROM courses \
                                  WHERE client_key = $1), 0) \
                      + COALESCE((SELECT SUM(LENGTH(CAST(content_json AS BLOB))) FROM course_versions \
                                  WHERE client_key = $1), 0)"
            }
            super::Backend::Postgres => {
                "SELECT (COALESCE((SELECT SUM(OCTET_LENGTH(draft_json)) FROM courses \
                                   WHERE client_key = $1), 0) \
                       + COALESCE((SELECT SUM(OCTET_LENGTH(content_json)) FROM course_versions \
                                   WHERE client_key = $1), 0))::BIGINT"
            }
        };
        Ok(sqlx::query_scalar(sql)
            .bind(tenant.as_str())
            .fetch_one(self.pool())
            .await?)
    }

    /// Creates a course with revision 1 and no published version.
    pub async fn create_course(&self, tenant: &TenantKey, c: &NewCourse<'_>) -> StoreResult<()> {
        let _changed = self.courses_changed_on_exit();
        let now = now_epoch();
        let _gate = self.sqlite_write_gate().await;
        sqlx::query(
            "INSERT INTO courses (client_key, id, space_key, page_id, title, draft_json, \
                                  draft_revision, latest_version, copied_from, created_by, \
                                  created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, NULL, $7, $8, $9, $9)",
        )
        .bind(tenant.as_str())
        .bind(c.id)
        .bind(c.space_key)
        .bind(c.page_id)
        .bind(c.title)
        .bind(c.draft_json)
        .bind(c.copied_from)
        .bind(c.created_by)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// One course of this tenant.
    pub async fn course(
        &self,
        tenant: &TenantKey,
        id: &str,
    ) -> StoreResult<Option<std::sync::Arc<CourseRow>>> {
        // Shared, not copied: the row holds the whole draft, and the
        // learner's and the editor's hot reads only look at it.
        let Some(cache) = &self.course_rows else {
            return Ok(self.course_from_db(tenant, id).await?.map(Into::into));
        };
        match cache.get(tenant.as_str(), id) {
            Ok(row) => Ok(Some(row)),
            Err(seen) => {
                let row = self
                    .course_from_db(tenant, id)
                    .await?
                    .map(std::sync::Arc::new);
                if let Some(row) = &row {
                    cache.put(tenant.as_str(), row.clone(), seen);
                }
                Ok(row)
            }
        }
    }

    async fn course_from_db(&self, tenant: &TenantKey, id: &str) -> StoreResult<Option<CourseRow>> {
        let row = sqlx::query(
            "SELECT id, space_key, page_id, title, draft_json, draft_revision, latest_version, \
                    copied_from, created_by, created_at, updated_at \
             FROM courses WHERE client_key = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(course_from_row).transpose()?)
    }

    /// Saves the draft if `expected_revision` is still current (one
    /// conditional UPDATE, so two editors never silently overwrite each other).
    pub async fn save_draft(
        &self,
        tenant: &TenantKey,
        id: &str,
        expected_revision: i64,
        title: &str,
        draft_json: &str,
    ) -> StoreResult<DraftSave> {
        let _changed = self.courses_changed_on_exit();
        let _gate = self.sqlite_write_gate().await;
        let done = sqlx::query(
            "UPDATE courses SET draft_json = $1, title = $2, draft_revision = draft_revision + 1, \
                                updated_at = $3 \
             WHERE client_key = $4 AND id = $5 AND draft_revision = $6",
        )
        .bind(draft_json)
        .bind(title)
        .bind(now_epoch())
        .bind(tenant.as_str())
        .bind(id)
        .bind(expected_revision)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 1 {
            return Ok(DraftSave::Saved(expected_revision + 1));
        }
        Ok(match self.course(tenant, id).await? {
            Some(c) => DraftSave::Stale {
                current: c.draft_revision,
            },
            None => DraftSave::Missing,
        })
    }

    /// Publishes `content_json` as the next version, atomically: the version
    /// row and the course's `latest_version` change together or not at all.
    pub async fn publish_version(
        &self,
        tenant: &TenantKey,
        id: &str,
        title: &str,
        content_json: &str,
        material: bool,
        by: Option<&str>,
    ) -> StoreResult<i64> {
        let _changed = self.courses_changed_on_exit();
        let _gate = self.sqlite_write_gate().await;
        let mut tx = self.pool().begin().await?;
        let current: Option<Option<i64>> = sqlx::query_scalar(
            "SELECT latest_version FROM courses WHERE client_key = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(current) = current else {
            return Err(StoreError::NotFound);
        };
        let next = current.unwrap_or(0) + 1;
        let now = now_epoch();
        sqlx::query(
            "INSERT INTO course_versions (client_key, course_id, version, title, content_json, \
                                          material, published_by, published_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(tenant.as_str())
        .bind(id)
        .bind(next)
        .bind(title)
        .bind(content_json)
        .bind(material as i64)
        .bind(by)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        // Guarded by the version we read: a concurrent publish makes this
        // affect no row, and the whole transaction is rolled back.
        let done = sqlx::query(
            "UPDATE courses SET latest_version = $1, updated_at = $2 \
             WHERE client_key = $3 AND id = $4 AND COALESCE(latest_version, 0) = $5",
        )
        .bind(next)
        .bind(now)
        .bind(tenant.as_str())
        .bind(id)
        .bind(current.unwrap_or(0))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict);
        }
        tx.commit().await?;
        Ok(next)
    }

    /// Version history, newest first.
    pub async fn versions(&self, tenant: &TenantKey, id: &str) -> StoreResult<Vec<VersionMeta>> {
        let Some(cache) = &self.course_rows else {
            return self.versions_from_db(tenant, id).await;
        };
        match cache.versions(tenant.as_str(), id) {
            Ok(list) => Ok(list.0.clone()),
            Err(seen) => {
                let list = self.versions_from_db(tenant, id).await?;
                cache.put_versions(
                    tenant.as_str(),
                    id,
                    std::sync::Arc::new(crate::read_cache::VersionList(list.clone())),
                    seen,
                );
                Ok(list)
            }
        }
    }

    async fn versions_from_db(
        &self,
        tenant: &TenantKey,
        id: &str,
    ) -> StoreResult<Vec<VersionMeta>> {
        let rows = sqlx::query(
            "SELECT version, title, material, published_by, published_at FROM course_versions \
             WHERE client_key = $1 AND course_id = $2 ORDER BY version DESC",
        )
        .bind(tenant.as_str())
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(meta_from_row).collect::<Result<_, _>>()?)
    }

    /// One published version.
    pub async fn version(
        &self,
        tenant: &TenantKey,
        id: &str,
        version: i64,
    ) -> StoreResult<Option<VersionRow>> {
        let row = sqlx::query(
            "SELECT version, title, material, published_by, published_at, content_json \
             FROM course_versions WHERE client_key = $1 AND course_id = $2 AND version = $3",
        )
        .bind(tenant.as_str())
        .bind(id)
        .bind(version)
        .fetch_optional(self.pool())
        .await?;
        match row {
            None => Ok(None),
            Some(r) => Ok(Some(VersionRow {
                meta: meta_from_row(&r)?,
                content_json: r.try_get("content_json")?,
            })),
        }
    }
}
