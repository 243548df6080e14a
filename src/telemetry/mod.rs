//! Logging: human-readable text for terminals, JSON lines for production (`--log-format json`).
//! The filter comes from `RUST_LOG` (default `info`).
//!
//! Metrics (`metrics`) and the `/metrics`, `/healthz`, `/readyz` server (`http`).

pub mod http;
pub mod metrics;
pub mod redact;

use kube::runtime::watcher;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Installs the global subscriber; a second call is a no-op (tests start several components).
/// `redact_emails` hides the local part of every email address in every log line.
pub fn init(format: LogFormat, redact_emails: bool) {
    let filter = || {
        EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| EnvFilter::new("info,kube_runtime=warn,kube_client=warn,hyper=warn,tower=warn"))
    };
    let _ = match (format, redact_emails) {
        (LogFormat::Text, false) => tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .try_init(),
        (LogFormat::Json, false) => tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        (LogFormat::Text, true) => {
            // ANSI colours would split an address with escape codes.
            tracing_subscriber::fmt()
                .with_env_filter(filter())
                .with_ansi(false)
                .with_writer(redact::RedactingStderr)
                .try_init()
        }
        (LogFormat::Json, true) => tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_writer(redact::RedactingStderr)
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
}

/// A tap for a controller's watch stream (`.inspect(...)` after `.reflect(...)`): once the
/// watches of every kind have listed their objects, the replica reports ready on `/readyz`
/// (style-anchors 13).
///
/// (`Store::wait_until_ready` is not used for this: it wakes only its latest poller, and the
/// controller itself waits on it.)
pub fn on_watch_event<K>(kind: metrics::Kind) -> impl Fn(&Result<watcher::Event<K>, watcher::Error>) {
    move |event| {
        if matches!(event, Ok(watcher::Event::InitDone)) && http::mark_synced(kind) {
            tracing::info!("watches synced: ready");
        }
    }
}
