//! Licence details of a WebexUser end to end (real controller, real apiserver, simulator over
//! HTTP): calling settings (R-USER-16), the R-USER-11 remedy, the Contact Center sync (R-CC-6)
//! and Meetings tracking codes (R-USER-8).

// Test helpers fail by panicking, with the state they saw.
#![allow(clippy::panic)]

mod common;

use std::time::Duration;

use common::operator::{
    OVER_A_RESYNC, SimProcess, apply_user, events_for, ready, ready_org, standard_org, wait_reason, wait_user,
    wait_user_reconciled,
};
use common::traffic::{self, CALLING_READS};
use common::wait::wait_value;
use common::{setup, wait_until};
use kube::api::Api;
use serde_json::{Value, json};
use webex_operator::api::WebexUser;
use webex_operator::sim::calling::CallingFault;
use webex_operator::sim::control_types::{LicenseSeed, SeededOrg};
use webex_operator::webex::calling::CallingFeature;
use webex_operator::webex::client::{Token, WebexClient};
use webex_operator::webex::model::Person;

const SITE: &str = "acme-test.webex.com";

/// A test org named after the namespace (with a Meetings site), ready for users.
async fn org(client: &kube::Client, sim: &SimProcess, ns: &str, extra_spec: Value) -> (String, SeededOrg) {
    let domain = format!("{ns}.example");
    let mut site = LicenseSeed::new("MC", "Meeting 25 party", 50);
    site.site_url = Some(SITE.to_string());
    let seed = standard_org(ns, &domain).with_license(site);
    let seeded = ready_org(client, sim, ns, seed, extra_spec).await;
    (domain, seeded)
}

fn webex(sim: &SimProcess, org: &SeededOrg) -> WebexClient {
    WebexClient::new(&sim.base_url, Token::new(org.admin_token.clone())).expect("client")
}

async fn person(sim: &SimProcess, org: &SeededOrg, email: &str) -> Person {
    sim.control()
        .person_by_email(&org.org_id, email)
        .await
        .expect("people")
        .unwrap_or_else(|| panic!("{email} not in Webex"))
}

async fn feature(sim: &SimProcess, org: &SeededOrg, person_id: &str, f: CallingFeature) -> Value {
    webex(sim, org)
        .get_calling_feature(person_id, f, true)
        .await
        .unwrap_or_else(|e| panic!("GET {f:?}: {e}"))
}

async fn feature_puts(sim: &SimProcess, org: &SeededOrg) -> u64 {
    let counters = sim.control().counters_for(&org.org_id).await.expect("counters");
    counters.total("PUT /v1/people/{personId}/features/{feature}")
        + counters.total("PUT /v1/telephony/config/people/{personId}/{feature}")
        + counters.total("PUT /_sim/hub/people/{personId}/calling/{feature}")
}

fn calling_user(ns: &str, domain: &str, name: &str, ext: &str, settings: Value) -> Value {
    json!({"orgRef": {"name": ns}, "email": format!("{name}@{domain}"), "firstName": name, "lastName": "Tester",
        "calling": {"offerCode": "BCPRO", "extension": ext},
        "callingSettings": settings})
}

/// `calling` with the org's location filled in.
fn with_location(mut spec: Value, org: &SeededOrg) -> Value {
    spec["calling"]["locationId"] = json!(org.location_id("Headquarters").expect("location"));
    spec
}

async fn user(client: &kube::Client, ns: &str, name: &str) -> WebexUser {
    Api::<WebexUser>::namespaced(client.clone(), ns)
        .get(name)
        .await
        .expect("WebexUser")
}

#[tokio::test]
async fn calling_settings_are_set_changed_corrected_and_left_alone_when_unset() {
    let (client, ns, sim) = setup("callset").await;
    let (domain, seeded) = org(&client, sim, &ns, json!({})).await;
    let all = json!({
        "doNotDisturb": {"enabled": true, "ringSplashEnabled": true},
        "callForwarding": {
            "always": {"enabled": false},
            "busy": {"enabled": true, "destination": "+14085550199"},
            "noAnswer": {"enabled": true, "destination": "5102", "numberOfRings": 4}
        },
        "callWaiting": {"enabled": false},
        "bargeIn": {"enabled": true, "toneEnabled": false},
        "anonymousCallRejection": {"enabled": true},
        "singleNumberReach": {"enabled": true, "alertAllNumbersForClickToDialCallsEnabled": true},
        "hoteling": {"enabled": true},
        "callerIdBlocking": {"blockInForwardCallsEnabled": true}
    });
    let spec = with_location(calling_user(&ns, &domain, "carol", "5101", all), &seeded);
    apply_user(&client, &ns, "carol", spec.clone()).await;
    wait_reason(&client, &ns, "carol", "InvitePending").await;
    let id = person(sim, &seeded, &format!("carol@{domain}")).await.id;

    // Set: every feature holds what the spec says.
    let dnd = feature(sim, &seeded, &id, CallingFeature::DoNotDisturb).await;
    assert_eq!(
        (dnd["enabled"].clone(), dnd["ringSplashEnabled"].clone()),
        (json!(true), json!(true))
    );
    let fwd = feature(sim, &seeded, &id, CallingFeature::CallForwarding).await;
    assert_eq!(fwd["callForwarding"]["busy"]["destination"], json!("+14085550199"));
    assert_eq!(fwd["callForwarding"]["busy"]["enabled"], json!(true));
    assert_eq!(fwd["callForwarding"]["noAnswer"]["numberOfRings"], json!(4));
    assert_eq!(fwd["callForwarding"]["always"]["enabled"], json!(false));
    assert_eq!(
        feature(sim, &seeded, &id, CallingFeature::CallWaiting).await["enabled"],
        json!(false)
    );
    let barge = feature(sim, &seeded, &id, CallingFeature::BargeIn).await;
    assert_eq!(
        (barge["enabled"].clone(), barge["toneEnabled"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(
        feature(sim, &seeded, &id, CallingFeature::AnonymousCallReject).await["enabled"],
        json!(true)
    );
    let snr = feature(sim, &seeded, &id, CallingFeature::SingleNumberReach).await;
    assert_eq!(snr["enabled"], json!(true));
    assert_eq!(snr["alertAllNumbersForClickToDialCallsEnabled"], json!(true));
    assert_eq!(
        feature(sim, &seeded, &id, CallingFeature::Hoteling).await["enabled"],
        json!(true)
    );
    assert_eq!(
        feature(sim, &seeded, &id, CallingFeature::CallerId).await["blockInForwardCallsEnabled"],
        json!(true)
    );
    wait_until(Duration::from_secs(10), "a CallingSettingsChanged Event", || async {
        events_for(&client, &ns, "carol")
            .await
            .iter()
            .any(|(_, reason, _)| reason == "CallingSettingsChanged")
    })
    .await;

    // Equal: zero writes at the next reconcile (the resync, 5 s in tests), which reads every
    // managed setting again.
    let puts = feature_puts(sim, &seeded).await;
    traffic::wait_reconcile_round(sim, &seeded.org_id, CALLING_READS, "carol's next reconcile").await;
    assert_eq!(
        feature_puts(sim, &seeded).await,
        puts,
        "no writes when the settings hold"
    );

    // Change: only the changed features are written.
    let mut changed = spec.clone();
    changed["callingSettings"]["doNotDisturb"] = json!({"enabled": false, "ringSplashEnabled": true});
    changed["callingSettings"]["callForwarding"]["busy"]["destination"] = json!("+14085550177");
    apply_user(&client, &ns, "carol", changed.clone()).await;
    wait_until(Duration::from_secs(30), "DND off and busy forwarding moved", || async {
        let dnd = feature(sim, &seeded, &id, CallingFeature::DoNotDisturb).await;
        let fwd = feature(sim, &seeded, &id, CallingFeature::CallForwarding).await;
        dnd["enabled"] == json!(false) && fwd["callForwarding"]["busy"]["destination"] == json!("+14085550177")
    })
    .await;
    assert_eq!(
        feature_puts(sim, &seeded).await,
        puts + 2,
        "one PUT per changed feature"
    );

    // Drift: someone turns call waiting back on in Webex; the next reconcile corrects it.
    webex(sim, &seeded)
        .put_calling_feature(&id, CallingFeature::CallWaiting, &json!({"enabled": true}), true)
        .await
        .expect("change by hand");
    wait_until(Duration::from_secs(30), "call waiting corrected", || async {
        feature(sim, &seeded, &id, CallingFeature::CallWaiting).await["enabled"] == json!(false)
    })
    .await;
    // The Event follows the correcting PUT.
    wait_until(
        Duration::from_secs(10),
        "a DriftDetected Event for callWaiting",
        || async {
            events_for(&client, &ns, "carol")
                .await
                .iter()
                .any(|(_, reason, note)| reason == "DriftDetected" && note.contains("callWaiting"))
        },
    )
    .await;

    // Unset: doNotDisturb and hoteling leave the spec; changes in Webex then stay as they are.
    let mut unset = changed.clone();
    if let Some(settings) = unset["callingSettings"].as_object_mut() {
        settings.remove("doNotDisturb");
        settings.remove("hoteling");
    }
    apply_user(&client, &ns, "carol", unset).await;
    wait_user_reconciled(&client, &ns, "carol").await;
    let by_hand = webex(sim, &seeded);
    by_hand
        .put_calling_feature(&id, CallingFeature::DoNotDisturb, &json!({"enabled": true}), true)
        .await
        .expect("dnd by hand");
    by_hand
        .put_calling_feature(&id, CallingFeature::Hoteling, &json!({"enabled": false}), true)
        .await
        .expect("hoteling by hand");
    // A reconcile later (it reads the settings still managed), nothing was reverted.
    traffic::wait_reconcile_round(sim, &seeded.org_id, CALLING_READS, "carol's next reconcile").await;
    assert_eq!(
        feature(sim, &seeded, &id, CallingFeature::DoNotDisturb).await["enabled"],
        json!(true)
    );
    assert_eq!(
        feature(sim, &seeded, &id, CallingFeature::Hoteling).await["enabled"],
        json!(false)
    );
    // The rest is still managed and holds.
    assert_eq!(
        feature(sim, &seeded, &id, CallingFeature::CallWaiting).await["enabled"],
        json!(false)
    );
    let carol = user(&client, &ns, "carol").await;
    assert_eq!(ready(&carol).map(|r| r.1), Some("InvitePending".to_string()));
}

#[tokio::test]
async fn calling_settings_without_a_calling_licence_get_a_reason_not_a_failure_loop() {
    let (client, ns, sim) = setup("nocalling").await;
    let (domain, seeded) = org(&client, sim, &ns, json!({})).await;
    let spec = json!({"orgRef": {"name": ns}, "email": format!("dan@{domain}"), "firstName": "Dan",
        "licenses": [{"offerCode": "MS"}], "callingSettings": {"doNotDisturb": {"enabled": true}}});
    apply_user(&client, &ns, "dan", spec.clone()).await;
    let dan = wait_reason(&client, &ns, "dan", "CallingLicenseRequired").await;
    let (status, _, message) = ready(&dan).expect("Ready condition");
    assert_eq!(status, "False");
    assert!(
        message.contains("Calling licence") && message.contains("R-USER-16"),
        "{message}"
    );
    // Not a single call to the Calling settings API, and no error backoff loop of writes.
    let counters = sim.control().counters_for(&seeded.org_id).await.expect("counters");
    assert_eq!(counters.total("GET /v1/people/{personId}/features/{feature}"), 0);
    let events = events_for(&client, &ns, "dan").await;
    assert_eq!(
        events.iter().filter(|(_, r, _)| r == "CallingLicenseRequired").count(),
        1,
        "{events:?}"
    );
    // The simulator refuses Calling settings of a person without Calling, as the real service.
    let id = person(sim, &seeded, &format!("dan@{domain}")).await.id;
    let refused = webex(sim, &seeded)
        .get_calling_feature(&id, CallingFeature::DoNotDisturb, true)
        .await
        .expect_err("no Calling, no settings");
    assert_eq!(refused.status(), Some(404));

    // Giving Dan Calling lets the settings through.
    let mut with_calling = spec;
    with_calling["calling"] =
        json!({"offerCode": "BCSTD", "extension": "5201", "locationId": seeded.location_id("Headquarters")});
    apply_user(&client, &ns, "dan", with_calling).await;
    wait_reason(&client, &ns, "dan", "InvitePending").await;
    assert_eq!(
        feature(sim, &seeded, &id, CallingFeature::DoNotDisturb).await["enabled"],
        json!(true)
    );
}

#[tokio::test]
async fn new_users_failing_calling_settings_get_the_licence_reassigned_once() {
    let (client, ns, sim) = setup("ruser11").await;
    let (domain, seeded) = org(&client, sim, &ns, json!({})).await;
    let settings = json!({"callWaiting": {"enabled": false}});

    // The remedy cures it (R-USER-11).
    sim.control()
        .set_calling_fault(&seeded.org_id, Some(CallingFault::UntilReassigned))
        .await
        .expect("arm fault");
    let erin = with_location(calling_user(&ns, &domain, "erin", "5301", settings.clone()), &seeded);
    apply_user(&client, &ns, "erin", erin).await;
    let erin = wait_reason(&client, &ns, "erin", "InvitePending").await;
    let p = person(sim, &seeded, &format!("erin@{domain}")).await;
    assert_eq!(
        feature(sim, &seeded, &p.id, CallingFeature::CallWaiting).await["enabled"],
        json!(false)
    );
    assert_eq!(
        p.extension.as_deref(),
        Some("5301"),
        "the extension came back with the licence"
    );
    assert!(
        erin.status
            .as_ref()
            .and_then(|s| s.calling_license_reassigned_at.as_ref())
            .is_some()
    );
    let events = events_for(&client, &ns, "erin").await;
    assert_eq!(
        events
            .iter()
            .filter(|(t, r, _)| t == "Warning" && r == "CallingLicenseReassigned")
            .count(),
        1,
        "{events:?}"
    );
    assert!(
        events.iter().any(|(_, r, _)| r == "CallingSettingsRecovered"),
        "{events:?}"
    );

    // The remedy does not cure it: reported, and not repeated.
    sim.control()
        .set_calling_fault(&seeded.org_id, Some(CallingFault::Persistent))
        .await
        .expect("arm persistent fault");
    let fred = with_location(calling_user(&ns, &domain, "fred", "5302", settings), &seeded);
    apply_user(&client, &ns, "fred", fred).await;
    let fred = wait_reason(&client, &ns, "fred", "CallingSettingsFailed").await;
    let (_, _, message) = ready(&fred).expect("Ready");
    assert!(
        message.contains("R-USER-11") && message.contains("still fail"),
        "{message}"
    );
    // Retried meanwhile (every pending poll, 1 s in tests; each retry reads the settings and
    // fails): four more reads of the org's calling settings (Erin's, failing too now, count
    // there as well; at that pace at least two are Fred's).
    let failed = traffic::counters(sim, &seeded.org_id).await;
    traffic::wait_more(sim, &seeded.org_id, &failed, CALLING_READS, 4, "fred's retries").await;
    let events = events_for(&client, &ns, "fred").await;
    assert_eq!(
        events
            .iter()
            .filter(|(_, r, _)| r == "CallingLicenseReassigned")
            .count(),
        1,
        "the licence is re-assigned once: {events:?}"
    );
    let p = person(sim, &seeded, &format!("fred@{domain}")).await;
    assert_eq!(p.extension.as_deref(), Some("5302"));
    sim.control()
        .set_calling_fault(&seeded.org_id, None)
        .await
        .expect("disarm");
}

#[tokio::test]
async fn contact_center_licence_changes_synchronise_users() {
    let (client, ns, sim) = setup("ccsync").await;
    let (domain, seeded) = org(&client, sim, &ns, json!({})).await;
    let spec = |kind: &str| json!({"orgRef": {"name": ns}, "email": format!("gina@{domain}"), "firstName": "Gina", "contactCenter": {"type": kind}});
    apply_user(&client, &ns, "gina", spec("Standard")).await;
    wait_until(
        Duration::from_secs(30),
        "Gina synchronised as a Standard agent",
        || async {
            let view = sim.control().contact_center(&seeded.org_id).await.expect("cc view");
            view.users.iter().any(|u| {
                u.email == format!("gina@{domain}") && u.user_profile_type.as_deref() == Some("STANDARD_AGENT")
            })
        },
    )
    .await;
    let before = sim
        .control()
        .contact_center(&seeded.org_id)
        .await
        .expect("cc")
        .synchronizations;
    apply_user(&client, &ns, "gina", spec("Premium")).await;
    wait_until(
        Duration::from_secs(30),
        "Gina synchronised as a Premium agent",
        || async {
            let view = sim.control().contact_center(&seeded.org_id).await.expect("cc view");
            view.users
                .iter()
                .any(|u| u.email == format!("gina@{domain}") && u.user_profile_type.as_deref() == Some("PREMIUM_AGENT"))
        },
    )
    .await;
    let gina = user(&client, &ns, "gina").await;
    let status = gina.status.expect("status");
    assert_eq!(status.contact_center_synced.as_deref(), Some("CJPPRM"));
    let synced = webex_operator::api::conditions::find(&status.conditions, "ContactCenterSynced").expect("condition");
    assert_eq!(
        (synced.status.as_str(), synced.reason.as_str()),
        ("True", "Synchronized")
    );
    // One sync per change, none in steady state: over a resync, with the controller alive
    // throughout (Gina's reconciles make no call to show them).
    traffic::wait_alive_for(sim, &seeded.org_id, OVER_A_RESYNC).await;
    let after = sim
        .control()
        .contact_center(&seeded.org_id)
        .await
        .expect("cc")
        .synchronizations;
    assert_eq!(after, before + 1, "one sync per licence change");

    // Against the real service (backend Webex) there is no API: the admin is told what to do.
    let real_ns = common::temp_namespace(&client, "ccreal").await;
    let (real_domain, real) = org(&client, sim, &real_ns, json!({"backend": "Webex"})).await;
    apply_user(&client, &real_ns, "hal", json!({"orgRef": {"name": real_ns}, "email": format!("hal@{real_domain}"), "contactCenter": {"type": "Standard"}})).await;
    let synced = |u: &WebexUser| {
        u.status
            .as_ref()
            .and_then(|s| webex_operator::api::conditions::find(&s.conditions, "ContactCenterSynced").cloned())
    };
    let what = "has a ContactCenterSynced condition";
    let hal = wait_user(&client, &real_ns, "hal", Duration::from_secs(30), what, |u| {
        synced(u).is_some()
    })
    .await;
    let condition = synced(&hal).expect("ContactCenterSynced condition");
    assert_eq!(condition.status, "False");
    assert_eq!(condition.reason, "SynchronizeUsersInControlHub");
    assert!(condition.message.contains("Synchronize Users") && condition.message.contains("R-CC-6"));
    assert_eq!(
        sim.control()
            .contact_center(&real.org_id)
            .await
            .expect("cc")
            .synchronizations,
        0
    );
}

#[tokio::test]
async fn tracking_codes_are_set_per_site_and_unknown_codes_are_reported() {
    let (client, ns, sim) = setup("tracking").await;
    let (domain, seeded) = org(&client, sim, &ns, json!({})).await;
    // The site's tracking codes, as a site admin defines them (public API).
    let http = reqwest::Client::new();
    for code in [
        json!({"name": "Project", "siteUrl": SITE, "options": [], "inputMode": "text", "hostProfileCode": "required", "scheduleStartCodes": []}),
        json!({"name": "Department", "siteUrl": SITE, "options": [{"value": "R&D", "defaultValue": true}, {"value": "Sales", "defaultValue": false}], "inputMode": "select", "hostProfileCode": "optional", "scheduleStartCodes": []}),
    ] {
        let answer = http
            .post(format!("{}/v1/admin/meeting/config/trackingCodes", sim.base_url))
            .bearer_auth(&seeded.admin_token)
            .json(&code)
            .send()
            .await
            .expect("create site code");
        assert!(answer.status().is_success(), "{}", answer.status());
    }
    let spec = |codes: Value| {
        json!({"orgRef": {"name": ns}, "email": format!("ida@{domain}"), "firstName": "Ida",
        "licenses": [{"offerCode": "MC"}], "trackingCodes": [{"siteUrl": SITE, "codes": codes}]})
    };
    apply_user(
        &client,
        &ns,
        "ida",
        spec(json!({"Project": "Apollo", "Department": "R&D"})),
    )
    .await;
    wait_reason(&client, &ns, "ida", "InvitePending").await;
    let id = person(sim, &seeded, &format!("ida@{domain}")).await.id;
    let values = |held: webex_operator::webex::calling::UserTrackingCodes| {
        held.tracking_codes
            .into_iter()
            .map(|c| (c.name, c.value))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let held = webex(sim, &seeded)
        .get_user_tracking_codes(SITE, &id)
        .await
        .expect("codes");
    assert_eq!(values(held).get("Project").map(String::as_str), Some("Apollo"));
    wait_until(Duration::from_secs(10), "a TrackingCodesChanged Event", || async {
        events_for(&client, &ns, "ida")
            .await
            .iter()
            .any(|(_, r, _)| r == "TrackingCodesChanged")
    })
    .await;

    // Change one value; Department is dropped from the spec and keeps its value.
    apply_user(&client, &ns, "ida", spec(json!({"Project": "Gemini"}))).await;
    wait_until(Duration::from_secs(30), "Project is Gemini", || async {
        let held = webex(sim, &seeded)
            .get_user_tracking_codes(SITE, &id)
            .await
            .expect("codes");
        values(held).get("Project").map(String::as_str) == Some("Gemini")
    })
    .await;
    let held = webex(sim, &seeded)
        .get_user_tracking_codes(SITE, &id)
        .await
        .expect("codes");
    assert_eq!(values(held).get("Department").map(String::as_str), Some("R&D"));

    // A code the site does not have: Webex refuses, the condition says why.
    apply_user(&client, &ns, "ida", spec(json!({"Costcentre": "42"}))).await;
    let ida = wait_reason(&client, &ns, "ida", "WebexRejected").await;
    let (_, _, message) = ready(&ida).expect("Ready");
    assert!(message.contains("tracking codes"), "{message}");
}

#[tokio::test]
async fn report_only_drift_and_observe_only_do_not_write_calling_settings() {
    let (client, ns, sim) = setup("callreport").await;
    let (domain, seeded) = org(&client, sim, &ns, json!({"driftPolicy": "ReportOnly"})).await;
    let settings = json!({"callWaiting": {"enabled": false}});
    let spec = with_location(calling_user(&ns, &domain, "kim", "5401", settings.clone()), &seeded);
    apply_user(&client, &ns, "kim", spec).await;
    wait_reason(&client, &ns, "kim", "InvitePending").await;
    let id = person(sim, &seeded, &format!("kim@{domain}")).await.id;
    assert_eq!(
        feature(sim, &seeded, &id, CallingFeature::CallWaiting).await["enabled"],
        json!(false)
    );
    // Changed by hand: reported at the next reconcile (resync), not corrected.
    webex(sim, &seeded)
        .put_calling_feature(&id, CallingFeature::CallWaiting, &json!({"enabled": true}), true)
        .await
        .expect("change by hand");
    let kim = wait_reason(&client, &ns, "kim", "DriftDetected").await;
    let (_, _, message) = ready(&kim).expect("Ready");
    assert!(
        message.contains("callWaiting") && message.contains("ReportOnly"),
        "{message}"
    );
    assert_eq!(
        feature(sim, &seeded, &id, CallingFeature::CallWaiting).await["enabled"],
        json!(true)
    );

    // Observe-only on a person who has Calling: says what it would set, writes nothing.
    let kim_person = person(sim, &seeded, &format!("kim@{domain}")).await;
    let puts = feature_puts(sim, &seeded).await;
    let lee = json!({"orgRef": {"name": ns}, "email": format!("lee@{domain}"), "managementPolicy": "ObserveOnly",
        "existingUserPolicy": "Adopt", "callingSettings": {"hoteling": {"enabled": true}}});
    let seeded_lee = sim
        .control()
        .seed_person(
            &seeded.org_id,
            webex_operator::sim::control_types::PersonSeed {
                licenses: kim_person.licenses.clone(),
                ..webex_operator::sim::control_types::PersonSeed::new(format!("lee@{domain}"))
            },
        )
        .await
        .expect("seed lee");
    apply_user(&client, &ns, "lee", lee).await;
    // The org's listing may predate the seeded person ("would create"): ask for a fresh
    // reconcile until the controller sees Lee.
    let users: Api<WebexUser> = Api::namespaced(client.clone(), &ns);
    let mut message = String::new();
    for round in 0..60 {
        let lee = user(&client, &ns, "lee").await;
        if let Some((_, reason, m)) = ready(&lee) {
            message = m;
            if reason == "ObserveOnly" && message.contains("hoteling") {
                break;
            }
        }
        if round % 5 == 4 {
            let poke = json!({"metadata": {"annotations": {"webex.operator.io/reconcile-now": round.to_string()}}});
            users
                .patch(
                    "lee",
                    &kube::api::PatchParams::default(),
                    &kube::api::Patch::Merge(&poke),
                )
                .await
                .expect("poke");
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    assert!(message.contains("would set the calling settings hoteling"), "{message}");
    assert_eq!(
        feature(sim, &seeded, &seeded_lee.id, CallingFeature::Hoteling).await["enabled"],
        json!(false)
    );
    assert_eq!(feature_puts(sim, &seeded).await, puts, "observe-only writes nothing");
}

/// Each setting's fields as (feature, JSON pointer, value) for the spec `settings(flag)` below.
fn expected(flag: bool, dest: &str) -> Vec<(CallingFeature, &'static str, Value)> {
    vec![
        (CallingFeature::DoNotDisturb, "/enabled", json!(flag)),
        (CallingFeature::DoNotDisturb, "/ringSplashEnabled", json!(!flag)),
        (
            CallingFeature::CallForwarding,
            "/callForwarding/always/enabled",
            json!(flag),
        ),
        (
            CallingFeature::CallForwarding,
            "/callForwarding/always/destination",
            json!(dest),
        ),
        (
            CallingFeature::CallForwarding,
            "/callForwarding/always/ringReminderEnabled",
            json!(flag),
        ),
        (
            CallingFeature::CallForwarding,
            "/callForwarding/busy/enabled",
            json!(flag),
        ),
        (
            CallingFeature::CallForwarding,
            "/callForwarding/busy/destination",
            json!(dest),
        ),
        (
            CallingFeature::CallForwarding,
            "/callForwarding/noAnswer/enabled",
            json!(flag),
        ),
        (
            CallingFeature::CallForwarding,
            "/callForwarding/noAnswer/destination",
            json!(dest),
        ),
        (
            CallingFeature::CallForwarding,
            "/callForwarding/noAnswer/numberOfRings",
            json!(if flag { 5 } else { 2 }),
        ),
        (CallingFeature::CallWaiting, "/enabled", json!(flag)),
        (CallingFeature::BargeIn, "/enabled", json!(flag)),
        (CallingFeature::BargeIn, "/toneEnabled", json!(!flag)),
        (CallingFeature::AnonymousCallReject, "/enabled", json!(flag)),
        (CallingFeature::SingleNumberReach, "/enabled", json!(flag)),
        (
            CallingFeature::SingleNumberReach,
            "/alertAllNumbersForClickToDialCallsEnabled",
            json!(!flag),
        ),
        (CallingFeature::Hoteling, "/enabled", json!(flag)),
        (CallingFeature::CallerId, "/blockInForwardCallsEnabled", json!(flag)),
        (CallingFeature::Voicemail, "/enabled", json!(flag)),
        (CallingFeature::Voicemail, "/sendBusyCalls/enabled", json!(flag)),
        (
            CallingFeature::Voicemail,
            "/sendUnansweredCalls/numberOfRings",
            json!(if flag { 6 } else { 2 }),
        ),
        (CallingFeature::Voicemail, "/emailCopyOfMessage/enabled", json!(flag)),
        (
            CallingFeature::Voicemail,
            "/emailCopyOfMessage/emailId",
            json!(format!("vm{flag}@acme.example")),
        ),
        (
            CallingFeature::ExecutiveAssistant,
            "/type",
            json!(if flag { "EXECUTIVE" } else { "EXECUTIVE_ASSISTANT" }),
        ),
        (CallingFeature::SimultaneousRing, "/enabled", json!(flag)),
        (
            CallingFeature::SimultaneousRing,
            "/doNotRingIfOnCallEnabled",
            json!(!flag),
        ),
        (
            CallingFeature::SimultaneousRing,
            "/phoneNumbers/0/phoneNumber",
            json!(dest),
        ),
        (
            CallingFeature::SimultaneousRing,
            "/phoneNumbers/0/answerConfirmationRequiredEnabled",
            json!(flag),
        ),
        (CallingFeature::SequentialRing, "/enabled", json!(flag)),
        (
            CallingFeature::SequentialRing,
            "/baseLocationNumberOfRings",
            json!(if flag { 4 } else { 2 }),
        ),
        (
            CallingFeature::SequentialRing,
            "/phoneNumbers/0/numberOfRings",
            json!(if flag { 5 } else { 3 }),
        ),
        (
            CallingFeature::SequentialRing,
            "/phoneNumbers/1/phoneNumber",
            json!("+14085550177"),
        ),
        (CallingFeature::PriorityAlert, "/enabled", json!(flag)),
        (CallingFeature::SelectiveAccept, "/enabled", json!(flag)),
        (CallingFeature::SelectiveReject, "/enabled", json!(!flag)),
        (CallingFeature::SelectiveForward, "/enabled", json!(flag)),
        (
            CallingFeature::SelectiveForward,
            "/defaultPhoneNumberToForward",
            json!(dest),
        ),
        (CallingFeature::SelectiveForward, "/ringReminderEnabled", json!(flag)),
    ]
}

fn settings(flag: bool, dest: &str) -> Value {
    let rings = if flag { 5 } else { 2 };
    json!({
        "doNotDisturb": {"enabled": flag, "ringSplashEnabled": !flag},
        "callForwarding": {
            "always": {"enabled": flag, "destination": dest, "ringReminderEnabled": flag},
            "busy": {"enabled": flag, "destination": dest},
            "noAnswer": {"enabled": flag, "destination": dest, "numberOfRings": rings}
        },
        "callWaiting": {"enabled": flag},
        "bargeIn": {"enabled": flag, "toneEnabled": !flag},
        "anonymousCallRejection": {"enabled": flag},
        "singleNumberReach": {"enabled": flag, "alertAllNumbersForClickToDialCallsEnabled": !flag},
        "hoteling": {"enabled": flag},
        "callerIdBlocking": {"blockInForwardCallsEnabled": flag},
        "voicemail": {
            "enabled": flag,
            "sendBusyCalls": {"enabled": flag},
            "sendUnansweredCalls": {"numberOfRings": if flag { 6 } else { 2 }},
            "emailCopyOfMessage": {"enabled": flag, "emailId": format!("vm{flag}@acme.example")}
        },
        "executiveAssistant": {"type": if flag { "EXECUTIVE" } else { "EXECUTIVE_ASSISTANT" }},
        "simultaneousRing": {
            "enabled": flag, "doNotRingIfOnCallEnabled": !flag,
            "phoneNumbers": [{"phoneNumber": dest, "answerConfirmationRequiredEnabled": flag}]
        },
        "sequentialRing": {
            "enabled": flag, "baseLocationNumberOfRings": if flag { 4 } else { 2 },
            "phoneNumbers": [
                {"phoneNumber": dest, "numberOfRings": if flag { 5 } else { 3 }},
                {"phoneNumber": "+14085550177"}
            ]
        },
        "priorityAlert": {"enabled": flag},
        "selectiveAccept": {"enabled": flag},
        "selectiveReject": {"enabled": !flag},
        "selectiveForward": {"enabled": flag, "defaultPhoneNumberToForward": dest, "ringReminderEnabled": flag}
    })
}

async fn mismatches(
    sim: &SimProcess,
    org: &SeededOrg,
    id: &str,
    want: &[(CallingFeature, &str, Value)],
) -> Vec<String> {
    let mut out = Vec::new();
    for (f, pointer, value) in want {
        let held = feature(sim, org, id, *f).await;
        if held.pointer(pointer) != Some(value) {
            out.push(format!("{f:?}{pointer}: {:?} != {value}", held.pointer(pointer)));
        }
    }
    out
}

#[tokio::test]
async fn every_setting_is_set_changed_and_left_alone_once_unset() {
    let (client, ns, sim) = setup("calleach").await;
    let (domain, seeded) = org(&client, sim, &ns, json!({})).await;
    let spec = |s: Option<Value>| {
        let mut spec = with_location(calling_user(&ns, &domain, "max", "5501", json!({})), &seeded);
        match s {
            Some(s) => spec["callingSettings"] = s,
            None => {
                if let Some(m) = spec.as_object_mut() {
                    m.remove("callingSettings");
                }
            }
        }
        spec
    };
    // Set every setting (the opposite of most defaults).
    apply_user(&client, &ns, "max", spec(Some(settings(true, "+14085550111")))).await;
    wait_reason(&client, &ns, "max", "InvitePending").await;
    let id = person(sim, &seeded, &format!("max@{domain}")).await.id;
    let set = expected(true, "+14085550111");
    assert_eq!(mismatches(sim, &seeded, &id, &set).await, Vec::<String>::new());

    // Change every setting.
    let changed = expected(false, "5599");
    apply_user(&client, &ns, "max", spec(Some(settings(false, "5599")))).await;
    let what = "every setting is changed (last seen: the ones not changed)";
    wait_value(
        Duration::from_secs(30),
        what,
        || mismatches(sim, &seeded, &id, &changed),
        Vec::is_empty,
    )
    .await;

    // Unset every setting, then change each in Webex: nothing is reverted.
    apply_user(&client, &ns, "max", spec(None)).await;
    wait_user_reconciled(&client, &ns, "max").await;
    let webex = webex(sim, &seeded);
    for (f, body) in desired_bodies(&settings(true, "+14085550122")) {
        webex
            .put_calling_feature(&id, f, &body, true)
            .await
            .expect("change by hand");
    }
    let puts = feature_puts(sim, &seeded).await;
    // Over a resync, with the controller alive throughout (with nothing managed, Max's
    // reconciles read no setting to show them).
    traffic::wait_alive_for(sim, &seeded.org_id, OVER_A_RESYNC).await;
    assert_eq!(
        mismatches(sim, &seeded, &id, &expected(true, "+14085550122")).await,
        Vec::<String>::new()
    );
    assert_eq!(feature_puts(sim, &seeded).await, puts, "no writes once unset");
}

/// The PUT bodies a spec's settings stand for (wire names match the spec's).
fn desired_bodies(settings: &Value) -> Vec<(CallingFeature, Value)> {
    vec![
        (CallingFeature::DoNotDisturb, settings["doNotDisturb"].clone()),
        (
            CallingFeature::CallForwarding,
            json!({"callForwarding": settings["callForwarding"].clone()}),
        ),
        (CallingFeature::CallWaiting, settings["callWaiting"].clone()),
        (CallingFeature::BargeIn, settings["bargeIn"].clone()),
        (
            CallingFeature::AnonymousCallReject,
            settings["anonymousCallRejection"].clone(),
        ),
        (CallingFeature::SingleNumberReach, settings["singleNumberReach"].clone()),
        (CallingFeature::Hoteling, settings["hoteling"].clone()),
        (CallingFeature::CallerId, settings["callerIdBlocking"].clone()),
        (CallingFeature::Voicemail, settings["voicemail"].clone()),
        (
            CallingFeature::ExecutiveAssistant,
            settings["executiveAssistant"].clone(),
        ),
        (CallingFeature::SimultaneousRing, settings["simultaneousRing"].clone()),
        (CallingFeature::SequentialRing, settings["sequentialRing"].clone()),
        (CallingFeature::PriorityAlert, settings["priorityAlert"].clone()),
        (CallingFeature::SelectiveAccept, settings["selectiveAccept"].clone()),
        (CallingFeature::SelectiveReject, settings["selectiveReject"].clone()),
        (CallingFeature::SelectiveForward, settings["selectiveForward"].clone()),
    ]
}

#[tokio::test]
async fn control_hub_only_settings_are_reported_against_the_real_service() {
    let (client, ns, sim) = setup("callhub").await;
    let (domain, seeded) = org(&client, sim, &ns, json!({"backend": "Webex"})).await;
    let with = |settings: Value| with_location(calling_user(&ns, &domain, "ivy", "5601", settings), &seeded);
    apply_user(
        &client,
        &ns,
        "ivy",
        with(json!({
            "doNotDisturb": {"enabled": true},
            "simultaneousRing": {"enabled": true, "phoneNumbers": [{"phoneNumber": "+14085550166"}]},
            "priorityAlert": {"enabled": true}
        })),
    )
    .await;
    let id = {
        wait_until(Duration::from_secs(60), "Ivy in Webex", || async {
            sim.control()
                .person_by_email(&seeded.org_id, &format!("ivy@{domain}"))
                .await
                .ok()
                .flatten()
                .is_some()
        })
        .await;
        person(sim, &seeded, &format!("ivy@{domain}")).await.id
    };
    let condition = |u: WebexUser| {
        u.status
            .and_then(|s| webex_operator::api::conditions::find(&s.conditions, "CallingSettingsInControlHub").cloned())
    };
    let what = "has a CallingSettingsInControlHub condition";
    let ivy = wait_user(&client, &ns, "ivy", Duration::from_secs(30), what, |u| {
        condition(u.clone()).is_some()
    })
    .await;
    let seen = condition(ivy).expect("CallingSettingsInControlHub condition");
    assert_eq!(
        (seen.status.as_str(), seen.reason.as_str()),
        ("True", "SetInControlHub")
    );
    assert!(
        seen.message.contains("simultaneousRing, priorityAlert") && seen.message.contains("R-USER-16"),
        "{}",
        seen.message
    );
    // What the public API reaches is still managed, and Ready does not wait for Control Hub.
    wait_until(Duration::from_secs(30), "DND set", || async {
        feature(sim, &seeded, &id, CallingFeature::DoNotDisturb).await["enabled"] == json!(true)
    })
    .await;
    wait_reason(&client, &ns, "ivy", "InvitePending").await;
    // Nothing was sent to the simulator's Control Hub stand-in (counted before this test reads it).
    let counters = sim.control().counters_for(&seeded.org_id).await.expect("counters");
    assert_eq!(
        counters.total("GET /_sim/hub/people/{personId}/calling/{feature}")
            + counters.total("PUT /_sim/hub/people/{personId}/calling/{feature}"),
        0
    );
    assert_eq!(
        feature(sim, &seeded, &id, CallingFeature::SimultaneousRing).await["enabled"],
        json!(false)
    );
    let events = events_for(&client, &ns, "ivy").await;
    assert!(
        events
            .iter()
            .any(|(kind, reason, _)| kind == "Warning" && reason == "SetInControlHub"),
        "a Warning Event tells the admin: {events:?}"
    );
    // Dropping them from the spec clears the condition.
    apply_user(&client, &ns, "ivy", with(json!({"doNotDisturb": {"enabled": true}}))).await;
    wait_until(Duration::from_secs(30), "condition cleared", || async {
        condition(user(&client, &ns, "ivy").await).is_none()
    })
    .await;
}
