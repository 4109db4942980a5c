//! Secrets at rest: tenant shared secrets are stored encrypted with an
//! AEAD (XChaCha20-Poly1305, RustCrypto `chacha20poly1305`) under a data key
//! from the configuration (`DATA_KEY`), never in clear. A database dump or
//! backup alone gives no tenant's signing key.
//!
//! Stored form: `sc1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`. The
//! nonce is 24 random bytes (safe to pick at random at XChaCha's size); the
//! associated data is the row's client key, so a ciphertext copied onto
//! another tenant's row does not decrypt. The key id says which key of the
//! [`Keyring`] made it: after a rotation (`smart-courses rotate-key`) the
//! previous keys still read old rows until every row is re-encrypted.
//!
//! (OAuth access tokens for ACT_AS_USER are never stored: they live in
//! memory for their lifetime only, see `connect::host_client`.)

use base64::{engine::general_purpose::STANDARD as B64, Engine as _};
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

/// The prefix of an encrypted value (format version 1).
pub const PREFIX: &str = "sc1";
const NONCE_LEN: usize = 24;
const KEY_LEN: usize = 32;

/// Why a data key or an encrypted value was refused. Never holds key
/// material or plaintext.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("a data key is `<id>:<base64 of 32 bytes>` (id: 1-32 of a-z 0-9 . _ -)")]
    BadKey,
    #[error("no data key configured (DATA_KEY): secrets cannot be stored or read")]
    NoKey,
    #[error("the value was encrypted with data key `{0}`, which is not configured")]
    UnknownKey(String),
    #[error("the stored secret does not decrypt (wrong key, or the row was altered)")]
    Corrupt,
}

/// One data key with its id.
struct DataKey {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl DataKey {
    fn parse(text: &str) -> Result<Self, SecretError> {
        let (id, key) = text.trim().split_once(':').ok_or(SecretError::BadKey)?;
        let id_ok = (1..=32).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        let bytes = B64.decode(key.trim()).map_err(|_| SecretError::BadKey)?;
        if !id_ok || bytes.len() != KEY_LEN {
            return Err(SecretError::BadKey);
        }
        let cipher = XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| SecretError::BadKey)?;
        Ok(Self {
            id: id.to_owned(),
            cipher,
        })
    }
}

/// The current data key (encrypts) and previous ones (still decrypt).
pub struct Keyring {
    current: DataKey,
    previous: Vec<DataKey>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current.id)
            .field(
                "previous",
                &self.previous.iter().map(|k| &k.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Keyring {
    /// From `DATA_KEY` and `DATA_KEY_PREVIOUS` (comma-separated).
    pub fn new(
        current: &SecretString,
        previous: Option<&SecretString>,
    ) -> Result<Self, SecretError> {
        let current = DataKey::parse(current.expose_secret())?;
        let previous = previous
            .map(|p| {
                p.expose_secret()
                    .split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(DataKey::parse)
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        Ok(Self { current, previous })
    }

    /// A new random key line (`<id>:<base64>`), for `smart-courses generate-key`.
    pub fn generate(id: &str) -> Result<SecretString, SecretError> {
        let mut key = [0u8; KEY_LEN];
        rand::rngs::OsRng.fill_bytes(&mut key);
        let line = format!("{id}:{}", B64.encode(key));
        DataKey::parse(&line)?;
        Ok(SecretString::from(line))
    }

    /// The id of the key new values are encrypted with.
    pub fn current_id(&self) -> &str {
        &self.current.id
    }

    /// Encrypts `plain`, bound to `context` (the row's client key).
    pub fn encrypt(&self, plain: &str, context: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .current
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encryption of a short secret cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{PREFIX}:{}:{}", self.current.id, B64.encode(out))
    }

    /// Whether `stored` is an encrypted value (else a legacy clear one).
    pub fn is_encrypted(stored: &str) -> bool {
        stored.starts_with("sc1:")
    }

    /// The key id an encrypted value was made with.
    pub fn key_id(stored: &str) -> Option<&str> {
        stored
            .strip_prefix("sc1:")?
            .split_once(':')
            .map(|(id, _)| id)
    }

    /// Decrypts a value made by [`Keyring::encrypt`] for `context`.
    pub fn decrypt(&self, stored: &str, context: &str) -> Result<SecretString, SecretError> {
        let rest = stored.strip_prefix("sc1:").ok_or(SecretError::Corrupt)?;
        let (id, data) = rest.split_once(':').ok_or(SecretError::Corrupt)?;
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == id)
            .ok_or_else(|| SecretError::UnknownKey(id.to_owned()))?;
        let bytes = B64.decode(data).map_err(|_| SecretError::Corrupt)?;
        if bytes.len() < NONCE_LEN {
            return Err(SecretError::Corrupt);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let plain = key
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretError::Corrupt)?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| SecretError::Corrupt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(id: &str) -> Keyring {
        Keyring::new(&Keyring::generate(id).unwrap(), None).unwrap()
    }

    #[test]
    fn round_trips_and_binds_to_the_row() {
        let k = ring("k1");
        let stored = k.encrypt("tenant-secret-123", "site-a");
        assert!(stored.starts_with("sc1:k1:"));
        assert!(!stored.contains("tenant-secret-123"));
        assert_eq!(
            k.decrypt(&stored, "site-a").unwrap().expose_secret(),
            "tenant-secret-123"
        );
        assert_eq!(
            k.decrypt(&stored, "site-b").unwrap_err(),
            SecretError::Corrupt
        );
        assert_ne!(
            stored,
            k.encrypt("tenant-secret-123", "site-a"),
            "fresh nonce each time"
        );
    }

    #[test]
    fn previous_keys_read_old_values_and_unknown_keys_are_named() {
        let old = Keyring::generate("old").unwrap();
        let new = Keyring::generate("new").unwrap();
        let before = Keyring::new(&old, None).unwrap().encrypt("s", "c");
        let rotated = Keyring::new(&new, Some(&old)).unwrap();
        assert_eq!(rotated.decrypt(&before, "c").unwrap().expose_secret(), "s");
        let forgot = Keyring::new(&new, None).unwrap();
        assert_eq!(
            forgot.decrypt(&before, "c").unwrap_err(),
            SecretError::UnknownKey("old".into())
        );
    }

    #[test]
    fn tampering_and_bad_keys_are_refused() {
        let k = ring("k1");
        let mut stored = k.encrypt("secret", "c");
        stored.pop();
        stored.push(if stored.ends_with('A') { 'B' } else { 'A' });
        assert!(k.decrypt(&stored, "c").is_err());
        for bad in [
            "",
            "nokey",
            "k1:short",
            "UPPER:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        ] {
            assert_eq!(
                Keyring::new(&SecretString::from(bad.to_owned()), None).unwrap_err(),
                SecretError::BadKey,
                "{bad}"
            );
        }
        assert!(!format!("{k:?}").contains('='), "Debug shows ids only");
    }
}
