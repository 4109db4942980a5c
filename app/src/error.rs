//! The one error type every server function returns.
//!
//! Messages are written for the person in front of the page: short, useful,
//! and never carrying internals (those are logged on the server instead).

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
    /// 404: nothing of that id for this site.
    #[error("Not found.")]
    NotFound,
    /// 400/422: the input was refused; the text says why.
    #[error("{0}")]
    Invalid(String),
    /// 409: the thing changed meanwhile or already exists.
    #[error("{0}")]
    Conflict(String),
    /// 500: our fault; details are in the server log only.
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// The request never reached the server or its answer was unreadable.
    #[error("Could not reach Smart Courses ({0}). Check your connection and try again.")]
    Transport(String),
}

impl AppError {
    /// The HTTP status the server answers with for this error.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthorized => 401,
            AppError::Forbidden => 403,
            AppError::NotFound => 404,
            AppError::Invalid(_) => 400,
            AppError::Conflict(_) => 409,
            AppError::Internal => 500,
            AppError::Transport(_) => 502,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        // On the server this runs while the request is handled (e.g. its
        // arguments failed to decode): answer with the matching status, not 500.
        #[cfg(feature = "ssr")]
        {
            crate::api::ssr::fail(Self::from_framework(value))
        }
        #[cfg(not(feature = "ssr"))]
        {
            Self::from_framework(value)
        }
    }
}

impl AppError {
    fn from_framework(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(m) | ServerFnErrorErr::Response(m) => AppError::Transport(m),
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::Deserialization(_) => {
                AppError::Invalid("The request was malformed.".into())
            }
            ServerFnErrorErr::MissingArg(name) => {
                AppError::Invalid(format!("Missing field: {name}"))
            }
            _ => AppError::Internal,
        }
    }
}
