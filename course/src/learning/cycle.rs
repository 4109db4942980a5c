//! Re-certification cycles, attempt limits and passes.
//!
//! Attempts are counted per quiz, learner and **re-certification cycle**: a
//! cycle starts at the latest version published with `material = true`
//! (version 1 if none). A pass counts towards progress only when it was
//! earned on a version of the current cycle; a learner whose pass or
//! completion is from an older cycle (and who has not completed the current
//! one) is due for re-certification, and gets a fresh set of attempts.

use std::collections::HashSet;

use super::records::{Attempt, Completion};

/// The first version of the current cycle: the latest version up to
/// `latest` published with `material = true`, 1 if none.
/// `versions` yields `(version, material)`.
pub fn cycle_start(versions: impl IntoIterator<Item = (i64, bool)>, latest: i64) -> i64 {
    versions
        .into_iter()
        .filter(|&(v, material)| material && v <= latest)
        .map(|(v, _)| v)
        .max()
        .unwrap_or(1)
}

/// Attempts started in the cycle beginning at `cycle_start`.
pub fn in_cycle(attempts: &[Attempt], cycle_start: i64) -> impl Iterator<Item = &Attempt> {
    attempts
        .iter()
        .filter(move |a| a.cycle_version == cycle_start)
}

/// Modules whose quiz was passed on a version of the current cycle.
pub fn passed_modules(attempts: &[Attempt], cycle_start: i64) -> HashSet<String> {
    attempts
        .iter()
        .filter(|a| a.passed == Some(true) && a.course_version >= cycle_start)
        .map(|a| a.module_id.clone())
        .collect()
}

/// The best submitted percentage; `None` before any graded attempt.
pub fn best_percent<'a>(attempts: impl IntoIterator<Item = &'a Attempt>) -> Option<f64> {
    attempts
        .into_iter()
        .filter_map(|a| a.percent)
        .fold(None, |best: Option<f64>, x| {
            Some(best.map_or(x, |b| b.max(x)))
        })
}

/// The attempt limit is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitReached(pub u32);

impl LimitReached {
    /// For the learner.
    pub fn message(self) -> String {
        if self.0 == 1 {
            "You have used your one attempt.".into()
        } else {
            format!("You have used all {} attempts.", self.0)
        }
    }
}

/// The number of a new attempt at a quiz, given the attempts of the
/// current cycle at that quiz, or the limit that stops it.
pub fn next_attempt_number<'a>(
    cycle_attempts: impl IntoIterator<Item = &'a Attempt>,
    limit: Option<u32>,
) -> Result<i64, LimitReached> {
    let (count, max) = cycle_attempts
        .into_iter()
        .fold((0u64, 0i64), |(n, m), a| (n + 1, m.max(a.number)));
    if let Some(limit) = limit {
        if count >= u64::from(limit) {
            return Err(LimitReached(limit));
        }
    }
    Ok(max + 1)
}

/// Due for re-certification: nothing complete in the current cycle, but a
/// completion or a pass from an older one.
pub fn recertification_due(
    completions: &[Completion],
    attempts: &[Attempt],
    cycle_start: i64,
    complete_now: bool,
    current_completion: Option<&Completion>,
) -> bool {
    current_completion.is_none()
        && !complete_now
        && (completions.iter().any(|c| c.version < cycle_start)
            || attempts
                .iter()
                .any(|a| a.passed == Some(true) && a.course_version < cycle_start))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learning::timing::tests::attempt;
    use proptest::prelude::*;

    fn graded(
        module: &str,
        version: i64,
        cycle: i64,
        number: i64,
        percent: f64,
        passed: bool,
    ) -> Attempt {
        let mut a = attempt(0, None);
        a.module_id = module.into();
        a.course_version = version;
        a.cycle_version = cycle;
        a.number = number;
        a.submitted_at_ms = Some(1);
        a.percent = Some(percent);
        a.passed = Some(passed);
        a
    }

    #[test]
    fn the_cycle_starts_at_the_latest_material_version() {
        assert_eq!(cycle_start([], 3), 1);
        assert_eq!(cycle_start([(1, false), (2, true), (3, false)], 3), 2);
        assert_eq!(
            cycle_start([(2, true), (4, true)], 3),
            2,
            "not beyond latest"
        );
    }

    #[test]
    fn passes_of_an_older_cycle_do_not_count_but_make_recertification_due() {
        let attempts = [graded("m1", 1, 1, 1, 90.0, true)];
        assert!(passed_modules(&attempts, 1).contains("m1"));
        assert!(passed_modules(&attempts, 2).is_empty());
        assert!(recertification_due(&[], &attempts, 2, false, None));
        assert!(!recertification_due(&[], &attempts, 1, false, None));
        let current = Completion {
            version: 2,
            completed_at: 5,
        };
        assert!(!recertification_due(
            &[],
            &attempts,
            2,
            false,
            Some(&current)
        ));
    }

    #[test]
    fn attempt_limits_count_the_current_cycle_only() {
        let attempts = [
            graded("m1", 1, 1, 1, 10.0, false),
            graded("m1", 1, 1, 2, 20.0, false),
        ];
        assert_eq!(
            next_attempt_number(in_cycle(&attempts, 1), Some(2)),
            Err(LimitReached(2))
        );
        assert_eq!(next_attempt_number(in_cycle(&attempts, 2), Some(2)), Ok(1));
        assert_eq!(next_attempt_number(in_cycle(&attempts, 1), None), Ok(3));
        assert_eq!(LimitReached(1).message(), "You have used your one attempt.");
        assert_eq!(best_percent(&attempts), Some(20.0));
        assert_eq!(best_percent(&[]), None);
    }

    proptest! {
        #[test]
        fn cycle_start_is_a_material_version_at_most_latest_or_one(
            versions in proptest::collection::vec((1i64..20, any::<bool>()), 0..20),
            latest in 1i64..20,
        ) {
            let c = cycle_start(versions.clone(), latest);
            prop_assert!(c >= 1 && (c == 1 || c <= latest));
            prop_assert!(c == 1 || versions.contains(&(c, true)));
            prop_assert!(!versions.iter().any(|&(v, m)| m && v <= latest && v > c));
        }
    }
}
