//! Publishing Kubernetes Events (events.k8s.io/v1) with series aggregation, like kube's
//! `Recorder`, but remembering only what a repeat needs.
//!
//! kube's `Recorder` keeps every published Event whole for six minutes and sweeps the whole map
//! on every publish; at 10,000 users (two or three Events each on a cold start) that was tens of
//! MiB and a quadratic sweep (issue 8). Here a repeat is recognised by a 64-bit key and costs a
//! name, two timestamps and a count; the sweep runs at most every `SWEEP_EVERY`.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::{Event as K8sEvent, EventSeries};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams, PostParams};
use tokio::sync::Mutex;

/// How long a repeat still joins the series of the first Event (kube's and client-go's value).
const SERIES_TTL: Duration = Duration::from_secs(6 * 60);
const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// Reasons of the Events the controller records besides the condition reasons (an Event that
/// announces a new Ready reason carries the kind's reason: [`Reason`] takes both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
pub enum EventReason {
    ActivationEmailsSet,
    Adopted,
    ApplyToExistingUsers,
    CallingLicenseReassigned,
    CallingSettingsChanged,
    CallingSettingsRecovered,
    Claimed,
    ContactCenterSynchronized,
    ContentManagementAssigned,
    Created,
    Deleted,
    DeprovisioningHeld,
    InvalidObject,
    Invited,
    LicensesChanged,
    LicensesPartiallyApplied,
    Orphaned,
    Reinvited,
    RemovalBlocked,
    Removed,
    Revoked,
    SynchronizeUsersInControlHub,
    TrackingCodesChanged,
    Updated,
    WebexUsersCreated,
    WebexUsersRetired,
}

/// What the controller was doing when it recorded an Event (the Event's `action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
pub enum EventAction {
    AdoptExternalUser,
    AdoptPerson,
    ApplyTemplate,
    AssignContentManagement,
    AssignLicenses,
    ClaimUsers,
    CreatePerson,
    CreateWebexUsers,
    Delete,
    DeletePerson,
    DeleteWebexUsers,
    DetectDrift,
    DirectorySync,
    GuardDeprovisioning,
    PatchLicenses,
    Read,
    ReassignCallingLicense,
    Reconcile,
    RemoveLicenses,
    RevokeClaim,
    SetCallingSettings,
    SetOrgSetting,
    SetTrackingCodes,
    SynchronizeUsers,
    UpdatePerson,
}

/// The reason of one Event: an [`EventReason`] or a kind's condition reason. No free text: the
/// reasons are a closed set (they are what `kubectl get events` filters on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reason(&'static str);

impl Reason {
    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// The reason of a condition being set (its `ConditionUpdate::reason`, itself from a closed
    /// set), for the Event that announces it.
    pub fn of_condition(update: &crate::api::conditions::ConditionUpdate) -> Self {
        Self(update.reason)
    }
}

macro_rules! reasons_from {
    ($($ty:ty),+ $(,)?) => {
        $(impl From<$ty> for Reason {
            fn from(reason: $ty) -> Self {
                Self(reason.into())
            }
        })+
    };
}
reasons_from!(
    EventReason,
    crate::controller::webex_user::plan::UserReason,
    crate::controller::external_user::plan::ExternalReason,
    crate::controller::user_claim::plan::ClaimReason,
    crate::controller::webex_org::OrgReason,
    crate::controller::license_template::TemplateReason,
);

/// What one Event says.
#[derive(Debug, Clone)]
pub struct EventNote<'a> {
    pub warning: bool,
    pub reason: &'a str,
    pub action: &'a str,
    pub note: String,
    /// Another object the Event is about; Events with different related objects never merge.
    pub related: Option<ObjectReference>,
}

/// The part of a published Event a repeat needs.
#[derive(Debug, Clone, PartialEq)]
struct Series {
    name: String,
    count: i32,
    last_seen: Instant,
}

pub struct EventPublisher {
    client: kube::Client,
    controller: String,
    instance: String,
    series: Mutex<SeriesTable>,
}

#[derive(Default)]
struct SeriesTable {
    entries: HashMap<u64, Series>,
    last_sweep: Option<Instant>,
}

impl SeriesTable {
    /// Drops series older than the TTL, at most once per `SWEEP_EVERY`.
    fn sweep(&mut self, now: Instant) {
        if self.last_sweep.is_some_and(|at| now.duration_since(at) < SWEEP_EVERY) {
            return;
        }
        self.last_sweep = Some(now);
        self.entries.retain(|_, s| now.duration_since(s.last_seen) < SERIES_TTL);
    }

    /// The count the next Event of `key` carries: `None` for a new Event, `Some(n)` (n >= 2) for
    /// a repeat of the live series `name`.
    fn repeat_of(&self, key: u64, now: Instant) -> Option<(String, i32)> {
        self.entries
            .get(&key)
            .filter(|s| now.duration_since(s.last_seen) < SERIES_TTL)
            .map(|s| (s.name.clone(), s.count + 1))
    }
}

/// The identity of a series: same object, type, reason, action, reporter and related object
/// (the note is not part of it, as in client-go: a repeat keeps the first note).
fn series_key(reference: &ObjectReference, event: &EventNote<'_>) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (
        &reference.uid,
        &reference.namespace,
        &reference.name,
        &reference.kind,
        event.warning,
        event.reason,
        event.action,
    )
        .hash(&mut hasher);
    if let Some(related) = &event.related {
        (&related.uid, &related.namespace, &related.name, &related.kind).hash(&mut hasher);
    }
    hasher.finish()
}

impl EventPublisher {
    pub fn new(client: kube::Client, controller: &str, instance: Option<String>) -> Self {
        Self {
            client,
            controller: controller.to_string(),
            instance: instance.unwrap_or_else(|| controller.to_string()),
            series: Mutex::default(),
        }
    }

    /// Creates the Event, or bumps the series of an identical one published within the TTL.
    pub async fn publish(&self, reference: &ObjectReference, event: EventNote<'_>) -> Result<(), kube::Error> {
        let key = series_key(reference, &event);
        let now = Instant::now();
        let repeat = {
            let mut table = self.series.lock().await;
            table.sweep(now);
            table.repeat_of(key, now)
        };
        let namespace = reference.namespace.as_deref().unwrap_or("default");
        let api: Api<K8sEvent> = Api::namespaced(self.client.clone(), namespace);
        let stamp = Timestamp::now();
        let (name, count) = match repeat {
            Some((name, count)) => {
                let patch = serde_json::json!({
                    "series": EventSeries { count, last_observed_time: MicroTime(stamp) },
                });
                match api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch)).await {
                    Ok(_) => (name, count),
                    // The Event expired in the apiserver (its TTL is shorter than ours when
                    // tuned down): start a new series rather than lose the Event.
                    Err(kube::Error::Api(status)) if status.code == 404 => {
                        let created = self.create(&api, reference, &event, stamp).await?;
                        (created, 1)
                    }
                    Err(error) => return Err(error),
                }
            }
            None => (self.create(&api, reference, &event, stamp).await?, 1),
        };
        self.series.lock().await.entries.insert(
            key,
            Series {
                name,
                count,
                last_seen: now,
            },
        );
        Ok(())
    }

    async fn create(
        &self,
        api: &Api<K8sEvent>,
        reference: &ObjectReference,
        event: &EventNote<'_>,
        stamp: Timestamp,
    ) -> Result<String, kube::Error> {
        let name = format!(
            "{}.{:x}",
            reference.name.as_deref().unwrap_or(&self.controller),
            stamp.as_nanosecond()
        );
        let k8s_event = K8sEvent {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: reference.namespace.clone(),
                ..ObjectMeta::default()
            },
            action: Some(event.action.to_string()),
            reason: Some(event.reason.to_string()),
            note: Some(event.note.clone()),
            event_time: Some(MicroTime(stamp)),
            regarding: Some(reference.clone()),
            related: event.related.clone(),
            reporting_controller: Some(self.controller.clone()),
            reporting_instance: Some(self.instance.clone()),
            type_: Some(if event.warning { "Warning" } else { "Normal" }.to_string()),
            ..K8sEvent::default()
        };
        api.create(&PostParams::default(), &k8s_event).await?;
        Ok(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(name: &str) -> ObjectReference {
        ObjectReference {
            kind: Some("WebexUser".into()),
            namespace: Some("team".into()),
            name: Some(name.into()),
            uid: Some(format!("uid-{name}")),
            ..ObjectReference::default()
        }
    }

    fn note<'a>(reason: &'a str, related: Option<ObjectReference>) -> EventNote<'a> {
        EventNote {
            warning: false,
            reason,
            action: "Reconcile",
            note: "text".into(),
            related,
        }
    }

    #[test]
    fn a_series_is_one_object_one_reason_one_related_object() {
        let ada = reference("ada");
        assert_eq!(
            series_key(&ada, &note("Created", None)),
            series_key(&ada, &note("Created", None))
        );
        let mut other_note = note("Created", None);
        other_note.note = "another text".into();
        assert_eq!(series_key(&ada, &note("Created", None)), series_key(&ada, &other_note));
        assert_ne!(
            series_key(&ada, &note("Created", None)),
            series_key(&ada, &note("Adopted", None))
        );
        assert_ne!(
            series_key(&ada, &note("Created", None)),
            series_key(&reference("bob"), &note("Created", None))
        );
        assert_ne!(
            series_key(&ada, &note("Held", Some(reference("x")))),
            series_key(&ada, &note("Held", Some(reference("y"))))
        );
        let mut warning = note("Created", None);
        warning.warning = true;
        assert_ne!(series_key(&ada, &note("Created", None)), series_key(&ada, &warning));
    }

    #[test]
    fn repeats_count_up_within_the_ttl_and_start_afresh_after_it() {
        let start = Instant::now();
        let mut table = SeriesTable::default();
        assert_eq!(table.repeat_of(7, start), None);
        table.entries.insert(
            7,
            Series {
                name: "ada.1".into(),
                count: 1,
                last_seen: start,
            },
        );
        assert_eq!(
            table.repeat_of(7, start + Duration::from_secs(60)),
            Some(("ada.1".into(), 2))
        );
        assert_eq!(table.repeat_of(7, start + SERIES_TTL), None);
    }

    #[test]
    fn the_sweep_drops_expired_series_and_runs_at_most_every_30_seconds() {
        let start = Instant::now();
        let mut table = SeriesTable::default();
        for (key, age) in [(1u64, 0u64), (2, 400)] {
            table.entries.insert(
                key,
                Series {
                    name: format!("e{key}"),
                    count: 1,
                    last_seen: start + Duration::from_secs(400 - age),
                },
            );
        }
        let now = start + Duration::from_secs(400);
        table.sweep(now);
        assert_eq!(table.entries.len(), 1);
        assert!(table.entries.contains_key(&1));
        table.entries.insert(
            3,
            Series {
                name: "old".into(),
                count: 1,
                last_seen: start,
            },
        );
        table.sweep(now + Duration::from_secs(10));
        assert_eq!(table.entries.len(), 2, "a second sweep within 30 s does nothing");
        table.sweep(now + SWEEP_EVERY);
        assert_eq!(table.entries.len(), 1);
    }
}
