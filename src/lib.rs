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
//! - `sim`: the local Webex-compatible simulator and its control API client. Uses `webex::model`.
//! - `testenv`: starts a real kube-apiserver + etcd for the demo and the integration tests.
//! - `telemetry`: logging, Prometheus metrics, the health/metrics HTTP server.

pub mod api;
pub mod controller;
pub mod demo;
pub mod gitops;
pub mod manifests;
pub mod sim;
pub mod telemetry;
pub mod testenv;
pub mod tls;
pub mod webex;
