//! The `webex-operator` binary: the controller, the CRDs, the simulator and the local demo.

#[cfg(feature = "sim")]
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use webex_operator::controller::{self, RunOptions};
use webex_operator::telemetry::{self, LogFormat};

#[derive(Debug, Parser)]
#[command(
    name = "webex-operator",
    version,
    about = "Manage Webex users declaratively from Kubernetes"
)]
struct Cli {
    /// Log format: text for terminals, json for production.
    #[arg(long, env = "WEBEX_OPERATOR_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,
    /// Hide the local part of email addresses in every log line (`***@acme.example`).
    #[arg(long, env = "WEBEX_OPERATOR_REDACT_EMAILS", global = true)]
    redact_emails: bool,
    /// PEM bundle of CA certificates trusted for calls to Webex in addition to the system's
    /// (a TLS-inspecting proxy, or a simulator with its own CA).
    #[arg(long, env = "WEBEX_OPERATOR_WEBEX_CA_FILE", global = true)]
    webex_ca_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the controllers against the cluster of the current kubeconfig (or in-cluster config).
    Run {
        /// Seconds between checks of objects waiting on something outside the operator (e.g. a
        /// user's first sign-in).
        #[arg(long, env = "WEBEX_OPERATOR_PENDING_POLL_SECONDS", default_value_t = 60)]
        pending_poll_seconds: u64,
        /// Seconds between re-checks of each Ready object against Webex (one GET each); the
        /// routine checking is drift detection by pages.
        #[arg(long, env = "WEBEX_OPERATOR_RESYNC_SECONDS", default_value_t = 3600)]
        resync_seconds: u64,
        /// Seconds between two listings of an org's people for drift detection (and noticing
        /// first sign-ins); a WebexOrg's spec.driftInterval overrides it.
        #[arg(long, env = "WEBEX_OPERATOR_DRIFT_INTERVAL_SECONDS", default_value_t = 300)]
        drift_interval_seconds: u64,
        /// Name of this replica in Events (defaults to the pod name in the chart).
        #[arg(long, env = "POD_NAME")]
        instance: Option<String>,
        /// Metrics, probes and leader election.
        #[command(flatten)]
        runtime: controller::runtime::RuntimeArgs,
    },
    /// Print the CustomResourceDefinitions as YAML (the content of crds/).
    Crds,
    /// Run the local Webex-compatible simulator.
    #[cfg(feature = "sim")]
    Sim {
        /// Address to listen on.
        #[arg(long, env = "WEBEX_SIM_LISTEN", default_value = "127.0.0.1:8787")]
        listen: SocketAddr,
        /// File that keeps the simulator's state across restarts.
        #[arg(long, env = "WEBEX_SIM_STATE_FILE")]
        state_file: Option<PathBuf>,
        /// Serve HTTPS with this PEM certificate (chain) instead of plain HTTP; needs --tls-key.
        #[arg(long, env = "WEBEX_SIM_TLS_CERT", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// PEM private key of --tls-cert.
        #[arg(long, env = "WEBEX_SIM_TLS_KEY", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// The local demo: a real kube-apiserver + etcd, the simulator, the controller and
    /// examples/, converging while simulated users sign in.
    #[cfg(feature = "sim")]
    Demo {
        /// Keep everything running after the demo converged, until Ctrl-C.
        #[arg(long)]
        keep_running: bool,
        /// Port of the simulator (examples/ point at 127.0.0.1:8787).
        #[arg(long, default_value_t = 8787)]
        sim_port: u16,
    },
    /// GitOps tooling: plan, import, Control Hub CSV (issue 7).
    #[command(flatten)]
    Gitops(webex_operator::gitops::cli::GitopsCommand),
}

// jemalloc rather than glibc malloc: with thousands of reconciles allocating and freeing JSON
// bodies on every worker thread, glibc's arenas kept freed memory (peak RSS a third above the
// live heap at 10,000 users); jemalloc returns it (measured with `cargo bench --bench scale`).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format, cli.redact_emails);
    webex_operator::tls::install_crypto_provider();
    if let Some(path) = &cli.webex_ca_file {
        match webex_operator::tls::trust_extra_roots(path) {
            Ok(n) => {
                tracing::info!(certificates = n, path = %path.display(), "trusting extra CA certificates for Webex")
            }
            Err(error) => {
                eprintln!("error: {:#}", anyhow::Error::from(error));
                return ExitCode::FAILURE;
            }
        }
    }
    // `plan` has its own exit codes (0 no change, 2 changes, 1 error).
    let command = match cli.command {
        Command::Gitops(command) => return ExitCode::from(command.run().await),
        command => command,
    };
    match execute(command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Run {
            pending_poll_seconds,
            resync_seconds,
            drift_interval_seconds,
            instance,
            runtime,
        } => {
            let config = kube::Config::infer().await?;
            let options = RunOptions {
                pending_poll: Duration::from_secs(pending_poll_seconds),
                resync: Duration::from_secs(resync_seconds),
                drift_interval: Duration::from_secs(drift_interval_seconds),
                instance,
            };
            controller::runtime::serve(config, options, runtime, shutdown_signal()).await?;
        }
        Command::Crds => print!("{}", webex_operator::api::crds_yaml()?),
        #[cfg(feature = "sim")]
        Command::Sim {
            listen,
            state_file,
            tls_cert,
            tls_key,
        } => {
            let tls = tls_cert
                .zip(tls_key)
                .map(|(cert, key)| webex_operator::sim::SimTls { cert, key });
            webex_operator::sim::serve_forever(webex_operator::sim::SimConfig {
                listen,
                state_file,
                tls,
            })
            .await?;
        }
        #[cfg(feature = "sim")]
        Command::Demo { keep_running, sim_port } => {
            webex_operator::demo::run(webex_operator::demo::DemoOptions { keep_running, sim_port }).await?;
        }
        Command::Gitops(_) => {} // run by main(), which keeps its exit code
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
