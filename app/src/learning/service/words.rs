//! What the learning service tells a learner, in the language of the call
//! (`crate::locale::request_lang`, the page's `loc`). Server only: the
//! words cost the learner's bundle nothing, and the browser shows the text
//! it receives. The English texts are the ones the API tests hold.
//!
//! The timing rules (`course::learning::timing`) stay pure and English;
//! their refusals are recognised here by their text (each is a constant,
//! or a function of the attempt) and worded again for the caller.

use course::learning::{
    cycle::LimitReached,
    records::Attempt,
    timing::{self, Refusal},
};
use leptos_i18n::td_string;

use crate::locale::{fill, request_locale};

/// A learner not enrolled in an *enrolled only* course.
pub(crate) fn ask_space_admin() -> String {
    td_string!(request_locale(), learn_srv.ask_space_admin).into()
}

/// A learner not yet enrolled in a *self-enrol* course.
pub(crate) fn enrol_first() -> String {
    td_string!(request_locale(), learn_srv.enrol_first).into()
}

pub(crate) fn already_submitted() -> String {
    td_string!(request_locale(), learn_srv.already_submitted).into()
}

pub(crate) fn already_answered() -> String {
    td_string!(request_locale(), learn_srv.already_answered).into()
}

pub(crate) fn not_in_attempt() -> String {
    td_string!(request_locale(), learn_srv.not_in_attempt).into()
}

pub(crate) fn answer_unreadable() -> String {
    td_string!(request_locale(), learn_srv.answer_unreadable).into()
}

pub(crate) fn answer_too_long() -> String {
    td_string!(request_locale(), learn_srv.answer_too_long).into()
}

pub(crate) fn open_nothing_to_enrol() -> String {
    td_string!(request_locale(), learn_srv.open_nothing_to_enrol).into()
}

pub(crate) fn token_other_quiz() -> String {
    td_string!(request_locale(), learn_srv.token_other_quiz).into()
}

pub(crate) fn started_elsewhere() -> String {
    td_string!(request_locale(), learn_srv.started_elsewhere).into()
}

pub(crate) fn too_many_answers() -> String {
    td_string!(request_locale(), learn_srv.too_many_answers).into()
}

/// The attempt limit is reached (`LimitReached::message`, worded again).
pub(crate) fn limit_reached(limit: LimitReached) -> String {
    let loc = request_locale();
    match limit.0 {
        1 => td_string!(loc, learn_srv.one_attempt_used).into(),
        n => fill(td_string!(loc, learn_srv.all_attempts_used), &[&n]),
    }
}

/// A refusal's text for the learner: the timing rules' English texts in
/// the caller's language; any other text (already worded here) unchanged.
pub(crate) fn refusal_text(r: &Refusal, a: &Attempt) -> String {
    let loc = request_locale();
    let m = r.message();
    if m == timing::TOO_LATE {
        td_string!(loc, learn_srv.too_late).into()
    } else if m == timing::TOO_EARLY {
        td_string!(loc, learn_srv.too_early).into()
    } else if m == timing::NOT_TIED {
        td_string!(loc, learn_srv.not_tied).into()
    } else if m == timing::BACKDATED {
        td_string!(loc, learn_srv.backdated).into()
    } else if m == timing::too_late_offline(a) {
        match timing::attempt_offline_window_ms(a) / 60_000 {
            1 => td_string!(loc, learn_srv.too_late_offline_one).into(),
            minutes => fill(td_string!(loc, learn_srv.too_late_offline), &[&minutes]),
        }
    } else {
        m.to_owned()
    }
}

/// The texts of a reminder mail in `lang` (the job runs outside any call,
/// so the language is the one the learner last used: `Db::languages`).
pub fn reminder_words(lang: crate::locale::Lang) -> course::learning::reminders::ReminderWords {
    let l = crate::locale::locale_of(lang);
    course::learning::reminders::ReminderWords {
        your_course: td_string!(l, reminder.your_course).into(),
        quoted: td_string!(l, reminder.quoted).into(),
        due_soon_subject: td_string!(l, reminder.due_soon_subject).into(),
        due_soon_body: td_string!(l, reminder.due_soon_body).into(),
        due_soon_ask: td_string!(l, reminder.due_soon_ask).into(),
        overdue_subject: td_string!(l, reminder.overdue_subject).into(),
        overdue_body: td_string!(l, reminder.overdue_body).into(),
        overdue_ask: td_string!(l, reminder.overdue_ask).into(),
        expiry_soon_subject: td_string!(l, reminder.expiry_soon_subject).into(),
        expiry_soon_body: td_string!(l, reminder.expiry_soon_body).into(),
        expiry_soon_ask: td_string!(l, reminder.expiry_soon_ask).into(),
        expired_subject: td_string!(l, reminder.expired_subject).into(),
        expired_body: td_string!(l, reminder.expired_body).into(),
        expired_ask: td_string!(l, reminder.expired_ask).into(),
        hello: td_string!(l, reminder.hello).into(),
        hello_name: td_string!(l, reminder.hello_name).into(),
        open_course: td_string!(l, reminder.open_course).into(),
        find_course: td_string!(l, reminder.find_course).into(),
        once: td_string!(l, reminder.once).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without a request (no `Accept-Language`) the words are English, and
    /// exactly the domain's own.
    #[test]
    fn english_is_the_domains_wording() {
        assert_eq!(limit_reached(LimitReached(1)), LimitReached(1).message());
        assert_eq!(limit_reached(LimitReached(3)), LimitReached(3).message());
        let a = attempt(Some(600_000));
        for m in [
            timing::TOO_LATE,
            timing::TOO_EARLY,
            timing::NOT_TIED,
            timing::BACKDATED,
        ] {
            assert_eq!(refusal_text(&Refusal::Conflict(m.into()), &a), m);
        }
        let late = timing::too_late_offline(&a);
        assert_eq!(refusal_text(&Refusal::Conflict(late.clone()), &a), late);
        assert_eq!(
            refusal_text(&Refusal::Invalid("anything else".into()), &a),
            "anything else"
        );
        // One minute: the singular, as the domain writes it.
        let short = attempt(Some(1_000));
        let one = timing::too_late_offline(&short);
        assert!(one.contains("1 minute after"), "{one}");
        assert_eq!(refusal_text(&Refusal::Conflict(one.clone()), &short), one);
    }

    fn attempt(deadline: Option<i64>) -> Attempt {
        Attempt {
            id: "a".into(),
            course_id: "c".into(),
            module_id: "m".into(),
            account_id: "u".into(),
            client_token: "t".into(),
            course_version: 1,
            page_version: None,
            cycle_version: 1,
            number: 1,
            seed: 7,
            started_at_ms: 0,
            deadline_ms: deadline,
            last_activity_ms: 0,
            submitted_at_ms: None,
            score: None,
            max_score: None,
            percent: None,
            passed: None,
            checkpoint_key: None,
        }
    }
}
