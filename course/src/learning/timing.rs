//! Time limits: when an answer counts and where an attempt stands.
//!
//! **The server's clock decides.** `answered_at_ms` is the moment the
//! learner answered, in server time (the browser adds `server_now_ms −
//! Date.now()`, measured when the attempt view arrived, to its own clock);
//! it is a claim, so it is only ever used to *refuse*, never to extend time:
//!
//! 1. `answered_at_ms ≥ started_at_ms − EARLY_SLACK_MS` (5 s of clock slack);
//! 2. with a time limit, an answer the server **receives** by
//!    `deadline_ms + GRACE_MS` (30 s for latency and the moment the countdown
//!    hits zero) counts if it claims a time up to that point;
//! 3. an answer received **later** — kept in the browser's offline journal
//!    while the network was down — counts only if all of these hold:
//!    - it claims a time at or before the deadline;
//!    - it arrives within the quiz's **offline window** after the deadline:
//!      the quiz's own time limit, at least 1 and at most 10 minutes
//!      ([`offline_window_ms`]) — not a day;
//!    - it carries a **checkpoint** the server issued for this attempt
//!      before the deadline (with the attempt view and with every saved
//!      answer: a MAC over the attempt and the server time, see
//!      [`super::checkpoint`]) and claims a time no earlier than that
//!      checkpoint: it was given after the browser's last contact with the
//!      server, which is what an offline answer is (one given while in
//!      contact was saved then);
//!    - the learner has not started another attempt at the quiz since
//!      (starting one grades the timed-out attempt first, so late answers
//!      can no longer reach it).
//!
//!    Such an answer is stored as a **late arrival** (received after the
//!    grace), which the space admin's report shows.
//!
//! A claimed time later than the server's receipt time is stored as the
//! receipt time.

use super::records::Attempt;

/// Answers answered up to this long after the deadline still count (server
/// time), covering network latency and the countdown reaching zero.
pub const GRACE_MS: i64 = 30_000;

/// The shortest offline window (see [`offline_window_ms`]).
pub const MIN_OFFLINE_WINDOW_MS: i64 = 60_000;

/// The longest offline window (see [`offline_window_ms`]).
pub const MAX_OFFLINE_WINDOW_MS: i64 = 10 * 60_000;

/// How long after the deadline answers journalled offline may still arrive:
/// the quiz's time limit, clamped to 1..=10 minutes (a learner gets at most
/// the quiz's own length again, and never more than ten minutes, for a
/// network that was down). Unsubmitted attempts are graded after it.
pub fn offline_window_ms(time_limit_ms: i64) -> i64 {
    time_limit_ms.clamp(MIN_OFFLINE_WINDOW_MS, MAX_OFFLINE_WINDOW_MS)
}

/// The offline window of attempt `a` (0 without a time limit).
pub fn attempt_offline_window_ms(a: &Attempt) -> i64 {
    a.deadline_ms
        .map_or(0, |d| offline_window_ms(d - a.started_at_ms))
}

/// An answer may claim to be this much older than the attempt's start
/// (clock slack) before it is refused.
pub const EARLY_SLACK_MS: i64 = 5_000;

/// Where an attempt stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AttemptState {
    /// Open: answers are accepted.
    InProgress,
    /// The time limit (plus grace) passed without a submit; submit it (with
    /// the offline journal) to be graded — done automatically after the
    /// offline window.
    TimeUp,
    Submitted,
}

/// Why an answer does not count; the status it answers with follows the kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The request itself is wrong (400).
    Invalid(String),
    /// Too late, or the attempt moved on (409).
    Conflict(String),
}

impl Refusal {
    /// The text for the learner.
    pub fn message(&self) -> &str {
        match self {
            Refusal::Invalid(m) | Refusal::Conflict(m) => m,
        }
    }
}

/// The learner's text for an answer given after the time limit.
pub const TOO_LATE: &str =
    "Time ran out for this attempt: this answer was given after the time limit and does not count.";

/// The learner's text for an answer given before the attempt started.
pub const TOO_EARLY: &str =
    "This answer is timed before the attempt started. Check your device's clock, reload and try again.";

/// The learner's text for a journal that arrives after the offline window.
pub fn too_late_offline(a: &Attempt) -> String {
    let minutes = attempt_offline_window_ms(a) / 60_000;
    format!(
        "This answer arrived more than {minutes} minute{} after the attempt's time limit and can no longer count.",
        if minutes == 1 { "" } else { "s" }
    )
}

/// The learner's text for a late answer the server cannot tie to the attempt.
pub const NOT_TIED: &str = "This answer reached the server after the time limit without a record \
    that it was given while the attempt was open, so it cannot count.";

/// The learner's text for a late answer claimed before the last contact.
pub const BACKDATED: &str = "This answer is timed before your device last heard from the server; \
    answers given then were saved at once, so this one cannot count after the time limit.";

/// An accepted answer: the time to store, and whether it is a late arrival.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accepted {
    pub answered_at_ms: i64,
    /// Received after the deadline and its grace (from the offline journal).
    pub late: bool,
}

/// Applies the timing rules (module docs) to an answer claimed to be given
/// at `answered_at` and received `now`. `checkpoint_issued_at` is the issue
/// time of the checkpoint the answer carries, already verified for this
/// attempt (`None`: none, or not valid).
pub fn check_answer_time(
    a: &Attempt,
    answered_at: i64,
    now: i64,
    checkpoint_issued_at: Option<i64>,
) -> Result<Accepted, Refusal> {
    if answered_at < a.started_at_ms - EARLY_SLACK_MS {
        return Err(Refusal::Invalid(TOO_EARLY.into()));
    }
    let on_time = Accepted {
        answered_at_ms: answered_at.min(now),
        late: false,
    };
    let Some(deadline) = a.deadline_ms else {
        return Ok(on_time);
    };
    if answered_at > deadline + GRACE_MS {
        return Err(Refusal::Conflict(TOO_LATE.into()));
    }
    if now <= deadline + GRACE_MS {
        return Ok(on_time);
    }
    // Received late: only answers journalled offline in time, within the
    // window, tied to this attempt by a checkpoint from before the deadline.
    if answered_at > deadline {
        return Err(Refusal::Conflict(TOO_LATE.into()));
    }
    if now > deadline + attempt_offline_window_ms(a) {
        return Err(Refusal::Conflict(too_late_offline(a)));
    }
    let Some(issued) = checkpoint_issued_at.filter(|t| *t <= deadline && *t >= a.started_at_ms)
    else {
        return Err(Refusal::Conflict(NOT_TIED.into()));
    };
    if answered_at < issued - EARLY_SLACK_MS {
        return Err(Refusal::Conflict(BACKDATED.into()));
    }
    Ok(Accepted {
        answered_at_ms: answered_at,
        late: true,
    })
}

/// Open: not submitted, and within its time limit plus grace.
pub fn is_open(a: &Attempt, now: i64) -> bool {
    a.submitted_at_ms.is_none() && a.deadline_ms.is_none_or(|d| now <= d + GRACE_MS)
}

/// Where `a` stands at `now`.
pub fn state_of(a: &Attempt, now: i64) -> AttemptState {
    if a.submitted_at_ms.is_some() {
        AttemptState::Submitted
    } else if is_open(a, now) {
        AttemptState::InProgress
    } else {
        AttemptState::TimeUp
    }
}

/// Left unsubmitted past the offline window: to be graded with the answers
/// the server holds (on the learner's next visit, or for a report).
pub fn abandoned(a: &Attempt, now: i64) -> bool {
    a.submitted_at_ms.is_none()
        && a.deadline_ms
            .is_some_and(|d| now > d + attempt_offline_window_ms(a))
}

/// Timed out and not submitted (its late answers may still arrive, until
/// the learner starts another attempt or the offline window closes).
pub fn timed_out(a: &Attempt, now: i64) -> bool {
    state_of(a, now) == AttemptState::TimeUp
}

/// Until when (exclusive, epoch ms) what the clock decides about these
/// attempts and an enrolment due at `due_at_ms` stays as it is at `now`:
/// [`is_open`], [`abandoned`] and, unless the course is `complete`, whether
/// the due date has passed (`due < now`). `i64::MAX`: nothing changes with
/// time alone. A learner's course view computed at `now` may be served
/// again until then (as long as none of their records changed: the caller
/// keeps it only in a cache their writes clear).
pub fn unchanged_until(
    attempts: &[Attempt],
    due_at_ms: Option<i64>,
    complete: bool,
    now: i64,
) -> i64 {
    // Each rule flips one millisecond after its boundary (`now <= b` holds
    // through `b`); a boundary already behind `now` has flipped for good.
    let flips = |b: i64| (b >= now).then(|| b.saturating_add(1));
    let attempts = attempts
        .iter()
        .filter(|a| a.submitted_at_ms.is_none())
        .filter_map(|a| a.deadline_ms.map(|d| (a, d)))
        .flat_map(|(a, d)| {
            [
                flips(d.saturating_add(GRACE_MS)),
                flips(d.saturating_add(attempt_offline_window_ms(a))),
            ]
        })
        .flatten();
    let due = due_at_ms.filter(|_| !complete).and_then(flips);
    attempts.chain(due).min().unwrap_or(i64::MAX)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn attempt(started: i64, deadline: Option<i64>) -> Attempt {
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
            started_at_ms: started,
            deadline_ms: deadline,
            last_activity_ms: started,
            submitted_at_ms: None,
            score: None,
            max_score: None,
            percent: None,
            passed: None,
            checkpoint_key: Some("k".into()),
        }
    }

    const START: i64 = 1_000_000;
    const LIMIT: i64 = 600_000; // a 10-minute quiz: a 10-minute offline window
    const WINDOW: i64 = 600_000;

    fn ok(at: i64, late: bool) -> Result<Accepted, Refusal> {
        Ok(Accepted {
            answered_at_ms: at,
            late,
        })
    }

    #[test]
    fn the_offline_window_is_the_quiz_length_between_one_and_ten_minutes() {
        assert_eq!(offline_window_ms(30_000), 60_000);
        assert_eq!(offline_window_ms(300_000), 300_000);
        assert_eq!(offline_window_ms(7_200_000), 600_000);
        assert_eq!(
            attempt_offline_window_ms(&attempt(START, Some(START + LIMIT))),
            WINDOW
        );
        assert_eq!(attempt_offline_window_ms(&attempt(START, None)), 0);
    }

    #[test]
    fn answers_received_in_time_count_whatever_they_carry() {
        let a = attempt(START, Some(START + LIMIT));
        let deadline = START + LIMIT;
        assert_eq!(
            check_answer_time(&a, START + 10, START + 20, None),
            ok(START + 10, false)
        );
        // In the grace period, received in it.
        assert_eq!(
            check_answer_time(&a, deadline + 5_000, deadline + 6_000, None),
            ok(deadline + 5_000, false)
        );
        // A claimed time later than receipt is stored as the receipt time.
        assert_eq!(
            check_answer_time(&a, START + 90, START + 20, None),
            ok(START + 20, false)
        );
        // Claimed after the grace.
        assert!(matches!(
            check_answer_time(&a, deadline + GRACE_MS + 1, deadline + GRACE_MS + 2, None),
            Err(Refusal::Conflict(_))
        ));
        // Before the start (beyond the slack).
        assert_eq!(
            check_answer_time(&a, START - EARLY_SLACK_MS - 1, START, None),
            Err(Refusal::Invalid(TOO_EARLY.into()))
        );
    }

    #[test]
    fn late_arrivals_need_a_checkpoint_from_before_the_deadline_and_the_window() {
        let a = attempt(START, Some(START + LIMIT));
        let deadline = START + LIMIT;
        let checkpoint = Some(START + 120_000);
        let late = deadline + 300_000;
        // Journalled offline after the last contact, in time: counts, late.
        assert_eq!(
            check_answer_time(&a, deadline - 1, late, checkpoint),
            ok(deadline - 1, true)
        );
        // Stamped one millisecond before the deadline, hours later: refused.
        assert!(matches!(
            check_answer_time(&a, deadline - 1, deadline + 2 * 3_600_000, checkpoint),
            Err(Refusal::Conflict(m)) if m.contains("10 minutes")
        ));
        // No checkpoint, or one issued after the deadline: not tied.
        assert_eq!(
            check_answer_time(&a, deadline - 1, late, None),
            Err(Refusal::Conflict(NOT_TIED.into()))
        );
        assert_eq!(
            check_answer_time(&a, deadline - 1, late, Some(deadline + 1)),
            Err(Refusal::Conflict(NOT_TIED.into()))
        );
        // Claimed before the browser's last contact: it would have been saved.
        assert_eq!(
            check_answer_time(&a, START + 60_000, late, checkpoint),
            Err(Refusal::Conflict(BACKDATED.into()))
        );
        // Answered after the deadline: never.
        assert!(matches!(
            check_answer_time(&a, deadline + 1, late, checkpoint),
            Err(Refusal::Conflict(m)) if m == TOO_LATE
        ));
    }

    #[test]
    fn states_follow_the_clock() {
        let mut a = attempt(START, Some(START + LIMIT));
        assert_eq!(
            state_of(&a, START + LIMIT + GRACE_MS),
            AttemptState::InProgress
        );
        assert_eq!(
            state_of(&a, START + LIMIT + GRACE_MS + 1),
            AttemptState::TimeUp
        );
        assert!(timed_out(&a, START + LIMIT + GRACE_MS + 1));
        assert!(!abandoned(&a, START + LIMIT + WINDOW));
        assert!(abandoned(&a, START + LIMIT + WINDOW + 1));
        a.submitted_at_ms = Some(START + 5);
        assert_eq!(state_of(&a, START + 10), AttemptState::Submitted);
        assert!(!abandoned(&a, i64::MAX / 2));
        assert!(!timed_out(&a, i64::MAX / 2));
        let untimed = attempt(START, None);
        assert!(is_open(&untimed, START + 365 * 86_400_000));
    }

    proptest! {
        /// Nothing the clock decides changes before `unchanged_until`, and
        /// something does at it (unless it is `i64::MAX`).
        #[test]
        fn views_stay_unchanged_until_the_first_boundary(
            deadlines in proptest::collection::vec(
                (0i64..4_000_000, proptest::option::of(1i64..3_000_000), any::<bool>()), 0..4),
            due in proptest::option::of(0i64..5_000_000),
            complete in any::<bool>(),
            now in 0i64..5_000_000,
        ) {
            let attempts: Vec<Attempt> = deadlines
                .iter()
                .map(|&(start, limit, submitted)| {
                    let mut a = attempt(start, limit.map(|l| start + l));
                    a.submitted_at_ms = submitted.then_some(start + 1);
                    a
                })
                .collect();
            let seen = |t: i64| {
                (
                    attempts.iter().map(|a| (is_open(a, t), abandoned(a, t))).collect::<Vec<_>>(),
                    !complete && due.is_some_and(|d| d < t),
                )
            };
            let until = unchanged_until(&attempts, due, complete, now);
            prop_assert!(until > now);
            let at_now = seen(now);
            // Every boundary lies below 20,000,000: probe the end of the
            // span and a few points inside it.
            let last = until.min(20_000_000) - 1;
            for t in [now, now + (last - now) / 3, now + (last - now) / 2, last] {
                prop_assert_eq!(&seen(t), &at_now, "changed at {} before {}", t, until);
            }
            if until != i64::MAX {
                prop_assert_ne!(seen(until), at_now, "nothing changed at {}", until);
            }
        }
        /// An accepted answer (received after the start, as the server's
        /// clock guarantees) is never stored later than it was received,
        /// never before the start's slack, never after deadline + grace; a
        /// late arrival was answered by the deadline, after its checkpoint,
        /// and arrived within the window.
        #[test]
        fn accepted_times_are_bounded(
            answered in 0i64..3_000_000, received in START..30_000_000,
            checkpoint in proptest::option::of(0i64..3_000_000),
        ) {
            let a = attempt(START, Some(START + LIMIT));
            if let Ok(acc) = check_answer_time(&a, answered, received, checkpoint) {
                prop_assert!(acc.answered_at_ms <= received);
                prop_assert!(acc.answered_at_ms >= START - EARLY_SLACK_MS);
                prop_assert!(acc.answered_at_ms <= START + LIMIT + GRACE_MS);
                prop_assert_eq!(acc.late, received > START + LIMIT + GRACE_MS);
                if acc.late {
                    prop_assert!(acc.answered_at_ms <= START + LIMIT);
                    prop_assert!(received <= START + LIMIT + WINDOW);
                    let c = checkpoint.unwrap();
                    prop_assert!(c <= START + LIMIT && answered >= c - EARLY_SLACK_MS);
                }
            }
        }
    }
}
