//! The audit log as space admins read it: every enrolment change, due-date
//! change, access-mode change and export, who did it and when. The store
//! keeps entries append-only (the database refuses updates and deletes);
//! here they are read back a page at a time and said in words.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use super::course_in_space;
use crate::{
    api::guards::SpaceAdmin,
    error::AppError,
    space_admin::api::{AuditPage, AuditRow},
};

/// Entries per page.
pub const PAGE_SIZE: i64 = 50;

/// Recorded actions (the `action` column).
pub mod action {
    pub const ENROL: &str = "enrol";
    pub const SELF_ENROL: &str = "self_enrol";
    pub const UNENROL: &str = "unenrol";
    pub const DUE_DATE: &str = "due_date";
    pub const GROUP_RULE_ADD: &str = "group_rule_add";
    pub const GROUP_RULE_CHANGE: &str = "group_rule_change";
    pub const GROUP_RULE_REMOVE: &str = "group_rule_remove";
    pub const GROUP_SYNC: &str = "group_sync";
    pub const ACCESS_MODE: &str = "access_mode";
    pub const EXPORT: &str = "export";
    pub const SUPPORT_GRANT: &str = "support_grant";
    pub const SUPPORT_REVOKE: &str = "support_revoke";
    pub const SUPPORT_ACCESS: &str = "support_access";
    /// A person's data erased (`store::privacy`): by an operator on a data
    /// subject request, or because their Atlassian account was closed.
    pub const ERASURE: &str = "erasure";
}

/// `space-admin/audit`: a page of the space's log (or one course's).
pub async fn audit(
    admin: &SpaceAdmin,
    course_id: Option<&course::ids::CourseId>,
    before: Option<i64>,
) -> Result<AuditPage, AppError> {
    if let Some(id) = course_id {
        course_in_space(admin, id).await?;
    }
    let (entries, next_before) = page(admin, course_id.map(|c| c.as_ref()), before).await?;
    Ok(AuditPage {
        entries,
        next_before,
    })
}

/// A page of entries in words, and where the next starts.
pub(crate) async fn page(
    admin: &SpaceAdmin,
    course_id: Option<&str>,
    before: Option<i64>,
) -> Result<(Vec<AuditRow>, Option<i64>), AppError> {
    let state = admin.state();
    let tenant = &admin.who().tenant;
    let rows = state
        .db
        .audit_page(tenant, &admin.space_key, course_id, before, PAGE_SIZE)
        .await?;
    let next_before = (rows.len() as i64 == PAGE_SIZE)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    let details: Vec<Value> = rows
        .iter()
        .map(|r| serde_json::from_str(&r.detail_json).unwrap_or(Value::Null))
        .collect();
    // Names of the actors and of the people the entries are about.
    let mut people: BTreeSet<String> = rows.iter().filter_map(|r| r.actor.clone()).collect();
    for d in &details {
        people.extend(accounts_in(d).into_iter().take(3));
    }
    let people: Vec<String> = people.into_iter().collect();
    let names = connect::users::display_names(&state.connect, admin.who(), &people).await;
    let mut titles: HashMap<String, Option<String>> = HashMap::new();
    for id in rows.iter().filter_map(|r| r.course_id.as_ref()) {
        if !titles.contains_key(id) {
            let title = state.db.course(tenant, id).await?.map(|c| c.title);
            titles.insert(id.clone(), title);
        }
    }
    let entries = rows
        .into_iter()
        .zip(details)
        .map(|(r, d)| AuditRow {
            summary: summary(&r.action, &d, &names),
            actor_name: r.actor.as_ref().and_then(|a| names.get(a).cloned()),
            course_title: r
                .course_id
                .as_ref()
                .and_then(|c| titles.get(c).cloned().flatten()),
            id: r.id,
            at_ms: r.at_ms,
            actor_id: r.actor,
            action: r.action,
            course_id: r.course_id,
        })
        .collect();
    Ok((entries, next_before))
}

fn accounts_in(d: &Value) -> Vec<String> {
    d.get("accounts")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// "Ada Lovelace, Alan Turing and 3 others".
fn people(d: &Value, names: &HashMap<String, String>) -> String {
    let accounts = accounts_in(d);
    let shown: Vec<String> = accounts
        .iter()
        .take(3)
        .map(|a| names.get(a).cloned().unwrap_or_else(|| a.clone()))
        .collect();
    let rest = accounts.len().saturating_sub(shown.len());
    match (shown.len(), rest) {
        (0, _) => "nobody".to_owned(),
        (_, 0) if shown.len() == 1 => shown[0].clone(),
        (_, 0) => {
            let (last, first) = shown.split_last().unwrap_or((&shown[0], &[]));
            format!("{} and {last}", first.join(", "))
        }
        (_, r) => format!(
            "{} and {r} other{}",
            shown.join(", "),
            if r == 1 { "" } else { "s" }
        ),
    }
}

fn date(ms: Option<i64>) -> String {
    match ms {
        Some(ms) => course::charts::format_day(ms.div_euclid(store::enrolments::DAY_MS)),
        None => "none".to_owned(),
    }
}

fn due_rule(d: &Value) -> String {
    if let Some(at) = d.get("due_at_ms").and_then(Value::as_i64) {
        format!("due {}", date(Some(at)))
    } else if let Some(days) = d.get("due_days").and_then(Value::as_i64) {
        format!("due {days} days after enrolment")
    } else {
        "no due date".to_owned()
    }
}

/// What an entry says, in a sentence.
pub(crate) fn summary(action: &str, d: &Value, names: &HashMap<String, String>) -> String {
    let s = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("?").to_owned();
    let n = |k: &str| d.get(k).and_then(Value::as_i64).unwrap_or(0);
    match action {
        action::ENROL => format!("Enrolled {} ({}).", people(d, names), due_rule(d)),
        action::SELF_ENROL => "Enrolled themselves.".to_owned(),
        action::UNENROL => format!("Unenrolled {}.", people(d, names)),
        action::DUE_DATE => format!(
            "Set the due date of {} to {}.",
            people(d, names),
            match d.get("due_at_ms").and_then(Value::as_i64) {
                Some(at) => date(Some(at)),
                None => "the group rules' date".to_owned(),
            }
        ),
        action::GROUP_RULE_ADD => format!(
            "Enrolled group {} ({}; {} members).",
            s("group"),
            due_rule(d),
            n("members")
        ),
        action::GROUP_RULE_CHANGE => {
            format!("Changed group {} to {}.", s("group"), due_rule(d))
        }
        action::GROUP_RULE_REMOVE => format!(
            "Removed group {} ({} learners unenrolled).",
            s("group"),
            n("removed")
        ),
        action::GROUP_SYNC => format!(
            "Group {} synced from Confluence: {} joined, {} left.",
            s("group"),
            n("added"),
            n("removed")
        ),
        action::ACCESS_MODE => format!(
            "Changed who may take the course from \u{201c}{}\u{201d} to \u{201c}{}\u{201d} (version {}).",
            s("from"),
            s("to"),
            n("version")
        ),
        action::EXPORT => format!("Exported {} as CSV.", s("what")),
        action::SUPPORT_GRANT => format!(
            "Granted Smart Courses support access to this space until {} ({}).",
            date(d.get("expires_at_ms").and_then(Value::as_i64)),
            s("reason")
        ),
        action::SUPPORT_REVOKE => "Ended Smart Courses support access to this space.".to_owned(),
        action::SUPPORT_ACCESS => format!(
            "Smart Courses support ({}) read {} under the access granted on {}.",
            s("operator"),
            s("what"),
            date(d.get("granted_at_ms").and_then(Value::as_i64))
        ),
        action::ERASURE => format!(
            "Erased a person's learning data ({}; {} records deleted).",
            s("reason"),
            n("deleted")
        ),
        other => format!("{other}."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn summaries_name_people_and_dates() {
        let names: HashMap<String, String> = [("a1".to_owned(), "Ada".to_owned())].into();
        assert_eq!(
            summary(
                action::ENROL,
                &json!({"accounts": ["a1", "b2"], "due_at_ms": 0}),
                &names
            ),
            "Enrolled Ada and b2 (due 1970-01-01)."
        );
        assert_eq!(
            summary(
                action::UNENROL,
                &json!({"accounts": ["a1", "b", "c", "d", "e"]}),
                &names
            ),
            "Unenrolled Ada, b, c and 2 others."
        );
        assert_eq!(
            summary(
                action::GROUP_RULE_ADD,
                &json!({"group": "eng", "due_days": 14, "members": 3}),
                &names
            ),
            "Enrolled group eng (due 14 days after enrolment; 3 members)."
        );
        assert_eq!(
            summary(action::DUE_DATE, &json!({"accounts": ["a1"]}), &names),
            "Set the due date of Ada to the group rules' date."
        );
    }
}
