//! Types shared by several kinds.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Reference to the WebexOrg (cluster-scoped) an object is provisioned into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrgRef {
    /// Name of the WebexOrg object.
    pub name: String,
}

/// A licence, chosen by its offer code (the stable part of a Webex licence id), optionally
/// narrowed to one subscription or Meetings site when the org has several (R-ORG-6).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LicenseRef {
    /// Offer code of the licence, e.g. `MS` (Messaging), `EE` (Enterprise Edition meetings),
    /// `BCSTD` / `BCPRO` (Webex Calling Standard / Professional). Contact Center licences are
    /// chosen with `contactCenter`, not here.
    #[schemars(regex(pattern = r"^[A-Z0-9]{1,16}$"), length(min = 1, max = 16))]
    pub offer_code: String,
    /// Subscription that supplies the licence; when unset and several subscriptions offer the
    /// same code, the one with the most free units is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
    /// Meetings site of the licence, for site-bound (meeting) licences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_url: Option<String>,
}

/// Contact Center licence type (R-CC-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, strum::IntoStaticStr)]
pub enum ContactCenterType {
    /// Standard agent (offer code CJPSTD).
    Standard,
    /// Premium agent (offer code CJPPRM).
    Premium,
    /// Premium agent with the supervisor role; excludes every administrator role (R-CC-3).
    PremiumSupervisor,
}

impl ContactCenterType {
    /// The offer code that carries this type.
    pub fn offer_code(self) -> &'static str {
        match self {
            Self::Standard => CC_STANDARD,
            Self::Premium | Self::PremiumSupervisor => CC_PREMIUM,
        }
    }
}

/// Offer code of the Contact Center Standard agent licence.
pub const CC_STANDARD: &str = "CJPSTD";
/// Offer code of the Contact Center Premium agent licence.
pub const CC_PREMIUM: &str = "CJPPRM";

/// Whether the controller writes to Webex or only reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ManagementPolicy {
    /// Create, update and delete in Webex as the spec says.
    #[default]
    Manage,
    /// Never write to Webex; status reports what would change.
    ObserveOnly,
}

/// What to do when the email already belongs to a person of the org.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ExistingUserPolicy {
    /// Take the existing person over and manage it from now on.
    #[default]
    Adopt,
    /// Leave the existing person alone and report `AlreadyExistsInOrg`.
    Refuse,
}

/// Annotation that holds an object: while present (any value but "false"), the controller
/// neither reads nor writes Webex for it.
pub const PAUSE_ANNOTATION: &str = "webex.operator.io/paused";
/// Annotation whose change makes the controller reconcile the object at once.
pub const RECONCILE_NOW_ANNOTATION: &str = "webex.operator.io/reconcile-now";
/// Finalizer that runs the deletion policy before a WebexUser disappears.
pub const USER_FINALIZER: &str = "webex.operator.io/cleanup";
