//! `WebexUser`: one person in a Webex organisation, keyed by email.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::calling_settings::{CallingSettings, SiteTrackingCodes};
use super::common::{ContactCenterType, ExistingUserPolicy, LicenseRef, ManagementPolicy, OrgRef};
use super::content_management::{ContentManagement, UserContentManagementStatus};

/// Webex Calling for the user (R-USER-7): the Calling licence and its properties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.phoneNumber) || has(self.extension)").message("calling needs a phoneNumber or an extension (R-USER-7)"))]
#[x_kube(validation = Rule::new("has(self.phoneNumber) || has(self.locationId)").message("calling without a phoneNumber needs a locationId (R-USER-7)"))]
pub struct CallingSpec {
    /// Offer code of the Calling licence: `BCPRO` (Professional) or `BCSTD` (Standard).
    #[serde(default = "default_calling_offer_code")]
    #[x_kube(validation = Rule::new("self.startsWith('BC')").message("the Calling licence offer code starts with BC, e.g. BCPRO or BCSTD"))]
    pub offer_code: String,
    /// Subscription that supplies the Calling licence (R-ORG-6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
    /// Webex id of the Calling location. Required without a phone number; cannot be changed
    /// once the licence is assigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
    /// Phone number in E.164 form, e.g. `+14085550101`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^\+[1-9][0-9]{6,14}$"))]
    pub phone_number: Option<String>,
    /// Extension, without a routing prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]{2,10}$"))]
    pub extension: Option<String>,
}

fn default_calling_offer_code() -> String {
    "BCPRO".to_string()
}

/// Contact Center for the user (R-CC-1..3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContactCenterSpec {
    /// `Standard` agent, `Premium` agent, or `PremiumSupervisor`.
    #[serde(rename = "type")]
    pub kind: ContactCenterType,
    /// Subscription that supplies the licence (R-ORG-6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
}

/// Administrator roles (R-CC-4), granted after the person is created (R-USER-12).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    strum::IntoStaticStr,
)]
pub enum AdminRole {
    /// Full administrator.
    FullAdministrator,
    /// User and device administrator.
    UserAdministrator,
    /// Read-only administrator.
    ReadOnlyAdministrator,
    /// Device administrator.
    DeviceAdministrator,
    /// Contact Center service administrator.
    ContactCenterServiceAdministrator,
}

/// What deleting the WebexUser does to the person in Webex.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum DeletionPolicy {
    /// Delete the person (and with it the Contact Center user, R-USER-13).
    #[default]
    Delete,
    /// Keep the person but disable sign-in (`loginEnabled: false`) and remove the licences
    /// the operator manages.
    Deactivate,
    /// Keep the person; remove the licences the operator manages.
    RemoveLicenses,
    /// Leave the person untouched.
    Orphan,
}

/// Desired state of one Webex user.
#[derive(CustomResource, KubeSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "webex.operator.io",
    version = "v1alpha1",
    kind = "WebexUser",
    namespaced,
    doc = "A person in a Webex organisation, identified by email: names, licences, Calling, Contact Center and admin roles. The controller creates the person (or adopts an existing one), keeps it as specified, and reports its lifecycle (Pending until first sign-in, then Active).",
    status = "WebexUserStatus",
    shortname = "wxu",
    category = "webex",
    printcolumn(name = "Email", type_ = "string", json_path = ".spec.email"),
    printcolumn(name = "Org", type_ = "string", json_path = ".spec.orgRef.name"),
    printcolumn(name = "State", type_ = "string", json_path = ".status.state"),
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
#[x_kube(validation = Rule::new("!(has(self.contactCenter) && self.contactCenter.type == 'PremiumSupervisor' && has(self.adminRoles) && size(self.adminRoles) > 0)").message("a Contact Center PremiumSupervisor cannot hold administrator roles (R-CC-3)").field_path(".adminRoles"))]
#[x_kube(validation = Rule::new(r#"!has(self.calling) || !has(self.firstName) || (size(self.firstName) <= 30 && !self.firstName.matches('[%#<>\\\\/"]'))"#).message(r#"firstName of a Webex Calling user must be at most 30 characters and must not contain % # < > \ / " (R-USER-2)"#).field_path(".firstName"))]
#[x_kube(validation = Rule::new(r#"!has(self.calling) || !has(self.lastName) || (size(self.lastName) <= 30 && !self.lastName.matches('[%#<>\\\\/"]'))"#).message(r#"lastName of a Webex Calling user must be at most 30 characters and must not contain % # < > \ / " (R-USER-2)"#).field_path(".lastName"))]
#[x_kube(validation = Rule::new("self.email == oldSelf.email").message("email is the identity of the user and cannot be changed; create a new WebexUser").field_path(".email"))]
#[x_kube(validation = Rule::new("self.orgRef == oldSelf.orgRef").message("orgRef cannot be changed; create a new WebexUser in the other org").field_path(".orgRef"))]
pub struct WebexUserSpec {
    /// The WebexOrg to provision into.
    pub org_ref: OrgRef,
    /// Email of the person: their identity in Webex (R-USER-1). Cannot be changed.
    #[schemars(
        regex(
            pattern = r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$"
        ),
        length(max = 254)
    )]
    pub email: String,
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub last_name: Option<String>,
    /// Display name; defaults to "first last", or the email when no name is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub display_name: Option<String>,
    /// Licences chosen by hand (R-USER-6), other than Calling and Contact Center, which have
    /// their own fields. When set, this list overrides licence templates (R-TPL-4). Licences the
    /// operator did not assign are never removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self.all(l, !l.offerCode.startsWith('BC') && l.offerCode != 'CJPSTD' && l.offerCode != 'CJPPRM')").message("choose Calling licences with spec.calling and Contact Center licences with spec.contactCenter"))]
    pub licenses: Option<Vec<LicenseRef>>,
    /// Webex Calling: licence, location, number, extension (R-USER-7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calling: Option<CallingSpec>,
    /// Contact Center licence type and supervisor role (R-CC-1..3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_center: Option<ContactCenterSpec>,
    /// Administrator roles, granted after creation (R-USER-12). Unset: roles are not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_roles: Option<Vec<AdminRole>>,
    /// Person-level Webex Calling settings (R-USER-16): do not disturb, call forwarding, call
    /// waiting, barge-in, anonymous call rejection, single number reach, hoteling, caller ID
    /// blocking, voicemail, executive / assistant, selective call handling, simultaneous and
    /// sequential ring, priority alert. Needs a Calling licence. Settings (and fields) left out
    /// are not managed.
    // Boxed: the settings are large and most users have none; every cached WebexUser carries the
    // field (11,000 in the benchmark).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calling_settings: Option<Box<CallingSettings>>,
    /// Meetings tracking code values of the user, per site (R-USER-8). Codes left out are not
    /// managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 20))]
    pub tracking_codes: Option<Vec<SiteTrackingCodes>>,
    /// Enterprise content management of the user (R-USER-9): `Microsoft` (OneDrive/SharePoint),
    /// `Box`, `GoogleDrive`, or `None` (no third-party platform, Webex native storage only).
    /// Under general access the org assigns its platform to everyone: the field must then name
    /// that platform (or be left out). Unset: not managed. Webex has no public API for it: with
    /// `backend: Webex` a condition tells the admin to choose it in Control Hub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_management: Option<ContentManagement>,
    /// What to do when the email already belongs to a person of the org; defaults to the
    /// WebexOrg's `defaultExistingUserPolicy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_user_policy: Option<ExistingUserPolicy>,
    /// What deleting this object does to the person in Webex.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// `Manage` (default) or `ObserveOnly` (report, never write).
    #[serde(default)]
    pub management_policy: ManagementPolicy,
}

/// Lifecycle of the person in Webex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, strum::IntoStaticStr)]
pub enum UserState {
    /// Not created in Webex yet.
    NotCreated,
    /// Created, invitation pending until the first sign-in (R-USER-10).
    Pending,
    /// Signed in at least once.
    Active,
    /// Sign-in disabled.
    Inactive,
}

/// Where an effective licence comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EffectiveLicense {
    /// Offer code.
    pub offer_code: String,
    /// Webex licence id.
    pub id: String,
    /// `Manual` (the WebexUser spec) or `Template/<name>`.
    pub source: String,
}

/// Observed state of one Webex user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebexUserStatus {
    /// Generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready: the person matches the spec and has signed in. Synced: the last reconcile
    /// reached Webex.
    #[serde(default)]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// Webex id of the person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<String>,
    /// Lifecycle in Webex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<UserState>,
    /// True when the person existed before and was adopted rather than created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopted: Option<bool>,
    /// Set just before the controller asks Webex to create the person, so that a restart
    /// between the create and this status recognises the person as its own (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_requested_at: Option<String>,
    /// The licences the operator manages for this person, with their provenance.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub effective_licenses: Vec<EffectiveLicense>,
    /// The administrator roles the operator manages for this person.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub admin_roles: Vec<AdminRole>,
    /// When the Calling licence was removed and assigned again because the new user's calling
    /// settings failed (R-USER-11). Done once per WebexUser (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calling_license_reassigned_at: Option<String>,
    /// The Contact Center licence (offer code) as of the last "Synchronise users" (R-CC-6);
    /// absent: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_center_synced: Option<String>,
    /// The user's enterprise content management as Webex reports it, and where it comes from
    /// (general access or chosen per user, R-USER-9). Only while `spec.contentManagement` is
    /// set and the backend can tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_management: Option<UserContentManagementStatus>,
    /// When the person was last compared with Webex (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_synced: Option<String>,
}
