//! Enterprise content management (R-USER-9), on simulator-only endpoints: Webex has no public
//! API for it (nothing in `tests/webex-openapi`); Control Hub is the only way on the real
//! service.
//!
//! - `PUT /_sim/orgs/{orgId}/content-management` sets the org's configuration as an admin would
//!   in Control Hub: `{"access": "general"|"limited", "platforms": ["microsoft"|"box"|
//!   "googleDrive", ...]}`. General access needs exactly one platform: the one every user gets.
//! - `GET /_sim/orgs/{orgId}/content-management` reads it (the operator does, with
//!   `backend: Simulator`). An org nobody configured has limited access and no third-party
//!   platform, i.e. Webex native storage only (a simulator assumption).
//! - `GET /_sim/hub/people/{personId}/content-management`: `{personId, platform, assignedBy,
//!   updates}`. Under general access the org's platform with `assignedBy: generalAccess`;
//!   under limited access the per-user choice (`perUser`), or `webexNative` with `orgDefault`
//!   when nobody chose (or the chosen platform is no longer enabled).
//! - `PUT /_sim/hub/people/{personId}/content-management` `{"platform": ...}`: the per-user choice.
//!   Refused (400) under general access and for a platform the org has not enabled; 404 for an
//!   unknown person. A choice made under limited access is kept while general access is on and
//!   shows again when the org goes back to limited access (assumed).

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};

use crate::sim::error::ApiError;
use crate::sim::state::{State as SimState, person_uuid};
use crate::sim::{AppState, parse_json};
use crate::webex::content_management::{
    AssignedBy, ContentAccess, ContentManagementChoice, ContentPlatform, OrgContentManagement, PersonContentManagement,
};

/// One person's per-user choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonChoice {
    pub platform: ContentPlatform,
    /// Accepted writes of the choice.
    pub updates: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentManagementStore {
    /// Per org uuid; absent: the default (limited access, no third-party platform).
    pub orgs: BTreeMap<String, OrgContentManagement>,
    /// Per person uuid.
    pub people: BTreeMap<String, PersonChoice>,
}

/// Checks a configuration before it is stored.
pub fn check_org(config: &OrgContentManagement) -> Result<OrgContentManagement, ApiError> {
    let mut platforms: Vec<ContentPlatform> = Vec::new();
    for p in &config.platforms {
        if *p == ContentPlatform::WebexNative {
            return Err(ApiError::bad_request(
                "webexNative is always available and cannot be listed in platforms.",
            ));
        }
        if !platforms.contains(p) {
            platforms.push(*p);
        }
    }
    if config.access == ContentAccess::General && platforms.len() != 1 {
        return Err(ApiError::bad_request(
            "General access gives every user the org's content-management platform: enable exactly one platform.",
        ));
    }
    Ok(OrgContentManagement {
        access: config.access,
        platforms,
    })
}

/// What a person has, from the org's configuration and their stored choice.
pub fn person_view(
    org: &OrgContentManagement,
    choice: Option<&PersonChoice>,
    person_id: &str,
) -> PersonContentManagement {
    let updates = choice.map_or(0, |c| c.updates);
    let (platform, assigned_by) = match (org.general_platform(), choice) {
        (Some(platform), _) => (platform, AssignedBy::GeneralAccess),
        (None, Some(c)) if org.offers(c.platform) => (c.platform, AssignedBy::PerUser),
        (None, _) => (ContentPlatform::WebexNative, AssignedBy::OrgDefault),
    };
    PersonContentManagement {
        person_id: person_id.to_string(),
        platform,
        assigned_by,
        updates,
    }
}

/// Whether a per-user choice may be written.
pub fn check_choice(org: &OrgContentManagement, platform: ContentPlatform) -> Result<(), ApiError> {
    if let Some(general) = org.general_platform() {
        return Err(ApiError::bad_request(format!(
            "The organization uses general access for content management: every user gets {} automatically. Switch to limited access to choose per user.",
            wire_name(general)
        )));
    }
    if !org.offers(platform) {
        let offered: Vec<&str> = org.options().into_iter().map(wire_name).collect();
        return Err(ApiError::bad_request(format!(
            "Content management platform {} is not enabled for the organization; enabled: {}.",
            wire_name(platform),
            offered.join(", ")
        )));
    }
    Ok(())
}

fn wire_name(platform: ContentPlatform) -> &'static str {
    match platform {
        ContentPlatform::Microsoft => "microsoft",
        ContentPlatform::Box => "box",
        ContentPlatform::GoogleDrive => "googleDrive",
        ContentPlatform::WebexNative => "webexNative",
    }
}

fn org_uuid_of(s: &SimState, org_id: &str) -> Result<String, ApiError> {
    s.org_by_id(org_id)
        .map(|o| o.uuid.clone())
        .ok_or_else(|| ApiError::not_found("No such organization in the simulator."))
}

fn org_config(s: &SimState, org_uuid: &str) -> OrgContentManagement {
    s.content_management.orgs.get(org_uuid).cloned().unwrap_or_default()
}

/// The person's uuid and org uuid; 404 when unknown.
fn person_of(s: &SimState, person_id: &str) -> Result<(String, String), ApiError> {
    let not_found = || ApiError::not_found("The requested resource could not be found.");
    let uuid = person_uuid(person_id).ok_or_else(not_found)?;
    let person = s.person(&uuid).ok_or_else(not_found)?;
    Ok((uuid, person.org_uuid.clone()))
}

/// `GET /_sim/orgs/{orgId}/content-management`.
pub async fn get_org(
    State(app): State<AppState>,
    Path(org_id): Path<String>,
) -> Result<Json<OrgContentManagement>, ApiError> {
    app.store.read(|s| {
        let uuid = org_uuid_of(s, &org_id)?;
        Ok(Json(org_config(s, &uuid)))
    })
}

/// `PUT /_sim/orgs/{orgId}/content-management` (the admin in Control Hub).
pub async fn set_org(
    State(app): State<AppState>,
    Path(org_id): Path<String>,
    body: Bytes,
) -> Result<Json<OrgContentManagement>, ApiError> {
    let config: OrgContentManagement = parse_json(&body)?;
    let config = check_org(&config)?;
    app.store.mutate(|s| {
        let uuid = org_uuid_of(s, &org_id)?;
        s.content_management.orgs.insert(uuid, config.clone());
        Ok(Json(config))
    })
}

/// `GET /_sim/hub/people/{personId}/content-management`.
pub async fn get_person(
    State(app): State<AppState>,
    Path(person_id): Path<String>,
) -> Result<Json<PersonContentManagement>, ApiError> {
    app.store.read(|s| {
        let (uuid, org_uuid) = person_of(s, &person_id)?;
        let org = org_config(s, &org_uuid);
        Ok(Json(person_view(
            &org,
            s.content_management.people.get(&uuid),
            &person_id,
        )))
    })
}

/// `PUT /_sim/hub/people/{personId}/content-management` (limited access only).
pub async fn set_person(
    State(app): State<AppState>,
    Path(person_id): Path<String>,
    body: Bytes,
) -> Result<Json<PersonContentManagement>, ApiError> {
    let choice: ContentManagementChoice = parse_json(&body)?;
    app.store.mutate(|s| {
        let (uuid, org_uuid) = person_of(s, &person_id)?;
        let org = org_config(s, &org_uuid);
        check_choice(&org, choice.platform)?;
        let record = s.content_management.people.entry(uuid).or_insert(PersonChoice {
            platform: choice.platform,
            updates: 0,
        });
        record.platform = choice.platform;
        record.updates += 1;
        let record = *record;
        Ok(Json(person_view(&org, Some(&record), &person_id)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    fn org(access: ContentAccess, platforms: &[ContentPlatform]) -> OrgContentManagement {
        OrgContentManagement {
            access,
            platforms: platforms.to_vec(),
        }
    }

    fn chose(platform: ContentPlatform) -> PersonChoice {
        PersonChoice { platform, updates: 1 }
    }

    #[test]
    fn the_default_is_limited_access_with_webex_native_only() {
        let view = person_view(&OrgContentManagement::default(), None, "P");
        assert_eq!(view.platform, ContentPlatform::WebexNative);
        assert_eq!(view.assigned_by, AssignedBy::OrgDefault);
        assert_eq!(view.updates, 0);
    }

    #[test]
    fn r_user_9_general_access_assigns_the_org_platform_to_everyone() {
        let general = org(ContentAccess::General, &[ContentPlatform::Box]);
        for choice in [None, Some(chose(ContentPlatform::Microsoft))] {
            let view = person_view(&general, choice.as_ref(), "P");
            assert_eq!(view.platform, ContentPlatform::Box);
            assert_eq!(view.assigned_by, AssignedBy::GeneralAccess);
        }
    }

    #[test]
    fn r_user_9_limited_access_shows_the_per_user_choice_while_it_is_enabled() {
        let limited = org(
            ContentAccess::Limited,
            &[ContentPlatform::Box, ContentPlatform::GoogleDrive],
        );
        let view = person_view(&limited, Some(&chose(ContentPlatform::GoogleDrive)), "P");
        assert_eq!(
            (view.platform, view.assigned_by),
            (ContentPlatform::GoogleDrive, AssignedBy::PerUser)
        );
        let native = person_view(&limited, Some(&chose(ContentPlatform::WebexNative)), "P");
        assert_eq!(
            (native.platform, native.assigned_by),
            (ContentPlatform::WebexNative, AssignedBy::PerUser)
        );
        // The org disabled the chosen platform: back to Webex native storage.
        let gone = person_view(&limited, Some(&chose(ContentPlatform::Microsoft)), "P");
        assert_eq!(
            (gone.platform, gone.assigned_by),
            (ContentPlatform::WebexNative, AssignedBy::OrgDefault)
        );
    }

    #[test]
    fn per_user_writes_are_refused_under_general_access_and_for_platforms_not_enabled() {
        let general = org(ContentAccess::General, &[ContentPlatform::Microsoft]);
        let refused = check_choice(&general, ContentPlatform::Microsoft).unwrap_err();
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert!(refused.message.contains("general access"), "{}", refused.message);
        assert!(refused.message.contains("microsoft"), "{}", refused.message);

        let limited = org(ContentAccess::Limited, &[ContentPlatform::Box]);
        assert!(check_choice(&limited, ContentPlatform::Box).is_ok());
        assert!(check_choice(&limited, ContentPlatform::WebexNative).is_ok());
        let not_enabled = check_choice(&limited, ContentPlatform::GoogleDrive).unwrap_err();
        assert_eq!(not_enabled.status, StatusCode::BAD_REQUEST);
        assert!(
            not_enabled.message.contains("googleDrive is not enabled")
                && not_enabled.message.contains("box, webexNative"),
            "{}",
            not_enabled.message
        );
    }

    #[test]
    fn general_access_needs_exactly_one_platform_and_native_is_not_listed() {
        assert!(check_org(&org(ContentAccess::General, &[])).is_err());
        assert!(
            check_org(&org(
                ContentAccess::General,
                &[ContentPlatform::Box, ContentPlatform::Microsoft]
            ))
            .is_err()
        );
        assert!(check_org(&org(ContentAccess::Limited, &[ContentPlatform::WebexNative])).is_err());
        let deduplicated = check_org(&org(
            ContentAccess::General,
            &[ContentPlatform::Box, ContentPlatform::Box],
        ))
        .unwrap();
        assert_eq!(deduplicated.platforms, vec![ContentPlatform::Box]);
        assert!(check_org(&org(ContentAccess::Limited, &[])).is_ok());
    }

    #[test]
    fn person_endpoints_answer_404_for_unknown_people() {
        let s = SimState::default();
        let e = person_of(&s, "f5b36187-c8dd-4727-8b2f-f9c447f29046").unwrap_err();
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        assert_eq!(person_of(&s, "garbage").unwrap_err().status, StatusCode::NOT_FOUND);
    }
}
