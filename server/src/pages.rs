//! Our pages as Confluence loads them: every page load must carry a valid
//! **page JWT** (`?jwt=`, HS256, qsh of this exact URL). The verified context
//! goes into the request extensions; responses get the headers a JWT-bearing
//! page needs.

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue},
    middleware::Next,
    response::{IntoResponse, Response},
};

use app::state::AppState;
use connect::auth::{AuthRejection, PageJwt};

/// The origin (scheme://host[:port]) of a URL, for CSP source lists.
fn origin_of(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    let origin = u.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// A fresh random value per page response: the only inline and external
/// scripts that run are the ones the server wrote with it (the AP library,
/// the hydration bootstrap), see [`content_security_policy`].
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

impl CspNonce {
    fn new() -> Self {
        // 122 random bits from the OS generator (a UUID v4).
        Self(uuid::Uuid::new_v4().simple().to_string())
    }
}

/// Where Atlassian's AP iframe library loads its own stylesheet from
/// (`legacy-text-colors.css`, for macro iframes), whichever copy of the
/// library the page uses.
const AP_STYLES_ORIGIN: &str = "https://connect-cdn.atl-paas.net";

/// The page's Content-Security-Policy. Scripts: only those carrying this
/// response's nonce, our own origin's modules (the hashed `/pkg` files the
/// bootstrap imports) and the AP library's origin; WebAssembly may be
/// compiled (`'wasm-unsafe-eval'`), nothing may be `eval`ed. Images: our
/// own, https (authors' images) and data URLs. Connections: our own origin
/// only (server functions). Nothing may be framed, and only the tenant's
/// site (and the simulator, in development) may frame us.
pub fn content_security_policy(
    nonce: &CspNonce,
    ap_script_url: &str,
    ancestors: &[String],
) -> String {
    let ap_origin = origin_of(ap_script_url).unwrap_or_default();
    let frame_ancestors = if ancestors.is_empty() {
        "'none'".to_owned()
    } else {
        ancestors.join(" ")
    };
    format!(
        "default-src 'none'; \
         script-src 'nonce-{n}' 'self' {ap_origin} 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline' {AP_STYLES_ORIGIN}; \
         img-src 'self' https: data:; \
         font-src 'self' data:; \
         connect-src 'self'; \
         frame-src 'none'; \
         object-src 'none'; \
         base-uri 'none'; \
         form-action 'none'; \
         frame-ancestors {frame_ancestors}",
        n = nonce.0
    )
}

/// Route layer for every page route: authenticate, then harden the response.
pub async fn require_page_jwt(
    State(state): State<AppState>,
    page: Result<PageJwt, AuthRejection>,
    mut req: Request,
    next: Next,
) -> Response {
    let PageJwt(verified) = match page {
        Ok(p) => p,
        Err(rejection) => return rejection.into_response(),
    };
    // Only the tenant's own site (and, in development, the simulator) may
    // frame the page.
    let mut ancestors: Vec<String> = [
        Some(verified.tenant_base_url.as_str()),
        verified.tenant_display_url.as_deref(),
    ]
    .into_iter()
    .flatten()
    .filter_map(origin_of)
    .collect();
    ancestors.extend(state.settings.extra_frame_ancestors.iter().cloned());
    ancestors.dedup();
    let nonce = CspNonce::new();
    req.extensions_mut().insert(verified);
    req.extensions_mut().insert(nonce.clone());
    let mut resp = next.run(req).await;
    let headers = resp.headers_mut();
    // The URL carries a JWT: never cache the page, never leak it in a Referer.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    let csp = content_security_policy(&nonce, &state.settings.ap_script_url, &ancestors);
    if let Ok(v) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::origin_of;

    #[test]
    fn the_csp_allows_only_nonced_and_own_scripts_and_names_the_frame_ancestors() {
        let nonce = super::CspNonce("abc123".into());
        let csp = super::content_security_policy(
            &nonce,
            "https://connect-cdn.atl-paas.net/all.js",
            &["https://acme.atlassian.net".into()],
        );
        assert!(csp.starts_with("default-src 'none'; "), "{csp}");
        assert!(csp.contains(
            "script-src 'nonce-abc123' 'self' https://connect-cdn.atl-paas.net 'wasm-unsafe-eval';"
        ));
        assert!(!csp.contains("unsafe-eval'") || csp.contains("'wasm-unsafe-eval'"));
        assert!(
            !csp.contains("'unsafe-inline'; img")
                || csp.contains("style-src 'self' 'unsafe-inline'")
        );
        assert!(csp.contains("img-src 'self' https: data:;"));
        assert!(
            csp.ends_with("frame-ancestors https://acme.atlassian.net"),
            "{csp}"
        );
        let none = super::content_security_policy(&nonce, "/atlassian-connect/all.js", &[]);
        assert!(none.contains("script-src 'nonce-abc123' 'self'  'wasm-unsafe-eval'"));
        assert!(none.ends_with("frame-ancestors 'none'"));
    }

    #[test]
    fn origins_drop_paths() {
        assert_eq!(
            origin_of("https://acme.atlassian.net/wiki").as_deref(),
            Some("https://acme.atlassian.net")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:3001/wiki").as_deref(),
            Some("http://127.0.0.1:3001")
        );
        assert_eq!(origin_of("not a url"), None);
    }
}
