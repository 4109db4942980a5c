//! Item analysis: how each question of a quiz performed, so an author can
//! find the broken ones.
//!
//! The input is one quiz of one published version and its submitted
//! attempts ([`AttemptAnswers`]: the stored total percent, the start, and the
//! stored answers). Every attempt presents every question of the version
//! (shuffling reorders, it never leaves a question out), so every attempt
//! *saw* every question. Scores come from [`crate::grading`], the one
//! grading rule; nothing here grades differently.
//!
//! Per question ([`QuestionStats`]):
//!
//! - **facility** — the mean score fraction (`score / max`, an unanswered
//!   question counts 0) over the attempts: 1 = everyone right.
//! - **discrimination** — the upper–lower index: rank the attempts by their
//!   total percent, take the top third and the bottom third (⌊n/3⌋ attempts
//!   each), and subtract the bottom third's mean score fraction from the
//!   top's. Near 1: strong learners get it right and weak ones do not; below
//!   0: the weak do better than the strong (a miskeyed or misleading
//!   question). `None` below three attempts.
//!
//!   **Ties.** When a third's boundary cuts through attempts with equal
//!   percents, the whole tied group takes part with an equal share: if a
//!   third needs `s` more attempts and the next group holds `g ≥ s`, each of
//!   the `g` counts with weight `s / g`. That is the mean over every way of
//!   breaking the tie, so it is deterministic and does not depend on the
//!   order the attempts are given in. (All attempts tied: discrimination 0.)
//!   A non-finite percent ranks as 0.
//! - **option counts** (single choice, multiple choice, true/false) — how
//!   many answers chose each option (true/false: the two values, `True`
//!   first). Option ids are resolved as grading resolves them (learner
//!   token or stored id; unknown ids ignored; an option named twice in one
//!   answer counts once). Answers that chose no known option (empty, only
//!   unknown ids, or a response of another kind) are counted as
//!   `unrecognised`.
//! - **average time** — the seconds spent per answer: an attempt's answers
//!   are put in `answered_at_ms` order (ties: quiz order), and the time of
//!   each is the gap to the answer before it (the first: to the attempt's
//!   start). A negative gap (an answer stamped before the attempt's start)
//!   gives no time, but the next answer is still measured from it.
//! - **flags** ([`Flag`]) — questions that look broken, by the thresholds
//!   below; small samples raise none.
//!
//! The store keeps one answer per question and attempt. Should an attempt
//! list more than one, the latest `answered_at_ms` counts (ties: the one
//! listed last), as the latest-wins merge rule ([`super::answers`]) would
//! have kept it. Answers to question ids that are not in the quiz are
//! ignored, also for timing.
//!
//! The result types are plain data for the browser; computing them
//! ([`analyse`]) grades, so it is server only.

use serde::{Deserialize, Serialize};

use crate::model::Response;
#[cfg(feature = "server")]
use crate::{
    grading::{grade_with, picked, Patterns},
    model::{Question, QuestionKind},
};
#[cfg(feature = "server")]
use std::collections::HashMap;

/// Fewest attempts for a discrimination index: a top and a bottom third of
/// at least one attempt each.
pub const MIN_ATTEMPTS_DISCRIMINATION: usize = 3;
/// Fewest attempts for [`Flag::NegativeDiscrimination`]: two per third, so
/// one odd attempt alone cannot raise it.
pub const MIN_ATTEMPTS_NEGATIVE_DISCRIMINATION: usize = 6;
/// Discrimination below this is flagged: slightly negative values are noise,
/// clearly negative ones mean the weak do better than the strong.
pub const NEGATIVE_DISCRIMINATION_BELOW: f64 = -0.1;
/// Fewest attempts for the facility and option flags: below ten, one
/// learner moves a proportion by more than ten points.
pub const MIN_ATTEMPTS_FLAGS: usize = 10;
/// Facility above this is [`Flag::TooEasy`]: (nearly) everyone gets it
/// right, so it tells learners apart from nobody.
pub const TOO_EASY_ABOVE: f64 = 0.95;
/// Facility below this is [`Flag::TooHard`]: at or under the guessing rate
/// of a five-option question, so the question or its key is suspect.
pub const TOO_HARD_BELOW: f64 = 0.2;
/// A correct option chosen by fewer than this percentage of the answers,
/// while a wrong one is chosen more often, is
/// [`Flag::CorrectOptionRarelyChosen`]: the sign of a miskeyed question.
pub const RARELY_CHOSEN_PERCENT: u32 = 10;

/// One submitted attempt at the quiz, as the analysis needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct AttemptAnswers {
    /// The attempt's stored total, 0..=100; ranks it for discrimination.
    pub percent: f64,
    /// When the attempt started (server time).
    pub started_at_ms: i64,
    /// The attempt's stored answers, in any order.
    pub answers: Vec<AnswerRecord>,
}

/// One stored answer of an attempt.
#[derive(Clone, Debug, PartialEq)]
pub struct AnswerRecord {
    pub question_id: String,
    pub response: Response,
    /// When the learner answered (server time).
    pub answered_at_ms: i64,
}

/// How one question performed (a DTO: it travels to the author's browser).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuestionStats {
    pub question_id: String,
    /// Attempts that saw the question (every attempt at the quiz).
    pub attempts: u32,
    /// Attempts that answered it.
    pub answered: u32,
    /// Mean score fraction, 0..=1 (unanswered counts 0); `None` without
    /// attempts.
    pub facility: Option<f64>,
    /// Top third's mean score fraction − bottom third's, −1..=1; `None`
    /// below [`MIN_ATTEMPTS_DISCRIMINATION`] attempts.
    pub discrimination: Option<f64>,
    /// How often each option was chosen; `None` for kinds without options.
    pub choices: Option<ChoiceCounts>,
    /// Mean seconds spent on an answer; `None` when no answer has a time.
    pub avg_seconds: Option<f64>,
    /// How many answers the mean time is over (answers with a gap ≥ 0).
    pub timed: u32,
    /// What looks broken, in [`Flag`] declaration order (options in
    /// option order).
    pub flags: Vec<Flag>,
}

/// The options of a choice question and how often each was chosen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceCounts {
    /// In the author's option order (true/false: `True`, then `False`).
    pub options: Vec<OptionCount>,
    /// Answers that chose no known option.
    pub unrecognised: u32,
}

/// One option and how many answers chose it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionCount {
    /// 0-based, in the author's order.
    pub index: usize,
    pub text: String,
    pub correct: bool,
    pub chosen: u32,
}

/// A sign that a question is broken (see the thresholds' constants).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Flag {
    /// Discrimination below [`NEGATIVE_DISCRIMINATION_BELOW`] with at least
    /// [`MIN_ATTEMPTS_NEGATIVE_DISCRIMINATION`] attempts.
    NegativeDiscrimination,
    /// Facility above [`TOO_EASY_ABOVE`] (≥ [`MIN_ATTEMPTS_FLAGS`] attempts).
    TooEasy,
    /// Facility below [`TOO_HARD_BELOW`] (≥ [`MIN_ATTEMPTS_FLAGS`] attempts).
    TooHard,
    /// A wrong option nobody chose (≥ [`MIN_ATTEMPTS_FLAGS`] attempts): it
    /// distracts nobody.
    UnchosenDistractor { option: usize },
    /// A correct option chosen in fewer than [`RARELY_CHOSEN_PERCENT`] % of
    /// the answers while a wrong option is chosen more often
    /// (≥ [`MIN_ATTEMPTS_FLAGS`] attempts).
    CorrectOptionRarelyChosen { option: usize },
}

/// The analysis of every question of the quiz, in quiz order.
///
/// `questions` are the quiz's questions in the published version (ids are
/// unique there); `attempts` its submitted attempts, in any order — the
/// result does not depend on it.
#[cfg(feature = "server")]
pub fn analyse(questions: &[Question], attempts: &[AttemptAnswers]) -> Vec<QuestionStats> {
    let patterns = Patterns::of(questions);
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(questions.len());
    for (i, q) in questions.iter().enumerate() {
        index.entry(q.id.as_str()).or_insert(i);
    }
    let rows: Vec<Row<'_>> = attempts
        .iter()
        .map(|a| Row::of(a, questions, &index, &patterns))
        .collect();
    let groups = tie_groups(attempts);
    questions
        .iter()
        .enumerate()
        .map(|(qi, q)| question_stats(qi, q, &rows, &groups))
        .collect()
}

/// One attempt, per question of the quiz.
#[cfg(feature = "server")]
struct Row<'a> {
    /// The counted response, if answered.
    responses: Vec<Option<&'a Response>>,
    /// Score fraction, 0..=1.
    fractions: Vec<f64>,
    /// Milliseconds spent, when the gap is ≥ 0.
    times: Vec<Option<i64>>,
}

#[cfg(feature = "server")]
impl<'a> Row<'a> {
    fn of(
        attempt: &'a AttemptAnswers,
        questions: &[Question],
        index: &HashMap<&str, usize>,
        patterns: &Patterns,
    ) -> Self {
        let counted = counted_answers(attempt, questions.len(), index);
        let fractions = questions
            .iter()
            .zip(&counted)
            .map(|(q, a)| a.map_or(0.0, |a| fraction(q, &a.response, patterns)))
            .collect();
        Row {
            times: time_spent(attempt.started_at_ms, &counted),
            responses: counted.iter().map(|a| a.map(|a| &a.response)).collect(),
            fractions,
        }
    }
}

/// Per question index, the answer that counts (the latest; ties: the last
/// listed). Answers to unknown question ids are dropped.
#[cfg(feature = "server")]
fn counted_answers<'a>(
    attempt: &'a AttemptAnswers,
    questions: usize,
    index: &HashMap<&str, usize>,
) -> Vec<Option<&'a AnswerRecord>> {
    let mut out: Vec<Option<&'a AnswerRecord>> = vec![None; questions];
    for a in &attempt.answers {
        if let Some(&qi) = index.get(a.question_id.as_str()) {
            if out[qi].is_none_or(|kept| a.answered_at_ms >= kept.answered_at_ms) {
                out[qi] = Some(a);
            }
        }
    }
    out
}

/// `score / max` of one response, 0..=1 (0 for a question without marks).
#[cfg(feature = "server")]
fn fraction(q: &Question, response: &Response, patterns: &Patterns) -> f64 {
    let g = grade_with(q, response, patterns);
    if g.max > 0.0 && g.score.is_finite() {
        (g.score / g.max).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// Per question index, the milliseconds spent on the counted answer: the gap
/// to the answer before it in time (ties: quiz order), or to the start;
/// `None` when unanswered or the gap is negative.
#[cfg(feature = "server")]
fn time_spent(started_at_ms: i64, counted: &[Option<&AnswerRecord>]) -> Vec<Option<i64>> {
    let mut order: Vec<(i64, usize)> = counted
        .iter()
        .enumerate()
        .filter_map(|(qi, a)| a.map(|a| (a.answered_at_ms, qi)))
        .collect();
    order.sort_unstable();
    let mut out = vec![None; counted.len()];
    let mut previous = started_at_ms;
    for (at, qi) in order {
        let gap = at.saturating_sub(previous);
        if gap >= 0 {
            out[qi] = Some(gap);
        }
        previous = at;
    }
    out
}

/// The key attempts are ranked by: the percent, 0 when not finite (and
/// `-0.0` made `0.0`, so equal percents compare equal in every way).
#[cfg(feature = "server")]
fn rank_key(percent: f64) -> f64 {
    if percent.is_finite() {
        percent + 0.0
    } else {
        0.0
    }
}

/// Attempt indices grouped by equal percent, highest percent first.
#[cfg(feature = "server")]
fn tie_groups(attempts: &[AttemptAnswers]) -> Vec<Vec<usize>> {
    let key = |i: usize| rank_key(attempts[i].percent);
    let mut order: Vec<usize> = (0..attempts.len()).collect();
    order.sort_by(|&a, &b| key(b).total_cmp(&key(a)));
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for i in order {
        match groups.last_mut() {
            Some(group) if key(group[0]) == key(i) => group.push(i),
            _ => groups.push(vec![i]),
        }
    }
    groups
}

/// A sum that does not depend on the order of its terms (they are sorted
/// first), so shuffling the attempts cannot change the last bit.
#[cfg(feature = "server")]
fn sum_sorted(terms: impl Iterator<Item = f64>) -> f64 {
    let mut terms: Vec<f64> = terms.collect();
    terms.sort_by(f64::total_cmp);
    terms.iter().sum()
}

/// The mean of `value` over the first `size` attempts of `groups` (taken in
/// the order given), a group cut by the boundary sharing the remaining
/// places equally (see "Ties" in the module docs).
#[cfg(feature = "server")]
fn third_mean<'g>(
    groups: impl Iterator<Item = &'g Vec<usize>>,
    size: usize,
    value: impl Fn(usize) -> f64,
) -> f64 {
    let mut remaining = size;
    let mut total = 0.0;
    for group in groups {
        if remaining == 0 {
            break;
        }
        let take = remaining.min(group.len());
        let group_sum = sum_sorted(group.iter().map(|&a| value(a)));
        total += group_sum * (take as f64 / group.len() as f64);
        remaining -= take;
    }
    (total / size as f64).clamp(0.0, 1.0)
}

#[cfg(feature = "server")]
fn question_stats(
    qi: usize,
    q: &Question,
    rows: &[Row<'_>],
    groups: &[Vec<usize>],
) -> QuestionStats {
    let n = rows.len();
    let fraction = |a: usize| rows[a].fractions[qi];
    let facility = (n > 0).then(|| (sum_sorted((0..n).map(fraction)) / n as f64).clamp(0.0, 1.0));
    let discrimination = (n >= MIN_ATTEMPTS_DISCRIMINATION).then(|| {
        let third = n / 3;
        let top = third_mean(groups.iter(), third, fraction);
        let bottom = third_mean(groups.iter().rev(), third, fraction);
        (top - bottom).clamp(-1.0, 1.0)
    });
    let responses: Vec<&Response> = rows.iter().filter_map(|r| r.responses[qi]).collect();
    let times: Vec<i64> = rows.iter().filter_map(|r| r.times[qi]).collect();
    let avg_seconds = (!times.is_empty()).then(|| {
        let total_ms: i128 = times.iter().map(|&t| i128::from(t)).sum();
        total_ms as f64 / times.len() as f64 / 1000.0
    });
    let choices = choice_counts(q, &responses);
    let answered = count(responses.len());
    QuestionStats {
        question_id: q.id.clone(),
        attempts: count(n),
        answered,
        flags: flags(n, facility, discrimination, choices.as_ref(), answered),
        facility,
        discrimination,
        choices,
        avg_seconds,
        timed: count(times.len()),
    }
}

/// A count for the DTO (saturating; attempts never come near `u32::MAX`).
#[cfg(feature = "server")]
fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Option counts of a choice question; `None` for other kinds.
#[cfg(feature = "server")]
fn choice_counts(q: &Question, responses: &[&Response]) -> Option<ChoiceCounts> {
    let mut options: Vec<OptionCount> = match &q.kind {
        QuestionKind::SingleChoice { options } | QuestionKind::MultipleChoice { options, .. } => {
            options
                .iter()
                .map(|o| (o.text.clone(), o.correct))
                .collect::<Vec<_>>()
        }
        QuestionKind::TrueFalse { answer } => {
            vec![("True".to_owned(), *answer), ("False".to_owned(), !*answer)]
        }
        _ => return None,
    }
    .into_iter()
    .enumerate()
    .map(|(index, (text, correct))| OptionCount {
        index,
        text,
        correct,
        chosen: 0,
    })
    .collect();
    let mut unrecognised = 0;
    for r in responses {
        let picks = chosen_options(q, r);
        if picks.is_empty() {
            unrecognised += 1;
        }
        for i in picks {
            options[i].chosen += 1;
        }
    }
    Some(ChoiceCounts {
        options,
        unrecognised,
    })
}

/// The option indices one response chose (true/false: 0 = true, 1 = false),
/// resolved as grading resolves them.
#[cfg(feature = "server")]
fn chosen_options(q: &Question, response: &Response) -> Vec<usize> {
    match (&q.kind, response) {
        (
            QuestionKind::SingleChoice { options } | QuestionKind::MultipleChoice { options, .. },
            Response::Choice(ids),
        ) => picked(q, options, ids),
        (QuestionKind::TrueFalse { .. }, Response::Bool(b)) => vec![usize::from(!*b)],
        _ => Vec::new(),
    }
}

/// The flags for one question's numbers (see [`Flag`]).
#[cfg(feature = "server")]
fn flags(
    attempts: usize,
    facility: Option<f64>,
    discrimination: Option<f64>,
    choices: Option<&ChoiceCounts>,
    answered: u32,
) -> Vec<Flag> {
    let mut out = Vec::new();
    if attempts >= MIN_ATTEMPTS_NEGATIVE_DISCRIMINATION
        && discrimination.is_some_and(|d| d < NEGATIVE_DISCRIMINATION_BELOW)
    {
        out.push(Flag::NegativeDiscrimination);
    }
    if attempts < MIN_ATTEMPTS_FLAGS {
        return out;
    }
    if facility.is_some_and(|f| f > TOO_EASY_ABOVE) {
        out.push(Flag::TooEasy);
    }
    if facility.is_some_and(|f| f < TOO_HARD_BELOW) {
        out.push(Flag::TooHard);
    }
    let Some(choices) = choices else {
        return out;
    };
    let (right, wrong): (Vec<&OptionCount>, Vec<&OptionCount>) =
        choices.options.iter().partition(|o| o.correct);
    out.extend(
        wrong
            .iter()
            .filter(|o| o.chosen == 0)
            .map(|o| Flag::UnchosenDistractor { option: o.index }),
    );
    let most_chosen_wrong = wrong.iter().map(|o| o.chosen).max().unwrap_or(0);
    out.extend(
        right
            .iter()
            // chosen / answered < RARELY_CHOSEN_PERCENT / 100, in integers.
            .filter(|o| {
                u64::from(o.chosen) * 100 < u64::from(RARELY_CHOSEN_PERCENT) * u64::from(answered)
                    && most_chosen_wrong > o.chosen
            })
            .map(|o| Flag::CorrectOptionRarelyChosen { option: o.index }),
    );
    out
}

#[cfg(all(test, feature = "server"))]
mod tests {
    use super::*;
    use crate::learner::option_token;
    use crate::model::{ChoiceOption, TextAnswer, TextMatch};
    use proptest::prelude::*;

    // ---- helpers ----

    fn question(id: &str, points: f64, kind: QuestionKind) -> Question {
        Question {
            id: id.into(),
            kind,
            prompt_md: "?".into(),
            points,
            feedback_correct_md: String::new(),
            feedback_incorrect_md: String::new(),
        }
    }

    fn options(list: &[(&str, &str, bool)]) -> Vec<ChoiceOption> {
        list.iter()
            .map(|&(id, text, correct)| ChoiceOption {
                id: id.into(),
                text: text.into(),
                correct,
                feedback: String::new(),
            })
            .collect()
    }

    fn single(id: &str, list: &[(&str, &str, bool)]) -> Question {
        question(
            id,
            1.0,
            QuestionKind::SingleChoice {
                options: options(list),
            },
        )
    }

    fn true_false(id: &str, answer: bool) -> Question {
        question(id, 1.0, QuestionKind::TrueFalse { answer })
    }

    /// A choice response naming options by their learner tokens.
    fn pick(question_id: &str, texts: &[&str]) -> Response {
        Response::Choice(texts.iter().map(|t| option_token(question_id, t)).collect())
    }

    fn ans(question_id: &str, response: Response, at_ms: i64) -> AnswerRecord {
        AnswerRecord {
            question_id: question_id.into(),
            response,
            answered_at_ms: at_ms,
        }
    }

    fn attempt(percent: f64, started_at_ms: i64, answers: Vec<AnswerRecord>) -> AttemptAnswers {
        AttemptAnswers {
            percent,
            started_at_ms,
            answers,
        }
    }

    #[track_caller]
    fn close(actual: Option<f64>, expected: Option<f64>) {
        match (actual, expected) {
            (Some(a), Some(e)) => assert!((a - e).abs() < 1e-9, "{a} ≠ {e}"),
            (a, e) => assert_eq!(a, e),
        }
    }

    fn chosen(s: &QuestionStats) -> Vec<u32> {
        let c = s.choices.as_ref().expect("a choice question");
        c.options.iter().map(|o| o.chosen).collect()
    }

    fn unrecognised(s: &QuestionStats) -> u32 {
        s.choices.as_ref().expect("a choice question").unrecognised
    }

    // ---- fixture 1: six attempts, three choice questions, a tie ----

    /// q1 single choice (A right; B, C, D wrong); q2 true/false (true);
    /// q3 multiple choice with partial credit, no negative marking (X, Y
    /// right; Z wrong: one right pick earns ½). One point each.
    fn fixture_1_questions() -> Vec<Question> {
        vec![
            single(
                "q1",
                &[
                    ("a", "A", true),
                    ("b", "B", false),
                    ("c", "C", false),
                    ("d", "D", false),
                ],
            ),
            true_false("q2", true),
            question(
                "q3",
                1.0,
                QuestionKind::MultipleChoice {
                    options: options(&[("x", "X", true), ("y", "Y", true), ("z", "Z", false)]),
                    partial_credit: true,
                    negative_marking: false,
                },
            ),
        ]
    }

    /// Fractions per attempt (percent = 100 × total / 3), times in seconds
    /// after the start (S = 1 000 000 ms) in answer order:
    ///
    /// | attempt | q1 | q2    | q3      | total | %     | answered at (s)      |
    /// |---------|----|-------|---------|-------|-------|----------------------|
    /// | A1      | A 1| T 1   | XY 1    | 3     | 100   | q1 10, q2 25, q3 45  |
    /// | A2      | A 1| T 1   | X ½     | 2.5   | 83.3  | q2 8, q1 20, q3 50   |
    /// | A3      | B 0| T 1   | XZ ½    | 1.5   | 50    | q1 30, q2 40, q3 41  |
    /// | A4      | A 1| F 0   | —  0    | 1     | 33.3  | q1 5, q2 9           |
    /// | A5      | C 0| F 0   | Y ½     | 0.5   | 16.7  | q1 20, q2 30, q3 60  |
    /// | A6      | — 0| T 1   | Z 0     | 1     | 33.3  | q2 12, q3 18         |
    ///
    /// n = 6, a third = 2. Ranked: A1, A2 | A3 | A4 = A6 | A5. Top: A1, A2.
    /// Bottom: A5, then one place for the tied {A4, A6}: weight ½ each.
    ///
    /// - q1: facility 3/6 = ½; top (1+1)/2 = 1; bottom (0 + ½·(1+0))/2 = ¼;
    ///   discrimination ¾. Counts A 3, B 1, C 1, D 0; answered 5.
    ///   Times 10, 12, 30, 5, 20 → 77/5 = 15.4 s.
    /// - q2: facility 4/6 = ⅔; top 1; bottom (0 + ½·(0+1))/2 = ¼; ¾.
    ///   Counts True 4, False 2; answered 6. Times 15, 8, 10, 4, 10, 12 →
    ///   59/6 s.
    /// - q3: facility (1+½+½+0+½+0)/6 = 5/12; top (1+½)/2 = ¾; bottom
    ///   (½ + ½·(0+0))/2 = ¼; ½. Counts X 3, Y 2, Z 2; answered 5.
    ///   Times 20, 30, 1, 30, 6 → 87/5 = 17.4 s.
    /// - No flags: six attempts raise only a negative discrimination.
    fn fixture_1_attempts() -> Vec<AttemptAnswers> {
        const S: i64 = 1_000_000;
        let at = |secs: i64| S + secs * 1000;
        vec![
            attempt(
                100.0,
                S,
                vec![
                    ans("q1", pick("q1", &["A"]), at(10)),
                    ans("q2", Response::Bool(true), at(25)),
                    ans("q3", pick("q3", &["X", "Y"]), at(45)),
                ],
            ),
            attempt(
                250.0 / 3.0,
                S,
                vec![
                    ans("q3", pick("q3", &["X"]), at(50)),
                    ans("q2", Response::Bool(true), at(8)),
                    // The stored id works as well as the token.
                    ans("q1", Response::Choice(vec!["a".into()]), at(20)),
                ],
            ),
            attempt(
                50.0,
                S,
                vec![
                    ans("q1", pick("q1", &["B"]), at(30)),
                    ans("q2", Response::Bool(true), at(40)),
                    ans("q3", pick("q3", &["X", "Z"]), at(41)),
                ],
            ),
            attempt(
                100.0 / 3.0,
                S,
                vec![
                    ans("q1", pick("q1", &["A"]), at(5)),
                    ans("q2", Response::Bool(false), at(9)),
                ],
            ),
            attempt(
                50.0 / 3.0,
                S,
                vec![
                    ans("q1", pick("q1", &["C"]), at(20)),
                    ans("q2", Response::Bool(false), at(30)),
                    ans("q3", pick("q3", &["Y"]), at(60)),
                ],
            ),
            attempt(
                100.0 / 3.0,
                S,
                vec![
                    ans("q2", Response::Bool(true), at(12)),
                    ans("q3", pick("q3", &["Z"]), at(18)),
                ],
            ),
        ]
    }

    #[test]
    fn fixture_1_six_attempts_with_a_tie_in_the_bottom_third() {
        let s = analyse(&fixture_1_questions(), &fixture_1_attempts());
        assert_eq!(s.len(), 3);

        let q1 = &s[0];
        assert_eq!(
            (q1.question_id.as_str(), q1.attempts, q1.answered),
            ("q1", 6, 5)
        );
        close(q1.facility, Some(0.5));
        close(q1.discrimination, Some(0.75));
        assert_eq!(chosen(q1), vec![3, 1, 1, 0]);
        assert_eq!(unrecognised(q1), 0);
        let c = q1.choices.as_ref().unwrap();
        assert_eq!(
            (
                c.options[0].text.as_str(),
                c.options[0].correct,
                c.options[3].index
            ),
            ("A", true, 3)
        );
        close(q1.avg_seconds, Some(15.4));
        assert_eq!(q1.timed, 5);
        assert!(q1.flags.is_empty());

        let q2 = &s[1];
        assert_eq!((q2.attempts, q2.answered), (6, 6));
        close(q2.facility, Some(2.0 / 3.0));
        close(q2.discrimination, Some(0.75));
        assert_eq!(chosen(q2), vec![4, 2]);
        let c = q2.choices.as_ref().unwrap();
        assert_eq!(
            c.options
                .iter()
                .map(|o| (o.text.as_str(), o.correct))
                .collect::<Vec<_>>(),
            vec![("True", true), ("False", false)]
        );
        close(q2.avg_seconds, Some(59.0 / 6.0));
        assert_eq!(q2.timed, 6);
        assert!(q2.flags.is_empty());

        let q3 = &s[2];
        assert_eq!((q3.attempts, q3.answered), (6, 5));
        close(q3.facility, Some(5.0 / 12.0));
        close(q3.discrimination, Some(0.5));
        assert_eq!(chosen(q3), vec![3, 2, 2]);
        close(q3.avg_seconds, Some(17.4));
        assert!(q3.flags.is_empty());
    }

    // ---- fixture 2: twelve attempts, every flag ----

    /// q1 single choice (A right; B, C wrong); q2 single choice (P right;
    /// Q, R wrong); q3 true/false (false). Percents as stored (the quiz's
    /// totals; only their order matters here), all distinct: A1 95, A2 90,
    /// A3 85, A4 80, A5 70, A6 60, A7 55, A8 50, A9 40, A10 30, A11 20,
    /// A12 10. n = 12, a third = 4: top A1–A4, bottom A9–A12. Each attempt
    /// answers q1 at +10 s, q2 at +30 s, q3 at +60 s.
    ///
    /// - q1: everyone picks A. Facility 12/12 = 1 > 0.95 → TooEasy;
    ///   discrimination 1 − 1 = 0; counts A 12, B 0, C 0 →
    ///   UnchosenDistractor 1 and 2. Time 10 s.
    /// - q2: A1–A8 pick Q, A9 picks P, A10–A12 pick R. Facility 1/12 < 0.2
    ///   → TooHard; top 0/4, bottom (1+0+0+0)/4 = ¼, discrimination −¼ <
    ///   −0.1 with 12 ≥ 6 attempts → NegativeDiscrimination; P chosen in
    ///   1 of 12 answers (8.3 % < 10 %) while Q is chosen 8 times →
    ///   CorrectOptionRarelyChosen 0. Counts P 1, Q 8, R 3. Time 20 s.
    /// - q3: A1–A6 and A8 answer false (right), A7 and A9–A11 true, A12
    ///   leaves it. Facility 7/12; top 4/4 = 1, bottom 0/4 = 0,
    ///   discrimination 1; counts True 4, False 7; answered 11. Time 30 s
    ///   over 11 answers. No flags.
    fn fixture_2() -> (Vec<Question>, Vec<AttemptAnswers>) {
        let questions = vec![
            single(
                "q1",
                &[("a", "A", true), ("b", "B", false), ("c", "C", false)],
            ),
            single(
                "q2",
                &[("p", "P", true), ("q", "Q", false), ("r", "R", false)],
            ),
            true_false("q3", false),
        ];
        let percents = [
            95.0, 90.0, 85.0, 80.0, 70.0, 60.0, 55.0, 50.0, 40.0, 30.0, 20.0, 10.0,
        ];
        let attempts = percents
            .iter()
            .enumerate()
            .map(|(i, &percent)| {
                let number = i + 1;
                let start = 5_000_000 * number as i64;
                let q2 = match number {
                    9 => "P",
                    10..=12 => "R",
                    _ => "Q",
                };
                let mut answers = vec![
                    ans("q1", pick("q1", &["A"]), start + 10_000),
                    ans("q2", pick("q2", &[q2]), start + 30_000),
                ];
                if number != 12 {
                    let right = number <= 6 || number == 8;
                    answers.push(ans("q3", Response::Bool(!right), start + 60_000));
                }
                attempt(percent, start, answers)
            })
            .collect();
        (questions, attempts)
    }

    #[test]
    fn fixture_2_twelve_attempts_raise_every_flag() {
        let (questions, attempts) = fixture_2();
        let s = analyse(&questions, &attempts);

        let q1 = &s[0];
        assert_eq!((q1.attempts, q1.answered), (12, 12));
        close(q1.facility, Some(1.0));
        close(q1.discrimination, Some(0.0));
        assert_eq!(chosen(q1), vec![12, 0, 0]);
        close(q1.avg_seconds, Some(10.0));
        assert_eq!(
            q1.flags,
            vec![
                Flag::TooEasy,
                Flag::UnchosenDistractor { option: 1 },
                Flag::UnchosenDistractor { option: 2 },
            ]
        );

        let q2 = &s[1];
        close(q2.facility, Some(1.0 / 12.0));
        close(q2.discrimination, Some(-0.25));
        assert_eq!(chosen(q2), vec![1, 8, 3]);
        close(q2.avg_seconds, Some(20.0));
        assert_eq!(
            q2.flags,
            vec![
                Flag::NegativeDiscrimination,
                Flag::TooHard,
                Flag::CorrectOptionRarelyChosen { option: 0 },
            ]
        );

        let q3 = &s[2];
        assert_eq!((q3.attempts, q3.answered, q3.timed), (12, 11, 11));
        close(q3.facility, Some(7.0 / 12.0));
        close(q3.discrimination, Some(1.0));
        assert_eq!(chosen(q3), vec![4, 7]);
        close(q3.avg_seconds, Some(30.0));
        assert!(q3.flags.is_empty());
    }

    // ---- fixture 3: other kinds, unknown options, duplicates, odd times ----

    /// q1 numeric (4 ± 0, two points); q2 multiple choice all-or-nothing
    /// (red, blue right; green wrong; stored ids r, b, g); q3 short text
    /// ("Paris", case-insensitive).
    fn fixture_3_questions() -> Vec<Question> {
        vec![
            question(
                "q1",
                2.0,
                QuestionKind::Numeric {
                    answer: 4.0,
                    tolerance: 0.0,
                },
            ),
            question(
                "q2",
                1.0,
                QuestionKind::MultipleChoice {
                    options: options(&[
                        ("r", "red", true),
                        ("b", "blue", true),
                        ("g", "green", false),
                    ]),
                    partial_credit: false,
                    negative_marking: false,
                },
            ),
            question(
                "q3",
                1.0,
                QuestionKind::ShortText {
                    accepted: vec![TextAnswer {
                        text: "Paris".into(),
                        mode: TextMatch::CaseInsensitive,
                    }],
                },
            ),
        ]
    }

    /// Five attempts; percents A1 80, A2 80, A3 60, A4 40, A5 20 (a third =
    /// 1: the top place is shared by the tied A1 and A2, ½ each; bottom A5).
    ///
    /// | attempt | q1          | q2                      | q3            |
    /// |---------|-------------|-------------------------|---------------|
    /// | A1      | 4 → 1       | red, blue → 1           | "paris" → 1   |
    /// | A2      | 5 → 0       | red, blue, unknown → 1  | "Paris" → 1   |
    /// | A3      | 4 → 1       | r (stored id) → 0       | "Lyon" → 0    |
    /// | A4      | —           | unknown only → 0        | "Lyon" at 6 s, then "Paris" at 7 s → 1 |
    /// | A5      | Text "4" → 0| Bool → 0                | —             |
    ///
    /// - q1: facility 2/5; top ½·(1+0) = ½, bottom 0 → ½; answered 4; no
    ///   option counts.
    /// - q2: facility 2/5; top ½·(1+1) = 1, bottom 0 → 1; counts red 3
    ///   (A1, A2, A3), blue 2, green 0; unrecognised 2 (A4, A5); answered 5.
    /// - q3: facility 3/5; top 1, bottom 0 → 1; answered 4 (A4's later
    ///   answer counts).
    ///
    /// Times (ms; start, then each answer in time order):
    /// - A1 start 0: q2 3000 (3 s), q1 5000 (2 s), q3 9000 (4 s).
    /// - A2 start 10 000: q1 8000 (−2 s: no time), q2 15 000 (7 s, from
    ///   q1), q3 15 000 (same moment, after q2 in quiz order: 0 s).
    /// - A3 start 0: q1 1500 (1.5 s), q2 4000 (2.5 s), q3 4500 (0.5 s).
    /// - A4 start 0: an answer to an unknown question at 1000 (ignored), q2
    ///   2000 (2 s), q3 7000 (5 s; its earlier 6000 answer does not count).
    /// - A5 start 0: q1 4000 (4 s), q2 6000 (2 s).
    ///
    /// q1: (2 + 1.5 + 4)/3 = 2.5 s; q2: (3 + 7 + 2.5 + 2 + 2)/5 = 3.3 s;
    /// q3: (4 + 0 + 0.5 + 5)/4 = 2.375 s. Five attempts: no flags.
    fn fixture_3_attempts() -> Vec<AttemptAnswers> {
        let text = |s: &str| Response::Text(s.into());
        vec![
            attempt(
                80.0,
                0,
                vec![
                    ans("q1", Response::Number(4.0), 5000),
                    ans("q2", pick("q2", &["red", "blue"]), 3000),
                    ans("q3", text("paris"), 9000),
                ],
            ),
            attempt(
                80.0,
                10_000,
                vec![
                    ans("q1", Response::Number(5.0), 8000),
                    ans(
                        "q2",
                        Response::Choice(vec![
                            option_token("q2", "red"),
                            "o-no-such-option".into(),
                            option_token("q2", "blue"),
                        ]),
                        15_000,
                    ),
                    ans("q3", text("Paris"), 15_000),
                ],
            ),
            attempt(
                60.0,
                0,
                vec![
                    ans("q1", Response::Number(4.0), 1500),
                    ans("q2", Response::Choice(vec!["r".into()]), 4000),
                    ans("q3", text("Lyon"), 4500),
                ],
            ),
            attempt(
                40.0,
                0,
                vec![
                    ans("zz", Response::Bool(true), 1000),
                    ans("q3", text("Paris"), 7000),
                    ans("q2", Response::Choice(vec!["nonsense".into()]), 2000),
                    ans("q3", text("Lyon"), 6000),
                ],
            ),
            attempt(
                20.0,
                0,
                vec![
                    ans("q1", text("4"), 4000),
                    ans("q2", Response::Bool(true), 6000),
                ],
            ),
        ]
    }

    #[test]
    fn fixture_3_other_kinds_unknown_options_duplicates_and_odd_times() {
        let s = analyse(&fixture_3_questions(), &fixture_3_attempts());

        let q1 = &s[0];
        assert_eq!((q1.attempts, q1.answered, q1.timed), (5, 4, 3));
        close(q1.facility, Some(0.4));
        close(q1.discrimination, Some(0.5));
        assert_eq!(q1.choices, None);
        close(q1.avg_seconds, Some(2.5));

        let q2 = &s[1];
        assert_eq!((q2.answered, q2.timed), (5, 5));
        close(q2.facility, Some(0.4));
        close(q2.discrimination, Some(1.0));
        assert_eq!(chosen(q2), vec![3, 2, 0]);
        assert_eq!(unrecognised(q2), 2);
        close(q2.avg_seconds, Some(3.3));

        let q3 = &s[2];
        assert_eq!((q3.answered, q3.timed), (4, 4));
        close(q3.facility, Some(0.6));
        close(q3.discrimination, Some(1.0));
        assert_eq!(q3.choices, None);
        close(q3.avg_seconds, Some(2.375));

        assert!(s.iter().all(|q| q.flags.is_empty()));
    }

    // ---- edge cases ----

    #[test]
    fn no_attempts_give_counts_of_zero_and_no_numbers() {
        let s = analyse(&fixture_1_questions(), &[]);
        assert_eq!(s.len(), 3);
        for q in &s {
            assert_eq!((q.attempts, q.answered, q.timed), (0, 0, 0));
            assert_eq!(
                (q.facility, q.discrimination, q.avg_seconds),
                (None, None, None)
            );
            assert!(chosen(q).iter().all(|&c| c == 0));
            assert!(q.flags.is_empty());
        }
        assert!(analyse(&[], &fixture_1_attempts()).is_empty());
    }

    #[test]
    fn fewer_than_three_attempts_have_no_discrimination() {
        let attempts = &fixture_1_attempts()[..2];
        for q in analyse(&fixture_1_questions(), attempts) {
            assert_eq!(q.discrimination, None);
            assert!(q.facility.is_some());
        }
        let three = &fixture_1_attempts()[..3];
        // A third = 1: top A1, bottom A3. q1: 1 − 0.
        close(
            analyse(&fixture_1_questions(), three)[0].discrimination,
            Some(1.0),
        );
    }

    #[test]
    fn an_unanswered_question_counts_zero_and_has_no_time() {
        let qs = [true_false("t", true)];
        let attempts: Vec<AttemptAnswers> = [90.0, 50.0, 10.0]
            .iter()
            .map(|&p| attempt(p, 0, vec![]))
            .collect();
        let s = &analyse(&qs, &attempts)[0];
        assert_eq!((s.attempts, s.answered, s.timed), (3, 0, 0));
        close(s.facility, Some(0.0));
        close(s.discrimination, Some(0.0));
        assert_eq!(s.avg_seconds, None);
        assert_eq!(chosen(s), vec![0, 0]);
        assert_eq!(unrecognised(s), 0);
    }

    #[test]
    fn responses_to_unknown_options_are_unrecognised_and_earn_nothing() {
        let qs = [single("s", &[("a", "A", true), ("b", "B", false)])];
        let attempts = [
            attempt(50.0, 0, vec![ans("s", pick("s", &["Z"]), 1)]),
            attempt(50.0, 0, vec![ans("s", Response::Choice(vec![]), 1)]),
            attempt(50.0, 0, vec![ans("s", pick("other", &["A"]), 1)]),
            // Named twice (token and stored id): one choice.
            attempt(
                50.0,
                0,
                vec![ans(
                    "s",
                    Response::Choice(vec![option_token("s", "A"), "a".into()]),
                    1,
                )],
            ),
        ];
        let s = &analyse(&qs, &attempts)[0];
        assert_eq!(s.answered, 4);
        assert_eq!(chosen(s), vec![1, 0]);
        assert_eq!(unrecognised(s), 3);
        // Grading refuses two ids for a single choice, even naming one option.
        close(s.facility, Some(0.0));
    }

    #[test]
    fn negative_gaps_give_no_time_but_the_next_answer_counts_from_them() {
        let qs = [true_false("t1", true), true_false("t2", true)];
        // Both answers stamped before the start (a skewed offline clock).
        let a = attempt(
            50.0,
            10_000,
            vec![
                ans("t1", Response::Bool(true), 8_000),
                ans("t2", Response::Bool(true), 9_500),
            ],
        );
        let s = analyse(&qs, &[a]);
        assert_eq!((s[0].avg_seconds, s[0].timed), (None, 0));
        assert_eq!(s[0].answered, 1);
        close(s[1].avg_seconds, Some(1.5));
        // Every answer before the start: no time at all.
        let a = attempt(50.0, 10_000, vec![ans("t1", Response::Bool(true), 0)]);
        assert_eq!(analyse(&qs, &[a])[0].avg_seconds, None);
    }

    #[test]
    fn flags_wait_for_enough_attempts() {
        let qs = [true_false("t", true)];
        let all_right = |n: usize| -> Vec<AttemptAnswers> {
            (0..n)
                .map(|i| attempt(i as f64, 0, vec![ans("t", Response::Bool(true), 1)]))
                .collect()
        };
        assert!(analyse(&qs, &all_right(9))[0].flags.is_empty());
        assert_eq!(
            analyse(&qs, &all_right(10))[0].flags,
            vec![Flag::TooEasy, Flag::UnchosenDistractor { option: 1 }]
        );
        // Negative discrimination: five attempts are too few, six enough.
        let inverted = |n: usize| -> Vec<AttemptAnswers> {
            (0..n)
                .map(|i| {
                    let right = i < n / 2;
                    attempt(i as f64, 0, vec![ans("t", Response::Bool(right), 1)])
                })
                .collect()
        };
        let five = &analyse(&qs, &inverted(5))[0];
        close(five.discrimination, Some(-1.0));
        assert!(five.flags.is_empty());
        assert_eq!(
            analyse(&qs, &inverted(6))[0].flags,
            vec![Flag::NegativeDiscrimination]
        );
    }

    #[test]
    fn a_tied_group_shares_the_places_left_at_a_boundary() {
        // Six attempts, a third = 2. The top three are tied at 80 and need
        // two places: each counts ⅔. Their fractions 1, 1, 0 give a top of
        // ⅔·(1 + 1 + 0)/2 = ⅔; the bottom (10, 40) both wrong: 0.
        let qs = [true_false("t", true)];
        let attempts: Vec<AttemptAnswers> = [(80.0, true), (80.0, true), (80.0, false)]
            .into_iter()
            .chain([(50.0, true), (40.0, false), (10.0, false)])
            .map(|(p, b)| attempt(p, 0, vec![ans("t", Response::Bool(b), 1)]))
            .collect();
        let s = &analyse(&qs, &attempts)[0];
        close(s.facility, Some(0.5));
        close(s.discrimination, Some(2.0 / 3.0));
    }

    #[test]
    fn all_attempts_tied_discriminate_nothing() {
        let qs = [true_false("t", true)];
        let attempts: Vec<AttemptAnswers> = (0..7)
            .map(|i| attempt(70.0, 0, vec![ans("t", Response::Bool(i % 2 == 0), 1)]))
            .collect();
        close(analyse(&qs, &attempts)[0].discrimination, Some(0.0));
    }

    #[test]
    fn stats_round_trip_as_json_with_tagged_flags() {
        let (questions, attempts) = fixture_2();
        let s = analyse(&questions, &attempts);
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains(r#"{"type":"unchosen_distractor","option":1}"#));
        assert!(json.contains(r#"{"type":"too_easy"}"#));
        let back: Vec<QuestionStats> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
    }

    // ---- properties ----

    /// One of each kind with options, and one without.
    fn prop_questions() -> Vec<Question> {
        vec![
            single(
                "s",
                &[("a", "A", true), ("b", "B", false), ("c", "C", false)],
            ),
            question(
                "m",
                2.0,
                QuestionKind::MultipleChoice {
                    options: options(&[("x", "X", true), ("y", "Y", true), ("z", "Z", false)]),
                    partial_credit: true,
                    negative_marking: true,
                },
            ),
            true_false("t", false),
            question(
                "n",
                1.0,
                QuestionKind::Numeric {
                    answer: 1.0,
                    tolerance: 0.0,
                },
            ),
        ]
    }

    /// (kind selector, option indices (≥ 3: unknown), token or stored id /
    /// the boolean, answered at).
    type RawAnswer = (u8, Vec<u8>, bool, i64);

    fn raw_attempts() -> impl Strategy<Value = Vec<(u8, i64, Vec<Option<RawAnswer>>)>> {
        let answer = (
            0u8..4,
            proptest::collection::vec(0u8..5, 0..4),
            any::<bool>(),
            -1_000i64..100_000,
        );
        proptest::collection::vec(
            (
                0u8..=4,
                0i64..1_000,
                proptest::collection::vec(proptest::option::of(answer), 4),
            ),
            0..16,
        )
    }

    fn options_of(q: &Question) -> &[ChoiceOption] {
        match &q.kind {
            QuestionKind::SingleChoice { options }
            | QuestionKind::MultipleChoice { options, .. } => options,
            _ => &[],
        }
    }

    /// The response for a raw answer, and the choices it makes (distinct
    /// known options; one value for true/false).
    fn build(q: &Question, raw: &RawAnswer) -> (Response, usize) {
        let (selector, indices, flag, _) = raw;
        let opts = options_of(q);
        match selector {
            0 => (Response::Number(indices.len() as f64), 0),
            1 => {
                let made = usize::from(matches!(q.kind, QuestionKind::TrueFalse { .. }));
                (Response::Bool(*flag), made)
            }
            _ => {
                let ids = indices
                    .iter()
                    .map(|&i| match opts.get(usize::from(i)) {
                        Some(o) if *flag => option_token(&q.id, &o.text),
                        Some(o) => o.id.clone(),
                        None => format!("unknown{i}"),
                    })
                    .collect();
                let mut known: Vec<u8> = indices
                    .iter()
                    .copied()
                    .filter(|&i| usize::from(i) < opts.len())
                    .collect();
                known.sort_unstable();
                known.dedup();
                (Response::Choice(ids), known.len())
            }
        }
    }

    /// The attempts, and per question the choices made.
    fn build_all(
        qs: &[Question],
        raw: &[(u8, i64, Vec<Option<RawAnswer>>)],
    ) -> (Vec<AttemptAnswers>, Vec<usize>) {
        let mut made = vec![0; qs.len()];
        let attempts = raw
            .iter()
            .map(|(percent, start, answers)| {
                let answers = qs
                    .iter()
                    .zip(answers)
                    .enumerate()
                    .filter_map(|(qi, (q, raw))| {
                        let raw = raw.as_ref()?;
                        let (response, n) = build(q, raw);
                        made[qi] += n;
                        Some(ans(&q.id, response, raw.3))
                    })
                    .collect();
                attempt(f64::from(*percent) * 25.0, *start, answers)
            })
            .collect();
        (attempts, made)
    }

    proptest! {
        #[test]
        fn numbers_stay_in_range_and_counts_add_up(raw in raw_attempts()) {
            let qs = prop_questions();
            let (attempts, made) = build_all(&qs, &raw);
            let stats = analyse(&qs, &attempts);
            prop_assert_eq!(stats.len(), qs.len());
            for (s, made) in stats.iter().zip(made) {
                prop_assert_eq!(s.attempts as usize, attempts.len());
                prop_assert!(s.answered <= s.attempts && s.timed <= s.answered);
                prop_assert_eq!(s.facility.is_some(), !attempts.is_empty());
                if let Some(f) = s.facility {
                    prop_assert!((0.0..=1.0).contains(&f), "facility {}", f);
                }
                prop_assert_eq!(s.discrimination.is_some(), attempts.len() >= 3);
                if let Some(d) = s.discrimination {
                    prop_assert!((-1.0..=1.0).contains(&d), "discrimination {}", d);
                }
                if let Some(t) = s.avg_seconds {
                    prop_assert!(t >= 0.0);
                }
                if let Some(c) = &s.choices {
                    let sum: u32 = c.options.iter().map(|o| o.chosen).sum();
                    prop_assert_eq!(sum as usize, made);
                    prop_assert!(c.unrecognised <= s.answered);
                } else {
                    prop_assert_eq!(made, 0);
                }
            }
        }

        #[test]
        fn the_order_of_the_attempts_does_not_matter(
            (raw, shuffled) in raw_attempts()
                .prop_flat_map(|raw| (Just(raw.clone()), Just(raw).prop_shuffle())),
        ) {
            let qs = prop_questions();
            let (attempts, _) = build_all(&qs, &raw);
            let (reordered, _) = build_all(&qs, &shuffled);
            prop_assert_eq!(analyse(&qs, &attempts), analyse(&qs, &reordered));
        }
    }
}
