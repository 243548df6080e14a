//! `UserClaim`: claim users who have Webex accounts in other organisations (R-CLM-*).
//! Reconciled by `controller::user_claim`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::{LicenseRef, OrgRef};

/// Label on the WebexUsers a claim creates; its value is the claim's name.
pub const CLAIM_LABEL: &str = "webex.operator.io/user-claim";

/// Immediate or delayed claim (R-CLM-2, R-CLM-3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ClaimMode {
    /// Accounts join the org at once.
    #[default]
    Immediate,
    /// Users get 14 days to choose what happens to their old account and its content; needs the
    /// org setting "allow users to bring their Webex conversations" (R-ORG-4). Users of an
    /// organisation that offers no delayed claim are claimed at once and lose their content.
    Delayed,
}

/// Desired state of a claim.
#[derive(CustomResource, KubeSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "webex.operator.io",
    version = "v1alpha1",
    kind = "UserClaim",
    namespaced,
    doc = "Claims users who already have Webex accounts outside the organisation (R-CLM-1..12). Claims are permanent: spec.acknowledgePermanent must be true. Revoking is possible one user at a time, within 14 days and before the user signs in (spec.revoke).",
    status = "UserClaimStatus",
    shortname = "wxclaim",
    category = "webex",
    printcolumn(name = "Org", type_ = "string", json_path = ".spec.orgRef.name"),
    printcolumn(name = "Mode", type_ = "string", json_path = ".spec.mode"),
    printcolumn(name = "Total", type_ = "integer", json_path = ".status.counts.total"),
    printcolumn(name = "Claimed", type_ = "integer", json_path = ".status.counts.claimed"),
    printcolumn(name = "Delayed", type_ = "integer", json_path = ".status.counts.delayed"),
    printcolumn(name = "Ineligible", type_ = "integer", json_path = ".status.counts.ineligible"),
    printcolumn(name = "Pending", type_ = "integer", json_path = ".status.counts.pending"),
    printcolumn(name = "Revoked", type_ = "integer", json_path = ".status.counts.revoked"),
    printcolumn(
        name = "Inactive",
        type_ = "integer",
        json_path = ".status.counts.inactive",
        priority = 1
    ),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type == 'Ready')].status"
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = ".status.conditions[?(@.type == 'Ready')].reason"
    ),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.licenses) || size(self.licenses) == 0 || !has(self.manageClaimedUsers) || self.manageClaimedUsers").message("licenses are given through the WebexUsers the claim creates: they need manageClaimedUsers"))]
pub struct UserClaimSpec {
    /// The WebexOrg that claims the users.
    pub org_ref: OrgRef,
    /// Emails to claim; any number up to 5000 (the operator batches them; Control Hub's
    /// 25 / 250 limits of R-CLM-5 are its UI's). Case and duplicates do not matter.
    #[x_kube(validation = Rule::new("size(self) > 0").message("name at least one email to claim"))]
    #[schemars(length(max = 5000))]
    pub emails: Vec<String>,
    /// `Immediate` (accounts join at once, R-CLM-2) or `Delayed` (users have 14 days to choose
    /// what happens to their old account and content, R-CLM-3; needs the org setting "allow
    /// users to bring their Webex conversations", R-ORG-4).
    #[serde(default)]
    pub mode: ClaimMode,
    /// Must be true: "I understand claiming these users is permanent" (R-CLM-4).
    #[x_kube(validation = Rule::new("self == true").message("claiming users is permanent (R-CLM-4): set acknowledgePermanent: true to proceed"))]
    pub acknowledge_permanent: bool,
    /// Create a WebexUser for each claimed user once it is in the org (immediately, or when a
    /// delayed claim completes): named after the email, `existingUserPolicy: Adopt`,
    /// `deletionPolicy: Orphan`, labelled `webex.operator.io/user-claim: <claim>` and owned by
    /// the claim. Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manage_claimed_users: Option<bool>,
    /// Licences the created WebexUsers give the claimed users (R-CLM-2). Automatic licence
    /// templates apply to claimed users when they are claimed (R-TPL-5): this is where to
    /// name them until LicenseTemplates are reconciled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<LicenseRef>,
    /// One of `emails` whose claim to revoke; one at a time, no bulk revoke (R-CLM-7). Only while the
    /// user has not signed in, within 14 days of the claim, and not for a domain the org has
    /// claimed. A revoked user returns to the previous org and is not claimed again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(validation = Rule::new("size(self) <= 1").message("claims are revoked one user at a time (R-CLM-7)"))]
    pub revoke: Vec<String>,
}

/// Counts of users per state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClaimCounts {
    /// Distinct emails of the spec.
    pub total: i64,
    /// Claimed and in the org.
    pub claimed: i64,
    /// In a delayed claim (R-CLM-3).
    pub delayed: i64,
    /// Cannot be claimed (R-CLM-6, R-ORG-3, ...).
    pub ineligible: i64,
    /// Not processed yet.
    pub pending: i64,
    /// Claim revoked (R-CLM-7).
    pub revoked: i64,
    /// Marked inactive by a directory sync (R-CLM-11).
    pub inactive: i64,
    /// Deleted 30 days after being marked inactive (R-CLM-11).
    pub deleted: i64,
}

/// Where one user's claim stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, strum::IntoStaticStr)]
pub enum ClaimUserState {
    /// Not processed yet.
    Pending,
    /// Cannot be claimed; `reason` says why.
    Ineligible,
    /// In the org (R-CLM-2, R-CLM-8).
    Claimed,
    /// Delayed claim: the user has until `completesAt` to choose (R-CLM-3).
    DelayedClaim,
    /// Marked inactive by a directory sync: cannot sign in, deleted at `deletesAt` (R-CLM-11).
    Inactive,
    /// Deleted after 30 days inactive (R-CLM-11).
    Deleted,
    /// Claim revoked: the user is back in the previous org (R-CLM-7).
    Revoked,
}

/// Per-user claim state (kept compact: fields that do not apply are left out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClaimedUserStatus {
    /// Email (lower case).
    pub email: String,
    pub state: ClaimUserState,
    /// For `Ineligible`: `SsoOrg`, `DirectorySyncOrg`, `DomainClaimedByOtherOrg` (R-CLM-6,
    /// R-ORG-3), `ClaimedByOtherOrg` (another org's claim stands), `NoWebexAccount`,
    /// `AlreadyInOrg`, `InvalidEmail`. For `Claimed`: `ContentNotMigrated` when the previous org offers no
    /// delayed claim (R-CLM-3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `NotVerified` until the user signs in, then `Active`; a delayed claim that completed by
    /// itself carries over the status the user had in the previous org (R-CLM-8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_status: Option<String>,
    /// When the claim was made (RFC 3339, Webex's clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_at: Option<String>,
    /// Delayed claim: when it completes by itself (R-CLM-3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completes_at: Option<String>,
    /// Delayed claim: whole days left for the user's choice (R-CLM-8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i64>,
    /// The user's choice at sign-in (R-CLM-9): `KeepOldAccount`, `DeleteOldAccount`,
    /// `TransferContent`, or `Expired` (a delayed claim completed without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<String>,
    /// Until when the claim can be revoked (RFC 3339), R-CLM-7.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocable_until: Option<String>,
    /// Why the claim cannot be revoked: `UserSignedIn`, `WindowPassed`, `DomainClaimedByOrg`
    /// (R-CLM-7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_revocable: Option<String>,
    /// Inactive: when Webex deletes the user (R-CLM-11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletes_at: Option<String>,
}

/// Observed state of a claim.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserClaimStatus {
    /// Generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready` (every user claimed, ineligible or revoked; no delayed claim open), `Synced`,
    /// `Prerequisites` (R-CLM-1, checked before anything irreversible), `DirectorySync`
    /// (warning, R-CLM-11) and `Revoke` (the outcome of `spec.revoke`, R-CLM-7).
    #[serde(default)]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// Counts of users per state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts: Option<ClaimCounts>,
    /// Per-user state, sorted by email; every distinct email of the spec appears once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<ClaimedUserStatus>,
}
