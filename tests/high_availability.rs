//! Two controller processes (the real binary) against one control plane and one simulator,
//! with Lease-based leader election: the leader is killed (SIGKILL) mid-run, the standby takes
//! over, every object converges and Webex saw no duplicate writes.

// Test helpers fail by panicking, with what they saw.
#![allow(clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::operator::{self, OperatorProcess, apply_user, create_org, ready_reason, standard_org};
use common::wait_until;
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::Api;
use serde_json::json;
use webex_operator::api::WebexUser;
use webex_operator::sim::control_types::{FaultKind, FaultRule};

const USERS: usize = 24;

async fn holder(leases: &Api<Lease>) -> Option<String> {
    leases
        .get_opt("webex-operator")
        .await
        .ok()
        .flatten()
        .and_then(|l| l.spec)
        .and_then(|s| s.holder_identity)
}

fn replica(cp: &webex_operator::testenv::ControlPlane, ns: &str, name: &str) -> OperatorProcess {
    operator::start_operator_on(
        cp,
        &[
            ("WEBEX_OPERATOR_LEADER_ELECTION", "true".into()),
            ("WEBEX_OPERATOR_LEASE_DURATION_SECONDS", "4".into()),
            ("WEBEX_OPERATOR_LEASE_GRACE_SECONDS", "2".into()),
            ("POD_NAMESPACE", ns.to_string()),
            ("POD_NAME", name.to_string()),
        ],
    )
}

#[tokio::test]
async fn the_standby_takes_over_when_the_leader_dies_and_nothing_is_written_twice() {
    let cp = common::control_plane().await;
    let client = common::client().await;
    webex_operator::manifests::install_crds(&client, "test")
        .await
        .expect("CRDs");
    let ns = common::temp_namespace(&client, "ha").await;
    let sim = operator::start_sim().await;
    let leases: Api<Lease> = Api::namespaced(client.clone(), &ns);

    // a leads first (deterministic), then b stands by.
    let mut a = replica(cp, &ns, "replica-a");
    wait_until(Duration::from_secs(30), "replica-a holds the Lease", || async {
        holder(&leases).await.as_deref() == Some("replica-a")
    })
    .await;
    let b = replica(cp, &ns, "replica-b");

    let domain = format!("{ns}.example");
    let seeded = create_org(&client, &sim, &ns, &ns, standard_org(&ns, &domain), json!({})).await;
    // Creates take a while, so that the leader dies with work in flight.
    sim.control()
        .inject_fault(
            FaultRule::new(FaultKind::Latency { ms: 250 })
                .method("POST")
                .path_prefix("/v1/people"),
        )
        .await
        .expect("latency");
    for i in 0..USERS {
        apply_user(
            &client,
            &ns,
            &format!("u{i}"),
            json!({"orgRef": {"name": ns}, "email": format!("u{i}@{domain}"), "firstName": format!("U{i}")}),
        )
        .await;
    }
    let users: Api<WebexUser> = Api::namespaced(client.clone(), &ns);
    let created = |list: &[WebexUser]| {
        list.iter()
            .filter(|u| u.status.as_ref().is_some_and(|s| s.person_id.is_some()))
            .count()
    };
    // Kill the leader once the first user was created, long before all are.
    wait_until(Duration::from_secs(60), "the leader created a first user", || async {
        created(&users.list(&Default::default()).await.expect("list").items) >= 1
    })
    .await;
    let done_at_kill = created(&users.list(&Default::default()).await.expect("list").items);
    a.kill();
    let killed = Instant::now();
    assert!(done_at_kill < USERS, "killed mid-run ({done_at_kill}/{USERS} created)");

    wait_until(Duration::from_secs(30), "replica-b took the Lease over", || async {
        holder(&leases).await.as_deref() == Some("replica-b")
    })
    .await;
    let takeover = killed.elapsed();
    wait_until(Duration::from_secs(120), "every user converged", || async {
        let list = users.list(&Default::default()).await.expect("list").items;
        list.len() == USERS && list.iter().all(|u| ready_reason(u) == "InvitePending")
    })
    .await;
    eprintln!(
        "killed the leader with {done_at_kill}/{USERS} created; takeover after {takeover:?}; converged after {:?}",
        killed.elapsed()
    );

    // No duplicate writes: one successful create per user, no conflict, one person per email.
    let counters = sim.control().counters_for(&seeded.org_id).await.expect("counters");
    let posts: BTreeMap<u16, u64> = counters.endpoints.get("POST /v1/people").cloned().unwrap_or_default();
    assert_eq!(
        counters.get("POST /v1/people", 200),
        USERS as u64,
        "exactly one create per user: {posts:?}"
    );
    assert_eq!(
        counters.get("POST /v1/people", 409),
        0,
        "no create hit an existing person: {posts:?}"
    );
    for status in posts.keys() {
        assert!(
            *status == 200 || *status == 499,
            "a create answered {status} (499: the client died before the answer): {posts:?}"
        );
    }
    eprintln!("POST /v1/people answers by status: {posts:?}");
    let people = sim.control().people(&seeded.org_id).await.expect("people");
    for i in 0..USERS {
        let email = format!("u{i}@{domain}");
        let n = people
            .iter()
            .filter(|p| p.emails.iter().any(|e| e.eq_ignore_ascii_case(&email)))
            .count();
        assert_eq!(n, 1, "{email} exists once");
    }
    let logs = b.logs();
    assert!(logs.contains("became the leader"), "{logs}");
}
