//! Shared helpers for the integration tests: one real control plane per test binary
//! (kube-apiserver + etcd, see `webex_operator::testenv`) and one namespace per test.
//!
//! Use from a test file with `mod common;`, then:
//! ```ignore
//! let client = common::client().await;
//! let ns = common::temp_namespace(&client, "my-test").await;
//! ```
//! or, for a test of the controller, [`setup`] (client, CRDs, the binary's controller, a
//! namespace and the binary's simulator). Each `#[tokio::test]` runs on its own runtime, so the
//! shared `ControlPlane` holds only child processes and files; clients are created per test, on
//! the test's runtime.
//!
//! - [`operator`]: the operator binary as simulator and controller, test orgs and users;
//! - [`wait`]: waiting on a condition or on an object of any kind;
//! - [`traffic`]: the simulator's request counters as markers of the controller's work;
//! - [`openapi`]: the vendored Webex OpenAPI documents as JSON Schema.
#![allow(dead_code, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ObjectMeta, PostParams};
use rand::Rng as _;
use tokio::sync::OnceCell;
use webex_operator::testenv::{self, ControlPlane, ControlPlaneOptions};

pub mod openapi;
pub mod operator;
pub mod traffic;
pub mod wait;

#[allow(unused_imports)]
pub use wait::{wait_for, wait_until};

use operator::{OperatorProcess, SimProcess};

/// An extra user of the shared control plane with no permissions of its own; RBAC tests bind
/// the chart's ClusterRole to it and run the controller with `client_for(OPERATOR_USER)`.
pub const OPERATOR_USER: &str = "webex-operator";

/// Label put on every namespace made by [`temp_namespace`].
pub const TEMP_NAMESPACE_LABEL: &str = "webex-operator.test/temp";

static CONTROL_PLANE: OnceCell<Result<ControlPlane, String>> = OnceCell::const_new();
/// The test binary's controller and simulator, started by the first test that asks ([`setup`]).
static OPERATOR: OnceCell<OperatorProcess> = OnceCell::const_new();
static SIM: OnceCell<SimProcess> = OnceCell::const_new();

/// What a test of the controller begins with: an admin client, the CRDs installed, the test
/// binary's controller running (one for every test of the binary, with the settings of
/// [`operator::start_operator`]), a fresh namespace named after `prefix`, and the binary's
/// simulator (shared by its tests; each test seeds its own orgs). Tests that need a simulator
/// of their own (they move its clock, or load it) use [`setup_with_own_sim`].
pub async fn setup(prefix: &str) -> (kube::Client, String, &'static SimProcess) {
    let (client, ns) = setup_controller(prefix).await;
    let sim = SIM.get_or_init(operator::start_sim).await;
    (client, ns, sim)
}

/// [`setup`] with a simulator of the test's own; `persist: false` keeps its state in memory
/// (see [`operator::start_sim_with`]).
pub async fn setup_with_own_sim(prefix: &str, persist: bool) -> (kube::Client, String, SimProcess) {
    let (client, ns) = setup_controller(prefix).await;
    (client, ns, operator::start_sim_with(persist).await)
}

/// The binary's shared simulator, started on first use.
pub async fn shared_sim() -> &'static SimProcess {
    SIM.get_or_init(operator::start_sim).await
}

async fn setup_controller(prefix: &str) -> (kube::Client, String) {
    let client = client().await;
    if let Err(e) = webex_operator::manifests::install_crds(&client, "test").await {
        panic!("installing the CRDs: {e}");
    }
    OPERATOR.get_or_init(|| operator::start_operator(&[])).await;
    let ns = temp_namespace(&client, prefix).await;
    (client, ns)
}

/// The test binary's control plane, started on first use. Fails (never skips) when the
/// binaries are missing; in CI (`CI=true`) they must come from `WEBEX_TESTENV_DIR`
/// (`scripts/test` sets it).
pub async fn control_plane() -> &'static ControlPlane {
    match CONTROL_PLANE.get_or_init(start).await {
        Ok(control_plane) => control_plane,
        Err(e) => panic!("{e}"),
    }
}

/// A fresh admin client (system:masters) on the calling test's runtime.
pub async fn client() -> kube::Client {
    match control_plane().await.client().await {
        Ok(client) => client,
        Err(e) => panic!("kube client for the test control plane: {e}"),
    }
}

/// A fresh client authenticated as `user` (e.g. [`OPERATOR_USER`]).
pub async fn client_for(user: &str) -> kube::Client {
    match control_plane().await.client_for(user).await {
        Ok(client) => client,
        Err(e) => panic!("kube client for {user}: {e}"),
    }
}

/// Creates a namespace named `<prefix>-<random>` and returns its name. (A bare apiserver runs no
/// namespace controller, so there is no point deleting it: the control plane dies with the test
/// binary.)
pub async fn temp_namespace(client: &kube::Client, prefix: &str) -> String {
    let mut prefix: String = prefix
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(50)
        .collect();
    prefix = prefix.trim_matches('-').to_owned();
    if prefix.is_empty() {
        prefix = "test".to_owned();
    }
    let suffix: String = rand::rng()
        .sample_iter(&rand::distr::Alphanumeric)
        .take(6)
        .map(|b| char::from(b).to_ascii_lowercase())
        .collect();
    let name = format!("{prefix}-{suffix}");
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            labels: Some(BTreeMap::from([(TEMP_NAMESPACE_LABEL.to_owned(), "true".to_owned())])),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    if let Err(e) = Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &namespace)
        .await
    {
        panic!("creating namespace {name}: {e}");
    }
    name
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The directory with kube-apiserver and etcd, under the same rules as [`control_plane`] (for
/// tests that start a control plane of their own).
pub async fn bin_dir() -> PathBuf {
    match find_bin_dir().await {
        Ok(dir) => dir,
        Err(e) => panic!("{e}"),
    }
}

async fn find_bin_dir() -> Result<PathBuf, String> {
    Ok(match std::env::var_os(testenv::DIR_ENV) {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if !testenv::binaries_present(&dir) {
                return Err(format!(
                    "{}={} does not contain kube-apiserver and etcd; run testenv/build.sh \
                     (or scripts/test)",
                    testenv::DIR_ENV,
                    dir.display()
                ));
            }
            dir
        }
        None if in_ci() => {
            return Err(format!(
                "CI is set but {} is not: run the tests through scripts/test, which builds or \
                 finds kube-apiserver and etcd",
                testenv::DIR_ENV
            ));
        }
        // Local `cargo test`: use the cached build, or build it (minutes, once).
        None => testenv::binaries(|line| eprintln!("{line}"))
            .await
            .map_err(|e| e.to_string())?,
    })
}

async fn start() -> Result<ControlPlane, String> {
    let dir = find_bin_dir().await?;
    let options = ControlPlaneOptions {
        extra_users: vec![(OPERATOR_USER.to_owned(), Vec::new())],
        ..ControlPlaneOptions::default()
    };
    ControlPlane::start_with(&dir, options)
        .await
        .map_err(|e| format!("starting the test control plane: {e}"))
}
