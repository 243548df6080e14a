//! Bodies of the simulator's control API (`/_sim/...`), shared by the server and [`SimControl`].
//!
//! The control API is simulator-only: it lets tests and the demo act as the people on the other
//! side of Webex (seed orgs and accounts, sign users in, move the clock, inject faults).
//!
//! [`SimControl`]: crate::sim::control::SimControl

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `POST /_sim/orgs`: an organisation to create.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OrgSeed {
    pub name: String,
    /// Verified domains of the org.
    pub domains: Vec<String>,
    /// A trial org: its users' emails cannot be added elsewhere until it is deleted (R-USER-4).
    pub trial: bool,
    /// Users come only from a directory: manual adds are refused (R-ORG-2).
    pub directory_sync: bool,
    pub sso: bool,
    /// The automatic activation emails setting (R-ORG-1); Webex's default is on.
    pub allow_admin_invite_emails: Option<bool>,
    /// Whether the org's users may receive accounts on other orgs' Meetings sites (R-ORG-5);
    /// on when absent (a simulator assumption).
    pub allow_cross_org_licensing: Option<bool>,
    /// Domains the org has claimed (R-ORG-3).
    pub claimed_domains: Vec<String>,
    /// "Allow users to bring their Webex conversations" (R-ORG-4); off when absent.
    pub allow_content_migration: bool,
    /// Whether the org's users can be delay-claimed by other orgs (R-CLM-3); on when absent.
    pub delayed_claim_supported: Option<bool>,
    /// Location names; each becomes a Webex Calling location with its own id.
    pub locations: Vec<String>,
    pub licenses: Vec<LicenseSeed>,
    /// The admin's bearer token; a random one when absent.
    pub admin_token: Option<String>,
    /// The admin's email; `admin@<first domain>` (or a random `@sim.invalid` one) when absent.
    pub admin_email: Option<String>,
}

impl OrgSeed {
    /// An org with one domain and nothing else.
    pub fn new(name: impl Into<String>, domain: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            domains: vec![domain.into()],
            ..Self::default()
        }
    }

    pub fn with_license(mut self, license: LicenseSeed) -> Self {
        self.licenses.push(license);
        self
    }

    pub fn with_location(mut self, name: impl Into<String>) -> Self {
        self.locations.push(name.into());
        self
    }
}

/// A licence (one subscription line) of a seeded org.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LicenseSeed {
    /// `CJPPRM`, `CJPSTD`, `BCSTD`, `BCPRO`, `EE`, `MS`, ...
    pub offer_code: String,
    pub name: String,
    pub total_units: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
    /// Meetings licences carry their site (`acme.webex.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_url: Option<String>,
}

impl LicenseSeed {
    pub fn new(offer_code: impl Into<String>, name: impl Into<String>, total_units: i64) -> Self {
        Self {
            offer_code: offer_code.into(),
            name: name.into(),
            total_units,
            subscription_id: Some("Sub-sim-0001".to_string()),
            site_url: None,
        }
    }
}

/// `POST /_sim/orgs` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeededOrg {
    /// Public (base64) org id.
    pub org_id: String,
    pub org_uuid: String,
    pub admin_token: String,
    /// Public id of the admin person (the token owner).
    pub admin_person_id: String,
    pub admin_email: String,
    pub licenses: Vec<SeededLicense>,
    pub locations: Vec<SeededLocation>,
}

impl SeededOrg {
    /// The id of the first licence with this offer code.
    pub fn license_id(&self, offer_code: &str) -> Option<&str> {
        self.licenses
            .iter()
            .find(|l| l.offer_code == offer_code)
            .map(|l| l.id.as_str())
    }

    /// The id of the location with this name.
    pub fn location_id(&self, name: &str) -> Option<&str> {
        self.locations.iter().find(|l| l.name == name).map(|l| l.id.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeededLicense {
    pub id: String,
    pub offer_code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeededLocation {
    pub id: String,
    pub name: String,
}

/// `PATCH /_sim/orgs/{orgId}`: flips org flags; absent fields are unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OrgPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trial: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub directory_sync: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sso: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_admin_invite_emails: Option<bool>,
    /// R-ORG-5.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_cross_org_licensing: Option<bool>,
    /// Replaces the verified domains (R-CLM-1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domains: Option<Vec<String>>,
    /// R-ORG-3: replaces the claimed domains.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claimed_domains: Option<Vec<String>>,
    /// R-ORG-4.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_content_migration: Option<bool>,
    /// R-CLM-3.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delayed_claim_supported: Option<bool>,
}

/// `POST /_sim/orgs/{orgId}/people`: an account created outside the operator (no rule checks but
/// global email uniqueness), e.g. a trial org's user or someone who already signed in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PersonSeed {
    pub email: String,
    pub display_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Licence ids or offer codes of the org's licences.
    pub licenses: Vec<String>,
    /// Role names (`id_full_admin`) or public role ids.
    pub roles: Vec<String>,
    /// Already signed in once: not pending, licence units consumed.
    pub signed_in: bool,
    /// The password the user set (only meaningful with `signed_in`).
    pub password: Option<String>,
}

impl PersonSeed {
    pub fn new(email: impl Into<String>) -> Self {
        Self {
            email: email.into(),
            ..Self::default()
        }
    }

    pub fn named(mut self, first: impl Into<String>, last: impl Into<String>) -> Self {
        let (first, last) = (first.into(), last.into());
        self.display_name = Some(format!("{first} {last}"));
        self.first_name = Some(first);
        self.last_name = Some(last);
        self
    }

    pub fn signed_in(mut self) -> Self {
        self.signed_in = true;
        self
    }
}

/// `POST /_sim/orgs/{orgId}/settings`: sets an org setting as the admin would in Control Hub.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingWrite {
    pub key: String,
    pub value: serde_json::Value,
}

/// `POST /_sim/invitations/respond`: people accept or decline their pending external-user
/// invitations (R-EXT-4), from one org (`orgId`) or from every org.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvitationAnswer {
    pub emails: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    pub accept: bool,
}

/// `POST /_sim/invitations/respond` response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvitationAnswered {
    /// Invitations answered (one per site and account type).
    pub answered: usize,
}

/// `GET /_sim/orgs/{orgId}/invitations`: every account the org gave or offered to people of
/// other orgs, whatever its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    pub email: String,
    pub person_id: String,
    pub site_url: String,
    /// `host` or `attendee`.
    pub account_type: String,
    /// `Pending`, `Accepted`, `Declined` or `Expired` (on the virtual clock).
    pub state: String,
    pub invited_at: String,
    pub expires_at: String,
    /// Invitation emails sent (re-invitations after expiry add one).
    pub invitations_sent: u32,
}

/// `POST /_sim/sign-in`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignIn {
    pub email: String,
    pub password: String,
}

/// `POST /_sim/sign-in` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInResult {
    pub person_id: String,
    /// True when this was the account's first sign-in (it just left the pending state).
    pub first_sign_in: bool,
}

/// `GET /_sim/clock`, `POST /_sim/clock/advance` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClockState {
    /// Virtual now, RFC 3339 with milliseconds.
    pub now: String,
    /// How far the virtual clock is ahead of the wall clock.
    pub offset_seconds: i64,
}

/// `POST /_sim/clock/advance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockAdvance {
    pub seconds: i64,
}

/// A fault rule (`POST /_sim/faults`). Faults apply to public API routes only; the first matching
/// non-latency rule decides, latency rules add up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultRule {
    /// HTTP method to match (any when absent), case-insensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Raw request path prefix to match, e.g. `/v1/people` (any when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    pub kind: FaultKind,
    /// How many matching requests it affects; until cleared when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

impl FaultRule {
    pub fn new(kind: FaultKind) -> Self {
        Self {
            method: None,
            path_prefix: None,
            kind,
            times: None,
        }
    }

    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    pub fn path_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.path_prefix = Some(prefix.into());
        self
    }

    pub fn times(mut self, times: u32) -> Self {
        self.times = Some(times);
        self
    }
}

/// What a fault does. JSON: `{"type":"rate_limited","retryAfterSecs":2}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FaultKind {
    /// Delay the answer.
    Latency { ms: u64 },
    /// 429 + `Retry-After` + error body; the operation is not applied.
    RateLimited {
        #[serde(rename = "retryAfterSecs")]
        retry_after_secs: u64,
    },
    /// A 5xx (500/502/503/504) without applying the operation.
    ServerError { status: u16 },
    /// The operation is applied, then a 5xx is answered ("outcome unknown").
    ApplyThenError { status: u16 },
    /// The operation is applied at once, but the answer is delayed (a client that times out
    /// or dies meanwhile never learns the outcome).
    LatencyAfterApply { ms: u64 },
    /// `PATCH /v1/licenses/users` applies only the first licence change and answers 206.
    Partial,
}

/// `GET /_sim/faults` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActiveFault {
    pub id: u64,
    #[serde(flatten)]
    pub rule: FaultRule,
}

/// `PUT /_sim/rate-limit`: a fixed limit per org (per bearer token) and wall-clock second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    pub per_second: u32,
    /// `Retry-After` of the 429s it answers (default 1).
    #[serde(default = "one")]
    pub retry_after_secs: u64,
}

fn one() -> u64 {
    1
}

/// `GET /_sim/counters`: per endpoint (`"POST /v1/people"`, method + route template) the number
/// of answers by status code. Unmatched routes count under `"<METHOD> (unmatched)"`; a request
/// whose client left before the answer was written counts as 499.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub endpoints: BTreeMap<String, BTreeMap<u16, u64>>,
}

impl Counters {
    /// Answers of `endpoint` with `status`.
    pub fn get(&self, endpoint: &str, status: u16) -> u64 {
        self.endpoints
            .get(endpoint)
            .and_then(|m| m.get(&status))
            .copied()
            .unwrap_or(0)
    }

    /// All answers of `endpoint`.
    pub fn total(&self, endpoint: &str) -> u64 {
        self.endpoints.get(endpoint).map_or(0, |m| m.values().sum())
    }

    /// All answers of every endpoint.
    pub fn grand_total(&self) -> u64 {
        self.endpoints.values().flat_map(|m| m.values()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_kinds_have_a_readable_json_shape() {
        let rule = FaultRule::new(FaultKind::RateLimited { retry_after_secs: 2 })
            .method("POST")
            .times(1);
        let json = serde_json::to_value(&rule).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"method":"POST","kind":{"type":"rate_limited","retryAfterSecs":2},"times":1})
        );
        let partial: FaultRule = serde_json::from_str(r#"{"kind":{"type":"partial"}}"#).unwrap();
        assert_eq!(partial.kind, FaultKind::Partial);
    }

    #[test]
    fn counters_round_trip_with_numeric_status_keys() {
        let mut c = Counters::default();
        c.endpoints.entry("GET /v1/people".into()).or_default().insert(200, 3);
        let back: Counters = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back.get("GET /v1/people", 200), 3);
        assert_eq!(back.total("GET /v1/people"), 3);
        assert_eq!(back.get("GET /v1/people", 404), 0);
    }
}

// ---- Claims (R-CLM-*): simulator-only, Webex has no public claim API (webex-api-notes §5.6) ----

// The wire types the operator's client sends and reads live with the client.
pub use crate::webex::claims::{ClaimList, ClaimOutcome, ClaimRequest, ClaimResponse, ClaimRevoke, ClaimView};

/// What a claimed user chooses at their next sign-in (R-CLM-9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClaimChoice {
    /// Change the old account's email and keep it (needs `newEmail`).
    KeepOldAccount,
    /// Delete the old account.
    DeleteOldAccount,
    /// Move the old account's content to the new one (delayed claims only).
    TransferContent,
}

/// `POST /_sim/claims/choose`: a claimed user signs in and makes their choice (R-CLM-9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimChoiceRequest {
    pub email: String,
    pub choice: ClaimChoice,
    /// The old account's new email, for `KeepOldAccount`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_email: Option<String>,
}

/// `POST /_sim/orgs/{orgId}/directory-sync`: a full directory sync (R-CLM-11) with the emails
/// the directory holds: claimed users absent from it become inactive (deleted after 30 days).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectorySyncRun {
    pub emails: Vec<String>,
}

/// `POST /_sim/orgs/{orgId}/directory-sync` response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectorySyncResult {
    /// Claimed users marked inactive by this sync.
    pub deactivated: Vec<String>,
}
