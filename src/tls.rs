//! TLS set-up shared by every HTTPS client in the process (kube, the Webex client, the
//! simulator's control client) and the simulator's HTTPS listener.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Installs ring as the process-wide rustls provider; reqwest is built without one so that
/// kube and the Webex client share a single crypto backend. Safe to call more than once.
pub fn install_crypto_provider() {
    // Err means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Terminal: a start-up setting is wrong.
    #[error("cannot read the CA bundle {path:?}")]
    ReadCaFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Terminal: a start-up setting is wrong.
    #[error("the CA bundle {path:?} holds no PEM certificate ({detail})")]
    BadCaFile { path: PathBuf, detail: String },
    /// Terminal: set twice with different bundles.
    #[error("extra CA certificates were already set for this process")]
    AlreadySet,
}

static EXTRA_ROOTS: OnceLock<Vec<reqwest::Certificate>> = OnceLock::new();

/// Trusts the CA certificates of a PEM bundle for calls to Webex, in addition to the system's
/// (for a TLS-inspecting proxy, or a simulator with its own CA). Once per process, at start-up.
pub fn trust_extra_roots(path: &Path) -> Result<usize, TlsError> {
    let pem = std::fs::read(path).map_err(|source| TlsError::ReadCaFile {
        path: path.to_path_buf(),
        source,
    })?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| TlsError::BadCaFile {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    if certs.is_empty() {
        return Err(TlsError::BadCaFile {
            path: path.to_path_buf(),
            detail: "empty".into(),
        });
    }
    let n = certs.len();
    EXTRA_ROOTS.set(certs).map_err(|_| TlsError::AlreadySet)?;
    Ok(n)
}

/// A reqwest builder that trusts the system's roots plus those of [`trust_extra_roots`].
pub fn http_client_builder() -> reqwest::ClientBuilder {
    install_crypto_provider();
    let builder = reqwest::Client::builder();
    match EXTRA_ROOTS.get() {
        Some(extra) => builder.tls_certs_merge(extra.iter().cloned()),
        None => builder,
    }
}
