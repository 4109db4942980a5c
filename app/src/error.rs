//! The one error type every server function returns.
//!
//! Messages are written for the person in front of the page: short, useful,
//! and never carrying internals (those are logged on the server instead).
//!
//! The HTTP status is set in one place: the server's `/api/*` handler reads
//! the error a server function returned and answers with
//! [`AppError::status`]. Server-side failures of the layers beneath
//! (store, trust core) become an `AppError` through the `From` impls below,
//! which log the detail and keep it out of the answer.

use serde::{Deserialize, Serialize};
use server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};

/// What went wrong, as the browser is allowed to know it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// 401: no valid context token (expired, forged, wrong kind, unknown tenant).
    #[error("Your session could not be verified. Reload the page and try again.")]
    Unauthorized,
    /// 403: authenticated, but Confluence says this user may not do this.
    #[error("You do not have permission to do that.")]
    Forbidden,
    /// 403: the course takes enrolled learners only and this learner is not
    /// enrolled; the text says what to do.
    #[error("{0}")]
    NotEnrolled(String),
    /// 404: nothing of that id for this site.
    #[error("Not found.")]
    NotFound,
    /// 400: the input was refused; the text says why.
    #[error("{0}")]
    Invalid(String),
    /// 409: the thing changed meanwhile or already exists.
    #[error("{0}")]
    Conflict(String),
    /// 409: a site's quota (courses, versions, storage) is used up; the
    /// text names the limit.
    #[error("{0}")]
    LimitReached(String),
    /// 429: too many requests; the answer carries `Retry-After`.
    #[error("{message}")]
    RateLimited {
        retry_after_secs: u32,
        message: String,
    },
    /// 500: our fault; details are in the server log only.
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// 503: something this site's installation or Confluence must provide is
    /// missing or down; the text says what.
    #[error("{0}")]
    Unavailable(String),
    /// The request never reached the server or its answer was unreadable.
    #[error("Could not reach Smart Courses ({0}). Check your connection and try again.")]
    Transport(String),
}

impl AppError {
    /// The HTTP status the server answers with for this error.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthorized => 401,
            AppError::Forbidden | AppError::NotEnrolled(_) => 403,
            AppError::NotFound => 404,
            AppError::Invalid(_) => 400,
            AppError::Conflict(_) | AppError::LimitReached(_) => 409,
            AppError::RateLimited { .. } => 429,
            AppError::Internal => 500,
            AppError::Unavailable(_) => 503,
            AppError::Transport(_) => 502,
        }
    }

    /// What the person in front of the page is shown, in the page's
    /// language: the fixed errors are worded here (in the browser); the
    /// others carry a text the server already wrote in the language of
    /// the call (`crate::locale::request_lang`). `Display` stays English,
    /// for logs.
    pub fn text(&self, loc: crate::locale::Locale) -> String {
        use leptos_i18n::td_string;
        match self {
            AppError::Unauthorized => td_string!(loc, errors.unauthorized).into(),
            AppError::Forbidden => td_string!(loc, errors.forbidden).into(),
            AppError::NotFound => td_string!(loc, errors.not_found).into(),
            AppError::Internal => td_string!(loc, errors.internal).into(),
            AppError::Transport(m) => crate::locale::fill(td_string!(loc, errors.transport), &[m]),
            AppError::NotEnrolled(m)
            | AppError::Invalid(m)
            | AppError::Conflict(m)
            | AppError::LimitReached(m)
            | AppError::Unavailable(m)
            | AppError::RateLimited { message: m, .. } => m.clone(),
        }
    }

    /// A 400 with `message`.
    pub fn invalid(message: impl Into<String>) -> Self {
        AppError::Invalid(message.into())
    }

    /// A 409 with `message`.
    pub fn conflict(message: impl Into<String>) -> Self {
        AppError::Conflict(message.into())
    }

    /// A 500 for data that should not exist (logged with `what`).
    #[cfg(feature = "ssr")]
    pub fn inconsistent(what: &str) -> Self {
        tracing::error!(what, "inconsistent data");
        AppError::Internal
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    /// Framework errors: on the server, arguments that could not be read
    /// (answered 400 by the `/api/*` handler); in the browser, a request that
    /// failed on the way.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(m) | ServerFnErrorErr::Response(m) => AppError::Transport(m),
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::Deserialization(m) => {
                AppError::Invalid(malformed(&m))
            }
            ServerFnErrorErr::MissingArg(name) => AppError::Invalid(missing_field(&name)),
            _ => AppError::Internal,
        }
    }
}

use course::ids::VALIDATION_MARK;

/// The text for arguments that could not be read: our own validation
/// message when a newtype refused a value, else a generic one (serde's
/// texts describe our types, not the user's mistake).
fn malformed(detail: &str) -> String {
    match detail.split(VALIDATION_MARK).nth(1) {
        Some(ours) if !ours.is_empty() => words::id_refusal(ours),
        _ => words::malformed(),
    }
}

/// The text for a call without one of its arguments.
fn missing_field(name: &str) -> String {
    words::missing_field(name)
}

/// The framework's refusals: in the language of the call on the server;
/// in the browser (where they do not arise from our calls) the English
/// texts, so the bundles carry no more words.
#[cfg(feature = "ssr")]
mod words {
    use crate::locale::{fill, request_locale};
    use leptos_i18n::td_string;

    pub(super) fn malformed() -> String {
        td_string!(request_locale(), guard.malformed).into()
    }

    pub(super) fn missing_field(name: &str) -> String {
        fill(td_string!(request_locale(), guard.missing_field), &[&name])
    }

    /// An id type's refusal (`course::ids`, English) in the call's language;
    /// another text as it is.
    pub(super) fn id_refusal(message: &str) -> String {
        use course::ids::*;
        let loc = request_locale();
        let words = match message {
            m if m == CourseId::INVALID => td_string!(loc, guard.id_course),
            m if m == AttemptId::INVALID => td_string!(loc, guard.id_attempt),
            m if m == ClientToken::INVALID => td_string!(loc, guard.id_client_token),
            m if m == ModuleId::INVALID => td_string!(loc, guard.id_quiz),
            m if m == LessonId::INVALID => td_string!(loc, guard.id_lesson),
            m if m == QuestionId::INVALID => td_string!(loc, guard.id_question),
            m if m == AccountId::INVALID => td_string!(loc, guard.id_account),
            m if m == GroupName::INVALID => td_string!(loc, guard.id_group),
            other => other,
        };
        words.to_owned()
    }
}

#[cfg(not(feature = "ssr"))]
mod words {
    pub(super) fn malformed() -> String {
        "The request was malformed.".into()
    }

    pub(super) fn missing_field(name: &str) -> String {
        format!("Missing field: {name}")
    }

    pub(super) fn id_refusal(message: &str) -> String {
        message.to_owned()
    }
}

impl From<course::ids::InvalidId> for AppError {
    /// A text that is not a valid id → 400 with the id type's message.
    fn from(e: course::ids::InvalidId) -> Self {
        AppError::Invalid(words::id_refusal(e.message()))
    }
}

#[cfg(feature = "ssr")]
mod from_layers {
    use super::AppError;
    use crate::locale::request_locale;
    use leptos_i18n::td_string;

    impl From<store::StoreError> for AppError {
        /// Not found → 404; a concurrent change → 409; anything else is
        /// logged and answered 500.
        fn from(e: store::StoreError) -> Self {
            match e {
                store::StoreError::NotFound => AppError::NotFound,
                store::StoreError::Conflict => {
                    AppError::Conflict(td_string!(request_locale(), guard.changed_meanwhile).into())
                }
                other => {
                    tracing::error!(error = %other, "store error");
                    AppError::Internal
                }
            }
        }
    }

    impl From<connect::authz::AuthzError> for AppError {
        /// A malformed id → 400; Confluence unreachable or confused → 500
        /// (fail closed: nothing is allowed without an answer).
        fn from(e: connect::authz::AuthzError) -> Self {
            use connect::authz::AuthzError;
            match e {
                AuthzError::InvalidContentId => {
                    AppError::Invalid(td_string!(request_locale(), guard.bad_page_id).into())
                }
                AuthzError::InvalidSpaceKey => {
                    AppError::Invalid(td_string!(request_locale(), guard.bad_space_key).into())
                }
                // The site's install carried no OAuth client id: nothing that
                // acts as a user can work there until it is reinstalled.
                AuthzError::Host(connect::host_client::HostError::NoOAuthClient) => {
                    AppError::Unavailable(
                        td_string!(request_locale(), guard.no_oauth_client).into(),
                    )
                }
                AuthzError::Host(e) => {
                    tracing::error!(error = %e, "permission check failed; denying");
                    AppError::Internal
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_validation_messages_pass_and_serde_texts_do_not() {
        let ours = format!("course_id: {VALIDATION_MARK}That is not a course id.{VALIDATION_MARK}");
        assert_eq!(malformed(&ours), "That is not a course id.");
        // Every id type's refusal reads the same in English (no request).
        use course::ids::*;
        for m in [
            CourseId::INVALID,
            AttemptId::INVALID,
            ClientToken::INVALID,
            ModuleId::INVALID,
            LessonId::INVALID,
            QuestionId::INVALID,
            AccountId::INVALID,
            GroupName::INVALID,
        ] {
            assert_eq!(words::id_refusal(m), m);
        }
        assert_eq!(
            malformed("invalid type: string \"x\", expected i64"),
            "The request was malformed."
        );
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn store_and_authz_failures_map_to_statuses_and_fail_closed() {
        assert_eq!(AppError::from(store::StoreError::NotFound).status(), 404);
        assert_eq!(AppError::from(store::StoreError::Conflict).status(), 409);
        assert_eq!(
            AppError::from(store::StoreError::UnsupportedUrl),
            AppError::Internal
        );
        use connect::{authz::AuthzError, host_client::*};
        assert_eq!(
            AppError::from(AuthzError::Host(HostError::Transport(
                TransportFailure::Connect
            ))),
            AppError::Internal
        );
        assert!(matches!(
            AppError::from(AuthzError::InvalidContentId),
            AppError::Invalid(_)
        ));
    }
}
