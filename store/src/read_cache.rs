//! The learner's records, cached in this process (SQLite only; issue #13
//! item 2).
//!
//! Every learner request reads the same four things — enrolment, opened
//! lessons, attempts, completions — and on SQLite each read is a hop to the
//! connection's thread and back: four of them made the learner's course read
//! spend more time switching threads than working (`perf`: > 50 % in the
//! scheduler). A SQLite database has one serving process (README
//! "Operations"), and every write goes through this store, so the store
//! can keep what it read and forget it exactly when it writes:
//!
//! - keys are `(tenant, account, course, what)`, spread over shards by
//!   `(tenant, account)`: all of one learner's entries live in one shard;
//! - a write of one learner's records (open a lesson, start, answer,
//!   submit, complete, self-enrol) clears that learner's shard *after* it
//!   committed; a write that touches many learners (enrolments by admins,
//!   group sync, erasure, purge, restore) clears every shard;
//! - a read stores what it read only if its shard was not cleared since
//!   the read began ([`cache::Cache::insert_if_current`]), so a read that
//!   raced with a write can never put old records back.
//!
//! On PostgreSQL several processes share the database and a write in one
//! cannot clear another's memory in time for the learner's next request,
//! so nothing is cached there: every read goes to the database.

use std::{
    hash::{Hash, Hasher},
    sync::Arc,
    time::Duration,
};

use cache::{Cache, Generation, Weigh};
use course::learning::records::{Attempt, Completion};

use crate::{
    courses::{CourseRow, VersionMeta},
    enrolments::Enrolment,
};

const SHARDS: usize = 64;
/// Bytes for all shards together.
const MAX_BYTES: usize = 4 << 20;
/// Bytes for the learners' encoded course views, all shards together (a
/// view of a 20-question course of 12 lessons is ~33 KB: ~60 of them, the
/// learners of the last moments).
const MAX_VIEW_BYTES: usize = 2 << 20;
/// Few shards for the views: a shard must hold several of them.
const VIEW_SHARDS: usize = 4;
/// A safety net only: entries are cleared by writes, not by age.
const TTL: Duration = Duration::from_secs(300);

/// Which read an entry holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum What {
    Enrolment,
    Opened,
    Attempts,
    Completions,
    /// One attempt by id: its key holds the attempt id where the others
    /// hold the course (a submit names only the attempt).
    Attempt,
}

impl Weigh for What {
    fn weigh(&self) -> usize {
        1
    }
}

type Key = (String, String, String, What);

/// One cached read.
#[derive(Clone, Debug)]
pub(crate) enum Records {
    Enrolment(Option<Enrolment>),
    Opened(Arc<Vec<String>>),
    Attempts(Arc<Vec<Attempt>>),
    Completions(Arc<Vec<Completion>>),
    Attempt(Option<Arc<Attempt>>),
}

/// A learner's course view, encoded by the app from the learner's cached
/// records (see `Db::learner_view`). The store does not read it; it keeps
/// it beside those records, and whatever clears them clears it.
#[derive(Debug)]
pub struct LearnerView {
    /// The course it shows (one view per learner is kept: the last read).
    pub course: String,
    /// The published version it shows.
    pub version: i64,
    /// What else the encoding depends on, as the app counts it (the
    /// caller's language).
    pub variant: u64,
    /// Served until this moment (epoch ms, exclusive): when the clock
    /// alone would change it (a deadline, a due date).
    pub valid_until_ms: i64,
    /// The encoded answer.
    pub body: bytes::Bytes,
}

impl Weigh for LearnerView {
    fn weigh(&self) -> usize {
        std::mem::size_of::<Self>() + self.course.len() + self.body.len()
    }
}

/// Estimated heap bytes (the budget is approximate by design; strings are
/// counted, fixed-size fields by their size).
impl Weigh for Records {
    fn weigh(&self) -> usize {
        let strings = |v: &[String]| v.iter().map(|s| 24 + s.len()).sum::<usize>();
        16 + match self {
            Records::Enrolment(e) => e.as_ref().map_or(0, |e| {
                std::mem::size_of::<Enrolment>() + e.account_id.len() + strings(&e.groups)
            }),
            Records::Opened(v) => strings(v),
            Records::Attempts(v) => v.iter().map(weigh_attempt).sum(),
            Records::Attempt(a) => a.as_deref().map_or(0, weigh_attempt),
            Records::Completions(v) => v.len() * std::mem::size_of::<Completion>(),
        }
    }
}

fn weigh_attempt(a: &Attempt) -> usize {
    std::mem::size_of::<Attempt>()
        + a.id.len()
        + a.course_id.len()
        + a.module_id.len()
        + a.account_id.len()
        + a.client_token.len()
        + a.checkpoint_key.as_ref().map_or(0, String::len)
}

/// Course rows by `(tenant, course)`, for the same reason: every learner
/// request reads its course's row (and every editor open its versions).
/// Cleared on every course write.
#[derive(Clone)]
pub(crate) struct CourseRows {
    cache: Cache<(String, String), Arc<CourseRow>>,
    versions: Cache<(String, String), Arc<VersionList>>,
}

/// A course's version list (a newtype, to be weighed).
#[derive(Clone, Debug)]
pub(crate) struct VersionList(pub(crate) Vec<VersionMeta>);

impl Weigh for VersionList {
    fn weigh(&self) -> usize {
        self.0
            .iter()
            .map(|v| {
                std::mem::size_of::<VersionMeta>()
                    + v.title.len()
                    + v.published_by.as_ref().map_or(0, String::len)
            })
            .sum()
    }
}

impl Weigh for CourseRow {
    fn weigh(&self) -> usize {
        std::mem::size_of::<CourseRow>()
            + self.id.len()
            + self.space_key.len()
            + self.page_id.len()
            + self.title.len()
            + self.draft_json.len()
            + self.copied_from.as_ref().map_or(0, String::len)
            + self.created_by.as_ref().map_or(0, String::len)
    }
}

impl std::fmt::Debug for CourseRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.cache.fmt(f)
    }
}

impl CourseRows {
    pub(crate) fn new() -> Self {
        Self {
            cache: Cache::new("course-rows", 3 << 20, TTL),
            versions: Cache::new("course-versions", 1 << 20, TTL),
        }
    }

    pub(crate) fn versions(
        &self,
        tenant: &str,
        course: &str,
    ) -> Result<Arc<VersionList>, Generation> {
        let seen = self.versions.generation();
        self.versions
            .get(&(tenant.to_owned(), course.to_owned()))
            .ok_or(seen)
    }

    pub(crate) fn put_versions(
        &self,
        tenant: &str,
        course: &str,
        list: Arc<VersionList>,
        seen: Generation,
    ) {
        self.versions
            .insert_if_current((tenant.to_owned(), course.to_owned()), list, seen);
    }

    pub(crate) fn get(&self, tenant: &str, course: &str) -> Result<Arc<CourseRow>, Generation> {
        let seen = self.cache.generation();
        self.cache
            .get(&(tenant.to_owned(), course.to_owned()))
            .ok_or(seen)
    }

    pub(crate) fn put(&self, tenant: &str, row: Arc<CourseRow>, seen: Generation) {
        self.cache
            .insert_if_current((tenant.to_owned(), row.id.clone()), row, seen);
    }

    pub(crate) fn changed(&self) {
        self.cache.clear();
        self.versions.clear();
    }
}

/// Learners' views by `(tenant, account)`.
type ViewShard = Cache<(String, String), Arc<LearnerView>>;

/// The shards (see the module docs).
#[derive(Clone)]
pub(crate) struct LearnerReads {
    shards: Arc<Vec<Cache<Key, Records>>>,
    /// The views, one per learner, by `(tenant, account)`: every write
    /// that changes a learner's records invalidates their view (which also
    /// moves the view shard's generation, the ticket a view is stored
    /// with), and a write of many learners' records clears them all.
    views: Arc<Vec<ViewShard>>,
}

impl std::fmt::Debug for LearnerReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LearnerReads")
            .field(
                "entries",
                &self.shards.iter().map(Cache::len).sum::<usize>(),
            )
            .finish()
    }
}

impl LearnerReads {
    pub(crate) fn new() -> Self {
        Self {
            shards: Arc::new(
                (0..SHARDS)
                    .map(|_| Cache::new("learner-records", MAX_BYTES / SHARDS, TTL))
                    .collect(),
            ),
            views: Arc::new(
                (0..VIEW_SHARDS)
                    .map(|_| Cache::new("learner-views", MAX_VIEW_BYTES / VIEW_SHARDS, TTL))
                    .collect(),
            ),
        }
    }

    fn hash(tenant: &str, account: &str) -> usize {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        tenant.hash(&mut h);
        account.hash(&mut h);
        h.finish() as usize
    }

    fn shard(&self, tenant: &str, account: &str) -> &Cache<Key, Records> {
        &self.shards[Self::hash(tenant, account) % SHARDS]
    }

    fn view_shard(
        &self,
        tenant: &str,
        account: &str,
    ) -> &Cache<(String, String), Arc<LearnerView>> {
        &self.views[Self::hash(tenant, account) % VIEW_SHARDS]
    }

    fn view_key(tenant: &str, account: &str) -> (String, String) {
        (tenant.to_owned(), account.to_owned())
    }

    /// The learner's view is no longer what their records say.
    fn drop_view(&self, tenant: &str, account: &str) {
        self.view_shard(tenant, account)
            .invalidate(&Self::view_key(tenant, account));
    }

    /// The learner's cached view of `course`, and the ticket to store a new
    /// one with (taken first: a write after it makes [`Self::put_view`]
    /// fail).
    pub(crate) fn view(
        &self,
        tenant: &str,
        account: &str,
        course: &str,
    ) -> (Option<Arc<LearnerView>>, Generation) {
        let shard = self.view_shard(tenant, account);
        let seen = shard.generation();
        let hit = shard
            .get(&Self::view_key(tenant, account))
            .filter(|v| v.course == course);
        (hit, seen)
    }

    /// Keeps a view made from records read after `seen` was taken, unless
    /// the learner's records changed since.
    pub(crate) fn put_view(
        &self,
        tenant: &str,
        account: &str,
        view: Arc<LearnerView>,
        seen: Generation,
    ) {
        self.view_shard(tenant, account).insert_if_current(
            Self::view_key(tenant, account),
            view,
            seen,
        );
    }

    fn key(tenant: &str, account: &str, course: &str, what: What) -> Key {
        (
            tenant.to_owned(),
            account.to_owned(),
            course.to_owned(),
            what,
        )
    }

    /// The cached read, or the shard's generation to pass to
    /// [`Self::put`] after reading the database.
    pub(crate) fn get(
        &self,
        tenant: &str,
        account: &str,
        course: &str,
        what: What,
    ) -> Result<Records, Generation> {
        let shard = self.shard(tenant, account);
        // The generation first: an invalidation between the two makes the
        // later put fail, never succeed with old data.
        let seen = shard.generation();
        shard
            .get(&Self::key(tenant, account, course, what))
            .ok_or(seen)
    }

    pub(crate) fn put(
        &self,
        tenant: &str,
        account: &str,
        course: &str,
        what: What,
        records: Records,
        seen: Generation,
    ) {
        self.shard(tenant, account).insert_if_current(
            Self::key(tenant, account, course, what),
            records,
            seen,
        );
    }

    /// One learner's lessons, attempts and completions on `course`
    /// changed, and these are all of them as just committed: each entry
    /// (and each of these attempts by id) is
    /// replaced (after an invalidation, so that a read which began before
    /// the write cannot put its older copy back), and the rest of the shard
    /// (other learners, other courses, the enrolment) stays. Only for a
    /// caller that holds SQLite's write lock until this returns (the
    /// writer's after-commit hook), so that no write can have committed
    /// after what these were read from.
    pub(crate) fn replace_learner(
        &self,
        tenant: &str,
        account: &str,
        course: &str,
        opened: Vec<String>,
        attempts: Vec<Attempt>,
        completions: Vec<Completion>,
    ) {
        for a in &attempts {
            self.put_attempt(tenant, account, a.clone());
        }
        let shard = self.shard(tenant, account);
        // The view was made from the records replaced here.
        self.drop_view(tenant, account);
        let entries = [
            (What::Opened, Records::Opened(Arc::new(opened))),
            (What::Attempts, Records::Attempts(Arc::new(attempts))),
            (
                What::Completions,
                Records::Completions(Arc::new(completions)),
            ),
        ];
        for (what, records) in entries {
            let key = Self::key(tenant, account, course, what);
            shard.invalidate(&key);
            shard.insert(key, records);
        }
    }

    /// An attempt as just written, by id. Only for a caller that holds
    /// SQLite's write lock until this returns (see [`Self::replace_learner`]).
    pub(crate) fn put_attempt(&self, tenant: &str, account: &str, attempt: Attempt) {
        self.drop_view(tenant, account);
        let shard = self.shard(tenant, account);
        let key = Self::key(tenant, account, &attempt.id, What::Attempt);
        shard.invalidate(&key);
        shard.insert(key, Records::Attempt(Some(Arc::new(attempt))));
    }

    /// The learner started an attempt on `course`: of their entries only
    /// the course's attempt list (and their view) no longer hold — their
    /// enrolment, lessons and completions, and every other learner's
    /// entries in the shard, still do. (Clearing the shard, as
    /// [`Self::learner_changed`] does, dropped the attempt just put in by
    /// id for everyone whose learner hashes alike: with a few thousand
    /// learners starting, almost every submit read its attempt from the
    /// database again.) The invalidation still moves the shard's
    /// generation, so a read that began before it cannot store what it
    /// read.
    pub(crate) fn attempts_changed(&self, tenant: &str, account: &str, course: &str) {
        self.shard(tenant, account)
            .invalidate(&Self::key(tenant, account, course, What::Attempts));
        self.drop_view(tenant, account);
    }

    /// One learner's records changed.
    pub(crate) fn learner_changed(&self, tenant: &str, account: &str) {
        self.shard(tenant, account).clear();
        self.drop_view(tenant, account);
    }

    /// Many learners' records changed.
    pub(crate) fn all_changed(&self) {
        for s in self.shards.iter() {
            s.clear();
        }
        for s in self.views.iter() {
            s.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(id: &str) -> Attempt {
        Attempt {
            id: id.into(),
            course_id: "c".into(),
            module_id: "m".into(),
            account_id: "a".into(),
            client_token: "t".into(),
            course_version: 1,
            page_version: None,
            cycle_version: 1,
            number: 1,
            seed: 7,
            started_at_ms: 0,
            deadline_ms: None,
            last_activity_ms: 0,
            submitted_at_ms: None,
            score: None,
            max_score: None,
            percent: None,
            passed: None,
            checkpoint_key: None,
        }
    }

    fn attempts_of(r: &LearnerReads, account: &str) -> Option<Vec<String>> {
        match r.get("t", account, "c", What::Attempts) {
            Ok(Records::Attempts(v)) => Some(v.iter().map(|a| a.id.clone()).collect()),
            Ok(_) => unreachable!(),
            Err(_) => None,
        }
    }

    #[test]
    fn a_replacement_wins_over_a_read_that_began_before_it() {
        let r = LearnerReads::new();
        // A read begins (takes the generation) and reads the old records…
        let Err(seen) = r.get("t", "a", "c", What::Attempts) else {
            panic!("empty cache")
        };
        // …the submit commits and replaces them…
        r.replace_learner(
            "t",
            "a",
            "c",
            vec!["l1".into()],
            vec![attempt("new")],
            vec![],
        );
        // …and the late read cannot put its older copy back.
        r.put(
            "t",
            "a",
            "c",
            What::Attempts,
            Records::Attempts(Arc::new(vec![attempt("old")])),
            seen,
        );
        assert_eq!(attempts_of(&r, "a"), Some(vec!["new".to_string()]));
        match r.get("t", "a", "new", What::Attempt) {
            Ok(Records::Attempt(Some(a))) => assert_eq!(a.id, "new"),
            other => panic!("the attempt by id not stored: {other:?}"),
        }
        match r.get("t", "a", "c", What::Opened) {
            Ok(Records::Opened(v)) => assert_eq!(*v, vec!["l1".to_string()]),
            other => panic!("opened lessons not stored: {other:?}"),
        }
    }

    #[test]
    fn a_replacement_keeps_the_learners_other_entries() {
        let r = LearnerReads::new();
        let Err(seen) = r.get("t", "a", "c", What::Enrolment) else {
            panic!("empty cache")
        };
        r.put(
            "t",
            "a",
            "c",
            What::Enrolment,
            Records::Enrolment(None),
            seen,
        );
        r.replace_learner("t", "a", "c", vec![], vec![attempt("x")], vec![]);
        assert!(
            r.get("t", "a", "c", What::Enrolment).is_ok(),
            "the enrolment did not change and stays cached"
        );
        // Clearing the learner (any other write of theirs) drops it all.
        r.learner_changed("t", "a");
        assert_eq!(attempts_of(&r, "a"), None);
        assert!(r.get("t", "a", "c", What::Enrolment).is_err());
    }

    /// A new attempt drops the learner's attempt list of that course and
    /// nothing else: not their other entries, not the entries of another
    /// learner in the same shard (each start used to clear the shard, and
    /// with it the attempts other learners had just started). A read that
    /// began before it still cannot store what it read.
    #[test]
    fn a_new_attempt_drops_only_the_attempt_list_it_changes() {
        let r = LearnerReads::new();
        let shard_of = |a: &str| LearnerReads::hash("t", a) % SHARDS;
        let other = (0..)
            .map(|n| format!("b{n}"))
            .find(|b| shard_of(b) == shard_of("a"))
            .expect("some account shares the shard");
        r.replace_learner("t", "a", "c", vec!["l1".into()], vec![attempt("x")], vec![]);
        r.put_attempt("t", &other, attempt("y"));
        let Err(before) = r.get("t", "a", "c2", What::Opened) else {
            panic!("nothing cached for c2")
        };
        r.attempts_changed("t", "a", "c");
        assert_eq!(attempts_of(&r, "a"), None, "the attempt list changed");
        assert!(
            r.get("t", "a", "c", What::Opened).is_ok(),
            "the lessons did not change"
        );
        assert!(
            r.get("t", "a", "x", What::Attempt).is_ok(),
            "the attempt by id did not change"
        );
        assert!(
            r.get("t", &other, "y", What::Attempt).is_ok(),
            "another learner's new attempt stays"
        );
        r.put(
            "t",
            "a",
            "c2",
            What::Opened,
            Records::Opened(Arc::new(vec![])),
            before,
        );
        assert!(
            r.get("t", "a", "c2", What::Opened).is_err(),
            "a read from before the change is not stored"
        );
    }

    fn view(version: i64) -> Arc<LearnerView> {
        Arc::new(LearnerView {
            course: "c".into(),
            version,
            variant: 0,
            valid_until_ms: i64::MAX,
            body: bytes::Bytes::from_static(b"{}"),
        })
    }

    fn cached_view(r: &LearnerReads) -> Option<i64> {
        r.view("t", "a", "c").0.map(|v| v.version)
    }

    #[test]
    fn a_view_is_kept_only_if_no_record_of_the_learner_changed_since_its_ticket() {
        let r = LearnerReads::new();
        let (none, seen) = r.view("t", "a", "c");
        assert!(none.is_none());
        r.put_view("t", "a", view(1), seen);
        assert_eq!(cached_view(&r), Some(1));

        // Each kind of write of the learner's records, between the ticket
        // and the put, keeps the (possibly old) view out, and drops the
        // one that was there.
        type Write<'a> = &'a dyn Fn(&LearnerReads);
        let writes: [(&str, Write<'_>); 4] = [
            ("learner_changed", &|r| r.learner_changed("t", "a")),
            ("all_changed", &|r| r.all_changed()),
            ("replace_learner", &|r| {
                r.replace_learner("t", "a", "c", vec![], vec![attempt("x")], vec![])
            }),
            ("put_attempt", &|r| r.put_attempt("t", "a", attempt("y"))),
        ];
        for (name, write) in writes {
            let (_, seen) = r.view("t", "a", "c");
            write(&r);
            assert_eq!(cached_view(&r), None, "{name} left the view");
            r.put_view("t", "a", view(2), seen);
            assert_eq!(
                cached_view(&r),
                None,
                "{name}: a view from before it was kept"
            );
            let (_, seen) = r.view("t", "a", "c");
            r.put_view("t", "a", view(3), seen);
            assert_eq!(
                cached_view(&r),
                Some(3),
                "{name}: a view after it was not kept"
            );
        }

        // Another learner's write leaves this one's view in place.
        r.learner_changed("t", "b");
        assert_eq!(cached_view(&r), Some(3));
        // One view per learner: another course's is not this one's.
        assert!(r.view("t", "a", "other-course").0.is_none());
    }
}
