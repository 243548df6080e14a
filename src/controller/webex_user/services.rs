//! Licence details, after the person and its licences match the spec (I/O; the decisions are in
//! `calling_settings`, `tracking_codes` and `contact_center_sync`):
//!
//! 1. Calling settings (R-USER-16), with the R-USER-11 remedy for a new user whose calling
//!    settings fail: remove the Calling licence and assign it again, once, then report.
//! 2. Meetings tracking codes (R-USER-8).
//! 3. Contact Center "Synchronise users" after the Contact Center licence changed (R-CC-6).
//! 4. Enterprise content management (R-USER-9), decided in `content_management`.
//!
//! Each managed setting is read at every reconcile (the periodic resync included), so drift in
//! them is found at reconcile time; the org-wide drift listing does not cover them.

use std::collections::BTreeMap;

use kube::{Resource, ResourceExt};

use crate::api::common::ManagementPolicy;
use crate::api::conditions::{self, ConditionUpdate};
use crate::api::webex_user::{WebexUser, WebexUserStatus};
use crate::controller::context::Context;
use crate::controller::error::{ReconcileError, webex_err};
use crate::controller::events::{EventAction, EventReason, Reason};
use crate::controller::org_registry::OrgHandle;
use crate::telemetry::metrics::{self, DriftField, DriftHandling};
use crate::webex::calling::CallingFeature;
use crate::webex::error::WebexError;
use crate::webex::model::Person;

use super::calling_settings::{self, SettingsFailure};
use super::contact_center_sync::{self, CONTACT_CENTER_SYNCED};
use super::content_management;
use super::plan::{UserReason, Verdict};
use super::tracking_codes;

/// How writes of this round are handled.
#[derive(Debug, Clone, Copy)]
pub struct Mode {
    /// `managementPolicy: ObserveOnly`: report, never write.
    pub observe_only: bool,
    /// The generation was already synced: a needed write is drift.
    pub already_synced: bool,
    /// `driftPolicy: ReportOnly` on the org.
    pub drift_report_only: bool,
}

impl Mode {
    pub fn of(user: &WebexUser, org: &OrgHandle, already_synced: bool) -> Self {
        let previous_reason = user
            .status
            .as_ref()
            .and_then(|s| conditions::find(&s.conditions, conditions::READY))
            .map(|c| c.reason.as_str());
        Self {
            observe_only: user.spec.management_policy == ManagementPolicy::ObserveOnly,
            already_synced: calling_settings::counts_as_drift(already_synced, previous_reason),
            drift_report_only: org.facts.drift_report_only,
        }
    }
}

/// Runs the four steps. `Some(verdict)` replaces the person's verdict (something blocks);
/// `server` follows the status writes made here.
pub async fn reconcile(
    ctx: &Context,
    user: &WebexUser,
    org: &OrgHandle,
    status: &mut WebexUserStatus,
    server: &mut WebexUserStatus,
    person: &Person,
    mode: Mode,
) -> Result<Option<Verdict>, ReconcileError> {
    if let Some(verdict) = calling(ctx, user, org, status, server, person, mode).await? {
        return Ok(Some(verdict));
    }
    if let Some(verdict) = tracking(ctx, user, org, person, mode).await? {
        return Ok(Some(verdict));
    }
    if !mode.observe_only {
        contact_center(ctx, user, org, status, person).await?;
    }
    content_management(ctx, user, org, status, person, mode).await
}

/// A write is held back (observe-only or report-only drift): the verdict that says so.
fn held_back(mode: Mode, what: &str) -> Option<Verdict> {
    if mode.observe_only {
        return Some(Verdict::Blocked {
            reason: UserReason::ObserveOnly,
            message: format!("observe-only: would {what}"),
            terminal: true,
        });
    }
    if mode.already_synced {
        let handling = if mode.drift_report_only {
            DriftHandling::Reported
        } else {
            DriftHandling::Corrected
        };
        metrics::drift_found(DriftField::Profile, handling);
        if mode.drift_report_only {
            return Some(Verdict::Blocked {
                reason: UserReason::DriftDetected,
                message: format!("the person was changed in Webex; would {what} (driftPolicy ReportOnly)"),
                terminal: false,
            });
        }
    }
    None
}

/// An error of the calling settings that R-USER-11 speaks of: Webex answered, and not with a
/// "try later" (429/423/408). A refused write (4xx on PUT) is the spec's fault and is not one.
fn settings_failure(error: &WebexError, writing: bool) -> bool {
    match error.status() {
        Some(408 | 423 | 429) | None => false,
        Some(s) if writing => s >= 500,
        Some(_) => true,
    }
}

/// What one pass over the calling settings did.
enum CallingPass {
    /// Everything holds (after the writes listed, if any).
    Done(Vec<(CallingFeature, serde_json::Value)>),
    /// Writes are needed but held back.
    Held(Verdict),
    /// The settings failed (R-USER-11).
    Failed(WebexError),
}

async fn calling_pass(
    org: &OrgHandle,
    person_id: &str,
    desired: &[(CallingFeature, serde_json::Value)],
    mode: Mode,
) -> Result<CallingPass, ReconcileError> {
    let mut observed = BTreeMap::new();
    for (feature, _) in desired {
        match org.client.get_calling_feature(person_id, *feature, org.simulator).await {
            Ok(value) => {
                observed.insert(*feature, value);
            }
            Err(e) if settings_failure(&e, false) => return Ok(CallingPass::Failed(e)),
            Err(e) => return Err(webex_err("read the calling settings")(e)),
        }
    }
    let writes = calling_settings::writes(desired, &observed);
    if writes.is_empty() {
        return Ok(CallingPass::Done(writes));
    }
    let what = format!("set the calling settings {}", calling_settings::describe(&writes));
    if let Some(verdict) = held_back(mode, &what) {
        return Ok(CallingPass::Held(verdict));
    }
    for (feature, body) in &writes {
        match org
            .client
            .put_calling_feature(person_id, *feature, body, org.simulator)
            .await
        {
            Ok(()) => {}
            Err(e) if settings_failure(&e, true) => return Ok(CallingPass::Failed(e)),
            Err(e) => return Err(webex_err("change the calling settings")(e)),
        }
    }
    Ok(CallingPass::Done(writes))
}

async fn calling(
    ctx: &Context,
    user: &WebexUser,
    org: &OrgHandle,
    status: &mut WebexUserStatus,
    server: &mut WebexUserStatus,
    person: &Person,
    mode: Mode,
) -> Result<Option<Verdict>, ReconcileError> {
    let desired = user
        .spec
        .calling_settings
        .as_ref()
        .map(|settings| calling_settings::desired(settings))
        .unwrap_or_default();
    let (desired, control_hub_only) = calling_settings::reachable(desired, org.simulator);
    report_control_hub_only(ctx, user, status, &control_hub_only).await;
    if desired.is_empty() {
        return Ok(None);
    }
    let Some(license_id) = calling_settings::calling_license(person, &org.facts).map(str::to_string) else {
        // Not a failure to retry: nothing can be set until the person has Calling.
        return Ok(Some(Verdict::Blocked {
            reason: UserReason::CallingLicenseRequired,
            message: "callingSettings need a Webex Calling licence: give the user one with spec.calling (R-USER-7, R-USER-16)".into(),
            terminal: false,
        }));
    };
    let reference = user.object_ref(&());
    let mut pass = calling_pass(org, &person.id, &desired, mode).await?;
    if let CallingPass::Failed(error) = &pass
        && calling_settings::on_failure(status) == SettingsFailure::ReassignLicense
        && !mode.observe_only
    {
        // R-USER-11: record the attempt first, so that a restart does not repeat it.
        status.calling_license_reassigned_at = Some(jiff::Timestamp::now().to_string());
        ctx.apply_status(user, status).await?;
        *server = status.clone();
        ctx.event(
            &reference,
            true,
            EventReason::CallingLicenseReassigned,
            EventAction::ReassignCallingLicense,
            format!(
                "the calling settings of new user {} fail ({}); removing the Calling licence and assigning it again (R-USER-11)",
                user.spec.email,
                error
            ),
        )
        .await;
        // A fresh read: the number, extension and location go with the licence and come back
        // with it; a listing may not carry them.
        let fresh = org
            .client
            .get_person(&person.id)
            .await
            .map_err(webex_err("re-read the person"))?
            .unwrap_or_else(|| person.clone());
        // Not a deprovisioning for the mass-deprovisioning guard: the licence comes back at once.
        let (remove, add) = calling_settings::reassignment(&fresh, &license_id);
        org.client
            .patch_user_licenses(&remove)
            .await
            .map_err(webex_err("remove the Calling licence (R-USER-11)"))?;
        org.client
            .patch_user_licenses(&add)
            .await
            .map_err(webex_err("assign the Calling licence again (R-USER-11)"))?;
        pass = calling_pass(org, &person.id, &desired, mode).await?;
        if let CallingPass::Done(_) = &pass {
            ctx.event(
                &reference,
                false,
                EventReason::CallingSettingsRecovered,
                EventAction::ReassignCallingLicense,
                "re-assigning the Calling licence cured the calling settings (R-USER-11)".into(),
            )
            .await;
        }
    }
    match pass {
        CallingPass::Done(writes) => {
            if !writes.is_empty() {
                let what = calling_settings::describe(&writes);
                if mode.already_synced {
                    ctx.event(
                        &reference,
                        true,
                        UserReason::DriftDetected,
                        EventAction::DetectDrift,
                        format!("the calling settings were changed in Webex; correcting: {what}"),
                    )
                    .await;
                }
                ctx.event(
                    &reference,
                    false,
                    EventReason::CallingSettingsChanged,
                    EventAction::SetCallingSettings,
                    format!("set the calling settings {what} (R-USER-16)"),
                )
                .await;
            }
            Ok(None)
        }
        CallingPass::Held(verdict) => Ok(Some(verdict)),
        CallingPass::Failed(error) => {
            let message = if status.calling_license_reassigned_at.is_some() {
                format!(
                    "the calling settings still fail after the Calling licence was removed and assigned again (R-USER-11); contact Cisco support: {error}"
                )
            } else {
                format!("the calling settings fail in Webex: {error}")
            };
            Ok(Some(Verdict::Blocked {
                reason: UserReason::CallingSettingsFailed,
                message,
                terminal: false,
            }))
        }
    }
}

/// Sets, changes or clears the condition naming the settings only Control Hub can set
/// (R-USER-16), with a Warning Event when they change. Ready is not affected: everything the API
/// reaches is still managed.
async fn report_control_hub_only(
    ctx: &Context,
    user: &WebexUser,
    status: &mut WebexUserStatus,
    features: &[CallingFeature],
) {
    let type_ = calling_settings::CALLING_SETTINGS_IN_CONTROL_HUB;
    if features.is_empty() {
        status.conditions.retain(|c| c.type_ != type_);
        return;
    }
    let message = calling_settings::control_hub_message(&user.spec.email, features);
    let update = ConditionUpdate::new(type_, true, "SetInControlHub", message);
    set_and_announce(ctx, user, status, update, EventAction::SetCallingSettings).await;
}

/// Sets `update` in the user's status and, when it says something new, announces it with a
/// Warning Event of the same reason (what the admin must do in Control Hub is said once).
async fn set_and_announce(
    ctx: &Context,
    user: &WebexUser,
    status: &mut WebexUserStatus,
    update: ConditionUpdate,
    action: EventAction,
) {
    if conditions::is_news(&status.conditions, &update) {
        ctx.event(
            &user.object_ref(&()),
            true,
            Reason::of_condition(&update),
            action,
            update.message.clone(),
        )
        .await;
    }
    status.conditions = conditions::merge(
        &status.conditions,
        &[update],
        user.meta().generation,
        jiff::Timestamp::now(),
    );
}

async fn tracking(
    ctx: &Context,
    user: &WebexUser,
    org: &OrgHandle,
    person: &Person,
    mode: Mode,
) -> Result<Option<Verdict>, ReconcileError> {
    let Some(wanted) = user.spec.tracking_codes.as_ref().filter(|w| !w.is_empty()) else {
        return Ok(None);
    };
    let mut observed = BTreeMap::new();
    for site in wanted {
        let held = org
            .client
            .get_user_tracking_codes(&site.site_url, &person.id)
            .await
            .map_err(webex_err("read the tracking codes"))?;
        observed.insert(site.site_url.to_ascii_lowercase(), held);
    }
    let writes = tracking_codes::writes(wanted, &observed, &person.id);
    if writes.is_empty() {
        return Ok(None);
    }
    let what = tracking_codes::describe(&writes);
    if let Some(verdict) = held_back(mode, &format!("set the tracking codes {what}")) {
        return Ok(Some(verdict));
    }
    for body in &writes {
        org.client
            .put_user_tracking_codes(body)
            .await
            .map_err(webex_err("set the tracking codes"))?;
    }
    ctx.event(
        &user.object_ref(&()),
        false,
        EventReason::TrackingCodesChanged,
        EventAction::SetTrackingCodes,
        format!("set the tracking codes {what} (R-USER-8)"),
    )
    .await;
    Ok(None)
}

async fn contact_center(
    ctx: &Context,
    user: &WebexUser,
    org: &OrgHandle,
    status: &mut WebexUserStatus,
    person: &Person,
) -> Result<(), ReconcileError> {
    let current = contact_center_sync::contact_center_license(person, &org.facts);
    let Some(synced) = contact_center_sync::sync_due(status.contact_center_synced.as_deref(), current.as_deref())
    else {
        return Ok(());
    };
    let reference = user.object_ref(&());
    let now = jiff::Timestamp::now();
    let generation = user.meta().generation;
    let update = if org.simulator {
        synchronise_once_covered(ctx, &user.spec.org_ref.name, org).await?;
        let message = format!(
            "synchronised users to Contact Center after the licence change to {} (R-CC-6)",
            current.as_deref().unwrap_or("none")
        );
        ctx.event(
            &reference,
            false,
            EventReason::ContactCenterSynchronized,
            EventAction::SynchronizeUsers,
            message.clone(),
        )
        .await;
        ConditionUpdate::new(CONTACT_CENTER_SYNCED, true, "Synchronized", message)
    } else {
        let message = contact_center_sync::control_hub_message(current.as_deref());
        ctx.event(
            &reference,
            true,
            EventReason::SynchronizeUsersInControlHub,
            EventAction::SynchronizeUsers,
            message.clone(),
        )
        .await;
        ConditionUpdate::new(CONTACT_CENTER_SYNCED, false, "SynchronizeUsersInControlHub", message)
    };
    status.conditions = conditions::merge(&status.conditions, &[update], generation, now);
    status.contact_center_synced = synced;
    tracing::debug!(name = %user.name_any(), "Contact Center sync handled");
    Ok(())
}

/// Waits until a Contact Center sync that began after this user's licence change has succeeded:
/// one sync covers every user of the org (R-CC-6), so a bulk change (a LicenseTemplate edit
/// touching thousands of users) costs a sync per [`SYNC_GATHER`], not one per user.
async fn synchronise_once_covered(ctx: &Context, org_name: &str, org: &OrgHandle) -> Result<(), ReconcileError> {
    let changed_before = std::time::Instant::now();
    let gate = ctx.orgs.contact_center_sync_gate(org_name);
    let mut last_began = gate.lock().await;
    if last_began.is_some_and(|began| began >= changed_before) {
        return Ok(());
    }
    // Let the licence changes of the same wave queue behind this one and share its sync.
    tokio::time::sleep(SYNC_GATHER).await;
    let began = std::time::Instant::now();
    org.client
        .synchronize_contact_center_users(&org.facts.org_id, true)
        .await
        .map_err(webex_err("synchronise users to Contact Center"))?;
    *last_began = Some(began);
    Ok(())
}

/// How long a sync waits for other users' licence changes to join it.
const SYNC_GATHER: std::time::Duration = std::time::Duration::from_millis(500);

/// Enterprise content management (R-USER-9): read the org's access and the person's option,
/// then satisfied / assign / blocked (`content_management::decide`). Against the real service
/// (no public API) a condition tells the admin what to choose in Control Hub, Ready unaffected.
async fn content_management(
    ctx: &Context,
    user: &WebexUser,
    org: &OrgHandle,
    status: &mut WebexUserStatus,
    person: &Person,
    mode: Mode,
) -> Result<Option<Verdict>, ReconcileError> {
    let Some(desired) = user.spec.content_management else {
        status.content_management = None;
        status.conditions = content_management::forget(&status.conditions);
        return Ok(None);
    };
    let reference = user.object_ref(&());
    let generation = user.meta().generation;
    let now = jiff::Timestamp::now();
    let org_config = match org
        .client
        .org_content_management(&org.facts.org_id, org.simulator)
        .await
    {
        Ok(config) => config,
        Err(WebexError::NotAvailableInPublicApi { .. }) => {
            let update = content_management::control_hub_condition(&user.spec.email, desired);
            set_and_announce(ctx, user, status, update, EventAction::AssignContentManagement).await;
            status.content_management = None;
            return Ok(None);
        }
        Err(e) => return Err(webex_err("read the org's enterprise content management")(e)),
    };
    let observed = org
        .client
        .person_content_management(&person.id, org.simulator)
        .await
        .map_err(webex_err("read the user's enterprise content management"))?;
    status.content_management = Some(content_management::status_of(&observed));
    let (update, verdict) = match content_management::decide(Some(desired), &org_config, &observed) {
        content_management::Decision::Satisfied => (content_management::satisfied_condition(&observed), None),
        content_management::Decision::Blocked { reason, message } => (
            content_management::blocked_condition(reason, &message),
            // Not terminal: the fix may be made in Control Hub, which no watch sees.
            Some(Verdict::Blocked {
                reason,
                message,
                terminal: false,
            }),
        ),
        content_management::Decision::Assign(platform) => {
            let previous_reason = user
                .status
                .as_ref()
                .and_then(|s| conditions::find(&s.conditions, conditions::READY))
                .map(|c| c.reason.as_str());
            // After this step blocked, the admin fixed the org: the write is work left over.
            let mode = Mode {
                already_synced: mode.already_synced && !content_management::was_blocked_here(previous_reason),
                ..mode
            };
            let name = content_management::spec_name(platform);
            if let Some(verdict) = held_back(mode, &format!("assign the content management {name}")) {
                return Ok(Some(verdict));
            }
            let after = org
                .client
                .set_person_content_management(&person.id, platform, org.simulator)
                .await
                .map_err(webex_err("assign the enterprise content management"))?;
            if mode.already_synced {
                ctx.event(
                    &reference,
                    true,
                    UserReason::DriftDetected,
                    EventAction::DetectDrift,
                    format!(
                        "the content management was changed in Webex to {}; correcting: {name}",
                        content_management::spec_name(observed.platform)
                    ),
                )
                .await;
            }
            ctx.event(
                &reference,
                false,
                EventReason::ContentManagementAssigned,
                EventAction::AssignContentManagement,
                format!("assigned the content management {name} (limited access, R-USER-9)"),
            )
            .await;
            status.content_management = Some(content_management::status_of(&after));
            (content_management::satisfied_condition(&after), None)
        }
    };
    status.conditions = conditions::merge(&status.conditions, &[update], generation, now);
    Ok(verdict)
}
