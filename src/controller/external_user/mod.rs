//! The ExternalUser reconciler (I/O): read what the org has given the person (one `PATCH
//! /v1/licenses/users` without changes), let `plan` decide, send the one licence change,
//! report status, Events and conditions. Deletion removes the org's accounts through a
//! finalizer, and waits while an invitation is pending (R-EXT-7).
//!
//! Polling: a pending object is looked at again at its expiry and at most once per
//! `--resync-seconds`; host acceptances are noticed sooner by `watch` (one licence listing per
//! Meetings site and org, not one call per object), attendee ones by looking at the object every
//! `--pending-poll-seconds` while its attendee invitation is pending (nothing lists them).

pub mod plan;
pub mod watch;

use std::sync::Arc;

use jiff::Timestamp;
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};

use crate::api::conditions::{self, ConditionUpdate};
use crate::api::external_user::{ExternalDeletionPolicy, ExternalUser, ExternalUserStatus};
use crate::controller::context::Context;
use crate::controller::error::{ReconcileError, webex_err};
use crate::controller::events::{EventAction, EventReason};
use crate::controller::org_registry::OrgHandle;
use crate::controller::reconciler::{self, Reconciled, Report};
use crate::controller::shared;
use crate::webex::error::WebexError;
use crate::webex::model::{PatchUserLicenses, codes};
use plan::{ExternalReason, Inputs, Observed, Removal, Verdict};

/// Condition type while a deletion waits for a pending invitation (R-EXT-7).
pub const REMOVAL_BLOCKED: &str = "RemovalBlocked";

pub async fn reconcile(object: Arc<ExternalUser>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    reconciler::reconcile_with_finalizer(
        &ctx,
        object,
        |object| apply(object, &ctx),
        |object| cleanup(object, &ctx),
    )
    .await
}

impl Reconciled for ExternalUser {
    type Status = ExternalUserStatus;
    fn current_status(&self) -> Option<&ExternalUserStatus> {
        self.status.as_ref()
    }
    fn conditions(status: &ExternalUserStatus) -> &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition] {
        &status.conditions
    }
    fn set_conditions(
        status: &mut ExternalUserStatus,
        conditions: Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition>,
    ) {
        status.conditions = conditions;
    }
    fn set_observed_generation(status: &mut ExternalUserStatus, generation: Option<i64>) {
        status.observed_generation = generation;
    }
}

pub fn error_policy(object: Arc<ExternalUser>, error: &ReconcileError, ctx: Arc<Context>) -> Action {
    shared::error_policy(object.as_ref(), error, &ctx.backoff)
}

/// One licence call (a change, or none to only read) and what it says about the person.
struct Answer {
    observed: Observed,
    /// Webex's clock; this replica's when the answer has no `Date`.
    now: Timestamp,
}

/// Sends `body` (no changes: a pure read) and reads the answer. `Ok(None)`: the email has no
/// Webex account (R-EXT-2).
async fn send(
    org: &OrgHandle,
    body: &PatchUserLicenses,
    action: &'static str,
) -> Result<Option<Answer>, ReconcileError> {
    match org.client.patch_user_licenses(body).await {
        Ok(outcome) => Ok(Some(Answer {
            observed: plan::observe(&org.facts, &outcome.response),
            now: outcome.server_date.unwrap_or_else(Timestamp::now),
        })),
        Err(e) if e.status() == Some(404) => Ok(None),
        Err(e) => Err(webex_err(action)(e)),
    }
}

fn read_body(email: &str) -> PatchUserLicenses {
    PatchUserLicenses {
        email: Some(email.to_string()),
        ..PatchUserLicenses::default()
    }
}

fn no_account(email: &str) -> Verdict {
    Verdict::Blocked {
        reason: ExternalReason::NoWebexAccount,
        message: format!(
            "{email} has no Webex account; only emails of existing Webex accounts can be invited (R-EXT-2)"
        ),
    }
}

async fn apply(object: Arc<ExternalUser>, ctx: &Context) -> Result<Action, ReconcileError> {
    let namespace = object.namespace().ok_or(ReconcileError::MissingMetadata("namespace"))?;
    let previous = object.status.clone().unwrap_or_default();
    let resync = ctx.options.resync;
    let org = reconciler::org_or_report(
        ctx,
        object.as_ref(),
        &object.spec.org_ref.name,
        ExternalReason::OrgNotReady.into(),
    )
    .await?;
    if let Some((reason, message)) = plan::precheck(&object.spec, &namespace, &org.facts) {
        let verdict = Verdict::Blocked { reason, message };
        announce(ctx, &object, &previous, &verdict).await;
        write_status(ctx, &object, &previous, &previous, &verdict, None).await?;
        return Ok(Action::await_change());
    }
    let email = object.spec.email.clone();
    let answer = match send(&org, &read_body(&email), "read the person's accounts").await {
        Ok(Some(answer)) => answer,
        Ok(None) => return refuse(ctx, &object, &previous, no_account(&email), resync).await,
        Err(error) => return fail(ctx, &object, &previous, error).await,
    };
    let generation = object.meta().generation;
    let decided = plan::plan(Inputs {
        spec: &object.spec,
        status: &previous,
        generation,
        org: &org.facts,
        observed: &answer.observed,
        now: answer.now,
    });
    let mut status = previous.clone();
    status.person_id = answer.observed.person_id.clone().or(status.person_id);
    status.person_org_id = answer.observed.person_org_id.clone().or(status.person_org_id);
    let reference = object.object_ref(&());
    if !decided.adopt.is_empty() {
        status.adopted = Some(decided.adopt.len() == object.spec.sites.len());
        ctx.event(
            &reference,
            false,
            EventReason::Adopted,
            EventAction::AdoptExternalUser,
            format!(
                "{email} already has {} on this org's sites; nothing was sent (R-EXT-8)",
                describe(&decided.adopt)
            ),
        )
        .await;
    }
    if let Some(change) = &decided.change {
        match send(&org, change, "assign Meetings accounts").await {
            Ok(Some(_)) => {}
            Ok(None) => return refuse(ctx, &object, &status, no_account(&email), resync).await,
            Err(error) => return fail(ctx, &object, &status, error).await,
        }
        announce_change(ctx, &reference, &email, change, &org.facts, &decided).await;
    }
    status.sites = decided.sites.clone();
    status.invitation = decided.invitation;
    status.expires_at = decided.expires_at.map(|t| t.to_string());
    announce(ctx, &object, &previous, &decided.verdict).await;
    write_status(ctx, &object, &previous, &status, &decided.verdict, Some(true)).await?;
    Ok(Action::requeue(match &decided.verdict {
        Verdict::Ready => resync,
        _ => plan::next_check(
            decided.expires_at,
            answer.now,
            plan::poll_ceiling(&decided.sites, ctx.options.pending_poll, resync),
        ),
    }))
}
/// Events for a change sent to Webex: who was invited (again, R-EXT-5) to which sites, and how
/// many accounts the spec no longer names were removed.
async fn announce_change(
    ctx: &Context,
    reference: &k8s_openapi::api::core::v1::ObjectReference,
    email: &str,
    change: &PatchUserLicenses,
    facts: &crate::controller::org_registry::OrgFacts,
    decided: &plan::ExternalPlan,
) {
    use crate::webex::model::LicenseOperation;
    let added: Vec<String> = change
        .licenses
        .iter()
        .filter(|l| l.operation == LicenseOperation::Add)
        .filter_map(|l| {
            facts
                .licenses
                .iter()
                .find(|o| o.id == l.id)
                .and_then(|o| o.site_url.clone())
                .map(|s| format!("{s} (host)"))
        })
        .chain(
            change
                .site_urls
                .iter()
                .filter(|s| s.operation == LicenseOperation::Add)
                .map(|s| format!("{} (attendee)", s.site_url)),
        )
        .collect();
    let removed = change.licenses.len() + change.site_urls.len() - added.len();
    if !added.is_empty() {
        let (reason, what) = if decided.reinvite.is_empty() {
            (EventReason::Invited, "invited")
        } else {
            (
                EventReason::Reinvited,
                "invited again after the last invitation expired (R-EXT-5):",
            )
        };
        let expiry = decided
            .expires_at
            .map_or_else(String::new, |t| format!("; the invitation expires {t} (R-EXT-5)"));
        ctx.event(
            reference,
            false,
            reason,
            EventAction::AssignLicenses,
            format!("{email} {what} {}{expiry}", added.join(", ")),
        )
        .await;
    }
    if removed > 0 {
        ctx.event(
            reference,
            false,
            EventReason::Removed,
            EventAction::RemoveLicenses,
            format!("removed {removed} account(s) of {email} the spec no longer names"),
        )
        .await;
    }
}

/// A refusal that retrying soon cannot fix: reported, looked at again once per resync (the
/// person may create an account, the other org may change its setting).
async fn refuse(
    ctx: &Context,
    object: &ExternalUser,
    status: &ExternalUserStatus,
    verdict: Verdict,
    resync: std::time::Duration,
) -> Result<Action, ReconcileError> {
    let previous = object.status.clone().unwrap_or_default();
    announce(ctx, object, &previous, &verdict).await;
    write_status(ctx, object, &previous, status, &verdict, Some(false)).await?;
    Ok(Action::requeue(resync))
}

/// A failed Webex call: the rule it broke (R-EXT-1 / R-ORG-5), a rejection, or a retryable
/// failure that goes back to the controller for backoff. The message carries the tracking id.
async fn fail(
    ctx: &Context,
    object: &ExternalUser,
    status: &ExternalUserStatus,
    error: ReconcileError,
) -> Result<Action, ReconcileError> {
    let mut message = error.describe();
    let webex: Option<&WebexError> = match &error {
        ReconcileError::Webex { source, .. } => Some(source),
        _ => None,
    };
    if let Some(tracking) = webex.and_then(WebexError::tracking_id)
        && !message.contains(tracking)
    {
        message.push_str(&format!(" (Webex trackingId {tracking})"));
    }
    if webex.is_some_and(|e| e.has_code(codes::EXTERNAL_CROSS_ORG_NOT_ALLOWED)) {
        let verdict = Verdict::Blocked {
            reason: ExternalReason::CrossOrgLicensingNotAllowed,
            message: format!(
                "the organisation of {} does not allow its users to receive accounts on other organisations' sites; it must allow cross-org licensing first (R-EXT-1, R-ORG-5): {message}",
                object.spec.email
            ),
        };
        return refuse(ctx, object, status, verdict, ctx.options.resync).await;
    }
    if error.is_retryable() {
        let verdict = Verdict::Waiting {
            reason: ExternalReason::WebexUnavailable,
            message,
        };
        write_status(
            ctx,
            object,
            &object.status.clone().unwrap_or_default(),
            status,
            &verdict,
            Some(false),
        )
        .await?;
        return Err(error);
    }
    let verdict = Verdict::Blocked {
        reason: ExternalReason::WebexRejected,
        message,
    };
    refuse(ctx, object, status, verdict, ctx.options.resync).await
}

async fn cleanup(object: Arc<ExternalUser>, ctx: &Context) -> Result<Action, ReconcileError> {
    let status = object.status.clone().unwrap_or_default();
    if status.person_id.is_none() && status.invitation.is_none() {
        return Ok(Action::await_change()); // never reached Webex: nothing to undo
    }
    if object.spec.deletion_policy == ExternalDeletionPolicy::Orphan {
        ctx.event(
            &object.object_ref(&()),
            false,
            EventReason::Orphaned,
            EventAction::Delete,
            format!(
                "deletionPolicy Orphan: the accounts of {} on this org's sites are left as they are",
                object.spec.email
            ),
        )
        .await;
        return Ok(Action::await_change());
    }
    let org = ctx
        .orgs
        .get(&object.spec.org_ref.name)
        .ok_or_else(|| ReconcileError::OrgNotReady {
            org: object.spec.org_ref.name.clone(),
        })?;
    let email = object.spec.email.clone();
    let Some(answer) = send(&org, &read_body(&email), "read the person's accounts").await? else {
        return Ok(Action::await_change()); // the account is gone, and with it our licences
    };
    match plan::plan_removal(&object.spec, &status, &org.facts, &answer.observed, answer.now) {
        Removal::Done => Ok(Action::await_change()),
        Removal::Remove(body) => {
            send(&org, &body, "remove the external user's accounts").await?;
            ctx.event(
                &object.object_ref(&()),
                false,
                EventReason::Removed,
                EventAction::RemoveLicenses,
                format!(
                    "removed every account of {email} on this org's sites ({} licence(s), {} attendee site(s)), R-EXT-7",
                    body.licenses.len(),
                    body.site_urls.len()
                ),
            )
            .await;
            Ok(Action::await_change())
        }
        Removal::Blocked { until } => {
            let what = format!(
                "{email} has a pending invitation, which Webex cannot withdraw; the removal proceeds once it is accepted, declined or expired, at the latest {until} (R-EXT-7)"
            );
            let verdict = Verdict::Waiting {
                reason: ExternalReason::RemovalBlocked,
                message: what.clone(),
            };
            let previous_blocked = conditions::is_true(&status.conditions, REMOVAL_BLOCKED);
            if !previous_blocked {
                ctx.event(
                    &object.object_ref(&()),
                    true,
                    EventReason::RemovalBlocked,
                    EventAction::RemoveLicenses,
                    what.clone(),
                )
                .await;
            }
            let mut next = status.clone();
            next.conditions = conditions::merge(
                &status.conditions,
                &[ConditionUpdate::new(
                    REMOVAL_BLOCKED,
                    true,
                    "InvitationPending",
                    what.clone(),
                )],
                object.meta().generation,
                Timestamp::now(),
            );
            write_status(ctx, &object, &status, &next, &verdict, Some(true)).await?;
            Err(ReconcileError::WaitingUntil {
                what,
                retry_in: plan::next_check(Some(until), answer.now, ctx.options.resync),
            })
        }
    }
}

fn describe(keys: &std::collections::BTreeSet<plan::SiteKey>) -> String {
    keys.iter()
        .map(|(site, kind)| format!("{site} ({kind:?})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An Event when the Ready reason changes (not on every reconcile).
async fn announce(ctx: &Context, object: &ExternalUser, previous: &ExternalUserStatus, verdict: &Verdict) {
    let (reason, message, warning) = match verdict {
        Verdict::Ready => (
            ExternalReason::Accepted,
            format!("{} accepted: every account is active (R-EXT-6)", object.spec.email),
            false,
        ),
        Verdict::Waiting { .. } => return, // the Invited Event already says it
        Verdict::Blocked { reason, message } => (*reason, message.clone(), true),
    };
    reconciler::announce(ctx, object, previous, warning, reason, &message).await;
}

/// Writes `status` with the verdict's conditions, unless nothing changed compared with
/// `baseline` (steady state makes no writes).
async fn write_status(
    ctx: &Context,
    object: &ExternalUser,
    baseline: &ExternalUserStatus,
    status: &ExternalUserStatus,
    verdict: &Verdict,
    synced: Option<bool>,
) -> Result<(), ReconcileError> {
    let report = match verdict {
        Verdict::Ready => Report::new(
            true,
            ExternalReason::Accepted.into(),
            format!("{} accepted every site of the spec", object.spec.email),
        ),
        Verdict::Waiting { reason, message } | Verdict::Blocked { reason, message } => {
            Report::new(false, (*reason).into(), message.clone())
        }
    };
    reconciler::write_status(ctx, object, baseline, status.clone(), report.synced(synced)).await?;
    Ok(())
}
