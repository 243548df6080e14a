//! TLS set-up shared by every HTTPS client in the process (kube and the Webex client).

/// Installs ring as the process-wide rustls provider; reqwest is built without one so that
/// kube and the Webex client share a single crypto backend. Safe to call more than once.
pub fn install_crypto_provider() {
    // Err means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
