//! `webex-operator run` as it runs in a cluster: the metrics and probe server, Lease-based
//! leader election (kube-lease-manager), and the controllers, which only the leader runs.
//!
//! Losing the Lease, or failing to renew it, ends the process (style-anchors 14): the renewal
//! races the controllers in `tokio::select!`, and the Lease client has short timeouts so that a
//! hanging renewal fails before the Lease expires. Kubernetes restarts the pod, which then
//! stands by. A graceful shutdown (SIGTERM) releases the Lease so that the standby takes over at
//! once instead of after the Lease duration.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use futures::FutureExt as _;
use kube_lease_manager::{LeaseManager, LeaseManagerBuilder, LeaseManagerError};

use super::{RunError, RunOptions};

/// Requests to the API server in flight at once. Thousands of reconciles start together on a
/// cold start or a bulk change; unbounded, each opened its own TLS connection (6,000 at 10,000
/// users: 600 MiB in the controller, and an API server busy accepting). Watches hold a slot only
/// until their response starts.
pub const MAX_KUBE_REQUESTS_IN_FLIGHT: usize = 64;

/// The controllers' kube client, with at most [`MAX_KUBE_REQUESTS_IN_FLIGHT`] requests at once.
fn controller_client(config: kube::Config) -> Result<kube::Client, RuntimeError> {
    Ok(kube::client::ClientBuilder::try_from(config)
        .map_err(RuntimeError::Client)?
        .with_layer(&tower::limit::ConcurrencyLimitLayer::new(MAX_KUBE_REQUESTS_IN_FLIGHT))
        .build())
}
use crate::telemetry::http::{self, HttpError, Phase};
use crate::telemetry::metrics;

/// Flags of `webex-operator run` for running in a cluster (each with an environment variable).
#[derive(Debug, Clone, clap::Args)]
pub struct RuntimeArgs {
    /// Address of the HTTP server for /metrics, /healthz and /readyz.
    #[arg(long, env = "WEBEX_OPERATOR_METRICS_ADDR", default_value = "0.0.0.0:8080")]
    pub metrics_addr: SocketAddr,
    /// Elect a leader through a coordination.k8s.io Lease; only the leader runs the
    /// controllers, the other replicas stand by. On by default.
    #[arg(
        long,
        env = "WEBEX_OPERATOR_LEADER_ELECTION",
        value_name = "BOOL",
        default_value_t = true,
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        default_missing_value = "true"
    )]
    pub leader_election: bool,
    /// Same as `--leader-election=false`: run the controllers at once (one replica only!).
    #[arg(long)]
    pub no_leader_election: bool,
    /// Name of the Lease.
    #[arg(long, env = "WEBEX_OPERATOR_LEASE_NAME", default_value = "webex-operator")]
    pub lease_name: String,
    /// Namespace of the Lease; defaults to the pod's namespace (POD_NAMESPACE, set by the
    /// chart), else the namespace of the kubeconfig context or service account.
    #[arg(long, env = "POD_NAMESPACE")]
    pub lease_namespace: Option<String>,
    /// How long a Lease stays valid after its last renewal; a standby takes over at most this
    /// long after the leader died.
    #[arg(long, env = "WEBEX_OPERATOR_LEASE_DURATION_SECONDS", default_value_t = 15)]
    pub lease_duration_seconds: u64,
    /// The leader renews this many seconds before the Lease would expire (also the tolerated
    /// clock skew between nodes). Must be less than the duration.
    #[arg(long, env = "WEBEX_OPERATOR_LEASE_GRACE_SECONDS", default_value_t = 5)]
    pub lease_grace_seconds: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("invalid flags: {0}")]
    InvalidFlags(&'static str),
    #[error("cannot build a Kubernetes client")]
    Client(#[source] kube::Error),
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("cannot set up leader election with the Lease {namespace}/{name}")]
    LeaseSetup {
        namespace: String,
        name: String,
        #[source]
        source: LeaseManagerError,
    },
    #[error("lost the leader Lease to another replica; exiting so that only one replica acts")]
    LeaseLost,
    #[error("could not renew the leader Lease; exiting so that only one replica acts")]
    LeaseRenewal(#[source] LeaseManagerError),
    #[error(transparent)]
    Run(#[from] RunError),
}

/// Serves metrics and probes, waits to lead (unless leader election is off), then runs every
/// controller until `shutdown` resolves or the Lease is lost.
pub async fn serve(
    config: kube::Config,
    options: RunOptions,
    args: RuntimeArgs,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) -> Result<(), RuntimeError> {
    let RuntimeArgs {
        metrics_addr,
        leader_election,
        no_leader_election,
        lease_name,
        lease_namespace,
        lease_duration_seconds,
        lease_grace_seconds,
    } = args;
    if leader_election
        && !no_leader_election
        && (lease_grace_seconds == 0 || lease_grace_seconds >= lease_duration_seconds)
    {
        return Err(RuntimeError::InvalidFlags(
            "--lease-grace-seconds must be at least 1 and less than --lease-duration-seconds",
        ));
    }
    let metrics = metrics::install();
    let health = http::health();
    http::serve(metrics_addr, metrics.clone(), health.clone()).await?;
    let client = controller_client(config.clone())?;
    let shutdown = Box::pin(shutdown).shared();

    if !leader_election || no_leader_election {
        tracing::warn!("leader election is off: run a single replica");
        metrics.set_leader(true);
        health.set(Phase::Syncing);
        return Ok(super::run(client, options, shutdown).await?);
    }

    let namespace = lease_namespace.unwrap_or_else(|| client.default_namespace().to_string());
    let identity = options
        .instance
        .clone()
        .unwrap_or_else(|| format!("webex-operator-{}", uuid::Uuid::new_v4()));
    // A renewal that hangs must fail before the Lease expires (renewals start `grace` seconds
    // before the expiry).
    let mut lease_config = config;
    let io_timeout = Duration::from_millis(lease_grace_seconds.saturating_mul(1000) / 2).max(Duration::from_secs(1));
    lease_config.connect_timeout = Some(io_timeout);
    lease_config.read_timeout = Some(io_timeout);
    lease_config.write_timeout = Some(io_timeout);
    let lease_client = kube::Client::try_from(lease_config).map_err(RuntimeError::Client)?;
    let setup_error = |source| RuntimeError::LeaseSetup {
        namespace: namespace.clone(),
        name: lease_name.clone(),
        source,
    };
    let manager = LeaseManagerBuilder::new(lease_client, &lease_name)
        .with_namespace(&namespace)
        .with_identity(&identity)
        .with_duration(lease_duration_seconds)
        .with_grace(lease_grace_seconds)
        .build()
        .await
        .map_err(setup_error)?;
    health.set(Phase::Standby);
    tracing::info!(lease = %lease_name, %namespace, %identity, "waiting to become the leader");

    tokio::select! {
        () = shutdown.clone() => return Ok(()),
        () = acquire(&manager) => {}
    }
    tracing::info!(lease = %lease_name, %identity, "became the leader; starting the controllers");
    metrics.set_leader(true);
    health.set(Phase::Syncing);

    let result = tokio::select! {
        result = super::run(client, options, shutdown.clone()) => result.map_err(RuntimeError::from),
        lost = hold(&manager) => Err(lost),
    };
    metrics.set_leader(false);
    if result.is_ok() {
        // Graceful shutdown: hand over at once.
        if let Err(error) = manager.release().await {
            tracing::warn!(%error, "could not release the leader Lease; the standby takes over when it expires");
        }
    }
    result
}

/// Returns once this replica holds the Lease; errors (apiserver unavailable) are retried.
async fn acquire(manager: &LeaseManager) {
    let mut delay = Duration::from_millis(500);
    loop {
        match manager.changed().await {
            Ok(true) => return,
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(%error, "leader election: cannot read or take the Lease; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    }
}

/// Keeps renewing the Lease; returns why leading stopped.
async fn hold(manager: &LeaseManager) -> RuntimeError {
    loop {
        match manager.changed().await {
            Ok(true) => {}
            Ok(false) => return RuntimeError::LeaseLost,
            Err(source) => return RuntimeError::LeaseRenewal(source),
        }
    }
}
