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
    req.extensions_mut().insert(verified);
    let mut resp = next.run(req).await;
    let headers = resp.headers_mut();
    // The URL carries a JWT: never cache the page, never leak it in a Referer.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    let csp = format!(
        "frame-ancestors {}; object-src 'none'; base-uri 'none'",
        if ancestors.is_empty() {
            "'none'".to_owned()
        } else {
            ancestors.join(" ")
        }
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::origin_of;

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
