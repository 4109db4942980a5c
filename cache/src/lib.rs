//! The one in-memory cache type of Smart Courses.
//!
//! Every cache in the server — verified tenants, permission decisions,
//! users' names, ACT_AS_USER tokens, install keys, published course
//! versions — is a [`Cache`]: a concurrent map that is
//!
//! - **bounded by bytes**, not by entry count: each entry is weighed with
//!   [`Weigh`] (an estimate of the heap bytes it holds) and the cache evicts
//!   (scan-resistant CLOCK-Pro, from the well-kept `quick_cache` crate) to
//!   stay under its budget, so a tenant that sends huge or many distinct
//!   keys cannot grow the process;
//! - **time-bounded**: an entry older than the cache's time to live is never
//!   returned (and is dropped when met);
//! - **race-free to invalidate**: [`Cache::invalidate`] bumps a generation
//!   counter. A caller that reads the source of truth and then caches what it
//!   read takes a [`Generation`] *before* reading and stores with
//!   [`Cache::insert_if_current`]; if anything was invalidated meanwhile the
//!   (possibly stale) value is not stored. Without this, a read that started
//!   before an uninstall and finished after it would put the old row back.
//!
//! And the caches of one process share **one memory budget**
//! ([`PROCESS_BUDGET_BYTES`]): every cache counts its budget into a
//! process-wide register while it lives ([`live_budgets`]), the server logs
//! the sum at start, and a test of the server (`server/tests/memory_budget.rs`)
//! fails when the caches of one running app together could hold more than
//! the process budget. A byte bound per cache alone would let ten caches of
//! 8 MiB each outgrow the server's memory target.

use std::{
    collections::BTreeMap,
    hash::Hash,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

/// What all caches of one server process may hold together, bytes. The
/// server's memory target is an RSS of 64 MiB under a mixed load (README
/// "Measured"); about 25 MiB of it are the runtime, the database's page
/// cache and the buffers of requests in flight, so the caches get half.
pub const PROCESS_BUDGET_BYTES: u64 = 32 << 20;

/// The budgets of the caches alive now, by registration number.
static REGISTER: Mutex<BTreeMap<u64, (&'static str, u64)>> = Mutex::new(BTreeMap::new());
static NEXT_REGISTRATION: AtomicU64 = AtomicU64::new(0);

/// A cache's place in the register, given up when its last clone drops.
struct Registration(u64);

impl Registration {
    fn new(name: &'static str, max_bytes: u64) -> Self {
        let id = NEXT_REGISTRATION.fetch_add(1, Ordering::Relaxed);
        register().insert(id, (name, max_bytes));
        Self(id)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        register().remove(&self.0);
    }
}

/// The register, even after a panic elsewhere held its lock (it only holds
/// plain numbers, which a panic cannot leave half-written).
fn register() -> std::sync::MutexGuard<'static, BTreeMap<u64, (&'static str, u64)>> {
    REGISTER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Name and byte budget of every cache alive in this process, in the order
/// they were made.
pub fn live_budgets() -> Vec<(&'static str, u64)> {
    register().values().copied().collect()
}

/// What the caches alive in this process may hold together, bytes.
pub fn live_budget_bytes() -> u64 {
    register().values().map(|(_, bytes)| bytes).sum()
}

/// An estimate of the bytes an entry keeps alive (heap plus inline size).
/// It only has to be proportionate: it decides what a byte budget means.
pub trait Weigh {
    fn weigh(&self) -> usize;
}

impl Weigh for String {
    fn weigh(&self) -> usize {
        std::mem::size_of::<String>() + self.capacity()
    }
}

impl Weigh for str {
    fn weigh(&self) -> usize {
        self.len()
    }
}

impl Weigh for Box<str> {
    fn weigh(&self) -> usize {
        std::mem::size_of::<Box<str>>() + self.len()
    }
}

impl Weigh for Vec<u8> {
    fn weigh(&self) -> usize {
        std::mem::size_of::<Vec<u8>>() + self.capacity()
    }
}

impl<T: Weigh + ?Sized> Weigh for Arc<T> {
    fn weigh(&self) -> usize {
        std::mem::size_of::<usize>() * 2 + (**self).weigh()
    }
}

impl<T: Weigh> Weigh for Option<T> {
    fn weigh(&self) -> usize {
        self.as_ref()
            .map_or(std::mem::size_of::<Self>(), Weigh::weigh)
    }
}

macro_rules! weigh_inline {
    ($($t:ty),*) => {$(
        impl Weigh for $t {
            fn weigh(&self) -> usize {
                std::mem::size_of::<$t>()
            }
        }
    )*};
}
weigh_inline!(bool, u8, u16, u32, u64, i32, i64, usize, ());

impl<A: Weigh, B: Weigh> Weigh for (A, B) {
    fn weigh(&self) -> usize {
        self.0.weigh() + self.1.weigh()
    }
}

impl<A: Weigh, B: Weigh, C: Weigh> Weigh for (A, B, C) {
    fn weigh(&self) -> usize {
        self.0.weigh() + self.1.weigh() + self.2.weigh()
    }
}

impl<A: Weigh, B: Weigh, C: Weigh, D: Weigh> Weigh for (A, B, C, D) {
    fn weigh(&self) -> usize {
        self.0.weigh() + self.1.weigh() + self.2.weigh() + self.3.weigh()
    }
}

/// Bookkeeping per entry, on top of what key and value weigh.
const ENTRY_OVERHEAD: usize = 64;

#[derive(Clone)]
struct Entry<V> {
    value: V,
    stored: Instant,
    bytes: u64,
}

/// The share of a cache's bytes kept for entries read again since they
/// were stored ("hot"); new entries wait in the rest ("cold") and are
/// evicted first unless read again before their turn comes.
///
/// `quick_cache`'s default, 97 %, suits caches where a few keys are read
/// for ever. Ours mostly hold entries that live for seconds to minutes (a
/// permission decision, a tenant, a learner's records): once full of
/// entries read twice long ago, only 3 % was left for new ones — about 40
/// decisions per shard of the permission cache — and a learner's decision,
/// stored at the start of an attempt, was gone by the submit a few seconds
/// later whenever a few hundred others started meanwhile (`bench/submit.sh`:
/// 7,000 of 16,000 submits asked Confluence again). Half and half keeps
/// the scan resistance (a burst of one-time keys still cannot push out
/// the entries read again) and gives recent entries room.
const HOT_ALLOCATION: f64 = 0.5;

/// The least bytes of one of `quick_cache`'s internal shards (see
/// [`Cache::new`]): with [`HOT_ALLOCATION`], an entry of up to half of it,
/// or of the whole budget when that is smaller, is kept.
const MIN_SHARD_BYTES: u64 = 1 << 20;

#[derive(Clone)]
struct ByBytes;

impl<K, V> quick_cache::Weighter<K, Entry<V>> for ByBytes {
    fn weight(&self, _key: &K, entry: &Entry<V>) -> u64 {
        entry.bytes
    }
}

/// The invalidation count when a caller started reading the source of
/// truth (see [`Cache::insert_if_current`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Generation(u64);

/// A concurrent map bounded by bytes and by age. Cheap to clone (shared).
pub struct Cache<K, V> {
    name: &'static str,
    map: Arc<quick_cache::sync::Cache<K, Entry<V>, ByBytes>>,
    ttl: Duration,
    max_bytes: u64,
    generation: Arc<AtomicU64>,
    _registration: Arc<Registration>,
}

impl<K, V> Clone for Cache<K, V> {
    fn clone(&self) -> Self {
        Self {
            name: self.name,
            map: self.map.clone(),
            ttl: self.ttl,
            max_bytes: self.max_bytes,
            generation: self.generation.clone(),
            _registration: self._registration.clone(),
        }
    }
}

impl<K, V> std::fmt::Debug for Cache<K, V>
where
    K: Eq + Hash + Clone,
    V: Clone,
{
    /// Name and size only: values may be secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("name", &self.name)
            .field("entries", &self.map.len())
            .field("bytes", &self.map.weight())
            .field("max_bytes", &self.max_bytes)
            .finish()
    }
}

impl<K, V> Cache<K, V>
where
    K: Eq + Hash + Clone + Weigh,
    V: Clone + Weigh,
{
    /// A cache named `name` (for logs and metrics) holding at most
    /// `max_bytes` (keys, values and bookkeeping), each entry for at most
    /// `ttl`. `Duration::MAX` means entries never expire (immutable data,
    /// still bounded by bytes).
    pub fn new(name: &'static str, max_bytes: usize, ttl: Duration) -> Self {
        let max_bytes = max_bytes.max(1) as u64;
        // `quick_cache` sizes its shards from an item estimate; assume
        // entries of about half a kilobyte.
        let estimated_items = (max_bytes / 512).clamp(16, 1 << 20) as usize;
        // `quick_cache` splits the budget into shards of its own (4 per
        // core by default) and refuses an entry heavier than a shard's
        // hot share. A small cache of large entries (a learner's encoded
        // view is ~33 KB; the views' shards hold 512 KB) would refuse
        // them all, so its shards are at least `MIN_SHARD_BYTES`; our
        // hot caches are sharded outside already.
        let shards = (max_bytes / MIN_SHARD_BYTES).clamp(1, 16) as usize;
        let options = quick_cache::OptionsBuilder::new()
            .shards(shards)
            .estimated_items_capacity(estimated_items)
            .weight_capacity(max_bytes)
            .hot_allocation(HOT_ALLOCATION)
            .build()
            .expect("cache options within their ranges");
        Self {
            name,
            map: Arc::new(quick_cache::sync::Cache::with_options(
                options,
                ByBytes,
                Default::default(),
                Default::default(),
            )),
            ttl,
            max_bytes,
            generation: Arc::new(AtomicU64::new(0)),
            _registration: Arc::new(Registration::new(name, max_bytes)),
        }
    }

    /// The value for `key`, unless it is missing or older than the TTL.
    pub fn get(&self, key: &K) -> Option<V> {
        self.get_at(key, Instant::now())
    }

    /// [`Cache::get`] as of `now` (tests move the clock).
    pub fn get_at(&self, key: &K, now: Instant) -> Option<V> {
        let entry = self.map.get(key)?;
        if now.saturating_duration_since(entry.stored) >= self.ttl {
            self.map.remove(key);
            return None;
        }
        Some(entry.value)
    }

    /// Stores `value` for `key` (replacing what was there). An entry larger
    /// than the whole budget is not kept.
    pub fn insert(&self, key: K, value: V) {
        self.insert_at(key, value, Instant::now());
    }

    /// [`Cache::insert`] stamped with `now` (tests move the clock).
    pub fn insert_at(&self, key: K, value: V, now: Instant) {
        let bytes = (key.weigh() + value.weigh() + ENTRY_OVERHEAD) as u64;
        if bytes > self.max_bytes {
            self.map.remove(&key);
            return;
        }
        self.map.insert(
            key,
            Entry {
                value,
                stored: now,
                bytes,
            },
        );
    }

    /// The invalidation count now; take it *before* reading what will be
    /// cached.
    pub fn generation(&self) -> Generation {
        Generation(self.generation.load(Ordering::Acquire))
    }

    /// Stores `value` only if nothing was invalidated since `seen` was
    /// taken; returns whether it was stored.
    pub fn insert_if_current(&self, key: K, value: V, seen: Generation) -> bool {
        if self.generation() != seen {
            return false;
        }
        self.insert(key.clone(), value);
        // An invalidation that raced with the insert wins: remove again.
        if self.generation() != seen {
            self.map.remove(&key);
            return false;
        }
        true
    }

    /// Removes `key` and makes every read that started before this call
    /// unable to store what it read ([`Cache::insert_if_current`]).
    pub fn invalidate(&self, key: &K) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.map.remove(key);
    }

    /// Removes `key` (no generation change: for values whose source did not
    /// change, e.g. an access token the product refused).
    pub fn remove(&self, key: &K) {
        self.map.remove(key);
    }

    /// Drops every entry.
    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.map.clear();
    }

    /// Entries held now (expired ones included until they are met).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.map.len() == 0
    }

    /// Bytes held now, as weighed.
    pub fn bytes(&self) -> u64 {
        self.map.weight()
    }

    /// The byte budget.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// The cache's name.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cache(max: usize, ttl_secs: u64) -> Cache<String, String> {
        Cache::new("test", max, Duration::from_secs(ttl_secs))
    }

    /// How many caches of this name are in the register, and their budget.
    fn registered(name: &str) -> (usize, u64) {
        live_budgets()
            .into_iter()
            .filter(|(n, _)| *n == name)
            .fold((0, 0), |(count, sum), (_, bytes)| (count + 1, sum + bytes))
    }

    /// The permission cache's shape (2 MiB, 30 s): full of decisions that
    /// were each read again once, long ago; then a few thousand learners
    /// start (one decision each) before any of them submits (reads it).
    /// Their decisions are all still there.
    #[test]
    fn recent_entries_are_kept_beside_a_full_cache_of_older_ones() {
        let c = cache(2 << 20, 30);
        let key = |wave: &str, n: usize| format!("tenant-1/557058:learner-{wave}-{n}/page-42");
        for n in 0..40_000 {
            c.insert(key("old", n), "yes".into());
            let _ = c.get(&key("old", n));
        }
        let learners = 3_200;
        for n in 0..learners {
            c.insert(key("new", n), "yes".into());
        }
        let kept = (0..learners)
            .filter(|n| c.get(&key("new", *n)).is_some())
            .count();
        assert_eq!(kept, learners, "decisions evicted before their second read");
    }

    /// A small cache keeps large entries: the learners' views are ~33 KB
    /// in shards of 512 KB (with `quick_cache`'s own 8 shards of 64 KB and
    /// half of each for read-again entries, every view was refused).
    #[test]
    fn an_entry_of_up_to_half_the_budget_is_kept() {
        let c = cache(512 << 10, 30);
        for n in 0..4 {
            c.insert(format!("view-{n}"), "x".repeat(33 << 10));
        }
        let kept = (0..4)
            .filter(|n| c.get(&format!("view-{n}")).is_some())
            .count();
        assert_eq!(kept, 4);
        c.insert("half".into(), "x".repeat(200 << 10));
        assert!(c.get(&"half".to_string()).is_some());
    }

    #[test]
    fn a_cache_counts_its_budget_while_any_clone_lives() {
        // Other tests make caches at the same time: count only this name.
        let name = "register-test";
        assert_eq!(registered(name), (0, 0));
        let a: Cache<String, String> = Cache::new(name, 3 << 20, Duration::MAX);
        let b: Cache<String, String> = Cache::new(name, 1 << 20, Duration::MAX);
        assert_eq!(registered(name), (2, 4 << 20));
        let a2 = a.clone();
        drop(a);
        assert_eq!(registered(name), (2, 4 << 20), "a clone still lives");
        drop(a2);
        assert_eq!(registered(name), (1, 1 << 20));
        drop(b);
        assert_eq!(registered(name), (0, 0));
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let c = cache(1 << 20, 30);
        let t0 = Instant::now();
        c.insert_at("k".into(), "v".into(), t0);
        assert_eq!(
            c.get_at(&"k".into(), t0 + Duration::from_secs(29))
                .as_deref(),
            Some("v")
        );
        assert_eq!(c.get_at(&"k".into(), t0 + Duration::from_secs(30)), None);
        // Met once expired, it is gone.
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn an_entry_bigger_than_the_budget_is_not_kept() {
        let c = cache(1024, 60);
        c.insert("big".into(), "x".repeat(4096));
        assert_eq!(c.get(&"big".into()), None);
        assert_eq!(c.bytes(), 0);
    }

    #[test]
    fn invalidation_between_read_and_insert_keeps_the_stale_value_out() {
        let c = cache(1 << 20, 60);
        let seen = c.generation();
        // ... meanwhile the source of truth changes and says so:
        c.invalidate(&"tenant".into());
        assert!(!c.insert_if_current("tenant".into(), "old row".into(), seen));
        assert_eq!(c.get(&"tenant".into()), None);
        let now = c.generation();
        assert!(c.insert_if_current("tenant".into(), "new row".into(), now));
        assert_eq!(c.get(&"tenant".into()).as_deref(), Some("new row"));
    }

    #[test]
    fn debug_never_shows_values() {
        let c = cache(1 << 20, 60);
        c.insert("k".into(), "secret-value".into());
        let shown = format!("{c:?}");
        assert!(!shown.contains("secret-value"), "{shown}");
        assert!(shown.contains("test"), "{shown}");
    }

    proptest! {
        /// Whatever is inserted, the cache never holds more than its budget.
        #[test]
        fn bytes_never_exceed_the_budget(
            budget in 1_000usize..50_000,
            items in proptest::collection::vec(("[a-z]{1,40}", 0usize..3_000), 0..400),
        ) {
            let c = cache(budget, 60);
            for (k, len) in items {
                c.insert(k, "v".repeat(len));
                prop_assert!(c.bytes() <= budget as u64, "{} > {}", c.bytes(), budget);
            }
        }

        /// A value read back is the value last inserted for that key.
        #[test]
        fn reads_return_the_last_insert(
            ops in proptest::collection::vec(("[a-c]", "[a-z]{0,8}"), 1..50),
        ) {
            let c = cache(1 << 20, 60);
            let mut last = std::collections::HashMap::new();
            for (k, v) in ops {
                c.insert(k.clone(), v.clone());
                last.insert(k, v);
            }
            for (k, v) in last {
                prop_assert_eq!(c.get(&k), Some(v));
            }
        }
    }
}
