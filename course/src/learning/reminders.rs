//! Reminder e-mails: which ones a learner is due, and what they say.
//!
//! A background job asks [`due_reminders`] about every enrolment (the
//! learner's due date, whether they hold a completion, when its certificate
//! expires) with the server's clock, and gets back at most one reminder per
//! family:
//!
//! | family | kind | when | to whom |
//! |---|---|---|---|
//! | due date | [`ReminderKind::DueSoon`] | from `due_soon_days` before the due date up to it | learners who have not completed |
//! | due date | [`ReminderKind::Overdue`] | after the due date | learners who have not completed |
//! | certificate | [`ReminderKind::ExpirySoon`] | from `expiry_soon_days` before expiry up to it | learners who completed, whose certificate expires |
//! | certificate | [`ReminderKind::Expired`] | from the expiry on | learners who completed, whose certificate expired |
//!
//! **Each reminder goes out once.** The rule itself is stateless: it answers
//! the same on every run of the job. What makes a reminder single is its
//! [`Reminder::key`], which names the kind and the date it is about; the
//! job claims `(tenant, course, learner, key)` in the store
//! (`Db::claim_reminder`) before sending and skips the reminder when the
//! claim was already taken. So a learner gets one "due soon" and one
//! "overdue" mail per due date — and a new pair when an admin moves the due
//! date, because the new date makes new keys.
//!
//! Within a family the later stage wins: once the due date has passed the
//! job sends "overdue", not a late "due soon" as well (a job that was not
//! running during the "due soon" window sends only the one that still
//! makes sense).
//!
//! "Overdue" means the same here as in the space admin's report: the due
//! date lies strictly before now (`due_at_ms < now_ms`).
//!
//! Dates in the mails are calendar days in UTC (`YYYY-MM-DD` in English,
//! `TT.MM.JJJJ` in German): the server does not know the learner's time
//! zone, and the mail says so.
//!
//! **Words.** [`compose`] takes its texts as [`ReminderWords`], the
//! `reminder` section of the app's locale files (`app/locales/*.json`,
//! worded per language by `app::learning::service::reminder_words`): the job
//! writes each mail in the language the learner last used the app in.

use serde::{Deserialize, Serialize};

use crate::{charts::format_day, locale::Lang};

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

/// What the job knows about one learner in one course.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderFacts {
    /// The enrolment's effective due date (epoch ms), if it has one.
    pub due_at_ms: Option<i64>,
    /// The learner holds a completion of the course. Due-date reminders
    /// stop; certificate reminders start (when the certificate expires).
    pub complete: bool,
    /// When the learner's certificate expires (epoch ms; `None`: never, or
    /// no certificate). Only read when `complete`.
    pub expires_at_ms: Option<i64>,
}

/// When reminders go out before a date (from the server's configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReminderSchedule {
    /// Days before the due date from which "due soon" is sent (0: never).
    pub due_soon_days: u32,
    /// Days before a certificate expires from which "expires soon" is sent
    /// (0: never).
    pub expiry_soon_days: u32,
}

impl Default for ReminderSchedule {
    /// Three days' notice of a due date — enough to fit a course into a
    /// working week — and two weeks' notice of an expiry, since renewing
    /// a certificate often needs a manager's time as well.
    fn default() -> Self {
        Self {
            due_soon_days: 3,
            expiry_soon_days: 14,
        }
    }
}

/// What a reminder is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReminderKind {
    /// The due date is near and the course is not complete.
    DueSoon,
    /// The due date has passed and the course is not complete.
    Overdue,
    /// The learner's certificate expires soon.
    ExpirySoon,
    /// The learner's certificate has expired.
    Expired,
}

impl ReminderKind {
    /// The kind's name in reminder keys (stored: never change one).
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderKind::DueSoon => "due-soon",
            ReminderKind::Overdue => "overdue",
            ReminderKind::ExpirySoon => "expiry-soon",
            ReminderKind::Expired => "expired",
        }
    }
}

/// One reminder to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reminder {
    pub kind: ReminderKind,
    /// The date it is about (epoch ms): the due date or the expiry.
    pub at_ms: i64,
}

impl Reminder {
    /// The key the store records once the reminder is claimed, e.g.
    /// `due-soon:1767225600000`: stable for a kind and a date, so the same
    /// reminder is never sent twice and a changed date makes a new one.
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.at_ms)
    }
}

/// The reminders a learner is due at `now_ms`: at most one about the due
/// date (only while not complete) and at most one about the certificate
/// (only once complete). The same answer on every call — see the module
/// docs for how the keys keep each one to a single mail.
pub fn due_reminders(
    facts: &ReminderFacts,
    schedule: &ReminderSchedule,
    now_ms: i64,
) -> Vec<Reminder> {
    let mut out = Vec::new();
    if facts.complete {
        if let Some(expiry) = facts.expires_at_ms {
            // A certificate that expires at `now_ms` has expired (as in
            // `certificate::expired`).
            if now_ms >= expiry {
                out.push(Reminder {
                    kind: ReminderKind::Expired,
                    at_ms: expiry,
                });
            } else if now_ms >= window_start(expiry, schedule.expiry_soon_days) {
                out.push(Reminder {
                    kind: ReminderKind::ExpirySoon,
                    at_ms: expiry,
                });
            }
        }
    } else if let Some(due) = facts.due_at_ms {
        if now_ms > due {
            out.push(Reminder {
                kind: ReminderKind::Overdue,
                at_ms: due,
            });
        } else if now_ms >= window_start(due, schedule.due_soon_days) {
            out.push(Reminder {
                kind: ReminderKind::DueSoon,
                at_ms: due,
            });
        }
    }
    out
}

/// The first moment of the "soon" window before `at_ms`. A window of 0
/// days starts after `at_ms`, so it never opens. Saturating: stored dates
/// are not trusted to be sane.
fn window_start(at_ms: i64, days: u32) -> i64 {
    if days == 0 {
        return i64::MAX;
    }
    at_ms.saturating_sub(i64::from(days).saturating_mul(DAY_MS))
}

/// What a reminder mail names besides its date.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReminderText {
    /// The course's title.
    pub course_title: String,
    /// The page the course lives on, when known (a link for the learner).
    pub page_url: Option<String>,
    /// The learner's display name, as Confluence shares it (may be empty).
    pub learner_name: String,
}

/// The texts of a reminder mail in one language: the `reminder` section of
/// a locale file (`app/locales/en.json`), `{0}` the course (quoted, or
/// `your_course`), `{1}` the day.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderWords {
    pub your_course: String,
    pub quoted: String,
    pub due_soon_subject: String,
    pub due_soon_body: String,
    pub due_soon_ask: String,
    pub overdue_subject: String,
    pub overdue_body: String,
    pub overdue_ask: String,
    pub expiry_soon_subject: String,
    pub expiry_soon_body: String,
    pub expiry_soon_ask: String,
    pub expired_subject: String,
    pub expired_body: String,
    pub expired_ask: String,
    pub hello: String,
    pub hello_name: String,
    pub open_course: String,
    pub find_course: String,
    pub once: String,
}

/// `template` with `{0}`, `{1}`, … replaced by `args` (the locale files'
/// placeholders). One pass over the template: a course title that itself
/// contains `{1}` stays as written.
fn fill(template: &str, args: &[&str]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let arg = after.find('}').and_then(|close| {
            let i: usize = after[..close].parse().ok()?;
            Some((args.get(i)?, close))
        });
        match arg {
            Some((value, close)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The subject and plain-text body of a reminder mail, in `lang` with
/// `words` (that language's texts).
///
/// Course titles and names are authored text: the subject keeps them to one
/// line (control characters become spaces) so that no text can end the
/// header early, and the body says the dates are UTC.
pub fn compose(
    reminder: &Reminder,
    text: &ReminderText,
    lang: Lang,
    words: &ReminderWords,
) -> (String, String) {
    let title = one_line(&text.course_title);
    let title = if title.is_empty() {
        words.your_course.clone()
    } else {
        fill(&words.quoted, &[&title])
    };
    let day = reminder.at_ms.div_euclid(DAY_MS);
    let date = match lang {
        Lang::En => format_day(day),
        Lang::De => Lang::De.date(day.saturating_mul(86_400)),
    };
    let (subject, body, ask) = match reminder.kind {
        ReminderKind::DueSoon => (
            &words.due_soon_subject,
            &words.due_soon_body,
            &words.due_soon_ask,
        ),
        ReminderKind::Overdue => (
            &words.overdue_subject,
            &words.overdue_body,
            &words.overdue_ask,
        ),
        ReminderKind::ExpirySoon => (
            &words.expiry_soon_subject,
            &words.expiry_soon_body,
            &words.expiry_soon_ask,
        ),
        ReminderKind::Expired => (
            &words.expired_subject,
            &words.expired_body,
            &words.expired_ask,
        ),
    };
    let subject = fill(subject, &[&title, &date]);
    let line = fill(body, &[&title, &date]);
    let name = one_line(&text.learner_name);
    let greeting = if name.is_empty() {
        words.hello.clone()
    } else {
        fill(&words.hello_name, &[&name])
    };
    let link = match text.page_url.as_deref().map(one_line) {
        Some(url) if !url.is_empty() => fill(&words.open_course, &[&url]),
        _ => words.find_course.clone(),
    };
    let body = format!(
        "{greeting}\n\n{line}\n{ask}\n\n{link}\n\n{}\n\n-- \nSmart Courses for Confluence\n",
        words.once
    );
    (subject, body)
}

/// `s` on one line: control characters (line breaks, tabs) become spaces,
/// runs of spaces one space, no spaces at either end.
fn one_line(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The `reminder` texts of the app's locale file for `lang`.
    fn words(lang: &str) -> ReminderWords {
        let file = match lang {
            "de" => include_str!("../../../app/locales/de.json"),
            _ => include_str!("../../../app/locales/en.json"),
        };
        let all: serde_json::Value = serde_json::from_str(file).unwrap();
        serde_json::from_value(all["reminder"].clone()).unwrap()
    }

    fn en(reminder: &Reminder, text: &ReminderText) -> (String, String) {
        compose(reminder, text, Lang::En, &words("en"))
    }

    /// 2026-01-01T00:00:00Z.
    const JAN_1: i64 = 1_767_225_600_000;

    fn open(due: i64) -> ReminderFacts {
        ReminderFacts {
            due_at_ms: Some(due),
            complete: false,
            expires_at_ms: None,
        }
    }

    fn certified(expiry: i64) -> ReminderFacts {
        ReminderFacts {
            due_at_ms: Some(JAN_1),
            complete: true,
            expires_at_ms: Some(expiry),
        }
    }

    fn kinds(facts: &ReminderFacts, now: i64) -> Vec<ReminderKind> {
        due_reminders(facts, &ReminderSchedule::default(), now)
            .iter()
            .map(|r| r.kind)
            .collect()
    }

    #[test]
    fn the_default_schedule_gives_three_and_fourteen_days_notice() {
        let s = ReminderSchedule::default();
        assert_eq!((s.due_soon_days, s.expiry_soon_days), (3, 14));
        let parsed: ReminderSchedule = serde_json::from_str(r#"{"due_soon_days":5}"#).unwrap();
        assert_eq!((parsed.due_soon_days, parsed.expiry_soon_days), (5, 14));
    }

    #[test]
    fn due_soon_opens_three_days_before_and_overdue_follows_the_due_date() {
        let f = open(JAN_1);
        assert!(kinds(&f, JAN_1 - 3 * DAY_MS - 1).is_empty());
        assert_eq!(kinds(&f, JAN_1 - 3 * DAY_MS), [ReminderKind::DueSoon]);
        assert_eq!(
            kinds(&f, JAN_1),
            [ReminderKind::DueSoon],
            "due, not yet overdue (as in the report)"
        );
        assert_eq!(kinds(&f, JAN_1 + 1), [ReminderKind::Overdue]);
        assert_eq!(kinds(&f, JAN_1 + 400 * DAY_MS), [ReminderKind::Overdue]);
    }

    #[test]
    fn keys_name_the_kind_and_the_date_so_a_new_due_date_is_a_new_reminder() {
        let r = due_reminders(&open(JAN_1), &ReminderSchedule::default(), JAN_1 - DAY_MS);
        assert_eq!(r[0].key(), "due-soon:1767225600000");
        let later = due_reminders(&open(JAN_1), &ReminderSchedule::default(), JAN_1 + 1);
        assert_eq!(later[0].key(), "overdue:1767225600000");
        let moved = due_reminders(
            &open(JAN_1 + 7 * DAY_MS),
            &ReminderSchedule::default(),
            JAN_1 + 5 * DAY_MS,
        );
        assert_eq!(moved[0].key(), "due-soon:1767830400000");
        assert_eq!(
            Reminder {
                kind: ReminderKind::ExpirySoon,
                at_ms: 5
            }
            .key(),
            "expiry-soon:5"
        );
        assert_eq!(
            Reminder {
                kind: ReminderKind::Expired,
                at_ms: -5
            }
            .key(),
            "expired:-5"
        );
    }

    #[test]
    fn completed_learners_get_no_due_date_reminders() {
        let done = ReminderFacts {
            due_at_ms: Some(JAN_1),
            complete: true,
            expires_at_ms: None,
        };
        assert!(kinds(&done, JAN_1 - DAY_MS).is_empty());
        assert!(kinds(&done, JAN_1 + DAY_MS).is_empty());
    }

    #[test]
    fn learners_without_a_due_date_get_no_due_date_reminders() {
        assert!(kinds(&ReminderFacts::default(), JAN_1).is_empty());
    }

    #[test]
    fn certificate_reminders_go_to_completed_learners_only() {
        let expiry = JAN_1 + 30 * DAY_MS;
        let f = certified(expiry);
        assert!(kinds(&f, expiry - 14 * DAY_MS - 1).is_empty());
        assert_eq!(kinds(&f, expiry - 14 * DAY_MS), [ReminderKind::ExpirySoon]);
        assert_eq!(kinds(&f, expiry - 1), [ReminderKind::ExpirySoon]);
        assert_eq!(
            kinds(&f, expiry),
            [ReminderKind::Expired],
            "expired at the instant, as certificate::expired"
        );
        let not_done = ReminderFacts {
            complete: false,
            due_at_ms: None,
            expires_at_ms: Some(expiry),
        };
        assert!(kinds(&not_done, expiry + 1).is_empty());
    }

    #[test]
    fn a_zero_day_window_sends_no_soon_reminder_but_still_the_late_one() {
        let s = ReminderSchedule {
            due_soon_days: 0,
            expiry_soon_days: 0,
        };
        assert!(due_reminders(&open(JAN_1), &s, JAN_1).is_empty());
        assert_eq!(
            due_reminders(&open(JAN_1), &s, JAN_1 + 1)[0].kind,
            ReminderKind::Overdue
        );
        assert!(due_reminders(&certified(JAN_1), &s, JAN_1 - 1).is_empty());
        assert_eq!(
            due_reminders(&certified(JAN_1), &s, JAN_1)[0].kind,
            ReminderKind::Expired
        );
    }

    #[test]
    fn extreme_dates_do_not_overflow() {
        let s = ReminderSchedule {
            due_soon_days: u32::MAX,
            expiry_soon_days: u32::MAX,
        };
        assert_eq!(
            due_reminders(&open(i64::MIN), &s, i64::MIN)[0].kind,
            ReminderKind::DueSoon
        );
        assert_eq!(
            due_reminders(&open(i64::MAX), &s, i64::MAX)[0].kind,
            ReminderKind::DueSoon
        );
        assert_eq!(
            due_reminders(&certified(i64::MIN), &s, i64::MAX)[0].kind,
            ReminderKind::Expired
        );
    }

    #[test]
    fn mails_name_the_course_the_date_in_utc_and_the_page() {
        let text = ReminderText {
            course_title: "Fire safety".into(),
            page_url: Some("https://acme.atlassian.net/wiki/spaces/HR/pages/42".into()),
            learner_name: "Ada Lovelace".into(),
        };
        let due = |kind| Reminder {
            kind,
            at_ms: JAN_1 + 10 * 3_600_000,
        };
        let (subject, body) = en(&due(ReminderKind::DueSoon), &text);
        assert_eq!(subject, "Reminder: \"Fire safety\" is due on 2026-01-01");
        assert!(body.starts_with("Hello Ada Lovelace,\n\n"), "{body}");
        assert!(
            body.contains("is due on 2026-01-01 (UTC), and you have not completed it yet."),
            "{body}"
        );
        assert!(
            body.contains("Open the course: https://acme.atlassian.net/wiki/spaces/HR/pages/42\n")
        );

        let (subject, body) = en(&due(ReminderKind::Overdue), &text);
        assert_eq!(subject, "Overdue: \"Fire safety\" was due on 2026-01-01");
        assert!(body.contains("as soon as you can"));

        let (subject, body) = en(&due(ReminderKind::ExpirySoon), &text);
        assert_eq!(
            subject,
            "Your certificate for \"Fire safety\" expires on 2026-01-01"
        );
        assert!(body.contains("renew it"));

        let (subject, body) = en(&due(ReminderKind::Expired), &text);
        assert_eq!(subject, "Your certificate for \"Fire safety\" has expired");
        assert!(body.contains("expired on 2026-01-01 (UTC)"));
    }

    #[test]
    fn mails_without_a_name_title_or_page_still_read_well() {
        let (subject, body) = en(
            &Reminder {
                kind: ReminderKind::DueSoon,
                at_ms: JAN_1 - 1,
            },
            &ReminderText::default(),
        );
        assert_eq!(subject, "Reminder: your course is due on 2025-12-31");
        assert!(body.starts_with("Hello,\n\n"));
        assert!(body.contains("in Confluence."));
    }

    #[test]
    fn authored_text_cannot_break_the_subject_line() {
        let text = ReminderText {
            course_title: "Safety\r\nBcc: everyone@example.com\t ".into(),
            page_url: Some(" \n".into()),
            learner_name: "Eve\n\nP.S.".into(),
        };
        let (subject, body) = en(
            &Reminder {
                kind: ReminderKind::Overdue,
                at_ms: JAN_1,
            },
            &text,
        );
        assert_eq!(
            subject,
            "Overdue: \"Safety Bcc: everyone@example.com\" was due on 2026-01-01"
        );
        assert!(body.starts_with("Hello Eve P.S.,\n"));
        assert!(body.contains("in Confluence."), "a blank link is no link");
    }

    #[test]
    fn german_mails_speak_german_with_german_dates() {
        let text = ReminderText {
            course_title: "Brandschutz".into(),
            page_url: Some("https://acme.atlassian.net/wiki/spaces/HR/pages/42".into()),
            learner_name: "Lea Lernt".into(),
        };
        let r = Reminder {
            kind: ReminderKind::DueSoon,
            at_ms: JAN_1 + 10 * 3_600_000,
        };
        let (subject, body) = compose(&r, &text, Lang::De, &words("de"));
        assert_eq!(
            subject,
            "Erinnerung: „Brandschutz“ ist am 01.01.2026 fällig"
        );
        assert!(body.starts_with("Hallo Lea Lernt,\n\n"), "{body}");
        assert!(body.contains("ist am 01.01.2026 (UTC) fällig"), "{body}");
        assert!(body.contains("Zum Kurs: https://acme.atlassian.net/wiki/spaces/HR/pages/42\n"));
        let expired = Reminder {
            kind: ReminderKind::Expired,
            ..r
        };
        let (subject, _) = compose(&expired, &ReminderText::default(), Lang::De, &words("de"));
        assert_eq!(
            subject,
            "Dein Zertifikat für „Kurs ohne Titel“ ist abgelaufen"
        );
    }

    #[test]
    fn placeholders_in_authored_text_stay_as_written() {
        let text = ReminderText {
            course_title: "Safety {1} {0} {".into(),
            ..ReminderText::default()
        };
        let (subject, _) = en(
            &Reminder {
                kind: ReminderKind::DueSoon,
                at_ms: JAN_1,
            },
            &text,
        );
        assert_eq!(
            subject,
            "Reminder: \"Safety {1} {0} {\" is due on 2026-01-01"
        );
        assert_eq!(fill("{0}{x}{9}{", &["a"]), "a{x}{9}{");
    }

    proptest! {
        #[test]
        fn at_most_one_reminder_per_family_and_only_for_the_right_learners(
            due in proptest::option::of(-1_000i64..1_000),
            expiry in proptest::option::of(-1_000i64..1_000),
            complete in any::<bool>(),
            now in -1_000i64..1_000,
            due_soon_days in 0u32..3,
            expiry_soon_days in 0u32..3,
        ) {
            let facts = ReminderFacts {
                due_at_ms: due.map(|d| d * DAY_MS / 100),
                complete,
                expires_at_ms: expiry.map(|e| e * DAY_MS / 100),
            };
            let schedule = ReminderSchedule { due_soon_days, expiry_soon_days };
            let now = now * DAY_MS / 100;
            let out = due_reminders(&facts, &schedule, now);
            prop_assert!(out.len() <= 1, "complete picks exactly one family");
            for r in &out {
                match r.kind {
                    ReminderKind::DueSoon | ReminderKind::Overdue => {
                        prop_assert!(!complete);
                        prop_assert_eq!(Some(r.at_ms), facts.due_at_ms);
                        prop_assert_eq!(r.kind == ReminderKind::Overdue, now > r.at_ms);
                        if r.kind == ReminderKind::DueSoon {
                            prop_assert!(now >= r.at_ms - i64::from(due_soon_days) * DAY_MS);
                        }
                    }
                    ReminderKind::ExpirySoon | ReminderKind::Expired => {
                        prop_assert!(complete);
                        prop_assert_eq!(Some(r.at_ms), facts.expires_at_ms);
                        prop_assert_eq!(r.kind == ReminderKind::Expired, now >= r.at_ms);
                    }
                }
            }
            // Once late, always late: the key of a later run is the same
            // or the next stage, never back to "soon".
            let later = due_reminders(&facts, &schedule, now + DAY_MS);
            if out.iter().any(|r| matches!(r.kind, ReminderKind::Overdue | ReminderKind::Expired)) {
                prop_assert_eq!(&later, &out);
            }
        }

        #[test]
        fn subjects_are_one_line_whatever_the_title(
            title in "\\PC*[\r\n\t]\\PC*",
            kind in prop_oneof![
                Just(ReminderKind::DueSoon),
                Just(ReminderKind::Overdue),
                Just(ReminderKind::ExpirySoon),
                Just(ReminderKind::Expired),
            ],
            at_ms in any::<i64>(),
        ) {
            let (subject, _) = en(
                &Reminder { kind, at_ms },
                &ReminderText { course_title: title, ..ReminderText::default() },
            );
            prop_assert!(!subject.chars().any(char::is_control), "{:?}", subject);
        }
    }
}
