//! Server functions: the app's API, called from the iframe with a context JWT.
//!
//! Each has an explicit, stable endpoint under `/api/` (listed in README
//! "Routes"). Every one starts by verifying the caller through
//! [`ssr::caller`], which yields the tenant and user from the token only.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{client::ApClient, error::AppError};

/// Who the server thinks is calling, straight from the verified context JWT.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhoAmI {
    /// Atlassian account id (`sub`), if the viewer is logged in.
    pub account_id: Option<String>,
    /// Space key from the token's Confluence context.
    pub space_key: Option<String>,
    /// Page (content) id from the token's Confluence context.
    pub content_id: Option<String>,
}

/// `POST /api/whoami` — the identity the server verified. Used by the pages
/// to show that the AP bridge and the context-JWT path work end to end.
#[server(endpoint = "whoami", client = ApClient)]
pub async fn whoami() -> Result<WhoAmI, AppError> {
    let caller = ssr::caller().await?;
    Ok(WhoAmI {
        account_id: caller.account_id,
        space_key: caller.space_key,
        content_id: caller.content_id,
    })
}

/// Server-side helpers shared by all server functions.
#[cfg(feature = "ssr")]
pub mod ssr {
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;

    use crate::{
        connect::{auth::ContextJwt, Verified},
        error::AppError,
        state::AppState,
    };

    /// Sets the HTTP status for `err` on the current response and returns it,
    /// so `return Err(fail(e))` answers with the right code.
    pub fn fail(err: AppError) -> AppError {
        if let Some(opts) = use_context::<ResponseOptions>() {
            if let Ok(code) = axum::http::StatusCode::from_u16(err.status()) {
                opts.set_status(code);
            }
        }
        err
    }

    /// Ids we generate (course and attempt UUIDs): non-empty, at most 64
    /// ASCII letters, digits and dashes; otherwise a 400 naming `what`.
    pub fn validate_id(id: &str, what: &str) -> Result<(), AppError> {
        let ok = !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if ok {
            Ok(())
        } else {
            Err(fail(AppError::Invalid(format!("That is not a {what} id."))))
        }
    }

    /// Verifies the context JWT of the current call. Server functions accept
    /// nothing else (a page JWT, a missing or bad token → 401).
    pub async fn caller() -> Result<Verified, AppError> {
        let state = AppState::current().map_err(fail)?;
        let parts = use_context::<axum::http::request::Parts>().ok_or_else(|| {
            tracing::error!("request parts missing from server-function context");
            fail(AppError::Internal)
        })?;
        match ContextJwt::from_parts(&parts, &state).await {
            Ok(ContextJwt(v)) => Ok(v),
            Err(reason) => {
                tracing::debug!(%reason, "server function refused: authentication failed");
                Err(fail(AppError::Unauthorized))
            }
        }
    }
}
