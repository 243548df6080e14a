//! The Webex HTTP client: the only code that talks to Webex.
//!
//! Retries happen here, inside one call: 429 / 423 honour `Retry-After`; 5xx and transport
//! failures are retried only for idempotent requests. A create (`POST /v1/people`) is never
//! resent once its outcome is unknown (webex-api-notes §2.3): the caller looks the email up.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode, header};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::budget::{Budget, BudgetConfig, Priority};
use super::error::WebexError;
use super::model::{
    License, LicenseList, LicenseUser, LicenseWithUsers, OrgSetting, PatchUserLicenses, Person, PersonList,
    PersonWrite, Role, RoleList, UserLicensesResponse,
};
use crate::webex::claims::{ClaimList, ClaimOutcome, ClaimRequest, ClaimResponse, ClaimRevoke, ClaimView};

/// The claiming org's facts that claims depend on (the simulator's `GET /_sim/hub/orgs/{orgId}`;
/// no public API tells).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClaimOrgInfo {
    /// Verified domains (R-CLM-1).
    pub verified_domains: Vec<String>,
    /// Domains this org claimed (R-ORG-3, R-CLM-7).
    pub claimed_domains: Vec<String>,
    /// "Allow users to bring their Webex conversations" (R-ORG-4).
    pub allow_content_migration: bool,
    /// R-ORG-2, R-CLM-11.
    pub directory_sync: bool,
}

/// A bearer token that never prints itself.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into().trim().to_string())
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

/// How hard one call tries before giving the error to the caller (whose own backoff is slower).
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    /// Upper bound for one wait, also for a `Retry-After` Webex asks for.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(30),
        }
    }
}

/// The outcome of `PATCH /v1/licenses/users`.
#[derive(Debug, Clone)]
pub struct LicensePatchOutcome {
    pub response: UserLicensesResponse,
    /// 206: only some of the changes were applied; re-read the person.
    pub partial: bool,
    /// Webex's clock at the answer (the `Date` header): invitation expiry is reckoned on it
    /// (R-EXT-5).
    pub server_date: Option<jiff::Timestamp>,
}

/// Page size for listing people (the People API default and cap with `callingData`).
pub const PEOPLE_PAGE_SIZE: u32 = 100;

#[derive(Clone)]
pub struct WebexClient {
    http: reqwest::Client,
    base: Url,
    token: Token,
    retry: RetryPolicy,
    /// Shared by every client of the same org (see `budget`).
    budget: Arc<Budget>,
    priority: Priority,
}

impl fmt::Debug for WebexClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebexClient")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl WebexClient {
    /// `base_url` is the API root (`https://webexapis.com`); `/v1/...` and `/settings/...` are
    /// appended as the real service lays them out.
    pub fn new(base_url: &str, token: Token) -> Result<Self, WebexError> {
        let invalid = || WebexError::InvalidBaseUrl {
            url: base_url.to_string(),
        };
        let mut base = Url::parse(base_url).map_err(|_| invalid())?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(invalid());
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = crate::tls::http_client_builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("webex-operator/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|source| WebexError::Transport {
                endpoint: "client setup".into(),
                source,
            })?;
        Ok(Self {
            http,
            base,
            token,
            retry: RetryPolicy::default(),
            budget: Arc::new(Budget::new(BudgetConfig::default())),
            priority: Priority::UserDriven,
        })
    }

    /// Draws on `budget` (the org's shared one) instead of a budget of its own.
    pub fn with_budget(mut self, budget: Arc<Budget>) -> Self {
        self.budget = budget;
        self
    }

    /// The same client, for the operator's own checking (drift): it yields to user-driven calls.
    pub fn background(&self) -> Self {
        Self {
            priority: Priority::Background,
            ..self.clone()
        }
    }

    pub fn budget(&self) -> &Arc<Budget> {
        &self.budget
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    /// The token owner: checks the token and tells the org id.
    pub async fn me(&self) -> Result<Person, WebexError> {
        self.get_json("v1/people/me", &[]).await
    }

    pub async fn get_person(&self, person_id: &str) -> Result<Option<Person>, WebexError> {
        match self.get_json(&format!("v1/people/{person_id}"), &[]).await {
            Ok(p) => Ok(Some(p)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Looks a person of the org up by email (exact, case-insensitive).
    pub async fn find_person_by_email(&self, email: &str) -> Result<Option<Person>, WebexError> {
        let list: PersonList = self.get_json("v1/people", &[("email", email)]).await?;
        Ok(list
            .items
            .into_iter()
            .find(|p| p.emails.iter().any(|e| e.eq_ignore_ascii_case(email))))
    }

    /// Every person of the org, following `Link: rel="next"` pages.
    pub async fn list_people(&self, page_size: u32) -> Result<Vec<Person>, WebexError> {
        let max = page_size.to_string();
        let mut url = self.url("v1/people")?;
        url.query_pairs_mut().append_pair("max", &max);
        let mut people = Vec::new();
        loop {
            let (page, next): (PersonList, Option<Url>) = self.get_page(url).await?;
            people.extend(page.items);
            match next {
                Some(next) => url = repair_next_link(next, &max),
                None => return Ok(people),
            }
        }
    }

    /// Creates a person. Never retried once sent, unless Webex said it did nothing (429).
    pub async fn create_person(&self, body: &PersonWrite) -> Result<Person, WebexError> {
        let url = self.url("v1/people")?;
        self.send_json(Method::POST, url, Some(body), Idempotency::CreateOnce)
            .await
    }

    /// Replaces a person (PUT semantics: send every field to keep).
    pub async fn update_person(&self, person_id: &str, body: &PersonWrite) -> Result<Person, WebexError> {
        let url = self.url(&format!("v1/people/{person_id}"))?;
        self.send_json(Method::PUT, url, Some(body), Idempotency::Idempotent)
            .await
    }

    /// Deletes a person; a person already gone counts as deleted.
    pub async fn delete_person(&self, person_id: &str) -> Result<(), WebexError> {
        let url = self.url(&format!("v1/people/{person_id}"))?;
        match self
            .send_raw(Method::DELETE, url, None::<&()>, Idempotency::Idempotent)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.status() == Some(404) => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub async fn list_licenses(&self) -> Result<Vec<License>, WebexError> {
        let list: LicenseList = self.get_json("v1/licenses", &[]).await?;
        Ok(list.items)
    }

    /// All of one user's licence changes in one call. Idempotent: adding a held licence or
    /// removing an absent one changes nothing, so 5xx are retried.
    pub async fn patch_user_licenses(&self, body: &PatchUserLicenses) -> Result<LicensePatchOutcome, WebexError> {
        let url = self.url("v1/licenses/users")?;
        let endpoint = "PATCH /v1/licenses/users".to_string();
        let answer = self
            .send_with_retry(Method::PATCH, url, Some(body), Idempotency::Idempotent)
            .await?;
        let status = answer.status();
        let server_date = answer
            .headers()
            .get(header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| jiff::fmt::rfc2822::DateTimeParser::new().parse_timestamp(v).ok());
        let bytes = answer.bytes().await.map_err(|source| WebexError::Transport {
            endpoint: endpoint.clone(),
            source,
        })?;
        let response = serde_json::from_slice(&bytes).map_err(|source| WebexError::Decode { endpoint, source })?;
        Ok(LicensePatchOutcome {
            response,
            partial: status == StatusCode::PARTIAL_CONTENT,
            server_date,
        })
    }

    /// Everyone a licence is assigned to (`includeAssignedTo=user`, 300 per page, following
    /// `Link: rel="next"`), INTERNAL and EXTERNAL (R-EXT-6).
    pub async fn license_users(&self, license_id: &str) -> Result<Vec<LicenseUser>, WebexError> {
        let mut url = self.url(&format!("v1/licenses/{license_id}"))?;
        url.query_pairs_mut()
            .append_pair("includeAssignedTo", "user")
            .append_pair("limit", "300");
        let mut users = Vec::new();
        loop {
            let (page, next): (LicenseWithUsers, Option<Url>) = self.get_page(url).await?;
            users.extend(page.users);
            match next {
                Some(next) => url = next,
                None => return Ok(users),
            }
        }
    }

    pub async fn list_roles(&self) -> Result<Vec<Role>, WebexError> {
        let list: RoleList = self.get_json("v1/roles", &[]).await?;
        Ok(list.items)
    }

    pub async fn get_org_setting(&self, org_id: &str, key: &str) -> Result<OrgSetting, WebexError> {
        self.get_json(&format!("settings/organizations/{org_id}/settings/{key}"), &[])
            .await
    }

    pub async fn set_org_setting(
        &self,
        org_id: &str,
        key: &str,
        value: serde_json::Value,
    ) -> Result<OrgSetting, WebexError> {
        let url = self.url(&format!("settings/organizations/{org_id}/settings"))?;
        let body = serde_json::json!({ "key": key, "value": value });
        self.send_json(Method::POST, url, Some(&body), Idempotency::Idempotent)
            .await
    }

    /// Whether the org synchronises users from a directory (R-ORG-2). Webex has no public API
    /// for it; `simulator` enables the simulator-only endpoint that tells.
    pub async fn directory_sync(&self, org_id: &str, simulator: bool) -> Result<bool, WebexError> {
        if !simulator {
            return Err(WebexError::NotAvailableInPublicApi {
                operation: "reading the directory-sync status",
            });
        }
        let info: serde_json::Value = self.get_json(&format!("_sim/hub/orgs/{org_id}"), &[]).await?;
        Ok(info
            .get("directorySync")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false))
    }

    /// What claiming users depends on in the claiming org (R-CLM-1, R-ORG-3, R-ORG-4). No public
    /// API tells; `simulator` enables the simulator-only endpoint.
    pub async fn claim_org_info(&self, org_id: &str, simulator: bool) -> Result<ClaimOrgInfo, WebexError> {
        if !simulator {
            return Err(WebexError::NotAvailableInPublicApi {
                operation: "reading the org's verified and claimed domains",
            });
        }
        self.get_json(&format!("_sim/hub/orgs/{org_id}"), &[]).await
    }

    /// Claims people of other orgs (R-CLM-2, R-CLM-3). Control Hub only on the real service;
    /// `simulator` enables the simulator-only endpoint. Safe to resend: a claimed user stays
    /// claimed.
    pub async fn claim_users(
        &self,
        org_id: &str,
        body: &ClaimRequest,
        simulator: bool,
    ) -> Result<Vec<ClaimOutcome>, WebexError> {
        if !simulator {
            return Err(WebexError::NotAvailableInPublicApi {
                operation: "claiming users",
            });
        }
        let url = self.url(&format!("_sim/hub/orgs/{org_id}/claims"))?;
        let out: ClaimResponse = self
            .send_json(Method::POST, url, Some(body), Idempotency::Idempotent)
            .await?;
        Ok(out.items)
    }

    /// The claims the org made (R-CLM-*) and the backend's now, simulator only.
    pub async fn list_claims(&self, org_id: &str, simulator: bool) -> Result<ClaimList, WebexError> {
        if !simulator {
            return Err(WebexError::NotAvailableInPublicApi {
                operation: "listing claimed users",
            });
        }
        self.get_json(&format!("_sim/hub/orgs/{org_id}/claims"), &[]).await
    }

    /// Revokes one claim (R-CLM-7), simulator only. Not resent on failure: a 5xx is re-read by
    /// the next reconcile through [`Self::list_claims`].
    pub async fn revoke_claim(&self, org_id: &str, email: &str, simulator: bool) -> Result<ClaimView, WebexError> {
        if !simulator {
            return Err(WebexError::NotAvailableInPublicApi {
                operation: "revoking a claim",
            });
        }
        let url = self.url(&format!("_sim/hub/orgs/{org_id}/claims/revoke"))?;
        let body = ClaimRevoke {
            email: email.to_string(),
        };
        self.send_json(Method::POST, url, Some(&body), Idempotency::CreateOnce)
            .await
    }

    pub(super) fn url(&self, path: &str) -> Result<Url, WebexError> {
        self.base.join(path).map_err(|_| WebexError::InvalidBaseUrl {
            url: self.base.to_string(),
        })
    }

    pub(super) async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, WebexError> {
        let mut url = self.url(path)?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        self.send_json(Method::GET, url, None::<&()>, Idempotency::Idempotent)
            .await
    }

    async fn get_page<T: DeserializeOwned>(&self, url: Url) -> Result<(T, Option<Url>), WebexError> {
        let endpoint = endpoint_name(&Method::GET, &url);
        let response = self
            .send_with_retry(Method::GET, url, None::<&()>, Idempotency::Idempotent)
            .await?;
        let next = response
            .headers()
            .get_all(header::LINK)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(next_link)
            .and_then(|s| Url::parse(&s).ok());
        let bytes = response.bytes().await.map_err(|source| WebexError::Transport {
            endpoint: endpoint.clone(),
            source,
        })?;
        let page = serde_json::from_slice(&bytes).map_err(|source| WebexError::Decode { endpoint, source })?;
        Ok((page, next))
    }

    pub(super) async fn send_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<&B>,
        idem: Idempotency,
    ) -> Result<T, WebexError> {
        let endpoint = endpoint_name(&method, &url);
        let (_, bytes) = self.send_raw(method, url, body, idem).await?;
        serde_json::from_slice(&bytes).map_err(|source| WebexError::Decode { endpoint, source })
    }

    pub(super) async fn send_raw<B: Serialize + ?Sized>(
        &self,
        method: Method,
        url: Url,
        body: Option<&B>,
        idem: Idempotency,
    ) -> Result<(StatusCode, bytes::Bytes), WebexError> {
        let endpoint = endpoint_name(&method, &url);
        let response = self.send_with_retry(method, url, body, idem).await?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|source| match idem {
            Idempotency::CreateOnce => WebexError::OutcomeUnknown {
                endpoint: endpoint.clone(),
                tracking_id: None,
            },
            Idempotency::Idempotent => WebexError::Transport {
                endpoint: endpoint.clone(),
                source,
            },
        })?;
        Ok((status, bytes))
    }

    /// Sends with bounded retries; returns the successful response.
    async fn send_with_retry<B: Serialize + ?Sized>(
        &self,
        method: Method,
        url: Url,
        body: Option<&B>,
        idem: Idempotency,
    ) -> Result<reqwest::Response, WebexError> {
        let endpoint = endpoint_name(&method, &url);
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.budget.acquire(self.priority).await;
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(&self.token.0);
            if let Some(body) = body {
                request = request.json(body);
            }
            let started = std::time::Instant::now();
            let sent = request.send().await;
            // Metrics hook: one count per attempt, by endpoint template and status class.
            crate::telemetry::metrics::webex_call(
                &endpoint,
                sent.as_ref().ok().map(|r| r.status().as_u16()),
                started.elapsed(),
            );
            let error = match sent {
                Ok(response) if response.status().is_success() => {
                    self.budget.on_success();
                    return Ok(response);
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    let tracking = response
                        .headers()
                        .get("trackingId")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    let retry_after = response
                        .headers()
                        .get(header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(parse_retry_after);
                    let bytes = response.bytes().await.unwrap_or_default();
                    if status == 429 {
                        self.budget.on_rate_limited(retry_after);
                    }
                    let error = WebexError::from_response(endpoint.clone(), status, tracking, retry_after, &bytes);
                    // A 5xx to a create may come after the person was made (webex-api-notes §2.3).
                    if idem == Idempotency::CreateOnce && status >= 500 {
                        return Err(WebexError::OutcomeUnknown {
                            endpoint,
                            tracking_id: error.tracking_id().map(str::to_string),
                        });
                    }
                    error
                }
                Err(source) => {
                    if idem == Idempotency::CreateOnce && !source.is_connect() {
                        return Err(WebexError::OutcomeUnknown {
                            endpoint,
                            tracking_id: None,
                        });
                    }
                    WebexError::Transport {
                        endpoint: endpoint.clone(),
                        source,
                    }
                }
            };
            // 429/423 mean "not processed": safe to resend even a create.
            let resend_safe = idem == Idempotency::Idempotent
                || matches!(error.status(), Some(429 | 423))
                || matches!(error, WebexError::Transport { .. });
            if !error.is_retryable() || !resend_safe || attempt >= self.retry.max_attempts {
                return Err(error);
            }
            let backoff = self.retry.base_delay.saturating_mul(2u32.saturating_pow(attempt - 1));
            let wait = error.retry_after().unwrap_or(backoff).min(self.retry.max_delay);
            tracing::debug!(%endpoint, attempt, wait_ms = wait.as_millis() as u64, tracking_id = error.tracking_id(), "retrying Webex call");
            tokio::time::sleep(wait).await;
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Idempotency {
    Idempotent,
    CreateOnce,
}

/// `METHOD /path` with ids replaced, for logs and metrics (bounded cardinality).
fn endpoint_name(method: &Method, url: &Url) -> String {
    let path: Vec<&str> = url
        .path()
        .split('/')
        .map(|seg| if seg.len() > 40 { "{id}" } else { seg })
        .collect();
    format!("{method} {}", path.join("/"))
}

/// Parses `Retry-After` seconds (Webex sends seconds, not dates).
fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Extracts the `rel="next"` target of an RFC 5988 `Link` header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim().replace(' ', "");
            p == "rel=\"next\"" || p == "rel=next"
        });
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| target.to_string())
    })
}

/// Webex sometimes returns `max=null` in next links (webex-api-notes §1): put the page size back.
fn repair_next_link(mut next: Url, max: &str) -> Url {
    let pairs: Vec<(String, String)> = next
        .query_pairs()
        .map(|(k, v)| {
            if k == "max" && v == "null" {
                (k.into_owned(), max.to_string())
            } else {
                (k.into_owned(), v.into_owned())
            }
        })
        .collect();
    if pairs.iter().any(|(k, v)| k == "max" && v == max) || !pairs.iter().any(|(k, _)| k == "max") {
        next.query_pairs_mut().clear().extend_pairs(pairs);
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_next_link_among_others() {
        let h = r#"<https://webexapis.com/v1/people?max=10&after=Y2l>; rel="next", <https://webexapis.com/v1/people?max=10>; rel="first""#;
        assert_eq!(
            next_link(h).as_deref(),
            Some("https://webexapis.com/v1/people?max=10&after=Y2l")
        );
        assert_eq!(next_link(r#"<https://x/y>; rel="prev""#), None);
        assert_eq!(next_link("garbage"), None);
    }

    #[test]
    fn repairs_max_null() {
        let url = Url::parse("https://webexapis.com/v1/people?max=null&after=abc").unwrap();
        let fixed = repair_next_link(url, "100");
        assert_eq!(fixed.query(), Some("max=100&after=abc"));
    }

    #[test]
    fn endpoint_names_hide_ids() {
        let url =
            Url::parse("https://webexapis.com/v1/people/Y2lzY29zcGFyazovL3VzL1BFT1BMRS9mNWIzNjE4Ny1jOGRk").unwrap();
        assert_eq!(endpoint_name(&Method::GET, &url), "GET /v1/people/{id}");
    }

    #[test]
    fn token_debug_hides_the_secret() {
        assert_eq!(format!("{:?}", Token::new("secret-token")), "Token(***)");
    }

    #[test]
    fn base_url_must_be_http() {
        assert!(WebexClient::new("ftp://x", Token::new("t")).is_err());
        assert!(WebexClient::new("not a url", Token::new("t")).is_err());
        let c = WebexClient::new("http://127.0.0.1:1", Token::new("t")).unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:1/");
    }
}
