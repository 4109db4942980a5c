//! Validation of a course before it can be published (shared by server and
//! browser, so the editor can show the same list while the author types).
//!
//! [`validate_course`] returns every problem at once, each with a `path` into
//! the course (`modules[0].quiz.questions[2].options[1].text`) and a message
//! written for the author. Publishing is refused while the list is non-empty.
//!
//! **In the author's words.** Authors never see a path: [`in_authors_words`]
//! turns a problem into "Module 1 “Basics” › Quiz › Question 2: the question
//! has no text." (the items as the editor's outline names them), and
//! [`place_of`] tells the editor which item to open. This is the one place
//! the wording is made: the editor lists problems with it and the server's
//! refusal to publish quotes it.
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
    /// What is wrong and how to fix it, in English.
    pub message: String,
    /// Which problem it is (`question_no_text`), for the app's words in
    /// other languages (`app::authoring::problems`); empty for problems
    /// made elsewhere (the importers' own).
    #[serde(default)]
    pub code: String,
    /// The values the message names, in order (a count, a number, an id,
    /// the path of an item named, the regex error): `{0}`, `{1}`… of the
    /// translated message.
    #[serde(default)]
    pub args: Vec<String>,
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
        v.say("title", "course_no_title", [], "The course needs a title.");
    }
    let s = &content.settings;
    if s.pass_mark_percent > 100 {
        v.say(
            "settings.pass_mark_percent",
            "pass_mark_range",
            [s.pass_mark_percent.to_string()],
            format!(
                "The pass mark is {} %; it must be between 0 and 100.",
                s.pass_mark_percent
            ),
        );
    }
    if s.attempt_limit == Some(0) {
        v.say(
            "settings.attempt_limit",
            "attempt_limit_zero",
            [],
            "The attempt limit must be at least 1 (leave it empty for unlimited attempts).",
        );
    }
    if s.time_limit_secs == Some(0) {
        v.say(
            "settings.time_limit_secs",
            "time_limit_zero",
            [],
            "The time limit must be at least 1 second (leave it empty for no limit).",
        );
    }
    if s.certificate_validity_days == Some(0) {
        v.say(
            "settings.certificate_validity_days",
            "certificate_days_zero",
            [],
            "Certificates must stay valid for at least 1 day (leave it empty for no expiry).",
        );
    }
    if content.modules.is_empty() {
        v.say(
            "modules",
            "no_modules",
            [],
            "The course has no modules; add a module with a lesson or a quiz.",
        );
    }

    let named = |path: &str| place_words(content, place_of(path));
    let mut module_ids = Ids::new("module", &named);
    let mut lesson_ids = Ids::new("lesson", &named);
    let mut question_ids = Ids::new("question", &named);
    for (mi, module) in content.modules.iter().enumerate() {
        let mp = format!("modules[{mi}]");
        module_ids.check(&mut v, &module.id, &format!("{mp}.id"));
        if is_blank(&module.title) {
            v.say(
                format!("{mp}.title"),
                "module_no_title",
                [],
                "The module needs a title.",
            );
        }
        if module.lessons.is_empty() && module.quiz.is_none() {
            v.say(
                mp.clone(),
                "module_empty",
                [],
                "The module is empty; add a lesson or a quiz.",
            );
        }
        for (li, lesson) in module.lessons.iter().enumerate() {
            let lp = format!("{mp}.lessons[{li}]");
            lesson_ids.check(&mut v, &lesson.id, &format!("{lp}.id"));
            if is_blank(&lesson.title) {
                v.say(
                    format!("{lp}.title"),
                    "lesson_no_title",
                    [],
                    "The lesson needs a title.",
                );
            }
        }
        if let Some(quiz) = &module.quiz {
            let qzp = format!("{mp}.quiz");
            if quiz.questions.is_empty() {
                v.say(
                    format!("{qzp}.questions"),
                    "quiz_no_questions",
                    [],
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
        v.say(at("id"), "question_no_id", [], "The question has no id.");
    }
    if is_blank(&q.prompt_md) {
        v.say(
            at("prompt_md"),
            "question_no_text",
            [],
            "The question has no text.",
        );
    }
    if !(q.points.is_finite() && q.points > 0.0) {
        v.say(
            at("points"),
            "points_positive",
            [],
            "Points must be a number greater than 0.",
        );
    }
    match &q.kind {
        QuestionKind::SingleChoice { options } => {
            check_options(&mut v, path, options);
            match options.iter().filter(|o| o.correct).count() {
                1 => {}
                0 => v.say(
                    at("options"),
                    "single_none_correct",
                    [],
                    "Mark the correct option: a single-choice question needs exactly one.",
                ),
                n => v.say(
                    at("options"),
                    "single_many_correct",
                    [n.to_string()],
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
                v.say(
                    at("options"),
                    "multiple_none_correct",
                    [],
                    "Mark at least one option as correct.",
                );
            }
        }
        QuestionKind::TrueFalse { .. } => {}
        QuestionKind::ShortText { accepted } => {
            if accepted.is_empty() {
                v.say(
                    at("accepted"),
                    "no_accepted",
                    [],
                    "Add at least one accepted answer.",
                );
            }
            for (i, answer) in accepted.iter().enumerate() {
                let p = format!("{path}.accepted[{i}].text");
                if is_blank(&answer.text) {
                    let n = (i + 1).to_string();
                    let message = format!("Accepted answer {n} is empty.");
                    v.say(p, "accepted_empty", [n], message);
                } else if answer.mode == TextMatch::Regex {
                    if let Err(e) = regex_check(&answer.text) {
                        let n = (i + 1).to_string();
                        let message = format!("Accepted answer {n}: {e}");
                        v.say(p, "accepted_regex", [n, e], message);
                    }
                }
            }
        }
        QuestionKind::Numeric { answer, tolerance } => {
            if !answer.is_finite() {
                v.say(
                    at("answer"),
                    "answer_finite",
                    [],
                    "The answer must be a finite number.",
                );
            }
            if !(tolerance.is_finite() && *tolerance >= 0.0) {
                v.say(
                    at("tolerance"),
                    "tolerance_finite",
                    [],
                    "The tolerance must be a finite number of 0 or more.",
                );
            }
        }
        QuestionKind::Ordering { items } => {
            if items.len() < 2 {
                v.say(
                    at("items"),
                    "ordering_few",
                    [items.len().to_string()],
                    format!(
                        "An ordering question needs at least 2 items (it has {}).",
                        items.len()
                    ),
                );
            }
            let mut ids = Ids::new("item", &part_words);
            let mut texts = Texts::new("Item");
            for (i, item) in items.iter().enumerate() {
                ids.check(&mut v, &item.id, &format!("{path}.items[{i}].id"));
                texts.check(&mut v, &item.text, i, &format!("{path}.items[{i}].text"));
            }
        }
        QuestionKind::Matching { pairs } => {
            if pairs.len() < 2 {
                v.say(
                    at("pairs"),
                    "matching_few",
                    [pairs.len().to_string()],
                    format!(
                        "A matching question needs at least 2 pairs (it has {}).",
                        pairs.len()
                    ),
                );
            }
            let mut ids = Ids::new("pair", &part_words);
            let mut prompts = Texts::new("Prompt");
            for (i, pair) in pairs.iter().enumerate() {
                let pp = format!("{path}.pairs[{i}]");
                ids.check(&mut v, &pair.id, &format!("{pp}.id"));
                prompts.check(&mut v, &pair.prompt, i, &format!("{pp}.prompt"));
                if is_blank(&pair.answer) {
                    let n = (i + 1).to_string();
                    let message = format!("Pair {n} has no answer.");
                    v.say(format!("{pp}.answer"), "pair_no_answer", [n], message);
                }
            }
        }
    }
    v.0
}

fn check_options(v: &mut Problems, path: &str, options: &[ChoiceOption]) {
    if options.len() < 2 {
        v.say(
            format!("{path}.options"),
            "choice_few",
            [options.len().to_string()],
            format!(
                "A choice question needs at least 2 options (it has {}).",
                options.len()
            ),
        );
    }
    let mut ids = Ids::new("option", &part_words);
    let mut texts = Texts::new("Option");
    for (i, option) in options.iter().enumerate() {
        ids.check(v, &option.id, &format!("{path}.options[{i}].id"));
        texts.check(v, &option.text, i, &format!("{path}.options[{i}].text"));
    }
}

/// Which item of the course a problem is about: what the editor opens to
/// fix it (see [`place_of`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// The course itself: its title, its list of modules.
    Course,
    /// The course-wide settings (pass mark, attempts, certificate, …).
    Settings,
    /// Module `m` (0-based).
    Module(usize),
    /// Lesson `l` of module `m`.
    Lesson(usize, usize),
    /// The quiz of module `m`.
    Quiz(usize),
    /// Question `q` of module `m`'s quiz.
    Question(usize, usize),
}

/// Where a path of [`Problem::path`] points: `modules[1].quiz.questions[0].points`
/// is `Place::Question(1, 0)`. Paths this module does not make are the
/// course.
pub fn place_of(path: &str) -> Place {
    let mut segments = path.split('.');
    let first = segments.next().unwrap_or_default();
    if first == "settings" {
        return Place::Settings;
    }
    let Some(m) = indexed(first, "modules") else {
        return Place::Course;
    };
    let Some(second) = segments.next() else {
        return Place::Module(m);
    };
    if let Some(l) = indexed(second, "lessons") {
        return Place::Lesson(m, l);
    }
    if second != "quiz" {
        return Place::Module(m);
    }
    match segments.next().and_then(|s| indexed(s, "questions")) {
        Some(q) => Place::Question(m, q),
        None => Place::Quiz(m),
    }
}

/// `name[i]` → `i`.
fn indexed(segment: &str, name: &str) -> Option<usize> {
    segment
        .strip_prefix(name)?
        .strip_prefix('[')?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// The words places are named with, in one language (the app's locale
/// files hold the others, `app::authoring::problems`).
#[derive(Clone, Copy, Debug)]
pub struct PlaceWords<'a> {
    pub course: &'a str,
    pub settings: &'a str,
    pub module: &'a str,
    pub lesson: &'a str,
    pub quiz: &'a str,
    pub question: &'a str,
    /// The quotation marks around a title: “…” in English, „…“ in German.
    pub open_quote: &'a str,
    pub close_quote: &'a str,
}

/// English place words.
pub const ENGLISH_PLACES: PlaceWords<'static> = PlaceWords {
    course: "Course",
    settings: "Course settings",
    module: "Module",
    lesson: "Lesson",
    quiz: "Quiz",
    question: "Question",
    open_quote: "\u{201c}",
    close_quote: "\u{201d}",
};

/// A place as the editor's outline names it: "Course settings",
/// "Module 1 “Basics” › Lesson 2 “Intro”", "Module 2 › Quiz › Question 3"
/// (a title is left out while it is empty, and shortened when long).
pub fn place_words(content: &CourseContent, place: Place) -> String {
    place_words_in(content, place, &ENGLISH_PLACES)
}

/// [`place_words`] in the given words.
pub fn place_words_in(content: &CourseContent, place: Place, w: &PlaceWords<'_>) -> String {
    let module = |m: usize| {
        numbered(
            w,
            w.module,
            m,
            content.modules.get(m).map(|x| x.title.as_str()),
        )
    };
    match place {
        Place::Course => w.course.to_owned(),
        Place::Settings => w.settings.to_owned(),
        Place::Module(m) => module(m),
        Place::Lesson(m, l) => {
            let title = content
                .modules
                .get(m)
                .and_then(|x| x.lessons.get(l))
                .map(|x| x.title.as_str());
            format!("{} › {}", module(m), numbered(w, w.lesson, l, title))
        }
        Place::Quiz(m) => format!("{} › {}", module(m), w.quiz),
        Place::Question(m, q) => format!("{} › {} › {} {}", module(m), w.quiz, w.question, q + 1),
    }
}

/// The longest title shown in a place, in characters.
const TITLE_CHARS: usize = 40;

fn numbered(w: &PlaceWords<'_>, what: &str, index: usize, title: Option<&str>) -> String {
    let (open, close) = (w.open_quote, w.close_quote);
    let title = title.map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "));
    match title.filter(|t| !t.is_empty()) {
        Some(t) if t.chars().count() > TITLE_CHARS => {
            let short: String = t.chars().take(TITLE_CHARS - 1).collect();
            format!("{what} {} {open}{}…{close}", index + 1, short.trim_end())
        }
        Some(t) => format!("{what} {} {open}{t}{close}", index + 1),
        None => format!("{what} {}", index + 1),
    }
}

/// One problem as the author reads it: where (as [`place_words`]), then
/// what: "Module 1 “Basics” › Quiz › Question 2: the question has no text."
/// The editor's list and the server's refusal to publish both use it.
pub fn in_authors_words(content: &CourseContent, problem: &Problem) -> String {
    format!(
        "{}: {}",
        place_words(content, place_of(&problem.path)),
        lower_first(&problem.message)
    )
}

/// Why the server refuses to publish `content`, in the author's words;
/// `None` when there are no problems.
pub fn publish_refusal(content: &CourseContent, problems: &[Problem]) -> Option<String> {
    let first = problems.first()?;
    Some(match problems.len() {
        1 => format!(
            "Fix this before publishing: {}",
            in_authors_words(content, first)
        ),
        n => format!(
            "Fix {n} problems before publishing. The first: {}",
            in_authors_words(content, first)
        ),
    })
}

/// "The question has no text." → "the question has no text." (a leading
/// capital only; "CSV …" stays).
pub fn lower_first(message: &str) -> String {
    let mut chars = message.chars();
    match (chars.next(), chars.next()) {
        (Some(a), second) if a.is_uppercase() && !second.is_some_and(char::is_uppercase) => a
            .to_lowercase()
            .chain(message[a.len_utf8()..].chars())
            .collect(),
        _ => message.to_owned(),
    }
}

/// The part of a question a path ends in, for messages within one
/// question: `….options[2].id` → "option 3".
fn part_words(path: &str) -> String {
    match part_of(path) {
        Some((what, i)) => format!("{what} {}", i + 1),
        None => path.to_owned(),
    }
}

/// The part of a question a path ends in: `….options[2].id` →
/// `("option", 2)` (also "item", "pair", "accepted answer").
pub fn part_of(path: &str) -> Option<(&'static str, usize)> {
    path.rsplit('.').find_map(|segment| {
        [
            ("options", "option"),
            ("items", "item"),
            ("pairs", "pair"),
            ("accepted", "accepted answer"),
        ]
        .into_iter()
        .find_map(|(name, words)| indexed(segment, name).map(|i| (words, i)))
    })
}

#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    /// A problem at `path`: which one (`code`), the values it names, and
    /// its English message.
    fn say<const N: usize>(
        &mut self,
        path: impl Into<String>,
        code: impl Into<String>,
        args: [String; N],
        message: impl Into<String>,
    ) {
        self.0.push(Problem {
            path: path.into(),
            message: message.into(),
            code: code.into(),
            args: args.into(),
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

/// Empty and duplicate id detection within one scope; `named` says where
/// the first use of an id is, in the author's words.
struct Ids<'a, 'n> {
    what: &'static str,
    named: &'n dyn Fn(&str) -> String,
    seen: HashMap<&'a str, String>,
}

impl<'a, 'n> Ids<'a, 'n> {
    fn new(what: &'static str, named: &'n dyn Fn(&str) -> String) -> Self {
        Ids {
            what,
            named,
            seen: HashMap::new(),
        }
    }

    fn check(&mut self, v: &mut Problems, id: &'a str, path: &str) {
        if is_blank(id) {
            v.say(
                path,
                format!("{}_no_id", self.what),
                [],
                format!("The {} has no id.", self.what),
            );
        } else if let Some(first) = self.seen.get(id) {
            // The first user goes into the arguments as its path: each
            // language names it in its own words.
            v.say(
                path,
                format!("{}_id_dup", self.what),
                [id.to_owned(), first.clone()],
                format!(
                    "The {} id \"{id}\" is already used by {}; ids must be unique.",
                    self.what,
                    (self.named)(first)
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
        let code = what.to_lowercase();
        if is_blank(text) {
            v.say(
                path,
                format!("{code}_no_text"),
                [(index + 1).to_string()],
                format!("{what} {} has no text.", index + 1),
            );
            return;
        }
        let key = text_key(text);
        if let Some(first) = self.seen.get(&key) {
            v.say(
                path,
                format!("{code}_same_text"),
                [
                    (index + 1).to_string(),
                    (first + 1).to_string(),
                    text.trim().to_owned(),
                ],
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
            .contains("\"q1\" is already used by Module 1 “Module” › Quiz › Question 1;"));
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

    #[test]
    fn paths_name_the_item_the_editor_opens() {
        for (path, place) in [
            ("title", Place::Course),
            ("modules", Place::Course),
            ("settings.pass_mark_percent", Place::Settings),
            ("modules[2]", Place::Module(2)),
            ("modules[0].title", Place::Module(0)),
            ("modules[0].id", Place::Module(0)),
            ("modules[1].lessons[3].title", Place::Lesson(1, 3)),
            ("modules[0].quiz.questions", Place::Quiz(0)),
            (
                "modules[4].quiz.questions[12].options[1].text",
                Place::Question(4, 12),
            ),
            ("modules[x].title", Place::Course),
            ("", Place::Course),
        ] {
            assert_eq!(place_of(path), place, "{path}");
        }
    }

    #[test]
    fn problems_read_in_the_authors_words() {
        let mut c = course(valid_questions());
        c.modules[0].title = "Basics".into();
        c.modules[0].lessons[0].title = "Intro".into();
        c.modules[0].quiz.as_mut().unwrap().questions[1].prompt_md = " ".into();
        c.settings.pass_mark_percent = 101;
        let words: Vec<String> = validate_course(&c)
            .iter()
            .map(|p| in_authors_words(&c, p))
            .collect();
        assert_eq!(
            words,
            vec![
                "Course settings: the pass mark is 101 %; it must be between 0 and 100.",
                "Module 1 “Basics” › Quiz › Question 2: the question has no text.",
            ]
        );
        assert_eq!(
            place_words(&c, Place::Lesson(0, 0)),
            "Module 1 “Basics” › Lesson 1 “Intro”"
        );
        assert_eq!(place_words(&c, Place::Quiz(0)), "Module 1 “Basics” › Quiz");
        // An untitled item is named by its number only; a long title is cut.
        c.modules[0].title = "  ".into();
        assert_eq!(place_words(&c, Place::Module(0)), "Module 1");
        c.modules[0].lessons[0].title =
            "A  very long lesson title that goes on and on and on".into();
        assert_eq!(
            place_words(&c, Place::Lesson(0, 0)),
            "Module 1 › Lesson 1 “A very long lesson title that goes on a…”"
        );
        // A place beyond the content (a stale path) still reads.
        assert_eq!(
            place_words(&c, Place::Question(7, 0)),
            "Module 8 › Quiz › Question 1"
        );
    }

    #[test]
    fn the_first_letter_of_a_message_is_lowered_unless_it_is_an_acronym() {
        assert_eq!(
            lower_first("The question has no text."),
            "the question has no text."
        );
        assert_eq!(
            lower_first("Option 2 has no text."),
            "option 2 has no text."
        );
        assert_eq!(lower_first("CSV is not allowed."), "CSV is not allowed.");
        assert_eq!(lower_first("Ärger"), "ärger");
        assert_eq!(
            lower_first("2 options are marked correct"),
            "2 options are marked correct"
        );
        assert_eq!(lower_first(""), "");
    }

    #[test]
    fn duplicate_ids_within_a_question_name_the_part() {
        let q = question(
            "q",
            QuestionKind::SingleChoice {
                options: vec![opt("a", "Yes", true), opt("a", "No", false)],
            },
        );
        let p = validate_question(&q, "", &default_regex_check);
        assert_eq!(
            p[0].message,
            "The option id \"a\" is already used by option 1; ids must be unique."
        );
    }

    #[test]
    fn the_server_refuses_to_publish_in_the_same_words() {
        let mut c = course(valid_questions());
        assert_eq!(publish_refusal(&c, &validate_course(&c)), None);
        c.modules[0].quiz.as_mut().unwrap().questions[1]
            .prompt_md
            .clear();
        assert_eq!(
            publish_refusal(&c, &validate_course(&c)).unwrap(),
            "Fix this before publishing: Module 1 “Module” › Quiz › Question 2: the question has no text."
        );
        c.title.clear();
        assert_eq!(
            publish_refusal(&c, &validate_course(&c)).unwrap(),
            "Fix 2 problems before publishing. The first: Course: the course needs a title."
        );
    }
}
