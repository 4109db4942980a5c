//! Progress, completion and where to resume.
//!
//! Progress is measured on the **latest** published version: lessons opened
//! and quizzes passed in the current cycle, out of all lessons and quizzes.
//! When the learner has opened every lesson and passed every quiz, a
//! completion is recorded — once per cycle, against the latest version at
//! that moment; a later non-material version does not take it away.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::records::{Attempt, Completion};
use crate::model::{course_progress, CourseContent};

/// The learner's progress through the latest version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnerProgress {
    /// Opened lessons (ids, course order).
    pub opened_lessons: Vec<String>,
    /// Modules whose quiz is passed in the current cycle (ids, course order).
    pub passed_quizzes: Vec<String>,
    pub lessons_total: u32,
    pub quizzes_total: u32,
    /// Every lesson opened and every quiz passed (and there was something to do).
    pub complete: bool,
    /// (lessons opened + quizzes passed) / (lessons + quizzes), 0..=100, rounded down.
    pub percent: u8,
}

/// Progress on `content` given the opened lessons and passed quizzes.
pub fn progress(
    content: &CourseContent,
    opened: &HashSet<String>,
    passed: &HashSet<String>,
) -> LearnerProgress {
    let p = course_progress(content, |id| opened.contains(id), |id| passed.contains(id));
    let total = p.lessons_total + p.quizzes_total;
    let done = p.lessons_opened + p.quizzes_passed;
    let percent = (done * 100)
        .checked_div(total)
        .map_or(0, |p| p.min(100) as u8);
    LearnerProgress {
        opened_lessons: content
            .modules
            .iter()
            .flat_map(|m| &m.lessons)
            .filter(|les| opened.contains(&les.id))
            .map(|les| les.id.clone())
            .collect(),
        passed_quizzes: content
            .modules
            .iter()
            .filter(|m| m.quiz.is_some() && passed.contains(&m.id))
            .map(|m| m.id.clone())
            .collect(),
        lessons_total: p.lessons_total as u32,
        quizzes_total: p.quizzes_total as u32,
        complete: p.complete,
        percent,
    }
}

/// `(lessons, quizzes)` of a course version.
pub fn totals(c: &CourseContent) -> (u32, u32) {
    let lessons = c.modules.iter().map(|m| m.lessons.len()).sum::<usize>();
    let quizzes = c.modules.iter().filter(|m| m.quiz.is_some()).count();
    (lessons as u32, quizzes as u32)
}

/// The completion of the cycle starting at `cycle_start`: the first one.
pub fn current_completion(list: &[Completion], cycle_start: i64) -> Option<Completion> {
    list.iter()
        .filter(|c| c.version >= cycle_start)
        .min_by_key(|c| (c.completed_at, c.version))
        .cloned()
}

/// Whether a completion must be recorded now: complete, none yet this cycle.
pub fn completion_due(progress: &LearnerProgress, current: Option<&Completion>) -> bool {
    progress.complete && current.is_none()
}

/// Where "continue where you left off" goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResumePoint {
    /// An attempt in progress (start the quiz of `module_id` to resume it).
    Attempt {
        module_id: String,
        attempt_id: String,
    },
    /// The first lesson, in course order, not opened yet.
    Lesson {
        module_id: String,
        lesson_id: String,
    },
    /// The first quiz, in course order, not passed yet (all lessons before it opened).
    Quiz { module_id: String },
}

/// Where to continue: an open attempt (of a quiz the latest version still
/// has), else the first lesson not opened or quiz not passed, in course
/// order; `None` when there is nothing left to do.
pub fn resume_point<'a>(
    content: &CourseContent,
    open_attempts: impl IntoIterator<Item = &'a Attempt>,
    opened: &HashSet<String>,
    passed: &HashSet<String>,
) -> Option<ResumePoint> {
    let has_quiz = |module_id: &str| {
        content
            .modules
            .iter()
            .any(|m| m.id == module_id && m.quiz.is_some())
    };
    open_attempts
        .into_iter()
        .find(|a| has_quiz(&a.module_id))
        .map(|a| ResumePoint::Attempt {
            module_id: a.module_id.clone(),
            attempt_id: a.id.clone(),
        })
        .or_else(|| {
            content.modules.iter().find_map(|m| {
                m.lessons
                    .iter()
                    .find(|les| !opened.contains(&les.id))
                    .map(|les| ResumePoint::Lesson {
                        module_id: m.id.clone(),
                        lesson_id: les.id.clone(),
                    })
                    .or_else(|| {
                        (m.quiz.is_some() && !passed.contains(&m.id)).then(|| ResumePoint::Quiz {
                            module_id: m.id.clone(),
                        })
                    })
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learning::timing::tests::attempt;
    use crate::model::{Lesson, Module, Quiz};
    use proptest::prelude::*;

    fn course(shape: &[(usize, bool)]) -> CourseContent {
        CourseContent {
            title: "T".into(),
            description_md: String::new(),
            modules: shape
                .iter()
                .enumerate()
                .map(|(i, &(lessons, quiz))| Module {
                    id: format!("m{i}"),
                    title: format!("M{i}"),
                    lessons: (0..lessons)
                        .map(|j| Lesson {
                            id: format!("l{i}-{j}"),
                            title: "L".into(),
                            body_md: String::new(),
                        })
                        .collect(),
                    quiz: quiz.then(|| Quiz {
                        questions: Vec::new(),
                    }),
                })
                .collect(),
            settings: Default::default(),
        }
    }

    fn set(items: &[&str]) -> HashSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn progress_counts_lessons_and_quizzes_in_course_order() {
        let c = course(&[(2, true), (1, false)]);
        let p = progress(&c, &set(&["l1-0", "l0-1"]), &set(&[]));
        assert_eq!(p.opened_lessons, vec!["l0-1", "l1-0"]);
        assert_eq!((p.lessons_total, p.quizzes_total), (3, 1));
        assert_eq!(p.percent, 50);
        assert!(!p.complete);
        let done = progress(&c, &set(&["l0-0", "l0-1", "l1-0"]), &set(&["m0"]));
        assert!(done.complete);
        assert_eq!(done.percent, 100);
        let empty = progress(&course(&[]), &set(&[]), &set(&[]));
        assert!(!empty.complete, "nothing to do is not complete");
        assert_eq!(empty.percent, 0);
    }

    #[test]
    fn resume_prefers_an_open_attempt_then_the_first_thing_left() {
        let c = course(&[(1, true), (1, true)]);
        let mut open = attempt(0, None);
        open.module_id = "m1".into();
        open.id = "att".into();
        assert_eq!(
            resume_point(&c, [&open], &set(&[]), &set(&[])),
            Some(ResumePoint::Attempt {
                module_id: "m1".into(),
                attempt_id: "att".into()
            })
        );
        assert_eq!(
            resume_point(&c, [], &set(&["l0-0"]), &set(&[])),
            Some(ResumePoint::Quiz {
                module_id: "m0".into()
            })
        );
        assert_eq!(
            resume_point(&c, [], &set(&["l0-0"]), &set(&["m0"])),
            Some(ResumePoint::Lesson {
                module_id: "m1".into(),
                lesson_id: "l1-0".into()
            })
        );
        assert_eq!(
            resume_point(&c, [], &set(&["l0-0", "l1-0"]), &set(&["m0", "m1"])),
            None
        );
    }

    #[test]
    fn the_first_completion_of_the_cycle_is_the_current_one() {
        let list = [
            Completion {
                version: 1,
                completed_at: 10,
            },
            Completion {
                version: 3,
                completed_at: 30,
            },
            Completion {
                version: 4,
                completed_at: 20,
            },
        ];
        assert_eq!(
            current_completion(&list, 3),
            Some(Completion {
                version: 4,
                completed_at: 20
            })
        );
        assert_eq!(current_completion(&list, 5), None);
    }

    proptest! {
        #[test]
        fn percent_is_bounded_and_complete_means_100(
            shape in proptest::collection::vec((0usize..4, any::<bool>()), 0..5),
            opened_mask in any::<u64>(), passed_mask in any::<u64>(),
        ) {
            let c = course(&shape);
            let opened: HashSet<String> = c.modules.iter().flat_map(|m| &m.lessons).enumerate()
                .filter(|(i, _)| opened_mask >> (i % 64) & 1 == 1).map(|(_, l)| l.id.clone()).collect();
            let passed: HashSet<String> = c.modules.iter().enumerate()
                .filter(|(i, _)| passed_mask >> (i % 64) & 1 == 1).map(|(_, m)| m.id.clone()).collect();
            let p = progress(&c, &opened, &passed);
            prop_assert!(p.percent <= 100);
            prop_assert_eq!(p.complete, p.percent == 100 && p.lessons_total + p.quizzes_total > 0);
            prop_assert_eq!(p.complete, resume_point(&c, [], &opened, &passed).is_none() && p.lessons_total + p.quizzes_total > 0);
        }
    }
}
