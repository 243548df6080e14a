//! ExternalUser end to end (R-EXT-1..9, R-ORG-5): the real controller binary against a real
//! kube-apiserver and the simulator binary over HTTP. One controller serves every test; tests
//! that move the virtual clock (expiry) or load the simulator (500 users) get a simulator of
//! their own, the others share one. Each test has its own namespace, Webex org and WebexOrg.

// Test helpers fail by panicking, with the state they saw.
#![allow(clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::operator::{self, SimProcess, events_for, ready_org};
use common::traffic::{self, LICENCE_PATCH};
use common::wait::{self, wait_ready_reason};
use common::{setup, setup_with_own_sim, wait_for, wait_until};
use futures::StreamExt;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use serde_json::json;
use webex_operator::api::conditions::{self, READY};
use webex_operator::api::external_user::{ExternalUser, InvitationState};
use webex_operator::sim::control_types::{Invitation, LicenseSeed, OrgPatch, OrgSeed, PersonSeed, SeededOrg};
use webex_operator::webex::client::{Token, WebexClient};
use webex_operator::webex::model::{LicenseOperation, LicenseRequest, PatchUserLicenses};

/// The inviting org of a test: two Meetings sites, `<ns>.webex.com` and `events-<ns>.webex.com`.
struct Inviter {
    org: SeededOrg,
    site: String,
    events: String,
}

async fn inviter(client: &kube::Client, sim: &SimProcess, ns: &str, extra_spec: serde_json::Value) -> Inviter {
    let site = format!("{ns}.webex.com");
    let events = format!("events-{ns}.webex.com");
    let seed = OrgSeed::new(ns, format!("{ns}.example"))
        .with_license(LicenseSeed::new("MS", "Advanced Messaging", 1000))
        .with_license(LicenseSeed {
            site_url: Some(site.clone()),
            ..LicenseSeed::new("EE", "Webex Meetings Suite", 1000)
        })
        .with_license(LicenseSeed {
            site_url: Some(events.clone()),
            ..LicenseSeed::new("EE", "Webex Meetings Suite", 1000)
        });
    let org = ready_org(client, sim, ns, seed, extra_spec).await;
    Inviter { org, site, events }
}

/// A person with an account in another org (which allows cross-org licensing or not).
async fn outsider(sim: &SimProcess, ns: &str, name: &str, cross_org: bool) -> String {
    outsider_in(sim, ns, name, cross_org).await.0
}

/// The outsider's email and org id.
async fn outsider_in(sim: &SimProcess, ns: &str, name: &str, cross_org: bool) -> (String, String) {
    let domain = format!("{name}-{ns}.example");
    let seed = OrgSeed {
        allow_cross_org_licensing: Some(cross_org),
        ..OrgSeed::new(format!("{name} {ns}"), domain.clone())
    };
    let other = sim.control().seed_org(seed).await.expect("seed the other org");
    let email = format!("{name}@{domain}");
    sim.control()
        .seed_person(&other.org_id, PersonSeed::new(&email).named("Pat", name).signed_in())
        .await
        .expect("seed the outsider");
    (email, other.org_id)
}

async fn apply_ext(client: &kube::Client, ns: &str, name: &str, spec: serde_json::Value) {
    let api: Api<ExternalUser> = Api::namespaced(client.clone(), ns);
    let object = json!({"apiVersion": "webex.operator.io/v1alpha1", "kind": "ExternalUser", "metadata": {"name": name, "namespace": ns}, "spec": spec});
    api.patch(name, &PatchParams::apply("test").force(), &Patch::Apply(&object))
        .await
        .expect("apply ExternalUser");
}

fn host_and_attendee(ns: &str, email: &str, inv: &Inviter) -> serde_json::Value {
    json!({"orgRef": {"name": ns}, "email": email, "sites": [
        {"siteUrl": inv.site, "accountType": "Host"},
        {"siteUrl": inv.events, "accountType": "Attendee"}]})
}

/// (status, reason, message) of the Ready condition.
fn ready(o: &ExternalUser) -> (String, String, String) {
    wait::condition(o, READY).unwrap_or_default()
}

fn invitation(o: &ExternalUser) -> Option<InvitationState> {
    o.status.as_ref().and_then(|s| s.invitation)
}

async fn wait_ext(
    client: &kube::Client,
    ns: &str,
    name: &str,
    timeout: Duration,
    what: &str,
    pred: impl Fn(&ExternalUser) -> bool,
) -> ExternalUser {
    wait_for(&Api::namespaced(client.clone(), ns), name, timeout, what, pred).await
}

async fn wait_reason(client: &kube::Client, ns: &str, name: &str, reason: &str) -> ExternalUser {
    wait_ready_reason(&Api::namespaced(client.clone(), ns), name, reason).await
}

async fn invitations_of(sim: &SimProcess, org: &SeededOrg, email: &str) -> Vec<Invitation> {
    sim.control()
        .invitations(&org.org_id)
        .await
        .expect("invitations")
        .into_iter()
        .filter(|i| i.email.eq_ignore_ascii_case(email))
        .collect()
}

/// Consumed units of the org's licence for `site`.
async fn consumed(sim: &SimProcess, org: &SeededOrg, site: &str) -> i64 {
    let webex = WebexClient::new(&sim.base_url, Token::new(org.admin_token.clone())).expect("client");
    webex
        .list_licenses()
        .await
        .expect("licences")
        .into_iter()
        .find(|l| l.site_url.as_deref() == Some(site))
        .and_then(|l| l.consumed_units)
        .unwrap_or(-1)
}

async fn gone(client: &kube::Client, ns: &str, name: &str, timeout: Duration) {
    let api: Api<ExternalUser> = Api::namespaced(client.clone(), ns);
    wait_until(timeout, &format!("{ns}/{name} is gone"), || async {
        api.get_opt(name).await.expect("read").is_none()
    })
    .await;
}

fn parse(t: &str) -> jiff::Timestamp {
    t.parse().expect("timestamp")
}

#[tokio::test]
async fn invitation_is_pending_for_15_days_and_accepting_consumes_a_unit() {
    // R-EXT-4 (host = the site licence, attendee = siteUrls), R-EXT-5 (15 days), R-EXT-6.
    let (client, ns, sim) = setup("ext-accept").await;
    let inv = inviter(&client, sim, &ns, json!({})).await;
    let email = outsider(sim, &ns, "pat", true).await;
    apply_ext(&client, &ns, "pat", host_and_attendee(&ns, &email, &inv)).await;
    let pending = wait_reason(&client, &ns, "pat", "InvitationPending").await;
    let status = pending.status.clone().expect("status");
    assert_eq!(status.invitation, Some(InvitationState::Pending));
    let sent = invitations_of(sim, &inv.org, &email).await;
    assert_eq!(sent.len(), 2, "{sent:#?}");
    assert!(sent.iter().all(|i| i.state == "Pending" && i.invitations_sent == 1));
    let kinds: Vec<(&str, &str)> = sent
        .iter()
        .map(|i| (i.site_url.as_str(), i.account_type.as_str()))
        .collect();
    assert!(kinds.contains(&(inv.site.as_str(), "host")) && kinds.contains(&(inv.events.as_str(), "attendee")));
    // expiresAt is 15 days after Webex sent it (within the clock's second resolution).
    let expires = parse(status.expires_at.as_deref().expect("expiresAt"));
    let webex_expiry = parse(&sent[0].expires_at);
    assert!(
        expires.duration_since(webex_expiry).abs() <= jiff::SignedDuration::from_secs(2),
        "{expires} vs {webex_expiry}"
    );
    assert_eq!(
        parse(&sent[0].expires_at).duration_since(parse(&sent[0].invited_at)),
        jiff::SignedDuration::from_hours(15 * 24)
    );
    assert_eq!(
        consumed(sim, &inv.org, &inv.site).await,
        0,
        "pending consumes nothing (R-EXT-6)"
    );
    let events = events_for(&client, &ns, "pat").await;
    assert!(
        events.iter().any(|(_, r, n)| r == "Invited" && n.contains(&inv.site)),
        "{events:#?}"
    );

    assert_eq!(
        sim.control()
            .answer_invitations(&[&email], Some(&inv.org.org_id), true)
            .await
            .unwrap(),
        2
    );
    let accepted = wait_ext(&client, &ns, "pat", Duration::from_secs(30), "is accepted", |o| {
        ready(o).0 == "True"
    })
    .await;
    assert_eq!(invitation(&accepted), Some(InvitationState::Accepted));
    assert_eq!(ready(&accepted).1, "Accepted");
    assert_eq!(
        consumed(sim, &inv.org, &inv.site).await,
        1,
        "accepted consumes a unit (R-EXT-6)"
    );
}

#[tokio::test]
async fn an_email_without_a_webex_account_is_refused() {
    // R-EXT-2.
    let (client, ns, sim) = setup("ext-noaccount").await;
    let inv = inviter(&client, sim, &ns, json!({})).await;
    let email = format!("nobody@nowhere-{ns}.example");
    apply_ext(&client, &ns, "nobody", host_and_attendee(&ns, &email, &inv)).await;
    let refused = wait_reason(&client, &ns, "nobody", "NoWebexAccount").await;
    assert!(ready(&refused).2.contains("R-EXT-2"), "{:?}", ready(&refused));
    assert!(invitations_of(sim, &inv.org, &email).await.is_empty());
}

#[tokio::test]
async fn an_org_without_cross_org_licensing_is_refused_until_it_allows_it() {
    // R-EXT-1, R-ORG-5.
    let (client, ns, sim) = setup("ext-crossorg").await;
    let inv = inviter(&client, sim, &ns, json!({})).await;
    let (email, their_org) = outsider_in(sim, &ns, "kim", false).await;
    apply_ext(&client, &ns, "kim", host_and_attendee(&ns, &email, &inv)).await;
    let refused = wait_reason(&client, &ns, "kim", "CrossOrgLicensingNotAllowed").await;
    let message = ready(&refused).2;
    assert!(message.contains("R-ORG-5") && message.contains("SIM_"), "{message}");
    assert!(invitations_of(sim, &inv.org, &email).await.is_empty());
    // The other org allows it: the next look (once per resync, 5 s here) invites.
    sim.control()
        .patch_org(
            &their_org,
            OrgPatch {
                allow_cross_org_licensing: Some(true),
                ..OrgPatch::default()
            },
        )
        .await
        .unwrap();
    wait_reason(&client, &ns, "kim", "InvitationPending").await;
    assert_eq!(invitations_of(sim, &inv.org, &email).await.len(), 2);
}

#[tokio::test]
async fn a_person_of_the_org_itself_is_pointed_to_webexuser() {
    let (client, ns, sim) = setup("ext-member").await;
    let inv = inviter(&client, sim, &ns, json!({})).await;
    let email = format!("member@{ns}.example");
    sim.control()
        .seed_person(&inv.org.org_id, PersonSeed::new(&email).signed_in())
        .await
        .unwrap();
    apply_ext(&client, &ns, "member", host_and_attendee(&ns, &email, &inv)).await;
    let refused = wait_reason(&client, &ns, "member", "MemberOfOrg").await;
    assert!(ready(&refused).2.contains("WebexUser"));
    assert!(invitations_of(sim, &inv.org, &email).await.is_empty());
}

#[tokio::test]
async fn licence_templates_never_apply_to_external_users() {
    // R-EXT-3: with a LicenseTemplate in the namespace, an attendee-only ExternalUser gets
    // exactly its attendee account, no licence.
    let (client, ns, sim) = setup("ext-template").await;
    let inv = inviter(&client, sim, &ns, json!({})).await;
    let templates: Api<webex_operator::api::LicenseTemplate> = Api::namespaced(client.clone(), &ns);
    let template = json!({"apiVersion": "webex.operator.io/v1alpha1", "kind": "LicenseTemplate", "metadata": {"name": "everyone", "namespace": ns}, "spec": {"orgRef": {"name": ns}, "licenses": [{"offerCode": "MS"}]}});
    templates
        .patch("everyone", &PatchParams::apply("test"), &Patch::Apply(&template))
        .await
        .expect("LicenseTemplate");
    let (email, their_org) = outsider_in(sim, &ns, "ana", true).await;
    apply_ext(
        &client,
        &ns,
        "ana",
        json!({"orgRef": {"name": ns}, "email": email, "sites": [{"siteUrl": inv.events, "accountType": "Attendee"}]}),
    )
    .await;
    wait_reason(&client, &ns, "ana", "InvitationPending").await;
    let sent = invitations_of(sim, &inv.org, &email).await;
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(
        (sent[0].site_url.as_str(), sent[0].account_type.as_str()),
        (inv.events.as_str(), "attendee")
    );
    // Nothing in the person's own record either.
    let person = sim
        .control()
        .person_by_email(&their_org, &email)
        .await
        .expect("read")
        .expect("person");
    assert!(person.licenses.is_empty(), "{person:#?}");
}

#[tokio::test]
async fn a_declined_invitation_is_reported_and_not_resent() {
    let (client, ns, sim) = setup("ext-decline").await;
    let inv = inviter(&client, sim, &ns, json!({})).await;
    let email = outsider(sim, &ns, "dee", true).await;
    apply_ext(&client, &ns, "dee", host_and_attendee(&ns, &email, &inv)).await;
    wait_reason(&client, &ns, "dee", "InvitationPending").await;
    sim.control().answer_invitations(&[&email], None, false).await.unwrap();
    let declined = wait_reason(&client, &ns, "dee", "InvitationDeclined").await;
    assert_eq!(invitation(&declined), Some(InvitationState::Declined));
    // Two reconciles later (each reads the person's accounts) nothing was sent again.
    let declined_at = traffic::counters(sim, &inv.org.org_id).await;
    traffic::wait_more(
        sim,
        &inv.org.org_id,
        &declined_at,
        &[LICENCE_PATCH],
        2,
        "two reconciles of dee",
    )
    .await;
    let sent = invitations_of(sim, &inv.org, &email).await;
    assert!(
        sent.iter().all(|i| i.state == "Declined" && i.invitations_sent == 1),
        "{sent:#?}"
    );
}

#[tokio::test]
async fn an_accepted_user_loses_every_licence_of_the_org_on_delete() {
    // R-EXT-7 (accepted).
    let (client, ns, sim) = setup("ext-remove").await;
    let inv = inviter(&client, sim, &ns, json!({})).await;
    let email = outsider(sim, &ns, "rob", true).await;
    apply_ext(&client, &ns, "rob", host_and_attendee(&ns, &email, &inv)).await;
    wait_reason(&client, &ns, "rob", "InvitationPending").await;
    sim.control().answer_invitations(&[&email], None, true).await.unwrap();
    wait_reason(&client, &ns, "rob", "Accepted").await;
    assert_eq!(consumed(sim, &inv.org, &inv.site).await, 1);
    let api: Api<ExternalUser> = Api::namespaced(client.clone(), &ns);
    api.delete("rob", &DeleteParams::default()).await.expect("delete");
    gone(&client, &ns, "rob", Duration::from_secs(30)).await;
    assert!(
        invitations_of(sim, &inv.org, &email).await.is_empty(),
        "every account removed"
    );
    assert_eq!(consumed(sim, &inv.org, &inv.site).await, 0);
}

#[tokio::test]
async fn deletion_policy_orphan_leaves_the_accounts() {
    // R-EXT-7 is the default; `Orphan` is for objects that took over accounts (import).
    let (client, ns, sim) = setup("ext-orphan").await;
    let inv = inviter(&client, sim, &ns, json!({})).await;
    let email = outsider(sim, &ns, "oli", true).await;
    let mut spec = host_and_attendee(&ns, &email, &inv);
    spec["deletionPolicy"] = json!("Orphan");
    apply_ext(&client, &ns, "oli", spec).await;
    wait_reason(&client, &ns, "oli", "InvitationPending").await;
    sim.control().answer_invitations(&[&email], None, true).await.unwrap();
    wait_reason(&client, &ns, "oli", "Accepted").await;
    let api: Api<ExternalUser> = Api::namespaced(client.clone(), &ns);
    api.delete("oli", &DeleteParams::default()).await.expect("delete");
    gone(&client, &ns, "oli", Duration::from_secs(30)).await;
    assert_eq!(
        invitations_of(sim, &inv.org, &email).await.len(),
        2,
        "both accounts kept"
    );
    assert_eq!(
        consumed(sim, &inv.org, &inv.site).await,
        1,
        "the host unit stays consumed"
    );
}

#[tokio::test]
async fn a_user_already_licensed_on_the_site_is_adopted() {
    // R-EXT-8: licensed (and accepted) before the ExternalUser exists; no new invitation.
    let (client, ns, sim) = setup("ext-adopt").await;
    let inv = inviter(&client, sim, &ns, json!({})).await;
    let email = outsider(sim, &ns, "ada", true).await;
    let webex = WebexClient::new(&sim.base_url, Token::new(inv.org.admin_token.clone())).unwrap();
    let site_licence = webex
        .list_licenses()
        .await
        .unwrap()
        .into_iter()
        .find(|l| l.site_url.as_deref() == Some(inv.site.as_str()))
        .expect("site licence");
    webex
        .patch_user_licenses(&PatchUserLicenses {
            email: Some(email.clone()),
            licenses: vec![LicenseRequest {
                id: site_licence.id,
                operation: LicenseOperation::Add,
                properties: None,
            }],
            ..PatchUserLicenses::default()
        })
        .await
        .expect("licensed by hand");
    sim.control().answer_invitations(&[&email], None, true).await.unwrap();
    apply_ext(
        &client,
        &ns,
        "ada",
        json!({"orgRef": {"name": ns}, "email": email, "sites": [{"siteUrl": inv.site, "accountType": "Host"}]}),
    )
    .await;
    let adopted = wait_reason(&client, &ns, "ada", "Accepted").await;
    assert_eq!(adopted.status.as_ref().and_then(|s| s.adopted), Some(true));
    let sent = invitations_of(sim, &inv.org, &email).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].invitations_sent, 1, "not re-invited");
    let events = events_for(&client, &ns, "ada").await;
    assert!(events.iter().any(|(_, r, _)| r == "Adopted"), "{events:#?}");
    assert!(!events.iter().any(|(_, r, _)| r == "Invited"), "{events:#?}");
}

#[tokio::test]
async fn an_invitation_expires_after_15_days_and_is_not_resent_without_the_policy() {
    // R-EXT-5. Its own simulator: the test moves the virtual clock.
    let (client, ns, sim) = setup_with_own_sim("ext-expire", true).await;
    let inv = inviter(&client, &sim, &ns, json!({})).await;
    let email = outsider(&sim, &ns, "eve", true).await;
    apply_ext(&client, &ns, "eve", host_and_attendee(&ns, &email, &inv)).await;
    wait_reason(&client, &ns, "eve", "InvitationPending").await;
    sim.control()
        .advance_clock(Duration::from_secs(15 * 24 * 3600 + 60))
        .await
        .unwrap();
    let expired = wait_reason(&client, &ns, "eve", "InvitationExpired").await;
    assert_eq!(invitation(&expired), Some(InvitationState::Expired));
    assert!(ready(&expired).2.contains("reinviteOnExpiry"));
    // Two reconciles later (each reads the person's accounts) nothing was sent again.
    let expired_at = traffic::counters(&sim, &inv.org.org_id).await;
    traffic::wait_more(
        &sim,
        &inv.org.org_id,
        &expired_at,
        &[LICENCE_PATCH],
        2,
        "two reconciles of eve",
    )
    .await;
    let sent = invitations_of(&sim, &inv.org, &email).await;
    assert!(
        sent.iter().all(|i| i.state == "Expired" && i.invitations_sent == 1),
        "{sent:#?}"
    );
}

#[tokio::test]
async fn reinvite_on_expiry_sends_a_new_invitation() {
    // R-EXT-5: "An expired invitation can be re-sent by assigning the licence again".
    let (client, ns, sim) = setup_with_own_sim("ext-reinvite", true).await;
    let inv = inviter(&client, &sim, &ns, json!({})).await;
    let email = outsider(&sim, &ns, "rei", true).await;
    let mut spec = host_and_attendee(&ns, &email, &inv);
    spec["reinviteOnExpiry"] = json!(true);
    apply_ext(&client, &ns, "rei", spec).await;
    let first = wait_reason(&client, &ns, "rei", "InvitationPending").await;
    let first_expiry = parse(
        first
            .status
            .as_ref()
            .and_then(|s| s.expires_at.as_deref())
            .expect("expiresAt"),
    );
    sim.control()
        .advance_clock(Duration::from_secs(15 * 24 * 3600 + 60))
        .await
        .unwrap();
    let again = wait_ext(&client, &ns, "rei", Duration::from_secs(60), "is re-invited", |o| {
        o.status
            .as_ref()
            .and_then(|s| s.expires_at.as_deref())
            .is_some_and(|e| parse(e) > first_expiry)
    })
    .await;
    assert_eq!(invitation(&again), Some(InvitationState::Pending));
    let sent = invitations_of(&sim, &inv.org, &email).await;
    assert!(
        sent.iter().all(|i| i.state == "Pending" && i.invitations_sent == 2),
        "{sent:#?}"
    );
    let events = events_for(&client, &ns, "rei").await;
    assert!(events.iter().any(|(_, r, _)| r == "Reinvited"), "{events:#?}");
    // And the new one can be accepted.
    sim.control().answer_invitations(&[&email], None, true).await.unwrap();
    wait_reason(&client, &ns, "rei", "Accepted").await;
}

#[tokio::test]
async fn deleting_while_an_invitation_is_pending_waits_then_completes_by_itself() {
    // R-EXT-7 (pending): RemovalBlocked with the date, then the finalizer completes.
    let (client, ns, sim) = setup_with_own_sim("ext-blocked", true).await;
    let inv = inviter(&client, &sim, &ns, json!({})).await;
    let email = outsider(&sim, &ns, "bo", true).await;
    apply_ext(&client, &ns, "bo", host_and_attendee(&ns, &email, &inv)).await;
    let pending = wait_reason(&client, &ns, "bo", "InvitationPending").await;
    let expires = pending
        .status
        .as_ref()
        .and_then(|s| s.expires_at.clone())
        .expect("expiresAt");
    let api: Api<ExternalUser> = Api::namespaced(client.clone(), &ns);
    api.delete("bo", &DeleteParams::default()).await.expect("delete");
    let blocked = wait_ext(&client, &ns, "bo", Duration::from_secs(30), "is RemovalBlocked", |o| {
        o.status
            .as_ref()
            .and_then(|s| conditions::find(&s.conditions, "RemovalBlocked"))
            .is_some_and(|c| c.status == "True")
    })
    .await;
    let condition = conditions::find(&blocked.status.as_ref().expect("status").conditions, "RemovalBlocked")
        .expect("condition")
        .clone();
    let date = &expires[..10];
    assert!(
        condition.message.contains(date),
        "{} should name {date}",
        condition.message
    );
    assert!(condition.message.contains("R-EXT-7"));
    // Still there after the finalizer tried again (it reads the person's accounts): Webex
    // cannot remove a pending invitation.
    let blocked_at = traffic::counters(&sim, &inv.org.org_id).await;
    traffic::wait_more(
        &sim,
        &inv.org.org_id,
        &blocked_at,
        &[LICENCE_PATCH],
        1,
        "the finalizer's retry",
    )
    .await;
    assert!(api.get_opt("bo").await.unwrap().is_some());
    let events = events_for(&client, &ns, "bo").await;
    assert!(events.iter().any(|(_, r, _)| r == "RemovalBlocked"), "{events:#?}");
    // 15 days later the invitation has expired; the deletion completes by itself.
    sim.control()
        .advance_clock(Duration::from_secs(15 * 24 * 3600 + 60))
        .await
        .unwrap();
    gone(&client, &ns, "bo", Duration::from_secs(60)).await;
    let sent = invitations_of(&sim, &inv.org, &email).await;
    assert!(sent.iter().all(|i| i.state == "Expired"), "{sent:#?}");
}

#[tokio::test]
async fn five_hundred_external_users_converge_with_every_invitation_accounted_for() {
    const N: usize = 500;
    // In memory: the state file is rewritten whole after every change, which at this size
    // (1,000 people) costs ~50 ms per write in a debug build and would dominate the run.
    let (client, ns, sim) = setup_with_own_sim("ext-500", false).await;
    let inv = inviter(
        &client,
        &sim,
        &ns,
        json!({"apiBudget": {"requestsPerSecond": 500, "burst": 100}}),
    )
    .await;
    // One outside org with 500 people.
    let domain = format!("crowd-{ns}.example");
    let crowd = sim
        .control()
        .seed_org(OrgSeed::new("Crowd", domain.clone()))
        .await
        .unwrap();
    let emails: Vec<String> = (0..N).map(|i| format!("guest{i:03}@{domain}")).collect();
    futures::stream::iter(emails.iter())
        .for_each_concurrent(16, |email| {
            let control = sim.control();
            let org_id = crowd.org_id.clone();
            async move {
                control
                    .seed_person(&org_id, PersonSeed::new(email).signed_in())
                    .await
                    .expect("seed guest");
            }
        })
        .await;

    let started = Instant::now();
    futures::stream::iter(emails.iter().enumerate())
        .for_each_concurrent(16, |(i, email)| {
            let client = client.clone();
            let ns = ns.clone();
            // Every third one is attendee-only (noticed by its own re-check, not the listing).
            let spec = if i % 3 == 0 {
                json!({"orgRef": {"name": ns}, "email": email, "sites": [{"siteUrl": inv.events, "accountType": "Attendee"}]})
            } else {
                json!({"orgRef": {"name": ns}, "email": email, "sites": [{"siteUrl": inv.site, "accountType": "Host"}]})
            };
            async move { apply_ext(&client, &ns, &format!("guest{i:03}"), spec).await }
        })
        .await;
    let applied_in = started.elapsed();
    let api: Api<ExternalUser> = Api::namespaced(client.clone(), &ns);
    let count = |state: InvitationState| {
        let api = api.clone();
        async move {
            api.list(&Default::default())
                .await
                .expect("list")
                .items
                .iter()
                .filter(|o| invitation(o) == Some(state))
                .count()
        }
    };
    wait_until(Duration::from_secs(90), "all 500 are invited", || async {
        count(InvitationState::Pending).await == N
    })
    .await;
    let invited_in = started.elapsed();
    let sent = sim.control().invitations(&inv.org.org_id).await.unwrap();
    assert_eq!(sent.len(), N, "one invitation per ExternalUser");
    assert!(sent.iter().all(|i| i.invitations_sent == 1 && i.state == "Pending"));
    let mut distinct: Vec<&str> = sent.iter().map(|i| i.email.as_str()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), N);

    // 250 accept, 150 decline, 100 leave it pending.
    let refs: Vec<&str> = emails.iter().map(String::as_str).collect();
    sim.control()
        .answer_invitations(&refs[..250], Some(&inv.org.org_id), true)
        .await
        .unwrap();
    sim.control()
        .answer_invitations(&refs[250..400], Some(&inv.org.org_id), false)
        .await
        .unwrap();
    let answered = Instant::now();
    wait_until(Duration::from_secs(60), "the answers are reflected", || async {
        count(InvitationState::Accepted).await == 250
            && count(InvitationState::Declined).await == 150
            && count(InvitationState::Pending).await == 100
    })
    .await;
    let converged_in = answered.elapsed();
    let sent = sim.control().invitations(&inv.org.org_id).await.unwrap();
    let by_state = |s: &str| sent.iter().filter(|i| i.state == s).count();
    assert_eq!(
        (by_state("Accepted"), by_state("Declined"), by_state("Pending")),
        (250, 150, 100)
    );
    assert!(sent.iter().all(|i| i.invitations_sent == 1), "nothing sent twice");
    let hosts_accepted = (0..250).filter(|i| i % 3 != 0).count() as i64;
    assert_eq!(consumed(&sim, &inv.org, &inv.site).await, hosts_accepted);
    eprintln!(
        "500 ExternalUsers: applied in {:.1} s, invited in {:.1} s, answers reflected in {:.1} s",
        applied_in.as_secs_f64(),
        invited_in.as_secs_f64(),
        converged_in.as_secs_f64()
    );
}

#[tokio::test]
async fn an_accepted_attendee_invitation_is_seen_without_waiting_for_the_resync() {
    // Attendee accounts hold no licence, so no listing shows their acceptance: the object is
    // looked at every pending-poll interval while its attendee invitation is pending. The
    // controller here has an hour-long resync (the default), so only that poll can see it.
    let cp = webex_operator::testenv::ControlPlane::start(&common::bin_dir().await)
        .await
        .expect("control plane");
    let client = cp.client().await.expect("client");
    webex_operator::manifests::install_crds(&client, "test")
        .await
        .expect("CRDs");
    let sim = common::shared_sim().await;
    let _controller = operator::start_operator_on(&cp, &[("WEBEX_OPERATOR_RESYNC_SECONDS", "3600".to_string())]);
    let ns = common::temp_namespace(&client, "ext-attpoll").await;
    let inv = inviter(&client, sim, &ns, json!({})).await;
    let email = outsider(sim, &ns, "ada", true).await;
    apply_ext(
        &client,
        &ns,
        "ada",
        json!({"orgRef": {"name": ns}, "email": email, "sites": [{"siteUrl": inv.events, "accountType": "Attendee"}]}),
    )
    .await;
    wait_reason(&client, &ns, "ada", "InvitationPending").await;
    sim.control().answer_invitations(&[&email], None, true).await.unwrap();
    let accepted = wait_ext(
        &client,
        &ns,
        "ada",
        Duration::from_secs(20),
        "shows the accepted attendee invitation",
        |o| invitation(o) == Some(InvitationState::Accepted),
    )
    .await;
    assert_eq!(ready(&accepted).0, "True", "{:?}", ready(&accepted));
}
