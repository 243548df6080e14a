//! Wire types of the Webex REST APIs the operator uses, shared by the client and the simulator.
//!
//! Field names follow `tests/webex-openapi/webex-admin.json`; deviations the real service shows
//! (webex-api-notes §2.2, §3.3) are handled here once: `invitePending` / `loginEnabled` arrive as
//! JSON booleans or as the strings "true"/"false", and site `accountType` in either case.

use serde::{Deserialize, Deserializer, Serialize};

/// A phone number of a person (`phoneNumbers[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhoneNumber {
    /// work, work_extension, mobile, fax.
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<bool>,
}

/// `Person` as returned by `GET/POST/PUT /v1/people`. Absent fields are omitted on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    pub id: String,
    #[serde(default)]
    pub emails: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phone_numbers: Vec<PhoneNumber>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nick_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_activity: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub site_urls: Vec<String>,
    /// Presence: active, inactive, pending, unknown, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// True until the person first signs in (R-USER-10).
    #[serde(
        default,
        deserialize_with = "bool_or_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub invite_pending: Option<bool>,
    #[serde(
        default,
        deserialize_with = "bool_or_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub login_enabled: Option<bool>,
    /// person, bot, appuser.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl Person {
    /// The primary (first) email, lower-cased: Webex emails are case-insensitive.
    pub fn primary_email(&self) -> Option<String> {
        self.emails.first().map(|e| e.to_ascii_lowercase())
    }
}

/// Body of `POST /v1/people` and `PUT /v1/people/{id}` (PUT replaces: send every field you keep).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonWrite {
    pub emails: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phone_numbers: Vec<PhoneNumber>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licenses: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_urls: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_enabled: Option<bool>,
}

/// `GET /v1/people` response body (the next page is in the `Link` header).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonList {
    #[serde(default)]
    pub items: Vec<Person>,
    /// Real responses carry `null` here (webex-api-notes §2.1).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub not_found_ids: Vec<String>,
}

/// A licence of the org (`GET /v1/licenses`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct License {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_units: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumed_units: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumed_by_users: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumed_by_workspaces: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_type: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LicenseList {
    #[serde(default)]
    pub items: Vec<License>,
}

/// One user of a licence (`GET /v1/licenses/{id}?includeAssignedTo=user`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LicenseUser {
    #[serde(default)]
    pub id: String,
    /// `INTERNAL` (a person of the org) or `EXTERNAL` (of another org).
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default)]
    pub email: String,
}

/// A licence with its users (`LicensewithUsers`); one page of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LicenseWithUsers {
    #[serde(flatten)]
    pub license: License,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub users: Vec<LicenseUser>,
}

/// `add` or `remove` in `PATCH /v1/licenses/users`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LicenseOperation {
    #[default]
    Add,
    Remove,
}

/// Calling properties of a Calling licence (R-USER-7).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LicenseProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LicenseRequest {
    pub id: String,
    #[serde(default)]
    pub operation: LicenseOperation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<LicenseProperties>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteUrlRequest {
    pub site_url: String,
    /// `attendee` (the SPEC's only request value); compared case-insensitively.
    pub account_type: String,
    #[serde(default)]
    pub operation: LicenseOperation,
}

/// Body of `PATCH /v1/licenses/users`: all of one user's licence changes in one call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatchUserLicenses {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<LicenseRequest>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub site_urls: Vec<SiteUrlRequest>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteResponse {
    pub site_url: String,
    pub account_type: String,
}

/// Response of `PATCH /v1/licenses/users` (200, or 206 when only some changes applied).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserLicensesResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub licenses: Vec<String>,
    #[serde(default, deserialize_with = "null_as_empty", skip_serializing_if = "Vec::is_empty")]
    pub site_urls: Vec<SiteResponse>,
    #[serde(default, deserialize_with = "null_as_empty", skip_serializing_if = "Vec::is_empty")]
    pub pending_licenses: Vec<String>,
    #[serde(default, deserialize_with = "null_as_empty", skip_serializing_if = "Vec::is_empty")]
    pub pending_site_urls: Vec<SiteResponse>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RoleList {
    #[serde(default)]
    pub items: Vec<Role>,
}

/// One org setting (`/settings/organizations/{orgId}/settings/{key}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgSetting {
    pub key: String,
    pub value: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The key of the automatic activation emails setting (R-ORG-1).
pub const SETTING_ADMIN_INVITE_EMAILS: &str = "allow-admin-invite-emails";

/// `errors[]` entry of an error body; `errorCode` is optional (webex-api-notes §1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<i64>,
    #[serde(default)]
    pub description: String,
}

/// Error body: `{message, errors[{errorCode?, description}], trackingId}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    #[serde(default)]
    pub message: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub errors: Vec<ErrorDetail>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_id: Option<String>,
}

/// Offer codes the Webex side gives meaning to (the simulator derives a Contact Center profile
/// from them). The API types name the same codes (`api::common::CC_*`).
pub mod offer_codes {
    pub const CONTACT_CENTER_STANDARD: &str = "CJPSTD";
    pub const CONTACT_CENTER_PREMIUM: &str = "CJPPRM";
}

/// Error codes. The licence codes are Cisco's (webex-admin.json, `PATCH /licenses/users`).
/// Cisco documents no codes for the People API conflicts (webex-api-notes §9.1); the
/// `PEOPLE_*` codes are this project's convention, served by the simulator and recognised by the
/// client, and a real-service 409 without them falls back to `EmailConflict`.
pub mod codes {
    pub const LOCATION_NOT_FOUND: i64 = 400;
    pub const LICENSE_NOT_RECOGNIZED: i64 = 400000;
    pub const CALLING_PRO_AND_STANDARD: i64 = 400404;
    pub const CALLING_PROPERTIES_MISSING: i64 = 400411;
    pub const EXCLUSIVE_OFFER_CODE: i64 = 400413;
    /// Email already belongs to a person of this org (R-USER-3).
    pub const PEOPLE_EXISTS_IN_ORG: i64 = 409001;
    /// Email has a Webex account in another org: claim it instead (R-USER-3).
    pub const PEOPLE_EXISTS_IN_OTHER_ORG: i64 = 409002;
    /// Email belongs to a trial org's account (R-USER-4).
    pub const PEOPLE_TRIAL_ORG_OWNS_EMAIL: i64 = 409003;
    /// The org synchronises users from a directory: no manual adds (R-ORG-2).
    pub const PEOPLE_DIRECTORY_SYNC: i64 = 403001;
    /// Calling user names break R-USER-2.
    pub const PEOPLE_INVALID_CALLING_NAME: i64 = 400120;
    /// The external user's org does not allow cross-org licensing (R-EXT-1, R-ORG-5). Project
    /// convention, like the `PEOPLE_*` codes: Cisco documents no code for it.
    pub const EXTERNAL_CROSS_ORG_NOT_ALLOWED: i64 = 403002;
    /// An external user's pending invitation cannot be removed (R-EXT-7). Project convention.
    pub const EXTERNAL_INVITATION_PENDING: i64 = 409004;
}

fn bool_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Bool(bool),
        Text(String),
    }
    Ok(match Option::<Raw>::deserialize(d)? {
        None => None,
        Some(Raw::Bool(b)) => Some(b),
        Some(Raw::Text(s)) => Some(s.eq_ignore_ascii_case("true")),
    })
}

fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invite_pending_accepts_booleans_and_strings() {
        let real: Person =
            serde_json::from_str(r#"{"id":"x","emails":["A@b.c"],"invitePending":true,"loginEnabled":"false"}"#)
                .unwrap();
        assert_eq!(real.invite_pending, Some(true));
        assert_eq!(real.login_enabled, Some(false));
        assert_eq!(real.primary_email().as_deref(), Some("a@b.c"));
    }

    #[test]
    fn null_lists_read_as_empty() {
        let list: PersonList = serde_json::from_str(r#"{"items":[],"notFoundIds":null}"#).unwrap();
        assert!(list.not_found_ids.is_empty());
        let err: ErrorBody = serde_json::from_str(r#"{"message":"m","errors":null,"trackingId":"NA_1"}"#).unwrap();
        assert_eq!(err.tracking_id.as_deref(), Some("NA_1"));
    }
}
