//! webex-operator: a Kubernetes operator that manages Webex users declaratively.
//!
//! Layout:
//! - `api`: the custom resource types, one file per kind (pure data + validation).
//! - `controller`: one reconciler per kind; `*/plan.rs` holds the pure decisions, `*/mod.rs`
//!   the I/O; `drift` (paged drift detection), `guard` (mass-deprovisioning guard),
//!   `runtime` (leader election, probes). Uses `api`, `webex` and `telemetry`.
//! - `gitops`: `plan`, `import` and the Control Hub CSV conversions, without a cluster. Uses
//!   `api`, the controllers' pure `plan` functions and `webex`.
//! - `webex`: the wire model, ids, the per-org API budget and the HTTP client; the only code that
//!   talks to Webex (it reports calls to `telemetry`).
//! - `sim`: the local Webex-compatible simulator and its control API client (cargo feature
//!   `sim`, on by default). Speaks the wire: uses `webex`'s types, never `api`.
//! - `testenv`: starts a real kube-apiserver + etcd for the demo and the integration tests.
//! - `telemetry`: logging, Prometheus metrics, the health/metrics HTTP server.
//!
//! Imports go downward only, checked by `scripts/check-layers` (run by `scripts/test`): `api`
//! and `telemetry` import nothing of the crate; `webex` and `controller` never import `sim`;
//! `controller` never imports `gitops`; `sim` never imports `api`.

pub mod api;
pub mod controller;
#[cfg(feature = "sim")]
pub mod demo;
pub mod gitops;
pub mod manifests;
#[cfg(feature = "sim")]
pub mod sim;
pub mod telemetry;
pub mod testenv;
pub mod tls;
pub mod webex;
