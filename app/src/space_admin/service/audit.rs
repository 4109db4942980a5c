//! The audit log as space admins read it: every enrolment change, due-date
//! change, access-mode change and export, who did it and when. The store
//! keeps entries append-only (the database refuses updates and deletes);
//! here they are read back a page at a time and said in words.

use std::collections::{BTreeSet, HashMap};

use course::model::AccessMode;
use leptos_i18n::td_string;
use serde_json::Value;

use super::course_in_space;
use crate::{
    api::guards::SpaceAdmin,
    error::AppError,
    locale::{fill, lang_of, locale_of, request_lang, Lang, Locale},
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
    let (entries, next_before) =
        page(admin, course_id.map(|c| c.as_ref()), before, request_lang()).await?;
    Ok(AuditPage {
        entries,
        next_before,
    })
}

/// A page of entries in words (in `lang`), and where the next starts.
pub(crate) async fn page(
    admin: &SpaceAdmin,
    course_id: Option<&str>,
    before: Option<i64>,
    lang: Lang,
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
            let title = state.db.course(tenant, id).await?.map(|c| c.title.clone());
            titles.insert(id.clone(), title);
        }
    }
    let entries = rows
        .into_iter()
        .zip(details)
        .map(|(r, d)| AuditRow {
            summary: summary(locale_of(lang), &r.action, &d, &names),
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

/// "Ada Lovelace, Alan Turing and 3 others", in `loc`.
fn people(loc: Locale, d: &Value, names: &HashMap<String, String>) -> String {
    let accounts = accounts_in(d);
    let shown: Vec<String> = accounts
        .iter()
        .take(3)
        .map(|a| names.get(a).cloned().unwrap_or_else(|| a.clone()))
        .collect();
    let rest = accounts.len().saturating_sub(shown.len());
    match (shown.len(), rest) {
        (0, _) => td_string!(loc, audit_say.nobody).to_owned(),
        (_, 0) if shown.len() == 1 => shown[0].clone(),
        (_, 0) => {
            let (last, first) = shown.split_last().unwrap_or((&shown[0], &[]));
            fill(td_string!(loc, audit_say.and), &[&first.join(", "), last])
        }
        (_, 1) => fill(
            td_string!(loc, audit_say.and_one_other),
            &[&shown.join(", ")],
        ),
        (_, r) => fill(
            td_string!(loc, audit_say.and_others),
            &[&shown.join(", "), &r],
        ),
    }
}

/// A day in `loc`: `2026-11-30` in English (as the log always wrote it),
/// `30.11.2026` in German.
fn date(loc: Locale, ms: Option<i64>) -> String {
    match ms {
        Some(ms) => {
            let mut labels = course::charts::ChartLabels::english("");
            labels.lang = lang_of(loc);
            labels.day(ms.div_euclid(store::enrolments::DAY_MS))
        }
        None => td_string!(loc, audit_say.none).to_owned(),
    }
}

fn due_rule(loc: Locale, d: &Value) -> String {
    if let Some(at) = d.get("due_at_ms").and_then(Value::as_i64) {
        fill(td_string!(loc, audit_say.due_at), &[&date(loc, Some(at))])
    } else if let Some(days) = d.get("due_days").and_then(Value::as_i64) {
        fill(td_string!(loc, audit_say.due_days), &[&days])
    } else {
        td_string!(loc, audit_say.no_due).to_owned()
    }
}

/// A value the log stored in English words (what was exported or read,
/// why data was erased, an access mode's name) in `loc`; any other value
/// (a reason an admin typed, a name) as stored.
fn stored_words(loc: Locale, text: &str) -> String {
    let fixed = match text {
        "the learner table" => Some(td_string!(loc, audit_say.what_learners)),
        "the attempts" => Some(td_string!(loc, audit_say.what_attempts)),
        "the audit log" => Some(td_string!(loc, audit_say.what_audit)),
        "the space's courses" => Some(td_string!(loc, audit_say.what_courses)),
        "the space's audit log" => Some(td_string!(loc, audit_say.what_space_audit)),
        "account closed" => Some(td_string!(loc, audit_say.reason_closed)),
        "data subject request" => Some(td_string!(loc, audit_say.reason_request)),
        _ => None,
    };
    if let Some(words) = fixed {
        return words.to_owned();
    }
    if let Some(version) = text
        .strip_prefix("the analytics of version ")
        .filter(|v| v.parse::<i64>().is_ok())
    {
        return fill(td_string!(loc, audit_say.what_analytics), &[&version]);
    }
    for mode in [
        AccessMode::Open,
        AccessMode::EnrolledOnly,
        AccessMode::SelfEnrol,
    ] {
        if text == mode.label() {
            return match mode {
                AccessMode::Open => td_string!(loc, access.open_long),
                AccessMode::EnrolledOnly => td_string!(loc, access.enrolled_only_long),
                AccessMode::SelfEnrol => td_string!(loc, access.self_enrol_long),
            }
            .to_owned();
        }
    }
    text.to_owned()
}

/// What an entry says, in a sentence in `loc`. The log stores what
/// happened as data (action and detail); the sentence is written when it
/// is read, so the same entry reads in each admin's language.
pub(crate) fn summary(
    loc: Locale,
    action: &str,
    d: &Value,
    names: &HashMap<String, String>,
) -> String {
    let s = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("?").to_owned();
    let said = |k: &str| stored_words(loc, &s(k));
    let n = |k: &str| d.get(k).and_then(Value::as_i64).unwrap_or(0);
    let text = match action {
        action::ENROL => fill(
            td_string!(loc, audit_say.enrol),
            &[&people(loc, d, names), &due_rule(loc, d)],
        ),
        action::SELF_ENROL => td_string!(loc, audit_say.self_enrol).to_owned(),
        action::UNENROL => fill(
            td_string!(loc, audit_say.unenrol),
            &[&people(loc, d, names)],
        ),
        action::DUE_DATE => fill(
            td_string!(loc, audit_say.due_date),
            &[
                &people(loc, d, names),
                &match d.get("due_at_ms").and_then(Value::as_i64) {
                    Some(at) => date(loc, Some(at)),
                    None => td_string!(loc, audit_say.group_rules_date).to_owned(),
                },
            ],
        ),
        action::GROUP_RULE_ADD => fill(
            td_string!(loc, audit_say.group_add),
            &[&s("group"), &due_rule(loc, d), &n("members")],
        ),
        action::GROUP_RULE_CHANGE => fill(
            td_string!(loc, audit_say.group_change),
            &[&s("group"), &due_rule(loc, d)],
        ),
        action::GROUP_RULE_REMOVE => fill(
            td_string!(loc, audit_say.group_remove),
            &[&s("group"), &n("removed")],
        ),
        action::GROUP_SYNC => fill(
            td_string!(loc, audit_say.group_sync),
            &[&s("group"), &n("added"), &n("removed")],
        ),
        action::ACCESS_MODE => fill(
            td_string!(loc, audit_say.access_mode),
            &[&said("from"), &said("to"), &n("version")],
        ),
        action::EXPORT => fill(td_string!(loc, audit_say.export), &[&said("what")]),
        action::SUPPORT_GRANT => fill(
            td_string!(loc, audit_say.support_grant),
            &[
                &date(loc, d.get("expires_at_ms").and_then(Value::as_i64)),
                &s("reason"),
            ],
        ),
        action::SUPPORT_REVOKE => td_string!(loc, audit_say.support_revoke).to_owned(),
        action::SUPPORT_ACCESS => fill(
            td_string!(loc, audit_say.support_access),
            &[
                &s("operator"),
                &said("what"),
                &date(loc, d.get("granted_at_ms").and_then(Value::as_i64)),
            ],
        ),
        action::ERASURE => fill(
            td_string!(loc, audit_say.erasure),
            &[&said("reason"), &n("deleted")],
        ),
        other => format!("{other}."),
    };
    // A sentence starts with a capital ("Die Lernendentabelle als CSV …").
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
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
                Locale::en,
                action::ENROL,
                &json!({"accounts": ["a1", "b2"], "due_at_ms": 0}),
                &names
            ),
            "Enrolled Ada and b2 (due 1970-01-01)."
        );
        assert_eq!(
            summary(
                Locale::en,
                action::UNENROL,
                &json!({"accounts": ["a1", "b", "c", "d", "e"]}),
                &names
            ),
            "Unenrolled Ada, b, c and 2 others."
        );
        assert_eq!(
            summary(
                Locale::en,
                action::GROUP_RULE_ADD,
                &json!({"group": "eng", "due_days": 14, "members": 3}),
                &names
            ),
            "Enrolled group eng (due 14 days after enrolment; 3 members)."
        );
        assert_eq!(
            summary(
                Locale::en,
                action::DUE_DATE,
                &json!({"accounts": ["a1"]}),
                &names
            ),
            "Set the due date of Ada to the group rules' date."
        );
        assert_eq!(
            summary(
                Locale::en,
                action::EXPORT,
                &json!({"what": "the analytics of version 3"}),
                &names
            ),
            "Exported the analytics of version 3 as CSV."
        );
        assert_eq!(
            summary(
                Locale::en,
                action::ACCESS_MODE,
                &json!({"from": AccessMode::Open.label(), "to": AccessMode::SelfEnrol.label(), "version": 2}),
                &names
            ),
            format!(
                "Changed who may take the course from \u{201c}{}\u{201d} to \u{201c}{}\u{201d} (version 2).",
                AccessMode::Open.label(),
                AccessMode::SelfEnrol.label()
            )
        );
        assert_eq!(
            summary(
                Locale::en,
                action::UNENROL,
                &json!({"accounts": ["a1", "b", "c", "d"]}),
                &names
            ),
            "Unenrolled Ada, b, c and 1 other."
        );
    }

    /// The same entries, read by a German admin: German sentences from the
    /// stored data, German days; what an admin typed stays as typed.
    #[test]
    fn german_admins_read_the_log_in_german() {
        let names: HashMap<String, String> = [("a1".to_owned(), "Ada".to_owned())].into();
        let de = |action: &str, d: Value| summary(Locale::de, action, &d, &names);
        assert_eq!(
            de(
                action::ENROL,
                json!({"accounts": ["a1", "b2"], "due_at_ms": 0})
            ),
            "Ada und b2 eingeschrieben (fällig am 01.01.1970)."
        );
        assert_eq!(
            de(action::EXPORT, json!({"what": "the learner table"})),
            "Die Lernendentabelle als CSV exportiert."
        );
        assert_eq!(
            de(
                action::ACCESS_MODE,
                json!({"from": AccessMode::Open.label(), "to": AccessMode::EnrolledOnly.label(), "version": 4})
            ),
            "Geändert, wer den Kurs belegen darf: von \u{201e}Offen für alle, die die Seite sehen können\u{201c} zu \u{201e}Nur eingeschriebene Lernende\u{201c} (Version 4)."
        );
        assert_eq!(
            de(
                action::SUPPORT_GRANT,
                json!({"expires_at_ms": 86_400_000, "reason": "Case 4711"})
            ),
            "Dem Support von Smart Courses Zugriff auf diesen Bereich bis 02.01.1970 gewährt (Case 4711)."
        );
        assert_eq!(
            de(
                action::ERASURE,
                json!({"reason": "account closed", "deleted": 3})
            ),
            "Lerndaten einer Person gelöscht (Konto geschlossen; 3 Datensätze gelöscht)."
        );
    }
}
