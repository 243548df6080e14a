//! LicenseTemplate end to end (R-TPL-1..5, R-CC-2, R-USER-6, R-USER-10, R-ORG-6): the real
//! controller binary against a real kube-apiserver and the simulator binary over HTTP. One
//! simulator and one controller serve every test; each test has its own namespace and org.

// Test helpers fail by panicking, with the state they saw.
#![allow(clippy::panic)]

mod common;

use std::collections::BTreeSet;

use common::operator::{
    OVER_A_RESYNC, SimProcess, apply_user, events_for, ready, ready_org, standard_org, wait_reason,
};
use common::wait::{WAIT, wait_for, wait_past_second, wait_reconciled, wait_value};
use common::{setup, traffic, wait_until};
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use serde_json::json;
use webex_operator::api::conditions;
use webex_operator::api::webex_org::OrgLicenseStatus;
use webex_operator::api::{LicenseTemplate, WebexOrg, WebexUser};
use webex_operator::sim::control_types::{LicenseSeed, OrgSeed, SeededOrg};
use webex_operator::webex::client::{Token, WebexClient};
use webex_operator::webex::ids;

const PASSWORD: &str = "Harbour-Lights-2026!";

/// A ready test org named after the namespace; `seed` defaults to the standard licences.
async fn org(client: &kube::Client, sim: &SimProcess, ns: &str, seed: Option<OrgSeed>) -> (String, SeededOrg) {
    let domain = format!("{ns}.example");
    let seed = seed.unwrap_or_else(|| standard_org(ns, &domain));
    let seeded = ready_org(client, sim, ns, seed, json!({})).await;
    (domain, seeded)
}

async fn apply_template(client: &kube::Client, ns: &str, name: &str, spec: serde_json::Value) {
    let api: Api<LicenseTemplate> = Api::namespaced(client.clone(), ns);
    let object = json!({"apiVersion": "webex.operator.io/v1alpha1", "kind": "LicenseTemplate", "metadata": {"name": name, "namespace": ns}, "spec": spec});
    api.patch(name, &PatchParams::apply("test").force(), &Patch::Apply(&object))
        .await
        .expect("apply LicenseTemplate");
}

/// Waits until the controller reconciled the template's current spec: its cache, which the
/// WebexUser reconciler reads, holds it (users created from now on see it).
async fn template_in_force(client: &kube::Client, ns: &str, name: &str) -> LicenseTemplate {
    wait_reconciled(&Api::<LicenseTemplate>::namespaced(client.clone(), ns), name).await
}

async fn apply_labelled_user(
    client: &kube::Client,
    ns: &str,
    name: &str,
    labels: serde_json::Value,
    spec: serde_json::Value,
) {
    let api: Api<WebexUser> = Api::namespaced(client.clone(), ns);
    let object = json!({"apiVersion": "webex.operator.io/v1alpha1", "kind": "WebexUser", "metadata": {"name": name, "namespace": ns, "labels": labels}, "spec": spec});
    api.patch(name, &PatchParams::apply("test").force(), &Patch::Apply(&object))
        .await
        .expect("apply WebexUser");
}

/// Offer codes the person with `email` holds in the simulator.
async fn codes(sim: &SimProcess, org: &SeededOrg, email: &str) -> BTreeSet<String> {
    sim.control()
        .person_by_email(&org.org_id, email)
        .await
        .expect("people")
        .map(|p| p.licenses.iter().filter_map(|l| ids::license_offer_code(l)).collect())
        .unwrap_or_default()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

async fn wait_codes(sim: &SimProcess, org: &SeededOrg, email: &str, want: &[&str]) {
    let want = set(want);
    let what = format!("{email} holds {want:?}");
    wait_value(WAIT, &what, || codes(sim, org, email), |held| *held == want).await;
}

/// (offer code, source) of the user's effective licences.
async fn provenance(client: &kube::Client, ns: &str, name: &str) -> BTreeSet<(String, String)> {
    let api: Api<WebexUser> = Api::namespaced(client.clone(), ns);
    api.get(name)
        .await
        .expect("read WebexUser")
        .status
        .map(|s| {
            s.effective_licenses
                .into_iter()
                .map(|l| (l.offer_code, l.source))
                .collect()
        })
        .unwrap_or_default()
}

async fn wait_provenance(client: &kube::Client, ns: &str, name: &str, want: &[(&str, &str)]) {
    let want: BTreeSet<(String, String)> = want.iter().map(|(c, s)| (c.to_string(), s.to_string())).collect();
    let what = format!("{ns}/{name} has the effective licences {want:?}");
    wait_value(WAIT, &what, || provenance(client, ns, name), |held| *held == want).await;
}

async fn wait_template(
    client: &kube::Client,
    ns: &str,
    name: &str,
    what: &str,
    pred: impl Fn(&LicenseTemplate) -> bool,
) -> LicenseTemplate {
    wait_for(&Api::namespaced(client.clone(), ns), name, WAIT, what, pred).await
}

fn user(ns: &str, email: &str) -> serde_json::Value {
    json!({"orgRef": {"name": ns}, "email": email, "firstName": "Test"})
}

#[tokio::test]
async fn r_tpl_1_default_template_licenses_new_users_with_provenance_and_status() {
    let (client, ns, sim) = setup("tpl-default").await;
    let (domain, seeded) = org(&client, sim, &ns, None).await;
    apply_template(
        &client,
        &ns,
        "default",
        json!({"orgRef": {"name": ns}, "licenses": [{"offerCode": "MS"}, {"offerCode": "EE"}]}),
    )
    .await;
    // Created after the template (R-TPL-1: templates apply to new users).
    template_in_force(&client, &ns, "default").await;
    let email = format!("ada@{domain}");
    apply_user(&client, &ns, "ada", user(&ns, &email)).await;
    wait_codes(sim, &seeded, &email, &["MS", "EE"]).await;
    wait_provenance(
        &client,
        &ns,
        "ada",
        &[("MS", "Template/default"), ("EE", "Template/default")],
    )
    .await;
    wait_reason(&client, &ns, "ada", "InvitePending").await;
    let t = wait_template(&client, &ns, "default", "counts one matched user", |t| {
        t.status.as_ref().is_some_and(|s| s.matched_users == Some(1))
    })
    .await;
    let status = t.status.expect("status");
    assert_eq!(status.last_applied_generation, t.metadata.generation);
    assert_eq!(status.conflicts_resolved, Some(0));
    let ready = conditions::find(&status.conditions, "Ready").expect("Ready");
    assert_eq!((ready.status.as_str(), ready.reason.as_str()), ("True", "Applied"));
}

#[tokio::test]
async fn r_tpl_1_selector_applies_only_to_labelled_users() {
    let (client, ns, sim) = setup("tpl-selector").await;
    let (domain, seeded) = org(&client, sim, &ns, None).await;
    apply_template(&client, &ns, "sales", json!({"orgRef": {"name": ns}, "selector": {"matchLabels": {"team": "sales"}}, "licenses": [{"offerCode": "EE"}]})).await;
    template_in_force(&client, &ns, "sales").await;
    let (sales, support) = (format!("sam@{domain}"), format!("sue@{domain}"));
    apply_labelled_user(&client, &ns, "sam", json!({"team": "sales"}), user(&ns, &sales)).await;
    apply_labelled_user(&client, &ns, "sue", json!({"team": "support"}), user(&ns, &support)).await;
    wait_codes(sim, &seeded, &sales, &["EE"]).await;
    wait_reason(&client, &ns, "sue", "InvitePending").await;
    assert_eq!(codes(sim, &seeded, &support).await, set(&[]), "not selected");
    assert_eq!(provenance(&client, &ns, "sue").await, BTreeSet::new());
    // Relabelled into the selector: the label change alone re-reconciles her.
    apply_labelled_user(&client, &ns, "sue", json!({"team": "sales"}), user(&ns, &support)).await;
    wait_codes(sim, &seeded, &support, &["EE"]).await;
    wait_provenance(&client, &ns, "sue", &[("EE", "Template/sales")]).await;
}

#[tokio::test]
async fn r_cc_2_r_tpl_3_premium_wins_over_standard_and_the_conflict_is_counted() {
    let (client, ns, sim) = setup("tpl-premium").await;
    let (domain, seeded) = org(&client, sim, &ns, None).await;
    apply_template(
        &client,
        &ns,
        "agents",
        json!({"orgRef": {"name": ns}, "contactCenter": "Standard"}),
    )
    .await;
    apply_template(
        &client,
        &ns,
        "premium",
        json!({"orgRef": {"name": ns}, "selector": {"matchLabels": {"tier": "premium"}}, "contactCenter": "Premium"}),
    )
    .await;
    template_in_force(&client, &ns, "agents").await;
    template_in_force(&client, &ns, "premium").await;
    let email = format!("pat@{domain}");
    apply_labelled_user(&client, &ns, "pat", json!({"tier": "premium"}), user(&ns, &email)).await;
    wait_codes(sim, &seeded, &email, &["CJPPRM"]).await;
    wait_provenance(&client, &ns, "pat", &[("CJPPRM", "Template/premium")]).await;
    for name in ["agents", "premium"] {
        wait_template(&client, &ns, name, "counts the resolved conflict", |t| {
            t.status
                .as_ref()
                .is_some_and(|s| s.conflicts_resolved == Some(1) && s.matched_users == Some(1))
        })
        .await;
    }
}

#[tokio::test]
async fn r_tpl_4_manual_choice_overrides_the_template() {
    let (client, ns, sim) = setup("tpl-manual").await;
    let (domain, seeded) = org(&client, sim, &ns, None).await;
    apply_template(&client, &ns, "default", json!({"orgRef": {"name": ns}, "licenses": [{"offerCode": "MS"}, {"offerCode": "EE"}], "contactCenter": "Premium"})).await;
    template_in_force(&client, &ns, "default").await;
    let email = format!("max@{domain}");
    apply_user(
        &client,
        &ns,
        "max",
        json!({"orgRef": {"name": ns}, "email": email, "licenses": [{"offerCode": "EE"}], "contactCenter": {"type": "Standard"}}),
    )
    .await;
    wait_codes(sim, &seeded, &email, &["EE", "CJPSTD"]).await;
    wait_provenance(&client, &ns, "max", &[("EE", "Manual"), ("CJPSTD", "Manual")]).await;
}

#[tokio::test]
async fn r_tpl_2_existing_users_untouched_without_opt_in_and_changed_with_it() {
    let (client, ns, sim) = setup("tpl-existing").await;
    let (domain, seeded) = org(&client, sim, &ns, None).await;
    let email = format!("eve@{domain}");
    apply_user(&client, &ns, "eve", user(&ns, &email)).await;
    let eve = wait_reason(&client, &ns, "eve", "InvitePending").await;
    // The template is created in a later second than Eve (creation timestamps have a one-second
    // resolution): she is an existing user for it.
    wait_past_second(eve.metadata.creation_timestamp.as_ref().expect("creationTimestamp")).await;
    apply_template(
        &client,
        &ns,
        "default",
        json!({"orgRef": {"name": ns}, "licenses": [{"offerCode": "MS"}]}),
    )
    .await;
    let t = wait_template(&client, &ns, "default", "is Ready", |t| {
        t.status.as_ref().is_some_and(|s| {
            s.last_applied_generation == t.metadata.generation
                && conditions::find(&s.conditions, "Ready").is_some_and(|c| c.status == "True")
        })
    })
    .await;
    assert_eq!(
        t.status.and_then(|s| s.matched_users),
        Some(0),
        "an existing user is not matched"
    );
    // Over a resync (Eve's reconciles make no call to show them), with the controller alive
    // throughout (its drift listings, each comparing Eve with the templates that apply through
    // the reconciler's planner), still no template licence.
    traffic::wait_alive_for(sim, &seeded.org_id, OVER_A_RESYNC).await;
    assert_eq!(
        codes(sim, &seeded, &email).await,
        set(&[]),
        "R-TPL-2: existing users untouched"
    );
    assert!(
        !events_for(&client, &ns, "default")
            .await
            .iter()
            .any(|(_, r, _)| r == "ApplyToExistingUsers"),
        "no warning without the opt-in"
    );
    // The explicit opt-in: a Warning Event naming how many existing users change, then the change.
    apply_template(
        &client,
        &ns,
        "default",
        json!({"orgRef": {"name": ns}, "licenses": [{"offerCode": "MS"}], "applyToExistingUsers": true}),
    )
    .await;
    wait_codes(sim, &seeded, &email, &["MS"]).await;
    wait_provenance(&client, &ns, "eve", &[("MS", "Template/default")]).await;
    wait_until(WAIT, "the opt-in Warning Event", || async {
        events_for(&client, &ns, "default")
            .await
            .iter()
            .any(|(kind, reason, note)| {
                kind == "Warning" && reason == "ApplyToExistingUsers" && note.contains("1 existing user")
            })
    })
    .await;
}

#[tokio::test]
async fn template_change_re_reconciles_the_users_it_selects() {
    let (client, ns, sim) = setup("tpl-change").await;
    let (domain, seeded) = org(&client, sim, &ns, None).await;
    apply_template(
        &client,
        &ns,
        "default",
        json!({"orgRef": {"name": ns}, "licenses": [{"offerCode": "MS"}]}),
    )
    .await;
    template_in_force(&client, &ns, "default").await;
    let email = format!("cy@{domain}");
    apply_user(&client, &ns, "cy", user(&ns, &email)).await;
    wait_codes(sim, &seeded, &email, &["MS"]).await;
    // The edit: EE instead of MS. MS was the template's: it goes (R-USER-6).
    apply_template(
        &client,
        &ns,
        "default",
        json!({"orgRef": {"name": ns}, "licenses": [{"offerCode": "EE"}]}),
    )
    .await;
    wait_codes(sim, &seeded, &email, &["EE"]).await;
    wait_provenance(&client, &ns, "cy", &[("EE", "Template/default")]).await;
    let api: Api<WebexUser> = Api::namespaced(client.clone(), &ns);
    let u = api.get("cy").await.expect("read");
    assert_eq!(u.metadata.generation, Some(1), "the WebexUser itself did not change");
    // A template change is not drift.
    assert!(
        !events_for(&client, &ns, "cy")
            .await
            .iter()
            .any(|(_, r, _)| r == "DriftDetected"),
        "a template change is not reported as drift"
    );
}

#[tokio::test]
async fn template_removal_removes_its_licences_but_keeps_manual_and_hand_made_ones() {
    let (client, ns, sim) = setup("tpl-removal").await;
    let (domain, seeded) = org(&client, sim, &ns, None).await;
    apply_template(
        &client,
        &ns,
        "default",
        json!({"orgRef": {"name": ns}, "licenses": [{"offerCode": "MS"}], "contactCenter": "Premium"}),
    )
    .await;
    template_in_force(&client, &ns, "default").await;
    let (manual, plain) = (format!("mia@{domain}"), format!("pia@{domain}"));
    apply_user(
        &client,
        &ns,
        "mia",
        json!({"orgRef": {"name": ns}, "email": manual, "licenses": [{"offerCode": "MS"}]}),
    )
    .await;
    apply_user(&client, &ns, "pia", user(&ns, &plain)).await;
    wait_codes(sim, &seeded, &manual, &["MS", "CJPPRM"]).await;
    wait_codes(sim, &seeded, &plain, &["MS", "CJPPRM"]).await;
    wait_provenance(&client, &ns, "mia", &[("MS", "Manual"), ("CJPPRM", "Template/default")]).await;
    // Someone gives Pia EE by hand in Control Hub: no spec field manages it.
    let webex = WebexClient::new(&sim.base_url, Token::new(seeded.admin_token.clone())).expect("client");
    let pia = sim
        .control()
        .person_by_email(&seeded.org_id, &plain)
        .await
        .expect("people")
        .expect("pia");
    let by_hand = webex_operator::webex::model::PatchUserLicenses {
        person_id: Some(pia.id.clone()),
        licenses: vec![webex_operator::webex::model::LicenseRequest {
            id: seeded.license_id("EE").expect("EE").to_string(),
            operation: Default::default(),
            properties: None,
        }],
        ..Default::default()
    };
    webex.patch_user_licenses(&by_hand).await.expect("licence by hand");
    let templates: Api<LicenseTemplate> = Api::namespaced(client.clone(), &ns);
    templates
        .delete("default", &DeleteParams::default())
        .await
        .expect("delete template");
    wait_codes(sim, &seeded, &manual, &["MS"]).await;
    wait_codes(sim, &seeded, &plain, &["EE"]).await;
    wait_provenance(&client, &ns, "mia", &[("MS", "Manual")]).await;
    wait_provenance(&client, &ns, "pia", &[]).await;
}

#[tokio::test]
async fn r_user_10_capacity_exhausted_holds_the_user_then_resumes_when_a_seat_frees() {
    let (client, ns, sim) = setup("tpl-capacity").await;
    let domain = format!("{ns}.example");
    let seed = OrgSeed::new(&ns, &domain)
        .with_license(LicenseSeed::new("MS", "Messaging", 100))
        .with_license(LicenseSeed::new("EE", "Enterprise Edition", 1));
    let (_, seeded) = org(&client, sim, &ns, Some(seed)).await;
    apply_template(
        &client,
        &ns,
        "default",
        json!({"orgRef": {"name": ns}, "licenses": [{"offerCode": "EE"}]}),
    )
    .await;
    template_in_force(&client, &ns, "default").await;
    let (first, second) = (format!("fay@{domain}"), format!("gus@{domain}"));
    apply_user(&client, &ns, "fay", user(&ns, &first)).await;
    wait_codes(sim, &seeded, &first, &["EE"]).await;
    apply_user(&client, &ns, "gus", user(&ns, &second)).await;
    // Fay has not signed in, so Webex counts no unit consumed: the reservation holds the seat.
    let gus = wait_reason(&client, &ns, "gus", "LicenseCapacityExhausted").await;
    let (status, _, message) = ready(&gus).expect("Ready");
    assert_eq!(status, "False");
    assert!(message.contains("EE"), "{message}");
    assert_eq!(
        codes(sim, &seeded, &second).await,
        set(&[]),
        "created, without the full licence"
    );
    // Not a failure loop: three drift listings later (each hands Gus, who lacks his licence,
    // back to the reconciler), the user stays held, with one Warning Event for the reason.
    traffic::wait_drift_listings(sim, &seeded.org_id, 3).await;
    let warnings = events_for(&client, &ns, "gus")
        .await
        .into_iter()
        .filter(|(_, r, _)| r == "LicenseCapacityExhausted")
        .count();
    assert_eq!(warnings, 1, "one Event, not one per retry");
    // Fay goes; her seat frees; Gus resumes by himself.
    let users: Api<WebexUser> = Api::namespaced(client.clone(), &ns);
    users.delete("fay", &DeleteParams::default()).await.expect("delete fay");
    wait_codes(sim, &seeded, &second, &["EE"]).await;
    wait_reason(&client, &ns, "gus", "InvitePending").await;
}

/// The WebexOrg's licence status after a fresh reading (the reconcile-now annotation): the org
/// lists its licences again (seen in the simulator's counters). Its status is written after that
/// listing: a caller that wants a value reads again, after the next nudge's listing (the
/// reconciles of one object run one after the other).
async fn org_license(
    client: &kube::Client,
    sim: &SimProcess,
    org: &SeededOrg,
    ns: &str,
    code: &str,
    nudge: &str,
) -> OrgLicenseStatus {
    let api: Api<WebexOrg> = Api::all(client.clone());
    let before = traffic::counters(sim, &org.org_id).await;
    let patch = json!({"metadata": {"annotations": {"webex.operator.io/reconcile-now": nudge}}});
    api.patch(ns, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("annotate");
    let what = "the WebexOrg's licence listing after the nudge";
    traffic::wait_more(sim, &org.org_id, &before, &[traffic::LICENCE_LISTING], 1, what).await;
    let org = api.get(ns).await.expect("read WebexOrg");
    org.status
        .and_then(|s| s.licenses.into_iter().find(|l| l.offer_code == code))
        .expect("licence in status")
}

#[tokio::test]
async fn webex_org_reports_total_consumed_and_reserved_seats() {
    let (client, ns, sim) = setup("tpl-seats").await;
    let domain = format!("{ns}.example");
    let seed = OrgSeed::new(&ns, &domain).with_license(LicenseSeed::new("EE", "Enterprise Edition", 5));
    let (_, seeded) = org(&client, sim, &ns, Some(seed)).await;
    apply_template(
        &client,
        &ns,
        "default",
        json!({"orgRef": {"name": ns}, "licenses": [{"offerCode": "EE"}]}),
    )
    .await;
    template_in_force(&client, &ns, "default").await;
    let email = format!("hal@{domain}");
    apply_user(&client, &ns, "hal", user(&ns, &email)).await;
    wait_codes(sim, &seeded, &email, &["EE"]).await;
    wait_reason(&client, &ns, "hal", "InvitePending").await;
    // Assigned, not signed in: Webex consumes nothing yet (R-USER-10); the operator reserves one.
    let pending = "EE: total 5, consumed 0, reserved 1";
    wait_org_license(&client, sim, &seeded, &ns, "EE", (5, 0, 1), pending).await;
    // The first sign-in draws the unit; the reservation goes once the listing counts it.
    sim.control().sign_in(&email, PASSWORD).await.expect("sign in");
    wait_reason(&client, &ns, "hal", "Active").await;
    let active = "EE after the sign-in: total 5, consumed 1, reserved 0";
    wait_org_license(&client, sim, &seeded, &ns, "EE", (5, 1, 0), active).await;
}

/// Nudges the WebexOrg ([`org_license`]) until its licence `code` shows (total, consumed,
/// reserved) units `want`.
async fn wait_org_license(
    client: &kube::Client,
    sim: &SimProcess,
    org: &SeededOrg,
    ns: &str,
    code: &str,
    want: (i64, i64, i64),
    what: &str,
) -> OrgLicenseStatus {
    wait_value(
        WAIT,
        what,
        || async move {
            // A new value every time: an unchanged annotation would trigger nothing.
            let nudge = jiff::Timestamp::now().as_nanosecond().to_string();
            org_license(client, sim, org, ns, code, &nudge).await
        },
        |l| (l.total_units, l.consumed_units, l.reserved_units) == want,
    )
    .await
}

/// Role names the person with `email` holds in the simulator.
async fn roles(sim: &SimProcess, org: &SeededOrg, email: &str) -> BTreeSet<String> {
    sim.control()
        .person_by_email(&org.org_id, email)
        .await
        .expect("people")
        .map(|p| {
            p.roles
                .iter()
                .filter_map(|r| ids::decode(r).map(|(_, name)| name))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn r_cc_1_supervisor_from_a_template_loses_role_and_licence_when_the_template_goes() {
    let (client, ns, sim) = setup("tpl-supervisor").await;
    let (domain, seeded) = org(&client, sim, &ns, None).await;
    apply_template(
        &client,
        &ns,
        "leads",
        json!({"orgRef": {"name": ns}, "contactCenter": "PremiumSupervisor"}),
    )
    .await;
    template_in_force(&client, &ns, "leads").await;
    let email = format!("lea@{domain}");
    apply_user(&client, &ns, "lea", user(&ns, &email)).await;
    wait_codes(sim, &seeded, &email, &["CJPPRM"]).await;
    wait_until(WAIT, "Lea is a supervisor", || async {
        roles(sim, &seeded, &email).await.contains("id_cjp_supervisor")
    })
    .await;
    let templates: Api<LicenseTemplate> = Api::namespaced(client.clone(), &ns);
    templates
        .delete("leads", &DeleteParams::default())
        .await
        .expect("delete template");
    // Webex refuses to take Premium from a supervisor: the role goes first, then the licence.
    wait_codes(sim, &seeded, &email, &[]).await;
    assert!(!roles(sim, &seeded, &email).await.contains("id_cjp_supervisor"));
    wait_reason(&client, &ns, "lea", "InvitePending").await;
}
