//! The server-function boundary.
//!
//! Every server function (stable endpoints under `/api/`, listed in README
//! "Routes") starts with a **guard** from [`guards`]: a value that can only
//! be made from a verified context JWT (and, for most, an answer from
//! Confluence about the caller's permission). Functions return
//! [`AppError`]; the server's `/api/*` handler turns the error into the HTTP
//! status once, for all of them. Anything below (the store, the trust core)
//! converts into `AppError` with `?`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{client::ApClient, error::AppError};

#[cfg(feature = "ssr")]
pub mod guards;
#[cfg(feature = "ssr")]
pub mod limits;

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

/// `POST /api/whoami` — the identity the server verified.
#[server(endpoint = "whoami", client = ApClient)]
pub async fn whoami() -> Result<WhoAmI, AppError> {
    let caller = guards::Caller::verify().await?;
    Ok(WhoAmI {
        account_id: caller.who.account_id,
        space_key: caller.who.space_key,
        content_id: caller.who.content_id,
    })
}
