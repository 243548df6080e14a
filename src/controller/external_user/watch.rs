//! Noticing accepted invitations without asking per person: for each ready org, on its drift
//! interval, and only while some of its ExternalUsers wait on a host invitation, list the
//! users of each Meetings site licence concerned (`GET /v1/licenses/{id}?includeAssignedTo=user`,
//! 300 per page, at background priority) and hand the objects whose person now holds the
//! licence as `EXTERNAL` to the controller. Cost: one call per site licence (per 300 holders)
//! and interval, whatever the number of objects.
//!
//! Attendee accounts have no licence, so their acceptance (and any decline) is seen by the
//! object's own re-check, every `--pending-poll-seconds` while pending (`plan::poll_ceiling`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures::SinkExt;
use futures::channel::mpsc;
use kube::runtime::reflector::{ObjectRef, Store};
use tokio::time::Instant;

use crate::api::external_user::{ExternalUser, InvitationState, SiteAccountType};
use crate::controller::context::Context;

/// Runs until the trigger channel closes (the controller stopped).
pub async fn run(ctx: Arc<Context>, objects: Store<ExternalUser>, mut trigger: mpsc::Sender<ObjectRef<ExternalUser>>) {
    let mut next_due: HashMap<String, Instant> = HashMap::new();
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if trigger.is_closed() {
            return;
        }
        let now = Instant::now();
        for org_name in ctx.orgs.names() {
            let Some(handle) = ctx.orgs.get(&org_name) else {
                continue;
            };
            let interval = handle.facts.drift_interval.unwrap_or(ctx.options.drift_interval);
            let due = next_due.entry(org_name.clone()).or_insert(now);
            if *due > now {
                continue;
            }
            *due = now + interval;
            // Licence id -> (object, email) waiting on a host invitation for it.
            let mut waiting: BTreeMap<String, Vec<(Arc<ExternalUser>, String)>> = BTreeMap::new();
            for object in objects.state().into_iter().filter(|o| o.spec.org_ref.name == org_name) {
                let Some(status) = object.status.as_ref() else {
                    continue;
                };
                for site in status
                    .sites
                    .iter()
                    .filter(|s| s.invitation == InvitationState::Pending && s.account_type == SiteAccountType::Host)
                {
                    if let Some(license) = handle.facts.licenses.iter().find(|l| {
                        l.site_url
                            .as_deref()
                            .is_some_and(|u| u.eq_ignore_ascii_case(&site.site_url))
                    }) {
                        waiting
                            .entry(license.id.clone())
                            .or_default()
                            .push((object.clone(), object.spec.email.to_ascii_lowercase()));
                    }
                }
            }
            let mut woken = std::collections::HashSet::new();
            for (license_id, candidates) in waiting {
                let holders: BTreeSet<String> = match handle.client.background().license_users(&license_id).await {
                    Ok(users) => users
                        .into_iter()
                        .filter(|u| u.kind.eq_ignore_ascii_case("EXTERNAL"))
                        .map(|u| u.email.to_ascii_lowercase())
                        .collect(),
                    Err(error) => {
                        tracing::warn!(org = %org_name, %error, tracking_id = error.tracking_id(), "could not list the users of a Meetings licence");
                        continue;
                    }
                };
                for (object, email) in candidates {
                    let reference = ObjectRef::from_obj(&*object);
                    if holders.contains(&email)
                        && woken.insert(reference.clone())
                        && trigger.send(reference).await.is_err()
                    {
                        return;
                    }
                }
            }
        }
    }
}
