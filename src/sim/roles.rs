//! `GET /v1/roles`, `GET /v1/roles/{roleId}`: the admin roles the simulator knows.

use axum::Json;
use axum::extract::{Path, State};

use crate::sim::AppState;
use crate::sim::auth::Caller;
use crate::sim::error::ApiError;
use crate::webex::ids::{self, IdKind};
use crate::webex::model::{Role, RoleList};

pub const FULL_ADMIN: &str = "id_full_admin";
pub const USER_ADMIN: &str = "id_user_admin";
pub const READONLY_ADMIN: &str = "id_readonly_admin";
pub const DEVICE_ADMIN: &str = "id_device_admin";
// Simulator assumptions: Webex publishes no role id for these two Control Hub roles
// (webex-api-notes §5.1, §9.7); the names follow the `id_*` pattern of the public ones.
pub const CC_ADMIN: &str = "id_cjp_admin";
pub const CC_SUPERVISOR: &str = "id_cjp_supervisor";

/// Role name (the raw part of the role id) and display name.
pub const ROLES: &[(&str, &str)] = &[
    (FULL_ADMIN, "Full Administrator"),
    (USER_ADMIN, "User Administrator"),
    (READONLY_ADMIN, "Read-only Administrator"),
    (DEVICE_ADMIN, "Device Administrator"),
    (CC_ADMIN, "Contact Center Service Administrator"),
    (CC_SUPERVISOR, "Contact Center Supervisor"),
];

/// The administrator roles the supervisor role excludes (R-CC-3, R-CC-4).
pub const ADMIN_ROLES_EXCLUDED_BY_SUPERVISOR: &[&str] = &[FULL_ADMIN, USER_ADMIN, CC_ADMIN];

/// The role name of a public role id or of a bare role name; `None` when unknown.
pub fn role_name(id_or_name: &str) -> Option<&'static str> {
    let raw = match ids::decode(id_or_name) {
        Some((IdKind::Role, raw)) => raw,
        _ => id_or_name.to_string(),
    };
    ROLES.iter().find(|(name, _)| *name == raw).map(|(name, _)| *name)
}

fn role(name: &str, display: &str) -> Role {
    Role {
        id: ids::role_id(name),
        name: display.to_string(),
    }
}

pub async fn list(_caller: Caller, State(_): State<AppState>) -> Json<RoleList> {
    Json(RoleList {
        items: ROLES.iter().map(|(n, d)| role(n, d)).collect(),
    })
}

pub async fn get(_caller: Caller, Path(role_id): Path<String>) -> Result<Json<Role>, ApiError> {
    let known = match ids::decode(&role_id) {
        Some((IdKind::Role, raw)) => ROLES.iter().find(|(name, _)| *name == raw),
        _ => None,
    };
    known
        .map(|(n, d)| Json(role(n, d)))
        .ok_or_else(|| ApiError::not_found("Role not found"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_resolve_from_ids_and_names() {
        assert_eq!(role_name(&ids::role_id("id_user_admin")), Some(USER_ADMIN));
        assert_eq!(role_name("id_cjp_supervisor"), Some(CC_SUPERVISOR));
        assert_eq!(role_name("id_nonsense"), None);
        assert_eq!(role_name(&ids::encode(IdKind::People, "id_full_admin")), None);
    }
}
