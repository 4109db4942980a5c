//! What operators watch: `/health` (the process answers), `/ready` (and
//! its database does), `/metrics` (Prometheus text: requests and latency
//! per route, authentication failures by reason, connection-pool use,
//! backup age), and a request id on every request — in the response's
//! `x-request-id` and in every log line of the request's span.
//!
//! Metrics are recorded through the `metrics` facade into one
//! process-wide Prometheus recorder (`metrics-exporter-prometheus`, no HTTP
//! listener of its own: the app serves `/metrics`). Labels are the matched
//! route *template* (`/api/{*fn_name}` is split by function name), the
//! method and the status — never a path with ids, a query or a user.
//!
//! `/metrics` answers loopback peers, or anyone presenting
//! `Authorization: Bearer <METRICS_TOKEN>` when a token is configured: it
//! holds no tenant data, but operational detail is nobody else's business.

use std::{
    collections::{BTreeSet, HashMap, HashSet},
    net::SocketAddr,
    sync::{OnceLock, RwLock},
    time::Instant,
};

use axum::{
    body::Body,
    extract::{ConnectInfo, MatchedPath, State},
    http::{header, HeaderValue, Method, Request, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use secrecy::ExposeSecret;

use app::state::AppState;

/// The response (and log) header carrying the request id.
pub const REQUEST_ID: &str = "x-request-id";

/// Latency buckets (seconds): 1 ms … 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process's recorder, installed on first use.
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("http_request_duration_seconds".into()),
                LATENCY_BUCKETS,
            )
            .expect("static buckets are valid");
        match builder.install_recorder() {
            Ok(handle) => handle,
            Err(e) => {
                // Another recorder is installed (only possible in an
                // embedding test harness): render an empty one.
                tracing::warn!(error = %e, "metrics recorder not installed");
                PrometheusBuilder::new().build_recorder().handle()
            }
        }
    })
}

/// The route a request matched, as a metrics label: the route template,
/// or for `/api/{*fn_name}` the server function's registered path (unknown
/// names are counted as one). Never anything the caller chose.
fn route_label<B>(req: &Request<B>) -> &'static str {
    match req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
    {
        Some("/api/{*fn_name}") => server_fn_path(req.uri().path()).unwrap_or("/api/(unknown)"),
        Some(route) => interned(route),
        None => "(unmatched)",
    }
}

/// The registered path of the server function at `path`, if one is.
fn server_fn_path(path: &str) -> Option<&'static str> {
    static PATHS: OnceLock<HashSet<&'static str>> = OnceLock::new();
    PATHS
        .get_or_init(|| {
            leptos::server_fn::axum::server_fn_paths()
                .map(|(p, _)| p)
                .collect()
        })
        .get(path)
        .copied()
}

/// A route template as a `&'static str`. Templates are the router's own
/// (a fixed, small set), so each is leaked once and reused.
fn interned(route: &str) -> &'static str {
    static ROUTES: RwLock<BTreeSet<&'static str>> = RwLock::new(BTreeSet::new());
    if let Some(r) = ROUTES.read().unwrap_or_else(|e| e.into_inner()).get(route) {
        return r;
    }
    let mut routes = ROUTES.write().unwrap_or_else(|e| e.into_inner());
    if let Some(r) = routes.get(route) {
        return r;
    }
    let r: &'static str = Box::leak(route.into());
    routes.insert(r);
    r
}

/// A method as a label: the standard ones by name, any other as "OTHER"
/// (a client may send any token as a method).
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "OTHER",
    }
}

/// The two series one request updates.
type Series = (metrics::Counter, metrics::Histogram);

/// The series of `(route, method, status)`, registered on first use and
/// kept: building the labels and looking the series up in the recorder on
/// every request was ~2 % of a course read's CPU (`perf`, README
/// "Measured").
fn series(route: &'static str, method: &'static str, status: StatusCode) -> Series {
    type Key = (&'static str, &'static str, u16);
    static SERIES: OnceLock<RwLock<HashMap<Key, Series>>> = OnceLock::new();
    let map = SERIES.get_or_init(|| {
        // The recorder first: handles made before it would record nowhere.
        metrics_handle();
        RwLock::default()
    });
    let key = (route, method, status.as_u16());
    if let Some(s) = map.read().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return s.clone();
    }
    map.write()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key)
        .or_insert_with(|| {
            (
                metrics::counter!("http_requests_total", "route" => route, "method" => method, "status" => status.as_u16().to_string()),
                metrics::histogram!("http_request_duration_seconds", "route" => route),
            )
        })
        .clone()
}

/// Outermost middleware: a fresh request id (never the client's: a log
/// line must not carry what a caller chose), on the request (the log span
/// reads it) and on the response.
///
/// A v4 UUID from the thread's CSPRNG (`rand::thread_rng`, seeded from the
/// OS) rather than `Uuid::new_v4`, which asks the kernel (`getrandom`) on
/// every request: one system call per request in `perf stat` of the read
/// benchmark. Written into a stack buffer, no `String`.
pub async fn request_id(mut req: Request<Body>, next: Next) -> Response {
    let uuid = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let id = HeaderValue::from_str(uuid.hyphenated().encode_lower(&mut buf))
        .expect("a UUID is a valid header value");
    req.headers_mut().insert(REQUEST_ID, id.clone());
    let mut resp = next.run(req).await;
    resp.headers_mut().insert(REQUEST_ID, id);
    resp
}

/// Route middleware: the request's metrics.
pub async fn track(req: Request<Body>, next: Next) -> Response {
    let route = route_label(&req);
    let method = method_label(req.method());
    let started = Instant::now();
    let resp = next.run(req).await;
    let (requests, latency) = series(route, method, resp.status());
    requests.increment(1);
    latency.record(started.elapsed().as_secs_f64());
    resp
}

/// `GET /health`: the process answers (no database round trip: a database
/// outage must not get a healthy process restarted).
pub async fn health() -> impl IntoResponse {
    Json(serde_json::json!({"status": "ok"}))
}

/// `GET /ready`: the database answers too (take traffic).
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, Json(serde_json::json!({"status": "ready"}))),
        Err(e) => {
            tracing::error!(error = %e, "readiness: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({"status": "database unavailable"})),
            )
        }
    }
}

/// Who may read `/metrics` (see the module docs).
#[derive(Clone, Debug, Default)]
pub struct MetricsAccess {
    pub token: Option<secrecy::SecretString>,
    /// The newest file there dates the last backup (`backup_age_seconds`).
    pub backup_dir: Option<std::path::PathBuf>,
}

/// `GET /metrics` (Prometheus text format 0.0.4).
pub async fn metrics(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    axum::Extension(access): axum::Extension<std::sync::Arc<MetricsAccess>>,
    req: Request<Body>,
) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let allowed = match (&access.token, presented) {
        (Some(t), Some(p)) => constant_time_eq(t.expose_secret().as_bytes(), p.as_bytes()),
        _ => peer.ip().is_loopback(),
    };
    if !allowed {
        return (StatusCode::FORBIDDEN, "Forbidden").into_response();
    }
    let (size, idle) = state.db.pool_stats();
    metrics::gauge!("db_pool_connections", "state" => "open").set(f64::from(size));
    metrics::gauge!("db_pool_connections", "state" => "idle").set(idle as f64);
    if let Some(age) = access
        .backup_dir
        .as_deref()
        .and_then(crate::backup::newest_age)
    {
        metrics::gauge!("backup_age_seconds").set(age);
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics_handle().render(),
    )
        .into_response()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
