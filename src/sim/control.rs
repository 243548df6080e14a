//! A typed client of the simulator's control API (`/_sim`), for integration tests and the demo.
//!
//! ```no_run
//! # async fn demo() -> Result<(), webex_operator::sim::control::SimControlError> {
//! use webex_operator::sim::control::SimControl;
//! use webex_operator::sim::control_types::{LicenseSeed, OrgSeed};
//! let sim = SimControl::new("http://127.0.0.1:8787");
//! let org = sim
//!     .seed_org(OrgSeed::new("Acme", "acme.test").with_license(LicenseSeed::new("CJPPRM", "Contact Center Premium Agent", 10)))
//!     .await?;
//! sim.sign_in("anna@acme.test", "Secret-Pass-1").await?;
//! # let _ = org; Ok(()) }
//! ```

use std::time::Duration;

use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::sim::control_types::{
    ActiveFault, ClaimChoice, ClaimChoiceRequest, ClaimList, ClaimOutcome, ClaimRequest, ClaimResponse, ClaimRevoke,
    ClaimView, ClockAdvance, ClockState, Counters, DirectorySyncResult, DirectorySyncRun, FaultRule, Invitation,
    InvitationAnswer, InvitationAnswered, OrgPatch, OrgSeed, PersonSeed, RateLimit, SeededOrg, SettingWrite, SignIn,
    SignInResult,
};
use crate::webex::model::{ErrorBody, OrgSetting, Person};

#[derive(Debug, thiserror::Error)]
pub enum SimControlError {
    #[error("failed to reach the simulator at {url}")]
    Request {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("the simulator answered {status} to {url}: {message}")]
    Status {
        url: String,
        status: u16,
        message: String,
        body: Option<ErrorBody>,
    },
    #[error("failed to read the simulator's answer from {url}")]
    Decode {
        url: String,
        #[source]
        source: reqwest::Error,
    },
}

impl SimControlError {
    /// The HTTP status of an error answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Client of `/_sim/...`.
#[derive(Debug, Clone)]
pub struct SimControl {
    base_url: String,
    client: reqwest::Client,
}

impl SimControl {
    /// `base_url` is the simulator's API root (`RunningSim::base_url`).
    pub fn new(base_url: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            // The default client when the builder fails (it only fails without a TLS backend).
            client: crate::tls::http_client_builder().build().unwrap_or_default(),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    async fn send<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<reqwest::Response, SimControlError> {
        let url = format!("{}{path}", self.base_url);
        let mut req = self.client.request(method, &url);
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await.map_err(|source| SimControlError::Request {
            url: url.clone(),
            source,
        })?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        let body: Option<ErrorBody> = serde_json::from_str(&text).ok();
        let message = body.as_ref().map_or(text, |b| b.message.clone());
        Err(SimControlError::Status {
            url,
            status,
            message,
            body,
        })
    }

    async fn json<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, SimControlError> {
        let resp = self.send(method, path, body).await?;
        let url = resp.url().to_string();
        resp.json()
            .await
            .map_err(|source| SimControlError::Decode { url, source })
    }

    async fn no_content<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<(), SimControlError> {
        self.send(method, path, body).await.map(drop)
    }

    /// Creates an org with its admin (token owner), locations and licences.
    pub async fn seed_org(&self, seed: OrgSeed) -> Result<SeededOrg, SimControlError> {
        self.json(Method::POST, "/_sim/orgs", Some(&seed)).await
    }

    /// Flips org flags (trial, directory sync, SSO, activation emails).
    pub async fn patch_org(&self, org_id: &str, patch: OrgPatch) -> Result<(), SimControlError> {
        self.no_content(Method::PATCH, &format!("/_sim/orgs/{org_id}"), Some(&patch))
            .await
    }

    /// Deletes an org and all its people (e.g. the trial org of R-USER-4).
    pub async fn delete_org(&self, org_id: &str) -> Result<(), SimControlError> {
        self.no_content::<()>(Method::DELETE, &format!("/_sim/orgs/{org_id}"), None)
            .await
    }

    /// Creates an account in any org, without the People API's rules (email uniqueness holds).
    pub async fn seed_person(&self, org_id: &str, seed: PersonSeed) -> Result<Person, SimControlError> {
        self.json(Method::POST, &format!("/_sim/orgs/{org_id}/people"), Some(&seed))
            .await
    }

    /// Arms (`Some`) or disarms the R-USER-11 fault for people newly given a Calling licence.
    pub async fn set_calling_fault(
        &self,
        org_id: &str,
        mode: Option<crate::sim::calling::CallingFault>,
    ) -> Result<(), SimControlError> {
        let body = crate::sim::calling::CallingFaultSwitch { mode };
        self.no_content(Method::PUT, &format!("/_sim/orgs/{org_id}/calling-fault"), Some(&body))
            .await
    }

    /// What Contact Center holds for the org as of the last "Synchronise users" (R-CC-6).
    pub async fn contact_center(
        &self,
        org_id: &str,
    ) -> Result<crate::sim::calling::ContactCenterView, SimControlError> {
        self.json::<_, ()>(Method::GET, &format!("/_sim/orgs/{org_id}/contact-center/users"), None)
            .await
    }

    /// Sets the org's enterprise content management as an admin would in Control Hub
    /// (R-USER-9; simulator-only: Webex has no public API for it).
    pub async fn set_content_management(
        &self,
        org_id: &str,
        config: &crate::webex::content_management::OrgContentManagement,
    ) -> Result<crate::webex::content_management::OrgContentManagement, SimControlError> {
        self.json(
            Method::PUT,
            &format!("/_sim/orgs/{org_id}/content-management"),
            Some(config),
        )
        .await
    }

    /// The org's enterprise content management (R-USER-9).
    pub async fn content_management(
        &self,
        org_id: &str,
    ) -> Result<crate::webex::content_management::OrgContentManagement, SimControlError> {
        self.json::<_, ()>(Method::GET, &format!("/_sim/orgs/{org_id}/content-management"), None)
            .await
    }

    /// What content management a person has and why (R-USER-9).
    pub async fn person_content_management(
        &self,
        person_id: &str,
    ) -> Result<crate::webex::content_management::PersonContentManagement, SimControlError> {
        self.json::<_, ()>(
            Method::GET,
            &format!("/_sim/hub/people/{person_id}/content-management"),
            None,
        )
        .await
    }

    /// Chooses a person's content management by hand (limited access, R-USER-9), as an admin
    /// would in Control Hub.
    pub async fn set_person_content_management(
        &self,
        person_id: &str,
        platform: crate::webex::content_management::ContentPlatform,
    ) -> Result<crate::webex::content_management::PersonContentManagement, SimControlError> {
        let body = crate::webex::content_management::ContentManagementChoice { platform };
        self.json(
            Method::PUT,
            &format!("/_sim/hub/people/{person_id}/content-management"),
            Some(&body),
        )
        .await
    }

    /// Every person of an org, in creation order (state dump for assertions).
    pub async fn people(&self, org_id: &str) -> Result<Vec<Person>, SimControlError> {
        self.json::<_, ()>(Method::GET, &format!("/_sim/orgs/{org_id}/people"), None)
            .await
    }

    /// The person of an org with this email (case-insensitive), if any.
    pub async fn person_by_email(&self, org_id: &str, email: &str) -> Result<Option<Person>, SimControlError> {
        let people = self.people(org_id).await?;
        Ok(people
            .into_iter()
            .find(|p| p.emails.iter().any(|e| e.eq_ignore_ascii_case(email))))
    }

    /// Sets an org setting as the admin would in Control Hub (`allow-admin-invite-emails`).
    pub async fn set_setting(
        &self,
        org_id: &str,
        key: &str,
        value: serde_json::Value,
    ) -> Result<OrgSetting, SimControlError> {
        let body = SettingWrite {
            key: key.to_string(),
            value,
        };
        self.json(Method::POST, &format!("/_sim/orgs/{org_id}/settings"), Some(&body))
            .await
    }

    /// A user's sign-in (the first one enforces R-USER-15 and ends the pending state).
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<SignInResult, SimControlError> {
        let body = SignIn {
            email: email.to_string(),
            password: password.to_string(),
        };
        self.json(Method::POST, "/_sim/sign-in", Some(&body)).await
    }

    /// The virtual clock.
    pub async fn clock(&self) -> Result<ClockState, SimControlError> {
        self.json::<_, ()>(Method::GET, "/_sim/clock", None).await
    }

    /// The virtual now.
    pub async fn now(&self) -> Result<jiff::Timestamp, SimControlError> {
        let clock = self.clock().await?;
        let url = format!("{}/_sim/clock", self.base_url);
        clock.now.parse().map_err(|e: jiff::Error| SimControlError::Status {
            url,
            status: 200,
            message: format!("unreadable clock {:?}: {e}", clock.now),
            body: None,
        })
    }

    /// The people accept (or decline) their pending external-user invitations from `org_id`
    /// (every org when `None`), R-EXT-4. Returns how many invitations were answered.
    pub async fn answer_invitations(
        &self,
        emails: &[&str],
        org_id: Option<&str>,
        accept: bool,
    ) -> Result<usize, SimControlError> {
        let body = InvitationAnswer {
            emails: emails.iter().map(|e| e.to_string()).collect(),
            org_id: org_id.map(str::to_string),
            accept,
        };
        let out: InvitationAnswered = self
            .json(Method::POST, "/_sim/invitations/respond", Some(&body))
            .await?;
        Ok(out.answered)
    }

    /// Every account `org_id` gave or offered to people of other orgs (R-EXT-*).
    pub async fn invitations(&self, org_id: &str) -> Result<Vec<Invitation>, SimControlError> {
        self.json::<_, ()>(Method::GET, &format!("/_sim/orgs/{org_id}/invitations"), None)
            .await
    }

    /// Moves the virtual clock forward (whole seconds).
    pub async fn advance_clock(&self, by: Duration) -> Result<ClockState, SimControlError> {
        let body = ClockAdvance {
            seconds: i64::try_from(by.as_secs()).unwrap_or(i64::MAX),
        };
        self.json(Method::POST, "/_sim/clock/advance", Some(&body)).await
    }

    /// Adds a fault rule.
    pub async fn inject_fault(&self, rule: FaultRule) -> Result<ActiveFault, SimControlError> {
        self.json(Method::POST, "/_sim/faults", Some(&rule)).await
    }

    /// The fault rules still active.
    pub async fn faults(&self) -> Result<Vec<ActiveFault>, SimControlError> {
        self.json::<_, ()>(Method::GET, "/_sim/faults", None).await
    }

    pub async fn clear_faults(&self) -> Result<(), SimControlError> {
        self.no_content::<()>(Method::DELETE, "/_sim/faults", None).await
    }

    /// A fixed limit per org (bearer token) and second; 429 beyond it.
    pub async fn set_rate_limit(&self, limit: RateLimit) -> Result<(), SimControlError> {
        self.no_content(Method::PUT, "/_sim/rate-limit", Some(&limit)).await
    }

    pub async fn clear_rate_limit(&self) -> Result<(), SimControlError> {
        self.no_content::<()>(Method::DELETE, "/_sim/rate-limit", None).await
    }

    /// Answers per endpoint and status since start (or the last reset).
    pub async fn counters(&self) -> Result<Counters, SimControlError> {
        self.json::<_, ()>(Method::GET, "/_sim/counters", None).await
    }

    /// Answers per endpoint and status of the requests made with one org's admin token.
    pub async fn counters_for(&self, org_id: &str) -> Result<Counters, SimControlError> {
        let path = format!(
            "/_sim/counters?org={}",
            url::form_urlencoded::byte_serialize(org_id.as_bytes()).collect::<String>()
        );
        self.json::<_, ()>(Method::GET, &path, None).await
    }

    pub async fn reset_counters(&self) -> Result<(), SimControlError> {
        self.no_content::<()>(Method::DELETE, "/_sim/counters", None).await
    }

    /// The org claims people of other orgs (R-CLM-*; simulator-only: Webex has no public API).
    pub async fn claim_users(
        &self,
        org_id: &str,
        emails: &[&str],
        delayed: bool,
    ) -> Result<Vec<ClaimOutcome>, SimControlError> {
        let body = ClaimRequest {
            emails: emails.iter().map(|e| e.to_string()).collect(),
            delayed,
            acknowledge_permanent: true,
        };
        let out: ClaimResponse = self
            .json(Method::POST, &format!("/_sim/orgs/{org_id}/claims"), Some(&body))
            .await?;
        Ok(out.items)
    }

    /// Every claim the org made, revoked ones too (R-CLM-*).
    pub async fn claims(&self, org_id: &str) -> Result<Vec<ClaimView>, SimControlError> {
        let list: ClaimList = self
            .json::<_, ()>(Method::GET, &format!("/_sim/orgs/{org_id}/claims"), None)
            .await?;
        Ok(list.items)
    }

    /// Revokes one claim as the admin of `org_id` would in Control Hub (R-CLM-7).
    pub async fn revoke_claim(&self, org_id: &str, email: &str) -> Result<ClaimView, SimControlError> {
        let body = ClaimRevoke {
            email: email.to_string(),
        };
        self.json(Method::POST, &format!("/_sim/orgs/{org_id}/claims/revoke"), Some(&body))
            .await
    }

    /// A claimed user signs in and makes their choice (R-CLM-9).
    pub async fn choose_claim(
        &self,
        email: &str,
        choice: ClaimChoice,
        new_email: Option<&str>,
    ) -> Result<ClaimView, SimControlError> {
        let body = ClaimChoiceRequest {
            email: email.to_string(),
            choice,
            new_email: new_email.map(str::to_string),
        };
        self.json(Method::POST, "/_sim/claims/choose", Some(&body)).await
    }

    /// A full directory sync of `org_id` with the emails its directory holds (R-CLM-11); returns
    /// the claimed users it marked inactive.
    pub async fn run_directory_sync(&self, org_id: &str, emails: &[&str]) -> Result<Vec<String>, SimControlError> {
        let body = DirectorySyncRun {
            emails: emails.iter().map(|e| e.to_string()).collect(),
        };
        let out: DirectorySyncResult = self
            .json(
                Method::POST,
                &format!("/_sim/orgs/{org_id}/directory-sync"),
                Some(&body),
            )
            .await?;
        Ok(out.deactivated)
    }
}
