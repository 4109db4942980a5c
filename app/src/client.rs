//! The server-function client: every call carries the AP **context JWT**.
//!
//! Connect apps authenticate calls from their iframe with a short-lived token
//! from `AP.context.getToken()` whose `qsh` is the literal `context-qsh`
//! (<https://developer.atlassian.com/cloud/confluence/understanding-jwt-for-connect-apps/>).
//! We fetch it through the AP bridge, reuse it until shortly before it
//! expires, and send it as `Authorization: JWT <token>` on the request that
//! `server_fn`'s browser client (gloo-net) builds.
//!
//! In a Forge Custom UI page (feature `forge`) there is no context JWT and
//! no direct fetch to the app: the same request — the server function's
//! path, method, headers and body exactly as server_fn encoded them — goes
//! through `@forge/bridge`'s `invokeRemote`, Forge adds its Forge
//! Invocation Token, and the answer is handed back to server_fn as if
//! fetch had produced it ([`forge::InvokeResponse`]). Each server function
//! keeps one implementation behind both transports.
//!
//! Each call also says the page's language (`Accept-Language`, from the
//! page's `loc` parameter), so what the server answers — a refusal, a
//! validation problem — is in the language of the page around it
//! (`crate::locale::request_lang`).

#[cfg(not(feature = "forge"))]
use server_fn::response::browser::BrowserResponse;
use server_fn::{
    client::{browser::BrowserClient, Client},
    error::FromServerFnError,
    request::browser::BrowserRequest,
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
    #[cfg(not(feature = "forge"))]
    type Response = BrowserResponse;
    #[cfg(feature = "forge")]
    type Response = forge::InvokeResponse;

    fn send(req: Self::Request) -> impl Future<Output = Result<Self::Response, E>> + Send {
        #[cfg(feature = "forge")]
        {
            send_wrapper::SendWrapper::new(forge::send(req))
        }
        #[cfg(all(feature = "hydrate", not(feature = "forge")))]
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

/// The Forge transport: server-function requests through `invokeRemote`.
#[cfg(feature = "forge")]
pub mod forge {
    use crate::forge_bridge::{self, RemoteRequest, RemoteResponse};
    use bytes::Bytes;
    use futures::Stream;
    use server_fn::{
        error::{FromServerFnError, IntoAppError, ServerFnErrorErr},
        redirect::REDIRECT_HEADER,
        request::browser::BrowserRequest,
        response::ClientRes,
    };
    use wasm_bindgen_futures::JsFuture;

    /// What server_fn decodes: the remote's answer, already complete (the
    /// bridge hands over whole bodies, so streaming outputs arrive as one
    /// chunk).
    #[derive(Debug)]
    pub struct InvokeResponse(RemoteResponse);

    fn request_error<E: FromServerFnError>(msg: impl std::fmt::Display) -> E {
        ServerFnErrorErr::Request(msg.to_string()).into_app_error()
    }

    /// Reads server_fn's request back out of the `web_sys::Request` it built
    /// (path and query relative to the app, method, headers, text body) and
    /// sends it through the bridge.
    pub(super) async fn send<E: FromServerFnError>(
        req: BrowserRequest,
    ) -> Result<InvokeResponse, E> {
        let req: web_sys::Request = req.into();
        let url =
            web_sys::Url::new(&req.url()).map_err(|e| request_error::<E>(format!("{e:?}")))?;
        let path = format!("{}{}", url.pathname(), url.search());
        let mut headers = serde_json::Map::new();
        let entries = js_sys::try_iter(&req.headers())
            .ok()
            .flatten()
            .into_iter()
            .flatten()
            .flatten();
        for pair in entries {
            let pair = js_sys::Array::from(&pair);
            if let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                headers.insert(k, v.into());
            }
        }
        headers.insert(
            "accept-language".into(),
            crate::locale::page_lang().tag().into(),
        );
        let body = match req.method().as_str() {
            "GET" | "HEAD" => String::new(),
            _ => {
                let text = req
                    .text()
                    .map_err(|e| request_error::<E>(format!("{e:?}")))?;
                JsFuture::from(text)
                    .await
                    .map_err(|e| request_error::<E>(format!("{e:?}")))?
                    .as_string()
                    .unwrap_or_default()
            }
        };
        let remote = RemoteRequest {
            path,
            method: req.method(),
            headers,
            body,
        };
        forge_bridge::invoke_remote(&remote)
            .await
            .map(InvokeResponse)
            .map_err(request_error)
    }

    impl<E: FromServerFnError> ClientRes<E> for InvokeResponse {
        async fn try_into_string(self) -> Result<String, E> {
            Ok(self.0.body)
        }

        async fn try_into_bytes(self) -> Result<Bytes, E> {
            Ok(Bytes::from(self.0.body))
        }

        fn try_into_stream(
            self,
        ) -> Result<impl Stream<Item = Result<Bytes, Bytes>> + Send + Sync + 'static, E> {
            Ok(futures::stream::iter([Ok(Bytes::from(self.0.body))]))
        }

        fn status(&self) -> u16 {
            self.0.status
        }

        fn status_text(&self) -> String {
            String::new()
        }

        fn location(&self) -> String {
            self.0.header("location").unwrap_or_default().to_owned()
        }

        fn has_redirect(&self) -> bool {
            self.0.header(REDIRECT_HEADER).is_some()
        }
    }
}

#[cfg(all(feature = "hydrate", not(feature = "forge")))]
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
