//! `ExternalUser`: Meetings accounts on the org's sites for people outside it (R-EXT-*).
//! Reconciled by `controller::external_user`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::OrgRef;

/// Meetings account type on a site (R-EXT-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub enum SiteAccountType {
    /// Can host meetings (the site's meeting licence).
    Host,
    /// Can attend as an attendee account.
    Attendee,
}

/// What deleting the ExternalUser does to the person's accounts on the org's sites.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ExternalDeletionPolicy {
    /// Remove every account the org gave the person (R-EXT-7); waits while an invitation is pending.
    #[default]
    RemoveAccounts,
    /// Leave the accounts as they are (for objects that took over existing accounts, e.g. by
    /// `import`).
    Orphan,
}

/// One Meetings site and the account type on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSite {
    /// Site URL, e.g. `acme.webex.com`.
    pub site_url: String,
    /// `Host` or `Attendee`.
    pub account_type: SiteAccountType,
}

/// Desired state of an external user.
#[derive(CustomResource, KubeSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "webex.operator.io",
    version = "v1alpha1",
    kind = "ExternalUser",
    namespaced,
    doc = "Meetings host or attendee accounts on the organisation's sites for a person of another organisation (R-EXT-1..9). The person accepts or declines an invitation that expires after 15 days.",
    status = "ExternalUserStatus",
    shortname = "wxext",
    category = "webex",
    printcolumn(name = "Email", type_ = "string", json_path = ".spec.email"),
    printcolumn(name = "Invitation", type_ = "string", json_path = ".status.invitation"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type == 'Ready')].status"
    ),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct ExternalUserSpec {
    /// The WebexOrg whose sites the accounts are on.
    pub org_ref: OrgRef,
    /// Email of the person's existing Webex account (R-EXT-2).
    #[schemars(regex(
        pattern = r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$"
    ))]
    pub email: String,
    /// Sites and account types.
    #[x_kube(validation = Rule::new("size(self) > 0").message("name at least one Meetings site"))]
    pub sites: Vec<ExternalSite>,
    /// Re-send an expired invitation by assigning again (R-EXT-5). Without it an expired
    /// invitation is reported (`Expired`) and left alone until the spec changes.
    #[serde(default)]
    pub reinvite_on_expiry: bool,
    /// `RemoveAccounts` (default) or `Orphan`.
    #[serde(default)]
    pub deletion_policy: ExternalDeletionPolicy,
}

/// Where an invitation stands (R-EXT-4..6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum InvitationState {
    /// Sent; the person has not answered yet. Expires 15 days after it was sent (R-EXT-5).
    Pending,
    /// Accepted: the account exists and a licence unit is consumed (R-EXT-6).
    Accepted,
    /// The person declined. A spec change sends a new invitation.
    Declined,
    /// Not answered within 15 days. `reinviteOnExpiry` (or a spec change) sends a new one.
    Expired,
}

/// One site of the spec as Webex has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSiteStatus {
    /// Site URL (lower case).
    pub site_url: String,
    /// `Host` or `Attendee`.
    pub account_type: SiteAccountType,
    /// Where the invitation to this account stands.
    pub invitation: InvitationState,
    /// When a pending invitation expires (RFC 3339, Webex's clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

/// Observed state of an external user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalUserStatus {
    /// Generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready` (every site accepted), `Synced` (the last reconcile reached Webex) and, while a
    /// deletion waits for a pending invitation, `RemovalBlocked` (R-EXT-7).
    #[serde(default)]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// The invitation as a whole: `Pending` while any site is pending, else `Declined` or
    /// `Expired` if any site is, else `Accepted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation: Option<InvitationState>,
    /// When the earliest pending invitation expires (RFC 3339), R-EXT-5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// The person's Webex id (a person of another org).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<String>,
    /// The person's own org.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_org_id: Option<String>,
    /// True when the person already had every account when the operator first looked (R-EXT-8):
    /// nothing was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopted: Option<bool>,
    /// Per site of the spec.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sites: Vec<ExternalSiteStatus>,
}
