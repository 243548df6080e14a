//! The Helm chart (`charts/webex-operator`) with real helm (built from its Go module by
//! `testenv/build-helm.sh`; `scripts/test` exports `WEBEX_HELM`): it lints, renders what the
//! values say, ships the generated CRDs, and its RBAC is enough for the controller (the real
//! binary runs with exactly the chart's ClusterRole and Roles against the real apiserver and
//! passes WebexUser scenarios) and no broader than needed.

// Test helpers fail by panicking, with what they saw.
#![allow(clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::operator::{self, apply_user, create_org, events_for, standard_org, wait_reason};
use common::wait_until;
use k8s_openapi::api::authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec};
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::{Value, json};
use webex_operator::api::WebexUser;
use webex_operator::sim::control_types::{OrgSeed, PersonSeed};

const CHART: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/charts/webex-operator");
const PASSWORD: &str = "Harbour-Lights-2026!";

/// The helm binary: `$WEBEX_HELM`, else (outside CI) built once by `testenv/build-helm.sh`.
fn helm() -> PathBuf {
    if let Some(path) = std::env::var_os("WEBEX_HELM") {
        let path = PathBuf::from(path);
        assert!(path.is_file(), "WEBEX_HELM={} is not a file", path.display());
        return path;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("CI is set but WEBEX_HELM is not: run the tests through scripts/test, which builds helm");
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("testenv/build-helm.sh");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("run testenv/build-helm.sh");
    assert!(out.status.success(), "testenv/build-helm.sh failed");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn run_helm(args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(helm())
        .args(args)
        .env(
            "HELM_CACHE_HOME",
            std::env::temp_dir().join("webex-operator-helm/cache"),
        )
        .env(
            "HELM_CONFIG_HOME",
            std::env::temp_dir().join("webex-operator-helm/config"),
        )
        .env("HELM_DATA_HOME", std::env::temp_dir().join("webex-operator-helm/data"))
        .output()
        .expect("run helm");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `helm template` of the chart in `namespace` with `--set` values; the rendered documents.
fn render(namespace: &str, sets: &[&str]) -> Vec<Value> {
    let mut args = vec!["template", "wx", CHART, "--namespace", namespace];
    for set in sets {
        args.extend(["--set", set]);
    }
    let (ok, stdout, stderr) = run_helm(&args);
    assert!(ok, "helm template {sets:?} failed:\n{stderr}");
    let docs: Vec<Value> = serde_saphyr::from_multiple(&stdout).expect("rendered YAML parses");
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

fn of_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

#[test]
fn helm_lint_passes_strictly() {
    let (ok, stdout, stderr) = run_helm(&["lint", "--strict", CHART]);
    assert!(ok, "helm lint failed:\n{stdout}\n{stderr}");
    let (ok, stdout, stderr) = run_helm(&[
        "lint",
        "--strict",
        CHART,
        "--set",
        "simulator.enabled=true",
        "--set",
        "rbac.tokenSecretNamespaces={a,b}",
    ]);
    assert!(ok, "helm lint with the simulator failed:\n{stdout}\n{stderr}");
}

#[test]
fn chart_crds_are_the_generated_ones() {
    let path = Path::new(CHART).join("crds/webex-operator.yaml");
    let generated = webex_operator::api::crds_yaml().expect("CRDs serialise");
    if std::env::var("WEBEX_UPDATE_CRDS").as_deref() == Ok("1") {
        std::fs::write(&path, &generated).expect("write chart crds");
    }
    let shipped = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        shipped == generated,
        "charts/webex-operator/crds/webex-operator.yaml is stale: run \
         `cargo run -- crds > crds/webex-operator.yaml && cp crds/webex-operator.yaml charts/webex-operator/crds/`"
    );
    // `helm template --include-crds` ships them.
    let (ok, stdout, stderr) = run_helm(&["template", "wx", CHART, "--include-crds"]);
    assert!(ok, "{stderr}");
    let docs: Vec<Value> = serde_saphyr::from_multiple(&stdout).expect("YAML");
    let crds: BTreeSet<String> = docs
        .iter()
        .filter(|d| d["kind"] == "CustomResourceDefinition")
        .filter_map(|d| d["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    let expected: BTreeSet<String> = webex_operator::api::crds()
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .collect();
    assert_eq!(crds, expected);
}

#[test]
fn default_render_is_a_hardened_two_replica_deployment() {
    let docs = render("webex-system", &[]);
    let deployments = of_kind(&docs, "Deployment");
    assert_eq!(deployments.len(), 1, "no simulator by default");
    let d = deployments[0];
    assert_eq!(d["metadata"]["namespace"], "webex-system");
    assert_eq!(d["spec"]["replicas"], 2);
    let pod = &d["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "wx-webex-operator");
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let c = &pod["containers"][0];
    let args = strings(&c["args"]);
    for expected in [
        "run",
        "--log-format=json",
        "--metrics-addr=0.0.0.0:8080",
        "--leader-election=true",
    ] {
        assert!(args.contains(&expected.to_string()), "{expected} in {args:?}");
    }
    let env: Vec<&Value> = c["env"].as_array().expect("env").iter().collect();
    let pod_name = env.iter().find(|e| e["name"] == "POD_NAME").expect("POD_NAME");
    assert_eq!(pod_name["valueFrom"]["fieldRef"]["fieldPath"], "metadata.name");
    assert!(env.iter().any(|e| e["name"] == "POD_NAMESPACE"));
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert!(c["resources"]["requests"]["memory"].is_string());
    assert!(c["resources"]["limits"]["memory"].is_string());
    let sc = &c["securityContext"];
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    assert_eq!(strings(&sc["capabilities"]["drop"]), vec!["ALL".to_string()]);
    assert!(
        c["image"].as_str().is_some_and(|i| i.starts_with("ghcr.io/")),
        "{}",
        c["image"]
    );
    assert_eq!(of_kind(&docs, "ServiceAccount").len(), 1);
    assert_eq!(of_kind(&docs, "PodDisruptionBudget").len(), 1);
    let services = of_kind(&docs, "Service");
    assert_eq!(services.len(), 1);
    assert_eq!(services[0]["spec"]["ports"][0]["port"], 8080);

    // The trial simulator: a second Deployment and a Service running `sim`.
    let docs = render("webex-system", &["simulator.enabled=true"]);
    let sim = of_kind(&docs, "Deployment")
        .into_iter()
        .find(|d| d["metadata"]["name"] == "wx-webex-operator-simulator")
        .expect("simulator Deployment");
    let sim_c = &sim["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(strings(&sim_c["args"])[0], "sim");
    assert_eq!(sim_c["securityContext"]["readOnlyRootFilesystem"], true);
    assert!(
        of_kind(&docs, "Service")
            .iter()
            .any(|s| s["metadata"]["name"] == "wx-webex-operator-simulator")
    );

    // Two active replicas would write twice: refused.
    let (ok, _, stderr) = run_helm(&["template", "wx", CHART, "--set", "leaderElection.enabled=false"]);
    assert!(!ok && stderr.contains("needs leaderElection.enabled"), "{stderr}");
    let docs = render("x", &["leaderElection.enabled=false", "replicaCount=1"]);
    let args = strings(&of_kind(&docs, "Deployment")[0]["spec"]["template"]["spec"]["containers"][0]["args"]);
    assert!(args.contains(&"--no-leader-election".to_string()), "{args:?}");
    assert!(
        of_kind(&docs, "Role").is_empty(),
        "no Lease permissions without leader election"
    );
}

/// Every (kind, rule) of the rendered RBAC.
#[test]
fn a_ca_bundle_configmap_is_mounted_and_named_to_the_controller() {
    let deployment = |sets: &[&str]| of_kind(&render("webex-system", sets), "Deployment")[0].clone();
    let env_of = |d: &Value| -> Option<String> {
        d["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_array()
            .and_then(|env| env.iter().find(|e| e["name"] == "WEBEX_OPERATOR_WEBEX_CA_FILE"))
            .and_then(|e| e["value"].as_str().map(str::to_string))
    };
    let plain = deployment(&[]);
    assert_eq!(env_of(&plain), None, "system roots only by default");
    let with_ca = deployment(&["controller.webexCaBundle.configMap=corp-ca"]);
    assert_eq!(env_of(&with_ca).as_deref(), Some("/etc/webex-operator/ca/ca.pem"));
    let pod = &with_ca["spec"]["template"]["spec"];
    let volume = pod["volumes"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["name"] == "webex-ca"))
        .expect("CA volume");
    assert_eq!(volume["configMap"]["name"], "corp-ca");
    let mount = pod["containers"][0]["volumeMounts"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["name"] == "webex-ca"))
        .expect("CA mount");
    assert_eq!(mount["mountPath"], "/etc/webex-operator/ca");
    assert_eq!(mount["readOnly"], true);
}

fn rules(docs: &[Value]) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for kind in ["ClusterRole", "Role"] {
        for role in of_kind(docs, kind) {
            let ns = role["metadata"]["namespace"].as_str().unwrap_or("").to_string();
            for rule in role["rules"].as_array().expect("rules") {
                out.push((kind.to_string(), ns.clone(), rule.clone()));
            }
        }
    }
    out
}

#[test]
fn rbac_is_no_broader_than_needed() {
    // Each rule in the templates carries a one-line "why" comment right above it.
    for file in ["templates/clusterrole.yaml", "templates/role.yaml"] {
        let text = std::fs::read_to_string(Path::new(CHART).join(file)).expect("template");
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.trim_start().starts_with("- apiGroups:") {
                let above = lines[..i]
                    .iter()
                    .rev()
                    .find(|l| !l.trim_start().starts_with("{{"))
                    .copied()
                    .unwrap_or_default();
                assert!(
                    above.trim_start().starts_with('#'),
                    "{file}:{}: RBAC rule without a why-comment",
                    i + 1
                );
            }
        }
    }

    for sets in [&[][..], &["rbac.tokenSecretNamespaces={team-a}"][..]] {
        let docs = render("webex-system", sets);
        let all = rules(&docs);
        assert!(!all.is_empty());
        for (kind, ns, rule) in &all {
            let groups = strings(&rule["apiGroups"]);
            let resources = strings(&rule["resources"]);
            let verbs = strings(&rule["verbs"]);
            let names = strings(&rule["resourceNames"]);
            let what = format!("{kind} {ns} {rule}");
            for list in [&groups, &resources, &verbs] {
                assert!(!list.iter().any(|s| s.contains('*')), "wildcard in {what}");
            }
            assert!(rule.get("nonResourceURLs").is_none(), "{what}");
            let writes: Vec<&String> = verbs
                .iter()
                .filter(|v| !matches!(v.as_str(), "get" | "list" | "watch"))
                .collect();
            for resource in &resources {
                match resource.as_str() {
                    // Secrets: read one by name, never enumerate or write.
                    "secrets" => assert_eq!(verbs, vec!["get".to_string()], "{what}"),
                    "customresourcedefinitions" => {
                        assert!(writes.is_empty(), "no write on CRDs: {what}");
                        assert!(!names.is_empty(), "only its own CRDs: {what}");
                    }
                    "leases" => {
                        assert_eq!(kind, "Role", "Leases only in its namespace: {what}");
                        assert_eq!(ns, "webex-system");
                        assert!(
                            verbs == vec!["create".to_string()] || !names.is_empty(),
                            "renew only its own Lease: {what}"
                        );
                    }
                    "events" => assert_eq!(groups, vec!["events.k8s.io".to_string()], "{what}"),
                    "webexorgs" | "externalusers" | "userclaims" => assert!(
                        writes.iter().all(|v| *v == "patch"),
                        "no create/update/delete of the user's objects: {what}"
                    ),
                    // LicenseTemplates are only read (the controller reports on them in status).
                    "licensetemplates" => assert!(writes.is_empty(), "templates are only read: {what}"),
                    // A UserClaim creates the WebexUsers of claimed users (R-CLM-2) and deletes
                    // them once revoked (R-CLM-7); never updates them.
                    "webexusers" => assert!(
                        writes
                            .iter()
                            .all(|v| matches!(v.as_str(), "patch" | "create" | "delete")),
                        "no update of the user's objects: {what}"
                    ),
                    "webexorgs/status"
                    | "webexusers/status"
                    | "externalusers/status"
                    | "licensetemplates/status"
                    | "userclaims/status" => {
                        assert_eq!(verbs, vec!["patch".to_string()], "{what}")
                    }
                    other => panic!("unexpected resource {other} in {what}"),
                }
                if resource == "webexorgs" {
                    assert!(writes.is_empty(), "WebexOrgs are only read (status aside): {what}");
                }
            }
        }
        let cluster_secrets = all
            .iter()
            .any(|(kind, _, r)| kind == "ClusterRole" && strings(&r["resources"]).contains(&"secrets".to_string()));
        assert_eq!(
            cluster_secrets,
            sets.is_empty(),
            "Secrets cluster-wide only when no namespaces are listed"
        );
    }
}

/// Asks the apiserver whether the current user may do something.
async fn may(
    client: &kube::Client,
    verb: &str,
    group: &str,
    resource: &str,
    ns: Option<&str>,
    name: Option<&str>,
) -> bool {
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(verb.into()),
                group: Some(group.into()),
                resource: Some(resource.into()),
                namespace: ns.map(str::to_string),
                name: name.map(str::to_string),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    api.create(&PostParams::default(), &review)
        .await
        .expect("SelfSubjectAccessReview")
        .status
        .is_some_and(|s| s.allowed)
}

#[tokio::test]
async fn the_controller_runs_with_exactly_the_charts_rbac() {
    let cp = common::control_plane().await;
    let admin = common::client().await;
    webex_operator::manifests::install_crds(&admin, "test")
        .await
        .expect("CRDs");
    let op_ns = common::temp_namespace(&admin, "webex-system").await;
    let ns = common::temp_namespace(&admin, "rbac").await;

    // The chart's RBAC, with its subjects (the ServiceAccount) replaced by the test user whose
    // token the controller will use. Token Secrets only in `ns` (the narrow variant).
    let secret_ns = format!("rbac.tokenSecretNamespaces={{{ns}}}");
    let docs = render(&op_ns, &[secret_ns.as_str()]);
    let mut rbac = String::new();
    for mut doc in docs {
        let kind = doc["kind"].as_str().unwrap_or_default().to_string();
        if !matches!(
            kind.as_str(),
            "ClusterRole" | "ClusterRoleBinding" | "Role" | "RoleBinding"
        ) {
            continue;
        }
        if kind.ends_with("Binding") {
            doc["subjects"] =
                json!([{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": common::OPERATOR_USER}]);
        }
        // Cluster-scoped names are shared by the test binary: make them unique.
        if kind.starts_with("Cluster") {
            let name = format!("{}-{op_ns}", doc["metadata"]["name"].as_str().unwrap_or_default());
            doc["metadata"]["name"] = json!(name.clone());
            if kind == "ClusterRoleBinding" {
                doc["roleRef"]["name"] = json!(name);
            }
        }
        rbac.push_str("---\n");
        rbac.push_str(&serde_json::to_string(&doc).expect("JSON"));
        rbac.push('\n');
    }
    let manifests = webex_operator::manifests::parse_documents("chart RBAC", &rbac).expect("RBAC manifests");
    assert_eq!(manifests.len(), 6, "ClusterRole, Role x2 and their bindings");
    webex_operator::manifests::apply(&admin, &manifests, "test")
        .await
        .expect("apply RBAC");

    // What the user may and may not do, as the apiserver sees it.
    let user = common::client_for(common::OPERATOR_USER).await;
    let g = "webex.operator.io";
    wait_until(Duration::from_secs(10), "the RBAC is in force", || async {
        may(&user, "watch", g, "webexusers", None, None).await
    })
    .await;
    assert!(may(&user, "get", "", "secrets", Some(&ns), Some("acme-token")).await);
    assert!(!may(&user, "list", "", "secrets", Some(&ns), None).await);
    assert!(!may(&user, "get", "", "secrets", Some("kube-system"), Some("x")).await);
    assert!(
        !may(
            &user,
            "delete",
            "apiextensions.k8s.io",
            "customresourcedefinitions",
            None,
            Some("webexusers.webex.operator.io")
        )
        .await
    );
    // Created by a UserClaim for the users it claimed (deleted once revoked), never updated.
    assert!(may(&user, "create", g, "webexusers", Some(&ns), None).await);
    assert!(!may(&user, "update", g, "webexusers", Some(&ns), Some("x")).await);
    assert!(may(&user, "watch", g, "userclaims", None, None).await);
    assert!(may(&user, "patch", g, "userclaims/status", Some(&ns), Some("x")).await);
    assert!(!may(&user, "create", g, "userclaims", Some(&ns), None).await);
    assert!(may(&user, "watch", g, "externalusers", None, None).await);
    assert!(may(&user, "patch", g, "externalusers", Some(&ns), Some("x")).await);
    assert!(may(&user, "patch", g, "externalusers/status", Some(&ns), Some("x")).await);
    assert!(!may(&user, "create", g, "externalusers", Some(&ns), None).await);
    assert!(!may(&user, "delete", g, "externalusers", Some(&ns), Some("x")).await);
    assert!(!may(&user, "delete", g, "webexorgs", None, Some("x")).await);
    assert!(
        may(
            &user,
            "patch",
            "coordination.k8s.io",
            "leases",
            Some(&op_ns),
            Some("webex-operator")
        )
        .await
    );
    assert!(
        !may(
            &user,
            "patch",
            "coordination.k8s.io",
            "leases",
            Some(&op_ns),
            Some("someone-else")
        )
        .await
    );
    assert!(!may(&user, "create", "coordination.k8s.io", "leases", Some(&ns), None).await);

    // The real controller binary as that user, leader election on.
    let kubeconfig_dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = kubeconfig_dir.path().join("kubeconfig");
    let admin_config = std::fs::read_to_string(cp.kubeconfig_path()).expect("kubeconfig");
    let user_config = admin_config.replace(
        "current-context: \"admin\"",
        &format!("current-context: \"{}\"", common::OPERATOR_USER),
    );
    assert_ne!(admin_config, user_config, "switched the kubeconfig's context");
    std::fs::write(&kubeconfig, user_config).expect("write kubeconfig");
    let sim = operator::start_sim().await;
    let controller = operator::start_operator_on(
        cp,
        &[
            ("KUBECONFIG", kubeconfig.display().to_string()),
            ("WEBEX_OPERATOR_LEADER_ELECTION", "true".into()),
            ("POD_NAMESPACE", op_ns.clone()),
            ("POD_NAME", "rbac-test".into()),
        ],
    );

    // WebexUser scenarios: create → InvitePending → sign in → Active; a conflict; deletion.
    let domain = format!("{ns}.example");
    let seeded = create_org(&admin, &sim, &ns, "acme", standard_org(&ns, &domain), json!({})).await;
    let other = sim
        .control()
        .seed_org(OrgSeed::new(format!("{ns}-other"), format!("{ns}-other.example")))
        .await
        .expect("other org");
    sim.control()
        .seed_person(
            &other.org_id,
            PersonSeed::new(format!("sam@{ns}-other.example")).signed_in(),
        )
        .await
        .expect("sam");
    let orgs: Api<webex_operator::api::WebexOrg> = Api::all(admin.clone());
    let alice = format!("alice@{domain}");
    // The WebexOrg is "acme" (cluster-scoped): the only one this test binary makes.
    apply_user(
        &admin,
        &ns,
        "alice",
        json!({"orgRef": {"name": "acme"}, "email": alice, "firstName": "Alice", "licenses": [{"offerCode": "MS"}]}),
    )
    .await;
    apply_user(
        &admin,
        &ns,
        "sam",
        json!({"orgRef": {"name": "acme"}, "email": format!("sam@{ns}-other.example")}),
    )
    .await;
    let pending = wait_reason(&admin, &ns, "alice", "InvitePending").await;
    let person_id = pending.status.and_then(|s| s.person_id).expect("person id recorded");
    wait_reason(&admin, &ns, "sam", "ExistsInOtherOrg").await;
    sim.control().sign_in(&alice, PASSWORD).await.expect("sign in");
    wait_reason(&admin, &ns, "alice", "Active").await;
    assert!(
        events_for(&admin, &ns, "alice")
            .await
            .iter()
            .any(|(_, reason, _)| reason == "Created"),
        "Events are published"
    );
    let org = orgs.get("acme").await.expect("WebexOrg");
    assert!(org.status.is_some_and(|s| s.org_id.is_some()), "org status written");

    let users: Api<WebexUser> = Api::namespaced(admin.clone(), &ns);
    users.delete("alice", &DeleteParams::default()).await.expect("delete");
    wait_until(
        Duration::from_secs(30),
        "the finalizer ran and alice is gone",
        || async { users.get_opt("alice").await.expect("read").is_none() },
    )
    .await;
    let people = sim.control().people(&seeded.org_id).await.expect("people");
    assert!(
        !people.iter().any(|p| p.id == person_id),
        "deletionPolicy Delete ran in Webex"
    );

    let lease: Api<Lease> = Api::namespaced(admin.clone(), &op_ns);
    let holder = lease
        .get("webex-operator")
        .await
        .expect("the Lease exists")
        .spec
        .and_then(|s| s.holder_identity);
    assert_eq!(holder.as_deref(), Some("rbac-test"));
    let logs = controller.logs();
    assert!(
        !logs.to_ascii_lowercase().contains("forbidden"),
        "the controller was refused something:\n{logs}"
    );
    orgs.delete("acme", &DeleteParams::default()).await.expect("delete org");
}
