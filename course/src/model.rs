//! The course data model, shared by the server and the browser bundle.
//!
//! Everything here is plain data (serde, `Clone`, `Debug`, `PartialEq`) plus a
//! few pure helpers that need no dependency beyond `std`, so it compiles for
//! `wasm32-unknown-unknown` unchanged.
//!
//! # Shape of a course
//!
//! ```text
//! CourseContent
//! ├── title, description_md
//! ├── settings: CourseSettings          (pass mark, attempts, timer, shuffling, feedback, certificate)
//! └── modules: Vec<Module>
//!     ├── lessons: Vec<Lesson>          (Markdown bodies)
//!     └── quiz: Option<Quiz>            (at most one quiz per module, after its lessons)
//!         └── questions: Vec<Question>
//! ```
//!
//! **Quiz placement.** A quiz belongs to a module (`Module::quiz`), so a course
//! can check knowledge module by module, and a course with a single final quiz
//! is simply one whose last module has the quiz. A quiz is identified by its
//! module's id (there is at most one per module). The course-wide
//! [`CourseSettings`] (pass mark, attempt limit, time limit, shuffling,
//! feedback) apply to every quiz of the course; attempts are counted per quiz.
//!
//! **Completion** ([`course_progress`]): a course is complete when the learner
//! has opened every lesson *and* passed every quiz; a course without any quiz
//! is complete when every lesson was opened. A course with neither lessons nor
//! quizzes is never complete (and is refused by validation).
//!
//! # Ids
//!
//! Ids are opaque strings, unique within their scope (module and lesson ids
//! within the course, question ids within the course, option/item/pair ids
//! within their question); [`crate::validate`] checks this. Callers
//! may pass their own ids (a UUID on the server is fine) or use [`new_id`] /
//! [`IdGen`], which turn a caller-provided seed into a short random-looking id
//! using only integer arithmetic, so they behave identically in WASM and on
//! the server without a random-number dependency. Seed them with something
//! that differs per call site, e.g. the current time in milliseconds mixed
//! with a counter; they are *not* secret and not collision-proof against an
//! adversary — uniqueness is what validation enforces.
//!
//! Ids never carry correctness: the learner view ([`crate::learner`])
//! replaces option, item and answer ids with tokens derived from the visible
//! text, so even ids like `"a"`, `"b"`, `"c"` reveal nothing.

use serde::{Deserialize, Serialize};

/// The authored content of one course: what is exported, versioned and
/// published. Enrolment, attempts and progress live elsewhere.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CourseContent {
    pub title: String,
    /// Markdown, rendered on the server with [`crate::markdown`].
    #[serde(default)]
    pub description_md: String,
    #[serde(default)]
    pub modules: Vec<Module>,
    #[serde(default)]
    pub settings: CourseSettings,
}

/// A chapter of a course: lessons to read, then optionally a quiz.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Module {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub lessons: Vec<Lesson>,
    /// The module's knowledge check; its id is the module's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiz: Option<Quiz>,
}

/// One page of reading. "Opened" by a learner counts towards completion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lesson {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub body_md: String,
}

/// A module's quiz: an ordered list of questions. Pass mark, attempts, timer,
/// shuffling and feedback come from [`CourseSettings`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Quiz {
    #[serde(default)]
    pub questions: Vec<Question>,
}

/// One gradable question.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Question {
    pub id: String,
    pub kind: QuestionKind,
    /// The question text (Markdown).
    pub prompt_md: String,
    /// Marks for a fully correct answer; must be finite and > 0.
    #[serde(default = "default_points")]
    pub points: f64,
    /// Shown after a fully correct answer (Markdown; may be empty).
    #[serde(default)]
    pub feedback_correct_md: String,
    /// Shown after a partially correct or wrong answer (Markdown; may be empty).
    #[serde(default)]
    pub feedback_incorrect_md: String,
}

fn default_points() -> f64 {
    1.0
}

/// What kind of answer a question takes, with everything needed to grade it.
///
/// This is author/server data: it holds the correct answers. Learners get
/// [`crate::learner::LearnerQuestion`] instead.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QuestionKind {
    /// Exactly one option is correct; all-or-nothing.
    SingleChoice { options: Vec<ChoiceOption> },
    /// Any number (≥ 1) of options are correct; see `grading` for the scoring rule.
    MultipleChoice {
        options: Vec<ChoiceOption>,
        /// Credit per correct option chosen instead of all-or-nothing.
        #[serde(default)]
        partial_credit: bool,
        /// With `partial_credit`: each wrong option chosen costs `points / wrong options`.
        #[serde(default)]
        negative_marking: bool,
    },
    /// A statement that is true or false.
    TrueFalse { answer: bool },
    /// A typed answer compared with each accepted answer (any match is correct).
    ShortText { accepted: Vec<TextAnswer> },
    /// A number within `answer ± tolerance` (inclusive) is correct.
    Numeric { answer: f64, tolerance: f64 },
    /// Put the items in order; the correct order is the stored order.
    Ordering { items: Vec<Item> },
    /// Match each prompt with its answer.
    Matching { pairs: Vec<Pair> },
}

impl QuestionKind {
    /// A short, stable name of the kind (as in the JSON `type` tag).
    pub fn name(&self) -> &'static str {
        match self {
            QuestionKind::SingleChoice { .. } => "single_choice",
            QuestionKind::MultipleChoice { .. } => "multiple_choice",
            QuestionKind::TrueFalse { .. } => "true_false",
            QuestionKind::ShortText { .. } => "short_text",
            QuestionKind::Numeric { .. } => "numeric",
            QuestionKind::Ordering { .. } => "ordering",
            QuestionKind::Matching { .. } => "matching",
        }
    }
}

/// One option of a choice question.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChoiceOption {
    pub id: String,
    /// Plain text shown to the learner.
    pub text: String,
    pub correct: bool,
    /// Shown when the learner chose this option (Markdown; may be empty).
    #[serde(default)]
    pub feedback: String,
}

/// One accepted answer of a short-text question.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextAnswer {
    pub text: String,
    #[serde(default)]
    pub mode: TextMatch,
}

/// How a typed answer is compared with an accepted answer. Both sides are
/// first trimmed and every run of Unicode whitespace becomes one space.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextMatch {
    /// Character for character.
    Exact,
    /// After Unicode lower-casing of both sides (`str::to_lowercase`).
    #[default]
    CaseInsensitive,
    /// `text` is a regular expression that must match the *whole* answer.
    Regex,
}

/// One item of an ordering question.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    pub text: String,
}

/// One prompt → answer pair of a matching question.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    pub id: String,
    pub prompt: String,
    pub answer: String,
}

/// Course-wide rules for quizzes and certificates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CourseSettings {
    /// Percentage of the quiz's points needed to pass, 0..=100.
    pub pass_mark_percent: u8,
    /// Attempts allowed per quiz; `None` = unlimited.
    pub attempt_limit: Option<u32>,
    /// Time allowed per quiz attempt; `None` = no limit.
    pub time_limit_secs: Option<u32>,
    /// Present each attempt's questions in a different order.
    pub shuffle_questions: bool,
    /// Present single/multiple-choice options in a different order.
    pub shuffle_options: bool,
    /// When learners see correctness and feedback.
    pub feedback_mode: FeedbackMode,
    /// Certificates expire after this many days; `None` = never.
    pub certificate_validity_days: Option<u32>,
    /// Who may take the course (see [`AccessMode`]).
    pub access: AccessMode,
}

impl Default for CourseSettings {
    fn default() -> Self {
        CourseSettings {
            pass_mark_percent: 80,
            attempt_limit: None,
            time_limit_secs: None,
            shuffle_questions: false,
            shuffle_options: false,
            feedback_mode: FeedbackMode::default(),
            certificate_validity_days: None,
            access: AccessMode::default(),
        }
    }
}

/// Who may take a course. The author sets it in the editor; it takes
/// effect when the course is published; the server enforces it in every
/// learning function.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessMode {
    /// Anyone who can view the page.
    #[default]
    Open,
    /// Only learners a space admin enrolled (in person or through a group);
    /// others see the outline and are told to ask a space admin.
    EnrolledOnly,
    /// Anyone who can view the page, after clicking *Enrol*.
    SelfEnrol,
}

impl AccessMode {
    /// As the editor and the admin pages name it.
    pub fn label(self) -> &'static str {
        match self {
            AccessMode::Open => "Open to everyone who can view the page",
            AccessMode::EnrolledOnly => "Enrolled learners only",
            AccessMode::SelfEnrol => "Learners enrol themselves",
        }
    }

    /// Whether a learner must be enrolled to take the course.
    pub fn needs_enrolment(self) -> bool {
        !matches!(self, AccessMode::Open)
    }
}

/// When a learner sees whether an answer was right, and the feedback.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackMode {
    /// After each question is answered.
    Immediate,
    /// Once the whole attempt is submitted.
    #[default]
    AfterSubmit,
    /// Only the overall score and pass/fail.
    Never,
}

/// A learner's answer to one question.
///
/// Ids are the ones the learner view showed
/// ([`crate::learner::LearnerQuestion`]); grading resolves them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Response {
    /// Single or multiple choice: the chosen option ids.
    Choice(Vec<String>),
    /// True/false.
    Bool(bool),
    /// Short text, as typed.
    Text(String),
    /// Numeric (the UI parses the learner's input; JSON cannot carry NaN).
    Number(f64),
    /// Ordering: all item ids, first to last.
    Order(Vec<String>),
    /// Matching: `(prompt id, answer id)` pairs, the answer picked from the
    /// learner view's shuffled answer list (never free text).
    Match(Vec<(String, String)>),
}

/// The outcome of grading one response ([`crate::grading::grade`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Grade {
    /// Marks earned, `0.0..=max`.
    pub score: f64,
    /// The question's points (0 if the question's points are invalid).
    pub max: f64,
    pub correct: Correctness,
    /// Option feedback for the chosen options, then the question's correct
    /// feedback (when `Correct`) or incorrect feedback (when `Partial` or
    /// `Incorrect`); `None` when there is none. Whether the learner sees it
    /// is up to [`FeedbackMode`].
    pub feedback_md: Option<String>,
}

/// Whether an answer earned all, some or none of the marks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Correctness {
    Correct,
    Partial,
    Incorrect,
}

/// The total of one quiz attempt ([`crate::grading::score_attempt`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttemptScore {
    pub score: f64,
    pub max: f64,
    /// `100 * score / max`, 0 when `max` is 0.
    pub percent: f64,
    /// One grade per question, in the quiz's question order.
    pub grades: Vec<Grade>,
}

impl AttemptScore {
    /// Pass/fail against a pass mark in percent (inclusive: 80 % passes a
    /// pass mark of 80). A tiny tolerance absorbs floating-point noise such as
    /// 79.99999999999999 for 4 of 5 equal questions.
    pub fn passes(&self, pass_mark_percent: u8) -> bool {
        passes(self.percent, pass_mark_percent)
    }
}

/// `percent >= pass_mark_percent`, with a 1e-9 tolerance for float noise.
pub fn passes(percent: f64, pass_mark_percent: u8) -> bool {
    percent.is_finite() && percent + 1e-9 >= f64::from(pass_mark_percent)
}

/// One problem found by an importer (GIFT, Aiken): where and what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportProblem {
    /// 1-based line in the imported text.
    pub line: usize,
    /// What is wrong, in English (the server words it again in the
    /// caller's language before answering: `app::authoring::import_words`).
    pub message: String,
    /// Which problem it is (`gift_no_answers`; a `course::validate` code
    /// for a question that was read but is invalid), for the words in
    /// other languages. Not sent: the server words the message, so the
    /// editor's bundle decodes no codes.
    #[serde(skip)]
    pub code: String,
    /// The values the message names, in order (`{0}`, `{1}`…).
    #[serde(skip)]
    pub args: Vec<String>,
}

impl ImportProblem {
    pub fn new(line: usize, code: &str, args: Vec<String>, message: impl Into<String>) -> Self {
        Self {
            line,
            message: message.into(),
            code: code.to_owned(),
            args,
        }
    }

    /// A validation problem of an imported question, at `line`.
    pub fn from_validation(line: usize, p: crate::validate::Problem) -> Self {
        Self {
            line,
            message: p.message,
            code: p.code,
            args: p.args,
        }
    }
}

/// The result of parsing an import file without storing anything (a dry run).
///
/// `questions` holds every question that was read without problems; a
/// question with any problem is left out and each of its problems is in
/// `problems`, in line order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportReport {
    pub questions: Vec<Question>,
    pub problems: Vec<ImportProblem>,
}

impl ImportReport {
    /// True when the whole file can be imported as it is.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// How far a learner is through a course.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub lessons_total: usize,
    pub lessons_opened: usize,
    pub quizzes_total: usize,
    pub quizzes_passed: usize,
    /// Every lesson opened and every quiz passed (and there was something to do).
    pub complete: bool,
}

/// Applies the completion rule (see the module docs) to one learner.
///
/// `lesson_opened` is asked with lesson ids, `quiz_passed` with the ids of
/// modules that have a quiz.
pub fn course_progress(
    content: &CourseContent,
    lesson_opened: impl Fn(&str) -> bool,
    quiz_passed: impl Fn(&str) -> bool,
) -> Progress {
    let mut p = Progress {
        lessons_total: 0,
        lessons_opened: 0,
        quizzes_total: 0,
        quizzes_passed: 0,
        complete: false,
    };
    for module in &content.modules {
        for lesson in &module.lessons {
            p.lessons_total += 1;
            if lesson_opened(&lesson.id) {
                p.lessons_opened += 1;
            }
        }
        if module.quiz.is_some() {
            p.quizzes_total += 1;
            if quiz_passed(&module.id) {
                p.quizzes_passed += 1;
            }
        }
    }
    p.complete = p.lessons_total + p.quizzes_total > 0
        && p.lessons_opened == p.lessons_total
        && p.quizzes_passed == p.quizzes_total;
    p
}

// ---------------------------------------------------------------------------
// Ids and deterministic pseudo-randomness (no dependencies, same on WASM).
// ---------------------------------------------------------------------------

const ID_ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
/// Length of ids made by [`new_id`]: 36^12 ≈ 4.7·10^18 values.
pub const ID_LEN: usize = 12;

/// SplitMix64: a tiny, well-mixed 64-bit generator step.
pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a over bytes, finished with a SplitMix64 round for better mixing.
pub(crate) fn hash64(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            // 0xFF never occurs in UTF-8, so ("ab", "c") and ("a", "bc") differ.
            h ^= 0xff;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        for b in part.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    splitmix64(&mut h)
}

/// A short (12 characters, `[0-9a-z]`) random-looking id derived from `seed`.
///
/// Equal seeds give equal ids; nearby seeds give unrelated-looking ids.
pub fn new_id(seed: u64) -> String {
    let mut state = seed;
    let mut n = splitmix64(&mut state);
    let mut out = String::with_capacity(ID_LEN);
    for _ in 0..ID_LEN {
        out.push(char::from(ID_ALPHABET[(n % 36) as usize]));
        n /= 36;
    }
    out
}

/// A stream of ids from one seed: `IdGen::new(seed).next_id()`.
#[derive(Clone, Debug)]
pub struct IdGen {
    state: u64,
}

impl IdGen {
    pub fn new(seed: u64) -> Self {
        IdGen { state: seed }
    }

    /// The next id of the stream.
    pub fn next_id(&mut self) -> String {
        let seed = splitmix64(&mut self.state);
        new_id(seed)
    }
}

/// Fisher–Yates shuffle driven by SplitMix64 from `seed` (deterministic).
pub(crate) fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed;
    for i in (1..items.len()).rev() {
        // Multiply-shift maps a 64-bit value onto 0..=i without modulo bias worth noting.
        let r = splitmix64(&mut state);
        let j = ((u128::from(r) * (i as u128 + 1)) >> 64) as usize;
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_course() -> CourseContent {
        CourseContent {
            title: "Safety".into(),
            description_md: String::new(),
            modules: vec![
                Module {
                    id: "m1".into(),
                    title: "Basics".into(),
                    lessons: vec![
                        Lesson {
                            id: "l1".into(),
                            title: "One".into(),
                            body_md: "Hi".into(),
                        },
                        Lesson {
                            id: "l2".into(),
                            title: "Two".into(),
                            body_md: String::new(),
                        },
                    ],
                    quiz: None,
                },
                Module {
                    id: "m2".into(),
                    title: "Check".into(),
                    lessons: vec![],
                    quiz: Some(Quiz {
                        questions: vec![Question {
                            id: "q1".into(),
                            kind: QuestionKind::TrueFalse { answer: true },
                            prompt_md: "Sky is blue".into(),
                            points: 1.0,
                            feedback_correct_md: String::new(),
                            feedback_incorrect_md: String::new(),
                        }],
                    }),
                },
            ],
            settings: CourseSettings::default(),
        }
    }

    #[test]
    fn default_settings() {
        let s = CourseSettings::default();
        assert_eq!(s.pass_mark_percent, 80);
        assert_eq!(s.feedback_mode, FeedbackMode::AfterSubmit);
        // Missing fields in JSON fall back to the defaults.
        let parsed: CourseSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(parsed, s);
    }

    #[test]
    fn progress_requires_every_lesson_and_every_quiz() {
        let c = sample_course();
        let p = course_progress(&c, |id| id == "l1", |_| true);
        assert_eq!((p.lessons_opened, p.lessons_total), (1, 2));
        assert!(!p.complete);
        let p = course_progress(&c, |_| true, |_| false);
        assert_eq!((p.quizzes_passed, p.quizzes_total), (0, 1));
        assert!(!p.complete);
        let p = course_progress(&c, |_| true, |id| id == "m2");
        assert!(p.complete);
    }

    #[test]
    fn progress_without_quiz_is_lessons_only_and_empty_is_never_complete() {
        let mut c = sample_course();
        c.modules.truncate(1);
        assert!(course_progress(&c, |_| true, |_| false).complete);
        c.modules.clear();
        assert!(!course_progress(&c, |_| true, |_| true).complete);
    }

    #[test]
    fn ids_are_short_deterministic_and_distinct() {
        assert_eq!(new_id(42), new_id(42));
        assert_eq!(new_id(42).len(), ID_LEN);
        assert!(new_id(1).bytes().all(|b| ID_ALPHABET.contains(&b)));
        let mut g = IdGen::new(7);
        let ids: std::collections::HashSet<String> = (0..10_000).map(|_| g.next_id()).collect();
        assert_eq!(ids.len(), 10_000);
    }

    #[test]
    fn shuffle_is_a_deterministic_permutation() {
        let mut a: Vec<u32> = (0..20).collect();
        let mut b = a.clone();
        shuffle(&mut a, 99);
        shuffle(&mut b, 99);
        assert_eq!(a, b);
        assert_ne!(a, (0..20).collect::<Vec<_>>());
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..20).collect::<Vec<_>>());
    }

    #[test]
    fn json_shape_is_tagged_and_round_trips() {
        let c = sample_course();
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains(r#""type":"true_false""#));
        let back: CourseContent = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
        let r = Response::Match(vec![("p1".into(), "m123".into())]);
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, r#"{"type":"match","value":[["p1","m123"]]}"#);
        assert_eq!(serde_json::from_str::<Response>(&json).unwrap(), r);
    }
}
