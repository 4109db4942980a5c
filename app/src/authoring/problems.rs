//! Problems that block publishing (`course::validate`), in the page's
//! language: the editor lists them with these words, and the server's
//! refusal to publish (400) quotes the same words in the language of the
//! call. One implementation for both sides, as `course::validate`'s
//! English one is (a test holds the English texts here to it).

use course::{
    model::CourseContent,
    validate::{part_of, place_of, place_words_in, Place, PlaceWords, Problem},
};
use leptos_i18n::td_string;

use crate::locale::{fill, lang_of, Lang, Locale};

/// How places are named in `loc`.
fn place_words(loc: Locale) -> PlaceWords<'static> {
    PlaceWords {
        course: td_string!(loc, validate.place_course),
        settings: td_string!(loc, validate.place_settings),
        module: td_string!(loc, validate.place_module),
        lesson: td_string!(loc, validate.place_lesson),
        quiz: td_string!(loc, validate.place_quiz),
        question: td_string!(loc, validate.place_question),
        open_quote: td_string!(loc, validate.open_quote),
        close_quote: td_string!(loc, validate.close_quote),
    }
}

/// A place as the editor's outline names it, in `loc`.
pub fn place(loc: Locale, content: &CourseContent, place: Place) -> String {
    place_words_in(content, place, &place_words(loc))
}

/// The message template of a problem code; `None` for a code this
/// version does not know (the English message is shown then).
fn template(loc: Locale, code: &str) -> Option<&'static str> {
    Some(match code {
        "course_no_title" => td_string!(loc, validate.course_no_title),
        "pass_mark_range" => td_string!(loc, validate.pass_mark_range),
        "attempt_limit_zero" => td_string!(loc, validate.attempt_limit_zero),
        "time_limit_zero" => td_string!(loc, validate.time_limit_zero),
        "certificate_days_zero" => td_string!(loc, validate.certificate_days_zero),
        "no_modules" => td_string!(loc, validate.no_modules),
        "module_no_title" => td_string!(loc, validate.module_no_title),
        "module_empty" => td_string!(loc, validate.module_empty),
        "lesson_no_title" => td_string!(loc, validate.lesson_no_title),
        "quiz_no_questions" => td_string!(loc, validate.quiz_no_questions),
        "question_no_id" => td_string!(loc, validate.question_no_id),
        "question_no_text" => td_string!(loc, validate.question_no_text),
        "points_positive" => td_string!(loc, validate.points_positive),
        "single_none_correct" => td_string!(loc, validate.single_none_correct),
        "single_many_correct" => td_string!(loc, validate.single_many_correct),
        "multiple_none_correct" => td_string!(loc, validate.multiple_none_correct),
        "no_accepted" => td_string!(loc, validate.no_accepted),
        "accepted_empty" => td_string!(loc, validate.accepted_empty),
        "accepted_regex" => td_string!(loc, validate.accepted_regex),
        "answer_finite" => td_string!(loc, validate.answer_finite),
        "tolerance_finite" => td_string!(loc, validate.tolerance_finite),
        "ordering_few" => td_string!(loc, validate.ordering_few),
        "matching_few" => td_string!(loc, validate.matching_few),
        "pair_no_answer" => td_string!(loc, validate.pair_no_answer),
        "choice_few" => td_string!(loc, validate.choice_few),
        "module_no_id" => td_string!(loc, validate.module_no_id),
        "lesson_no_id" => td_string!(loc, validate.lesson_no_id),
        "item_no_id" => td_string!(loc, validate.item_no_id),
        "pair_no_id" => td_string!(loc, validate.pair_no_id),
        "option_no_id" => td_string!(loc, validate.option_no_id),
        "module_id_dup" => td_string!(loc, validate.module_id_dup),
        "lesson_id_dup" => td_string!(loc, validate.lesson_id_dup),
        "question_id_dup" => td_string!(loc, validate.question_id_dup),
        "item_id_dup" => td_string!(loc, validate.item_id_dup),
        "pair_id_dup" => td_string!(loc, validate.pair_id_dup),
        "option_id_dup" => td_string!(loc, validate.option_id_dup),
        "item_no_text" => td_string!(loc, validate.item_no_text),
        "prompt_no_text" => td_string!(loc, validate.prompt_no_text),
        "option_no_text" => td_string!(loc, validate.option_no_text),
        "item_same_text" => td_string!(loc, validate.item_same_text),
        "prompt_same_text" => td_string!(loc, validate.prompt_same_text),
        "option_same_text" => td_string!(loc, validate.option_same_text),
        _ => return None,
    })
}

/// An item a duplicate id is already used by (its path is the second
/// argument), in `loc`: a place of the course, or a part of a question.
fn first_user(loc: Locale, content: &CourseContent, path: &str) -> String {
    match part_of(path) {
        Some((what, i)) => {
            let words = match what {
                "option" => td_string!(loc, validate.part_option),
                "item" => td_string!(loc, validate.part_item),
                "pair" => td_string!(loc, validate.part_pair),
                _ => td_string!(loc, validate.part_accepted),
            };
            fill(words, &[&(i + 1)])
        }
        None => place(loc, content, place_of(path)),
    }
}

/// What is wrong, in `loc` (without the place).
pub fn message(loc: Locale, content: &CourseContent, problem: &Problem) -> String {
    let Some(template) = template(loc, &problem.code) else {
        return problem.message.clone();
    };
    let mut args: Vec<String> = problem.args.clone();
    // A regex error only comes from the server's full check (the browser's
    // check accepts every pattern), so only the server words it again.
    #[cfg(feature = "ssr")]
    if problem.code == "accepted_regex" {
        if let Some(e) = args.get_mut(1) {
            *e = super::import_words::regex_error(loc, e);
        }
    }
    if problem.code.ends_with("_id_dup") {
        if let Some(first) = args.get_mut(1) {
            *first = first_user(loc, content, first);
        }
    }
    let args: Vec<&dyn std::fmt::Display> =
        args.iter().map(|a| a as &dyn std::fmt::Display).collect();
    fill(template, &args)
}

/// One problem as the author reads it, in `loc`: "Module 1 “Basics” ›
/// Quiz › Question 2: the question has no text." / "Modul 1 „Basics“ ›
/// Quiz › Frage 2: Die Frage hat keinen Text." (English lower-cases the
/// message's first letter after the colon; German keeps its capitals).
pub fn in_authors_words(loc: Locale, content: &CourseContent, problem: &Problem) -> String {
    let what = message(loc, content, problem);
    let what = match lang_of(loc) {
        Lang::En => course::validate::lower_first(&what),
        Lang::De => what,
    };
    fill(
        td_string!(loc, validate.in_words),
        &[&place(loc, content, place_of(&problem.path)), &what],
    )
}

/// Why publishing is refused, in `loc`; `None` when there are no problems.
pub fn publish_refusal(
    loc: Locale,
    content: &CourseContent,
    problems: &[Problem],
) -> Option<String> {
    let first = in_authors_words(loc, content, problems.first()?);
    Some(match problems.len() {
        1 => fill(td_string!(loc, validate.fix_one), &[&first]),
        n => fill(td_string!(loc, validate.fix_many), &[&n, &first]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use course::{
        model::*,
        validate::{validate_course_with, RegexCheck},
    };

    /// A course with one problem of (nearly) every kind.
    fn broken() -> CourseContent {
        let opt = |id: &str, text: &str, correct: bool| ChoiceOption {
            id: id.into(),
            text: text.into(),
            correct,
            feedback: String::new(),
        };
        let q = |id: &str, kind: QuestionKind| Question {
            id: id.into(),
            kind,
            prompt_md: String::new(),
            points: 0.0,
            feedback_correct_md: String::new(),
            feedback_incorrect_md: String::new(),
        };
        let settings = CourseSettings {
            pass_mark_percent: 120,
            attempt_limit: Some(0),
            time_limit_secs: Some(0),
            certificate_validity_days: Some(0),
            ..Default::default()
        };
        CourseContent {
            title: String::new(),
            description_md: String::new(),
            settings,
            modules: vec![
                Module {
                    id: "m".into(),
                    title: "Basics".into(),
                    lessons: vec![
                        Lesson {
                            id: "l".into(),
                            title: String::new(),
                            body_md: String::new(),
                        },
                        Lesson {
                            id: "l".into(),
                            title: "Two".into(),
                            body_md: String::new(),
                        },
                    ],
                    quiz: Some(Quiz {
                        questions: vec![
                            q(
                                "",
                                QuestionKind::SingleChoice {
                                    options: vec![opt("o", "A", true), opt("o", "a ", true)],
                                },
                            ),
                            q(
                                "q",
                                QuestionKind::SingleChoice {
                                    options: vec![opt("", "", false)],
                                },
                            ),
                            q(
                                "q",
                                QuestionKind::MultipleChoice {
                                    options: vec![opt("x", "X", false), opt("y", "Y", false)],
                                    partial_credit: false,
                                    negative_marking: false,
                                },
                            ),
                            q("s", QuestionKind::ShortText { accepted: vec![] }),
                            q(
                                "t",
                                QuestionKind::ShortText {
                                    accepted: vec![
                                        TextAnswer {
                                            text: String::new(),
                                            mode: TextMatch::Exact,
                                        },
                                        TextAnswer {
                                            text: "(".into(),
                                            mode: TextMatch::Regex,
                                        },
                                    ],
                                },
                            ),
                            q(
                                "n",
                                QuestionKind::Numeric {
                                    answer: f64::NAN,
                                    tolerance: -1.0,
                                },
                            ),
                            q(
                                "r",
                                QuestionKind::Ordering {
                                    items: vec![Item {
                                        id: "i".into(),
                                        text: String::new(),
                                    }],
                                },
                            ),
                            q(
                                "u",
                                QuestionKind::Ordering {
                                    items: vec![
                                        Item {
                                            id: "".into(),
                                            text: "A".into(),
                                        },
                                        Item {
                                            id: "j".into(),
                                            text: "A".into(),
                                        },
                                        Item {
                                            id: "j".into(),
                                            text: "B".into(),
                                        },
                                    ],
                                },
                            ),
                            q(
                                "v",
                                QuestionKind::Matching {
                                    pairs: vec![Pair {
                                        id: "p".into(),
                                        prompt: String::new(),
                                        answer: String::new(),
                                    }],
                                },
                            ),
                            q(
                                "w",
                                QuestionKind::Matching {
                                    pairs: vec![
                                        Pair {
                                            id: "".into(),
                                            prompt: "P".into(),
                                            answer: "1".into(),
                                        },
                                        Pair {
                                            id: "k".into(),
                                            prompt: "p".into(),
                                            answer: "2".into(),
                                        },
                                        Pair {
                                            id: "k".into(),
                                            prompt: "Q".into(),
                                            answer: "3".into(),
                                        },
                                    ],
                                },
                            ),
                        ],
                    }),
                },
                Module {
                    id: "m".into(),
                    title: String::new(),
                    lessons: vec![],
                    quiz: Some(Quiz { questions: vec![] }),
                },
                Module {
                    id: "".into(),
                    title: "Empty".into(),
                    lessons: vec![],
                    quiz: None,
                },
            ],
        }
    }

    fn problems() -> Vec<Problem> {
        let check: RegexCheck<'_> = &|p: &str| {
            if p == "(" {
                Err("unclosed group".into())
            } else {
                Ok(())
            }
        };
        validate_course_with(&broken(), check)
    }

    /// The English words here are `course::validate`'s, word for word:
    /// every problem the fixture makes reads the same both ways.
    #[test]
    fn english_matches_the_domain_wording() {
        let content = broken();
        let problems = problems();
        assert!(
            problems.len() > 30,
            "the fixture lost problems: {}",
            problems.len()
        );
        for p in &problems {
            assert!(!p.code.is_empty(), "no code for {p:?}");
            assert!(
                template(Locale::en, &p.code).is_some(),
                "no words for {}",
                p.code
            );
            assert_eq!(
                in_authors_words(Locale::en, &content, p),
                course::validate::in_authors_words(&content, p),
            );
        }
        assert_eq!(
            publish_refusal(Locale::en, &content, &problems),
            course::validate::publish_refusal(&content, &problems)
        );
    }

    #[test]
    fn german_names_places_and_problems_in_german() {
        let content = broken();
        let problems = problems();
        let all: Vec<String> = problems
            .iter()
            .map(|p| in_authors_words(Locale::de, &content, p))
            .collect();
        assert!(
            all.contains(&"Kurs: Der Kurs braucht einen Titel.".to_owned()),
            "{all:#?}"
        );
        assert!(
            all.iter().any(
                |w| w.starts_with("Modul 1 „Basics“ › Quiz › Frage 1: Die Frage hat keine ID.")
            ),
            "{all:#?}"
        );
        assert!(all.iter().any(|w| w == "Modul 1 „Basics“ › Lektion 2 „Two“: Die Lektions-ID „l“ verwendet schon Modul 1 „Basics“ › Lektion 1; IDs müssen eindeutig sein."), "{all:#?}");
        assert!(
            all.iter().any(|w| w.ends_with(
                "Die Element-ID „j“ verwendet schon Element 2; IDs müssen eindeutig sein."
            )),
            "{all:#?}"
        );
        // No English sentence is left in the German list.
        for w in &all {
            assert!(
                !w.contains(" the ") && !w.contains("Module ") && !w.contains("needs"),
                "{w}"
            );
        }
        let refusal = publish_refusal(Locale::de, &content, &problems).unwrap();
        assert!(
            refusal.starts_with(&format!(
                "Behebe {} Probleme vor dem Veröffentlichen. Das erste: Kurs: ",
                problems.len()
            )),
            "{refusal}"
        );
    }
}
