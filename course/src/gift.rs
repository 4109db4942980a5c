//! GIFT importer (server only): Moodle's plain-text question format, read
//! into our question types as a dry run ([`ImportReport`]).
//!
//! Every question is read; every problem is reported with its 1-based line
//! number; nothing panics. A question with any problem is left out of
//! `questions`. Each question gets 1 point (GIFT has no points).
//!
//! # Supported (GIFT → Smart Courses)
//!
//! | GIFT | becomes |
//! |---|---|
//! | `{=right ~wrong ~wrong}` | single choice |
//! | `{~%50%a ~%50%b ~%-100%c}` (no `=`) | multiple choice, partial credit; any negative weight turns on negative marking |
//! | `{T}` `{TRUE}` `{F}` `{FALSE}` (`{T#if wrong#if right}`) | true/false |
//! | `{=a =b}` | short text, case-insensitive (as GIFT short answers are) |
//! | `{#3.14:0.01}` `{#1..5}` `{#42}` `{#=3.14:0.01}` | numeric (a range becomes its midpoint ± half-width) |
//! | `{=a -> 1 =b -> 2}` | matching |
//!
//! Also: `::title::` (read and dropped — questions have no title field),
//! `//` comment lines, `$CATEGORY:` lines (ignored), escapes `\~ \= \# \{ \}
//! \:` plus `\n` (newline) and `\\`, per-answer feedback `#…` (choice
//! feedback per option; short-text/numeric feedback becomes the question's
//! "correct" feedback; true/false's two feedbacks become incorrect/correct
//! feedback), general feedback `####…` (added to both the correct and the
//! incorrect feedback), `[markdown]` `[html]` `[plain]` `[moodle]` format
//! markers (removed; the text is kept as it is — HTML is sanitised when
//! rendered), questions separated by blank lines. Feedback written on a
//! matching pair (`=a -> 1#…`) is dropped: matching has no per-pair feedback.
//!
//! # Reported as problems (not supported)
//!
//! * essay questions `{}` — they need manual grading;
//! * descriptions / text without an answer block;
//! * missing-word questions (text after the answer block) and more than one
//!   answer block (embedded answers / cloze);
//! * partial credit on a wrong answer of a single-answer question
//!   (`{=a ~%50%b}`), several `=` answers next to `~` answers;
//! * multiple answers whose right answers have different weights (we split
//!   the marks equally) or whose positive weights do not add up to 100 %;
//! * partial-credit short answers (`=%50%…`) and numeric answers (more than
//!   one numeric answer);
//! * matching distractors (an answer without a prompt) and `~` in matching;
//! * anything that fails course validation (duplicate options, < 2 options…).
//!
//! Negative weights are normalised: each wrong option picked costs
//! `points / number of wrong options` (see `grading`), whatever the
//! individual negative percentages were.

use super::{
    model::{
        hash64, ChoiceOption, IdGen, ImportProblem, ImportReport, Pair, Question, QuestionKind,
        TextAnswer, TextMatch,
    },
    validate::{default_regex_check, validate_question},
};

/// Parses GIFT text. Ids are fresh per call (seeded from the text and the
/// clock); use [`parse_gift_seeded`] for reproducible ids.
pub fn parse_gift(text: &str) -> ImportReport {
    parse_gift_seeded(text, import_seed(text))
}

/// A seed for import ids that differs between imports of the same file.
pub(crate) fn import_seed(text: &str) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    hash64(&[text]) ^ nanos
}

/// Parses GIFT text with ids drawn from `id_seed`.
pub fn parse_gift_seeded(text: &str, id_seed: u64) -> ImportReport {
    let mut ids = IdGen::new(id_seed);
    let mut report = ImportReport::default();
    for block in blocks(text) {
        let chars = lex(&block);
        if chars.iter().all(|c| c.ch.is_whitespace()) {
            continue;
        }
        match parse_block(&chars, &mut ids) {
            Ok(question) => {
                let problems = validate_question(&question, "", &default_regex_check);
                if problems.is_empty() {
                    report.questions.push(question);
                } else {
                    let line = block[0].0;
                    report.problems.extend(
                        problems
                            .into_iter()
                            .map(|p| ImportProblem::from_validation(line, p)),
                    );
                }
            }
            Err(problems) => report.problems.extend(problems),
        }
    }
    report.problems.sort_by_key(|p| p.line);
    report
}

/// Splits the text into questions: runs of non-blank lines, without comment
/// and `$CATEGORY:` lines. Each line keeps its 1-based number.
fn blocks(text: &str) -> Vec<Vec<(usize, &str)>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut current: Vec<(usize, &str)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        } else if !(trimmed.starts_with("//")
            || trimmed
                .get(..10)
                .is_some_and(|p| p.eq_ignore_ascii_case("$CATEGORY:")))
        {
            // Comments and category lines are skipped; the rest is question text.
            current.push((i + 1, line));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// One character of a question, with whether it was escaped and its line.
#[derive(Clone, Copy, Debug)]
struct C {
    ch: char,
    esc: bool,
    line: usize,
}

fn lex(block: &[(usize, &str)]) -> Vec<C> {
    let mut out = Vec::new();
    for (n, (line, text)) in block.iter().enumerate() {
        let line = *line;
        if n > 0 {
            out.push(C {
                ch: '\n',
                esc: false,
                line,
            });
        }
        let mut it = text.chars().peekable();
        while let Some(ch) = it.next() {
            if ch == '\\' {
                match it.peek().copied() {
                    Some(next @ ('~' | '=' | '#' | '{' | '}' | ':' | '\\')) => {
                        it.next();
                        out.push(C {
                            ch: next,
                            esc: true,
                            line,
                        });
                        continue;
                    }
                    Some('n') => {
                        it.next();
                        out.push(C {
                            ch: '\n',
                            esc: true,
                            line,
                        });
                        continue;
                    }
                    _ => {}
                }
            }
            out.push(C {
                ch,
                esc: false,
                line,
            });
        }
    }
    out
}

/// Index of the first unescaped `ch` at or after `from`.
fn find(cs: &[C], from: usize, ch: char) -> Option<usize> {
    (from..cs.len()).find(|&i| cs[i].ch == ch && !cs[i].esc)
}

/// Index of the first unescaped occurrence of `pat` at or after `from`.
fn find_str(cs: &[C], from: usize, pat: &str) -> Option<usize> {
    let p: Vec<char> = pat.chars().collect();
    (from..cs.len().saturating_sub(p.len() - 1)).find(|&i| {
        p.iter()
            .enumerate()
            .all(|(k, &ch)| cs[i + k].ch == ch && !cs[i + k].esc)
    })
}

fn text(cs: &[C]) -> String {
    cs.iter()
        .map(|c| c.ch)
        .collect::<String>()
        .trim()
        .to_string()
}

fn is_blank(cs: &[C]) -> bool {
    cs.iter().all(|c| c.ch.is_whitespace())
}

/// Line of the first non-blank character, or of the first character.
fn line_of(cs: &[C], fallback: usize) -> usize {
    cs.iter()
        .find(|c| !c.ch.is_whitespace())
        .or(cs.first())
        .map_or(fallback, |c| c.line)
}

fn skip_ws(cs: &[C], mut i: usize) -> usize {
    while i < cs.len() && cs[i].ch.is_whitespace() {
        i += 1;
    }
    i
}

/// A problem at `line`: its code and values (for the app's words in other
/// languages) and its English message.
fn problem(
    line: usize,
    code: &str,
    args: Vec<String>,
    message: impl Into<String>,
) -> ImportProblem {
    ImportProblem::new(line, code, args, message)
}

/// An answer inside `{ }`: `=` or `~`, an optional `%weight%`, the text, an
/// optional `#feedback`.
struct Answer<'a> {
    marker: char,
    weight: Option<f64>,
    body: &'a [C],
    feedback: String,
    line: usize,
}

fn split_answers<'a>(cs: &'a [C], problems: &mut Vec<ImportProblem>) -> Vec<Answer<'a>> {
    let marks: Vec<usize> = (0..cs.len())
        .filter(|&i| !cs[i].esc && matches!(cs[i].ch, '=' | '~'))
        .collect();
    let first = marks.first().copied().unwrap_or(cs.len());
    if !is_blank(&cs[..first]) {
        problems.push(problem(
            line_of(&cs[..first], 0),
            "gift_text_before",
            vec![],
            "Unexpected text before the first answer; each answer starts with '=' (right) or \
             '~' (wrong). Escape a literal '=' or '~' as '\\=' or '\\~'.",
        ));
    }
    let mut out = Vec::new();
    for (k, &start) in marks.iter().enumerate() {
        let end = marks.get(k + 1).copied().unwrap_or(cs.len());
        let line = cs[start].line;
        let mut i = skip_ws(cs, start + 1);
        let mut weight = None;
        if i < cs.len() && i < end && cs[i].ch == '%' && !cs[i].esc {
            match find(cs, i + 1, '%').filter(|&j| j < end) {
                Some(j) => {
                    let raw = text(&cs[i + 1..j]);
                    match raw.parse::<f64>() {
                        Ok(w) if w.is_finite() && (-100.0..=100.0).contains(&w) => weight = Some(w),
                        _ => problems.push(problem(
                            line,
                            "gift_bad_weight",
                            vec![raw.clone()],
                            format!(
                                "Invalid answer weight '%{raw}%': use a percentage between \
                                 -100 and 100."
                            ),
                        )),
                    }
                    i = j + 1;
                }
                None => {
                    problems.push(problem(
                        line,
                        "gift_weight_unclosed",
                        vec![],
                        "The answer weight is missing its closing '%'.",
                    ));
                }
            }
        }
        let (body, feedback) = match find(cs, i, '#').filter(|&h| h < end) {
            Some(h) => (&cs[i..h], text(&cs[h + 1..end])),
            None => (&cs[i.min(end)..end], String::new()),
        };
        out.push(Answer {
            marker: cs[start].ch,
            weight,
            body,
            feedback,
            line,
        });
    }
    out
}

fn parse_block(cs: &[C], ids: &mut IdGen) -> Result<Question, Vec<ImportProblem>> {
    let first_line = line_of(cs, 1);
    let mut problems = Vec::new();
    let mut start = skip_ws(cs, 0);

    // ::title::
    if find_str(cs, start, "::") == Some(start) {
        match find_str(cs, start + 2, "::") {
            Some(end) => start = end + 2,
            None => {
                return Err(vec![problem(
                    first_line,
                    "gift_title_unclosed",
                    vec![],
                    "The question title is not closed: write it as ::title::.",
                )])
            }
        }
    }

    // The answer block.
    let Some(open) = find(cs, start, '{') else {
        return Err(vec![problem(
            first_line,
            "gift_no_block",
            vec![],
            "No answer block: a question needs its answers in { }. Descriptions without a \
             question are not supported.",
        )]);
    };
    let brace_line = cs[open].line;
    let Some(close) = find(cs, open + 1, '}') else {
        return Err(vec![problem(
            brace_line,
            "gift_block_unclosed",
            vec![],
            "The answer block is not closed: add '}' after the answers.",
        )]);
    };
    if let Some(inner) = find(cs, open + 1, '{').filter(|&i| i < close) {
        return Err(vec![problem(
            cs[inner].line,
            "gift_brace_inside",
            vec![],
            "Unexpected '{' inside the answers: write '\\{' for a literal brace, or close the \
             previous block.",
        )]);
    }
    let after = &cs[close + 1..];
    if let Some(again) = find(after, 0, '{') {
        problems.push(problem(
            after[again].line,
            "gift_two_blocks",
            vec![],
            "Only one answer block per question is supported (embedded answers are not).",
        ));
    } else if !is_blank(after) {
        problems.push(problem(
            brace_line,
            "gift_missing_word",
            vec![],
            "Missing-word questions (text after the answer block) are not supported: move the \
             answers to the end of the question.",
        ));
    }

    // Question text, without a format marker.
    let mut prompt = text(&cs[start..open]);
    for marker in ["[markdown]", "[html]", "[plain]", "[moodle]"] {
        if prompt
            .get(..marker.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(marker))
        {
            prompt = prompt[marker.len()..].trim().to_string();
            break;
        }
    }
    if prompt.is_empty() {
        problems.push(problem(
            first_line,
            "gift_no_text",
            vec![],
            "The question has no text before its answers.",
        ));
    }

    // General feedback.
    let mut inner = &cs[open + 1..close];
    let mut general = String::new();
    if let Some(g) = find_str(inner, 0, "####") {
        general = text(&inner[g + 4..]);
        inner = &inner[..g];
    }

    let kind_and_feedback = if is_blank(inner) {
        problems.push(problem(
            brace_line,
            "gift_essay",
            vec![],
            "Essay questions ('{}') are not supported: they need manual grading.",
        ));
        None
    } else if cs_starts_with(inner, '#') {
        numeric(inner, brace_line, &mut problems)
    } else if let Some(tf) = true_false(inner) {
        Some(tf)
    } else if find_str(inner, 0, "->").is_some() {
        matching(inner, ids, &mut problems)
    } else {
        choice_or_short(inner, brace_line, ids, &mut problems)
    };

    if !problems.is_empty() {
        problems.sort_by_key(|p| p.line);
        return Err(problems);
    }
    let Some((kind, mut right, mut wrong)) = kind_and_feedback else {
        return Err(vec![problem(
            first_line,
            "gift_unreadable",
            vec![],
            "The question could not be read.",
        )]);
    };
    for fb in [&mut right, &mut wrong] {
        if !general.is_empty() {
            if !fb.is_empty() {
                fb.push_str("\n\n");
            }
            fb.push_str(&general);
        }
    }
    Ok(Question {
        id: ids.next_id(),
        kind,
        prompt_md: prompt,
        points: 1.0,
        feedback_correct_md: right,
        feedback_incorrect_md: wrong,
    })
}

fn cs_starts_with(cs: &[C], ch: char) -> bool {
    let i = skip_ws(cs, 0);
    i < cs.len() && cs[i].ch == ch && !cs[i].esc
}

/// A kind plus the question's correct and incorrect feedback.
type Parsed = (QuestionKind, String, String);

fn true_false(inner: &[C]) -> Option<Parsed> {
    let hash = find(inner, 0, '#').unwrap_or(inner.len());
    let answer = match text(&inner[..hash]).to_ascii_uppercase().as_str() {
        "T" | "TRUE" => true,
        "F" | "FALSE" => false,
        _ => return None,
    };
    // {T#shown when wrong#shown when right}
    let (wrong, right) = if hash < inner.len() {
        let rest = &inner[hash + 1..];
        match find(rest, 0, '#') {
            Some(h) => (text(&rest[..h]), text(&rest[h + 1..])),
            None => (text(rest), String::new()),
        }
    } else {
        (String::new(), String::new())
    };
    Some((QuestionKind::TrueFalse { answer }, right, wrong))
}

fn parse_number(raw: &str) -> Option<f64> {
    raw.trim().parse::<f64>().ok().filter(|x| x.is_finite())
}

/// Why a numeric answer cannot be read: code, value, English message.
type NumericProblem = (&'static str, String, String);

/// `3.14:0.01`, `1..5` or `42` → (answer, tolerance).
fn numeric_spec(raw: &str) -> Result<(f64, f64), NumericProblem> {
    let bad = || {
        (
            "gift_numeric_bad",
            raw.to_owned(),
            format!(
                "Invalid numeric answer '{raw}': write a number, 'number:tolerance' or 'min..max'."
            ),
        )
    };
    if let Some((lo, hi)) = raw.split_once("..") {
        let (lo, hi) = (
            parse_number(lo).ok_or_else(bad)?,
            parse_number(hi).ok_or_else(bad)?,
        );
        if hi < lo {
            return Err((
                "gift_numeric_range",
                raw.to_owned(),
                format!("Invalid numeric range '{raw}': the minimum is above the maximum."),
            ));
        }
        Ok(((lo + hi) / 2.0, (hi - lo) / 2.0))
    } else if let Some((answer, tolerance)) = raw.split_once(':') {
        let answer = parse_number(answer).ok_or_else(bad)?;
        let tolerance = parse_number(tolerance).ok_or_else(bad)?;
        if tolerance < 0.0 {
            return Err((
                "gift_numeric_tolerance",
                raw.to_owned(),
                format!("Invalid numeric answer '{raw}': the tolerance cannot be negative."),
            ));
        }
        Ok((answer, tolerance))
    } else {
        Ok((parse_number(raw).ok_or_else(bad)?, 0.0))
    }
}

fn numeric(inner: &[C], brace_line: usize, problems: &mut Vec<ImportProblem>) -> Option<Parsed> {
    let hash = find(inner, 0, '#')?;
    let rest = &inner[hash + 1..];
    if is_blank(rest) {
        problems.push(problem(
            brace_line,
            "gift_numeric_missing",
            vec![],
            "The numeric answer is missing after '#'.",
        ));
        return None;
    }
    let before = problems.len();
    let (spec, feedback, line) = if cs_starts_with(rest, '=') || cs_starts_with(rest, '~') {
        let answers = split_answers(rest, problems);
        let mut chosen = None;
        for a in &answers {
            if a.marker == '~' {
                problems.push(problem(
                    a.line,
                    "gift_numeric_tilde",
                    vec![],
                    "Numeric answers start with '='; '~' is not allowed here.",
                ));
            } else if a.weight.is_some_and(|w| (w - 100.0).abs() > 1e-9) || chosen.is_some() {
                problems.push(problem(
                    a.line,
                    "gift_numeric_partial",
                    vec![],
                    "Only one fully right numeric answer is supported; partial-credit numeric \
                     answers are not.",
                ));
            } else {
                chosen = Some(a);
            }
        }
        let a = chosen?;
        (text(a.body), a.feedback.clone(), a.line)
    } else {
        let (body, feedback) = match find(rest, 0, '#') {
            Some(h) => (&rest[..h], text(&rest[h + 1..])),
            None => (rest, String::new()),
        };
        (text(body), feedback, line_of(body, brace_line))
    };
    if problems.len() > before {
        return None;
    }
    match numeric_spec(&spec) {
        Ok((answer, tolerance)) => Some((
            QuestionKind::Numeric { answer, tolerance },
            feedback,
            String::new(),
        )),
        Err((code, raw, message)) => {
            problems.push(problem(line, code, vec![raw], message));
            None
        }
    }
}

fn matching(inner: &[C], ids: &mut IdGen, problems: &mut Vec<ImportProblem>) -> Option<Parsed> {
    let before = problems.len();
    let mut pairs = Vec::new();
    for a in split_answers(inner, problems) {
        if a.marker == '~' {
            problems.push(problem(
                a.line,
                "gift_match_tilde",
                vec![],
                "Matching pairs start with '='; '~' is not allowed in a matching question.",
            ));
            continue;
        }
        let Some(arrow) = find_str(a.body, 0, "->") else {
            problems.push(problem(
                a.line,
                "gift_match_arrow",
                vec![],
                "This matching pair has no '->' between the prompt and its answer.",
            ));
            continue;
        };
        let prompt = text(&a.body[..arrow]);
        let answer = text(&a.body[arrow + 2..]);
        if prompt.is_empty() {
            problems.push(problem(
                a.line,
                "gift_match_distractor",
                vec![],
                "Matching answers without a prompt (distractors) are not supported.",
            ));
            continue;
        }
        pairs.push(Pair {
            id: ids.next_id(),
            prompt,
            answer,
        });
    }
    (problems.len() == before).then_some((
        QuestionKind::Matching { pairs },
        String::new(),
        String::new(),
    ))
}

fn choice_or_short(
    inner: &[C],
    brace_line: usize,
    ids: &mut IdGen,
    problems: &mut Vec<ImportProblem>,
) -> Option<Parsed> {
    let before = problems.len();
    let answers = split_answers(inner, problems);
    if answers.is_empty() {
        if problems.len() == before {
            problems.push(problem(
                brace_line,
                "gift_no_answers",
                vec![],
                "The answer block has no answers.",
            ));
        }
        return None;
    }
    let has_wrong = answers.iter().any(|a| a.marker == '~');
    let kind =
        if !has_wrong {
            // Short answer: every '=' is an accepted answer.
            let mut accepted = Vec::new();
            let mut feedback = String::new();
            for a in &answers {
                if a.weight.is_some_and(|w| (w - 100.0).abs() > 1e-9) {
                    problems.push(problem(
                    a.line, "gift_short_partial", vec![],
                    "Partial-credit short answers ('=%50%…') are not supported; every accepted \
                     answer is fully right.",
                ));
                }
                if feedback.is_empty() {
                    feedback.clone_from(&a.feedback);
                }
                accepted.push(TextAnswer {
                    text: text(a.body),
                    mode: TextMatch::CaseInsensitive,
                });
            }
            return (problems.len() == before).then_some((
                QuestionKind::ShortText { accepted },
                feedback,
                String::new(),
            ));
        } else {
            let rights: Vec<&Answer<'_>> = answers.iter().filter(|a| a.marker == '=').collect();
            let options: Vec<ChoiceOption>;
            if !rights.is_empty() {
                for extra in rights.iter().skip(1) {
                    problems.push(problem(
                        extra.line,
                        "gift_one_right",
                        vec![],
                        "Only one '=' answer is allowed next to '~' answers; for several right \
                     answers give every answer a weight, e.g. ~%50%.",
                    ));
                }
                for a in &answers {
                    match (a.marker, a.weight) {
                        ('=', Some(w)) if (w - 100.0).abs() > 1e-9 => problems.push(problem(
                            a.line,
                            "gift_right_100",
                            vec![],
                            "The right answer of a single-answer question must be worth 100%.",
                        )),
                        ('~', Some(w)) if w != 0.0 => problems.push(problem(
                            a.line,
                            "gift_wrong_partial",
                            vec![w.to_string()],
                            format!(
                                "Partial credit on a wrong answer ('~%{w}%') is not supported in \
                             a single-answer question; use weights on every answer for a \
                             multiple-answer question."
                            ),
                        )),
                        _ => {}
                    }
                }
                options = answers
                    .iter()
                    .map(|a| ChoiceOption {
                        id: ids.next_id(),
                        text: text(a.body),
                        correct: a.marker == '=',
                        feedback: a.feedback.clone(),
                    })
                    .collect();
                QuestionKind::SingleChoice { options }
            } else {
                // Multiple answers: positive weight = right.
                let positive: Vec<f64> = answers
                    .iter()
                    .filter_map(|a| a.weight.filter(|w| *w > 0.0))
                    .collect();
                let negative = answers.iter().any(|a| a.weight.is_some_and(|w| w < 0.0));
                if positive.is_empty() {
                    problems.push(problem(
                        brace_line,
                        "gift_no_right",
                        vec![],
                        "No right answer: mark it with '=' or, for several right answers, give \
                     them positive weights like ~%50%.",
                    ));
                } else {
                    let max = positive.iter().copied().fold(f64::MIN, f64::max);
                    let min = positive.iter().copied().fold(f64::MAX, f64::min);
                    let sum: f64 = positive.iter().sum();
                    if max - min > 1.0 {
                        let list = positive
                            .iter()
                            .map(|w| format!("{w}%"))
                            .collect::<Vec<_>>()
                            .join(", ");
                        problems.push(problem(
                            brace_line,
                            "gift_weights_differ",
                            vec![list.clone()],
                            format!(
                                "The right answers have different weights ({list}); Smart Courses \
                             splits the marks equally between right answers."
                            ),
                        ));
                    } else if (sum - 100.0).abs() > 1.0 {
                        problems.push(problem(
                            brace_line,
                            "gift_weights_sum",
                            vec![sum.to_string()],
                            format!("The positive weights add up to {sum}%, not 100%."),
                        ));
                    }
                }
                options = answers
                    .iter()
                    .map(|a| ChoiceOption {
                        id: ids.next_id(),
                        text: text(a.body),
                        correct: a.weight.is_some_and(|w| w > 0.0),
                        feedback: a.feedback.clone(),
                    })
                    .collect();
                QuestionKind::MultipleChoice {
                    options,
                    partial_credit: true,
                    negative_marking: negative,
                }
            }
        };
    (problems.len() == before).then_some((kind, String::new(), String::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(src: &str) -> Question {
        let r = parse_gift_seeded(src, 1);
        assert_eq!(r.problems, vec![], "{src}");
        assert_eq!(r.questions.len(), 1, "{src}");
        r.questions.into_iter().next().unwrap()
    }

    fn problems(src: &str) -> Vec<(usize, String)> {
        let r = parse_gift_seeded(src, 1);
        assert!(r.questions.is_empty(), "{src} → {:?}", r.questions);
        r.problems
            .into_iter()
            .map(|p| (p.line, p.message))
            .collect()
    }

    #[test]
    fn single_choice_with_title_feedback_and_escapes() {
        let q = one(
            "::Capital:: [markdown]What is the capital of **France**? {\n\
             =Paris#Right!\n\
             ~Lyon#No, that is a city \\= not the capital\n\
             ~Marseille \\{south\\}\n\
             ####Paris has been the capital since 987.\n}",
        );
        assert_eq!(q.prompt_md, "What is the capital of **France**?");
        let QuestionKind::SingleChoice { options } = &q.kind else {
            panic!("{:?}", q.kind)
        };
        assert_eq!(options.len(), 3);
        assert!(options[0].correct && !options[1].correct);
        assert_eq!(options[0].feedback, "Right!");
        assert_eq!(options[1].feedback, "No, that is a city = not the capital");
        assert_eq!(options[2].text, "Marseille {south}");
        assert_eq!(
            q.feedback_correct_md,
            "Paris has been the capital since 987."
        );
        assert_eq!(
            q.feedback_incorrect_md,
            "Paris has been the capital since 987."
        );
    }

    #[test]
    fn multiple_answers_with_weights() {
        let q = one("Pick the primes {~%50%2 ~%50%3 ~%-100%4}");
        let QuestionKind::MultipleChoice {
            options,
            partial_credit,
            negative_marking,
        } = &q.kind
        else {
            panic!("{:?}", q.kind)
        };
        assert!(*partial_credit && *negative_marking);
        assert_eq!(
            options
                .iter()
                .map(|o| (o.text.as_str(), o.correct))
                .collect::<Vec<_>>(),
            [("2", true), ("3", true), ("4", false)]
        );
        let thirds = one("Three {~%33.33333%a ~%33.33333%b ~%33.33333%c ~d}");
        assert!(matches!(
            thirds.kind,
            QuestionKind::MultipleChoice {
                negative_marking: false,
                ..
            }
        ));
    }

    #[test]
    fn true_false_variants_and_feedback_order() {
        for (src, answer) in [
            ("{T}", true),
            ("{TRUE}", true),
            ("{F}", false),
            ("{false}", false),
        ] {
            let q = one(&format!("Statement {src}"));
            assert_eq!(q.kind, QuestionKind::TrueFalse { answer });
        }
        let q = one("Grant is buried in Grant's tomb. {FALSE#No one is buried there.#Right.}");
        assert_eq!(q.feedback_incorrect_md, "No one is buried there.");
        assert_eq!(q.feedback_correct_md, "Right.");
    }

    #[test]
    fn short_answer_is_case_insensitive() {
        let q = one("Who's buried in Grant's tomb? {=Grant =Ulysses S. Grant#Yes}");
        let QuestionKind::ShortText { accepted } = &q.kind else {
            panic!()
        };
        assert_eq!(accepted.len(), 2);
        assert!(accepted
            .iter()
            .all(|a| a.mode == TextMatch::CaseInsensitive));
        assert_eq!(accepted[1].text, "Ulysses S. Grant");
        assert_eq!(q.feedback_correct_md, "Yes");
    }

    #[test]
    fn numeric_forms() {
        let n = |src: &str| match one(src).kind {
            QuestionKind::Numeric { answer, tolerance } => (answer, tolerance),
            k => panic!("{k:?}"),
        };
        assert_eq!(n("g? {#9.81:0.01}"), (9.81, 0.01));
        assert_eq!(n("Between? {#1..5}"), (3.0, 2.0));
        assert_eq!(n("Answer? {#42}"), (42.0, 0.0));
        assert_eq!(n("Neg? {#-2:0.5#Good}"), (-2.0, 0.5));
        assert_eq!(n("Multi? {#=1822:0 #Exactly}"), (1822.0, 0.0));
    }

    #[test]
    fn matching_pairs() {
        let q = one("Match {\n=cat -> feline\n=dog -> canine\n=cow -> bovine\n}");
        let QuestionKind::Matching { pairs } = &q.kind else {
            panic!()
        };
        assert_eq!(pairs.len(), 3);
        assert_eq!(
            (pairs[1].prompt.as_str(), pairs[1].answer.as_str()),
            ("dog", "canine")
        );
    }

    #[test]
    fn comments_categories_and_blank_lines() {
        let r = parse_gift_seeded(
            "// a comment\n$CATEGORY: tom/dick\n\nQ1 {T}\n// between\n\n\n  // indented\nQ2 {F}\n",
            3,
        );
        assert_eq!(r.problems, vec![]);
        assert_eq!(r.questions.len(), 2);
    }

    #[test]
    fn newline_escape_and_html_marker() {
        let q = one("[html]<b>Bold</b>\\nnext {T}");
        assert_eq!(q.prompt_md, "<b>Bold</b>\nnext");
    }

    #[test]
    fn unsupported_forms_are_problems_with_lines() {
        assert_eq!(
            problems("Write an essay. {}"),
            vec![(
                1,
                "Essay questions ('{}') are not supported: they need manual grading.".into()
            )]
        );
        assert_eq!(problems("Just a description.")[0].0, 1);
        let p = problems("Moodle costs {~lots =nothing} to download.");
        assert!(p[0].1.starts_with("Missing-word questions"), "{p:?}");
        let p = problems("line one\nline two {=a\n~b\n");
        assert_eq!(
            p,
            vec![(
                2,
                "The answer block is not closed: add '}' after the answers.".into()
            )]
        );
        let p = problems("Q {=a ~%50%b ~c}");
        assert!(
            p[0].1.starts_with("Partial credit on a wrong answer"),
            "{p:?}"
        );
        let p = problems("Q {~%70%a ~%30%b ~c}");
        assert!(p[0].1.contains("different weights (70%, 30%)"), "{p:?}");
        let p = problems("Q {~%50%a ~c}");
        assert!(p[0].1.contains("add up to 50%"), "{p:?}");
        let p = problems("Q {~a ~b}");
        assert!(p[0].1.starts_with("No right answer"), "{p:?}");
        let p = problems("Q {=a =%50%b}");
        assert!(p[0].1.starts_with("Partial-credit short answers"), "{p:?}");
        let p = problems("Q {#abc}");
        assert!(p[0].1.starts_with("Invalid numeric answer 'abc'"), "{p:?}");
        let p = problems("Q {#5..1}");
        assert!(p[0].1.contains("minimum is above the maximum"), "{p:?}");
        let p = problems("Q {#NaN}");
        assert!(p[0].1.starts_with("Invalid numeric answer"), "{p:?}");
        let p = problems("Q {=a -> 1 = -> 2 =c -> 3}");
        assert!(p[0].1.contains("distractors"), "{p:?}");
        let p = problems("::Unclosed title Q {T}");
        assert!(p[0].1.contains("title is not closed"), "{p:?}");
        let p = problems("Q {=a ~a}");
        assert!(p[0].1.contains("same text"), "validation applies: {p:?}");
        let p = problems("{T}");
        assert_eq!(p[0].1, "The question has no text before its answers.");
        let p = problems("Q {=a ~b} and {T}");
        assert!(p[0].1.starts_with("Only one answer block"), "{p:?}");
        let p = problems("Q {junk =a ~b}");
        assert!(
            p[0].1
                .starts_with("Unexpected text before the first answer"),
            "{p:?}"
        );
    }

    #[test]
    fn garbage_never_panics() {
        for src in [
            "{",
            "}",
            "{}",
            "::",
            "::::",
            "{#}",
            "{#:}",
            "{#..}",
            "{=}",
            "{~}",
            "{->}",
            "{=->}",
            "\\",
            "\\{",
            "Q {%",
            "Q {~%",
            "Q {~%%a}",
            "Q {=a#}",
            "Q {T#}",
            "Q {T##}",
            "####",
            "Q {####}",
            "Q {=%100%}",
            "\u{feff}Q {T}",
            "Q {#=}",
            "Q {#~1}",
            "é {=ü -> ö =ä -> ß}",
        ] {
            let _ = parse_gift_seeded(src, 0);
        }
    }

    #[test]
    fn ids_are_seeded() {
        let a = parse_gift_seeded("Q {=a ~b}", 5);
        let b = parse_gift_seeded("Q {=a ~b}", 5);
        assert_eq!(a, b);
        let c = parse_gift("Q {=a ~b}");
        assert_eq!(c.questions.len(), 1);
    }
}
