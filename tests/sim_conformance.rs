//! Conformance of the simulator with the wire contract `tests/webex-openapi/webex-admin.json`:
//! every public endpoint it serves is called over HTTP (success paths and the documented error
//! paths, 429 and 5xx included), each JSON answer is validated against the response schema of
//! that path / method / status, and the simulator's own promises (paging, ids, persistence,
//! rules, faults, counters) are asserted.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
use std::time::Duration;

use common::openapi::{self, Spec};
use common::wait_until;
use reqwest::Method;
use serde_json::{Value, json};
use webex_operator::sim::control::SimControl;
use webex_operator::sim::control_types::{
    FaultKind, FaultRule, LicenseSeed, OrgPatch, OrgSeed, PersonSeed, RateLimit, SeededOrg,
};
use webex_operator::sim::{self, RunningSim, SimConfig};
use webex_operator::webex::ids::{self, IdKind};
use webex_operator::webex::model::codes;

const PASSWORD: &str = "Str0ng!Secret";

// ---------------------------------------------------------------------------------------------
// The SPEC as JSON Schema (`common::openapi`)

fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| Spec::load("webex-admin.json"))
}

/// Known, deliberate deviations from the SPEC, each for a documented reason.
fn relax(defs: &mut serde_json::Map<String, Value>) {
    if let Some(person) = defs.get_mut("Person") {
        // webex-api-notes §2.2: the SPEC types invitePending / loginEnabled as string enums
        // "true"|"false", but real responses carry JSON booleans (LAB capture, WXC, WPS). The
        // simulator answers booleans like the real service; exactly these two are relaxed.
        person["properties"]["invitePending"] = json!({"type": "boolean"});
        person["properties"]["loginEnabled"] = json!({"type": "boolean"});
    }
    if let Some(list) = defs.get_mut("PersonCollectionResponse") {
        // webex-api-notes §2.1: the real service answers `"notFoundIds": null` when the list is
        // not filtered by id; the simulator does the same.
        list["properties"]["notFoundIds"]["type"] = json!(["array", "null"]);
    }
    if let Some(detail) = defs.get_mut("ErrorDetail")
        && let Some(Value::Array(codes_enum)) = detail["properties"]["errorCode"].get_mut("enum")
    {
        // Cisco documents no error codes for People API conflicts (webex-api-notes §9.1); the
        // PEOPLE_* codes are this project's convention (webex::model::codes).
        for code in [
            codes::PEOPLE_EXISTS_IN_ORG,
            codes::PEOPLE_EXISTS_IN_OTHER_ORG,
            codes::PEOPLE_TRIAL_ORG_OWNS_EMAIL,
            codes::PEOPLE_DIRECTORY_SYNC,
            codes::PEOPLE_INVALID_CALLING_NAME,
            // Likewise none for the external-user refusals (webex-api-notes §5.6).
            codes::EXTERNAL_CROSS_ORG_NOT_ALLOWED,
            codes::EXTERNAL_INVITATION_PENDING,
        ] {
            codes_enum.push(json!(code));
        }
    }
}

/// The JSON Schema of the answer of `method spec_path` with `status`. Statuses whose answer has
/// no schema in the SPEC (most 4xx/5xx) are checked against `ErrorResponse`, the error body the
/// SPEC and webex-api-notes §1 describe for every error.
fn response_schema(method: &str, spec_path: &str, status: u16) -> Value {
    let op = spec().operation(method, spec_path);
    assert!(op.is_object(), "the SPEC has no {method} {spec_path}");
    let response = &op["responses"][status.to_string()];
    assert!(
        response.is_object(),
        "the SPEC does not list status {status} for {method} {spec_path}"
    );
    let mut root = spec().response_root(method, spec_path, status).clone();
    if root.is_null() {
        assert!(status >= 400, "no response schema for {method} {spec_path} {status}");
        root = json!({"$ref": "#/components/schemas/ErrorResponse"});
    }
    spec().json_schema(&root, relax)
}

fn assert_conforms(method: &str, spec_path: &str, status: u16, body: &Value) {
    let errors = openapi::violations(&response_schema(method, spec_path, status), body);
    assert!(
        errors.is_empty(),
        "{method} {spec_path} {status}: {errors:#?}\nbody: {body:#}"
    );
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn error_code(&self) -> Option<i64> {
        self.body["errors"][0]["errorCode"].as_i64()
    }
}

struct Api {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl Api {
    fn new(sim: &RunningSim, token: &str) -> Self {
        webex_operator::tls::install_crypto_provider();
        Self {
            base: sim.base_url.clone(),
            token: Some(token.to_string()),
            http: reqwest::Client::new(),
        }
    }

    fn anonymous(&self) -> Self {
        Self {
            base: self.base.clone(),
            token: None,
            http: self.http.clone(),
        }
    }

    fn with_token(&self, token: &str) -> Self {
        Self {
            base: self.base.clone(),
            token: Some(token.to_string()),
            http: self.http.clone(),
        }
    }

    async fn raw(&self, method: Method, url: &str, body: Option<&Value>) -> Answer {
        let mut req = self.http.request(method, url);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("JSON body")
        };
        Answer { status, headers, body }
    }

    /// Calls `path` (relative to the API root), asserts the status, validates the body against
    /// the SPEC (`spec_path` is the SPEC's path, without `/v1`), and checks error-body rules.
    async fn call(&self, method: Method, path: &str, spec_path: &str, body: Option<Value>, status: u16) -> Answer {
        let url = format!("{}{path}", self.base);
        let answer = self.raw(method.clone(), &url, body.as_ref()).await;
        assert_eq!(answer.status, status, "{method} {path}: {:#}", answer.body);
        check_answer(method.as_str(), spec_path, &answer);
        answer
    }
}

fn check_answer(method: &str, spec_path: &str, answer: &Answer) {
    let tracking = answer
        .header("trackingid")
        .expect("trackingId header on every answer")
        .to_string();
    if answer.status == 204 {
        assert!(answer.body.is_null(), "204 has no body");
        return;
    }
    assert_conforms(method, spec_path, answer.status, &answer.body);
    if answer.status >= 400 {
        assert_eq!(answer.body["trackingId"].as_str(), Some(tracking.as_str()));
        assert!(tracking.starts_with("SIM_"));
        assert!(!answer.body["message"].as_str().unwrap_or_default().is_empty());
        assert!(!answer.body["errors"].as_array().expect("errors[]").is_empty());
    }
}

fn decodes_as(id: &str, kind: IdKind) -> String {
    let (k, raw) = ids::decode(id).expect("a Webex id");
    assert_eq!(k, kind, "{id}");
    raw
}

fn licences() -> Vec<LicenseSeed> {
    vec![
        LicenseSeed::new("CJPSTD", "Contact center Standard Agent", 10),
        LicenseSeed::new("CJPPRM", "Contact Center Premium Agent", 10),
        LicenseSeed::new("BCSTD", "Webex Calling - Professional", 10),
        LicenseSeed::new("BCPRO", "Webex Calling - Professional Plus", 10),
        LicenseSeed::new("MS", "Advanced Messaging", 100),
        LicenseSeed {
            site_url: Some("acme.webex.com".into()),
            ..LicenseSeed::new("EE", "Webex Meetings Suite", 20)
        },
    ]
}

async fn start_sim() -> (RunningSim, SimControl, SeededOrg, Api) {
    let sim = sim::start(SimConfig {
        listen: "127.0.0.1:0".parse().expect("address"),
        state_file: None,
        tls: None,
    })
    .await
    .expect("start the simulator");
    let control = sim.control();
    let mut seed = OrgSeed::new("Acme", "acme.test")
        .with_location("HQ")
        .with_location("Branch");
    seed.licenses = licences();
    let org = control.seed_org(seed).await.expect("seed the org");
    let api = Api::new(&sim, &org.admin_token);
    (sim, control, org, api)
}

async fn create(api: &Api, body: Value) -> Value {
    api.call(Method::POST, "/v1/people", "/people", Some(body), 200)
        .await
        .body
}

// ---------------------------------------------------------------------------------------------
// People

#[tokio::test]
async fn people_endpoints_conform() {
    let (sim, control, org, api) = start_sim().await;
    assert_eq!(decodes_as(&org.org_id, IdKind::Organization), org.org_uuid);

    // Create: 200 + Person, pending, from the virtual clock.
    let anna = create(
        &api,
        json!({"emails": ["Anna.Berg@acme.test"], "firstName": "Anna", "lastName": "Berg", "displayName": "Anna Berg"}),
    )
    .await;
    decodes_as(anna["id"].as_str().unwrap(), IdKind::People);
    assert_eq!(anna["orgId"], json!(org.org_id));
    assert_eq!(anna["invitePending"], json!(true));
    assert_eq!(anna["loginEnabled"], json!(true));
    assert_eq!(anna["status"], json!("unknown"));
    let created = anna["created"].as_str().unwrap();
    assert!(
        created.ends_with('Z') && created.len() == "2026-01-02T03:04:05.678Z".len(),
        "{created}"
    );
    let anna_id = anna["id"].as_str().unwrap().to_string();

    // minResponse: only the id.
    let min = api
        .call(
            Method::POST,
            "/v1/people?minResponse=true&callingData=true",
            "/people",
            Some(json!({"emails": ["min@acme.test"], "displayName": "Min"})),
            200,
        )
        .await;
    assert_eq!(min.body.as_object().unwrap().keys().collect::<Vec<_>>(), ["id"]);

    // Get, me.
    let got = api
        .call(
            Method::GET,
            &format!("/v1/people/{anna_id}"),
            "/people/{personId}",
            None,
            200,
        )
        .await;
    assert_eq!(got.body["emails"], json!(["Anna.Berg@acme.test"]));
    let me = api.call(Method::GET, "/v1/people/me", "/people/me", None, 200).await;
    assert_eq!(me.body["id"], json!(org.admin_person_id));
    assert_eq!(me.body["roles"], json!([ids::role_id("id_full_admin")]));

    // List filters.
    let by_email = api
        .call(
            Method::GET,
            "/v1/people?email=anna.berg%40ACME.test",
            "/people",
            None,
            200,
        )
        .await;
    assert_eq!(by_email.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(by_email.body["notFoundIds"], Value::Null);
    assert!(by_email.header("link").is_none());
    let by_name = api
        .call(Method::GET, "/v1/people?displayName=ann", "/people", None, 200)
        .await;
    assert_eq!(by_name.body["items"][0]["id"], json!(anna_id));
    let missing = ids::encode(IdKind::People, &uuid::Uuid::new_v4().to_string());
    let by_id = api
        .call(
            Method::GET,
            &format!("/v1/people?id={anna_id},{missing}"),
            "/people",
            None,
            200,
        )
        .await;
    assert_eq!(by_id.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(by_id.body["notFoundIds"], json!([missing]));
    let too_many = vec![anna_id.as_str(); 86].join(",");
    api.call(Method::GET, &format!("/v1/people?id={too_many}"), "/people", None, 400)
        .await;
    api.call(Method::GET, "/v1/people?max=zero", "/people", None, 400).await;

    // Auth.
    api.anonymous()
        .call(Method::GET, "/v1/people", "/people", None, 401)
        .await;
    api.with_token("nope")
        .call(Method::GET, "/v1/people/me", "/people/me", None, 401)
        .await;

    // Create errors.
    api.call(
        Method::POST,
        "/v1/people",
        "/people",
        Some(json!({"emails": [], "displayName": "X"})),
        400,
    )
    .await;
    api.call(
        Method::POST,
        "/v1/people",
        "/people",
        Some(json!({"emails": ["x@acme.test"]})),
        400,
    )
    .await;
    api.call(
        Method::POST,
        "/v1/people",
        "/people",
        Some(json!({"emails": "not-a-list"})),
        400,
    )
    .await;
    let roles = json!({"emails": ["r@acme.test"], "displayName": "R", "roles": [ids::role_id("id_user_admin")]});
    api.call(Method::POST, "/v1/people", "/people", Some(roles), 400).await;

    // Conflicts: same org, other org (claim), trial org (R-USER-3, R-USER-4).
    let dup = api
        .call(
            Method::POST,
            "/v1/people",
            "/people",
            Some(json!({"emails": ["ANNA.berg@acme.test"], "displayName": "A"})),
            409,
        )
        .await;
    assert_eq!(dup.error_code(), Some(codes::PEOPLE_EXISTS_IN_ORG));
    let other = control.seed_org(OrgSeed::new("Other", "other.test")).await.unwrap();
    control
        .seed_person(&other.org_id, PersonSeed::new("bob@other.test").named("Bob", "Stone"))
        .await
        .unwrap();
    let claim = api
        .call(
            Method::POST,
            "/v1/people",
            "/people",
            Some(json!({"emails": ["bob@other.test"], "displayName": "Bob"})),
            409,
        )
        .await;
    assert_eq!(claim.error_code(), Some(codes::PEOPLE_EXISTS_IN_OTHER_ORG));
    assert!(claim.body["message"].as_str().unwrap().contains("claimed"));
    let trial = control
        .seed_org(OrgSeed {
            trial: true,
            ..OrgSeed::new("Trial", "trial.test")
        })
        .await
        .unwrap();
    control
        .seed_person(&trial.org_id, PersonSeed::new("carl@trial.test"))
        .await
        .unwrap();
    let owned = api
        .call(
            Method::POST,
            "/v1/people",
            "/people",
            Some(json!({"emails": ["carl@trial.test"], "displayName": "Carl"})),
            409,
        )
        .await;
    assert_eq!(owned.error_code(), Some(codes::PEOPLE_TRIAL_ORG_OWNS_EMAIL));
    assert!(
        owned.body["message"]
            .as_str()
            .unwrap()
            .contains("trial organization must be deleted")
    );
    control.delete_org(&trial.org_id).await.unwrap();
    create(&api, json!({"emails": ["carl@trial.test"], "displayName": "Carl"})).await;

    // Directory sync org refuses manual adds (R-ORG-2).
    let synced = control
        .seed_org(OrgSeed {
            directory_sync: true,
            ..OrgSeed::new("Synced", "synced.test")
        })
        .await
        .unwrap();
    let sync_api = api.with_token(&synced.admin_token);
    let refused = sync_api
        .call(
            Method::POST,
            "/v1/people",
            "/people",
            Some(json!({"emails": ["d@synced.test"], "displayName": "D"})),
            403,
        )
        .await;
    assert_eq!(refused.error_code(), Some(codes::PEOPLE_DIRECTORY_SYNC));
    control
        .patch_org(
            &synced.org_id,
            OrgPatch {
                directory_sync: Some(false),
                ..OrgPatch::default()
            },
        )
        .await
        .unwrap();
    sync_api
        .call(
            Method::POST,
            "/v1/people",
            "/people",
            Some(json!({"emails": ["d@synced.test"], "displayName": "D"})),
            200,
        )
        .await;
    // Other orgs' people are invisible.
    sync_api
        .call(
            Method::GET,
            &format!("/v1/people/{anna_id}"),
            "/people/{personId}",
            None,
            404,
        )
        .await;

    // Calling users in POST: properties and names (R-USER-2).
    let bcstd = org.license_id("BCSTD").unwrap();
    let hq = org.location_id("HQ").unwrap();
    decodes_as(hq, IdKind::Location);
    let no_props = api
        .call(
            Method::POST,
            "/v1/people",
            "/people",
            Some(json!({"emails": ["c1@acme.test"], "firstName": "C", "lastName": "One", "licenses": [bcstd]})),
            400,
        )
        .await;
    assert_eq!(no_props.error_code(), Some(codes::CALLING_PROPERTIES_MISSING));
    let bad_name = api
        .call(Method::POST, "/v1/people", "/people", Some(json!({"emails": ["c1@acme.test"], "firstName": "C#1", "lastName": "One", "licenses": [bcstd], "extension": "101", "locationId": hq})), 400)
        .await;
    assert_eq!(bad_name.error_code(), Some(codes::PEOPLE_INVALID_CALLING_NAME));
    assert!(bad_name.body["message"].as_str().unwrap().contains("firstName"));
    let long = api
        .call(Method::POST, "/v1/people", "/people", Some(json!({"emails": ["c1@acme.test"], "firstName": "C", "lastName": "x".repeat(31), "licenses": [bcstd], "extension": "101", "locationId": hq})), 400)
        .await;
    assert!(long.body["message"].as_str().unwrap().contains("lastName"));
    let caller = create(&api, json!({"emails": ["c1@acme.test"], "firstName": "C", "lastName": "One", "displayName": "C One", "licenses": [bcstd, "unknown-licence"], "extension": "101", "locationId": hq})).await;
    assert_eq!(caller["licenses"], json!([bcstd]), "unknown licences are skipped");
    assert_eq!(caller["extension"], json!("101"));
    assert_eq!(caller["locationId"], json!(hq));
    // Any name is fine for non-Calling users.
    create(
        &api,
        json!({"emails": ["odd@acme.test"], "firstName": "O#d", "displayName": "Odd"}),
    )
    .await;

    // PUT: replace semantics, displayName required, roles settable, CC supervisor rules (R-CC-3).
    let put_path = format!("/v1/people/{anna_id}");
    api.call(
        Method::PUT,
        &put_path,
        "/people/{personId}",
        Some(json!({"emails": ["anna.berg@acme.test"], "firstName": "Anna"})),
        400,
    )
    .await;
    let supervisor = ids::role_id("id_cjp_supervisor");
    let no_premium = json!({"emails": ["anna.berg@acme.test"], "displayName": "Anna B", "roles": [supervisor]});
    api.call(Method::PUT, &put_path, "/people/{personId}", Some(no_premium), 400)
        .await;
    let cjpprm = org.license_id("CJPPRM").unwrap();
    let with_admin = json!({"emails": ["anna.berg@acme.test"], "displayName": "Anna B", "roles": [supervisor, ids::role_id("id_full_admin")], "licenses": [cjpprm]});
    let refused = api
        .call(Method::PUT, &put_path, "/people/{personId}", Some(with_admin), 400)
        .await;
    assert!(refused.body["message"].as_str().unwrap().contains("supervisor"));
    let ok = json!({"emails": ["anna.berg@acme.test"], "displayName": "Anna B", "roles": [supervisor], "licenses": [cjpprm], "title": "Lead"});
    let put = api
        .call(Method::PUT, &put_path, "/people/{personId}", Some(ok), 200)
        .await;
    assert_eq!(put.body["roles"], json!([supervisor]));
    assert_eq!(put.body["licenses"], json!([cjpprm]));
    assert_eq!(put.body["title"], json!("Lead"));
    assert_eq!(
        put.body["firstName"],
        Value::Null,
        "PUT replaces: firstName omitted is removed"
    );
    assert_eq!(put.body["emails"], json!(["anna.berg@acme.test"]));
    let unknown_role = json!({"emails": ["anna.berg@acme.test"], "displayName": "A", "roles": ["id_nope"]});
    api.call(Method::PUT, &put_path, "/people/{personId}", Some(unknown_role), 400)
        .await;
    let to_taken = json!({"emails": ["c1@acme.test"], "displayName": "A"});
    api.call(Method::PUT, &put_path, "/people/{personId}", Some(to_taken), 409)
        .await;
    api.call(
        Method::PUT,
        &format!("/v1/people/{missing}"),
        "/people/{personId}",
        Some(json!({"emails": ["z@acme.test"], "displayName": "Z"})),
        404,
    )
    .await;

    // Get / delete unknown, delete frees the email.
    api.call(
        Method::GET,
        &format!("/v1/people/{missing}"),
        "/people/{personId}",
        None,
        404,
    )
    .await;
    api.call(Method::GET, "/v1/people/garbage", "/people/{personId}", None, 404)
        .await;
    api.call(Method::DELETE, &put_path, "/people/{personId}", None, 204)
        .await;
    api.call(Method::DELETE, &put_path, "/people/{personId}", None, 404)
        .await;
    api.call(Method::GET, &put_path, "/people/{personId}", None, 404).await;
    create(
        &api,
        json!({"emails": ["anna.berg@acme.test"], "displayName": "Anna again"}),
    )
    .await;

    sim.shutdown().await;
}

#[tokio::test]
async fn paging_walks_every_person_exactly_once() {
    let (sim, control, org, api) = start_sim().await;
    // The admin plus 249 people: 250 in the org.
    for i in 0..249 {
        control
            .seed_person(&org.org_id, PersonSeed::new(format!("user{i:03}@acme.test")))
            .await
            .unwrap();
    }
    let mut url = format!("{}/v1/people?max=100", api.base);
    let mut pages = Vec::new();
    let mut seen = BTreeSet::new();
    loop {
        let answer = api.raw(Method::GET, &url, None).await;
        assert_eq!(answer.status, 200);
        check_answer("GET", "/people", &answer);
        let items = answer.body["items"].as_array().unwrap();
        pages.push(items.len());
        for item in items {
            assert!(
                seen.insert(item["id"].as_str().unwrap().to_string()),
                "duplicate {item}"
            );
        }
        let Some(link) = answer.header("link") else {
            break;
        };
        let (target, rel) = link.split_once(">; ").unwrap();
        assert_eq!(rel, "rel=\"next\"");
        url = target.trim_start_matches('<').to_string();
        assert!(url.starts_with("http://") && url.contains("max=100"), "{url}");
    }
    assert_eq!(pages, [100, 100, 50]);
    let everyone: BTreeSet<String> = control
        .people(&org.org_id)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(seen, everyone, "none missing");
    // max above the cap is silently capped; default page size is 100.
    let big = api.call(Method::GET, "/v1/people?max=5000", "/people", None, 200).await;
    assert_eq!(big.body["items"].as_array().unwrap().len(), 250);
    let default = api.call(Method::GET, "/v1/people", "/people", None, 200).await;
    assert_eq!(default.body["items"].as_array().unwrap().len(), 100);
    api.call(Method::GET, "/v1/people?cursor=garbage", "/people", None, 400)
        .await;
    sim.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Licences

#[tokio::test]
async fn licenses_endpoints_conform() {
    let (sim, control, org, api) = start_sim().await;
    let list = api.call(Method::GET, "/v1/licenses", "/licenses", None, 200).await;
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 6);
    for item in items {
        decodes_as(item["id"].as_str().unwrap(), IdKind::License);
        assert_eq!(item["consumedUnits"], json!(0));
    }
    let ee = org.license_id("EE").unwrap();
    assert_eq!(ids::license_offer_code(ee).as_deref(), Some("EE"));
    let one = api
        .call(
            Method::GET,
            &format!("/v1/licenses/{ee}"),
            "/licenses/{licenseId}",
            None,
            200,
        )
        .await;
    assert_eq!(one.body["siteUrl"], json!("acme.webex.com"));
    api.call(Method::GET, "/v1/licenses/nope", "/licenses/{licenseId}", None, 404)
        .await;

    let anna = create(
        &api,
        json!({"emails": ["anna@acme.test"], "firstName": "Anna", "lastName": "Berg", "displayName": "Anna Berg"}),
    )
    .await;
    let anna_id = anna["id"].as_str().unwrap();
    let patch = |body: Value, status: u16| {
        let api = &api;
        async move {
            api.call(
                Method::PATCH,
                "/v1/licenses/users",
                "/licenses/users",
                Some(body),
                status,
            )
            .await
        }
    };
    let (cjpstd, cjpprm) = (org.license_id("CJPSTD").unwrap(), org.license_id("CJPPRM").unwrap());
    let (bcstd, bcpro, ms) = (
        org.license_id("BCSTD").unwrap(),
        org.license_id("BCPRO").unwrap(),
        org.license_id("MS").unwrap(),
    );
    let hq = org.location_id("HQ").unwrap();

    // Success, by personId and by email.
    let ok = patch(json!({"personId": anna_id, "licenses": [{"id": cjpstd}]}), 200).await;
    assert_eq!(ok.body["licenses"], json!([cjpstd]));
    assert_eq!(ok.body["personId"], json!(anna_id));
    assert_eq!(ok.body["orgId"], json!(org.org_id));
    // 400413: CJPSTD and CJPPRM are one exclusive group; a swap in one request is fine.
    let excl = patch(
        json!({"email": "ANNA@acme.test", "licenses": [{"id": cjpprm, "operation": "add"}]}),
        400,
    )
    .await;
    assert_eq!(excl.error_code(), Some(codes::EXCLUSIVE_OFFER_CODE));
    let swap = patch(
        json!({"email": "anna@acme.test", "licenses": [{"id": cjpstd, "operation": "remove"}, {"id": cjpprm}]}),
        200,
    )
    .await;
    assert_eq!(swap.body["licenses"], json!([cjpprm]));
    // Removing one not held is a no-op.
    let noop = patch(
        json!({"personId": anna_id, "licenses": [{"id": ms, "operation": "remove"}]}),
        200,
    )
    .await;
    assert_eq!(noop.body["licenses"], json!([cjpprm]));
    // 400000, 400411, 400 (location), 400404, all-or-nothing.
    let unknown = patch(
        json!({"personId": anna_id, "licenses": [{"id": ms}, {"id": "bogus"}]}),
        400,
    )
    .await;
    assert_eq!(unknown.error_code(), Some(codes::LICENSE_NOT_RECOGNIZED));
    let no_props = patch(json!({"personId": anna_id, "licenses": [{"id": bcstd}]}), 400).await;
    assert_eq!(no_props.error_code(), Some(codes::CALLING_PROPERTIES_MISSING));
    let ext_only = patch(
        json!({"personId": anna_id, "licenses": [{"id": bcstd, "properties": {"extension": "200"}}]}),
        400,
    )
    .await;
    assert_eq!(ext_only.error_code(), Some(codes::CALLING_PROPERTIES_MISSING));
    let bad_loc = patch(json!({"personId": anna_id, "licenses": [{"id": bcstd, "properties": {"extension": "200", "locationId": "nowhere"}}]}), 400).await;
    assert_eq!(bad_loc.error_code(), Some(codes::LOCATION_NOT_FOUND));
    assert_eq!(
        bad_loc.body["errors"][0]["description"],
        json!("Unable to find location.")
    );
    let both = patch(
        json!({"personId": anna_id, "licenses": [
            {"id": bcstd, "properties": {"extension": "200", "locationId": hq}},
            {"id": bcpro, "properties": {"phoneNumber": "+14085550100"}}]}),
        400,
    )
    .await;
    assert_eq!(both.error_code(), Some(codes::CALLING_PRO_AND_STANDARD));
    let unchanged = api
        .call(
            Method::GET,
            &format!("/v1/people/{anna_id}"),
            "/people/{personId}",
            None,
            200,
        )
        .await;
    assert_eq!(
        unchanged.body["licenses"],
        json!([cjpprm]),
        "validation errors apply nothing"
    );
    // Calling add sets number, extension, location.
    let calling = patch(
        json!({"personId": anna_id, "licenses": [{"id": bcstd, "properties": {"phoneNumber": "+14085550100", "extension": "200", "locationId": hq}}]}),
        200,
    )
    .await;
    assert_eq!(calling.body["licenses"], json!([cjpprm, bcstd]));
    let person = api
        .call(
            Method::GET,
            &format!("/v1/people/{anna_id}"),
            "/people/{personId}",
            None,
            200,
        )
        .await;
    assert_eq!(person.body["extension"], json!("200"));
    assert_eq!(person.body["locationId"], json!(hq));
    assert_eq!(person.body["phoneNumbers"][0]["value"], json!("+14085550100"));
    // R-USER-2 in PATCH.
    let bad = create(
        &api,
        json!({"emails": ["bad@acme.test"], "firstName": "Bad/Name", "displayName": "Bad"}),
    )
    .await;
    let named = patch(json!({"personId": bad["id"], "licenses": [{"id": bcstd, "properties": {"extension": "201", "locationId": hq}}]}), 400).await;
    assert_eq!(named.error_code(), Some(codes::PEOPLE_INVALID_CALLING_NAME));
    // Site urls.
    let site = patch(
        json!({"personId": anna_id, "siteUrls": [{"siteUrl": "acme.webex.com", "accountType": "attendee"}]}),
        200,
    )
    .await;
    assert_eq!(
        site.body["siteUrls"],
        json!([{"siteUrl": "acme.webex.com", "accountType": "attendee"}])
    );
    patch(
        json!({"personId": anna_id, "siteUrls": [{"siteUrl": "elsewhere.webex.com", "accountType": "attendee"}]}),
        400,
    )
    .await;
    // Who.
    patch(json!({"licenses": [{"id": ms}]}), 400).await;
    patch(json!({"email": "nobody@acme.test", "licenses": [{"id": ms}]}), 404).await;
    let other = control.seed_org(OrgSeed::new("Other", "other.test")).await.unwrap();
    let outsider = control
        .seed_person(&other.org_id, PersonSeed::new("out@other.test"))
        .await
        .unwrap();
    // A person of another org is an external user: only Meetings licences and attendee sites.
    patch(json!({"personId": outsider.id, "licenses": [{"id": ms}]}), 400).await;
    patch(
        json!({"personId": anna_id, "orgId": other.org_id, "licenses": [{"id": ms}]}),
        403,
    )
    .await;
    api.anonymous()
        .call(
            Method::PATCH,
            "/v1/licenses/users",
            "/licenses/users",
            Some(json!({})),
            401,
        )
        .await;

    // R-USER-10: units are consumed only once the holder signed in.
    let units = |body: &Value, id: &str| {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["id"] == json!(id))
            .unwrap()["consumedUnits"]
            .clone()
    };
    let before = api.call(Method::GET, "/v1/licenses", "/licenses", None, 200).await;
    assert_eq!(units(&before.body, cjpprm), json!(0));
    let first = control.sign_in("anna@acme.test", PASSWORD).await.unwrap();
    assert!(first.first_sign_in);
    let after = api.call(Method::GET, "/v1/licenses", "/licenses", None, 200).await;
    assert_eq!(units(&after.body, cjpprm), json!(1));
    assert_eq!(units(&after.body, bcstd), json!(1));
    assert_eq!(units(&after.body, ms), json!(0));
    let detail = api
        .call(
            Method::GET,
            &format!("/v1/licenses/{cjpprm}?includeAssignedTo=user"),
            "/licenses/{licenseId}",
            None,
            200,
        )
        .await;
    assert_eq!(detail.body["consumedByUsers"], json!(1));
    assert_eq!(detail.body["users"][0]["email"], json!("anna@acme.test"));

    // 206 via fault injection: only the first change applies.
    control
        .inject_fault(FaultRule::new(FaultKind::Partial).times(1))
        .await
        .unwrap();
    let partial = patch(
        json!({"personId": anna_id, "licenses": [{"id": ms}, {"id": cjpprm, "operation": "remove"}]}),
        206,
    )
    .await;
    assert_eq!(partial.body["licenses"], json!([cjpprm, bcstd, ms]));
    sim.shutdown().await;
}

#[tokio::test]
async fn external_users_conform() {
    // R-EXT-1..8, R-ORG-5 on PATCH /v1/licenses/users and GET /v1/licenses/{id}.
    let (sim, control, org, api) = start_sim().await;
    let ee = org.license_id("EE").unwrap().to_string();
    let patch = |body: Value, status: u16| {
        let api = &api;
        async move {
            api.call(
                Method::PATCH,
                "/v1/licenses/users",
                "/licenses/users",
                Some(body),
                status,
            )
            .await
        }
    };
    let other = control.seed_org(OrgSeed::new("Other", "other.test")).await.unwrap();
    for (i, email) in ["pat@other.test", "kim@other.test"].iter().enumerate() {
        control
            .seed_person(
                &other.org_id,
                PersonSeed::new(*email).named("Pat", format!("N{i}")).signed_in(),
            )
            .await
            .unwrap();
    }
    // R-EXT-2: an email without an account.
    patch(json!({"email": "ghost@nowhere.test", "licenses": [{"id": ee}]}), 404).await;
    // R-EXT-4: host = the site licence, attendee = siteUrls; both pending until accepted.
    let invited = patch(
        json!({"email": "pat@other.test", "licenses": [{"id": ee}],
               "siteUrls": [{"siteUrl": "acme.webex.com", "accountType": "ATTENDEE"}]}),
        200,
    )
    .await;
    assert_eq!(invited.body["pendingLicenses"], json!([ee]));
    assert_eq!(invited.body["licenses"], json!([]));
    assert_eq!(invited.body["orgId"], json!(other.org_id), "the person's own org");
    let pending_sites: Vec<&str> = invited.body["pendingSiteUrls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["accountType"].as_str().unwrap())
        .collect();
    assert_eq!(pending_sites, vec!["host", "attendee"]);
    // A change-free PATCH reads the assignment; the Date header carries the virtual clock.
    let read = patch(json!({"email": "pat@other.test"}), 200).await;
    assert_eq!(read.body["pendingLicenses"], json!([ee]));
    let date = read.header("date").expect("Date header").to_string();
    jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(&date)
        .expect("an RFC 9110 date");
    // R-EXT-7: pending cannot be removed.
    let blocked = patch(
        json!({"email": "pat@other.test", "licenses": [{"id": ee, "operation": "remove"}]}),
        409,
    )
    .await;
    assert_eq!(blocked.error_code(), Some(codes::EXTERNAL_INVITATION_PENDING));
    // R-EXT-6: nothing consumed until accepted; then an EXTERNAL user of the licence.
    let units = |body: &Value| body["consumedUnits"].clone();
    let detail = |q: &'static str| {
        let api = &api;
        let ee = ee.clone();
        async move {
            api.call(
                Method::GET,
                &format!("/v1/licenses/{ee}{q}"),
                "/licenses/{licenseId}",
                None,
                200,
            )
            .await
        }
    };
    assert_eq!(units(&detail("").await.body), json!(0));
    let invitations = control.invitations(&org.org_id).await.unwrap();
    assert_eq!(invitations.len(), 2);
    assert!(invitations.iter().all(|i| i.state == "Pending"));
    assert_eq!(
        control
            .answer_invitations(&["pat@other.test"], Some(&org.org_id), true)
            .await
            .unwrap(),
        2
    );
    let users = detail("?includeAssignedTo=user").await;
    assert_eq!(units(&users.body), json!(1));
    assert_eq!(users.body["users"][0]["type"], json!("EXTERNAL"));
    assert_eq!(users.body["users"][0]["email"], json!("pat@other.test"));
    // Paging of the users (limit, Link: rel="next" with a `next` cursor).
    patch(json!({"email": "kim@other.test", "licenses": [{"id": ee}]}), 200).await;
    control
        .answer_invitations(&["kim@other.test"], None, true)
        .await
        .unwrap();
    let first = detail("?includeAssignedTo=user&limit=1").await;
    assert_eq!(first.body["users"].as_array().unwrap().len(), 1);
    let link = first.header("link").expect("Link header").to_string();
    let next = link.trim_start_matches('<').split('>').next().unwrap().to_string();
    let second = api.raw(Method::GET, &next, None).await;
    assert_eq!(second.status, 200);
    check_answer("GET", "/licenses/{licenseId}", &second);
    assert_eq!(second.body["users"][0]["email"], json!("kim@other.test"));
    assert!(second.header("link").is_none());
    // Accepted accounts are removed like any licence (R-EXT-7).
    let removed = patch(
        json!({"email": "pat@other.test", "licenses": [{"id": ee, "operation": "remove"}],
               "siteUrls": [{"siteUrl": "acme.webex.com", "accountType": "attendee", "operation": "remove"}]}),
        200,
    )
    .await;
    assert_eq!(removed.body["licenses"], json!([]));
    assert!(
        removed.body["siteUrls"].as_array().is_none_or(Vec::is_empty),
        "{:#}",
        removed.body
    );
    // R-EXT-1 / R-ORG-5: an org that does not allow cross-org licensing.
    control
        .patch_org(
            &other.org_id,
            OrgPatch {
                allow_cross_org_licensing: Some(false),
                ..OrgPatch::default()
            },
        )
        .await
        .unwrap();
    let refused = patch(json!({"email": "pat@other.test", "licenses": [{"id": ee}]}), 403).await;
    assert_eq!(refused.error_code(), Some(codes::EXTERNAL_CROSS_ORG_NOT_ALLOWED));
    // R-EXT-5: 15 days on the virtual clock expire an invitation; assigning again re-sends it.
    control
        .patch_org(
            &other.org_id,
            OrgPatch {
                allow_cross_org_licensing: Some(true),
                ..OrgPatch::default()
            },
        )
        .await
        .unwrap();
    patch(json!({"email": "pat@other.test", "licenses": [{"id": ee}]}), 200).await;
    control
        .advance_clock(Duration::from_secs(15 * 24 * 3600))
        .await
        .unwrap();
    let expired = patch(json!({"email": "pat@other.test"}), 200).await;
    assert!(
        expired.body["pendingLicenses"].as_array().is_none_or(Vec::is_empty),
        "{:#}",
        expired.body
    );
    let again = patch(json!({"email": "pat@other.test", "licenses": [{"id": ee}]}), 200).await;
    assert_eq!(again.body["pendingLicenses"], json!([ee]));
    let pat = control.invitations(&org.org_id).await.unwrap();
    let host = pat
        .iter()
        .find(|i| i.email == "pat@other.test" && i.account_type == "host")
        .unwrap();
    assert_eq!((host.state.as_str(), host.invitations_sent), ("Pending", 2));
    sim.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Roles, settings

#[tokio::test]
async fn roles_and_settings_conform() {
    let (sim, control, org, api) = start_sim().await;
    let roles = api.call(Method::GET, "/v1/roles", "/roles", None, 200).await;
    let names: BTreeMap<String, String> = roles.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                decodes_as(r["id"].as_str().unwrap(), IdKind::Role),
                r["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        names.get("id_full_admin").map(String::as_str),
        Some("Full Administrator")
    );
    assert_eq!(
        names.get("id_cjp_supervisor").map(String::as_str),
        Some("Contact Center Supervisor")
    );
    assert_eq!(names.len(), 6);
    let full = ids::role_id("id_full_admin");
    assert_eq!(full, "Y2lzY29zcGFyazovL3VzL1JPTEUvaWRfZnVsbF9hZG1pbg");
    let one = api
        .call(Method::GET, &format!("/v1/roles/{full}"), "/roles/{roleId}", None, 200)
        .await;
    assert_eq!(one.body["name"], json!("Full Administrator"));
    api.call(
        Method::GET,
        &format!("/v1/roles/{}", ids::role_id("id_nope")),
        "/roles/{roleId}",
        None,
        404,
    )
    .await;
    api.anonymous()
        .call(Method::GET, "/v1/roles", "/roles", None, 401)
        .await;

    let get_path = "/settings/organizations/{orgId}/settings/{settingKey}";
    let post_path = "/settings/organizations/{orgId}/settings";
    for id in [&org.org_id, &org.org_uuid] {
        let got = api
            .call(
                Method::GET,
                &format!("/settings/organizations/{id}/settings/allow-admin-invite-emails"),
                get_path,
                None,
                200,
            )
            .await;
        assert_eq!(
            got.body,
            json!({"key": "allow-admin-invite-emails", "value": true, "name": "Automatic Activation Emails"})
        );
    }
    let set = api
        .call(
            Method::POST,
            &format!("/settings/organizations/{}/settings", org.org_id),
            post_path,
            Some(json!({"key": "allow-admin-invite-emails", "value": false})),
            200,
        )
        .await;
    assert_eq!(set.body["value"], json!(false));
    assert_eq!(set.body["name"], json!("Automatic Activation Emails"));
    let again = api
        .call(
            Method::GET,
            &format!(
                "/settings/organizations/{}/settings/allow-admin-invite-emails",
                org.org_uuid
            ),
            get_path,
            None,
            200,
        )
        .await;
    assert_eq!(again.body["value"], json!(false));
    api.call(
        Method::GET,
        &format!("/settings/organizations/{}/settings/other-key", org.org_id),
        get_path,
        None,
        404,
    )
    .await;
    api.call(
        Method::POST,
        &format!("/settings/organizations/{}/settings", org.org_id),
        post_path,
        Some(json!({"key": "allow-admin-invite-emails", "value": "yes"})),
        400,
    )
    .await;
    let other = control.seed_org(OrgSeed::new("Other", "other.test")).await.unwrap();
    api.call(
        Method::GET,
        &format!(
            "/settings/organizations/{}/settings/allow-admin-invite-emails",
            other.org_id
        ),
        get_path,
        None,
        403,
    )
    .await;
    api.call(
        Method::POST,
        &format!("/settings/organizations/{}/settings", other.org_uuid),
        post_path,
        Some(json!({"key": "allow-admin-invite-emails", "value": true})),
        403,
    )
    .await;
    // The control API sets it too.
    let via_control = control
        .set_setting(&org.org_id, "allow-admin-invite-emails", json!(true))
        .await
        .unwrap();
    assert_eq!(via_control.value, json!(true));
    sim.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Faults, counters, unknown routes

#[tokio::test]
async fn faults_counters_and_unknown_routes() {
    let (sim, control, org, api) = start_sim().await;
    control.reset_counters().await.unwrap();

    // 429 + Retry-After + error body, nothing applied.
    control
        .inject_fault(
            FaultRule::new(FaultKind::RateLimited { retry_after_secs: 7 })
                .method("POST")
                .path_prefix("/v1/people")
                .times(1),
        )
        .await
        .unwrap();
    let limited = api
        .call(
            Method::POST,
            "/v1/people",
            "/people",
            Some(json!({"emails": ["r@acme.test"], "displayName": "R"})),
            429,
        )
        .await;
    assert_eq!(limited.header("retry-after"), Some("7"));
    assert!(
        control
            .person_by_email(&org.org_id, "r@acme.test")
            .await
            .unwrap()
            .is_none()
    );
    create(&api, json!({"emails": ["r@acme.test"], "displayName": "R"})).await;

    // 5xx without applying.
    control
        .inject_fault(
            FaultRule::new(FaultKind::ServerError { status: 503 })
                .path_prefix("/v1/people")
                .times(1),
        )
        .await
        .unwrap();
    api.call(
        Method::POST,
        "/v1/people",
        "/people",
        Some(json!({"emails": ["s@acme.test"], "displayName": "S"})),
        503,
    )
    .await;
    assert!(
        control
            .person_by_email(&org.org_id, "s@acme.test")
            .await
            .unwrap()
            .is_none()
    );

    // Applied, then a 5xx: the outcome-unknown case.
    control
        .inject_fault(
            FaultRule::new(FaultKind::ApplyThenError { status: 502 })
                .method("post")
                .times(1),
        )
        .await
        .unwrap();
    api.call(
        Method::POST,
        "/v1/people",
        "/people",
        Some(json!({"emails": ["s@acme.test"], "displayName": "S"})),
        502,
    )
    .await;
    assert!(
        control
            .person_by_email(&org.org_id, "s@acme.test")
            .await
            .unwrap()
            .is_some()
    );
    api.call(
        Method::POST,
        "/v1/people",
        "/people",
        Some(json!({"emails": ["s@acme.test"], "displayName": "S"})),
        409,
    )
    .await;

    // Applied at once, answered late: a client that gives up never sees the answer.
    control
        .inject_fault(
            FaultRule::new(FaultKind::LatencyAfterApply { ms: 400 })
                .method("POST")
                .path_prefix("/v1/people")
                .times(1),
        )
        .await
        .unwrap();
    let answered = |c: &webex_operator::sim::control_types::Counters| {
        c.get("POST /v1/people", 200) + c.get("POST /v1/people", 499)
    };
    let before_late = answered(&control.counters().await.unwrap());
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let gave_up = impatient
        .post(format!("{}/v1/people", api.base))
        .bearer_auth(&org.admin_token)
        .json(&json!({"emails": ["late@acme.test"], "displayName": "Late"}))
        .send()
        .await;
    assert!(gave_up.is_err_and(|e| e.is_timeout()));
    // The late answer finishes (or is dropped) before the counters are read: it is counted.
    wait_until(Duration::from_secs(5), "the late create is counted", || async {
        answered(&control.counters().await.unwrap()) == before_late + 1
    })
    .await;
    assert!(
        control
            .person_by_email(&org.org_id, "late@acme.test")
            .await
            .unwrap()
            .is_some()
    );

    // 500 and 504 on other endpoints; latency.
    control
        .inject_fault(
            FaultRule::new(FaultKind::ServerError { status: 500 })
                .path_prefix("/v1/licenses")
                .times(1),
        )
        .await
        .unwrap();
    api.call(Method::GET, "/v1/licenses", "/licenses", None, 500).await;
    control
        .inject_fault(
            FaultRule::new(FaultKind::ServerError { status: 504 })
                .path_prefix("/v1/roles")
                .times(1),
        )
        .await
        .unwrap();
    api.call(Method::GET, "/v1/roles", "/roles", None, 504).await;
    control
        .inject_fault(FaultRule::new(FaultKind::Latency { ms: 300 }).path_prefix("/v1/roles"))
        .await
        .unwrap();
    assert_eq!(control.faults().await.unwrap().len(), 1);
    let t0 = std::time::Instant::now();
    api.call(Method::GET, "/v1/roles", "/roles", None, 200).await;
    assert!(t0.elapsed() >= Duration::from_millis(300));
    control.clear_faults().await.unwrap();
    assert!(control.faults().await.unwrap().is_empty());
    let bad_rule = control
        .inject_fault(FaultRule::new(FaultKind::ServerError { status: 404 }))
        .await
        .unwrap_err();
    assert_eq!(bad_rule.status(), Some(400));

    // Per-org rate limit.
    control
        .set_rate_limit(RateLimit {
            per_second: 3,
            retry_after_secs: 1,
        })
        .await
        .unwrap();
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(
            api.raw(Method::GET, &format!("{}/v1/roles", api.base), None)
                .await
                .status,
        );
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    control.clear_rate_limit().await.unwrap();

    // Unknown route 404, wrong method 405, both with error bodies.
    let nf = api
        .raw(Method::GET, &format!("{}/v1/nothing-here", api.base), None)
        .await;
    assert_eq!(nf.status, 404);
    assert!(nf.body["trackingId"].as_str().unwrap().starts_with("SIM_"));
    let na = api.raw(Method::DELETE, &format!("{}/v1/roles", api.base), None).await;
    assert_eq!(na.status, 405);
    assert!(na.body["errors"][0]["description"].as_str().is_some());

    // Counters: per method + route template and status.
    let counters = control.counters().await.unwrap();
    assert_eq!(counters.get("POST /v1/people", 429), 1);
    assert_eq!(counters.get("POST /v1/people", 503), 1);
    assert_eq!(counters.get("POST /v1/people", 502), 1);
    assert_eq!(counters.get("POST /v1/people", 409), 1);
    // The late create counts once: 200, or 499 when the server saw the client leave first.
    assert_eq!(
        counters.get("POST /v1/people", 200) + counters.get("POST /v1/people", 499),
        2
    );
    assert_eq!(counters.total("POST /v1/people"), 6);
    assert_eq!(counters.get("GET /v1/licenses", 500), 1);
    assert_eq!(counters.get("GET /v1/roles", 504), 1);
    assert_eq!(
        counters.get("GET /v1/nothing-here", 404) + counters.get("GET (unmatched)", 404),
        1
    );
    assert_eq!(counters.get("DELETE /v1/roles", 405), 1);
    assert!(
        counters.endpoints.keys().all(|k| !k.contains("/_sim")),
        "control calls are not counted: {counters:?}"
    );
    let before = counters.grand_total();
    api.call(
        Method::GET,
        &format!("/v1/people/{}", org.admin_person_id),
        "/people/{personId}",
        None,
        200,
    )
    .await;
    let counters = control.counters().await.unwrap();
    assert_eq!(counters.get("GET /v1/people/{personId}", 200), 1);
    assert_eq!(counters.grand_total(), before + 1);
    control.reset_counters().await.unwrap();
    assert_eq!(control.counters().await.unwrap().grand_total(), 0);
    sim.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Sign-in, clock, persistence

#[tokio::test]
async fn sign_in_enforces_the_password_policy_and_ends_pending() {
    let (sim, control, org, api) = start_sim().await;
    let p = create(
        &api,
        json!({"emails": ["eva.lind@acme.test"], "firstName": "Eva", "lastName": "Lindqvist", "displayName": "Eva L"}),
    )
    .await;
    for weak in [
        "Sh1!a",
        "alllower1!",
        "NoDigits!!",
        "NoSpecial11",
        "Lindqvist1!x",
        "Eva.Lind99!x",
    ] {
        let err = control.sign_in("eva.lind@acme.test", weak).await.unwrap_err();
        assert_eq!(err.status(), Some(400), "{weak}");
    }
    let pending = api
        .call(
            Method::GET,
            &format!("/v1/people/{}", p["id"].as_str().unwrap()),
            "/people/{personId}",
            None,
            200,
        )
        .await;
    assert_eq!(pending.body["invitePending"], json!(true));
    let first = control.sign_in("EVA.LIND@acme.test", PASSWORD).await.unwrap();
    assert!(first.first_sign_in);
    assert_eq!(first.person_id, p["id"].as_str().unwrap());
    let active = api
        .call(
            Method::GET,
            &format!("/v1/people/{}", first.person_id),
            "/people/{personId}",
            None,
            200,
        )
        .await;
    assert_eq!(active.body["invitePending"], json!(false));
    assert_eq!(active.body["status"], json!("active"));
    let again = control.sign_in("eva.lind@acme.test", PASSWORD).await.unwrap();
    assert!(!again.first_sign_in);
    assert_eq!(
        control
            .sign_in("eva.lind@acme.test", "Wr0ng!pass")
            .await
            .unwrap_err()
            .status(),
        Some(401)
    );
    assert_eq!(
        control
            .sign_in("nobody@acme.test", PASSWORD)
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );
    let seeded = control
        .seed_person(&org.org_id, PersonSeed::new("old@acme.test").signed_in())
        .await
        .unwrap();
    assert_eq!(seeded.invite_pending, Some(false));
    sim.shutdown().await;
}

#[tokio::test]
async fn virtual_clock_drives_timestamps() {
    let (sim, control, _org, api) = start_sim().await;
    let t0 = control.now().await.unwrap();
    let clock = control
        .advance_clock(Duration::from_secs(15 * 24 * 3600))
        .await
        .unwrap();
    assert_eq!(clock.offset_seconds, 15 * 24 * 3600);
    let p = create(&api, json!({"emails": ["late@acme.test"], "displayName": "Late"})).await;
    let created: jiff::Timestamp = p["created"].as_str().unwrap().parse().unwrap();
    assert!(created.duration_since(t0) >= jiff::SignedDuration::from_hours(15 * 24));
    sim.shutdown().await;
}

#[tokio::test]
async fn state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("sim-state.json");
    let config = SimConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        state_file: Some(state_file.clone()),
        tls: None,
    };
    let sim = sim::start(config.clone()).await.unwrap();
    let control = sim.control();
    let mut seed = OrgSeed::new("Acme", "acme.test").with_location("HQ");
    seed.licenses = licences();
    seed.admin_token = Some("chosen-token".into());
    let org = control.seed_org(seed).await.unwrap();
    assert_eq!(org.admin_token, "chosen-token");
    let api = Api::new(&sim, &org.admin_token);
    let p = create(&api, json!({"emails": ["keep@acme.test"], "displayName": "Keep"})).await;
    let ms = org.license_id("MS").unwrap();
    api.call(
        Method::PATCH,
        "/v1/licenses/users",
        "/licenses/users",
        Some(json!({"personId": p["id"], "licenses": [{"id": ms}]})),
        200,
    )
    .await;
    control.sign_in("keep@acme.test", PASSWORD).await.unwrap();
    control.advance_clock(Duration::from_secs(3600)).await.unwrap();
    sim.shutdown().await;
    assert!(state_file.exists());

    let sim = sim::start(config).await.unwrap();
    let control = sim.control();
    let api = Api::new(&sim, "chosen-token");
    let got = api
        .call(
            Method::GET,
            &format!("/v1/people/{}", p["id"].as_str().unwrap()),
            "/people/{personId}",
            None,
            200,
        )
        .await;
    assert_eq!(got.body["licenses"], json!([ms]));
    assert_eq!(got.body["invitePending"], json!(false));
    assert_eq!(control.clock().await.unwrap().offset_seconds, 3600);
    let licences = api.call(Method::GET, "/v1/licenses", "/licenses", None, 200).await;
    let ms_item = licences.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == json!(ms))
        .unwrap()
        .clone();
    assert_eq!(ms_item["consumedUnits"], json!(1));
    // Uniqueness survives too.
    api.call(
        Method::POST,
        "/v1/people",
        "/people",
        Some(json!({"emails": ["keep@acme.test"], "displayName": "K"})),
        409,
    )
    .await;
    assert!(!control.sign_in("keep@acme.test", PASSWORD).await.unwrap().first_sign_in);
    sim.shutdown().await;
}

/// The schema check itself must bite: wrong types, enums and nested `$ref`s are caught.
#[test]
fn schema_check_catches_non_conforming_bodies() {
    let valid = |method: &str, path: &str, status: u16, body: Value| {
        let schema = response_schema(method, path, status);
        jsonschema::validator_for(&schema)
            .expect("compile schema")
            .is_valid(&body)
    };
    let person = json!({"id": "x", "emails": ["a@b.test"], "invitePending": true, "status": "unknown"});
    assert!(valid("GET", "/people/{personId}", 200, person.clone()));
    assert!(!valid("GET", "/people/{personId}", 200, json!({"id": 1})));
    assert!(!valid(
        "GET",
        "/people/{personId}",
        200,
        json!({"id": "x", "status": "sleeping"})
    ));
    assert!(!valid(
        "GET",
        "/people/{personId}",
        200,
        json!({"id": "x", "invitePending": "true"})
    ));
    assert!(valid(
        "GET",
        "/people",
        200,
        json!({"items": [person], "notFoundIds": null})
    ));
    assert!(!valid(
        "GET",
        "/people",
        200,
        json!({"items": [{"emails": "a@b.test"}]})
    ));
    assert!(!valid(
        "GET",
        "/licenses",
        200,
        json!({"items": [{"totalUnits": "ten"}]})
    ));
    assert!(!valid(
        "PATCH",
        "/licenses/users",
        400,
        json!({"message": "m", "errors": [{"errorCode": 123}]})
    ));
    assert!(valid(
        "PATCH",
        "/licenses/users",
        400,
        json!({"message": "m", "errors": [{"errorCode": 400411}]})
    ));
    assert!(!valid("GET", "/roles", 404, json!({"message": 5})));
}
