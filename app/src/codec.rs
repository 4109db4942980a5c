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
}
