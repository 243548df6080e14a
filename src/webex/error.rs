//! Errors of the Webex client, each saying whether retrying can help.

use super::model::{ErrorBody, codes};
use std::time::Duration;

/// Why a conflict on create happened; each maps to its own condition reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
pub enum CreateConflict {
    /// The email belongs to a person of this org (R-USER-3).
    ExistsInOrg,
    /// The email has a Webex account in another org: it must be claimed (R-USER-3).
    ExistsInOtherOrg,
    /// The email belongs to a trial org's account (R-USER-4).
    TrialOrgOwnsEmail,
    /// The org synchronises users from a directory (R-ORG-2).
    DirectorySync,
    /// Some other conflict Webex did not explain.
    Unexplained,
}

#[derive(Debug, thiserror::Error)]
pub enum WebexError {
    /// The configured base URL cannot be used. Terminal.
    #[error("invalid Webex API base url {url:?}")]
    InvalidBaseUrl { url: String },

    /// The request did not complete (connection refused, reset, timeout). Retryable, except
    /// that a create is never resent blindly: see `OutcomeUnknown`.
    #[error("request to {endpoint} did not complete{}", untrusted_certificate_hint(source))]
    Transport {
        endpoint: String,
        #[source]
        source: reqwest::Error,
    },

    /// A create whose outcome is unknown (transport failure or 5xx after sending). The caller
    /// must look the email up before trying again. Retryable.
    #[error("outcome of {endpoint} is unknown (tracking id {tracking_id:?}); look the person up before retrying")]
    OutcomeUnknown {
        endpoint: String,
        tracking_id: Option<String>,
    },

    /// Webex answered with an error status. Retryable for 423, 429 and 5xx; terminal otherwise.
    #[error("{endpoint} answered {status}: {message} (tracking id {tracking_id:?})")]
    Api {
        endpoint: String,
        status: u16,
        message: String,
        error_codes: Vec<i64>,
        tracking_id: Option<String>,
        retry_after: Option<Duration>,
    },

    /// The response body could not be read. Retryable (Webex may have answered a proxy page).
    #[error("unexpected response body from {endpoint}")]
    Decode {
        endpoint: String,
        #[source]
        source: serde_json::Error,
    },

    /// Webex offers no public API for the operation; the admin must act in Control Hub.
    /// Terminal until the spec changes.
    #[error("{operation} has no public Webex API; do it in Control Hub")]
    NotAvailableInPublicApi { operation: &'static str },
}

impl WebexError {
    pub(crate) fn from_response(
        endpoint: String,
        status: u16,
        tracking_header: Option<String>,
        retry_after: Option<Duration>,
        body: &[u8],
    ) -> Self {
        let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
        let message = if parsed.message.is_empty() {
            parsed
                .errors
                .first()
                .map(|e| e.description.clone())
                .unwrap_or_else(|| format!("HTTP {status}"))
        } else {
            parsed.message.clone()
        };
        Self::Api {
            endpoint,
            status,
            message,
            error_codes: parsed.errors.iter().filter_map(|e| e.error_code).collect(),
            tracking_id: parsed.tracking_id.or(tracking_header),
            retry_after,
        }
    }

    /// Whether trying again later can succeed without a spec change.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { .. } | Self::OutcomeUnknown { .. } | Self::Decode { .. } => true,
            Self::Api { status, .. } => matches!(status, 408 | 423 | 429) || *status >= 500,
            Self::InvalidBaseUrl { .. } | Self::NotAvailableInPublicApi { .. } => false,
        }
    }

    /// The Webex tracking id, for Cisco support.
    pub fn tracking_id(&self) -> Option<&str> {
        match self {
            Self::Api { tracking_id, .. } | Self::OutcomeUnknown { tracking_id, .. } => tracking_id.as_deref(),
            _ => None,
        }
    }

    /// The wait Webex asked for (429 / 423 `Retry-After`).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn has_code(&self, code: i64) -> bool {
        matches!(self, Self::Api { error_codes, .. } if error_codes.contains(&code))
    }

    /// Classifies a failed create (R-USER-3, R-USER-4, R-ORG-2).
    pub fn create_conflict(&self) -> Option<CreateConflict> {
        let Self::Api { status, .. } = self else { return None };
        if self.has_code(codes::PEOPLE_EXISTS_IN_ORG) {
            Some(CreateConflict::ExistsInOrg)
        } else if self.has_code(codes::PEOPLE_EXISTS_IN_OTHER_ORG) {
            Some(CreateConflict::ExistsInOtherOrg)
        } else if self.has_code(codes::PEOPLE_TRIAL_ORG_OWNS_EMAIL) {
            Some(CreateConflict::TrialOrgOwnsEmail)
        } else if self.has_code(codes::PEOPLE_DIRECTORY_SYNC) {
            Some(CreateConflict::DirectorySync)
        } else if *status == 409 {
            Some(CreateConflict::Unexplained)
        } else {
            None
        }
    }
}

/// A hint for the admin when TLS refused the server's certificate (the cause is deep in the
/// source chain, which callers print after this message).
fn untrusted_certificate_hint(error: &reqwest::Error) -> &'static str {
    let mut cause: Option<&dyn std::error::Error> = Some(error);
    while let Some(current) = cause {
        if current.to_string().contains("certificate") {
            return " (the server's TLS certificate is not trusted: if a proxy or a private CA signs it, give that CA with --webex-ca-file)";
        }
        cause = current.source();
    }
    ""
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, body: &str) -> WebexError {
        WebexError::from_response(
            "POST /v1/people".into(),
            status,
            Some("HDR".into()),
            None,
            body.as_bytes(),
        )
    }

    #[test]
    fn retryable_split() {
        assert!(api(429, "").is_retryable());
        assert!(api(503, "").is_retryable());
        assert!(!api(400, "").is_retryable());
        assert!(!api(409, "").is_retryable());
        assert!(
            !WebexError::NotAvailableInPublicApi {
                operation: "revoke a claim"
            }
            .is_retryable()
        );
    }

    #[test]
    fn tracking_id_prefers_the_body_then_the_header() {
        let e = api(
            400,
            r#"{"message":"bad","errors":[{"errorCode":400411,"description":"d"}],"trackingId":"NA_1"}"#,
        );
        assert_eq!(e.tracking_id(), Some("NA_1"));
        assert!(e.has_code(400411));
        assert_eq!(api(500, "not json").tracking_id(), Some("HDR"));
    }

    #[test]
    fn conflicts_are_classified_by_code() {
        let other = api(
            409,
            r#"{"message":"m","errors":[{"errorCode":409002,"description":"claim"}]}"#,
        );
        assert_eq!(other.create_conflict(), Some(CreateConflict::ExistsInOtherOrg));
        let trial = api(
            409,
            r#"{"message":"m","errors":[{"errorCode":409003,"description":"trial"}]}"#,
        );
        assert_eq!(trial.create_conflict(), Some(CreateConflict::TrialOrgOwnsEmail));
        assert_eq!(api(409, "{}").create_conflict(), Some(CreateConflict::Unexplained));
        assert_eq!(api(400, "{}").create_conflict(), None);
    }
}
