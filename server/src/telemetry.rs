//! Logging. One span per request with method and path — never the query
//! string, which carries the page JWT.

use axum::{extract::MatchedPath, http::Request};
use tracing::Span;

/// Installs the subscriber (`RUST_LOG`, default `info`): JSON lines, one
/// object per event with the request span's fields (request id, method,
/// route) — unless `LOG_FORMAT=text` (what `scripts/run.sh` uses for
/// people reading a terminal).
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let text = std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("text"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = if text {
        builder.try_init()
    } else {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    };
}

/// The per-request span: matched route and path only (no query, no headers).
pub fn request_span<B>(req: &Request<B>) -> Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default();
    let request_id = req
        .headers()
        .get(crate::observability::REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    tracing::info_span!("request", request_id, method = %req.method(), path = %req.uri().path(), route)
}
