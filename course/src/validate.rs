//! Validation of a course before it can be published (shared by server and
//! browser, so the editor can show the same list while the author types).
//!
//! [`validate_course`] returns every problem at once, each with a `path` into
//! the course (`modules[0].quiz.questions[2].options[1].text`) and a message
//! written for the author. Publishing is refused while the list is non-empty.
//!
//! **Regular expressions** are checked for syntax only where the `regex`
//! crate exists, i.e. on the server (`ssr`): there [`validate_course`] uses
//! [`crate::grading::compile_answer_regex`]. In the browser build it
//! checks everything else (the bundle must not pull in `regex`), and the
//! server's check before publishing is the one that counts. Callers that want
//! a different check pass it to [`validate_course_with`].

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::model::{ChoiceOption, CourseContent, Question, QuestionKind, TextMatch};

/// One thing that must be fixed before publishing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Where, e.g. `modules[0].quiz.questions[2].points`.
    pub path: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// Checks one answer pattern; `Err` carries a message for the author.
pub type RegexCheck<'a> = &'a dyn Fn(&str) -> Result<(), String>;

/// The regex check of this build: full syntax check on the server, none in
/// the browser (see the module docs).
pub fn default_regex_check(pattern: &str) -> Result<(), String> {
    #[cfg(feature = "server")]
    {
        super::grading::compile_answer_regex(pattern).map(|_| ())
    }
    #[cfg(not(feature = "server"))]
    {
        let _ = pattern;
        Ok(())
    }
}

/// Every problem in the course, in document order.
pub fn validate_course(content: &CourseContent) -> Vec<Problem> {
    validate_course_with(content, &default_regex_check)
}

/// [`validate_course`] with a caller-supplied regex check.
pub fn validate_course_with(content: &CourseContent, regex_check: RegexCheck<'_>) -> Vec<Problem> {
    let mut v = Problems::default();
    if is_blank(&content.title) {
        v.push("title", "The course needs a title.");
    }
    let s = &content.settings;
    if s.pass_mark_percent > 100 {
        v.push(
            "settings.pass_mark_percent",
            format!(
                "The pass mark is {} %; it must be between 0 and 100.",
                s.pass_mark_percent
            ),
        );
    }
    if s.attempt_limit == Some(0) {
        v.push(
            "settings.attempt_limit",
            "The attempt limit must be at least 1 (leave it empty for unlimited attempts).",
        );
    }
    if s.time_limit_secs == Some(0) {
        v.push(
            "settings.time_limit_secs",
            "The time limit must be at least 1 second (leave it empty for no limit).",
        );
    }
    if s.certificate_validity_days == Some(0) {
        v.push(
            "settings.certificate_validity_days",
            "Certificates must stay valid for at least 1 day (leave it empty for no expiry).",
        );
    }
    if content.modules.is_empty() {
        v.push(
            "modules",
            "The course has no modules; add a module with a lesson or a quiz.",
        );
    }

    let mut module_ids = Ids::new("module");
    let mut lesson_ids = Ids::new("lesson");
    let mut question_ids = Ids::new("question");
    for (mi, module) in content.modules.iter().enumerate() {
        let mp = format!("modules[{mi}]");
        module_ids.check(&mut v, &module.id, &format!("{mp}.id"));
        if is_blank(&module.title) {
            v.push(format!("{mp}.title"), "The module needs a title.");
        }
        if module.lessons.is_empty() && module.quiz.is_none() {
            v.push(mp.clone(), "The module is empty; add a lesson or a quiz.");
        }
        for (li, lesson) in module.lessons.iter().enumerate() {
            let lp = format!("{mp}.lessons[{li}]");
            lesson_ids.check(&mut v, &lesson.id, &format!("{lp}.id"));
            if is_blank(&lesson.title) {
                v.push(format!("{lp}.title"), "The lesson needs a title.");
            }
        }
        if let Some(quiz) = &module.quiz {
            let qzp = format!("{mp}.quiz");
            if quiz.questions.is_empty() {
                v.push(
                    format!("{qzp}.questions"),
                    "The quiz has no questions; add one or remove the quiz.",
                );
            }
            for (qi, question) in quiz.questions.iter().enumerate() {
                let qp = format!("{qzp}.questions[{qi}]");
                question_ids.check(&mut v, &question.id, &format!("{qp}.id"));
                v.0.extend(validate_question(question, &qp, regex_check));
            }
        }
    }
    v.0
}

/// Every problem of one question, with paths under `path` (e.g.
/// `modules[0].quiz.questions[2]`). Does not check the question id against
/// other questions (that needs the whole course). Used by the importers too.
pub fn validate_question(q: &Question, path: &str, regex_check: RegexCheck<'_>) -> Vec<Problem> {
    let mut v = Problems::default();
    let at = |field: &str| format!("{path}.{field}");
    if is_blank(&q.id) {
        v.push(at("id"), "The question has no id.");
    }
    if is_blank(&q.prompt_md) {
        v.push(at("prompt_md"), "The question has no text.");
    }
    if !(q.points.is_finite() && q.points > 0.0) {
        v.push(at("points"), "Points must be a number greater than 0.");
    }
    match &q.kind {
        QuestionKind::SingleChoice { options } => {
            check_options(&mut v, path, options);
            match options.iter().filter(|o| o.correct).count() {
                1 => {}
                0 => v.push(
                    at("options"),
                    "Mark the correct option: a single-choice question needs exactly one.",
                ),
                n => v.push(
                    at("options"),
                    format!(
                        "{n} options are marked correct; a single-choice question needs exactly \
                         one (use multiple choice for several)."
                    ),
                ),
            }
        }
        QuestionKind::MultipleChoice { options, .. } => {
            check_options(&mut v, path, options);
            if !options.iter().any(|o| o.correct) {
                v.push(at("options"), "Mark at least one option as correct.");
            }
        }
        QuestionKind::TrueFalse { .. } => {}
        QuestionKind::ShortText { accepted } => {
            if accepted.is_empty() {
                v.push(at("accepted"), "Add at least one accepted answer.");
            }
            for (i, answer) in accepted.iter().enumerate() {
                let p = format!("{path}.accepted[{i}].text");
                if is_blank(&answer.text) {
                    v.push(p, format!("Accepted answer {} is empty.", i + 1));
                } else if answer.mode == TextMatch::Regex {
                    if let Err(e) = regex_check(&answer.text) {
                        v.push(p, format!("Accepted answer {}: {e}", i + 1));
                    }
                }
            }
        }
        QuestionKind::Numeric { answer, tolerance } => {
            if !answer.is_finite() {
                v.push(at("answer"), "The answer must be a finite number.");
            }
            if !(tolerance.is_finite() && *tolerance >= 0.0) {
                v.push(
                    at("tolerance"),
                    "The tolerance must be a finite number of 0 or more.",
                );
            }
        }
        QuestionKind::Ordering { items } => {
            if items.len() < 2 {
                v.push(
                    at("items"),
                    format!(
                        "An ordering question needs at least 2 items (it has {}).",
                        items.len()
                    ),
                );
            }
            let mut ids = Ids::new("item");
            let mut texts = Texts::new("Item");
            for (i, item) in items.iter().enumerate() {
                ids.check(&mut v, &item.id, &format!("{path}.items[{i}].id"));
                texts.check(&mut v, &item.text, i, &format!("{path}.items[{i}].text"));
            }
        }
        QuestionKind::Matching { pairs } => {
            if pairs.len() < 2 {
                v.push(
                    at("pairs"),
                    format!(
                        "A matching question needs at least 2 pairs (it has {}).",
                        pairs.len()
                    ),
                );
            }
            let mut ids = Ids::new("pair");
            let mut prompts = Texts::new("Prompt");
            for (i, pair) in pairs.iter().enumerate() {
                let pp = format!("{path}.pairs[{i}]");
                ids.check(&mut v, &pair.id, &format!("{pp}.id"));
                prompts.check(&mut v, &pair.prompt, i, &format!("{pp}.prompt"));
                if is_blank(&pair.answer) {
                    v.push(
                        format!("{pp}.answer"),
                        format!("Pair {} has no answer.", i + 1),
                    );
                }
            }
        }
    }
    v.0
}

fn check_options(v: &mut Problems, path: &str, options: &[ChoiceOption]) {
    if options.len() < 2 {
        v.push(
            format!("{path}.options"),
            format!(
                "A choice question needs at least 2 options (it has {}).",
                options.len()
            ),
        );
    }
    let mut ids = Ids::new("option");
    let mut texts = Texts::new("Option");
    for (i, option) in options.iter().enumerate() {
        ids.check(v, &option.id, &format!("{path}.options[{i}].id"));
        texts.check(v, &option.text, i, &format!("{path}.options[{i}].text"));
    }
}

#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            path: path.into(),
            message: message.into(),
        });
    }
}

fn is_blank(s: &str) -> bool {
    s.trim().is_empty()
}

/// Trimmed, whitespace-collapsed, lower-cased: the key for "same text".
fn text_key(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Empty and duplicate id detection within one scope.
struct Ids<'a> {
    what: &'static str,
    seen: HashMap<&'a str, String>,
}

impl<'a> Ids<'a> {
    fn new(what: &'static str) -> Self {
        Ids {
            what,
            seen: HashMap::new(),
        }
    }

    fn check(&mut self, v: &mut Problems, id: &'a str, path: &str) {
        if is_blank(id) {
            v.push(path, format!("The {} has no id.", self.what));
        } else if let Some(first) = self.seen.get(id) {
            v.push(
                path,
                format!(
                    "The {} id \"{id}\" is already used at {first}; ids must be unique.",
                    self.what
                ),
            );
        } else {
            self.seen.insert(id, path.to_owned());
        }
    }
}

/// Empty and duplicate (case-insensitive, trimmed) text detection.
struct Texts {
    what: &'static str,
    seen: HashMap<String, usize>,
}

impl Texts {
    fn new(what: &'static str) -> Self {
        Texts {
            what,
            seen: HashMap::new(),
        }
    }

    fn check(&mut self, v: &mut Problems, text: &str, index: usize, path: &str) {
        let what = self.what;
        if is_blank(text) {
            v.push(path, format!("{what} {} has no text.", index + 1));
            return;
        }
        let key = text_key(text);
        if let Some(first) = self.seen.get(&key) {
            v.push(
                path,
                format!(
                    "{what} {} has the same text as {} {} (\"{}\"); each must be different.",
                    index + 1,
                    what.to_lowercase(),
                    first + 1,
                    text.trim()
                ),
            );
        } else {
            self.seen.insert(key, index);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CourseSettings, Item, Lesson, Module, Pair, Quiz, TextAnswer, TextMatch};

    fn question(id: &str, kind: QuestionKind) -> Question {
        Question {
            id: id.into(),
            kind,
            prompt_md: "Prompt".into(),
            points: 1.0,
            feedback_correct_md: String::new(),
            feedback_incorrect_md: String::new(),
        }
    }

    fn opt(id: &str, text: &str, correct: bool) -> ChoiceOption {
        ChoiceOption {
            id: id.into(),
            text: text.into(),
            correct,
            feedback: String::new(),
        }
    }

    fn course(questions: Vec<Question>) -> CourseContent {
        CourseContent {
            title: "Course".into(),
            description_md: String::new(),
            modules: vec![Module {
                id: "m1".into(),
                title: "Module".into(),
                lessons: vec![Lesson {
                    id: "l1".into(),
                    title: "Lesson".into(),
                    body_md: String::new(),
                }],
                quiz: Some(Quiz { questions }),
            }],
            settings: CourseSettings::default(),
        }
    }

    fn valid_questions() -> Vec<Question> {
        vec![
            question(
                "q1",
                QuestionKind::SingleChoice {
                    options: vec![opt("a", "Yes", true), opt("b", "No", false)],
                },
            ),
            question(
                "q2",
                QuestionKind::MultipleChoice {
                    options: vec![
                        opt("a", "Red", true),
                        opt("b", "Blue", true),
                        opt("c", "Cat", false),
                    ],
                    partial_credit: true,
                    negative_marking: true,
                },
            ),
            question("q3", QuestionKind::TrueFalse { answer: false }),
            question(
                "q4",
                QuestionKind::ShortText {
                    accepted: vec![TextAnswer {
                        text: "colou?r".into(),
                        mode: TextMatch::Regex,
                    }],
                },
            ),
            question(
                "q5",
                QuestionKind::Numeric {
                    answer: 2.5,
                    tolerance: 0.0,
                },
            ),
            question(
                "q6",
                QuestionKind::Ordering {
                    items: vec![
                        Item {
                            id: "1".into(),
                            text: "One".into(),
                        },
                        Item {
                            id: "2".into(),
                            text: "Two".into(),
                        },
                    ],
                },
            ),
            question(
                "q7",
                QuestionKind::Matching {
                    pairs: vec![
                        Pair {
                            id: "1".into(),
                            prompt: "A".into(),
                            answer: "x".into(),
                        },
                        Pair {
                            id: "2".into(),
                            prompt: "B".into(),
                            answer: "x".into(),
                        },
                    ],
                },
            ),
        ]
    }

    fn paths(problems: &[Problem]) -> Vec<&str> {
        problems.iter().map(|p| p.path.as_str()).collect()
    }

    #[test]
    fn a_valid_course_has_no_problems() {
        assert_eq!(validate_course(&course(valid_questions())), vec![]);
    }

    #[test]
    fn course_level_problems() {
        let mut c = course(valid_questions());
        c.title = "  ".into();
        c.settings.pass_mark_percent = 101;
        c.settings.attempt_limit = Some(0);
        c.settings.time_limit_secs = Some(0);
        c.settings.certificate_validity_days = Some(0);
        c.modules[0].title.clear();
        c.modules[0].lessons[0].title.clear();
        let p = validate_course(&c);
        assert_eq!(
            paths(&p),
            vec![
                "title",
                "settings.pass_mark_percent",
                "settings.attempt_limit",
                "settings.time_limit_secs",
                "settings.certificate_validity_days",
                "modules[0].title",
                "modules[0].lessons[0].title",
            ]
        );
        assert_eq!(
            p[1].message,
            "The pass mark is 101 %; it must be between 0 and 100."
        );
        assert_eq!(p[6].message, "The lesson needs a title.");
    }

    #[test]
    fn empty_course_module_and_quiz() {
        let mut c = course(vec![]);
        assert_eq!(
            paths(&validate_course(&c)),
            vec!["modules[0].quiz.questions"]
        );
        c.modules[0].quiz = None;
        c.modules[0].lessons.clear();
        assert_eq!(paths(&validate_course(&c)), vec!["modules[0]"]);
        c.modules.clear();
        assert_eq!(paths(&validate_course(&c)), vec!["modules"]);
    }

    #[test]
    fn duplicate_ids_across_the_course() {
        let mut c = course(valid_questions());
        let mut m2 = c.modules[0].clone();
        m2.quiz = None;
        c.modules.push(m2);
        c.modules[0].quiz.as_mut().unwrap().questions[1].id = "q1".into();
        let p = validate_course(&c);
        assert_eq!(
            paths(&p),
            vec![
                "modules[0].quiz.questions[1].id",
                "modules[1].id",
                "modules[1].lessons[0].id"
            ]
        );
        assert!(p[0]
            .message
            .contains("\"q1\" is already used at modules[0].quiz.questions[0].id"));
    }

    #[test]
    fn question_basics() {
        let mut q = question("q", QuestionKind::TrueFalse { answer: true });
        q.prompt_md = "\n ".into();
        q.points = 0.0;
        let p = validate_question(&q, "x", &default_regex_check);
        assert_eq!(paths(&p), vec!["x.prompt_md", "x.points"]);
        assert_eq!(p[0].message, "The question has no text.");
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            q.points = bad;
            assert!(paths(&validate_question(&q, "x", &default_regex_check)).contains(&"x.points"));
        }
    }

    #[test]
    fn single_choice_needs_exactly_one_correct_and_two_distinct_options() {
        let check = |options: Vec<ChoiceOption>| {
            validate_question(
                &question("q", QuestionKind::SingleChoice { options }),
                "q",
                &default_regex_check,
            )
        };
        let p = check(vec![opt("a", "Yes", false), opt("b", "No", false)]);
        assert_eq!(paths(&p), vec!["q.options"]);
        assert!(p[0].message.starts_with("Mark the correct option"));
        let p = check(vec![opt("a", "Yes", true), opt("b", "No", true)]);
        assert!(p[0].message.starts_with("2 options are marked correct"));
        let p = check(vec![opt("a", "Yes", true)]);
        assert_eq!(
            p[0].message,
            "A choice question needs at least 2 options (it has 1)."
        );
        let p = check(vec![
            opt("a", "Yes", true),
            opt("b", "  YES ", false),
            opt("c", "", false),
            opt("a", "Maybe", false),
        ]);
        assert_eq!(
            paths(&p),
            vec!["q.options[1].text", "q.options[2].text", "q.options[3].id"]
        );
        assert_eq!(
            p[0].message,
            "Option 2 has the same text as option 1 (\"YES\"); each must be different."
        );
        assert_eq!(p[1].message, "Option 3 has no text.");
    }

    #[test]
    fn multiple_choice_needs_a_correct_option() {
        let p = validate_question(
            &question(
                "q",
                QuestionKind::MultipleChoice {
                    options: vec![opt("a", "A", false), opt("b", "B", false)],
                    partial_credit: false,
                    negative_marking: false,
                },
            ),
            "q",
            &default_regex_check,
        );
        assert_eq!(p[0].message, "Mark at least one option as correct.");
    }

    #[test]
    fn short_text_answers_and_regex() {
        let short = |accepted: Vec<TextAnswer>| question("q", QuestionKind::ShortText { accepted });
        let p = validate_question(&short(vec![]), "q", &default_regex_check);
        assert_eq!(p[0].message, "Add at least one accepted answer.");
        let p = validate_question(
            &short(vec![
                TextAnswer {
                    text: " ".into(),
                    mode: TextMatch::Exact,
                },
                TextAnswer {
                    text: "([a-z".into(),
                    mode: TextMatch::Regex,
                },
                TextAnswer {
                    text: "([a-z".into(),
                    mode: TextMatch::Exact,
                },
            ]),
            "q",
            &|p: &str| {
                if p.contains('(') && !p.contains(')') {
                    Err("unclosed group".into())
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(paths(&p), vec!["q.accepted[0].text", "q.accepted[1].text"]);
        assert_eq!(p[1].message, "Accepted answer 2: unclosed group");
    }

    #[cfg(feature = "server")]
    #[test]
    fn server_build_checks_regex_syntax() {
        let q = question(
            "q",
            QuestionKind::ShortText {
                accepted: vec![TextAnswer {
                    text: "x)|(.*".into(),
                    mode: TextMatch::Regex,
                }],
            },
        );
        let p = validate_course(&course(vec![q]));
        assert_eq!(
            paths(&p),
            vec!["modules[0].quiz.questions[0].accepted[0].text"]
        );
        assert!(p[0]
            .message
            .starts_with("Accepted answer 1: The pattern is not a valid regular expression"));
    }

    #[test]
    fn numeric_answer_and_tolerance() {
        for (answer, tolerance, expect) in [
            (1.0, -0.1, vec!["q.tolerance"]),
            (1.0, f64::NAN, vec!["q.tolerance"]),
            (1.0, f64::INFINITY, vec!["q.tolerance"]),
            (f64::NAN, 0.0, vec!["q.answer"]),
            (1.0, 0.0, vec![]),
        ] {
            let p = validate_question(
                &question("q", QuestionKind::Numeric { answer, tolerance }),
                "q",
                &default_regex_check,
            );
            assert_eq!(paths(&p), expect, "{answer} ± {tolerance}");
        }
    }

    #[test]
    fn ordering_and_matching_rules() {
        let p = validate_question(
            &question(
                "q",
                QuestionKind::Ordering {
                    items: vec![Item {
                        id: "1".into(),
                        text: "Only".into(),
                    }],
                },
            ),
            "q",
            &default_regex_check,
        );
        assert_eq!(
            p[0].message,
            "An ordering question needs at least 2 items (it has 1)."
        );
        let pair = |id: &str, prompt: &str, answer: &str| Pair {
            id: id.into(),
            prompt: prompt.into(),
            answer: answer.into(),
        };
        let p = validate_question(
            &question(
                "q",
                QuestionKind::Matching {
                    pairs: vec![pair("1", "France", "Paris")],
                },
            ),
            "q",
            &default_regex_check,
        );
        assert_eq!(
            p[0].message,
            "A matching question needs at least 2 pairs (it has 1)."
        );
        let p = validate_question(
            &question(
                "q",
                QuestionKind::Matching {
                    pairs: vec![
                        pair("1", "France", "Paris"),
                        pair("2", "france ", "Lyon"),
                        pair("3", "Italy", ""),
                    ],
                },
            ),
            "q",
            &default_regex_check,
        );
        assert_eq!(paths(&p), vec!["q.pairs[1].prompt", "q.pairs[2].answer"]);
        assert!(p[0]
            .message
            .starts_with("Prompt 2 has the same text as prompt 1"));
    }
}
