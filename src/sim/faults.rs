//! Non-persistent runtime state (fault rules, rate limit, request counters) and the middleware
//! that applies it to the public API. Control routes (`/_sim`) are neither faulted nor counted.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::sim::AppState;
use crate::sim::control_types::{ActiveFault, Counters, FaultKind, FaultRule, RateLimit};
use crate::sim::error::{ApiError, new_tracking_id};

/// The route `partial` faults apply to.
const PARTIAL_ROUTE: (&str, &str) = ("PATCH", "/v1/licenses/users");

/// Marker put into the request extensions of `PATCH /v1/licenses/users` by a `partial` fault.
#[derive(Debug, Clone, Copy)]
pub struct PartialFault;

#[derive(Debug, Default)]
pub struct Runtime {
    faults: Vec<ActiveFault>,
    next_fault_id: u64,
    rate_limit: Option<RateLimit>,
    windows: HashMap<String, (Instant, u32)>,
    pub counters: Counters,
    /// The same counts per bearer token (one token per org), for `GET /_sim/counters?org=`.
    pub counters_by_token: HashMap<String, Counters>,
}

/// What the fault rules decide for one request.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Decision {
    pub latency: Duration,
    pub action: Option<FaultKind>,
}

fn rule_matches(rule: &FaultRule, method: &str, path: &str) -> bool {
    rule.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
        && rule.path_prefix.as_deref().is_none_or(|p| path.starts_with(p))
        && (rule.kind != FaultKind::Partial || (method, path) == PARTIAL_ROUTE)
}

impl Runtime {
    pub fn add_fault(&mut self, rule: FaultRule) -> ActiveFault {
        self.next_fault_id += 1;
        let fault = ActiveFault {
            id: self.next_fault_id,
            rule,
        };
        self.faults.push(fault.clone());
        fault
    }

    pub fn faults(&self) -> Vec<ActiveFault> {
        self.faults.clone()
    }

    pub fn clear_faults(&mut self) {
        self.faults.clear();
    }

    pub fn set_rate_limit(&mut self, limit: Option<RateLimit>) {
        self.rate_limit = limit;
        self.windows.clear();
    }

    /// Latency rules add up; the first matching other rule is the action. Each rule used counts
    /// down its `times` and goes away at zero.
    pub fn decide(&mut self, method: &str, path: &str) -> Decision {
        let mut decision = Decision::default();
        for fault in &mut self.faults {
            let rule = &mut fault.rule;
            if !rule_matches(rule, method, path) {
                continue;
            }
            match &rule.kind {
                FaultKind::Latency { ms } => decision.latency += Duration::from_millis(*ms),
                _ if decision.action.is_some() => continue,
                kind => decision.action = Some(kind.clone()),
            }
            if let Some(times) = &mut rule.times {
                *times = times.saturating_sub(1);
            }
        }
        self.faults.retain(|f| f.rule.times != Some(0));
        decision
    }

    /// The fixed per-org limit: `Some(retry_after)` when `key` is over it in this second.
    pub fn over_rate_limit(&mut self, key: &str, now: Instant) -> Option<u64> {
        let limit = self.rate_limit?;
        let window = self.windows.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(window.0) >= Duration::from_secs(1) {
            *window = (now, 0);
        }
        window.1 += 1;
        (window.1 > limit.per_second).then_some(limit.retry_after_secs)
    }

    pub fn count(&mut self, endpoint: String, status: u16, token: Option<String>) {
        if let Some(token) = token {
            *self
                .counters_by_token
                .entry(token)
                .or_default()
                .endpoints
                .entry(endpoint.clone())
                .or_default()
                .entry(status)
                .or_default() += 1;
        }
        *self
            .counters
            .endpoints
            .entry(endpoint)
            .or_default()
            .entry(status)
            .or_default() += 1;
    }
}

/// The test-facing control API. The Control Hub stand-ins under `/_sim/hub/` are not part of
/// it: the operator calls them as it would call Webex, so they count and obey faults and limits.
fn is_control(path: &str) -> bool {
    (path == "/_sim" || path.starts_with("/_sim/")) && !path.starts_with("/_sim/hub/")
}

/// Status recorded for a request whose client went away before the answer was written (as
/// nginx's 499), so that every request is counted exactly once.
pub const CLIENT_CLOSED: u16 = 499;

/// Counts one request when dropped: with its status once answered, else as [`CLIENT_CLOSED`].
struct CountOnDrop {
    app: AppState,
    endpoint: Option<String>,
    token: Option<String>,
    status: u16,
}

impl Drop for CountOnDrop {
    fn drop(&mut self) {
        if let Some(endpoint) = self.endpoint.take() {
            self.app.runtime().count(endpoint, self.status, self.token.take());
        }
    }
}

/// Outer middleware: counts answers per endpoint and status, and makes sure every public answer
/// carries a `trackingId` header.
pub async fn count_requests(State(app): State<AppState>, req: Request, next: Next) -> Response {
    if is_control(req.uri().path()) {
        return next.run(req).await;
    }
    let template = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("(unmatched)", MatchedPath::as_str);
    let mut guard = CountOnDrop {
        app,
        endpoint: Some(format!("{} {template}", req.method())),
        token: req
            .headers()
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_string),
        status: CLIENT_CLOSED,
    };
    let mut response = next.run(req).await;
    guard.status = response.status().as_u16();
    drop(guard);
    let name = HeaderName::from_static("trackingid");
    if !response.headers().contains_key(&name)
        && let Ok(v) = HeaderValue::from_str(&new_tracking_id())
    {
        response.headers_mut().insert(name, v);
    }
    response
}

fn server_error(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    ApiError::new(status, "The simulator was told to fail this request (fault injection).").into_response()
}

/// Inner middleware: the fault rules and the rate limit.
pub async fn apply_faults(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if is_control(&path) {
        return next.run(req).await;
    }
    let method = req.method().as_str().to_string();
    let token = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("anonymous")
        .to_string();
    let (decision, limited) = {
        let mut rt = app.runtime();
        let limited = rt.over_rate_limit(&token, Instant::now());
        (rt.decide(&method, &path), limited)
    };
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    if let Some(retry_after) = limited {
        return ApiError::rate_limited(retry_after).into_response();
    }
    match decision.action {
        None | Some(FaultKind::Latency { .. }) => next.run(req).await,
        Some(FaultKind::RateLimited { retry_after_secs }) => ApiError::rate_limited(retry_after_secs).into_response(),
        Some(FaultKind::ServerError { status }) => server_error(status),
        Some(FaultKind::ApplyThenError { status }) => {
            let applied = next.run(req).await;
            tracing::debug!(status = %applied.status(), "sim: applied, answering a fault instead");
            server_error(status)
        }
        Some(FaultKind::LatencyAfterApply { ms }) => {
            let applied = next.run(req).await;
            tokio::time::sleep(Duration::from_millis(ms)).await;
            applied
        }
        Some(FaultKind::Partial) => {
            req.extensions_mut().insert(PartialFault);
            next.run(req).await
        }
    }
}

/// Checks a rule sent to `POST /_sim/faults`.
pub fn check_rule(rule: &FaultRule) -> Result<(), ApiError> {
    match rule.kind {
        FaultKind::ServerError { status } | FaultKind::ApplyThenError { status } if !(500..=599).contains(&status) => {
            Err(ApiError::bad_request(format!("status must be a 5xx, not {status}")))
        }
        _ if rule.times == Some(0) => Err(ApiError::bad_request("times must be at least 1 (or absent)")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_by_method_and_prefix_and_count_down() {
        let mut rt = Runtime::default();
        rt.add_fault(
            FaultRule::new(FaultKind::ServerError { status: 503 })
                .method("post")
                .path_prefix("/v1/people")
                .times(1),
        );
        rt.add_fault(FaultRule::new(FaultKind::Latency { ms: 5 }));
        assert_eq!(rt.decide("GET", "/v1/people").action, None);
        let d = rt.decide("POST", "/v1/people");
        assert_eq!(d.action, Some(FaultKind::ServerError { status: 503 }));
        assert_eq!(d.latency, Duration::from_millis(5));
        assert_eq!(rt.decide("POST", "/v1/people").action, None, "times=1 is used up");
        assert_eq!(rt.faults().len(), 1);
    }

    #[test]
    fn partial_only_hits_the_licence_patch() {
        let mut rt = Runtime::default();
        rt.add_fault(FaultRule::new(FaultKind::Partial).times(1));
        assert_eq!(rt.decide("POST", "/v1/people").action, None);
        assert_eq!(
            rt.decide("PATCH", "/v1/licenses/users").action,
            Some(FaultKind::Partial)
        );
        assert!(rt.faults().is_empty());
    }

    #[test]
    fn first_action_wins_and_later_rules_keep_their_count() {
        let mut rt = Runtime::default();
        rt.add_fault(FaultRule::new(FaultKind::RateLimited { retry_after_secs: 1 }).times(1));
        rt.add_fault(FaultRule::new(FaultKind::ServerError { status: 500 }).times(1));
        assert!(matches!(
            rt.decide("GET", "/v1/roles").action,
            Some(FaultKind::RateLimited { .. })
        ));
        assert!(matches!(
            rt.decide("GET", "/v1/roles").action,
            Some(FaultKind::ServerError { .. })
        ));
        assert_eq!(rt.decide("GET", "/v1/roles").action, None);
    }

    #[test]
    fn rate_limit_per_key_and_second() {
        let mut rt = Runtime::default();
        rt.set_rate_limit(Some(RateLimit {
            per_second: 2,
            retry_after_secs: 3,
        }));
        let t0 = Instant::now();
        assert_eq!(rt.over_rate_limit("a", t0), None);
        assert_eq!(rt.over_rate_limit("a", t0), None);
        assert_eq!(rt.over_rate_limit("a", t0), Some(3));
        assert_eq!(rt.over_rate_limit("b", t0), None);
        assert_eq!(rt.over_rate_limit("a", t0 + Duration::from_millis(1001)), None);
    }

    #[test]
    fn fault_rules_are_checked() {
        assert!(check_rule(&FaultRule::new(FaultKind::ServerError { status: 404 })).is_err());
        assert!(check_rule(&FaultRule::new(FaultKind::ApplyThenError { status: 502 })).is_ok());
        assert!(check_rule(&FaultRule::new(FaultKind::Partial).times(0)).is_err());
    }
}
