//! Grading (server only): one [`Response`] against one [`Question`], and a
//! whole attempt against a pass mark.
//!
//! Grading never panics and never trusts the response: a response of the
//! wrong kind, unknown ids, duplicates, NaN or absurdly long text simply earn
//! nothing. Ids in responses are the learner-view tokens of
//! [`crate::learner`]; choice questions also accept the stored
//! option ids (harmless: an option id says nothing about correctness), but
//! ordering and matching accept tokens only, because stored item/pair ids
//! may be guessable ("1", "2", "3") and would reveal the answer.
//!
//! # Rules per kind
//!
//! * **Single choice** — exactly one option picked and it is the correct one:
//!   full marks; anything else: 0.
//! * **Multiple choice without partial credit** — the picked set must equal
//!   the set of correct options exactly (all-or-nothing, like Moodle's
//!   "all-or-nothing multiple choice" question type).
//! * **Multiple choice with partial credit** — each correct option picked earns
//!   `points / number of correct options`; with `negative_marking` each wrong
//!   option picked costs `points / number of wrong options` (without it, wrong
//!   picks cost nothing). The question total is clamped to `0..=points`, so a
//!   question never takes marks away from the rest of the quiz.
//!
//!   *Moodle*: a multiple-answer question gives every choice a grade
//!   percentage (positive ones summing to 100 %, wrong ones usually 0 % or
//!   negative), adds the percentages of the chosen answers and clamps the sum
//!   to 0–100 %. Ours is that rule with equal weights: +100 %/k for each of
//!   the k correct options and, with negative marking, −100 %/w for each of
//!   the w wrong ones. As in Moodle, partial credit *without* negative marking
//!   lets a learner who ticks every box earn full marks — turn on negative
//!   marking (or use all-or-nothing) to prevent that.
//! * **True/false** — all-or-nothing.
//! * **Short text** — the answer and every accepted answer are trimmed and
//!   each run of Unicode whitespace becomes one space. `Exact` compares
//!   character for character; `CaseInsensitive` compares after
//!   `str::to_lowercase` (Unicode-aware: "ÉCOLE" = "école"; no full case
//!   folding, so "STRASSE" ≠ "straße", and no Unicode normalisation);
//!   `Regex` must match the *whole* normalised answer (anchored as
//!   `\A(?:pattern)\z`, after checking the bare pattern compiles on its own so
//!   a pattern like `x)|(.*` cannot break out of the anchors). Patterns are
//!   compiled with size and nesting limits; one that fails to compile never
//!   matches (validation reports it before publishing). Answers longer than
//!   [`MAX_TEXT_ANSWER_CHARS`] are wrong.
//! * **Numeric** — correct when `|x − answer| ≤ tolerance`, boundaries
//!   inclusive (with a few ULPs of slack so that 1.24 is within 1.23 ± 0.01);
//!   NaN and ±∞ are never correct.
//! * **Ordering** — all-or-nothing: the items must be in exactly the stored
//!   order. (We chose this over "fraction of items in the right position",
//!   which punishes a single early misplacement as heavily as a random order
//!   and rewards nothing sensible; Moodle's ordering plugin offers several
//!   schemes and all-or-nothing is the one that needs no explanation.)
//! * **Matching** — partial credit: `points × (correct pairs / pairs)`. A
//!   prompt answered more than once counts as wrong (no "answer everything"
//!   trick); unknown prompt ids are ignored.

use std::collections::HashMap;

use regex::{Regex, RegexBuilder};

pub use super::model::{AttemptScore, Correctness, Grade};
use super::{
    learner::{answer_token, item_token, option_token, prompt_token},
    model::{ChoiceOption, Question, QuestionKind, Response, TextAnswer, TextMatch},
};

/// Longest short-text answer that is graded at all (characters).
pub const MAX_TEXT_ANSWER_CHARS: usize = 10_000;
/// Longest accepted regular expression (bytes).
pub const MAX_PATTERN_LEN: usize = 1_000;
/// Compiled-program size limit for answer patterns (bytes).
const REGEX_SIZE_LIMIT: usize = 256 * 1024;
/// Lazy-DFA cache limit for answer patterns (bytes).
const REGEX_DFA_SIZE_LIMIT: usize = 1024 * 1024;
/// Maximum nesting depth of an answer pattern.
const REGEX_NEST_LIMIT: u32 = 50;

/// Trims and collapses every run of Unicode whitespace into one space.
pub fn normalize_text(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn limited(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_DFA_SIZE_LIMIT)
        .nest_limit(REGEX_NEST_LIMIT)
        .build()
}

/// Compiles an accepted-answer pattern as a whole-answer (anchored) match.
///
/// The error is a message for the author. Used by grading and by
/// validation's regex check.
pub fn compile_answer_regex(pattern: &str) -> Result<Regex, String> {
    if pattern.len() > MAX_PATTERN_LEN {
        return Err(format!(
            "The pattern is too long ({} characters; at most {MAX_PATTERN_LEN}).",
            pattern.len()
        ));
    }
    // The bare pattern must compile by itself, so unbalanced parentheses
    // cannot escape the anchoring group below.
    limited(pattern).map_err(regex_message)?;
    limited(&format!(r"\A(?:{pattern})\z")).map_err(regex_message)
}

fn regex_message(e: regex::Error) -> String {
    match e {
        regex::Error::CompiledTooBig(_) => {
            "The pattern is too complex; simplify it (e.g. smaller repetition counts).".into()
        }
        other => {
            // The syntax error's last line says what is wrong; keep it short.
            let text = other.to_string();
            let reason = text
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid pattern")
                .trim()
                .trim_start_matches("error: ")
                .to_string();
            format!("The pattern is not a valid regular expression: {reason}")
        }
    }
}

/// The question's maximum marks, or 0 when its points are invalid.
fn max_points(q: &Question) -> f64 {
    if q.points.is_finite() && q.points > 0.0 {
        q.points
    } else {
        0.0
    }
}

/// Builds a grade from a fraction of the marks (clamped to 0..=1).
fn from_fraction(q: &Question, fraction: f64, option_feedback: Vec<&str>) -> Grade {
    let max = max_points(q);
    let fraction = if fraction.is_finite() {
        fraction.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (correct, score) = if fraction >= 1.0 - 1e-9 {
        (Correctness::Correct, max)
    } else if fraction > 1e-9 {
        (Correctness::Partial, fraction * max)
    } else {
        (Correctness::Incorrect, 0.0)
    };
    let general = if correct == Correctness::Correct {
        &q.feedback_correct_md
    } else {
        &q.feedback_incorrect_md
    };
    let parts: Vec<&str> = option_feedback
        .into_iter()
        .chain(std::iter::once(general.as_str()))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    Grade {
        score,
        max,
        correct,
        feedback_md: (!parts.is_empty()).then(|| parts.join("\n\n")),
    }
}

fn all_or_nothing(q: &Question, ok: bool, option_feedback: Vec<&str>) -> Grade {
    from_fraction(q, if ok { 1.0 } else { 0.0 }, option_feedback)
}

/// Index of the option a response id names (stored id or learner token).
fn option_index(q: &Question, options: &[ChoiceOption], id: &str) -> Option<usize> {
    options.iter().position(|o| o.id == id).or_else(|| {
        options
            .iter()
            .position(|o| option_token(&q.id, &o.text) == id)
    })
}

/// The distinct options picked, in option order; unknown ids are ignored.
/// (Also counts the options chosen for item analysis,
/// [`crate::learning::analytics`].)
pub(crate) fn picked(q: &Question, options: &[ChoiceOption], ids: &[String]) -> Vec<usize> {
    let mut idx: Vec<usize> = ids
        .iter()
        .filter_map(|id| option_index(q, options, id))
        .collect();
    idx.sort_unstable();
    idx.dedup();
    idx
}

/// A learner's response as lines of plain text, for people reading it (the
/// space admin's attempt view and CSV): chosen options by their text, an
/// order as numbered items, matches as `prompt → answer`. Ids the question
/// does not know show as `?`.
pub fn response_lines(q: &Question, r: &Response) -> Vec<String> {
    match (&q.kind, r) {
        (
            QuestionKind::SingleChoice { options } | QuestionKind::MultipleChoice { options, .. },
            Response::Choice(ids),
        ) => {
            let mut lines: Vec<String> = picked(q, options, ids)
                .into_iter()
                .map(|i| options[i].text.clone())
                .collect();
            if ids.iter().any(|id| option_index(q, options, id).is_none()) {
                lines.push("?".into());
            }
            lines
        }
        (_, Response::Bool(b)) => vec![if *b { "True" } else { "False" }.to_string()],
        (_, Response::Text(t)) => vec![t.clone()],
        (_, Response::Number(x)) => vec![x.to_string()],
        (QuestionKind::Ordering { items }, Response::Order(ids)) => ids
            .iter()
            .enumerate()
            .map(|(n, id)| {
                let text = items
                    .iter()
                    .find(|i| i.id == *id || item_token(&q.id, &i.text) == *id)
                    .map(|i| i.text.as_str())
                    .unwrap_or("?");
                format!("{}. {text}", n + 1)
            })
            .collect(),
        (QuestionKind::Matching { pairs }, Response::Match(picks)) => picks
            .iter()
            .map(|(prompt_id, answer_id)| {
                let prompt = pairs
                    .iter()
                    .find(|p| p.id == *prompt_id || prompt_token(&q.id, &p.prompt) == *prompt_id)
                    .map(|p| p.prompt.as_str())
                    .unwrap_or("?");
                let answer = pairs
                    .iter()
                    .find(|p| answer_token(&q.id, &p.answer) == *answer_id)
                    .map(|p| p.answer.as_str())
                    .unwrap_or("?");
                format!("{prompt} → {answer}")
            })
            .collect(),
        (_, Response::Choice(ids) | Response::Order(ids)) => ids.clone(),
        (_, Response::Match(picks)) => picks.iter().map(|(a, b)| format!("{a} → {b}")).collect(),
    }
}

/// The answer patterns of a published version, compiled once: grading a
/// submit then matches against compiled automata instead of compiling every
/// pattern again. Patterns that do not compile are remembered as such (they
/// match nothing, as when compiled on the spot).
#[derive(Clone, Debug, Default)]
pub struct Patterns(HashMap<String, Option<Regex>>);

impl Patterns {
    /// Every short-text pattern of `questions`, compiled.
    pub fn of<'a>(questions: impl IntoIterator<Item = &'a Question>) -> Self {
        let mut map = HashMap::new();
        for q in questions {
            if let QuestionKind::ShortText { accepted } = &q.kind {
                for a in accepted.iter().filter(|a| a.mode == TextMatch::Regex) {
                    map.entry(a.text.clone())
                        .or_insert_with(|| compile_answer_regex(&a.text).ok());
                }
            }
        }
        Self(map)
    }

    /// How many patterns are held.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn is_match(&self, pattern: &str, given: &str) -> bool {
        match self.0.get(pattern) {
            Some(compiled) => compiled.as_ref().is_some_and(|re| re.is_match(given)),
            None => compile_answer_regex(pattern)
                .map(|re| re.is_match(given))
                .unwrap_or(false),
        }
    }
}

fn text_matches(answer: &TextAnswer, given_normalized: &str, patterns: &Patterns) -> bool {
    match answer.mode {
        TextMatch::Exact => normalize_text(&answer.text) == given_normalized,
        TextMatch::CaseInsensitive => {
            normalize_text(&answer.text).to_lowercase() == given_normalized.to_lowercase()
        }
        TextMatch::Regex => patterns.is_match(&answer.text, given_normalized),
    }
}

/// `|x − answer| ≤ tolerance`, inclusive with a few ULPs of slack.
pub fn numeric_matches(x: f64, answer: f64, tolerance: f64) -> bool {
    if !(x.is_finite() && answer.is_finite() && tolerance.is_finite() && tolerance >= 0.0) {
        return false;
    }
    let slack = 8.0 * f64::EPSILON * x.abs().max(answer.abs()).max(1.0);
    (x - answer).abs() <= tolerance + slack
}

/// Grades one response. Never panics; see the module docs for the rules.
/// Compiles any answer pattern on the spot; [`grade_with`] uses patterns
/// compiled beforehand.
pub fn grade(question: &Question, response: &Response) -> Grade {
    grade_with(question, response, &Patterns::default())
}

/// [`grade`] with the version's answer patterns compiled once ([`Patterns`]).
pub fn grade_with(question: &Question, response: &Response, patterns: &Patterns) -> Grade {
    let q = question;
    match (&q.kind, response) {
        (QuestionKind::SingleChoice { options }, Response::Choice(ids)) => {
            let chosen = picked(q, options, ids);
            let feedback = chosen
                .iter()
                .map(|&i| options[i].feedback.as_str())
                .collect();
            // Exactly one id, naming exactly one option.
            let ok = ids.len() == 1 && chosen.len() == 1 && options[chosen[0]].correct;
            all_or_nothing(q, ok, feedback)
        }
        (
            QuestionKind::MultipleChoice {
                options,
                partial_credit,
                negative_marking,
            },
            Response::Choice(ids),
        ) => {
            let chosen = picked(q, options, ids);
            let feedback = chosen
                .iter()
                .map(|&i| options[i].feedback.as_str())
                .collect();
            let num_correct = options.iter().filter(|o| o.correct).count();
            let num_wrong = options.len() - num_correct;
            let hits = chosen.iter().filter(|&&i| options[i].correct).count();
            let misses = chosen.len() - hits;
            if num_correct == 0 {
                return all_or_nothing(q, false, feedback);
            }
            if !partial_credit {
                return all_or_nothing(q, hits == num_correct && misses == 0, feedback);
            }
            let mut fraction = hits as f64 / num_correct as f64;
            if *negative_marking && num_wrong > 0 {
                fraction -= misses as f64 / num_wrong as f64;
            }
            from_fraction(q, fraction, feedback)
        }
        (QuestionKind::TrueFalse { answer }, Response::Bool(b)) => {
            all_or_nothing(q, answer == b, vec![])
        }
        (QuestionKind::ShortText { accepted }, Response::Text(text)) => {
            let ok = text.chars().count() <= MAX_TEXT_ANSWER_CHARS && {
                let given = normalize_text(text);
                !given.is_empty() && accepted.iter().any(|a| text_matches(a, &given, patterns))
            };
            all_or_nothing(q, ok, vec![])
        }
        (QuestionKind::Numeric { answer, tolerance }, Response::Number(x)) => {
            all_or_nothing(q, numeric_matches(*x, *answer, *tolerance), vec![])
        }
        (QuestionKind::Ordering { items }, Response::Order(ids)) => {
            let ok = !items.is_empty()
                && ids.len() == items.len()
                && items
                    .iter()
                    .zip(ids)
                    .all(|(item, id)| item_token(&q.id, &item.text) == *id);
            all_or_nothing(q, ok, vec![])
        }
        (QuestionKind::Matching { pairs }, Response::Match(picks)) => {
            if pairs.is_empty() {
                return all_or_nothing(q, false, vec![]);
            }
            let mut by_prompt: HashMap<&str, Vec<&str>> = HashMap::new();
            for (prompt_id, answer_id) in picks {
                by_prompt
                    .entry(prompt_id.as_str())
                    .or_default()
                    .push(answer_id.as_str());
            }
            let right = pairs
                .iter()
                .filter(|p| {
                    let prompt = prompt_token(&q.id, &p.prompt);
                    matches!(by_prompt.get(prompt.as_str()).map(Vec::as_slice),
                             Some([only]) if *only == answer_token(&q.id, &p.answer))
                })
                .count();
            from_fraction(q, right as f64 / pairs.len() as f64, vec![])
        }
        // A response of another kind: no marks.
        _ => all_or_nothing(q, false, vec![]),
    }
}

/// The grade of a question left unanswered.
pub fn grade_missing(question: &Question) -> Grade {
    all_or_nothing(question, false, vec![])
}

/// Grades a whole attempt: `responses` maps question ids to responses; an
/// unanswered question scores 0. Compare with a pass mark via
/// [`AttemptScore::passes`].
pub fn score_attempt(
    questions: &[Question],
    responses: &HashMap<String, Response>,
) -> AttemptScore {
    score_attempt_with(questions, responses, &Patterns::default())
}

/// [`score_attempt`] with the version's answer patterns compiled once.
pub fn score_attempt_with(
    questions: &[Question],
    responses: &HashMap<String, Response>,
    patterns: &Patterns,
) -> AttemptScore {
    let grades: Vec<Grade> = questions
        .iter()
        .map(|q| match responses.get(&q.id) {
            Some(r) => grade_with(q, r, patterns),
            None => grade_missing(q),
        })
        .collect();
    let score: f64 = grades.iter().map(|g| g.score).sum();
    let max: f64 = grades.iter().map(|g| g.max).sum();
    let percent = if max > 0.0 { 100.0 * score / max } else { 0.0 };
    AttemptScore {
        score,
        max,
        percent,
        grades,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learner::{to_learner_view, LearnerKind};
    use crate::model::{passes, Item, Pair};

    fn q(kind: QuestionKind, points: f64) -> Question {
        Question {
            id: "q".into(),
            kind,
            prompt_md: "?".into(),
            points,
            feedback_correct_md: "Well done.".into(),
            feedback_incorrect_md: "Not quite.".into(),
        }
    }

    fn opt(id: &str, correct: bool) -> ChoiceOption {
        ChoiceOption {
            id: id.into(),
            text: format!("Text {id}"),
            correct,
            feedback: format!("fb {id}"),
        }
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    // ---- single choice ----

    fn single() -> Question {
        q(
            QuestionKind::SingleChoice {
                options: vec![opt("a", false), opt("b", true), opt("c", false)],
            },
            2.0,
        )
    }

    #[test]
    fn single_choice_right_wrong_and_feedback() {
        let g = grade(&single(), &Response::Choice(ids(&["b"])));
        assert_eq!(g.correct, Correctness::Correct);
        assert!(close(g.score, 2.0) && close(g.max, 2.0));
        assert_eq!(g.feedback_md.as_deref(), Some("fb b\n\nWell done."));
        let g = grade(&single(), &Response::Choice(ids(&["a"])));
        assert_eq!(g.correct, Correctness::Incorrect);
        assert_eq!(g.score, 0.0);
        assert_eq!(g.feedback_md.as_deref(), Some("fb a\n\nNot quite."));
    }

    #[test]
    fn single_choice_rejects_several_picks_and_unknown_ids() {
        for r in [ids(&["a", "b"]), ids(&["b", "b"]), ids(&[]), ids(&["zzz"])] {
            let g = grade(&single(), &Response::Choice(r.clone()));
            assert_eq!(g.correct, Correctness::Incorrect, "{r:?}");
            assert_eq!(g.score, 0.0);
        }
    }

    #[test]
    fn single_choice_accepts_learner_view_tokens() {
        let question = single();
        let view = to_learner_view(&question, Some(4));
        let LearnerKind::SingleChoice { options } = view.kind else {
            panic!()
        };
        let right = options.iter().find(|o| o.text == "Text b").unwrap();
        let g = grade(&question, &Response::Choice(vec![right.id.clone()]));
        assert_eq!(g.correct, Correctness::Correct);
    }

    // ---- multiple choice ----

    fn multi(partial: bool, negative: bool) -> Question {
        // Two right (a, b), three wrong (c, d, e); 3 points.
        q(
            QuestionKind::MultipleChoice {
                options: vec![
                    opt("a", true),
                    opt("b", true),
                    opt("c", false),
                    opt("d", false),
                    opt("e", false),
                ],
                partial_credit: partial,
                negative_marking: negative,
            },
            3.0,
        )
    }

    #[test]
    fn multiple_choice_all_or_nothing_needs_exact_set() {
        let m = multi(false, false);
        assert_eq!(
            grade(&m, &Response::Choice(ids(&["b", "a"]))).correct,
            Correctness::Correct
        );
        assert_eq!(
            grade(&m, &Response::Choice(ids(&["a"]))).correct,
            Correctness::Incorrect
        );
        assert_eq!(
            grade(&m, &Response::Choice(ids(&["a", "b", "c"]))).score,
            0.0
        );
    }

    #[test]
    fn multiple_choice_partial_credit_without_negative_marking() {
        let m = multi(true, false);
        let g = grade(&m, &Response::Choice(ids(&["a"])));
        assert_eq!(g.correct, Correctness::Partial);
        assert!(close(g.score, 1.5));
        // Wrong picks cost nothing without negative marking (the known trick).
        let g = grade(&m, &Response::Choice(ids(&["a", "b", "c", "d", "e"])));
        assert_eq!(g.correct, Correctness::Correct);
        assert!(close(g.score, 3.0));
    }

    #[test]
    fn multiple_choice_negative_marking_subtracts_per_wrong_option() {
        let m = multi(true, true);
        // a (+1.5) + c (−1.0) = 0.5
        let g = grade(&m, &Response::Choice(ids(&["a", "c"])));
        assert_eq!(g.correct, Correctness::Partial);
        assert!(close(g.score, 0.5), "{}", g.score);
        // Everything ticked: +3 − 3 = 0.
        let g = grade(&m, &Response::Choice(ids(&["a", "b", "c", "d", "e"])));
        assert_eq!(g.correct, Correctness::Incorrect);
        assert_eq!(g.score, 0.0);
        // Both right + one wrong: 3 − 1 = 2.
        assert!(close(
            grade(&m, &Response::Choice(ids(&["a", "b", "d"]))).score,
            2.0
        ));
    }

    #[test]
    fn multiple_choice_partial_credit_floors_at_zero() {
        let m = multi(true, true);
        // Only wrong options: −3 → clamped to 0, never negative.
        let g = grade(&m, &Response::Choice(ids(&["c", "d", "e"])));
        assert_eq!(g.score, 0.0);
        assert_eq!(g.correct, Correctness::Incorrect);
        // a + c + d + e = 1.5 − 3 → 0.
        assert_eq!(
            grade(&m, &Response::Choice(ids(&["a", "c", "d", "e"]))).score,
            0.0
        );
    }

    #[test]
    fn multiple_choice_duplicate_ids_count_once() {
        let m = multi(true, false);
        let g = grade(&m, &Response::Choice(ids(&["a", "a", "a"])));
        assert!(close(g.score, 1.5));
    }

    #[test]
    fn multiple_choice_without_correct_options_scores_zero() {
        let m = q(
            QuestionKind::MultipleChoice {
                options: vec![opt("a", false), opt("b", false)],
                partial_credit: true,
                negative_marking: true,
            },
            1.0,
        );
        assert_eq!(grade(&m, &Response::Choice(ids(&[]))).score, 0.0);
    }

    // ---- true/false ----

    #[test]
    fn true_false() {
        let t = q(QuestionKind::TrueFalse { answer: false }, 1.0);
        assert_eq!(
            grade(&t, &Response::Bool(false)).correct,
            Correctness::Correct
        );
        assert_eq!(
            grade(&t, &Response::Bool(true)).correct,
            Correctness::Incorrect
        );
    }

    // ---- short text ----

    fn short(accepted: &[(&str, TextMatch)]) -> Question {
        q(
            QuestionKind::ShortText {
                accepted: accepted
                    .iter()
                    .map(|(t, m)| TextAnswer {
                        text: (*t).into(),
                        mode: *m,
                    })
                    .collect(),
            },
            1.0,
        )
    }

    fn text_ok(question: &Question, s: &str) -> bool {
        grade(question, &Response::Text(s.into())).correct == Correctness::Correct
    }

    #[test]
    fn short_text_exact_normalizes_whitespace_only() {
        let s = short(&[("New York", TextMatch::Exact)]);
        assert!(text_ok(&s, "New York"));
        assert!(text_ok(&s, "  New \u{00A0}\t York\n"));
        assert!(!text_ok(&s, "new york"));
        assert!(!text_ok(&s, "NewYork"));
    }

    #[test]
    fn short_text_case_insensitive_is_unicode_aware() {
        let s = short(&[("École Normale", TextMatch::CaseInsensitive)]);
        assert!(text_ok(&s, "école normale"));
        assert!(text_ok(&s, "ÉCOLE   NORMALE"));
        let g = short(&[("ΣΟΦΊΑ", TextMatch::CaseInsensitive)]);
        assert!(text_ok(&g, "σοφία"));
        assert!(!text_ok(&s, "ecole normale"), "accents are significant");
    }

    #[test]
    fn short_text_empty_answer_never_matches() {
        let s = short(&[("", TextMatch::Exact), ("a*", TextMatch::Regex)]);
        assert!(!text_ok(&s, "   "));
    }

    #[test]
    fn short_text_regex_is_anchored_to_the_whole_answer() {
        let s = short(&[("cat", TextMatch::Regex)]);
        assert!(text_ok(&s, "cat"));
        assert!(!text_ok(&s, "concatenate"));
        assert!(!text_ok(&s, "cat food"));
        // Alternation is grouped before anchoring: "a|ab" must match "ab" whole.
        let alt = short(&[("a|ab", TextMatch::Regex)]);
        assert!(text_ok(&alt, "ab"));
        assert!(!text_ok(&alt, "abc"));
        // Regex is case-sensitive unless the pattern says (?i).
        let ci = short(&[("(?i)colou?r", TextMatch::Regex)]);
        assert!(text_ok(&ci, "COLOR"));
        assert!(text_ok(&ci, "colour"));
        // Matching happens on the normalised answer.
        let ws = short(&[(r"new york", TextMatch::Regex)]);
        assert!(text_ok(&ws, "  new    york "));
    }

    #[test]
    fn precompiled_patterns_grade_exactly_like_patterns_compiled_on_the_spot() {
        let s = short(&[
            ("(?i)colou?r", TextMatch::Regex),
            ("([a-z", TextMatch::Regex),
        ]);
        let patterns = Patterns::of([&s]);
        assert_eq!(patterns.len(), 2);
        for given in ["Colour", "color", "colr", "", "([a-z"] {
            let r = Response::Text(given.into());
            assert_eq!(grade_with(&s, &r, &patterns), grade(&s, &r), "{given:?}");
        }
    }

    #[test]
    fn short_text_regex_cannot_escape_anchors_or_explode() {
        // Unbalanced parens would turn `\A(?:x)|(.*)\z` into a match-all.
        let escape = short(&[("x)|(.*", TextMatch::Regex)]);
        assert!(!text_ok(&escape, "anything"));
        assert!(compile_answer_regex("x)|(.*").is_err());
        // Invalid patterns never match and are reported.
        let bad = short(&[("([a-z", TextMatch::Regex)]);
        assert!(!text_ok(&bad, "([a-z"));
        assert!(compile_answer_regex("([a-z")
            .unwrap_err()
            .starts_with("The pattern is not a valid regular expression"));
        // Huge compiled programs are refused by the size limit.
        let err = compile_answer_regex(r"(?:\w{100}){100}").unwrap_err();
        assert!(err.contains("too complex"), "{err}");
        // Deep nesting is refused.
        let deep = format!("{}a{}", "(".repeat(200), ")".repeat(200));
        assert!(compile_answer_regex(&deep).is_err());
        // Overlong patterns are refused before compiling.
        assert!(compile_answer_regex(&"a".repeat(MAX_PATTERN_LEN + 1))
            .unwrap_err()
            .contains("too long"));
    }

    #[test]
    fn short_text_overlong_answers_are_wrong() {
        let s = short(&[(".*", TextMatch::Regex)]);
        assert!(text_ok(&s, "x"));
        assert!(!text_ok(&s, &"x".repeat(MAX_TEXT_ANSWER_CHARS + 1)));
    }

    #[test]
    fn short_text_any_accepted_answer_counts() {
        let s = short(&[("grey", TextMatch::Exact), ("gray", TextMatch::Exact)]);
        assert!(text_ok(&s, "gray"));
        assert!(text_ok(&s, "grey"));
        assert!(!text_ok(&s, "green"));
    }

    // ---- numeric ----

    fn num_ok(answer: f64, tolerance: f64, x: f64) -> bool {
        grade(
            &q(QuestionKind::Numeric { answer, tolerance }, 1.0),
            &Response::Number(x),
        )
        .correct
            == Correctness::Correct
    }

    #[test]
    fn numeric_tolerance_boundaries_are_inclusive() {
        // 1.24 − 1.23 is 0.010000000000000009 in floating point: still inside.
        assert!(num_ok(1.23, 0.01, 1.23));
        assert!(num_ok(1.23, 0.01, 1.24));
        assert!(num_ok(1.23, 0.01, 1.22));
        assert!(!num_ok(1.23, 0.01, 1.2401));
        assert!(!num_ok(1.23, 0.01, 1.2199));
        assert!(num_ok(-5.0, 0.0, -5.0));
        assert!(!num_ok(-5.0, 0.0, -5.000001));
        assert!(num_ok(1e12, 0.5, 1e12 + 0.5));
        assert!(!num_ok(1e12, 0.5, 1e12 + 0.6));
    }

    #[test]
    fn numeric_nan_and_infinity_are_never_correct() {
        assert!(!num_ok(1.0, 1.0, f64::NAN));
        assert!(!num_ok(1.0, f64::INFINITY, 1e300));
        assert!(!num_ok(f64::INFINITY, 0.0, f64::INFINITY));
        assert!(!num_ok(1.0, f64::NAN, 1.0));
        assert!(!num_ok(1.0, -1.0, 1.0), "negative tolerance");
        assert!(!num_ok(f64::NAN, 1.0, f64::NAN));
    }

    // ---- ordering ----

    fn ordering() -> Question {
        q(
            QuestionKind::Ordering {
                items: ["one", "two", "three"]
                    .iter()
                    .enumerate()
                    .map(|(i, t)| Item {
                        id: (i + 1).to_string(),
                        text: (*t).into(),
                    })
                    .collect(),
            },
            1.0,
        )
    }

    #[test]
    fn ordering_is_all_or_nothing_on_view_tokens() {
        let o = ordering();
        let tok = |t: &str| item_token("q", t);
        let right = vec![tok("one"), tok("two"), tok("three")];
        assert_eq!(
            grade(&o, &Response::Order(right)).correct,
            Correctness::Correct
        );
        let near = vec![tok("one"), tok("three"), tok("two")];
        let g = grade(&o, &Response::Order(near));
        assert_eq!((g.correct, g.score), (Correctness::Incorrect, 0.0));
        // Missing, extra or repeated items are wrong.
        assert_eq!(
            grade(&o, &Response::Order(vec![tok("one"), tok("two")])).score,
            0.0
        );
        assert_eq!(
            grade(
                &o,
                &Response::Order(vec![tok("one"), tok("two"), tok("three"), tok("three")])
            )
            .score,
            0.0
        );
        // Stored ids are guessable ("1", "2", "3") and are not accepted.
        assert_eq!(
            grade(&o, &Response::Order(ids(&["1", "2", "3"]))).score,
            0.0
        );
    }

    // ---- matching ----

    fn matching() -> Question {
        let pairs = [
            ("France", "Paris"),
            ("Germany", "Berlin"),
            ("Italy", "Rome"),
            ("Spain", "Madrid"),
        ];
        q(
            QuestionKind::Matching {
                pairs: pairs
                    .iter()
                    .enumerate()
                    .map(|(i, (p, a))| Pair {
                        id: format!("p{i}"),
                        prompt: (*p).into(),
                        answer: (*a).into(),
                    })
                    .collect(),
            },
            2.0,
        )
    }

    fn pick(p: &str, a: &str) -> (String, String) {
        (prompt_token("q", p), answer_token("q", a))
    }

    #[test]
    fn matching_partial_credit_is_fraction_of_pairs() {
        let m = matching();
        let all = vec![
            pick("France", "Paris"),
            pick("Germany", "Berlin"),
            pick("Italy", "Rome"),
            pick("Spain", "Madrid"),
        ];
        assert_eq!(
            grade(&m, &Response::Match(all)).correct,
            Correctness::Correct
        );
        let half = vec![
            pick("France", "Paris"),
            pick("Germany", "Berlin"),
            pick("Italy", "Madrid"),
        ];
        let g = grade(&m, &Response::Match(half));
        assert_eq!(g.correct, Correctness::Partial);
        assert!(close(g.score, 1.0));
    }

    #[test]
    fn matching_duplicate_prompt_answers_and_pair_ids_do_not_score() {
        let m = matching();
        // Answering one prompt with every answer earns nothing for it.
        let spray = vec![
            pick("France", "Paris"),
            pick("France", "Berlin"),
            pick("France", "Rome"),
        ];
        assert_eq!(grade(&m, &Response::Match(spray)).score, 0.0);
        // The stored pair id is not an answer id.
        let ids_only = vec![("p0".to_string(), "p0".to_string())];
        assert_eq!(grade(&m, &Response::Match(ids_only)).score, 0.0);
    }

    #[test]
    fn matching_via_learner_view_round_trip() {
        let m = matching();
        let view = to_learner_view(&m, Some(11));
        let LearnerKind::Matching { prompts, answers } = view.kind else {
            panic!()
        };
        let capital = |country: &str| match country {
            "France" => "Paris",
            "Germany" => "Berlin",
            "Italy" => "Rome",
            _ => "Madrid",
        };
        let picks = prompts
            .iter()
            .map(|p| {
                let a = answers.iter().find(|a| a.text == capital(&p.text)).unwrap();
                (p.id.clone(), a.id.clone())
            })
            .collect();
        assert_eq!(
            grade(&m, &Response::Match(picks)).correct,
            Correctness::Correct
        );
    }

    // ---- robustness ----

    #[test]
    fn wrong_response_kind_scores_zero_without_panicking() {
        let questions = [
            single(),
            multi(true, true),
            q(QuestionKind::TrueFalse { answer: true }, 1.0),
            short(&[("x", TextMatch::Exact)]),
            q(
                QuestionKind::Numeric {
                    answer: 1.0,
                    tolerance: 0.0,
                },
                1.0,
            ),
            ordering(),
            matching(),
        ];
        let responses = [
            Response::Choice(ids(&["a"])),
            Response::Bool(true),
            Response::Text("x".into()),
            Response::Number(1.0),
            Response::Order(ids(&["a"])),
            Response::Match(vec![("a".into(), "b".into())]),
        ];
        for question in &questions {
            for r in &responses {
                let g = grade(question, r);
                assert!(g.score >= 0.0 && g.score <= g.max);
                let same_kind = matches!(
                    (&question.kind, r),
                    (
                        QuestionKind::SingleChoice { .. } | QuestionKind::MultipleChoice { .. },
                        Response::Choice(_)
                    ) | (QuestionKind::TrueFalse { .. }, Response::Bool(_))
                        | (QuestionKind::ShortText { .. }, Response::Text(_))
                        | (QuestionKind::Numeric { .. }, Response::Number(_))
                        | (QuestionKind::Ordering { .. }, Response::Order(_))
                        | (QuestionKind::Matching { .. }, Response::Match(_))
                );
                if !same_kind {
                    assert_eq!(g.correct, Correctness::Incorrect);
                    assert_eq!(g.score, 0.0);
                    assert_eq!(g.feedback_md.as_deref(), Some("Not quite."));
                }
            }
        }
    }

    #[test]
    fn invalid_points_and_empty_questions_do_not_panic() {
        for points in [f64::NAN, -1.0, 0.0, f64::INFINITY] {
            let t = q(QuestionKind::TrueFalse { answer: true }, points);
            let g = grade(&t, &Response::Bool(true));
            assert_eq!((g.score, g.max), (0.0, 0.0));
        }
        let empty = [
            QuestionKind::SingleChoice { options: vec![] },
            QuestionKind::MultipleChoice {
                options: vec![],
                partial_credit: true,
                negative_marking: true,
            },
            QuestionKind::ShortText { accepted: vec![] },
            QuestionKind::Ordering { items: vec![] },
            QuestionKind::Matching { pairs: vec![] },
        ];
        for kind in empty {
            let question = q(kind, 1.0);
            for r in [
                Response::Choice(vec![]),
                Response::Text(String::new()),
                Response::Order(vec![]),
                Response::Match(vec![]),
            ] {
                assert_eq!(grade(&question, &r).score, 0.0);
            }
        }
    }

    #[test]
    fn feedback_is_none_when_nothing_to_say() {
        let mut t = q(QuestionKind::TrueFalse { answer: true }, 1.0);
        t.feedback_correct_md = "  ".into();
        assert_eq!(grade(&t, &Response::Bool(true)).feedback_md, None);
    }

    // ---- attempts ----

    #[test]
    fn score_attempt_sums_and_applies_pass_mark() {
        let mut questions = Vec::new();
        for i in 0..5 {
            let mut t = q(QuestionKind::TrueFalse { answer: true }, 1.0);
            t.id = format!("t{i}");
            questions.push(t);
        }
        let mut responses = HashMap::new();
        for i in 0..4 {
            responses.insert(format!("t{i}"), Response::Bool(true));
        }
        // t4 unanswered.
        let s = score_attempt(&questions, &responses);
        assert!(close(s.score, 4.0) && close(s.max, 5.0) && close(s.percent, 80.0));
        assert_eq!(s.grades.len(), 5);
        assert_eq!(s.grades[4].correct, Correctness::Incorrect);
        assert!(s.passes(80));
        assert!(!s.passes(81));
        assert!(s.passes(0));
        assert!(passes(100.0, 100));
        assert!(!passes(f64::NAN, 0));
    }

    #[test]
    fn score_attempt_weights_by_points_and_handles_empty_quiz() {
        let mut a = q(QuestionKind::TrueFalse { answer: true }, 3.0);
        a.id = "a".into();
        let mut b = q(QuestionKind::TrueFalse { answer: true }, 1.0);
        b.id = "b".into();
        let responses = HashMap::from([("a".to_string(), Response::Bool(true))]);
        let s = score_attempt(&[a, b], &responses);
        assert!(close(s.percent, 75.0));
        let empty = score_attempt(&[], &HashMap::new());
        assert_eq!((empty.score, empty.max, empty.percent), (0.0, 0.0, 0.0));
    }

    #[test]
    fn responses_read_as_text_for_people() {
        use crate::model::{ChoiceOption, Item, Pair};
        let opt = |id: &str, text: &str, correct: bool| ChoiceOption {
            id: id.into(),
            text: text.into(),
            correct,
            feedback: String::new(),
        };
        let q = Question {
            id: "q".into(),
            kind: QuestionKind::MultipleChoice {
                options: vec![opt("a", "Red", true), opt("b", "Blue", false)],
                partial_credit: false,
                negative_marking: false,
            },
            prompt_md: String::new(),
            points: 1.0,
            feedback_correct_md: String::new(),
            feedback_incorrect_md: String::new(),
        };
        let token = option_token("q", "Blue");
        assert_eq!(
            response_lines(&q, &Response::Choice(vec![token, "a".into(), "zz".into()])),
            vec!["Red", "Blue", "?"]
        );
        let order = Question {
            kind: QuestionKind::Ordering {
                items: vec![
                    Item {
                        id: "i1".into(),
                        text: "One".into(),
                    },
                    Item {
                        id: "i2".into(),
                        text: "Two".into(),
                    },
                ],
            },
            ..q.clone()
        };
        assert_eq!(
            response_lines(
                &order,
                &Response::Order(vec![item_token("q", "Two"), "i1".into()])
            ),
            vec!["1. Two", "2. One"]
        );
        let matching = Question {
            kind: QuestionKind::Matching {
                pairs: vec![Pair {
                    id: "p".into(),
                    prompt: "Cat".into(),
                    answer: "Meow".into(),
                }],
            },
            ..q.clone()
        };
        assert_eq!(
            response_lines(
                &matching,
                &Response::Match(vec![(prompt_token("q", "Cat"), answer_token("q", "Meow"))])
            ),
            vec!["Cat → Meow"]
        );
        assert_eq!(response_lines(&q, &Response::Bool(false)), vec!["False"]);
        assert_eq!(response_lines(&q, &Response::Number(2.5)), vec!["2.5"]);
    }
}
