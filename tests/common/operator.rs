//! The operator's own processes for integration tests: the real `webex-operator` binary as the
//! simulator (`sim`) and as the controller (`run`), tied to the test process so they die with it.
#![allow(dead_code, clippy::panic)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use webex_operator::api::WebexOrg;
use webex_operator::sim::control::SimControl;
use webex_operator::sim::control_types::{LicenseSeed, OrgSeed, SeededOrg};
use webex_operator::testenv::Supervised;

use super::wait::{self, wait_until};

pub const BIN: &str = env!("CARGO_BIN_EXE_webex-operator");

/// The test controller's resync interval: every object is reconciled again at least this often.
pub const RESYNC: Duration = Duration::from_secs(5);

/// A claim "over a resync": the resync and a second more.
pub const OVER_A_RESYNC: Duration = Duration::from_secs(RESYNC.as_secs() + 1);

/// A process of the operator binary with its log file.
pub struct OperatorProcess {
    pub process: Supervised,
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

impl OperatorProcess {
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Kills the process at once (SIGKILL): no graceful shutdown, as in a crash.
    pub fn kill(&mut self) {
        self.process.stop();
    }
}

fn spawn(name: &'static str, env: &[(&str, String)], args: &[&str]) -> OperatorProcess {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join(format!("{name}.log"));
    let mut argv: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    argv.push(BIN.to_string());
    argv.extend(args.iter().map(|a| a.to_string()));
    let process = Supervised::spawn(
        name,
        Path::new("/usr/bin/env"),
        &argv,
        &log,
        &dir.path().join(format!("{name}.pid")),
    )
    .expect("spawn operator binary");
    OperatorProcess {
        process,
        log,
        _dir: dir,
    }
}

/// A simulator process on a free port, with its own state file.
pub struct SimProcess {
    pub process: OperatorProcess,
    pub base_url: String,
    pub state_file: PathBuf,
}

impl SimProcess {
    pub fn control(&self) -> SimControl {
        SimControl::new(&self.base_url)
    }
}

pub async fn start_sim() -> SimProcess {
    start_sim_with(true).await
}

/// A simulator process; `persist: false` keeps its state in memory only (no `--state-file`):
/// the state file is rewritten whole after every change, which dominates load tests.
pub async fn start_sim_with(persist: bool) -> SimProcess {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let state_dir = tempfile::tempdir().expect("temp dir").keep();
    let state_file = state_dir.join("sim-state.json");
    let listen = format!("127.0.0.1:{port}");
    let mut args = vec!["sim", "--listen", &listen];
    if persist {
        args.extend(["--state-file", state_file.to_str().expect("utf-8 path")]);
    }
    let process = spawn("sim", &[("RUST_LOG", "warn".into())], &args);
    let base_url = format!("http://{listen}");
    let control = SimControl::new(&base_url);
    wait_until(Duration::from_secs(20), "the simulator answers", || async {
        control.now().await.is_ok()
    })
    .await;
    SimProcess {
        process,
        base_url,
        state_file,
    }
}

/// A simulator process serving HTTPS with `cert`/`key` (PEM), on 127.0.0.1. The test process
/// must trust the certificate's CA first (`webex_operator::tls::trust_extra_roots`).
pub async fn start_sim_tls(cert: &Path, key: &Path) -> SimProcess {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let listen = format!("127.0.0.1:{port}");
    let cert = cert.to_str().expect("utf-8 path");
    let key = key.to_str().expect("utf-8 path");
    let args = ["sim", "--listen", &listen, "--tls-cert", cert, "--tls-key", key];
    let process = spawn("sim", &[("RUST_LOG", "warn".into())], &args);
    let base_url = format!("https://{listen}");
    let control = SimControl::new(&base_url);
    wait_until(Duration::from_secs(20), "the simulator answers over HTTPS", || async {
        control.now().await.is_ok()
    })
    .await;
    SimProcess {
        process,
        base_url,
        state_file: PathBuf::new(),
    }
}

/// The controller (`webex-operator run`) against the test binary's shared control plane.
pub async fn start_operator(extra_env: &[(&str, String)]) -> OperatorProcess {
    start_operator_on(super::control_plane().await, extra_env)
}

/// The controller (`webex-operator run`) against `cp`.
pub fn start_operator_on(cp: &webex_operator::testenv::ControlPlane, extra_env: &[(&str, String)]) -> OperatorProcess {
    let mut env = vec![
        ("KUBECONFIG", cp.kubeconfig_path().display().to_string()),
        ("RUST_LOG", "info,webex_operator=debug".to_string()),
        ("WEBEX_OPERATOR_PENDING_POLL_SECONDS", "1".to_string()),
        ("WEBEX_OPERATOR_RESYNC_SECONDS", RESYNC.as_secs().to_string()),
        // Several controllers share a machine (and some a control plane): no fixed metrics
        // port, and no leader election unless a test asks for it.
        ("WEBEX_OPERATOR_METRICS_ADDR", "127.0.0.1:0".to_string()),
        ("WEBEX_OPERATOR_LEADER_ELECTION", "false".to_string()),
        ("WEBEX_OPERATOR_DRIFT_INTERVAL_SECONDS", "1".to_string()),
    ];
    env.extend(extra_env.iter().cloned());
    spawn("operator", &env, &["run"])
}

/// The licences every test org gets.
pub fn standard_org(name: &str, domain: &str) -> OrgSeed {
    OrgSeed::new(name, domain)
        .with_license(LicenseSeed::new("MS", "Messaging", 100))
        .with_license(LicenseSeed::new("EE", "Enterprise Edition", 100))
        .with_license(LicenseSeed::new("BCPRO", "Webex Calling - Professional", 50))
        .with_license(LicenseSeed::new("BCSTD", "Webex Calling - Standard", 50))
        .with_license(LicenseSeed::new("CJPSTD", "Contact Center Standard Agent", 20))
        .with_license(LicenseSeed::new("CJPPRM", "Contact Center Premium Agent", 20))
        .with_location("Headquarters")
}

/// Seeds `seed` in the simulator and creates its token Secret (in `ns`) and a WebexOrg named
/// `org_name` pointing at the simulator. Returns the seeded org.
pub async fn create_org(
    client: &kube::Client,
    sim: &SimProcess,
    ns: &str,
    org_name: &str,
    seed: OrgSeed,
    extra_spec: serde_json::Value,
) -> SeededOrg {
    let seeded = sim.control().seed_org(seed).await.expect("seed org");
    let secrets: Api<Secret> = Api::namespaced(client.clone(), ns);
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": format!("{org_name}-token"), "namespace": ns}, "stringData": {"token": seeded.admin_token}});
    secrets
        .patch(
            &format!("{org_name}-token"),
            &PatchParams::apply("test"),
            &Patch::Apply(&secret),
        )
        .await
        .expect("token secret");
    let mut spec = json!({"apiBaseUrl": sim.base_url, "backend": "Simulator", "tokenSecretRef": {"name": format!("{org_name}-token"), "namespace": ns}});
    if let (Some(spec_map), Some(extra)) = (spec.as_object_mut(), extra_spec.as_object()) {
        for (k, v) in extra {
            spec_map.insert(k.clone(), v.clone());
        }
    }
    let org = json!({"apiVersion": "webex.operator.io/v1alpha1", "kind": "WebexOrg", "metadata": {"name": org_name}, "spec": spec});
    let orgs: Api<WebexOrg> = Api::all(client.clone());
    orgs.patch(org_name, &PatchParams::apply("test"), &Patch::Apply(&org))
        .await
        .expect("WebexOrg");
    seeded
}

/// [`create_org`] of a WebexOrg named after the namespace, then waits until it is Ready.
pub async fn ready_org(
    client: &kube::Client,
    sim: &SimProcess,
    ns: &str,
    seed: OrgSeed,
    extra_spec: serde_json::Value,
) -> SeededOrg {
    let seeded = create_org(client, sim, ns, ns, seed, extra_spec).await;
    wait::wait_org_ready(client, ns).await;
    seeded
}

use k8s_openapi::api::events::v1::Event as K8sEvent;
use kube::api::ListParams;
use webex_operator::api::WebexUser;
use webex_operator::api::conditions::{READY, SYNCED};

#[allow(unused_imports)]
pub use super::wait::ready_reason;

/// (status, reason, message) of the Ready condition.
pub fn ready(user: &WebexUser) -> Option<(String, String, String)> {
    wait::condition(user, READY)
}

pub fn synced(user: &WebexUser) -> Option<String> {
    wait::condition(user, SYNCED).map(|c| c.0)
}

/// Waits until the WebexUser satisfies `pred`; returns it.
pub async fn wait_user(
    client: &kube::Client,
    ns: &str,
    name: &str,
    timeout: Duration,
    what: &str,
    pred: impl Fn(&WebexUser) -> bool,
) -> WebexUser {
    wait::wait_for(&Api::namespaced(client.clone(), ns), name, timeout, what, pred).await
}

/// Waits until the Ready condition of the WebexUser has `reason`.
pub async fn wait_reason(client: &kube::Client, ns: &str, name: &str, reason: &str) -> WebexUser {
    wait::wait_ready_reason(&Api::namespaced(client.clone(), ns), name, reason).await
}

/// Waits until the controller has reconciled the WebexUser's current spec (its status reports
/// the current generation).
pub async fn wait_user_reconciled(client: &kube::Client, ns: &str, name: &str) -> WebexUser {
    wait::wait_reconciled(&Api::namespaced(client.clone(), ns), name).await
}

/// Events about the object `name` in `ns`: (type, reason, note).
pub async fn events_for(client: &kube::Client, ns: &str, name: &str) -> Vec<(String, String, String)> {
    let api: Api<K8sEvent> = Api::namespaced(client.clone(), ns);
    let list = api.list(&ListParams::default()).await.expect("list events");
    list.items
        .into_iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
        .map(|e| {
            (
                e.type_.unwrap_or_default(),
                e.reason.unwrap_or_default(),
                e.note.unwrap_or_default(),
            )
        })
        .collect()
}

/// Applies a WebexUser from a spec (server-side apply, field manager "test").
pub async fn apply_user(client: &kube::Client, ns: &str, name: &str, spec: serde_json::Value) {
    let api: Api<WebexUser> = Api::namespaced(client.clone(), ns);
    let object = json!({"apiVersion": "webex.operator.io/v1alpha1", "kind": "WebexUser", "metadata": {"name": name, "namespace": ns}, "spec": spec});
    api.patch(name, &PatchParams::apply("test").force(), &Patch::Apply(&object))
        .await
        .expect("apply WebexUser");
}
