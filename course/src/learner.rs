//! The learner-safe view of a question: what the browser may see while a
//! learner takes a quiz (shared by server and browser).
//!
//! A [`LearnerQuestion`] carries the prompt, the points and the choices to
//! pick from — and nothing that reveals the answer: no `correct` flags, no
//! true/false answer, no accepted texts or regexes, no number or tolerance,
//! no feedback, and no author ids.
//!
//! # Why the ids and the order cannot leak
//!
//! * **Ids are tokens of the visible text**, not the stored ids: an option,
//!   item, matching prompt or matching answer is identified by
//!   `kind letter + hash(question id, text)`. The browser already sees the
//!   text, so the token tells it nothing new — even when the author's ids are
//!   `"a"`, `"b"`, `"c"` or (in a matching question) the prompt and its answer
//!   share one pair id. Grading ([`crate::grading`]) resolves tokens
//!   back; learner [`Response`](crate::model::Response)s carry them.
//! * **Orders are built from a content-only order.** Ordering items and
//!   matching answers (and choice options, when shuffled) are first sorted by
//!   token — an order that depends on the texts only, not on the stored
//!   (correct) order — and then shuffled with the seed. So even a seed that
//!   the browser knows or guesses cannot be used to undo the shuffle and
//!   recover the stored order.
//! * Choice options are shown in the author's order when not shuffled: that
//!   order is the author's choice (e.g. "All of the above" last), and
//!   correctness is not stored in it.
//! * Matching answers are de-duplicated by text (two prompts may share an
//!   answer), and the learner picks an answer *id* for each prompt.

use serde::{Deserialize, Serialize};

use super::model::{hash64, shuffle, CourseSettings, Question, QuestionKind, Quiz};

/// Something the learner can pick or arrange: a token id and its text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnerChoice {
    pub id: String,
    pub text: String,
}

/// A question as the learner sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearnerQuestion {
    pub id: String,
    pub prompt_md: String,
    pub points: f64,
    pub kind: LearnerKind,
}

/// What the learner answers with, per kind, without any correctness data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LearnerKind {
    /// Pick one → `Response::Choice(vec![id])`.
    SingleChoice { options: Vec<LearnerChoice> },
    /// Pick any → `Response::Choice(ids)`. `negative_marking` tells the
    /// learner that wrong picks cost marks (fair warning, not a hint: it says
    /// nothing about how many options are right).
    MultipleChoice {
        options: Vec<LearnerChoice>,
        negative_marking: bool,
    },
    /// → `Response::Bool`.
    TrueFalse,
    /// → `Response::Text`.
    ShortText,
    /// → `Response::Number`.
    Numeric,
    /// Arrange all items → `Response::Order(ids first to last)`.
    Ordering { items: Vec<LearnerChoice> },
    /// For each prompt pick one answer → `Response::Match(vec![(prompt id, answer id)])`.
    Matching {
        prompts: Vec<LearnerChoice>,
        answers: Vec<LearnerChoice>,
    },
}

fn token(letter: &str, question_id: &str, text: &str) -> String {
    format!("{letter}{:016x}", hash64(&[letter, question_id, text]))
}

/// The learner-view id of a choice option with this text.
pub fn option_token(question_id: &str, text: &str) -> String {
    token("o", question_id, text)
}

/// The learner-view id of an ordering item with this text.
pub fn item_token(question_id: &str, text: &str) -> String {
    token("i", question_id, text)
}

/// The learner-view id of a matching prompt with this text.
pub fn prompt_token(question_id: &str, text: &str) -> String {
    token("p", question_id, text)
}

/// The learner-view id of a matching answer with this text.
pub fn answer_token(question_id: &str, text: &str) -> String {
    token("a", question_id, text)
}

/// The learner view of one question.
///
/// `shuffle_seed`: `Some(seed)` shuffles choice options, ordering items and
/// matching answers (pass it when [`CourseSettings::shuffle_options`] is on,
/// with a per-attempt seed kept on the server); `None` keeps choice options
/// in the author's order and shows ordering items and matching answers in
/// the content-only token order (never the stored order). See
/// [`quiz_for_learner`] for the usual entry point.
pub fn to_learner_view(question: &Question, shuffle_seed: Option<u64>) -> LearnerQuestion {
    view(question, shuffle_seed, shuffle_seed)
}

/// The learner view of a whole quiz for one attempt.
///
/// With `settings.shuffle_questions` the question order is shuffled by
/// `attempt_seed`; ordering items and matching answers are always shuffled
/// by it; choice options only with `settings.shuffle_options`. Keep the seed
/// on the server with the attempt so a reload shows the same order.
pub fn quiz_for_learner(
    quiz: &Quiz,
    settings: &CourseSettings,
    attempt_seed: u64,
) -> Vec<LearnerQuestion> {
    let choice_seed = settings.shuffle_options.then_some(attempt_seed);
    in_attempt_order(
        quiz.questions
            .iter()
            .map(|q| view(q, choice_seed, Some(attempt_seed)))
            .collect(),
        settings,
        attempt_seed,
    )
}

/// `items`, one per question of the quiz in the author's order, put in the
/// order [`quiz_for_learner`] shows the questions for this attempt (a
/// submit's result lists each question with its grade in this order and
/// needs nothing of the views).
pub fn in_attempt_order<T>(
    mut items: Vec<T>,
    settings: &CourseSettings,
    attempt_seed: u64,
) -> Vec<T> {
    if settings.shuffle_questions {
        shuffle(&mut items, attempt_seed ^ 0x5155_495a_5f4f_5244);
    }
    items
}

/// Per-question seed, so questions with equally many options differ.
fn question_seed(seed: u64, question_id: &str) -> u64 {
    seed ^ hash64(&["q", question_id])
}

/// Sorts by token (content-only order), then shuffles when a seed is given.
fn arrange(list: &mut [LearnerChoice], seed: Option<u64>, question_id: &str) {
    list.sort_by(|a, b| a.id.cmp(&b.id));
    if let Some(seed) = seed {
        shuffle(list, question_seed(seed, question_id));
    }
}

fn view(q: &Question, choice_seed: Option<u64>, order_seed: Option<u64>) -> LearnerQuestion {
    let qid = q.id.as_str();
    let choices = |options: &[super::model::ChoiceOption]| {
        let mut list: Vec<LearnerChoice> = options
            .iter()
            .map(|o| LearnerChoice {
                id: option_token(qid, &o.text),
                text: o.text.clone(),
            })
            .collect();
        if choice_seed.is_some() {
            arrange(&mut list, choice_seed, qid);
        }
        list
    };
    let kind = match &q.kind {
        QuestionKind::SingleChoice { options } => LearnerKind::SingleChoice {
            options: choices(options),
        },
        QuestionKind::MultipleChoice {
            options,
            partial_credit,
            negative_marking,
        } => LearnerKind::MultipleChoice {
            options: choices(options),
            negative_marking: *partial_credit && *negative_marking,
        },
        QuestionKind::TrueFalse { .. } => LearnerKind::TrueFalse,
        QuestionKind::ShortText { .. } => LearnerKind::ShortText,
        QuestionKind::Numeric { .. } => LearnerKind::Numeric,
        QuestionKind::Ordering { items } => {
            let mut list: Vec<LearnerChoice> = items
                .iter()
                .map(|i| LearnerChoice {
                    id: item_token(qid, &i.text),
                    text: i.text.clone(),
                })
                .collect();
            arrange(&mut list, order_seed, qid);
            LearnerKind::Ordering { items: list }
        }
        QuestionKind::Matching { pairs } => {
            let prompts = pairs
                .iter()
                .map(|p| LearnerChoice {
                    id: prompt_token(qid, &p.prompt),
                    text: p.prompt.clone(),
                })
                .collect();
            let mut answers: Vec<LearnerChoice> = pairs
                .iter()
                .map(|p| LearnerChoice {
                    id: answer_token(qid, &p.answer),
                    text: p.answer.clone(),
                })
                .collect();
            answers.sort_by(|a, b| a.id.cmp(&b.id));
            answers.dedup_by(|a, b| a.id == b.id);
            arrange(&mut answers, order_seed, qid);
            LearnerKind::Matching { prompts, answers }
        }
    };
    LearnerQuestion {
        id: q.id.clone(),
        prompt_md: q.prompt_md.clone(),
        points: q.points,
        kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ChoiceOption, Item, Pair, TextAnswer, TextMatch};

    fn q(kind: QuestionKind) -> Question {
        Question {
            id: "q1".into(),
            kind,
            prompt_md: "Prompt".into(),
            points: 2.0,
            feedback_correct_md: "SECRET-FEEDBACK-RIGHT".into(),
            feedback_incorrect_md: "SECRET-FEEDBACK-WRONG".into(),
        }
    }

    fn opt(id: &str, text: &str, correct: bool) -> ChoiceOption {
        ChoiceOption {
            id: id.into(),
            text: text.into(),
            correct,
            feedback: format!("SECRET-OPTION-FEEDBACK-{id}"),
        }
    }

    /// Every kind, with secrets that must never reach the browser.
    fn every_kind() -> Vec<Question> {
        vec![
            q(QuestionKind::SingleChoice {
                options: vec![opt("correct-one", "Paris", true), opt("b", "Lyon", false)],
            }),
            q(QuestionKind::MultipleChoice {
                options: vec![
                    opt("right-1", "Red", true),
                    opt("right-2", "Blue", true),
                    opt("wrong-1", "Cat", false),
                ],
                partial_credit: true,
                negative_marking: true,
            }),
            q(QuestionKind::TrueFalse { answer: true }),
            q(QuestionKind::ShortText {
                accepted: vec![
                    TextAnswer {
                        text: "SECRET-ACCEPTED".into(),
                        mode: TextMatch::CaseInsensitive,
                    },
                    TextAnswer {
                        text: "^SECRET-REGEX[0-9]+$".into(),
                        mode: TextMatch::Regex,
                    },
                ],
            }),
            q(QuestionKind::Numeric {
                answer: 31_415.926,
                tolerance: 0.125,
            }),
            q(QuestionKind::Ordering {
                items: vec![
                    Item {
                        id: "first".into(),
                        text: "Alpha".into(),
                    },
                    Item {
                        id: "second".into(),
                        text: "Beta".into(),
                    },
                    Item {
                        id: "third".into(),
                        text: "Gamma".into(),
                    },
                ],
            }),
            q(QuestionKind::Matching {
                pairs: vec![
                    Pair {
                        id: "pair-fr".into(),
                        prompt: "France".into(),
                        answer: "Paris".into(),
                    },
                    Pair {
                        id: "pair-de".into(),
                        prompt: "Germany".into(),
                        answer: "Berlin".into(),
                    },
                    Pair {
                        id: "pair-it".into(),
                        prompt: "Italy".into(),
                        answer: "Rome".into(),
                    },
                ],
            }),
        ]
    }

    #[test]
    fn learner_view_json_leaks_nothing_for_every_kind() {
        let forbidden = [
            "correct",
            "right-",
            "wrong-",
            "SECRET",
            "true,",
            "answer\"",
            "31415",
            "0.125",
            "tolerance",
            "accepted",
            "regex",
            "feedback",
            "first",
            "second",
            "third",
            "pair-",
            "partial",
        ];
        for question in every_kind() {
            for seed in [None, Some(1), Some(0xdead_beef)] {
                let view = to_learner_view(&question, seed);
                let json = serde_json::to_string(&view).unwrap();
                for needle in forbidden {
                    assert!(
                        !json.contains(needle),
                        "{} view leaks {needle:?}: {json}",
                        question.kind.name()
                    );
                }
            }
        }
    }

    #[test]
    fn true_false_view_is_identical_for_both_answers() {
        let t = to_learner_view(&q(QuestionKind::TrueFalse { answer: true }), None);
        let f = to_learner_view(&q(QuestionKind::TrueFalse { answer: false }), None);
        assert_eq!(t, f);
    }

    #[test]
    fn order_of_items_does_not_depend_on_stored_order() {
        // Whatever the stored (correct) order, the learner sees the same list
        // for the same seed: the view cannot reveal the answer.
        let items = |names: &[&str]| QuestionKind::Ordering {
            items: names
                .iter()
                .enumerate()
                .map(|(i, n)| Item {
                    id: i.to_string(),
                    text: (*n).into(),
                })
                .collect(),
        };
        for seed in [None, Some(3), Some(77)] {
            let a = to_learner_view(&q(items(&["A", "B", "C", "D", "E"])), seed);
            let b = to_learner_view(&q(items(&["E", "C", "A", "D", "B"])), seed);
            assert_eq!(a, b);
        }
    }

    #[test]
    fn matching_answers_do_not_follow_prompt_order_and_ids_differ() {
        let make = |order: &[usize]| {
            let all = [
                ("France", "Paris"),
                ("Germany", "Berlin"),
                ("Italy", "Rome"),
            ];
            QuestionKind::Matching {
                pairs: order
                    .iter()
                    .map(|&i| Pair {
                        id: format!("p{i}"),
                        prompt: all[i].0.into(),
                        answer: all[i].1.into(),
                    })
                    .collect(),
            }
        };
        let a = to_learner_view(&q(make(&[0, 1, 2])), Some(5));
        let b = to_learner_view(&q(make(&[2, 0, 1])), Some(5));
        let (
            LearnerKind::Matching {
                answers: aa,
                prompts: ap,
            },
            LearnerKind::Matching { answers: ba, .. },
        ) = (&a.kind, &b.kind)
        else {
            panic!("not matching");
        };
        assert_eq!(aa, ba, "answer order must not depend on pair order");
        for p in ap {
            assert!(aa.iter().all(|x| x.id != p.id));
        }
    }

    #[test]
    fn matching_answers_are_deduplicated() {
        let kind = QuestionKind::Matching {
            pairs: vec![
                Pair {
                    id: "1".into(),
                    prompt: "2+2".into(),
                    answer: "4".into(),
                },
                Pair {
                    id: "2".into(),
                    prompt: "3+1".into(),
                    answer: "4".into(),
                },
                Pair {
                    id: "3".into(),
                    prompt: "1+1".into(),
                    answer: "2".into(),
                },
            ],
        };
        let v = to_learner_view(&q(kind), None);
        let LearnerKind::Matching { prompts, answers } = v.kind else {
            panic!()
        };
        assert_eq!(prompts.len(), 3);
        assert_eq!(answers.len(), 2);
    }

    #[test]
    fn choice_options_keep_author_order_unless_shuffled() {
        let kind = QuestionKind::SingleChoice {
            options: (0..8)
                .map(|i| opt(&i.to_string(), &format!("Option {i}"), i == 0))
                .collect(),
        };
        let question = q(kind);
        let texts = |v: &LearnerQuestion| match &v.kind {
            LearnerKind::SingleChoice { options } => {
                options.iter().map(|o| o.text.clone()).collect::<Vec<_>>()
            }
            _ => panic!(),
        };
        let plain = texts(&to_learner_view(&question, None));
        assert_eq!(plain[0], "Option 0");
        let s1 = texts(&to_learner_view(&question, Some(1)));
        let s1b = texts(&to_learner_view(&question, Some(1)));
        let s2 = texts(&to_learner_view(&question, Some(2)));
        assert_eq!(s1, s1b, "deterministic per seed");
        assert_ne!(s1, s2, "different seeds, different orders");
        let mut sorted = s1.clone();
        sorted.sort();
        let mut plain_sorted = plain.clone();
        plain_sorted.sort();
        assert_eq!(sorted, plain_sorted);
    }

    /// A quiz of `n` true/false questions with ids `q0`, `q1`, ….
    fn true_false_quiz(n: usize) -> Quiz {
        Quiz {
            questions: (0..n)
                .map(|i| {
                    let mut x = q(QuestionKind::TrueFalse { answer: true });
                    x.id = format!("q{i}");
                    x
                })
                .collect(),
        }
    }

    #[test]
    fn quiz_view_shuffles_questions_only_when_asked() {
        let quiz = true_false_quiz(10);
        let mut settings = CourseSettings::default();
        let ids = |v: Vec<LearnerQuestion>| v.into_iter().map(|x| x.id).collect::<Vec<_>>();
        let plain = ids(quiz_for_learner(&quiz, &settings, 9));
        assert_eq!(plain, (0..10).map(|i| format!("q{i}")).collect::<Vec<_>>());
        settings.shuffle_questions = true;
        let shuffled = ids(quiz_for_learner(&quiz, &settings, 9));
        assert_ne!(shuffled, plain);
        assert_eq!(shuffled, ids(quiz_for_learner(&quiz, &settings, 9)));
    }

    #[test]
    fn the_question_order_alone_is_the_views_order() {
        let quiz = true_false_quiz(12);
        for shuffle_questions in [false, true] {
            let settings = CourseSettings {
                shuffle_questions,
                ..CourseSettings::default()
            };
            for seed in [0, 1, 9, u64::MAX] {
                let views: Vec<String> = quiz_for_learner(&quiz, &settings, seed)
                    .into_iter()
                    .map(|v| v.id)
                    .collect();
                let order: Vec<String> =
                    in_attempt_order(quiz.questions.iter().collect(), &settings, seed)
                        .into_iter()
                        .map(|q| q.id.clone())
                        .collect();
                assert_eq!(order, views, "seed {seed}, shuffled {shuffle_questions}");
            }
        }
    }
}
