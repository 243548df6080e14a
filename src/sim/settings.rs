//! `/settings/organizations/{orgId}/settings...`: the automatic activation emails setting (R-ORG-1).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};

use crate::sim::auth::Caller;
use crate::sim::error::ApiError;
use crate::sim::state::Org;
use crate::sim::{AppState, parse_json};
use crate::webex::model::{OrgSetting, SETTING_ADMIN_INVITE_EMAILS};

/// The display name of the activation emails setting.
pub const ADMIN_INVITE_EMAILS_NAME: &str = "Automatic Activation Emails";

pub fn setting_of(org: &Org, key: &str) -> Option<OrgSetting> {
    (key == SETTING_ADMIN_INVITE_EMAILS).then(|| OrgSetting {
        key: key.to_string(),
        value: serde_json::Value::Bool(org.allow_admin_invite_emails),
        name: Some(ADMIN_INVITE_EMAILS_NAME.to_string()),
    })
}

/// Validates a setting write; returns the new boolean value.
pub fn check_setting_write(write: &OrgSetting) -> Result<bool, ApiError> {
    if write.key != SETTING_ADMIN_INVITE_EMAILS {
        return Err(ApiError::bad_request(format!("Unknown setting key: {}", write.key)));
    }
    write
        .value
        .as_bool()
        .ok_or_else(|| ApiError::bad_request("The value of allow-admin-invite-emails must be a boolean."))
}

fn check_own_org(caller: &Caller, org: &Org, org_id: &str) -> Result<(), ApiError> {
    if org.uuid == caller.org_uuid && org.is_named_by(org_id) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "The caller is not an administrator of this organization.",
        ))
    }
}

/// `GET /settings/organizations/{orgId}/settings/{settingKey}`.
pub async fn get(
    caller: Caller,
    State(app): State<AppState>,
    Path((org_id, key)): Path<(String, String)>,
) -> Result<Json<OrgSetting>, ApiError> {
    app.store.read(|s| {
        let org = s.org(&caller.org_uuid).ok_or_else(ApiError::unauthorized)?;
        check_own_org(&caller, org, &org_id)?;
        setting_of(org, &key)
            .map(Json)
            .ok_or_else(|| ApiError::not_found(format!("Unknown setting key: {key}")))
    })
}

/// `POST /settings/organizations/{orgId}/settings` with `{key, value}`.
pub async fn set(
    caller: Caller,
    State(app): State<AppState>,
    Path(org_id): Path<String>,
    body: Bytes,
) -> Result<Json<OrgSetting>, ApiError> {
    let write: OrgSetting = parse_json(&body)?;
    app.store.mutate(|s| {
        let org = s
            .orgs
            .iter_mut()
            .find(|o| o.uuid == caller.org_uuid)
            .ok_or_else(ApiError::unauthorized)?;
        check_own_org(&caller, org, &org_id)?;
        org.allow_admin_invite_emails = check_setting_write(&write)?;
        setting_of(org, &write.key)
            .map(Json)
            .ok_or_else(|| ApiError::internal("setting vanished"))
    })
}
