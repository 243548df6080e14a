//! `WebexOrg`: the Webex organisation to provision into (cluster-scoped).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::ExistingUserPolicy;

/// Which kind of backend `apiBaseUrl` points at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Backend {
    /// The real Webex service. Operations without a public API are reported as conditions
    /// telling the admin what to do in Control Hub.
    #[default]
    Webex,
    /// The operator's local simulator: also uses its simulator-only endpoints (for example to
    /// read the directory-sync flag). Never set this against the real service.
    Simulator,
}

/// Drift handling.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum DriftPolicy {
    /// Report the drift (condition, Event, metric), then correct it.
    #[default]
    Correct,
    /// Report the drift and leave the person as it is.
    ReportOnly,
}

/// Rate of calls to Webex for one org. Webex publishes no numbers; 429 answers slow the operator
/// down further on their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiBudgetSpec {
    /// Sustained calls per second.
    #[schemars(range(min = 1, max = 1000))]
    pub requests_per_second: u32,
    /// Calls that may go at once after a quiet spell.
    #[serde(default = "default_burst")]
    #[schemars(range(min = 1, max = 10000))]
    pub burst: u32,
}

fn default_burst() -> u32 {
    20
}

/// Limits of the mass-deprovisioning guard; the lower of `maxOperations` and `maxPercent`
/// applies. A held WebexUser is released by annotating it
/// `webex.operator.io/approve-deprovisioning: "true"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeprovisioningGuardSpec {
    /// Deprovisioning operations allowed per window.
    #[serde(default = "default_max_operations")]
    pub max_operations: u32,
    /// Share of the org's people (percent) that may be deprovisioned per window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub max_percent: Option<u32>,
    /// The window, e.g. `1h`.
    #[serde(default = "default_guard_window")]
    #[schemars(regex(pattern = r"^([0-9]+(ms|s|m|h))+$"))]
    pub window: String,
}

fn default_max_operations() -> u32 {
    25
}

fn default_guard_window() -> String {
    "1h".to_string()
}

/// The API budget as it stands.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiBudgetStatus {
    /// Configured calls per second.
    pub configured_requests_per_second: f64,
    /// Current calls per second (lower after 429 answers, recovering with successes).
    pub current_requests_per_second: f64,
    /// 429 answers seen since the controller started.
    pub throttled_total: u64,
    /// Calls that had to wait for the budget since the controller started.
    pub waited_total: u64,
}

/// Reference to the Secret that holds the Webex access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenSecretRef {
    /// Name of the Secret.
    pub name: String,
    /// Namespace of the Secret.
    pub namespace: String,
    /// Key inside the Secret's data that holds the token.
    #[serde(default = "default_token_key")]
    pub key: String,
}

fn default_token_key() -> String {
    "token".to_string()
}

/// Org-level settings the operator applies. Unset fields are left as they are in Webex.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrgSettings {
    /// Whether Webex sends automatic activation (welcome) emails to users the operator adds
    /// (R-ORG-1). Set it before adding users: it only affects users added afterwards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automatic_activation_emails: Option<bool>,
}

/// One namespace's grant to use this org (tenancy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantGrant {
    /// Namespace allowed to provision into this org.
    pub namespace: String,
    /// Email domains that namespace may manage; empty means every domain of the org.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub email_domains: Vec<String>,
}

/// Desired state of a Webex organisation.
#[derive(CustomResource, KubeSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "webex.operator.io",
    version = "v1alpha1",
    kind = "WebexOrg",
    doc = "A Webex organisation that WebexUsers and the other kinds provision into: where its API is, which Secret holds the admin token, and org-level settings.",
    status = "WebexOrgStatus",
    shortname = "wxorg",
    category = "webex",
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
    printcolumn(name = "Org ID", type_ = "string", json_path = ".status.orgId", priority = 1),
    printcolumn(name = "Directory Sync", type_ = "string", json_path = ".status.directorySync"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct WebexOrgSpec {
    /// Root URL of the Webex API, `https://webexapis.com` for the real service, or the
    /// simulator's URL.
    #[serde(default = "default_api_base_url")]
    #[x_kube(validation = Rule::new("self.startsWith('https://') || self.startsWith('http://')").message("apiBaseUrl must be an http(s) URL"))]
    pub api_base_url: String,
    /// The backend kind behind `apiBaseUrl`.
    #[serde(default)]
    pub backend: Backend,
    /// Secret holding an admin access token of the org (scopes spark-admin:people_read/write,
    /// spark-admin:licenses_read, identity:organizations_read/rw). The token never appears
    /// in logs, Events or status.
    pub token_secret_ref: TokenSecretRef,
    /// Org-level settings to apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<OrgSettings>,
    /// Declares that the org synchronises users from a directory (R-ORG-2). Webex has no public
    /// API that tells; when true, WebexUsers are refused with `OrgUsesDirectorySync` without
    /// calling Webex. Against the simulator the flag is read from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory_sync: Option<bool>,
    /// Default for WebexUsers that do not set `existingUserPolicy`.
    #[serde(default)]
    pub default_existing_user_policy: ExistingUserPolicy,
    /// Namespaces allowed to use this org, with the email domains each may manage. Empty means
    /// every namespace may use it for any domain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<TenantGrant>,
    /// How often the org's users are listed (by pages) and compared with their WebexUsers, as a
    /// duration such as `10m` or `30s`. This also notices first sign-ins. Default: the
    /// controller's `--drift-interval-seconds` (5 minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(ms|s|m|h))+$"))]
    pub drift_interval: Option<String>,
    /// What to do when a person in Webex no longer matches its WebexUser (someone changed it in
    /// Control Hub): `Correct` (report, then put it back) or `ReportOnly`.
    #[serde(default)]
    pub drift_policy: DriftPolicy,
    /// The API budget shared by every call the operator makes for this org.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_budget: Option<ApiBudgetSpec>,
    /// The mass-deprovisioning guard: deletions, deactivations and licence removals beyond
    /// these limits within the window are held until approved. Default: 25 per hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprovisioning_guard: Option<DeprovisioningGuardSpec>,
}

fn default_api_base_url() -> String {
    "https://webexapis.com".to_string()
}

/// One licence of the org as Webex reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrgLicenseStatus {
    /// Offer code read from the licence id (`CJPPRM`, `BCSTD`, ...).
    pub offer_code: String,
    /// Licence name as Webex shows it.
    pub name: String,
    /// Webex licence id.
    pub id: String,
    /// Subscription supplying the licence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
    /// Meetings site of the licence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_url: Option<String>,
    /// Units bought.
    #[serde(default)]
    pub total_units: i64,
    /// Units consumed (a unit is consumed when a user first signs in, R-USER-10).
    #[serde(default)]
    pub consumed_units: i64,
    /// Units the operator reserved for licences it assigned to users who have not signed in
    /// yet (not counted in `consumedUnits`). A user is assigned a licence only while
    /// `totalUnits - consumedUnits - reservedUnits` leaves a seat; otherwise it waits with
    /// `LicenseCapacityExhausted`.
    #[serde(default)]
    pub reserved_units: i64,
}

/// Observed state of a Webex organisation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebexOrgStatus {
    /// Generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready: token valid and org discovered. Synced: the last check reached Webex.
    #[serde(default)]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// Webex id of the organisation the token belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// Directory synchronisation (R-ORG-2): `Enabled`, `Disabled`, or `Unknown` when neither
    /// the spec declares it nor the backend can tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory_sync: Option<String>,
    /// Automatic activation emails as Webex reports them (R-ORG-1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automatic_activation_emails: Option<bool>,
    /// Enterprise content management (R-USER-9): the access (`General`: every user gets the
    /// org's platform; `Limited`: chosen per user) and the enabled platforms. Only when the
    /// backend can tell (the simulator; Webex has no public API for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_management: Option<super::content_management::OrgContentManagementStatus>,
    /// Licences of the org with their units.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<OrgLicenseStatus>,
    /// The API budget shared by the org's calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_budget: Option<ApiBudgetStatus>,
    /// When this status last changed (RFC 3339). The org is re-read every two minutes; an
    /// unchanged reading writes nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
}
