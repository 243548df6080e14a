//! The CRDs install on a real kube-apiserver and become Established; bad manifests are refused
//! at apply time with a message naming the field; `examples/` applies cleanly.

// Test helpers fail by panicking, with the state they saw.
#![allow(clippy::panic)]

mod common;

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::discovery::ApiResource;
use serde_json::{Value, json};
use webex_operator::api::WebexUser;
use webex_operator::manifests;

async fn installed() -> kube::Client {
    let client = common::client().await;
    manifests::install_crds(&client, "crd-test")
        .await
        .expect("CRDs install and become established");
    client
}

fn user(ns: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": "webex.operator.io/v1alpha1", "kind": "WebexUser", "metadata": {"name": name, "namespace": ns}, "spec": spec})
}

fn valid_spec() -> Value {
    json!({"orgRef": {"name": "acme"}, "email": "valid@acme.example", "firstName": "Val", "lastName": "Id"})
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

fn without(mut base: Value, key: &str) -> Value {
    if let Some(map) = base.as_object_mut() {
        map.remove(key);
    }
    base
}

fn calling() -> Value {
    json!({"offerCode": "BCPRO", "phoneNumber": "+14085550101", "extension": "5101"})
}

/// (case, kind, spec, text the refusal must contain: the field)
fn bad_manifests() -> Vec<(&'static str, &'static str, Value, &'static str)> {
    let mut cases = vec![
        (
            "missing email",
            "WebexUser",
            without(valid_spec(), "email"),
            "spec.email",
        ),
        (
            "malformed email",
            "WebexUser",
            with(valid_spec(), "email", json!("not-an-email")),
            "spec.email",
        ),
        (
            "email without domain dot",
            "WebexUser",
            with(valid_spec(), "email", json!("a@localhost")),
            "spec.email",
        ),
        (
            "missing orgRef",
            "WebexUser",
            without(valid_spec(), "orgRef"),
            "spec.orgRef",
        ),
        (
            "unknown content-management platform (R-USER-9)",
            "WebexUser",
            with(valid_spec(), "contentManagement", json!("Dropbox")),
            "spec.contentManagement",
        ),
        (
            "calling name too long",
            "WebexUser",
            with(
                with(valid_spec(), "calling", calling()),
                "firstName",
                json!("A".repeat(31)),
            ),
            "spec.firstName",
        ),
        (
            "supervisor with admin role",
            "WebexUser",
            with(
                with(valid_spec(), "contactCenter", json!({"type": "PremiumSupervisor"})),
                "adminRoles",
                json!(["FullAdministrator"]),
            ),
            "spec.adminRoles",
        ),
        (
            "unknown contact center type",
            "WebexUser",
            with(valid_spec(), "contactCenter", json!({"type": "Gold"})),
            "spec.contactCenter.type",
        ),
        (
            "calling without number or extension",
            "WebexUser",
            with(
                valid_spec(),
                "calling",
                json!({"offerCode": "BCPRO", "locationId": "x"}),
            ),
            "spec.calling",
        ),
        (
            "calling extension only, no location",
            "WebexUser",
            with(
                valid_spec(),
                "calling",
                json!({"offerCode": "BCPRO", "extension": "5101"}),
            ),
            "spec.calling",
        ),
        (
            "calling number not E.164",
            "WebexUser",
            with(
                valid_spec(),
                "calling",
                json!({"offerCode": "BCPRO", "phoneNumber": "4085550101"}),
            ),
            "spec.calling.phoneNumber",
        ),
        (
            "calling licence in licenses",
            "WebexUser",
            with(valid_spec(), "licenses", json!([{"offerCode": "BCSTD"}])),
            "spec.licenses",
        ),
        (
            "contact center licence in licenses",
            "WebexUser",
            with(valid_spec(), "licenses", json!([{"offerCode": "CJPPRM"}])),
            "spec.licenses",
        ),
        (
            "lower-case offer code",
            "WebexUser",
            with(valid_spec(), "licenses", json!([{"offerCode": "ms"}])),
            "spec.licenses[0].offerCode",
        ),
        (
            "unknown admin role",
            "WebexUser",
            with(valid_spec(), "adminRoles", json!(["God"])),
            "spec.adminRoles[0]",
        ),
        (
            "unknown deletion policy",
            "WebexUser",
            with(valid_spec(), "deletionPolicy", json!("Shred")),
            "spec.deletionPolicy",
        ),
    ];
    // R-USER-2: each forbidden character, in the first and the last name of a Calling user.
    for (i, c) in ["%", "#", "<", ">", "\\", "/", "\""].into_iter().enumerate() {
        let field = if i % 2 == 0 { "firstName" } else { "lastName" };
        let spec = with(
            with(valid_spec(), "calling", calling()),
            field,
            json!(format!("Bad{c}Name")),
        );
        let needle = if field == "firstName" {
            "spec.firstName"
        } else {
            "spec.lastName"
        };
        cases.push(("calling name with forbidden character", "WebexUser", spec, needle));
    }
    cases.extend([
        ("claim without acknowledgement", "UserClaim", json!({"orgRef": {"name": "acme"}, "emails": ["a@b.example"], "acknowledgePermanent": false}), "spec.acknowledgePermanent"),
        ("claim revoking two at once", "UserClaim", json!({"orgRef": {"name": "acme"}, "emails": ["a@b.example"], "acknowledgePermanent": true, "revoke": ["a@b.example", "c@b.example"]}), "spec.revoke"),
        ("claim with no emails", "UserClaim", json!({"orgRef": {"name": "acme"}, "emails": [], "acknowledgePermanent": true}), "spec.emails"),
        ("external user without sites", "ExternalUser", json!({"orgRef": {"name": "acme"}, "email": "x@other.example", "sites": []}), "spec.sites"),
        ("external user host typo", "ExternalUser", json!({"orgRef": {"name": "acme"}, "email": "x@other.example", "sites": [{"siteUrl": "acme.webex.com", "accountType": "Hots"}]}), "spec.sites[0].accountType"),
    ]);
    cases
}

fn resource(kind: &str) -> ApiResource {
    let plural = match kind {
        "WebexUser" => "webexusers",
        "UserClaim" => "userclaims",
        "ExternalUser" => "externalusers",
        other => panic!("no plural for {other}"),
    };
    ApiResource {
        group: "webex.operator.io".into(),
        version: "v1alpha1".into(),
        api_version: "webex.operator.io/v1alpha1".into(),
        kind: kind.into(),
        plural: plural.into(),
    }
}

#[tokio::test]
async fn bad_manifests_are_refused_with_the_field_named() {
    let client = installed().await;
    let ns = common::temp_namespace(&client, "bad-manifests").await;
    let cases = bad_manifests();
    assert!(cases.len() >= 15);
    let mut failures = Vec::new();
    for (i, (case, kind, spec, field)) in cases.into_iter().enumerate() {
        let name = format!("bad-{i}");
        let mut object = user(&ns, &name, spec);
        object["kind"] = json!(kind);
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &resource(kind));
        let object: DynamicObject = serde_json::from_value(object).unwrap();
        match api
            .patch(&name, &PatchParams::apply("test"), &Patch::Apply(&object))
            .await
        {
            Ok(_) => failures.push(format!("{case}: accepted")),
            Err(kube::Error::Api(status)) => {
                if status.code != 422 || !status.message.contains(field) {
                    failures.push(format!(
                        "{case}: {} {:?} does not name {field}",
                        status.code, status.message
                    ));
                }
            }
            Err(other) => failures.push(format!("{case}: {other}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test]
async fn a_valid_calling_user_is_accepted_and_email_is_immutable() {
    let client = installed().await;
    let ns = common::temp_namespace(&client, "valid").await;
    let api: Api<WebexUser> = Api::namespaced(client.clone(), &ns);
    let spec = with(valid_spec(), "calling", calling());
    let object: WebexUser = serde_json::from_value(user(&ns, "ok", spec.clone())).unwrap();
    api.patch("ok", &PatchParams::apply("test"), &Patch::Apply(&object))
        .await
        .expect("a valid user is accepted");
    let changed: WebexUser =
        serde_json::from_value(user(&ns, "ok", with(spec, "email", json!("other@acme.example")))).unwrap();
    let err = api
        .patch("ok", &PatchParams::apply("test"), &Patch::Apply(&changed))
        .await
        .expect_err("email change is refused");
    assert!(err.to_string().contains("spec.email"), "{err}");
}

#[tokio::test]
async fn examples_apply_cleanly() {
    let client = installed().await;
    let examples = manifests::read_path(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"))
        .expect("examples parse");
    assert!(
        examples
            .iter()
            .any(|m| m.object.types.as_ref().is_some_and(|t| t.kind == "WebexUser"))
    );
    manifests::apply(&client, &examples, "examples-test")
        .await
        .expect("examples apply");
}

#[tokio::test]
async fn kubectl_get_webex_lists_every_kind_through_the_category() {
    let client = installed().await;
    let discovery = kube::Discovery::new(client).run().await.unwrap();
    let group = discovery
        .groups()
        .find(|g| g.name() == "webex.operator.io")
        .expect("group served");
    let kinds: Vec<String> = group.recommended_resources().into_iter().map(|(r, _)| r.kind).collect();
    for kind in ["WebexOrg", "WebexUser", "LicenseTemplate", "UserClaim", "ExternalUser"] {
        assert!(kinds.contains(&kind.to_string()), "{kind} served: {kinds:?}");
    }
}
