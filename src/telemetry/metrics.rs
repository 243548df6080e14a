//! Prometheus metrics (prometheus-client), served on `/metrics` by [`super::http`].
//!
//! Every label set is bounded: kinds, outcomes, error categories and status classes are enums;
//! Webex endpoints are templates (ids replaced by `{id}`); condition reasons come from the
//! controller's closed sets and are capped per kind. No object names, emails or error texts.
//!
//! One process-wide [`Metrics`] is installed by `webex-operator run` ([`install`]); code that
//! records ([`webex_call`], [`instrument`]) does nothing when none is installed (the demo, unit
//! tests).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use kube::runtime::controller::Action;
use kube::runtime::reflector::Store;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabelSet, EncodeLabelValue, EncodeMetric, LabelValueEncoder,
};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

/// Prefix of every metric name.
pub const PREFIX: &str = "webex_operator";

/// Distinct condition reasons reported per kind before the rest are counted as `Other`.
const MAX_REASONS_PER_KIND: usize = 40;

/// Writes a label value as the given static text.
macro_rules! label_values {
    ($ty:ty { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub fn as_str(&self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }
        impl EncodeLabelValue for $ty {
            fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
                encoder.write_str(self.as_str())
            }
        }
    };
}

/// The kind a reconcile or an object count is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    WebexOrg,
    WebexUser,
    ExternalUser,
    UserClaim,
}
label_values!(Kind { WebexOrg => "WebexOrg", WebexUser => "WebexUser", ExternalUser => "ExternalUser", UserClaim => "UserClaim" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Success,
    Error,
}
label_values!(Outcome { Success => "success", Error => "error" });

/// What the metrics need to know of a failed reconcile; implemented by the controller's error
/// type, so that telemetry depends on nothing of the crate.
pub trait ReconcileFailure {
    /// Bounded category for the `category` label (the error variant's name, style-anchors 2).
    fn category(&self) -> &'static str;
    fn is_retryable(&self) -> bool;
}

/// Status class of one HTTP attempt to Webex. 429 has its own class: it is the budget signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusClass {
    Success,
    Redirect,
    RateLimited,
    ClientError,
    ServerError,
    /// No HTTP answer: connection refused, timeout, reset.
    Transport,
}
label_values!(StatusClass {
    Success => "2xx",
    Redirect => "3xx",
    RateLimited => "429",
    ClientError => "4xx",
    ServerError => "5xx",
    Transport => "transport",
});

impl StatusClass {
    /// The class of an HTTP status code, `None` for no answer.
    pub fn of(status: Option<u16>) -> Self {
        match status {
            None => Self::Transport,
            Some(429) => Self::RateLimited,
            Some(200..=299) => Self::Success,
            Some(300..=399) => Self::Redirect,
            Some(500..) => Self::ServerError,
            Some(_) => Self::ClientError,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ReconcileLabels {
    kind: Kind,
    outcome: Outcome,
}

/// What drifted on a person (changed in Webex outside the operator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DriftField {
    /// Licences (or their Calling properties).
    Licenses,
    /// Names, roles or sign-in.
    Profile,
    /// The person was deleted in Webex.
    Person,
}
label_values!(DriftField { Licenses => "licenses", Profile => "profile", Person => "person" });

/// What the operator did about drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DriftHandling {
    Corrected,
    Reported,
}
label_values!(DriftHandling { Corrected => "corrected", Reported => "reported" });

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct DriftLabels {
    field: DriftField,
    handling: DriftHandling,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct KindLabels {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ErrorLabels {
    kind: Kind,
    category: &'static str,
    retryable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct WebexCallLabels {
    /// `METHOD /path` with ids as `{id}` ([`endpoint_template`]).
    endpoint: String,
    status: StatusClass,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, EncodeLabelSet)]
struct ObjectLabels {
    kind: Kind,
    /// Lifecycle state (`status.state` of a WebexUser; empty for a WebexOrg).
    state: String,
    /// Status of the Ready condition: True, False or Unknown.
    ready: String,
    reason: String,
}

/// The operator's metrics. Cheap to share: every field is a handle.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    reconciles: Family<ReconcileLabels, Counter>,
    reconcile_duration: Family<KindLabels, Histogram>,
    reconcile_errors: Family<ErrorLabels, Counter>,
    webex_calls: Family<WebexCallLabels, Counter>,
    webex_call_duration: Family<WebexCallLabels, Histogram>,
    leader: Gauge,
    drift: Family<DriftLabels, Counter>,
    budget_waits: Counter,
    objects: Arc<ObjectsCollector>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix(PREFIX);
        let reconciles = Family::<ReconcileLabels, Counter>::default();
        registry.register("reconciles", "Reconciles run, by kind and outcome", reconciles.clone());
        let reconcile_duration = Family::<KindLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.005, 2.0, 14))
        });
        registry.register_with_unit(
            "reconcile_duration",
            "Duration of one reconcile, by kind",
            prometheus_client::registry::Unit::Seconds,
            reconcile_duration.clone(),
        );
        let reconcile_errors = Family::<ErrorLabels, Counter>::default();
        registry.register(
            "reconcile_errors",
            "Failed reconciles, by kind, error category and whether they are retried",
            reconcile_errors.clone(),
        );
        let webex_calls = Family::<WebexCallLabels, Counter>::default();
        registry.register(
            "webex_requests",
            "HTTP attempts to Webex (each retry counts), by endpoint template and status class",
            webex_calls.clone(),
        );
        let webex_call_duration = Family::<WebexCallLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.01, 2.0, 12))
        });
        registry.register_with_unit(
            "webex_request_duration",
            "Duration of one HTTP attempt to Webex",
            prometheus_client::registry::Unit::Seconds,
            webex_call_duration.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "leader",
            "1 while this replica holds the leader Lease (or runs without leader election)",
            leader.clone(),
        );
        let drift = Family::<DriftLabels, Counter>::default();
        registry.register(
            "drift_found",
            "Differences found between a person in Webex and its WebexUser, by field and handling",
            drift.clone(),
        );
        let budget_waits = Counter::default();
        registry.register(
            "budget_waits",
            "Webex calls that had to wait for their org's API budget",
            budget_waits.clone(),
        );
        let objects = Arc::new(ObjectsCollector::default());
        registry.register_collector(Box::new(objects.clone()));
        Self {
            registry,
            reconciles,
            reconcile_duration,
            reconcile_errors,
            webex_calls,
            webex_call_duration,
            leader,
            drift,
            budget_waits,
            objects,
        }
    }

    /// The text exposition format (OpenMetrics text).
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }

    pub fn record_reconcile<E: ReconcileFailure>(&self, kind: Kind, elapsed: Duration, error: Option<&E>) {
        let outcome = if error.is_some() {
            Outcome::Error
        } else {
            Outcome::Success
        };
        self.reconciles.get_or_create(&ReconcileLabels { kind, outcome }).inc();
        self.reconcile_duration
            .get_or_create(&KindLabels { kind })
            .observe(elapsed.as_secs_f64());
        if let Some(error) = error {
            self.reconcile_errors
                .get_or_create(&ErrorLabels {
                    kind,
                    category: error.category(),
                    retryable: error.is_retryable(),
                })
                .inc();
        }
    }

    pub fn record_webex_call(&self, endpoint: &str, status: Option<u16>, elapsed: Duration) {
        let labels = WebexCallLabels {
            endpoint: endpoint_template(endpoint),
            status: StatusClass::of(status),
        };
        self.webex_calls.get_or_create(&labels).inc();
        self.webex_call_duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    pub fn record_drift(&self, field: DriftField, handling: DriftHandling) {
        self.drift.get_or_create(&DriftLabels { field, handling }).inc();
    }

    pub fn record_budget_wait(&self) {
        self.budget_waits.inc();
    }

    pub fn set_leader(&self, leader: bool) {
        self.leader.set(i64::from(leader));
    }

    /// Where the objects-in-backoff gauge reads from; until it is set (the controllers are not
    /// watching yet) no object gauges are reported.
    pub fn observe_backoff(&self, backoff: BackoffSource) {
        let mut sources = self.objects.sources.write().unwrap_or_else(|p| p.into_inner());
        sources.backoff = Some(backoff);
    }

    /// Where the invalid-objects gauge reads from.
    pub fn observe_invalid(&self, invalid: InvalidSource) {
        let mut sources = self.objects.sources.write().unwrap_or_else(|p| p.into_inner());
        sources.invalid = Some(invalid);
    }

    /// Adds the objects of a kind's cache to the objects gauge; `describe` gives an object's
    /// state label (may be empty) and its Ready condition.
    pub fn observe_kind<K>(&self, kind: Kind, store: Store<K>, describe: Describe<K>)
    where
        K: kube::Resource<DynamicType = ()> + Clone + Send + Sync + 'static,
    {
        let mut sources = self.objects.sources.write().unwrap_or_else(|p| p.into_inner());
        sources.kinds.push(Box::new(StoreSource { kind, store, describe }));
    }
}

/// Where the objects-in-backoff gauge reads from (the controllers' backoff table).
pub type BackoffSource = Arc<dyn Fn() -> usize + Send + Sync>;

/// Where the invalid-objects gauge reads from: per kind, the objects the watches cannot read.
pub type InvalidSource = Arc<dyn Fn() -> Vec<(String, usize)> + Send + Sync>;

/// An object's state label and its Ready condition.
pub type Describe<K> = for<'a> fn(&'a K) -> (String, Option<&'a Condition>);

/// One kind's cache, counted at each scrape.
trait KindSource: Send + Sync {
    fn count(&self, reasons: &mut ReasonCap, counts: &mut BTreeMap<ObjectLabels, i64>);
}

struct StoreSource<K: kube::Resource<DynamicType = ()> + Clone + 'static> {
    kind: Kind,
    store: Store<K>,
    describe: Describe<K>,
}

impl<K> KindSource for StoreSource<K>
where
    K: kube::Resource<DynamicType = ()> + Clone + Send + Sync + 'static,
{
    fn count(&self, reasons: &mut ReasonCap, counts: &mut BTreeMap<ObjectLabels, i64>) {
        for object in self.store.state() {
            let (state, ready) = (self.describe)(&object);
            let (ready, reason) = ready_of(ready);
            let labels = ObjectLabels {
                kind: self.kind,
                state,
                ready,
                reason: reasons.bound(self.kind, reason),
            };
            *counts.entry(labels).or_insert(0) += 1;
        }
    }
}

#[derive(Default)]
struct Sources {
    kinds: Vec<Box<dyn KindSource>>,
    backoff: Option<BackoffSource>,
    invalid: Option<InvalidSource>,
}

/// Computes the object gauges from the reflector stores when scraped.
#[derive(Default)]
struct ObjectsCollector {
    sources: RwLock<Sources>,
}

impl std::fmt::Debug for ObjectsCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectsCollector").finish_non_exhaustive()
    }
}

impl ObjectsCollector {
    fn counts(sources: &Sources) -> BTreeMap<ObjectLabels, i64> {
        let mut counts = BTreeMap::new();
        let mut reasons = ReasonCap::default();
        for kind in &sources.kinds {
            kind.count(&mut reasons, &mut counts);
        }
        counts
    }
}

impl Collector for ObjectsCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let sources = self.sources.read().unwrap_or_else(|p| p.into_inner());
        let Some(in_backoff) = sources.backoff.as_ref() else {
            return Ok(()); // not watching yet
        };
        let objects = Family::<ObjectLabels, Gauge>::default();
        for (labels, n) in Self::counts(&sources) {
            objects.get_or_create(&labels).set(n);
        }
        let metric = encoder.encode_descriptor(
            "objects",
            "Objects in the controller's cache, by kind, state and Ready condition reason",
            None,
            objects.metric_type(),
        )?;
        objects.encode(metric)?;
        let backoff = Gauge::<i64>::default();
        backoff.set(i64::try_from(in_backoff()).unwrap_or(i64::MAX));
        let metric = encoder.encode_descriptor(
            "objects_in_backoff",
            "Objects waiting to retry after a retryable error",
            None,
            backoff.metric_type(),
        )?;
        backoff.encode(metric)?;
        let Some(invalid) = sources.invalid.as_ref() else {
            return Ok(());
        };
        let counts = Family::<InvalidLabels, Gauge>::default();
        for (kind, n) in invalid() {
            counts
                .get_or_create(&InvalidLabels { kind })
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        let metric = encoder.encode_descriptor(
            "invalid_objects",
            "Objects the controller cannot read with its types (left alone; see the InvalidObject Events)",
            None,
            counts.metric_type(),
        )?;
        counts.encode(metric)
    }
}

/// Kind of an unreadable object (the controller's five kinds: bounded).
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct InvalidLabels {
    kind: String,
}

/// (Ready status, reason) of the Ready condition; `Unknown` and empty when absent.
fn ready_of(ready: Option<&Condition>) -> (String, String) {
    match ready {
        Some(c) => (
            match c.status.as_str() {
                "True" => "True",
                "False" => "False",
                _ => "Unknown",
            }
            .to_string(),
            c.reason.clone(),
        ),
        None => ("Unknown".to_string(), String::new()),
    }
}

/// Keeps the reason label bounded even if a status was written by someone else: reasons must
/// look like the controller's CamelCase words, and at most [`MAX_REASONS_PER_KIND`] per kind
/// are reported one by one.
#[derive(Default)]
struct ReasonCap {
    seen: BTreeMap<Kind, Vec<String>>,
}

impl ReasonCap {
    fn bound(&mut self, kind: Kind, reason: String) -> String {
        let well_formed = reason.is_empty()
            || (reason.len() <= 40
                && reason.starts_with(|c: char| c.is_ascii_uppercase())
                && reason.chars().all(|c| c.is_ascii_alphanumeric()));
        if !well_formed {
            return "Other".to_string();
        }
        let seen = self.seen.entry(kind).or_default();
        if seen.contains(&reason) {
            return reason;
        }
        if seen.len() >= MAX_REASONS_PER_KIND {
            return "Other".to_string();
        }
        seen.push(reason.clone());
        reason
    }
}

/// `METHOD /a/b/c` with every segment that is not a lowercase word (ids, emails, org ids)
/// replaced by `{id}`, so the label set is the set of endpoints the client calls.
pub fn endpoint_template(endpoint: &str) -> String {
    let (method, path) = endpoint.split_once(' ').unwrap_or(("", endpoint));
    let method = match method {
        "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" => method,
        _ => "OTHER",
    };
    let path = path.split('?').next().unwrap_or_default();
    let mut out = String::with_capacity(path.len() + 8);
    out.push_str(method);
    out.push(' ');
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        let word = segment.len() <= 32
            && segment
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if word || segment == "{id}" {
            out.push_str(segment);
        } else {
            let _ = write!(out, "{{id}}");
        }
    }
    out
}

static GLOBAL: OnceLock<Arc<Metrics>> = OnceLock::new();

/// Installs the process-wide metrics (first call wins) and returns them.
pub fn install() -> Arc<Metrics> {
    GLOBAL.get_or_init(|| Arc::new(Metrics::new())).clone()
}

/// The process-wide metrics, if [`install`] was called.
pub fn global() -> Option<&'static Arc<Metrics>> {
    GLOBAL.get()
}

/// Records drift found on a person (the hook in the WebexUser reconciler).
pub fn drift_found(field: DriftField, handling: DriftHandling) {
    if let Some(metrics) = global() {
        metrics.record_drift(field, handling);
    }
}

/// Records a call that waited for its org's budget (the hook in `webex::budget`).
pub fn budget_wait() {
    if let Some(metrics) = global() {
        metrics.record_budget_wait();
    }
}

/// Records one HTTP attempt to Webex (the hook in `webex::client`); `status` is `None` when no
/// answer came.
pub fn webex_call(endpoint: &str, status: Option<u16>, elapsed: Duration) {
    if let Some(metrics) = global() {
        metrics.record_webex_call(endpoint, status, elapsed);
    }
}

/// Wraps a reconcile function so that every run is counted and timed, and failures are
/// counted by category.
pub fn instrument<K, C, E, F, Fut>(
    kind: Kind,
    mut reconcile: F,
) -> impl FnMut(Arc<K>, Arc<C>) -> BoxFuture<'static, Result<Action, E>>
where
    E: ReconcileFailure + Send + 'static,
    F: FnMut(Arc<K>, Arc<C>) -> Fut,
    Fut: std::future::Future<Output = Result<Action, E>> + Send + 'static,
{
    move |object, ctx| {
        let run = reconcile(object, ctx);
        Box::pin(async move {
            let started = Instant::now();
            let result = run.await;
            if let Some(metrics) = global() {
                metrics.record_reconcile(kind, started.elapsed(), result.as_ref().err());
            }
            result
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_templates_hide_ids_and_queries() {
        assert_eq!(
            endpoint_template("GET /v1/people/Y2lzY29zcGFyazovL3VzL1BFT1BMRS9mNWIz"),
            "GET /v1/people/{id}"
        );
        assert_eq!(endpoint_template("GET /v1/people?email=a@b.example"), "GET /v1/people");
        assert_eq!(
            endpoint_template("POST /settings/organizations/{id}/settings"),
            "POST /settings/organizations/{id}/settings"
        );
        assert_eq!(
            endpoint_template("GET /settings/organizations/OrgId123/settings/allow-admin-invite-emails"),
            "GET /settings/organizations/{id}/settings/allow-admin-invite-emails"
        );
        assert_eq!(endpoint_template("BREW /x"), "OTHER /x");
    }

    #[test]
    fn status_classes() {
        assert_eq!(StatusClass::of(Some(200)).as_str(), "2xx");
        assert_eq!(StatusClass::of(Some(206)).as_str(), "2xx");
        assert_eq!(StatusClass::of(Some(409)).as_str(), "4xx");
        assert_eq!(StatusClass::of(Some(429)).as_str(), "429");
        assert_eq!(StatusClass::of(Some(503)).as_str(), "5xx");
        assert_eq!(StatusClass::of(None).as_str(), "transport");
    }

    #[test]
    fn reasons_are_capped_and_must_look_like_reasons() {
        let mut cap = ReasonCap::default();
        assert_eq!(cap.bound(Kind::WebexUser, "InvitePending".into()), "InvitePending");
        assert_eq!(cap.bound(Kind::WebexUser, "alice@x.example".into()), "Other");
        assert_eq!(cap.bound(Kind::WebexUser, "Has spaces".into()), "Other");
        for i in 0..100 {
            cap.bound(Kind::WebexUser, format!("Reason{i}"));
        }
        assert_eq!(cap.bound(Kind::WebexUser, "Reason99".into()), "Other");
        assert_eq!(cap.bound(Kind::WebexUser, "InvitePending".into()), "InvitePending");
    }

    /// Any kind with a Ready condition: here a ConfigMap standing in, so telemetry's tests need
    /// none of the crate's types either.
    #[test]
    fn every_observed_kind_is_counted_by_state_and_reason() {
        use k8s_openapi::api::core::v1::ConfigMap;
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
        use kube::runtime::reflector::store;
        use kube::runtime::watcher::Event;

        static CONDITIONS: OnceLock<BTreeMap<String, Condition>> = OnceLock::new();
        let conditions = CONDITIONS.get_or_init(|| {
            [("InvitationPending", "False"), ("Accepted", "True")]
                .into_iter()
                .map(|(reason, status)| {
                    let condition = Condition {
                        type_: "Ready".into(),
                        status: status.into(),
                        reason: reason.into(),
                        message: String::new(),
                        last_transition_time: Time(jiff::Timestamp::UNIX_EPOCH),
                        observed_generation: None,
                    };
                    (reason.to_owned(), condition)
                })
                .collect()
        });
        let metrics = Metrics::new();
        let (objects, mut writer) = store::<ConfigMap>();
        for (name, state, reason) in [
            ("a", "Pending", "InvitationPending"),
            ("b", "Pending", "InvitationPending"),
            ("c", "Accepted", "Accepted"),
            ("d", "", ""),
        ] {
            let mut object = ConfigMap::default();
            object.metadata.name = Some(name.into());
            object.metadata.namespace = Some("team".into());
            object.data = Some([("state".into(), state.into()), ("reason".into(), reason.into())].into());
            writer.apply_watcher_event(&Event::Apply(object));
        }
        metrics.observe_kind(Kind::ExternalUser, objects, |o: &ConfigMap| {
            let field = |key: &str| o.data.as_ref().and_then(|d| d.get(key)).cloned().unwrap_or_default();
            let ready = CONDITIONS.get().and_then(|c| c.get(&field("reason")));
            (field("state"), ready)
        });
        assert!(conditions.len() == 2);
        let text = metrics.encode().unwrap();
        assert!(
            !text.contains("webex_operator_objects{"),
            "no gauges before the backoff source: {text}"
        );
        metrics.observe_backoff(Arc::new(|| 2));
        let text = metrics.encode().unwrap();
        assert!(
            text.contains(r#"webex_operator_objects{kind="ExternalUser",state="Pending",ready="False",reason="InvitationPending"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"webex_operator_objects{kind="ExternalUser",state="Accepted",ready="True",reason="Accepted"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"webex_operator_objects{kind="ExternalUser",state="",ready="Unknown",reason=""} 1"#),
            "{text}"
        );
        assert!(text.contains("webex_operator_objects_in_backoff 2"), "{text}");
    }

    #[test]
    fn encodes_recorded_series() {
        let metrics = Metrics::new();
        metrics.record_webex_call("POST /v1/people", Some(200), Duration::from_millis(12));
        struct OrgMissing;
        impl ReconcileFailure for OrgMissing {
            fn category(&self) -> &'static str {
                "OrgNotReady"
            }
            fn is_retryable(&self) -> bool {
                true
            }
        }
        metrics.record_reconcile::<OrgMissing>(Kind::WebexUser, Duration::from_millis(3), None);
        metrics.record_reconcile(Kind::WebexUser, Duration::from_millis(3), Some(&OrgMissing));
        metrics.set_leader(true);
        let text = metrics.encode().unwrap();
        assert!(
            text.contains(r#"webex_operator_webex_requests_total{endpoint="POST /v1/people",status="2xx"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"webex_operator_reconciles_total{kind="WebexUser",outcome="error"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"webex_operator_reconcile_errors_total{kind="WebexUser",category="OrgNotReady",retryable="true"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains("webex_operator_reconcile_duration_seconds_bucket"),
            "{text}"
        );
        assert!(text.contains("webex_operator_leader 1"), "{text}");
    }
}
