//! The reminder job: e-mails for due dates (before and when overdue) and
//! certificate expiry, to the address Confluence shares with the app
//! (ACCESS_EMAIL_ADDRESSES), over SMTP (`mail`). Off when SMTP is not
//! configured.
//!
//! Which reminder a learner is due is the pure rule
//! `course::learning::reminders`; each one is *claimed* in the database
//! before the mail goes out (`reminders_sent`), so it is sent once — also
//! with two server processes — and a failed send is released and tried on
//! the next run (a permanent refusal, such as a bad address, is not). A
//! learner who completed gets no due-date reminder; one whose address
//! Confluence does not share gets none (and nothing is claimed for them).
//! Dates further back than [`LOOK_BACK`] are left alone, so turning
//! reminders on does not mail everyone about last year.
//!
//! **Language**: each mail is written in the language the learner last used
//! the app in — the `loc` Confluence gives the page, which every
//! server-function call carries as `Accept-Language` and the guards record
//! when it changes (`store::languages`, part of the tenant's data: backed
//! up, erased, purged). The texts are the `reminder` section of the locale
//! files (`app::learning::service::reminder_words`). Someone the app has
//! never seen with a language gets English.

use std::collections::{HashMap, HashSet};

use app::state::AppState;
use connect::TenantKey;
use course::learning::reminders::{
    compose, due_reminders, ReminderFacts, ReminderSchedule, ReminderText, ReminderWords,
};
use course::locale::Lang;
use mail::Mailer;
use store::reminders::ReminderCandidate;

/// How far back a due date or expiry may be and still get its reminder.
pub const LOOK_BACK_DAYS: i64 = 14;
const LOOK_BACK: i64 = LOOK_BACK_DAYS * DAY_MS;
const DAY_MS: i64 = 86_400_000;
/// Candidates read per statement.
const PAGE: i64 = 500;

/// What the job needs: the mailer and when to remind.
#[derive(Clone, Debug)]
pub struct ReminderSettings {
    pub mailer: Mailer,
    pub schedule: ReminderSchedule,
}

/// What one run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReminderRun {
    pub sent: usize,
    /// Reminders due to learners whose address Confluence does not share.
    pub no_address: usize,
    /// Sends that failed (released for the next run unless permanent).
    pub failed: usize,
}

/// One run over every active site.
pub async fn send_reminders_once(state: &AppState, settings: &ReminderSettings) -> ReminderRun {
    let mut run = ReminderRun::default();
    let tenants = match state.connect.tenants.active().await {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "reminders: cannot list sites");
            return run;
        }
    };
    for tenant in tenants {
        if let Err(e) = tenant_run(state, settings, &tenant, &mut run).await {
            tracing::error!(error = %e, "reminders: a site's run stopped");
        }
    }
    run
}

async fn tenant_run(
    state: &AppState,
    settings: &ReminderSettings,
    tenant: &TenantKey,
    run: &mut ReminderRun,
) -> Result<(), store::StoreError> {
    let now = state.learning.now_ms();
    let schedule = settings.schedule;
    let due_to = now + i64::from(schedule.due_soon_days) * DAY_MS;
    let expiry_to = now + i64::from(schedule.expiry_soon_days) * DAY_MS;
    let mut courses: HashMap<String, ReminderText> = HashMap::new();
    let words: HashMap<Lang, ReminderWords> = Lang::ALL
        .into_iter()
        .map(|l| (l, app::learning::service::reminder_words(l)))
        .collect();
    let mut after: Option<(String, String)> = None;
    loop {
        let page = state
            .db
            .reminder_candidates(
                tenant,
                now - LOOK_BACK,
                due_to,
                expiry_to,
                after.as_ref().map(|(c, a)| (c.as_str(), a.as_str())),
                PAGE,
            )
            .await?;
        let Some(last) = page.last() else { break };
        after = Some((last.course_id.clone(), last.account_id.clone()));
        let full = page.len() as i64 == PAGE;
        let due: Vec<(
            ReminderCandidate,
            Vec<course::learning::reminders::Reminder>,
        )> = page
            .into_iter()
            .map(|c| {
                let facts = ReminderFacts {
                    due_at_ms: c.due_at_ms,
                    complete: c.complete,
                    expires_at_ms: c.expires_at_ms,
                };
                let r = due_reminders(&facts, &schedule, now);
                (c, r)
            })
            .filter(|(_, r)| !r.is_empty())
            .collect();
        if !due.is_empty() {
            let accounts: Vec<String> = due
                .iter()
                .map(|(c, _)| c.account_id.clone())
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            let emails = match connect::directory::emails(&state.connect, tenant, &accounts).await {
                Ok(e) => e,
                Err(e) => {
                    // Nothing claimed: the next run tries again.
                    tracing::warn!(error = %e, "reminders: e-mail addresses unavailable");
                    HashMap::new()
                }
            };
            let names = connect::users::display_names(&state.connect, tenant, &accounts).await;
            // Each mail in the language the learner last used the app in
            // (English for anyone the app has not seen with one).
            let langs = state.db.languages(tenant, &accounts).await?;
            for (c, reminders) in due {
                let Some(to) = emails.get(&c.account_id) else {
                    run.no_address += reminders.len();
                    continue;
                };
                if !courses.contains_key(&c.course_id) {
                    let text = course_text(state, tenant, &c.course_id).await?;
                    courses.insert(c.course_id.clone(), text);
                }
                let mut text = courses[&c.course_id].clone();
                text.learner_name = names.get(&c.account_id).cloned().unwrap_or_default();
                for r in reminders {
                    let key = r.key();
                    if !state
                        .db
                        .claim_reminder(tenant, &c.course_id, &c.account_id, &key, now)
                        .await?
                    {
                        continue;
                    }
                    let lang = langs
                        .get(&c.account_id)
                        .map(|t| Lang::from_tag(t))
                        .unwrap_or_default();
                    let (subject, body) = compose(&r, &text, lang, &words[&lang]);
                    match settings.mailer.send(to, &subject, &body).await {
                        Ok(()) => run.sent += 1,
                        Err(e) => {
                            run.failed += 1;
                            tracing::warn!(error = %e, reminder = %key, "reminder not sent");
                            if !e.is_permanent() {
                                state
                                    .db
                                    .release_reminder(tenant, &c.course_id, &c.account_id, &key)
                                    .await?;
                            }
                        }
                    }
                }
            }
        }
        if !full {
            break;
        }
    }
    Ok(())
}

/// The course's title (the page's, when Confluence gives it) and link.
async fn course_text(
    state: &AppState,
    tenant: &TenantKey,
    course_id: &str,
) -> Result<ReminderText, store::StoreError> {
    let Some(row) = state.db.course(tenant, course_id).await? else {
        return Ok(ReminderText::default());
    };
    let page = state
        .space_admin
        .pages(state, tenant, std::slice::from_ref(&row.page_id))
        .await
        .remove(&row.page_id);
    Ok(ReminderText {
        course_title: row.title.clone(),
        page_url: page.and_then(|p| p.url),
        learner_name: String::new(),
    })
}
