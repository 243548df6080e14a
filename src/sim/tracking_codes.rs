//! Meetings tracking codes (R-USER-8), as in `webex-meeting.json` (webex-api-notes §5.4): site
//! codes under `/v1/admin/meeting/config/trackingCodes` and a user's values under
//! `/v1/admin/meeting/userconfig/trackingCodes`. A site is one of the `siteUrl`s of the org's
//! licences. Name and value are at most 120 characters; with `inputMode` `select` or
//! `hostProfileSelect` a user's value must be one of the site code's options; a name the site
//! does not have is refused with "Tracking code of '<name>' is not found.".

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

use crate::sim::auth::Caller;
use crate::sim::error::ApiError;
use crate::sim::state::{Org, State as SimState, person_uuid};
use crate::sim::{AppState, QueryParams, parse_json};
use crate::webex::calling::{UserTrackingCode, UserTrackingCodes};

/// Longest name or value.
pub const MAX_LEN: usize = 120;
/// Most options of one code.
pub const MAX_OPTIONS: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackingOption {
    pub value: String,
    #[serde(default)]
    pub default_value: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleStartCode {
    pub service: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// A site tracking code (`GetTrackingCodeObject`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteTrackingCode {
    #[serde(default)]
    pub id: String,
    pub name: String,
    pub site_url: String,
    #[serde(default)]
    pub options: Vec<TrackingOption>,
    pub input_mode: String,
    pub host_profile_code: String,
    #[serde(default)]
    pub schedule_start_codes: Vec<ScheduleStartCode>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackingStore {
    /// Site codes of all orgs.
    pub codes: Vec<SiteTrackingCode>,
    /// `(person uuid, site url)` → code name → value.
    pub values: BTreeMap<String, BTreeMap<String, String>>,
    pub next_id: u64,
}

#[derive(Debug, Serialize)]
struct CodeList {
    items: Vec<SiteTrackingCode>,
}

fn user_key(person_uuid: &str, site_url: &str) -> String {
    format!("{person_uuid} {}", site_url.to_ascii_lowercase())
}

fn caller_org(s: &SimState, caller: &Caller) -> Result<Org, ApiError> {
    s.org(&caller.org_uuid).cloned().ok_or_else(ApiError::unauthorized)
}

/// The org's site matching `site_url` (case-insensitive), or 400.
fn own_site(org: &Org, site_url: Option<&str>) -> Result<String, ApiError> {
    let wanted = site_url.ok_or_else(|| ApiError::bad_request("siteUrl is required."))?;
    org.licenses
        .iter()
        .filter_map(|l| l.site_url.as_deref())
        .find(|s| s.eq_ignore_ascii_case(wanted))
        .map(str::to_string)
        .ok_or_else(|| ApiError::bad_request(format!("Site {wanted} is not a site of this organization.")))
}

fn check_code(code: &SiteTrackingCode) -> Result<(), ApiError> {
    if code.name.trim().is_empty() || code.name.len() > MAX_LEN {
        return Err(ApiError::bad_request("name must have 1 to 120 characters."));
    }
    if !matches!(
        code.input_mode.as_str(),
        "text" | "select" | "editableSelect" | "hostProfileSelect"
    ) {
        return Err(ApiError::bad_request(format!("Invalid inputMode {}.", code.input_mode)));
    }
    if !matches!(
        code.host_profile_code.as_str(),
        "optional" | "required" | "adminSet" | "notUsed"
    ) {
        return Err(ApiError::bad_request(format!(
            "Invalid hostProfileCode {}.",
            code.host_profile_code
        )));
    }
    if code.options.len() > MAX_OPTIONS || code.options.iter().any(|o| o.value.len() > MAX_LEN) {
        return Err(ApiError::bad_request("At most 500 options of at most 120 characters."));
    }
    Ok(())
}

/// `GET /v1/admin/meeting/config/trackingCodes?siteUrl=`.
pub async fn list_site_codes(
    caller: Caller,
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<serde_json::Value>, ApiError> {
    let params = QueryParams::parse(query.as_deref());
    app.store.read(|s| {
        let org = caller_org(s, &caller)?;
        let site = own_site(&org, params.get("siteUrl"))?;
        let items = s
            .tracking
            .codes
            .iter()
            .filter(|c| c.site_url == site)
            .cloned()
            .collect();
        Ok(Json(
            serde_json::to_value(CodeList { items }).map_err(|e| ApiError::internal(e.to_string()))?,
        ))
    })
}

/// `POST /v1/admin/meeting/config/trackingCodes`.
pub async fn create_site_code(
    caller: Caller,
    State(app): State<AppState>,
    body: Bytes,
) -> Result<Json<SiteTrackingCode>, ApiError> {
    let mut code: SiteTrackingCode = parse_json(&body)?;
    check_code(&code)?;
    app.store.mutate(|s| {
        let org = caller_org(s, &caller)?;
        code.site_url = own_site(&org, Some(&code.site_url))?;
        if s.tracking
            .codes
            .iter()
            .any(|c| c.site_url == code.site_url && c.name.eq_ignore_ascii_case(&code.name))
        {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("Tracking code {} already exists.", code.name),
            ));
        }
        s.tracking.next_id += 1;
        code.id = s.tracking.next_id.to_string();
        s.tracking.codes.push(code.clone());
        Ok(Json(code))
    })
}

fn find_code<'a>(s: &'a SimState, org: &Org, id: &str) -> Result<&'a SiteTrackingCode, ApiError> {
    let sites: Vec<&str> = org.licenses.iter().filter_map(|l| l.site_url.as_deref()).collect();
    s.tracking
        .codes
        .iter()
        .find(|c| c.id == id && sites.contains(&c.site_url.as_str()))
        .ok_or_else(|| ApiError::not_found(format!("Tracking code {id} is not found.")))
}

/// `GET /v1/admin/meeting/config/trackingCodes/{trackingCodeId}`.
pub async fn get_site_code(
    caller: Caller,
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<SiteTrackingCode>, ApiError> {
    app.store.read(|s| {
        let org = caller_org(s, &caller)?;
        find_code(s, &org, &id).cloned().map(Json)
    })
}

/// `PUT /v1/admin/meeting/config/trackingCodes/{trackingCodeId}`.
pub async fn update_site_code(
    caller: Caller,
    State(app): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<SiteTrackingCode>, ApiError> {
    let mut code: SiteTrackingCode = parse_json(&body)?;
    check_code(&code)?;
    app.store.mutate(|s| {
        let org = caller_org(s, &caller)?;
        let existing = find_code(s, &org, &id)?.clone();
        code.id = existing.id.clone();
        code.site_url = existing.site_url.clone();
        if let Some(c) = s.tracking.codes.iter_mut().find(|c| c.id == id) {
            *c = code.clone();
        }
        Ok(Json(code))
    })
}

/// `DELETE /v1/admin/meeting/config/trackingCodes/{trackingCodeId}?siteUrl=`.
pub async fn delete_site_code(
    caller: Caller,
    State(app): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<StatusCode, ApiError> {
    let params = QueryParams::parse(query.as_deref());
    app.store.mutate(|s| {
        let org = caller_org(s, &caller)?;
        own_site(&org, params.get("siteUrl"))?;
        find_code(s, &org, &id)?;
        s.tracking.codes.retain(|c| c.id != id);
        Ok(StatusCode::NO_CONTENT)
    })
}

/// The person (public id, uuid, email) named by `personId` or the `email` header.
fn user_of(
    s: &SimState,
    caller: &Caller,
    person_id: Option<&str>,
    email: Option<&str>,
) -> Result<(String, String, String), ApiError> {
    let person = match (person_id, email) {
        (Some(id), _) => person_uuid(id).and_then(|u| s.person(&u)),
        (None, Some(email)) => s.person_by_email(email),
        (None, None) => return Err(ApiError::bad_request("personId or email is required.")),
    }
    .filter(|p| p.org_uuid == caller.org_uuid)
    .ok_or_else(|| ApiError::not_found("User is not found."))?;
    Ok((person.public_id(), person.uuid.clone(), person.email().to_string()))
}

fn user_view(s: &SimState, site: &str, person: (String, String, String)) -> UserTrackingCodes {
    let (id, uuid, email) = person;
    let values = s.tracking.values.get(&user_key(&uuid, site));
    let tracking_codes = s
        .tracking
        .codes
        .iter()
        .filter(|c| c.site_url == site)
        .map(|c| UserTrackingCode {
            id: Some(c.id.clone()),
            name: c.name.clone(),
            value: values.and_then(|v| v.get(&c.name)).cloned().unwrap_or_default(),
        })
        .collect();
    UserTrackingCodes {
        site_url: site.to_string(),
        person_id: Some(id),
        email: Some(email),
        tracking_codes,
    }
}

/// `GET /v1/admin/meeting/userconfig/trackingCodes?siteUrl=&personId=` (or `email` header):
/// every code of the site, with the user's value (empty when unset).
pub async fn get_user_codes(
    caller: Caller,
    State(app): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<UserTrackingCodes>, ApiError> {
    let params = QueryParams::parse(query.as_deref());
    let email = headers.get("email").and_then(|v| v.to_str().ok());
    app.store.read(|s| {
        let org = caller_org(s, &caller)?;
        let site = own_site(&org, params.get("siteUrl"))?;
        let person = user_of(s, &caller, params.get("personId"), email)?;
        Ok(Json(user_view(s, &site, person)))
    })
}

/// `PUT /v1/admin/meeting/userconfig/trackingCodes`: sets the named codes; others keep theirs.
pub async fn put_user_codes(
    caller: Caller,
    State(app): State<AppState>,
    body: Bytes,
) -> Result<Json<UserTrackingCodes>, ApiError> {
    let write: UserTrackingCodes = parse_json(&body)?;
    app.store.mutate(|s| {
        let org = caller_org(s, &caller)?;
        let site = own_site(&org, Some(&write.site_url))?;
        let person = user_of(s, &caller, write.person_id.as_deref(), write.email.as_deref())?;
        for item in &write.tracking_codes {
            let code = s
                .tracking
                .codes
                .iter()
                .find(|c| c.site_url == site && c.name == item.name)
                .ok_or_else(|| ApiError::bad_request(format!("Tracking code of '{}' is not found.", item.name)))?;
            if item.value.len() > MAX_LEN {
                return Err(ApiError::bad_request(format!(
                    "The value of tracking code '{}' is longer than 120 characters.",
                    item.name
                )));
            }
            let listed = code.options.iter().any(|o| o.value == item.value);
            if matches!(code.input_mode.as_str(), "select" | "hostProfileSelect") && !item.value.is_empty() && !listed {
                return Err(ApiError::bad_request(format!(
                    "'{}' is not an option of tracking code '{}'.",
                    item.value, item.name
                )));
            }
        }
        let values = s.tracking.values.entry(user_key(&person.1, &site)).or_default();
        for item in &write.tracking_codes {
            values.insert(item.name.clone(), item.value.clone());
        }
        Ok(Json(user_view(s, &site, person)))
    })
}
