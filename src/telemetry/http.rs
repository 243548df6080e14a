//! The operator's own HTTP endpoints (axum): `/metrics`, `/healthz` and `/readyz`.
//!
//! - `/healthz`: the process is alive and its runtime answers (liveness probe).
//! - `/readyz`: 200 once this replica can do its job (readiness probe): the leader (or a
//!   replica running without leader election) when every watch has listed its objects
//!   (style-anchors 13); a standby replica as soon as it knows another replica leads, so a
//!   rolling update of a two-replica Deployment is not blocked by the standby.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use super::metrics::{Kind, Metrics};

/// What this replica is doing, as `/readyz` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// Starting: leader election (if any) has not answered yet.
    Starting = 0,
    /// Another replica holds the Lease; this one waits to take over.
    Standby = 1,
    /// Leading (or alone); the watches have not all listed yet.
    Syncing = 2,
    /// Leading (or alone) with every watch synced.
    Ready = 3,
}

impl Phase {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::Standby,
            2 => Self::Syncing,
            3 => Self::Ready,
            _ => Self::Starting,
        }
    }

    pub fn is_ready(self) -> bool {
        matches!(self, Self::Standby | Self::Ready)
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Standby => "standby",
            Self::Syncing => "syncing",
            Self::Ready => "ready",
        }
    }
}

/// Shared readiness state, written by leader election and the controllers.
#[derive(Debug, Clone, Default)]
pub struct Health(Arc<AtomicU8>);

impl Health {
    pub fn set(&self, phase: Phase) {
        self.0.store(phase as u8, Ordering::Release);
    }

    pub fn phase(&self) -> Phase {
        Phase::from_u8(self.0.load(Ordering::Acquire))
    }
}

/// The process-wide readiness (one process is one replica).
pub fn health() -> &'static Health {
    static HEALTH: std::sync::OnceLock<Health> = std::sync::OnceLock::new();
    HEALTH.get_or_init(Health::default)
}

/// Records that the watch of `kind` has listed its objects; once every kind's has, a replica
/// that was syncing becomes ready. Returns true on that transition.
pub fn mark_synced(kind: Kind) -> bool {
    static SYNCED: [AtomicBool; 4] = [
        AtomicBool::new(false),
        AtomicBool::new(false),
        AtomicBool::new(false),
        AtomicBool::new(false),
    ];
    let index = match kind {
        Kind::WebexOrg => 0,
        Kind::WebexUser => 1,
        Kind::ExternalUser => 2,
        Kind::UserClaim => 3,
    };
    SYNCED[index].store(true, Ordering::Release);
    let all = SYNCED.iter().all(|s| s.load(Ordering::Acquire));
    let health = health();
    if all && health.phase() == Phase::Syncing {
        health.set(Phase::Ready);
        return true;
    }
    false
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot listen on {addr} for metrics and probes")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Clone)]
struct AppState {
    metrics: Arc<Metrics>,
    health: Health,
}

/// Binds `addr` (fails fast if taken) and serves the endpoints in a background task. Returns
/// the bound address (useful with port 0).
pub async fn serve(addr: SocketAddr, metrics: Arc<Metrics>, health: Health) -> Result<SocketAddr, HttpError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| HttpError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| HttpError::Bind { addr, source })?;
    let app = router(AppState { metrics, health });
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "metrics server stopped");
        }
    });
    tracing::info!(addr = %bound, "serving /metrics, /healthz and /readyz");
    Ok(bound)
}

fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(state)
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    match state.metrics.encode() {
        Ok(body) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            body,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let phase = state.health.phase();
    let status = if phase.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, phase.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_standby_and_synced_replicas_are_ready() {
        let health = Health::default();
        assert_eq!(health.phase(), Phase::Starting);
        assert!(!health.phase().is_ready());
        health.set(Phase::Standby);
        assert!(health.phase().is_ready());
        health.set(Phase::Syncing);
        assert!(!health.phase().is_ready());
        health.set(Phase::Ready);
        assert!(health.phase().is_ready());
    }
}
