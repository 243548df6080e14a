//! `UserClaim`: claim users who have Webex accounts in other organisations (R-CLM-*).
//! The controller arrives in a later release; the API is drafted here so all kinds fit together.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::{LicenseRef, OrgRef};

/// Immediate or delayed claim (R-CLM-2, R-CLM-3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ClaimMode {
    /// Accounts join the org at once.
    #[default]
    Immediate,
    /// Users get 14 days to choose what happens to their old account (needs content migration,
    /// R-ORG-4).
    Delayed,
}

/// Desired state of a claim.
#[derive(CustomResource, KubeSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "webex.operator.io",
    version = "v1alpha1",
    kind = "UserClaim",
    namespaced,
    doc = "Claims users who already have Webex accounts outside the organisation (R-CLM-1..12). Claims are permanent: spec.acknowledgePermanent must be true.",
    status = "UserClaimStatus",
    shortname = "wxclaim",
    category = "webex",
    printcolumn(name = "Org", type_ = "string", json_path = ".spec.orgRef.name"),
    printcolumn(name = "Claimed", type_ = "integer", json_path = ".status.counts.claimed"),
    printcolumn(name = "Ineligible", type_ = "integer", json_path = ".status.counts.ineligible"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type == 'Ready')].status"
    ),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct UserClaimSpec {
    /// The WebexOrg that claims the users.
    pub org_ref: OrgRef,
    /// Emails to claim; any number (the operator batches them).
    #[x_kube(validation = Rule::new("size(self) > 0").message("name at least one email to claim"))]
    pub emails: Vec<String>,
    /// `Immediate` or `Delayed`.
    #[serde(default)]
    pub mode: ClaimMode,
    /// Must be true: "I understand claiming these users is permanent" (R-CLM-4).
    #[x_kube(validation = Rule::new("self == true").message("claiming users is permanent (R-CLM-4): set acknowledgePermanent: true to proceed"))]
    pub acknowledge_permanent: bool,
    /// Licences to give the users once claimed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<LicenseRef>,
    /// Emails whose claim to revoke; one at a time (R-CLM-7).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(validation = Rule::new("size(self) <= 1").message("claims are revoked one user at a time (R-CLM-7)"))]
    pub revoke: Vec<String>,
}

/// Counts of users per state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClaimCounts {
    /// Users claimed.
    pub claimed: i64,
    /// Users in a delayed claim.
    pub delayed: i64,
    /// Users that cannot be claimed.
    pub ineligible: i64,
    /// Users not processed yet.
    pub pending: i64,
    /// Users whose claim was revoked.
    pub revoked: i64,
}

/// Per-user claim state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClaimedUserStatus {
    /// Email.
    pub email: String,
    /// `Pending`, `Ineligible`, `Claimed`, `DelayedClaim`, `Revoked`.
    pub state: String,
    /// Why, for ineligible users (SSO org, directory-sync org, domain claimed elsewhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Until when the claim can be revoked (RFC 3339), R-CLM-7.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocable_until: Option<String>,
}

/// Observed state of a claim.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserClaimStatus {
    /// Generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready and Synced conditions.
    #[serde(default)]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// Counts of users per state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts: Option<ClaimCounts>,
    /// Per-user state.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<ClaimedUserStatus>,
}
