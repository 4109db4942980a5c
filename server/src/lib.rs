//! The Smart Courses server: wiring only. `app(state)` builds the router so
//! tests can run the real thing on port 0 with their own database;
//! [`Application`] binds first and reports the real address.

pub mod assets;
pub mod backup;
pub mod config;
pub mod descriptor;
pub mod forge;
pub mod forge_manifest;
pub mod jobs;
pub mod lifecycle;
pub mod observability;
pub mod pages;
pub mod privacy;
pub mod reminders;
pub mod security_txt;
pub mod support;
pub mod telemetry;
pub mod tls;

#[cfg(feature = "dev-host")]
pub mod dev_host;

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context;
use axum::{
    body::Body,
    extract::{DefaultBodyLimit, Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware,
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use leptos::prelude::*;
use leptos_axum::handle_server_fns_with_context;
use server_fn::error::SERVER_FN_ERROR_HEADER;
use tokio::net::TcpListener;
use tower_http::{set_header::SetResponseHeaderLayer, trace::TraceLayer};

use app::{
    api::limits::{Rate, RateLimits},
    course::learning::clock::{Clock, SystemClock},
    error::AppError,
    learning::service::LearningService,
    shell,
    space_admin::service::SpaceAdminService,
    state::{AppParts, AppState},
    Module,
};
use connect::{ConnectState, Tenants};
use store::Db;

pub use config::Config;

/// Largest request body we accept (lifecycle payloads and server-function
/// arguments are small; course imports get their own limit later).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Builds the shared state: opens and migrates the database (refusing to go
/// on if migration fails), reads the asset manifest. Learning rules tell
/// time by the system clock.
pub async fn build_state(config: &Config) -> anyhow::Result<AppState> {
    build_state_with_clock(config, Arc::new(SystemClock)).await
}

/// [`build_state`] with the learning service's clock given (tests and
/// benchmarks move time with a `ManualClock`).
pub async fn build_state_with_clock(
    config: &Config,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<AppState> {
    let (connect_settings, settings) = config.settings()?;
    let keyring = config.keyring()?;
    let db = Db::connect(&config.database_url)
        .await
        .context("could not open the database (DATABASE_URL)")?
        .with_keyring(keyring);
    db.migrate()
        .await
        .context("database migration failed; refusing to serve")?;
    // Secrets stored in clear by an older version are encrypted now.
    let sealed = db
        .seal_secrets()
        .await
        .context("could not read or encrypt the stored shared secrets (is DATA_KEY right?)")?;
    if sealed.sealed > 0 {
        tracing::info!(
            rows = sealed.sealed,
            "shared secrets encrypted under the current data key"
        );
    }
    let manifest = assets::Manifest::load(&config.site_root)?;
    // The shell sets `output_name` per page: each module has its own bundle.
    let leptos_options = LeptosOptions::builder()
        .output_name("")
        .site_root(config.site_root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .site_addr(config.site_addr)
        .build();
    let http = reqwest::Client::builder()
        .user_agent(concat!("smart-courses/", env!("CARGO_PKG_VERSION")))
        // Never follow a redirect to another scheme or host with our tokens.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .context("could not build the HTTP client")?;
    let tenants = Tenants::new(Arc::new(db.clone()));
    // Another process's install, uninstall or secret change drops our
    // cached row at once (PostgreSQL; a lone SQLite process has no others).
    {
        let tenants = tenants.clone();
        db.follow_tenant_changes(&config.database_url, move |client_key| {
            tenants.invalidate(client_key)
        });
    }
    Ok(AppState::new(AppParts {
        leptos_options,
        assets: Arc::new(manifest.site_assets(&settings.ap_script_url)),
        learning: LearningService::new(db.clone(), clock),
        limits: Arc::new(RateLimits::new(
            Rate {
                per_second: config.rate_limit_site_per_sec,
                burst: config.rate_limit_site_burst,
            },
            Rate {
                per_second: config.rate_limit_user_per_sec,
                burst: config.rate_limit_user_burst,
            },
        )),
        space_admin: SpaceAdminService::default(),
        drafts: Default::default(),
        // One verifier (one key cache) for the server functions and the
        // `/forge/*` routes.
        forge: config
            .forge()?
            .map(|settings| connect::forge::ForgeVerifier::new(settings, http.clone())),
        db,
        connect: ConnectState::new(connect_settings, http, tenants),
        settings: Arc::new(settings),
    }))
}

/// The whole HTTP surface. See README "Routes".
pub fn app(state: AppState) -> Router {
    app_with(state, observability::MetricsAccess::default())
}

/// [`app`] with who may read `/metrics` (from the configuration).
pub fn app_with(state: AppState, metrics_access: observability::MetricsAccess) -> Router {
    app_with_forge(state, metrics_access, None)
}

/// [`app_with`], with the Forge routes when Forge is configured
/// (`FORGE_APP_ID`; without it they are not mounted: 404).
pub fn app_with_forge(
    state: AppState,
    metrics_access: observability::MetricsAccess,
    forge: Option<forge::ForgeState>,
) -> Router {
    let metrics_access = Arc::new(metrics_access);
    // Installed before the first request so that nothing goes uncounted.
    observability::metrics_handle();
    // Page routes: rendered by Leptos, each behind the page-JWT check. (Not
    // `leptos_routes_with_context`: it also mounts every server function,
    // which would put them behind the page-JWT layer; server functions take
    // context JWTs and are mounted on their own below.)
    // One route per Connect module: its page renders that module's root and
    // links that module's hydrate bundle only (`app::shell`).
    // Leptos renders on the tokio executor (`generate_route_list`, which
    // we have no use for, would set that up; an error means it already is).
    let _ = any_spawner::Executor::init_tokio();
    let mut pages = Router::new();
    for module in Module::ALL {
        let ctx_state = state.clone();
        let shell_state = state.clone();
        let render = leptos_axum::render_app_to_stream_with_context(
            move || {
                provide_context(ctx_state.clone());
                // The nonce the page-JWT layer put into this response's CSP:
                // Leptos writes it onto the hydration scripts, the shell onto
                // the AP library's tag.
                if let Some(nonce) = use_context::<axum::http::request::Parts>()
                    .and_then(|p| p.extensions.get::<pages::CspNonce>().cloned())
                {
                    provide_context(leptos::nonce::Nonce::from_value(nonce.0));
                }
            },
            move || {
                shell(
                    shell_state.leptos_options.clone(),
                    (*shell_state.assets).clone(),
                    module,
                )
            },
        );
        pages = pages.route(module.path(), get(render));
    }
    let pages = pages.route_layer(middleware::from_fn_with_state(
        state.clone(),
        pages::require_page_jwt,
    ));

    // Lifecycle callbacks: unauthenticated until their token is checked, so
    // rate-limited per address before anything else happens.
    let lifecycle = Router::new()
        .route("/installed", post(lifecycle::installed))
        .route("/uninstalled", post(lifecycle::uninstalled))
        .route("/enabled", post(lifecycle::enabled))
        .route("/disabled", post(lifecycle::disabled))
        .route_layer(middleware::from_fn_with_state(
            Arc::new(lifecycle::LifecycleLimiter::default()),
            lifecycle::limit,
        ));

    let router = Router::new()
        .route("/health", get(observability::health))
        .route("/ready", get(observability::ready))
        .route("/metrics", get(observability::metrics))
        .route("/atlassian-connect.json", get(descriptor::get))
        // Public by design (RFC 9116): outside the page-JWT layer.
        .route("/.well-known/security.txt", get(security_txt::get))
        .route("/security-policy", get(security_txt::policy))
        .route("/api/{*fn_name}", post(server_fn))
        .merge(lifecycle)
        .merge(pages);

    let site_root = std::path::PathBuf::from(state.leptos_options.site_root.as_ref());
    let mut router = router.with_state(state);
    router = match forge {
        Some(forge) => router.merge(forge::routes(forge)),
        // Not mounted: a plain 404 (not the 405 the asset fallback gives
        // other methods), so Forge's calls fail as "no such endpoint".
        None => router.route(
            "/forge/{*rest}",
            axum::routing::any(|| async { StatusCode::NOT_FOUND }),
        ),
    };
    router
        .merge(assets::routes(site_root))
        .route_layer(middleware::from_fn(observability::track))
        .layer(axum::Extension(metrics_access))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(TraceLayer::new_for_http().make_span_with(telemetry::request_span))
        .layer(middleware::from_fn(observability::request_id))
}

/// `POST /api/{name}`: every server function. Authentication happens inside
/// each function (its guard, `app::api::guards`), which needs the state
/// from context.
///
/// This is also the one place where a server function's error becomes an
/// HTTP status: `server_fn` answers every error with 500 and the encoded
/// [`AppError`] in the body; we read it back and answer with its status.
async fn server_fn(State(state): State<AppState>, req: Request<Body>) -> Response {
    let resp = handle_server_fns_with_context(move || provide_context(state.clone()), req)
        .await
        .into_response();
    if resp.headers().contains_key(SERVER_FN_ERROR_HEADER) {
        return with_error_status(resp).await;
    }
    resp
}

/// Largest error body we read back (an `AppError` is a short message).
const MAX_ERROR_BODY: usize = 64 * 1024;

async fn with_error_status(resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "Internal error").into_response();
    };
    let error = serde_json::from_slice::<AppError>(&bytes).ok();
    parts.status = error
        .as_ref()
        .and_then(|e| StatusCode::from_u16(e.status()).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Some(AppError::RateLimited {
        retry_after_secs, ..
    }) = error
    {
        parts
            .headers
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// A bound, ready-to-run server.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    transport: tls::Transport,
}

impl Application {
    /// Builds the state and binds `config.site_addr` (port 0 → a free port);
    /// serves https when TLS is configured, and refuses an https base URL
    /// with neither TLS nor `--behind-tls-proxy` ([`tls::Transport`]).
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// [`Application::build`] with the learning service's clock given.
    pub async fn build_with_clock(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let transport = tls::Transport::from_config(config)?;
        let state = build_state_with_clock(config, clock).await?;
        let listener = TcpListener::bind(config.site_addr)
            .await
            .with_context(|| format!("could not bind {}", config.site_addr))?;
        let forge = state.forge.clone().map(|verifier| forge::ForgeState {
            verifier,
            installations: Arc::new(state.db.clone()),
            tenants: state.connect.tenants.clone(),
        });
        if let Some(f) = &forge {
            tracing::info!(app_id = %f.verifier.settings().app_id, "Forge routes mounted");
        }
        #[allow(unused_mut)]
        let mut router = app_with_forge(
            state.clone(),
            observability::MetricsAccess {
                token: config.metrics_token.clone(),
                backup_dir: config.backup_dir.clone(),
            },
            forge,
        );
        // Only when the simulator configured it (`dev_host::prepare`).
        #[cfg(feature = "dev-host")]
        if let Some(node_modules) = &config.serve_ap_copy_from {
            router = router
                .merge(dev_host::app_side_routes(node_modules.clone()).with_state(state.clone()));
        }
        Ok(Self {
            router: transport.with_hsts(router),
            listener,
            state,
            transport,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    /// The state (tests use its store directly to check what was written).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Whether it serves https itself (else plain http).
    pub fn serves_tls(&self) -> bool {
        self.transport.is_tls()
    }

    /// Serves until `shutdown` resolves.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        if let Some(tls) = self.transport.server_config() {
            return tls::serve(self.listener, service, tls, shutdown).await;
        }
        axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown)
            .await
            .context("server error")
    }
}

#[cfg(test)]
mod tests {
    /// Release builds seed nothing: the demo (the simulator's seeding and
    /// the store's reset behind it) is compiled in only with `dev-host`.
    #[test]
    fn the_demo_is_in_simulator_builds_only() {
        assert_eq!(store::DEMO, cfg!(feature = "dev-host"));
    }
}
