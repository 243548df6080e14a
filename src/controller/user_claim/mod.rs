//! The UserClaim reconciler (I/O): read the claiming org's settings and the claims it holds,
//! let `plan` decide, send the claim requests (batched) and at most one revoke, create the
//! WebexUsers of claimed users, report per-user status, counts, conditions and Events.
//!
//! Webex has no public claim or revoke API (webex-api-notes §5.6): with `backend: Webex` the
//! status says what to do in Control Hub (and by when, for a revoke); with `backend: Simulator`
//! the simulator-only endpoints are used. No finalizer: claims are permanent (R-CLM-4), so
//! deleting a UserClaim changes nothing in Webex; its WebexUsers (owned, `deletionPolicy:
//! Orphan`) are garbage-collected without touching the people.
//!
//! Polling: at the nearest per-user deadline (delayed claim completion, end of the revoke
//! window, deletion of an inactive user), at most once per `--resync-seconds`.

pub mod plan;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use jiff::Timestamp;
use kube::api::{Api, ListParams, PostParams};
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};

use crate::api::WebexUser;
use crate::api::conditions::{self, ConditionUpdate};
use crate::api::user_claim::{ClaimUserState, UserClaim, UserClaimStatus};
use crate::controller::context::Context;
use crate::controller::error::{ReconcileError, kube_err, webex_err};
use crate::controller::events::{EventAction, EventReason};
use crate::controller::org_registry::OrgHandle;
use crate::controller::reconciler::{self, Reconciled};
use crate::controller::shared;
use crate::webex::claims::{ClaimRequest, ClaimView};
use crate::webex::client::ClaimOrgInfo;
use crate::webex::error::WebexError;
use plan::{ClaimReason, RevokePlan};

/// Condition: the prerequisites checked before anything irreversible (R-CLM-1, R-CLM-4, R-ORG-4).
pub const PREREQUISITES: &str = "Prerequisites";
/// Condition (warning): the org uses directory sync (R-CLM-11).
pub const DIRECTORY_SYNC: &str = "DirectorySync";
/// Condition: the outcome of `spec.revoke` (R-CLM-7).
pub const REVOKE: &str = "Revoke";
pub use crate::api::user_claim::CLAIM_LABEL;

pub async fn reconcile(object: Arc<UserClaim>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    let inner = ctx.clone();
    reconciler::reconcile_plain(&ctx, object, |object| async move { apply(&object, &inner).await }).await
}

impl Reconciled for UserClaim {
    type Status = UserClaimStatus;
    fn current_status(&self) -> Option<&UserClaimStatus> {
        self.status.as_ref()
    }
    fn conditions(status: &UserClaimStatus) -> &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition] {
        &status.conditions
    }
    fn set_conditions(
        status: &mut UserClaimStatus,
        conditions: Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition>,
    ) {
        status.conditions = conditions;
    }
    fn set_observed_generation(status: &mut UserClaimStatus, generation: Option<i64>) {
        status.observed_generation = generation;
    }
}

pub fn error_policy(object: Arc<UserClaim>, error: &ReconcileError, ctx: Arc<Context>) -> Action {
    shared::error_policy(object.as_ref(), error, &ctx.backoff)
}

/// What one reconcile reports, conditions aside from Ready/Synced.
struct Report {
    status: UserClaimStatus,
    ready: (bool, ClaimReason, String),
    synced: Option<bool>,
    extra: Vec<ConditionUpdate>,
}

async fn apply(object: &UserClaim, ctx: &Context) -> Result<Action, ReconcileError> {
    let namespace = object.namespace().ok_or(ReconcileError::MissingMetadata("namespace"))?;
    let previous = object.status.clone().unwrap_or_default();
    let resync = ctx.options.resync;
    let org =
        reconciler::org_or_report(ctx, object, &object.spec.org_ref.name, ClaimReason::OrgNotReady.into()).await?;
    let emails = plan::normalise(&object.spec.emails);
    if !object.spec.acknowledge_permanent {
        // Checked by the API server too (CEL); nothing is read or sent without it (R-CLM-4).
        let (reason, message) = (
            ClaimReason::AcknowledgementRequired,
            "claiming users is permanent (R-CLM-4): set acknowledgePermanent: true to proceed".to_string(),
        );
        let mut report = blocked(&previous, reason, message.clone(), None);
        report
            .extra
            .push(ConditionUpdate::new(PREREQUISITES, false, reason.into(), message));
        announce(ctx, object, &previous, &report).await;
        write(ctx, object, &previous, report).await?;
        return Ok(Action::await_change());
    }
    let simulator = org.simulator;
    let org_id = org.facts.org_id.clone();
    let info = match org.client.claim_org_info(&org_id, simulator).await {
        Ok(info) => info,
        Err(WebexError::NotAvailableInPublicApi { .. }) => {
            let report = control_hub(object, &previous, &emails);
            announce(ctx, object, &previous, &report).await;
            write(ctx, object, &previous, report).await?;
            return Ok(Action::requeue(resync));
        }
        Err(e) => {
            return fail(
                ctx,
                object,
                &previous,
                webex_err("read the org's domains and settings")(e),
            )
            .await;
        }
    };
    let listed = match org.client.list_claims(&org_id, simulator).await {
        Ok(c) => c,
        Err(e) => return fail(ctx, object, &previous, webex_err("list the org's claims")(e)).await,
    };
    // Webex's clock, not this replica's: the 14 days run on the backend (R-CLM-3, R-CLM-7).
    let now: Timestamp = listed.now.parse().unwrap_or_else(|_| Timestamp::now());
    let claims = listed.items;
    let generation = object.meta().generation;
    let same_generation = previous.observed_generation == generation;
    let latest = plan::latest(&claims);
    if let Some((reason, message)) = plan::precheck(&object.spec, &namespace, &org.facts, &info, &emails, &latest) {
        let ineligible = plan::known_ineligible(&previous, same_generation);
        let (users, counts) = plan::report(&emails, &latest, &ineligible, &info, now);
        let report = prerequisites_missing(&previous, users, counts, &info, reason, message);
        announce(ctx, object, &previous, &report).await;
        write(ctx, object, &previous, report).await?;
        // The domain may be verified (or the setting changed) in Control Hub meanwhile.
        return Ok(Action::requeue(resync));
    }

    // Claim what is open, batch by batch (R-CLM-5: the user never splits lists).
    let mut ineligible = plan::known_ineligible(&previous, same_generation);
    let (claimed_now, mut failure) = claim_open(object, &org, &emails, &latest, &previous, &mut ineligible).await;

    // Revoke, one user at a time (R-CLM-7).
    let facts = RevokeFacts {
        emails: &emails,
        latest: &latest,
        info: &info,
        now,
    };
    let (revoke_condition, revoke_failure) = revoke(ctx, object, &org, facts, &previous).await;
    failure = failure.or(revoke_failure);

    // What Webex holds now.
    let claims: Vec<ClaimView> = match org.client.list_claims(&org_id, simulator).await {
        Ok(c) => c.items,
        Err(e) => {
            return fail(
                ctx,
                object,
                &previous,
                failure.unwrap_or(webex_err("list the org's claims")(e)),
            )
            .await;
        }
    };
    let latest = plan::latest(&claims);
    let (users, counts) = plan::report(&emails, &latest, &ineligible, &info, now);
    if claimed_now > 0 {
        announce_claimed(ctx, object, claimed_now).await;
    }
    inactive_events(ctx, object, &previous, &users).await;
    let changes = plan::webex_user_changes(&object.spec, &previous, same_generation, &users);
    if !changes.create.is_empty() {
        ensure_webex_users(ctx, object, &namespace, &changes.create).await?;
    }
    if !changes.retire.is_empty() {
        retire_webex_users(ctx, object, &namespace, &changes.retire).await?;
    }
    let next = plan::next_check(&users, now, resync);
    let report = claimed(&previous, users, counts, &info, revoke_condition, failure.as_ref());
    if let Some(error) = failure {
        write(ctx, object, &previous, report).await?;
        return Err(error);
    }
    announce(ctx, object, &previous, &report).await;
    write(ctx, object, &previous, report).await?;
    Ok(Action::requeue(next))
}

/// The report while a prerequisite is missing (R-CLM-1, R-ORG-3, R-ORG-4): who would be
/// claimed, and why nothing is.
fn prerequisites_missing(
    previous: &UserClaimStatus,
    users: Vec<crate::api::user_claim::ClaimedUserStatus>,
    counts: crate::api::user_claim::ClaimCounts,
    info: &ClaimOrgInfo,
    reason: ClaimReason,
    message: String,
) -> Report {
    let mut status = previous.clone();
    status.users = users;
    status.counts = Some(counts);
    let mut report = blocked(&status, reason, message.clone(), Some(true));
    report
        .extra
        .push(ConditionUpdate::new(PREREQUISITES, false, reason.into(), message));
    report.extra.extend(directory_condition(info, &report.status.users));
    report
}

/// The report after claiming and revoking: the users as Webex holds them; a failure that
/// stopped the batches makes Ready say why.
fn claimed(
    previous: &UserClaimStatus,
    users: Vec<crate::api::user_claim::ClaimedUserStatus>,
    counts: crate::api::user_claim::ClaimCounts,
    info: &ClaimOrgInfo,
    revoke_condition: Option<ConditionUpdate>,
    failure: Option<&ReconcileError>,
) -> Report {
    let mut status = previous.clone();
    status.users = users;
    status.counts = Some(counts);
    let ready = match failure {
        Some(error) => (false, reason_of(error), describe_reconcile(error)),
        None => plan::verdict(&status.users, status.counts.as_ref().unwrap_or(&Default::default())),
    };
    let mut extra = vec![ConditionUpdate::new(
        PREREQUISITES,
        true,
        ClaimReason::PrerequisitesMet.into(),
        "domains verified, acknowledgement given (R-CLM-1, R-CLM-4)",
    )];
    extra.extend(directory_condition(info, &status.users));
    extra.extend(revoke_condition);
    Report {
        status,
        ready,
        synced: Some(failure.is_none()),
        extra,
    }
}

/// Sends the claims still open, batch by batch; notes the ineligible emails. Returns how many
/// were claimed and the failure that stopped the batches, if any.
async fn claim_open(
    object: &UserClaim,
    org: &OrgHandle,
    emails: &BTreeSet<String>,
    latest: &BTreeMap<String, &ClaimView>,
    previous: &UserClaimStatus,
    ineligible: &mut BTreeMap<String, String>,
) -> (usize, Option<ReconcileError>) {
    let same_generation = previous.observed_generation == object.meta().generation;
    let mut claimed_now = 0usize;
    for batch in plan::to_claim(emails, latest, previous, same_generation) {
        let request = ClaimRequest {
            emails: batch,
            delayed: object.spec.mode == crate::api::user_claim::ClaimMode::Delayed,
            acknowledge_permanent: true,
        };
        match org.client.claim_users(&org.facts.org_id, &request, org.simulator).await {
            Ok(outcomes) => {
                for o in outcomes {
                    if o.outcome == "Ineligible" {
                        ineligible.insert(o.email.to_ascii_lowercase(), o.reason.unwrap_or_default());
                    } else {
                        ineligible.remove(&o.email.to_ascii_lowercase());
                        claimed_now += 1;
                    }
                }
            }
            Err(e) => return (claimed_now, Some(webex_err("claim users")(e))),
        }
    }
    (claimed_now, None)
}

/// What the revoke decision reads: the claim's emails, the latest claim of each, the org's
/// claim facts and Webex's now.
struct RevokeFacts<'a> {
    emails: &'a BTreeSet<String>,
    latest: &'a BTreeMap<String, &'a ClaimView>,
    info: &'a ClaimOrgInfo,
    now: Timestamp,
}

/// Runs `spec.revoke` (R-CLM-7, one user at a time): the Revoke condition to report, and a
/// retryable failure.
async fn revoke(
    ctx: &Context,
    object: &UserClaim,
    org: &OrgHandle,
    facts: RevokeFacts<'_>,
    previous: &UserClaimStatus,
) -> (Option<ConditionUpdate>, Option<ReconcileError>) {
    let RevokeFacts {
        emails,
        latest,
        info,
        now,
    } = facts;
    let revoked = |email: &str| {
        format!("the claim of {email} is revoked; the user is back in the previous organisation (R-CLM-7)")
    };
    match plan::revoke_plan(&object.spec, emails, latest, info, now) {
        RevokePlan::None => (None, None),
        RevokePlan::Done(email) => (
            Some(ConditionUpdate::new(
                REVOKE,
                true,
                ClaimReason::Revoked.into(),
                revoked(&email),
            )),
            None,
        ),
        RevokePlan::Refused { email, message, .. } => {
            let was = conditions::find(&previous.conditions, REVOKE).map(|c| c.message.as_str());
            if was != Some(message.as_str()) {
                ctx.event(
                    &object.object_ref(&()),
                    true,
                    ClaimReason::RevokeNotAllowed,
                    EventAction::RevokeClaim,
                    format!("cannot revoke {email}: {message}"),
                )
                .await;
            }
            let condition = ConditionUpdate::new(REVOKE, false, ClaimReason::RevokeNotAllowed.into(), message);
            (Some(condition), None)
        }
        RevokePlan::Send(email) => match org.client.revoke_claim(&org.facts.org_id, &email, org.simulator).await {
            Ok(_) => {
                let message = revoked(&email);
                ctx.event(
                    &object.object_ref(&()),
                    false,
                    EventReason::Revoked,
                    EventAction::RevokeClaim,
                    message.clone(),
                )
                .await;
                (
                    Some(ConditionUpdate::new(REVOKE, true, ClaimReason::Revoked.into(), message)),
                    None,
                )
            }
            Err(e) if !e.is_retryable() => {
                let message = format!("Webex refused to revoke the claim of {email}: {}", describe(&e));
                ctx.event(
                    &object.object_ref(&()),
                    true,
                    ClaimReason::RevokeNotAllowed,
                    EventAction::RevokeClaim,
                    message.clone(),
                )
                .await;
                let condition = ConditionUpdate::new(REVOKE, false, ClaimReason::RevokeNotAllowed.into(), message);
                (Some(condition), None)
            }
            Err(e) => (None, Some(webex_err("revoke a claim")(e))),
        },
    }
}

async fn announce_claimed(ctx: &Context, object: &UserClaim, claimed_now: usize) {
    let mode = if object.spec.mode == crate::api::user_claim::ClaimMode::Delayed {
        "delayed claim: users have 14 days to choose, R-CLM-3"
    } else {
        "immediate claim, R-CLM-2"
    };
    ctx.event(
        &object.object_ref(&()),
        false,
        EventReason::Claimed,
        EventAction::ClaimUsers,
        format!("claimed {claimed_now} user(s) ({mode}); claims are permanent (R-CLM-4)"),
    )
    .await;
}

fn directory_condition(
    info: &ClaimOrgInfo,
    users: &[crate::api::user_claim::ClaimedUserStatus],
) -> Vec<ConditionUpdate> {
    match plan::directory_sync_warning(info, users) {
        Some((reason, message)) => vec![ConditionUpdate::new(DIRECTORY_SYNC, true, reason.into(), message)],
        None => Vec::new(),
    }
}

/// A Warning Event per user newly marked inactive by a directory sync (R-CLM-11).
async fn inactive_events(
    ctx: &Context,
    object: &UserClaim,
    previous: &UserClaimStatus,
    users: &[crate::api::user_claim::ClaimedUserStatus],
) {
    let before: BTreeMap<&str, ClaimUserState> = previous.users.iter().map(|u| (u.email.as_str(), u.state)).collect();
    for u in users.iter().filter(|u| u.state == ClaimUserState::Inactive) {
        if before.get(u.email.as_str()) != Some(&ClaimUserState::Inactive) {
            ctx.event(
                &object.object_ref(&()),
                true,
                ClaimReason::ClaimedUsersInactive,
                EventAction::DirectorySync,
                format!(
                    "{} is not in the directory: a directory sync marked it Inactive; Webex deletes it at {} unless it is added to the directory (R-CLM-11)",
                    u.email,
                    u.deletes_at.as_deref().unwrap_or("30 days after the sync")
                ),
            )
            .await;
        }
    }
}

/// Creates the missing WebexUsers of claimed users: one list, then one create per missing
/// object. A user is named after the email; when an object of that name exists for another
/// email (two emails that differ only in punctuation map to one name), a second name with a
/// hash of the email is used. An object that already manages the email is left alone.
async fn ensure_webex_users(
    ctx: &Context,
    object: &UserClaim,
    namespace: &str,
    emails: &[String],
) -> Result<(), ReconcileError> {
    let api: Api<WebexUser> = Api::namespaced(ctx.client.clone(), namespace);
    let existing: BTreeSet<String> = api
        .list_metadata(&ListParams::default())
        .await
        .map_err(kube_err("list WebexUsers"))?
        .items
        .into_iter()
        .filter_map(|m| m.metadata.name)
        .collect();
    let owner = object.controller_owner_ref(&());
    let mut created = 0usize;
    // Names made in this round, with their email (no need to read them back).
    let mut made: BTreeMap<String, String> = BTreeMap::new();
    for email in emails {
        let candidates = [
            crate::api::naming::object_name_for_email(email),
            crate::api::naming::distinct_object_name_for_email(email),
        ];
        let mut chosen = None;
        let mut managed = false;
        for name in candidates {
            let holder = match made.get(&name) {
                Some(holder) => Some(holder.clone()),
                None if existing.contains(&name) => api
                    .get_opt(&name)
                    .await
                    .map_err(kube_err("read a WebexUser"))?
                    .map(|u| u.spec.email),
                None => None,
            };
            match holder {
                None => {
                    chosen = Some(name);
                    break;
                }
                // Already managed (by this claim or by someone else's object): nothing to do.
                Some(holder) if holder.eq_ignore_ascii_case(email) => {
                    managed = true;
                    break;
                }
                Some(_) => continue,
            }
        }
        let Some(name) = chosen else {
            if !managed {
                tracing::warn!(claim = %object.name_any(), "both names for a claimed user's WebexUser are taken by other emails; none created");
            }
            continue;
        };
        made.insert(name.clone(), email.clone());
        let mut spec = serde_json::json!({
            "orgRef": {"name": object.spec.org_ref.name},
            "email": email,
            // R-CLM-2: a claimed user is taken over as it is; claims are permanent, so deleting
            // the object never deletes the person.
            "existingUserPolicy": "Adopt",
            "deletionPolicy": "Orphan",
        });
        if !object.spec.licenses.is_empty()
            && let Some(map) = spec.as_object_mut()
        {
            map.insert(
                "licenses".into(),
                serde_json::to_value(&object.spec.licenses).unwrap_or_default(),
            );
        }
        let body = serde_json::json!({
            "apiVersion": "webex.operator.io/v1alpha1",
            "kind": "WebexUser",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {CLAIM_LABEL: object.name_any()},
                "ownerReferences": owner.iter().map(|o| serde_json::json!({
                    "apiVersion": o.api_version, "kind": o.kind, "name": o.name, "uid": o.uid,
                })).collect::<Vec<_>>(),
            },
            "spec": spec,
        });
        let user: WebexUser = serde_json::from_value(body)
            .map_err(|e| ReconcileError::InvalidSpec(format!("building the WebexUser of {email}: {e}")))?;
        match api.create(&PostParams::default(), &user).await {
            Ok(_) => created += 1,
            Err(kube::Error::Api(status)) if status.code == 409 => {}
            Err(e) => return Err(kube_err("create a WebexUser for a claimed user")(e)),
        }
    }
    if created > 0 {
        ctx.event(
            &object.object_ref(&()),
            false,
            EventReason::WebexUsersCreated,
            EventAction::CreateWebexUsers,
            format!(
                "created {created} WebexUser(s) for claimed users (labelled {CLAIM_LABEL}={})",
                object.name_any()
            ),
        )
        .await;
    }
    Ok(())
}

/// Deletes the WebexUsers this claim created for users who left the org (revoked, R-CLM-7;
/// deleted, R-CLM-11). Only objects with this claim's label *and* owner reference; they are
/// `deletionPolicy: Orphan` (and their person is gone anyway), so nothing happens in Webex.
async fn retire_webex_users(
    ctx: &Context,
    object: &UserClaim,
    namespace: &str,
    emails: &[String],
) -> Result<(), ReconcileError> {
    let api: Api<WebexUser> = Api::namespaced(ctx.client.clone(), namespace);
    let selector = format!("{CLAIM_LABEL}={}", object.name_any());
    let uid = object.uid();
    let wanted: BTreeSet<&str> = emails.iter().map(String::as_str).collect();
    let mine = api
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(kube_err("list the claim's WebexUsers"))?;
    let mut retired = 0usize;
    for user in mine.items {
        let owned = user.owner_references().iter().any(|o| Some(&o.uid) == uid.as_ref());
        if !owned || !wanted.contains(user.spec.email.to_ascii_lowercase().as_str()) {
            continue;
        }
        match api.delete(&user.name_any(), &Default::default()).await {
            Ok(_) => retired += 1,
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(e) => return Err(kube_err("delete the WebexUser of a revoked user")(e)),
        }
    }
    if retired > 0 {
        ctx.event(
            &object.object_ref(&()),
            false,
            EventReason::WebexUsersRetired,
            EventAction::DeleteWebexUsers,
            format!("deleted {retired} WebexUser(s) of users no longer in the org (revoked or deleted); nothing changes in Webex"),
        )
        .await;
    }
    Ok(())
}

fn describe(e: &WebexError) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    if let Some(tracking) = e.tracking_id()
        && !text.contains(tracking)
    {
        text.push_str(&format!(" (Webex trackingId {tracking})"));
    }
    text
}

fn describe_reconcile(error: &ReconcileError) -> String {
    match error {
        ReconcileError::Webex { action, source } => format!("{action}: {}", describe(source)),
        other => other.describe(),
    }
}

fn reason_of(error: &ReconcileError) -> ClaimReason {
    if error.is_retryable() {
        ClaimReason::WebexUnavailable
    } else {
        ClaimReason::WebexRejected
    }
}

/// A failed Webex call before anything was decided: reported, then retried with backoff (or
/// once per resync when Webex refused).
async fn fail(
    ctx: &Context,
    object: &UserClaim,
    previous: &UserClaimStatus,
    error: ReconcileError,
) -> Result<Action, ReconcileError> {
    let reason = reason_of(&error);
    let report = blocked(previous, reason, describe_reconcile(&error), Some(false));
    announce(ctx, object, previous, &report).await;
    write(ctx, object, previous, report).await?;
    if error.is_retryable() {
        return Err(error);
    }
    Ok(Action::requeue(ctx.options.resync))
}

/// The real backend: nothing can be claimed through the API; tell the admin what to do.
fn control_hub(object: &UserClaim, previous: &UserClaimStatus, emails: &BTreeSet<String>) -> Report {
    let message = plan::control_hub_instructions(&object.spec, emails);
    let mut report = blocked(previous, ClaimReason::ClaimNotInPublicApi, message, Some(true));
    if let Some(email) = object.spec.revoke.first() {
        let email = email.trim().to_ascii_lowercase();
        report.extra.push(ConditionUpdate::new(
            REVOKE,
            false,
            ClaimReason::RevokeInControlHub.into(),
            plan::revoke_in_control_hub(&email, previous),
        ));
    }
    report
}

fn blocked(status: &UserClaimStatus, reason: ClaimReason, message: String, synced: Option<bool>) -> Report {
    Report {
        status: status.clone(),
        ready: (false, reason, message),
        synced,
        extra: Vec::new(),
    }
}

/// An Event when the Ready reason changes (not on every reconcile).
async fn announce(ctx: &Context, object: &UserClaim, previous: &UserClaimStatus, report: &Report) {
    let (ready, reason, message) = &report.ready;
    let warning = !*ready && *reason != ClaimReason::Claiming && *reason != ClaimReason::DelayedClaim;
    reconciler::announce(ctx, object, previous, warning, *reason, message).await;
}

/// Writes the status with its conditions, unless nothing changed (steady state makes no
/// writes).
async fn write(
    ctx: &Context,
    object: &UserClaim,
    baseline: &UserClaimStatus,
    report: Report,
) -> Result<(), ReconcileError> {
    let (ready, reason, message) = report.ready;
    let mut status = report.status;
    // A cleared `spec.revoke` clears its condition; the others stay until updated.
    status
        .conditions
        .retain(|c| c.type_ != REVOKE || !object.spec.revoke.is_empty());
    let report = reconciler::Report::new(ready, reason.into(), message)
        .synced(report.synced)
        .with(report.extra);
    reconciler::write_status(ctx, object, baseline, status, report).await?;
    Ok(())
}
