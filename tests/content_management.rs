//! Enterprise content management of a WebexUser end to end (R-USER-9: "assigned automatically
//! when the org uses general access; otherwise chosen per user"), with the real controller, a
//! real apiserver and the simulator over HTTP. Webex has no public API for it: the simulator's
//! `/_sim` endpoints stand in for Control Hub, and against `backend: Webex` the admin is told
//! what to do.

// Test helpers fail by panicking, with the state they saw.
#![allow(clippy::panic)]

mod common;

use std::time::Duration;

use common::operator::{
    OVER_A_RESYNC, SimProcess, apply_user, events_for, ready, ready_org, standard_org, wait_reason, wait_user,
};
use common::traffic::{self, CONTENT_MANAGEMENT_READS};
use common::{setup, wait_until};
use k8s_openapi::api::events::v1::Event as K8sEvent;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::{Value, json};
use webex_operator::api::conditions;
use webex_operator::api::content_management::{
    ContentManagement, ContentManagementAccess, ContentManagementSource, OrgContentManagementStatus,
    UserContentManagementStatus,
};
use webex_operator::api::{WebexOrg, WebexUser};
use webex_operator::sim::control_types::SeededOrg;
use webex_operator::webex::content_management::{
    AssignedBy, ContentAccess, ContentPlatform, OrgContentManagement, PersonContentManagement,
};

const CONDITION: &str = "ContentManagementAssigned";

/// A test org named after the namespace, ready for users.
async fn org(client: &kube::Client, sim: &SimProcess, ns: &str, extra_spec: Value) -> (String, SeededOrg) {
    let domain = format!("{ns}.example");
    let seeded = ready_org(client, sim, ns, standard_org(ns, &domain), extra_spec).await;
    (domain, seeded)
}

/// Sets the org's content management as an admin would in Control Hub.
async fn configure(sim: &SimProcess, seeded: &SeededOrg, access: ContentAccess, platforms: &[ContentPlatform]) {
    let config = OrgContentManagement {
        access,
        platforms: platforms.to_vec(),
    };
    let stored = sim
        .control()
        .set_content_management(&seeded.org_id, &config)
        .await
        .expect("configure content management");
    assert_eq!(stored, config);
}

fn user_spec(ns: &str, domain: &str, name: &str, content: Option<&str>) -> Value {
    let mut spec = json!({"orgRef": {"name": ns}, "email": format!("{name}@{domain}"), "firstName": name,
        "licenses": [{"offerCode": "MS"}]});
    if let Some(content) = content {
        spec["contentManagement"] = json!(content);
    }
    spec
}

async fn person_id(sim: &SimProcess, seeded: &SeededOrg, email: &str) -> String {
    sim.control()
        .person_by_email(&seeded.org_id, email)
        .await
        .expect("people")
        .unwrap_or_else(|| panic!("{email} not in Webex"))
        .id
}

async fn held(sim: &SimProcess, person_id: &str) -> PersonContentManagement {
    sim.control()
        .person_content_management(person_id)
        .await
        .expect("person content management")
}

/// (status, reason, message) of the content-management condition.
fn condition(user: &WebexUser) -> Option<(String, String, String)> {
    let status = user.status.as_ref()?;
    conditions::find(&status.conditions, CONDITION).map(|c| (c.status.clone(), c.reason.clone(), c.message.clone()))
}

fn reported(user: &WebexUser) -> Option<UserContentManagementStatus> {
    user.status.as_ref()?.content_management
}

async fn org_status(client: &kube::Client, ns: &str) -> Option<OrgContentManagementStatus> {
    Api::<WebexOrg>::all(client.clone())
        .get(ns)
        .await
        .expect("WebexOrg")
        .status?
        .content_management
}

/// How often Events with `reason` were published about `name` (series counted).
async fn published(client: &kube::Client, ns: &str, name: &str, reason: &str) -> i32 {
    let api: Api<K8sEvent> = Api::namespaced(client.clone(), ns);
    api.list(&ListParams::default())
        .await
        .expect("list events")
        .items
        .iter()
        .filter(|e| {
            e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name) && e.reason.as_deref() == Some(reason)
        })
        .map(|e| e.series.as_ref().map_or(1, |s| s.count))
        .sum()
}

#[tokio::test]
async fn r_user_9_general_access_assigns_automatically_and_refuses_another_platform() {
    let (client, ns, sim) = setup("cmgeneral").await;
    let (domain, seeded) = org(&client, sim, &ns, json!({})).await;
    // The simulator's default until an admin configures the org: limited access, Webex native
    // storage only.
    wait_until(Duration::from_secs(30), "WebexOrg shows the default", || async {
        org_status(&client, &ns).await
            == Some(OrgContentManagementStatus {
                access: ContentManagementAccess::Limited,
                platforms: vec![],
            })
    })
    .await;
    configure(sim, &seeded, ContentAccess::General, &[ContentPlatform::Microsoft]).await;
    // A spec change makes the org re-read now instead of at its two-minute refresh.
    Api::<WebexOrg>::all(client.clone())
        .patch(
            &ns,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"driftInterval": "10m"}})),
        )
        .await
        .expect("touch WebexOrg");
    wait_until(Duration::from_secs(30), "WebexOrg shows general access", || async {
        org_status(&client, &ns).await
            == Some(OrgContentManagementStatus {
                access: ContentManagementAccess::General,
                platforms: vec![ContentManagement::Microsoft],
            })
    })
    .await;

    // The spec names the org's platform: satisfied without any per-user write.
    apply_user(&client, &ns, "gina", user_spec(&ns, &domain, "gina", Some("Microsoft"))).await;
    let gina = wait_user(
        &client,
        &ns,
        "gina",
        Duration::from_secs(60),
        "reports general access",
        |u| condition(u).is_some_and(|c| c.0 == "True" && c.1 == "GeneralAccess"),
    )
    .await;
    assert_eq!(
        reported(&gina),
        Some(UserContentManagementStatus {
            platform: ContentManagement::Microsoft,
            source: ContentManagementSource::GeneralAccess,
        })
    );
    assert_eq!(ready(&gina).map(|r| r.1), Some("InvitePending".to_string()));
    let gina_id = person_id(sim, &seeded, &format!("gina@{domain}")).await;
    let before = held(sim, &gina_id).await;
    assert_eq!(
        (before.platform, before.assigned_by, before.updates),
        (ContentPlatform::Microsoft, AssignedBy::GeneralAccess, 0)
    );

    // A user that leaves the field out is not managed: no condition, no status field.
    apply_user(&client, &ns, "hugo", user_spec(&ns, &domain, "hugo", None)).await;
    let hugo = wait_reason(&client, &ns, "hugo", "InvitePending").await;
    assert_eq!(condition(&hugo), None);
    assert_eq!(reported(&hugo), None);

    // Another platform than the org's: a clear reason, no write.
    apply_user(&client, &ns, "ivan", user_spec(&ns, &domain, "ivan", Some("Box"))).await;
    let ivan = wait_reason(&client, &ns, "ivan", "ContentManagementGeneralAccess").await;
    let (status, _, message) = ready(&ivan).expect("Ready");
    assert_eq!(status, "False");
    for part in [
        "general access",
        "Microsoft (Microsoft OneDrive/SharePoint) to every user",
        "asks for Box",
        "switch the org to limited access in Control Hub",
        "R-USER-9",
    ] {
        assert!(message.contains(part), "{part:?} not in {message}");
    }
    assert_eq!(
        condition(&ivan).map(|c| (c.0, c.1)),
        Some(("False".into(), "ContentManagementGeneralAccess".into()))
    );
    let ivan_id = person_id(sim, &seeded, &format!("ivan@{domain}")).await;
    assert_eq!(held(sim, &ivan_id).await.updates, 0, "no per-user write");
    assert!(
        events_for(&client, &ns, "ivan")
            .await
            .iter()
            .any(|(kind, reason, _)| kind == "Warning" && reason == "ContentManagementGeneralAccess")
    );

    // The admin switches to limited access in Control Hub: the block clears by itself (no spec
    // change) and Box is chosen for the user.
    configure(
        sim,
        &seeded,
        ContentAccess::Limited,
        &[ContentPlatform::Microsoft, ContentPlatform::Box],
    )
    .await;
    wait_until(Duration::from_secs(30), "Box chosen for ivan", || async {
        let now = held(sim, &ivan_id).await;
        now.platform == ContentPlatform::Box && now.assigned_by == AssignedBy::PerUser
    })
    .await;
    let ivan = wait_reason(&client, &ns, "ivan", "InvitePending").await;
    assert_eq!(
        condition(&ivan).map(|c| (c.0, c.1)),
        Some(("True".into(), "PerUser".into()))
    );
    // Work left over after a block, not drift.
    assert!(
        !events_for(&client, &ns, "ivan")
            .await
            .iter()
            .any(|(_, reason, _)| reason == "DriftDetected")
    );
}

#[tokio::test]
async fn r_user_9_limited_access_assigns_changes_and_corrects_drift() {
    let (client, ns, sim) = setup("cmlimited").await;
    let (domain, seeded) = org(&client, sim, &ns, json!({})).await;
    configure(
        sim,
        &seeded,
        ContentAccess::Limited,
        &[ContentPlatform::Box, ContentPlatform::GoogleDrive],
    )
    .await;

    // Assign.
    let spec = user_spec(&ns, &domain, "lena", Some("Box"));
    apply_user(&client, &ns, "lena", spec.clone()).await;
    let lena = wait_user(&client, &ns, "lena", Duration::from_secs(60), "has Box chosen", |u| {
        reported(u).is_some_and(|r| r.platform == ContentManagement::Box)
    })
    .await;
    assert_eq!(
        reported(&lena).map(|r| r.source),
        Some(ContentManagementSource::PerUser)
    );
    assert_eq!(ready(&lena).map(|r| r.1), Some("InvitePending".to_string()));
    let id = person_id(sim, &seeded, &format!("lena@{domain}")).await;
    let now = held(sim, &id).await;
    assert_eq!(
        (now.platform, now.assigned_by, now.updates),
        (ContentPlatform::Box, AssignedBy::PerUser, 1)
    );
    assert!(
        events_for(&client, &ns, "lena")
            .await
            .iter()
            .any(|(_, reason, note)| reason == "ContentManagementAssigned" && note.contains("Box"))
    );

    // Equal: no write at the next reconcile (the resync, 5 s in tests), which reads the
    // content management again.
    traffic::wait_reconcile_round(sim, &seeded.org_id, CONTENT_MANAGEMENT_READS, "lena's next reconcile").await;
    assert_eq!(held(sim, &id).await.updates, 1, "no write while it holds");

    // Change.
    let mut changed = spec.clone();
    changed["contentManagement"] = json!("GoogleDrive");
    apply_user(&client, &ns, "lena", changed.clone()).await;
    wait_until(Duration::from_secs(30), "Google Drive chosen", || async {
        held(sim, &id).await.platform == ContentPlatform::GoogleDrive
    })
    .await;
    assert_eq!(held(sim, &id).await.updates, 2);

    // Drift: someone picks Webex native storage in Control Hub; the next reconcile corrects it.
    sim.control()
        .set_person_content_management(&id, ContentPlatform::WebexNative)
        .await
        .expect("change by hand");
    wait_until(Duration::from_secs(30), "drift corrected", || async {
        let now = held(sim, &id).await;
        now.platform == ContentPlatform::GoogleDrive && now.updates == 4
    })
    .await;
    assert!(
        events_for(&client, &ns, "lena")
            .await
            .iter()
            .any(|(_, reason, note)| reason == "DriftDetected" && note.contains("content management"))
    );

    // Not offered: a clear reason naming what the org offers, and no write.
    let mut microsoft = changed.clone();
    microsoft["contentManagement"] = json!("Microsoft");
    apply_user(&client, &ns, "lena", microsoft).await;
    let lena = wait_reason(&client, &ns, "lena", "ContentManagementNotOffered").await;
    let message = ready(&lena).expect("Ready").2;
    assert!(
        message.contains("Microsoft (Microsoft OneDrive/SharePoint) is not enabled in the org"),
        "{message}"
    );
    assert!(
        message.contains("it offers: Box, GoogleDrive, None (Webex native storage only)"),
        "{message}"
    );
    let now = held(sim, &id).await;
    assert_eq!((now.platform, now.updates), (ContentPlatform::GoogleDrive, 4));

    // None: explicitly no third-party platform.
    let mut none = changed;
    none["contentManagement"] = json!("None");
    apply_user(&client, &ns, "lena", none).await;
    wait_until(Duration::from_secs(30), "Webex native storage chosen", || async {
        held(sim, &id).await.platform == ContentPlatform::WebexNative
    })
    .await;
    let lena = wait_reason(&client, &ns, "lena", "InvitePending").await;
    assert_eq!(
        reported(&lena),
        Some(UserContentManagementStatus {
            platform: ContentManagement::WebexNativeOnly,
            source: ContentManagementSource::PerUser,
        })
    );
}

#[tokio::test]
async fn r_user_9_against_the_real_service_the_admin_is_told_to_choose_in_control_hub() {
    let (client, ns, sim) = setup("cmreal").await;
    let (domain, seeded) = org(&client, sim, &ns, json!({"backend": "Webex"})).await;
    apply_user(&client, &ns, "otto", user_spec(&ns, &domain, "otto", Some("Box"))).await;
    let otto = wait_user(
        &client,
        &ns,
        "otto",
        Duration::from_secs(60),
        "has the Control Hub condition",
        |u| condition(u).is_some(),
    )
    .await;
    let (status, reason, message) = condition(&otto).expect("condition");
    assert_eq!((status.as_str(), reason.as_str()), ("False", "AssignInControlHub"));
    for part in [
        "no public API",
        "R-USER-9",
        "Control Hub",
        &format!("otto@{domain}"),
        "Box",
    ] {
        assert!(message.contains(part), "{part:?} not in {message}");
    }
    // Ready is not affected; nothing is reported that the backend cannot tell.
    let otto = wait_reason(&client, &ns, "otto", "InvitePending").await;
    assert_eq!(reported(&otto), None);
    assert_eq!(org_status(&client, &ns).await, None);
    // One Warning Event, not one per resync (a repeat would join the Event's series): over a
    // resync with the controller alive throughout (Otto's reconciles make no call to show them,
    // there is no API to call).
    traffic::wait_alive_for(sim, &seeded.org_id, OVER_A_RESYNC).await;
    assert_eq!(published(&client, &ns, "otto", "AssignInControlHub").await, 1);
    // The simulator-only endpoints were not used.
    let id = person_id(sim, &seeded, &format!("otto@{domain}")).await;
    assert_eq!(held(sim, &id).await.updates, 0);
}

#[tokio::test]
async fn r_user_9_report_only_drift_and_observe_only_do_not_write() {
    let (client, ns, sim) = setup("cmreport").await;
    let (domain, seeded) = org(&client, sim, &ns, json!({"driftPolicy": "ReportOnly"})).await;
    configure(sim, &seeded, ContentAccess::Limited, &[ContentPlatform::Box]).await;
    apply_user(&client, &ns, "rita", user_spec(&ns, &domain, "rita", Some("Box"))).await;
    wait_user(&client, &ns, "rita", Duration::from_secs(60), "has Box chosen", |u| {
        reported(u).is_some_and(|r| r.platform == ContentManagement::Box)
    })
    .await;
    let id = person_id(sim, &seeded, &format!("rita@{domain}")).await;
    // Changed by hand: reported at the next reconcile (resync), not corrected.
    sim.control()
        .set_person_content_management(&id, ContentPlatform::WebexNative)
        .await
        .expect("change by hand");
    let rita = wait_reason(&client, &ns, "rita", "DriftDetected").await;
    let message = ready(&rita).expect("Ready").2;
    assert!(
        message.contains("content management Box") && message.contains("ReportOnly"),
        "{message}"
    );
    let now = held(sim, &id).await;
    assert_eq!((now.platform, now.updates), (ContentPlatform::WebexNative, 2));

    // Observe-only on an existing person: says what it would assign, writes nothing.
    let sam = sim
        .control()
        .seed_person(
            &seeded.org_id,
            webex_operator::sim::control_types::PersonSeed::new(format!("sam@{domain}")),
        )
        .await
        .expect("seed sam");
    let spec = json!({"orgRef": {"name": ns}, "email": format!("sam@{domain}"), "managementPolicy": "ObserveOnly",
        "existingUserPolicy": "Adopt", "contentManagement": "Box"});
    apply_user(&client, &ns, "sam", spec).await;
    // The org's listing may predate the seeded person ("would create"): ask for a fresh
    // reconcile until the controller sees Sam.
    let users: Api<WebexUser> = Api::namespaced(client.clone(), &ns);
    let mut message = String::new();
    for round in 0..60 {
        let sam = users.get("sam").await.expect("WebexUser");
        if let Some((_, reason, m)) = ready(&sam) {
            message = m;
            if reason == "ObserveOnly" && message.contains("content management") {
                break;
            }
        }
        if round % 5 == 4 {
            let poke = json!({"metadata": {"annotations": {"webex.operator.io/reconcile-now": round.to_string()}}});
            users
                .patch("sam", &PatchParams::default(), &Patch::Merge(&poke))
                .await
                .expect("poke");
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    assert!(message.contains("would assign the content management Box"), "{message}");
    let untouched = held(sim, &sam.id).await;
    assert_eq!(
        (untouched.platform, untouched.assigned_by, untouched.updates),
        (ContentPlatform::WebexNative, AssignedBy::OrgDefault, 0)
    );
}
