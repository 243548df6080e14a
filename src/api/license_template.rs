//! `LicenseTemplate`: automatic licence assignment for the WebexUsers it selects (R-TPL-*).
//! The controller (`controller::license_template`) reports matches; the WebexUser reconciler
//! assigns the licences.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, LabelSelector};
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::{ContactCenterType, LicenseRef, OrgRef};

/// Desired state of a licence template.
#[derive(CustomResource, KubeSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "webex.operator.io",
    version = "v1alpha1",
    kind = "LicenseTemplate",
    namespaced,
    doc = "Automatic licence assignment: the licences every selected WebexUser of the namespace gets, unless the user chooses licences by hand (R-TPL-1..5). Applies to new users; to existing users only with applyToExistingUsers.",
    status = "LicenseTemplateStatus",
    shortname = "wxlt",
    category = "webex",
    printcolumn(name = "Org", type_ = "string", json_path = ".spec.orgRef.name"),
    printcolumn(name = "Matched", type_ = "integer", json_path = ".status.matchedUsers"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type == 'Ready')].status"
    ),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct LicenseTemplateSpec {
    /// The WebexOrg whose licences the template hands out.
    pub org_ref: OrgRef,
    /// Which WebexUsers of the namespace the template applies to; unset means all of them
    /// (the org-wide default template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
    /// Licences to assign, other than Calling (which needs a number or extension per user,
    /// R-USER-7: set it on the WebexUser) and Contact Center (`contactCenter`). Each licence's
    /// own `subscriptionId` wins over the template's.
    #[serde(default)]
    #[x_kube(validation = Rule::new("self.all(l, !l.offerCode.startsWith('BC') && l.offerCode != 'CJPSTD' && l.offerCode != 'CJPPRM')").message("a template cannot assign Calling licences (set spec.calling on the WebexUser); choose Contact Center with contactCenter"))]
    pub licenses: Vec<LicenseRef>,
    /// Contact Center licence type; when several templates apply, Premium wins (R-CC-2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_center: Option<ContactCenterType>,
    /// Subscription that supplies the licences (R-ORG-6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
    /// Also apply to users that existed before the template (R-TPL-2: discouraged, it can reset
    /// customised profiles). Off by default.
    #[serde(default)]
    pub apply_to_existing_users: bool,
}

/// Observed state of a licence template.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct LicenseTemplateStatus {
    /// Generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready and Synced conditions.
    #[serde(default)]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// Number of WebexUsers the template currently applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched_users: Option<i64>,
    /// Number of users for which a Contact Center conflict was resolved (Premium wins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflicts_resolved: Option<i64>,
    /// Generation of the spec last applied to the users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied_generation: Option<i64>,
}
