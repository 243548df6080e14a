//! Webex-shaped error answers: `{message, errors:[{errorCode?, description}], trackingId}` with
//! the tracking id also in a `trackingId` header.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::sim::rules::RuleViolation;
use crate::webex::model::{ErrorBody, ErrorDetail, codes};

/// The name of the tracking id header.
pub const TRACKING_ID: &str = "trackingId";

/// A new simulator tracking id (`SIM_<uuid>`).
pub fn new_tracking_id() -> String {
    format!("SIM_{}", uuid::Uuid::new_v4())
}

/// An error answer of the public or control API.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub errors: Vec<ErrorDetail>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        let message = message.into();
        let errors = vec![ErrorDetail {
            error_code: None,
            description: message.clone(),
        }];
        Self {
            status,
            message,
            errors,
            retry_after: None,
        }
    }

    /// Replaces the details with one coded entry.
    pub fn with_code(mut self, code: i64, description: impl Into<String>) -> Self {
        self.errors = vec![ErrorDetail {
            error_code: Some(code),
            description: description.into(),
        }];
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "The request requires a valid access token set in the Authorization request header.",
        )
    }

    pub fn conflict(code: i64, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::new(StatusCode::CONFLICT, message.clone()).with_code(code, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "Too many requests, retry later.");
        e.retry_after = Some(retry_after);
        e
    }

    /// A licence assignment error (`PATCH /v1/licenses/users`, 400 + Cisco error code).
    pub fn license(code: i64, description: impl Into<String>) -> Self {
        Self::bad_request("License assignment failed").with_code(code, description)
    }

    /// The body sent for this error with a fresh tracking id.
    pub fn body(&self, tracking_id: &str) -> ErrorBody {
        ErrorBody {
            message: self.message.clone(),
            errors: self.errors.clone(),
            tracking_id: Some(tracking_id.to_string()),
        }
    }
}

impl From<RuleViolation> for ApiError {
    fn from(v: RuleViolation) -> Self {
        let text = v.to_string();
        match v {
            RuleViolation::CallingNameTooLong { .. } | RuleViolation::CallingNameForbiddenChar { .. } => {
                Self::bad_request(text.clone()).with_code(codes::PEOPLE_INVALID_CALLING_NAME, text)
            }
            RuleViolation::CallingPropertiesMissing { .. } => Self::license(codes::CALLING_PROPERTIES_MISSING, text),
            RuleViolation::CallingProAndStandard { .. } => Self::license(codes::CALLING_PRO_AND_STANDARD, text),
            RuleViolation::ExclusiveOfferCode { .. } => Self::license(codes::EXCLUSIVE_OFFER_CODE, text),
            RuleViolation::SupervisorWithAdmin
            | RuleViolation::SupervisorWithoutPremium
            | RuleViolation::Password(_) => Self::bad_request(text),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let tracking_id = new_tracking_id();
        let mut response = (self.status, axum::Json(self.body(&tracking_id))).into_response();
        let headers = response.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&tracking_id) {
            headers.insert(HeaderName::from_static("trackingid"), v);
        }
        if let Some(secs) = self.retry_after {
            headers.insert(axum::http::header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_violations_map_to_webex_codes() {
        let e = ApiError::from(RuleViolation::CallingProAndStandard {
            licenses: vec!["L1".into()],
        });
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.errors[0].error_code, Some(codes::CALLING_PRO_AND_STANDARD));
        assert!(e.errors[0].description.contains("L1"));
        let e = ApiError::from(RuleViolation::CallingNameTooLong { field: "lastName" });
        assert_eq!(e.errors[0].error_code, Some(codes::PEOPLE_INVALID_CALLING_NAME));
        assert!(e.message.contains("lastName"));
    }

    #[test]
    fn body_carries_the_tracking_id() {
        let body = ApiError::not_found("nope").body("SIM_x");
        assert_eq!(body.tracking_id.as_deref(), Some("SIM_x"));
        assert_eq!(body.errors[0].description, "nope");
    }
}
