//! The server's clock, injected: every rule that needs "now" is given it,
//! so tests move time forward instead of rewriting stored timestamps.

use std::sync::{
    atomic::{AtomicI64, Ordering},
    Arc,
};

/// Milliseconds since the Unix epoch, as the server sees them.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now_ms(&self) -> i64;

    /// Seconds since the Unix epoch (what completions and lesson views store).
    fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }
}

/// The operating system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// A clock that moves only when told (tests and benchmarks).
#[derive(Clone, Debug, Default)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// Starting at `ms`.
    pub fn at(ms: i64) -> Self {
        Self(Arc::new(AtomicI64::new(ms)))
    }

    /// Starting at the system clock's time.
    pub fn starting_now() -> Self {
        Self::at(SystemClock.now_ms())
    }

    /// Moves the clock forward by `ms`.
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    /// Sets the clock to `ms`.
    pub fn set(&self, ms: i64) {
        self.0.store(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The system clock moved by an adjustable offset: time flows as usual,
/// and a test can jump ahead (integration tests of a running server, whose
/// requests also carry real-time tokens).
#[derive(Clone, Debug, Default)]
pub struct OffsetClock(Arc<AtomicI64>);

impl OffsetClock {
    /// The system clock, not moved yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward by `ms` (for good: every later reading too).
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    /// How far the clock has been moved.
    pub fn offset_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl Clock for OffsetClock {
    fn now_ms(&self) -> i64 {
        SystemClock.now_ms() + self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_clones_share_it() {
        let c = ManualClock::at(1_000);
        let shared = c.clone();
        assert_eq!(c.now_ms(), 1_000);
        shared.advance(2_500);
        assert_eq!(c.now_ms(), 3_500);
        assert_eq!(c.now_secs(), 3);
        c.set(-1);
        assert_eq!(c.now_secs(), -1, "rounds down, also before 1970");
    }

    #[test]
    fn an_offset_clock_flows_and_jumps() {
        let c = OffsetClock::new();
        let before = SystemClock.now_ms();
        c.advance(3_600_000);
        let now = c.now_ms();
        assert!(now >= before + 3_600_000 && now < before + 3_600_000 + 60_000);
        assert_eq!(c.clone().offset_ms(), 3_600_000);
    }
}
