//! Claiming users into the org (R-CLM-*): the wire types of the claim endpoints. Webex has no
//! public claim API (Control Hub's "Claim users" only); the simulator serves these under
//! `/_sim/hub/`, and the client calls them only with `backend: Simulator`.

use serde::{Deserialize, Serialize};

/// `POST /_sim/orgs/{orgId}/claims`: the org claims these people (Control Hub's "Claim users").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimRequest {
    /// At most 100 emails (the simulator's `MAX_EMAILS_PER_REQUEST`).
    pub emails: Vec<String>,
    /// A delayed claim (R-CLM-3); needs the org's content-migration setting (R-ORG-4).
    #[serde(default)]
    pub delayed: bool,
    /// "I understand claiming these users is permanent" (R-CLM-4); refused without it.
    #[serde(default)]
    pub acknowledge_permanent: bool,
}

/// One email of a [`ClaimRequest`], as the simulator answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimOutcome {
    pub email: String,
    /// `Claimed`, `DelayedClaim` or `Ineligible`.
    pub outcome: String,
    /// Why, when `Ineligible`: `NoWebexAccount`, `AlreadyInOrg`, `DomainNotVerified`,
    /// `DomainClaimedByOtherOrg`, `SsoOrg`, `DirectorySyncOrg`, `ClaimedByOtherOrg`,
    /// `InvalidEmail`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `POST /_sim/orgs/{orgId}/claims` response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimResponse {
    pub items: Vec<ClaimOutcome>,
}

/// `GET /_sim/orgs/{orgId}/claims`: every claim the org made (revoked ones too), oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimView {
    /// The claimed email (the person's email in the claiming org).
    pub email: String,
    /// The person in the claiming org.
    pub person_id: String,
    /// The org the person was claimed from.
    pub previous_org_id: String,
    /// Delayed claim (R-CLM-3).
    pub delayed: bool,
    /// `Claimed`, `DelayedClaim`, `Revoked` or `Deleted` (R-CLM-11).
    pub state: String,
    pub claimed_at: String,
    /// When a delayed claim completes by itself (claimedAt + 14 days, R-CLM-3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completes_at: Option<String>,
    /// When the user first signed in after the claim (R-CLM-7: no revoke after that).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_in_at: Option<String>,
    /// The user's choice at sign-in (R-CLM-9): `KeepOldAccount`, `DeleteOldAccount`,
    /// `TransferContent`; `Expired` when a delayed claim completed without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<String>,
    /// The previous org offers no delayed claim: the user's content stayed behind (R-CLM-3).
    #[serde(default)]
    pub content_lost: bool,
    /// Marked inactive by a full directory sync (R-CLM-11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactive_since: Option<String>,
    /// When an inactive user is deleted (inactiveSince + 30 days, R-CLM-11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletes_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// The user's status in the previous org (`Active` or `NotVerified`), carried over when a
    /// delayed claim completes (R-CLM-8).
    #[serde(default)]
    pub previous_status: String,
}

/// `GET /_sim/orgs/{orgId}/claims` response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimList {
    /// The simulator's (virtual) now, which the claims' times are relative to.
    pub now: String,
    pub items: Vec<ClaimView>,
}

/// `POST /_sim/orgs/{orgId}/claims/revoke`: one user at a time (R-CLM-7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimRevoke {
    pub email: String,
}
