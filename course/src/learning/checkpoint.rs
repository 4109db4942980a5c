//! Offline-journal checkpoints: how the server ties a late answer to the
//! attempt while it was open (see [`super::timing`]).
//!
//! With the attempt view and with every answer it saves, the server hands
//! the browser a checkpoint: the server time and a MAC over the attempt and
//! that time, under a random key kept with the attempt (never sent out).
//! The browser keeps the latest one beside its offline journal and sends it
//! with answers that arrive late. The server can then tell that the browser
//! was in contact with this attempt at that time, and that a late answer
//! claims a time after that contact.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Hex digits of the MAC kept in a checkpoint (128 bits).
const MAC_HEX: usize = 32;

fn mac(key: &str, attempt_id: &str, issued_at_ms: i64) -> String {
    let mut m = HmacSha256::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    m.update(attempt_id.as_bytes());
    m.update(b"\n");
    m.update(issued_at_ms.to_string().as_bytes());
    let full = hex::encode(m.finalize().into_bytes());
    full[..MAC_HEX].to_owned()
}

/// The checkpoint for `attempt_id` at `issued_at_ms`: `<time>.<mac>`.
pub fn issue(key: &str, attempt_id: &str, issued_at_ms: i64) -> String {
    format!("{issued_at_ms}.{}", mac(key, attempt_id, issued_at_ms))
}

/// The issue time of `checkpoint` if it is a valid one for `attempt_id`
/// under `key`; `None` otherwise (forged, for another attempt, malformed).
pub fn verify(key: &str, attempt_id: &str, checkpoint: &str) -> Option<i64> {
    let (time, given) = checkpoint.split_once('.')?;
    if time.len() > 20 || given.len() != MAC_HEX {
        return None;
    }
    let issued: i64 = time.parse().ok()?;
    let expected = mac(key, attempt_id, issued);
    // Constant-time comparison.
    let same = expected
        .bytes()
        .zip(given.bytes())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0;
    same.then_some(issued)
}

/// A fresh random key for a new attempt (hex of 32 random bytes, drawn by
/// the caller from the operating system's generator).
pub fn key_from_random(bytes: [u8; 32]) -> String {
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_checkpoint_verifies_for_its_attempt_and_key_only() {
        let c = issue("key-1", "attempt-1", 1_700_000_000_123);
        assert_eq!(verify("key-1", "attempt-1", &c), Some(1_700_000_000_123));
        assert_eq!(
            verify("key-2", "attempt-1", &c),
            None,
            "another attempt's key"
        );
        assert_eq!(verify("key-1", "attempt-2", &c), None, "another attempt");
        let moved = c.replacen("1700000000123", "1700000000999", 1);
        assert_eq!(verify("key-1", "attempt-1", &moved), None, "time changed");
        for bad in [
            "",
            ".",
            "x.y",
            "123",
            "123.",
            &format!("1.{}", "0".repeat(32)),
        ] {
            assert_eq!(verify("key-1", "attempt-1", bad), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn issued_checkpoints_verify_and_any_change_breaks_them(
            key in "[a-f0-9]{8,64}", attempt in "[a-z0-9-]{1,40}", at in 0i64..i64::MAX / 2,
            flip in 0usize..64,
        ) {
            let c = issue(&key, &attempt, at);
            prop_assert_eq!(verify(&key, &attempt, &c), Some(at));
            let mut bytes = c.clone().into_bytes();
            let i = flip % bytes.len();
            bytes[i] = if bytes[i] == b'0' { b'1' } else { b'0' };
            let changed = String::from_utf8(bytes).unwrap();
            if changed != c {
                prop_assert_eq!(verify(&key, &attempt, &changed), None);
            }
        }
    }
}
