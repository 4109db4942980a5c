//! Aiken importer (server only): Moodle's simple multiple-choice format, read
//! into single-choice questions as a dry run ([`ImportReport`]).
//!
//! ```text
//! What is the correct answer to this question?
//! A. Is it this one?
//! B) Maybe this answer?
//! C. Possibly this one?
//! ANSWER: B
//! ```
//!
//! * The question text is every line before the first option (several lines
//!   are joined with newlines).
//! * An option is an upper-case letter, `.` or `)`, a space and its text.
//! * `ANSWER:` (any case) names the right option's letter and ends the
//!   question. Blank lines between questions are optional.
//!
//! Problems (each with its 1-based line): an option before any question
//! text, a letter used twice, a line that is neither an option nor `ANSWER:`
//! after the options began, an `ANSWER:` naming no option or with no
//! question, a question that never gets its `ANSWER:` line, and anything that
//! fails course validation (fewer than 2 options, duplicate option texts),
//! reported at the question's first line. After a problem inside a question,
//! reading resumes after its `ANSWER:` line or the next blank line. Each
//! question gets 1 point.

use super::{
    gift::import_seed,
    model::{ChoiceOption, IdGen, ImportProblem, ImportReport, Question, QuestionKind},
    validate::{default_regex_check, validate_question},
};

/// Parses Aiken text. Ids are fresh per call; use [`parse_aiken_seeded`]
/// for reproducible ids.
pub fn parse_aiken(text: &str) -> ImportReport {
    parse_aiken_seeded(text, import_seed(text))
}

struct Pending {
    start_line: usize,
    text: Vec<String>,
    /// (letter, text)
    options: Vec<(char, String)>,
    blank_after_options: bool,
}

/// `A. text` / `B) text` → (letter, text).
fn option_line(line: &str) -> Option<(char, &str)> {
    let mut chars = line.chars();
    let letter = chars.next().filter(char::is_ascii_uppercase)?;
    let punct = chars.next().filter(|c| matches!(c, '.' | ')'))?;
    let rest = &line[letter.len_utf8() + punct.len_utf8()..];
    if rest.is_empty() {
        return Some((letter, ""));
    }
    rest.starts_with(char::is_whitespace)
        .then(|| (letter, rest.trim()))
}

/// `ANSWER: X` → the text after the colon.
fn answer_line(line: &str) -> Option<&str> {
    let head = line.get(..6)?;
    if !head.eq_ignore_ascii_case("ANSWER") {
        return None;
    }
    line[6..].trim_start().strip_prefix(':').map(str::trim)
}

/// Parses Aiken text with ids drawn from `id_seed`.
pub fn parse_aiken_seeded(text: &str, id_seed: u64) -> ImportReport {
    let mut ids = IdGen::new(id_seed);
    let mut report = ImportReport::default();
    let mut pending: Option<Pending> = None;
    // After a problem inside a question: skip to its ANSWER line or a blank line.
    let mut skipping = false;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut problem = |line: usize, code: &str, args: Vec<String>, message: String| {
        report
            .problems
            .push(ImportProblem::new(line, code, args, message));
    };
    let mut finished: Vec<(usize, Question)> = Vec::new();

    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() {
            skipping = false;
            if let Some(p) = pending.as_mut() {
                if !p.options.is_empty() {
                    p.blank_after_options = true;
                }
            }
            continue;
        }
        if skipping {
            if answer_line(line).is_some() {
                skipping = false;
            }
            continue;
        }
        if let Some(answer) = answer_line(line) {
            let Some(p) = pending.take() else {
                problem(
                    n,
                    "aiken_answer_first",
                    vec![],
                    "'ANSWER:' without a question before it.".into(),
                );
                continue;
            };
            if p.options.is_empty() {
                problem(
                    p.start_line,
                    "aiken_no_options",
                    vec![],
                    "The question has no options (lines like 'A. text').".into(),
                );
                continue;
            }
            let letters: String = p.options.iter().map(|(l, _)| *l).collect();
            let mut chars = answer.chars();
            let letter = match (chars.next(), chars.next()) {
                (Some(c), None) => Some(c.to_ascii_uppercase()),
                _ => None,
            };
            let Some(correct) = letter.and_then(|l| p.options.iter().position(|(x, _)| *x == l))
            else {
                if answer.is_empty() {
                    problem(
                        n,
                        "aiken_answer_empty",
                        vec![],
                        "'ANSWER:' needs the letter of the right option.".to_string(),
                    );
                } else {
                    problem(
                        n,
                        "aiken_answer_unknown",
                        vec![answer.to_owned(), letters.clone()],
                        format!("'ANSWER: {answer}' does not name one of the options ({letters})."),
                    );
                }
                continue;
            };
            let options = p
                .options
                .iter()
                .enumerate()
                .map(|(k, (_, t))| ChoiceOption {
                    id: ids.next_id(),
                    text: t.clone(),
                    correct: k == correct,
                    feedback: String::new(),
                })
                .collect();
            finished.push((
                p.start_line,
                Question {
                    id: ids.next_id(),
                    kind: QuestionKind::SingleChoice { options },
                    prompt_md: p.text.join("\n"),
                    points: 1.0,
                    feedback_correct_md: String::new(),
                    feedback_incorrect_md: String::new(),
                },
            ));
            continue;
        }
        if let Some((letter, option)) = option_line(line) {
            let Some(p) = pending.as_mut() else {
                problem(
                    n,
                    "aiken_option_first",
                    vec![letter.to_string()],
                    format!("Option {letter} comes before any question text."),
                );
                skipping = true;
                continue;
            };
            if p.blank_after_options {
                // Options may be separated by blank lines; that is fine.
                p.blank_after_options = false;
            }
            if p.options.iter().any(|(l, _)| *l == letter) {
                problem(
                    n,
                    "aiken_letter_twice",
                    vec![letter.to_string()],
                    format!("Option letter {letter} is used twice."),
                );
                pending = None;
                skipping = true;
                continue;
            }
            if option.is_empty() {
                problem(
                    n,
                    "aiken_option_empty",
                    vec![letter.to_string()],
                    format!("Option {letter} has no text."),
                );
                pending = None;
                skipping = true;
                continue;
            }
            p.options.push((letter, option.to_string()));
            continue;
        }
        // A text line.
        match pending.as_mut() {
            None => {
                pending = Some(Pending {
                    start_line: n,
                    text: vec![line.to_string()],
                    options: Vec::new(),
                    blank_after_options: false,
                });
            }
            Some(p) if p.options.is_empty() => p.text.push(line.to_string()),
            Some(p) if p.blank_after_options => {
                // The previous question ended without ANSWER; this starts the next.
                problem(
                    p.start_line,
                    "aiken_no_answer",
                    vec![],
                    "The question has no 'ANSWER:' line.".into(),
                );
                pending = Some(Pending {
                    start_line: n,
                    text: vec![line.to_string()],
                    options: Vec::new(),
                    blank_after_options: false,
                });
            }
            Some(_) => {
                problem(
                    n,
                    "aiken_expected_option",
                    vec![],
                    "Expected an option like 'C. text' or the 'ANSWER: X' line.".into(),
                );
                pending = None;
                skipping = true;
            }
        }
    }
    if let Some(p) = pending {
        problem(
            p.start_line,
            "aiken_no_answer",
            vec![],
            "The question has no 'ANSWER:' line.".into(),
        );
    }

    for (line, question) in finished {
        let problems = validate_question(&question, "", &default_regex_check);
        if problems.is_empty() {
            report.questions.push(question);
        } else {
            report.problems.extend(
                problems
                    .into_iter()
                    .map(|p| ImportProblem::from_validation(line, p)),
            );
        }
    }
    report.problems.sort_by_key(|p| p.line);
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(r: &ImportReport) -> Vec<usize> {
        r.problems.iter().map(|p| p.line).collect()
    }

    #[test]
    fn standard_question() {
        let r = parse_aiken_seeded(
            "What is the correct answer to this question?\nA. Is it this one?\nB) Maybe this answer?\nC. Possibly this one?\nD. Must be this one!\nANSWER: D\n",
            1,
        );
        assert_eq!(r.problems, vec![]);
        let q = &r.questions[0];
        assert_eq!(q.prompt_md, "What is the correct answer to this question?");
        let QuestionKind::SingleChoice { options } = &q.kind else {
            panic!()
        };
        assert_eq!(options.len(), 4);
        assert_eq!(options[1].text, "Maybe this answer?");
        assert_eq!(
            options.iter().map(|o| o.correct).collect::<Vec<_>>(),
            [false, false, false, true]
        );
    }

    #[test]
    fn questions_without_blank_lines_and_multiline_text() {
        let r = parse_aiken_seeded(
            "First line\nsecond line\nA. x\nB. y\nANSWER: a\nNext?\nA. 1\nB. 2\nANSWER: B",
            1,
        );
        assert_eq!(r.problems, vec![]);
        assert_eq!(r.questions.len(), 2);
        assert_eq!(r.questions[0].prompt_md, "First line\nsecond line");
    }

    #[test]
    fn problems_have_lines_and_reading_resumes() {
        let src = "A. orphan option\n\
                   \n\
                   Q1\n\
                   A. a\n\
                   B. b\n\
                   ANSWER: E\n\
                   \n\
                   Q2\n\
                   A. a\n\
                   this line is wrong\n\
                   B. b\n\
                   ANSWER: A\n\
                   \n\
                   Q3\n\
                   A. same\n\
                   B. Same\n\
                   ANSWER: A\n\
                   ANSWER: B\n\
                   Q4 ok\n\
                   A. yes\n\
                   B. no\n\
                   ANSWER: A\n\
                   Q5 never answered\n\
                   A. x\n";
        let r = parse_aiken_seeded(src, 1);
        assert_eq!(lines(&r), vec![1, 6, 10, 14, 18, 23], "{:#?}", r.problems);
        assert_eq!(r.questions.len(), 1);
        assert_eq!(r.questions[0].prompt_md, "Q4 ok");
        assert!(r.problems[1].message.contains("(AB)"));
    }

    #[test]
    fn garbage_never_panics() {
        for src in [
            "",
            "\n\n",
            "ANSWER:",
            "A.",
            "A)",
            "Q\nA.",
            "Q\nA. x\nANSWER: ",
            "Q\nANSWER: A",
            "ÄNSWER: A",
            "Q\nA. x\nA. y\nANSWER: A",
            "\u{feff}Q\nA. x\nB. y\nANSWER: B",
        ] {
            let _ = parse_aiken_seeded(src, 0);
        }
    }
}
