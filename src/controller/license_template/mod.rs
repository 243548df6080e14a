//! The LicenseTemplate reconciler (I/O): reports which WebexUsers a template applies to, the
//! Contact Center conflicts resolved for them, and warns when the opt-in `applyToExistingUsers`
//! will change existing users (R-TPL-2). The licences themselves are assigned by the WebexUser
//! reconciler, which merges the templates that apply to each user (`plan::effective_spec`); a
//! template change re-reconciles the users it selects through a watch (`controller::run`).

pub mod plan;
pub mod watch;

use std::sync::Arc;
use std::time::Duration;

use kube::ResourceExt;
use kube::runtime::controller::Action;
use kube::runtime::reflector::Store;
use tracing::Instrument;

use crate::api::license_template::{LicenseTemplate, LicenseTemplateStatus};
use crate::api::webex_user::WebexUser;
use crate::controller::context::Context;
use crate::controller::error::ReconcileError;
use crate::controller::events::{EventAction, EventReason};
use crate::controller::reconciler::{self, Reconciled, Report};
use crate::controller::shared;

/// Matched-user counts follow label and user changes at this pace, or the resync interval when
/// shorter (users are not watched a second time for this: the WebexUser cache is the
/// controller's largest).
const RECOUNT: Duration = Duration::from_secs(30);

/// Condition reasons of LicenseTemplate (closed set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
pub enum TemplateReason {
    /// The template is in force for the users it selects.
    Applied,
    /// The WebexOrg is missing or not ready.
    OrgNotReady,
    /// A licence of the template is not offered by the org (R-ORG-6).
    LicenseNotInOrg,
    /// The selector cannot be parsed.
    InvalidSelector,
}

/// What the template reconciler reads besides the shared context.
pub struct TemplateContext {
    pub ctx: Arc<Context>,
    pub users: Store<WebexUser>,
    pub templates: Store<LicenseTemplate>,
}

pub async fn reconcile(template: Arc<LicenseTemplate>, tctx: Arc<TemplateContext>) -> Result<Action, ReconcileError> {
    let span = reconciler::span_for(template.as_ref());
    reconcile_template(template, tctx).instrument(span).await
}

pub fn error_policy(template: Arc<LicenseTemplate>, error: &ReconcileError, tctx: Arc<TemplateContext>) -> Action {
    shared::error_policy(template.as_ref(), error, &tctx.ctx.backoff)
}

async fn reconcile_template(
    template: Arc<LicenseTemplate>,
    tctx: Arc<TemplateContext>,
) -> Result<Action, ReconcileError> {
    if template.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let ctx = &tctx.ctx;
    let namespace = template
        .namespace()
        .ok_or(ReconcileError::MissingMetadata("namespace"))?;
    let _ = tctx.users.wait_until_ready().await;
    let _ = tctx.templates.wait_until_ready().await;
    let users = tctx
        .users
        .state_filter(|u| u.namespace().as_deref() == Some(namespace.as_str()));
    let users: Vec<&WebexUser> = users.iter().map(Arc::as_ref).collect();
    let all = tctx
        .templates
        .state_filter(|t| t.namespace().as_deref() == Some(namespace.as_str()));
    // This template as reconciled, not the cache's copy (which may be older or missing).
    let mut all: Vec<&LicenseTemplate> = all
        .iter()
        .map(Arc::as_ref)
        .filter(|t| t.uid() != template.uid())
        .collect();
    all.push(template.as_ref());
    let tally = plan::tally(&template, &all, &users);
    let generation = template.metadata.generation;
    let previous = template.status.clone().unwrap_or_default();

    // R-TPL-2: the opt-in is an explicit choice; say once per generation what it will change.
    if template.spec.apply_to_existing_users && previous.last_applied_generation != generation {
        let note = format!(
            "applyToExistingUsers is on: the template will change the licences of {} existing user(s) of namespace {namespace}; applying a template to existing users can reset customised profiles (R-TPL-2)",
            tally.existing
        );
        ctx.event(
            &kube::Resource::object_ref(template.as_ref(), &()),
            true,
            EventReason::ApplyToExistingUsers,
            EventAction::ApplyTemplate,
            note,
        )
        .await;
    }

    let (ready, reason, message) = readiness(ctx, &template, &tally);
    let status = LicenseTemplateStatus {
        matched_users: Some(tally.matched),
        conflicts_resolved: Some(tally.conflicts_resolved),
        last_applied_generation: generation,
        ..previous.clone()
    };
    let report = Report::new(ready, reason.into(), message);
    reconciler::write_status(ctx, template.as_ref(), &previous, status, report).await?;
    Ok(Action::requeue(RECOUNT.min(ctx.options.resync)))
}

impl Reconciled for LicenseTemplate {
    type Status = LicenseTemplateStatus;
    fn current_status(&self) -> Option<&LicenseTemplateStatus> {
        self.status.as_ref()
    }
    fn conditions(status: &LicenseTemplateStatus) -> &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition] {
        &status.conditions
    }
    fn set_conditions(
        status: &mut LicenseTemplateStatus,
        conditions: Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition>,
    ) {
        status.conditions = conditions;
    }
    fn set_observed_generation(status: &mut LicenseTemplateStatus, generation: Option<i64>) {
        status.observed_generation = generation;
    }
}

/// The Ready condition: the selector parses, the org is ready and offers every licence.
fn readiness(ctx: &Context, template: &LicenseTemplate, tally: &plan::TemplateTally) -> (bool, TemplateReason, String) {
    let selector_ok = template
        .spec
        .selector
        .clone()
        .is_none_or(|s| kube::core::Selector::try_from(s).is_ok());
    if !selector_ok {
        return (
            false,
            TemplateReason::InvalidSelector,
            "the selector cannot be parsed".to_string(),
        );
    }
    let Some(org) = ctx.orgs.get(&template.spec.org_ref.name) else {
        return (
            false,
            TemplateReason::OrgNotReady,
            ReconcileError::OrgNotReady {
                org: template.spec.org_ref.name.clone(),
            }
            .to_string(),
        );
    };
    let missing: Vec<&str> = template
        .spec
        .licenses
        .iter()
        .filter(|l| crate::controller::webex_user::plan::pick_license(&org.facts, l).is_none())
        .map(|l| l.offer_code.as_str())
        .collect();
    if !missing.is_empty() {
        return (
            false,
            TemplateReason::LicenseNotInOrg,
            format!(
                "the org offers no licence with offer code {} (R-ORG-6)",
                missing.join(", ")
            ),
        );
    }
    (
        true,
        TemplateReason::Applied,
        format!(
            "applies to {} user(s) ({} existing), {} Contact Center conflict(s) resolved (R-CC-2)",
            tally.matched, tally.existing, tally.conflicts_resolved
        ),
    )
}
