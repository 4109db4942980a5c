//! Guards: what a server function knows about its caller, as types.
//!
//! Each guard is built from the verified token of the current call and,
//! where it says so, an answer from Confluence about the caller's
//! permission. Two transports, one implementation: a **context JWT**
//! (`Authorization: JWT`, our Connect iframes) or, when Forge is configured,
//! a **Forge Invocation Token** (`Authorization: Bearer`, our Forge Custom
//! UI through `invokeRemote`). The scheme decides which verifier runs;
//! there is no fallback from one to the other. Both give the same
//! [`Verified`]: tenant from the verified token (for Forge: the
//! installation's active tenant), account (`sub` / `principal`), page and
//! space (the token's context), and the rate limits apply alike. A function that holds a
//! [`Learner`] has a logged-in user who may view the macro's page; an
//! [`Editor`] may edit it; a [`SpaceAdmin`] administers the space the tab is
//! open in. The tenant inside every guard comes from the verified token only.
//! Refusals are worded in the language of the call (`request_locale`).

use axum::http::request::Parts;
use connect::{auth::ContextJwt, authz, authz::AuthzError, forge, Verified};
use leptos::prelude::use_context;

use leptos_i18n::td_string;

use crate::{error::AppError, locale::request_locale, state::AppState};

/// Allowed → `Ok`; denied → 403; Confluence could not answer → 500 (fail
/// closed), a malformed id → 400 (see `From<AuthzError>`).
pub fn require(decision: Result<bool, AuthzError>) -> Result<(), AppError> {
    match decision? {
        true => Ok(()),
        false => Err(AppError::Forbidden),
    }
}

/// Any verified caller of this site (possibly anonymous).
#[derive(Clone, Debug)]
pub struct Caller {
    pub state: AppState,
    pub who: Verified,
}

impl Caller {
    /// Verifies the token of the current call — a context JWT, or with
    /// Forge configured a `Bearer` Forge Invocation Token (a page JWT, a
    /// missing or bad token → 401) — and takes one request from the site's
    /// and the user's rate limits (429 when over).
    pub async fn verify() -> Result<Self, AppError> {
        let state = AppState::current()?;
        let parts = use_context::<Parts>().ok_or_else(|| {
            tracing::error!("request parts missing from server-function context");
            AppError::Internal
        })?;
        let who = match (&state.forge, forge::is_bearer(&parts)) {
            (Some(verifier), true) => verifier
                .verify_request(&parts, &state.db, &state.connect.tenants)
                .await
                .map_err(|reason| {
                    reason.record();
                    AppError::Unauthorized
                })?,
            // Without Forge a bearer token meets the Connect verifier,
            // which refuses anything but `JWT` (reason "missing").
            _ => match ContextJwt::from_parts(&parts, &state.connect).await {
                Ok(ContextJwt(who)) => who,
                Err(reason) => {
                    reason.record();
                    return Err(AppError::Unauthorized);
                }
            },
        };
        state.limits.check(&who)?;
        keep_language(&state, &who, &parts).await;
        Ok(Self { state, who })
    }

    /// The page the macro is on, from the token's context.
    pub fn page(&self, missing: &str) -> Result<String, AppError> {
        self.who
            .content_id
            .clone()
            .ok_or_else(|| AppError::invalid(missing))
    }

    /// May the caller view `page_id`? (403 if not.)
    pub async fn require_view(&self, page_id: &str) -> Result<(), AppError> {
        require(authz::can_view_page(&self.state.connect, &self.who, page_id).await)
    }

    /// May the caller edit `page_id`? (403 if not.)
    pub async fn require_edit(&self, page_id: &str) -> Result<(), AppError> {
        require(authz::can_edit_page(&self.state.connect, &self.who, page_id).await)
    }

    /// Whether the caller may view `page_id` (errors only when Confluence
    /// cannot answer).
    pub async fn can_view(&self, page_id: &str) -> Result<bool, AppError> {
        Ok(authz::can_view_page(&self.state.connect, &self.who, page_id).await?)
    }

    /// Whether the caller may edit `page_id` (errors only when Confluence
    /// cannot answer).
    pub async fn can_edit(&self, page_id: &str) -> Result<bool, AppError> {
        Ok(authz::can_edit_page(&self.state.connect, &self.who, page_id).await?)
    }
}

/// Remembers the language the caller uses the app in (the page's `loc`,
/// sent as `Accept-Language` by `crate::client`), for the mail the app
/// sends outside any request (reminders). Written only when it changed
/// (`store::languages`); a call without the header (scripts, the API
/// tests' default) says nothing about the person and changes nothing. A
/// store that cannot take it costs the call nothing: the next call tries
/// again.
async fn keep_language(state: &AppState, who: &Verified, parts: &Parts) {
    let Some(account) = who.account_id.as_deref().filter(|a| !a.is_empty()) else {
        return;
    };
    let Some(tag) = parts
        .headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return;
    };
    let lang = course::locale::Lang::from_tag(tag).tag();
    let now = state.learning.now_ms();
    if let Err(e) = state
        .db
        .keep_language(&who.tenant, account, lang, now)
        .await
    {
        tracing::warn!(error = %e, "the caller's language was not recorded");
    }
}

/// A logged-in learner who may view the page the macro is on.
#[derive(Clone, Debug)]
pub struct Learner {
    pub caller: Caller,
    /// The learner's Atlassian account id (from the token's `sub`).
    pub account: String,
    /// The page the macro is on.
    pub page: String,
}

impl Learner {
    /// Context JWT verified, a logged-in user (anonymous viewers have no
    /// learner record: 401), view permission on the page (403).
    pub async fn verify() -> Result<Self, AppError> {
        let caller = Caller::verify().await?;
        let Some(account) = caller.who.account_id.clone().filter(|a| !a.is_empty()) else {
            return Err(AppError::Unauthorized);
        };
        let page = caller.page(td_string!(request_locale(), guard.open_course_from_page))?;
        caller.require_view(&page).await?;
        Ok(Self {
            caller,
            account,
            page,
        })
    }

    pub fn state(&self) -> &AppState {
        &self.caller.state
    }

    pub fn who(&self) -> &Verified {
        &self.caller.who
    }
}

/// A caller who may edit the page the macro is on.
#[derive(Clone, Debug)]
pub struct Editor {
    pub caller: Caller,
    /// The page the macro is on.
    pub page: String,
    /// Its space.
    pub space: String,
}

impl Editor {
    /// Context JWT verified, the page and space known, edit permission (403).
    pub async fn verify() -> Result<Self, AppError> {
        let caller = Caller::verify().await?;
        let (page, space) = page_and_space(&caller)?;
        caller.require_edit(&page).await?;
        Ok(Self {
            caller,
            page,
            space,
        })
    }

    pub fn state(&self) -> &AppState {
        &self.caller.state
    }

    pub fn who(&self) -> &Verified {
        &self.caller.who
    }
}

/// The page and space of the editor's token, or 400.
pub fn page_and_space(caller: &Caller) -> Result<(String, String), AppError> {
    match (&caller.who.content_id, &caller.who.space_key) {
        (Some(c), Some(s)) => Ok((c.clone(), s.clone())),
        _ => Err(AppError::invalid(td_string!(
            request_locale(),
            guard.open_editor_from_page
        ))),
    }
}

/// An administrator of the space the admin tab is open in.
#[derive(Clone, Debug)]
pub struct SpaceAdmin {
    pub caller: Caller,
    /// The space, from the token (never from the request).
    pub space_key: String,
}

impl SpaceAdmin {
    /// Context JWT verified, a space in its context, space admin (403).
    pub async fn verify() -> Result<Self, AppError> {
        let caller = Caller::verify().await?;
        let Some(space_key) = caller.who.space_key.clone() else {
            return Err(AppError::invalid(td_string!(
                request_locale(),
                guard.open_from_space
            )));
        };
        require(authz::is_space_admin(&caller.state.connect, &caller.who, &space_key).await)?;
        Ok(Self { caller, space_key })
    }

    pub fn state(&self) -> &AppState {
        &self.caller.state
    }

    pub fn who(&self) -> &Verified {
        &self.caller.who
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_map_to_statuses_and_fail_closed() {
        assert_eq!(require(Ok(true)), Ok(()));
        assert_eq!(require(Ok(false)), Err(AppError::Forbidden));
        use connect::host_client::{HostError, TransportFailure};
        assert_eq!(
            require(Err(AuthzError::Host(HostError::Transport(
                TransportFailure::Connect
            )))),
            Err(AppError::Internal)
        );
        assert!(matches!(
            require(Err(AuthzError::InvalidContentId)),
            Err(AppError::Invalid(_))
        ));
    }
}
