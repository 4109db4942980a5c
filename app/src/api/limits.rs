//! Rate limits on server functions, per site and per user (GCRA through the
//! well-kept `governor` crate). A caller over a limit gets 429 with
//! `Retry-After`; the limits are part of the configuration (README
//! "Security" lists the defaults a site can rely on).

use std::{
    num::NonZeroU32,
    sync::atomic::{AtomicU64, Ordering},
};

use connect::Verified;
use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota};

use crate::error::AppError;

/// Requests per second and burst.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub per_second: u32,
    pub burst: u32,
}

impl Rate {
    fn quota(self) -> Quota {
        let per_second = NonZeroU32::new(self.per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(self.burst.max(1)).unwrap_or(NonZeroU32::MIN);
        Quota::per_second(per_second).allow_burst(burst)
    }
}

/// The limits: one bucket per site, one per (site, user).
#[derive(Debug)]
pub struct RateLimits {
    tenant: DefaultKeyedRateLimiter<String>,
    user: DefaultKeyedRateLimiter<(String, String)>,
    checks: AtomicU64,
    pub tenant_rate: Rate,
    pub user_rate: Rate,
}

/// Every this many checks, buckets that are full again are forgotten (the
/// key maps stay as small as the active callers).
const PRUNE_EVERY: u64 = 4096;

impl RateLimits {
    pub fn new(tenant_rate: Rate, user_rate: Rate) -> Self {
        Self {
            tenant: DefaultKeyedRateLimiter::keyed(tenant_rate.quota()),
            user: DefaultKeyedRateLimiter::keyed(user_rate.quota()),
            checks: AtomicU64::new(0),
            tenant_rate,
            user_rate,
        }
    }

    /// Takes one request from the caller's site and user buckets, or says
    /// how long to wait.
    pub fn check(&self, who: &Verified) -> Result<(), AppError> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.tenant.retain_recent();
            self.user.retain_recent();
        }
        let tenant = who.tenant.as_str().to_owned();
        // The limiter's own clock: a new `DefaultClock` per request would
        // calibrate a fresh TSC clock each time (cpuid, ~6 % of a course
        // read under load in `perf`).
        let now = self.tenant.clock().now();
        if let Err(not_until) = self.tenant.check_key(&tenant) {
            return Err(limited(
                not_until.wait_time_from(now).as_secs_f64(),
                Whom::Site,
            ));
        }
        if let Some(account) = &who.account_id {
            if let Err(not_until) = self.user.check_key(&(tenant, account.clone())) {
                return Err(limited(
                    not_until.wait_time_from(now).as_secs_f64(),
                    Whom::User,
                ));
            }
        }
        Ok(())
    }
}

/// Whose bucket ran dry.
#[derive(Clone, Copy, Debug)]
enum Whom {
    Site,
    User,
}

/// A 429 that says how long to wait, in the language of the call.
fn limited(wait_secs: f64, whom: Whom) -> AppError {
    let retry_after_secs = wait_secs.ceil().max(1.0) as u32;
    tracing::debug!(retry_after_secs, ?whom, "server function rate-limited");
    let loc = crate::locale::request_locale();
    let template = match whom {
        Whom::Site => leptos_i18n::td_string!(loc, guard.rate_site),
        Whom::User => leptos_i18n::td_string!(loc, guard.rate_you),
    };
    AppError::RateLimited {
        retry_after_secs,
        message: crate::locale::fill(template, &[&retry_after_secs]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Outside a request the words are English (the API tests hold them).
    #[test]
    fn a_limit_says_whose_and_how_long() {
        match limited(0.2, Whom::User) {
            AppError::RateLimited {
                retry_after_secs,
                message,
            } => {
                assert_eq!(retry_after_secs, 1);
                assert_eq!(
                    message,
                    "Too many requests from you right now. Please wait 1 s and try again."
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            limited(2.5, Whom::Site).to_string(),
            "Too many requests from this site right now. Please wait 3 s and try again."
        );
    }
}
