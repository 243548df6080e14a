//! The test control plane works: kube API, kubeconfig file, RBAC, teardown, and no processes
//! left behind when the test process dies without dropping it.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ListParams, ObjectMeta, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config, ResourceExt as _};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use webex_operator::testenv::{self, ControlPlane};

const ORPHAN_CHILD_ENV: &str = "WEBEX_TESTENV_ORPHAN_CHILD";

#[tokio::test]
async fn control_plane_serves_the_kube_api() {
    let started = Instant::now();
    let cp = common::control_plane().await;
    eprintln!(
        "control plane at {} ready (start-up {:?}; waited {:?})",
        cp.url(),
        cp.startup_time(),
        started.elapsed()
    );
    let client = common::client().await;

    let version = client.apiserver_version().await.unwrap();
    let expected = include_str!("../testenv/VERSION").trim();
    assert_eq!(version.git_version, expected);

    let ns = common::temp_namespace(&client, "smoke").await;
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let data = BTreeMap::from([("greeting".to_owned(), "hello".to_owned())]);
    let config_map = ConfigMap {
        metadata: ObjectMeta {
            name: Some("smoke".to_owned()),
            ..ObjectMeta::default()
        },
        data: Some(data.clone()),
        ..ConfigMap::default()
    };
    config_maps.create(&PostParams::default(), &config_map).await.unwrap();
    let read = config_maps.get("smoke").await.unwrap();
    assert_eq!(read.data, Some(data));
    assert_eq!(read.namespace().as_deref(), Some(ns.as_str()));
}

#[tokio::test]
async fn kubeconfig_file_works_with_kube() {
    let cp = common::control_plane().await;
    let kubeconfig = Kubeconfig::read_from(cp.kubeconfig_path()).unwrap();
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    assert_eq!(config.cluster_url.to_string().trim_end_matches('/'), cp.url());
    let namespaces: Api<Namespace> = Api::all(Client::try_from(config).unwrap());
    let list = namespaces.list(&ListParams::default()).await.unwrap();
    assert!(list.items.iter().any(|n| n.name_any() == "default"));

    // The extra user's context authenticates as that user, who may not list namespaces.
    let kubeconfig = Kubeconfig::read_from(cp.kubeconfig_path()).unwrap();
    let options = KubeConfigOptions {
        context: Some(common::OPERATOR_USER.to_owned()),
        ..KubeConfigOptions::default()
    };
    let config = Config::from_custom_kubeconfig(kubeconfig, &options).await.unwrap();
    let namespaces: Api<Namespace> = Api::all(Client::try_from(config).unwrap());
    let err = namespaces.list(&ListParams::default()).await.unwrap_err();
    assert!(is_forbidden(&err), "{err}");
}

#[tokio::test]
async fn rbac_applies_to_extra_users() {
    let cp = common::control_plane().await;
    assert!(cp.token_for(common::OPERATOR_USER).is_some());
    assert!(cp.token_for("nobody").is_none());
    assert!(cp.kube_config_for("nobody").is_err());

    let operator = common::client_for(common::OPERATOR_USER).await;
    let err = Api::<Namespace>::all(operator)
        .list(&ListParams::default())
        .await
        .unwrap_err();
    assert!(is_forbidden(&err), "{err}");

    let admin = common::client().await;
    Api::<Namespace>::all(admin).list(&ListParams::default()).await.unwrap();
}

#[tokio::test]
async fn drop_stops_the_processes_and_removes_the_dir() {
    let cp = ControlPlane::start(&common::bin_dir().await).await.unwrap();
    eprintln!("second control plane start-up: {:?}", cp.startup_time());
    let (apiserver, etcd) = cp.pids();
    let pids = [apiserver.unwrap(), etcd.unwrap()];
    let dir = cp.dir().to_owned();
    assert!(pids.iter().all(|&pid| alive(pid)));
    let keep = std::env::var(testenv::KEEP_ENV).is_ok_and(|v| v == "1");
    drop(cp);
    assert!(pids.iter().all(|&pid| !alive(pid)), "{pids:?} still running");
    if !keep {
        assert!(!dir.exists(), "{} still exists", dir.display());
    }
}

#[tokio::test]
async fn start_fails_with_the_apiserver_log_when_it_exits() {
    let real = common::bin_dir().await;
    let fake = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(real.join("etcd"), fake.path().join("etcd")).unwrap();
    let script = fake.path().join("kube-apiserver");
    std::fs::write(&script, "#!/bin/sh\necho \"fake apiserver: boom\" >&2\nexit 3\n").unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let err = ControlPlane::start(fake.path()).await.unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(
            err,
            testenv::TestenvError::Exited {
                name: "kube-apiserver",
                ..
            }
        ),
        "{message}"
    );
    assert!(message.contains("fake apiserver: boom"), "{message}");
    assert!(message.contains("exit status: 3"), "{message}");
}

/// Runs [`orphan_child`] in a separate process that starts a control plane and exits without
/// dropping it (as a `static` would); its etcd and kube-apiserver must die with it.
#[tokio::test]
async fn processes_die_when_the_test_process_exits() {
    check_orphans("exit").await;
}

/// The same, but the test process is SIGKILLed while the control plane runs.
#[tokio::test]
async fn processes_die_when_the_test_process_is_killed() {
    check_orphans("hold").await;
}

#[allow(clippy::unwrap_used)] // test helper, not a #[test] fn
async fn check_orphans(mode: &str) {
    let exe = std::env::current_exe().unwrap();
    let mut child = tokio::process::Command::new(exe)
        .args(["orphan_child", "--exact", "--ignored", "--nocapture"])
        .env(ORPHAN_CHILD_ENV, mode)
        .env(testenv::DIR_ENV, common::bin_dir().await)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut line = None;
    while let Some(l) = lines.next_line().await.unwrap() {
        if let Some(rest) = l.strip_prefix("ORPHAN ") {
            line = Some(rest.to_owned());
            break;
        }
    }
    let line = line.expect("the child printed no pids");
    if mode == "hold" {
        child.kill().await.unwrap();
    }
    let status = child.wait().await.unwrap();
    assert!(mode == "hold" || status.success(), "child failed: {status}");

    let fields: Vec<&str> = line.split(' ').collect();
    let pids: Vec<u32> = fields[..2].iter().map(|p| p.parse().unwrap()).collect();
    let dir = PathBuf::from(fields[2]);
    let deadline = Instant::now() + Duration::from_secs(15);
    while (pids.iter().any(|&pid| alive(pid)) || dir.exists()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(pids.iter().all(|&pid| !alive(pid)), "{pids:?} outlived their parent");
    if std::env::var(testenv::KEEP_ENV).is_err() {
        assert!(!dir.exists(), "{} outlived its parent", dir.display());
    }
}

#[tokio::test]
#[ignore = "helper process for processes_die_when_the_test_process_*"]
async fn orphan_child() {
    let Ok(mode) = std::env::var(ORPHAN_CHILD_ENV) else {
        return;
    };
    let cp = ControlPlane::start(&common::bin_dir().await).await.unwrap();
    let (apiserver, etcd) = cp.pids();
    println!("ORPHAN {} {} {}", apiserver.unwrap(), etcd.unwrap(), cp.dir().display());
    if mode == "hold" {
        tokio::time::sleep(Duration::from_secs(600)).await;
    }
    std::process::exit(0);
}

/// True while `pid` is a live (not zombie) process.
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

fn is_forbidden(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(status) if status.code == 403)
}
