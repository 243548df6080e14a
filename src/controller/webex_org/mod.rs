//! The WebexOrg reconciler: reads the token Secret, checks it, discovers the org, applies its
//! settings (R-ORG-1), reports directory sync (R-ORG-2) and enterprise content management
//! (R-USER-9, simulator only), and publishes what it learned in the org registry for the other
//! reconcilers.

pub mod plan;

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};
use serde_json::json;
use tracing::Instrument;

use crate::api::conditions::ConditionUpdate;
use crate::api::webex_org::{ApiBudgetStatus, Backend, WebexOrg, WebexOrgStatus};
use crate::controller::context::Context;
use crate::controller::error::{ReconcileError, kube_err, webex_err};
use crate::controller::events::{EventAction, EventReason};
use crate::controller::org_registry::OrgHandle;
use crate::controller::reconciler::{self, Reconciled, Report};
use crate::controller::shared;
use crate::webex::client::{Token, WebexClient};
use crate::webex::error::WebexError;
use crate::webex::model::SETTING_ADMIN_INVITE_EMAILS;
use plan::{OrgAction, OrgObservation};

/// How often a healthy org is re-read (licence units change as users sign in).
const REFRESH: Duration = Duration::from_secs(120);

/// Condition reasons of WebexOrg (closed set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
pub enum OrgReason {
    OrgReady,
    TokenSecretMissing,
    TokenInvalid,
    InvalidBaseUrl,
    WebexUnavailable,
    WebexRejected,
}

pub async fn reconcile(org: Arc<WebexOrg>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    let span = reconciler::span_for(org.as_ref());
    reconcile_org(org, ctx).instrument(span).await
}

async fn reconcile_org(org: Arc<WebexOrg>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    let name = org.name_any();
    let outcome = discover(&org, &ctx).await;
    let previous = org.status_or_default();
    let (status, report, result) = match outcome {
        Ok((observation, handle)) => {
            let facts = handle.facts.clone();
            let read_at = handle.read_at;
            let handle_budget = handle.client.budget().clone();
            ctx.orgs.insert(&name, handle);
            let status = WebexOrgStatus {
                org_id: Some(facts.org_id.clone()),
                directory_sync: Some(plan::directory_sync_label(facts.directory_sync).to_string()),
                automatic_activation_emails: observation.activation_emails,
                content_management: plan::content_management_status(&observation),
                licenses: plan::license_status(&facts.licenses, &ctx.orgs.reserved_seats(&name, read_at)),
                api_budget: Some(budget_status(&handle_budget)),
                ..previous.clone()
            };
            let report = Report::new(
                true,
                OrgReason::OrgReady.into(),
                format!("token valid for org {}", facts.org_id),
            )
            .synced(Some(true))
            .with([held_condition(&ctx.orgs.held_deprovisioning(&name))]);
            (status, report, Ok(Action::requeue(REFRESH)))
        }
        Err(error) => {
            let reason = reason_for(&error);
            tracing::warn!(org = %name, reason = <&str>::from(reason), error = %error.describe(), "WebexOrg not ready");
            let report = Report::new(false, reason.into(), error.describe()).synced(Some(false));
            (previous.clone(), report, Err(error))
        }
    };
    // `lastUpdated` moves only with the rest of the status: an unchanged org makes no write.
    reconciler::write_status(ctx.as_ref(), org.as_ref(), &previous, status, report).await?;
    match result {
        // A terminal error still re-checks now and then: the Secret may be fixed without the
        // WebexOrg changing (Secrets are not watched).
        Err(e) if !e.is_retryable() => Ok(Action::requeue(REFRESH)),
        other => other,
    }
}

impl Reconciled for WebexOrg {
    type Status = WebexOrgStatus;
    fn current_status(&self) -> Option<&WebexOrgStatus> {
        self.status.as_ref()
    }
    fn conditions(status: &WebexOrgStatus) -> &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition] {
        &status.conditions
    }
    fn set_conditions(
        status: &mut WebexOrgStatus,
        conditions: Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition>,
    ) {
        status.conditions = conditions;
    }
    fn set_observed_generation(status: &mut WebexOrgStatus, generation: Option<i64>) {
        status.observed_generation = generation;
    }
    fn set_stamp(status: &mut WebexOrgStatus, at: Option<String>) {
        status.last_updated = at;
    }
}

pub fn error_policy(org: Arc<WebexOrg>, error: &ReconcileError, ctx: Arc<Context>) -> Action {
    shared::error_policy(org.as_ref(), error, &ctx.backoff)
}

/// `DeprovisioningHeld`: which WebexUsers the mass-deprovisioning guard holds (design §7).
fn held_condition(held: &[String]) -> ConditionUpdate {
    if held.is_empty() {
        return ConditionUpdate::new(DEPROVISIONING_HELD, false, "NothingHeld", "no deprovisioning is held");
    }
    let shown: Vec<&str> = held.iter().take(20).map(String::as_str).collect();
    let more = held.len().saturating_sub(shown.len());
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    ConditionUpdate::new(
        DEPROVISIONING_HELD,
        true,
        "DeprovisioningHeld",
        format!(
            "the mass-deprovisioning guard holds {} object(s): {}{tail}; approve each with the annotation webex.operator.io/approve-deprovisioning=true",
            held.len(),
            shown.join(", ")
        ),
    )
}

/// Condition type of the mass-deprovisioning guard.
pub const DEPROVISIONING_HELD: &str = "DeprovisioningHeld";

fn budget_status(budget: &crate::webex::budget::Budget) -> ApiBudgetStatus {
    let snap = budget.snapshot();
    // Rounded so that tiny recoveries do not rewrite the status at every refresh.
    let round = |x: f64| (x * 10.0).round() / 10.0;
    ApiBudgetStatus {
        configured_requests_per_second: round(snap.configured_rate),
        current_requests_per_second: round(snap.current_rate),
        throttled_total: snap.throttled_total,
        waited_total: snap.waited_total,
    }
}

fn reason_for(error: &ReconcileError) -> OrgReason {
    match error {
        ReconcileError::TokenSecretMissing(_) => OrgReason::TokenSecretMissing,
        ReconcileError::Webex {
            source: WebexError::InvalidBaseUrl { .. },
            ..
        } => OrgReason::InvalidBaseUrl,
        ReconcileError::Webex { source, .. } if matches!(source.status(), Some(401 | 403)) => OrgReason::TokenInvalid,
        ReconcileError::Webex { source, .. } if source.is_retryable() => OrgReason::WebexUnavailable,
        _ => OrgReason::WebexRejected,
    }
}

async fn discover(org: &WebexOrg, ctx: &Context) -> Result<(OrgObservation, OrgHandle), ReconcileError> {
    let token = read_token(org, ctx).await?;
    let budget = ctx.orgs.budget_for(&org.name_any(), plan::budget_config(&org.spec));
    let client = WebexClient::new(&org.spec.api_base_url, token)
        .map_err(webex_err("build the Webex client"))?
        .with_budget(budget);
    let me = client.me().await.map_err(webex_err("check the token"))?;
    let org_id = me
        .org_id
        .clone()
        .ok_or_else(|| ReconcileError::InvalidSpec("the token's person has no orgId".into()))?;
    let licenses = client.list_licenses().await.map_err(webex_err("list licences"))?;
    let roles = client.list_roles().await.map_err(webex_err("list roles"))?;
    let activation_emails = client
        .get_org_setting(&org_id, SETTING_ADMIN_INVITE_EMAILS)
        .await
        .map_err(webex_err("read the activation email setting"))?
        .value
        .as_bool();
    let directory_sync_reported = match client
        .directory_sync(&org_id, org.spec.backend == Backend::Simulator)
        .await
    {
        Ok(v) => Some(v),
        Err(WebexError::NotAvailableInPublicApi { .. }) => None,
        Err(e) => return Err(webex_err("read the directory-sync status")(e)),
    };
    // R-USER-9: only the simulator tells; the real service has no API for it.
    let content_management = match client
        .org_content_management(&org_id, org.spec.backend == Backend::Simulator)
        .await
    {
        Ok(v) => Some(v),
        Err(WebexError::NotAvailableInPublicApi { .. }) => None,
        Err(e) => return Err(webex_err("read the enterprise content management")(e)),
    };
    let mut observation = OrgObservation {
        org_id,
        licenses,
        roles,
        activation_emails,
        directory_sync_reported,
        content_management,
    };
    for action in plan::plan(&org.spec, &observation) {
        match action {
            OrgAction::SetActivationEmails(value) => {
                let setting = client
                    .set_org_setting(&observation.org_id, SETTING_ADMIN_INVITE_EMAILS, json!(value))
                    .await
                    .map_err(webex_err("set automatic activation emails"))?;
                observation.activation_emails = setting.value.as_bool();
                let reference = org.object_ref(&());
                ctx.event(
                    &reference,
                    false,
                    EventReason::ActivationEmailsSet,
                    EventAction::SetOrgSetting,
                    format!("automatic activation emails set to {value} (R-ORG-1)"),
                )
                .await;
            }
        }
    }
    let facts = Arc::new(plan::facts(&org.spec, &observation));
    let handle = OrgHandle {
        client,
        facts,
        generation: org.meta().generation,
        read_at: std::time::Instant::now(),
        simulator: org.spec.backend == Backend::Simulator,
    };
    Ok((observation, handle))
}

async fn read_token(org: &WebexOrg, ctx: &Context) -> Result<Token, ReconcileError> {
    let r = &org.spec.token_secret_ref;
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &r.namespace);
    let secret = secrets
        .get_opt(&r.name)
        .await
        .map_err(kube_err("read the token Secret"))?
        .ok_or_else(|| ReconcileError::TokenSecretMissing(format!("token Secret {}/{}", r.namespace, r.name)))?;
    let bytes = secret
        .data
        .as_ref()
        .and_then(|d| d.get(&r.key))
        .map(|b| b.0.clone())
        .or_else(|| {
            secret
                .string_data
                .as_ref()
                .and_then(|d| d.get(&r.key))
                .map(|s| s.clone().into_bytes())
        })
        .ok_or_else(|| {
            ReconcileError::TokenSecretMissing(format!("key {:?} in token Secret {}/{}", r.key, r.namespace, r.name))
        })?;
    let token = String::from_utf8(bytes)
        .map_err(|_| ReconcileError::InvalidSpec(format!("token in Secret {}/{} is not UTF-8", r.namespace, r.name)))?;
    Ok(Token::new(token))
}
