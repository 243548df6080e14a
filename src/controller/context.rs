//! State shared by every reconcile: the kube client, the Event recorder, the org registry and
//! the backoff table.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::ObjectReference;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use serde::Serialize;

use super::error::{ReconcileError, kube_err};

use super::backoff::Backoff;
use super::events::{EventAction, EventNote, EventPublisher, Reason};
use super::org_registry::OrgRegistry;

/// Field manager for everything the controller writes.
pub const MANAGER: &str = "webex-operator";

pub struct Context {
    pub client: kube::Client,
    /// One publisher for all reconciles, so repeated Events aggregate (style-anchors 6).
    pub events: EventPublisher,
    pub orgs: Arc<OrgRegistry>,
    /// Listings of people that stand in for reads one by one (cold starts, bulk changes).
    pub listings: super::listing::Listings,
    pub backoff: Backoff,
    pub options: RunOptions,
    /// The LicenseTemplates cache, set by `run` before the controllers start; the WebexUser
    /// reconciler merges the templates that apply to each user.
    pub templates: std::sync::OnceLock<kube::runtime::reflector::Store<crate::api::LicenseTemplate>>,
    /// Objects the watches could not read (`guarded_watch`).
    pub invalid: super::guarded_watch::InvalidObjects,
}

/// Timing knobs of the controllers.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// How often an object waiting on something outside the operator (first sign-in, a
    /// missing org) is checked again.
    pub pending_poll: Duration,
    /// How often a Ready object is compared with Webex again, one GET each (drift detection
    /// by pages does the routine checking; this is the safety net).
    pub resync: Duration,
    /// How often each org's people are listed and compared (orgs may set their own).
    pub drift_interval: Duration,
    /// Identity of this replica in Events.
    pub instance: Option<String>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            pending_poll: Duration::from_secs(60),
            resync: Duration::from_secs(3600),
            drift_interval: Duration::from_secs(300),
            instance: None,
        }
    }
}

impl Context {
    pub fn new(client: kube::Client, options: RunOptions) -> Self {
        Self {
            events: EventPublisher::new(client.clone(), MANAGER, options.instance.clone()),
            client,
            orgs: Arc::default(),
            listings: Default::default(),
            backoff: Backoff::default(),
            options,
            templates: std::sync::OnceLock::new(),
            invalid: Default::default(),
        }
    }

    /// Publishes an Event; failures are logged, never fatal (Events are best effort).
    pub async fn event(
        &self,
        reference: &ObjectReference,
        warning: bool,
        reason: impl Into<Reason>,
        action: EventAction,
        note: String,
    ) {
        self.event_about(reference, None, warning, reason, action, note).await;
    }

    /// An Event on `reference` about another object (`related`): Events with the same reason on
    /// one object aggregate into a series unless their related objects differ.
    pub async fn event_about(
        &self,
        reference: &ObjectReference,
        related: Option<ObjectReference>,
        warning: bool,
        reason: impl Into<Reason>,
        action: EventAction,
        note: String,
    ) {
        let reason = reason.into().as_str();
        let event = EventNote {
            warning,
            reason,
            action: action.into(),
            note: crate::api::conditions::truncate(&note, 1024),
            related,
        };
        if let Err(error) = self.events.publish(reference, event).await {
            tracing::warn!(%error, reason, "could not publish Event");
        }
    }

    /// Writes the status subresource of `object` by server-side apply. `force`: the status
    /// belongs to this controller alone.
    pub async fn apply_status<K>(&self, object: &K, status: &impl Serialize) -> Result<(), ReconcileError>
    where
        K: Resource<DynamicType = ()>,
    {
        let resource = ApiResource::erase::<K>(&());
        let api: Api<DynamicObject> = match object.namespace() {
            Some(ns) => Api::namespaced_with(self.client.clone(), &ns, &resource),
            None => Api::all_with(self.client.clone(), &resource),
        };
        let patch = serde_json::json!({ "apiVersion": resource.api_version, "kind": resource.kind, "status": status });
        let params = PatchParams::apply(&format!("{MANAGER}/status")).force();
        api.patch_status(&object.name_any(), &params, &Patch::Apply(&patch))
            .await
            .map_err(kube_err("write status"))?;
        Ok(())
    }
}
