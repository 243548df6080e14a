//! WebexOrg and WebexUser behaviour end to end: the real controller binary against a real
//! kube-apiserver and the simulator binary over HTTP. One simulator and one controller serve
//! every test of this file; each test has its own namespace, Webex org and WebexOrg.

// Test helpers fail by panicking, with the state they saw.
#![allow(clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::operator::{
    SimProcess, apply_user, create_org, events_for, ready, ready_org, ready_reason, standard_org, synced, wait_reason,
};
use common::wait::wait_org_ready;
use common::{setup, traffic, wait_for, wait_until};
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::json;
use webex_operator::api::WebexOrg;
use webex_operator::api::webex_user::UserState;
use webex_operator::sim::control_types::{OrgSeed, PersonSeed, SeededOrg};
use webex_operator::webex::client::{Token, WebexClient};
use webex_operator::webex::ids;
use webex_operator::webex::model::Person;

const PASSWORD: &str = "Harbour-Lights-2026!";

/// A test org named after the namespace, with its domain, ready for users.
async fn org(client: &kube::Client, sim: &SimProcess, ns: &str, extra_spec: serde_json::Value) -> (String, SeededOrg) {
    let domain = format!("{ns}.example");
    let seeded = ready_org(client, sim, ns, standard_org(ns, &domain), extra_spec).await;
    (domain, seeded)
}

async fn person(sim: &SimProcess, org: &SeededOrg, email: &str) -> Option<Person> {
    sim.control()
        .people(&org.org_id)
        .await
        .expect("people")
        .into_iter()
        .find(|p| p.emails.iter().any(|e| e.eq_ignore_ascii_case(email)))
}

fn offer_codes(p: &Person) -> BTreeSet<String> {
    p.licenses.iter().filter_map(|l| ids::license_offer_code(l)).collect()
}

fn role_names(p: &Person) -> BTreeSet<String> {
    p.roles
        .iter()
        .filter_map(|r| ids::decode(r).map(|(_, name)| name))
        .collect()
}

#[tokio::test]
async fn org_reports_token_validity_licences_settings_and_directory_sync() {
    let (client, ns, sim) = setup("org").await;
    let (_, seeded) = org(
        &client,
        sim,
        &ns,
        json!({"settings": {"automaticActivationEmails": false}}),
    )
    .await;
    let org = wait_org_ready(&client, &ns).await;
    let status = org.status.expect("status");
    assert_eq!(status.org_id.as_deref(), Some(seeded.org_id.as_str()));
    assert_eq!(status.directory_sync.as_deref(), Some("Disabled"));
    assert_eq!(status.observed_generation, org.metadata.generation);
    let codes: BTreeSet<&str> = status.licenses.iter().map(|l| l.offer_code.as_str()).collect();
    assert!(
        codes.is_superset(&BTreeSet::from(["MS", "BCPRO", "CJPPRM"])),
        "{codes:?}"
    );
    // R-ORG-1: the setting was turned off in Webex.
    let webex = WebexClient::new(&sim.base_url, Token::new(seeded.admin_token.clone())).unwrap();
    let setting = webex
        .get_org_setting(&seeded.org_id, "allow-admin-invite-emails")
        .await
        .unwrap();
    assert_eq!(setting.value, json!(false));
    assert_eq!(status.automatic_activation_emails, Some(false));
}

#[tokio::test]
async fn org_with_a_wrong_token_or_no_secret_says_so() {
    let (client, ns, sim) = setup("badtoken").await;
    let seeded = sim
        .control()
        .seed_org(OrgSeed::new(&ns, format!("{ns}.example")))
        .await
        .unwrap();
    let orgs: Api<WebexOrg> = Api::all(client.clone());
    let missing = json!({"apiVersion": "webex.operator.io/v1alpha1", "kind": "WebexOrg", "metadata": {"name": format!("{ns}-nosecret")},
        "spec": {"apiBaseUrl": sim.base_url, "backend": "Simulator", "tokenSecretRef": {"name": "absent", "namespace": ns}}});
    orgs.create(&PostParams::default(), &serde_json::from_value(missing).unwrap())
        .await
        .unwrap();
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(client.clone(), &ns);
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "wrong", "namespace": ns}, "stringData": {"token": "not-the-token"}});
    secrets
        .create(&PostParams::default(), &serde_json::from_value(secret).unwrap())
        .await
        .unwrap();
    let wrong = json!({"apiVersion": "webex.operator.io/v1alpha1", "kind": "WebexOrg", "metadata": {"name": format!("{ns}-wrong")},
        "spec": {"apiBaseUrl": sim.base_url, "backend": "Simulator", "tokenSecretRef": {"name": "wrong", "namespace": ns}}});
    orgs.create(&PostParams::default(), &serde_json::from_value(wrong).unwrap())
        .await
        .unwrap();
    for (name, reason) in [
        (format!("{ns}-nosecret"), "TokenSecretMissing"),
        (format!("{ns}-wrong"), "TokenInvalid"),
    ] {
        let what = format!("has Ready reason {reason}");
        wait_for(&orgs, &name, Duration::from_secs(30), &what, |o| {
            ready_reason(o) == reason
        })
        .await;
    }
    let _ = seeded;
}

#[tokio::test]
async fn new_user_is_pending_until_first_sign_in_then_active() {
    let (client, ns, sim) = setup("pending").await;
    let (domain, seeded) = org(&client, sim, &ns, json!({})).await;
    let email = format!("alice@{domain}");
    apply_user(
        &client,
        &ns,
        "alice",
        json!({"orgRef": {"name": ns}, "email": email, "firstName": "Alice", "lastName": "Archer"}),
    )
    .await;
    // R-USER-10: pending until the first sign-in.
    let user = wait_reason(&client, &ns, "alice", "InvitePending").await;
    let status = user.status.clone().unwrap();
    assert_eq!(status.state, Some(UserState::Pending));
    assert_eq!(ready(&user).unwrap().0, "False");
    assert_eq!(synced(&user).as_deref(), Some("True"));
    let created = person(sim, &seeded, &email).await.expect("person created in Webex");
    assert_eq!(status.person_id.as_deref(), Some(created.id.as_str()));
    assert_eq!(created.invite_pending, Some(true));
    assert_eq!(created.first_name.as_deref(), Some("Alice"));
    assert!(
        events_for(&client, &ns, "alice")
            .await
            .iter()
            .any(|(_, reason, _)| reason == "Created")
    );

    sim.control().sign_in(&email, PASSWORD).await.expect("sign in");
    let user = wait_reason(&client, &ns, "alice", "Active").await;
    assert_eq!(ready(&user).unwrap().0, "True");
    assert_eq!(user.status.as_ref().unwrap().state, Some(UserState::Active));
    assert_eq!(
        user.status.as_ref().unwrap().observed_generation,
        user.metadata.generation
    );
    let counters = sim.control().counters_for(&seeded.org_id).await.unwrap();
    assert_eq!(counters.get("POST /v1/people", 200), 1, "one create");
}

#[tokio::test]
async fn licences_calling_contact_center_supervisor_and_roles_reach_webex() {
    let (client, ns, sim) = setup("licences").await;
    let (domain, seeded) = org(&client, sim, &ns, json!({})).await;
    let base = |name: &str| json!({"orgRef": {"name": ns}, "email": format!("{name}@{domain}"), "firstName": name, "lastName": "Tester"});
    let mut bob = base("bob");
    bob["licenses"] = json!([{"offerCode": "MS"}, {"offerCode": "EE"}]);
    let mut carol = base("carol");
    carol["calling"] = json!({"offerCode": "BCPRO", "phoneNumber": "+14085550101", "extension": "5101"});
    let mut dave = base("dave");
    dave["contactCenter"] = json!({"type": "PremiumSupervisor"});
    let mut frank = base("frank");
    frank["adminRoles"] = json!(["UserAdministrator", "ContactCenterServiceAdministrator"]);
    frank["contactCenter"] = json!({"type": "Standard"});
    for (name, spec) in [("bob", bob), ("carol", carol), ("dave", dave), ("frank", frank)] {
        apply_user(&client, &ns, name, spec).await;
    }
    for name in ["bob", "carol", "dave", "frank"] {
        wait_reason(&client, &ns, name, "InvitePending").await;
    }
    let bob = person(sim, &seeded, &format!("bob@{domain}")).await.unwrap();
    assert_eq!(offer_codes(&bob), BTreeSet::from(["MS".into(), "EE".into()]));
    // R-USER-7: the Calling licence carries the number and extension.
    let carol = person(sim, &seeded, &format!("carol@{domain}")).await.unwrap();
    assert_eq!(offer_codes(&carol), BTreeSet::from(["BCPRO".into()]));
    assert!(
        carol.phone_numbers.iter().any(|p| p.value == "+14085550101"),
        "{:?}",
        carol.phone_numbers
    );
    assert_eq!(carol.extension.as_deref(), Some("5101"));
    // R-CC-1: Premium + supervisor role; R-USER-12: roles after creation.
    let dave = person(sim, &seeded, &format!("dave@{domain}")).await.unwrap();
    assert_eq!(offer_codes(&dave), BTreeSet::from(["CJPPRM".into()]));
    assert!(
        role_names(&dave).contains("id_cjp_supervisor"),
        "{:?}",
        role_names(&dave)
    );
    let frank = person(sim, &seeded, &format!("frank@{domain}")).await.unwrap();
    assert_eq!(offer_codes(&frank), BTreeSet::from(["CJPSTD".into()]));
    assert!(role_names(&frank).is_superset(&BTreeSet::from(["id_user_admin".into(), "id_cjp_admin".into()])));
    let user = wait_reason(&client, &ns, "bob", "InvitePending").await;
    let effective: BTreeSet<String> = user
        .status
        .unwrap()
        .effective_licenses
        .into_iter()
        .map(|l| format!("{}:{}", l.offer_code, l.source))
        .collect();
    assert_eq!(effective, BTreeSet::from(["MS:Manual".into(), "EE:Manual".into()]));
    assert!(
        events_for(&client, &ns, "dave")
            .await
            .iter()
            .any(|(_, reason, _)| reason == "LicensesChanged")
    );

    // Premium -> Standard: the group owned by contactCenter switches, supervisor role goes (R-CC-2/3).
    apply_user(&client, &ns, "dave", json!({"orgRef": {"name": ns}, "email": format!("dave@{domain}"), "firstName": "dave", "lastName": "Tester", "contactCenter": {"type": "Standard"}})).await;
    wait_until(
        Duration::from_secs(30),
        "dave is a Standard agent without the supervisor role",
        || async {
            let p = person(sim, &seeded, &format!("dave@{domain}")).await.unwrap();
            offer_codes(&p) == BTreeSet::from(["CJPSTD".into()]) && !role_names(&p).contains("id_cjp_supervisor")
        },
    )
    .await;
}

#[tokio::test]
async fn removing_a_licence_removes_only_what_the_operator_manages() {
    let (client, ns, sim) = setup("removal").await;
    let (domain, seeded) = org(&client, sim, &ns, json!({})).await;
    let email = format!("bob@{domain}");
    let spec = |codes: &[&str]| json!({"orgRef": {"name": ns}, "email": email, "firstName": "Bob", "licenses": codes.iter().map(|c| json!({"offerCode": c})).collect::<Vec<_>>()});
    apply_user(&client, &ns, "bob", spec(&["MS", "EE"])).await;
    wait_reason(&client, &ns, "bob", "InvitePending").await;
    // Someone gives Bob a Calling Standard licence by hand in Control Hub.
    let webex = WebexClient::new(&sim.base_url, Token::new(seeded.admin_token.clone())).unwrap();
    let p = person(sim, &seeded, &email).await.unwrap();
    let by_hand = webex_operator::webex::model::PatchUserLicenses {
        person_id: Some(p.id.clone()),
        licenses: vec![webex_operator::webex::model::LicenseRequest {
            id: seeded.license_id("BCSTD").unwrap().to_string(),
            operation: Default::default(),
            properties: Some(webex_operator::webex::model::LicenseProperties {
                extension: Some("7777".into()),
                location_id: seeded.location_id("Headquarters").map(str::to_string),
                phone_number: None,
            }),
        }],
        ..Default::default()
    };
    webex.patch_user_licenses(&by_hand).await.expect("manual licence");
    apply_user(&client, &ns, "bob", spec(&["MS"])).await;
    wait_until(Duration::from_secs(30), "EE is removed", || async {
        offer_codes(&person(sim, &seeded, &email).await.unwrap()) == BTreeSet::from(["MS".into(), "BCSTD".into()])
    })
    .await;
}

#[tokio::test]
async fn existing_person_is_adopted_or_refused_by_policy() {
    let (client, ns, sim) = setup("adopt").await;
    let (domain, seeded) = org(&client, sim, &ns, json!({})).await;
    for name in ["adopted", "refused"] {
        sim.control()
            .seed_person(
                &seeded.org_id,
                PersonSeed::new(format!("{name}@{domain}"))
                    .named("Pre", "Existing")
                    .signed_in(),
            )
            .await
            .unwrap();
    }
    let before = sim
        .control()
        .counters_for(&seeded.org_id)
        .await
        .unwrap()
        .total("POST /v1/people");
    apply_user(
        &client,
        &ns,
        "adopted",
        json!({"orgRef": {"name": ns}, "email": format!("adopted@{domain}")}),
    )
    .await;
    apply_user(&client, &ns, "refused", json!({"orgRef": {"name": ns}, "email": format!("refused@{domain}"), "firstName": "Changed", "existingUserPolicy": "Refuse"})).await;
    let adopted = wait_reason(&client, &ns, "adopted", "Active").await;
    assert_eq!(adopted.status.as_ref().unwrap().adopted, Some(true));
    assert!(
        events_for(&client, &ns, "adopted")
            .await
            .iter()
            .any(|(_, reason, _)| reason == "Adopted")
    );
    let refused = wait_reason(&client, &ns, "refused", "AlreadyExistsInOrg").await;
    assert!(ready(&refused).unwrap().2.contains("R-USER-3"));
    assert_eq!(
        person(sim, &seeded, &format!("refused@{domain}"))
            .await
            .unwrap()
            .first_name
            .as_deref(),
        Some("Pre"),
        "a refused person is not touched"
    );
    assert_eq!(
        sim.control()
            .counters_for(&seeded.org_id)
            .await
            .unwrap()
            .total("POST /v1/people"),
        before,
        "no create for existing people"
    );
}

#[tokio::test]
async fn conflicts_with_other_orgs_and_directory_sync_get_their_own_reasons() {
    let (client, ns, sim) = setup("conflicts").await;
    let (_, seeded) = org(&client, sim, &ns, json!({})).await;
    let mut trial = OrgSeed::new(format!("{ns}-trial"), format!("{ns}-trial.example"));
    trial.trial = true;
    let trial = sim.control().seed_org(trial).await.unwrap();
    sim.control()
        .seed_person(&trial.org_id, PersonSeed::new(format!("pat@{ns}-trial.example")))
        .await
        .unwrap();
    let other = sim
        .control()
        .seed_org(OrgSeed::new(format!("{ns}-other"), format!("{ns}-other.example")))
        .await
        .unwrap();
    sim.control()
        .seed_person(
            &other.org_id,
            PersonSeed::new(format!("sam@{ns}-other.example")).signed_in(),
        )
        .await
        .unwrap();
    apply_user(
        &client,
        &ns,
        "pat",
        json!({"orgRef": {"name": ns}, "email": format!("pat@{ns}-trial.example")}),
    )
    .await;
    apply_user(
        &client,
        &ns,
        "sam",
        json!({"orgRef": {"name": ns}, "email": format!("sam@{ns}-other.example")}),
    )
    .await;
    // R-USER-4 and R-USER-3.
    let pat = wait_reason(&client, &ns, "pat", "TrialOrgOwnsEmail").await;
    assert!(ready(&pat).unwrap().2.contains("trial"), "{:?}", ready(&pat));
    let sam = wait_reason(&client, &ns, "sam", "ExistsInOtherOrg").await;
    assert!(ready(&sam).unwrap().2.contains("UserClaim"), "{:?}", ready(&sam));
    assert!(
        events_for(&client, &ns, "sam")
            .await
            .iter()
            .any(|(t, reason, _)| t == "Warning" && reason == "ExistsInOtherOrg")
    );
    // Terminal: no hot retry loop. Three more drift listings of the org (about three seconds of
    // a live controller, within the hold on refused writes) cause no further create.
    let posts = sim
        .control()
        .counters_for(&seeded.org_id)
        .await
        .unwrap()
        .total("POST /v1/people");
    assert_eq!(posts, 2, "one refused create each");
    let later = traffic::wait_drift_listings(sim, &seeded.org_id, 3).await;
    assert_eq!(later.total("POST /v1/people"), posts);

    // R-ORG-2: a directory-sync org refuses manual adds, before any call.
    let mut synced_seed = standard_org(&format!("{ns}-ds"), &format!("{ns}-ds.example"));
    synced_seed.directory_sync = true;
    let ds = create_org(&client, sim, &ns, &format!("{ns}-ds"), synced_seed, json!({})).await;
    let ds_org = wait_org_ready(&client, &format!("{ns}-ds")).await;
    assert_eq!(ds_org.status.unwrap().directory_sync.as_deref(), Some("Enabled"));
    apply_user(
        &client,
        &ns,
        "dora",
        json!({"orgRef": {"name": format!("{ns}-ds")}, "email": format!("dora@{ns}-ds.example")}),
    )
    .await;
    wait_reason(&client, &ns, "dora", "OrgUsesDirectorySync").await;
    assert!(person(sim, &ds, &format!("dora@{ns}-ds.example")).await.is_none());
}

#[tokio::test]
async fn names_update_and_a_terminal_error_waits_for_the_spec_fix() {
    let (client, ns, sim) = setup("update").await;
    let (domain, seeded) = org(&client, sim, &ns, json!({})).await;
    let email = format!("gina@{domain}");
    apply_user(
        &client,
        &ns,
        "gina",
        json!({"orgRef": {"name": ns}, "email": email, "firstName": "Gina", "licenses": [{"offerCode": "NOPE"}]}),
    )
    .await;
    let user = wait_reason(&client, &ns, "gina", "LicenseNotInOrg").await;
    assert!(ready(&user).unwrap().2.contains("NOPE"));
    apply_user(&client, &ns, "gina", json!({"orgRef": {"name": ns}, "email": email, "firstName": "Gina", "lastName": "Garcia", "licenses": [{"offerCode": "MS"}]})).await;
    wait_reason(&client, &ns, "gina", "InvitePending").await;
    apply_user(&client, &ns, "gina", json!({"orgRef": {"name": ns}, "email": email, "firstName": "Georgina", "lastName": "Garcia", "licenses": [{"offerCode": "MS"}]})).await;
    wait_until(
        Duration::from_secs(30),
        "the first name is updated in Webex",
        || async { person(sim, &seeded, &email).await.unwrap().first_name.as_deref() == Some("Georgina") },
    )
    .await;
    // The Event follows the write: wait for it rather than race it.
    wait_until(Duration::from_secs(10), "an Updated Event is published", || async {
        events_for(&client, &ns, "gina")
            .await
            .iter()
            .any(|(_, reason, _)| reason == "Updated")
    })
    .await;
}

#[tokio::test]
async fn deletion_policies_delete_deactivate_remove_licences_or_orphan() {
    let (client, ns, sim) = setup("deletion").await;
    let (domain, seeded) = org(&client, sim, &ns, json!({})).await;
    for policy in ["Delete", "Deactivate", "RemoveLicenses", "Orphan"] {
        let name = policy.to_ascii_lowercase();
        apply_user(&client, &ns, &name, json!({"orgRef": {"name": ns}, "email": format!("{name}@{domain}"), "firstName": name, "licenses": [{"offerCode": "MS"}], "deletionPolicy": policy})).await;
    }
    for policy in ["Delete", "Deactivate", "RemoveLicenses", "Orphan"] {
        wait_reason(&client, &ns, &policy.to_ascii_lowercase(), "InvitePending").await;
    }
    let api: Api<webex_operator::api::WebexUser> = Api::namespaced(client.clone(), &ns);
    for policy in ["Delete", "Deactivate", "RemoveLicenses", "Orphan"] {
        api.delete(&policy.to_ascii_lowercase(), &DeleteParams::default())
            .await
            .unwrap();
    }
    wait_until(Duration::from_secs(30), "the finalizers ran", || async {
        api.list(&Default::default()).await.unwrap().items.is_empty()
    })
    .await;
    assert!(
        person(sim, &seeded, &format!("delete@{domain}")).await.is_none(),
        "Delete removes the person"
    );
    let deactivated = person(sim, &seeded, &format!("deactivate@{domain}"))
        .await
        .expect("Deactivate keeps the person");
    assert_eq!(deactivated.login_enabled, Some(false));
    assert!(deactivated.licenses.is_empty());
    let unlicensed = person(sim, &seeded, &format!("removelicenses@{domain}"))
        .await
        .expect("RemoveLicenses keeps the person");
    assert!(unlicensed.licenses.is_empty());
    assert_ne!(unlicensed.login_enabled, Some(false));
    let orphan = person(sim, &seeded, &format!("orphan@{domain}"))
        .await
        .expect("Orphan keeps the person");
    assert_eq!(offer_codes(&orphan), BTreeSet::from(["MS".into()]));
}

#[tokio::test]
async fn the_pause_annotation_holds_an_object_until_removed() {
    let (client, ns, sim) = setup("paused").await;
    let (domain, seeded) = org(&client, sim, &ns, json!({})).await;
    let email = format!("hal@{domain}");
    let api: Api<webex_operator::api::WebexUser> = Api::namespaced(client.clone(), &ns);
    let paused = json!({"apiVersion": "webex.operator.io/v1alpha1", "kind": "WebexUser",
        "metadata": {"name": "hal", "namespace": ns, "annotations": {"webex.operator.io/paused": "true"}},
        "spec": {"orgRef": {"name": ns}, "email": email}});
    api.patch(
        "hal",
        &kube::api::PatchParams::apply("test"),
        &kube::api::Patch::Apply(&paused),
    )
    .await
    .unwrap();
    wait_reason(&client, &ns, "hal", "Paused").await;
    // Two drift listings of the org later (the controller is alive and looked at Webex again).
    traffic::wait_drift_listings(sim, &seeded.org_id, 2).await;
    assert!(
        person(sim, &seeded, &email).await.is_none(),
        "nothing is written while paused"
    );
    let resumed = json!({"apiVersion": "webex.operator.io/v1alpha1", "kind": "WebexUser",
        "metadata": {"name": "hal", "namespace": ns, "annotations": {"webex.operator.io/paused": "false"}},
        "spec": {"orgRef": {"name": ns}, "email": email}});
    api.patch(
        "hal",
        &kube::api::PatchParams::apply("test"),
        &kube::api::Patch::Apply(&resumed),
    )
    .await
    .unwrap();
    wait_reason(&client, &ns, "hal", "InvitePending").await;
    assert!(person(sim, &seeded, &email).await.is_some());
}

#[tokio::test]
async fn tenancy_refuses_namespaces_and_domains_outside_the_grant_without_calling_webex() {
    let (client, ns, sim) = setup("tenancy").await;
    let domain = format!("{ns}.example");
    let other_ns = common::temp_namespace(&client, "tenancy-other").await;
    let grants = json!({"tenants": [{"namespace": ns, "emailDomains": [domain]}]});
    let seeded = ready_org(&client, sim, &ns, standard_org(&ns, &domain), grants).await;
    let before = sim.control().counters_for(&seeded.org_id).await.unwrap();
    apply_user(
        &client,
        &ns,
        "wrongdomain",
        json!({"orgRef": {"name": ns}, "email": "x@elsewhere.example"}),
    )
    .await;
    apply_user(
        &client,
        &other_ns,
        "wrongns",
        json!({"orgRef": {"name": ns}, "email": format!("y@{domain}")}),
    )
    .await;
    let wrong_domain = wait_reason(&client, &ns, "wrongdomain", "NotPermitted").await;
    assert!(ready(&wrong_domain).unwrap().2.contains("elsewhere.example"));
    let wrong_ns = wait_reason(&client, &other_ns, "wrongns", "NotPermitted").await;
    assert!(ready(&wrong_ns).unwrap().2.contains(&other_ns));
    let after = sim.control().counters_for(&seeded.org_id).await.unwrap();
    assert_eq!(
        after.total("POST /v1/people"),
        before.total("POST /v1/people"),
        "no create"
    );
    assert_eq!(
        after.total("GET /v1/people"),
        before.total("GET /v1/people"),
        "not even a lookup"
    );
    apply_user(
        &client,
        &ns,
        "granted",
        json!({"orgRef": {"name": ns}, "email": format!("z@{}", domain.to_uppercase())}),
    )
    .await;
    wait_reason(&client, &ns, "granted", "InvitePending").await;
}

#[tokio::test]
async fn observe_only_reports_what_would_change_and_writes_nothing() {
    let (client, ns, sim) = setup("observe").await;
    let (domain, seeded) = org(&client, sim, &ns, json!({})).await;
    sim.control()
        .seed_person(
            &seeded.org_id,
            PersonSeed::new(format!("olga@{domain}"))
                .named("Olga", "Old")
                .signed_in(),
        )
        .await
        .unwrap();
    apply_user(&client, &ns, "olga", json!({"orgRef": {"name": ns}, "email": format!("olga@{domain}"), "firstName": "Olga", "lastName": "New", "licenses": [{"offerCode": "MS"}], "managementPolicy": "ObserveOnly"})).await;
    apply_user(
        &client,
        &ns,
        "nobody",
        json!({"orgRef": {"name": ns}, "email": format!("nobody@{domain}"), "managementPolicy": "ObserveOnly"}),
    )
    .await;
    let olga = wait_reason(&client, &ns, "olga", "ObserveOnly").await;
    let message = ready(&olga).unwrap().2;
    assert!(message.contains("licences") && message.contains("names"), "{message}");
    let nobody = wait_reason(&client, &ns, "nobody", "ObserveOnly").await;
    assert!(ready(&nobody).unwrap().2.contains("would create"));
    let counters = sim.control().counters_for(&seeded.org_id).await.unwrap();
    let writes: u64 = counters
        .endpoints
        .iter()
        .filter(|(e, _)| !e.starts_with("GET "))
        .map(|(_, m)| m.values().sum::<u64>())
        .sum();
    assert_eq!(writes, 0, "observe-only writes nothing: {counters:?}");
    let p = person(sim, &seeded, &format!("olga@{domain}")).await.unwrap();
    assert_eq!(p.last_name.as_deref(), Some("Old"));
    assert!(person(sim, &seeded, &format!("nobody@{domain}")).await.is_none());
}

#[tokio::test]
async fn drift_made_in_control_hub_is_reported_then_corrected_or_only_reported() {
    let (client, ns, sim) = setup("drift").await;
    let (domain, seeded) = org(&client, sim, &ns, json!({})).await;
    let webex = WebexClient::new(&sim.base_url, Token::new(seeded.admin_token.clone())).unwrap();
    let email = format!("dora@{domain}");
    apply_user(
        &client,
        &ns,
        "dora",
        json!({"orgRef": {"name": ns}, "email": email, "firstName": "Dora", "licenses": [{"offerCode": "MS"}]}),
    )
    .await;
    wait_reason(&client, &ns, "dora", "InvitePending").await;
    // An admin renames Dora and takes her licence away in Control Hub.
    let p = person(sim, &seeded, &email).await.unwrap();
    let mut body = webex_operator::webex::model::PersonWrite {
        emails: p.emails.clone(),
        display_name: Some("Changed".into()),
        first_name: Some("Changed".into()),
        licenses: Some(vec![]),
        ..Default::default()
    };
    webex.update_person(&p.id, &body).await.unwrap();
    wait_until(Duration::from_secs(30), "the drift is corrected", || async {
        let p = person(sim, &seeded, &email).await.unwrap();
        p.first_name.as_deref() == Some("Dora") && offer_codes(&p) == BTreeSet::from(["MS".into()])
    })
    .await;
    let events = events_for(&client, &ns, "dora").await;
    assert!(
        events
            .iter()
            .any(|(t, reason, _)| t == "Warning" && reason == "DriftDetected"),
        "{events:#?}"
    );

    // The same under ReportOnly: reported, left as it is.
    let report_ns = common::temp_namespace(&client, "drift-report").await;
    let report_domain = format!("{report_ns}.example");
    let report_org = ready_org(
        &client,
        sim,
        &report_ns,
        standard_org(&report_ns, &report_domain),
        json!({"driftPolicy": "ReportOnly"}),
    )
    .await;
    let email = format!("rita@{report_domain}");
    apply_user(
        &client,
        &report_ns,
        "rita",
        json!({"orgRef": {"name": report_ns}, "email": email, "firstName": "Rita"}),
    )
    .await;
    wait_reason(&client, &report_ns, "rita", "InvitePending").await;
    let webex = WebexClient::new(&sim.base_url, Token::new(report_org.admin_token.clone())).unwrap();
    let p = person(sim, &report_org, &email).await.unwrap();
    body.emails = p.emails.clone();
    body.licenses = None;
    webex.update_person(&p.id, &body).await.unwrap();
    let rita = wait_reason(&client, &report_ns, "rita", "DriftDetected").await;
    assert!(ready(&rita).unwrap().2.contains("ReportOnly"));
    // Two more drift listings: each sees the change again and hands Rita to the reconciler.
    traffic::wait_drift_listings(sim, &report_org.org_id, 2).await;
    assert_eq!(
        person(sim, &report_org, &email).await.unwrap().first_name.as_deref(),
        Some("Changed"),
        "left as it is"
    );
}

#[tokio::test]
async fn mass_deprovisioning_is_held_until_each_object_is_approved() {
    let (client, ns, sim) = setup("guard").await;
    let guard = json!({"deprovisioningGuard": {"maxOperations": 2, "window": "1h"}});
    let (domain, seeded) = org(&client, sim, &ns, guard).await;
    let names = ["g0", "g1", "g2", "g3"];
    for name in names {
        apply_user(
            &client,
            &ns,
            name,
            json!({"orgRef": {"name": ns}, "email": format!("{name}@{domain}")}),
        )
        .await;
    }
    for name in names {
        wait_reason(&client, &ns, name, "InvitePending").await;
    }
    let api: Api<webex_operator::api::WebexUser> = Api::namespaced(client.clone(), &ns);
    for name in names {
        api.delete(name, &DeleteParams::default()).await.unwrap();
    }
    let mut held = Vec::new();
    wait_until(
        Duration::from_secs(30),
        "two deletions went through and two are held",
        || {
            let api = api.clone();
            async move {
                let left = api.list(&Default::default()).await.unwrap().items;
                left.len() == 2 && left.iter().all(|u| ready_reason(u) == "DeprovisioningHeld")
            }
        },
    )
    .await;
    for user in api.list(&Default::default()).await.unwrap().items {
        held.push(user.metadata.name.clone().unwrap());
        assert!(ready(&user).unwrap().2.contains("approve-deprovisioning"));
    }
    let people = sim.control().people(&seeded.org_id).await.unwrap();
    let remaining: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| people.iter().any(|p| p.emails[0].starts_with(&format!("{n}@"))))
        .collect();
    assert_eq!(remaining, held, "only the held ones still exist in Webex");
    // The WebexOrg (cluster-scoped: its Events land in "default") names each held object.
    let org_events = events_for(&client, "default", &ns).await;
    for name in &held {
        assert!(
            org_events.iter().any(|(t, reason, note)| t == "Warning"
                && reason == "DeprovisioningHeld"
                && note.contains(name.as_str())),
            "{org_events:#?}"
        );
    }
    // Approving one releases exactly that one.
    let approve = json!({"metadata": {"annotations": {"webex.operator.io/approve-deprovisioning": "true"}}});
    api.patch(
        &held[0],
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(&approve),
    )
    .await
    .unwrap();
    wait_until(Duration::from_secs(30), "the approved deletion runs", || {
        let api = api.clone();
        let name = held[0].clone();
        async move { api.get_opt(&name).await.unwrap().is_none() }
    })
    .await;
    assert!(api.get_opt(&held[1]).await.unwrap().is_some(), "the other stays held");
}

#[tokio::test]
async fn reconcile_now_and_the_org_default_refuse_policy() {
    let (client, ns, sim) = setup("policies").await;
    let (domain, seeded) = org(&client, sim, &ns, json!({"defaultExistingUserPolicy": "Refuse"})).await;
    sim.control()
        .seed_person(&seeded.org_id, PersonSeed::new(format!("pre@{domain}")).signed_in())
        .await
        .unwrap();
    // The org's default applies when the object says nothing.
    apply_user(
        &client,
        &ns,
        "pre",
        json!({"orgRef": {"name": ns}, "email": format!("pre@{domain}")}),
    )
    .await;
    wait_reason(&client, &ns, "pre", "AlreadyExistsInOrg").await;
    // The object's own policy wins over the org's.
    apply_user(
        &client,
        &ns,
        "pre",
        json!({"orgRef": {"name": ns}, "email": format!("pre@{domain}"), "existingUserPolicy": "Adopt"}),
    )
    .await;
    wait_reason(&client, &ns, "pre", "Active").await;

    // reconcile-now: a person deleted in Webex comes back at once when asked, without waiting
    // for the (here very long) drift interval of this org.
    let slow_ns = common::temp_namespace(&client, "policies-slow").await;
    let slow_domain = format!("{slow_ns}.example");
    let slow = ready_org(
        &client,
        sim,
        &slow_ns,
        standard_org(&slow_ns, &slow_domain),
        json!({"driftInterval": "1h"}),
    )
    .await;
    let email = format!("ron@{slow_domain}");
    apply_user(
        &client,
        &slow_ns,
        "ron",
        json!({"orgRef": {"name": slow_ns}, "email": email}),
    )
    .await;
    wait_reason(&client, &slow_ns, "ron", "InvitePending").await;
    let webex = WebexClient::new(&sim.base_url, Token::new(slow.admin_token.clone())).unwrap();
    let gone = person(sim, &slow, &email).await.unwrap();
    webex.delete_person(&gone.id).await.unwrap();
    // Two rounds of the drift detector over the orgs (shown by the first org of this test, due
    // every second); the slow org is not due.
    traffic::wait_drift_listings(sim, &seeded.org_id, 2).await;
    assert!(
        person(sim, &slow, &email).await.is_none(),
        "nothing notices before the drift interval"
    );
    let api: Api<webex_operator::api::WebexUser> = Api::namespaced(client.clone(), &slow_ns);
    let now = json!({"metadata": {"annotations": {"webex.operator.io/reconcile-now": "1"}}});
    api.patch(
        "ron",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(&now),
    )
    .await
    .unwrap();
    wait_until(Duration::from_secs(20), "the person is back", || async {
        person(sim, &slow, &email).await.is_some()
    })
    .await;
}
