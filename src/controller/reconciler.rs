//! The reconcile skeleton every kind shares: the span, the pause annotation, the finalizer, one
//! status writer and one "the Ready reason changed" Event. A kind supplies its status accessors
//! ([`Reconciled`]) and its apply / cleanup; the backoff reset on success is
//! [`super::shared::resetting_backoff`], wrapped around every kind in `controller::run`, so it
//! always uses the key the error policy grows.

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument;

use super::context::Context;
use super::error::ReconcileError;
use super::events::{EventAction, Reason};
use super::shared;
use crate::api::common::PAUSE_ANNOTATION;
use crate::api::conditions::{self, ConditionUpdate, READY, SYNCED};

/// Reason of the Ready condition while the pause annotation holds an object (every kind).
pub const PAUSED: &str = "Paused";

/// Reason of the Synced condition after a reconcile that reached Webex.
pub const SYNCED_REASON: &str = "Synced";

/// What the skeleton needs of a kind's object and status.
pub trait Reconciled:
    Resource<DynamicType = ()> + Clone + Debug + Serialize + DeserializeOwned + Send + Sync + 'static
{
    type Status: Clone + Default + PartialEq + Serialize + Send + Sync;

    fn current_status(&self) -> Option<&Self::Status>;
    fn conditions(status: &Self::Status) -> &[Condition];
    fn set_conditions(status: &mut Self::Status, conditions: Vec<Condition>);
    fn set_observed_generation(status: &mut Self::Status, generation: Option<i64>);

    /// Sets the status's "when" field (`lastSynced`, `lastUpdated`), if it has one. A write that
    /// would change nothing but that field is skipped (steady state makes no writes).
    fn set_stamp(_status: &mut Self::Status, _at: Option<String>) {}

    /// The status as the API server holds it (the informer's copy), or the empty status.
    fn status_or_default(&self) -> Self::Status {
        self.current_status().cloned().unwrap_or_default()
    }
}

/// The Ready condition to report, and Synced when the reconcile tried Webex.
#[derive(Debug, Clone)]
pub struct Report {
    pub ready: bool,
    pub reason: &'static str,
    pub message: String,
    /// `Some(true)`: reached Webex; `Some(false)`: failed for `reason`; `None`: left as it is.
    pub synced: Option<bool>,
    /// Further conditions of the kind.
    pub extra: Vec<ConditionUpdate>,
}

impl Report {
    pub fn new(ready: bool, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            ready,
            reason,
            message: message.into(),
            synced: None,
            extra: Vec::new(),
        }
    }

    pub fn synced(mut self, synced: Option<bool>) -> Self {
        self.synced = synced;
        self
    }

    pub fn with(mut self, extra: impl IntoIterator<Item = ConditionUpdate>) -> Self {
        self.extra.extend(extra);
        self
    }

    fn updates(self) -> Vec<ConditionUpdate> {
        let mut updates = vec![ConditionUpdate::new(
            READY,
            self.ready,
            self.reason,
            self.message.clone(),
        )];
        match self.synced {
            Some(true) => updates.push(ConditionUpdate::new(
                SYNCED,
                true,
                SYNCED_REASON,
                "the last reconcile reached Webex",
            )),
            Some(false) => updates.push(ConditionUpdate::new(SYNCED, false, self.reason, self.message)),
            None => {}
        }
        updates.extend(self.extra);
        updates
    }
}

/// The status to write: `status` with the report's conditions merged in and the object's
/// generation; `None` when it says nothing new compared with `baseline` (what the API server
/// holds) but a time.
pub fn next_status<K: Reconciled>(
    object: &K,
    baseline: &K::Status,
    mut status: K::Status,
    report: Report,
    now: jiff::Timestamp,
) -> Option<K::Status> {
    let generation = object.meta().generation;
    K::set_observed_generation(&mut status, generation);
    let merged = conditions::merge(K::conditions(&status), &report.updates(), generation, now);
    K::set_conditions(&mut status, merged);
    let mut timeless = baseline.clone();
    K::set_stamp(&mut timeless, None);
    K::set_stamp(&mut status, None);
    if status == timeless {
        return None;
    }
    K::set_stamp(&mut status, Some(now.to_string()));
    Some(status)
}

/// The one status writer of every kind: writes [`next_status`] when there is something new.
/// Returns whether it wrote.
pub async fn write_status<K: Reconciled>(
    ctx: &Context,
    object: &K,
    baseline: &K::Status,
    status: K::Status,
    report: Report,
) -> Result<bool, ReconcileError> {
    match next_status(object, baseline, status, report, jiff::Timestamp::now()) {
        Some(next) => {
            ctx.apply_status(object, &next).await?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// A Warning (or Normal) Event when the object's Ready reason becomes `reason` (not on every
/// retry): `previous` is the status before this reconcile.
pub async fn announce<K: Reconciled>(
    ctx: &Context,
    object: &K,
    previous: &K::Status,
    warning: bool,
    reason: impl Into<Reason>,
    message: &str,
) {
    let reason = reason.into();
    let was = conditions::find(K::conditions(previous), READY).map(|c| c.reason.as_str());
    if was != Some(reason.as_str()) {
        ctx.event(
            &object.object_ref(&()),
            warning,
            reason,
            EventAction::Reconcile,
            message.to_string(),
        )
        .await;
    }
}

/// The WebexOrg `name`, or the typed failure after reporting it in the object's status with the
/// kind's `reason` (Ready=False, retried with backoff).
pub async fn org_or_report<K: Reconciled>(
    ctx: &Context,
    object: &K,
    name: &str,
    reason: &'static str,
) -> Result<super::org_registry::OrgHandle, ReconcileError> {
    if let Some(org) = ctx.orgs.get(name) {
        return Ok(org);
    }
    let error = ReconcileError::OrgNotReady { org: name.to_owned() };
    let previous = object.status_or_default();
    write_status(
        ctx,
        object,
        &previous,
        previous.clone(),
        Report::new(false, reason, error.to_string()),
    )
    .await?;
    Err(error)
}

/// Span → pause → finalizer → `apply` / `cleanup`: the shape of every namespaced kind with a
/// finalizer (WebexUser, ExternalUser).
pub async fn reconcile_with_finalizer<K, A, AFut, C, CFut>(
    ctx: &Arc<Context>,
    object: Arc<K>,
    apply: A,
    cleanup: C,
) -> Result<Action, ReconcileError>
where
    K: Reconciled<Scope = k8s_openapi::NamespaceResourceScope>,
    A: FnOnce(Arc<K>) -> AFut,
    AFut: Future<Output = Result<Action, ReconcileError>>,
    C: FnOnce(Arc<K>) -> CFut,
    CFut: Future<Output = Result<Action, ReconcileError>>,
{
    let span = span_for(object.as_ref());
    async move {
        if write_if_paused(ctx, object.as_ref()).await? {
            return Ok(Action::await_change());
        }
        shared::with_finalizer(&ctx.client, object, apply, cleanup).await
    }
    .instrument(span)
    .await
}

/// Span → pause → `apply`: kinds without a finalizer of their own (UserClaim).
pub async fn reconcile_plain<K, A, AFut>(ctx: &Arc<Context>, object: Arc<K>, apply: A) -> Result<Action, ReconcileError>
where
    K: Reconciled,
    A: FnOnce(Arc<K>) -> AFut,
    AFut: Future<Output = Result<Action, ReconcileError>>,
{
    let span = span_for(object.as_ref());
    async move {
        if write_if_paused(ctx, object.as_ref()).await? {
            return Ok(Action::await_change());
        }
        apply(object).await
    }
    .instrument(span)
    .await
}

/// The reconcile span: kind, namespace and name on every log line of the reconcile.
pub fn span_for<K: Resource<DynamicType = ()>>(object: &K) -> tracing::Span {
    tracing::info_span!(
        "reconcile",
        kind = %K::kind(&()),
        namespace = object.namespace().unwrap_or_default(),
        name = %object.name_any()
    )
}

/// Reports the pause (once) when the annotation holds the object; true when it does.
async fn write_if_paused<K: Reconciled>(ctx: &Context, object: &K) -> Result<bool, ReconcileError> {
    if !shared::is_paused(object) {
        return Ok(false);
    }
    let status = object.status_or_default();
    let report = Report::new(false, PAUSED, format!("paused by the {PAUSE_ANNOTATION} annotation"));
    write_status(ctx, object, &status, status.clone(), report).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::WebexUser;
    use crate::api::webex_user::WebexUserStatus;

    fn user() -> WebexUser {
        let mut user = WebexUser::new(
            "ann",
            serde_json::from_value(serde_json::json!({"orgRef": {"name": "acme"}, "email": "ann@acme.example"}))
                .expect("spec"),
        );
        user.metadata.namespace = Some("team".into());
        user.metadata.generation = Some(3);
        user
    }

    #[test]
    fn a_write_that_changes_nothing_but_a_time_is_skipped() {
        let user = user();
        let t0 = jiff::Timestamp::UNIX_EPOCH;
        let first = next_status(
            &user,
            &WebexUserStatus::default(),
            WebexUserStatus::default(),
            Report::new(true, "Active", "ok").synced(Some(true)),
            t0,
        )
        .expect("the first report is news");
        assert_eq!(first.observed_generation, Some(3));
        assert_eq!(first.last_synced.as_deref(), Some(t0.to_string().as_str()));
        assert!(conditions::find(&first.conditions, SYNCED).is_some());
        let later = t0 + jiff::SignedDuration::from_secs(60);
        let again = next_status(
            &user,
            &first,
            first.clone(),
            Report::new(true, "Active", "ok").synced(Some(true)),
            later,
        );
        assert_eq!(again, None, "same conditions, only a later time: no write");
        let changed = next_status(
            &user,
            &first,
            first.clone(),
            Report::new(false, "InvitePending", "waiting"),
            later,
        )
        .expect("a new reason is news");
        assert_eq!(changed.last_synced.as_deref(), Some(later.to_string().as_str()));
    }

    #[test]
    fn a_new_generation_is_news_even_with_the_same_conditions() {
        let mut user = user();
        let t0 = jiff::Timestamp::UNIX_EPOCH;
        let first = next_status(
            &user,
            &WebexUserStatus::default(),
            WebexUserStatus::default(),
            Report::new(true, "Active", "ok"),
            t0,
        )
        .expect("news");
        user.metadata.generation = Some(4);
        let next = next_status(&user, &first, first.clone(), Report::new(true, "Active", "ok"), t0).expect("news");
        assert_eq!(next.observed_generation, Some(4));
    }
}
