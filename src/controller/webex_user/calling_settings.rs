//! Pure decisions about a user's person-level Calling settings (R-USER-16) and the remedy for
//! a new user whose calling settings fail (R-USER-11).
//!
//! The spec names only the settings (and fields) it manages; each managed feature becomes the
//! partial body of one PUT. A feature is written only when Webex does not already hold every
//! field the spec names, so steady state makes no writes, and fields the spec leaves out keep
//! whatever the user set.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::api::calling_settings::CallingSettings;
use crate::api::webex_user::WebexUserStatus;
use crate::controller::org_registry::OrgFacts;
use crate::webex::calling::CallingFeature;
use crate::webex::model::{LicenseOperation, LicenseProperties, LicenseRequest, PatchUserLicenses, Person};

/// Drops empty objects (a section the spec names without any field manages nothing).
fn prune(value: Value) -> Option<Value> {
    match value {
        Value::Object(fields) => {
            let kept: Map<String, Value> = fields
                .into_iter()
                .filter_map(|(k, v)| prune(v).map(|v| (k, v)))
                .collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        Value::Null => None,
        other => Some(other),
    }
}

fn part<T: serde::Serialize>(value: &Option<T>) -> Option<Value> {
    value
        .as_ref()
        .and_then(|v| serde_json::to_value(v).ok())
        .and_then(prune)
}

/// The managed features and, for each, the fields to hold (the body of its PUT).
pub fn desired(settings: &CallingSettings) -> Vec<(CallingFeature, Value)> {
    let forwarding = part(&settings.call_forwarding).map(|v| {
        let mut wrapped = Map::new();
        wrapped.insert("callForwarding".into(), v);
        Value::Object(wrapped)
    });
    [
        (CallingFeature::DoNotDisturb, part(&settings.do_not_disturb)),
        (CallingFeature::CallForwarding, forwarding),
        (CallingFeature::CallWaiting, part(&settings.call_waiting)),
        (CallingFeature::BargeIn, part(&settings.barge_in)),
        (
            CallingFeature::AnonymousCallReject,
            part(&settings.anonymous_call_rejection),
        ),
        (CallingFeature::SingleNumberReach, part(&settings.single_number_reach)),
        (CallingFeature::Hoteling, part(&settings.hoteling)),
        (CallingFeature::CallerId, part(&settings.caller_id_blocking)),
        (CallingFeature::Voicemail, part(&settings.voicemail)),
        (CallingFeature::ExecutiveAssistant, part(&settings.executive_assistant)),
        (CallingFeature::SelectiveAccept, part(&settings.selective_accept)),
        (CallingFeature::SelectiveReject, part(&settings.selective_reject)),
        (CallingFeature::SelectiveForward, part(&settings.selective_forward)),
        (CallingFeature::SimultaneousRing, part(&settings.simultaneous_ring)),
        (CallingFeature::SequentialRing, part(&settings.sequential_ring)),
        (CallingFeature::PriorityAlert, part(&settings.priority_alert)),
    ]
    .into_iter()
    .filter_map(|(feature, body)| body.map(|b| (feature, b)))
    .collect()
}

/// Whether `current` holds every field of `wanted` with the same value.
pub fn covers(current: &Value, wanted: &Value) -> bool {
    match (current, wanted) {
        (Value::Object(have), Value::Object(want)) => {
            want.iter().all(|(k, w)| have.get(k).is_some_and(|h| covers(h, w)))
        }
        // A list (ring numbers) is managed whole: same length and order; in each entry only the
        // fields the spec names count.
        (Value::Array(have), Value::Array(want)) => {
            have.len() == want.len() && have.iter().zip(want).all(|(h, w)| covers(h, w))
        }
        // Numbers compare by value (Webex may answer 3 for 3.0 and the other way round).
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (a, b) => a == b,
    }
}

/// The PUTs needed: the managed features whose observed value does not cover the spec. A
/// feature that was not observed is written.
pub fn writes(
    desired: &[(CallingFeature, Value)],
    observed: &BTreeMap<CallingFeature, Value>,
) -> Vec<(CallingFeature, Value)> {
    desired
        .iter()
        .filter(|(feature, wanted)| !observed.get(feature).is_some_and(|have| covers(have, wanted)))
        .cloned()
        .collect()
}

/// Splits the managed features into those the operator can set and those Webex's public API
/// cannot reach (Control Hub only, R-USER-16). With the simulator every feature is reachable.
pub fn reachable(
    desired: Vec<(CallingFeature, Value)>,
    simulator: bool,
) -> (Vec<(CallingFeature, Value)>, Vec<CallingFeature>) {
    let (api, hub): (Vec<_>, Vec<_>) = desired
        .into_iter()
        .partition(|(feature, _)| simulator || feature.in_public_api());
    (api, hub.into_iter().map(|(feature, _)| feature).collect())
}

/// Condition type: True while the spec names calling settings that only Control Hub can set.
pub const CALLING_SETTINGS_IN_CONTROL_HUB: &str = "CallingSettingsInControlHub";

/// What the admin is told to do for the settings the API cannot reach.
pub fn control_hub_message(email: &str, features: &[CallingFeature]) -> String {
    let names = features.iter().map(|f| f.slug()).collect::<Vec<_>>().join(", ");
    format!(
        "Webex has no admin API for {names} of a person (only the user's own token reaches them): set them in Control Hub > Users > {email} > Calling (R-USER-16); the other calling settings are managed"
    )
}

/// "doNotDisturb, callForwarding" for messages.
pub fn describe(writes: &[(CallingFeature, Value)]) -> String {
    writes.iter().map(|(f, _)| f.slug()).collect::<Vec<_>>().join(", ")
}

/// Whether writes needed now are drift (someone changed Webex) rather than work left over: the
/// generation was synced, and the last verdict was not one of the licence-detail blocks (a user
/// that waited for a Calling licence, or whose settings failed, has not had its settings yet).
pub fn counts_as_drift(already_synced: bool, previous_reason: Option<&str>) -> bool {
    let unfinished = [
        <&str>::from(super::plan::UserReason::CallingLicenseRequired),
        <&str>::from(super::plan::UserReason::CallingSettingsFailed),
    ];
    already_synced && !previous_reason.is_some_and(|r| unfinished.contains(&r))
}

/// The person's Calling licence id (offer codes `BC...`), if the org offers it.
pub fn calling_license<'a>(person: &'a Person, org: &OrgFacts) -> Option<&'a str> {
    person
        .licenses
        .iter()
        .find(|id| {
            org.licenses
                .iter()
                .any(|l| &l.id == *id && l.offer_code.starts_with("BC"))
        })
        .map(String::as_str)
}

/// What to do when a user's calling settings fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsFailure {
    /// R-USER-11: remove the Calling licence and assign it again, then retry once.
    ReassignLicense,
    /// Report it; `remedy_tried` says whether the re-assignment was already done.
    Report { remedy_tried: bool },
}

/// R-USER-11 applies to users the operator created (a new user), once per WebexUser: a person
/// adopted from Webex had working settings before, and repeating the remedy would take the
/// number away again and again.
pub fn on_failure(status: &WebexUserStatus) -> SettingsFailure {
    let remedy_tried = status.calling_license_reassigned_at.is_some();
    if status.adopted == Some(false) && !remedy_tried {
        SettingsFailure::ReassignLicense
    } else {
        SettingsFailure::Report { remedy_tried }
    }
}

/// The two licence changes of the remedy: remove the Calling licence, then assign it again with
/// the person's number, extension and location as they are (Webex drops them with the
/// licence).
pub fn reassignment(person: &Person, license_id: &str) -> (PatchUserLicenses, PatchUserLicenses) {
    let request = |operation, properties| PatchUserLicenses {
        person_id: Some(person.id.clone()),
        licenses: vec![LicenseRequest {
            id: license_id.to_string(),
            operation,
            properties,
        }],
        ..Default::default()
    };
    let phone_number = person
        .phone_numbers
        .iter()
        .find(|n| n.kind == "work")
        .map(|n| n.value.clone());
    let properties = LicenseProperties {
        location_id: person.location_id.clone(),
        phone_number,
        extension: person.extension.clone(),
    };
    (
        request(LicenseOperation::Remove, None),
        request(LicenseOperation::Add, Some(properties)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::calling_settings::{
        BargeIn, CallForwarding, CallerIdBlocking, DoNotDisturb, ExecutiveAssistant, ExecutiveRole, ForwardAlways,
        ForwardNoAnswer, RingNumber, SelectiveForward, SequentialRing, SimultaneousRing, SingleNumberReach, Toggle,
        Voicemail, VoicemailUnanswered,
    };
    use crate::controller::org_registry::OrgLicense;
    use crate::webex::model::PhoneNumber;
    use serde_json::json;

    fn on() -> Option<Toggle> {
        Some(Toggle { enabled: Some(true) })
    }

    #[test]
    fn nothing_set_manages_nothing() {
        assert!(desired(&CallingSettings::default()).is_empty());
        // A section without fields manages nothing either.
        let empty = CallingSettings {
            do_not_disturb: Some(DoNotDisturb::default()),
            call_forwarding: Some(CallForwarding {
                always: Some(ForwardAlways::default()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(desired(&empty).is_empty());
    }

    #[test]
    fn each_setting_maps_to_its_feature_and_wire_fields() {
        let settings = CallingSettings {
            do_not_disturb: Some(DoNotDisturb {
                enabled: Some(true),
                ring_splash_enabled: None,
            }),
            call_forwarding: Some(CallForwarding {
                always: None,
                busy: None,
                no_answer: Some(ForwardNoAnswer {
                    enabled: Some(true),
                    destination: Some("+14085550100".into()),
                    number_of_rings: Some(4),
                    destination_voicemail_enabled: None,
                }),
            }),
            call_waiting: Some(Toggle { enabled: Some(false) }),
            barge_in: Some(BargeIn {
                enabled: Some(true),
                tone_enabled: Some(false),
            }),
            anonymous_call_rejection: on(),
            single_number_reach: Some(SingleNumberReach {
                enabled: Some(true),
                alert_all_numbers_for_click_to_dial_calls_enabled: None,
            }),
            hoteling: on(),
            caller_id_blocking: Some(CallerIdBlocking {
                block_in_forward_calls_enabled: Some(true),
            }),
            simultaneous_ring: Some(SimultaneousRing {
                enabled: Some(true),
                do_not_ring_if_on_call_enabled: None,
                phone_numbers: Some(vec![RingNumber {
                    phone_number: "+14085550190".into(),
                    ..Default::default()
                }]),
            }),
            sequential_ring: Some(SequentialRing {
                base_location_number_of_rings: Some(4),
                ..Default::default()
            }),
            priority_alert: on(),
            voicemail: Some(Voicemail {
                send_unanswered_calls: Some(VoicemailUnanswered {
                    enabled: Some(true),
                    number_of_rings: Some(6),
                }),
                ..Default::default()
            }),
            executive_assistant: Some(ExecutiveAssistant {
                role: Some(ExecutiveRole::ExecutiveAssistant),
            }),
            selective_accept: None,
            selective_reject: Some(Toggle { enabled: Some(false) }),
            selective_forward: Some(SelectiveForward {
                enabled: Some(true),
                default_phone_number_to_forward: Some("5999".into()),
                ..Default::default()
            }),
        };
        let got: BTreeMap<CallingFeature, Value> = desired(&settings).into_iter().collect();
        assert_eq!(got[&CallingFeature::DoNotDisturb], json!({"enabled": true}));
        assert_eq!(
            got[&CallingFeature::CallForwarding],
            json!({"callForwarding": {"noAnswer": {"enabled": true, "destination": "+14085550100", "numberOfRings": 4}}})
        );
        assert_eq!(got[&CallingFeature::CallWaiting], json!({"enabled": false}));
        assert_eq!(
            got[&CallingFeature::BargeIn],
            json!({"enabled": true, "toneEnabled": false})
        );
        assert_eq!(got[&CallingFeature::AnonymousCallReject], json!({"enabled": true}));
        assert_eq!(got[&CallingFeature::SingleNumberReach], json!({"enabled": true}));
        assert_eq!(got[&CallingFeature::Hoteling], json!({"enabled": true}));
        assert_eq!(
            got[&CallingFeature::CallerId],
            json!({"blockInForwardCallsEnabled": true})
        );
        assert_eq!(
            got[&CallingFeature::SimultaneousRing],
            json!({"enabled": true, "phoneNumbers": [{"phoneNumber": "+14085550190"}]})
        );
        assert_eq!(
            got[&CallingFeature::SequentialRing],
            json!({"baseLocationNumberOfRings": 4})
        );
        assert_eq!(got[&CallingFeature::PriorityAlert], json!({"enabled": true}));
        assert_eq!(
            got[&CallingFeature::Voicemail],
            json!({"sendUnansweredCalls": {"enabled": true, "numberOfRings": 6}})
        );
        assert_eq!(
            got[&CallingFeature::ExecutiveAssistant],
            json!({"type": "EXECUTIVE_ASSISTANT"})
        );
        assert_eq!(got[&CallingFeature::SelectiveReject], json!({"enabled": false}));
        assert_eq!(
            got[&CallingFeature::SelectiveForward],
            json!({"enabled": true, "defaultPhoneNumberToForward": "5999"})
        );
        assert!(!got.contains_key(&CallingFeature::SelectiveAccept));
        assert_eq!(got.len(), 15);
    }

    #[test]
    fn ring_lists_are_managed_whole_but_only_named_entry_fields_count() {
        let wanted = json!({"phoneNumbers": [{"phoneNumber": "+1555"}, {"phoneNumber": "+1666"}]});
        let held = json!({"enabled": false, "phoneNumbers": [
            {"phoneNumber": "+1555", "answerConfirmationRequiredEnabled": true},
            {"phoneNumber": "+1666", "answerConfirmationRequiredEnabled": false}
        ]});
        assert!(covers(&held, &wanted));
        // Another order, one number more or one less: the list is rewritten.
        let reordered = json!({"phoneNumbers": [{"phoneNumber": "+1666"}, {"phoneNumber": "+1555"}]});
        assert!(!covers(&held, &reordered));
        assert!(!covers(&held, &json!({"phoneNumbers": [{"phoneNumber": "+1555"}]})));
        assert!(!covers(&json!({"phoneNumbers": []}), &wanted));
        // An emptied list is a managed value too.
        assert!(covers(&json!({"phoneNumbers": []}), &json!({"phoneNumbers": []})));
    }

    #[test]
    fn control_hub_only_settings_are_split_off_against_the_real_service() {
        let wanted = vec![
            (CallingFeature::DoNotDisturb, json!({"enabled": true})),
            (CallingFeature::SimultaneousRing, json!({"enabled": true})),
            (CallingFeature::Voicemail, json!({"enabled": true})),
            (CallingFeature::PriorityAlert, json!({"enabled": true})),
        ];
        let (api, hub) = reachable(wanted.clone(), false);
        assert_eq!(
            api.iter().map(|(f, _)| *f).collect::<Vec<_>>(),
            vec![CallingFeature::DoNotDisturb, CallingFeature::Voicemail]
        );
        assert_eq!(
            hub,
            vec![CallingFeature::SimultaneousRing, CallingFeature::PriorityAlert]
        );
        let message = control_hub_message("ann@acme.example", &hub);
        assert!(message.contains("simultaneousRing, priorityAlert"), "{message}");
        assert!(message.contains("Control Hub > Users > ann@acme.example") && message.contains("R-USER-16"));
        // The simulator stands in for Control Hub: everything is reachable.
        let (api, hub) = reachable(wanted, true);
        assert_eq!(api.len(), 4);
        assert!(hub.is_empty());
    }

    #[test]
    fn covered_features_are_not_written() {
        let wanted = vec![
            (CallingFeature::DoNotDisturb, json!({"enabled": true})),
            (
                CallingFeature::CallForwarding,
                json!({"callForwarding": {"always": {"enabled": true, "destination": "+1555"}}}),
            ),
            (CallingFeature::Hoteling, json!({"enabled": true})),
        ];
        let observed = BTreeMap::from([
            // Other fields (ringSplashEnabled) are not the spec's business.
            (
                CallingFeature::DoNotDisturb,
                json!({"enabled": true, "ringSplashEnabled": true}),
            ),
            (
                CallingFeature::CallForwarding,
                json!({"callForwarding": {"always": {"enabled": true, "destination": "+1666"}, "busy": {"enabled": false}}}),
            ),
        ]);
        let out = writes(&wanted, &observed);
        // Forwarding differs in its destination; hoteling was not observed.
        assert_eq!(
            out.iter().map(|(f, _)| *f).collect::<Vec<_>>(),
            vec![CallingFeature::CallForwarding, CallingFeature::Hoteling]
        );
        assert_eq!(describe(&out), "callForwarding, hoteling");
        // Equal: zero writes.
        let same = BTreeMap::from([
            (CallingFeature::DoNotDisturb, json!({"enabled": true})),
            (
                CallingFeature::CallForwarding,
                json!({"callForwarding": {"always": {"enabled": true, "destination": "+1555", "ringReminderEnabled": false}}}),
            ),
            (CallingFeature::Hoteling, json!({"enabled": true})),
        ]);
        assert!(writes(&wanted, &same).is_empty());
    }

    #[test]
    fn writes_after_a_licence_detail_block_are_not_drift() {
        assert!(counts_as_drift(true, Some("Active")));
        assert!(counts_as_drift(true, None));
        assert!(!counts_as_drift(false, Some("Active")));
        assert!(!counts_as_drift(true, Some("CallingLicenseRequired")));
        assert!(!counts_as_drift(true, Some("CallingSettingsFailed")));
    }

    #[test]
    fn numbers_compare_by_value_and_missing_fields_do_not_cover() {
        assert!(covers(&json!({"n": 3.0}), &json!({"n": 3})));
        assert!(!covers(&json!({}), &json!({"enabled": false})));
        assert!(!covers(&json!({"a": {"b": 1}}), &json!({"a": {"b": 2}})));
        assert!(covers(&json!({"a": {"b": 1, "c": 2}}), &json!({"a": {"b": 1}})));
    }

    fn org() -> OrgFacts {
        let lic = |id: &str, code: &str| OrgLicense {
            id: id.into(),
            offer_code: code.into(),
            name: code.into(),
            subscription_id: None,
            site_url: None,
            total_units: 10,
            consumed_units: 0,
        };
        OrgFacts {
            org_id: "ORG".into(),
            licenses: vec![lic("L-MS", "MS"), lic("L-BC", "BCPRO")],
            roles: Default::default(),
            directory_sync: None,
            default_existing_user_policy: Default::default(),
            tenants: vec![],
            drift_report_only: false,
            drift_interval: None,
            guard: Default::default(),
        }
    }

    fn person(licenses: &[&str]) -> Person {
        Person {
            id: "P1".into(),
            licenses: licenses.iter().map(|s| s.to_string()).collect(),
            phone_numbers: vec![PhoneNumber {
                kind: "work".into(),
                value: "+14085550101".into(),
                primary: Some(true),
            }],
            extension: Some("5101".into()),
            location_id: Some("LOC".into()),
            ..Default::default()
        }
    }

    #[test]
    fn the_calling_licence_is_found_among_the_persons_licences() {
        assert_eq!(calling_license(&person(&["L-MS", "L-BC"]), &org()), Some("L-BC"));
        assert_eq!(calling_license(&person(&["L-MS"]), &org()), None);
    }

    #[test]
    fn remedy_once_and_only_for_users_the_operator_created() {
        let created = WebexUserStatus {
            adopted: Some(false),
            ..Default::default()
        };
        assert_eq!(on_failure(&created), SettingsFailure::ReassignLicense);
        let tried = WebexUserStatus {
            calling_license_reassigned_at: Some("2026-11-25T15:00:00Z".into()),
            ..created.clone()
        };
        assert_eq!(on_failure(&tried), SettingsFailure::Report { remedy_tried: true });
        let adopted = WebexUserStatus {
            adopted: Some(true),
            ..Default::default()
        };
        assert_eq!(on_failure(&adopted), SettingsFailure::Report { remedy_tried: false });
    }

    #[test]
    fn reassignment_keeps_number_extension_and_location() {
        let (remove, add) = reassignment(&person(&["L-BC"]), "L-BC");
        assert_eq!(remove.licenses[0].operation, LicenseOperation::Remove);
        assert_eq!(remove.licenses[0].properties, None);
        assert_eq!(add.licenses[0].operation, LicenseOperation::Add);
        assert_eq!(
            add.licenses[0].properties,
            Some(LicenseProperties {
                location_id: Some("LOC".into()),
                phone_number: Some("+14085550101".into()),
                extension: Some("5101".into()),
            })
        );
        assert_eq!(add.person_id.as_deref(), Some("P1"));
    }
}
