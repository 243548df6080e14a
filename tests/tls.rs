//! HTTPS to Webex: the real service is HTTPS only. The simulator serves HTTPS with a
//! certificate of a private CA; the controller refuses it until `--webex-ca-file` names that CA,
//! and then manages users over TLS as over HTTP.

// Test helpers fail by panicking, with the state they saw.
#![allow(clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::operator::{self, apply_user, create_org, standard_org};
use common::wait_for;
use kube::api::Api;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use serde_json::json;
use webex_operator::api::WebexOrg;
use webex_operator::api::conditions::{self, READY};

/// A private CA and a server certificate for 127.0.0.1 and localhost signed by it, as PEM
/// files in `dir`: (ca, cert, key).
fn private_ca(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "webex-operator test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate().expect("CA key");
    let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca, ca_key);

    let mut server = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).expect("params");
    server.distinguished_name.push(DnType::CommonName, "webex simulator");
    server.use_authority_key_identifier_extension = true;
    let server_key = KeyPair::generate().expect("server key");
    let server_cert = server.signed_by(&server_key, &issuer).expect("server certificate");

    let paths = (dir.join("ca.pem"), dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&paths.0, ca_cert.pem()).expect("write CA");
    std::fs::write(&paths.1, server_cert.pem()).expect("write cert");
    std::fs::write(&paths.2, server_key.serialize_pem()).expect("write key");
    paths
}

fn org_ready(org: &WebexOrg) -> (String, String, String) {
    org.status
        .as_ref()
        .and_then(|s| conditions::find(&s.conditions, READY))
        .map(|c| (c.status.clone(), c.reason.clone(), c.message.clone()))
        .unwrap_or_default()
}

#[tokio::test]
async fn webex_over_https_needs_the_ca_and_then_works() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ca, cert, key) = private_ca(dir.path());
    // The test process itself talks to the simulator's control API over the same HTTPS.
    webex_operator::tls::trust_extra_roots(&ca).expect("trust the test CA");
    let sim = operator::start_sim_tls(&cert, &key).await;
    assert!(sim.base_url.starts_with("https://"), "{}", sim.base_url);

    let client = common::client().await;
    webex_operator::manifests::install_crds(&client, "test")
        .await
        .expect("CRDs");
    let ns = common::temp_namespace(&client, "tls").await;
    let domain = format!("{ns}.example");
    let seeded = create_org(&client, &sim, &ns, &ns, standard_org(&ns, &domain), json!({})).await;
    let orgs: Api<WebexOrg> = Api::all(client.clone());

    // Without the CA: the certificate is refused, and the WebexOrg says so.
    let mut untrusting = operator::start_operator(&[]).await;
    let failed = wait_for(&orgs, &ns, Duration::from_secs(60), "reports a TLS failure", |o| {
        let seen = org_ready(o);
        seen.0 == "False" && !seen.2.is_empty()
    })
    .await;
    let seen = org_ready(&failed);
    assert!(
        seen.2.contains("invalid peer certificate") && seen.2.contains("--webex-ca-file"),
        "the message names the certificate problem: {seen:?}"
    );
    eprintln!("without the CA the WebexOrg says: {seen:?}");
    untrusting.kill();

    // With --webex-ca-file (its environment variable): the org and a user converge over HTTPS.
    let _trusting = operator::start_operator(&[("WEBEX_OPERATOR_WEBEX_CA_FILE", ca.display().to_string())]).await;
    wait_for(&orgs, &ns, Duration::from_secs(60), "is Ready over HTTPS", |o| {
        org_ready(o).0 == "True"
    })
    .await;
    let email = format!("tess@{domain}");
    apply_user(
        &client,
        &ns,
        "tess",
        json!({"orgRef": {"name": ns}, "email": email, "displayName": "Tess", "licenses": [{"offerCode": "MS"}]}),
    )
    .await;
    operator::wait_reason(&client, &ns, "tess", "InvitePending").await;
    let people = sim.control().people(&seeded.org_id).await.expect("people");
    assert!(
        people
            .iter()
            .any(|p| p.emails.iter().any(|e| e.eq_ignore_ascii_case(&email))),
        "the person was created over HTTPS"
    );
}

#[tokio::test]
async fn a_bad_ca_file_stops_the_binary_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("not-a-ca.pem");
    std::fs::write(&bad, "hello").expect("write");
    let output = std::process::Command::new(operator::BIN)
        .args(["--webex-ca-file", bad.to_str().expect("utf-8"), "crds"])
        .output()
        .expect("run the binary");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not-a-ca.pem"), "{stderr}");
    assert!(stderr.contains("no PEM certificate"), "{stderr}");
}
