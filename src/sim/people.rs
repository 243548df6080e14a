//! `/v1/people`: list, create, get, me, replace, delete (webex-admin.json, webex-api-notes §2).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use crate::sim::auth::Caller;
use crate::sim::error::ApiError;
use crate::sim::rules::{self, CallingProps, RuleViolation};
use crate::sim::state::{Org, SimPerson, State as SimState, person_uuid, resolve_roles};
use crate::sim::{AppState, QueryParams, parse_json};
use crate::webex::model::{Person, PersonWrite, PhoneNumber, codes};

/// Default page size of `GET /v1/people`.
pub const DEFAULT_MAX: usize = 100;
/// Larger `max` values are silently capped (webex-api-notes §1 "Pagination").
pub const MAX_CAP: usize = 1000;
/// At most this many ids in the `id` filter (webex-api-notes §2.1).
pub const MAX_IDS: usize = 85;

/// `GET /v1/people` body: `notFoundIds` is `null` unless the list was filtered by `id`, as the real
/// service answers (webex-api-notes §2.1).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PersonListOut {
    items: Vec<Person>,
    not_found_ids: Option<Vec<String>>,
}

#[derive(Debug, Serialize)]
struct IdOnly {
    id: String,
}

fn person_response(person: Person, min_response: bool) -> Response {
    if min_response {
        Json(IdOnly { id: person.id }).into_response()
    } else {
        Json(person).into_response()
    }
}

fn caller_org(s: &SimState, caller: &Caller) -> Result<Org, ApiError> {
    s.org(&caller.org_uuid).cloned().ok_or_else(ApiError::unauthorized)
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn work_number(numbers: &[PhoneNumber]) -> Option<&str> {
    numbers
        .iter()
        .find(|n| n.kind == "work")
        .or_else(|| numbers.first())
        .map(|n| n.value.as_str())
}

/// A location id given by the client, as the public id of one of the org's locations.
pub fn resolve_location(org: &Org, id: &str) -> Result<String, ApiError> {
    org.locations
        .iter()
        .find(|l| l.public_id() == id || l.uuid == id)
        .map(|l| l.public_id())
        .ok_or_else(|| {
            ApiError::bad_request("Unable to find location.")
                .with_code(codes::LOCATION_NOT_FOUND, "Unable to find location.")
        })
}

fn check_email_syntax(email: &str) -> Result<(), ApiError> {
    match email.split_once('@') {
        Some((local, domain)) if !local.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace) => {
            Ok(())
        }
        _ => Err(ApiError::bad_request(format!("Invalid email address: {email}"))),
    }
}

/// `(id, offer code)` of the known licences among `ids` (unknown ids skipped: best-effort).
fn known_licenses(org: &Org, ids: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        if org.license(id).is_some() && !out.contains(id) {
            out.push(id.clone());
        }
    }
    out
}

fn pairs<'a>(org: &'a Org, ids: &'a [String]) -> Vec<(&'a str, &'a str)> {
    ids.iter()
        .filter_map(|id| org.license(id).map(|l| (id.as_str(), l.offer_code.as_str())))
        .collect()
}

fn holds_calling(org: &Org, ids: &[String]) -> bool {
    ids.iter().filter_map(|id| org.license(id)).any(|l| l.is_calling())
}

/// `POST /v1/people`.
pub async fn create(
    caller: Caller,
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let params = QueryParams::parse(query.as_deref());
    let min_response = params.flag("minResponse")?;
    params.flag("callingData")?;
    let write: PersonWrite = parse_json(&body)?;
    let person = app.store.mutate(|s| {
        let org = caller_org(s, &caller)?;
        if write.org_id.as_deref().is_some_and(|o| !org.is_named_by(o)) {
            return Err(ApiError::forbidden("orgId is not the organization of the caller."));
        }
        if org.directory_sync {
            let msg = "This organization synchronizes users from a directory; users cannot be added manually.";
            return Err(ApiError::forbidden(msg).with_code(codes::PEOPLE_DIRECTORY_SYNC, msg));
        }
        let email = write
            .emails
            .first()
            .map(|e| e.trim().to_string())
            .filter(|e| !e.is_empty())
            .ok_or_else(|| ApiError::bad_request("emails is required."))?;
        check_email_syntax(&email)?;
        if [&write.display_name, &write.first_name, &write.last_name]
            .iter()
            .all(|v| non_empty(v).is_none())
        {
            return Err(ApiError::bad_request(
                "At least one of displayName, firstName or lastName is required.",
            ));
        }
        if write.roles.as_ref().is_some_and(|r| !r.is_empty()) {
            return Err(ApiError::bad_request(
                "Roles cannot be assigned when creating a person; grant them by updating the person.",
            ));
        }
        s.check_email_free(&org.uuid, &email, None)?;
        let licenses = known_licenses(&org, write.licenses.as_deref().unwrap_or_default());
        let calling = holds_calling(&org, &licenses);
        let mut location_id = None;
        if calling {
            let props = CallingProps {
                phone_number: work_number(&write.phone_numbers),
                extension: write.extension.as_deref(),
                location_id: write.location_id.as_deref(),
            };
            // The People API wants the location in the same request, even with a phone number.
            if !rules::calling_properties_complete(props) || non_empty(&write.location_id).is_none() {
                let calling_ids = licenses
                    .iter()
                    .filter(|id| org.license(id).is_some_and(|l| l.is_calling()));
                return Err(RuleViolation::CallingPropertiesMissing {
                    licenses: calling_ids.cloned().collect(),
                }
                .into());
            }
            location_id = write
                .location_id
                .as_deref()
                .map(|l| resolve_location(&org, l))
                .transpose()?;
            rules::check_calling_names(write.first_name.as_deref(), write.last_name.as_deref())?;
        }
        rules::check_license_exclusivity(&pairs(&org, &licenses))?;
        let now = s.now();
        let seq = s.next_seq();
        let person = SimPerson {
            seq,
            uuid: uuid::Uuid::new_v4().to_string(),
            org_uuid: org.uuid.clone(),
            emails: vec![email],
            display_name: write.display_name.clone(),
            first_name: write.first_name.clone(),
            last_name: write.last_name.clone(),
            nick_name: None,
            phone_numbers: settable_numbers(&write.phone_numbers),
            extension: if calling { write.extension.clone() } else { None },
            location_id,
            roles: Vec::new(),
            licenses,
            department: write.department.clone(),
            title: write.title.clone(),
            site_urls: write.site_urls.clone().unwrap_or_default(),
            created: now,
            last_modified: now,
            login_enabled: write.login_enabled.unwrap_or(true),
            signed_in_once: false,
            password: None,
        };
        let wire = person.to_wire(true);
        let (org_uuid, person_uuid) = (person.org_uuid.clone(), person.uuid.clone());
        s.people.push(person);
        crate::sim::calling::on_calling_licence(s, &org_uuid, &person_uuid, false, calling);
        Ok(wire)
    })?;
    Ok(person_response(person, min_response))
}

/// `GET /v1/people/{personId}`.
pub async fn get(
    caller: Caller,
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Person>, ApiError> {
    let uuid = person_uuid(&id).ok_or_else(person_not_found)?;
    app.store.read(|s| {
        s.person(&uuid)
            .filter(|p| p.org_uuid == caller.org_uuid)
            .map(|p| Json(p.to_wire(true)))
            .ok_or_else(person_not_found)
    })
}

/// `GET /v1/people/me`: the token owner.
pub async fn me(caller: Caller, State(app): State<AppState>) -> Result<Json<Person>, ApiError> {
    app.store.read(|s| {
        s.person(&caller.person_uuid)
            .map(|p| Json(p.to_wire(true)))
            .ok_or_else(person_not_found)
    })
}

pub fn person_not_found() -> ApiError {
    ApiError::not_found("Person not found.")
}

/// `PUT /v1/people/{personId}`: replace semantics for the profile fields; `roles` / `licenses`
/// absent (not `[]`) keep the current ones; calling fields absent keep the current ones.
pub async fn update(
    caller: Caller,
    State(app): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let params = QueryParams::parse(query.as_deref());
    let min_response = params.flag("minResponse")?;
    params.flag("callingData")?;
    let uuid = person_uuid(&id).ok_or_else(person_not_found)?;
    let write: PersonWrite = parse_json(&body)?;
    let person = app.store.mutate(|s| {
        let org = caller_org(s, &caller)?;
        let current = s
            .person(&uuid)
            .filter(|p| p.org_uuid == org.uuid)
            .cloned()
            .ok_or_else(person_not_found)?;
        if non_empty(&write.display_name).is_none() {
            return Err(ApiError::bad_request("displayName is required."));
        }
        let email = write
            .emails
            .first()
            .map(|e| e.trim().to_string())
            .filter(|e| !e.is_empty())
            .ok_or_else(|| ApiError::bad_request("emails is required."))?;
        if !email.eq_ignore_ascii_case(current.email()) {
            check_email_syntax(&email)?;
            s.check_email_free(&org.uuid, &email, Some(&uuid))?;
        }
        let roles = match &write.roles {
            Some(r) => resolve_roles(r)?,
            None => current.roles.clone(),
        };
        let licenses = match &write.licenses {
            Some(l) => known_licenses(&org, l),
            None => current.licenses.clone(),
        };
        let was_calling = holds_calling(&org, &current.licenses);
        let calling = holds_calling(&org, &licenses);
        let extension = write.extension.clone().or_else(|| current.extension.clone());
        let phone_numbers = if write.phone_numbers.is_empty() {
            current.phone_numbers.clone()
        } else {
            settable_numbers(&write.phone_numbers)
        };
        let mut location_id = current.location_id.clone();
        if let Some(requested) = non_empty(&write.location_id) {
            let requested = resolve_location(&org, requested)?;
            if was_calling && location_id.as_deref().is_some_and(|l| l != requested) {
                return Err(ApiError::bad_request(
                    "locationId cannot be changed once the person has a Webex Calling license.",
                ));
            }
            location_id = Some(requested);
        }
        if calling {
            if !was_calling {
                let props = CallingProps {
                    phone_number: work_number(&phone_numbers),
                    extension: extension.as_deref(),
                    location_id: location_id.as_deref(),
                };
                if !rules::calling_properties_complete(props) || location_id.is_none() {
                    let ids = licenses
                        .iter()
                        .filter(|id| org.license(id).is_some_and(|l| l.is_calling()));
                    return Err(RuleViolation::CallingPropertiesMissing {
                        licenses: ids.cloned().collect(),
                    }
                    .into());
                }
            }
            rules::check_calling_names(write.first_name.as_deref(), write.last_name.as_deref())?;
        }
        rules::check_license_exclusivity(&pairs(&org, &licenses))?;
        let role_refs: Vec<&str> = roles.iter().map(String::as_str).collect();
        let offer_codes = s.offer_codes_of(&org, &licenses);
        let code_refs: Vec<&str> = offer_codes.iter().map(String::as_str).collect();
        rules::check_cc_roles(&role_refs, &code_refs)?;
        let now = s.now();
        let person = s.person_mut(&uuid).ok_or_else(person_not_found)?;
        person.emails = vec![email];
        person.display_name = write.display_name.clone();
        person.first_name = write.first_name.clone();
        person.last_name = write.last_name.clone();
        // nickName is ignored on PUT and reset (webex-api-notes §2.5).
        person.nick_name = None;
        person.department = write.department.clone();
        person.title = write.title.clone();
        person.phone_numbers = phone_numbers;
        person.extension = if calling { extension } else { None };
        person.location_id = if calling { location_id } else { None };
        person.roles = roles;
        person.licenses = licenses;
        if let Some(sites) = &write.site_urls {
            person.site_urls = sites.clone();
        }
        if let Some(enabled) = write.login_enabled {
            person.login_enabled = enabled;
        }
        person.last_modified = now;
        let wire = person.to_wire(true);
        crate::sim::calling::on_calling_licence(s, &org.uuid, &uuid, was_calling, calling);
        Ok(wire)
    })?;
    Ok(person_response(person, min_response))
}

/// `DELETE /v1/people/{personId}`: the email becomes free again.
pub async fn delete(
    caller: Caller,
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let uuid = person_uuid(&id).ok_or_else(person_not_found)?;
    app.store.mutate(|s| {
        let pos = s
            .people
            .iter()
            .position(|p| p.uuid == uuid && p.org_uuid == caller.org_uuid)
            .ok_or_else(person_not_found)?;
        s.people.remove(pos);
        Ok(StatusCode::NO_CONTENT)
    })
}

/// The opaque paging cursor: the creation sequence number of the last item of the page.
pub fn encode_cursor(seq: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("sim-people:{seq}"))
}

pub fn decode_cursor(cursor: &str) -> Option<u64> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    String::from_utf8(bytes).ok()?.strip_prefix("sim-people:")?.parse().ok()
}

/// `GET /v1/people`: filters `email` (exact, case-insensitive), `displayName` (prefix,
/// case-insensitive), `id` (≤85), `roles`, `locationId`; paging by `max` + `Link` cursor.
pub async fn list(
    caller: Caller,
    State(app): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = QueryParams::parse(query.as_deref());
    params.flag("callingData")?;
    params.flag("excludeStatus")?;
    let max = match params.get("max") {
        None => DEFAULT_MAX,
        Some(raw) => match raw.parse::<f64>() {
            Ok(n) if n >= 1.0 && n.fract() == 0.0 => (n as usize).min(MAX_CAP),
            _ => return Err(ApiError::bad_request(format!("Invalid max: {raw}"))),
        },
    };
    let after = match params.get("cursor") {
        None => 0,
        Some(c) => decode_cursor(c).ok_or_else(|| ApiError::bad_request("Invalid paging cursor."))?,
    };
    let email = params.get("email").map(str::to_string);
    let display_prefix = params.get("displayName").map(str::to_lowercase);
    let ids: Option<Vec<String>> = params.get("id").map(|v| {
        v.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    });
    if ids.as_ref().is_some_and(|i| i.len() > MAX_IDS) {
        return Err(ApiError::bad_request(format!("At most {MAX_IDS} ids may be listed.")));
    }
    let roles: Option<Vec<String>> = params.get("roles").map(|v| {
        v.split(',')
            .filter(|s| !s.is_empty())
            .map(|r| crate::sim::roles::role_name(r).unwrap_or(r).to_string())
            .collect()
    });
    let location = params.get("locationId").map(str::to_string);

    let (items, more, not_found) = app.store.read(|s| -> Result<_, ApiError> {
        let org = caller_org(s, &caller)?;
        if params.get("orgId").is_some_and(|o| !org.is_named_by(o)) {
            return Err(ApiError::forbidden(
                "Listing people of another organization is not allowed.",
            ));
        }
        let wanted_uuids: Option<Vec<Option<String>>> =
            ids.as_ref().map(|ids| ids.iter().map(|i| person_uuid(i)).collect());
        let matches = |p: &&SimPerson| {
            p.org_uuid == org.uuid
                && p.seq > after
                && email
                    .as_ref()
                    .is_none_or(|e| p.emails.iter().any(|pe| pe.eq_ignore_ascii_case(e)))
                && display_prefix
                    .as_ref()
                    .is_none_or(|d| p.display_name.as_ref().is_some_and(|n| n.to_lowercase().starts_with(d)))
                && wanted_uuids
                    .as_ref()
                    .is_none_or(|w| w.iter().flatten().any(|u| *u == p.uuid))
                && roles.as_ref().is_none_or(|r| r.iter().any(|r| p.roles.contains(r)))
                && location.as_ref().is_none_or(|l| p.location_id.as_ref() == Some(l))
        };
        let mut page: Vec<&SimPerson> = s.people.iter().filter(matches).take(max + 1).collect();
        let more = page.len() > max;
        page.truncate(max);
        let not_found = ids.as_ref().map(|ids| {
            ids.iter()
                .filter(|id| person_uuid(id).is_none_or(|u| s.person(&u).is_none_or(|p| p.org_uuid != org.uuid)))
                .cloned()
                .collect::<Vec<_>>()
        });
        let presence = ids.is_none();
        let items: Vec<(u64, Person)> = page.iter().map(|p| (p.seq, p.to_wire(presence))).collect();
        Ok((items, more, not_found))
    })?;

    let next_link = match (more, items.last()) {
        (true, Some((seq, _))) => Some(next_link(&headers, &params, *seq)),
        _ => None,
    };
    let body = PersonListOut {
        items: items.into_iter().map(|(_, p)| p).collect(),
        not_found_ids: not_found,
    };
    let mut response = Json(body).into_response();
    if let Some(link) = next_link.and_then(|l| axum::http::HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(axum::http::header::LINK, link);
    }
    Ok(response)
}

/// `<http://host/v1/people?...&cursor=...>; rel="next"`, keeping the other query parameters.
fn next_link(headers: &HeaderMap, params: &QueryParams, last_seq: u64) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params.pairs.iter().filter(|(k, _)| k != "cursor") {
        query.append_pair(k, v);
    }
    query.append_pair("cursor", &encode_cursor(last_seq));
    format!("<http://{host}/v1/people?{}>; rel=\"next\"", query.finish())
}

/// The numbers a write may set: `work_extension` is derived from the extension and the
/// location's routing prefix, and "cannot be used to set the Webex Calling extension"
/// (webex-admin.json, Update a Person), so it is ignored.
fn settable_numbers(numbers: &[PhoneNumber]) -> Vec<PhoneNumber> {
    numbers
        .iter()
        .filter(|n| n.kind != crate::sim::state::WORK_EXTENSION)
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
        assert_eq!(decode_cursor("bm90IGEgY3Vyc29y"), None);
        assert_eq!(decode_cursor("!!"), None);
    }

    #[test]
    fn email_syntax() {
        assert!(check_email_syntax("a@b.test").is_ok());
        assert!(check_email_syntax("ab.test").is_err());
        assert!(check_email_syntax("@b.test").is_err());
        assert!(check_email_syntax("a b@b.test").is_err());
        assert!(check_email_syntax("a@localhost").is_err());
    }
}
