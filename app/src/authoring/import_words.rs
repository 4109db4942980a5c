//! GIFT and Aiken import problems (`course::gift`, `course::aiken`) and
//! regular-expression errors (`course::grading::compile_answer_regex`) in
//! the language of the call. Server only: the importers and the full regex
//! check run on the server, which words their problems before answering,
//! so the editor's bundle carries none of these words (it shows the text
//! it receives).

use course::{
    model::{CourseContent, ImportProblem},
    validate::Problem,
};
use leptos_i18n::td_string;

use crate::locale::{fill, Locale};

/// The template of an importer's problem code; `None` for other codes.
fn template(loc: Locale, code: &str) -> Option<&'static str> {
    Some(match code {
        "gift_text_before" => td_string!(loc, import.gift_text_before),
        "gift_bad_weight" => td_string!(loc, import.gift_bad_weight),
        "gift_weight_unclosed" => td_string!(loc, import.gift_weight_unclosed),
        "gift_title_unclosed" => td_string!(loc, import.gift_title_unclosed),
        "gift_no_block" => td_string!(loc, import.gift_no_block),
        "gift_block_unclosed" => td_string!(loc, import.gift_block_unclosed),
        "gift_brace_inside" => td_string!(loc, import.gift_brace_inside),
        "gift_two_blocks" => td_string!(loc, import.gift_two_blocks),
        "gift_missing_word" => td_string!(loc, import.gift_missing_word),
        "gift_no_text" => td_string!(loc, import.gift_no_text),
        "gift_essay" => td_string!(loc, import.gift_essay),
        "gift_unreadable" => td_string!(loc, import.gift_unreadable),
        "gift_numeric_bad" => td_string!(loc, import.gift_numeric_bad),
        "gift_numeric_range" => td_string!(loc, import.gift_numeric_range),
        "gift_numeric_tolerance" => td_string!(loc, import.gift_numeric_tolerance),
        "gift_numeric_missing" => td_string!(loc, import.gift_numeric_missing),
        "gift_numeric_tilde" => td_string!(loc, import.gift_numeric_tilde),
        "gift_numeric_partial" => td_string!(loc, import.gift_numeric_partial),
        "gift_match_tilde" => td_string!(loc, import.gift_match_tilde),
        "gift_match_arrow" => td_string!(loc, import.gift_match_arrow),
        "gift_match_distractor" => td_string!(loc, import.gift_match_distractor),
        "gift_no_answers" => td_string!(loc, import.gift_no_answers),
        "gift_short_partial" => td_string!(loc, import.gift_short_partial),
        "gift_one_right" => td_string!(loc, import.gift_one_right),
        "gift_right_100" => td_string!(loc, import.gift_right_100),
        "gift_wrong_partial" => td_string!(loc, import.gift_wrong_partial),
        "gift_no_right" => td_string!(loc, import.gift_no_right),
        "gift_weights_differ" => td_string!(loc, import.gift_weights_differ),
        "gift_weights_sum" => td_string!(loc, import.gift_weights_sum),
        "aiken_answer_first" => td_string!(loc, import.aiken_answer_first),
        "aiken_no_options" => td_string!(loc, import.aiken_no_options),
        "aiken_answer_empty" => td_string!(loc, import.aiken_answer_empty),
        "aiken_answer_unknown" => td_string!(loc, import.aiken_answer_unknown),
        "aiken_option_first" => td_string!(loc, import.aiken_option_first),
        "aiken_letter_twice" => td_string!(loc, import.aiken_letter_twice),
        "aiken_option_empty" => td_string!(loc, import.aiken_option_empty),
        "aiken_no_answer" => td_string!(loc, import.aiken_no_answer),
        "aiken_expected_option" => td_string!(loc, import.aiken_expected_option),
        _ => return None,
    })
}

/// One import problem's text in `loc`: an importer's own problem from its
/// code and values; an imported question's validation problem as the
/// editor words it (`super::problems`); the English message otherwise.
pub fn message(loc: Locale, p: &ImportProblem) -> String {
    if let Some(t) = template(loc, &p.code) {
        let args: Vec<&dyn std::fmt::Display> =
            p.args.iter().map(|a| a as &dyn std::fmt::Display).collect();
        return fill(t, &args);
    }
    if p.code.is_empty() {
        return p.message.clone();
    }
    let problem = Problem {
        path: String::new(),
        message: p.message.clone(),
        code: p.code.clone(),
        args: p.args.clone(),
    };
    // No course around an imported question: a duplicate id names a part
    // of the question (option 2), never a place in a course.
    let none = CourseContent {
        title: String::new(),
        description_md: String::new(),
        settings: Default::default(),
        modules: Vec::new(),
    };
    super::problems::message(loc, &none, &problem)
}

/// Every problem of an import report worded in `loc` (the lines stay).
pub fn word_all(loc: Locale, problems: &mut [ImportProblem]) {
    for p in problems {
        p.message = message(loc, p);
    }
}

/// A regular-expression error (`compile_answer_regex`'s English) in `loc`.
/// The regex library's own diagnosis ("unclosed group") stays English: it
/// names the syntax, and there is no translation of it to keep in step.
pub fn regex_error(loc: Locale, e: &str) -> String {
    const INVALID: &str = "The pattern is not a valid regular expression: ";
    const COMPLEX: &str =
        "The pattern is too complex; simplify it (e.g. smaller repetition counts).";
    if let Some(reason) = e.strip_prefix(INVALID) {
        return fill(td_string!(loc, import.regex_invalid), &[&reason]);
    }
    if e == COMPLEX {
        return td_string!(loc, import.regex_too_complex).into();
    }
    if let Some(n) = e
        .strip_prefix("The pattern is too long (")
        .and_then(|r| r.split_once(" characters; at most "))
        .map(|(n, _)| n.to_owned())
    {
        return fill(
            td_string!(loc, import.regex_too_long),
            &[&n, &course::grading::MAX_PATTERN_LEN],
        );
    }
    e.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sources that make (nearly) every importer problem.
    const GIFT: &[&str] = &[
        "Q {x =a ~b}",
        "Q {~%abc%a =b}",
        "Q {~%50 a =b}",
        "::T Q {T}",
        "Just text",
        "Q {=a",
        "Q {=a {b}",
        "Q {=a} more {=b}",
        "Q {=a} more",
        "{=a ~b}",
        "Q {}",
        "Q {#}",
        "Q {#~3}",
        "Q {#=%50%3}",
        "Q {#abc}",
        "Q {#5..1}",
        "Q {#3:-1}",
        "Q {=a -> b ~c -> d}",
        "Q {=a -> b =c}",
        "Q {=a -> b = -> d}",
        "Q {=%50%a =b}",
        "Q {=a =b ~c}",
        "Q {=%50%a ~b}",
        "Q {=a ~%20%b}",
        "Q {~a ~b}",
        "Q {~%30%a ~%70%b ~c}",
        "Q {~%40%a ~%40%b ~c}",
        "Q { }",
    ];
    const AIKEN: &str =
        "A. orphan\n\nANSWER: A\n\nQ0\nANSWER: A\n\nQ1\nA. a\nA. again\n\nQ2\nA.\n\n\
                         Q3\nA. a\nANSWER:\n\nQ4\nA. a\nANSWER: Z\n\nQ5\nA. a\nstray\n\nQ6\nA. a\n";

    fn all_problems() -> Vec<ImportProblem> {
        let mut out: Vec<ImportProblem> = GIFT
            .iter()
            .flat_map(|src| course::gift::parse_gift(src).problems)
            .collect();
        out.extend(course::aiken::parse_aiken(AIKEN).problems);
        out
    }

    /// The English words here are the importers' own, word for word, and
    /// the fixture reaches (nearly) every code.
    #[test]
    fn english_matches_the_importers_wording() {
        let problems = all_problems();
        let mut codes: Vec<&str> = problems.iter().map(|p| p.code.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert!(codes.len() >= 36, "the fixture lost codes: {codes:?}");
        for p in &problems {
            assert!(!p.code.is_empty(), "no code for {p:?}");
            assert_eq!(message(Locale::en, p), p.message, "{}", p.code);
        }
    }

    #[test]
    fn german_import_problems_are_german() {
        let mut problems = course::gift::parse_gift("Q {#5..1}\n\nQ {}").problems;
        word_all(Locale::de, &mut problems);
        let texts: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Ungültiger Zahlenbereich '5..1': Das Minimum liegt über dem Maximum.",
                "Freitextfragen ('{}') werden nicht unterstützt: Sie müssen von Hand bewertet werden."
            ]
        );
        assert_eq!(problems[1].line, 3, "lines stay");
        // A question read but invalid: the editor's words for its problem.
        let aiken = course::aiken::parse_aiken("Q\nA. same\nB. same\nANSWER: A\n");
        let mut problems = aiken.problems;
        assert_eq!(problems.len(), 1, "{problems:?}");
        let english = problems[0].message.clone();
        word_all(Locale::de, &mut problems);
        assert_ne!(problems[0].message, english);
        assert!(problems[0].message.contains("„same“"), "{problems:?}");
    }

    #[test]
    fn regex_errors_are_worded_with_the_librarys_diagnosis() {
        let e = course::grading::compile_answer_regex("(").unwrap_err();
        assert_eq!(regex_error(Locale::en, &e), e);
        let de = regex_error(Locale::de, &e);
        assert!(
            de.starts_with(
                "Das Muster ist kein gültiger regulärer Ausdruck (laut der Regex-Bibliothek: "
            ),
            "{de}"
        );
        let long = course::grading::compile_answer_regex(&"a".repeat(1_001)).unwrap_err();
        assert_eq!(regex_error(Locale::en, &long), long);
        assert_eq!(
            regex_error(Locale::de, &long),
            "Das Muster ist zu lang (1001 Zeichen; höchstens 1000)."
        );
    }
}
