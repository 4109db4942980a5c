//! Time limits: when an answer counts and where an attempt stands.
//!
//! The server clock decides, with one exception for answers journalled
//! offline. `answered_at_ms` is the moment the learner answered, **in server
//! time**: the browser adds `server_now_ms − Date.now()` (measured when the
//! attempt view arrived) to its own clock. An answer is accepted when
//!
//! 1. `answered_at_ms ≥ started_at_ms − EARLY_SLACK_MS` (5 s of clock slack),
//! 2. with a time limit: `answered_at_ms ≤ deadline_ms + GRACE_MS` (30 s for
//!    latency and the moment the countdown hits zero), and
//! 3. when it is *received* after `deadline_ms + GRACE_MS`: it was answered
//!    in time (`answered_at_ms ≤ deadline_ms`, i.e. journalled while offline)
//!    and arrives at most [`OFFLINE_WINDOW_MS`] after the deadline.
//!
//! A claimed time later than the server's receipt time is stored as the
//! receipt time.

use super::records::Attempt;

/// Answers answered up to this long after the deadline still count (server
/// time), covering network latency and the countdown reaching zero.
pub const GRACE_MS: i64 = 30_000;

/// Answers journalled offline in time are accepted up to this long after the
/// deadline (24 h). Unsubmitted attempts are graded automatically after it.
pub const OFFLINE_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

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
pub const TOO_LATE_OFFLINE: &str =
    "This answer arrived more than 24 hours after the attempt's time limit and can no longer count.";

/// Applies the timing rules (module docs) to an answer claimed to be given
/// at `answered_at` and received `now`; the `answered_at_ms` to store.
pub fn check_answer_time(a: &Attempt, answered_at: i64, now: i64) -> Result<i64, Refusal> {
    if answered_at < a.started_at_ms - EARLY_SLACK_MS {
        return Err(Refusal::Invalid(TOO_EARLY.into()));
    }
    if let Some(deadline) = a.deadline_ms {
        if answered_at > deadline + GRACE_MS {
            return Err(Refusal::Conflict(TOO_LATE.into()));
        }
        if now > deadline + GRACE_MS {
            // Received late: only answers journalled in time, within the window.
            if answered_at > deadline {
                return Err(Refusal::Conflict(TOO_LATE.into()));
            }
            if now > deadline + OFFLINE_WINDOW_MS {
                return Err(Refusal::Conflict(TOO_LATE_OFFLINE.into()));
            }
        }
    }
    Ok(answered_at.min(now))
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
    a.submitted_at_ms.is_none() && a.deadline_ms.is_some_and(|d| now > d + OFFLINE_WINDOW_MS)
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
        }
    }

    const START: i64 = 1_000_000;
    const LIMIT: i64 = 60_000;

    #[test]
    fn answers_in_time_count_and_late_ones_do_not() {
        let a = attempt(START, Some(START + LIMIT));
        let deadline = START + LIMIT;
        assert_eq!(
            check_answer_time(&a, START + 10, START + 20),
            Ok(START + 10)
        );
        // In the grace period, received in it.
        assert_eq!(
            check_answer_time(&a, deadline + 5_000, deadline + 6_000),
            Ok(deadline + 5_000)
        );
        // Claimed after the grace.
        assert!(matches!(
            check_answer_time(&a, deadline + GRACE_MS + 1, deadline + GRACE_MS + 2),
            Err(Refusal::Conflict(_))
        ));
        // Received late: only if answered before the deadline.
        assert_eq!(
            check_answer_time(&a, deadline - 1, deadline + 600_000),
            Ok(deadline - 1)
        );
        assert!(matches!(
            check_answer_time(&a, deadline + 1, deadline + 600_000),
            Err(Refusal::Conflict(_))
        ));
        // After the offline window, nothing.
        assert_eq!(
            check_answer_time(&a, deadline - 1, deadline + OFFLINE_WINDOW_MS + 1),
            Err(Refusal::Conflict(TOO_LATE_OFFLINE.into()))
        );
        // Before the start (beyond the slack).
        assert_eq!(
            check_answer_time(&a, START - EARLY_SLACK_MS - 1, START),
            Err(Refusal::Invalid(TOO_EARLY.into()))
        );
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
        assert!(!abandoned(&a, START + LIMIT + OFFLINE_WINDOW_MS));
        assert!(abandoned(&a, START + LIMIT + OFFLINE_WINDOW_MS + 1));
        a.submitted_at_ms = Some(START + 5);
        assert_eq!(state_of(&a, START + 10), AttemptState::Submitted);
        assert!(!abandoned(&a, i64::MAX / 2));
        let untimed = attempt(START, None);
        assert!(is_open(&untimed, START + OFFLINE_WINDOW_MS * 10));
    }

    proptest! {
        /// An accepted answer is never stored later than it was received,
        /// never before the start's slack, and never after deadline + grace.
        #[test]
        fn accepted_times_are_bounded(
            answered in 0i64..10_000_000, received in 0i64..200_000_000,
        ) {
            let a = attempt(START, Some(START + LIMIT));
            if let Ok(at) = check_answer_time(&a, answered, received) {
                prop_assert!(at <= received);
                prop_assert!(at >= START - EARLY_SLACK_MS);
                prop_assert!(at <= START + LIMIT + GRACE_MS);
                if received > START + LIMIT + GRACE_MS {
                    prop_assert!(at <= START + LIMIT, "late arrivals were answered in time");
                    prop_assert!(received <= START + LIMIT + OFFLINE_WINDOW_MS);
                }
            }
        }
    }
}
