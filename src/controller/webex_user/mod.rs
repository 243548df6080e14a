//! The WebexUser reconciler (I/O): observe the person in Webex, let `plan` decide, perform the
//! writes, report status, Events and conditions. Deletion runs the deletion policy through a
//! finalizer.

pub mod calling_settings;
pub mod contact_center_sync;
pub mod content_management;
pub mod failure;
pub mod plan;
pub mod services;
pub mod tracking_codes;

use std::sync::Arc;

use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};

use crate::api::LicenseTemplate;
use crate::api::conditions::{self, READY, SYNCED};
use crate::api::webex_user::{UserState, WebexUser, WebexUserSpec, WebexUserStatus};
use crate::controller::context::Context;
use crate::controller::error::{ReconcileError, webex_err};
use crate::controller::events::{EventAction, EventReason};
use crate::controller::guard::APPROVE_ANNOTATION;
use crate::controller::license_template::plan as template_plan;
use crate::controller::listing;
use crate::controller::org_registry::OrgHandle;
use crate::controller::reconciler::{self, Reconciled, Report};
use crate::controller::shared;
use crate::telemetry::metrics::{self, DriftField, DriftHandling};
use crate::webex::error::CreateConflict;
use crate::webex::model::Person;
use plan::{LicenseContext, UserAction, UserInputs, UserPlan, UserReason, Verdict};

/// Create, licences, roles and the final check; one more when a listing was not enough.
const ROUNDS: usize = 5;

pub async fn reconcile(user: Arc<WebexUser>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    // A few reconciles per org at once (`listing::RECONCILES_PER_ORG`); the others wait here, in
    // a small future: the reconcile's own is allocated (boxed) only once it runs.
    let _entered = ctx.listings.enter(&user.spec.org_ref.name).await;
    Box::pin(reconcile_object(user, ctx)).await
}

async fn reconcile_object(user: Arc<WebexUser>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    reconciler::reconcile_with_finalizer(&ctx, user, |user| apply(user, &ctx), |user| cleanup(user, &ctx)).await
}

impl Reconciled for WebexUser {
    type Status = WebexUserStatus;
    fn current_status(&self) -> Option<&WebexUserStatus> {
        self.status.as_ref()
    }
    fn conditions(status: &WebexUserStatus) -> &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition] {
        &status.conditions
    }
    fn set_conditions(
        status: &mut WebexUserStatus,
        conditions: Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition>,
    ) {
        status.conditions = conditions;
    }
    fn set_observed_generation(status: &mut WebexUserStatus, generation: Option<i64>) {
        status.observed_generation = generation;
    }
    fn set_stamp(status: &mut WebexUserStatus, at: Option<String>) {
        status.last_synced = at;
    }
}

pub fn error_policy(user: Arc<WebexUser>, error: &ReconcileError, ctx: Arc<Context>) -> Action {
    shared::error_policy(user.as_ref(), error, &ctx.backoff)
}

/// Whether the user waits for a free seat (`LicenseCapacityExhausted`).
pub fn waits_for_seat(user: &WebexUser) -> bool {
    user.status
        .as_ref()
        .and_then(|s| conditions::find(&s.conditions, READY))
        .is_some_and(|c| c.reason == <&str>::from(UserReason::LicenseCapacityExhausted))
}

/// Observes the person: from a listing of the org where one stands in for the read (true; see
/// `controller::listing`), else by the id in status, else by email (false).
async fn observe(ctx: &Context, user: &WebexUser, org: &OrgHandle) -> Result<(Option<Person>, bool), ReconcileError> {
    let status = user.status.clone().unwrap_or_default();
    // The caller has entered the org (`reconcile`): it counts as a reader.
    let org_name = &user.spec.org_ref.name;
    let key = match (&status.person_id, &status.create_requested_at) {
        (Some(id), _) => Some(listing::Key::Id(id)),
        (None, None) => Some(listing::Key::FirstCreate(&user.spec.email)),
        // A create was sent and its outcome is unknown: only a fresh read will do.
        (None, Some(_)) => None,
    };
    if let Some(key) = key {
        let last_synced = status.last_synced.as_deref().and_then(|t| t.parse().ok());
        let not_before = ctx.listings.not_before(&shared::object_key(user), last_synced);
        match ctx.listings.lookup(org_name, &org.client, key, not_before).await {
            Some(listing::Listed::Found(person)) => return Ok((Some(*person), true)),
            Some(listing::Listed::Absent) => return Ok((None, true)),
            None => {}
        }
    }
    Ok((read(user, org).await?, false))
}

/// Reads the person: by the id in status, else by email.
async fn read(user: &WebexUser, org: &OrgHandle) -> Result<Option<Person>, ReconcileError> {
    let status = user.status.clone().unwrap_or_default();
    if let Some(id) = &status.person_id
        && let Some(person) = org.client.get_person(id).await.map_err(webex_err("read the person"))?
    {
        return Ok(Some(person));
    }
    org.client
        .find_person_by_email(&user.spec.email)
        .await
        .map_err(webex_err("look the email up"))
}

async fn apply(user: Arc<WebexUser>, ctx: &Context) -> Result<Action, ReconcileError> {
    let namespace = user.namespace().ok_or(ReconcileError::MissingMetadata("namespace"))?;
    let previous = user.status.clone().unwrap_or_default();
    let org = reconciler::org_or_report(
        ctx,
        user.as_ref(),
        &user.spec.org_ref.name,
        UserReason::OrgNotReady.into(),
    )
    .await?;
    if let Some(verdict) = plan::precheck(&user.spec, &namespace, &org.facts) {
        if let Verdict::Blocked { reason, message, .. } = &verdict {
            announce_block(ctx, &user, &previous, *reason, message).await;
        }
        write_status(ctx, &user, &previous, &previous, &verdict, None).await?;
        return Ok(Action::await_change());
    }
    if let Some(wait) = plan::terminal_hold(
        &previous,
        user.meta().generation,
        jiff::Timestamp::now(),
        ctx.options.resync,
    ) {
        return Ok(Action::requeue(wait));
    }
    let mut status = previous.clone();
    let (mut person, mut listed) = match observe(ctx, &user, &org).await {
        Ok(p) => p,
        Err(error) => return fail(ctx, &user, &previous, &status, error).await,
    };
    // What the API server holds: status writes during the rounds (the create) move it.
    let mut server = previous.clone();
    // Each round performs the plan's writes and re-plans on what Webex answered: create, then
    // licences, then roles (R-USER-12), without re-reading in between.
    let mut final_plan: Option<UserPlan> = None;
    // The LicenseTemplates of the namespace (R-TPL-1..5), merged per round: adoption in the
    // first round makes the person an existing user.
    let templates = namespace_templates(ctx, &namespace).await?;
    let key = shared::object_key(user.as_ref());
    let licensing_for = |status: &WebexUserStatus, person: Option<&Person>| {
        effective_for(ctx, &user, &templates, &org, &key, status, person)
    };
    // Writes needed although this generation was already synced: someone changed the person
    // in Webex (drift). Report it, then correct it unless the org says ReportOnly. Writes that a
    // template change asks for (the recorded provenance differs) are not drift.
    let templates_moved = {
        let (_, licensing) = licensing_for(&previous, person.as_ref());
        !plan::provenance_recorded(&licensing, &previous)
    };
    let already_synced = previous.observed_generation == user.meta().generation
        && previous.person_id.is_some()
        && !templates_moved
        && conditions::is_true(&previous.conditions, SYNCED);
    let mut drift_checked = false;
    'rounds: for _round in 0..ROUNDS {
        let (spec, licensing) = licensing_for(&status, person.as_ref());
        let decided = plan::plan_with(
            UserInputs {
                spec: &spec,
                status: &status,
                namespace: &namespace,
                org: &org.facts,
                person: person.as_ref(),
            },
            &licensing,
        );
        if listed && !decided.actions.iter().all(additive) {
            // A write that replaces, removes or deletes is planned on a fresh read.
            listed = false;
            person = match read(&user, &org).await {
                Ok(p) => p,
                Err(error) => return fail(ctx, &user, &server, &status, error).await,
            };
            continue;
        }
        status.person_id = decided.person_id.clone().or(status.person_id.clone());
        status.adopted = decided.adopted.or(status.adopted);
        let writes: Vec<UserAction> = decided
            .actions
            .iter()
            .filter(|a| !matches!(a, UserAction::Adopt { .. }))
            .cloned()
            .collect();
        let check_drift = !drift_checked && already_synced && !writes.is_empty();
        drift_checked = true;
        if check_drift {
            let what = plan::describe_actions(&writes);
            let handling = if org.facts.drift_report_only {
                DriftHandling::Reported
            } else {
                DriftHandling::Corrected
            };
            for action in &writes {
                let field = match action {
                    UserAction::Create(_) => DriftField::Person,
                    UserAction::PatchLicenses(_) => DriftField::Licenses,
                    _ => DriftField::Profile,
                };
                metrics::drift_found(field, handling);
            }
            if org.facts.drift_report_only {
                let message = format!("the person was changed in Webex; would {what} (driftPolicy ReportOnly)");
                announce_block(ctx, &user, &previous, UserReason::DriftDetected, &message).await;
                let verdict = Verdict::Blocked {
                    reason: UserReason::DriftDetected,
                    message,
                    terminal: false,
                };
                write_status(ctx, &user, &server, &status, &verdict, Some(true)).await?;
                return Ok(Action::requeue(ctx.options.resync));
            }
            let note = format!("the person was changed in Webex; correcting: {what}");
            ctx.event(
                &user.object_ref(&()),
                true,
                UserReason::DriftDetected,
                EventAction::DetectDrift,
                note,
            )
            .await;
        }
        if decided.actions.is_empty() {
            final_plan = Some(decided);
            break;
        }
        for action in decided.actions.clone() {
            let writes_status = matches!(action, UserAction::Create(_));
            let outcome = perform(ctx, &user, &org, &mut status, &mut person, action).await;
            // Success or not (a write may apply and still fail), listings begun before now no
            // longer show this person as they are.
            ctx.listings.note_write(&shared::object_key(user.as_ref()));
            if writes_status {
                server = status.clone();
            }
            if let Err(error) = outcome {
                if exists_in_org(&error) {
                    // R-USER-3: the email belongs to a person of this org that the read before the
                    // create did not show (made meanwhile, e.g. moved in by a UserClaim). Our create
                    // made nothing, so its intent goes; the person is read and decided on now
                    // (adopted under `existingUserPolicy: Adopt`, refused otherwise).
                    ctx.listings.invalidate(&user.spec.org_ref.name);
                    status.create_requested_at = None;
                    match org.client.find_person_by_email(&user.spec.email).await {
                        Ok(Some(found)) => {
                            person = Some(found);
                            listed = false;
                            continue 'rounds;
                        }
                        // Not visible yet: report the conflict and retry.
                        Ok(None) => {}
                        Err(read) => {
                            return fail(ctx, &user, &server, &status, webex_err("look the email up")(read)).await;
                        }
                    }
                }
                let stale =
                    listed && matches!(&error, ReconcileError::Webex { source, .. } if source.status() == Some(404));
                let error = if stale {
                    // The person went away after the org was listed: read it afresh, soon.
                    ctx.listings.invalidate(&user.spec.org_ref.name);
                    ReconcileError::StaleListing {
                        cause: error.describe(),
                    }
                } else {
                    error
                };
                return fail(ctx, &user, &server, &status, error).await;
            }
        }
        status.effective_licenses = decided.effective_licenses.clone();
        status.admin_roles = decided.admin_roles.clone();
    }
    let Some(final_plan) = final_plan else {
        let error = ReconcileError::NotConverged { rounds: ROUNDS };
        return fail(ctx, &user, &server, &status, error).await;
    };
    if let Some(p) = &person {
        // Seats: what the person holds now; a signed-in holder's unit is consumed (R-USER-10).
        ctx.orgs.note_holdings(
            &user.spec.org_ref.name,
            &key,
            &p.licenses,
            final_plan.state == UserState::Active,
        );
    }
    // --- Licence details: calling settings, tracking codes, Contact Center sync (`services`) ---
    let mut verdict = final_plan.verdict.clone();
    if !matches!(verdict, Verdict::Blocked { .. })
        && let Some(p) = person.as_ref()
    {
        let mode = services::Mode::of(&user, &org, already_synced);
        match services::reconcile(ctx, &user, &org, &mut status, &mut server, p, mode).await {
            Ok(Some(v)) => verdict = v,
            Ok(None) => {}
            Err(error) => return fail(ctx, &user, &server, &status, error).await,
        }
    }
    // --- end of licence details ---
    status.state = Some(final_plan.state);
    if final_plan.effective_licenses != status.effective_licenses
        && !matches!(final_plan.verdict, Verdict::Blocked { .. })
    {
        status.effective_licenses = final_plan.effective_licenses.clone();
    }
    if !matches!(final_plan.verdict, Verdict::Blocked { .. }) {
        status.admin_roles = final_plan.admin_roles.clone();
    }
    if let Verdict::Blocked { reason, message, .. } = &verdict {
        announce_block(ctx, &user, &previous, *reason, message).await;
    }
    write_status(ctx, &user, &server, &status, &verdict, Some(true)).await?;
    Ok(match &verdict {
        Verdict::Ready => Action::requeue(ctx.options.resync),
        // First sign-ins are noticed by drift detection (one listing per org), not per user.
        Verdict::Waiting { .. } => Action::requeue(ctx.options.resync),
        Verdict::Blocked { terminal: true, .. } => Action::await_change(),
        Verdict::Blocked { terminal: false, .. } => Action::requeue(ctx.options.pending_poll),
    })
}

/// The LicenseTemplates of `namespace`, once the cache has listed them: an unlisted cache would
/// look like "no templates" and take template licences away, so the reconcile waits (bounded,
/// then retried with backoff, e.g. when RBAC does not let the controller list templates).
async fn namespace_templates(ctx: &Context, namespace: &str) -> Result<Vec<Arc<LicenseTemplate>>, ReconcileError> {
    let Some(store) = ctx.templates.get() else {
        return Ok(Vec::new());
    };
    let unreadable = ctx.invalid.in_namespace("LicenseTemplate", namespace);
    if !unreadable.is_empty() {
        return Err(ReconcileError::Unreadable {
            kind: "LicenseTemplate",
            names: unreadable.join(", "),
        });
    }
    match tokio::time::timeout(std::time::Duration::from_secs(10), store.wait_until_ready()).await {
        Ok(Ok(())) => Ok(store.state_filter(|t| t.namespace().as_deref() == Some(namespace))),
        _ => Err(ReconcileError::CacheNotSynced {
            kind: "LicenseTemplate",
        }),
    }
}

/// The spec the planner works on (templates merged, R-TPL-1..4) and the licence context:
/// provenance and the licences without a free seat for this user.
fn effective_for(
    ctx: &Context,
    user: &WebexUser,
    templates: &[Arc<LicenseTemplate>],
    org: &OrgHandle,
    key: &str,
    status: &WebexUserStatus,
    person: Option<&Person>,
) -> (WebexUserSpec, LicenseContext) {
    let adopted = plan::is_adopted(status, person);
    let grants = template_plan::grants_for(templates, user, adopted);
    let (spec, sources, _) = template_plan::effective_spec(&user.spec, &grants, &status.effective_licenses);
    let full = org
        .facts
        .licenses
        .iter()
        .filter(|l| ctx.orgs.free_seats(&user.spec.org_ref.name, l, org.read_at, key) < 1)
        .map(|l| l.id.clone())
        .collect();
    (spec, LicenseContext { sources, full })
}

fn exists_in_org(error: &ReconcileError) -> bool {
    matches!(error, ReconcileError::Webex { source, .. } if source.create_conflict() == Some(CreateConflict::ExistsInOrg))
}

/// A write that only adds (a person, licences), safe to plan on a listing of the org.
fn additive(action: &UserAction) -> bool {
    match action {
        UserAction::Create(_) | UserAction::Adopt { .. } => true,
        UserAction::PatchLicenses(body) => {
            body.site_urls.is_empty()
                && body
                    .licenses
                    .iter()
                    .all(|l| l.operation == crate::webex::model::LicenseOperation::Add)
        }
        _ => false,
    }
}

/// Performs one write and updates the local picture of the person and status.
async fn perform(
    ctx: &Context,
    user: &WebexUser,
    org: &OrgHandle,
    status: &mut WebexUserStatus,
    person: &mut Option<Person>,
    action: UserAction,
) -> Result<(), ReconcileError> {
    let reference = user.object_ref(&());
    if plan::is_deprovisioning(&action, person.as_ref()) {
        let approved = user.annotations().get(APPROVE_ANNOTATION).is_some_and(|v| v == "true");
        let key = shared::object_key(user);
        if let Err(held) = ctx
            .orgs
            .admit_deprovisioning(&user.spec.org_ref.name, &key, org.facts.guard, approved)
        {
            if held.newly_held {
                let org_ref = kube::runtime::reflector::ObjectRef::<crate::api::WebexOrg>::new(&user.spec.org_ref.name);
                let note = format!(
                    "holding {} of {key} ({} deprovisioning operations in the window, limit {}); approve with {APPROVE_ANNOTATION}=true",
                    plan::describe_actions(std::slice::from_ref(&action)),
                    held.done_in_window,
                    held.limit
                );
                ctx.event_about(
                    &org_ref.into(),
                    Some(reference.clone()),
                    true,
                    EventReason::DeprovisioningHeld,
                    EventAction::GuardDeprovisioning,
                    note,
                )
                .await;
            }
            return Err(ReconcileError::DeprovisioningHeld {
                done_in_window: held.done_in_window,
                limit: held.limit,
            });
        }
    }
    match action {
        UserAction::Create(body) => {
            // Record the intent first: after a crash between the create and the status write,
            // the person found by email is recognised as ours (design §7).
            status.create_requested_at = Some(jiff::Timestamp::now().to_string());
            ctx.apply_status(user, status).await?;
            let created = org
                .client
                .create_person(&body)
                .await
                .map_err(webex_err("create the person"))?;
            tracing::info!(email = %user.spec.email, person_id = %created.id, "created the person in Webex");
            ctx.event(
                &reference,
                false,
                EventReason::Created,
                EventAction::CreatePerson,
                format!("created {} in Webex (person {})", user.spec.email, created.id),
            )
            .await;
            status.person_id = Some(created.id.clone());
            status.adopted = Some(false);
            // The id now identifies the person; the intent must not make a later stranger "ours".
            status.create_requested_at = None;
            ctx.apply_status(user, status).await?;
            *person = Some(created);
        }
        UserAction::Adopt { person_id } => {
            ctx.event(
                &reference,
                false,
                EventReason::Adopted,
                EventAction::AdoptPerson,
                format!("adopted the existing person {person_id} with email {}", user.spec.email),
            )
            .await;
            status.person_id = Some(person_id);
            status.adopted = Some(true);
        }
        UserAction::PatchLicenses(body) => {
            // Calling properties (number, extension, location), a removal (of a Calling licence,
            // which takes the number away) and sites change more of the person than its licence
            // list, which the answer carries.
            // Reserve a seat for every licence added (R-USER-10: Webex draws the unit only at the
            // first sign-in). One taken meanwhile by another user is left out; the next round
            // sees it full and waits (LicenseCapacityExhausted).
            let mut body = body;
            body.licenses.retain(|l| {
                l.operation == crate::webex::model::LicenseOperation::Remove
                    || org.facts.licenses.iter().find(|o| o.id == l.id).is_none_or(|o| {
                        ctx.orgs
                            .reserve_seat(&user.spec.org_ref.name, o, org.read_at, &shared::object_key(user))
                    })
            });
            if body.licenses.is_empty() && body.site_urls.is_empty() {
                return Ok(());
            }
            let reread = !body.site_urls.is_empty()
                || body
                    .licenses
                    .iter()
                    .any(|l| l.properties.is_some() || l.operation == crate::webex::model::LicenseOperation::Remove);
            let outcome = org
                .client
                .patch_user_licenses(&body)
                .await
                .map_err(webex_err("change licences"))?;
            let summary = plan::describe_actions(&[UserAction::PatchLicenses(body)]);
            if let Some(p) = person.as_mut() {
                p.licenses = outcome.response.licenses.clone();
            }
            if outcome.partial {
                ctx.event(
                    &reference,
                    true,
                    EventReason::LicensesPartiallyApplied,
                    EventAction::PatchLicenses,
                    format!("Webex applied only part of the licence change ({summary}); retrying the rest"),
                )
                .await;
                return Err(ReconcileError::PartiallyApplied { what: "licence change" });
            }
            ctx.event(
                &reference,
                false,
                EventReason::LicensesChanged,
                EventAction::PatchLicenses,
                summary,
            )
            .await;
            // Only then re-read the person (a plain addition needs no second call).
            if reread && let Some(id) = status.person_id.clone() {
                *person = org
                    .client
                    .get_person(&id)
                    .await
                    .map_err(webex_err("re-read the person"))?;
            }
        }
        UserAction::UpdatePerson { person_id, body } => {
            let updated = org
                .client
                .update_person(&person_id, &body)
                .await
                .map_err(webex_err("update the person"))?;
            ctx.event(
                &reference,
                false,
                EventReason::Updated,
                EventAction::UpdatePerson,
                format!("updated names/roles of {}", user.spec.email),
            )
            .await;
            *person = Some(updated);
        }
        UserAction::DeletePerson { person_id } => {
            org.client
                .delete_person(&person_id)
                .await
                .map_err(webex_err("delete the person"))?;
            ctx.event(
                &reference,
                false,
                EventReason::Deleted,
                EventAction::DeletePerson,
                format!("deleted {} from Webex", user.spec.email),
            )
            .await;
            *person = None;
        }
    }
    Ok(())
}

/// Turns a failed step into status: the reason says which rule or failure, the message carries
/// the Webex tracking id. Retryable errors go back to the controller for backoff.
async fn fail(
    ctx: &Context,
    user: &WebexUser,
    baseline: &WebexUserStatus,
    status: &WebexUserStatus,
    error: ReconcileError,
) -> Result<Action, ReconcileError> {
    let mut status = status.clone();
    if exists_in_org(&error) {
        // A listing said the email was free: it is out of date.
        ctx.listings.invalidate(&user.spec.org_ref.name);
    }
    let (reason, terminal) = failure::reason(&error);
    let message = failure::message(&error, reason, &user.spec.email);
    if terminal
        && matches!(
            reason,
            UserReason::ExistsInOtherOrg | UserReason::TrialOrgOwnsEmail | UserReason::OrgUsesDirectorySync
        )
    {
        // The create was refused: nothing was made, so nothing found by email later is ours.
        status.create_requested_at = None;
    }
    let previous = user.status.clone().unwrap_or_default();
    announce_block(ctx, user, &previous, reason, &message).await;
    let verdict = Verdict::Blocked {
        reason,
        message,
        terminal,
    };
    write_status(ctx, user, baseline, &status, &verdict, Some(false)).await?;
    if terminal {
        Ok(Action::await_change())
    } else {
        Err(error)
    }
}

/// A Warning Event when the object becomes blocked for a new reason (not on every retry).
async fn announce_block(
    ctx: &Context,
    user: &WebexUser,
    previous: &WebexUserStatus,
    reason: UserReason,
    message: &str,
) {
    reconciler::announce(ctx, user, previous, true, reason, message).await;
}

async fn cleanup(user: Arc<WebexUser>, ctx: &Context) -> Result<Action, ReconcileError> {
    let status = user.status.clone().unwrap_or_default();
    if status.person_id.is_none() {
        return Ok(Action::await_change()); // never linked to a person: nothing to undo
    }
    let org = ctx
        .orgs
        .get(&user.spec.org_ref.name)
        .ok_or_else(|| ReconcileError::OrgNotReady {
            org: user.spec.org_ref.name.clone(),
        })?;
    let person = match &status.person_id {
        Some(id) => org.client.get_person(id).await.map_err(webex_err("read the person"))?,
        None => None,
    };
    let mut local_status = status.clone();
    let mut person = person;
    for action in plan::plan_deletion(&user.spec, &status, person.clone().as_ref()) {
        if let Err(error) = perform(ctx, &user, &org, &mut local_status, &mut person, action).await {
            // Say why in status, and keep the finalizer whatever the error: the person must not
            // be forgotten half-deprovisioned. `fail` hands retryable errors back.
            let message = error.describe();
            return Err(match fail(ctx, &user, &status, &local_status, error).await {
                Err(retryable) => retryable,
                Ok(_) => ReconcileError::DeletionBlocked(message),
            });
        }
    }
    ctx.orgs
        .release_seats(&user.spec.org_ref.name, &shared::object_key(user.as_ref()));
    Ok(Action::await_change())
}

/// Writes `status` with the verdict's conditions (the shared writer: no write when nothing but a
/// time would change).
async fn write_status(
    ctx: &Context,
    user: &WebexUser,
    baseline: &WebexUserStatus,
    status: &WebexUserStatus,
    verdict: &Verdict,
    synced: Option<bool>,
) -> Result<(), ReconcileError> {
    let report = match verdict {
        Verdict::Ready => Report::new(
            true,
            UserReason::Active.into(),
            format!("{} is active and matches the spec", user.spec.email),
        ),
        Verdict::Waiting { reason, message } | Verdict::Blocked { reason, message, .. } => {
            Report::new(false, (*reason).into(), message.clone())
        }
    };
    reconciler::write_status(ctx, user, baseline, status.clone(), report.synced(synced)).await?;
    Ok(())
}
