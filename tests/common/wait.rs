//! Waiting in integration tests: on a condition ([`wait_until`]) or on an object of any kind
//! ([`wait_for`] and its wrappers). Each wait polls, and a timeout panics with what it last saw,
//! so a failing test says which state it was waiting for and which it got.
#![allow(dead_code, clippy::panic)]

use std::fmt::Debug;
use std::time::{Duration, Instant};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::Api;
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use webex_operator::api::conditions::{self, READY};
use webex_operator::api::{ExternalUser, LicenseTemplate, UserClaim, WebexOrg, WebexUser};

/// How often the waits poll.
pub const POLL: Duration = Duration::from_millis(200);

/// How long the waits for a Ready reason allow by default.
pub const WAIT: Duration = Duration::from_secs(60);

/// Polls `check` until it holds or `timeout` passes (then panics naming `what`).
pub async fn wait_until<F, Fut>(timeout: Duration, what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    wait_value(timeout, what, check, |held| *held).await;
}

/// Polls `read` until what it returns satisfies `pred`, and returns that; after `timeout` panics
/// with `what` and the value last read.
pub async fn wait_value<T, F, Fut>(timeout: Duration, what: &str, mut read: F, pred: impl Fn(&T) -> bool) -> T
where
    T: Debug,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let deadline = Instant::now() + timeout;
    loop {
        let value = read().await;
        if pred(&value) {
            return value;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting until {what}; last seen: {value:#?}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Polls the object `name` of `api` (any kind, namespaced or not) until `pred` holds and returns
/// it; after `timeout` panics with `what` and the object as last seen (or that it did not exist).
pub async fn wait_for<K>(api: &Api<K>, name: &str, timeout: Duration, what: &str, pred: impl Fn(&K) -> bool) -> K
where
    K: Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned + Serialize,
{
    let deadline = Instant::now() + timeout;
    loop {
        let current = match api.get_opt(name).await {
            Ok(current) => current,
            Err(e) => panic!("reading {} {name}: {e}", K::kind(&())),
        };
        if let Some(object) = &current
            && pred(object)
        {
            return object.clone();
        }
        if Instant::now() > deadline {
            let ns = current.as_ref().and_then(ResourceExt::namespace);
            let at = ns.map_or_else(|| name.to_string(), |ns| format!("{ns}/{name}"));
            panic!(
                "timed out after {timeout:?} waiting until {} {at} {what}; last seen: {}",
                K::kind(&()),
                describe(current.as_ref())
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// An object for a failure message: its JSON without managedFields, or that it does not exist.
pub fn describe<K: Serialize>(object: Option<&K>) -> String {
    let Some(object) = object else {
        return "(it does not exist)".to_string();
    };
    let mut value = serde_json::to_value(object).unwrap_or_default();
    if let Some(meta) = value.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        meta.remove("managedFields");
    }
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

/// The kinds whose status the controller writes: observed generation and conditions.
pub trait Reported {
    fn observed_generation(&self) -> Option<i64>;
    fn conditions(&self) -> &[Condition];
}

macro_rules! reported {
    ($($kind:ty),*) => {$(
        impl Reported for $kind {
            fn observed_generation(&self) -> Option<i64> {
                self.status.as_ref().and_then(|s| s.observed_generation)
            }
            fn conditions(&self) -> &[Condition] {
                self.status.as_ref().map_or(&[], |s| s.conditions.as_slice())
            }
        }
    )*};
}
reported!(WebexUser, WebexOrg, ExternalUser, LicenseTemplate, UserClaim);

/// (status, reason, message) of the condition `type_`.
pub fn condition<K: Reported>(object: &K, type_: &str) -> Option<(String, String, String)> {
    conditions::find(object.conditions(), type_).map(|c| (c.status.clone(), c.reason.clone(), c.message.clone()))
}

/// The reason of the Ready condition ("" without one).
pub fn ready_reason<K: Reported>(object: &K) -> String {
    condition(object, READY).map(|c| c.1).unwrap_or_default()
}

/// Whether the status reports the object's current generation: the controller has reconciled
/// its current spec (the marker that a spec change was processed).
pub fn reconciled<K: Reported + Resource>(object: &K) -> bool {
    object.meta().generation.is_some() && object.observed_generation() == object.meta().generation
}

/// Waits until the Ready condition of `name` has `reason` ([`WAIT`]).
pub async fn wait_ready_reason<K>(api: &Api<K>, name: &str, reason: &str) -> K
where
    K: Reported + Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned + Serialize,
{
    wait_for(api, name, WAIT, &format!("has Ready reason {reason}"), |o| {
        ready_reason(o) == reason
    })
    .await
}

/// Waits until the controller has reconciled the current spec of `name` (its status reports the
/// current generation, [`reconciled`]).
pub async fn wait_reconciled<K>(api: &Api<K>, name: &str) -> K
where
    K: Reported + Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned + Serialize,
{
    wait_for(api, name, WAIT, "reports its current generation", reconciled).await
}

/// Waits until a WebexOrg is Ready (its status says True).
pub async fn wait_org_ready(client: &kube::Client, name: &str) -> WebexOrg {
    let api: Api<WebexOrg> = Api::all(client.clone());
    wait_for(&api, name, WAIT, "is Ready", |o| {
        condition(o, READY).is_some_and(|c| c.0 == "True")
    })
    .await
}

/// Waits until the wall clock is past the second of `time` (creation timestamps have a
/// one-second resolution; the API server runs on this machine, with this clock): an object
/// created after this call has a later creation timestamp than one created at `time`.
pub async fn wait_past_second(time: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time) {
    let next = time.0.as_second() + 1;
    let deadline = Instant::now() + Duration::from_secs(5);
    while jiff::Timestamp::now().as_second() < next {
        assert!(Instant::now() < deadline, "the clock did not pass {}", time.0);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
