//! Bearer-token authentication of the public API: each seeded org has one admin token, owned by
//! an admin person (role `id_full_admin`) of that org.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::sim::AppState;
use crate::sim::error::ApiError;

/// The authenticated caller: the admin of one org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub org_uuid: String,
    pub person_uuid: String,
}

/// The bearer token of a request, if any.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts).ok_or_else(ApiError::unauthorized)?;
        state
            .store
            .read(|s| {
                s.org_by_token(token).map(|o| Caller {
                    org_uuid: o.uuid.clone(),
                    person_uuid: o.admin_person_uuid.clone(),
                })
            })
            .ok_or_else(ApiError::unauthorized)
    }
}
