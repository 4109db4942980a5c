//! `smart-courses support`: how Smart Courses staff read a customer's data
//! — and the only way. It reads one space of one site, only while a space
//! admin of that space has granted support access (`space-admin/
//! support-grant`, time-boxed), and writes every read to that site's audit
//! log, which the customer's admins see and export. There is no other
//! staff route to tenant data: no admin endpoint, no bypass switch.

use anyhow::Context;
use app::{space_admin::service::audit::action, state::AppState};
use serde_json::json;

/// What support may read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SupportRead {
    /// The space's courses with their counts.
    Courses,
    /// The space's audit log (newest first).
    Audit,
}

/// Reads `what` of `space` on site `client_key` for `operator`, under an
/// active grant; the answer as pretty JSON.
pub async fn support_read(
    state: &AppState,
    client_key: &str,
    space: &str,
    operator: &str,
    what: SupportRead,
) -> anyhow::Result<String> {
    anyhow::ensure!(
        !operator.trim().is_empty(),
        "say who you are (--operator): the customer sees it in their audit log"
    );
    let tenant = state
        .connect
        .tenants
        .active()
        .await
        .context("cannot list sites")?
        .into_iter()
        .find(|t| t.as_str() == client_key)
        .with_context(|| format!("no active site {client_key}"))?;
    let now = state.learning.now_ms();
    let grant = state
        .db
        .active_support_grant(&tenant, space, now)
        .await?
        .with_context(|| {
            format!(
                "no active support grant for space {space} of site {client_key}: a space admin \
                 grants access in Smart Courses' space tools (Support access)"
            )
        })?;
    let what_text = match what {
        SupportRead::Courses => "the space's courses",
        SupportRead::Audit => "the space's audit log",
    };
    // Recorded before the data is read: no read goes unrecorded.
    app::space_admin::service::record(
        state,
        &tenant,
        space,
        None,
        Some(&format!("support:{}", operator.trim())),
        action::SUPPORT_ACCESS,
        json!({
            "operator": operator.trim(),
            "what": what_text,
            "grant": grant.id,
            "granted_by": grant.granted_by,
            "granted_at_ms": grant.granted_at_ms,
        }),
    )
    .await
    .map_err(|e| anyhow::anyhow!("could not record the access: {e}"))?;
    let out = match what {
        SupportRead::Courses => {
            let rows = state.db.courses_in_space(&tenant, space, 0, 1000).await?;
            let ids: Vec<String> = rows.iter().map(|c| c.id.clone()).collect();
            let counts = state.db.course_counts(&tenant, &ids, now).await?;
            json!(rows
                .iter()
                .map(|c| {
                    let n = counts.iter().find(|n| n.course_id == c.id);
                    json!({
                        "id": c.id, "title": c.title, "page_id": c.page_id,
                        "latest_version": c.latest_version,
                        "enrolled": n.map_or(0, |n| n.enrolled),
                        "completed": n.map_or(0, |n| n.completed),
                        "overdue": n.map_or(0, |n| n.overdue),
                    })
                })
                .collect::<Vec<_>>())
        }
        SupportRead::Audit => {
            let rows = state.db.audit_page(&tenant, space, None, None, 200).await?;
            json!(rows
                .iter()
                .map(|r| json!({"id": r.id, "at_ms": r.at_ms, "actor": r.actor,
                                "action": r.action, "course_id": r.course_id}))
                .collect::<Vec<_>>())
        }
    };
    Ok(serde_json::to_string_pretty(&out)?)
}
