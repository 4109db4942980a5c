//! The server-function client: every call carries the AP **context JWT**.
//!
//! Connect apps authenticate calls from their iframe with a short-lived token
//! from `AP.context.getToken()` whose `qsh` is the literal `context-qsh`
//! (<https://developer.atlassian.com/cloud/confluence/understanding-jwt-for-connect-apps/>).
//! We fetch it through the AP bridge, reuse it until shortly before it
//! expires, and send it as `Authorization: JWT <token>` on the request that
//! `server_fn`'s browser client (gloo-net) builds.
//!
//! Each call also says the page's language (`Accept-Language`, from the
//! page's `loc` parameter), so what the server answers — a refusal, a
//! validation problem — is in the language of the page around it
//! (`crate::locale::request_lang`).

use server_fn::{
    client::{browser::BrowserClient, Client},
    error::FromServerFnError,
    request::browser::BrowserRequest,
    response::browser::BrowserResponse,
};
use std::future::Future;

/// `#[server(client = ApClient)]` on every server function.
#[derive(Debug)]
pub struct ApClient;

impl<E, IS, OS> Client<E, IS, OS> for ApClient
where
    E: FromServerFnError,
    IS: FromServerFnError,
    OS: FromServerFnError,
{
    type Request = BrowserRequest;
    type Response = BrowserResponse;

    fn send(req: Self::Request) -> impl Future<Output = Result<Self::Response, E>> + Send {
        #[cfg(feature = "hydrate")]
        {
            use server_fn::error::{IntoAppError, ServerFnErrorErr};
            send_wrapper::SendWrapper::new(async move {
                let token = token_cache::token()
                    .await
                    .map_err(|e| ServerFnErrorErr::Request(e.to_string()).into_app_error())?;
                req.headers().set("Authorization", &format!("JWT {token}"));
                req.headers()
                    .set("Accept-Language", crate::locale::page_lang().tag());
                <BrowserClient as Client<E, IS, OS>>::send(req).await
            })
        }
        #[cfg(not(feature = "hydrate"))]
        {
            <BrowserClient as Client<E, IS, OS>>::send(req)
        }
    }

    fn open_websocket(
        path: &str,
    ) -> impl Future<
        Output = Result<
            (
                impl futures::Stream<Item = Result<bytes::Bytes, bytes::Bytes>> + Send + 'static,
                impl futures::Sink<bytes::Bytes> + Send + 'static,
            ),
            E,
        >,
    > + Send {
        <BrowserClient as Client<E, IS, OS>>::open_websocket(path)
    }

    fn spawn(future: impl Future<Output = ()> + Send + 'static) {
        <BrowserClient as Client<E, IS, OS>>::spawn(future)
    }
}

#[cfg(feature = "hydrate")]
mod token_cache {
    use crate::ap::{self, ApError};
    use std::cell::RefCell;

    /// Refresh this many seconds before `exp`, so a token never expires in flight.
    const REFRESH_MARGIN_SECS: f64 = 30.0;

    thread_local! {
        static CACHED: RefCell<Option<(String, f64)>> = const { RefCell::new(None) };
    }

    fn now_secs() -> f64 {
        js_sys::Date::now() / 1000.0
    }

    /// Reads `exp` from the token's payload. The browser never verifies the
    /// token (it has no secret); this only decides when to ask for a new one.
    fn expiry(token: &str) -> Option<f64> {
        let payload = token.split('.').nth(1)?;
        let mut b64: String = payload.replace('-', "+").replace('_', "/");
        while !b64.len().is_multiple_of(4) {
            b64.push('=');
        }
        let json = web_sys::window()?.atob(&b64).ok()?;
        // The browser's JSON.parse: no `serde_json::Value` in the bundles.
        let claims = js_sys::JSON::parse(&json).ok()?;
        js_sys::Reflect::get(&claims, &"exp".into()).ok()?.as_f64()
    }

    pub(super) async fn token() -> Result<String, ApError> {
        let cached = CACHED.with(|c| c.borrow().clone());
        if let Some((t, exp)) = cached {
            if exp - REFRESH_MARGIN_SECS > now_secs() {
                return Ok(t);
            }
        }
        let fresh = ap::context_token().await?;
        let exp = expiry(&fresh).unwrap_or(0.0);
        CACHED.with(|c| *c.borrow_mut() = Some((fresh.clone(), exp)));
        Ok(fresh)
    }
}
