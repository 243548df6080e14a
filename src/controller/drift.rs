//! Drift detection: for each ready org, on its interval (with jitter), list the org's people by
//! pages (one call per 100 people, at background priority so user-driven changes go first)
//! and compare every WebexUser of the org with its person through the reconciler's own planner.
//! A user whose person changed (signed in, edited in Control Hub, deleted) is handed to the
//! controller; the reconcile reports the drift and corrects it, or only reports it under
//! `driftPolicy: ReportOnly`. No per-user polling: steady state costs N/100 list calls.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::SinkExt;
use futures::channel::mpsc;
use kube::ResourceExt;
use kube::runtime::reflector::{ObjectRef, Store};
use rand::Rng;
use tokio::time::Instant;

use crate::api::LicenseTemplate;
use crate::api::common::PAUSE_ANNOTATION;
use crate::api::webex_user::WebexUser;
use crate::controller::context::Context;
use crate::controller::license_template::plan as template_plan;
use crate::controller::listing::Snapshot;
use crate::controller::webex_user::plan::{self, UserAction, UserInputs};
use crate::webex::client::PEOPLE_PAGE_SIZE;
use crate::webex::model::Person;

/// Runs until the trigger channel closes (the controller stopped).
pub async fn run(ctx: Arc<Context>, users: Store<WebexUser>, mut trigger: mpsc::Sender<ObjectRef<WebexUser>>) {
    let mut next_due: HashMap<String, Instant> = HashMap::new();
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if trigger.is_closed() {
            return;
        }
        ctx.listings.expire();
        let now = Instant::now();
        for org_name in ctx.orgs.names() {
            let Some(handle) = ctx.orgs.get(&org_name) else {
                continue;
            };
            let interval = handle.facts.drift_interval.unwrap_or(ctx.options.drift_interval);
            let due = next_due
                .entry(org_name.clone())
                .or_insert_with(|| now + jittered(interval));
            if *due > now {
                continue;
            }
            *due = now + jittered(interval);
            // Steady state: the last listing would otherwise live on beside the new one (issue 8).
            ctx.listings.release_if_idle(&org_name);
            let began = jiff::Timestamp::now();
            let people = match handle.client.background().list_people(PEOPLE_PAGE_SIZE).await {
                Ok(people) => people,
                Err(error) => {
                    tracing::warn!(org = %org_name, %error, tracking_id = error.tracking_id(), "drift check could not list people");
                    continue;
                }
            };
            ctx.orgs.set_people_count(&org_name, people.len());
            // The reconciles this listing triggers read their people from it.
            let snapshot = Arc::new(Snapshot::new(began, people));
            ctx.listings.publish(&org_name, snapshot.clone());
            let index = PeopleIndex::new(&snapshot.people);
            let templates = ctx.templates.get().map(|t| t.state()).unwrap_or_default();
            for user in users.state().into_iter().filter(|u| u.spec.org_ref.name == org_name) {
                if changed(&user, &index, &handle.facts, &templates)
                    && trigger.send(ObjectRef::from_obj(&*user)).await.is_err()
                {
                    return;
                }
            }
        }
    }
}

/// ±10% so that many orgs (and replicas restarting together) spread their lists out.
fn jittered(interval: Duration) -> Duration {
    let factor = rand::rng().random_range(0.9..1.1);
    interval.mul_f64(factor)
}

struct PeopleIndex<'a> {
    by_id: HashMap<&'a str, &'a Person>,
    by_email: HashMap<String, &'a Person>,
}

impl<'a> PeopleIndex<'a> {
    fn new(people: &'a [Person]) -> Self {
        let by_id = people.iter().map(|p| (p.id.as_str(), p)).collect();
        let by_email = people.iter().filter_map(|p| Some((p.primary_email()?, p))).collect();
        Self { by_id, by_email }
    }
}

/// Whether the person Webex holds differs from what the object's status last recorded, in a
/// way a reconcile must look at: first sign-in, a change made outside the operator, or the
/// person gone.
fn changed(
    user: &WebexUser,
    people: &PeopleIndex<'_>,
    org: &crate::controller::org_registry::OrgFacts,
    templates: &[Arc<LicenseTemplate>],
) -> bool {
    if user.metadata.deletion_timestamp.is_some()
        || user.annotations().get(PAUSE_ANNOTATION).is_some_and(|v| v != "false")
    {
        return false;
    }
    let Some(status) = user.status.as_ref() else {
        return false;
    };
    if status.observed_generation != user.metadata.generation {
        return false; // a spec change is already on its way through the controller
    }
    let person = match &status.person_id {
        Some(id) => people.by_id.get(id.as_str()).copied(),
        None => people.by_email.get(&user.spec.email.to_ascii_lowercase()).copied(),
    };
    let Some(person) = person else {
        return status.person_id.is_some(); // deleted in Webex
    };
    if status.state != Some(plan::person_state(person)) {
        return true;
    }
    let namespace = user.namespace().unwrap_or_default();
    // Compared with the effective licences: the templates that apply merged in (R-TPL-1..4).
    let grants = template_plan::grants_for(templates, user, status.adopted == Some(true));
    let (spec, sources, _) = template_plan::effective_spec(&user.spec, &grants, &status.effective_licenses);
    let decided = plan::plan_with(
        UserInputs {
            spec: &spec,
            status,
            namespace: &namespace,
            org,
            person: Some(person),
        },
        &plan::LicenseContext {
            sources,
            full: Default::default(),
        },
    );
    decided.actions.iter().any(|a| !matches!(a, UserAction::Adopt { .. }))
}
