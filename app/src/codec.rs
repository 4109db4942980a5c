//! The output codec of the large reads (`learning/course`,
//! `authoring/open`): JSON exactly like `server_fn::codec::Json`, written
//! into a buffer sized for the response.
//!
//! `server_fn`'s JSON codec starts from `serde_json::to_vec`'s 128-byte
//! buffer and lets it double: a 33 KB course went through nine reallocations
//! and copied itself about twice over (`memmove` was 6 % of the learner's
//! course read in `perf`). This codec remembers, per thread, how large its
//! last answer was and starts the next one at that size, so a run of reads
//! of the same course writes each answer once. The browser's side is plain
//! `serde_json`, the wire format is unchanged.
//!
//! [`Encoded`] goes one step further for an answer the server can keep: it
//! *is* the encoded bytes on the server ([`EncodedJson`] sends them as
//! they are, shared, not copied), and the decoded value in the browser.

use std::cell::Cell;

use bytes::Bytes;
use serde::{de::DeserializeOwned, Serialize};
use server_fn::{ContentType, Decodes, Encodes, Format, FormatType};

/// JSON in a buffer sized by the thread's previous answer.
#[derive(Debug)]
pub struct SizedJsonEncoding;

/// `POST` with a [`SizedJsonEncoding`] body (the `output` of a server function).
pub type SizedJson = server_fn::codec::Post<SizedJsonEncoding>;

/// The first guess, and the smallest.
const MIN_HINT: usize = 1024;
/// The largest buffer a guess asks for up front (a larger answer still
/// grows as needed).
const MAX_HINT: usize = 1 << 20;

thread_local! {
    static LAST_LEN: Cell<usize> = const { Cell::new(MIN_HINT) };
}

impl ContentType for SizedJsonEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for SizedJsonEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for SizedJsonEncoding {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        let hint = LAST_LEN.with(Cell::get);
        // An eighth more: the next learner's answer may be a little longer
        // (their progress, an open attempt).
        let mut buf = Vec::with_capacity(hint + hint / 8);
        serde_json::to_writer(&mut buf, output)?;
        LAST_LEN.with(|last| last.set(buf.len().clamp(MIN_HINT, MAX_HINT)));
        Ok(Bytes::from(buf))
    }
}

impl<T: DeserializeOwned> Decodes<T> for SizedJsonEncoding {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        serde_json::from_slice(&bytes)
    }
}

/// A server function's answer encoded once, as JSON: on the server the
/// bytes (which it may keep and send again: `learning/course` keeps the
/// learner's view until their records change), in the browser the value.
pub struct Encoded<T> {
    #[cfg(feature = "ssr")]
    body: Bytes,
    #[cfg(not(feature = "ssr"))]
    value: T,
    _of: std::marker::PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Encoded<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoded").finish_non_exhaustive()
    }
}

#[cfg(feature = "ssr")]
impl<T: Serialize> Encoded<T> {
    /// `value` encoded now (as [`SizedJsonEncoding`] would).
    pub fn new(value: &T) -> Result<Self, serde_json::Error> {
        Ok(Self::from_bytes(<SizedJsonEncoding as Encodes<T>>::encode(
            value,
        )?))
    }
}

#[cfg(feature = "ssr")]
impl<T> Encoded<T> {
    /// Bytes made by [`Self::new`] for the same `T` (kept, sent again).
    pub fn from_bytes(body: Bytes) -> Self {
        Self {
            body,
            _of: std::marker::PhantomData,
        }
    }

    /// The encoded answer (cheap to clone: shared).
    pub fn body(&self) -> &Bytes {
        &self.body
    }
}

impl<T: DeserializeOwned> Encoded<T> {
    /// The value: in the browser as it arrived; on the server decoded from
    /// the bytes (server-side rendering calls the function in process).
    pub fn into_inner(self) -> Result<T, crate::error::AppError> {
        #[cfg(feature = "ssr")]
        return serde_json::from_slice(&self.body).map_err(|e| {
            tracing::error!(error = %e, "an encoded answer does not decode");
            crate::error::AppError::Internal
        });
        #[cfg(not(feature = "ssr"))]
        Ok(self.value)
    }
}

/// The encoding of [`Encoded`] answers: their bytes as they are.
#[derive(Debug)]
pub struct EncodedJsonEncoding;

/// `POST` with an [`Encoded`] answer (the `output` of a server function).
pub type EncodedJson = server_fn::codec::Post<EncodedJsonEncoding>;

impl ContentType for EncodedJsonEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for EncodedJsonEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<Encoded<T>> for EncodedJsonEncoding {
    type Error = serde_json::Error;

    fn encode(output: &Encoded<T>) -> Result<Bytes, Self::Error> {
        #[cfg(feature = "ssr")]
        return Ok(output.body.clone());
        #[cfg(not(feature = "ssr"))]
        serde_json::to_vec(&output.value).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<Encoded<T>> for EncodedJsonEncoding {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<Encoded<T>, Self::Error> {
        #[cfg(feature = "ssr")]
        return Ok(Encoded::from_bytes(bytes));
        #[cfg(not(feature = "ssr"))]
        Ok(Encoded {
            value: serde_json::from_slice(&bytes)?,
            _of: std::marker::PhantomData,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Answer {
        title: String,
        items: Vec<u32>,
    }

    #[test]
    fn encodes_like_serde_json_and_decodes_back_whatever_size_came_before() {
        let small = Answer {
            title: "a \"quoted\" title".into(),
            items: vec![1, 2, 3],
        };
        let large = Answer {
            title: "x".repeat(40_000),
            items: (0..5_000).collect(),
        };
        // Large after small, small after large, and again: the size hint
        // never changes what is written.
        for a in [&small, &large, &small, &large] {
            let bytes = <SizedJsonEncoding as Encodes<Answer>>::encode(a).unwrap();
            assert_eq!(&bytes[..], serde_json::to_vec(a).unwrap().as_slice());
            let back: Answer = <SizedJsonEncoding as Decodes<Answer>>::decode(bytes).unwrap();
            assert_eq!(&back, a);
        }
        assert!(LAST_LEN.with(Cell::get) <= MAX_HINT);
    }

    #[test]
    fn an_encoded_answer_is_sent_as_its_bytes_and_decodes_to_its_value() {
        let a = Answer {
            title: "é \"q\"".into(),
            items: vec![4, 5],
        };
        let e = Encoded::new(&a).unwrap();
        let sent = <EncodedJsonEncoding as Encodes<Encoded<Answer>>>::encode(&e).unwrap();
        assert_eq!(&sent[..], serde_json::to_vec(&a).unwrap().as_slice());
        // Shared, not copied.
        assert_eq!(sent.as_ptr(), e.body().as_ptr());
        let back = <EncodedJsonEncoding as Decodes<Encoded<Answer>>>::decode(sent).unwrap();
        assert_eq!(back.into_inner().unwrap(), a);
    }
}
