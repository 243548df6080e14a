//! Metrics and probes of the real controller binary: /healthz, /readyz (true once the watches
//! synced), and /metrics series that move after a reconcile, with bounded labels only.

// Test helpers fail by panicking, with what they saw.
#![allow(clippy::panic)]

mod common;

use std::net::TcpListener;
use std::time::Duration;

use common::operator::{self, apply_user, create_org, standard_org, wait_reason};
use common::wait_until;
use serde_json::json;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

async fn get(url: &str) -> Option<(u16, String)> {
    let response = reqwest::get(url).await.ok()?;
    let status = response.status().as_u16();
    Some((status, response.text().await.unwrap_or_default()))
}

/// The value of the series whose line starts with `series` (name and labels), 0 if absent.
fn value(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_and_probes_of_the_running_controller() {
    let cp = common::control_plane().await;
    let client = common::client().await;
    webex_operator::manifests::install_crds(&client, "test")
        .await
        .expect("CRDs");
    let ns = common::temp_namespace(&client, "metrics").await;
    let sim = operator::start_sim().await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let controller = operator::start_operator_on(
        cp,
        &[
            ("WEBEX_OPERATOR_METRICS_ADDR", format!("127.0.0.1:{port}")),
            ("WEBEX_OPERATOR_LEADER_ELECTION", "true".into()),
            ("POD_NAMESPACE", ns.clone()),
            ("POD_NAME", "metrics-test".into()),
        ],
    );
    wait_until(Duration::from_secs(30), "/healthz answers", || async {
        get(&format!("{base}/healthz")).await.is_some_and(|(s, _)| s == 200)
    })
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while get(&format!("{base}/readyz")).await.is_none_or(|(s, _)| s != 200) {
        assert!(
            std::time::Instant::now() < deadline,
            "/readyz not ready after 30 s; controller log:\n{}",
            controller.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, ready) = get(&format!("{base}/readyz")).await.expect("readyz");
    assert_eq!(ready, "ready", "the leader with synced watches");

    let before = get(&format!("{base}/metrics")).await.expect("metrics").1;
    assert_eq!(value(&before, "webex_operator_leader"), 1.0, "{before}");
    assert!(before.contains("webex_operator_objects_in_backoff"), "{before}");
    let user_reconciles = r#"webex_operator_reconciles_total{kind="WebexUser",outcome="success"}"#;
    let creates = r#"webex_operator_webex_requests_total{endpoint="POST /v1/people",status="2xx"}"#;
    assert_eq!(value(&before, creates), 0.0);

    let domain = format!("{ns}.example");
    create_org(&client, &sim, &ns, &ns, standard_org(&ns, &domain), json!({})).await;
    let email = format!("mia@{domain}");
    apply_user(
        &client,
        &ns,
        "mia",
        json!({"orgRef": {"name": ns}, "email": email, "firstName": "Mia"}),
    )
    .await;
    wait_reason(&client, &ns, "mia", "InvitePending").await;

    let pending = r#"webex_operator_objects{kind="WebexUser",state="Pending",ready="False",reason="InvitePending"}"#;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let after = loop {
        let after = get(&format!("{base}/metrics")).await.expect("metrics").1;
        let moved = value(&after, creates) == 1.0
            && value(&after, user_reconciles) > value(&before, user_reconciles)
            && value(&after, pending) == 1.0;
        if moved {
            break after;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the series did not move:\n{after}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        value(
            &after,
            r#"webex_operator_reconcile_duration_seconds_count{kind="WebexUser"}"#
        ) >= 1.0,
        "{after}"
    );
    assert!(
        value(
            &after,
            r#"webex_operator_reconciles_total{kind="WebexOrg",outcome="success"}"#
        ) >= 1.0,
        "{after}"
    );
    assert!(
        value(
            &after,
            r#"webex_operator_objects{kind="WebexOrg",state="",ready="True",reason="OrgReady"}"#
        ) == 1.0,
        "{after}"
    );
    assert!(
        after.contains(r#"webex_operator_webex_requests_total{endpoint="GET /v1/people/me",status="2xx"}"#),
        "{after}"
    );
    // Bounded labels: no object names, namespaces or emails anywhere.
    assert!(!after.contains(&ns), "a namespace leaked into a label:\n{after}");
    assert!(!after.contains('@'), "an email leaked into a label:\n{after}");
    assert!(!after.contains("mia"), "an object name leaked into a label:\n{after}");

    // A WebexOrg whose token Secret is missing backs off; once the Secret exists it is Ready and
    // out of the backoff (it used to stay counted: the reset used another key than the policy).
    let in_backoff = "webex_operator_objects_in_backoff";
    let broken = format!("{ns}-late");
    let missing = r#"webex_operator_objects{kind="WebexOrg",state="",ready="False",reason="TokenSecretMissing"}"#;
    let orgs: kube::Api<webex_operator::api::WebexOrg> = kube::Api::all(client.clone());
    let org = json!({"apiVersion": "webex.operator.io/v1alpha1", "kind": "WebexOrg", "metadata": {"name": broken},
        "spec": {"apiBaseUrl": sim.base_url, "backend": "Simulator", "tokenSecretRef": {"name": format!("{broken}-token"), "namespace": ns}}});
    orgs.patch(
        &broken,
        &kube::api::PatchParams::apply("test"),
        &kube::api::Patch::Apply(&org),
    )
    .await
    .expect("WebexOrg without its Secret");
    wait_until(
        Duration::from_secs(20),
        "the org without a Secret is in backoff",
        || async {
            let m = get(&format!("{base}/metrics")).await.map(|r| r.1).unwrap_or_default();
            value(&m, missing) == 1.0 && value(&m, in_backoff) >= 1.0
        },
    )
    .await;
    create_org(
        &client,
        &sim,
        &ns,
        &broken,
        standard_org(&broken, &format!("late.{domain}")),
        json!({}),
    )
    .await;
    wait_until(
        Duration::from_secs(30),
        "the recovered org left the backoff",
        || async {
            let m = get(&format!("{base}/metrics")).await.map(|r| r.1).unwrap_or_default();
            value(&m, missing) == 0.0 && value(&m, in_backoff) == 0.0
        },
    )
    .await;
    drop(controller);
}
