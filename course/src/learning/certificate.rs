//! Certificates: a stable, printable id per completion, and expiry.

use sha2::{Digest, Sha256};

/// Milliseconds per day.
const DAY_MS: i64 = 86_400_000;

/// `SC-` and twelve hex digits, stable per (site, course, learner, version,
/// completion time) — the same certificate always shows the same id, and
/// the id reveals none of its inputs.
pub fn certificate_id(
    client_key: &str,
    course_id: &str,
    account_id: &str,
    version: i64,
    completed_at_secs: i64,
) -> String {
    let digest = Sha256::digest(
        format!("{client_key}\n{course_id}\n{account_id}\n{version}\n{completed_at_secs}")
            .as_bytes(),
    );
    format!("SC-{}", hex::encode_upper(&digest[..6]))
}

/// When a certificate completed at `completed_at_ms` expires (`None`: never).
pub fn expires_at_ms(completed_at_ms: i64, validity_days: Option<u32>) -> Option<i64> {
    validity_days.map(|days| completed_at_ms + i64::from(days) * DAY_MS)
}

/// Whether it has expired at `now_ms`.
pub fn expired(expires_at_ms: Option<i64>, now_ms: i64) -> bool {
    expires_at_ms.is_some_and(|e| now_ms >= e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_differ_per_input() {
        let a = certificate_id("site", "c", "u", 1, 100);
        assert_eq!(a, certificate_id("site", "c", "u", 1, 100));
        assert_eq!(a.len(), 15);
        assert!(a.starts_with("SC-"));
        assert_ne!(a, certificate_id("site", "c", "u", 2, 100));
        assert_ne!(a, certificate_id("other", "c", "u", 1, 100));
    }

    #[test]
    fn expiry_is_whole_days_after_completion() {
        assert_eq!(expires_at_ms(1_000, None), None);
        assert_eq!(expires_at_ms(1_000, Some(2)), Some(1_000 + 2 * DAY_MS));
        assert!(!expired(Some(5), 4));
        assert!(expired(Some(5), 5));
        assert!(!expired(None, i64::MAX));
    }
}
