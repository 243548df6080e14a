//! webex-operator: a Kubernetes operator that manages Webex users declaratively.
//!
//! Layout (each folder may only reach the ones listed after it):
//! - `gitops`: `plan`, `import` and the Control Hub CSV conversions, without a cluster. Uses
//!   `api`, the controllers' pure `plan` functions and `webex`.
//! - `api`: the custom resource types, one file per kind (pure data + validation).
//! - `controller`: one reconciler per kind; `*/plan.rs` holds the pure decisions, `*/mod.rs`
//!   the I/O. Uses `api` and `webex`.
//! - `webex`: the wire model, ids and the HTTP client; the only code that talks to Webex.
//! - `sim`: the local Webex-compatible simulator and its control API client. Uses `webex::model`.
//! - `testenv`: starts a real kube-apiserver + etcd for the demo and the integration tests.
//! - `telemetry`: logging setup.

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
