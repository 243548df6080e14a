//! Webex Calling person settings (R-USER-16), the "newly licensed user's calling settings
//! error" fault (R-USER-11) and the Contact Center user sync (R-CC-6).
//!
//! Public routes (shapes as in the Calling API, see `webex::calling`):
//! `GET/PUT /v1/people/{personId}/features/{feature}` and
//! `GET/PUT /v1/telephony/config/people/{personId}/{feature}`. A PUT may carry some fields
//! only; the others keep their values. Unknown person: 404. A person without a Calling
//! licence: 404 with error code 4008 "User not found" (assumed: the Calling back end does not
//! know the person). Unknown field or wrong type: 400.
//!
//! Simulator-only Control Hub stand-in (the operator calls it with the org's token; counted,
//! rate-limited and fault-injected like the public API): `GET/PUT /_sim/hub/people/{personId}/
//! calling/{feature}` for simultaneous ring, sequential ring and priority alert, which the public
//! API has for workspaces and for the user's own token only.
//!
//! Simulator-only control routes: `PUT /_sim/orgs/{orgId}/calling-fault` arms R-USER-11 for
//! people who get a Calling licence from then on; `POST /_sim/orgs/{orgId}/contact-center/
//! synchronize-users` is the Control Hub button of R-CC-6 (no public API), and `GET
//! /_sim/orgs/{orgId}/contact-center/users` shows what Contact Center knows.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::sim::auth::Caller;
use crate::sim::error::ApiError;
use crate::sim::state::{Org, SimPerson, State as SimState, person_uuid};
use crate::sim::{AppState, parse_json};
use crate::webex::calling::CallingFeature;
pub use crate::webex::calling::FeatureFamily;
use crate::webex::model::offer_codes::{CONTACT_CENTER_PREMIUM as CC_PREMIUM, CONTACT_CENTER_STANDARD as CC_STANDARD};

/// Error code of the Calling API for a person it does not know (no Calling licence).
pub const CALLING_USER_NOT_FOUND: i64 = 4008;

/// How the R-USER-11 fault behaves for people newly given a Calling licence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CallingFault {
    /// Their calling settings fail until the Calling licence is removed and assigned again.
    UntilReassigned,
    /// Their calling settings keep failing, re-assigned or not.
    Persistent,
}

/// Body of `PUT /_sim/orgs/{orgId}/calling-fault`: `{"mode": null}` disarms.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallingFaultSwitch {
    pub mode: Option<CallingFault>,
}

/// What Webex Calling holds for one person.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonCalling {
    /// How often a Calling licence was assigned to the person.
    pub assignments: u32,
    /// The person's calling settings answer 500 (R-USER-11).
    pub failing: bool,
    /// Settings changed from their defaults, per feature slug.
    pub features: BTreeMap<String, Value>,
}

/// A Contact Center user record, as "Synchronise users" leaves it (webex-api-notes §5.7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactCenterUser {
    pub ci_user_id: String,
    pub email: String,
    pub contact_center_enabled: bool,
    /// `STANDARD_AGENT`, `PREMIUM_AGENT` or `SUPERVISOR`; absent without a licence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_profile_type: Option<String>,
}

/// Answer of `GET /_sim/orgs/{orgId}/contact-center/users`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactCenterView {
    /// How often "Synchronise users" ran for the org.
    pub synchronizations: u32,
    pub users: Vec<ContactCenterUser>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallingStore {
    /// Per person uuid.
    pub people: BTreeMap<String, PersonCalling>,
    /// Armed R-USER-11 fault per org uuid.
    pub faults: BTreeMap<String, CallingFault>,
    /// Contact Center as of the last sync, per org uuid.
    pub contact_center: BTreeMap<String, ContactCenterView>,
}

/// The settings of a feature nobody changed yet: also the schema of what a PUT may send (a
/// field absent here is refused, `destination` is a string that is absent until set).
pub fn defaults(feature: CallingFeature) -> Value {
    match feature {
        CallingFeature::DoNotDisturb => {
            json!({"enabled": false, "ringSplashEnabled": false, "webexGoOverrideEnabled": false})
        }
        CallingFeature::CallForwarding => json!({
            "callForwarding": {
                "always": {"enabled": false, "ringReminderEnabled": false, "destinationVoicemailEnabled": false},
                "busy": {"enabled": false, "destinationVoicemailEnabled": false},
                "noAnswer": {"enabled": false, "numberOfRings": 3, "systemMaxNumberOfRings": 20, "destinationVoicemailEnabled": false}
            },
            "businessContinuity": {"enabled": false, "destinationVoicemailEnabled": false}
        }),
        CallingFeature::CallWaiting => json!({"enabled": true}),
        CallingFeature::BargeIn => json!({"enabled": false, "toneEnabled": false}),
        CallingFeature::AnonymousCallReject => json!({"enabled": false}),
        CallingFeature::SingleNumberReach => {
            json!({"enabled": false, "alertAllNumbersForClickToDialCallsEnabled": false, "numbers": []})
        }
        CallingFeature::Hoteling => json!({"enabled": false}),
        CallingFeature::CallerId => json!({
            "types": ["DIRECT_LINE"], "selected": "DIRECT_LINE",
            "externalCallerIdNamePolicy": "DIRECT_LINE", "blockInForwardCallsEnabled": false
        }),
        // Assumed: voicemail off until an admin or the user turns it on.
        CallingFeature::Voicemail => json!({
            "enabled": false,
            "sendAllCalls": {"enabled": false},
            "sendBusyCalls": {"enabled": false, "greeting": "DEFAULT", "greetingUploaded": false},
            "sendUnansweredCalls": {
                "enabled": false, "greeting": "DEFAULT", "greetingUploaded": false,
                "numberOfRings": 3, "systemMaxNumberOfRings": 20
            },
            "notifications": {"enabled": false},
            "transferToNumber": {"enabled": false},
            "emailCopyOfMessage": {"enabled": false},
            "messageStorage": {"mwiEnabled": true, "storageType": "INTERNAL"},
            "voiceMessageForwardingEnabled": false
        }),
        CallingFeature::ExecutiveAssistant => json!({"type": "UNASSIGNED"}),
        CallingFeature::SelectiveAccept | CallingFeature::SelectiveReject => {
            json!({"enabled": false, "criteria": []})
        }
        CallingFeature::SelectiveForward => json!({
            "enabled": false, "ringReminderEnabled": false, "destinationVoicemailEnabled": false,
            "criteria": []
        }),
        CallingFeature::SimultaneousRing => json!({
            "enabled": false, "doNotRingIfOnCallEnabled": true, "phoneNumbers": [],
            "criteria": [], "criteriasEnabled": false
        }),
        CallingFeature::SequentialRing => json!({
            "enabled": false, "ringBaseLocationFirstEnabled": true, "baseLocationNumberOfRings": 2,
            "continueIfBaseLocationIsBusyEnabled": true, "callsToVoicemailEnabled": false,
            "phoneNumbers": [], "criteria": []
        }),
        CallingFeature::PriorityAlert => json!({"enabled": false, "criteria": []}),
    }
}

/// One entry of a feature's `phoneNumbers` list as it reads back (absent fields get these).
fn ring_number_defaults(feature: CallingFeature) -> Option<Value> {
    match feature {
        CallingFeature::SimultaneousRing => {
            Some(json!({"phoneNumber": "", "answerConfirmationRequiredEnabled": false}))
        }
        CallingFeature::SequentialRing => Some(json!({
            "phoneNumber": "", "answerConfirmationRequiredEnabled": false, "numberOfRings": 3
        })),
        _ => None,
    }
}

/// What a PUT may send: the defaults, with each list holding the shape of one entry.
fn shape(feature: CallingFeature) -> Value {
    let mut shape = defaults(feature);
    if let (Some(entry), Some(list)) = (ring_number_defaults(feature), shape.get_mut("phoneNumbers")) {
        *list = Value::Array(vec![entry]);
    }
    shape
}

/// The longest `phoneNumbers` list of a feature (wxc_sdk: 10 for simultaneous, 5 for sequential).
fn max_ring_numbers(feature: CallingFeature) -> usize {
    match feature {
        CallingFeature::SimultaneousRing => 10,
        CallingFeature::SequentialRing => 5,
        _ => 0,
    }
}

/// Fields a PUT may not send (read-only) or that are managed elsewhere.
const READ_ONLY: &[&str] = &[
    "systemMaxNumberOfRings",
    "types",
    "numbers",
    "criteria",
    "greetingUploaded",
];
/// String fields absent from the defaults that a PUT may set.
const OPTIONAL_STRINGS: &[&str] = &["destination", "emailId", "defaultPhoneNumberToForward"];

/// Checks a PUT body against the feature's shape: known fields, right JSON types.
pub fn check_write(schema: &Value, body: &Value, at: &str) -> Result<(), ApiError> {
    let (Value::Object(shape), Value::Object(fields)) = (schema, body) else {
        return Err(ApiError::bad_request(format!(
            "Invalid request body at {at}: an object is expected."
        )));
    };
    for (key, value) in fields {
        let path = if at.is_empty() {
            key.clone()
        } else {
            format!("{at}.{key}")
        };
        if READ_ONLY.contains(&key.as_str()) {
            return Err(ApiError::bad_request(format!("Field {path} cannot be changed.")));
        }
        let ok = match (shape.get(key), value) {
            (None, Value::String(_)) => OPTIONAL_STRINGS.contains(&key.as_str()),
            (None, _) => false,
            (Some(Value::Object(_)), Value::Object(_)) => {
                check_write(&shape[key.as_str()], value, &path)?;
                true
            }
            // A list is replaced whole; its shape holds the shape of one entry.
            (Some(Value::Array(entry)), Value::Array(items)) => match entry.first() {
                Some(entry) => {
                    for (i, item) in items.iter().enumerate() {
                        check_write(entry, item, &format!("{path}[{i}]"))?;
                    }
                    true
                }
                None => false,
            },
            (Some(Value::Bool(_)), Value::Bool(_)) => true,
            (Some(Value::Number(_)), Value::Number(n)) => n.is_u64(),
            (Some(Value::String(_)), Value::String(_)) => true,
            _ => false,
        };
        if !ok {
            return Err(ApiError::bad_request(format!("Invalid field {path}.")));
        }
    }
    Ok(())
}

/// `base` with `patch` laid over it, object by object.
pub fn overlay(base: &Value, patch: &Value) -> Value {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            let mut out = b.clone();
            for (k, v) in p {
                let merged = match out.get(k) {
                    Some(existing) => overlay(existing, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (_, p) => p.clone(),
    }
}

fn rings_in_range(value: &Value, what: &str) -> Result<(), ApiError> {
    match value.as_u64() {
        None => Ok(()),
        Some(rings) if (2..=20).contains(&rings) => Ok(()),
        Some(_) => Err(ApiError::bad_request(format!("{what} must be between 2 and 20."))),
    }
}

/// Rules the Calling API enforces on the result of a write.
fn check_result(feature: CallingFeature, value: &Value) -> Result<(), ApiError> {
    if let Some(numbers) = value["phoneNumbers"].as_array() {
        let max = max_ring_numbers(feature);
        if numbers.len() > max {
            return Err(ApiError::bad_request(format!(
                "{}: at most {max} phone numbers are allowed.",
                feature.slug()
            )));
        }
        for (i, number) in numbers.iter().enumerate() {
            if number["phoneNumber"].as_str().is_none_or(str::is_empty) {
                return Err(ApiError::bad_request(format!(
                    "phoneNumbers[{i}].phoneNumber is required."
                )));
            }
            rings_in_range(&number["numberOfRings"], &format!("phoneNumbers[{i}].numberOfRings"))?;
        }
    }
    match feature {
        CallingFeature::SequentialRing => {
            rings_in_range(&value["baseLocationNumberOfRings"], "baseLocationNumberOfRings")?;
        }
        CallingFeature::Voicemail => {
            rings_in_range(
                &value["sendUnansweredCalls"]["numberOfRings"],
                "sendUnansweredCalls.numberOfRings",
            )?;
            let copy = &value["emailCopyOfMessage"];
            if copy["enabled"].as_bool() == Some(true) && copy["emailId"].as_str().is_none_or(str::is_empty) {
                return Err(ApiError::bad_request(
                    "emailCopyOfMessage.emailId is required when the email copy is enabled.",
                ));
            }
        }
        CallingFeature::SelectiveForward => {
            let enabled = value["enabled"].as_bool() == Some(true);
            if enabled && value["defaultPhoneNumberToForward"].as_str().is_none_or(str::is_empty) {
                return Err(ApiError::bad_request(
                    "defaultPhoneNumberToForward is required when selective forward is enabled.",
                ));
            }
        }
        CallingFeature::ExecutiveAssistant => {
            let role = value["type"].as_str().unwrap_or_default();
            if !["UNASSIGNED", "EXECUTIVE", "EXECUTIVE_ASSISTANT"].contains(&role) {
                return Err(ApiError::bad_request(format!("Invalid type {role}.")));
            }
        }
        _ => {}
    }
    if feature == CallingFeature::CallForwarding {
        for case in ["always", "busy", "noAnswer"] {
            let rule = &value["callForwarding"][case];
            let enabled = rule["enabled"].as_bool().unwrap_or(false);
            let destination = rule["destination"].as_str().unwrap_or("");
            if enabled && destination.is_empty() {
                return Err(ApiError::bad_request(format!(
                    "callForwarding.{case}.destination is required when forwarding is enabled."
                )));
            }
        }
        let rings = value["callForwarding"]["noAnswer"]["numberOfRings"]
            .as_u64()
            .unwrap_or(3);
        if !(2..=20).contains(&rings) {
            return Err(ApiError::bad_request(
                "callForwarding.noAnswer.numberOfRings must be between 2 and 20.",
            ));
        }
    }
    Ok(())
}

fn holds_calling(org: &Org, person: &SimPerson) -> bool {
    person
        .licenses
        .iter()
        .filter_map(|id| org.license(id))
        .any(|l| l.is_calling())
}

/// Called by every change of a person's licences: a Calling licence assigned anew starts with
/// default settings (and, with the fault armed, failing ones); a removed one loses them.
pub fn on_calling_licence(s: &mut SimState, org_uuid: &str, person_uuid: &str, had: bool, has: bool) {
    let fault = s.calling.faults.get(org_uuid).copied();
    let record = s.calling.people.entry(person_uuid.to_string()).or_default();
    match (had, has) {
        (false, true) => {
            record.assignments += 1;
            record.features.clear();
            record.failing = match fault {
                None => false,
                Some(CallingFault::Persistent) => true,
                // Only the first assignment breaks; the documented remedy cures it (R-USER-11).
                Some(CallingFault::UntilReassigned) => record.assignments == 1,
            };
        }
        (true, false) => {
            record.features.clear();
            record.failing = false;
        }
        _ => {}
    }
}

/// The person (of the caller's org) and whether Calling knows them.
fn calling_person(s: &SimState, caller: &Caller, person_id: &str) -> Result<String, ApiError> {
    let not_found = || ApiError::not_found("The requested resource could not be found.");
    let uuid = person_uuid(person_id).ok_or_else(not_found)?;
    let person = s
        .person(&uuid)
        .filter(|p| p.org_uuid == caller.org_uuid)
        .ok_or_else(not_found)?;
    let org = s.org(&caller.org_uuid).ok_or_else(ApiError::unauthorized)?;
    if !holds_calling(org, person) {
        return Err(
            ApiError::not_found("User not found.").with_code(CALLING_USER_NOT_FOUND, "[Error 4008] User not found.")
        );
    }
    if s.calling.people.get(&uuid).is_some_and(|r| r.failing) {
        return Err(ApiError::internal(
            "Failed to process the calling settings of the user: the user's Calling provisioning is incomplete.",
        ));
    }
    Ok(uuid)
}

fn feature_of(slug: &str, family: FeatureFamily) -> Result<CallingFeature, ApiError> {
    CallingFeature::from_slug(slug)
        .filter(|f| f.family() == family)
        .ok_or_else(|| ApiError::not_found("The requested resource could not be found."))
}

fn current(s: &SimState, uuid: &str, feature: CallingFeature) -> Value {
    let base = defaults(feature);
    match s.calling.people.get(uuid).and_then(|r| r.features.get(feature.slug())) {
        Some(changed) => overlay(&base, changed),
        None => base,
    }
}

fn read(app: &AppState, caller: &Caller, person_id: &str, feature: CallingFeature) -> Result<Response, ApiError> {
    app.store.read(|s| {
        let uuid = calling_person(s, caller, person_id)?;
        Ok(Json(current(s, &uuid, feature)).into_response())
    })
}

fn write(
    app: &AppState,
    caller: &Caller,
    person_id: &str,
    feature: CallingFeature,
    body: &[u8],
) -> Result<Response, ApiError> {
    let mut patch: Value = parse_json(body)?;
    check_write(&shape(feature), &patch, "")?;
    // Entries of a list read back with every field.
    if let (Some(entry), Some(Value::Array(items))) = (ring_number_defaults(feature), patch.get_mut("phoneNumbers")) {
        for item in items.iter_mut() {
            *item = overlay(&entry, item);
        }
    }
    app.store.mutate(|s| {
        let uuid = calling_person(s, caller, person_id)?;
        let next = overlay(&current(s, &uuid, feature), &patch);
        check_result(feature, &next)?;
        let record = s.calling.people.entry(uuid).or_default();
        let stored = record
            .features
            .get(feature.slug())
            .cloned()
            .unwrap_or(Value::Object(Default::default()));
        record
            .features
            .insert(feature.slug().to_string(), overlay(&stored, &patch));
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

/// GET and PUT of one path family's features: `/v1/people/{personId}/features/{feature}`,
/// `/v1/telephony/config/people/{personId}/{feature}`, and the simulator-only Control Hub
/// stand-in `/_sim/hub/people/{personId}/calling/{feature}` (simultaneous ring, sequential
/// ring, priority alert). A feature of another family answers 404, as on an unknown path.
pub fn feature_routes(family: FeatureFamily) -> axum::routing::MethodRouter<AppState> {
    axum::routing::get(
        move |caller: Caller, State(app): State<AppState>, Path((person_id, slug)): Path<(String, String)>| async move {
            read(&app, &caller, &person_id, feature_of(&slug, family)?)
        },
    )
    .put(
        move |caller: Caller,
              State(app): State<AppState>,
              Path((person_id, slug)): Path<(String, String)>,
              body: Bytes| async move { write(&app, &caller, &person_id, feature_of(&slug, family)?, &body) },
    )
}

fn org_uuid_of(s: &SimState, org_id: &str) -> Result<String, ApiError> {
    s.org_by_id(org_id)
        .map(|o| o.uuid.clone())
        .ok_or_else(|| ApiError::not_found(format!("Unknown org {org_id}")))
}

/// `PUT /_sim/orgs/{orgId}/calling-fault` (simulator-only): arms or disarms R-USER-11.
pub async fn set_fault(
    State(app): State<AppState>,
    Path(org_id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let switch: CallingFaultSwitch = parse_json(&body)?;
    app.store.mutate(|s| {
        let uuid = org_uuid_of(s, &org_id)?;
        match switch.mode {
            Some(mode) => s.calling.faults.insert(uuid, mode),
            None => s.calling.faults.remove(&uuid),
        };
        Ok(StatusCode::NO_CONTENT)
    })
}

/// Contact Center's view of one person, from their licences and roles.
fn contact_center_user(org: &Org, person: &SimPerson) -> ContactCenterUser {
    let codes: Vec<&str> = person
        .licenses
        .iter()
        .filter_map(|id| org.license(id))
        .map(|l| l.offer_code.as_str())
        .collect();
    let supervisor = person.roles.iter().any(|r| r == "id_cjp_supervisor");
    let profile = if codes.contains(&CC_PREMIUM) {
        Some(if supervisor { "SUPERVISOR" } else { "PREMIUM_AGENT" })
    } else if codes.contains(&CC_STANDARD) {
        Some("STANDARD_AGENT")
    } else {
        None
    };
    ContactCenterUser {
        ci_user_id: person.public_id(),
        email: person.email().to_string(),
        contact_center_enabled: profile.is_some(),
        user_profile_type: profile.map(str::to_string),
    }
}

/// `POST /_sim/orgs/{orgId}/contact-center/synchronize-users` (simulator-only; Control Hub's
/// "Synchronize Users" button, R-CC-6): Contact Center takes the org's people as they are now.
pub async fn synchronize_users(State(app): State<AppState>, Path(org_id): Path<String>) -> Result<Response, ApiError> {
    app.store.mutate(|s| {
        let uuid = org_uuid_of(s, &org_id)?;
        let org = s
            .org(&uuid)
            .cloned()
            .ok_or_else(|| ApiError::not_found("Unknown org"))?;
        let users: Vec<ContactCenterUser> = s
            .people
            .iter()
            .filter(|p| p.org_uuid == uuid)
            .map(|p| contact_center_user(&org, p))
            .filter(|u| u.contact_center_enabled)
            .collect();
        let view = s.calling.contact_center.entry(uuid).or_default();
        view.synchronizations += 1;
        view.users = users;
        Ok((StatusCode::OK, Json(view.clone())).into_response())
    })
}

/// `GET /_sim/orgs/{orgId}/contact-center/users` (simulator-only).
pub async fn contact_center_users(
    State(app): State<AppState>,
    Path(org_id): Path<String>,
) -> Result<Json<ContactCenterView>, ApiError> {
    app.store.read(|s| {
        let uuid = org_uuid_of(s, &org_id)?;
        Ok(Json(s.calling.contact_center.get(&uuid).cloned().unwrap_or_default()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_checked_against_the_feature_shape() {
        let schema = defaults(CallingFeature::CallForwarding);
        assert!(
            check_write(
                &schema,
                &json!({"callForwarding": {"always": {"enabled": true, "destination": "+14085550100"}}}),
                ""
            )
            .is_ok()
        );
        assert!(check_write(&schema, &json!({"callForwarding": {"always": {"enabled": "yes"}}}), "").is_err());
        assert!(check_write(&schema, &json!({"callForwarding": {"sometimes": {}}}), "").is_err());
        assert!(
            check_write(
                &schema,
                &json!({"callForwarding": {"noAnswer": {"systemMaxNumberOfRings": 5}}}),
                ""
            )
            .is_err()
        );
        assert!(check_write(&defaults(CallingFeature::DoNotDisturb), &json!([true]), "").is_err());
    }

    #[test]
    fn overlay_keeps_fields_the_patch_does_not_name() {
        let base = defaults(CallingFeature::DoNotDisturb);
        let next = overlay(&base, &json!({"enabled": true}));
        assert_eq!(
            next,
            json!({"enabled": true, "ringSplashEnabled": false, "webexGoOverrideEnabled": false})
        );
    }

    #[test]
    fn forwarding_needs_a_destination_and_sane_rings() {
        let base = defaults(CallingFeature::CallForwarding);
        let on = overlay(&base, &json!({"callForwarding": {"busy": {"enabled": true}}}));
        assert!(check_result(CallingFeature::CallForwarding, &on).is_err());
        let rings = overlay(&base, &json!({"callForwarding": {"noAnswer": {"numberOfRings": 40}}}));
        assert!(check_result(CallingFeature::CallForwarding, &rings).is_err());
        assert!(check_result(CallingFeature::CallForwarding, &base).is_ok());
    }

    #[test]
    fn ring_lists_are_checked_entry_by_entry_and_counted() {
        let schema = shape(CallingFeature::SequentialRing);
        let ok = json!({"phoneNumbers": [{"phoneNumber": "+14085550100", "numberOfRings": 4}]});
        assert!(check_write(&schema, &ok, "").is_ok());
        let bad_field = json!({"phoneNumbers": [{"phoneNumber": "+1408", "colour": "red"}]});
        assert!(check_write(&schema, &bad_field, "").is_err());
        assert!(check_write(&schema, &json!({"criteria": []}), "").is_err());
        let six: Vec<Value> = (0..6)
            .map(|i| json!({"phoneNumber": format!("+140855501{i:02}")}))
            .collect();
        let too_many = overlay(&defaults(CallingFeature::SequentialRing), &json!({"phoneNumbers": six}));
        assert!(check_result(CallingFeature::SequentialRing, &too_many).is_err());
        // Simultaneous ring takes up to ten.
        let sim_six = overlay(
            &defaults(CallingFeature::SimultaneousRing),
            &json!({"phoneNumbers": six}),
        );
        assert!(check_result(CallingFeature::SimultaneousRing, &sim_six).is_ok());
        let rings = overlay(
            &defaults(CallingFeature::SequentialRing),
            &json!({"baseLocationNumberOfRings": 1}),
        );
        assert!(check_result(CallingFeature::SequentialRing, &rings).is_err());
        let no_number = overlay(
            &defaults(CallingFeature::SimultaneousRing),
            &json!({"phoneNumbers": [{"answerConfirmationRequiredEnabled": true}]}),
        );
        assert!(check_result(CallingFeature::SimultaneousRing, &no_number).is_err());
    }

    #[test]
    fn voicemail_copy_and_selective_forward_need_a_target_and_executive_roles_are_a_closed_set() {
        let base = defaults(CallingFeature::Voicemail);
        let copy = overlay(&base, &json!({"emailCopyOfMessage": {"enabled": true}}));
        assert!(check_result(CallingFeature::Voicemail, &copy).is_err());
        let with_address = overlay(&copy, &json!({"emailCopyOfMessage": {"emailId": "a@b.example"}}));
        assert!(check_result(CallingFeature::Voicemail, &with_address).is_ok());
        assert!(
            check_write(
                &shape(CallingFeature::Voicemail),
                &json!({"sendBusyCalls": {"greetingUploaded": true}}),
                ""
            )
            .is_err()
        );
        let forward = overlay(&defaults(CallingFeature::SelectiveForward), &json!({"enabled": true}));
        assert!(check_result(CallingFeature::SelectiveForward, &forward).is_err());
        let forward = overlay(&forward, &json!({"defaultPhoneNumberToForward": "5999"}));
        assert!(check_result(CallingFeature::SelectiveForward, &forward).is_ok());
        let role = |r: &str| json!({"type": r});
        assert!(check_result(CallingFeature::ExecutiveAssistant, &role("EXECUTIVE")).is_ok());
        assert!(check_result(CallingFeature::ExecutiveAssistant, &role("BOSS")).is_err());
    }

    #[test]
    fn the_fault_breaks_the_first_assignment_until_reassigned() {
        let mut s = SimState::default();
        s.calling.faults.insert("o".into(), CallingFault::UntilReassigned);
        on_calling_licence(&mut s, "o", "p", false, true);
        assert!(s.calling.people["p"].failing);
        on_calling_licence(&mut s, "o", "p", true, false);
        on_calling_licence(&mut s, "o", "p", false, true);
        assert!(!s.calling.people["p"].failing);
        s.calling.faults.insert("o".into(), CallingFault::Persistent);
        on_calling_licence(&mut s, "o", "q", false, true);
        on_calling_licence(&mut s, "o", "q", true, false);
        on_calling_licence(&mut s, "o", "q", false, true);
        assert!(s.calling.people["q"].failing);
    }
}
