//! UserClaim end to end (R-CLM-1..12, R-ORG-3, R-ORG-4, R-TPL-5): the real controller binary
//! against a real kube-apiserver and the simulator binary over HTTP. One controller serves
//! every test; each test has its own simulator (several move the virtual clock), namespace,
//! Webex orgs and WebexOrg.

// Test helpers fail by panicking, with the state they saw.
#![allow(clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::operator::{self, SimProcess, events_for, ready_org};
use common::wait::{self, wait_ready_reason};
use common::{setup_with_own_sim, wait_for, wait_until};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use serde_json::json;
use webex_operator::api::WebexUser;
use webex_operator::api::conditions::READY;
use webex_operator::api::user_claim::{ClaimUserState, ClaimedUserStatus, UserClaim};
use webex_operator::sim::control_types::{ClaimChoice, LicenseSeed, OrgPatch, OrgSeed, PersonSeed, SeededOrg};

const DAY: Duration = Duration::from_secs(24 * 3600);

/// Every test has a simulator of its own (several move its clock).
async fn setup(prefix: &str) -> (kube::Client, String, SimProcess) {
    setup_with_own_sim(prefix, true).await
}

/// The claiming org of a test: verified domain `<ns>.example`, a Messaging licence.
async fn claimer(
    client: &kube::Client,
    sim: &SimProcess,
    ns: &str,
    seed: impl FnOnce(OrgSeed) -> OrgSeed,
) -> SeededOrg {
    claimer_with(client, sim, ns, seed, json!({})).await
}

async fn claimer_with(
    client: &kube::Client,
    sim: &SimProcess,
    ns: &str,
    seed: impl FnOnce(OrgSeed) -> OrgSeed,
    extra_spec: serde_json::Value,
) -> SeededOrg {
    let base = OrgSeed::new(ns, domain(ns)).with_license(LicenseSeed::new("MS", "Advanced Messaging", 2000));
    ready_org(client, sim, ns, seed(base), extra_spec).await
}

fn domain(ns: &str) -> String {
    format!("{ns}.example")
}

/// Another org (consumer-like: its own domain, none of the claiming org's) with these people,
/// who signed in there long ago.
async fn other_org(sim: &SimProcess, ns: &str, name: &str, seed: OrgSeed, emails: &[&str]) -> SeededOrg {
    let seed = OrgSeed {
        name: format!("{name} {ns}"),
        domains: vec![format!("{name}-{ns}.example")],
        ..seed
    };
    let org = sim.control().seed_org(seed).await.expect("seed the other org");
    for email in emails {
        sim.control()
            .seed_person(&org.org_id, PersonSeed::new(*email).named("Pat", name).signed_in())
            .await
            .expect("seed a person of the other org");
    }
    org
}

async fn apply_claim(client: &kube::Client, ns: &str, name: &str, spec: serde_json::Value) {
    let api: Api<UserClaim> = Api::namespaced(client.clone(), ns);
    let object = json!({"apiVersion": "webex.operator.io/v1alpha1", "kind": "UserClaim", "metadata": {"name": name, "namespace": ns}, "spec": spec});
    api.patch(name, &PatchParams::apply("test").force(), &Patch::Apply(&object))
        .await
        .expect("apply UserClaim");
}

/// (status, reason, message) of a condition.
fn condition(o: &UserClaim, type_: &str) -> (String, String, String) {
    wait::condition(o, type_).unwrap_or_default()
}

fn user<'a>(o: &'a UserClaim, email: &str) -> &'a ClaimedUserStatus {
    o.status
        .as_ref()
        .and_then(|s| s.users.iter().find(|u| u.email == email))
        .unwrap_or_else(|| panic!("{email} not in the status: {:#?}", o.status))
}

async fn wait_claim(
    client: &kube::Client,
    ns: &str,
    name: &str,
    timeout: Duration,
    what: &str,
    pred: impl Fn(&UserClaim) -> bool,
) -> UserClaim {
    wait_for(&Api::namespaced(client.clone(), ns), name, timeout, what, pred).await
}

async fn wait_reason(client: &kube::Client, ns: &str, name: &str, reason: &str) -> UserClaim {
    wait_ready_reason(&Api::namespaced(client.clone(), ns), name, reason).await
}

async fn wait_user_state(client: &kube::Client, ns: &str, name: &str, email: &str, state: ClaimUserState) -> UserClaim {
    wait_claim(
        client,
        ns,
        name,
        Duration::from_secs(60),
        &format!("shows {email} {state:?}"),
        |o| {
            o.status
                .as_ref()
                .is_some_and(|s| s.users.iter().any(|u| u.email == email && u.state == state))
        },
    )
    .await
}

fn claim_spec(ns: &str, emails: &[&str]) -> serde_json::Value {
    json!({"orgRef": {"name": ns}, "emails": emails, "acknowledgePermanent": true})
}

fn with(mut spec: serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
    if let (Some(map), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            map.insert(k.clone(), v.clone());
        }
    }
    spec
}

#[tokio::test]
async fn r_clm_2_immediate_claim_joins_the_org_not_verified_and_becomes_a_webex_user() {
    // R-CLM-2, R-CLM-8 (Not verified), R-CLM-10 (the old org sees the suffix), R-TPL-5 (the
    // claim's licences on the created WebexUser).
    let (client, ns, sim) = setup("clm-immediate").await;
    let org = claimer(&client, &sim, &ns, |s| s).await;
    let ada = format!("ada@{}", domain(&ns));
    let bob = format!("Bob@{}", domain(&ns));
    let other = other_org(&sim, &ns, "free", OrgSeed::default(), &[&ada, &bob]).await;
    apply_claim(
        &client,
        &ns,
        "team",
        with(
            claim_spec(&ns, &[&ada, &bob, &ada.to_uppercase()]),
            json!({"licenses": [{"offerCode": "MS"}]}),
        ),
    )
    .await;
    let claim = wait_reason(&client, &ns, "team", "Complete").await;
    let status = claim.status.clone().expect("status");
    let counts = status.counts.clone().expect("counts");
    assert_eq!((counts.total, counts.claimed, counts.pending), (2, 2, 0), "{status:#?}");
    let a = user(&claim, &ada);
    assert_eq!(a.state, ClaimUserState::Claimed);
    assert_eq!(a.account_status.as_deref(), Some("NotVerified"), "R-CLM-8");
    let claimed_at: jiff::Timestamp = a.claimed_at.as_deref().expect("claimedAt").parse().expect("time");
    let until: jiff::Timestamp = a
        .revocable_until
        .as_deref()
        .expect("revocableUntil")
        .parse()
        .expect("time");
    assert_eq!(until.as_second() - claimed_at.as_second(), 14 * 24 * 3600, "R-CLM-7");
    // In Webex: the person is in the org, pending; the old org sees the suffix (R-CLM-10).
    let person = sim
        .control()
        .person_by_email(&org.org_id, &ada)
        .await
        .expect("people")
        .expect("claimed person in the org");
    assert_eq!(person.invite_pending, Some(true));
    let old = sim
        .control()
        .person_by_email(&other.org_id, &format!("{ada}.convert-user.local"))
        .await
        .expect("people");
    assert!(old.is_some(), "the old org shows the convert suffix");
    // Manageable: a WebexUser per claimed user, adopting the person and giving the licence.
    let users: Api<WebexUser> = Api::namespaced(client.clone(), &ns);
    let name = webex_operator::gitops::object_name_for_email(&ada);
    wait_until(
        Duration::from_secs(60),
        "the claimed user's WebexUser holds MS",
        || async {
            let Ok(Some(p)) = sim.control().person_by_email(&org.org_id, &ada).await else {
                return false;
            };
            users.get_opt(&name).await.ok().flatten().is_some() && !p.licenses.is_empty()
        },
    )
    .await;
    let created = users.get(&name).await.expect("WebexUser");
    assert_eq!(
        created.labels().get("webex.operator.io/user-claim").map(String::as_str),
        Some("team")
    );
    assert_eq!(
        serde_json::to_value(created.spec.deletion_policy).expect("json"),
        json!("Orphan")
    );
    let events = events_for(&client, &ns, "team").await;
    assert!(events.iter().any(|(_, r, _)| r == "Claimed"), "{events:?}");
    assert!(events.iter().any(|(_, r, _)| r == "WebexUsersCreated"), "{events:?}");
    // Revoking ada (R-CLM-7) retires her WebexUser (Orphan: nothing happens in Webex) and she is
    // back in the previous org.
    apply_claim(
        &client,
        &ns,
        "team",
        with(
            claim_spec(&ns, &[&ada, &bob]),
            json!({"licenses": [{"offerCode": "MS"}], "revoke": [&ada]}),
        ),
    )
    .await;
    wait_user_state(&client, &ns, "team", &ada, ClaimUserState::Revoked).await;
    wait_until(
        Duration::from_secs(30),
        "the revoked user's WebexUser is gone",
        || async { users.get_opt(&name).await.ok().flatten().is_none() },
    )
    .await;
    let back = sim
        .control()
        .person_by_email(&other.org_id, &ada)
        .await
        .expect("people");
    assert!(back.is_some(), "back in the previous org");
    assert!(
        users
            .get_opt(&webex_operator::gitops::object_name_for_email(&bob))
            .await
            .expect("read")
            .is_some()
    );
}

#[tokio::test]
async fn r_clm_4_claims_without_the_acknowledgement_are_refused_at_apply() {
    // R-CLM-4 and R-CLM-7 (one revoke at a time) are refused by the API server (CEL).
    let (client, ns, _sim) = setup("clm-ack").await;
    let api: Api<UserClaim> = Api::namespaced(client.clone(), &ns);
    let apply = |spec: serde_json::Value| {
        let api = api.clone();
        let ns = ns.clone();
        async move {
            let object = json!({"apiVersion": "webex.operator.io/v1alpha1", "kind": "UserClaim", "metadata": {"name": "x", "namespace": ns}, "spec": spec});
            api.patch("x", &PatchParams::apply("test"), &Patch::Apply(&object))
                .await
        }
    };
    let refused = apply(json!({"orgRef": {"name": "o"}, "emails": ["a@b.example"], "acknowledgePermanent": false}))
        .await
        .expect_err("refused");
    assert!(refused.to_string().contains("R-CLM-4"), "{refused}");
    let refused = apply(json!({"orgRef": {"name": "o"}, "emails": ["a@b.example"]}))
        .await
        .expect_err("refused");
    assert!(refused.to_string().contains("acknowledgePermanent"), "{refused}");
    let refused = apply(json!({"orgRef": {"name": "o"}, "emails": ["a@b.example"], "acknowledgePermanent": true, "revoke": ["a@b.example", "c@b.example"]}))
        .await
        .expect_err("refused");
    assert!(refused.to_string().contains("one user at a time"), "{refused}");
    let refused = apply(json!({"orgRef": {"name": "o"}, "emails": [], "acknowledgePermanent": true}))
        .await
        .expect_err("refused");
    assert!(refused.to_string().contains("at least one email"), "{refused}");
}

#[tokio::test]
async fn r_clm_1_unverified_domains_are_reported_before_anything_is_claimed() {
    // R-CLM-1: domains verified first; nothing irreversible happens before.
    let (client, ns, sim) = setup("clm-prereq").await;
    let org = claimer(&client, &sim, &ns, |s| s).await;
    let ok = format!("ok@{}", domain(&ns));
    let elsewhere = format!("pat@unverified-{ns}.example");
    other_org(&sim, &ns, "free", OrgSeed::default(), &[&ok, &elsewhere]).await;
    apply_claim(&client, &ns, "team", claim_spec(&ns, &[&ok, &elsewhere])).await;
    let claim = wait_reason(&client, &ns, "team", "DomainNotVerified").await;
    let (status, reason, message) = condition(&claim, "Prerequisites");
    assert_eq!((status.as_str(), reason.as_str()), ("False", "DomainNotVerified"));
    assert!(message.contains(&format!("unverified-{ns}.example")), "{message}");
    assert_eq!(user(&claim, &ok).state, ClaimUserState::Pending);
    assert!(sim.control().claims(&org.org_id).await.expect("claims").is_empty());
    // Dropping the email of the unverified domain lets the rest proceed.
    apply_claim(&client, &ns, "team", claim_spec(&ns, &[&ok])).await;
    let claim = wait_reason(&client, &ns, "team", "Complete").await;
    assert_eq!(condition(&claim, "Prerequisites").0, "True");
    assert_eq!(user(&claim, &ok).state, ClaimUserState::Claimed);
}

#[tokio::test]
async fn r_clm_6_ineligible_users_carry_their_reason() {
    // R-CLM-6: SSO org, directory-sync org, domain claimed by another org (R-ORG-3, even though
    // the claiming org verified it too); plus emails without an account or already ours.
    let (client, ns, sim) = setup("clm-inelig").await;
    let org = claimer(&client, &sim, &ns, |s| s).await;
    let d = domain(&ns);
    let (sso, dir, fine, nobody) = (
        format!("sso@{d}"),
        format!("dir@{d}"),
        format!("fine@{d}"),
        format!("nobody@{d}"),
    );
    other_org(
        &sim,
        &ns,
        "sso",
        OrgSeed {
            sso: true,
            ..OrgSeed::default()
        },
        &[&sso],
    )
    .await;
    other_org(
        &sim,
        &ns,
        "dirsync",
        OrgSeed {
            directory_sync: true,
            ..OrgSeed::default()
        },
        &[&dir],
    )
    .await;
    other_org(&sim, &ns, "free", OrgSeed::default(), &[&fine]).await;
    let own = format!("own@{d}");
    sim.control()
        .seed_person(&org.org_id, PersonSeed::new(&own).signed_in())
        .await
        .expect("own person");
    // A domain claimed by another org: its users cannot be claimed (R-ORG-3).
    let taken = format!("taken-{ns}.example");
    let taker = OrgSeed {
        claimed_domains: vec![taken.clone()],
        ..OrgSeed::new(format!("taker {ns}"), taken.clone())
    };
    sim.control().seed_org(taker).await.expect("taker org");
    let held = format!("held@{taken}");
    other_org(&sim, &ns, "free2", OrgSeed::default(), &[&held]).await;
    // The claiming org verified that domain too.
    sim.control()
        .patch_org(
            &org.org_id,
            OrgPatch {
                domains: Some(vec![d.clone(), taken.clone()]),
                ..OrgPatch::default()
            },
        )
        .await
        .expect("verify the domain");
    apply_claim(
        &client,
        &ns,
        "team",
        claim_spec(&ns, &[&sso, &dir, &fine, &nobody, &own, &held]),
    )
    .await;
    let claim = wait_reason(&client, &ns, "team", "Complete").await;
    let reason = |e: &str| user(&claim, e).reason.clone().unwrap_or_default();
    assert_eq!(user(&claim, &fine).state, ClaimUserState::Claimed);
    for (email, why) in [
        (&sso, "SsoOrg"),
        (&dir, "DirectorySyncOrg"),
        (&held, "DomainClaimedByOtherOrg"),
        (&nobody, "NoWebexAccount"),
        (&own, "AlreadyInOrg"),
    ] {
        assert_eq!(user(&claim, email).state, ClaimUserState::Ineligible, "{email}");
        assert_eq!(reason(email), why, "{email}");
    }
    let counts = claim.status.as_ref().and_then(|s| s.counts.clone()).expect("counts");
    assert_eq!((counts.total, counts.claimed, counts.ineligible), (6, 1, 5));
    let (_, _, message) = condition(&claim, READY);
    assert!(message.contains("SsoOrg: 1"), "{message}");
}

#[tokio::test]
async fn r_clm_3_delayed_claim_shows_days_left_and_completes_by_itself_after_14_days() {
    // R-CLM-3, R-CLM-8 (Delayed claim with days left), R-CLM-12 (retention message), R-ORG-4.
    let (client, ns, sim) = setup("clm-delayed").await;
    let org = claimer(&client, &sim, &ns, |s| OrgSeed {
        allow_content_migration: true,
        ..s
    })
    .await;
    let (ada, old) = (format!("ada@{}", domain(&ns)), format!("old@{}", domain(&ns)));
    other_org(&sim, &ns, "free", OrgSeed::default(), &[&ada]).await;
    // An org that offers no delayed claim: its user is claimed at once and loses content.
    other_org(
        &sim,
        &ns,
        "new",
        OrgSeed {
            delayed_claim_supported: Some(false),
            ..OrgSeed::default()
        },
        &[&old],
    )
    .await;
    apply_claim(
        &client,
        &ns,
        "team",
        with(claim_spec(&ns, &[&ada, &old]), json!({"mode": "Delayed"})),
    )
    .await;
    let claim = wait_reason(&client, &ns, "team", "DelayedClaim").await;
    let a = user(&claim, &ada);
    assert_eq!(a.state, ClaimUserState::DelayedClaim);
    assert_eq!(a.days_left, Some(14));
    let completes: jiff::Timestamp = a.completes_at.as_deref().expect("completesAt").parse().expect("time");
    assert!(condition(&claim, READY).2.contains("R-CLM-12"));
    let o = user(&claim, &old);
    assert_eq!(o.state, ClaimUserState::Claimed);
    assert_eq!(o.reason.as_deref(), Some("ContentNotMigrated"));
    // Delayed users are not manageable yet: no WebexUser (R-CLM-3).
    let users: Api<WebexUser> = Api::namespaced(client.clone(), &ns);
    assert!(
        users
            .get_opt(&webex_operator::gitops::object_name_for_email(&ada))
            .await
            .expect("read")
            .is_none()
    );
    // Day 10: 4 days left.
    sim.control().advance_clock(10 * DAY).await.expect("clock");
    wait_claim(
        &client,
        &ns,
        "team",
        Duration::from_secs(30),
        "shows 4 days left",
        |o| user(o, &ada).days_left == Some(4),
    )
    .await;
    // Day 15: completed by itself, account and content moved.
    sim.control().advance_clock(5 * DAY).await.expect("clock");
    let claim = wait_reason(&client, &ns, "team", "Complete").await;
    let a = user(&claim, &ada);
    assert_eq!(a.state, ClaimUserState::Claimed);
    assert_eq!(a.choice.as_deref(), Some("Expired"));
    assert_eq!(a.not_revocable.as_deref(), Some("WindowPassed"));
    // R-CLM-8: ada had signed in in her previous org: that status is carried over.
    assert_eq!(a.account_status.as_deref(), Some("Active"));
    assert!(sim.control().now().await.expect("now") >= completes);
    let views = sim.control().claims(&org.org_id).await.expect("claims");
    assert!(views.iter().any(|v| v.email == ada && v.state == "Claimed"));
    wait_until(
        Duration::from_secs(30),
        "the completed user gets a WebexUser",
        || async {
            users
                .get_opt(&webex_operator::gitops::object_name_for_email(&ada))
                .await
                .ok()
                .flatten()
                .is_some()
        },
    )
    .await;
}

#[tokio::test]
async fn r_org_4_delayed_claim_needs_content_migration() {
    let (client, ns, sim) = setup("clm-orgsetting").await;
    let org = claimer(&client, &sim, &ns, |s| s).await;
    let ada = format!("ada@{}", domain(&ns));
    other_org(&sim, &ns, "free", OrgSeed::default(), &[&ada]).await;
    apply_claim(
        &client,
        &ns,
        "team",
        with(claim_spec(&ns, &[&ada]), json!({"mode": "Delayed"})),
    )
    .await;
    let claim = wait_reason(&client, &ns, "team", "ContentMigrationNotAllowed").await;
    assert!(condition(&claim, READY).2.contains("R-ORG-4"));
    assert!(sim.control().claims(&org.org_id).await.expect("claims").is_empty());
    // Turning the setting on lets the claim proceed (seen at the next resync).
    sim.control()
        .patch_org(
            &org.org_id,
            OrgPatch {
                allow_content_migration: Some(true),
                ..OrgPatch::default()
            },
        )
        .await
        .expect("patch org");
    wait_reason(&client, &ns, "team", "DelayedClaim").await;
}

#[tokio::test]
async fn r_clm_9_the_users_choice_is_reported() {
    // R-CLM-9: the choice at next sign-in; after it the claim is no longer revocable (R-CLM-7).
    let (client, ns, sim) = setup("clm-choice").await;
    claimer(&client, &sim, &ns, |s| OrgSeed {
        allow_content_migration: true,
        ..s
    })
    .await;
    let (ada, bob) = (format!("ada@{}", domain(&ns)), format!("bob@{}", domain(&ns)));
    let other = other_org(&sim, &ns, "free", OrgSeed::default(), &[&ada, &bob]).await;
    apply_claim(
        &client,
        &ns,
        "team",
        with(
            claim_spec(&ns, &[&ada, &bob]),
            json!({"mode": "Delayed", "manageClaimedUsers": false}),
        ),
    )
    .await;
    wait_reason(&client, &ns, "team", "DelayedClaim").await;
    let home = format!("ada@home-{ns}.example");
    sim.control()
        .choose_claim(&ada, ClaimChoice::KeepOldAccount, Some(&home))
        .await
        .expect("choice");
    sim.control()
        .choose_claim(&bob, ClaimChoice::TransferContent, None)
        .await
        .expect("choice");
    let claim = wait_reason(&client, &ns, "team", "Complete").await;
    for (email, choice) in [(&ada, "KeepOldAccount"), (&bob, "TransferContent")] {
        let u = user(&claim, email);
        assert_eq!(u.state, ClaimUserState::Claimed);
        assert_eq!(u.choice.as_deref(), Some(choice));
        assert_eq!(u.account_status.as_deref(), Some("Active"));
        assert_eq!(u.not_revocable.as_deref(), Some("UserSignedIn"));
    }
    // The old account kept under its new email; the transferred one is gone.
    let people = sim.control().people(&other.org_id).await.expect("people");
    assert!(people.iter().any(|p| p.emails.contains(&home)));
    assert!(!people.iter().any(|p| p.emails.iter().any(|e| e.starts_with("bob@"))));
}

#[tokio::test]
async fn r_clm_7_revoke_within_14_days_before_sign_in_by_the_claiming_org_only() {
    // R-CLM-7: day 13 revokes (the user returns with its previous status); day 15 is refused
    // with the date it was possible until; a signed-in user and a user of a domain the org
    // claimed are refused; an email this claim did not claim is refused.
    let (client, ns, sim) = setup("clm-revoke").await;
    let org = claimer(&client, &sim, &ns, |s| s).await;
    let d = domain(&ns);
    let (a, b, c) = (format!("a@{d}"), format!("b@{d}"), format!("c@{d}"));
    let other = other_org(&sim, &ns, "free", OrgSeed::default(), &[&a, &b, &c]).await;
    let base = with(claim_spec(&ns, &[&a, &b, &c]), json!({"manageClaimedUsers": false}));
    apply_claim(&client, &ns, "team", base.clone()).await;
    wait_reason(&client, &ns, "team", "Complete").await;
    // c signs in: no revoke after that.
    sim.control().sign_in(&c, "Sign-In-Pass-1").await.expect("sign in");
    sim.control().advance_clock(13 * DAY).await.expect("clock");
    apply_claim(&client, &ns, "team", with(base.clone(), json!({"revoke": [&a]}))).await;
    let claim = wait_user_state(&client, &ns, "team", &a, ClaimUserState::Revoked).await;
    assert_eq!(condition(&claim, "Revoke").1, "Revoked");
    let back = sim
        .control()
        .person_by_email(&other.org_id, &a)
        .await
        .expect("people")
        .expect("back in the previous org");
    assert_eq!(back.invite_pending, Some(false), "previous status kept");
    assert!(
        sim.control()
            .person_by_email(&org.org_id, &a)
            .await
            .expect("people")
            .is_none()
    );
    // A revoked user is not claimed again.
    let counts = claim.status.as_ref().and_then(|s| s.counts.clone()).expect("counts");
    assert_eq!((counts.claimed, counts.revoked), (2, 1));
    // Signed in: refused.
    apply_claim(&client, &ns, "team", with(base.clone(), json!({"revoke": [&c]}))).await;
    let claim = wait_claim(
        &client,
        &ns,
        "team",
        Duration::from_secs(30),
        "refuses to revoke c",
        |o| condition(o, "Revoke").2.contains("signed in"),
    )
    .await;
    assert_eq!(condition(&claim, "Revoke").1, "RevokeNotAllowed");
    // Day 15: too late for b, and the message says until when.
    sim.control().advance_clock(2 * DAY).await.expect("clock");
    apply_claim(&client, &ns, "team", with(base.clone(), json!({"revoke": [&b]}))).await;
    let claim = wait_claim(
        &client,
        &ns,
        "team",
        Duration::from_secs(30),
        "refuses to revoke b",
        |o| condition(o, "Revoke").2.contains("within 14 days"),
    )
    .await;
    let until = user(&claim, &b).claimed_at.clone().expect("claimedAt");
    let until: jiff::Timestamp = until.parse().expect("time");
    let until = until
        .checked_add(jiff::SignedDuration::from_hours(14 * 24))
        .expect("time");
    assert!(
        condition(&claim, "Revoke").2.contains(&until.to_string()),
        "{:?}",
        condition(&claim, "Revoke")
    );
    assert_eq!(user(&claim, &b).state, ClaimUserState::Claimed);
    // Only the claiming org: an email claimed by another org's claim is refused.
    let x = format!("x@{d}");
    other_org(&sim, &ns, "free2", OrgSeed::default(), &[&x]).await;
    let rival = sim
        .control()
        .seed_org(OrgSeed {
            admin_email: Some(format!("admin@rival-{ns}.example")),
            ..OrgSeed::new(format!("rival {ns}"), d.clone())
        })
        .await
        .expect("rival");
    sim.control()
        .claim_users(&rival.org_id, &[&x], false)
        .await
        .expect("rival claims");
    let with_x = with(
        claim_spec(&ns, &[&a, &b, &c, &x]),
        json!({"manageClaimedUsers": false, "revoke": [&x]}),
    );
    apply_claim(&client, &ns, "team", with_x).await;
    let claim = wait_claim(
        &client,
        &ns,
        "team",
        Duration::from_secs(30),
        "refuses to revoke x",
        |o| condition(o, "Revoke").2.contains("only the claiming organisation"),
    )
    .await;
    // ... and the rival's claim stands: x is not claimable meanwhile.
    assert_eq!(user(&claim, &x).reason.as_deref(), Some("ClaimedByOtherOrg"));
    let events = events_for(&client, &ns, "team").await;
    assert!(
        events.iter().any(|(t, r, _)| t == "Warning" && r == "RevokeNotAllowed"),
        "{events:?}"
    );
}

#[tokio::test]
async fn r_clm_7_no_revoke_for_users_of_a_domain_the_org_claimed() {
    let (client, ns, sim) = setup("clm-revoke-domain").await;
    let org = claimer(&client, &sim, &ns, |s| s).await;
    let a = format!("a@{}", domain(&ns));
    other_org(&sim, &ns, "free", OrgSeed::default(), &[&a]).await;
    let base = with(claim_spec(&ns, &[&a]), json!({"manageClaimedUsers": false}));
    apply_claim(&client, &ns, "team", base.clone()).await;
    wait_reason(&client, &ns, "team", "Complete").await;
    sim.control()
        .patch_org(
            &org.org_id,
            OrgPatch {
                claimed_domains: Some(vec![domain(&ns)]),
                ..OrgPatch::default()
            },
        )
        .await
        .expect("claim the domain");
    apply_claim(&client, &ns, "team", with(base, json!({"revoke": [&a]}))).await;
    let claim = wait_claim(
        &client,
        &ns,
        "team",
        Duration::from_secs(30),
        "refuses the revoke",
        |o| condition(o, "Revoke").2.contains("release the domain"),
    )
    .await;
    assert_eq!(user(&claim, &a).not_revocable.as_deref(), Some("DomainClaimedByOrg"));
    assert_eq!(user(&claim, &a).state, ClaimUserState::Claimed);
}

#[tokio::test]
async fn r_clm_7_without_a_public_api_the_admin_is_told_what_to_do_in_control_hub() {
    // backend: Webex (here pointed at the simulator, whose public API has no claim endpoint):
    // the status says what to do in Control Hub, and for a revoke by when.
    let (client, ns, sim) = setup("clm-webex").await;
    claimer_with(&client, &sim, &ns, |s| s, json!({"backend": "Webex"})).await;
    let a = format!("a@{}", domain(&ns));
    apply_claim(
        &client,
        &ns,
        "team",
        with(claim_spec(&ns, &[&a]), json!({"revoke": [&a]})),
    )
    .await;
    let claim = wait_reason(&client, &ns, "team", "ClaimNotInPublicApi").await;
    assert!(
        condition(&claim, READY).2.contains("Control Hub"),
        "{:?}",
        condition(&claim, READY)
    );
    let (status, reason, message) = condition(&claim, "Revoke");
    assert_eq!((status.as_str(), reason.as_str()), ("False", "RevokeInControlHub"));
    assert!(message.contains("within 14 days of the claim"), "{message}");
}

#[tokio::test]
async fn r_clm_10_a_webex_user_claimed_away_by_another_org_is_reported_and_never_deleted() {
    // R-CLM-10: one of *our* users is claimed by another org; the WebexUser reports it, and
    // deleting the WebexUser (deletionPolicy Delete) leaves the person alone.
    let (client, ns, sim) = setup("clm-away").await;
    let org = claimer(&client, &sim, &ns, |s| s).await;
    let ada = format!("ada@{}", domain(&ns));
    sim.control()
        .seed_person(&org.org_id, PersonSeed::new(&ada).named("Ada", "L").signed_in())
        .await
        .expect("our person");
    operator::apply_user(
        &client,
        &ns,
        "ada",
        json!({"orgRef": {"name": ns}, "email": ada, "existingUserPolicy": "Adopt"}),
    )
    .await;
    operator::wait_reason(&client, &ns, "ada", "Active").await;
    let rival = sim
        .control()
        .seed_org(OrgSeed {
            admin_email: Some(format!("admin@rival-{ns}.example")),
            ..OrgSeed::new(format!("rival {ns}"), domain(&ns))
        })
        .await
        .expect("rival");
    sim.control()
        .claim_users(&rival.org_id, &[&ada], false)
        .await
        .expect("rival claims");
    let user = operator::wait_reason(&client, &ns, "ada", "ClaimedByAnotherOrg").await;
    let (_, _, message) = operator::ready(&user).expect("ready");
    assert!(message.contains("R-CLM-10"), "{message}");
    let suffixed = format!("{ada}.convert-user.local");
    assert!(
        sim.control()
            .person_by_email(&org.org_id, &suffixed)
            .await
            .expect("people")
            .is_some()
    );
    let users: Api<WebexUser> = Api::namespaced(client.clone(), &ns);
    users.delete("ada", &DeleteParams::default()).await.expect("delete");
    wait_until(Duration::from_secs(30), "the WebexUser is gone", || async {
        users.get_opt("ada").await.expect("read").is_none()
    })
    .await;
    assert!(
        sim.control()
            .person_by_email(&org.org_id, &suffixed)
            .await
            .expect("people")
            .is_some(),
        "R-CLM-10: never deleted"
    );
}

#[tokio::test]
async fn r_clm_11_directory_sync_warning_then_inactive_users_are_deleted_after_30_days() {
    let (client, ns, sim) = setup("clm-dirsync").await;
    let org = claimer(&client, &sim, &ns, |s| OrgSeed {
        directory_sync: true,
        ..s
    })
    .await;
    let (a, b) = (format!("a@{}", domain(&ns)), format!("b@{}", domain(&ns)));
    other_org(&sim, &ns, "free", OrgSeed::default(), &[&a, &b]).await;
    apply_claim(
        &client,
        &ns,
        "team",
        with(claim_spec(&ns, &[&a, &b]), json!({"manageClaimedUsers": false})),
    )
    .await;
    let claim = wait_reason(&client, &ns, "team", "Complete").await;
    let (status, reason, message) = condition(&claim, "DirectorySync");
    assert_eq!((status.as_str(), reason.as_str()), ("True", "OrgUsesDirectorySync"));
    assert!(message.contains("R-CLM-11"), "{message}");
    // A full sync with only b in the directory: a goes inactive.
    let off = sim
        .control()
        .run_directory_sync(&org.org_id, &[&b])
        .await
        .expect("sync");
    assert_eq!(off, vec![a.clone()]);
    let claim = wait_user_state(&client, &ns, "team", &a, ClaimUserState::Inactive).await;
    assert!(user(&claim, &a).deletes_at.is_some());
    let (_, reason, message) = condition(&claim, "DirectorySync");
    assert_eq!(reason, "ClaimedUsersInactive");
    assert!(message.contains(&a), "{message}");
    let events = events_for(&client, &ns, "team").await;
    assert!(
        events
            .iter()
            .any(|(t, r, n)| t == "Warning" && r == "ClaimedUsersInactive" && n.contains(&a)),
        "{events:?}"
    );
    sim.control().advance_clock(31 * DAY).await.expect("clock");
    let claim = wait_user_state(&client, &ns, "team", &a, ClaimUserState::Deleted).await;
    assert_eq!(user(&claim, &b).state, ClaimUserState::Claimed);
    assert!(
        sim.control()
            .person_by_email(&org.org_id, &a)
            .await
            .expect("people")
            .is_none()
    );
}

#[tokio::test]
async fn r_clm_5_a_claim_of_1000_emails_accounts_for_every_user() {
    // R-CLM-5: any number of emails in one object (the operator batches); every user appears
    // once in status, with counts and printer columns.
    let (client, ns, sim) = setup_with_own_sim("clm-1000", false).await;
    let org = claimer(&client, &sim, &ns, |s| s).await;
    let other = sim
        .control()
        .seed_org(OrgSeed::new(format!("free {ns}"), format!("free-{ns}.example")))
        .await
        .expect("other org");
    let d = domain(&ns);
    let emails: Vec<String> = (0..1000).map(|i| format!("user{i:04}@{d}")).collect();
    let started = Instant::now();
    for chunk in emails[..990].chunks(50) {
        let seeds = chunk.iter().map(|e| {
            let control = sim.control();
            let org_id = other.org_id.clone();
            let e = e.clone();
            async move { control.seed_person(&org_id, PersonSeed::new(e).signed_in()).await }
        });
        for r in futures::future::join_all(seeds).await {
            r.expect("seed");
        }
    }
    eprintln!("seeded 990 people in {:?}", started.elapsed());
    // The last 10 have no Webex account; a few duplicates in another case.
    let mut spec_emails = emails.clone();
    spec_emails.extend(emails[..5].iter().map(|e| e.to_uppercase()));
    let started = Instant::now();
    apply_claim(
        &client,
        &ns,
        "big",
        json!({"orgRef": {"name": ns}, "emails": spec_emails, "acknowledgePermanent": true, "manageClaimedUsers": false}),
    )
    .await;
    let claim = wait_claim(&client, &ns, "big", Duration::from_secs(90), "is complete", |o| {
        condition(o, READY).1 == "Complete"
    })
    .await;
    eprintln!("1000-email claim complete in {:?}", started.elapsed());
    let status = claim.status.clone().expect("status");
    let counts = status.counts.clone().expect("counts");
    assert_eq!(
        (counts.total, counts.claimed, counts.ineligible, counts.pending),
        (1000, 990, 10, 0)
    );
    let listed: Vec<&str> = status.users.iter().map(|u| u.email.as_str()).collect();
    assert_eq!(
        listed,
        emails.iter().map(String::as_str).collect::<Vec<_>>(),
        "none lost, none duplicated"
    );
    let views = sim.control().claims(&org.org_id).await.expect("claims");
    assert_eq!(views.len(), 990, "each user claimed exactly once");
    let size = serde_json::to_vec(&status).expect("json").len();
    eprintln!("status of 1000 users: {size} bytes");
    assert!(size < 400_000, "status too large: {size} bytes");
    // kubectl get: the CRD's printer columns (as installed in the API server) read the counts.
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd = crds.get("userclaims.webex.operator.io").await.expect("CRD");
    let columns = crd.spec.versions[0]
        .additional_printer_columns
        .clone()
        .unwrap_or_default();
    let object = serde_json::to_value(&claim).expect("json");
    let cell = |name: &str| {
        let column = columns.iter().find(|c| c.name == name).expect("column");
        let path = column.json_path.trim_start_matches('.');
        path.split('.').fold(&object, |v, key| &v[key]).clone()
    };
    assert_eq!(cell("Total"), json!(1000));
    assert_eq!(cell("Claimed"), json!(990));
    assert_eq!(cell("Ineligible"), json!(10));
    assert_eq!(cell("Pending"), json!(0));
    assert_eq!(cell("Revoked"), json!(0));
}

#[tokio::test]
async fn emails_that_map_to_one_object_name_each_get_their_webex_user() {
    // "a.b@..." and "a-b@..." both make the object name "a-b-...": the second user gets a second
    // name (with a hash of the email) instead of no WebexUser at all.
    let (client, ns, sim) = setup("clm-names").await;
    claimer(&client, &sim, &ns, |s| s).await;
    let dotted = format!("a.b@{}", domain(&ns));
    let dashed = format!("a-b@{}", domain(&ns));
    other_org(&sim, &ns, "free", OrgSeed::default(), &[&dotted, &dashed]).await;
    apply_claim(&client, &ns, "pair", claim_spec(&ns, &[&dotted, &dashed])).await;
    wait_reason(&client, &ns, "pair", "Complete").await;
    let users: Api<WebexUser> = Api::namespaced(client.clone(), &ns);
    let listed = || async {
        let mut pairs = users
            .list(&ListParams::default())
            .await
            .expect("list")
            .items
            .into_iter()
            .map(|u| (u.name_any(), u.spec.email.to_ascii_lowercase()))
            .collect::<Vec<_>>();
        pairs.sort();
        pairs
    };
    wait_until(Duration::from_secs(30), "a WebexUser for each email", || async {
        listed().await.len() == 2
    })
    .await;
    let emails = listed().await;
    let names: Vec<&str> = emails.iter().map(|(n, _)| n.as_str()).collect();
    let base = webex_operator::gitops::object_name_for_email(&dotted);
    assert!(names.contains(&base.as_str()), "{emails:?}");
    let owners: BTreeSet<&str> = emails.iter().map(|(_, e)| e.as_str()).collect();
    assert_eq!(owners, BTreeSet::from([dotted.as_str(), dashed.as_str()]));
    // The second name is the hashed one of whichever email came second.
    let other = emails.iter().find(|(n, _)| n != &base).expect("second object");
    assert_eq!(
        other.0,
        webex_operator::gitops::distinct_object_name_for_email(&other.1)
    );
}
