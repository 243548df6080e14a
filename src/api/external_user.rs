//! `ExternalUser`: Meetings accounts on the org's sites for people outside it (R-EXT-*).
//! The controller arrives in a later release; the API is drafted here so all kinds fit together.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::OrgRef;

/// Meetings account type on a site (R-EXT-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum SiteAccountType {
    /// Can host meetings (the site's meeting licence).
    Host,
    /// Can attend as an attendee account.
    Attendee,
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
    /// Re-send an expired invitation by assigning again (R-EXT-5).
    #[serde(default)]
    pub reinvite_on_expiry: bool,
}

/// Observed state of an external user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalUserStatus {
    /// Generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready, Synced and RemovalBlocked conditions.
    #[serde(default)]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// `Pending`, `Accepted`, `Declined` or `Expired`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation: Option<String>,
    /// When a pending invitation expires (RFC 3339), R-EXT-5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}
