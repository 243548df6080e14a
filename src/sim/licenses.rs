//! `/v1/licenses`: list, details, and `PATCH /v1/licenses/users` (webex-api-notes §3).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::sim::auth::Caller;
use crate::sim::error::ApiError;
use crate::sim::external;
use crate::sim::faults::PartialFault;
use crate::sim::people::{person_not_found, resolve_location};
use crate::sim::rules::{self, CallingProps, RuleViolation};
use crate::sim::state::{Org, SimPerson, State as SimState, person_uuid};
use crate::sim::{AppState, QueryParams, parse_json};
use crate::webex::ids::{self, IdKind};
use crate::webex::model::{
    License, LicenseList, LicenseOperation, LicenseRequest, PatchUserLicenses, PhoneNumber, SiteResponse,
    SiteUrlRequest, UserLicensesResponse, codes,
};

/// `GET /v1/licenses`.
pub async fn list(caller: Caller, State(app): State<AppState>) -> Result<Json<LicenseList>, ApiError> {
    app.store.read(|s| {
        let org = s.org(&caller.org_uuid).ok_or_else(ApiError::unauthorized)?;
        Ok(Json(LicenseList {
            items: org.licenses.iter().map(|l| s.license_to_wire(org, l)).collect(),
        }))
    })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AssignedUser {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    email: String,
}

/// `LicensewithUsers`: the licence, plus `users` with `includeAssignedTo=user`.
#[derive(Debug, Serialize)]
struct LicenseWithUsers {
    #[serde(flatten)]
    license: License,
    #[serde(skip_serializing_if = "Option::is_none")]
    users: Option<Vec<AssignedUser>>,
}

/// Users per page of `GET /v1/licenses/{licenseId}?includeAssignedTo=user` (default and cap,
/// webex-api-notes §3.2).
pub const ASSIGNED_USERS_LIMIT: usize = 300;

/// `GET /v1/licenses/{licenseId}`: with `includeAssignedTo=user` the licence's users, INTERNAL
/// (the org's people holding it) then EXTERNAL (people of other orgs who accepted it, R-EXT-6),
/// `limit` per page, the next page in a `Link` header (`next` cursor).
pub async fn get(
    caller: Caller,
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = QueryParams::parse(query.as_deref());
    let with_users = params
        .get("includeAssignedTo")
        .is_some_and(|v| v.eq_ignore_ascii_case("user"));
    let limit = match params.get("limit") {
        None => ASSIGNED_USERS_LIMIT,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| ApiError::bad_request(format!("Invalid value for limit: {v}")))?
            .min(ASSIGNED_USERS_LIMIT),
    };
    let offset = match params.get("next") {
        None => 0,
        Some(c) => decode_offset(c).ok_or_else(|| ApiError::bad_request("Invalid paging cursor."))?,
    };
    app.store.read(|s| {
        let org = s.org(&caller.org_uuid).ok_or_else(ApiError::unauthorized)?;
        let license = org
            .license(&id)
            .ok_or_else(|| ApiError::not_found("License not found."))?;
        let mut more = false;
        let users = with_users.then(|| {
            let internal = s
                .people
                .iter()
                .filter(|p| p.org_uuid == org.uuid && p.licenses.contains(&license.id))
                .map(|p| (p, "INTERNAL"));
            // People of other orgs who accepted this (Meetings) licence (R-EXT-6).
            let external = external::holders(s, org, &license.id).map(|p| (p, "EXTERNAL"));
            let mut page: Vec<AssignedUser> = internal
                .chain(external)
                .skip(offset)
                .take(limit + 1)
                .map(|(p, kind)| AssignedUser {
                    id: p.public_id(),
                    kind,
                    display_name: p.display_name.clone(),
                    email: p.email().to_string(),
                })
                .collect();
            more = page.len() > limit;
            page.truncate(limit);
            page
        });
        let mut response = Json(LicenseWithUsers {
            license: s.license_to_wire(org, license),
            users,
        })
        .into_response();
        if more {
            let host = headers
                .get(axum::http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in params.pairs.iter().filter(|(k, _)| k != "next") {
                query.append_pair(k, v);
            }
            query.append_pair("next", &encode_offset(offset + limit));
            let link = format!("<http://{host}/v1/licenses/{id}?{}>; rel=\"next\"", query.finish());
            if let Ok(value) = axum::http::HeaderValue::from_str(&link) {
                response.headers_mut().insert(axum::http::header::LINK, value);
            }
        }
        Ok(response)
    })
}

fn encode_offset(offset: usize) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("LICENSE_USER_PAGING/{offset}"))
}

fn decode_offset(cursor: &str) -> Option<usize> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("LICENSE_USER_PAGING/")?
        .parse()
        .ok()
}

/// Validates a whole `PATCH /v1/licenses/users` request against the person's current licences.
/// Returns the licences they would hold. Pure: the caller applies nothing on error.
pub fn validate_patch(
    org: &Org,
    held: &[String],
    first_name: Option<&str>,
    last_name: Option<&str>,
    requests: &[LicenseRequest],
) -> Result<Vec<String>, ApiError> {
    let unknown: Vec<&str> = requests
        .iter()
        .filter(|r| org.license(&r.id).is_none())
        .map(|r| r.id.as_str())
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::license(
            codes::LICENSE_NOT_RECOGNIZED,
            format!("License not recognized {}", unknown.join(",")),
        ));
    }
    let calling_adds: Vec<&LicenseRequest> = requests
        .iter()
        .filter(|r| r.operation == LicenseOperation::Add && org.license(&r.id).is_some_and(|l| l.is_calling()))
        .collect();
    let missing: Vec<String> = calling_adds
        .iter()
        .filter(|r| {
            let p = r.properties.as_ref();
            !rules::calling_properties_complete(CallingProps {
                phone_number: p.and_then(|p| p.phone_number.as_deref()),
                extension: p.and_then(|p| p.extension.as_deref()),
                location_id: p.and_then(|p| p.location_id.as_deref()),
            })
        })
        .map(|r| r.id.clone())
        .collect();
    if !missing.is_empty() {
        return Err(RuleViolation::CallingPropertiesMissing { licenses: missing }.into());
    }
    for loc in calling_adds
        .iter()
        .filter_map(|r| r.properties.as_ref()?.location_id.as_deref())
    {
        resolve_location(org, loc)?;
    }
    let result = apply_requests(held, requests);
    let pairs: Vec<(&str, &str)> = result
        .iter()
        .filter_map(|id| org.license(id).map(|l| (id.as_str(), l.offer_code.as_str())))
        .collect();
    rules::check_license_exclusivity(&pairs)?;
    if !calling_adds.is_empty() {
        rules::check_calling_names(first_name, last_name)?;
    }
    Ok(result)
}

/// The licence ids after applying `requests` in order (removing an absent one is a no-op).
pub fn apply_requests(held: &[String], requests: &[LicenseRequest]) -> Vec<String> {
    let mut result = held.to_vec();
    for r in requests {
        match r.operation {
            LicenseOperation::Add if !result.contains(&r.id) => result.push(r.id.clone()),
            LicenseOperation::Add => {}
            LicenseOperation::Remove => result.retain(|id| *id != r.id),
        }
    }
    result
}

fn site_entry(site: &SiteUrlRequest) -> String {
    format!("{}#{}", site.site_url, site.account_type.to_ascii_lowercase())
}

fn site_response(entry: &str) -> SiteResponse {
    let (site, kind) = entry.split_once('#').unwrap_or((entry, "host"));
    SiteResponse {
        site_url: site.to_string(),
        account_type: kind.to_string(),
    }
}

/// The caller's org and the person a `PATCH /v1/licenses/users` names (anywhere in Webex: people
/// of other orgs are external users).
fn patch_target(s: &SimState, caller: &Caller, req: &PatchUserLicenses) -> Result<(Org, SimPerson), ApiError> {
    let org = s.org(&caller.org_uuid).cloned().ok_or_else(ApiError::unauthorized)?;
    if req.org_id.as_deref().is_some_and(|o| !org.is_named_by(o)) {
        return Err(ApiError::forbidden("orgId is not the organization of the caller."));
    }
    let uuid = match (&req.person_id, &req.email) {
        (Some(id), _) => person_uuid(id).ok_or_else(person_not_found)?,
        // R-EXT-2: an email without a Webex account is rejected.
        (None, Some(email)) => s
            .person_by_email(email)
            .map(|p| p.uuid.clone())
            .ok_or_else(person_not_found)?,
        (None, None) => return Err(ApiError::bad_request("email or personId is required.")),
    };
    let person = s.person(&uuid).cloned().ok_or_else(person_not_found)?;
    if req
        .email
        .as_deref()
        .is_some_and(|e| !e.eq_ignore_ascii_case(person.email()))
    {
        return Err(ApiError::bad_request("email and personId name different people."));
    }
    Ok((org, person))
}

fn internal_view(org: &Org, p: &SimPerson) -> UserLicensesResponse {
    UserLicensesResponse {
        org_id: Some(ids::encode(IdKind::Organization, &org.uuid)),
        person_id: Some(p.public_id()),
        email: Some(p.email().to_string()),
        licenses: p.licenses.clone(),
        site_urls: p.site_urls.iter().map(|e| site_response(e)).collect(),
        pending_licenses: Vec::new(),
        pending_site_urls: Vec::new(),
    }
}

/// `PATCH /v1/licenses/users`: all-or-nothing for validation errors; a `partial` fault applies
/// only the first licence change and answers 206.
pub async fn patch_users(
    caller: Caller,
    State(app): State<AppState>,
    partial: Option<axum::Extension<PartialFault>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: PatchUserLicenses = parse_json(&body)?;
    let partial = partial.is_some();
    if req.licenses.is_empty() && req.site_urls.is_empty() {
        // Nothing to change: report the assignment without touching (or persisting) the state.
        let out = app.store.read(|s| {
            let (org, person) = patch_target(s, &caller, &req)?;
            Ok::<_, ApiError>(if person.org_uuid == org.uuid {
                internal_view(&org, &person)
            } else {
                external::view(s, &org, &person)
            })
        })?;
        return Ok((StatusCode::OK, Json(out)).into_response());
    }
    let (status, out) = app.store.mutate(|s| {
        let (org, person) = patch_target(s, &caller, &req)?;
        let uuid = person.uuid.clone();
        if person.org_uuid != org.uuid {
            // A person of another org: an external user (R-EXT-*).
            return external::patch(s, &org, &person, &req).map(|out| (StatusCode::OK, out));
        }
        let result = validate_patch(
            &org,
            &person.licenses,
            person.first_name.as_deref(),
            person.last_name.as_deref(),
            &req.licenses,
        )?;
        // R-CC-1: removing the Premium agent licence of a supervisor is refused.
        let roles: Vec<&str> = person.roles.iter().map(String::as_str).collect();
        let codes_held: Vec<&str> = result
            .iter()
            .filter_map(|id| org.license(id))
            .map(|l| l.offer_code.as_str())
            .collect();
        rules::check_cc_roles(&roles, &codes_held)?;
        for site in &req.site_urls {
            external::check_attendee_site(&org, site)?;
        }
        let cut = partial && req.licenses.len() + req.site_urls.len() > 1;
        let (licence_reqs, site_reqs): (&[LicenseRequest], &[SiteUrlRequest]) = if cut {
            if req.licenses.is_empty() {
                (&[], &req.site_urls[..1])
            } else {
                (&req.licenses[..1], &[])
            }
        } else {
            (&req.licenses, &req.site_urls)
        };
        let now = s.now();
        let had_calling = person
            .licenses
            .iter()
            .filter_map(|id| org.license(id))
            .any(|l| l.is_calling());
        let p = s.person_mut(&uuid).ok_or_else(person_not_found)?;
        p.licenses = apply_requests(&p.licenses, licence_reqs);
        for r in licence_reqs.iter().filter(|r| r.operation == LicenseOperation::Add) {
            let (Some(props), true) = (&r.properties, org.license(&r.id).is_some_and(|l| l.is_calling())) else {
                continue;
            };
            if let Some(number) = &props.phone_number {
                p.phone_numbers.retain(|n| n.kind != "work");
                p.phone_numbers.push(PhoneNumber {
                    kind: "work".into(),
                    value: number.clone(),
                    primary: Some(true),
                });
            }
            p.extension = props.extension.clone().or(p.extension.take());
            if let Some(loc) = &props.location_id {
                p.location_id = Some(resolve_location(&org, loc)?);
            }
        }
        if !p
            .licenses
            .iter()
            .filter_map(|id| org.license(id))
            .any(|l| l.is_calling())
        {
            p.extension = None;
            p.location_id = None;
            p.phone_numbers.retain(|n| n.kind != "work");
        }
        for site in site_reqs {
            let entry = site_entry(site);
            match site.operation {
                LicenseOperation::Add if !p.site_urls.contains(&entry) => p.site_urls.push(entry),
                LicenseOperation::Add => {}
                LicenseOperation::Remove => p.site_urls.retain(|e| *e != entry),
            }
        }
        p.last_modified = now;
        let out = internal_view(&org, p);
        let has_calling = p
            .licenses
            .iter()
            .filter_map(|id| org.license(id))
            .any(|l| l.is_calling());
        // Calling keeps the person's settings per licence assignment (R-USER-11, R-USER-16).
        crate::sim::calling::on_calling_licence(s, &org.uuid, &uuid, had_calling, has_calling);
        Ok((
            if cut {
                StatusCode::PARTIAL_CONTENT
            } else {
                StatusCode::OK
            },
            out,
        ))
    })?;
    Ok((status, Json(out)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::state::{LicenseRec, Location};
    use crate::webex::model::LicenseProperties;

    fn org() -> Org {
        let lic = |code: &str| LicenseRec {
            id: ids::license_id("org", code, code, None),
            offer_code: code.into(),
            name: code.into(),
            total_units: 5,
            subscription_id: None,
            site_url: None,
        };
        Org {
            uuid: "org".into(),
            name: "Org".into(),
            domains: vec![],
            trial: false,
            directory_sync: false,
            sso: false,
            allow_admin_invite_emails: true,
            allow_cross_org_licensing: true,
            claimed_domains: vec![],
            allow_content_migration: false,
            delayed_claim_supported: true,
            locations: vec![Location {
                uuid: "loc".into(),
                name: "HQ".into(),
            }],
            licenses: ["BCSTD", "BCPRO", "CJPSTD", "CJPPRM", "MS"]
                .iter()
                .map(|c| lic(c))
                .collect(),
            admin_token: "t".into(),
            admin_person_uuid: "a".into(),
        }
    }

    fn id(code: &str) -> String {
        ids::license_id("org", code, code, None)
    }

    fn add(code: &str, props: Option<LicenseProperties>) -> LicenseRequest {
        LicenseRequest {
            id: id(code),
            operation: LicenseOperation::Add,
            properties: props,
        }
    }

    fn remove(code: &str) -> LicenseRequest {
        LicenseRequest {
            id: id(code),
            operation: LicenseOperation::Remove,
            properties: None,
        }
    }

    fn ext_props(loc: Option<&str>) -> Option<LicenseProperties> {
        Some(LicenseProperties {
            location_id: loc.map(str::to_string),
            phone_number: None,
            extension: Some("133".into()),
        })
    }

    fn code_of(e: &ApiError) -> Option<i64> {
        e.errors.first().and_then(|d| d.error_code)
    }

    #[test]
    fn unknown_licence_is_400000() {
        let bad = LicenseRequest {
            id: "nope".into(),
            operation: LicenseOperation::Add,
            properties: None,
        };
        let e = validate_patch(&org(), &[], None, None, &[bad]).unwrap_err();
        assert_eq!(code_of(&e), Some(codes::LICENSE_NOT_RECOGNIZED));
    }

    #[test]
    fn calling_add_needs_properties_and_a_known_location() {
        let o = org();
        let e = validate_patch(&o, &[], None, None, &[add("BCSTD", None)]).unwrap_err();
        assert_eq!(code_of(&e), Some(codes::CALLING_PROPERTIES_MISSING));
        let e = validate_patch(&o, &[], None, None, &[add("BCSTD", ext_props(None))]).unwrap_err();
        assert_eq!(code_of(&e), Some(codes::CALLING_PROPERTIES_MISSING));
        let e = validate_patch(&o, &[], None, None, &[add("BCSTD", ext_props(Some("elsewhere")))]).unwrap_err();
        assert_eq!(code_of(&e), Some(codes::LOCATION_NOT_FOUND));
        let loc = ids::encode(IdKind::Location, "loc");
        let ok = validate_patch(
            &o,
            &[],
            Some("Ann"),
            Some("Lee"),
            &[add("BCSTD", ext_props(Some(&loc)))],
        )
        .unwrap();
        assert_eq!(ok, vec![id("BCSTD")]);
    }

    #[test]
    fn calling_add_checks_names() {
        let loc = ids::encode(IdKind::Location, "loc");
        let e = validate_patch(&org(), &[], Some("A/B"), None, &[add("BCSTD", ext_props(Some(&loc)))]).unwrap_err();
        assert_eq!(code_of(&e), Some(codes::PEOPLE_INVALID_CALLING_NAME));
        // Non-calling licences do not care about names.
        assert!(validate_patch(&org(), &[], Some("A/B"), None, &[add("MS", None)]).is_ok());
    }

    #[test]
    fn exclusivity_against_held_licences_and_swaps() {
        let o = org();
        let loc = ids::encode(IdKind::Location, "loc");
        let e = validate_patch(&o, &[id("BCSTD")], None, None, &[add("BCPRO", ext_props(Some(&loc)))]).unwrap_err();
        assert_eq!(code_of(&e), Some(codes::CALLING_PRO_AND_STANDARD));
        let e = validate_patch(&o, &[id("CJPSTD")], None, None, &[add("CJPPRM", None)]).unwrap_err();
        assert_eq!(code_of(&e), Some(codes::EXCLUSIVE_OFFER_CODE));
        // Removing the old one in the same request is a swap.
        let ok = validate_patch(
            &o,
            &[id("CJPSTD")],
            None,
            None,
            &[remove("CJPSTD"), add("CJPPRM", None)],
        )
        .unwrap();
        assert_eq!(ok, vec![id("CJPPRM")]);
    }

    #[test]
    fn removing_an_absent_licence_is_a_no_op() {
        assert_eq!(apply_requests(&[id("MS")], &[remove("CJPPRM")]), vec![id("MS")]);
        assert_eq!(apply_requests(&[id("MS")], &[add("MS", None)]), vec![id("MS")]);
    }
}
