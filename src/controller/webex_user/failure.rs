//! Pure: what a failed WebexUser reconcile tells the user. Each typed failure maps to exactly
//! one condition reason here, and says whether retrying can help.

use crate::controller::error::ReconcileError;
use crate::controller::guard::APPROVE_ANNOTATION;
use crate::webex::error::CreateConflict;

use super::plan::UserReason;

/// The Ready reason of `error`, and whether it is terminal (waits for a change).
pub fn reason(error: &ReconcileError) -> (UserReason, bool) {
    match error {
        ReconcileError::Webex { source, .. } => match source.create_conflict() {
            Some(CreateConflict::ExistsInOtherOrg) => (UserReason::ExistsInOtherOrg, true),
            Some(CreateConflict::TrialOrgOwnsEmail) => (UserReason::TrialOrgOwnsEmail, true),
            Some(CreateConflict::DirectorySync) => (UserReason::OrgUsesDirectorySync, true),
            // The email is a person of this org that a read by email does not show yet (the
            // reconciler adopts or refuses it at once when it does): Webex is not unavailable.
            Some(CreateConflict::ExistsInOrg) => (UserReason::Reconciling, false),
            _ if source.is_retryable() => (UserReason::WebexUnavailable, false),
            _ => (UserReason::WebexRejected, true),
        },
        ReconcileError::OrgNotReady { .. } | ReconcileError::TokenSecretMissing(_) => (UserReason::OrgNotReady, false),
        ReconcileError::PartiallyApplied { .. } => (UserReason::PartiallyApplied, false),
        ReconcileError::NotConverged { .. } => (UserReason::NotConverged, false),
        ReconcileError::StaleListing { .. } => (UserReason::Reconciling, false),
        ReconcileError::CacheNotSynced { .. } => (UserReason::CacheNotSynced, false),
        ReconcileError::Unreadable { .. } => (UserReason::TemplateUnreadable, false),
        ReconcileError::DeprovisioningHeld { .. } => (UserReason::DeprovisioningHeld, false),
        ReconcileError::DeletionBlocked(_) => (UserReason::DeletionBlocked, true),
        ReconcileError::Kube { .. } | ReconcileError::WaitingUntil { .. } => (UserReason::WebexUnavailable, false),
        ReconcileError::InvalidSpec(_) | ReconcileError::MissingMetadata(_) => (UserReason::InvalidSpec, true),
    }
}

/// The condition message: what to do for the rule-based refusals, else the cause chain, with
/// Webex's tracking id.
pub fn message(error: &ReconcileError, reason: UserReason, email: &str) -> String {
    let mut message = match reason {
        UserReason::ExistsInOtherOrg => {
            format!("{email} already has a Webex account in another organisation; claim it with a UserClaim (R-USER-3)")
        }
        UserReason::TrialOrgOwnsEmail => format!(
            "{email} belongs to a Webex trial organisation; it can be added once that trial organisation is deleted (R-USER-4)"
        ),
        UserReason::OrgUsesDirectorySync => {
            "the org synchronises users from a directory, so users cannot be added by hand (R-ORG-2)".to_string()
        }
        UserReason::DeprovisioningHeld => format!(
            "{}; approve it with the annotation {APPROVE_ANNOTATION}=true, or wait for the window to pass",
            error.describe()
        ),
        _ => error.describe(),
    };
    if let ReconcileError::Webex { source, .. } = error
        && let Some(tracking) = source.tracking_id()
        && !message.contains(tracking)
    {
        message.push_str(&format!(" (Webex trackingId {tracking})"));
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webex::error::WebexError;

    fn webex(status: u16, error_codes: Vec<i64>) -> ReconcileError {
        ReconcileError::Webex {
            action: "create the person",
            source: WebexError::Api {
                endpoint: "POST /v1/people".into(),
                status,
                message: "refused".into(),
                error_codes,
                tracking_id: Some("TRACK-1".into()),
                retry_after: None,
            },
        }
    }

    /// Only a 206 reads as `PartiallyApplied`: a missing org, a run that did not converge, a
    /// stale listing and an unlisted cache each have their own reason (they all used to be
    /// `NotReady(String)`, reported as `PartiallyApplied`).
    #[test]
    fn each_typed_failure_has_its_own_reason() {
        let cases = [
            (
                ReconcileError::OrgNotReady { org: "acme".into() },
                UserReason::OrgNotReady,
            ),
            (
                ReconcileError::TokenSecretMissing("token Secret x/y".into()),
                UserReason::OrgNotReady,
            ),
            (
                ReconcileError::PartiallyApplied { what: "licence change" },
                UserReason::PartiallyApplied,
            ),
            (ReconcileError::NotConverged { rounds: 5 }, UserReason::NotConverged),
            (
                ReconcileError::StaleListing { cause: "404".into() },
                UserReason::Reconciling,
            ),
            (
                ReconcileError::CacheNotSynced {
                    kind: "LicenseTemplate",
                },
                UserReason::CacheNotSynced,
            ),
            (
                ReconcileError::Unreadable {
                    kind: "LicenseTemplate",
                    names: "gold".into(),
                },
                UserReason::TemplateUnreadable,
            ),
            (
                ReconcileError::DeprovisioningHeld {
                    done_in_window: 3,
                    limit: 3,
                },
                UserReason::DeprovisioningHeld,
            ),
        ];
        for (error, expected) in cases {
            assert_eq!(reason(&error), (expected, false), "{error}");
            assert!(error.is_retryable(), "{error}");
        }
        assert_eq!(
            reason(&ReconcileError::DeletionBlocked("orphan".into())),
            (UserReason::DeletionBlocked, true)
        );
        assert_eq!(
            reason(&ReconcileError::InvalidSpec("x".into())),
            (UserReason::InvalidSpec, true)
        );
    }

    #[test]
    fn create_conflicts_name_the_rule_and_a_taken_email_in_the_org_is_not_an_outage() {
        use crate::webex::model::codes;
        let other = webex(409, vec![codes::PEOPLE_EXISTS_IN_OTHER_ORG]);
        let (r, terminal) = reason(&other);
        assert_eq!((r, terminal), (UserReason::ExistsInOtherOrg, true));
        let text = message(&other, r, "ann@acme.example");
        assert!(text.contains("UserClaim") && text.contains("R-USER-3"), "{text}");
        assert!(text.contains("TRACK-1"), "the tracking id is kept: {text}");
        assert_eq!(
            reason(&webex(409, vec![codes::PEOPLE_EXISTS_IN_ORG])),
            (UserReason::Reconciling, false)
        );
        assert_eq!(reason(&webex(503, vec![])), (UserReason::WebexUnavailable, false));
        assert_eq!(reason(&webex(400, vec![])), (UserReason::WebexRejected, true));
    }
}
