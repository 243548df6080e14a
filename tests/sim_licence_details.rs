//! The simulator's licence-detail endpoints over HTTP (in-process simulator): Calling person
//! settings (R-USER-16) and the R-USER-11 fault, the simulator-only Contact Center sync (R-CC-6),
//! and Meetings tracking codes (R-USER-8), whose answers are validated against
//! `tests/webex-openapi/webex-meeting.json`.

mod common;

use std::sync::OnceLock;

use common::openapi::{self, Spec};
use reqwest::Method;
use serde_json::{Value, json};
use webex_operator::sim::calling::CallingFault;
use webex_operator::sim::control_types::{LicenseSeed, OrgSeed, PersonSeed, SeededOrg};
use webex_operator::sim::{self, RunningSim, SimConfig};
use webex_operator::webex::model::{LicenseOperation, LicenseProperties, LicenseRequest, PatchUserLicenses};

const SITE: &str = "acme.webex.com";

/// The Meetings SPEC as JSON Schema (`common::openapi`).
fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| Spec::load("webex-meeting.json"))
}

fn assert_conforms(method: &str, path: &str, status: u16, body: &Value) {
    let root = spec().response_root(method, path, status);
    assert!(
        root.is_object(),
        "webex-meeting.json has no schema for {method} {path} {status}"
    );
    let errors = openapi::violations(&spec().json_schema(root, |_| {}), body);
    assert!(errors.is_empty(), "{method} {path} {status}: {errors:#?}\n{body:#}");
}

struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = &body {
            req = req.json(b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("JSON")
        };
        (status, value)
    }
}

async fn start() -> (RunningSim, SeededOrg, Api) {
    webex_operator::tls::install_crypto_provider();
    let sim = sim::start(SimConfig {
        listen: "127.0.0.1:0".parse().expect("address"),
        state_file: None,
        tls: None,
    })
    .await
    .expect("simulator");
    let mut meetings = LicenseSeed::new("EE", "Webex Meetings Suite", 20);
    meetings.site_url = Some(SITE.into());
    let seed = OrgSeed::new("Acme", "acme.test")
        .with_location("HQ")
        .with_license(LicenseSeed::new("BCPRO", "Webex Calling - Professional", 10))
        .with_license(LicenseSeed::new("MS", "Messaging", 10))
        .with_license(LicenseSeed::new("CJPSTD", "Contact center Standard Agent", 10))
        .with_license(LicenseSeed::new("CJPPRM", "Contact Center Premium Agent", 10))
        .with_license(meetings);
    let org = sim.control().seed_org(seed).await.expect("seed");
    let api = Api {
        base: sim.base_url.clone(),
        token: org.admin_token.clone(),
        http: reqwest::Client::new(),
    };
    (sim, org, api)
}

/// A person of the org, with a Calling licence (extension 5101 at HQ) when `calling`.
async fn person(sim: &RunningSim, org: &SeededOrg, api: &Api, email: &str, calling: bool) -> String {
    let p = sim
        .control()
        .seed_person(&org.org_id, PersonSeed::new(email).named("Pat", "Doe"))
        .await
        .expect("person");
    if calling {
        patch_calling(org, api, &p.id, LicenseOperation::Add).await;
    }
    p.id
}

async fn patch_calling(org: &SeededOrg, api: &Api, person_id: &str, operation: LicenseOperation) {
    let properties = (operation == LicenseOperation::Add).then(|| LicenseProperties {
        location_id: org.location_id("HQ").map(str::to_string),
        phone_number: None,
        extension: Some("5101".into()),
    });
    let body = PatchUserLicenses {
        person_id: Some(person_id.to_string()),
        licenses: vec![LicenseRequest {
            id: org.license_id("BCPRO").expect("BCPRO").to_string(),
            operation,
            properties,
        }],
        ..Default::default()
    };
    let (status, answer) = api
        .call(
            Method::PATCH,
            "/v1/licenses/users",
            Some(serde_json::to_value(&body).expect("body")),
        )
        .await;
    assert_eq!(status, 200, "{answer:#}");
}

#[tokio::test]
async fn calling_settings_read_and_partial_writes() {
    let (sim, org, api) = start().await;
    let id = person(&sim, &org, &api, "carol@acme.test", true).await;
    let dnd = format!("/v1/people/{id}/features/doNotDisturb");
    let (status, body) = api.call(Method::GET, &dnd, None).await;
    assert_eq!(status, 200);
    assert_eq!(body["enabled"], json!(false));
    // A partial PUT (204) changes what it names, nothing else.
    let (status, body) = api
        .call(Method::PUT, &dnd, Some(json!({"ringSplashEnabled": true})))
        .await;
    assert_eq!((status, body), (204, Value::Null));
    let (_, body) = api.call(Method::PUT, &dnd, Some(json!({"enabled": true}))).await;
    assert_eq!(body, Value::Null);
    let (_, body) = api.call(Method::GET, &dnd, None).await;
    assert_eq!(
        (body["enabled"].clone(), body["ringSplashEnabled"].clone()),
        (json!(true), json!(true))
    );

    // Forwarding: nested partial writes; enabling needs a destination; rings within 2..20.
    let fwd = format!("/v1/people/{id}/features/callForwarding");
    let (status, body) = api
        .call(
            Method::PUT,
            &fwd,
            Some(json!({"callForwarding": {"busy": {"enabled": true}}})),
        )
        .await;
    assert_eq!(status, 400, "{body:#}");
    assert!(body["message"].as_str().unwrap_or_default().contains("destination"));
    let (status, _) = api
        .call(
            Method::PUT,
            &fwd,
            Some(json!({"callForwarding": {"busy": {"enabled": true, "destination": "+14085550199"}}})),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = api
        .call(
            Method::PUT,
            &fwd,
            Some(json!({"callForwarding": {"noAnswer": {"numberOfRings": 30}}})),
        )
        .await;
    assert_eq!(status, 400);
    let (_, body) = api.call(Method::GET, &fwd, None).await;
    assert_eq!(body["callForwarding"]["busy"]["destination"], json!("+14085550199"));
    assert_eq!(body["callForwarding"]["noAnswer"]["numberOfRings"], json!(3));
    assert_eq!(body["businessContinuity"]["enabled"], json!(false));

    // Unknown fields, wrong types, read-only fields: 400; nothing changes.
    for bad in [json!({"enabled": "yes"}), json!({"colour": "blue"}), json!([true])] {
        let (status, body) = api.call(Method::PUT, &dnd, Some(bad.clone())).await;
        assert_eq!(status, 400, "{bad} -> {body:#}");
        assert!(body["trackingId"].as_str().is_some_and(|t| t.starts_with("SIM_")));
    }
    let (status, _) = api
        .call(
            Method::PUT,
            &fwd,
            Some(json!({"callForwarding": {"noAnswer": {"systemMaxNumberOfRings": 9}}})),
        )
        .await;
    assert_eq!(status, 400);

    // The telephony/config family serves its own features only.
    let acr = format!("/v1/telephony/config/people/{id}/anonymousCallReject");
    assert_eq!(api.call(Method::PUT, &acr, Some(json!({"enabled": true}))).await.0, 204);
    assert_eq!(api.call(Method::GET, &acr, None).await.1["enabled"], json!(true));
    let wrong_family = format!("/v1/people/{id}/features/anonymousCallReject");
    assert_eq!(api.call(Method::GET, &wrong_family, None).await.0, 404);
    let unknown = format!("/v1/people/{id}/features/simultaneousRing");
    assert_eq!(api.call(Method::GET, &unknown, None).await.0, 404);

    // Unknown person: 404. Person without Calling: 404 with 4008.
    let (status, _) = api
        .call(
            Method::GET,
            "/v1/people/Y2lzY29zcGFyazovL3VzL1BFT1BMRS9ub2JvZHk/features/callWaiting",
            None,
        )
        .await;
    assert_eq!(status, 404);
    let plain = person(&sim, &org, &api, "plain@acme.test", false).await;
    let (status, body) = api
        .call(Method::GET, &format!("/v1/people/{plain}/features/callWaiting"), None)
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["errors"][0]["errorCode"], json!(4008));

    // Removing the licence loses the settings; assigning it again starts from defaults.
    patch_calling(&org, &api, &id, LicenseOperation::Remove).await;
    assert_eq!(api.call(Method::GET, &dnd, None).await.0, 404);
    patch_calling(&org, &api, &id, LicenseOperation::Add).await;
    assert_eq!(api.call(Method::GET, &dnd, None).await.1["enabled"], json!(false));
}

#[tokio::test]
async fn the_r_user_11_fault_holds_until_the_licence_is_reassigned() {
    let (sim, org, api) = start().await;
    let control = sim.control();
    let before = person(&sim, &org, &api, "before@acme.test", true).await;
    control
        .set_calling_fault(&org.org_id, Some(CallingFault::UntilReassigned))
        .await
        .expect("arm");
    let id = person(&sim, &org, &api, "new@acme.test", true).await;
    let cw = format!("/v1/people/{id}/features/callWaiting");
    let (status, body) = api.call(Method::GET, &cw, None).await;
    assert_eq!(status, 500, "{body:#}");
    assert_eq!(api.call(Method::PUT, &cw, Some(json!({"enabled": false}))).await.0, 500);
    // People licensed before the fault was armed are not affected.
    let (status, _) = api
        .call(Method::GET, &format!("/v1/people/{before}/features/callWaiting"), None)
        .await;
    assert_eq!(status, 200);
    patch_calling(&org, &api, &id, LicenseOperation::Remove).await;
    patch_calling(&org, &api, &id, LicenseOperation::Add).await;
    assert_eq!(api.call(Method::GET, &cw, None).await.0, 200);

    control
        .set_calling_fault(&org.org_id, Some(CallingFault::Persistent))
        .await
        .expect("arm persistent");
    let stuck = person(&sim, &org, &api, "stuck@acme.test", true).await;
    patch_calling(&org, &api, &stuck, LicenseOperation::Remove).await;
    patch_calling(&org, &api, &stuck, LicenseOperation::Add).await;
    let (status, _) = api
        .call(Method::GET, &format!("/v1/people/{stuck}/features/callWaiting"), None)
        .await;
    assert_eq!(status, 500);
    control.set_calling_fault(&org.org_id, None).await.expect("disarm");
}

#[tokio::test]
async fn synchronize_users_takes_contact_center_licences_as_they_are() {
    let (sim, org, api) = start().await;
    let control = sim.control();
    let p = control
        .seed_person(
            &org.org_id,
            PersonSeed {
                licenses: vec![org.license_id("CJPSTD").expect("CJPSTD").to_string()],
                ..PersonSeed::new("agent@acme.test")
            },
        )
        .await
        .expect("agent");
    assert_eq!(
        control
            .contact_center(&org.org_id)
            .await
            .expect("view")
            .synchronizations,
        0
    );
    let (status, _) = api
        .call(
            Method::POST,
            &format!("/_sim/orgs/{}/contact-center/synchronize-users", org.org_id),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let view = control.contact_center(&org.org_id).await.expect("view");
    assert_eq!(view.synchronizations, 1);
    assert_eq!(view.users.len(), 1);
    assert_eq!(view.users[0].ci_user_id, p.id);
    assert_eq!(view.users[0].user_profile_type.as_deref(), Some("STANDARD_AGENT"));
}

#[tokio::test]
async fn tracking_codes_conform_to_the_meetings_spec() {
    let (sim, org, api) = start().await;
    let id = person(&sim, &org, &api, "ida@acme.test", false).await;
    let base = "/v1/admin/meeting/config/trackingCodes";
    let (status, created) = api
        .call(
            Method::POST,
            base,
            Some(
                json!({"name": "Project", "siteUrl": SITE, "options": [], "inputMode": "text",
                "hostProfileCode": "required", "scheduleStartCodes": [{"service": "All", "type": "required"}]}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{created:#}");
    assert_conforms("post", "/admin/meeting/config/trackingCodes", 200, &created);
    let (status, dept) = api
        .call(
            Method::POST,
            base,
            Some(
                json!({"name": "Department", "siteUrl": SITE, "inputMode": "select", "hostProfileCode": "optional",
                "options": [{"value": "R&D", "defaultValue": true}, {"value": "Sales", "defaultValue": false}],
                "scheduleStartCodes": []}),
            ),
        )
        .await;
    assert_eq!(status, 200);
    let (status, list) = api.call(Method::GET, &format!("{base}?siteUrl={SITE}"), None).await;
    assert_eq!(status, 200);
    assert_conforms("get", "/admin/meeting/config/trackingCodes", 200, &list);
    assert_eq!(list["items"].as_array().map(Vec::len), Some(2));
    // A site the org does not have.
    let (status, _) = api
        .call(Method::GET, &format!("{base}?siteUrl=other.webex.com"), None)
        .await;
    assert_eq!(status, 400);
    let one = format!("{base}/{}", created["id"].as_str().expect("id"));
    let (status, got) = api.call(Method::GET, &one, None).await;
    assert_eq!(status, 200);
    assert_conforms("get", "/admin/meeting/config/trackingCodes/{trackingCodeId}", 200, &got);

    let user = "/v1/admin/meeting/userconfig/trackingCodes";
    let (status, answer) = api
        .call(
            Method::PUT,
            user,
            Some(json!({"siteUrl": SITE, "personId": id, "trackingCodes": [{"name": "Project", "value": "Apollo"}]})),
        )
        .await;
    assert_eq!(status, 200, "{answer:#}");
    assert_conforms("put", "/admin/meeting/userconfig/trackingCodes", 200, &answer);
    let (status, answer) = api
        .call(Method::GET, &format!("{user}?siteUrl={SITE}&personId={id}"), None)
        .await;
    assert_eq!(status, 200);
    assert_conforms("get", "/admin/meeting/userconfig/trackingCodes", 200, &answer);
    let values: Vec<(String, String)> = answer["trackingCodes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or_default().into(),
                c["value"].as_str().unwrap_or_default().into(),
            )
        })
        .collect();
    assert!(values.contains(&("Project".into(), "Apollo".into())), "{values:?}");
    assert!(values.contains(&("Department".into(), String::new())), "{values:?}");

    // Unknown name, a value outside a select code's options, too long: 400 with the spec's body.
    for (codes, needle) in [
        (
            json!([{"name": "1", "value": "x"}]),
            "Tracking code of '1' is not found.",
        ),
        (json!([{"name": "Department", "value": "Marketing"}]), "not an option"),
        (json!([{"name": "Project", "value": "x".repeat(121)}]), "120"),
    ] {
        let (status, body) = api
            .call(
                Method::PUT,
                user,
                Some(json!({"siteUrl": SITE, "personId": id, "trackingCodes": codes})),
            )
            .await;
        assert_eq!(status, 400, "{body:#}");
        assert_conforms("put", "/admin/meeting/userconfig/trackingCodes", 400, &body);
        assert!(
            body["errors"][0]["description"]
                .as_str()
                .unwrap_or_default()
                .contains(needle),
            "{body:#}"
        );
    }
    let (status, _) = api
        .call(
            Method::DELETE,
            &format!("{base}/{}?siteUrl={SITE}", dept["id"].as_str().expect("id")),
            None,
        )
        .await;
    assert_eq!(status, 204);
}
