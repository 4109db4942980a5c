//! One learner's standing on a course: the same computation for the
//! learner's own view, their certificate and the space admin's report.

use std::collections::HashSet;

use super::{
    cycle::{best_percent, in_cycle, passed_modules, recertification_due},
    progress::{current_completion, progress, LearnerProgress},
    records::{Attempt, Completion},
};
use crate::model::CourseContent;

/// Everything a learner did on a course.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Standing {
    /// Ids of the lessons opened (any version).
    pub opened: HashSet<String>,
    /// Every attempt, oldest first.
    pub attempts: Vec<Attempt>,
    /// Every completion, oldest version first.
    pub completions: Vec<Completion>,
}

/// What follows from a [`Standing`] on the latest version.
#[derive(Clone, Debug, PartialEq)]
pub struct LearnerStatus {
    pub progress: LearnerProgress,
    /// Modules whose quiz is passed in the current cycle.
    pub passed: HashSet<String>,
    /// The completion of the current cycle, if recorded.
    pub completion: Option<Completion>,
    /// Complete now, but no completion recorded yet this cycle: record one.
    pub completion_due: bool,
    /// A pass or completion from an older cycle and none in this one.
    pub recertification_due: bool,
    /// Attempts started in the current cycle (all quizzes).
    pub attempts_in_cycle: u32,
    /// Best graded percentage in the current cycle.
    pub best_percent: Option<f64>,
}

/// The standing `s` on the latest version `content`, whose cycle starts at
/// `cycle_start`.
pub fn status(content: &CourseContent, s: &Standing, cycle_start: i64) -> LearnerStatus {
    let passed = passed_modules(&s.attempts, cycle_start);
    let progress = progress(content, &s.opened, &passed);
    let completion = current_completion(&s.completions, cycle_start);
    let recertification_due = recertification_due(
        &s.completions,
        &s.attempts,
        cycle_start,
        progress.complete,
        completion.as_ref(),
    );
    LearnerStatus {
        completion_due: progress.complete && completion.is_none(),
        attempts_in_cycle: in_cycle(&s.attempts, cycle_start).count() as u32,
        best_percent: best_percent(in_cycle(&s.attempts, cycle_start)),
        passed,
        progress,
        completion,
        recertification_due,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learning::timing::tests::attempt;
    use crate::model::{Lesson, Module, Quiz};

    fn content() -> CourseContent {
        CourseContent {
            title: "T".into(),
            description_md: String::new(),
            modules: vec![Module {
                id: "m1".into(),
                title: "M".into(),
                lessons: vec![Lesson {
                    id: "l1".into(),
                    title: "L".into(),
                    body_md: String::new(),
                }],
                quiz: Some(Quiz {
                    questions: Vec::new(),
                }),
            }],
            settings: Default::default(),
        }
    }

    fn pass(version: i64, cycle: i64) -> Attempt {
        let mut a = attempt(0, None);
        a.module_id = "m1".into();
        a.course_version = version;
        a.cycle_version = cycle;
        a.submitted_at_ms = Some(5);
        a.percent = Some(100.0);
        a.passed = Some(true);
        a
    }

    #[test]
    fn complete_learners_are_due_a_completion_once() {
        let mut s = Standing {
            opened: ["l1".to_owned()].into(),
            attempts: vec![pass(1, 1)],
            completions: vec![],
        };
        let st = status(&content(), &s, 1);
        assert!(st.progress.complete && st.completion_due);
        s.completions.push(Completion {
            version: 1,
            completed_at: 9,
        });
        let st = status(&content(), &s, 1);
        assert!(!st.completion_due);
        assert_eq!(
            st.completion,
            Some(Completion {
                version: 1,
                completed_at: 9
            })
        );
        assert_eq!(st.attempts_in_cycle, 1);
        assert_eq!(st.best_percent, Some(100.0));
    }

    #[test]
    fn a_material_change_makes_an_old_completion_due_again() {
        let s = Standing {
            opened: ["l1".to_owned()].into(),
            attempts: vec![pass(1, 1)],
            completions: vec![Completion {
                version: 1,
                completed_at: 9,
            }],
        };
        let st = status(&content(), &s, 2);
        assert!(!st.progress.complete, "the old pass does not count");
        assert!(st.recertification_due);
        assert_eq!(st.completion, None);
        assert_eq!(st.attempts_in_cycle, 0);
    }
}
