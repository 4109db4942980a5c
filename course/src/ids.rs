//! Validated identifiers: parse, don't validate. A server function that
//! takes a [`CourseId`] cannot be called with something that is not one —
//! the value is checked when the request is deserialised, and a refused
//! value answers 400 with the type's own message.
//!
//! Two kinds of ids:
//! - ids **we generate** (course and attempt UUIDs, the browser's attempt
//!   token): non-empty, bounded, ASCII letters, digits and dashes only;
//! - ids **authors make** (modules, lessons, questions): compared, never
//!   parsed or put into a query string, so any text up to 200 bytes.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Precedes and follows a newtype's refusal message inside serde's error
/// text, so the server-function layer can show exactly that message (and
/// nothing else of serde's) to the user.
pub const VALIDATION_MARK: &str = "\u{2063}";

/// Why a text is not an id of the wanted kind (the message is for people).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidId(pub &'static str);

impl fmt::Display for InvalidId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{VALIDATION_MARK}{}{VALIDATION_MARK}", self.0)
    }
}

impl std::error::Error for InvalidId {}

impl InvalidId {
    /// The message alone (without the marks).
    pub fn message(&self) -> &'static str {
        self.0
    }
}

fn generated_id_is_valid(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn authored_id_is_valid(s: &str) -> bool {
    !s.is_empty() && s.len() <= 200
}

fn client_token_is_valid(s: &str) -> bool {
    (16..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Atlassian account ids: opaque, e.g. `557058:f3b2…` or a 24-character
/// hex id; at most 128 characters of letters, digits, `:`, `-`, `_`.
fn account_id_is_valid(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'-' | b'_'))
}

/// Confluence group names: any text but control characters, at most 255
/// bytes, not blank.
fn group_name_is_valid(s: &str) -> bool {
    !s.trim().is_empty() && s.len() <= 255 && !s.chars().any(char::is_control)
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $valid:ident, $message:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The refusal message for a text that is not one.
            pub const INVALID: &'static str = $message;

            /// `s` if it is a valid id of this kind.
            pub fn parse(s: impl Into<String>) -> Result<Self, InvalidId> {
                let s = s.into();
                if $valid(&s) {
                    Ok(Self(s))
                } else {
                    Err(InvalidId($message))
                }
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id as an owned `String`.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(s: String) -> Result<Self, InvalidId> {
                Self::parse(s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }
    };
}

id_type!(
    /// A course (a UUID we made when the course was first saved).
    CourseId,
    generated_id_is_valid,
    "That is not a course id."
);
id_type!(
    /// A quiz attempt (a UUID we made when it started).
    AttemptId,
    generated_id_is_valid,
    "That is not an attempt id."
);
id_type!(
    /// The token the browser makes per "Start" of a quiz, so a retried start
    /// returns the same attempt (a UUID, 16 to 64 letters, digits, dashes).
    ClientToken,
    client_token_is_valid,
    "The attempt token must be a UUID made by the browser."
);
id_type!(
    /// A module of a course (its quiz is named by the module's id).
    ModuleId,
    authored_id_is_valid,
    "That is not a quiz id."
);
id_type!(
    /// A lesson of a course.
    LessonId,
    authored_id_is_valid,
    "That is not a lesson id."
);
id_type!(
    /// A question of a quiz.
    QuestionId,
    authored_id_is_valid,
    "That is not a question id."
);
id_type!(
    /// An Atlassian account (a learner, an admin).
    AccountId,
    account_id_is_valid,
    "That is not an Atlassian account id."
);
id_type!(
    /// A Confluence group, by name.
    GroupName,
    group_name_is_valid,
    "That is not a group name."
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_ids_are_bounded_ascii_letters_digits_and_dashes() {
        assert!(CourseId::parse("5a1e0c3d-7b2f-4e8a-9c61-0d4b3f2a1e77").is_ok());
        for bad in ["", "x/../y", "a b", "ü", "a;DROP", &"a".repeat(65)] {
            assert_eq!(
                CourseId::parse(bad),
                Err(InvalidId(CourseId::INVALID)),
                "{bad:?}"
            );
        }
        assert!(AttemptId::parse("x").is_ok());
        assert!(ClientToken::parse("short").is_err());
        assert!(ClientToken::parse("0123456789abcdef").is_ok());
    }

    #[test]
    fn account_ids_and_group_names() {
        assert!(AccountId::parse("557058:f3b2c1d0-aaaa-bbbb-cccc-0123456789ab").is_ok());
        assert!(AccountId::parse("5b10ac8d82e05b22cc7d4ef5").is_ok());
        for bad in ["", "a b", "a/b", "a\"b", &"a".repeat(129)] {
            assert!(AccountId::parse(bad).is_err(), "{bad:?}");
        }
        assert!(GroupName::parse("confluence-users").is_ok());
        assert!(GroupName::parse("New starters (2026)").is_ok());
        for bad in ["", "   ", "a\nb", &"g".repeat(256)] {
            assert!(GroupName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn authored_ids_are_any_text_up_to_200_bytes() {
        assert!(LessonId::parse("Lesson 1: the basics ✓").is_ok());
        assert!(LessonId::parse("").is_err());
        assert!(QuestionId::parse("q".repeat(200)).is_ok());
        assert!(QuestionId::parse("q".repeat(201)).is_err());
    }

    #[test]
    fn deserialising_validates_and_carries_the_marked_message() {
        let ok: CourseId = serde_json::from_str("\"abc-123\"").unwrap();
        assert_eq!(ok.as_str(), "abc-123");
        let err = serde_json::from_str::<CourseId>("\"../etc\"").unwrap_err();
        let text = err.to_string();
        let inner = text.split(VALIDATION_MARK).nth(1);
        assert_eq!(inner, Some(CourseId::INVALID), "{text}");
        // Serialises as the plain string.
        assert_eq!(serde_json::to_string(&ok).unwrap(), "\"abc-123\"");
    }

    proptest! {
        #[test]
        fn parse_accepts_exactly_the_documented_alphabet(s in "\\PC{0,80}") {
            let expected = !s.is_empty()
                && s.len() <= 64
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            prop_assert_eq!(CourseId::parse(s.clone()).is_ok(), expected);
        }
    }
}
