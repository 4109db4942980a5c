//! GIFT and Aiken importers against the fixture files in `tests/fixtures/`:
//! exact question counts and kinds, and the exact line of every problem.
#![cfg(feature = "server")]

use course::{
    aiken::parse_aiken_seeded,
    gift::parse_gift_seeded,
    grading::{grade, Correctness},
    learner::to_learner_view,
    model::{ImportReport, QuestionKind, Response, TextMatch},
    validate::validate_question,
};

const GIFT_GOOD: &str = include_str!("fixtures/gift_good.txt");
const GIFT_BAD: &str = include_str!("fixtures/gift_bad.txt");
const AIKEN_GOOD: &str = include_str!("fixtures/aiken_good.txt");
const AIKEN_BAD: &str = include_str!("fixtures/aiken_bad.txt");

fn kinds(r: &ImportReport) -> Vec<&'static str> {
    r.questions.iter().map(|q| q.kind.name()).collect()
}

/// Asserts the problems' lines exactly and that each message starts with
/// (or, with a leading `~`, contains) the expected text.
fn assert_problems(r: &ImportReport, expected: &[(usize, &str)]) {
    let got: Vec<(usize, &str)> = r
        .problems
        .iter()
        .map(|p| (p.line, p.message.as_str()))
        .collect();
    assert_eq!(
        got.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
        expected.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
        "problem lines; got {got:#?}"
    );
    for ((line, message), (_, want)) in got.iter().zip(expected) {
        let ok = match want.strip_prefix('~') {
            Some(part) => message.contains(part),
            None => message.starts_with(want),
        };
        assert!(ok, "line {line}: {message:?} does not match {want:?}");
    }
}

#[test]
fn gift_good_imports_every_question() {
    let r = parse_gift_seeded(GIFT_GOOD, 42);
    assert_problems(&r, &[]);
    assert_eq!(r.questions.len(), 12);
    assert_eq!(
        kinds(&r),
        [
            "single_choice",
            "multiple_choice",
            "multiple_choice",
            "true_false",
            "true_false",
            "true_false",
            "short_text",
            "numeric",
            "numeric",
            "numeric",
            "matching",
            "single_choice",
        ]
    );
    let q = &r.questions;
    assert_eq!(q[0].prompt_md, "What is the capital of **France**?");
    assert_eq!(
        q[0].feedback_correct_md,
        "Paris has been the capital for centuries."
    );
    let QuestionKind::MultipleChoice {
        options,
        partial_credit: true,
        negative_marking: true,
    } = &q[1].kind
    else {
        panic!("{:?}", q[1].kind)
    };
    assert_eq!(options[2].feedback, "4 = 2 × 2");
    assert!(matches!(
        q[2].kind,
        QuestionKind::MultipleChoice {
            negative_marking: false,
            ..
        }
    ));
    assert_eq!(q[3].kind, QuestionKind::TrueFalse { answer: true });
    assert_eq!(q[4].kind, QuestionKind::TrueFalse { answer: false });
    assert_eq!(
        q[4].feedback_incorrect_md,
        "No one is buried in Grant's tomb."
    );
    assert_eq!(q[4].feedback_correct_md, "Correct: nobody is.");
    let QuestionKind::ShortText { accepted } = &q[6].kind else {
        panic!()
    };
    assert_eq!(accepted.len(), 3);
    assert!(accepted
        .iter()
        .all(|a| a.mode == TextMatch::CaseInsensitive));
    assert_eq!(
        q[7].kind,
        QuestionKind::Numeric {
            answer: 9.81,
            tolerance: 0.005
        }
    );
    assert_eq!(
        q[8].kind,
        QuestionKind::Numeric {
            answer: 3.0,
            tolerance: 2.0
        }
    );
    assert_eq!(q[9].feedback_correct_md, "Correct!");
    let QuestionKind::Matching { pairs } = &q[10].kind else {
        panic!()
    };
    assert_eq!(pairs.len(), 3);
    assert_eq!(
        q[11].prompt_md,
        "Escapes: 1 = one, {braces}, a # hash and a colon: here.\nNew line."
    );
    let QuestionKind::SingleChoice { options } = &q[11].kind else {
        panic!()
    };
    assert_eq!(options[0].text, "a ~ tilde");
    assert_eq!(options[0].feedback, "fine");
}

#[test]
fn gift_bad_reports_every_problem_by_line() {
    let r = parse_gift_seeded(GIFT_BAD, 42);
    assert_problems(
        &r,
        &[
            (6, "Essay questions ('{}') are not supported"),
            (8, "No answer block"),
            (10, "Missing-word questions"),
            (12, "The answer block is not closed"),
            (17, "Partial credit on a wrong answer ('~%50%')"),
            (19, "The right answers have different weights (70%, 30%)"),
            (23, "Invalid numeric answer 'two'"),
            (27, "Matching answers without a prompt (distractors)"),
            (
                33,
                "Option 2 has the same text as option 1 (\"yes\"); each must be different.",
            ),
            (35, "No right answer"),
            (37, "The question title is not closed"),
            (39, "Partial-credit short answers"),
            (41, "Only one answer block per question"),
            (43, "The question has no text before its answers."),
            (45, "Unexpected text before the first answer"),
            (50, "Only one fully right numeric answer"),
        ],
    );
    assert_eq!(
        kinds(&r),
        ["true_false", "numeric", "short_text", "matching"]
    );
}

#[test]
fn aiken_good_imports_every_question() {
    let r = parse_aiken_seeded(AIKEN_GOOD, 7);
    assert_problems(&r, &[]);
    assert_eq!(r.questions.len(), 4);
    assert!(kinds(&r).iter().all(|k| *k == "single_choice"));
    let correct: Vec<(usize, usize)> = r
        .questions
        .iter()
        .map(|q| match &q.kind {
            QuestionKind::SingleChoice { options } => (
                options.len(),
                options.iter().position(|o| o.correct).unwrap(),
            ),
            k => panic!("{k:?}"),
        })
        .collect();
    assert_eq!(correct, [(4, 3), (6, 0), (2, 0), (2, 0)]);
    assert_eq!(
        r.questions[3].prompt_md,
        "A question whose text\nspans two lines?"
    );
}

#[test]
fn aiken_bad_reports_every_problem_by_line() {
    let r = parse_aiken_seeded(AIKEN_BAD, 7);
    assert_problems(
        &r,
        &[
            (1, "Option A comes before any question text."),
            (11, "'ANSWER: C' does not name one of the options (AB)."),
            (
                15,
                "Expected an option like 'C. text' or the 'ANSWER: X' line.",
            ),
            (21, "Option letter A is used twice."),
            (
                24,
                "Option 2 has the same text as option 1 (\"same\"); each must be different.",
            ),
            (29, "'ANSWER:' without a question before it."),
            (31, "A choice question needs at least 2 options (it has 1)."),
            (40, "The question has no 'ANSWER:' line."),
        ],
    );
    assert_eq!(r.questions.len(), 2);
    assert_eq!(r.questions[0].prompt_md, "Good question one?");
    assert_eq!(r.questions[1].prompt_md, "Good question two?");
}

#[test]
fn imported_questions_are_valid_and_gradable_through_the_learner_view() {
    let mut all = parse_gift_seeded(GIFT_GOOD, 1).questions;
    all.extend(parse_aiken_seeded(AIKEN_GOOD, 2).questions);
    for q in &all {
        assert_eq!(validate_question(q, "q", &|_| Ok(())), vec![]);
        // The learner view never includes the stored ids of options.
        let json = serde_json::to_string(&to_learner_view(q, Some(3))).unwrap();
        if let QuestionKind::SingleChoice { options } = &q.kind {
            for o in options {
                assert!(!json.contains(&o.id), "{json}");
            }
            let right = options.iter().find(|o| o.correct).unwrap();
            let g = grade(q, &Response::Choice(vec![right.id.clone()]));
            assert_eq!(g.correct, Correctness::Correct);
        }
    }
}
