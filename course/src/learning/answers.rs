//! The answer-merge rule: which of two answers to one question counts.
//!
//! Answers reach the server more than once and out of order: saved as they
//! are given, retried after a network error, and sent again from the
//! browser's offline journal with the submit. One rule decides, here, for
//! the learning service and for the store (which applies it inside the
//! transaction that holds the attempt):
//!
//! - **latest wins** (feedback after submit, or never): the answer with the
//!   later `answered_at_ms` counts; on a tie the one that arrives later;
//! - **first wins** (immediate feedback): the first answer stored is final —
//!   the learner has seen its feedback — and among answers arriving together
//!   the earliest counts.
//!
//! Re-sending the answer that is already stored is not a conflict (a retry).

use std::collections::HashMap;

use super::records::{same_json, NewAnswer, StoredAnswer};
use crate::model::FeedbackMode;

/// How answers are merged into what is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Merge {
    /// The answer with the latest `answered_at_ms` wins (ties: the later one).
    LatestWins,
    /// The first stored answer is final (immediate feedback was shown for it).
    FirstWins,
}

impl Merge {
    /// The rule for a quiz's feedback mode.
    pub fn for_feedback(mode: FeedbackMode) -> Self {
        if mode == FeedbackMode::Immediate {
            Merge::FirstWins
        } else {
            Merge::LatestWins
        }
    }

    /// Whether an answer given at `incoming_at` replaces one given at
    /// `current_at` that arrived before it.
    pub fn replaces(self, incoming_at: i64, current_at: i64) -> bool {
        match self {
            Merge::LatestWins => incoming_at >= current_at,
            Merge::FirstWins => false,
        }
    }

    /// Among answers to one question arriving together (in this order),
    /// whether `incoming_at` beats the one chosen so far.
    fn beats_in_batch(self, incoming_at: i64, chosen_at: i64) -> bool {
        match self {
            Merge::LatestWins => incoming_at >= chosen_at,
            Merge::FirstWins => incoming_at < chosen_at,
        }
    }
}

/// Per question, the one answer of `incoming` that would count among them
/// (the rule applied within the batch), in first-seen order of questions.
pub fn winners_in_batch<'a, 'b>(
    merge: Merge,
    incoming: &'b [NewAnswer<'a>],
) -> Vec<&'b NewAnswer<'a>> {
    let mut order: Vec<&'b NewAnswer<'a>> = Vec::with_capacity(incoming.len());
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(incoming.len());
    for a in incoming {
        match index.get(a.question_id) {
            Some(&i) => {
                if merge.beats_in_batch(a.answered_at_ms, order[i].answered_at_ms) {
                    order[i] = a;
                }
            }
            None => {
                index.insert(a.question_id, order.len());
                order.push(a);
            }
        }
    }
    order
}

/// What merging a batch into the stored answers does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergePlan<'a> {
    /// Answers to write (insert, or replace the stored one).
    pub write: Vec<NewAnswer<'a>>,
    /// Question ids whose batch winner does not count: the stored answer
    /// wins and differs from it. (Answers beaten within the batch are
    /// dropped silently: the learner's own later, or with immediate feedback
    /// earlier, answer to the same question counts instead.)
    pub kept: Vec<String>,
}

/// Merges `incoming` into `stored` under `merge`.
pub fn plan<'a>(
    merge: Merge,
    stored: &[StoredAnswer],
    incoming: &[NewAnswer<'a>],
) -> MergePlan<'a> {
    let stored_by_q: HashMap<&str, &StoredAnswer> =
        stored.iter().map(|s| (s.question_id.as_str(), s)).collect();
    let winners = winners_in_batch(merge, incoming);
    let mut write = Vec::with_capacity(winners.len());
    let mut kept = Vec::new();
    for w in winners {
        match stored_by_q.get(w.question_id) {
            Some(s) if !merge.replaces(w.answered_at_ms, s.answered_at_ms) => {
                if !same_json(&s.response_json, w.response_json) {
                    kept.push(w.question_id.to_owned());
                }
            }
            _ => write.push(w.clone()),
        }
    }
    MergePlan { write, kept }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn new(q: &'static str, json: &'static str, at: i64) -> NewAnswer<'static> {
        NewAnswer {
            question_id: q,
            response_json: json,
            answered_at_ms: at,
        }
    }

    fn stored(q: &str, json: &str, at: i64) -> StoredAnswer {
        StoredAnswer {
            question_id: q.into(),
            response_json: json.into(),
            answered_at_ms: at,
            received_at_ms: at,
        }
    }

    #[test]
    fn latest_wins_replaces_older_and_equal_times_but_not_newer() {
        let s = [stored("q1", "\"old\"", 100)];
        let p = plan(Merge::LatestWins, &s, &[new("q1", "\"new\"", 100)]);
        assert_eq!(p.write, vec![new("q1", "\"new\"", 100)]);
        assert!(p.kept.is_empty());
        let p = plan(Merge::LatestWins, &s, &[new("q1", "\"stale\"", 99)]);
        assert!(p.write.is_empty());
        assert_eq!(p.kept, vec!["q1".to_owned()]);
    }

    #[test]
    fn first_wins_keeps_the_stored_answer_and_a_resend_is_not_a_conflict() {
        let s = [stored("q1", "{\"a\":1}", 100)];
        let p = plan(Merge::FirstWins, &s, &[new("q1", "{\"b\":2}", 500)]);
        assert!(p.write.is_empty());
        assert_eq!(p.kept, vec!["q1".to_owned()]);
        let p = plan(Merge::FirstWins, &s, &[new("q1", "{ \"a\": 1 }", 500)]);
        assert!(p.write.is_empty());
        assert!(p.kept.is_empty(), "the same answer again is a retry");
    }

    #[test]
    fn within_a_batch_latest_or_first_answer_per_question_counts() {
        let batch = [
            new("q1", "\"a\"", 10),
            new("q2", "\"x\"", 5),
            new("q1", "\"b\"", 20),
            new("q1", "\"c\"", 15),
        ];
        let latest = plan(Merge::LatestWins, &[], &batch);
        assert_eq!(
            latest.write,
            vec![new("q1", "\"b\"", 20), new("q2", "\"x\"", 5)]
        );
        assert!(
            latest.kept.is_empty(),
            "a and c lost to b, the learner's own later answer"
        );
        let first = plan(Merge::FirstWins, &[], &batch);
        assert_eq!(
            first.write,
            vec![new("q1", "\"a\"", 10), new("q2", "\"x\"", 5)]
        );
    }

    proptest! {
        /// Whatever arrives in whatever order, at most one answer per
        /// question is written, and under "latest wins" the stored result
        /// holds the greatest `answered_at_ms` ever seen for the question.
        #[test]
        fn latest_wins_converges_to_the_latest_answer(
            batches in proptest::collection::vec(
                proptest::collection::vec((0u8..3, 0i64..50), 1..6), 1..6),
        ) {
            let mut store: Vec<StoredAnswer> = Vec::new();
            let mut latest: HashMap<String, i64> = HashMap::new();
            let names = ["q0", "q1", "q2"];
            for batch in batches {
                let incoming: Vec<NewAnswer<'_>> = batch
                    .iter()
                    .map(|(q, at)| NewAnswer {
                        question_id: names[*q as usize],
                        response_json: "\"r\"",
                        answered_at_ms: *at,
                    })
                    .collect();
                for a in &incoming {
                    let e = latest.entry(a.question_id.to_owned()).or_insert(a.answered_at_ms);
                    *e = (*e).max(a.answered_at_ms);
                }
                let p = plan(Merge::LatestWins, &store, &incoming);
                let mut qs: Vec<&str> = p.write.iter().map(|w| w.question_id).collect();
                qs.sort();
                qs.dedup();
                prop_assert_eq!(qs.len(), p.write.len(), "one write per question");
                for w in p.write {
                    store.retain(|s| s.question_id != w.question_id);
                    store.push(stored(w.question_id, w.response_json, w.answered_at_ms));
                }
            }
            for s in &store {
                prop_assert_eq!(Some(&s.answered_at_ms), latest.get(&s.question_id));
            }
        }

        /// Under "first wins" a stored answer never changes.
        #[test]
        fn first_wins_never_overwrites(
            at in 0i64..1000, later in proptest::collection::vec(0i64..1000, 1..10),
        ) {
            let s = [stored("q", "\"first\"", at)];
            for t in later {
                let p = plan(Merge::FirstWins, &s, &[NewAnswer { question_id: "q", response_json: "\"other\"", answered_at_ms: t }]);
                prop_assert!(p.write.is_empty());
            }
        }
    }
}
