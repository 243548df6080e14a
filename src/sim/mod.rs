//! The local Webex-compatible simulator: the subset of the Webex admin REST API the operator uses
//! (`/v1/people`, `/v1/licenses`, `/v1/roles`, `/settings/organizations/...`), faithful to
//! `tests/webex-openapi/webex-admin.json` and the domain rules, plus a control API under `/_sim`
//! for tests and the demo ([`control::SimControl`]).
//!
//! Files: `state` (store, persistence, virtual clock), `rules` (pure rule checks), `people`,
//! `licenses`, `roles`, `settings` (public routes), `control_api` + `control_types` (control
//! routes and their bodies), `faults` (fault injection, rate limit, counters), `auth`, `error`,
//! `external` (external users, R-EXT-*), `claims` (claiming users, R-CLM-*, on simulator-only
//! endpoints: Webex has no public claim API), `content_management` (enterprise content
//! management, R-USER-9, simulator-only endpoints: no public API either).

pub mod auth;
pub mod calling;
pub mod claims;
pub mod content_management;
pub mod control;
pub mod control_api;
pub mod control_types;
pub mod error;
pub mod external;
pub mod faults;
pub mod licenses;
pub mod people;
pub mod roles;
pub mod rules;
pub mod settings;
pub mod state;
pub mod tracking_codes;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::sim::error::ApiError;
use crate::sim::faults::Runtime;
use crate::sim::state::Store;

pub use control::SimControl;

/// How to run the simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Where the state is kept across restarts; in memory only when absent.
    pub state_file: Option<PathBuf>,
    /// Serve HTTPS with this certificate instead of plain HTTP (the real service is HTTPS only).
    pub tls: Option<SimTls>,
}

/// PEM files of the simulator's HTTPS certificate (with its chain) and private key.
#[derive(Debug, Clone)]
pub struct SimTls {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("failed to listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to load the simulator state from {path:?}")]
    LoadState {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the simulator server failed")]
    Serve(#[source] std::io::Error),
    #[error("cannot load the simulator's TLS certificate {cert:?} / key {key:?}")]
    Tls {
        cert: PathBuf,
        key: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Shared by all handlers.
#[derive(Debug, Clone)]
pub struct AppState {
    pub(crate) store: Arc<Store>,
    runtime: Arc<Mutex<Runtime>>,
}

impl AppState {
    pub(crate) fn runtime(&self) -> MutexGuard<'_, Runtime> {
        self.runtime.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A simulator running in this process. Dropping it stops the server abruptly; prefer
/// [`RunningSim::shutdown`].
#[derive(Debug)]
pub struct RunningSim {
    /// The API root, e.g. `http://127.0.0.1:8787`: public routes are `{base_url}/v1/people`, ...
    pub base_url: String,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), std::io::Error>>>,
}

impl RunningSim {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A control API client for this simulator.
    pub fn control(&self) -> SimControl {
        SimControl::new(&self.base_url)
    }

    /// Stops accepting, lets in-flight requests finish (at most 5 s), and returns.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(5), &mut task).await.is_err()
        {
            task.abort();
        }
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The full router: public API, control API, 404/405 answers with error bodies.
pub fn router(app: AppState) -> Router {
    Router::new()
        .route("/v1/people", get(people::list).post(people::create))
        .route("/v1/people/me", get(people::me))
        .route(
            "/v1/people/{personId}",
            get(people::get).put(people::update).delete(people::delete),
        )
        .route(
            "/v1/people/{personId}/features/{feature}",
            calling::feature_routes(calling::FeatureFamily::PeopleFeatures),
        )
        .route(
            "/v1/telephony/config/people/{personId}/{feature}",
            calling::feature_routes(calling::FeatureFamily::TelephonyConfig),
        )
        .route(
            "/_sim/hub/people/{personId}/calling/{feature}",
            calling::feature_routes(calling::FeatureFamily::ControlHubOnly),
        )
        .route(
            "/v1/admin/meeting/config/trackingCodes",
            get(tracking_codes::list_site_codes).post(tracking_codes::create_site_code),
        )
        .route(
            "/v1/admin/meeting/config/trackingCodes/{trackingCodeId}",
            get(tracking_codes::get_site_code)
                .put(tracking_codes::update_site_code)
                .delete(tracking_codes::delete_site_code),
        )
        .route(
            "/v1/admin/meeting/userconfig/trackingCodes",
            get(tracking_codes::get_user_codes).put(tracking_codes::put_user_codes),
        )
        .route("/v1/licenses", get(licenses::list))
        .route("/v1/licenses/users", patch(licenses::patch_users))
        .route("/v1/licenses/{licenseId}", get(licenses::get))
        .route("/v1/roles", get(roles::list))
        .route("/v1/roles/{roleId}", get(roles::get))
        .route("/settings/organizations/{orgId}/settings", post(settings::set))
        .route(
            "/settings/organizations/{orgId}/settings/{settingKey}",
            get(settings::get),
        )
        .route("/_sim/orgs", post(control_api::seed_org))
        .route(
            "/_sim/orgs/{orgId}",
            get(control_api::get_org)
                .patch(control_api::patch_org)
                .delete(control_api::delete_org),
        )
        .route(
            "/_sim/orgs/{orgId}/people",
            get(control_api::org_people).post(control_api::seed_person),
        )
        .route("/_sim/orgs/{orgId}/settings", post(control_api::set_setting))
        .route(
            "/_sim/orgs/{orgId}/calling-fault",
            axum::routing::put(calling::set_fault),
        )
        .route(
            "/_sim/orgs/{orgId}/contact-center/synchronize-users",
            post(calling::synchronize_users),
        )
        .route(
            "/_sim/orgs/{orgId}/contact-center/users",
            get(calling::contact_center_users),
        )
        .route(
            "/_sim/orgs/{orgId}/content-management",
            get(content_management::get_org).put(content_management::set_org),
        )
        // Control Hub stand-ins the operator calls (counted and rate-limited like Webex; see
        // `faults::is_control`). The tests' own control routes above serve the same handlers.
        .route("/_sim/hub/orgs/{orgId}", get(control_api::get_org))
        .route(
            "/_sim/hub/orgs/{orgId}/contact-center/synchronize-users",
            post(calling::synchronize_users),
        )
        .route(
            "/_sim/hub/orgs/{orgId}/claims",
            get(control_api::list_claims).post(control_api::claim_users),
        )
        .route("/_sim/hub/orgs/{orgId}/claims/revoke", post(control_api::revoke_claim))
        .route(
            "/_sim/hub/orgs/{orgId}/content-management",
            get(content_management::get_org),
        )
        .route(
            "/_sim/hub/people/{personId}/content-management",
            get(content_management::get_person).put(content_management::set_person),
        )
        .route("/_sim/sign-in", post(control_api::sign_in))
        .route("/_sim/orgs/{orgId}/invitations", get(control_api::invitations))
        .route("/_sim/invitations/respond", post(control_api::respond_to_invitations))
        .route(
            "/_sim/orgs/{orgId}/claims",
            get(control_api::list_claims).post(control_api::claim_users),
        )
        .route("/_sim/orgs/{orgId}/claims/revoke", post(control_api::revoke_claim))
        .route("/_sim/claims/choose", post(control_api::choose_claim))
        .route("/_sim/orgs/{orgId}/directory-sync", post(control_api::directory_sync))
        .route("/_sim/clock", get(control_api::clock))
        .route("/_sim/clock/advance", post(control_api::advance_clock))
        .route(
            "/_sim/faults",
            get(control_api::list_faults)
                .post(control_api::add_fault)
                .delete(control_api::clear_faults),
        )
        .route(
            "/_sim/rate-limit",
            axum::routing::put(control_api::set_rate_limit).delete(control_api::clear_rate_limit),
        )
        .route(
            "/_sim/counters",
            get(control_api::counters).delete(control_api::reset_counters),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(app.clone(), faults::apply_faults))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            faults::count_requests,
        ))
        .layer(axum::middleware::from_fn_with_state(app.clone(), virtual_date))
        .with_state(app)
}

/// Every answer carries the virtual clock in its `Date` header (RFC 9110), so that a client can
/// reason about Webex-side times such as invitation expiry (R-EXT-5) while tests move the clock.
async fn virtual_date(
    axum::extract::State(app): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut response = next.run(request).await;
    let now = app.store.read(|s| s.now());
    if let Ok(text) = jiff::fmt::rfc2822::DateTimePrinter::new().timestamp_to_rfc9110_string(&now)
        && let Ok(value) = axum::http::HeaderValue::from_str(&text)
    {
        response.headers_mut().insert(axum::http::header::DATE, value);
    }
    response
}

async fn not_found() -> ApiError {
    ApiError::not_found("The requested resource could not be found.")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "The request method is not supported for this resource.",
    )
}

/// Starts the simulator on `config.listen` in the background.
pub async fn start(config: SimConfig) -> Result<RunningSim, SimError> {
    let store = Store::open(config.state_file.clone())?;
    let app = AppState {
        store: Arc::new(store),
        runtime: Arc::new(Mutex::new(Runtime::default())),
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| SimError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SimError::Bind {
        addr: config.listen,
        source,
    })?;
    let (stop, stopped) = oneshot::channel::<()>();
    let service = router(app);
    let (task, base_url) = match &config.tls {
        None => {
            let task = tokio::spawn(async move {
                axum::serve(listener, service)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await
            });
            (task, format!("http://{addr}"))
        }
        Some(tls) => {
            crate::tls::install_crypto_provider();
            let tls_error = |source| SimError::Tls {
                cert: tls.cert.clone(),
                key: tls.key.clone(),
                source,
            };
            let rustls = axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
                .await
                .map_err(tls_error)?;
            let std_listener = listener.into_std().map_err(tls_error)?;
            let server = axum_server::from_tcp_rustls(std_listener, rustls).map_err(tls_error)?;
            let handle = axum_server::Handle::new();
            let stopper = handle.clone();
            tokio::spawn(async move {
                let _ = stopped.await;
                stopper.graceful_shutdown(Some(Duration::from_secs(5)));
            });
            let task = tokio::spawn(server.handle(handle).serve(service.into_make_service()));
            (task, format!("https://{addr}"))
        }
    };
    tracing::info!(%base_url, state_file = ?config.state_file, "Webex simulator listening");
    Ok(RunningSim {
        base_url,
        addr,
        stop: Some(stop),
        task: Some(task),
    })
}

/// Runs the simulator until Ctrl-C / SIGTERM (the `sim` subcommand).
pub async fn serve_forever(config: SimConfig) -> Result<(), SimError> {
    let sim = start(config).await?;
    println!("Webex simulator listening on {}", sim.base_url);
    wait_for_signal().await;
    sim.shutdown().await;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Parses a JSON request body, answering a Webex-shaped 400 when it is not valid.
pub(crate) fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("Invalid request body: {e}")))
}

/// Query parameters in order (`RawQuery` parsed without a rejection of axum's own shape).
#[derive(Debug, Default)]
pub(crate) struct QueryParams {
    pub pairs: Vec<(String, String)>,
}

impl QueryParams {
    pub fn parse(query: Option<&str>) -> Self {
        let pairs = query
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Self { pairs }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// A boolean parameter (`true`/`false`, default false); 400 for anything else.
    pub fn flag(&self, key: &str) -> Result<bool, ApiError> {
        match self.get(key) {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(ApiError::bad_request(format!("Invalid value for {key}: {v}"))),
        }
    }
}
